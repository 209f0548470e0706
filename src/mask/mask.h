/* mask.h - masking profiles: rules as JSON data, validated once into an immutable
 * profile, then applied to records field by field (docs/masking.md).
 *
 * A profile maps fields (by name) and data kinds (catalog kinds, and the PII kinds the
 * scanner finds inside free text) to one method each: keep, mask, redact, pseudonym,
 * generalise, truncate, replace or noise.  A field rule beats a kind rule; a field that
 * no rule names gets the profile's "default" (free_text fields its "free_text").
 *
 * Failing closed is the invariant: a value a method cannot handle (wrong type, not a
 * date, no recognisable address), a field the caller did not describe, and a field of
 * an unknown kind are all redacted and flagged in the report; when mask_apply fails
 * part-way every value is set to null before it returns.  Null and empty strings are
 * left as they are: there is nothing in them to hide.  The report names fields and
 * methods only, never values, so it can go to the masking log as it is. */
#ifndef GV_MASK_MASK_H
#define GV_MASK_MASK_H

#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

#define MASK_PROFILE_NAME_LEN 64   /* bytes with the NUL */
#define MASK_RULES_MAX 128
#define MASK_REPORT_MAX 64         /* members of one record mask_apply accepts */
#define MASK_KEY_LEN 32

struct mask_profile;             /* compiled, immutable, thread-safe to use */

/* Parses and validates a profile; *out (NULL on entry) is freed with mask_profile_free.
 * On GV_ERR_INVALID, why names the problem, e.g. `rules[3]: unknown method "blur"`; it
 * quotes keys and names from the profile, never record values. */
gv_err mask_profile_parse(const json_t *j, struct mask_profile **out, char *why,
			  size_t whylen) GV_MUST_CHECK;
/* NULL is a no-op. */
void mask_profile_free(struct mask_profile *p);
/* The profile's "name"; borrowed, lives as long as p. */
const char *mask_profile_name(const struct mask_profile *p);

/* The built-in default profile for a dataset grade 1..3 as JSON, named "default-grade-N"
 * (new reference, caller json_decref()s; NULL for another grade or out of memory):
 * grade 1 keeps every field and scans free text; grade 2 masks personal kinds
 * (resident_id 6+4, name first character, mobile 3+4, landline and bank_card last 4,
 * e-mail first character of the local part, address to district, date_of_birth to year,
 * passport/plate/uscc partly, other redacted) and scans free text; grade 3 uses
 * pseudonyms for identifiers, keeps only a name's first character, generalises
 * addresses to city and dates of birth to year, and redacts free text and other. */
json_t *mask_profile_default(int grade);

/* The field list of a dataset as the masker needs it; both strings borrowed.  kind is a
 * catalog kind name; NULL means "none". */
struct mask_field {
	const char *name;
	const char *kind;
};

/* What mask_apply did, for the masking log (no values!). */
struct mask_report {
	size_t nfields;
	struct {
		char field[64];       /* the field name (cut at a character boundary) */
		char method[16];      /* the method applied: a method name, or "scan" */
		unsigned pii_found;   /* identifiers found and masked inside free text */
		unsigned fail_closed; /* 1: redacted because the method did not apply, or the
				       * field was undescribed or of an unknown kind */
	} fields[MASK_REPORT_MAX];
};

/* Masks data (a JSON object: field -> value) in place per profile.  key (MASK_KEY_LEN
 * bytes) is the pseudonym key of this profile.  rep (may be NULL) lists every field a
 * method other than keep was applied to (null and empty values are skipped), with the
 * method.  Errors: GV_ERR_INVALID if data is not an object, GV_ERR_TOO_LARGE if it has
 * more than MASK_REPORT_MAX members (data untouched); GV_ERR_NOMEM, GV_ERR_CRYPTO part-way,
 * after which every value of data is null and rep is empty. */
gv_err mask_apply(const struct mask_profile *p, const struct mask_field *fields, size_t nfields,
		  const unsigned char key[MASK_KEY_LEN], json_t *data,
		  struct mask_report *rep) GV_MUST_CHECK;

#endif

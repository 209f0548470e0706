/* catalog.h - dataset schemas and grading: what a dataset's fields are, which of them
 * hold personal or sensitive data, and the grade that suggests.
 *
 * Grades (Xinyang government-data measures Art. 27-33) are
 * 1, 2 or 3 by the impact of tampering, destruction, leakage or illegal use.  The
 * suggestion here is mechanical and conservative: personal-data fields imply at least
 * 2, kinds or volumes configured as important imply 3; secadmin confirms or overrides
 * it with a reason (data/ grading workflow), never this module. */
#ifndef GV_DATA_CATALOG_H
#define GV_DATA_CATALOG_H

#include <jansson.h>

#include "common/error.h"

#define CATALOG_MAX_FIELDS 64
#define CATALOG_NAME_LEN 64

enum catalog_type { CT_STRING, CT_INTEGER, CT_NUMBER, CT_BOOLEAN, CT_DATE, CT__COUNT };

enum catalog_kind {
	CK_NONE,          /* not personal or sensitive */
	CK_RESIDENT_ID, CK_NAME, CK_MOBILE, CK_LANDLINE, CK_EMAIL, CK_ADDRESS, CK_BANK_CARD,
	CK_USCC, CK_PASSPORT, CK_PLATE, CK_DATE_OF_BIRTH, CK_FREE_TEXT, CK_OTHER,
	CK__COUNT
};

struct catalog_field {
	char name[CATALOG_NAME_LEN];
	int type;             /* enum catalog_type */
	int kind;             /* enum catalog_kind */
	int required;
	int indexed;          /* equality search through a blind index */
	int sensitive;        /* encrypted at rest in grade >= 2 datasets */
	int max_len;          /* bytes, strings only; 0 = the default limit */
};

struct catalog_schema {
	int nfields;
	struct catalog_field fields[CATALOG_MAX_FIELDS];
};

/* What makes a dataset important (grade 3): any field of these kinds, or this many
 * expected records or more (0 = volume never decides). */
struct catalog_policy {
	unsigned important_kinds;       /* bit (1 << enum catalog_kind) */
	long long important_rows;
};

/* Parses {"fields":[{"name","type","kind"?,"required"?,"indexed"?,"sensitive"?,
 * "max_len"?}, ...]}.  A field with any kind but "none" is sensitive unless it says
 * "sensitive": false.  why gets a message naming the field on failure. */
gv_err catalog_schema_parse(const json_t *j, struct catalog_schema *out, char *why,
			    size_t whylen) GV_MUST_CHECK;
/* The schema as JSON (new reference). */
json_t *catalog_schema_json(const struct catalog_schema *s);
/* Suggested grade 1..3 and the reason for it (why). */
int catalog_grade_suggest(const struct catalog_schema *s, long long expected_rows,
			  const struct catalog_policy *p, char *why, size_t whylen);
/* Checks a record (a JSON object) against the schema: no unknown fields, required
 * present, types right, strings within max_len and valid UTF-8, dates real dates. */
gv_err catalog_record_check(const struct catalog_schema *s, const json_t *rec, char *why,
			    size_t whylen) GV_MUST_CHECK;
/* The field named name, or NULL. */
const struct catalog_field *catalog_field_find(const struct catalog_schema *s, const char *name);
/* The same, trying field *next first and leaving *next after the field found: the
 * members of record after record come in the same order, mostly the schema's. */
const struct catalog_field *catalog_field_find_next(const struct catalog_schema *s, const char *name,
						    int *next);

const char *catalog_kind_name(int kind);
/* -1 if unknown. */
int catalog_kind_parse(const char *name);
/* 1 if the kind is personal information (all but none, uscc and other). */
int catalog_kind_personal(int kind);
/* Parses a comma list of kind names into a bit set; GV_ERR_INVALID names the bad one. */
gv_err catalog_kinds_parse(const char *list, unsigned *out, char *why, size_t whylen) GV_MUST_CHECK;

#endif

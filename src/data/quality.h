/* quality.h - per-dataset data-quality rules: parse them from JSON, check rows against
 * them, and count the outcomes.
 *
 * Rules are data (a JSON array stored with the dataset), so every rule is validated once
 * at parse time - unknown rule names, unknown keys, unknown fields, bad bounds and bad
 * regular expressions are refused with a message naming the rule - and checking a row
 * cannot fail on the rules themselves.
 *
 * A rule object has "field", "rule", an optional "severity" ("error", the default,
 * quarantines the row; "warning" only flags it) and the rule's own keys:
 *   required                                  present, not null, not ""
 *   type      "type": string|integer|number|boolean|date
 *   range     "min" and/or "max" (numbers, inclusive)
 *   enum      "values": [strings]
 *   pattern   "pattern": POSIX extended regex, unanchored unless written with ^...$
 *   checksum  "kind": resident_id|uscc|org_code|bank_card|mobile (see data/idcheck.h)
 *   unique    (through quality_hooks.seen)
 *   reference "dataset", "ref_field" (through quality_hooks.exists)
 *
 * A value that is absent, null or "" is "missing": only `required` reports it and every
 * other rule skips it, so an optional field is written as a rule without `required`.
 * A CSV cell is always text, so a string that is exactly a literal of a type (JSON number
 * grammar for integer/number, "true"/"false", YYYY-MM-DD) satisfies `type` and `range`.
 * Rules that compare text (enum, pattern, checksum, unique, reference) see strings as
 * they are, integers in decimal, reals as %.17g and booleans as true/false; strings
 * holding a NUL are refused because the C text would silently be cut short.
 *
 * Reasons in results never contain the row's value (it may be personal information),
 * only the rule's own parameters. */
#ifndef GV_DATA_QUALITY_H
#define GV_DATA_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

#define QUALITY_MAX_RULES 128      /* rules per dataset */
#define QUALITY_FIELD_MAX 128      /* bytes in a field, dataset or ref_field name */
#define QUALITY_PATTERN_MAX 256    /* bytes in a pattern */
#define QUALITY_PATTERN_VALUE_MAX 4096 /* longer values are not run through a regex */
#define QUALITY_ENUM_MAX 256       /* values in an enum */
#define QUALITY_REASON_MAX 128     /* bytes in a result reason, NUL included */

enum quality_rule_kind {
	QUALITY_REQUIRED,
	QUALITY_TYPE,
	QUALITY_RANGE,
	QUALITY_ENUM,
	QUALITY_PATTERN,
	QUALITY_CHECKSUM,
	QUALITY_UNIQUE,
	QUALITY_REFERENCE,
	QUALITY__KIND_COUNT
};

enum quality_outcome {
	QUALITY_VIOLATED,    /* the rule was evaluated and the value broke it */
	QUALITY_NOT_CHECKED, /* the rule could not be evaluated (no hook configured) */
};

enum quality_verdict {
	QUALITY_ROW_ACCEPTED,    /* no issue */
	QUALITY_ROW_FLAGGED,     /* only warnings or not-checked rules: kept, but counted */
	QUALITY_ROW_QUARANTINED, /* at least one error-severity rule violated */
};

struct quality_rules; /* opaque; from quality_rules_parse, freed by quality_rules_free */

/* Storage-backed rules go through the caller.  Each hook returns 1 (yes), 0 (no) or a
 * negative value on failure, which makes quality_check_row return GV_ERR_STORE.
 *   seen:   has value already occurred in this field (in the store or earlier in the
 *           current batch)?  Called once per `unique` rule per row with a non-missing
 *           value, in rule order; recording the value is the hook's business.
 *   exists: does a record of dataset have ref_field equal to value?
 * A NULL hook (or NULL hooks) reports its rules as QUALITY_NOT_CHECKED. */
struct quality_hooks {
	void *ctx;
	int (*seen)(void *ctx, int rule_index, const char *field, const char *value);
	int (*exists)(void *ctx, const char *dataset, const char *field, const char *value);
};

struct quality_issue {
	int rule;                        /* index in the rules array */
	const char *field;               /* borrowed from the rules */
	enum quality_rule_kind kind;
	enum quality_outcome outcome;
	char reason[QUALITY_REASON_MAX]; /* never contains the value */
};

/* Every rule yields at most one issue per row, so the array cannot overflow. */
struct quality_result {
	enum quality_verdict verdict;
	size_t n;                        /* issues used */
	size_t violated, not_checked;    /* of which */
	struct quality_issue issues[QUALITY_MAX_RULES];
};

/* Per-rule and per-row counts over a batch; plain data, no release needed. */
struct quality_report {
	size_t nrules;
	uint64_t rows, accepted, flagged, quarantined;
	uint64_t violated[QUALITY_MAX_RULES];
	uint64_t not_checked[QUALITY_MAX_RULES];
};

/* Parses and validates a rules array.  schema may be NULL (any field name accepted) or
 * list the dataset's fields as an array of names, an array of objects with "name", or
 * an object keyed by field name.  On error *out is NULL and why (if whylen > 0) holds a
 * message such as `rule 2 (field "age"): "min" is greater than "max"`.  The caller frees
 * *out with quality_rules_free.  GV_ERR_INVALID for bad rules or schema, GV_ERR_NOMEM. */
gv_err quality_rules_parse(const json_t *rules, const json_t *schema,
			   struct quality_rules **out, char *why, size_t whylen) GV_MUST_CHECK;
/* NULL is a no-op. */
void quality_rules_free(struct quality_rules *q);

size_t quality_rules_count(const struct quality_rules *q);
/* Borrowed; NULL when i is out of range. */
const char *quality_rules_field(const struct quality_rules *q, size_t i);
enum quality_rule_kind quality_rules_kind(const struct quality_rules *q, size_t i);

/* "required", "type", ... ; "unknown" when out of range. */
const char *quality_rule_name(enum quality_rule_kind kind);
/* "violated" / "not_checked". */
const char *quality_outcome_name(enum quality_outcome outcome);
/* "accepted" / "flagged" / "quarantined". */
const char *quality_verdict_name(enum quality_verdict verdict);

/* Evaluates every rule on row (a JSON object) and records every issue in *res, in rule
 * order.  hooks may be NULL.  GV_ERR_INVALID when row is not an object, GV_ERR_STORE
 * when a hook fails (res is then incomplete and must not be counted). */
gv_err quality_check_row(const struct quality_rules *q, const json_t *row,
			 const struct quality_hooks *hooks, struct quality_result *res) GV_MUST_CHECK;

void quality_report_init(struct quality_report *r, const struct quality_rules *q);
/* Counts one checked row. */
void quality_report_add(struct quality_report *r, const struct quality_result *res);
/* New object {"rows","accepted","flagged","quarantined","rules":[{"index","field",
 * "rule","severity","violated","not_checked"}]}; the caller json_decref()s *out.
 * q must be the rules r was initialised with. */
gv_err quality_report_json(const struct quality_report *r, const struct quality_rules *q,
			   json_t **out) GV_MUST_CHECK;

#endif

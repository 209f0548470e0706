/* quality.c - data-quality rules: parsing, row checks and batch reports.
 *
 * Parsing does all the validation and precompiles regular expressions, so a parsed
 * struct quality_rules is immutable and checking a row allocates nothing: the result
 * holds at most one issue per rule in a fixed array.  Storage-dependent rules (unique,
 * reference) are delegated to caller hooks so this module stays below the store in the
 * dependency order and can be tested without one.
 *
 * User-supplied regular expressions are the one place a rule could cost more than a
 * constant per row, so patterns are bounded in length, back-references are refused
 * (glibc accepts \1-\9 in ERE and matching them is exponential), the estimated size of
 * the compiled automaton is capped, and long values are not matched at all. */
#include "data/quality.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mask/idcheck.h"

#define QUALITY_REPEAT_MAX 255      /* largest {n,m} bound, POSIX's minimum RE_DUP_MAX */
#define QUALITY_PATTERN_COST_MAX 20000 /* estimated automaton positions per pattern */
#define QUALITY_ENUM_VALUE_MAX 256  /* bytes in one enum value */

enum quality_type {
	QUALITY_T_STRING,
	QUALITY_T_INTEGER,
	QUALITY_T_NUMBER,
	QUALITY_T_BOOLEAN,
	QUALITY_T_DATE,
	QUALITY_T__COUNT
};

struct quality_rule {
	enum quality_rule_kind kind;
	int warning;             /* severity "warning": flag instead of quarantine */
	char *field;
	enum quality_type type;
	int has_min, has_max;
	double min, max;
	char **values;
	size_t nvalues;
	regex_t re;
	int re_ok;               /* re must be regfree()d */
	enum id_kind id;
	char *dataset, *ref_field;
};

struct quality_rules {
	size_t n;
	struct quality_rule *rules;
};

/* Result of evaluating one rule on one value. */
enum quality_eval { QE_PASS, QE_VIOLATED, QE_NOT_CHECKED, QE_FAILED };

static const char *const quality_rule_names[QUALITY__KIND_COUNT] = {
	[QUALITY_REQUIRED] = "required", [QUALITY_TYPE] = "type",
	[QUALITY_RANGE] = "range",       [QUALITY_ENUM] = "enum",
	[QUALITY_PATTERN] = "pattern",   [QUALITY_CHECKSUM] = "checksum",
	[QUALITY_UNIQUE] = "unique",     [QUALITY_REFERENCE] = "reference",
};

static const char *const quality_type_names[QUALITY_T__COUNT] = {
	[QUALITY_T_STRING] = "string",   [QUALITY_T_INTEGER] = "integer",
	[QUALITY_T_NUMBER] = "number",   [QUALITY_T_BOOLEAN] = "boolean",
	[QUALITY_T_DATE] = "date",
};

/* Keys a rule object may carry besides "field", "rule" and "severity"; a typo such as
 * "maxx" must be an error, not a silently unbounded range. */
static const char *const quality_rule_keys[QUALITY__KIND_COUNT][3] = {
	[QUALITY_TYPE] = {"type"},
	[QUALITY_RANGE] = {"min", "max"},
	[QUALITY_ENUM] = {"values"},
	[QUALITY_PATTERN] = {"pattern"},
	[QUALITY_CHECKSUM] = {"kind"},
	[QUALITY_REFERENCE] = {"dataset", "ref_field"},
};

const char *quality_rule_name(enum quality_rule_kind kind)
{
	return (unsigned)kind < QUALITY__KIND_COUNT ? quality_rule_names[kind] : "unknown";
}

const char *quality_outcome_name(enum quality_outcome outcome)
{
	return outcome == QUALITY_NOT_CHECKED ? "not_checked" : "violated";
}

const char *quality_verdict_name(enum quality_verdict verdict)
{
	switch (verdict) {
	case QUALITY_ROW_ACCEPTED:
		return "accepted";
	case QUALITY_ROW_FLAGGED:
		return "flagged";
	case QUALITY_ROW_QUARANTINED:
		return "quarantined";
	}
	return "unknown";
}

size_t quality_rules_count(const struct quality_rules *q)
{
	return q ? q->n : 0;
}

const char *quality_rules_field(const struct quality_rules *q, size_t i)
{
	return q && i < q->n ? q->rules[i].field : NULL;
}

enum quality_rule_kind quality_rules_kind(const struct quality_rules *q, size_t i)
{
	return q && i < q->n ? q->rules[i].kind : QUALITY__KIND_COUNT;
}

/* ---- parsing ---------------------------------------------------------------------- */

static void quality_rule_release(struct quality_rule *r)
{
	free(r->field);
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
	if (r->re_ok)
		regfree(&r->re);
	free(r->dataset);
	free(r->ref_field);
}

void quality_rules_free(struct quality_rules *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		quality_rule_release(&q->rules[i]);
	free(q->rules);
	free(q);
}

/* Writes `rule <index> (field "<name>"): <message>` into why; field may be NULL. */
static void quality_rule_why(char *why, size_t whylen, size_t idx, const char *field,
			     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void quality_rule_why(char *why, size_t whylen, size_t idx, const char *field,
			     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (field)
		snprintf(why, whylen, "rule %zu (field \"%s\"): %s", idx, field, msg);
	else
		snprintf(why, whylen, "rule %zu: %s", idx, msg);
}

static void quality_why(char *why, size_t whylen, const char *msg)
{
	if (why && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

/* A JSON string without embedded NUL; NULL otherwise. */
static const char *quality_json_text(const json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

/* Field, dataset and ref_field names: non-empty printable text within the bound, so
 * they can be quoted in messages and used as keys by the caller's storage. */
static const char *quality_name_get(const json_t *obj, const char *key)
{
	const char *s = quality_json_text(json_object_get(obj, key));

	if (!s || s[0] == '\0' || strlen(s) >= QUALITY_FIELD_MAX || !util_utf8_printable(s))
		return NULL;
	return s;
}

static gv_err quality_strdup(const char *s, char **out)
{
	size_t n = strlen(s) + 1;

	*out = malloc(n);
	if (!*out)
		return GV_ERR_NOMEM;
	memcpy(*out, s, n);
	return GV_OK;
}

/* 1 when name is a field of schema (see quality_rules_parse for the accepted shapes). */
static int quality_schema_has(const json_t *schema, const char *name)
{
	size_t i;
	const json_t *e;

	if (json_is_object(schema))
		return json_object_get(schema, name) != NULL;
	json_array_foreach(schema, i, e) {
		const char *s = json_is_object(e) ? quality_json_text(json_object_get(e, "name"))
						  : quality_json_text(e);

		if (s && strcmp(s, name) == 0)
			return 1;
	}
	return 0;
}

static int quality_schema_ok(const json_t *schema)
{
	size_t i;
	const json_t *e;

	if (!schema || json_is_object(schema))
		return 1;
	if (!json_is_array(schema))
		return 0;
	json_array_foreach(schema, i, e) {
		const json_t *name = json_is_object(e) ? json_object_get(e, "name") : e;

		if (!quality_json_text(name))
			return 0;
	}
	return 1;
}

static int quality_key_allowed(enum quality_rule_kind kind, const char *key)
{
	if (strcmp(key, "field") == 0 || strcmp(key, "rule") == 0 || strcmp(key, "severity") == 0)
		return 1;
	for (size_t i = 0; i < GV_ARRAY_LEN(quality_rule_keys[kind]); i++)
		if (quality_rule_keys[kind][i] && strcmp(quality_rule_keys[kind][i], key) == 0)
			return 1;
	return 0;
}

/* Skips a bracket expression starting at p[i] == '['; returns the index of its closing
 * ']' or of the terminating NUL when it is unterminated (regcomp reports that). */
static size_t quality_bracket_end(const char *p, size_t i)
{
	size_t j = i + 1;

	if (p[j] == '^')
		j++;
	if (p[j] == ']')
		j++; /* a leading ']' is a literal member */
	while (p[j] && p[j] != ']') {
		if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
			char delim = p[j + 1];

			j += 2;
			while (p[j] && !(p[j] == delim && p[j + 1] == ']'))
				j++;
			if (!p[j])
				return j;
			j += 2;
			continue;
		}
		j++;
	}
	return j;
}

/* Parses "{n}", "{n,}" or "{n,m}" at p[*i] == '{'; returns the largest count that
 * shapes the automaton (n for "{n,}") or -1 when malformed (regcomp reports that) and
 * leaves *i on the closing brace. */
static long quality_interval_bound(const char *p, size_t *i)
{
	size_t j = *i + 1;
	long n = 0, m = -1;

	if (p[j] < '0' || p[j] > '9')
		return -1;
	while (p[j] >= '0' && p[j] <= '9') {
		if (n <= QUALITY_REPEAT_MAX)
			n = n * 10 + (p[j] - '0');
		j++;
	}
	if (p[j] == ',') {
		j++;
		if (p[j] >= '0' && p[j] <= '9') {
			m = 0;
			while (p[j] >= '0' && p[j] <= '9') {
				if (m <= QUALITY_REPEAT_MAX)
					m = m * 10 + (p[j] - '0');
				j++;
			}
		}
	}
	if (p[j] != '}')
		return -1;
	*i = j;
	return m > n ? m : n;
}

/* Estimates the compiled size of an ERE: every atom is one position, a group is the sum
 * of its contents, and {n,m} multiplies the preceding atom by max(n, m).  Returns a
 * static reason when the pattern is refused, NULL when it may be compiled. */
static const char *quality_pattern_unsafe(const char *p)
{
	unsigned long sum[QUALITY_PATTERN_MAX + 1], last = 0;
	size_t depth = 0;

	sum[0] = 0;
	for (size_t i = 0; p[i]; i++) {
		switch (p[i]) {
		case '\\':
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references are not allowed";
			if (p[i + 1])
				i++;
			last = 1;
			sum[depth] += 1;
			break;
		case '[':
			i = quality_bracket_end(p, i);
			if (!p[i])
				return NULL;
			last = 1;
			sum[depth] += 1;
			break;
		case '(':
			if (depth + 1 >= GV_ARRAY_LEN(sum))
				return "groups are nested too deeply";
			sum[++depth] = 0;
			last = 0;
			break;
		case ')':
			if (depth == 0) {
				last = 1;
				sum[0] += 1;
				break;
			}
			last = sum[depth--];
			sum[depth] += last;
			break;
		case '{': {
			long bound = quality_interval_bound(p, &i);

			if (bound < 0)
				return NULL;
			if (bound > QUALITY_REPEAT_MAX)
				return "a repetition count is above 255";
			if (bound > 1) {
				sum[depth] += last * (unsigned long)(bound - 1);
				last *= (unsigned long)bound;
			}
			break;
		}
		case '*': case '+': case '?': case '|': case '^': case '$':
			break;
		default:
			last = 1;
			sum[depth] += 1;
			break;
		}
		if (sum[depth] > QUALITY_PATTERN_COST_MAX || last > QUALITY_PATTERN_COST_MAX)
			return "nested repetition counts make the pattern too large";
	}
	return NULL;
}

static gv_err quality_parse_pattern(struct quality_rule *r, const json_t *obj, size_t idx,
				    char *why, size_t whylen)
{
	const json_t *pv = json_object_get(obj, "pattern");
	const char *p = quality_json_text(pv), *unsafe;
	char msg[128];
	int rc;

	if (!p || p[0] == '\0') {
		quality_rule_why(why, whylen, idx, r->field, "\"pattern\" must be a non-empty string");
		return GV_ERR_INVALID;
	}
	if (strlen(p) > QUALITY_PATTERN_MAX) {
		quality_rule_why(why, whylen, idx, r->field, "\"pattern\" is longer than %d bytes",
				 QUALITY_PATTERN_MAX);
		return GV_ERR_INVALID;
	}
	if ((unsafe = quality_pattern_unsafe(p)) != NULL) {
		quality_rule_why(why, whylen, idx, r->field, "\"pattern\" refused: %s", unsafe);
		return GV_ERR_INVALID;
	}
	rc = regcomp(&r->re, p, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		if (rc == REG_ESPACE)
			return GV_ERR_NOMEM;
		regerror(rc, NULL, msg, sizeof(msg));
		quality_rule_why(why, whylen, idx, r->field, "\"pattern\" is not a valid POSIX "
				 "extended regular expression: %s", msg);
		return GV_ERR_INVALID;
	}
	r->re_ok = 1;
	return GV_OK;
}

static gv_err quality_parse_range(struct quality_rule *r, const json_t *obj, size_t idx,
				  char *why, size_t whylen)
{
	const json_t *min = json_object_get(obj, "min"), *max = json_object_get(obj, "max");

	if (!min && !max) {
		quality_rule_why(why, whylen, idx, r->field, "range needs \"min\", \"max\" or both");
		return GV_ERR_INVALID;
	}
	if ((min && !json_is_number(min)) || (max && !json_is_number(max))) {
		quality_rule_why(why, whylen, idx, r->field, "\"min\" and \"max\" must be numbers");
		return GV_ERR_INVALID;
	}
	r->has_min = min != NULL;
	r->has_max = max != NULL;
	r->min = min ? json_number_value(min) : 0;
	r->max = max ? json_number_value(max) : 0;
	if (r->has_min && r->has_max && r->min > r->max) {
		quality_rule_why(why, whylen, idx, r->field, "\"min\" is greater than \"max\"");
		return GV_ERR_INVALID;
	}
	return GV_OK;
}

static gv_err quality_parse_enum(struct quality_rule *r, const json_t *obj, size_t idx,
				 char *why, size_t whylen)
{
	const json_t *vals = json_object_get(obj, "values"), *e;
	size_t i, n;
	gv_err err;

	n = json_array_size(vals);
	if (!json_is_array(vals) || n == 0 || n > QUALITY_ENUM_MAX) {
		quality_rule_why(why, whylen, idx, r->field,
				 "\"values\" must be an array of 1 to %d strings", QUALITY_ENUM_MAX);
		return GV_ERR_INVALID;
	}
	r->values = calloc(n, sizeof(*r->values));
	if (!r->values)
		return GV_ERR_NOMEM;
	json_array_foreach(vals, i, e) {
		const char *s = quality_json_text(e);

		if (!s || strlen(s) > QUALITY_ENUM_VALUE_MAX) {
			quality_rule_why(why, whylen, idx, r->field, "\"values\"[%zu] must be a string "
					 "of at most %d bytes", i, QUALITY_ENUM_VALUE_MAX);
			return GV_ERR_INVALID;
		}
		if ((err = quality_strdup(s, &r->values[i])) != GV_OK)
			return err;
		r->nvalues = i + 1;
	}
	return GV_OK;
}

static gv_err quality_parse_type(struct quality_rule *r, const json_t *obj, size_t idx,
				 char *why, size_t whylen)
{
	const char *t = quality_json_text(json_object_get(obj, "type"));

	for (int i = 0; t && i < QUALITY_T__COUNT; i++) {
		if (strcmp(t, quality_type_names[i]) == 0) {
			r->type = (enum quality_type)i;
			return GV_OK;
		}
	}
	quality_rule_why(why, whylen, idx, r->field,
			 "\"type\" must be string, integer, number, boolean or date");
	return GV_ERR_INVALID;
}

static gv_err quality_parse_checksum(struct quality_rule *r, const json_t *obj, size_t idx,
				     char *why, size_t whylen)
{
	const char *k = quality_json_text(json_object_get(obj, "kind"));

	if (!id_kind_parse(k, &r->id)) {
		quality_rule_why(why, whylen, idx, r->field, "\"kind\" must be resident_id, uscc, "
				 "org_code, bank_card or mobile");
		return GV_ERR_INVALID;
	}
	return GV_OK;
}

static gv_err quality_parse_reference(struct quality_rule *r, const json_t *obj, size_t idx,
				      char *why, size_t whylen)
{
	const char *ds = quality_name_get(obj, "dataset");
	const char *rf = quality_name_get(obj, "ref_field");
	gv_err err;

	if (!ds || !rf) {
		quality_rule_why(why, whylen, idx, r->field, "\"dataset\" and \"ref_field\" must be "
				 "non-empty printable strings shorter than %d bytes", QUALITY_FIELD_MAX);
		return GV_ERR_INVALID;
	}
	if ((err = quality_strdup(ds, &r->dataset)) != GV_OK ||
	    (err = quality_strdup(rf, &r->ref_field)) != GV_OK)
		return err;
	return GV_OK;
}

/* Fills r from obj; on error r may be partly filled and is released by the caller. */
static gv_err quality_rule_parse(struct quality_rule *r, const json_t *obj, size_t idx,
				 const json_t *schema, char *why, size_t whylen)
{
	const char *field, *name, *sev, *key;
	const json_t *sevv, *v;
	int kind = -1;
	gv_err err;

	if (!json_is_object(obj)) {
		quality_rule_why(why, whylen, idx, NULL, "must be an object");
		return GV_ERR_INVALID;
	}
	if (!(field = quality_name_get(obj, "field"))) {
		quality_rule_why(why, whylen, idx, NULL, "\"field\" must be a non-empty printable "
				 "string shorter than %d bytes", QUALITY_FIELD_MAX);
		return GV_ERR_INVALID;
	}
	if ((err = quality_strdup(field, &r->field)) != GV_OK)
		return err;
	if (schema && !quality_schema_has(schema, field)) {
		quality_rule_why(why, whylen, idx, field, "unknown field (not in the dataset schema)");
		return GV_ERR_INVALID;
	}
	name = quality_json_text(json_object_get(obj, "rule"));
	for (int i = 0; name && i < QUALITY__KIND_COUNT; i++)
		if (strcmp(name, quality_rule_names[i]) == 0)
			kind = i;
	if (kind < 0) {
		quality_rule_why(why, whylen, idx, field, "unknown rule (expected required, type, "
				 "range, enum, pattern, checksum, unique or reference)");
		return GV_ERR_INVALID;
	}
	r->kind = (enum quality_rule_kind)kind;
	json_object_foreach((json_t *)obj, key, v) {
		if (!quality_key_allowed(r->kind, key)) {
			quality_rule_why(why, whylen, idx, field, "unknown key \"%.32s\" for rule %s",
					 key, quality_rule_names[kind]);
			return GV_ERR_INVALID;
		}
	}
	if ((sevv = json_object_get(obj, "severity")) != NULL) {
		sev = quality_json_text(sevv);
		if (!sev || (strcmp(sev, "error") != 0 && strcmp(sev, "warning") != 0)) {
			quality_rule_why(why, whylen, idx, field,
					 "\"severity\" must be \"error\" or \"warning\"");
			return GV_ERR_INVALID;
		}
		r->warning = strcmp(sev, "warning") == 0;
	}
	switch (r->kind) {
	case QUALITY_TYPE:
		return quality_parse_type(r, obj, idx, why, whylen);
	case QUALITY_RANGE:
		return quality_parse_range(r, obj, idx, why, whylen);
	case QUALITY_ENUM:
		return quality_parse_enum(r, obj, idx, why, whylen);
	case QUALITY_PATTERN:
		return quality_parse_pattern(r, obj, idx, why, whylen);
	case QUALITY_CHECKSUM:
		return quality_parse_checksum(r, obj, idx, why, whylen);
	case QUALITY_REFERENCE:
		return quality_parse_reference(r, obj, idx, why, whylen);
	case QUALITY_REQUIRED:
	case QUALITY_UNIQUE:
	case QUALITY__KIND_COUNT:
		break;
	}
	return GV_OK;
}

gv_err quality_rules_parse(const json_t *rules, const json_t *schema,
			   struct quality_rules **out, char *why, size_t whylen)
{
	struct quality_rules *q = NULL;
	size_t n;
	gv_err err;

	if (out)
		*out = NULL;
	quality_why(why, whylen, "");
	if (!out)
		return GV_ERR_INVALID;
	if (!json_is_array(rules)) {
		quality_why(why, whylen, "rules must be a JSON array");
		return GV_ERR_INVALID;
	}
	n = json_array_size(rules);
	if (n > QUALITY_MAX_RULES) {
		quality_why(why, whylen, "too many rules (at most 128)");
		return GV_ERR_INVALID;
	}
	if (!quality_schema_ok(schema)) {
		quality_why(why, whylen, "schema must be an array of field names, an array of "
			    "objects with \"name\", or an object keyed by field name");
		return GV_ERR_INVALID;
	}
	err = GV_ERR_NOMEM;
	if (!(q = calloc(1, sizeof(*q))) || !(q->rules = calloc(n ? n : 1, sizeof(*q->rules))))
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* Count the rule before parsing it so a half-parsed one is released too. */
		q->n = i + 1;
		err = quality_rule_parse(&q->rules[i], json_array_get(rules, i), i, schema, why,
					 whylen);
		if (err != GV_OK) {
			if (err == GV_ERR_NOMEM)
				quality_why(why, whylen, "out of memory");
			goto out;
		}
	}
	err = GV_OK;
	*out = q;
	q = NULL;
out:
	quality_rules_free(q);
	return err;
}

/* ---- checking --------------------------------------------------------------------- */

static int quality_missing(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* The text a value is compared as (see quality.h); NULL for objects, arrays and strings
 * holding a NUL.  tmp must hold 32 bytes. */
static const char *quality_value_text(const json_t *v, char *tmp, size_t tmplen)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return quality_json_text(v);
	case JSON_INTEGER:
		snprintf(tmp, tmplen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return tmp;
	case JSON_REAL:
		snprintf(tmp, tmplen, "%.17g", json_real_value(v));
		return tmp;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_OBJECT:
	case JSON_ARRAY:
	case JSON_NULL:
		break;
	}
	return NULL;
}

/* Length of the JSON-grammar number at s (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?),
 * 0 when there is none; *integral says whether it had no fraction or exponent. */
static size_t quality_lex_number(const char *s, int *integral)
{
	size_t i = 0;

	*integral = 1;
	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (s[i] == '.') {
		*integral = 0;
		if (s[++i] < '0' || s[i] > '9')
			return 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		*integral = 0;
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i;
}

/* Numeric value of v (a JSON number or a string that is exactly a finite JSON number);
 * 0 when it has none.  *integral is set for integers that fit in 64 bits. */
static int quality_number(const json_t *v, double *out, int *integral)
{
	const char *s;
	size_t n;
	char *end;

	*integral = 0;
	if (json_is_integer(v)) {
		*integral = 1;
		*out = (double)json_integer_value(v);
		return 1;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return 1;
	}
	if (!(s = quality_json_text(v)) || (n = quality_lex_number(s, integral)) == 0 ||
	    s[n] != '\0')
		return 0;
	if (*integral) {
		errno = 0;
		(void)strtoll(s, &end, 10);
		if (errno == ERANGE)
			*integral = 0;
	}
	*out = strtod(s, &end);
	return isfinite(*out);
}

static int quality_type_ok(enum quality_type t, const json_t *v)
{
	const char *s = quality_json_text(v);
	double num;
	int integral;

	switch (t) {
	case QUALITY_T_STRING:
		return json_is_string(v);
	case QUALITY_T_INTEGER:
		return json_is_integer(v) || (s && quality_number(v, &num, &integral) && integral);
	case QUALITY_T_NUMBER:
		return json_is_number(v) || (s && quality_number(v, &num, &integral));
	case QUALITY_T_BOOLEAN:
		return json_is_boolean(v) || (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0));
	case QUALITY_T_DATE:
		return id_date_text_valid(s);
	case QUALITY_T__COUNT:
		break;
	}
	return 0;
}

/* Evaluates one rule on the (possibly missing) value v; reason is filled for anything
 * but QE_PASS. */
static enum quality_eval quality_rule_eval(const struct quality_rule *r, int idx,
					   const json_t *v, const struct quality_hooks *h,
					   int64_t now_s, char *reason, size_t rlen)
{
	char tmp[32];
	const char *text, *why = NULL;
	double num;
	int integral, rc;

	if (r->kind == QUALITY_REQUIRED) {
		if (!quality_missing(v))
			return QE_PASS;
		snprintf(reason, rlen, "value is missing");
		return QE_VIOLATED;
	}
	if (quality_missing(v))
		return QE_PASS;
	text = quality_value_text(v, tmp, sizeof(tmp));
	switch (r->kind) {
	case QUALITY_TYPE:
		if (quality_type_ok(r->type, v))
			return QE_PASS;
		snprintf(reason, rlen, "not a valid %s", quality_type_names[r->type]);
		return QE_VIOLATED;
	case QUALITY_RANGE:
		if (!quality_number(v, &num, &integral)) {
			snprintf(reason, rlen, "not a number");
			return QE_VIOLATED;
		}
		if (r->has_min && num < r->min) {
			snprintf(reason, rlen, "below the minimum %.15g", r->min);
			return QE_VIOLATED;
		}
		if (r->has_max && num > r->max) {
			snprintf(reason, rlen, "above the maximum %.15g", r->max);
			return QE_VIOLATED;
		}
		return QE_PASS;
	default:
		break;
	}
	if (!text) {
		snprintf(reason, rlen, "not a text or scalar value");
		return QE_VIOLATED;
	}
	switch (r->kind) {
	case QUALITY_ENUM:
		for (size_t i = 0; i < r->nvalues; i++)
			if (strcmp(text, r->values[i]) == 0)
				return QE_PASS;
		snprintf(reason, rlen, "not one of the allowed values");
		return QE_VIOLATED;
	case QUALITY_PATTERN:
		if (strlen(text) > QUALITY_PATTERN_VALUE_MAX) {
			snprintf(reason, rlen, "longer than %d bytes, not matched",
				 QUALITY_PATTERN_VALUE_MAX);
			return QE_VIOLATED;
		}
		rc = regexec(&r->re, text, 0, NULL, 0);
		if (rc == 0)
			return QE_PASS;
		if (rc != REG_NOMATCH) {
			snprintf(reason, rlen, "pattern could not be evaluated");
			return QE_NOT_CHECKED;
		}
		snprintf(reason, rlen, "does not match the pattern");
		return QE_VIOLATED;
	case QUALITY_CHECKSUM:
		if (id_check(r->id, text, now_s, &why))
			return QE_PASS;
		snprintf(reason, rlen, "%s", why ? why : "invalid identifier");
		return QE_VIOLATED;
	case QUALITY_UNIQUE:
		if (!h || !h->seen) {
			snprintf(reason, rlen, "no uniqueness hook configured");
			return QE_NOT_CHECKED;
		}
		rc = h->seen(h->ctx, idx, r->field, text);
		if (rc < 0)
			return QE_FAILED;
		if (rc == 0)
			return QE_PASS;
		snprintf(reason, rlen, "duplicate value");
		return QE_VIOLATED;
	case QUALITY_REFERENCE:
		if (!h || !h->exists) {
			snprintf(reason, rlen, "no reference hook configured");
			return QE_NOT_CHECKED;
		}
		rc = h->exists(h->ctx, r->dataset, r->ref_field, text);
		if (rc < 0)
			return QE_FAILED;
		if (rc > 0)
			return QE_PASS;
		snprintf(reason, rlen, "no record in %s with this %s", r->dataset, r->ref_field);
		return QE_VIOLATED;
	default:
		break;
	}
	return QE_PASS;
}

gv_err quality_check_row(const struct quality_rules *q, const json_t *row,
			 const struct quality_hooks *hooks, struct quality_result *res)
{
	int64_t now_s = util_now_s();
	int quarantine = 0;

	if (!res)
		return GV_ERR_INVALID;
	res->verdict = QUALITY_ROW_ACCEPTED;
	res->n = res->violated = res->not_checked = 0;
	if (!q || !json_is_object(row))
		return GV_ERR_INVALID;
	for (size_t i = 0; i < q->n; i++) {
		const struct quality_rule *r = &q->rules[i];
		struct quality_issue *is = &res->issues[res->n];
		enum quality_eval e;

		e = quality_rule_eval(r, (int)i, json_object_get(row, r->field), hooks, now_s,
				      is->reason, sizeof(is->reason));
		if (e == QE_FAILED)
			return GV_ERR_STORE;
		if (e == QE_PASS)
			continue;
		is->rule = (int)i;
		is->field = r->field;
		is->kind = r->kind;
		if (e == QE_VIOLATED) {
			is->outcome = QUALITY_VIOLATED;
			res->violated++;
			quarantine |= !r->warning;
		} else {
			is->outcome = QUALITY_NOT_CHECKED;
			res->not_checked++;
		}
		res->n++;
	}
	if (quarantine)
		res->verdict = QUALITY_ROW_QUARANTINED;
	else if (res->n > 0)
		res->verdict = QUALITY_ROW_FLAGGED;
	return GV_OK;
}

/* ---- reports ---------------------------------------------------------------------- */

void quality_report_init(struct quality_report *r, const struct quality_rules *q)
{
	memset(r, 0, sizeof(*r));
	r->nrules = quality_rules_count(q);
}

void quality_report_add(struct quality_report *r, const struct quality_result *res)
{
	r->rows++;
	switch (res->verdict) {
	case QUALITY_ROW_ACCEPTED:
		r->accepted++;
		break;
	case QUALITY_ROW_FLAGGED:
		r->flagged++;
		break;
	case QUALITY_ROW_QUARANTINED:
		r->quarantined++;
		break;
	}
	for (size_t i = 0; i < res->n && i < QUALITY_MAX_RULES; i++) {
		size_t k = (size_t)res->issues[i].rule;

		if (k >= r->nrules)
			continue;
		if (res->issues[i].outcome == QUALITY_NOT_CHECKED)
			r->not_checked[k]++;
		else
			r->violated[k]++;
	}
}

gv_err quality_report_json(const struct quality_report *r, const struct quality_rules *q,
			   json_t **out)
{
	json_t *obj = NULL, *arr = NULL;
	gv_err err = GV_ERR_INVALID;

	*out = NULL;
	if (!q || r->nrules != q->n)
		goto out;
	err = GV_ERR_NOMEM;
	if (!(arr = json_array()))
		goto out;
	for (size_t i = 0; i < q->n; i++) {
		const struct quality_rule *rule = &q->rules[i];
		json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}",
				      "index", (json_int_t)i, "field", rule->field,
				      "rule", quality_rule_names[rule->kind],
				      "severity", rule->warning ? "warning" : "error",
				      "violated", (json_int_t)r->violated[i],
				      "not_checked", (json_int_t)r->not_checked[i]);

		/* json_array_append_new drops e itself when it fails. */
		if (!e || json_array_append_new(arr, e) != 0)
			goto out;
	}
	obj = json_pack("{s:I, s:I, s:I, s:I, s:o}", "rows", (json_int_t)r->rows,
			"accepted", (json_int_t)r->accepted, "flagged", (json_int_t)r->flagged,
			"quarantined", (json_int_t)r->quarantined, "rules", arr);
	arr = NULL; /* "o" steals the reference even when json_pack fails */
	if (!obj)
		goto out;
	err = GV_OK;
	*out = obj;
	obj = NULL;
out:
	json_decref(arr);
	json_decref(obj);
	return err;
}

/* mask.c - masking profiles: validation of the JSON rules, the default profile of each
 * grade, and mask_apply (contract in mask.h, user documentation in docs/masking.md).
 *
 * Everything that can be wrong with a profile is found by mask_profile_parse, so that
 * applying one never meets a bad rule: unknown keys, a method without its parameters,
 * parameters out of range, and kind rules whose method cannot apply to that kind's
 * values (generalise "year" on addresses) are refused with the rule's index.  What
 * remains at apply time is values of the wrong shape, and those are redacted (fail
 * closed) rather than passed on.  The single-value methods live in method.c. */
#include "mask/mask.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "mask/method.h"
#include "mask/pii.h"

#define MASK_DESCRIPTION_MAX 1024   /* bytes */
#define MASK_REPLACE_MAX 1024       /* bytes of a "replace" constant */
#define MASK_KEEP_MAX 64            /* keep_first / keep_last */
#define MASK_TRUNCATE_MAX 65536     /* code points */
#define MASK_STEP_MAX 1000000000000000LL /* band / range / noise bound: 1e15 */
#define MASK_TEXT_MAX (1u << 20)    /* longer strings are redacted, not processed */
#define MASK_TEXT_OUT_MAX (8u << 20) /* a masked text may grow (4-byte mask characters) */

enum mask_method {
	MM_KEEP, MM_MASK, MM_REDACT, MM_PSEUDONYM, MM_GENERALISE, MM_TRUNCATE, MM_REPLACE,
	MM_NOISE, MM__COUNT
};

static const char *const method_names[MM__COUNT] = {
	[MM_KEEP] = "keep", [MM_MASK] = "mask", [MM_REDACT] = "redact",
	[MM_PSEUDONYM] = "pseudonym", [MM_GENERALISE] = "generalise",
	[MM_TRUNCATE] = "truncate", [MM_REPLACE] = "replace", [MM_NOISE] = "noise",
};

/* The parameters each method takes, besides field, kind and method. */
static const char *const method_keys[MM__COUNT][5] = {
	[MM_MASK] = {"keep_first", "keep_last", "char", "keep_domain", NULL},
	[MM_GENERALISE] = {"to", "band", "range", NULL},
	[MM_TRUNCATE] = {"length", NULL},
	[MM_REPLACE] = {"value", NULL},
	[MM_NOISE] = {"bound", NULL},
};

enum mask_gen { MG_YEAR, MG_MONTH, MG_PROVINCE, MG_CITY, MG_DISTRICT, MG_NUMBER };

static const char *const gen_names[] = {"year", "month", "province", "city", "district"};

/* What values of a kind look like, so that kind rules can be checked when parsed. */
enum mask_class { MC_ANY, MC_IDENT, MC_DATE, MC_ADDRESS, MC_TEXT };

/* The catalog kinds (data/catalog.h, which this layer may not include) and the PII
 * kinds only the scanner produces; a rule for a PII kind also governs matches of that
 * kind inside free text. */
enum mask_kind {
	MK_NONE, MK_RESIDENT_ID, MK_NAME, MK_MOBILE, MK_LANDLINE, MK_EMAIL, MK_ADDRESS,
	MK_BANK_CARD, MK_USCC, MK_PASSPORT, MK_PLATE, MK_DATE_OF_BIRTH, MK_FREE_TEXT, MK_OTHER,
	MK_IPV4, MK_IPV6, MK__COUNT
};

static const struct {
	const char *name;
	enum mask_class cls;
} mask_kinds[MK__COUNT] = {
	[MK_NONE] = {"none", MC_ANY}, [MK_RESIDENT_ID] = {"resident_id", MC_IDENT},
	[MK_NAME] = {"name", MC_IDENT}, [MK_MOBILE] = {"mobile", MC_IDENT},
	[MK_LANDLINE] = {"landline", MC_IDENT}, [MK_EMAIL] = {"email", MC_IDENT},
	[MK_ADDRESS] = {"address", MC_ADDRESS}, [MK_BANK_CARD] = {"bank_card", MC_IDENT},
	[MK_USCC] = {"uscc", MC_IDENT}, [MK_PASSPORT] = {"passport", MC_IDENT},
	[MK_PLATE] = {"plate", MC_IDENT}, [MK_DATE_OF_BIRTH] = {"date_of_birth", MC_DATE},
	[MK_FREE_TEXT] = {"free_text", MC_TEXT}, [MK_OTHER] = {"other", MC_ANY},
	[MK_IPV4] = {"ipv4", MC_IDENT}, [MK_IPV6] = {"ipv6", MC_IDENT},
};

enum mask_free_text { FT_SCAN, FT_KEEP, FT_REDACT };

struct mask_rule {
	char target[MASK_PROFILE_NAME_LEN]; /* the field or kind name; pseudonyms bind it */
	int is_field;
	int kind;                         /* enum mask_kind of a kind rule */
	enum mask_method method;
	unsigned keep_first, keep_last;
	char ch[5];                       /* the mask character, one code point */
	size_t ch_len;
	int keep_domain;
	enum mask_gen gen;
	long long step;                   /* band / range */
	unsigned length;
	char *value;                      /* replace */
	size_t value_len;
	double bound;
};

struct mask_profile {
	char name[MASK_PROFILE_NAME_LEN];
	int default_redact;
	enum mask_free_text free_text;
	size_t nrules;
	struct mask_rule *rules;
	int kind_rule[MK__COUNT];         /* rule index or -1 */
	int pii_rule[PII__COUNT];         /* the kind rule of each scanner kind, or -1 */
};

static int kind_parse(const char *name)
{
	for (int i = 0; i < MK__COUNT; i++)
		if (strcmp(mask_kinds[i].name, name) == 0)
			return i;
	return -1;
}

/* Copies s into out[outlen], cut at a character boundary. */
static void copy_cut(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen) {
		n = outlen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* A name from the profile made safe to quote in an error: at most 32 bytes, whole
 * characters only, control characters, quotes and invalid bytes shown as '?'. */
static const char *why_name(const char *s, char out[48])
{
	size_t len = strlen(s), i = 0, o = 0;

	while (i < len && o < 32) {
		size_t step = util_utf8_step(s, len, i);

		if (step == 0 || (step == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ||
						s[i] == '\\'))) {
			out[o++] = '?';
			i += step ? step : 1;
			continue;
		}
		memcpy(out + o, s + i, step);
		o += step;
		i += step;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static gv_err fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static gv_err fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return GV_ERR_INVALID;
}

/* Field names follow the catalog's rule (data/catalog.c), so a rule can name only a
 * field that can exist. */
static int field_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MASK_PROFILE_NAME_LEN || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Profile names appear in logs and URLs. */
static int profile_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MASK_PROFILE_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* A string without NUL (jansson allows \u0000) that is printable UTF-8. */
static int string_clean(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) && util_utf8_printable(s);
}

static gv_err param_int(const json_t *r, size_t i, const char *key, long long lo, long long hi,
			long long def, long long *out, char *why, size_t whylen)
{
	const json_t *v = json_object_get(r, key);

	*out = def;
	if (!v)
		return GV_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(why, whylen, "rules[%zu]: %s must be an integer from %lld to %lld", i,
			    key, lo, hi);
	*out = json_integer_value(v);
	return GV_OK;
}

static gv_err rule_params_mask(const json_t *r, size_t i, struct mask_rule *out, char *why,
			       size_t whylen)
{
	const json_t *ch = json_object_get(r, "char"), *dom = json_object_get(r, "keep_domain");
	long long first, last;
	gv_err err;

	if ((err = param_int(r, i, "keep_first", 0, MASK_KEEP_MAX, 0, &first, why, whylen)) != GV_OK ||
	    (err = param_int(r, i, "keep_last", 0, MASK_KEEP_MAX, 0, &last, why, whylen)) != GV_OK)
		return err;
	out->keep_first = (unsigned)first;
	out->keep_last = (unsigned)last;
	memcpy(out->ch, "*", 2);
	out->ch_len = 1;
	if (ch) {
		const char *s = json_string_value(ch);

		if (!string_clean(ch) || method_utf8_count(s, strlen(s)) != 1)
			return fail(why, whylen, "rules[%zu]: char must be exactly one printable "
				    "character", i);
		out->ch_len = strlen(s);
		memcpy(out->ch, s, out->ch_len + 1);
	}
	if (dom && !json_is_boolean(dom))
		return fail(why, whylen, "rules[%zu]: keep_domain must be true or false", i);
	out->keep_domain = json_is_true(dom);
	return GV_OK;
}

static gv_err rule_params_generalise(const json_t *r, size_t i, struct mask_rule *out,
				     char *why, size_t whylen)
{
	const json_t *to = json_object_get(r, "to");
	int has_band = json_object_get(r, "band") != NULL;
	int has_range = json_object_get(r, "range") != NULL;
	const char *s = json_string_value(to);

	if ((to != NULL) + has_band + has_range != 1)
		return fail(why, whylen, "rules[%zu]: generalise needs exactly one of to, band "
			    "and range", i);
	if (to) {
		for (size_t g = 0; s && g < GV_ARRAY_LEN(gen_names); g++)
			if (strcmp(s, gen_names[g]) == 0) {
				out->gen = (enum mask_gen)g;
				return GV_OK;
			}
		return fail(why, whylen, "rules[%zu]: to must be year, month, province, city or "
			    "district", i);
	}
	out->gen = MG_NUMBER;
	/* A band of 1 ("37-37") would give the value back. */
	return param_int(r, i, has_band ? "band" : "range", 2, MASK_STEP_MAX, 2, &out->step, why,
			 whylen);
}

static gv_err rule_params(const json_t *r, size_t i, struct mask_rule *out, char *why,
			  size_t whylen)
{
	const json_t *v;
	long long n;
	gv_err err = GV_OK;

	switch (out->method) {
	case MM_MASK:
		err = rule_params_mask(r, i, out, why, whylen);
		break;
	case MM_GENERALISE:
		err = rule_params_generalise(r, i, out, why, whylen);
		break;
	case MM_TRUNCATE:
		if (!json_object_get(r, "length"))
			return fail(why, whylen, "rules[%zu]: truncate needs length", i);
		err = param_int(r, i, "length", 1, MASK_TRUNCATE_MAX, 1, &n, why, whylen);
		out->length = (unsigned)n;
		break;
	case MM_REPLACE:
		v = json_object_get(r, "value");
		if (!v || !string_clean(v) || json_string_length(v) > MASK_REPLACE_MAX)
			return fail(why, whylen, "rules[%zu]: replace needs value, a string of "
				    "printable characters of at most %d bytes", i, MASK_REPLACE_MAX);
		out->value_len = json_string_length(v);
		out->value = malloc(out->value_len + 1);
		if (!out->value)
			return GV_ERR_NOMEM;
		memcpy(out->value, json_string_value(v), out->value_len + 1);
		break;
	case MM_NOISE:
		v = json_object_get(r, "bound");
		if (!json_is_number(v) || !(json_number_value(v) > 0) ||
		    json_number_value(v) > (double)MASK_STEP_MAX)
			return fail(why, whylen, "rules[%zu]: noise needs bound, a number greater "
				    "than 0 and at most 1e15", i);
		out->bound = json_number_value(v);
		break;
	case MM_KEEP:
	case MM_REDACT:
	case MM_PSEUDONYM:
	case MM__COUNT:
		break;
	}
	return err;
}

/* A kind rule whose method cannot apply to any value of the kind would redact every
 * one of them silently; refuse it instead. */
static gv_err rule_kind_check(size_t i, const struct mask_rule *r, char *why, size_t whylen)
{
	enum mask_class cls = mask_kinds[r->kind].cls;
	const char *what = NULL;

	if (r->method == MM_GENERALISE && (r->gen == MG_YEAR || r->gen == MG_MONTH) &&
	    cls != MC_DATE && cls != MC_ANY)
		what = r->gen == MG_YEAR ? "generalise to year" : "generalise to month";
	else if (r->method == MM_GENERALISE && r->gen >= MG_PROVINCE && r->gen <= MG_DISTRICT &&
		 cls != MC_ADDRESS && cls != MC_ANY)
		what = "generalise to an address level";
	else if (r->method == MM_GENERALISE && r->gen == MG_NUMBER && cls != MC_ANY)
		what = "generalise by band or range";
	else if (r->method == MM_NOISE && cls != MC_ANY)
		what = "noise";
	if (what)
		return fail(why, whylen, "rules[%zu]: %s does not apply to kind \"%s\"", i, what,
			    mask_kinds[r->kind].name);
	return GV_OK;
}

static gv_err rule_parse(const json_t *r, size_t i, struct mask_rule *out, char *why,
			 size_t whylen)
{
	const json_t *method = json_object_get(r, "method");
	const json_t *field = json_object_get(r, "field"), *kind = json_object_get(r, "kind");
	const char *key, *s;
	char q[48];
	json_t *v;
	int m;

	if (!json_is_object(r))
		return fail(why, whylen, "rules[%zu] must be an object", i);
	if (!method)
		return fail(why, whylen, "rules[%zu]: method is missing", i);
	if (!json_is_string(method))
		return fail(why, whylen, "rules[%zu]: method must be a string", i);
	for (m = 0; m < MM__COUNT; m++)
		if (strcmp(json_string_value(method), method_names[m]) == 0)
			break;
	if (m == MM__COUNT)
		return fail(why, whylen, "rules[%zu]: unknown method \"%s\"", i,
			    why_name(json_string_value(method), q));
	out->method = (enum mask_method)m;
	json_object_foreach((json_t *)r, key, v) {
		int ok = !strcmp(key, "field") || !strcmp(key, "kind") || !strcmp(key, "method");

		for (const char *const *k = method_keys[m]; !ok && *k; k++)
			ok = !strcmp(key, *k);
		if (!ok)
			return fail(why, whylen, "rules[%zu]: unknown key \"%s\" for method \"%s\"", i,
				    why_name(key, q), method_names[m]);
	}
	if (field && kind)
		return fail(why, whylen, "rules[%zu]: names both a field and a kind; use one", i);
	if (!field && !kind)
		return fail(why, whylen, "rules[%zu]: needs a field or a kind", i);
	if (field) {
		s = json_string_value(field);
		if (!s || !field_name_ok(s))
			return fail(why, whylen, "rules[%zu]: field must be 1-63 characters of a-z, "
				    "0-9 and _, starting with a letter or _", i);
		out->is_field = 1;
		copy_cut(out->target, sizeof(out->target), s);
	} else {
		s = json_string_value(kind);
		if (!s)
			return fail(why, whylen, "rules[%zu]: kind must be a string", i);
		out->kind = kind_parse(s);
		if (out->kind < 0)
			return fail(why, whylen, "rules[%zu]: unknown kind \"%s\"", i, why_name(s, q));
		if (out->kind == MK_FREE_TEXT)
			return fail(why, whylen, "rules[%zu]: free_text fields follow the profile's "
				    "\"free_text\" key or a field rule, not a kind rule", i);
		copy_cut(out->target, sizeof(out->target), s);
	}
	return rule_params(r, i, out, why, whylen);
}

void mask_profile_free(struct mask_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rules[i].value);
	free(p->rules);
	free(p);
}

static gv_err profile_top_parse(const json_t *j, struct mask_profile *p, char *why,
				size_t whylen)
{
	static const char *const allowed[] = {"name", "description", "rules", "default",
					      "free_text", NULL};
	const json_t *name = json_object_get(j, "name"), *desc = json_object_get(j, "description");
	const json_t *def = json_object_get(j, "default"), *ft = json_object_get(j, "free_text");
	const json_t *rules = json_object_get(j, "rules");
	const char *key, *s;
	char q[48];
	json_t *v;

	json_object_foreach((json_t *)j, key, v) {
		int ok = 0;

		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		if (!ok)
			return fail(why, whylen, "unknown key \"%s\"", why_name(key, q));
	}
	s = json_string_value(name);
	if (!s || !profile_name_ok(s))
		return fail(why, whylen, "name must be 1-63 characters of A-Z, a-z, 0-9, _, - and .");
	copy_cut(p->name, sizeof(p->name), s);
	if (desc && (!json_is_string(desc) || json_string_length(desc) > MASK_DESCRIPTION_MAX))
		return fail(why, whylen, "description must be a string of at most %d bytes",
			    MASK_DESCRIPTION_MAX);
	s = def ? json_string_value(def) : "keep";
	if (!s || (strcmp(s, "keep") && strcmp(s, "redact")))
		return fail(why, whylen, "default must be \"keep\" or \"redact\"");
	p->default_redact = !strcmp(s, "redact");
	s = ft ? json_string_value(ft) : "scan";
	if (!s || (strcmp(s, "scan") && strcmp(s, "keep") && strcmp(s, "redact")))
		return fail(why, whylen, "free_text must be \"scan\", \"keep\" or \"redact\"");
	p->free_text = !strcmp(s, "scan") ? FT_SCAN : !strcmp(s, "keep") ? FT_KEEP : FT_REDACT;
	if (!json_is_array(rules))
		return fail(why, whylen, "rules must be an array (it may be empty)");
	if (json_array_size(rules) > MASK_RULES_MAX)
		return fail(why, whylen, "at most %d rules", MASK_RULES_MAX);
	return GV_OK;
}

gv_err mask_profile_parse(const json_t *j, struct mask_profile **out, char *why, size_t whylen)
{
	struct mask_profile *p = NULL;
	const json_t *rules;
	gv_err err;

	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	if (!json_is_object(j)) {
		err = fail(why, whylen, "a profile must be a JSON object");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		err = GV_ERR_NOMEM;
		goto out;
	}
	if ((err = profile_top_parse(j, p, why, whylen)) != GV_OK)
		goto out;
	rules = json_object_get(j, "rules");
	if (json_array_size(rules) > 0) {
		p->rules = calloc(json_array_size(rules), sizeof(*p->rules));
		if (!p->rules) {
			err = GV_ERR_NOMEM;
			goto out;
		}
	}
	for (int k = 0; k < MK__COUNT; k++)
		p->kind_rule[k] = -1;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		struct mask_rule *r = &p->rules[i];

		/* Counted first so that a replace value is freed even if its rule fails. */
		p->nrules++;
		if ((err = rule_parse(json_array_get(rules, i), i, r, why, whylen)) != GV_OK)
			goto out;
		if (!r->is_field && (err = rule_kind_check(i, r, why, whylen)) != GV_OK)
			goto out;
		for (size_t k = 0; k < i; k++)
			if (p->rules[k].is_field == r->is_field &&
			    strcmp(p->rules[k].target, r->target) == 0) {
				err = fail(why, whylen, "rules[%zu]: %s \"%s\" already has a rule "
					   "(rules[%zu])", i, r->is_field ? "field" : "kind",
					   r->target, k);
				goto out;
			}
		if (!r->is_field)
			p->kind_rule[r->kind] = (int)i;
	}
	for (int k = 0; k < PII__COUNT; k++) {
		int mk = kind_parse(pii_kind_name((enum pii_kind)k));

		p->pii_rule[k] = mk >= 0 ? p->kind_rule[mk] : -1;
	}
	*out = p;
	p = NULL;
out:
	mask_profile_free(p);
	return err;
}

const char *mask_profile_name(const struct mask_profile *p)
{
	return p->name;
}

/* The defaults as JSON text, so that they read like the profiles users write and go
 * through the same validation.  First the rules of grade 2 for personal kinds, which
 * grade 1 uses too. */
#define PERSONAL_KIND_RULES \
	"{\"kind\": \"resident_id\", \"method\": \"mask\", \"keep_first\": 6, \"keep_last\": 4}," \
	"{\"kind\": \"name\", \"method\": \"mask\", \"keep_first\": 1}," \
	"{\"kind\": \"mobile\", \"method\": \"mask\", \"keep_first\": 3, \"keep_last\": 4}," \
	"{\"kind\": \"landline\", \"method\": \"mask\", \"keep_last\": 4}," \
	"{\"kind\": \"bank_card\", \"method\": \"mask\", \"keep_last\": 4}," \
	"{\"kind\": \"email\", \"method\": \"mask\", \"keep_first\": 1, \"keep_domain\": true}," \
	"{\"kind\": \"address\", \"method\": \"generalise\", \"to\": \"district\"}," \
	"{\"kind\": \"date_of_birth\", \"method\": \"generalise\", \"to\": \"year\"}," \
	"{\"kind\": \"passport\", \"method\": \"mask\", \"keep_first\": 1, \"keep_last\": 2}," \
	"{\"kind\": \"plate\", \"method\": \"mask\", \"keep_first\": 2}," \
	"{\"kind\": \"uscc\", \"method\": \"mask\", \"keep_first\": 8}," \
	"{\"kind\": \"other\", \"method\": \"redact\"}"

/* A grade-1 dataset should hold no personal fields, but secadmin may confirm grade 1
 * over a higher suggestion: such fields are masked as at grade 2 all the same. */
static const char default_grade1[] =
	"{\"name\": \"default-grade-1\","
	" \"description\": \"Grade 1: personal kinds (none expected) masked as at grade 2;"
	" identifiers found in free text are masked.\","
	" \"default\": \"keep\", \"free_text\": \"scan\", \"rules\": [" PERSONAL_KIND_RULES "]}";

static const char default_grade2[] =
	"{\"name\": \"default-grade-2\","
	" \"description\": \"Grade 2: personal kinds masked or generalised, free text redacted"
	" (the scanner finds well-formed identifiers only; a profile may choose scan).\","
	" \"default\": \"keep\", \"free_text\": \"redact\", \"rules\": [" PERSONAL_KIND_RULES "]}";

static const char default_grade3[] =
	"{\"name\": \"default-grade-3\","
	" \"description\": \"Grade 3: identifiers pseudonymised, names to the first character,"
	" addresses to city, free text redacted.\","
	" \"default\": \"keep\", \"free_text\": \"redact\", \"rules\": ["
	"{\"kind\": \"resident_id\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"name\", \"method\": \"mask\", \"keep_first\": 1},"
	"{\"kind\": \"mobile\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"landline\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"bank_card\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"email\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"address\", \"method\": \"generalise\", \"to\": \"city\"},"
	"{\"kind\": \"date_of_birth\", \"method\": \"generalise\", \"to\": \"year\"},"
	"{\"kind\": \"passport\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"plate\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"uscc\", \"method\": \"pseudonym\"},"
	"{\"kind\": \"other\", \"method\": \"redact\"}]}";

json_t *mask_profile_default(int grade)
{
	const char *text = grade == 1 ? default_grade1 : grade == 2 ? default_grade2 :
			   grade == 3 ? default_grade3 : NULL;

	return text ? json_loads(text, 0, NULL) : NULL;
}

/* State of one mask_apply call. */
struct apply_ctx {
	const struct mask_profile *p;
	const unsigned char *key;
	struct crypto_hmac *hmac;        /* made on the first pseudonym */
	/* free-text scan of one value */
	const char *text;
	size_t len, pos;
	struct gv_buf *out;
	unsigned found;
	gv_err err;
};

/* What happens to one field. */
enum plan { PLAN_RULE, PLAN_KEEP, PLAN_REDACT, PLAN_SCAN, PLAN_UNKNOWN };

static gv_err hmac_get(struct apply_ctx *c)
{
	return c->hmac ? GV_OK : crypto_hmac_new(c->key, MASK_KEY_LEN, &c->hmac);
}

static gv_err pseudonym_append(struct apply_ctx *c, const struct mask_rule *r, const char *s,
			       size_t len, struct gv_buf *out)
{
	char pn[METHOD_PSEUDONYM_LEN + 1];
	gv_err err = hmac_get(c);

	if (err == GV_OK)
		err = method_pseudonym(c->hmac, r->target, s, len, pn);
	if (err == GV_OK)
		err = buf_append(out, pn, METHOD_PSEUDONYM_LEN);
	return err;
}

/* Appends the rule's result for the text s to out; GV_ERR_INVALID when the method does
 * not apply to it (nothing appended then). */
static gv_err text_apply(struct apply_ctx *c, const struct mask_rule *r, const char *s,
			 size_t len, struct gv_buf *out)
{
	switch (r->method) {
	case MM_KEEP:
		return buf_append(out, s, len);
	case MM_MASK:
		return method_mask(s, len, r->keep_first, r->keep_last, r->ch, r->ch_len,
				   r->keep_domain, out);
	case MM_PSEUDONYM:
		return pseudonym_append(c, r, s, len, out);
	case MM_GENERALISE:
		if (r->gen == MG_YEAR || r->gen == MG_MONTH)
			return method_generalise_date(s, len, r->gen == MG_MONTH, out);
		if (r->gen != MG_NUMBER)
			return method_generalise_address(s, len, (enum method_level)(r->gen - MG_PROVINCE +
									      METHOD_PROVINCE), out);
		return GV_ERR_INVALID;
	case MM_TRUNCATE:
		return method_truncate(s, len, r->length, out);
	case MM_REPLACE:
		return buf_append(out, r->value, r->value_len);
	case MM_REDACT:
	case MM_NOISE:
	case MM__COUNT:
		break;
	}
	return GV_ERR_INVALID;
}

static int scan_match(void *ctx, const struct pii_match *m)
{
	struct apply_ctx *c = ctx;
	const struct mask_rule *r = NULL;
	const char *s;
	gv_err err;

	/* The scanner is trusted for nothing: a match outside the text or behind the last
	 * one fails the value closed. */
	if (m->off < c->pos || m->off > c->len || m->len == 0 || m->len > c->len - m->off ||
	    (unsigned)m->kind >= PII__COUNT) {
		c->err = GV_ERR_INVALID;
		return 1;
	}
	s = c->text + m->off;
	err = buf_append(c->out, c->text + c->pos, m->off - c->pos);
	if (err == GV_OK && c->p->pii_rule[m->kind] >= 0)
		r = &c->p->rules[c->p->pii_rule[m->kind]];
	/* No rule, a redact rule or one that cannot apply: one '*' per character. */
	if (err == GV_OK && r && r->method != MM_REDACT)
		err = text_apply(c, r, s, m->len, c->out);
	if (err == GV_OK && (!r || r->method == MM_REDACT))
		err = GV_ERR_INVALID;
	if (err == GV_ERR_INVALID)
		err = method_mask(s, m->len, 0, 0, "*", 1, 0, c->out);
	c->found++;
	c->pos = m->off + m->len;
	c->err = err;
	return err != GV_OK;
}

/* Masks the identifiers the scanner finds in s into out. */
static gv_err text_scan(struct apply_ctx *c, const char *s, size_t len, struct gv_buf *out)
{
	c->text = s;
	c->len = len;
	c->pos = 0;
	c->out = out;
	c->found = 0;
	c->err = GV_OK;
	if (method_utf8_count(s, len) == (size_t)-1)
		return GV_ERR_INVALID;
	(void)pii_scan(s, len, PII_ALL, scan_match, c);
	if (c->err == GV_OK)
		c->err = buf_append(out, s + c->pos, len - c->pos);
	/* A match that split a character would leave broken UTF-8 behind. */
	if (c->err == GV_OK && method_utf8_count(out->data ? out->data : "", out->len) == (size_t)-1)
		c->err = GV_ERR_INVALID;
	return c->err;
}

/* The new value of a string under plan (PLAN_RULE with r, or PLAN_SCAN): *nv is a new
 * reference, or NULL when the method did not apply. */
static gv_err string_apply(struct apply_ctx *c, enum plan plan, const struct mask_rule *r,
			   const json_t *v, json_t **nv, unsigned *found)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	struct gv_buf out;
	gv_err err;

	*nv = NULL;
	if (len > MASK_TEXT_MAX)
		return GV_OK;
	buf_init(&out, MASK_TEXT_OUT_MAX);
	if (plan == PLAN_SCAN) {
		err = text_scan(c, s, len, &out);
		*found = c->found;
	} else {
		/* keep never gets here; a kept value must still be valid text to be masked. */
		err = method_utf8_count(s, len) == (size_t)-1 ? GV_ERR_INVALID :
		      text_apply(c, r, s, len, &out);
	}
	if (err == GV_OK) {
		*nv = json_stringn(out.data ? out.data : "", out.len);
		if (!*nv)
			err = GV_ERR_NOMEM;
	} else if (err == GV_ERR_INVALID || err == GV_ERR_TOO_LARGE) {
		err = GV_OK;
	}
	buf_release(&out);
	return err;
}

/* Number v plus noise drawn from a seed keyed on the value, so that every read gives
 * the same noisy value. */
static gv_err noise_apply(struct apply_ctx *c, const struct mask_rule *r, const json_t *v,
			  json_t **nv)
{
	unsigned char seed[CRYPTO_SM3_LEN];
	char text[32];   /* "%lld", or "%.17g" of a double (at most 24 bytes) */
	int integer = json_is_integer(v);
	long long n = 0;
	double d = 0;
	gv_err err;

	/* Integers stay integers, so the bound is taken whole (it is > 0, so the conversion
	 * is floor); under a bound below 1 they could not move at all. */
	if (integer && r->bound < 1)
		return GV_ERR_INVALID;
	if (integer)
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
	else
		snprintf(text, sizeof(text), "%.17g", json_real_value(v));
	err = hmac_get(c);
	if (err == GV_OK)
		err = method_noise_seed(c->hmac, r->target, text, strlen(text), seed);
	if (err == GV_OK)
		err = integer ? method_noise_integer(json_integer_value(v), (long long)r->bound, seed, &n)
			      : method_noise_real(json_real_value(v), r->bound, seed, &d);
	util_wipe(seed, sizeof(seed));
	if (err == GV_OK)
		*nv = integer ? json_integer(n) : json_real(d);
	return err;
}

/* The new value of a number under r, as string_apply. */
static gv_err number_apply(struct apply_ctx *c, const struct mask_rule *r, const json_t *v,
			   json_t **nv)
{
	struct gv_buf out;
	char dec[24];
	gv_err err = GV_ERR_INVALID;

	*nv = NULL;
	buf_init(&out, 64);
	if (r->method == MM_NOISE) {
		err = noise_apply(c, r, v, nv);
	} else if (r->method == MM_PSEUDONYM && json_is_integer(v)) {
		snprintf(dec, sizeof(dec), "%lld", (long long)json_integer_value(v));
		if ((err = pseudonym_append(c, r, dec, strlen(dec), &out)) == GV_OK)
			*nv = json_stringn(out.data, out.len);
	} else if (r->method == MM_GENERALISE && r->gen == MG_NUMBER) {
		err = json_is_integer(v) ? method_generalise_integer(json_integer_value(v), r->step, &out)
					 : method_generalise_real(json_real_value(v), r->step, &out);
		if (err == GV_OK)
			*nv = json_stringn(out.data, out.len);
	}
	if (err == GV_OK && !*nv)
		err = GV_ERR_NOMEM;
	else if (err == GV_ERR_INVALID)
		err = GV_OK;
	buf_release(&out);
	return err;
}

static void report_add(struct mask_report *rep, const char *field, const char *method,
		       unsigned found, int failed)
{
	if (!rep || rep->nfields >= MASK_REPORT_MAX)
		return;
	copy_cut(rep->fields[rep->nfields].field, sizeof(rep->fields[0].field), field);
	copy_cut(rep->fields[rep->nfields].method, sizeof(rep->fields[0].method), method);
	rep->fields[rep->nfields].pii_found = found;
	rep->fields[rep->nfields].fail_closed = failed ? 1u : 0u;
	rep->nfields++;
}

static enum plan field_plan(const struct mask_profile *p, const char *name,
			    const struct mask_field *fields, size_t nfields,
			    const struct mask_rule **rule)
{
	const struct mask_field *f = NULL;
	int kind;

	*rule = NULL;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].is_field && strcmp(p->rules[i].target, name) == 0) {
			*rule = &p->rules[i];
			return PLAN_RULE;
		}
	for (size_t i = 0; i < nfields && !f; i++)
		if (fields[i].name && strcmp(fields[i].name, name) == 0)
			f = &fields[i];
	if (!f)
		return PLAN_UNKNOWN;
	kind = kind_parse(f->kind ? f->kind : "none");
	if (kind < 0)
		return PLAN_UNKNOWN;
	if (p->kind_rule[kind] >= 0) {
		*rule = &p->rules[p->kind_rule[kind]];
		return PLAN_RULE;
	}
	if (kind == MK_FREE_TEXT)
		return p->free_text == FT_SCAN ? PLAN_SCAN : p->free_text == FT_KEEP ? PLAN_KEEP
										 : PLAN_REDACT;
	return p->default_redact ? PLAN_REDACT : PLAN_KEEP;
}

/* Masks one value: *nv (new reference) replaces it, NULL leaves it. */
static gv_err field_apply(struct apply_ctx *c, const char *name, const json_t *v,
			  const struct mask_field *fields, size_t nfields, json_t **nv,
			  struct mask_report *rep)
{
	const struct mask_rule *r;
	enum plan plan = field_plan(c->p, name, fields, nfields, &r);
	const char *method = plan == PLAN_RULE ? method_names[r->method] :
			     plan == PLAN_SCAN ? "scan" : "redact";
	unsigned found = 0;
	gv_err err = GV_OK;

	*nv = NULL;
	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	    plan == PLAN_KEEP || (plan == PLAN_RULE && r->method == MM_KEEP))
		return GV_OK;
	if (plan == PLAN_REDACT || plan == PLAN_UNKNOWN || (plan == PLAN_RULE && r->method == MM_REDACT))
		*nv = json_null();
	else if (plan == PLAN_RULE && r->method == MM_REPLACE)
		*nv = json_stringn(r->value, r->value_len);
	else if (json_is_string(v))
		err = string_apply(c, plan, r, v, nv, &found);
	else if (json_is_number(v) && plan == PLAN_RULE)
		err = number_apply(c, r, v, nv);
	if (err != GV_OK)
		return err;
	if (*nv) {
		report_add(rep, name, method, found, plan == PLAN_UNKNOWN);
		return GV_OK;
	}
	if (plan == PLAN_RULE && r->method == MM_REPLACE)
		return GV_ERR_NOMEM;
	/* The method did not apply to this value: fail closed. */
	*nv = json_null();
	report_add(rep, name, method, found, 1);
	return GV_OK;
}

#ifdef GV_FAULT_INJECTION
/* Test builds only: GOVVAULT_FAULT_MASK_FAIL_AFTER=n makes mask_apply fail with
 * GV_ERR_NOMEM after masking n fields, to show that a failure part-way leaves no clear
 * value behind. */
static gv_err fault_after(size_t done)
{
	const char *v = getenv("GOVVAULT_FAULT_MASK_FAIL_AFTER");

	return v && *v && done >= strtoul(v, NULL, 10) ? GV_ERR_NOMEM : GV_OK;
}
#else
static gv_err fault_after(size_t done)
{
	(void)done;
	return GV_OK;
}
#endif

gv_err mask_apply(const struct mask_profile *p, const struct mask_field *fields, size_t nfields,
		  const unsigned char key[MASK_KEY_LEN], json_t *data, struct mask_report *rep)
{
	struct apply_ctx c = {.p = p, .key = key};
	const char *name;
	json_t *v, *nv;
	size_t done = 0;
	gv_err err = GV_OK;

	if (rep)
		memset(rep, 0, sizeof(*rep));
	if (!p || !key || !json_is_object(data) || (nfields && !fields))
		return GV_ERR_INVALID;
	if (json_object_size(data) > MASK_REPORT_MAX)
		return GV_ERR_TOO_LARGE;
	json_object_foreach(data, name, v) {
		if ((err = fault_after(done)) != GV_OK ||
		    (err = field_apply(&c, name, v, fields, nfields, &nv, rep)) != GV_OK)
			break;
		if (nv && json_object_iter_set_new(data, json_object_key_to_iter(name), nv) != 0) {
			err = GV_ERR_NOMEM;
			break;
		}
		done++;
	}
	if (err != GV_OK) {
		/* Whatever was not masked yet must not leave: null everything. */
		json_object_foreach(data, name, v)
			(void)json_object_iter_set_new(data, json_object_key_to_iter(name), json_null());
		if (rep)
			memset(rep, 0, sizeof(*rep));
	}
	crypto_hmac_free(c.hmac);
	return err;
}

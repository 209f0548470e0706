/* params.c - service parameter specs and the check of a call's arguments.
 *
 * Patterns are PCRE2, compiled once when the spec is parsed, anchored at both ends
 * and bounded by a match limit, so that a pattern an administrator wrote cannot turn
 * a call into a catastrophic backtrack. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "share/params.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PARAM_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

void params_spec_free(struct params_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		pcre2_code_free(s->p[i].re);
	pcre2_match_context_free(s->mctx);
	free(s);
}

static gv_err compile_pattern(struct param_spec *p, char *why, size_t whylen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)p->pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
				       PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_BACKSLASH_C,
				       &code, &off, NULL);

	if (!re) {
		char msg[120];

		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(why, whylen, "parameter '%s': pattern does not compile at offset %zu: %s",
			 p->name, (size_t)off, msg);
		return GV_ERR_INVALID;
	}
	/* JIT is a speed-up only; without it (no JIT on this CPU) matching still works. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	p->re = re;
	return GV_OK;
}

static gv_err parse_one(const json_t *o, size_t i, struct param_spec *p, char *why, size_t whylen)
{
	static const char *const keys[] = {"name", "field", "type", "required", "max_length",
					   "pattern", NULL};
	const char *key;
	json_t *v;
	const json_t *name = json_object_get(o, "name"), *field = json_object_get(o, "field"),
		     *type = json_object_get(o, "type"), *req = json_object_get(o, "required"),
		     *maxlen = json_object_get(o, "max_length"), *pat = json_object_get(o, "pattern");

	if (!json_is_object(o)) {
		snprintf(why, whylen, "params[%zu] must be an object", i);
		return GV_ERR_INVALID;
	}
	json_object_foreach((json_t *)o, key, v) {
		size_t k = 0;

		while (keys[k] && strcmp(keys[k], key) != 0)
			k++;
		if (!keys[k]) {
			snprintf(why, whylen, "params[%zu]: unknown key '%s'", i,
				 name_ok(key) ? key : "(not a key name)");
			return GV_ERR_INVALID;
		}
	}
	if (!json_is_string(name) || !name_ok(json_string_value(name))) {
		snprintf(why, whylen, "params[%zu]: name must be 1-32 of a-z, 0-9, _ starting with "
			 "a letter", i);
		return GV_ERR_INVALID;
	}
	snprintf(p->name, sizeof(p->name), "%s", json_string_value(name));
	if (field && (!json_is_string(field) || json_string_length(field) == 0 ||
		      json_string_length(field) >= sizeof(p->field) ||
		      strlen(json_string_value(field)) != json_string_length(field) ||
		      !util_utf8_printable(json_string_value(field)))) {
		snprintf(why, whylen, "parameter '%s': field must be a field name", p->name);
		return GV_ERR_INVALID;
	}
	snprintf(p->field, sizeof(p->field), "%s", field ? json_string_value(field) : p->name);
	p->type = PARAM_STRING;
	if (type) {
		const char *t = json_is_string(type) ? json_string_value(type) : "";

		if (strcmp(t, "integer") == 0)
			p->type = PARAM_INTEGER;
		else if (strcmp(t, "string") != 0) {
			snprintf(why, whylen, "parameter '%s': type must be string or integer", p->name);
			return GV_ERR_INVALID;
		}
	}
	if (req && !json_is_boolean(req)) {
		snprintf(why, whylen, "parameter '%s': required must be true or false", p->name);
		return GV_ERR_INVALID;
	}
	p->required = json_is_true(req);
	p->max_length = 64;
	if (maxlen) {
		if (!json_is_integer(maxlen) || json_integer_value(maxlen) < 1 ||
		    json_integer_value(maxlen) > PARAM_VALUE_MAX) {
			snprintf(why, whylen, "parameter '%s': max_length must be 1-%d", p->name,
				 PARAM_VALUE_MAX);
			return GV_ERR_INVALID;
		}
		p->max_length = (size_t)json_integer_value(maxlen);
	}
	if (p->type == PARAM_INTEGER && p->max_length > 19)
		p->max_length = 19;   /* the digits of an int64 and a sign */
	if (pat) {
		if (!json_is_string(pat) || json_string_length(pat) == 0 ||
		    json_string_length(pat) > PARAM_PATTERN_MAX ||
		    strlen(json_string_value(pat)) != json_string_length(pat) ||
		    !util_utf8_printable(json_string_value(pat))) {
			snprintf(why, whylen, "parameter '%s': pattern must be 1-%d printable bytes",
				 p->name, PARAM_PATTERN_MAX);
			return GV_ERR_INVALID;
		}
		snprintf(p->pattern, sizeof(p->pattern), "%s", json_string_value(pat));
		return compile_pattern(p, why, whylen);
	}
	return GV_OK;
}

gv_err params_spec_parse(const json_t *arr, struct params_spec **out, char *why, size_t whylen)
{
	struct params_spec *s = NULL;
	gv_err err = GV_OK;

	*out = NULL;
	why[0] = '\0';
	if (!json_is_array(arr) || json_array_size(arr) > PARAMS_MAX) {
		snprintf(why, whylen, "params must be an array of at most %d parameters", PARAMS_MAX);
		return GV_ERR_INVALID;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->mctx = pcre2_match_context_create(NULL);
	if (!s || !s->mctx) {
		params_spec_free(s);
		return GV_ERR_NOMEM;
	}
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, DEPTH_LIMIT);
	for (size_t i = 0; err == GV_OK && i < json_array_size(arr); i++) {
		err = parse_one(json_array_get(arr, i), i, &s->p[i], why, whylen);
		if (err == GV_OK || s->p[i].re)
			s->n = i + 1;   /* owns what it compiled, for the free below */
		for (size_t j = 0; err == GV_OK && j < i; j++)
			if (strcmp(s->p[j].name, s->p[i].name) == 0) {
				snprintf(why, whylen, "parameter '%s' is declared twice", s->p[i].name);
				err = GV_ERR_INVALID;
			}
	}
	if (err != GV_OK) {
		params_spec_free(s);
		return err;
	}
	*out = s;
	return GV_OK;
}

json_t *params_spec_json(const struct params_spec *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->n; i++) {
		const struct param_spec *p = &s->p[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:I}", "name", p->name, "field", p->field,
				      "type", p->type == PARAM_INTEGER ? "integer" : "string",
				      "required", p->required, "max_length", (json_int_t)p->max_length);

		if (o && p->pattern[0])
			json_object_set_new(o, "pattern", json_string(p->pattern));
		if (!o || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int integer_ok(const char *v, size_t len)
{
	size_t i = v[0] == '-' ? 1 : 0;

	if (len <= i || len - i > 18)   /* fits an int64 without overflow checks */
		return 0;
	for (; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

static int pattern_ok(const struct params_spec *s, const struct param_spec *p, const char *v,
		      size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = md ? pcre2_match(p->re, (PCRE2_SPTR)v, len, 0, 0, md, s->mctx) : -1;

	pcre2_match_data_free(md);
	return rc >= 0;   /* no match, a limit hit or an error all refuse */
}

gv_err params_check(const struct params_spec *s, const struct params_arg *args, size_t n,
		    struct params_call *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	for (size_t a = 0; a < n; a++) {
		const char *name = args[a].name ? args[a].name : "";
		const char *v = args[a].value ? args[a].value : "";
		size_t len = args[a].value ? args[a].len : 0;
		const struct param_spec *p = NULL;
		size_t i;

		for (i = 0; i < s->n; i++)
			if (strcmp(s->p[i].name, name) == 0) {
				p = &s->p[i];
				break;
			}
		if (!p) {
			snprintf(why, whylen, "unknown parameter '%.32s'",
				 name_ok(name) ? name : "(not a parameter name)");
			return GV_ERR_INVALID;
		}
		if (out->vals[i]) {
			snprintf(why, whylen, "parameter '%s' is given twice", p->name);
			return GV_ERR_INVALID;
		}
		if (len == 0) {
			snprintf(why, whylen, "parameter '%s' is empty", p->name);
			return GV_ERR_INVALID;
		}
		if (len > p->max_length) {
			snprintf(why, whylen, "parameter '%s' is longer than %zu bytes", p->name,
				 p->max_length);
			return GV_ERR_INVALID;
		}
		/* The value must be text and end where its length says: no NUL inside. */
		if (memchr(v, '\0', len) || v[len] != '\0' || !util_utf8_printable(v)) {
			snprintf(why, whylen, "parameter '%s' is not printable UTF-8 text", p->name);
			return GV_ERR_INVALID;
		}
		if (p->type == PARAM_INTEGER && !integer_ok(v, len)) {
			snprintf(why, whylen, "parameter '%s' must be an integer", p->name);
			return GV_ERR_INVALID;
		}
		if (p->re && !pattern_ok(s, p, v, len)) {
			snprintf(why, whylen, "parameter '%s' does not match its pattern", p->name);
			return GV_ERR_INVALID;
		}
		out->vals[i] = v;
		out->lens[i] = len;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].required && !out->vals[i]) {
			snprintf(why, whylen, "parameter '%s' is required", s->p[i].name);
			return GV_ERR_INVALID;
		}
	return GV_OK;
}

/* params.h - the query parameters a data service accepts, and the check of a call's
 * arguments against them.
 *
 * A service declares each parameter it takes: its name, the dataset field it must
 * equal, its type, whether it is mandatory, a length limit and optionally a pattern
 * (PCRE2, matched whole).  A call whose arguments include an unknown name, a repeated
 * one, a missing mandatory one, a wrong type, an over-long value or one outside the
 * pattern is refused here, before anything touches storage.  Pure functions over
 * text: the fuzz target fuzz_service_params drives both the spec parser and the
 * check. */
#ifndef GV_SHARE_PARAMS_H
#define GV_SHARE_PARAMS_H

#include <stddef.h>
#include <jansson.h>

#include "common/error.h"

#define PARAMS_MAX 8            /* parameters per service */
#define PARAM_NAME_MAX 32
#define PARAM_VALUE_MAX 256     /* the longest max_length a spec may give */
#define PARAM_PATTERN_MAX 256

enum param_type { PARAM_STRING, PARAM_INTEGER };

struct param_spec {
	char name[PARAM_NAME_MAX + 1];
	char field[64];             /* the dataset field the value must equal */
	int type;                   /* enum param_type */
	int required;
	size_t max_length;          /* bytes */
	char pattern[PARAM_PATTERN_MAX + 1];   /* "" = none */
	void *re;                   /* the compiled pattern (pcre2_code), or NULL */
};

struct params_spec {
	struct param_spec p[PARAMS_MAX];
	size_t n;
	void *mctx;                 /* the match limits (pcre2_match_context) */
};

/* Parses a JSON array of {"name", "field"?, "type"?, "required"?, "max_length"?,
 * "pattern"?} (field defaults to name, type to string, max_length to 64).  *out is
 * freed with params_spec_free.  why names the entry at fault. */
gv_err params_spec_parse(const json_t *arr, struct params_spec **out, char *why,
			 size_t whylen) GV_MUST_CHECK;
void params_spec_free(struct params_spec *s);
/* The spec in its canonical JSON form (new reference). */
json_t *params_spec_json(const struct params_spec *s);

/* One argument of a call as received (value may hold any bytes). */
struct params_arg {
	const char *name;
	const char *value;
	size_t len;
};

/* The accepted arguments: vals[i]/lens[i] for spec parameter i, NULL when absent. */
struct params_call {
	const char *vals[PARAMS_MAX];
	size_t lens[PARAMS_MAX];
};

/* Checks n arguments against s.  GV_ERR_INVALID with a message in why (which names
 * the parameter, never its value) on the first fault. */
gv_err params_check(const struct params_spec *s, const struct params_arg *args, size_t n,
		    struct params_call *out, char *why, size_t whylen) GV_MUST_CHECK;

#endif

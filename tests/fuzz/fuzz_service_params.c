/* fuzz_service_params.c - the parameter checks of data services (share/params.h).
 *
 * Input: a spec (JSON, up to the first newline) and a query string after it; or, when
 * the first byte is '#', a fixed spec with a pattern, an integer and a required key,
 * and the rest as the query.  A spec the parser refuses must leave nothing and give a
 * printable message.  A query is split on '&' and '=' and percent-decoded as a server
 * would, then checked.  An accepted call must have every required parameter, values
 * within their length, integers made of digits, no NUL; a refusal must give a
 * printable message that never repeats a value.  Any violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "share/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char fixed_spec[] =
	"[{\"name\":\"id_no\",\"required\":true,\"max_length\":18,\"pattern\":\"[0-9]{17}[0-9X]\"},"
	"{\"name\":\"age\",\"type\":\"integer\"},{\"name\":\"district\",\"max_length\":16},"
	"{\"name\":\"plate\",\"pattern\":\"(\\\\p{Han}|[A-Z]){1,2}[A-Z0-9]{5,6}\"}]";

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, s+n) into out (NUL-terminated); the length decoded. */
static size_t decode(const char *s, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[k++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[k] = '\0';
	return k;
}

static int name_like(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
			return 0;
	return 1;
}

static void check_query(const struct params_spec *s, const char *q, size_t qlen)
{
	struct params_arg args[16];
	struct params_call call;
	char *buf = malloc(2 * qlen + 32), *p = buf, why[256];
	size_t n = 0;
	gv_err err;

	if (!buf)
		return;
	for (size_t i = 0; i <= qlen && n < 16;) {
		size_t end = i, eq;

		while (end < qlen && q[end] != '&')
			end++;
		for (eq = i; eq < end && q[eq] != '='; eq++)
			;
		args[n].name = p;
		p += decode(q + i, eq - i, p) + 1;
		args[n].value = p;
		args[n].len = eq < end ? decode(q + eq + 1, end - eq - 1, p) : 0;
		p += args[n].len + 1;
		n++;
		i = end + 1;
	}
	err = params_check(s, args, n, &call, why, sizeof(why));
	if (err == GV_OK) {
		for (size_t i = 0; i < s->n; i++) {
			const struct param_spec *ps = &s->p[i];

			CHECK(!ps->required || call.vals[i]);
			if (!call.vals[i])
				continue;
			CHECK(call.lens[i] > 0 && call.lens[i] <= ps->max_length);
			CHECK(!memchr(call.vals[i], 0, call.lens[i]));
			CHECK(util_utf8_printable(call.vals[i]));
			if (ps->type == PARAM_INTEGER)
				for (size_t k = call.vals[i][0] == '-'; k < call.lens[i]; k++)
					CHECK(call.vals[i][k] >= '0' && call.vals[i][k] <= '9');
		}
	} else {
		CHECK(err == GV_ERR_INVALID && why[0] && util_utf8_printable(why));
		for (size_t i = 0; i < n; i++)
			if (args[i].len >= 8 && !name_like(args[i].value, args[i].len) &&
			    !memchr(args[i].value, 0, args[i].len))
				CHECK(!strstr(why, args[i].value));
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl;
	struct params_spec *s = (struct params_spec *)1;
	char why[256];
	json_t *j;
	gv_err err;

	if (size > 4096)
		return 0;
	if (size && in[0] == '#') {
		j = json_loads(fixed_spec, 0, NULL);
		CHECK(j && params_spec_parse(j, &s, why, sizeof(why)) == GV_OK);
		json_decref(j);
		check_query(s, in + 1, size - 1);
		params_spec_free(s);
		return 0;
	}
	nl = memchr(in, '\n', size);
	j = json_loadb(in, nl ? (size_t)(nl - in) : size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	err = params_spec_parse(j, &s, why, sizeof(why));
	json_decref(j);
	if (err != GV_OK) {
		CHECK(err == GV_ERR_INVALID && s == NULL && why[0] && util_utf8_printable(why));
		return 0;
	}
	CHECK(s && s->n <= PARAMS_MAX);
	j = params_spec_json(s);
	CHECK(j && json_array_size(j) == s->n);
	json_decref(j);
	if (nl)
		check_query(s, nl + 1, size - (size_t)(nl - in) - 1);
	params_spec_free(s);
	return 0;
}

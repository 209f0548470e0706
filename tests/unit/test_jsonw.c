/* test_jsonw.c - the JSON writer of record bodies.
 *
 * Strings are written 8 bytes at a time where nothing needs an escape; the output must
 * equal that of a plain byte-by-byte escaper for every byte that needs one, at every
 * offset of the 8-byte window, and read back through jansson to the same string.  A
 * missed escape would let a value close its string and add keys to a record body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "data/jsonw.h"

/* The reference: one byte at a time. */
static void reference(const char *s, size_t len, struct gv_buf *out)
{
	static const char hex[] = "0123456789abcdef";

	assert_int_equal(buf_append(out, "\"", 1), GV_OK);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		const char *w = esc;
		size_t n = 6;

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			n = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			n = 2;
		} else if (c >= 0x20) {
			w = (const char *)&s[i];
			n = 1;
		}
		assert_int_equal(buf_append(out, w, n), GV_OK);
	}
	assert_int_equal(buf_append(out, "\"", 1), GV_OK);
}

static void check_string(const char *s, size_t len)
{
	struct gv_buf got, want;

	buf_init(&got, 1 << 20);
	buf_init(&want, 1 << 20);
	assert_int_equal(jsonw_append_string(&got, s, len), GV_OK);
	reference(s, len, &want);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	buf_release(&got);
	buf_release(&want);
}

/* Every byte that needs an escape, alone in runs of plain ASCII and of multi-byte
 * UTF-8, at every position of two 16-byte windows and an 8-byte one. */
static void test_every_escape_at_every_offset(void **state)
{
	static const char *const fill[] = {"a", "\xe7\x8e\x8b"};   /* 'a', and U+738B */
	char s[64];

	(void)state;
	for (int c = 0; c < 0x80; c++) {
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		for (size_t f = 0; f < 2; f++)
			for (size_t len = 1; len <= 44; len++)
				for (size_t at = 0; at < len; at++) {
					size_t n = 0;

					while (n < len)
						for (const char *p = fill[f]; *p && n < len; p++)
							s[n++] = *p;
					s[at] = (char)c;
					check_string(s, len);
				}
	}
}

/* Random strings of ASCII, with escapes now and then, read back by jansson. */
static void test_random_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char s[200];

	(void)state;
	for (int t = 0; t < 20000; t++) {
		size_t len = (size_t)(x % sizeof(s));
		struct gv_buf out;
		json_t *v;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (x % 8 == 0)
				s[i] = (char)(x % 0x20);
			else if (x % 4 == 0)
				s[i] = "\"\\"[x % 2];
			else
				s[i] = (char)(0x20 + x % 0x5f);
			if (s[i] == 0)
				s[i] = 1;   /* jansson's reader refuses \u0000 by default */
		}
		check_string(s, len);
		buf_init(&out, 1 << 20);
		assert_int_equal(jsonw_append_string(&out, s, len), GV_OK);
		v = json_loadb(out.data, out.len, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		assert_int_equal(json_string_length(v), len);
		assert_memory_equal(json_string_value(v), s, len);
		json_decref(v);
		buf_release(&out);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	}
}

/* Members written one by one into two objects: commas only between members, each
 * value as jsonw_append writes it, in the order given. */
static void test_members(void **state)
{
	json_t *o = json_loads("{\"a\":1,\"b\":\"secret\",\"c\":[true,null,\"x\\\"y\"]}", 0, NULL);
	struct gv_buf one, two;

	(void)state;
	assert_non_null(o);
	buf_init(&one, 4096);
	buf_init(&two, 4096);
	assert_int_equal(buf_append(&one, "{", 1), GV_OK);
	assert_int_equal(buf_append(&two, "{", 1), GV_OK);
	assert_int_equal(jsonw_append_member(&one, "a", json_object_get(o, "a"), 1), GV_OK);
	assert_int_equal(jsonw_append_member(&two, "b", json_object_get(o, "b"), 1), GV_OK);
	assert_int_equal(jsonw_append_member(&one, "c", json_object_get(o, "c"), 0), GV_OK);
	assert_int_equal(jsonw_append_member(&one, "q\"k", json_null(), 0), GV_OK);
	assert_int_equal(buf_append(&one, "}", 1), GV_OK);
	assert_int_equal(buf_append(&two, "}", 1), GV_OK);
	assert_string_equal(one.data, "{\"a\":1,\"c\":[true,null,\"x\\\"y\"],\"q\\\"k\":null}");
	assert_string_equal(two.data, "{\"b\":\"secret\"}");
	buf_release(&one);
	buf_release(&two);
	json_decref(o);
}

/* Integers are written by hand (util_fmt_i64): the same text as jansson's, at the ends
 * of the range too. */
static void test_integers(void **state)
{
	static const json_int_t values[] = {0, 7, -1, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN,
					    INT64_MIN + 1, INT64_MAX - 1};
	struct gv_buf out;

	(void)state;
	buf_init(&out, 4096);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_t *v = json_integer(values[i]);
		char *want = json_dumps(v, JSON_ENCODE_ANY);

		out.len = 0;
		assert_int_equal(jsonw_append(&out, v), GV_OK);
		assert_int_equal(buf_append(&out, "", 1), GV_OK);
		assert_string_equal(out.data, want);
		free(want);
		json_decref(v);
	}
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_escape_at_every_offset),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_integers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

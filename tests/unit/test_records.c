/* test_records.c - a record version's stored body read back: every kind of value
 * sealed and opened through the reader that skips jansson's parser, bodies in any
 * other JSON form through jansson, grade-2 bodies of the earlier format (F), and
 * bodies that must not open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "crypto/datakey.h"
#include "data/catalog.h"
#include "data/records.h"
#include "testapp.h"

static struct testapp t;

#define SPLIT_HEAD 5   /* an S body's format byte and the u32le length of its clear part */

/* s and m sealed (their kinds are personal data), the rest stored as they are. */
static const char schema[] =
	"{\"fields\":[{\"name\":\"s\",\"type\":\"string\",\"kind\":\"name\"},"
	"{\"name\":\"m\",\"type\":\"string\",\"kind\":\"mobile\",\"indexed\":true},"
	"{\"name\":\"t\",\"type\":\"string\"},{\"name\":\"i\",\"type\":\"integer\"},"
	"{\"name\":\"n\",\"type\":\"number\"},{\"name\":\"b\",\"type\":\"boolean\"},"
	"{\"name\":\"d\",\"type\":\"date\"}]}";

static int setup(void **state)
{
	(void)state;
	return testapp_open(&t, "/tmp/gvrecordsXXXXXX", schema) == GV_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	testapp_close(&t);
	return 0;
}

static struct records_ds *open_ds(void)
{
	struct records_ds *ds = testapp_people(&t);

	assert_non_null(ds);
	return ds;
}

static json_t *read_body(struct records_ds *ds, const void *body, size_t len, gv_err *err)
{
	json_t *data;

	*err = testapp_read_body(ds, body, len, &data);
	return data;
}

/* Seals data as version 1 of "r1" into body. */
static void seal(struct records_ds *ds, const char *text, struct gv_buf *body)
{
	struct store_index_entry idx[CATALOG_MAX_FIELDS];
	char tokens[CATALOG_MAX_FIELDS][65];
	size_t nidx = 0;
	json_t *data = json_loads(text, 0, NULL);

	assert_non_null(data);
	buf_init(body, 1 << 20);
	assert_int_equal(records_seal(ds, "r1", 1, data, body, idx, tokens, &nidx), GV_OK);
	json_decref(data);
}

/* Seals data as version 1 of "r1" and reads it back. */
static void round_trip(struct records_ds *ds, const char *text)
{
	struct gv_buf body;
	json_t *data = json_loads(text, 0, NULL), *back;
	gv_err err;

	assert_non_null(data);
	seal(ds, text, &body);
	assert_int_equal(body.data[0], 'S');
	/* The clear part holds no sensitive value (a null stays there); the sealed part
	 * follows it. */
	assert_true(body.len >= SPLIT_HEAD + util_get_le((unsigned char *)body.data + 1, 4) +
				CRYPTO_SEAL_OVERHEAD);
	if (json_is_string(json_object_get(data, "s")))
		assert_null(memmem(body.data, body.len, "\"s\":", 4));
	if (json_is_string(json_object_get(data, "m")))
		assert_null(memmem(body.data, body.len, "\"m\":", 4));
	back = read_body(ds, body.data, body.len, &err);
	assert_int_equal(err, GV_OK);
	assert_non_null(back);
	if (!json_equal(back, data)) {
		char a[1024], *d = json_dumps(back, JSON_SORT_KEYS);

		snprintf(a, sizeof(a), "%s", d ? d : "?");
		free(d);
		fail_msg("read back %s for %s", a, text);
	}
	json_decref(back);
	json_decref(data);
	buf_release(&body);
}

static void test_values_round_trip(void **state)
{
	struct records_ds *ds = open_ds();

	(void)state;
	round_trip(ds, "{}");
	round_trip(ds, "{\"s\":\"王伟\",\"m\":\"13800138000\",\"t\":\"plain\",\"i\":42,\"n\":1.5,"
		       "\"b\":true,\"d\":\"2024-02-29\"}");
	/* Escapes in sealed and clear values, and the writer's \u escapes. */
	round_trip(ds, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"t\":\"x\\\"y\\/z\\t\",\"m\":\"\\u00e9\"}");
	/* Integers at the edges of the fast path, and beyond it. */
	round_trip(ds, "{\"i\":0,\"n\":-0.25,\"s\":\"\"}");
	round_trip(ds, "{\"i\":-1,\"t\":\"\",\"b\":false}");
	round_trip(ds, "{\"i\":999999999999999999}");
	round_trip(ds, "{\"i\":-999999999999999999}");
	round_trip(ds, "{\"i\":9223372036854775807}");
	round_trip(ds, "{\"i\":-9223372036854775807}");
	round_trip(ds, "{\"n\":1e300,\"i\":7}");
	/* Null values are stored as they are, sensitive or not. */
	round_trip(ds, "{\"s\":null,\"m\":null,\"t\":null}");
	records_close(ds);
}

/* Bodies in other JSON forms than the writer's are read through jansson alike. */
static void test_other_forms(void **state)
{
	struct records_ds *ds = open_ds();
	static const char spaced[] = "P{ \"a\" : 1 , \"b\" : \"x\" ,\"c\":[1,2],\"d\":{\"e\":null} }";
	static const char sealed_lookalike[] = "P{\"a\":{\"$sm4\":\"00\"}}";
	json_t *data;
	gv_err err;

	(void)state;
	data = read_body(ds, spaced, sizeof(spaced) - 1, &err);
	assert_int_equal(err, GV_OK);
	assert_int_equal(json_integer_value(json_object_get(data, "a")), 1);
	assert_string_equal(json_string_value(json_object_get(data, "b")), "x");
	assert_int_equal(json_array_size(json_object_get(data, "c")), 2);
	assert_true(json_is_null(json_object_get(json_object_get(data, "d"), "e")));
	json_decref(data);
	/* Only a grade-2 body holds sealed values: in a clear body it is plain data. */
	data = read_body(ds, sealed_lookalike, sizeof(sealed_lookalike) - 1, &err);
	assert_int_equal(err, GV_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(data, "a"), "$sm4")),
			    "00");
	json_decref(data);
	records_close(ds);
}

static void expect_refused(struct records_ds *ds, const char *body, size_t len)
{
	gv_err err;
	json_t *data = read_body(ds, body, len, &err);

	if (data)
		fail_msg("opened: %.*s", (int)len, body);
	assert_int_equal(err, GV_ERR_STORE);
}

static void test_refused(void **state)
{
	struct records_ds *ds = open_ds();
	struct gv_buf body;
	size_t n;

	(void)state;
	expect_refused(ds, "P{\"a\":01}", 9);
	expect_refused(ds, "P{\"a\":1", 7);
	expect_refused(ds, "P{\"a\":1,}", 9);
	expect_refused(ds, "P{\"a\":\"x}", 9);
	expect_refused(ds, "P[1]", 4);
	expect_refused(ds, "P", 1);
	expect_refused(ds, "P{\"a\":\"\xff\"}", 10);   /* not UTF-8 */
	expect_refused(ds, "X{}", 3);                  /* no such format */
	expect_refused(ds, "S", 1);
	expect_refused(ds, "S\x02\0\0\0{}", 7);      /* nothing sealed */
	seal(ds, "{\"s\":\"王伟\",\"t\":\"x\"}", &body);
	n = (size_t)util_get_le((unsigned char *)body.data + 1, 4);
	/* A flipped byte of the sealed part, a cut one, and a clear part that claims
	 * more or fewer bytes than it has. */
	body.data[body.len - 1] ^= 1;
	expect_refused(ds, body.data, body.len);
	body.data[body.len - 1] ^= 1;
	expect_refused(ds, body.data, body.len - 1);
	util_put_le((unsigned char *)body.data + 1, n + 1, 4);
	expect_refused(ds, body.data, body.len);
	util_put_le((unsigned char *)body.data + 1, body.len, 4);
	expect_refused(ds, body.data, body.len);
	util_put_le((unsigned char *)body.data + 1, n - 1, 4);
	expect_refused(ds, body.data, body.len);
	buf_release(&body);
	records_close(ds);
}

/* An S body with its clear part replaced by clear (its sealed part kept). */
static void forge_clear(const struct gv_buf *body, const char *clear, struct gv_buf *out)
{
	size_t n = (size_t)util_get_le((unsigned char *)body->data + 1, 4);

	buf_init(out, 1 << 20);
	assert_int_equal(buf_append(out, "S\0\0\0\0", 5), GV_OK);
	util_put_le((unsigned char *)out->data + 1, strlen(clear), 4);
	assert_int_equal(buf_append(out, clear, strlen(clear)), GV_OK);
	assert_int_equal(buf_append(out, body->data + SPLIT_HEAD + n, body->len - SPLIT_HEAD - n),
			 GV_OK);
}

/* The clear part is not authenticated: a clear value can be changed, but a member
 * there that gives a sensitive field a value is refused, and a null one does not
 * replace the sealed value. */
static void test_split_clear_part(void **state)
{
	struct records_ds *ds = open_ds();
	struct gv_buf body, forged;
	size_t n;
	json_t *data;
	gv_err err;

	(void)state;
	seal(ds, "{\"s\":\"王伟\",\"t\":\"x\",\"i\":7}", &body);
	n = (size_t)util_get_le((unsigned char *)body.data + 1, 4);
	assert_int_equal(n, strlen("{\"t\":\"x\",\"i\":7}"));
	assert_memory_equal(body.data + 5, "{\"t\":\"x\",\"i\":7}", n);
	assert_null(memmem(body.data, body.len, "王伟", strlen("王伟")));
	forge_clear(&body, "{\"s\":\"forged\",\"t\":\"y\"}", &forged);
	expect_refused(ds, forged.data, forged.len);
	buf_release(&forged);
	forge_clear(&body, "{\"m\":\"13800138000\"}", &forged);   /* absent from the seal */
	expect_refused(ds, forged.data, forged.len);
	buf_release(&forged);
	forge_clear(&body, "{\"s\":null,\"t\":\"y\"}", &forged);
	data = read_body(ds, forged.data, forged.len, &err);
	assert_int_equal(err, GV_OK);
	assert_string_equal(json_string_value(json_object_get(data, "s")), "王伟");
	assert_string_equal(json_string_value(json_object_get(data, "t")), "y");
	assert_null(json_object_get(data, "i"));
	json_decref(data);
	buf_release(&forged);
	buf_release(&body);
	records_close(ds);
}

/* Appends {"$sm4":"<hex>"} of value (JSON text) sealed as field of version 1 of "r1",
 * the way grade-2 bodies were written before the split format. */
static void put_sealed_field(struct records_ds *ds, struct crypto_gcm *g, const char *field,
			     const char *value, struct gv_buf *out)
{
	struct gv_buf sealed;
	char hex[512];

	buf_init(&sealed, 1024);
	assert_int_equal(datakey_seal_gcm(g, records_dataset(ds)->id, "r1", field, 1, value,
					  strlen(value), &sealed), GV_OK);
	assert_true(2 * sealed.len < sizeof(hex));
	util_hex_encode((unsigned char *)sealed.data, sealed.len, hex);
	assert_int_equal(buf_append(out, "{\"$sm4\":\"", 9), GV_OK);
	assert_int_equal(buf_append(out, hex, strlen(hex)), GV_OK);
	assert_int_equal(buf_append(out, "\"}", 2), GV_OK);
	buf_release(&sealed);
}

/* Grade-2 bodies stored in the earlier format (each sensitive value sealed alone) still
 * read, through either reader, and refuse a sealed value altered or cut. */
static void test_fields_format(void **state)
{
	struct records_ds *ds = open_ds();
	struct crypto_gcm *g;
	struct gv_buf body, split, spaced;
	json_t *data;
	gv_err err;
	char *at, hex[512];
	size_t n;

	(void)state;
	assert_int_equal(records_gcm_new(ds, &g), GV_OK);
	buf_init(&body, 1 << 20);
	assert_int_equal(buf_append(&body, "F{\"s\":", 6), GV_OK);
	put_sealed_field(ds, g, "s", "\"王伟\"", &body);
	assert_int_equal(buf_append(&body, ",\"t\":\"x\",\"m\":", 13), GV_OK);
	put_sealed_field(ds, g, "m", "\"13800138000\"", &body);
	assert_int_equal(buf_append(&body, "}", 1), GV_OK);
	data = read_body(ds, body.data, body.len, &err);
	assert_int_equal(err, GV_OK);
	assert_string_equal(json_string_value(json_object_get(data, "s")), "王伟");
	assert_string_equal(json_string_value(json_object_get(data, "m")), "13800138000");
	assert_string_equal(json_string_value(json_object_get(data, "t")), "x");
	json_decref(data);
	/* A space before the first colon sends it through jansson. */
	buf_init(&spaced, 1 << 20);
	assert_int_equal(buf_append(&spaced, body.data, 5), GV_OK);
	assert_int_equal(buf_append(&spaced, " ", 1), GV_OK);
	assert_int_equal(buf_append(&spaced, body.data + 5, body.len - 5), GV_OK);
	data = read_body(ds, spaced.data, spaced.len, &err);
	assert_int_equal(err, GV_OK);
	assert_string_equal(json_string_value(json_object_get(data, "s")), "王伟");
	assert_string_equal(json_string_value(json_object_get(data, "m")), "13800138000");
	json_decref(data);
	buf_release(&spaced);
	/* A flipped digit of the sealed value, a cut one, and one that is not hex. */
	at = memmem(body.data, body.len, "{\"$sm4\":\"", 9);
	assert_non_null(at);
	at += 9;
	*at = *at == '0' ? '1' : '0';
	expect_refused(ds, body.data, body.len);
	*at = 'g';
	expect_refused(ds, body.data, body.len);
	memmove(at, at + 1, body.len - (size_t)(at + 1 - body.data));
	expect_refused(ds, body.data, body.len - 1);
	buf_release(&body);
	/* An S body's sealed part, put into an F body under the name it was sealed with
	 * ($sensitive), and a value sealed for a field that is not sensitive, do not open. */
	seal(ds, "{\"s\":\"王伟\",\"t\":\"x\"}", &split);
	n = (size_t)util_get_le((unsigned char *)split.data + 1, 4);
	assert_true(2 * (split.len - 5 - n) < sizeof(hex));
	util_hex_encode((unsigned char *)split.data + 5 + n, split.len - 5 - n, hex);
	buf_init(&body, 1 << 20);
	assert_int_equal(buf_printf(&body, "F{\"t\":\"x\",\"$sensitive\":{\"$sm4\":\"%s\"}}", hex), GV_OK);
	expect_refused(ds, body.data, body.len);
	body.len = 0;
	assert_int_equal(buf_append(&body, "F{\"t\":", 6), GV_OK);
	put_sealed_field(ds, g, "t", "\"x\"", &body);
	assert_int_equal(buf_append(&body, "}", 1), GV_OK);
	expect_refused(ds, body.data, body.len);
	/* A sealed field whose value is an object. */
	body.len = 0;
	assert_int_equal(buf_append(&body, "F{\"s\":", 6), GV_OK);
	put_sealed_field(ds, g, "s", "{\"a\":1}", &body);
	assert_int_equal(buf_append(&body, "}", 1), GV_OK);
	expect_refused(ds, body.data, body.len);
	buf_release(&body);
	buf_release(&split);
	crypto_gcm_free(g);
	records_close(ds);
}

/* A rotation seals again only data the schema accepts: a member it does not know
 * would otherwise land in the clear part. */
static void test_rekey_checks_data(void **state)
{
	struct records_ds *ds = open_ds();
	struct store_record r;
	struct gv_buf out;
	json_t *data;
	gv_err err;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.record_id, sizeof(r.record_id), "r1");
	r.version = 1;
	r.key_version = records_key_version(ds);
	r.body = (unsigned char *)"P{\"zz\":{\"s\":\"王伟\"}}";
	r.body_len = strlen((const char *)r.body);
	buf_init(&out, 1 << 20);
	assert_int_equal(records_rekey_record(ds, &r, &out), GV_ERR_STORE);
	assert_int_equal(out.len, 0);
	r.body = (unsigned char *)"P{\"s\":\"王伟\",\"t\":\"x\"}";
	r.body_len = strlen((const char *)r.body);
	assert_int_equal(records_rekey_record(ds, &r, &out), GV_OK);
	assert_int_equal(out.data[0], 'S');
	assert_null(memmem(out.data, out.len, "王伟", strlen("王伟")));
	data = read_body(ds, out.data, out.len, &err);
	assert_int_equal(err, GV_OK);
	assert_string_equal(json_string_value(json_object_get(data, "s")), "王伟");
	json_decref(data);
	buf_release(&out);
	records_close(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_round_trip),
		cmocka_unit_test(test_other_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_split_clear_part),
		cmocka_unit_test(test_fields_format),
		cmocka_unit_test(test_rekey_checks_data),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

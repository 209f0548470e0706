/* fuzz_record_body.c - stored record bodies read back (data/records.c open_body).
 *
 * Input: 1 mode byte, then text.  Mode 0: the text as a grade-1 body; it must read as
 * exactly what jansson makes of it (the same object, or an error when jansson refuses
 * it), whichever reader took it.  Modes 1 and 3: the text as a grade-2 body of the
 * earlier format (F) and of the current one (S), whose sealed parts do not
 * authenticate: it must not crash.  Mode 2: an object jansson makes of the text that
 * the schema accepts is sealed under the dataset's key and read back: it must come
 * back equal.  Mode 4: the text as the clear part of an S body whose sealed part is
 * real (an empty object): when jansson makes an object of it that gives no sensitive
 * field a value, the read must give that object, and otherwise fail.
 * The store lives in a temporary directory made on the first input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "data/catalog.h"
#include "data/records.h"
#include "testapp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct testapp t;
static struct records_ds *ds;

static void cleanup(void)
{
	records_close(ds);
	testapp_close(&t);
}

static void setup(void)
{
	CHECK(testapp_open(&t, "/tmp/gvfuzzbodyXXXXXX",
			   "{\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"kind\":\"name\"},"
			   "{\"name\":\"b\",\"type\":\"string\",\"kind\":\"mobile\"},"
			   "{\"name\":\"c\",\"type\":\"string\"},{\"name\":\"d\",\"type\":\"integer\"},"
			   "{\"name\":\"e\",\"type\":\"number\",\"sensitive\":true},"
			   "{\"name\":\"f\",\"type\":\"boolean\"}]}") == GV_OK);
	CHECK((ds = testapp_people(&t)) != NULL);
	atexit(cleanup);
}

/* The data of body (new reference), or NULL. */
static json_t *read_body(const void *body, size_t len)
{
	json_t *out;

	if (testapp_read_body(ds, body, len, &out) != GV_OK)
		return NULL;
	CHECK(json_is_object(out));
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *body;
	json_t *got, *ref;
	char why[256];

	if (!ds)
		setup();
	if (size < 1 || size > 65536)
		return 0;
	body = malloc(size);
	CHECK(body);
	memcpy(body + 1, data + 1, size - 1);
	ref = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (data[0] % 5 == 4) {
		struct store_index_entry idx[CATALOG_MAX_FIELDS];
		char tokens[CATALOG_MAX_FIELDS][65];
		size_t nidx = 0;
		struct gv_buf empty, forged;
		json_t *none = json_object();
		int clear_ok = json_is_object(ref);

		for (int i = 0; clear_ok && i < records_schema(ds)->nfields; i++) {
			const struct catalog_field *f = &records_schema(ds)->fields[i];
			json_t *v = f->sensitive ? json_object_get(ref, f->name) : NULL;

			clear_ok = !v || json_is_null(v);
		}
		buf_init(&empty, 1 << 16);
		buf_init(&forged, (size_t)1 << 20);
		CHECK(none && records_seal(ds, "r1", 1, none, &empty, idx, tokens, &nidx) == GV_OK);
		CHECK(empty.len > 7 && empty.data[0] == 'S');
		CHECK(buf_append(&forged, "S\0\0\0\0", 5) == GV_OK);
		util_put_le((unsigned char *)forged.data + 1, size - 1, 4);
		CHECK(buf_append(&forged, data + 1, size - 1) == GV_OK);
		CHECK(buf_append(&forged, empty.data + 7, empty.len - 7) == GV_OK);   /* after "{}" */
		got = read_body(forged.data, forged.len);
		if (clear_ok)
			CHECK(got && json_equal(got, ref));
		else
			CHECK(!got);
		json_decref(got);
		json_decref(none);
		buf_release(&empty);
		buf_release(&forged);
	} else if (data[0] % 5 == 0) {
		body[0] = 'P';
		got = read_body(body, size);
		if (json_is_object(ref))
			CHECK(got && json_equal(got, ref));
		else
			CHECK(!got);
		json_decref(got);
	} else if (data[0] % 5 == 1 || data[0] % 5 == 3) {
		body[0] = data[0] % 5 == 1 ? 'F' : 'S';
		json_decref(read_body(body, size));
	} else if (json_is_object(ref) && records_check(ds, ref, why, sizeof(why)) == GV_OK) {
		struct store_index_entry idx[CATALOG_MAX_FIELDS];
		char tokens[CATALOG_MAX_FIELDS][65];
		size_t nidx = 0;
		struct gv_buf sealed;

		buf_init(&sealed, (size_t)1 << 22);
		CHECK(records_seal(ds, "r1", 1, ref, &sealed, idx, tokens, &nidx) == GV_OK);
		got = read_body(sealed.data, sealed.len);
		CHECK(got && json_equal(got, ref));
		json_decref(got);
		buf_release(&sealed);
	}
	json_decref(ref);
	free(body);
	return 0;
}

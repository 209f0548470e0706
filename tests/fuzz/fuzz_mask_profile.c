/* fuzz_mask_profile.c - the masking-rule parser (mask/mask.h), and the methods on
 * arbitrary text.
 *
 * The input is parsed as a profile; a refusal must leave no profile and a message that
 * is printable UTF-8 (it goes into API errors), and an accepted profile is applied to a
 * sample record of every kind, which must succeed and leave only scalar values.  Then
 * the input itself, when it is a valid JSON string body, is masked as every kind under
 * the grade 2 and 3 defaults, checking what each method promises: a mask keeps the
 * number of characters, an address generalises to a prefix of itself, free text under
 * grade 3 is gone.  Any violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "mask/mask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const unsigned char fuzz_key[MASK_KEY_LEN] = {7};

static const struct mask_field fuzz_fields[] = {
	{"name", "name"}, {"resident_id", "resident_id"}, {"mobile", "mobile"},
	{"email", "email"}, {"address", "address"}, {"date_of_birth", "date_of_birth"},
	{"remark", "free_text"}, {"age", "none"}, {"income", "other"}, {"flag", NULL},
};

static json_t *sample(const char *text, size_t len)
{
	json_t *s = json_stringn(text, len);
	json_t *d;

	if (!s)
		return NULL;
	d = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:i, s:f, s:b, s:O}",
		      "name", s, "resident_id", s, "mobile", s, "email", s, "address", s,
		      "date_of_birth", s, "remark", s, "age", 35, "income", 1234.5, "flag", 1,
		      "extra", s);
	json_decref(s);
	return d;
}

/* Code points of valid UTF-8. */
static size_t cp_count(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static struct mask_profile *defaults[4];

static void init_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	CHECK(crypto_init() == GV_OK);
	for (int g = 1; g <= 3; g++) {
		json_t *j = mask_profile_default(g);

		CHECK(j && mask_profile_parse(j, &defaults[g], NULL, 0) == GV_OK);
		json_decref(j);
	}
}

static void apply_checked(const struct mask_profile *p, json_t *d)
{
	struct mask_report rep;
	const char *k;
	json_t *v;

	CHECK(mask_apply(p, fuzz_fields, GV_ARRAY_LEN(fuzz_fields), fuzz_key, d, &rep) == GV_OK);
	CHECK(rep.nfields <= json_object_size(d));
	for (size_t i = 0; i < rep.nfields; i++) {
		CHECK(rep.fields[i].method[0] != '\0');
		CHECK(rep.fields[i].fail_closed <= 1);
		CHECK(json_object_get(d, rep.fields[i].field) != NULL);
	}
	json_object_foreach(d, k, v)
		CHECK(!json_is_object(v) && !json_is_array(v));
}

static void profile_case(const uint8_t *data, size_t size)
{
	static const char sample_text[] = "张三 13812345678 河南省信阳市浉河区民权路12号 1990-01-01";
	struct mask_profile *p = (struct mask_profile *)1;
	char why[256];
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *d;
	gv_err err;

	if (!j)
		return;
	err = mask_profile_parse(j, &p, why, sizeof(why));
	json_decref(j);
	if (err != GV_OK) {
		CHECK(err == GV_ERR_INVALID && p == NULL && why[0] != '\0');
		CHECK(util_utf8_printable(why));
		return;
	}
	CHECK(p && mask_profile_name(p)[0] != '\0');
	d = sample(sample_text, sizeof(sample_text) - 1);
	if (d) {
		apply_checked(p, d);
		json_decref(d);
	}
	mask_profile_free(p);
}

static void text_case(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *out;
	json_t *d;

	/* Embedded NULs make the C-string checks below meaningless, and values past 1 MiB
	 * are redacted whole; the unit tests cover both (they fail closed). */
	if (size > 65536 || memchr(data, 0, size))
		return;
	for (int g = 2; g <= 3; g++) {
		d = sample(in, size);
		if (!d)
			return;       /* not valid UTF-8 */
		apply_checked(defaults[g], d);
		/* A mask keeps the number of characters; a pseudonym has a fixed shape. */
		out = json_string_value(json_object_get(d, "name"));
		CHECK(out && cp_count(out, strlen(out)) == cp_count(in, size));
		out = json_string_value(json_object_get(d, "resident_id"));
		CHECK(out);
		if (g == 2)
			CHECK(cp_count(out, strlen(out)) == cp_count(in, size));
		else
			CHECK(size == 0 || (strlen(out) == 19 && memcmp(out, "pn_", 3) == 0));
		out = json_string_value(json_object_get(d, "address"));
		CHECK(!out || (strlen(out) <= size && memcmp(out, in, strlen(out)) == 0));
		if (g == 3)
			CHECK(json_is_null(json_object_get(d, "remark")) || size == 0);
		/* An undescribed field never leaves in clear. */
		CHECK(json_is_null(json_object_get(d, "extra")) || size == 0);
		json_decref(d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	profile_case(data, size);
	text_case(data, size);
	return 0;
}

/* test_totp.c - RFC 6238 vectors, verification window, replay refusal, enrolment URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "auth/totp.h"
#include "crypto/crypto.h"

static const unsigned char rfc_secret[] = "12345678901234567890";

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		long long t;
		const char *code;
	} v[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
		 {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"}};
	char out[9];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_generate(rfc_secret, 20, v[i].t, 8, out), GV_OK);
		assert_string_equal(out, v[i].code);
	}
	assert_int_equal(totp_generate(rfc_secret, 20, 59, 7, out), GV_ERR_INVALID);
}

static void test_verify_window_and_replay(void **state)
{
	const int64_t now = 1700000000;
	char code[7];
	int64_t step = 0;

	(void)state;
	for (int d = -1; d <= 1; d++) {
		assert_int_equal(totp_generate(rfc_secret, 20, now + d * 30, 6, code), GV_OK);
		assert_int_equal(totp_verify(rfc_secret, 20, now, code, 0, &step), GV_OK);
		assert_int_equal(step, now / 30 + d);
		/* The same step again is a replay. */
		assert_int_equal(totp_verify(rfc_secret, 20, now, code, step, &step), GV_ERR_AUTH);
	}
	assert_int_equal(totp_generate(rfc_secret, 20, now + 90, 6, code), GV_OK);
	assert_int_equal(totp_verify(rfc_secret, 20, now, code, 0, &step), GV_ERR_AUTH);
	assert_int_equal(totp_generate(rfc_secret, 20, now - 90, 6, code), GV_OK);
	assert_int_equal(totp_verify(rfc_secret, 20, now, code, 0, &step), GV_ERR_AUTH);
	assert_int_equal(totp_verify(rfc_secret, 20, now, "12a456", 0, &step), GV_ERR_AUTH);
	assert_int_equal(totp_verify(rfc_secret, 20, now, "12345", 0, &step), GV_ERR_AUTH);
}

static void test_uri_and_qr(void **state)
{
	struct gv_buf uri, svg;

	(void)state;
	buf_init(&uri, 4096);
	buf_init(&svg, 1 << 20);
	assert_int_equal(totp_uri(rfc_secret, 20, "govvault", "a b", &uri), GV_OK);
	assert_non_null(strstr(uri.data, "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
	assert_non_null(strstr(uri.data, "govvault:a%20b?"));
	assert_int_equal(totp_qr_svg(uri.data, &svg), GV_OK);
	assert_memory_equal(svg.data, "<svg", 4);
	buf_release(&uri);
	buf_release(&svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_verify_window_and_replay),
		cmocka_unit_test(test_uri_and_qr),
	};

	if (crypto_init() != GV_OK || totp_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

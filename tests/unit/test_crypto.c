/* test_crypto.c - SM3 / SM4 known answers, SM4-GCM sealing, HMAC-SM3, key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "crypto/crypto.h"

static void test_sm3_abc(void **state)
{
	unsigned char d[32];
	char hex[65];

	(void)state;
	assert_int_equal(crypto_sm3("abc", 3, d), GV_OK);
	util_hex_encode(d, 32, hex);
	assert_string_equal(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

static void test_sm4_block(void **state)
{
	unsigned char k[16], out[16];
	char hex[33];
	gcry_cipher_hd_t h;

	(void)state;
	assert_int_equal(util_hex_decode("0123456789abcdeffedcba9876543210", k, 16), GV_OK);
	assert_int_equal(gcry_cipher_open(&h, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_ECB, 0), 0);
	assert_int_equal(gcry_cipher_setkey(h, k, 16), 0);
	assert_int_equal(gcry_cipher_encrypt(h, out, 16, k, 16), 0);
	gcry_cipher_close(h);
	util_hex_encode(out, 16, hex);
	assert_string_equal(hex, "681edf34d206965e86b3e94f536e4246");
}

static void test_gcm_seal_open(void **state)
{
	unsigned char key[16] = {1, 2, 3}, sealed[64], plain[36];
	const char *msg = "twenty-byte-secret!!";

	(void)state;
	assert_int_equal(crypto_sm4gcm_seal(key, "aad", 3, msg, 20, sealed), GV_OK);
	assert_int_equal(crypto_sm4gcm_open(key, "aad", 3, sealed, 20 + CRYPTO_SEAL_OVERHEAD, plain), GV_OK);
	assert_memory_equal(plain, msg, 20);
	assert_int_equal(crypto_sm4gcm_open(key, "aae", 3, sealed, 20 + CRYPTO_SEAL_OVERHEAD, plain),
			 GV_ERR_CRYPTO);
	sealed[CRYPTO_GCM_NONCE] ^= 1;
	assert_int_equal(crypto_sm4gcm_open(key, "aad", 3, sealed, 20 + CRYPTO_SEAL_OVERHEAD, plain),
			 GV_ERR_CRYPTO);
	assert_int_equal(crypto_sm4gcm_open(key, "aad", 3, sealed, 10, plain), GV_ERR_CRYPTO);
}

static void test_hmac(void **state)
{
	char a[65], b[65], c[65];

	(void)state;
	assert_int_equal(crypto_hmac_sm3_hex("k1", 2, "text", a), GV_OK);
	assert_int_equal(crypto_hmac_sm3_hex("k1", 2, "text", b), GV_OK);
	assert_int_equal(crypto_hmac_sm3_hex("k2", 2, "text", c), GV_OK);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/gvkeyXXXXXX", path[128], cert[128], key[128];
	struct gv_keys k1, k2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/server.key", dir);
	assert_int_equal(keys_create_file(path), GV_OK);
	assert_int_equal(keys_create_file(path), GV_ERR_EXISTS);
	assert_int_equal(keys_load(path, &k1), GV_OK);
	assert_int_equal(keys_load(path, &k2), GV_OK);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_memory_not_equal(k1.token, k1.recovery, sizeof(k1.token));
	chmod(path, 0644);
	assert_int_equal(keys_load(path, &k2), GV_ERR_CONFIG);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	assert_int_equal(tlsgen_self_signed(cert, key, "vault.example", 10), GV_OK);
	assert_int_equal(access(cert, R_OK), 0);
	unlink(cert);
	unlink(key);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm3_abc),       cmocka_unit_test(test_sm4_block),
		cmocka_unit_test(test_gcm_seal_open), cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_key_file),
	};

	if (crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

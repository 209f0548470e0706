/* test_datakey.c - the data-key hierarchy: SM4 known answers (GB/T 32907 Annex A,
 * including the 1,000,000-iteration vector), key wrapping bound to its place, field
 * sealing that refuses swapped or altered ciphertext, master-key rewrapping, and blind
 * index tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gcrypt.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "crypto/datakey.h"

static void test_sm4_million_iterations(void **state)
{
	unsigned char k[16], block[16];
	char hex[33];
	gcry_cipher_hd_t h;

	(void)state;
	assert_int_equal(util_hex_decode("0123456789abcdeffedcba9876543210", k, 16), GV_OK);
	memcpy(block, k, 16);
	assert_int_equal(gcry_cipher_open(&h, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_ECB, 0), 0);
	assert_int_equal(gcry_cipher_setkey(h, k, 16), 0);
	for (int i = 0; i < 1000000; i++)
		assert_int_equal(gcry_cipher_encrypt(h, block, 16, NULL, 0), 0);
	gcry_cipher_close(h);
	util_hex_encode(block, 16, hex);
	assert_string_equal(hex, "595298c7c6fd271f0402f804c33d3f66");
}

static void test_wrap_is_bound_to_its_place(void **state)
{
	unsigned char kek[16], kek2[16], key[INDEXKEY_LEN], back[INDEXKEY_LEN];
	unsigned char wrapped[INDEXKEY_WRAPPED_LEN], rewrapped[INDEXKEY_WRAPPED_LEN];

	(void)state;
	util_random_bytes(kek, sizeof(kek));
	util_random_bytes(kek2, sizeof(kek2));
	assert_int_equal(datakey_new(kek, DATAKEY_DATA, 7, 1, key, wrapped), GV_OK);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 7, 1, wrapped, DATAKEY_WRAPPED_LEN, back), GV_OK);
	assert_memory_equal(key, back, DATAKEY_LEN);
	/* Another dataset, version, kind, KEK or length: refused. */
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 8, 1, wrapped, DATAKEY_WRAPPED_LEN, back), GV_ERR_CRYPTO);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 7, 2, wrapped, DATAKEY_WRAPPED_LEN, back), GV_ERR_CRYPTO);
	assert_int_equal(datakey_unwrap(kek2, DATAKEY_DATA, 7, 1, wrapped, DATAKEY_WRAPPED_LEN, back), GV_ERR_CRYPTO);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 7, 1, wrapped, DATAKEY_WRAPPED_LEN - 1, back), GV_ERR_CRYPTO);
	/* Master-key rotation: the same key under the new KEK, not under the old. */
	assert_int_equal(datakey_rewrap(kek, kek2, DATAKEY_DATA, 7, 1, wrapped, DATAKEY_WRAPPED_LEN, rewrapped), GV_OK);
	assert_int_equal(datakey_unwrap(kek2, DATAKEY_DATA, 7, 1, rewrapped, DATAKEY_WRAPPED_LEN, back), GV_OK);
	assert_memory_equal(key, back, DATAKEY_LEN);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 7, 1, rewrapped, DATAKEY_WRAPPED_LEN, back), GV_ERR_CRYPTO);
	/* Index keys are 32 bytes and a kind of their own. */
	assert_int_equal(datakey_new(kek, DATAKEY_INDEX, 7, 0, key, wrapped), GV_OK);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_INDEX, 7, 0, wrapped, INDEXKEY_WRAPPED_LEN, back), GV_OK);
	assert_memory_equal(key, back, INDEXKEY_LEN);
	assert_int_equal(datakey_unwrap(kek, DATAKEY_DATA, 7, 0, wrapped, INDEXKEY_WRAPPED_LEN, back), GV_ERR_CRYPTO);
}

static void test_sealed_fields_cannot_be_moved_or_altered(void **state)
{
	unsigned char key[16];
	struct gv_buf a, b, out;
	const char *id = "110105194912310021";

	(void)state;
	util_random_bytes(key, sizeof(key));
	buf_init(&a, 4096);
	buf_init(&b, 4096);
	buf_init(&out, 4096);
	assert_int_equal(datakey_seal(key, 3, "r1", "id_no", 1, id, strlen(id), &a), GV_OK);
	assert_int_equal(a.len, strlen(id) + CRYPTO_SEAL_OVERHEAD);
	assert_null(memmem(a.data, a.len, id, strlen(id)));
	assert_int_equal(datakey_open(key, 3, "r1", "id_no", 1, (unsigned char *)a.data, a.len, &out), GV_OK);
	assert_string_equal(out.data, id);
	/* The associated data is "dataset|record|field|version" exactly, as stored values
	 * were sealed with: opening with it by hand works. */
	{
		unsigned char plain[64];
		const char *aad = "-3|r1|id_no|9223372036854775807";

		b.len = 0;
		assert_int_equal(datakey_seal(key, -3, "r1", "id_no", INT64_MAX, id, strlen(id), &b), GV_OK);
		assert_int_equal(crypto_sm4gcm_open(key, aad, strlen(aad), (unsigned char *)b.data, b.len, plain),
				 GV_OK);
		assert_memory_equal(plain, id, strlen(id));
		b.len = 0;
	}
	/* Swapped to another record, field, version or dataset: refused. */
	out.len = 0;
	assert_int_equal(datakey_open(key, 3, "r2", "id_no", 1, (unsigned char *)a.data, a.len, &out), GV_ERR_CRYPTO);
	assert_int_equal(datakey_open(key, 3, "r1", "name", 1, (unsigned char *)a.data, a.len, &out), GV_ERR_CRYPTO);
	assert_int_equal(datakey_open(key, 3, "r1", "id_no", 2, (unsigned char *)a.data, a.len, &out), GV_ERR_CRYPTO);
	assert_int_equal(datakey_open(key, 4, "r1", "id_no", 1, (unsigned char *)a.data, a.len, &out), GV_ERR_CRYPTO);
	assert_int_equal(out.len, 0);
	/* One flipped bit anywhere: refused. */
	for (size_t i = 0; i < a.len; i++) {
		a.data[i] ^= 0x01;
		assert_int_equal(datakey_open(key, 3, "r1", "id_no", 1, (unsigned char *)a.data, a.len, &out),
				 GV_ERR_CRYPTO);
		a.data[i] ^= 0x01;
	}
	/* Separators cannot be smuggled into a place name. */
	assert_int_equal(datakey_seal(key, 3, "r1|id_no", "x", 1, "v", 1, &b), GV_ERR_INVALID);
	/* Two seals of the same value differ (random nonce). */
	assert_int_equal(datakey_seal(key, 3, "r1", "id_no", 1, id, strlen(id), &b), GV_OK);
	assert_memory_not_equal(a.data, b.data, a.len);
	buf_release(&a);
	buf_release(&b);
	buf_release(&out);
}

static void test_blind_index(void **state)
{
	unsigned char ikey[32], other[32];
	char t1[65], t2[65], t3[65], t4[65];

	(void)state;
	util_random_bytes(ikey, sizeof(ikey));
	util_random_bytes(other, sizeof(other));
	assert_int_equal(datakey_blind_index(ikey, "id_no", "11010519491231002x", t1), GV_OK);
	assert_int_equal(datakey_blind_index(ikey, "id_no", " 11010519491231002X ", t2), GV_OK);
	assert_string_equal(t1, t2);   /* normalised */
	assert_int_equal(datakey_blind_index(ikey, "passport", "11010519491231002X", t3), GV_OK);
	assert_string_not_equal(t1, t3);   /* per field */
	assert_int_equal(datakey_blind_index(other, "id_no", "11010519491231002X", t4), GV_OK);
	assert_string_not_equal(t1, t4);   /* per dataset key */
	/* The token is the MAC's first 128 bits. */
	{
		static const char text[] = "id_no\0" "11010519491231002X";
		unsigned char mac[CRYPTO_SM3_LEN];
		char hex[2 * CRYPTO_SM3_LEN + 1];

		assert_int_equal(crypto_hmac_sm3(ikey, sizeof(ikey), text, sizeof(text) - 1, mac), GV_OK);
		util_hex_encode(mac, sizeof(mac), hex);
		assert_int_equal(strlen(t1), DATAKEY_TOKEN_HEX);
		assert_memory_equal(t1, hex, DATAKEY_TOKEN_HEX);
	}
	/* A value longer than the stack buffer the normalisation uses first. */
	{
		char longv[600], lower[600];

		memset(longv, 'A', sizeof(longv) - 1);
		longv[sizeof(longv) - 1] = '\0';
		memset(lower, 'a', sizeof(lower) - 1);
		lower[sizeof(lower) - 1] = '\0';
		assert_int_equal(datakey_blind_index(ikey, "notes", longv, t3), GV_OK);
		assert_int_equal(datakey_blind_index(ikey, "notes", lower, t4), GV_OK);
		assert_string_equal(t3, t4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm4_million_iterations),
		cmocka_unit_test(test_wrap_is_bound_to_its_place),
		cmocka_unit_test(test_sealed_fields_cannot_be_moved_or_altered),
		cmocka_unit_test(test_blind_index),
	};

	if (crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

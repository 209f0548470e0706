/* datakey.h - the key hierarchy under the records of datasets.
 *
 *   master key (keys/server.key, never in the database)
 *     -> KEK = HMAC-SM3(master, "govvault data kek v1")[0..16)
 *          -> one SM4 data key per (dataset, key version), stored only wrapped
 *             (SM4-GCM under the KEK, bound to dataset and version)
 *          -> one 32-byte blind-index key per dataset, stored only wrapped
 *
 * Sealed values are SM4-GCM with associated data naming dataset, record, field and
 * record version, so a ciphertext moved to another place, or an older version put
 * back, fails to open instead of decrypting to the wrong record.  Master-key rotation
 * rewraps the wrapped keys only; no record is re-encrypted. */
#ifndef GV_CRYPTO_DATAKEY_H
#define GV_CRYPTO_DATAKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "crypto/crypto.h"

#define DATAKEY_LEN 16
#define INDEXKEY_LEN 32
#define DATAKEY_WRAPPED_LEN (DATAKEY_LEN + CRYPTO_SEAL_OVERHEAD)
#define INDEXKEY_WRAPPED_LEN (INDEXKEY_LEN + CRYPTO_SEAL_OVERHEAD)

enum datakey_kind { DATAKEY_DATA, DATAKEY_INDEX };

/* A fresh random key of the kind (DATAKEY_LEN or INDEXKEY_LEN bytes into key), and the
 * same key wrapped for storage.  key must be wiped by the caller after use. */
gv_err datakey_new(const unsigned char kek[DATAKEY_LEN], enum datakey_kind kind,
		   int64_t dataset_id, int version, unsigned char *key,
		   unsigned char *wrapped) GV_MUST_CHECK;
/* Unwraps a stored key; GV_ERR_CRYPTO if it was altered, moved to another dataset or
 * version, or wrapped under another KEK. */
gv_err datakey_unwrap(const unsigned char kek[DATAKEY_LEN], enum datakey_kind kind,
		      int64_t dataset_id, int version, const unsigned char *wrapped,
		      size_t len, unsigned char *key) GV_MUST_CHECK;
/* Master-key rotation: the same key, wrapped under new_kek. */
gv_err datakey_rewrap(const unsigned char old_kek[DATAKEY_LEN],
		      const unsigned char new_kek[DATAKEY_LEN], enum datakey_kind kind,
		      int64_t dataset_id, int version, const unsigned char *wrapped, size_t len,
		      unsigned char *out) GV_MUST_CHECK;

/* Seals a field value (or, with field "", a whole record) of record_id at version. */
gv_err datakey_seal(const unsigned char key[DATAKEY_LEN], int64_t dataset_id,
		    const char *record_id, const char *field, int64_t version,
		    const void *plain, size_t len, struct gv_buf *out) GV_MUST_CHECK;
/* Opens what datakey_seal made for exactly the same place; out gets the plaintext
 * (the caller wipes it when it is personal data). */
gv_err datakey_open(const unsigned char key[DATAKEY_LEN], int64_t dataset_id,
		    const char *record_id, const char *field, int64_t version,
		    const unsigned char *sealed, size_t len, struct gv_buf *out) GV_MUST_CHECK;

/* The same three with keys set up once (crypto_gcm_new on the data key,
 * crypto_hmac_new on the index key), for code that handles many values. */
gv_err datakey_seal_gcm(struct crypto_gcm *g, int64_t dataset_id, const char *record_id,
			const char *field, int64_t version, const void *plain, size_t len,
			struct gv_buf *out) GV_MUST_CHECK;
gv_err datakey_open_gcm(struct crypto_gcm *g, int64_t dataset_id, const char *record_id,
			const char *field, int64_t version, const unsigned char *sealed, size_t len,
			struct gv_buf *out) GV_MUST_CHECK;
gv_err datakey_blind_index_mac(struct crypto_hmac *m, const char *field, const char *value,
			       char out[65]) GV_MUST_CHECK;

/* Blind index token of a value for equality search: the first 128 bits of
 * HMAC-SM3(index key, field || 0x00 || normalised value), in DATAKEY_TOKEN_HEX hex
 * digits.  128 bits keep tokens of distinct values apart (a collision is a 2^-64
 * chance after 2^32 values) and the key keeps them unguessable, as the full MAC would;
 * the index is a quarter smaller than with all 256.  Normalisation trims ASCII space
 * and folds ASCII letters to upper case, so "11010519491231002x " finds
 * "11010519491231002X". */
#define DATAKEY_TOKEN_HEX 32
gv_err datakey_blind_index(const unsigned char ikey[INDEXKEY_LEN], const char *field,
			   const char *value, char out[65]) GV_MUST_CHECK;

#endif

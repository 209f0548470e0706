/* crypto.h - national-algorithm primitives (SM3, HMAC-SM3, SM4-GCM) over libgcrypt,
 * and the server master key with the purpose-bound subkeys derived from it.
 *
 * Subkeys are HMAC-SM3(master, label) so that a token hash can never be confused with
 * a recovery-code hash or an encryption key. */
#ifndef GV_CRYPTO_CRYPTO_H
#define GV_CRYPTO_CRYPTO_H

#include <stddef.h>

#include "common/error.h"

#define CRYPTO_SM3_LEN 32
#define CRYPTO_GCM_NONCE 12
#define CRYPTO_GCM_TAG 16
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_GCM_NONCE + CRYPTO_GCM_TAG)

struct gv_keys {
	unsigned char token[32];     /* HMAC-SM3 key for session tokens */
	unsigned char recovery[32];  /* HMAC-SM3 key for recovery codes */
	unsigned char totp[16];      /* SM4-GCM key for TOTP secrets at rest */
	unsigned char audit[32];     /* HMAC-SM3 key for values kept in the audit log */
	unsigned char data_kek[16];  /* SM4-GCM key wrapping dataset keys (crypto/datakey.h) */
	unsigned char service_wrap[16]; /* SM4-GCM key wrapping the four keys above it once a
					 * master-key rotation made them independent of the
					 * master (see data/rekey.h) */
};

#define KEYS_MASTER_LEN 32
/* token, recovery, totp and audit, stored as one blob after a rotation */
#define KEYS_SERVICE_LEN (32 + 32 + 16 + 32)

/* Initialises libgcrypt once per process; GV_ERR_CRYPTO if it lacks SM3/SM4. */
gv_err crypto_init(void) GV_MUST_CHECK;

gv_err crypto_sm3(const void *data, size_t len, unsigned char out[CRYPTO_SM3_LEN]) GV_MUST_CHECK;
/* SM3 of data that arrives in pieces (uploads, exports). */
struct crypto_sm3_stream;
gv_err crypto_sm3_stream_new(struct crypto_sm3_stream **out) GV_MUST_CHECK;
void crypto_sm3_stream_update(struct crypto_sm3_stream *s, const void *data, size_t len);
/* The digest of everything so far, as 64 lowercase hex + NUL; the stream stays usable. */
void crypto_sm3_stream_hex(struct crypto_sm3_stream *s, char out[65]);
void crypto_sm3_stream_free(struct crypto_sm3_stream *s);
gv_err crypto_hmac_sm3(const void *key, size_t keylen, const void *data, size_t len,
		       unsigned char out[CRYPTO_SM3_LEN]) GV_MUST_CHECK;
/* HMAC-SM3 rendered as 64 hex chars + NUL. */
gv_err crypto_hmac_sm3_hex(const void *key, size_t keylen, const char *text, char out[65]) GV_MUST_CHECK;

/* len unique, unpredictable (not secret) bytes: GCM nonces, the random half of ids.
 * Drawn from a per-thread pool (nonce.c); crypto_init arranges that a forked child
 * refills its own. */
void crypto_nonce(void *out, size_t len);
void crypto_nonce_fork_guard(void);

/* out (len + CRYPTO_SEAL_OVERHEAD bytes) = nonce || ciphertext || tag; aad is bound in. */
gv_err crypto_sm4gcm_seal(const unsigned char key[16], const void *aad, size_t aadlen,
			  const void *plain, size_t len, unsigned char *out) GV_MUST_CHECK;
/* Inverse of seal; GV_ERR_CRYPTO when the tag does not verify. out holds len - overhead. */
gv_err crypto_sm4gcm_open(const unsigned char key[16], const void *aad, size_t aadlen,
			  const unsigned char *sealed, size_t len, unsigned char *out) GV_MUST_CHECK;

/* An SM4-GCM key set up once for many seals and opens (a handle costs more to key than
 * 1 KiB costs to encrypt).  One thread at a time; free wipes the key schedule. */
struct crypto_gcm;
gv_err crypto_gcm_new(const unsigned char key[16], struct crypto_gcm **out) GV_MUST_CHECK;
gv_err crypto_gcm_seal(struct crypto_gcm *g, const void *aad, size_t aadlen, const void *plain,
		       size_t len, unsigned char *out) GV_MUST_CHECK;
gv_err crypto_gcm_open(struct crypto_gcm *g, const void *aad, size_t aadlen,
		       const unsigned char *sealed, size_t len, unsigned char *out) GV_MUST_CHECK;
void crypto_gcm_free(struct crypto_gcm *g);
/* The same for HMAC-SM3 under one key. */
struct crypto_hmac;
gv_err crypto_hmac_new(const void *key, size_t keylen, struct crypto_hmac **out) GV_MUST_CHECK;
/* MAC of the concatenation of n pieces. */
gv_err crypto_hmac_parts(struct crypto_hmac *h, const void *const *parts, const size_t *lens,
			 size_t n, unsigned char out[CRYPTO_SM3_LEN]) GV_MUST_CHECK;
void crypto_hmac_free(struct crypto_hmac *h);

/* Creates a new random master key file (mode 0600); GV_ERR_EXISTS if present. */
gv_err keys_create_file(const char *path) GV_MUST_CHECK;
/* Loads the master key and derives the subkeys; the master is wiped before return. */
gv_err keys_load(const char *path, struct gv_keys *out) GV_MUST_CHECK;
/* Derives every subkey of a master key. */
gv_err keys_derive(const unsigned char master[KEYS_MASTER_LEN], struct gv_keys *out) GV_MUST_CHECK;
/* Writes a master key file (hex, mode 0600) through a synced temporary file. */
gv_err keys_write_file(const char *path, const unsigned char master[KEYS_MASTER_LEN]) GV_MUST_CHECK;
/* A check value of the data KEK (HMAC-SM3 under it of a fixed label, hex), kept in the
 * database so that a start with the wrong master key file is refused. */
gv_err keys_kek_check(const struct gv_keys *k, char out[65]) GV_MUST_CHECK;
/* The service keys (token, recovery, totp, audit) as one blob, and back. */
void keys_service_pack(const struct gv_keys *k, unsigned char out[KEYS_SERVICE_LEN]);
void keys_service_unpack(const unsigned char in[KEYS_SERVICE_LEN], struct gv_keys *k);
void keys_wipe(struct gv_keys *k);

/* Generates a self-signed ECDSA P-256 certificate for localhost/127.0.0.1/::1 (and
 * extra_name if not NULL) valid for `days`, writing PEM files (key 0600). */
gv_err tlsgen_self_signed(const char *cert_path, const char *key_path, const char *extra_name,
			  unsigned days) GV_MUST_CHECK;

#endif

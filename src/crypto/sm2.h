/* sm2.h - SM2 signatures (GB/T 32918.2) over libgcrypt, for the audit log's signed
 * checkpoints.
 *
 * Signatures are DER SEQUENCE{r, s} over SM3(Z || M), Z computed with the default user
 * id "1234567812345678" (GM/T 0009), so other SM2 implementations verify them with the
 * public key exported as PEM (SubjectPublicKeyInfo, id-ecPublicKey, curve
 * 1.2.156.10197.1.301).  OpenSSL (1.1.1 to 3.x) defaults to an EMPTY id instead and must
 * be given the id explicitly:
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg -sigfile sig \
 *           -digest sm3 -pkeyopt distid:1234567812345678
 * A struct sm2_key holds a private key (can sign and verify) or only a public key; sign
 * and verify only read it, so threads may share one key.
 * The private key never leaves this module except through sm2_key_save. */
#ifndef GV_CRYPTO_SM2_H
#define GV_CRYPTO_SM2_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

#define SM2_SIG_MAX 72   /* DER of two 256-bit integers */

struct sm2_key;

/* New random key pair on sm2p256v1; caller frees with sm2_key_free. */
gv_err sm2_key_generate(struct sm2_key **out) GV_MUST_CHECK;
/* Writes the private key to path (mode 0600, created exclusively: GV_ERR_EXISTS if it
 * is there).  PEM, readable by `openssl pkey`. GV_ERR_STATE for a public-only key. */
gv_err sm2_key_save(const struct sm2_key *k, const char *path) GV_MUST_CHECK;
/* Loads a private key written by sm2_key_save (or `openssl genpkey -algorithm SM2`:
 * PKCS#8 "PRIVATE KEY"); refuses a file readable by group or others and a file that is
 * malformed or whose public key does not match its private key (GV_ERR_CONFIG);
 * GV_ERR_NOT_FOUND if it is missing. Caller frees. */
gv_err sm2_key_load(const char *path, struct sm2_key **out) GV_MUST_CHECK;
/* Appends the public key as PEM ("-----BEGIN PUBLIC KEY-----") to out; on failure
 * (GV_ERR_TOO_LARGE when out's maximum is reached) out is unchanged. */
gv_err sm2_pubkey_pem(const struct sm2_key *k, struct gv_buf *out) GV_MUST_CHECK;
/* Parses a PEM public key (as written by sm2_pubkey_pem or openssl: uncompressed point
 * only); GV_ERR_INVALID for anything else, including a point not on the curve.
 * Caller frees. */
gv_err sm2_pubkey_from_pem(const char *pem, size_t len, struct sm2_key **out) GV_MUST_CHECK;
/* DER signature of msg into sig (SM2_SIG_MAX bytes); *siglen gets its length.
 * GV_ERR_STATE for a public-only key. */
gv_err sm2_sign(const struct sm2_key *k, const void *msg, size_t len, unsigned char *sig,
		size_t *siglen) GV_MUST_CHECK;
/* GV_OK if sig is a valid DER signature of msg; GV_ERR_CRYPTO otherwise (also for
 * BER or otherwise non-canonical encodings, and for internal failures). */
gv_err sm2_verify(const struct sm2_key *k, const void *msg, size_t len, const unsigned char *sig,
		  size_t siglen) GV_MUST_CHECK;
/* Wipes and frees; NULL is a no-op. */
void sm2_key_free(struct sm2_key *k);

/* Internal, exported only for the GB/T 32918.2 known-answer test (tests/unit/test_sm2.c),
 * which uses the standard's own test curve: Z = SM3(ENTL || id || a || b || xG || yG ||
 * xA || yA) for a 256-bit curve.  curve is a || b || xG || yG and pub is xA || yA, all
 * 32-byte big-endian.  GV_ERR_INVALID for an id of 8192 bytes or more. */
gv_err sm2_z_digest(const unsigned char curve[128], const unsigned char pub[64], const void *id,
		    size_t idlen, unsigned char z[32]) GV_MUST_CHECK;

#endif

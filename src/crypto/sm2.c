/* sm2.c - SM2 signatures (GB/T 32918.2) over libgcrypt: key files, PEM public keys and
 * DER signatures.
 *
 * libgcrypt signs the digest it is handed; the standard's preprocessing
 * e = SM3(Z || M) is done here.  Z depends only on the key and the user id, so it is
 * computed once per key.  Every data S-expression must carry "(flags sm2)": without it
 * libgcrypt signs with ECDSA on the same curve and nothing fails until a verifier
 * elsewhere rejects the signature.
 *
 * The private scalar d lives in the key struct (wiped on free) and in the one private-key
 * S-expression that gcry_pk_sign needs.  libgcrypt wipes an S-expression on release only
 * when it sits in secure memory, which crypto_init disables, so that copy is freed
 * unwiped; building the S-expression once per key keeps it to one copy, not one per
 * signature.  Intermediate MPIs are wiped by libgcrypt itself.
 *
 * All DER written here has a single valid encoding, so the public key is a fixed prefix
 * followed by the point, and a signature encodes (r, s) in exactly one way; the readers
 * accept nothing else (see der.h). */
#include "crypto/sm2.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "crypto/der.h"

#define SM2_POINT_LEN 65      /* 04 || x || y */
#define SM2_PKCS8_LEN 138     /* what pkcs8_encode writes */
#define SM2_KEY_FILE_MAX 4096

/* GM/T 0009 default user id; ENTL is therefore 0x0080. */
static const char sm2_default_id[] = "1234567812345678";

/* sm2p256v1 a || b || xG || yG, hashed into Z (GB/T 32918.5). */
static const char sm2_curve_hex[] =
	"fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc"
	"28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93"
	"32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
	"bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";
/* n - 1: a private key must lie in [1, n - 2] because signing divides by 1 + d. */
static const char sm2_n_minus_1_hex[] =
	"fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122";

/* AlgorithmIdentifier { id-ecPublicKey 1.2.840.10045.2.1, sm2p256v1 1.2.156.10197.1.301 }. */
static const unsigned char der_alg_id[] = {
	0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d,
};
#define DER_CURVE_OID (der_alg_id + 11)   /* the OID element alone, 10 bytes */
/* BIT STRING, no unused bits, uncompressed point marker; x and y follow. */
static const unsigned char der_point_head[] = {0x03, 0x42, 0x00, 0x04};
static const unsigned char der_version0[] = {0x02, 0x01, 0x00};
static const unsigned char der_version1[] = {0x02, 0x01, 0x01};

struct sm2_key {
	gcry_sexp_t pub;                  /* (public-key (ecc (curve sm2p256v1) (q ...))) */
	gcry_sexp_t priv;                 /* NULL for a public-only key */
	unsigned char q[SM2_POINT_LEN];
	unsigned char z[CRYPTO_SM3_LEN];  /* Z for sm2_default_id */
	unsigned char d[32];              /* valid when priv != NULL */
};

gv_err sm2_z_digest(const unsigned char curve[128], const unsigned char pub[64], const void *id,
		    size_t idlen, unsigned char z[32])
{
	/* ENTL is the id's length in bits, in two bytes. */
	unsigned char entl[2] = {(unsigned char)(idlen * 8 >> 8), (unsigned char)(idlen * 8)};
	gcry_buffer_t iov[] = {
		{.data = entl, .len = 2},
		{.data = (void *)id, .len = idlen},
		{.data = (void *)curve, .len = 128},
		{.data = (void *)pub, .len = 64},
	};

	if (idlen > 0xffff / 8)
		return GV_ERR_INVALID;
	return gcry_md_hash_buffers(GCRY_MD_SM3, 0, z, iov, 4) ? GV_ERR_CRYPTO : GV_OK;
}

/* e = SM3(Z || M), the value libgcrypt actually signs. */
static gv_err digest_e(const struct sm2_key *k, const void *msg, size_t len,
		       unsigned char e[CRYPTO_SM3_LEN])
{
	gcry_buffer_t iov[] = {
		{.data = (void *)k->z, .len = sizeof(k->z)},
		{.data = (void *)msg, .len = len},
	};

	return gcry_md_hash_buffers(GCRY_MD_SM3, 0, e, iov, 2) ? GV_ERR_CRYPTO : GV_OK;
}

/* A non-negative MPI below 2^256 as 32 big-endian bytes. */
static gv_err mpi_get32(gcry_mpi_t m, unsigned char out[32])
{
	size_t n = 0;

	if (gcry_mpi_print(GCRYMPI_FMT_USG, out, 32, &n, m) || n > 32)
		return GV_ERR_CRYPTO;
	memmove(out + 32 - n, out, n);
	memset(out, 0, 32 - n);
	return GV_OK;
}

static int all_zero(const unsigned char *p, size_t len)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

void sm2_key_free(struct sm2_key *k)
{
	if (!k)
		return;
	gcry_sexp_release(k->pub);
	gcry_sexp_release(k->priv);
	util_wipe(k, sizeof(*k));
	free(k);
}

/* Builds a key from a public point (checked to be on the curve) and, for a private
 * key, the matching scalar d, which the caller has validated. */
static gv_err key_new(const unsigned char *d, const unsigned char q[SM2_POINT_LEN],
		      struct sm2_key **out)
{
	unsigned char curve[128];
	struct sm2_key *k;
	gcry_ctx_t ctx = NULL;
	gcry_mpi_point_t pt = NULL;
	gv_err err = GV_ERR_CRYPTO;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return GV_ERR_NOMEM;
	memcpy(k->q, q, SM2_POINT_LEN);
	if (gcry_sexp_build(&k->pub, NULL, "(public-key (ecc (curve sm2p256v1) (q %b)))",
			    SM2_POINT_LEN, q))
		goto out;
	/* Verification would fail on a point off the curve too, but only later and as a
	 * "bad signature"; an import must say the key itself is wrong. */
	if (gcry_mpi_ec_new(&ctx, k->pub, NULL) || !(pt = gcry_mpi_ec_get_point("q", ctx, 1)) ||
	    !gcry_mpi_ec_curve_point(pt, ctx)) {
		err = GV_ERR_INVALID;
		goto out;
	}
	if (util_hex_decode(sm2_curve_hex, curve, sizeof(curve)) != GV_OK ||
	    sm2_z_digest(curve, q + 1, sm2_default_id, strlen(sm2_default_id), k->z) != GV_OK)
		goto out;
	if (d) {
		memcpy(k->d, d, sizeof(k->d));
		if (gcry_sexp_build(&k->priv, NULL,
				    "(private-key (ecc (curve sm2p256v1) (q %b) (d %b)))",
				    SM2_POINT_LEN, q, (int)sizeof(k->d), k->d))
			goto out;
	}
	*out = k;
	k = NULL;
	err = GV_OK;
out:
	gcry_mpi_point_release(pt);
	gcry_ctx_release(ctx);
	sm2_key_free(k);
	return err;
}

/* Private key from d alone: Q = dG is recomputed rather than trusted, and when the file
 * also carries a public key (file_xy) it must be that Q.  GV_ERR_INVALID for a d outside
 * [1, n-2] or a mismatch. */
static gv_err key_from_scalar(const unsigned char d[32], const unsigned char *file_xy,
			      struct sm2_key **out)
{
	unsigned char top[32], q[SM2_POINT_LEN];
	gcry_ctx_t ctx = NULL;
	gcry_mpi_t dm = NULL, qm = NULL;
	const unsigned char *qb;
	unsigned nbits = 0;
	gv_err err = GV_ERR_INVALID;

	*out = NULL;
	/* memcmp is not constant time, but a key is checked once when loaded, not in a
	 * loop an attacker can time. */
	if (util_hex_decode(sm2_n_minus_1_hex, top, sizeof(top)) != GV_OK ||
	    all_zero(d, 32) || memcmp(d, top, 32) >= 0)
		return GV_ERR_INVALID;
	err = GV_ERR_CRYPTO;
	if (gcry_mpi_ec_new(&ctx, NULL, "sm2p256v1") ||
	    gcry_mpi_scan(&dm, GCRYMPI_FMT_USG, d, 32, NULL))
		goto out;
	/* libgcrypt multiplies by a scalar in constant time (up to its bit length) only
	 * when the MPI is flagged secure; the flag works with secure memory disabled. */
	gcry_mpi_set_flag(dm, GCRYMPI_FLAG_SECURE);
	if (gcry_mpi_ec_set_mpi("d", dm, ctx) || !(qm = gcry_mpi_ec_get_mpi("q", ctx, 1)) ||
	    !(qb = gcry_mpi_get_opaque(qm, &nbits)) || nbits != 8 * SM2_POINT_LEN || qb[0] != 0x04)
		goto out;
	memcpy(q, qb, SM2_POINT_LEN);
	if (file_xy && memcmp(file_xy, q + 1, SM2_POINT_LEN - 1) != 0) {
		err = GV_ERR_INVALID;
		goto out;
	}
	err = key_new(d, q, out);
out:
	gcry_mpi_release(dm);
	gcry_mpi_release(qm);
	gcry_ctx_release(ctx);
	return err;
}

gv_err sm2_key_generate(struct sm2_key **out)
{
	gcry_sexp_t params = NULL, pair = NULL;
	gcry_mpi_t dm = NULL;
	unsigned char d[32];
	gv_err err = GV_ERR_CRYPTO;

	*out = NULL;
	if (crypto_init() != GV_OK)
		return GV_ERR_CRYPTO;
	if (gcry_sexp_build(&params, NULL, "(genkey (ecc (curve sm2p256v1)))") ||
	    gcry_pk_genkey(&pair, params) ||
	    gcry_sexp_extract_param(pair, "private-key", "d", &dm, NULL) ||
	    mpi_get32(dm, d) != GV_OK)
		goto out;
	/* libgcrypt draws d from [1, n-1]; n-1 (probability 2^-256) fails as invalid. */
	err = key_from_scalar(d, NULL, out);
	if (err == GV_ERR_INVALID)
		err = GV_ERR_CRYPTO;
out:
	util_wipe(d, sizeof(d));
	gcry_mpi_release(dm);
	gcry_sexp_release(pair);
	gcry_sexp_release(params);
	return err;
}

static unsigned char *put(unsigned char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

/* PKCS#8 PrivateKeyInfo around an RFC 5915 ECPrivateKey {1, d, [1] Q}, the layout
 * `openssl genpkey -algorithm SM2` writes. */
static void pkcs8_encode(const struct sm2_key *k, unsigned char der[SM2_PKCS8_LEN])
{
	static const unsigned char head[] = {0x30, 0x81, 0x87};
	static const unsigned char mid[] = {0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20};
	static const unsigned char pub_tag[] = {0xa1, 0x44};
	unsigned char *p = der;

	p = put(p, head, sizeof(head));
	p = put(p, der_version0, sizeof(der_version0));
	p = put(p, der_alg_id, sizeof(der_alg_id));
	p = put(p, mid, sizeof(mid));
	p = put(p, k->d, sizeof(k->d));
	p = put(p, pub_tag, sizeof(pub_tag));
	p = put(p, der_point_head, sizeof(der_point_head));
	put(p, k->q + 1, SM2_POINT_LEN - 1);
}

/* Reads what pkcs8_encode writes, also allowing the optional [0] curve parameters and
 * omitting [1], as RFC 5915 does; PKCS#8 attributes are refused.  *has_xy says whether
 * xy was filled. */
static gv_err pkcs8_decode(const unsigned char *der, size_t len, unsigned char d[32],
			   unsigned char xy[64], int *has_xy)
{
	struct der_cur c = {der, len}, info, octets, ec, field;

	*has_xy = 0;
	if (der_get(&c, DER_SEQUENCE, &info) || c.len ||
	    der_get_fixed(&info, der_version0, sizeof(der_version0)) ||
	    der_get_fixed(&info, der_alg_id, sizeof(der_alg_id)) ||
	    der_get(&info, DER_OCTET_STRING, &octets) || info.len ||
	    der_get(&octets, DER_SEQUENCE, &ec) || octets.len ||
	    der_get_fixed(&ec, der_version1, sizeof(der_version1)) ||
	    der_get(&ec, DER_OCTET_STRING, &field) || field.len != 32)
		return GV_ERR_INVALID;
	memcpy(d, field.p, 32);
	if (der_peek(&ec, DER_CTX(0)) &&
	    (der_get(&ec, DER_CTX(0), &field) || der_get_fixed(&field, DER_CURVE_OID, 10) ||
	     field.len))
		return GV_ERR_INVALID;
	if (der_peek(&ec, DER_CTX(1))) {
		if (der_get(&ec, DER_CTX(1), &field) ||
		    der_get_fixed(&field, der_point_head, sizeof(der_point_head)) || field.len != 64)
			return GV_ERR_INVALID;
		memcpy(xy, field.p, 64);
		*has_xy = 1;
	}
	return ec.len ? GV_ERR_INVALID : GV_OK;
}

gv_err sm2_key_save(const struct sm2_key *k, const char *path)
{
	unsigned char der[SM2_PKCS8_LEN];
	struct gv_buf pem;
	gv_err err;

	if (!k->priv)
		return GV_ERR_STATE;
	pkcs8_encode(k, der);
	buf_init(&pem, 1024);
	err = der_pem_encode(&pem, "PRIVATE KEY", der, sizeof(der));
	if (err == GV_OK)
		err = util_file_create(path, pem.data, pem.len, 0600);
	buf_release(&pem);
	util_wipe(der, sizeof(der));
	return err;
}

gv_err sm2_key_load(const char *path, struct sm2_key **out)
{
	unsigned char der[256], d[32], xy[64];
	size_t textlen = 0, derlen = 0;
	char *text = NULL;
	struct stat st;
	int has_xy = 0;
	gv_err err;

	*out = NULL;
	if (crypto_init() != GV_OK)
		return GV_ERR_CRYPTO;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? GV_ERR_NOT_FOUND : GV_ERR_IO;
	/* A key readable by group or others is a misconfiguration, not a warning. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
		return GV_ERR_CONFIG;
	err = util_file_read(path, SM2_KEY_FILE_MAX, &text, &textlen);
	if (err != GV_OK)
		return err;
	err = GV_ERR_CONFIG;
	if (der_pem_decode(text, textlen, "PRIVATE KEY", der, sizeof(der), &derlen) == GV_OK &&
	    pkcs8_decode(der, derlen, d, xy, &has_xy) == GV_OK) {
		err = key_from_scalar(d, has_xy ? xy : NULL, out);
		if (err == GV_ERR_INVALID)
			err = GV_ERR_CONFIG;
	}
	/* Not util_free_secret: it wipes up to the first NUL, and the file may hold one. */
	util_wipe(text, textlen);
	free(text);
	util_wipe(der, sizeof(der));
	util_wipe(d, sizeof(d));
	return err;
}

/* SubjectPublicKeyInfo { AlgorithmIdentifier, BIT STRING 04||x||y }: for this algorithm
 * and an uncompressed point DER leaves one possible encoding, so it is a fixed prefix. */
#define SPKI_HEAD_LEN (2 + sizeof(der_alg_id) + sizeof(der_point_head))
#define SPKI_LEN (SPKI_HEAD_LEN + SM2_POINT_LEN - 1)

static void spki_head(unsigned char out[SPKI_HEAD_LEN])
{
	out[0] = DER_SEQUENCE;
	out[1] = SPKI_LEN - 2;
	put(put(out + 2, der_alg_id, sizeof(der_alg_id)), der_point_head, sizeof(der_point_head));
}

gv_err sm2_pubkey_pem(const struct sm2_key *k, struct gv_buf *out)
{
	unsigned char der[SPKI_LEN];

	spki_head(der);
	memcpy(der + SPKI_HEAD_LEN, k->q + 1, SM2_POINT_LEN - 1);
	return der_pem_encode(out, "PUBLIC KEY", der, sizeof(der));
}

gv_err sm2_pubkey_from_pem(const char *pem, size_t len, struct sm2_key **out)
{
	unsigned char der[SPKI_LEN + 16], head[SPKI_HEAD_LEN], q[SM2_POINT_LEN];
	size_t derlen = 0;

	*out = NULL;
	if (crypto_init() != GV_OK)
		return GV_ERR_CRYPTO;
	spki_head(head);
	if (der_pem_decode(pem, len, "PUBLIC KEY", der, sizeof(der), &derlen) != GV_OK ||
	    derlen != SPKI_LEN || memcmp(der, head, SPKI_HEAD_LEN) != 0)
		return GV_ERR_INVALID;
	q[0] = 0x04;
	memcpy(q + 1, der + SPKI_HEAD_LEN, SM2_POINT_LEN - 1);
	return key_new(NULL, q, out);
}

gv_err sm2_sign(const struct sm2_key *k, const void *msg, size_t len, unsigned char *sig,
		size_t *siglen)
{
	unsigned char e[CRYPTO_SM3_LEN], r[32], s[32];
	gcry_sexp_t data = NULL, sv = NULL;
	gcry_mpi_t rm = NULL, sm = NULL;
	gv_err err;
	size_t n;

	*siglen = 0;
	if (!k->priv)
		return GV_ERR_STATE;
	err = digest_e(k, msg, len, e);
	if (err != GV_OK)
		return err;
	err = GV_ERR_CRYPTO;
	/* Extracting from "sig-val!sm2" also proves libgcrypt did not fall back to ECDSA. */
	if (gcry_sexp_build(&data, NULL, "(data (flags sm2) (hash sm3 %b))", (int)sizeof(e), e) ||
	    gcry_pk_sign(&sv, data, k->priv) ||
	    gcry_sexp_extract_param(sv, "sig-val!sm2", "rs", &rm, &sm, NULL) ||
	    mpi_get32(rm, r) != GV_OK || mpi_get32(sm, s) != GV_OK)
		goto out;
	/* SEQUENCE { INTEGER r, INTEGER s }: at most 2 + 2 * 35 = SM2_SIG_MAX bytes. */
	n = der_put_uint(sig + 2, r, sizeof(r));
	n += der_put_uint(sig + 2 + n, s, sizeof(s));
	sig[0] = DER_SEQUENCE;
	sig[1] = (unsigned char)n;
	*siglen = 2 + n;
	err = GV_OK;
out:
	gcry_mpi_release(rm);
	gcry_mpi_release(sm);
	gcry_sexp_release(sv);
	gcry_sexp_release(data);
	return err;
}

gv_err sm2_verify(const struct sm2_key *k, const void *msg, size_t len, const unsigned char *sig,
		  size_t siglen)
{
	struct der_cur c = {sig, siglen}, seq;
	unsigned char e[CRYPTO_SM3_LEN], r[32], s[32];
	gcry_sexp_t data = NULL, sv = NULL;
	gv_err err = GV_ERR_CRYPTO;

	/* libgcrypt rejects r or s of zero or >= n as well; checking here keeps a malformed
	 * signature from ever reaching it. */
	if (der_get(&c, DER_SEQUENCE, &seq) || c.len || der_get_uint(&seq, r, sizeof(r)) ||
	    der_get_uint(&seq, s, sizeof(s)) || seq.len || all_zero(r, sizeof(r)) ||
	    all_zero(s, sizeof(s)))
		return GV_ERR_CRYPTO;
	if (digest_e(k, msg, len, e) != GV_OK ||
	    gcry_sexp_build(&data, NULL, "(data (flags sm2) (hash sm3 %b))", (int)sizeof(e), e) ||
	    gcry_sexp_build(&sv, NULL, "(sig-val (sm2 (r %b) (s %b)))", (int)sizeof(r), r,
			    (int)sizeof(s), s) ||
	    gcry_pk_verify(sv, data, k->pub))
		goto out;
	err = GV_OK;
out:
	gcry_sexp_release(sv);
	gcry_sexp_release(data);
	return err;
}

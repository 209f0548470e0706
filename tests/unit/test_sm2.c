/* test_sm2.c - SM2 signatures: round trips, tampering, key files, PEM, strict DER, the
 * GB/T 32918.2 Annex example and interoperability with the openssl command line. */
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
#include "crypto/der.h"
#include "crypto/sm2.h"

#define OPENSSL "/usr/bin/openssl"
/* OpenSSL's SM2 default id is empty, not GM/T 0009's; see sm2.h. */
#define DISTID "-pkeyopt distid:1234567812345678"

static const char msg[] = "checkpoint node=1 seq=42 h=00ff";

struct tmp {
	char dir[32];
	char path[4][128];
};

static void tmp_init(struct tmp *t)
{
	static const char *names[] = {"key.pem", "pub.pem", "msg", "sig"};

	snprintf(t->dir, sizeof(t->dir), "/tmp/gvsm2XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	for (size_t i = 0; i < 4; i++)
		snprintf(t->path[i], sizeof(t->path[i]), "%s/%s", t->dir, names[i]);
}

static void tmp_release(struct tmp *t)
{
	for (size_t i = 0; i < 4; i++)
		unlink(t->path[i]);
	rmdir(t->dir);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void pem_of(const struct sm2_key *k, struct gv_buf *b)
{
	buf_init(b, 4096);
	assert_int_equal(sm2_pubkey_pem(k, b), GV_OK);
}

static void test_sign_verify(void **state)
{
	unsigned char sig[SM2_SIG_MAX];
	struct sm2_key *k = NULL;
	int padded = 0;
	size_t len;

	(void)state;
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	/* Enough signatures that r or s with the high bit set (0x00-padded) shows up. */
	for (int i = 0; i < 32; i++) {
		assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
		assert_true(len >= 8 && len <= SM2_SIG_MAX);
		assert_int_equal(sig[0], 0x30);
		assert_int_equal(sig[1], len - 2);
		padded |= sig[4] == 0x00;
		assert_int_equal(sm2_verify(k, msg, strlen(msg), sig, len), GV_OK);
	}
	assert_true(padded);
	assert_int_equal(sm2_sign(k, NULL, 0, sig, &len), GV_OK);
	assert_int_equal(sm2_verify(k, "", 0, sig, len), GV_OK);
	sm2_key_free(k);
	sm2_key_free(NULL);
}

static void test_tampering(void **state)
{
	unsigned char sig[SM2_SIG_MAX], bad[SM2_SIG_MAX];
	struct sm2_key *k = NULL, *other = NULL;
	char changed[sizeof(msg)];
	size_t len;

	(void)state;
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	assert_int_equal(sm2_key_generate(&other), GV_OK);
	assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
	memcpy(changed, msg, sizeof(msg));
	changed[10] ^= 1;
	assert_int_equal(sm2_verify(k, changed, strlen(changed), sig, len), GV_ERR_CRYPTO);
	assert_int_equal(sm2_verify(k, msg, strlen(msg) - 1, sig, len), GV_ERR_CRYPTO);
	assert_int_equal(sm2_verify(other, msg, strlen(msg), sig, len), GV_ERR_CRYPTO);
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, sig, len);
		bad[i] ^= 0x01;
		assert_int_equal(sm2_verify(k, msg, strlen(msg), bad, len), GV_ERR_CRYPTO);
	}
	for (size_t i = 0; i < len; i++)
		assert_int_equal(sm2_verify(k, msg, strlen(msg), sig, i), GV_ERR_CRYPTO);
	sm2_key_free(k);
	sm2_key_free(other);
}

static void test_public_only(void **state)
{
	unsigned char sig[SM2_SIG_MAX];
	struct sm2_key *k = NULL, *pub = NULL;
	struct gv_buf a, b;
	struct tmp t;
	size_t len = 99;

	(void)state;
	tmp_init(&t);
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	pem_of(k, &a);
	assert_int_equal(sm2_pubkey_from_pem(a.data, a.len, &pub), GV_OK);
	assert_int_equal(sm2_sign(pub, msg, strlen(msg), sig, &len), GV_ERR_STATE);
	assert_int_equal(len, 0);
	assert_int_equal(sm2_key_save(pub, t.path[0]), GV_ERR_STATE);
	assert_int_equal(access(t.path[0], F_OK), -1);
	assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
	assert_int_equal(sm2_verify(pub, msg, strlen(msg), sig, len), GV_OK);
	pem_of(pub, &b);
	assert_string_equal(a.data, b.data);
	buf_release(&a);
	buf_release(&b);
	sm2_key_free(pub);
	sm2_key_free(k);
	tmp_release(&t);
}

static void test_save_load(void **state)
{
	unsigned char sig[SM2_SIG_MAX];
	struct sm2_key *k = NULL, *k2 = NULL;
	struct gv_buf a, b;
	struct stat st;
	struct tmp t;
	mode_t old;
	size_t len;

	(void)state;
	tmp_init(&t);
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	/* The mode is 0600 whatever the caller's umask (0277 would make open() give 0400). */
	old = umask(0277);
	assert_int_equal(sm2_key_save(k, t.path[0]), GV_OK);
	umask(0);
	assert_int_equal(sm2_key_save(k, t.path[1]), GV_OK);
	umask(old);
	assert_int_equal(stat(t.path[0], &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(t.path[1], &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	unlink(t.path[1]);
	assert_int_equal(sm2_key_save(k, t.path[0]), GV_ERR_EXISTS);

	assert_int_equal(sm2_key_load(t.path[0], &k2), GV_OK);
	assert_int_equal(sm2_sign(k2, msg, strlen(msg), sig, &len), GV_OK);
	assert_int_equal(sm2_verify(k, msg, strlen(msg), sig, len), GV_OK);
	pem_of(k, &a);
	pem_of(k2, &b);
	assert_string_equal(a.data, b.data);
	buf_release(&a);
	buf_release(&b);
	sm2_key_free(k2);
	k2 = NULL;

	assert_int_equal(chmod(t.path[0], 0644), 0);
	assert_int_equal(sm2_key_load(t.path[0], &k2), GV_ERR_CONFIG);
	assert_null(k2);
	assert_int_equal(chmod(t.path[0], 0640), 0);
	assert_int_equal(sm2_key_load(t.path[0], &k2), GV_ERR_CONFIG);
	assert_int_equal(chmod(t.path[0], 0600), 0);
	assert_int_equal(sm2_key_load(t.path[1], &k2), GV_ERR_NOT_FOUND);

	write_file(t.path[0], "not a key\n", 10);
	assert_int_equal(sm2_key_load(t.path[0], &k2), GV_ERR_CONFIG);
	assert_null(k2);
	sm2_key_free(k);
	tmp_release(&t);
}

static void test_pem(void **state)
{
	struct sm2_key *k = NULL, *pub = NULL;
	unsigned char der[128];
	struct gv_buf a, small, crlf, spki;
	size_t derlen = 0;
	char *p;

	(void)state;
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	pem_of(k, &a);
	assert_true(strncmp(a.data, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	assert_int_equal(sm2_pubkey_from_pem(a.data, a.len, &pub), GV_OK);
	sm2_key_free(pub);
	pub = NULL;

	/* A full buffer leaves the caller's text as it was. */
	buf_init(&small, 64);
	assert_int_equal(buf_append(&small, "x", 1), GV_OK);
	assert_int_equal(sm2_pubkey_pem(k, &small), GV_ERR_TOO_LARGE);
	assert_int_equal(small.len, 1);
	assert_string_equal(small.data, "x");
	buf_release(&small);

	/* CRLF line ends and surrounding whitespace are fine. */
	buf_init(&crlf, 4096);
	assert_int_equal(buf_append(&crlf, "\n  ", 3), GV_OK);
	for (p = a.data; *p; p++)
		assert_int_equal(*p == '\n' ? buf_append(&crlf, "\r\n", 2) : buf_append(&crlf, p, 1), GV_OK);
	assert_int_equal(sm2_pubkey_from_pem(crlf.data, crlf.len, &pub), GV_OK);
	sm2_key_free(pub);
	pub = NULL;
	buf_release(&crlf);

	/* Text that is not exactly one canonical PUBLIC KEY block. */
	{
		struct gv_buf m;
		const char *last;
		size_t eq;

		buf_init(&m, 4096);
		assert_int_equal(sm2_pubkey_from_pem(a.data, a.len - 2, &pub), GV_ERR_INVALID);
		assert_int_equal(sm2_pubkey_from_pem(a.data + 1, a.len - 1, &pub), GV_ERR_INVALID);
		assert_int_equal(buf_printf(&m, "%sjunk\n", a.data), GV_OK);
		assert_int_equal(sm2_pubkey_from_pem(m.data, m.len, &pub), GV_ERR_INVALID);
		m.len = 0;
		assert_int_equal(buf_append(&m, a.data, a.len), GV_OK);
		memcpy(strstr(m.data, "PUBLIC KEY"), "PRIVAT KEY", 10);
		assert_int_equal(sm2_pubkey_from_pem(m.data, m.len, &pub), GV_ERR_INVALID);
		/* 91 bytes end in "==": the character before carries 4 unused bits, and in the
		 * canonical text it is one of A Q g w, so the next character differs only there. */
		m.len = 0;
		assert_int_equal(buf_append(&m, a.data, a.len), GV_OK);
		last = strchr(m.data, '=');
		assert_non_null(last);
		eq = (size_t)(last - m.data);
		assert_non_null(strchr("AQgw", m.data[eq - 1]));
		assert_int_equal(m.data[eq + 1], '=');
		m.data[eq - 1]++;
		assert_int_equal(sm2_pubkey_from_pem(m.data, m.len, &pub), GV_ERR_INVALID);
		/* An inserted space (not a replaced character) keeps the quanta aligned. */
		m.len = 0;
		assert_int_equal(buf_append(&m, a.data, 40), GV_OK);
		assert_int_equal(buf_append(&m, " ", 1), GV_OK);
		assert_int_equal(buf_append(&m, a.data + 40, a.len - 40), GV_OK);
		assert_int_equal(sm2_pubkey_from_pem(m.data, m.len, &pub), GV_ERR_INVALID);
		buf_release(&m);
	}
	assert_null(pub);

	/* Well-formed PEM around the wrong DER: off-curve point, compressed point, other
	 * curve, trailing byte. */
	assert_int_equal(der_pem_decode(a.data, a.len, "PUBLIC KEY", der, sizeof(der), &derlen), GV_OK);
	assert_int_equal(derlen, 91);
	{
		static const struct {
			const char *name;
			size_t off;
			unsigned char val;
			int grow;
		} cases[] = {
			{"off curve", 90, 0, 0},      {"compressed", 26, 0x02, 0},
			{"other curve", 22, 0x2c, 0}, {"ec OID", 10, 0x03, 0},
			{"trailing byte", 91, 0, 1},  {"outer length", 1, 0x5a, 0},
		};

		for (size_t i = 0; i < GV_ARRAY_LEN(cases); i++) {
			unsigned char bad[128];

			memcpy(bad, der, derlen);
			bad[cases[i].off] = cases[i].off == 90 ? (unsigned char)(der[90] ^ 1) : cases[i].val;
			buf_init(&spki, 4096);
			assert_int_equal(der_pem_encode(&spki, "PUBLIC KEY", bad, derlen + cases[i].grow), GV_OK);
			print_message("pem case: %s\n", cases[i].name);
			assert_int_equal(sm2_pubkey_from_pem(spki.data, spki.len, &pub), GV_ERR_INVALID);
			assert_null(pub);
			buf_release(&spki);
		}
	}
	buf_release(&a);
	sm2_key_free(k);
}

static void hex_append(char *out, size_t cap, const char *tmpl, const char *r, const char *s)
{
	size_t n = 0;

	for (const char *p = tmpl; *p; p++) {
		const char *piece = *p == 'R' ? r : *p == 'S' ? s : NULL;
		size_t len = piece ? strlen(piece) : 1;

		assert_true(n + len < cap);
		memcpy(out + n, piece ? piece : p, len);
		n += len;
	}
	out[n] = '\0';
}

/* "%02x" or "81%02x": a DER length as hex. */
static void hex_len(char *out, size_t n)
{
	unsigned v = (unsigned)n & 0xff;

	assert_true(n < 256);
	if (n < 128)
		snprintf(out, 5, "%02x", v);
	else
		snprintf(out, 5, "81%02x", v);
}

/* Wraps ECPrivateKey contents (hex) into PKCS#8 with `attrs` (hex) after the key and
 * writes it as a 0600 PEM file, the way a hand-edited or foreign key file would look. */
static void write_pkcs8(const char *path, const char *ec, const char *attrs)
{
	static const char *alg = "301306072a8648ce3d020106082a811ccf5501822d";
	char l1[5], l2[5], l3[5], inner[512], hex[1024];
	unsigned char der[512];
	struct gv_buf pem;
	size_t ecl = strlen(ec) / 2;

	hex_len(l1, ecl);
	snprintf(inner, sizeof(inner), "30%s%s", l1, ec);
	hex_len(l2, strlen(inner) / 2);
	hex_len(l3, 3 + strlen(alg) / 2 + 1 + strlen(l2) / 2 + strlen(inner) / 2 + strlen(attrs) / 2);
	snprintf(hex, sizeof(hex), "30%s020100%s04%s%s%s", l3, alg, l2, inner, attrs);
	assert_int_equal(util_hex_decode(hex, der, strlen(hex) / 2), GV_OK);
	buf_init(&pem, 4096);
	assert_int_equal(der_pem_encode(&pem, "PRIVATE KEY", der, strlen(hex) / 2), GV_OK);
	unlink(path);
	write_file(path, pem.data, pem.len);
	assert_int_equal(chmod(path, 0600), 0);
	buf_release(&pem);
}

/* What sm2_key_load accepts inside the PEM: RFC 5915's optional fields, nothing more,
 * and only a d in [1, n-2] whose stored public key (if any) is d*G.  R is d and S is
 * x || y of a real key; n-1 || -G is a consistent pair that is still invalid for SM2. */
static void test_key_file_contents(void **state)
{
	static const char *n_minus_1 = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122";
	static const char *minus_g =
		"32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
		"43c8c95c0b098863a642311c9496deac2f56788239d5b8c0fd20cd1adec60f5f";
	enum { OWN, OTHER_XY, N_MINUS_1, ZERO_D };
	static const struct {
		const char *name;
		const char *ec;
		const char *attrs;
		int keys;
		gv_err want;
	} cases[] = {
		{"as sm2_key_save writes", "0201010420Ra14403420004S", "", OWN, GV_OK},
		{"no public key", "0201010420R", "", OWN, GV_OK},
		{"curve parameters", "0201010420Ra00a06082a811ccf5501822da14403420004S", "", OWN, GV_OK},
		{"P-256 parameters", "0201010420Ra00a06082a8648ce3d030107a14403420004S", "", OWN,
		 GV_ERR_CONFIG},
		{"[1] before [0]", "0201010420Ra14403420004Sa00a06082a811ccf5501822d", "", OWN,
		 GV_ERR_CONFIG},
		{"trailing element", "0201010420Ra14403420004S020100", "", OWN, GV_ERR_CONFIG},
		{"PKCS#8 attributes", "0201010420Ra14403420004S", "a000", OWN, GV_ERR_CONFIG},
		{"ECPrivateKey version 0", "0201000420Ra14403420004S", "", OWN, GV_ERR_CONFIG},
		{"d as INTEGER", "0201010220Ra14403420004S", "", OWN, GV_ERR_CONFIG},
		{"compressed public key", "0201010420Ra14403420002S", "", OWN, GV_ERR_CONFIG},
		{"public key of another key", "0201010420Ra14403420004S", "", OTHER_XY, GV_ERR_CONFIG},
		{"d = n - 1 with -G", "0201010420Ra14403420004S", "", N_MINUS_1, GV_ERR_CONFIG},
		{"d = 0", "0201010420R", "", ZERO_D, GV_ERR_CONFIG},
	};
	char d_hex[65], xy_hex[129], other_xy[129], ec[512];
	unsigned char der[256];
	struct sm2_key *k = NULL, *other = NULL, *loaded = NULL;
	char *text = NULL;
	size_t tl = 0, dl = 0;
	struct tmp t;

	(void)state;
	tmp_init(&t);
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	assert_int_equal(sm2_key_generate(&other), GV_OK);
	/* d and x || y at their offsets in the layout sm2_key_save writes. */
	assert_int_equal(sm2_key_save(k, t.path[1]), GV_OK);
	assert_int_equal(util_file_read(t.path[1], 4096, &text, &tl), GV_OK);
	assert_int_equal(der_pem_decode(text, tl, "PRIVATE KEY", der, sizeof(der), &dl), GV_OK);
	free(text);
	assert_int_equal(dl, 138);
	util_hex_encode(der + 36, 32, d_hex);
	util_hex_encode(der + 74, 64, xy_hex);
	unlink(t.path[1]);
	assert_int_equal(sm2_key_save(other, t.path[1]), GV_OK);
	assert_int_equal(util_file_read(t.path[1], 4096, &text, &tl), GV_OK);
	assert_int_equal(der_pem_decode(text, tl, "PRIVATE KEY", der, sizeof(der), &dl), GV_OK);
	free(text);
	util_hex_encode(der + 74, 64, other_xy);

	for (size_t i = 0; i < GV_ARRAY_LEN(cases); i++) {
		const char *d = d_hex, *xy = xy_hex;

		if (cases[i].keys == OTHER_XY)
			xy = other_xy;
		if (cases[i].keys == N_MINUS_1) {
			d = n_minus_1;
			xy = minus_g;
		}
		if (cases[i].keys == ZERO_D)
			d = "0000000000000000000000000000000000000000000000000000000000000000";
		hex_append(ec, sizeof(ec), cases[i].ec, d, xy);
		write_pkcs8(t.path[0], ec, cases[i].attrs);
		print_message("key file case: %s\n", cases[i].name);
		assert_int_equal(sm2_key_load(t.path[0], &loaded), cases[i].want);
		if (cases[i].want == GV_OK) {
			unsigned char sig[SM2_SIG_MAX];
			size_t len;

			assert_int_equal(sm2_sign(loaded, msg, strlen(msg), sig, &len), GV_OK);
			assert_int_equal(sm2_verify(k, msg, strlen(msg), sig, len), GV_OK);
		}
		sm2_key_free(loaded);
		loaded = NULL;
	}
	sm2_key_free(other);
	sm2_key_free(k);
	tmp_release(&t);
}

/* Each case re-encodes a valid signature's own r and s (R, S: 64 hex digits, high bit
 * clear) or changes one thing about it, so a rejection can only come from the encoding
 * or the value named in the case. */
static void test_malformed_der(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		gv_err want;
	} cases[] = {
		{"canonical (control)", "30440220R0220S", GV_OK},
		{"empty", "", GV_ERR_CRYPTO},
		{"empty sequence", "3000", GV_ERR_CRYPTO},
		{"SET instead of SEQUENCE", "31440220R0220S", GV_ERR_CRYPTO},
		{"outer long-form length", "3081440220R0220S", GV_ERR_CRYPTO},
		{"outer indefinite length", "30800220R0220S0000", GV_ERR_CRYPTO},
		{"outer length past end", "30450220R0220S", GV_ERR_CRYPTO},
		{"outer length short", "30430220R0220S", GV_ERR_CRYPTO},
		{"trailing byte", "30440220R0220S00", GV_ERR_CRYPTO},
		{"third element", "30470220R0220S020101", GV_ERR_CRYPTO},
		{"s missing", "30220220R", GV_ERR_CRYPTO},
		{"r BIT STRING tag", "30440320R0220S", GV_ERR_CRYPTO},
		{"r redundant zero", "3045022100R0220S", GV_ERR_CRYPTO},
		{"s redundant zero", "30450220R022100S", GV_ERR_CRYPTO},
		{"r long-form length", "3045028120R0220S", GV_ERR_CRYPTO},
		{"s length 0x82 form", "30460220R02820020S", GV_ERR_CRYPTO},
		{"r empty", "302402000220S", GV_ERR_CRYPTO},
		{"r zero", "3025020100" "0220S", GV_ERR_CRYPTO},
		{"s zero", "30250220R" "020100", GV_ERR_CRYPTO},
		{"r negative", "30250201ff0220S", GV_ERR_CRYPTO},
		{"r 33 significant bytes", "3045022101R0220S", GV_ERR_CRYPTO},
		{"r = n", "3045022100fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d541230220S",
		 GV_ERR_CRYPTO},
		{"r, s swapped", "30440220S0220R", GV_ERR_CRYPTO},
	};
	unsigned char sig[SM2_SIG_MAX], bin[256];
	char r[65], s[65], hex[512];
	struct sm2_key *k = NULL;
	size_t len = 0;
	int tries;

	(void)state;
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	/* Retry until both integers are 32 bytes with the high bit clear (~1 in 4); the
	 * bound only stops a broken encoder from hanging the test. */
	for (tries = 0; tries < 256; tries++) {
		assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
		if (len == 70 && sig[4] >= 0x01 && sig[4] <= 0x7f && sig[38] >= 0x01 && sig[38] <= 0x7f)
			break;
	}
	assert_true(tries < 256);
	util_hex_encode(sig + 4, 32, r);
	util_hex_encode(sig + 38, 32, s);
	for (size_t i = 0; i < GV_ARRAY_LEN(cases); i++) {
		size_t n;

		hex_append(hex, sizeof(hex), cases[i].hex, r, s);
		n = strlen(hex) / 2;
		assert_int_equal(util_hex_decode(hex, bin, n), GV_OK);
		print_message("der case: %s\n", cases[i].name);
		assert_int_equal(sm2_verify(k, msg, strlen(msg), bin, n), cases[i].want);
	}
	/* An r with the high bit set must keep its 0x00: without it the same bytes read as
	 * a negative INTEGER, and accepting them would give the signature a second form. */
	for (tries = 0; tries < 256; tries++) {
		assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
		if (sig[3] == 0x21)
			break;
	}
	assert_true(tries < 256);
	assert_int_equal(sm2_verify(k, msg, strlen(msg), sig, len), GV_OK);
	bin[0] = 0x30;
	bin[1] = (unsigned char)(len - 3);
	bin[2] = 0x02;
	bin[3] = 0x20;
	memcpy(bin + 4, sig + 5, len - 5);
	assert_int_equal(sm2_verify(k, msg, strlen(msg), bin, len - 1), GV_ERR_CRYPTO);
	sm2_key_free(k);
}

/* GB/T 32918.2 Annex A example on its Fp-256 test curve: Z_A and e come from this
 * module; libgcrypt then verifies the Annex's (r, s) over e with "(flags sm2)". */
static void test_gbt_annex(void **state)
{
	static const char *curve_hex =
		"787968b4fa32c3fd2417842e73bbfeff2f3c848b6831d7e0ec65228b3937e498"
		"63e4c6d3b23b0c849cf84241484bfe48f61d59a5b16ba06e6e12d1da27c5249a"
		"421debd61b62eab6746434ebc3cc315e32220b3badd50bdc4c4e6c147fedd43d"
		"0680512bcbb42c07d47349d2153b70c4e5d7fdfcbfa36ea1a85841b9e46e09a2";
	static const char *pub_hex =
		"0ae4c7798aa0f119471bee11825be46202bb79e2a5844495e97c04ff4df2548a"
		"7c0240f88f1cd4e16352a73c17b7f16f07353e53a176d684a9fe0c6bb798e857";
	static const char *id = "ALICE123@YAHOO.COM";
	unsigned char curve[128], pub[64], z[32], buf[64], e[32], p[32], n[32], r[32], s[32];
	unsigned char g[65], q[65];
	gcry_sexp_t key = NULL, data = NULL, sig = NULL;
	char hex[65];

	(void)state;
	assert_int_equal(util_hex_decode(curve_hex, curve, sizeof(curve)), GV_OK);
	assert_int_equal(util_hex_decode(pub_hex, pub, sizeof(pub)), GV_OK);
	assert_int_equal(sm2_z_digest(curve, pub, id, strlen(id), z), GV_OK);
	util_hex_encode(z, 32, hex);
	assert_string_equal(hex, "f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a");
	memcpy(buf, z, 32);
	memcpy(buf + 32, "message digest", 14);
	assert_int_equal(crypto_sm3(buf, 46, e), GV_OK);
	util_hex_encode(e, 32, hex);
	assert_string_equal(hex, "b524f552cd82b8b028476e005c377fb19a87e6fc682d48bb5d42e3d9b9effe76");

	assert_int_equal(util_hex_decode("8542d69e4c044f18e8b92435bf6ff7de457283915c45517d722edb8b08f1dfc3",
					 p, 32), GV_OK);
	assert_int_equal(util_hex_decode("8542d69e4c044f18e8b92435bf6ff7dd297720630485628d5ae74ee7c32e79b7",
					 n, 32), GV_OK);
	assert_int_equal(util_hex_decode("40f1ec59f793d9f49e09dcef49130d4194f79fb1eed2caa55bacdb49c4e755d1",
					 r, 32), GV_OK);
	assert_int_equal(util_hex_decode("6fc6dac32c5d5cf10c77dfb20f7c2eb667a457872fb09ec56327a67ec7deebe7",
					 s, 32), GV_OK);
	g[0] = q[0] = 0x04;
	memcpy(g + 1, curve + 64, 64);
	memcpy(q + 1, pub, 64);
	assert_int_equal(gcry_sexp_build(&key, NULL,
					 "(public-key (ecc (p %b) (a %b) (b %b) (g %b) (n %b) (h #01#) (q %b)))",
					 32, p, 32, curve, 32, curve + 32, 65, g, 32, n, 65, q), 0);
	assert_int_equal(gcry_sexp_build(&data, NULL, "(data (flags sm2) (hash sm3 %b))", 32, e), 0);
	assert_int_equal(gcry_sexp_build(&sig, NULL, "(sig-val (sm2 (r %b) (s %b)))", 32, r, 32, s), 0);
	assert_int_equal(gcry_pk_verify(sig, data, key), 0);
	gcry_sexp_release(data);
	e[31] ^= 1;
	assert_int_equal(gcry_sexp_build(&data, NULL, "(data (flags sm2) (hash sm3 %b))", 32, e), 0);
	assert_int_not_equal(gcry_pk_verify(sig, data, key), 0);
	gcry_sexp_release(sig);
	gcry_sexp_release(data);
	gcry_sexp_release(key);

	/* ENTL is 16 bits of bit length: 8191 bytes is the longest id. */
	{
		static char long_id[8192];

		assert_int_equal(sm2_z_digest(curve, pub, long_id, 8191, z), GV_OK);
		assert_int_equal(sm2_z_digest(curve, pub, long_id, 8192, z), GV_ERR_INVALID);
	}
}

static int run(const char *cmd)
{
	print_message("$ %s\n", cmd);
	return system(cmd);
}

static void test_openssl_verifies(void **state)
{
	unsigned char sig[SM2_SIG_MAX];
	struct sm2_key *k = NULL;
	char cmd[1024];
	struct gv_buf pem;
	struct tmp t;
	size_t len;

	(void)state;
	if (access(OPENSSL, X_OK) != 0)
		skip();
	tmp_init(&t);
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	assert_int_equal(sm2_key_save(k, t.path[0]), GV_OK);
	pem_of(k, &pem);
	write_file(t.path[1], pem.data, pem.len);
	write_file(t.path[2], msg, strlen(msg));
	snprintf(cmd, sizeof(cmd), OPENSSL " pkey -in %s -noout", t.path[0]);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), OPENSSL " pkey -pubin -in %s -noout", t.path[1]);
	assert_int_equal(run(cmd), 0);
	/* Several signatures, so that both padded and unpadded integers are exercised. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sm2_sign(k, msg, strlen(msg), sig, &len), GV_OK);
		unlink(t.path[3]);
		write_file(t.path[3], sig, len);
		snprintf(cmd, sizeof(cmd),
			 OPENSSL " pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s -digest sm3 "
			 DISTID " >/dev/null",
			 t.path[1], t.path[2], t.path[3]);
		assert_int_equal(run(cmd), 0);
	}
	buf_release(&pem);
	sm2_key_free(k);
	tmp_release(&t);
}

static void test_openssl_signs(void **state)
{
	struct sm2_key *k = NULL, *k2 = NULL, *pub = NULL;
	struct gv_buf ours;
	char cmd[1024], *text = NULL;
	size_t len = 0;
	struct tmp t;

	(void)state;
	if (access(OPENSSL, X_OK) != 0)
		skip();
	tmp_init(&t);
	assert_int_equal(sm2_key_generate(&k), GV_OK);
	assert_int_equal(sm2_key_save(k, t.path[0]), GV_OK);
	write_file(t.path[2], msg, strlen(msg));
	snprintf(cmd, sizeof(cmd),
		 OPENSSL " pkeyutl -sign -inkey %s -rawin -in %s -digest sm3 " DISTID " -out %s",
		 t.path[0], t.path[2], t.path[3]);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(util_file_read(t.path[3], SM2_SIG_MAX, &text, &len), GV_OK);
	assert_int_equal(sm2_verify(k, msg, strlen(msg), (unsigned char *)text, len), GV_OK);
	free(text);
	text = NULL;

	/* A key and public key made by openssl load too. */
	unlink(t.path[0]);
	snprintf(cmd, sizeof(cmd),
		 "umask 077 && " OPENSSL " genpkey -algorithm SM2 -out %s && " OPENSSL
		 " pkey -in %s -pubout -out %s",
		 t.path[0], t.path[0], t.path[1]);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(sm2_key_load(t.path[0], &k2), GV_OK);
	assert_int_equal(util_file_read(t.path[1], 4096, &text, &len), GV_OK);
	assert_int_equal(sm2_pubkey_from_pem(text, len, &pub), GV_OK);
	pem_of(k2, &ours);
	assert_string_equal(ours.data, text);
	free(text);
	buf_release(&ours);
	sm2_key_free(pub);
	sm2_key_free(k2);
	sm2_key_free(k);
	tmp_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),      cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_public_only),      cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_key_file_contents), cmocka_unit_test(test_pem),
		cmocka_unit_test(test_malformed_der),
		cmocka_unit_test(test_gbt_annex),        cmocka_unit_test(test_openssl_verifies),
		cmocka_unit_test(test_openssl_signs),
	};

	if (crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

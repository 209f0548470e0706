/* keys.c - libgcrypt wrappers for SM3 / HMAC-SM3 / SM4-GCM and the master key file. */
#include "crypto/crypto.h"

#include <gcrypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static gv_err init_result = GV_ERR_CRYPTO;

static void crypto_init_once(void)
{
	if (!gcry_check_version("1.9.0"))
		return;
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	if (gcry_md_test_algo(GCRY_MD_SM3) || gcry_cipher_test_algo(GCRY_CIPHER_SM4))
		return;
	crypto_nonce_fork_guard();
	init_result = GV_OK;
}

gv_err crypto_init(void)
{
	pthread_once(&init_once, crypto_init_once);
	return init_result;
}

gv_err crypto_sm3(const void *data, size_t len, unsigned char out[CRYPTO_SM3_LEN])
{
	gcry_md_hash_buffer(GCRY_MD_SM3, out, data, len);
	return GV_OK;
}

struct crypto_sm3_stream {
	gcry_md_hd_t h;
};

gv_err crypto_sm3_stream_new(struct crypto_sm3_stream **out)
{
	struct crypto_sm3_stream *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return GV_ERR_NOMEM;
	if (gcry_md_open(&s->h, GCRY_MD_SM3, 0)) {
		free(s);
		return GV_ERR_CRYPTO;
	}
	*out = s;
	return GV_OK;
}

void crypto_sm3_stream_update(struct crypto_sm3_stream *s, const void *data, size_t len)
{
	gcry_md_write(s->h, data, len);
}

void crypto_sm3_stream_hex(struct crypto_sm3_stream *s, char out[65])
{
	gcry_md_hd_t copy = NULL;

	/* Reading a digest finalises the handle, so read it from a copy. */
	if (gcry_md_copy(&copy, s->h) == 0) {
		util_hex_encode(gcry_md_read(copy, GCRY_MD_SM3), CRYPTO_SM3_LEN, out);
		gcry_md_close(copy);
	} else {
		out[0] = '\0';
	}
}

void crypto_sm3_stream_free(struct crypto_sm3_stream *s)
{
	if (!s)
		return;
	gcry_md_close(s->h);
	free(s);
}

struct crypto_hmac {
	gcry_md_hd_t h;
};

gv_err crypto_hmac_new(const void *key, size_t keylen, struct crypto_hmac **out)
{
	struct crypto_hmac *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return GV_ERR_NOMEM;
	if (gcry_md_open(&m->h, GCRY_MD_SM3, GCRY_MD_FLAG_HMAC | GCRY_MD_FLAG_SECURE)) {
		free(m);
		return GV_ERR_CRYPTO;
	}
	if (gcry_md_setkey(m->h, key, keylen)) {
		crypto_hmac_free(m);
		return GV_ERR_CRYPTO;
	}
	*out = m;
	return GV_OK;
}

gv_err crypto_hmac_parts(struct crypto_hmac *m, const void *const *parts, const size_t *lens,
			 size_t n, unsigned char out[CRYPTO_SM3_LEN])
{
	gcry_md_reset(m->h);   /* keeps the key */
	for (size_t i = 0; i < n; i++)
		gcry_md_write(m->h, parts[i], lens[i]);
	memcpy(out, gcry_md_read(m->h, GCRY_MD_SM3), CRYPTO_SM3_LEN);
	return GV_OK;
}

void crypto_hmac_free(struct crypto_hmac *m)
{
	if (!m)
		return;
	gcry_md_close(m->h);
	free(m);
}

/* Per thread, the keyed handles of the last few keys crypto_hmac_sm3 was given: opening
 * and keying a handle (secure memory behind libgcrypt's global lock, then the key
 * schedule) costs more than the MAC of a short text, and a request uses the same few
 * service keys again and again.  The copies of the keys are wiped with the handles
 * when the thread ends. */
#define HMAC_CACHE 4
#define HMAC_CACHE_KEY 64

struct hmac_slot {
	unsigned char key[HMAC_CACHE_KEY];
	size_t keylen;
	struct crypto_hmac *m;
	unsigned used;
};

struct hmac_cache {
	struct hmac_slot slot[HMAC_CACHE];
	unsigned clock;
};

static pthread_key_t hmac_cache_key;
static pthread_once_t hmac_cache_once = PTHREAD_ONCE_INIT;
static int hmac_cache_ok;

static void hmac_cache_free(void *p)
{
	struct hmac_cache *c = p;

	for (int i = 0; c && i < HMAC_CACHE; i++)
		crypto_hmac_free(c->slot[i].m);
	if (c)
		util_wipe(c, sizeof(*c));
	free(c);
}

static void hmac_cache_init(void)
{
	hmac_cache_ok = pthread_key_create(&hmac_cache_key, hmac_cache_free) == 0;
}

/* The thread's handle for key, made on first use; NULL when it cannot be cached (the
 * caller then makes one of its own). */
static struct crypto_hmac *hmac_cached(const void *key, size_t keylen)
{
	struct hmac_cache *c;
	struct hmac_slot *victim;

	if (keylen > HMAC_CACHE_KEY || pthread_once(&hmac_cache_once, hmac_cache_init) != 0 ||
	    !hmac_cache_ok)
		return NULL;
	c = pthread_getspecific(hmac_cache_key);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || pthread_setspecific(hmac_cache_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	victim = &c->slot[0];
	for (int i = 0; i < HMAC_CACHE; i++) {
		struct hmac_slot *s = &c->slot[i];

		if (s->m && s->keylen == keylen && util_ct_equal(s->key, key, keylen)) {
			s->used = ++c->clock;
			return s->m;
		}
		if (!s->m || s->used < victim->used)
			victim = s;
	}
	crypto_hmac_free(victim->m);
	util_wipe(victim->key, sizeof(victim->key));
	victim->m = NULL;
	if (crypto_hmac_new(key, keylen, &victim->m) != GV_OK)
		return NULL;
	memcpy(victim->key, key, keylen);
	victim->keylen = keylen;
	victim->used = ++c->clock;
	return victim->m;
}

gv_err crypto_hmac_sm3(const void *key, size_t keylen, const void *data, size_t len,
		       unsigned char out[CRYPTO_SM3_LEN])
{
	struct crypto_hmac *m = hmac_cached(key, keylen), *own = NULL;
	gv_err err = GV_OK;

	if (!m) {
		err = crypto_hmac_new(key, keylen, &own);
		m = own;
	}
	if (err == GV_OK)
		err = crypto_hmac_parts(m, &data, &len, 1, out);
	crypto_hmac_free(own);
	return err;
}

gv_err crypto_hmac_sm3_hex(const void *key, size_t keylen, const char *text, char out[65])
{
	unsigned char mac[CRYPTO_SM3_LEN];
	gv_err err = crypto_hmac_sm3(key, keylen, text, strlen(text), mac);

	if (err == GV_OK)
		util_hex_encode(mac, sizeof(mac), out);
	return err;
}

struct crypto_gcm {
	gcry_cipher_hd_t h;
};

gv_err crypto_gcm_new(const unsigned char key[16], struct crypto_gcm **out)
{
	struct crypto_gcm *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (!g)
		return GV_ERR_NOMEM;
	if (gcry_cipher_open(&g->h, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE)) {
		free(g);
		return GV_ERR_CRYPTO;
	}
	if (gcry_cipher_setkey(g->h, key, 16)) {
		crypto_gcm_free(g);
		return GV_ERR_CRYPTO;
	}
	*out = g;
	return GV_OK;
}

void crypto_gcm_free(struct crypto_gcm *g)
{
	if (!g)
		return;
	gcry_cipher_close(g->h);   /* a secure handle's memory is wiped on close */
	free(g);
}

/* Starts a message under nonce (the key stays set). */
static gv_err gcm_start(struct crypto_gcm *g, const unsigned char *nonce, const void *aad,
			size_t aadlen)
{
	if (gcry_cipher_reset(g->h) || gcry_cipher_setiv(g->h, nonce, CRYPTO_GCM_NONCE) ||
	    (aadlen && gcry_cipher_authenticate(g->h, aad, aadlen)))
		return GV_ERR_CRYPTO;
	return GV_OK;
}

gv_err crypto_gcm_seal(struct crypto_gcm *g, const void *aad, size_t aadlen, const void *plain,
		       size_t len, unsigned char *out)
{
	/* A GCM nonce must never repeat under a key but need not be secret: libgcrypt's
	 * nonce generator is made for that and far cheaper than strong random bytes. */
	crypto_nonce(out, CRYPTO_GCM_NONCE);
	if (gcm_start(g, out, aad, aadlen) != GV_OK ||
	    gcry_cipher_encrypt(g->h, out + CRYPTO_GCM_NONCE, len, plain, len) ||
	    gcry_cipher_gettag(g->h, out + CRYPTO_GCM_NONCE + len, CRYPTO_GCM_TAG))
		return GV_ERR_CRYPTO;
	return GV_OK;
}

gv_err crypto_gcm_open(struct crypto_gcm *g, const void *aad, size_t aadlen,
		       const unsigned char *sealed, size_t len, unsigned char *out)
{
	size_t plen;

	if (len < CRYPTO_SEAL_OVERHEAD)
		return GV_ERR_CRYPTO;
	plen = len - CRYPTO_SEAL_OVERHEAD;
	if (gcm_start(g, sealed, aad, aadlen) != GV_OK ||
	    gcry_cipher_decrypt(g->h, out, plen, sealed + CRYPTO_GCM_NONCE, plen) ||
	    gcry_cipher_checktag(g->h, sealed + CRYPTO_GCM_NONCE + plen, CRYPTO_GCM_TAG)) {
		util_wipe(out, plen);
		return GV_ERR_CRYPTO;
	}
	return GV_OK;
}

gv_err crypto_sm4gcm_seal(const unsigned char key[16], const void *aad, size_t aadlen,
			  const void *plain, size_t len, unsigned char *out)
{
	struct crypto_gcm *g;
	gv_err err = crypto_gcm_new(key, &g);

	if (err == GV_OK)
		err = crypto_gcm_seal(g, aad, aadlen, plain, len, out);
	crypto_gcm_free(g);
	return err;
}

gv_err crypto_sm4gcm_open(const unsigned char key[16], const void *aad, size_t aadlen,
			  const unsigned char *sealed, size_t len, unsigned char *out)
{
	struct crypto_gcm *g;
	gv_err err = crypto_gcm_new(key, &g);

	if (err == GV_OK)
		err = crypto_gcm_open(g, aad, aadlen, sealed, len, out);
	crypto_gcm_free(g);
	return err;
}

gv_err keys_write_file(const char *path, const unsigned char master[KEYS_MASTER_LEN])
{
	char hex[2 * KEYS_MASTER_LEN + 2];
	gv_err err;

	util_hex_encode(master, KEYS_MASTER_LEN, hex);
	hex[2 * KEYS_MASTER_LEN] = '\n';
	hex[2 * KEYS_MASTER_LEN + 1] = '\0';
	err = util_file_write(path, hex, 2 * KEYS_MASTER_LEN + 1, 0600);
	util_wipe(hex, sizeof(hex));
	return err;
}

gv_err keys_create_file(const char *path)
{
	unsigned char master[KEYS_MASTER_LEN];
	gv_err err;

	if (access(path, F_OK) == 0)
		return GV_ERR_EXISTS;
	util_random_bytes(master, sizeof(master));
	err = keys_write_file(path, master);
	util_wipe(master, sizeof(master));
	return err;
}

static gv_err derive(const unsigned char master[32], const char *label, unsigned char *out,
		     size_t outlen)
{
	unsigned char mac[CRYPTO_SM3_LEN];
	gv_err err = crypto_hmac_sm3(master, 32, label, strlen(label), mac);

	if (err == GV_OK)
		memcpy(out, mac, outlen);
	util_wipe(mac, sizeof(mac));
	return err;
}

gv_err keys_load(const char *path, struct gv_keys *out)
{
	unsigned char master[32];
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	gv_err err;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) != 0)
		return GV_ERR_NOT_FOUND;
	/* A key readable by group or others is a misconfiguration, not a warning. */
	if (st.st_mode & 077)
		return GV_ERR_CONFIG;
	err = util_file_read(path, 256, &text, &len);
	if (err != GV_OK)
		return err;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	err = util_hex_decode(text, master, sizeof(master));
	util_free_secret(text);
	if (err != GV_OK)
		return GV_ERR_CONFIG;
	err = keys_derive(master, out);
	util_wipe(master, sizeof(master));
	if (err != GV_OK)
		keys_wipe(out);
	return err;
}

gv_err keys_derive(const unsigned char master[KEYS_MASTER_LEN], struct gv_keys *out)
{
	gv_err err = derive(master, "govvault session token v1", out->token, sizeof(out->token));

	if (err == GV_OK)
		err = derive(master, "govvault recovery code v1", out->recovery, sizeof(out->recovery));
	if (err == GV_OK)
		err = derive(master, "govvault totp secret v1", out->totp, sizeof(out->totp));
	if (err == GV_OK)
		err = derive(master, "govvault audit hash v1", out->audit, sizeof(out->audit));
	if (err == GV_OK)
		err = derive(master, "govvault data kek v1", out->data_kek, sizeof(out->data_kek));
	if (err == GV_OK)
		err = derive(master, "govvault service key wrap v1", out->service_wrap,
			     sizeof(out->service_wrap));
	return err;
}

gv_err keys_kek_check(const struct gv_keys *k, char out[65])
{
	return crypto_hmac_sm3_hex(k->data_kek, sizeof(k->data_kek), "govvault kek check v1", out);
}

void keys_service_pack(const struct gv_keys *k, unsigned char out[KEYS_SERVICE_LEN])
{
	memcpy(out, k->token, 32);
	memcpy(out + 32, k->recovery, 32);
	memcpy(out + 64, k->totp, 16);
	memcpy(out + 80, k->audit, 32);
}

void keys_service_unpack(const unsigned char in[KEYS_SERVICE_LEN], struct gv_keys *k)
{
	memcpy(k->token, in, 32);
	memcpy(k->recovery, in + 32, 32);
	memcpy(k->totp, in + 64, 16);
	memcpy(k->audit, in + 80, 32);
}

void keys_wipe(struct gv_keys *k)
{
	util_wipe(k, sizeof(*k));
}

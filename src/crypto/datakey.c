/* datakey.c - data and blind-index keys: wrapping, field sealing, index tokens. */
#include "crypto/datakey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Associated data binding a wrapped key to its place in the hierarchy. */
static int wrap_aad(enum datakey_kind kind, int64_t dataset_id, int version, char *out,
		    size_t outlen)
{
	return snprintf(out, outlen, "govvault %s key v1|%lld|%d",
			kind == DATAKEY_DATA ? "data" : "index", (long long)dataset_id, version);
}

static size_t key_len(enum datakey_kind kind)
{
	return kind == DATAKEY_DATA ? DATAKEY_LEN : INDEXKEY_LEN;
}

gv_err datakey_new(const unsigned char kek[DATAKEY_LEN], enum datakey_kind kind,
		   int64_t dataset_id, int version, unsigned char *key, unsigned char *wrapped)
{
	char aad[96];
	int n = wrap_aad(kind, dataset_id, version, aad, sizeof(aad));

	util_random_bytes(key, key_len(kind));
	return crypto_sm4gcm_seal(kek, aad, (size_t)n, key, key_len(kind), wrapped);
}

gv_err datakey_unwrap(const unsigned char kek[DATAKEY_LEN], enum datakey_kind kind,
		      int64_t dataset_id, int version, const unsigned char *wrapped, size_t len,
		      unsigned char *key)
{
	char aad[96];
	int n = wrap_aad(kind, dataset_id, version, aad, sizeof(aad));

	if (len != key_len(kind) + CRYPTO_SEAL_OVERHEAD)
		return GV_ERR_CRYPTO;
	return crypto_sm4gcm_open(kek, aad, (size_t)n, wrapped, len, key);
}

gv_err datakey_rewrap(const unsigned char old_kek[DATAKEY_LEN],
		      const unsigned char new_kek[DATAKEY_LEN], enum datakey_kind kind,
		      int64_t dataset_id, int version, const unsigned char *wrapped, size_t len,
		      unsigned char *out)
{
	unsigned char key[INDEXKEY_LEN];
	char aad[96];
	int n = wrap_aad(kind, dataset_id, version, aad, sizeof(aad));
	gv_err err = datakey_unwrap(old_kek, kind, dataset_id, version, wrapped, len, key);

	if (err == GV_OK)
		err = crypto_sm4gcm_seal(new_kek, aad, (size_t)n, key, key_len(kind), out);
	util_wipe(key, sizeof(key));
	return err;
}

/* "dataset|record|field|version": no part may contain the separator, so two places
 * can never share associated data. */
static gv_err seal_aad(int64_t dataset_id, const char *record_id, const char *field,
		       int64_t version, char *out, size_t outlen, size_t *n)
{
	size_t rl = strlen(record_id), fl = strlen(field), k;

	if (memchr(record_id, '|', rl) || memchr(field, '|', fl) ||
	    rl + fl + 2 * UTIL_I64_CHARS + 3 > outlen)
		return GV_ERR_INVALID;
	k = util_fmt_i64(dataset_id, out);
	out[k++] = '|';
	memcpy(out + k, record_id, rl);
	k += rl;
	out[k++] = '|';
	memcpy(out + k, field, fl);
	k += fl;
	out[k++] = '|';
	k += util_fmt_i64(version, out + k);
	*n = k;
	return GV_OK;
}

gv_err datakey_seal_gcm(struct crypto_gcm *g, int64_t dataset_id, const char *record_id,
			const char *field, int64_t version, const void *plain, size_t len,
			struct gv_buf *out)
{
	char aad[384];
	size_t n = 0, start = out->len;
	unsigned char pad[CRYPTO_SEAL_OVERHEAD] = {0};
	gv_err err = seal_aad(dataset_id, record_id, field, version, aad, sizeof(aad), &n);

	/* Grow the buffer by the sealed size, then seal in place behind what it held. */
	if (err == GV_OK)
		err = buf_append(out, plain, len);
	if (err == GV_OK)
		err = buf_append(out, pad, sizeof(pad));
	if (err == GV_OK)
		err = crypto_gcm_seal(g, aad, n, plain, len, (unsigned char *)out->data + start);
	if (err != GV_OK && out->data && out->len > start) {
		util_wipe(out->data + start, out->len - start);
		out->len = start;
	}
	return err;
}

gv_err datakey_open_gcm(struct crypto_gcm *g, int64_t dataset_id, const char *record_id,
			const char *field, int64_t version, const unsigned char *sealed, size_t len,
			struct gv_buf *out)
{
	char aad[384];
	size_t n = 0, start = out->len;
	gv_err err;

	if (len < CRYPTO_SEAL_OVERHEAD)
		return GV_ERR_CRYPTO;
	err = seal_aad(dataset_id, record_id, field, version, aad, sizeof(aad), &n);
	if (err == GV_OK)
		err = buf_append(out, sealed, len - CRYPTO_SEAL_OVERHEAD);   /* room for the plaintext */
	if (err == GV_OK)
		err = crypto_gcm_open(g, aad, n, sealed, len, (unsigned char *)out->data + start);
	if (err != GV_OK && out->data && out->len > start) {
		util_wipe(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
	} else if (err == GV_OK) {
		out->data[out->len] = '\0';
	}
	return err;
}

gv_err datakey_seal(const unsigned char key[DATAKEY_LEN], int64_t dataset_id,
		    const char *record_id, const char *field, int64_t version,
		    const void *plain, size_t len, struct gv_buf *out)
{
	struct crypto_gcm *g;
	gv_err err = crypto_gcm_new(key, &g);

	if (err == GV_OK)
		err = datakey_seal_gcm(g, dataset_id, record_id, field, version, plain, len, out);
	crypto_gcm_free(g);
	return err;
}

gv_err datakey_open(const unsigned char key[DATAKEY_LEN], int64_t dataset_id,
		    const char *record_id, const char *field, int64_t version,
		    const unsigned char *sealed, size_t len, struct gv_buf *out)
{
	struct crypto_gcm *g;
	gv_err err = crypto_gcm_new(key, &g);

	if (err == GV_OK)
		err = datakey_open_gcm(g, dataset_id, record_id, field, version, sealed, len, out);
	crypto_gcm_free(g);
	return err;
}

gv_err datakey_blind_index_mac(struct crypto_hmac *m, const char *field, const char *value,
			       char out[65])
{
	unsigned char mac[CRYPTO_SM3_LEN];
	char small[256], *norm = small;   /* most values are short: no allocation */
	const char *end;
	size_t n;
	gv_err err;

	while (*value == ' ')
		value++;
	end = value + strlen(value);
	while (end > value && end[-1] == ' ')
		end--;
	n = (size_t)(end - value);
	if (n > 65536)
		return GV_ERR_TOO_LARGE;
	if (n > sizeof(small) && !(norm = malloc(n)))
		return GV_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		norm[i] = value[i] >= 'a' && value[i] <= 'z' ? (char)(value[i] - 'a' + 'A') : value[i];
	{
		/* The NUL after the field name separates field and value. */
		const void *parts[2] = {field, norm};
		size_t lens[2] = {strlen(field) + 1, n};

		err = crypto_hmac_parts(m, parts, lens, 2, mac);
	}
	if (err == GV_OK)
		util_hex_encode(mac, DATAKEY_TOKEN_HEX / 2, out);
	util_wipe(norm, n);
	util_wipe(mac, sizeof(mac));
	if (norm != small)
		free(norm);
	return err;
}

gv_err datakey_blind_index(const unsigned char ikey[INDEXKEY_LEN], const char *field,
			   const char *value, char out[65])
{
	struct crypto_hmac *m;
	gv_err err = crypto_hmac_new(ikey, INDEXKEY_LEN, &m);

	if (err == GV_OK)
		err = datakey_blind_index_mac(m, field, value, out);
	crypto_hmac_free(m);
	return err;
}

/* der.c - strict DER reader, INTEGER writer and PEM armour for the SM2 module.
 *
 * Only short lengths (at most two length bytes) are supported: the largest structure
 * SM2 needs is a 138-byte PKCS#8 key.  Base64 is decoded without a temporary copy so
 * that a private key's text never lands in a buffer the caller does not wipe. */
#include "crypto/der.h"

#include <stdint.h>
#include <string.h>

#include "common/util.h"

gv_err der_get(struct der_cur *c, unsigned char tag, struct der_cur *body)
{
	size_t n, hdr = 2;

	if (c->len < 2 || c->p[0] != tag)
		return GV_ERR_INVALID;
	n = c->p[1];
	if (n == 0x81) {
		/* A long form for a length below 128 is BER, not DER. */
		if (c->len < 3 || c->p[2] < 0x80)
			return GV_ERR_INVALID;
		n = c->p[2];
		hdr = 3;
	} else if (n == 0x82) {
		if (c->len < 4 || c->p[2] == 0)
			return GV_ERR_INVALID;
		n = (size_t)c->p[2] << 8 | c->p[3];
		hdr = 4;
	} else if (n >= 0x80) {
		/* Indefinite length (0x80) or wider than anything SM2 needs. */
		return GV_ERR_INVALID;
	}
	if (n > c->len - hdr)
		return GV_ERR_INVALID;
	body->p = c->p + hdr;
	body->len = n;
	c->p += hdr + n;
	c->len -= hdr + n;
	return GV_OK;
}

int der_peek(const struct der_cur *c, unsigned char tag)
{
	return c->len > 0 && c->p[0] == tag;
}

gv_err der_get_uint(struct der_cur *c, unsigned char *out, size_t outlen)
{
	struct der_cur t = *c, v;

	if (der_get(&t, DER_INTEGER, &v) != GV_OK || v.len == 0)
		return GV_ERR_INVALID;
	if (v.p[0] & 0x80)
		return GV_ERR_INVALID; /* negative */
	if (v.p[0] == 0 && v.len > 1) {
		/* A leading zero is allowed only to keep the next byte's high bit unsigned. */
		if (!(v.p[1] & 0x80))
			return GV_ERR_INVALID;
		v.p++;
		v.len--;
	}
	if (v.len > outlen)
		return GV_ERR_INVALID;
	memset(out, 0, outlen - v.len);
	memcpy(out + outlen - v.len, v.p, v.len);
	*c = t;
	return GV_OK;
}

gv_err der_get_fixed(struct der_cur *c, const unsigned char *enc, size_t len)
{
	if (c->len < len || memcmp(c->p, enc, len) != 0)
		return GV_ERR_INVALID;
	c->p += len;
	c->len -= len;
	return GV_OK;
}

size_t der_put_uint(unsigned char *out, const unsigned char *val, size_t len)
{
	size_t pad;

	while (len > 1 && val[0] == 0) {
		val++;
		len--;
	}
	pad = val[0] >> 7;
	out[0] = DER_INTEGER;
	out[1] = (unsigned char)(len + pad);
	out[2] = 0;
	memcpy(out + 2 + pad, val, len);
	return 2 + pad + len;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

gv_err der_pem_encode(struct gv_buf *out, const char *label, const unsigned char *der,
		      size_t len)
{
	size_t old = out->len, i = 0, n = 0;
	char line[65];
	gv_err err;

	err = buf_printf(out, "-----BEGIN %s-----\n", label);
	while (err == GV_OK && i < len) {
		size_t take = len - i < 3 ? len - i : 3;
		uint32_t acc = (uint32_t)der[i] << 16;

		if (take > 1)
			acc |= (uint32_t)der[i + 1] << 8;
		if (take > 2)
			acc |= der[i + 2];
		line[n++] = b64_alphabet[acc >> 18 & 63];
		line[n++] = b64_alphabet[acc >> 12 & 63];
		line[n++] = take > 1 ? b64_alphabet[acc >> 6 & 63] : '=';
		line[n++] = take > 2 ? b64_alphabet[acc & 63] : '=';
		i += take;
		if (n == 64 || i == len) {
			line[n++] = '\n';
			err = buf_append(out, line, n);
			n = 0;
		}
	}
	if (err == GV_OK)
		err = buf_printf(out, "-----END %s-----\n", label);
	util_wipe(line, sizeof(line));
	if (err != GV_OK && out->data) {
		/* The partial text may be a private key: wipe it, not just truncate. */
		util_wipe(out->data + old, out->len - old);
		out->len = old;
		out->data[old] = '\0';
	}
	return err;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 with line breaks allowed anywhere and nothing else: no spaces, padding only
 * in the final quantum, unused bits zero (so every byte string has one encoding). */
static gv_err b64_decode(const char *in, size_t len, unsigned char *out, size_t max,
			 size_t *outlen)
{
	uint32_t acc = 0;
	unsigned quad = 0, pad = 0;
	size_t o = 0;
	int done = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = 0;

		if (c == '\n' || c == '\r')
			continue;
		if (done)
			return GV_ERR_INVALID;
		if (c == '=') {
			if (quad < 2)
				return GV_ERR_INVALID;
			pad++;
		} else if (pad || (v = b64_value(c)) < 0) {
			return GV_ERR_INVALID;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++quad < 4)
			continue;
		if ((pad == 1 && (acc & 0xff)) || (pad == 2 && (acc & 0xffff)))
			return GV_ERR_INVALID;
		if (max - o < 3 - pad)
			return GV_ERR_INVALID;
		out[o++] = (unsigned char)(acc >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(acc >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)acc;
		done = pad > 0;
		quad = 0;
		acc = 0;
	}
	if (quad != 0)
		return GV_ERR_INVALID;
	*outlen = o;
	return GV_OK;
}

static int pem_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

gv_err der_pem_decode(const char *pem, size_t len, const char *label, unsigned char *out,
		      size_t max, size_t *outlen)
{
	const char *p = pem, *stop = pem + len, *body, *tail;
	char begin[64], end[64];
	size_t blen, elen;
	gv_err err;

	*outlen = 0;
	if (snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label) >= (int)sizeof(begin) ||
	    snprintf(end, sizeof(end), "-----END %s-----", label) >= (int)sizeof(end))
		return GV_ERR_INVALID;
	blen = strlen(begin);
	elen = strlen(end);
	while (p < stop && pem_space(*p))
		p++;
	if ((size_t)(stop - p) < blen || memcmp(p, begin, blen) != 0)
		return GV_ERR_INVALID;
	p += blen;
	if (p < stop && *p == '\r')
		p++;
	if (p >= stop || *p != '\n')
		return GV_ERR_INVALID;
	body = p + 1;
	/* body[-1] is the BEGIN line's '\n', so tail[-1] below is always inside pem. */
	tail = memmem(body, (size_t)(stop - body), end, elen);
	if (!tail || tail[-1] != '\n')
		return GV_ERR_INVALID;
	for (p = tail + elen; p < stop; p++)
		if (!pem_space(*p))
			return GV_ERR_INVALID;
	err = b64_decode(body, (size_t)(tail - body), out, max, outlen);
	if (err != GV_OK) {
		util_wipe(out, max);
		*outlen = 0;
	}
	return err;
}

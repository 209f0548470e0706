/* jsonw.c - compact JSON writing without a second UTF-8 pass. */
#include "data/jsonw.h"

#include <math.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define DEPTH_MAX 64

/* Whether any of the 8 bytes in w needs an escape (< 0x20, '"' or '\\').  Bytes with
 * the high bit set never do, so they are masked out of each test. */
static int word_needs_escape(uint64_t w)
{
	/* != 0, not a conversion to int: that would drop the upper four bytes. */
	return (((w - UTIL_ONES * 0x20) & ~w & UTIL_HIGHS) | UTIL_ZERO_BYTE(w ^ (UTIL_ONES * '"')) |
		UTIL_ZERO_BYTE(w ^ (UTIL_ONES * '\\'))) != 0;
}

size_t jsonw_plain_len(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t w;

	/* Values are mostly plain text: pass it 16 bytes at a time where SSE2 is (every
	 * x86-64), then 8. */
#ifdef __SSE2__
	while (i + 16 <= len) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
		__m128i esc = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
					   _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
		int m = _mm_movemask_epi8(_mm_or_si128(ctl, esc));

		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
		i += 16;
	}
#endif
	while (i + 8 <= len) {
		memcpy(&w, s + i, 8);
		if (word_needs_escape(w))
			break;
		i += 8;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			break;
	return i;
}

/* Appends "<s>", preceded by pre (npre bytes) and followed by post (npost), for an s
 * that needs no escape (most strings, and every field name): one reservation and one
 * copy. */
static gv_err put_plain(struct gv_buf *out, const char *pre, size_t npre, const char *s, size_t len,
			const char *post, size_t npost)
{
	gv_err err = len > SIZE_MAX - 8 ? GV_ERR_TOO_LARGE : buf_reserve(out, npre + len + 2 + npost);
	char *p;

	if (err != GV_OK)
		return err;
	p = out->data + out->len;
	memcpy(p, pre, npre);
	p += npre;
	*p++ = '"';
	memcpy(p, s, len);
	p += len;
	*p++ = '"';
	memcpy(p, post, npost);
	buf_advance(out, npre + len + 2 + npost);
	return GV_OK;
}

/* Appends "<s>" escaped; s[0..plain) needs no escape (jsonw_plain_len). */
static gv_err put_escaped(struct gv_buf *out, const char *s, size_t len, size_t plain)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	gv_err err = buf_append(out, "\"", 1);

	for (size_t i = plain; err == GV_OK && i < len; i++) {
		unsigned char c;
		char esc[6];
		size_t n = 0;

		i += jsonw_plain_len(s + i, len - i);
		if (i == len)
			break;
		c = (unsigned char)s[i];
		/* Flush the plain run before this byte, then its escape. */
		err = buf_append(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': memcpy(esc, "\\\"", 2); n = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); n = 2; break;
		case '\n': memcpy(esc, "\\n", 2); n = 2; break;
		case '\r': memcpy(esc, "\\r", 2); n = 2; break;
		case '\t': memcpy(esc, "\\t", 2); n = 2; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (err == GV_OK)
			err = buf_append(out, esc, n);
	}
	if (err == GV_OK)
		err = buf_append(out, s + run, len - run);
	if (err == GV_OK)
		err = buf_append(out, "\"", 1);
	return err;
}

static gv_err put_string(struct gv_buf *out, const char *s, size_t len)
{
	size_t plain = jsonw_plain_len(s, len);

	return plain == len ? put_plain(out, "", 0, s, len, "", 0) : put_escaped(out, s, len, plain);
}

static gv_err put_value(struct gv_buf *out, const json_t *v, int depth);

static gv_err put_member(struct gv_buf *out, const char *key, const json_t *v, int first,
			 int depth)
{
	size_t klen = strlen(key), plain = jsonw_plain_len(key, klen);
	gv_err err;

	if (plain == klen) {
		err = put_plain(out, ",", !first, key, klen, ":", 1);
	} else {
		err = first ? GV_OK : buf_append(out, ",", 1);
		if (err == GV_OK)
			err = put_escaped(out, key, klen, plain);
		if (err == GV_OK)
			err = buf_append(out, ":", 1);
	}
	return err == GV_OK ? put_value(out, v, depth) : err;
}

static gv_err put_object(struct gv_buf *out, const json_t *v, int depth)
{
	const char *k;
	json_t *x;
	int first = 1;
	gv_err err = buf_append(out, "{", 1);

	json_object_foreach((json_t *)v, k, x) {
		if (err == GV_OK)
			err = put_member(out, k, x, first, depth + 1);
		first = 0;
		if (err != GV_OK)
			break;
	}
	return err == GV_OK ? buf_append(out, "}", 1) : err;
}

static gv_err put_value(struct gv_buf *out, const json_t *v, int depth)
{
	char num[40];
	int n;
	gv_err err = GV_OK;

	if (depth > DEPTH_MAX)
		return GV_ERR_INVALID;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(out, v, depth);
	case JSON_ARRAY:
		err = buf_append(out, "[", 1);
		for (size_t i = 0; err == GV_OK && i < json_array_size(v); i++) {
			if (i)
				err = buf_append(out, ",", 1);
			if (err == GV_OK)
				err = put_value(out, json_array_get(v, i), depth + 1);
		}
		return err == GV_OK ? buf_append(out, "]", 1) : err;
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return buf_append(out, num, util_fmt_i64(json_integer_value(v), num));
	case JSON_REAL:
		if (!isfinite(json_real_value(v)))
			return GV_ERR_INVALID;
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		/* Keep it a real when read back: jansson writes 1.0, not 1. */
		if (!strpbrk(num, ".eE") && n + 2 < (int)sizeof(num)) {
			memcpy(num + n, ".0", 3);
			n += 2;
		}
		return buf_append(out, num, (size_t)n);
	case JSON_TRUE:
		return buf_append(out, "true", 4);
	case JSON_FALSE:
		return buf_append(out, "false", 5);
	default:
		return buf_append(out, "null", 4);
	}
}

gv_err jsonw_append(struct gv_buf *out, const json_t *v)
{
	return put_value(out, v, 0);
}

gv_err jsonw_append_member(struct gv_buf *out, const char *key, const json_t *v, int first)
{
	return put_member(out, key, v, first, 1);
}

gv_err jsonw_append_string(struct gv_buf *out, const char *s, size_t len)
{
	return put_string(out, s, len);
}

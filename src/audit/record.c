/* record.c - canonical encoding of audit records (see record.h for the layout). */
#include "audit/record.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The text fields in encoding order.  Appending a field needs a new format version:
 * old chains must keep verifying byte for byte. */
#define REC_FIELDS(X) \
	X(node) X(request_id) X(actor) X(roles) X(session) X(source) X(device_fp) \
	X(action) X(object) X(purpose) X(decision) X(reason) X(masked) X(body_sm3) \
	X(params) X(detail)

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static gv_err put_text(struct gv_buf *out, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	unsigned char len[2];
	gv_err err;

	if (n >= cap)
		return GV_ERR_INVALID;   /* not NUL-terminated: a caller bug, not data */
	len[0] = (unsigned char)(n >> 8);
	len[1] = (unsigned char)n;
	err = buf_append(out, len, 2);
	if (err == GV_OK && n)
		err = buf_append(out, s, n);
	return err;
}

gv_err audit_rec_encode(const struct audit_rec *r, struct gv_buf *out)
{
	unsigned char head[21];
	gv_err err;

	put_u64(head, (uint64_t)r->seq);
	put_u64(head + 8, (uint64_t)r->ts_us);
	head[16] = (unsigned char)r->kind;
	head[17] = (unsigned char)((uint32_t)r->status >> 24);
	head[18] = (unsigned char)((uint32_t)r->status >> 16);
	head[19] = (unsigned char)((uint32_t)r->status >> 8);
	head[20] = (unsigned char)(uint32_t)r->status;
	err = buf_append(out, head, sizeof(head));
#define X(f) if (err == GV_OK) err = put_text(out, r->f, sizeof(r->f));
	REC_FIELDS(X)
#undef X
	return err;
}

/* Reads one length-prefixed text field at *pos into dst (cap bytes with NUL). */
static gv_err get_text(const unsigned char *data, size_t len, size_t *pos, char *dst, size_t cap)
{
	size_t n;

	if (len - *pos < 2)
		return GV_ERR_INVALID;
	n = ((size_t)data[*pos] << 8) | data[*pos + 1];
	*pos += 2;
	if (n >= cap || len - *pos < n || memchr(data + *pos, '\0', n))
		return GV_ERR_INVALID;
	memcpy(dst, data + *pos, n);
	dst[n] = '\0';
	*pos += n;
	return GV_OK;
}

gv_err audit_rec_decode(const unsigned char *data, size_t len, struct audit_rec *out)
{
	size_t pos = 21;
	gv_err err = GV_OK;

	memset(out, 0, sizeof(*out));
	if (len < pos)
		return GV_ERR_INVALID;
	out->seq = (int64_t)get_u64(data);
	out->ts_us = (int64_t)get_u64(data + 8);
	out->kind = data[16];
	out->status = (int)(((uint32_t)data[17] << 24) | ((uint32_t)data[18] << 16) |
			    ((uint32_t)data[19] << 8) | data[20]);
	if (out->kind < AUDIT_KIND_REQUEST || out->kind > AUDIT_KIND_CHECKPOINT || out->seq < 1)
		return GV_ERR_INVALID;
#define X(f) if (err == GV_OK) err = get_text(data, len, &pos, out->f, sizeof(out->f));
	REC_FIELDS(X)
#undef X
	if (err == GV_OK && pos != len)
		err = GV_ERR_INVALID;
	return err;
}

const char *audit_kind_name(int kind)
{
	switch (kind) {
	case AUDIT_KIND_REQUEST: return "request";
	case AUDIT_KIND_EVENT: return "event";
	case AUDIT_KIND_CHECKPOINT: return "checkpoint";
	default: return "unknown";
	}
}

void audit_time_format(int64_t ts_us, char out[AUDIT_TIME_LEN])
{
	time_t s = (time_t)(ts_us / 1000000);
	struct tm tm;

	if (ts_us < 0 || !gmtime_r(&s, &tm)) {
		snprintf(out, AUDIT_TIME_LEN, "invalid");
		return;
	}
	snprintf(out, AUDIT_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_us % 1000000));
}

gv_err audit_rec_peek(const unsigned char *data, size_t len, int64_t *seq, int64_t *ts_us, int *kind)
{
	if (len < 21)
		return GV_ERR_INVALID;
	*seq = (int64_t)get_u64(data);
	*ts_us = (int64_t)get_u64(data + 8);
	*kind = data[16];
	return GV_OK;
}

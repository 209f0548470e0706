/* csvread.c - the incremental CSV reader: one byte-driven state machine.
 *
 * Every input byte is consumed exactly once, by the handler of the state the reader is
 * in, and the handlers never look ahead.  That is what makes the result independent of
 * where the chunks were cut: the only things carried across a chunk boundary are the
 * state, the counters, a pending CR (which may yet turn out to be half of a CRLF) and a
 * UTF-8 sequence in progress.  Runs of ordinary field bytes are handled a run at a time
 * for speed, but a run is capped at the remaining field and row budget so that a limit
 * is always detected at the same byte.
 *
 * Checks on one byte happen in a fixed order: limits, then UTF-8, then the byte's
 * meaning; a row keeps the first error found.  Limit errors switch to ST_SKIP without
 * consuming the byte, so ST_SKIP sees it (it may be the LF that ends the record).
 *
 * Memory: raw (the record as received, at most max_row_bytes), fbuf (the unescaped
 * fields of the record, each followed by a NUL) and the field index arrays.  They are
 * emptied, not freed, between records, so steady state allocates nothing. */
#include "data/csvread.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "common/buf.h"
#include "common/util.h"
#include "data/bom.h"

enum csv_state {
	ST_FIELD_START,     /* before the first byte of a field */
	ST_UNQUOTED,        /* inside an unquoted field */
	ST_QUOTED,          /* inside a quoted field */
	ST_QUOTE_IN_QUOTED, /* just after a '"' inside quotes: "" escape or closing quote */
	ST_AFTER_QUOTE,     /* after a closing quote: only , CR LF may follow */
	ST_SKIP,            /* the row failed; everything up to the next LF is its rest */
};

/* A field of the record being read, as an offset into fbuf (fbuf may move). */
struct csv_field {
	size_t off;
	size_t len;
};

struct csv_reader {
	struct csv_limits lim;
	csv_row_fn on_row;
	void *ctx;
	gv_err failed;        /* sticky: GV_OK until a callback or allocation fails */
	int finished;

	struct bom_state bom;

	uint64_t offset;      /* input offset of the next byte */
	uint64_t line;        /* physical line of the next byte */
	uint64_t row_no;      /* records and blank lines completed */

	/* The record being read. */
	enum csv_state st;
	uint64_t rec_offset;
	uint64_t rec_line;
	uint64_t rec_bytes;   /* bytes so far, line end and a pending CR excluded */
	int pending_cr;       /* a CR outside quotes whose meaning depends on the next byte */
	int cr_carried;       /* ...and it came in an earlier chunk (so it is not in raw yet) */
	uint64_t cr_offset;
	enum csv_status status;
	uint64_t err_offset;
	uint64_t quote_offset; /* of the opening quote of the current quoted field */
	size_t field_len;     /* bytes of the current field, counted even when not stored */
	size_t field_off;     /* where the current field starts in fbuf */
	size_t nfields;       /* fields completed and stored (only while status is OK) */
	struct gv_buf raw;
	int raw_truncated;
	struct gv_buf fbuf;
	struct csv_field *fld;
	struct csv_slice *out;
	size_t fcap;

	/* A UTF-8 sequence in progress: continuation bytes still needed and the range the
	 * next one must fall in (narrower after E0, ED, F0, F4: no overlongs, surrogates or
	 * code points past U+10FFFF). */
	unsigned u8_need;
	unsigned char u8_lo, u8_hi;
	uint64_t u8_start;

	struct csv_stats stats;
};

/* Bytes that end a run of ordinary field bytes: bit 1 outside quotes, bit 2 inside. */
#define SP_UNQ 1
#define SP_QUO 2
static const unsigned char special[256] = {
	['\0'] = SP_UNQ | SP_QUO, ['\n'] = SP_UNQ | SP_QUO, ['"'] = SP_UNQ | SP_QUO,
	['\r'] = SP_UNQ, [','] = SP_UNQ,
};

/* Whether one of the 8 bytes in w may be special under mask: every byte that
 * special[] marks under it must be tested here.  A word without any is passed whole;
 * the test has no false negatives, and a false positive only sends the word to the byte
 * loop. */
static int word_special(uint64_t w, unsigned mask)
{
	uint64_t t = UTIL_ZERO_BYTE(w) | UTIL_ZERO_BYTE(w ^ (UTIL_ONES * '\n')) |
		     UTIL_ZERO_BYTE(w ^ (UTIL_ONES * '"'));

	if (mask & SP_UNQ)
		t |= UTIL_ZERO_BYTE(w ^ (UTIL_ONES * '\r')) | UTIL_ZERO_BYTE(w ^ (UTIL_ONES * ','));
	return t != 0;
}

#ifdef __SSE2__
/* Bytes of the 16 at p that special[] may mark under mask, as a bit mask (bit i for
 * p[i]); the same bytes as word_special tests. */
static unsigned special16(const unsigned char *p, unsigned mask)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i t = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_setzero_si128()),
				 _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
					      _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))));

	if (mask & SP_UNQ)
		t = _mm_or_si128(t, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')),
						 _mm_cmpeq_epi8(x, _mm_set1_epi8(','))));
	return (unsigned)_mm_movemask_epi8(t);
}
#endif

static const char *const status_text[CSV_STATUS__COUNT] = {
	[CSV_OK] = "ok",
	[CSV_ERR_UNTERMINATED_QUOTE] = "unterminated quoted field at end of input",
	[CSV_ERR_QUOTE_IN_FIELD] = "quote character inside an unquoted field",
	[CSV_ERR_AFTER_QUOTE] = "characters after the closing quote of a field",
	[CSV_ERR_BAD_UTF8] = "invalid UTF-8",
	[CSV_ERR_NUL] = "NUL byte",
	[CSV_ERR_BARE_CR] = "carriage return not followed by a line feed",
	[CSV_ERR_FIELD_TOO_LONG] = "field longer than the limit",
	[CSV_ERR_TOO_MANY_FIELDS] = "more fields than the limit",
	[CSV_ERR_ROW_TOO_LONG] = "row longer than the limit",
};

const char *csv_status_text(enum csv_status st)
{
	if ((unsigned)st >= CSV_STATUS__COUNT)
		return "unknown CSV status";
	return status_text[st];
}

/* Empties a buffer but keeps its storage for the next record. */
static void buf_empty(struct gv_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* The row keeps its first error. */
static void row_fail(struct csv_reader *r, enum csv_status st, uint64_t at)
{
	if (r->status != CSV_OK)
		return;
	r->status = st;
	r->err_offset = at;
}

/* A limit or quoting error at byte `at`: the row fails and, since the quoting of the
 * rest of the line can no longer be trusted, the record now ends at the next LF. */
static void row_resync(struct csv_reader *r, enum csv_status st, uint64_t at)
{
	row_fail(r, st, at);
	r->st = ST_SKIP;
}

/* Feeds one byte at input offset `at` to the UTF-8 check; only while the row is OK. */
static void u8_step(struct csv_reader *r, unsigned char c, uint64_t at)
{
	if (r->u8_need) {
		if (c >= r->u8_lo && c <= r->u8_hi) {
			r->u8_need--;
			r->u8_lo = 0x80;
			r->u8_hi = 0xBF;
			return;
		}
		/* Truncated sequence: reported at its first byte.  The row has failed, so
		 * the byte need not be looked at again as a lead byte. */
		r->u8_need = 0;
		row_fail(r, CSV_ERR_BAD_UTF8, r->u8_start);
		return;
	}
	if (c < 0x80)
		return;
	r->u8_start = at;
	r->u8_lo = 0x80;
	r->u8_hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		r->u8_need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		r->u8_need = 2;
		if (c == 0xE0)
			r->u8_lo = 0xA0;
		else if (c == 0xED)
			r->u8_hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		r->u8_need = 3;
		if (c == 0xF0)
			r->u8_lo = 0x90;
		else if (c == 0xF4)
			r->u8_hi = 0x8F;
	} else {
		row_fail(r, CSV_ERR_BAD_UTF8, at);
	}
}

/* Appends to raw what still fits; the rest of an over-long record is only counted. */
static gv_err raw_put(struct csv_reader *r, const unsigned char *p, size_t n)
{
	size_t room = r->raw.max - r->raw.len;

	if (n > room) {
		r->raw_truncated = 1;
		n = room;
	}
	if (n == 0)
		return GV_OK;
	return buf_append(&r->raw, p, n);
}

/* Accounts one record byte c at `at` that is not field data (a quote, a comma).
 * Returns 0 when it fits; otherwise the row fails, the reader is in ST_SKIP and the
 * byte is left for it. */
static int take_byte(struct csv_reader *r, unsigned char c, uint64_t at)
{
	if (r->rec_bytes >= r->lim.max_row_bytes) {
		row_resync(r, CSV_ERR_ROW_TOO_LONG, at);
		return -1;
	}
	r->rec_bytes++;
	if (r->status == CSV_OK)
		u8_step(r, c, at);
	return 0;
}

/* The same for one byte of field data (LF inside quotes, an escaped quote, a NUL). */
static int take_field_byte(struct csv_reader *r, unsigned char c, uint64_t at)
{
	if (r->field_len >= r->lim.max_field_bytes) {
		row_resync(r, CSV_ERR_FIELD_TOO_LONG, at);
		return -1;
	}
	if (take_byte(r, c, at) != 0)
		return -1;
	r->field_len++;
	return 0;
}

/* Stores one byte of field data while the row is still OK. */
static gv_err field_put(struct csv_reader *r, unsigned char c)
{
	if (r->status != CSV_OK)
		return GV_OK;
	return buf_append(&r->fbuf, &c, 1);
}

/* Consumes the run of ordinary field bytes at p[0..n) (input offset `at`): counts,
 * validates and stores them.  Stops before a byte with a meaning in this state; when a
 * budget runs out with more field bytes waiting, the row fails at that byte. */
static gv_err content_run(struct csv_reader *r, const unsigned char *p, size_t n,
			  uint64_t at, unsigned mask, size_t *used)
{
	size_t room_row = r->lim.max_row_bytes - (size_t)r->rec_bytes;
	size_t room_field = r->lim.max_field_bytes - r->field_len;
	size_t cap = n, k = 0;
	gv_err err = GV_OK;

	if (cap > room_row)
		cap = room_row;
	if (cap > room_field)
		cap = room_field;
	/* Field text is mostly plain: 16 bytes at a time where SSE2 is (every x86-64),
	 * then 8. */
#ifdef __SSE2__
	while (k + 16 <= cap) {
		unsigned m = special16(p + k, mask);

		if (m) {
			k += (size_t)__builtin_ctz(m);
			break;
		}
		k += 16;
	}
#endif
	while (k + 8 <= cap) {
		uint64_t w;

		memcpy(&w, p + k, 8);
		if (word_special(w, mask))
			break;
		k += 8;
	}
	while (k < cap && !(special[p[k]] & mask))
		k++;
	if (r->status == CSV_OK) {
		for (size_t j = 0; j < k && r->status == CSV_OK; j++) {
			uint64_t w;

			/* ASCII needs no UTF-8 step: skip it 16 or 8 bytes at a time. */
#ifdef __SSE2__
			while (!r->u8_need && j + 16 <= k &&
			       !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + j))))
				j += 16;
#endif
			while (!r->u8_need && j + 8 <= k) {
				memcpy(&w, p + j, 8);
				if (w & UTIL_HIGHS)
					break;
				j += 8;
			}
			if (j == k)
				break;
			if (p[j] >= 0x80 || r->u8_need)
				u8_step(r, p[j], at + j);
		}
		if (r->status == CSV_OK && k > 0)
			err = buf_append(&r->fbuf, p, k);
	}
	r->rec_bytes += k;
	r->field_len += k;
	if (k == cap && k < n && !(special[p[k]] & mask))
		row_resync(r, room_field <= room_row ? CSV_ERR_FIELD_TOO_LONG : CSV_ERR_ROW_TOO_LONG,
			  at + k);
	*used = k;
	return err;
}

/* Makes room for one more field index entry (at most max_fields). */
static gv_err fields_grow(struct csv_reader *r)
{
	size_t cap = r->fcap ? r->fcap * 2 : 16;
	struct csv_field *fld;
	struct csv_slice *out;

	if (cap > r->lim.max_fields)
		cap = r->lim.max_fields;
	if (cap <= r->nfields)
		return GV_ERR_STATE; /* unreachable: commas check max_fields first */
	fld = realloc(r->fld, cap * sizeof(*fld));
	if (!fld)
		return GV_ERR_NOMEM;
	r->fld = fld;
	out = realloc(r->out, cap * sizeof(*out));
	if (!out)
		return GV_ERR_NOMEM;
	r->out = out;
	r->fcap = cap;
	return GV_OK;
}

/* Completes the current field (only while the row is OK): index entry plus a NUL. */
static gv_err field_end(struct csv_reader *r)
{
	gv_err err;

	if (r->nfields == r->fcap && (err = fields_grow(r)) != GV_OK)
		return err;
	r->fld[r->nfields].off = r->field_off;
	r->fld[r->nfields].len = r->fbuf.len - r->field_off;
	r->nfields++;
	if ((err = buf_append(&r->fbuf, "", 1)) != GV_OK)
		return err;
	r->field_off = r->fbuf.len;
	return GV_OK;
}

/* A comma outside quotes (already accounted): the field ends and another begins. */
static gv_err comma(struct csv_reader *r, uint64_t at)
{
	gv_err err = GV_OK;

	if (r->status == CSV_OK) {
		if (r->nfields + 1 >= r->lim.max_fields)
			row_fail(r, CSV_ERR_TOO_MANY_FIELDS, at);
		else
			err = field_end(r);
	}
	r->field_len = 0;
	r->st = ST_FIELD_START;
	return err;
}

static void record_reset(struct csv_reader *r, uint64_t next_offset)
{
	r->st = ST_FIELD_START;
	r->rec_offset = next_offset;
	r->rec_line = r->line;
	r->rec_bytes = 0;
	r->status = CSV_OK;
	r->err_offset = 0;
	r->quote_offset = 0;
	r->field_len = 0;
	r->field_off = 0;
	r->nfields = 0;
	r->raw_truncated = 0;
	r->u8_need = 0;
	buf_empty(&r->raw);
	buf_empty(&r->fbuf);
}

/* Hands the record to the callback and starts the next one.  eol: bytes of its line
 * end (0 at end of input, 1 for LF, 2 for CRLF). */
static gv_err record_deliver(struct csv_reader *r, unsigned eol)
{
	struct csv_row row = {0};
	gv_err err = GV_OK;

	if (r->st != ST_SKIP && r->st != ST_QUOTED && r->status == CSV_OK &&
	    (err = field_end(r)) != GV_OK)
		return err;
	row.row_no = ++r->row_no;
	row.line_no = r->rec_line;
	row.offset = r->rec_offset;
	row.size = r->rec_bytes + eol;
	row.raw.ptr = r->raw.data ? r->raw.data : "";
	row.raw.len = r->raw.len;
	row.raw_truncated = r->raw_truncated;
	row.status = r->status;
	if (r->status != CSV_OK) {
		row.reason = status_text[r->status];
		row.err_offset = r->err_offset;
		r->stats.bad_rows++;
	} else {
		for (size_t k = 0; k < r->nfields; k++) {
			r->out[k].ptr = r->fbuf.data + r->fld[k].off;
			r->out[k].len = r->fld[k].len;
		}
		row.nfields = r->nfields;
		row.fields = r->out;
	}
	r->stats.rows++;
	err = r->on_row(r->ctx, &row);
	record_reset(r, row.offset + row.size);
	return err;
}

/* The pending CR turned out not to start a CRLF. */
static gv_err cr_bare(struct csv_reader *r)
{
	r->pending_cr = 0;
	if (r->st != ST_SKIP && r->rec_bytes >= r->lim.max_row_bytes)
		row_resync(r, CSV_ERR_ROW_TOO_LONG, r->cr_offset);
	r->rec_bytes++;
	row_fail(r, CSV_ERR_BARE_CR, r->cr_offset);
	if (r->cr_carried) {
		/* It was held back from raw at the end of its chunk. */
		r->cr_carried = 0;
		return raw_put(r, (const unsigned char *)"\r", 1);
	}
	return GV_OK;
}

/* The LF at p[i] ends the record (or a blank line). */
static gv_err record_end(struct csv_reader *r, const unsigned char *p, size_t i,
			 size_t *raw_from)
{
	uint64_t at = r->offset + i;
	unsigned eol = 1 + (unsigned)r->pending_cr;
	/* A CR of this chunk is inside [raw_from, i); one carried over never entered raw. */
	size_t end = i - (r->pending_cr && !r->cr_carried ? 1 : 0);
	gv_err err;

	if (r->status == CSV_OK)
		u8_step(r, '\n', at);
	r->pending_cr = 0;
	r->cr_carried = 0;
	err = raw_put(r, p + *raw_from, end - *raw_from);
	*raw_from = i + 1;
	r->line++;
	if (err != GV_OK)
		return err;
	if (r->st == ST_FIELD_START && r->nfields == 0 && r->rec_bytes == 0) {
		r->row_no++;
		r->stats.blank_lines++;
		r->stats.blank_bytes += eol;
		record_reset(r, at + 1);
		return GV_OK;
	}
	return record_deliver(r, eol);
}

/* A CR outside quotes: its meaning waits for the next byte. */
static void cr_seen(struct csv_reader *r, uint64_t at)
{
	if (r->status == CSV_OK)
		u8_step(r, '\r', at);
	r->pending_cr = 1;
	r->cr_offset = at;
}

/* Runs the state machine over p[0..len), which starts at input offset r->offset. */
static gv_err csv_scan(struct csv_reader *r, const unsigned char *p, size_t len)
{
	size_t i = 0, raw_from = 0, used;
	gv_err err = GV_OK;

	while (i < len) {
		unsigned char c = p[i];
		uint64_t at = r->offset + i;

		if (r->pending_cr && c != '\n' && (err = cr_bare(r)) != GV_OK)
			goto out;
		switch (r->st) {
		case ST_FIELD_START:
			if (c == '"') {
				if (take_byte(r, c, at) == 0) {
					r->quote_offset = at;
					r->st = ST_QUOTED;
					i++;
				}
			} else if (c == ',') {
				if (take_byte(r, c, at) == 0) {
					if ((err = comma(r, at)) != GV_OK)
						goto out;
					i++;
				}
			} else if (c == '\n') {
				if ((err = record_end(r, p, i, &raw_from)) != GV_OK)
					goto out;
				i++;
			} else if (c == '\r') {
				cr_seen(r, at);
				i++;
			} else {
				r->st = ST_UNQUOTED;
			}
			break;
		case ST_UNQUOTED:
			if ((err = content_run(r, p + i, len - i, at, SP_UNQ, &used)) != GV_OK)
				goto out;
			i += used;
			if (i == len || r->st == ST_SKIP)
				break;
			c = p[i];
			at = r->offset + i;
			if (c == ',') {
				if (take_byte(r, c, at) == 0) {
					if ((err = comma(r, at)) != GV_OK)
						goto out;
					i++;
				}
			} else if (c == '\n') {
				if ((err = record_end(r, p, i, &raw_from)) != GV_OK)
					goto out;
				i++;
			} else if (c == '\r') {
				cr_seen(r, at);
				i++;
			} else if (c == '"') {
				if (take_byte(r, c, at) == 0) {
					row_resync(r, CSV_ERR_QUOTE_IN_FIELD, at);
					i++;
				}
			} else { /* NUL */
				if (take_field_byte(r, c, at) == 0) {
					row_fail(r, CSV_ERR_NUL, at);
					i++;
				}
			}
			break;
		case ST_QUOTED:
			if ((err = content_run(r, p + i, len - i, at, SP_QUO, &used)) != GV_OK)
				goto out;
			i += used;
			if (i == len || r->st == ST_SKIP)
				break;
			c = p[i];
			at = r->offset + i;
			if (c == '"') {
				if (take_byte(r, c, at) == 0) {
					r->st = ST_QUOTE_IN_QUOTED;
					i++;
				}
			} else if (take_field_byte(r, c, at) == 0) { /* LF or NUL */
				if (c == '\n') {
					r->line++;
					if ((err = field_put(r, c)) != GV_OK)
						goto out;
				} else {
					row_fail(r, CSV_ERR_NUL, at);
				}
				i++;
			}
			break;
		case ST_QUOTE_IN_QUOTED:
			if (c == '"') {
				if (take_field_byte(r, c, at) == 0) {
					if ((err = field_put(r, c)) != GV_OK)
						goto out;
					r->st = ST_QUOTED;
					i++;
				}
			} else {
				r->st = ST_AFTER_QUOTE;
			}
			break;
		case ST_AFTER_QUOTE:
			if (c == ',') {
				if (take_byte(r, c, at) == 0) {
					if ((err = comma(r, at)) != GV_OK)
						goto out;
					i++;
				}
			} else if (c == '\n') {
				if ((err = record_end(r, p, i, &raw_from)) != GV_OK)
					goto out;
				i++;
			} else if (c == '\r') {
				cr_seen(r, at);
				i++;
			} else {
				row_resync(r, CSV_ERR_AFTER_QUOTE, at);
			}
			break;
		case ST_SKIP:
			if (c == '\n') {
				if ((err = record_end(r, p, i, &raw_from)) != GV_OK)
					goto out;
				i++;
			} else if (c == '\r') {
				cr_seen(r, at);
				i++;
			} else {
				used = 1;
				while (i + used < len && p[i + used] != '\n' && p[i + used] != '\r')
					used++;
				r->rec_bytes += used;
				i += used;
			}
			break;
		}
	}
	/* A CR at the very end may be half of a CRLF: keep it out of raw until we know. */
	err = raw_put(r, p + raw_from, len - raw_from - (r->pending_cr ? 1 : 0));
	if (r->pending_cr)
		r->cr_carried = 1;
	r->offset += len;
out:
	return err;
}

gv_err csv_reader_new(const struct csv_limits *lim, csv_row_fn on_row, void *ctx,
		      struct csv_reader **out)
{
	struct csv_reader *r = NULL;

	*out = NULL;
	if (!lim || !on_row || lim->max_row_bytes < 1 || lim->max_row_bytes > CSV_ROW_BYTES_MAX ||
	    lim->max_field_bytes < 1 || lim->max_field_bytes > lim->max_row_bytes ||
	    lim->max_fields < 1 || lim->max_fields > CSV_FIELDS_MAX)
		return GV_ERR_INVALID;
	r = calloc(1, sizeof(*r));
	if (!r)
		return GV_ERR_NOMEM;
	r->lim = *lim;
	r->on_row = on_row;
	r->ctx = ctx;
	buf_init(&r->raw, lim->max_row_bytes);
	/* Unescaped data is never longer than the record, plus one NUL per field. */
	buf_init(&r->fbuf, lim->max_row_bytes + lim->max_fields);
	r->line = 1;
	record_reset(r, 0);
	*out = r;
	return GV_OK;
}

/* Remembers the first error for good: after a failed callback or allocation the
 * reader's state is no longer meaningful. */
static gv_err reader_fail(struct csv_reader *r, gv_err err)
{
	if (err != GV_OK)
		r->failed = err;
	return err;
}

/* The held bytes turned out not to be a BOM: they are ordinary input. */
static gv_err bom_replay(struct csv_reader *r)
{
	r->bom.done = 1;
	return r->bom.nheld ? csv_scan(r, r->bom.held, r->bom.nheld) : GV_OK;
}

gv_err csv_reader_feed(struct csv_reader *r, const void *data, size_t len)
{
	const unsigned char *p = data;
	gv_err err;

	if (r->failed != GV_OK || r->finished)
		return GV_ERR_STATE;
	if (len == 0)
		return GV_OK;
	if (!r->bom.done) {
		enum bom_result b = bom_take(&r->bom, &p, &len);

		if (b == BOM_PENDING)
			return GV_OK;
		if (b == BOM_STRIPPED) {
			r->offset = 3;
			r->rec_offset = 3;
			r->stats.bom_bytes = 3;
		} else if ((err = bom_replay(r)) != GV_OK) {
			return reader_fail(r, err);
		}
		if (len == 0)
			return GV_OK;
	}
	return reader_fail(r, csv_scan(r, p, len));
}

gv_err csv_reader_finish(struct csv_reader *r)
{
	gv_err err;

	if (r->failed != GV_OK || r->finished)
		return GV_ERR_STATE;
	if (!r->bom.done && (err = bom_replay(r)) != GV_OK)
		return reader_fail(r, err);
	r->finished = 1;
	if (r->pending_cr && (err = cr_bare(r)) != GV_OK)
		return reader_fail(r, err);
	if (r->st == ST_QUOTE_IN_QUOTED)
		r->st = ST_AFTER_QUOTE;
	if (r->st == ST_QUOTED)
		row_fail(r, CSV_ERR_UNTERMINATED_QUOTE, r->quote_offset);
	if (r->status == CSV_OK && r->u8_need)
		row_fail(r, CSV_ERR_BAD_UTF8, r->u8_start);
	if (r->st == ST_FIELD_START && r->nfields == 0 && r->rec_bytes == 0)
		return GV_OK; /* input ended with a line end (or was empty) */
	return reader_fail(r, record_deliver(r, 0));
}

void csv_reader_stats(const struct csv_reader *r, struct csv_stats *out)
{
	*out = r->stats;
	out->bytes = r->offset;
	out->mem_bytes = sizeof(*r) + r->raw.cap + r->fbuf.cap +
			 r->fcap * (sizeof(*r->fld) + sizeof(*r->out));
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	buf_release(&r->raw);
	buf_release(&r->fbuf);
	free(r->fld);
	free(r->out);
	util_wipe(&r->bom, sizeof(r->bom));
	free(r);
}

/* jsonlread.c - the incremental JSON Lines reader.
 *
 * Lines are split at LF only, so a chunk boundary can fall anywhere without changing
 * the result: the pieces of a line are appended to one buffer (bounded at
 * max_line_bytes + 1, the extra byte for the CR of a CRLF) and the line is judged
 * whole once its LF or the end of input arrives.  What a too-long line holds beyond the
 * buffer is only counted.  Whether a line is blank is tracked over all of its bytes, so
 * that even a very long run of spaces is a blank line and not an error.
 *
 * jansson allocates per parsed object, which is inherent; the reader's own buffer is
 * reused from line to line. */
#include "data/jsonlread.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "data/bom.h"

struct jsonl_reader {
	struct jsonl_limits lim;
	jsonl_line_fn on_line;
	void *ctx;
	gv_err failed;        /* sticky: GV_OK until a callback or allocation fails */
	int finished;

	struct bom_state bom;

	uint64_t offset;      /* input offset of the next byte */
	uint64_t line_no;     /* lines completed, blank ones included */

	/* The line being read. */
	uint64_t line_offset;
	uint64_t line_bytes;  /* bytes before the LF so far */
	int last_cr;          /* the last of those is a CR */
	int all_ws;           /* all of them are JSON whitespace */
	struct gv_buf buf;    /* its first max_line_bytes + 1 bytes */

	char detail[JSON_ERROR_TEXT_LENGTH];
	struct jsonl_stats stats;
};

static const char *const status_text[JSONL_STATUS__COUNT] = {
	[JSONL_OK] = "ok",
	[JSONL_ERR_TOO_LONG] = "line longer than the limit",
	[JSONL_ERR_NUL] = "NUL byte",
	[JSONL_ERR_BAD_UTF8] = "invalid UTF-8",
	[JSONL_ERR_TOO_DEEP] = "JSON nesting deeper than the limit",
	[JSONL_ERR_SYNTAX] = "invalid JSON",
	[JSONL_ERR_DUPLICATE_KEY] = "duplicate object key",
	[JSONL_ERR_NOT_OBJECT] = "line is not a JSON object",
};

const char *jsonl_status_text(enum jsonl_status st)
{
	if ((unsigned)st >= JSONL_STATUS__COUNT)
		return "unknown JSONL status";
	return status_text[st];
}

static int is_json_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Offset of the first NUL or invalid UTF-8 sequence in s[0..n) (n when there is none);
 * *nul tells which.  Overlong forms, surrogates and code points past U+10FFFF are
 * invalid, as jansson also holds. */
static size_t utf8_bad(const unsigned char *s, size_t n, int *nul)
{
	size_t i = 0;

	*nul = 0;
	while (i < n) {
		unsigned char c = s[i], lo = 0x80, hi = 0xBF;
		size_t need;

		if (c == 0) {
			*nul = 1;
			return i;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (n - i - 1 < need)
			return i;
		for (size_t k = 1; k <= need; k++) {
			if (s[i + k] < lo || s[i + k] > hi)
				return i;
			lo = 0x80;
			hi = 0xBF;
		}
		i += need + 1;
	}
	return n;
}

/* Offset of the first '{' or '[' nested deeper than max in s[0..n), or n.  Brackets
 * inside strings do not count; the text need not be valid JSON (jansson judges that). */
static size_t depth_bad(const char *s, size_t n, int max)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return i;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return n;
}

/* Keeps jansson's message but not the " near '<input>'" excerpt it appends. */
static void detail_set(struct jsonl_reader *r, const json_error_t *jerr)
{
	size_t n = strnlen(jerr->text, sizeof(jerr->text) - 1);
	const char *near = memmem(jerr->text, n, " near '", 7);

	if (near)
		n = (size_t)(near - jerr->text);
	if (n >= sizeof(r->detail))
		n = sizeof(r->detail) - 1;
	memcpy(r->detail, jerr->text, n);
	r->detail[n] = '\0';
}

/* Judges the line held in buf (content_len bytes after line end removal) into *ln.
 * On JSONL_OK, ln->obj is a new reference the caller drops. */
static gv_err line_judge(struct jsonl_reader *r, uint64_t content_len, struct jsonl_line *ln)
{
	const char *s = r->buf.data ? r->buf.data : "";
	size_t n = (size_t)content_len, bad;
	json_error_t jerr;
	json_t *j;
	int nul;

	if (content_len > r->lim.max_line_bytes) {
		ln->status = JSONL_ERR_TOO_LONG;
		ln->err_offset = ln->offset + r->lim.max_line_bytes;
		ln->raw.len = r->lim.max_line_bytes;
		ln->raw_truncated = 1;
		return GV_OK;
	}
	ln->raw.len = n;
	if ((bad = utf8_bad((const unsigned char *)s, n, &nul)) < n) {
		ln->status = nul ? JSONL_ERR_NUL : JSONL_ERR_BAD_UTF8;
		ln->err_offset = ln->offset + bad;
		return GV_OK;
	}
	if ((bad = depth_bad(s, n, r->lim.max_depth)) < n) {
		ln->status = JSONL_ERR_TOO_DEEP;
		ln->err_offset = ln->offset + bad;
		return GV_OK;
	}
	/* DECODE_ANY so that a scalar line is reported as "not an object", not as a
	 * syntax error. */
	j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!j) {
		size_t pos = jerr.position > 0 ? (size_t)jerr.position - 1 : 0;

		if (json_error_code(&jerr) == json_error_out_of_memory)
			return GV_ERR_NOMEM;
		ln->status = json_error_code(&jerr) == json_error_duplicate_key
			? JSONL_ERR_DUPLICATE_KEY : JSONL_ERR_SYNTAX;
		detail_set(r, &jerr);
		ln->detail = r->detail;
		ln->err_column = jerr.column > 0 ? jerr.column : 0;
		ln->err_offset = ln->offset + (pos < n ? pos : n - 1);
		return GV_OK;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ln->status = JSONL_ERR_NOT_OBJECT;
		ln->err_offset = ln->offset;
		return GV_OK;
	}
	ln->obj = j;
	return GV_OK;
}

static void line_reset(struct jsonl_reader *r, uint64_t next_offset)
{
	r->line_offset = next_offset;
	r->line_bytes = 0;
	r->last_cr = 0;
	r->all_ws = 1;
	r->buf.len = 0;
	if (r->buf.data)
		r->buf.data[0] = '\0';
}

/* The current line ended with an LF (has_lf) or at end of input. */
static gv_err line_end(struct jsonl_reader *r, int has_lf)
{
	unsigned eol = has_lf ? 1 + (unsigned)r->last_cr : 0;
	uint64_t content_len = r->line_bytes - (has_lf && r->last_cr ? 1 : 0);
	struct jsonl_line ln = {0};
	gv_err err;

	r->line_no++;
	if (r->all_ws) {
		r->stats.blank_lines++;
		r->stats.blank_bytes += r->line_bytes + (has_lf ? 1 : 0);
		line_reset(r, r->line_offset + r->line_bytes + (has_lf ? 1 : 0));
		return GV_OK;
	}
	ln.line_no = r->line_no;
	ln.offset = r->line_offset;
	ln.size = content_len + eol;
	ln.raw.ptr = r->buf.data ? r->buf.data : "";
	ln.detail = "";
	if ((err = line_judge(r, content_len, &ln)) != GV_OK)
		return err;
	if (ln.status != JSONL_OK) {
		ln.reason = status_text[ln.status];
		r->stats.bad_lines++;
	}
	r->stats.lines++;
	err = r->on_line(r->ctx, &ln);
	json_decref(ln.obj);
	line_reset(r, ln.offset + ln.size);
	return err;
}

/* Adds p[0..n) (no LF in it) to the current line. */
static gv_err line_add(struct jsonl_reader *r, const unsigned char *p, size_t n)
{
	size_t room = r->buf.max - r->buf.len;

	if (n == 0)
		return GV_OK;
	r->line_bytes += n;
	r->last_cr = p[n - 1] == '\r';
	for (size_t k = 0; k < n && r->all_ws; k++)
		r->all_ws = is_json_ws(p[k]);
	if (room == 0)
		return GV_OK;
	return buf_append(&r->buf, p, n < room ? n : room);
}

static gv_err jsonl_scan(struct jsonl_reader *r, const unsigned char *p, size_t len)
{
	size_t i = 0;
	gv_err err = GV_OK;

	while (i < len) {
		const unsigned char *lf = memchr(p + i, '\n', len - i);
		size_t end = lf ? (size_t)(lf - p) : len;

		if ((err = line_add(r, p + i, end - i)) != GV_OK)
			goto out;
		i = end;
		if (lf) {
			if ((err = line_end(r, 1)) != GV_OK)
				goto out;
			i++;
		}
	}
	r->offset += len;
out:
	return err;
}

gv_err jsonl_reader_new(const struct jsonl_limits *lim, jsonl_line_fn on_line, void *ctx,
			struct jsonl_reader **out)
{
	struct jsonl_reader *r = NULL;

	*out = NULL;
	if (!lim || !on_line || lim->max_line_bytes < 1 ||
	    lim->max_line_bytes > JSONL_LINE_BYTES_MAX || lim->max_depth < 1 ||
	    lim->max_depth > JSONL_DEPTH_MAX)
		return GV_ERR_INVALID;
	r = calloc(1, sizeof(*r));
	if (!r)
		return GV_ERR_NOMEM;
	r->lim = *lim;
	r->on_line = on_line;
	r->ctx = ctx;
	/* One byte more than a line may hold: the CR of its CRLF. */
	buf_init(&r->buf, lim->max_line_bytes + 1);
	line_reset(r, 0);
	*out = r;
	return GV_OK;
}

static gv_err reader_fail(struct jsonl_reader *r, gv_err err)
{
	if (err != GV_OK)
		r->failed = err;
	return err;
}

static gv_err bom_replay(struct jsonl_reader *r)
{
	r->bom.done = 1;
	return r->bom.nheld ? jsonl_scan(r, r->bom.held, r->bom.nheld) : GV_OK;
}

gv_err jsonl_reader_feed(struct jsonl_reader *r, const void *data, size_t len)
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
			r->line_offset = 3;
			r->stats.bom_bytes = 3;
		} else if ((err = bom_replay(r)) != GV_OK) {
			return reader_fail(r, err);
		}
		if (len == 0)
			return GV_OK;
	}
	return reader_fail(r, jsonl_scan(r, p, len));
}

gv_err jsonl_reader_finish(struct jsonl_reader *r)
{
	gv_err err;

	if (r->failed != GV_OK || r->finished)
		return GV_ERR_STATE;
	if (!r->bom.done && (err = bom_replay(r)) != GV_OK)
		return reader_fail(r, err);
	r->finished = 1;
	if (r->line_bytes == 0)
		return GV_OK;
	return reader_fail(r, line_end(r, 0));
}

void jsonl_reader_stats(const struct jsonl_reader *r, struct jsonl_stats *out)
{
	*out = r->stats;
	out->bytes = r->offset;
	out->mem_bytes = sizeof(*r) + r->buf.cap;
}

void jsonl_reader_free(struct jsonl_reader *r)
{
	if (!r)
		return;
	buf_release(&r->buf);
	util_wipe(&r->bom, sizeof(r->bom));
	util_wipe(r->detail, sizeof(r->detail));
	free(r);
}

/* fuzz_jsonl.c - the incremental JSON Lines reader (data/jsonlread.h).
 *
 * Input: 4 header bytes, then the JSONL text.  Header: split position (2 bytes), limits
 * selector, chunk size.  As in fuzz_csv.c the text is read whole, in two pieces and in
 * small pieces, and the runs must agree exactly (a digest over every line, the parsed
 * object re-serialised, and the statistics); each run checks that every byte is the
 * BOM, part of exactly one line or part of a blank line, that offsets increase and
 * that raw is the input at offset.  Any violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/jsonlread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	const uint8_t *in;
	size_t len;
	const struct jsonl_limits *lim;
	uint64_t next;
	uint64_t sum;
	uint64_t hash;
};

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static int blank_byte(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void mix(struct run *r, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		r->hash ^= b[i];
		r->hash *= 0x100000001b3ULL;
	}
}

static void mix_u64(struct run *r, uint64_t v)
{
	mix(r, &v, sizeof(v));
}

static gv_err on_line(void *ctx, const struct jsonl_line *ln)
{
	struct run *r = ctx;

	CHECK(ln->offset >= r->next);
	for (uint64_t k = r->next; k < ln->offset; k++)
		CHECK(blank_byte(r->in[k]));
	CHECK(ln->size > 0);
	CHECK(ln->offset + ln->size <= r->len);
	CHECK(ln->raw.len <= ln->size && ln->raw.len <= r->lim->max_line_bytes);
	CHECK(memcmp(ln->raw.ptr, r->in + ln->offset, ln->raw.len) == 0);
	CHECK(memchr(ln->raw.ptr, '\n', ln->raw.len) == NULL);
	if (!ln->raw_truncated) {
		uint64_t eol = ln->size - ln->raw.len;

		CHECK(eol <= 2);
		CHECK(eol != 1 || r->in[ln->offset + ln->raw.len] == '\n');
		CHECK(eol != 2 || memcmp(r->in + ln->offset + ln->raw.len, "\r\n", 2) == 0);
	}
	CHECK(ln->detail != NULL && strstr(ln->detail, " near '") == NULL);
	r->next = ln->offset + ln->size;
	r->sum += ln->size;

	mix_u64(r, ln->line_no);
	mix_u64(r, ln->offset);
	mix_u64(r, ln->size);
	mix_u64(r, (uint64_t)ln->status);
	mix_u64(r, ln->err_offset);
	mix_u64(r, (uint64_t)ln->err_column);
	mix_u64(r, (uint64_t)ln->raw_truncated);
	mix_u64(r, ln->raw.len);
	mix(r, ln->raw.ptr, ln->raw.len);
	mix(r, ln->detail, strlen(ln->detail));
	if (ln->status == JSONL_OK) {
		char *dump;

		CHECK(json_is_object(ln->obj) && ln->reason == NULL && !ln->raw_truncated);
		dump = json_dumps(ln->obj, JSON_COMPACT | JSON_SORT_KEYS);
		CHECK(dump != NULL);
		mix(r, dump, strlen(dump));
		free(dump);
	} else {
		CHECK(ln->obj == NULL && ln->status < JSONL_STATUS__COUNT && ln->reason != NULL);
		CHECK(ln->err_offset >= ln->offset && ln->err_offset < ln->offset + ln->size);
	}
	return GV_OK;
}

static uint64_t run_once(const struct jsonl_limits *lim, const uint8_t *in, size_t len,
			 size_t split, size_t chunk)
{
	struct run r = {.in = in, .len = len, .lim = lim, .hash = 0xcbf29ce484222325ULL};
	struct jsonl_reader *rd = NULL;
	struct jsonl_stats st;

	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		r.next = 3;
	CHECK(jsonl_reader_new(lim, on_line, &r, &rd) == GV_OK);
	if (chunk == 0) {
		CHECK(jsonl_reader_feed(rd, in, split) == GV_OK);
		CHECK(jsonl_reader_feed(rd, in + split, len - split) == GV_OK);
	} else {
		for (size_t at = 0; at < len; at += chunk)
			CHECK(jsonl_reader_feed(rd, in + at, len - at < chunk ? len - at : chunk) == GV_OK);
	}
	CHECK(jsonl_reader_finish(rd) == GV_OK);
	jsonl_reader_stats(rd, &st);
	jsonl_reader_free(rd);

	CHECK(st.bytes == len);
	CHECK(st.bom_bytes + r.sum + st.blank_bytes == len);
	for (uint64_t k = r.next; k < len; k++)
		CHECK(blank_byte(in[k]));
	CHECK(st.mem_bytes < 4 * (size_t)lim->max_line_bytes + 4096);
	mix_u64(&r, st.lines);
	mix_u64(&r, st.bad_lines);
	mix_u64(&r, st.blank_lines);
	mix_u64(&r, st.blank_bytes);
	mix_u64(&r, st.bom_bytes);
	return r.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonl_limits lim;
	size_t split, chunk;
	uint64_t whole;

	if (size < 4)
		return 0;
	split = (size_t)data[0] << 8 | data[1];
	if (data[2] & 0x80) {
		lim = (struct jsonl_limits){.max_line_bytes = 4096, .max_depth = 32};
	} else {
		lim.max_line_bytes = 1 + (size_t)(data[2] & 0x0f) * 8;
		lim.max_depth = 1 + ((data[2] >> 4) & 7);
	}
	chunk = 1 + (size_t)(data[3] & 0x3f);
	data += 4;
	size -= 4;
	split = size ? split % (size + 1) : 0;

	whole = run_once(&lim, data, size, size, 0);
	CHECK(run_once(&lim, data, size, split, 0) == whole);
	CHECK(run_once(&lim, data, size, 0, chunk) == whole);
	return 0;
}

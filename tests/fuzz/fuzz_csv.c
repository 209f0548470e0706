/* fuzz_csv.c - the incremental CSV reader (data/csvread.h).
 *
 * Input: 4 header bytes, then the CSV text.  Header: split position (2 bytes), limits
 * selector, chunk size.  The text is read three times - whole, in two pieces cut at the
 * split position, and in pieces of the chunk size (1 = byte by byte) - and the three
 * runs must agree exactly (a digest over every field of every row, and the
 * statistics).  Each run also checks the accounting invariants: every byte is the BOM,
 * part of exactly one row or part of a skipped blank line; offsets increase; raw is
 * the input at offset; an OK row respects the limits.  Any violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/csvread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	const uint8_t *in;
	size_t len;
	const struct csv_limits *lim;
	uint64_t next;   /* end of the previous row, or of the BOM */
	uint64_t sum;    /* bytes of all rows */
	uint64_t hash;
};

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

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

static gv_err on_row(void *ctx, const struct csv_row *row)
{
	struct run *r = ctx;

	CHECK(row->offset >= r->next);
	for (uint64_t k = r->next; k < row->offset; k++)
		CHECK(r->in[k] == '\n' || r->in[k] == '\r');
	CHECK(row->size > 0);
	CHECK(row->offset + row->size <= r->len);
	CHECK(row->raw.len <= row->size && row->raw.len <= r->lim->max_row_bytes);
	CHECK(memcmp(row->raw.ptr, r->in + row->offset, row->raw.len) == 0);
	if (!row->raw_truncated) {
		uint64_t eol = row->size - row->raw.len;

		CHECK(eol <= 2);
		CHECK(eol != 1 || r->in[row->offset + row->raw.len] == '\n');
		CHECK(eol != 2 || memcmp(r->in + row->offset + row->raw.len, "\r\n", 2) == 0);
	}
	if (row->status == CSV_OK) {
		size_t total = 0;

		CHECK(row->reason == NULL && !row->raw_truncated);
		CHECK(row->nfields >= 1 && row->nfields <= r->lim->max_fields);
		for (size_t k = 0; k < row->nfields; k++) {
			CHECK(row->fields[k].len <= r->lim->max_field_bytes);
			CHECK(row->fields[k].ptr[row->fields[k].len] == '\0');
			CHECK(memchr(row->fields[k].ptr, '\0', row->fields[k].len) == NULL);
			total += row->fields[k].len;
		}
		CHECK(total <= row->raw.len);
	} else {
		CHECK(row->status < CSV_STATUS__COUNT && row->reason != NULL);
		CHECK(row->nfields == 0);
		CHECK(row->err_offset >= row->offset && row->err_offset <= row->offset + row->size);
	}
	r->next = row->offset + row->size;
	r->sum += row->size;

	mix_u64(r, row->row_no);
	mix_u64(r, row->line_no);
	mix_u64(r, row->offset);
	mix_u64(r, row->size);
	mix_u64(r, (uint64_t)row->status);
	mix_u64(r, row->err_offset);
	mix_u64(r, (uint64_t)row->raw_truncated);
	mix_u64(r, row->raw.len);
	mix(r, row->raw.ptr, row->raw.len);
	mix_u64(r, row->nfields);
	for (size_t k = 0; k < row->nfields; k++) {
		mix_u64(r, row->fields[k].len);
		mix(r, row->fields[k].ptr, row->fields[k].len);
	}
	return GV_OK;
}

/* Reads in[0..len) fed in pieces: cut at `split` when chunk is 0, else every `chunk`
 * bytes.  Returns the digest of rows and statistics. */
static uint64_t run_once(const struct csv_limits *lim, const uint8_t *in, size_t len,
			 size_t split, size_t chunk)
{
	struct run r = {.in = in, .len = len, .lim = lim, .hash = 0xcbf29ce484222325ULL};
	struct csv_reader *rd = NULL;
	struct csv_stats st;

	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		r.next = 3;
	CHECK(csv_reader_new(lim, on_row, &r, &rd) == GV_OK);
	if (chunk == 0) {
		CHECK(csv_reader_feed(rd, in, split) == GV_OK);
		CHECK(csv_reader_feed(rd, in + split, len - split) == GV_OK);
	} else {
		for (size_t at = 0; at < len; at += chunk)
			CHECK(csv_reader_feed(rd, in + at, len - at < chunk ? len - at : chunk) == GV_OK);
	}
	CHECK(csv_reader_finish(rd) == GV_OK);
	csv_reader_stats(rd, &st);
	csv_reader_free(rd);

	CHECK(st.bytes == len);
	CHECK(st.bom_bytes + r.sum + st.blank_bytes == len);
	for (uint64_t k = r.next; k < len; k++)
		CHECK(in[k] == '\n' || in[k] == '\r');
	CHECK(st.mem_bytes < 8 * (size_t)lim->max_row_bytes + 64 * (size_t)lim->max_fields + 4096);
	mix_u64(&r, st.rows);
	mix_u64(&r, st.bad_rows);
	mix_u64(&r, st.blank_lines);
	mix_u64(&r, st.blank_bytes);
	mix_u64(&r, st.bom_bytes);
	return r.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_limits lim;
	size_t split, chunk;
	uint64_t whole;

	if (size < 4)
		return 0;
	split = (size_t)data[0] << 8 | data[1];
	/* Small limits most of the time, so that the limit paths are exercised. */
	if (data[2] & 0x80) {
		lim = (struct csv_limits){.max_field_bytes = 1024, .max_fields = 64,
					  .max_row_bytes = 4096};
	} else {
		lim.max_row_bytes = 1 + (size_t)(data[2] & 0x1f) * 2;
		lim.max_field_bytes = 1 + (size_t)((data[2] >> 5) & 3) * 3;
		if (lim.max_field_bytes > lim.max_row_bytes)
			lim.max_field_bytes = lim.max_row_bytes;
		lim.max_fields = 1 + (size_t)(data[2] & 7);
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

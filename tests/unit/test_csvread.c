/* test_csvread.c - the incremental CSV reader.
 *
 * Every case is a (limits, input, expected transcript) triple.  The transcript lists
 * each delivered record (numbers, offsets, status, fields or raw bytes) and ends with
 * the statistics; csv_check() requires the same transcript whether the input is fed
 * whole, in two pieces cut at every position, in three pieces cut at every pair of
 * positions, or byte by byte with empty feeds in between.  While collecting, every
 * record is also checked against the input: raw is exactly the input bytes at offset,
 * records follow each other with only blank lines between them, and the BOM, records
 * and blank lines add up to the input length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "data/csvread.h"

#define OUT_MAX (1u << 20)

static const struct csv_limits lim_default = {
	.max_field_bytes = 1024, .max_fields = 64, .max_row_bytes = 4096,
};
/* Small limits for the resynchronisation cases. */
static const struct csv_limits lim_small = {
	.max_field_bytes = 4, .max_fields = 3, .max_row_bytes = 16,
};

static const char *const short_name[CSV_STATUS__COUNT] = {
	[CSV_OK] = "ok",
	[CSV_ERR_UNTERMINATED_QUOTE] = "unterminated",
	[CSV_ERR_QUOTE_IN_FIELD] = "quote_in_field",
	[CSV_ERR_AFTER_QUOTE] = "after_quote",
	[CSV_ERR_BAD_UTF8] = "utf8",
	[CSV_ERR_NUL] = "nul",
	[CSV_ERR_BARE_CR] = "bare_cr",
	[CSV_ERR_FIELD_TOO_LONG] = "field_too_long",
	[CSV_ERR_TOO_MANY_FIELDS] = "too_many_fields",
	[CSV_ERR_ROW_TOO_LONG] = "row_too_long",
};

struct collect {
	const unsigned char *in;
	size_t len;
	uint64_t next;      /* where the next record may start (after blank lines) */
	uint64_t sum;       /* bytes of delivered records */
	struct gv_buf out;  /* the transcript */
};

static void put_escaped(struct gv_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\')
			assert_int_equal(buf_printf(b, "\\x%02x", c), GV_OK);
		else
			assert_int_equal(buf_append(b, &c, 1), GV_OK);
	}
}

static gv_err on_row(void *ctx, const struct csv_row *row)
{
	struct collect *c = ctx;
	size_t eol;

	/* Only blank lines (CR, LF) may lie between two records. */
	assert_true(row->offset >= c->next);
	for (uint64_t k = c->next; k < row->offset; k++)
		assert_true(c->in[k] == '\n' || c->in[k] == '\r');
	assert_true(row->offset + row->size <= c->len);
	assert_true(row->size >= row->raw.len);
	assert_memory_equal(row->raw.ptr, c->in + row->offset, row->raw.len);
	if (!row->raw_truncated) {
		eol = (size_t)(row->size - row->raw.len);
		assert_true(eol <= 2);
		if (eol == 1)
			assert_int_equal(c->in[row->offset + row->raw.len], '\n');
		if (eol == 2)
			assert_memory_equal(c->in + row->offset + row->raw.len, "\r\n", 2);
	}
	c->next = row->offset + row->size;
	c->sum += row->size;

	assert_int_equal(buf_printf(&c->out, "%llu/%llu @%llu+%llu ",
				    (unsigned long long)row->row_no,
				    (unsigned long long)row->line_no,
				    (unsigned long long)row->offset,
				    (unsigned long long)row->size), GV_OK);
	if (row->status == CSV_OK) {
		assert_null(row->reason);
		assert_int_equal(buf_append(&c->out, "ok", 2), GV_OK);
		for (size_t k = 0; k < row->nfields; k++) {
			assert_int_equal(row->fields[k].ptr[row->fields[k].len], '\0');
			assert_int_equal(buf_append(&c->out, "|", 1), GV_OK);
			put_escaped(&c->out, row->fields[k].ptr, row->fields[k].len);
		}
	} else {
		assert_string_equal(row->reason, csv_status_text(row->status));
		assert_int_equal(row->nfields, 0);
		assert_true(row->err_offset >= row->offset);
		assert_true(row->err_offset <= row->offset + row->size);
		assert_int_equal(buf_printf(&c->out, "%s@%llu raw=", short_name[row->status],
					    (unsigned long long)row->err_offset), GV_OK);
		put_escaped(&c->out, row->raw.ptr, row->raw.len);
		if (row->raw_truncated)
			assert_int_equal(buf_append(&c->out, " trunc", 6), GV_OK);
	}
	assert_int_equal(buf_append(&c->out, "\n", 1), GV_OK);
	return GV_OK;
}

/* Runs the reader over in[0..len) cut at cuts[0..ncuts) (increasing); byte_by_byte
 * feeds one byte at a time with empty feeds between.  Returns the transcript. */
static char *csv_run(const struct csv_limits *lim, const char *in, size_t len,
		     const size_t *cuts, size_t ncuts, int byte_by_byte)
{
	struct collect c = {.in = (const unsigned char *)in, .len = len};
	struct csv_reader *r = NULL;
	struct csv_stats st;
	size_t from = 0;
	char *text;

	/* The first record starts after the BOM, when there is one. */
	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		c.next = 3;
	buf_init(&c.out, OUT_MAX);
	assert_int_equal(csv_reader_new(lim, on_row, &c, &r), GV_OK);
	if (byte_by_byte) {
		for (size_t i = 0; i < len; i++) {
			assert_int_equal(csv_reader_feed(r, in + i, 1), GV_OK);
			assert_int_equal(csv_reader_feed(r, in + i, 0), GV_OK);
		}
	} else {
		for (size_t k = 0; k <= ncuts; k++) {
			size_t to = k < ncuts ? cuts[k] : len;

			assert_int_equal(csv_reader_feed(r, in + from, to - from), GV_OK);
			from = to;
		}
	}
	assert_int_equal(csv_reader_finish(r), GV_OK);
	csv_reader_stats(r, &st);
	csv_reader_free(r);
	/* Every byte is the BOM, part of a record or part of a blank line. */
	assert_int_equal(st.bytes, len);
	assert_int_equal(st.bom_bytes + c.sum + st.blank_bytes, len);
	for (uint64_t k = c.next; k < len; k++)
		assert_true(in[k] == '\n' || in[k] == '\r');
	assert_int_equal(buf_printf(&c.out, "rows=%llu bad=%llu blank=%llu/%llu bom=%zu\n",
				    (unsigned long long)st.rows, (unsigned long long)st.bad_rows,
				    (unsigned long long)st.blank_lines,
				    (unsigned long long)st.blank_bytes, st.bom_bytes), GV_OK);
	text = strdup(c.out.data ? c.out.data : "");
	assert_non_null(text);
	buf_release(&c.out);
	return text;
}

/* The case passes when every way of cutting the input gives the expected transcript. */
static void csv_check_lim(const struct csv_limits *lim, const char *in, size_t len,
			  const char *expect)
{
	char *whole = csv_run(lim, in, len, NULL, 0, 0), *t;
	size_t cuts[2];

	assert_string_equal(whole, expect);
	for (size_t i = 1; i < len; i++) {
		cuts[0] = i;
		t = csv_run(lim, in, len, cuts, 1, 0);
		assert_string_equal(t, whole);
		free(t);
		for (size_t j = i + 1; j < len && len <= 96; j++) {
			cuts[1] = j;
			t = csv_run(lim, in, len, cuts, 2, 0);
			assert_string_equal(t, whole);
			free(t);
		}
	}
	t = csv_run(lim, in, len, NULL, 0, 1);
	assert_string_equal(t, whole);
	free(t);
	free(whole);
}

#define CHECK(in, expect) csv_check_lim(&lim_default, in, sizeof(in) - 1, expect)
#define CHECK_SMALL(in, expect) csv_check_lim(&lim_small, in, sizeof(in) - 1, expect)
#define CHECK_LIM(lim, in, expect) csv_check_lim(lim, in, sizeof(in) - 1, expect)

static void test_simple(void **state)
{
	(void)state;
	CHECK("a,b,c\n1,2,3\n",
	      "1/1 @0+6 ok|a|b|c\n"
	      "2/2 @6+6 ok|1|2|3\n"
	      "rows=2 bad=0 blank=0/0 bom=0\n");
	CHECK("", "rows=0 bad=0 blank=0/0 bom=0\n");
	CHECK("x", "1/1 @0+1 ok|x\nrows=1 bad=0 blank=0/0 bom=0\n");
}

static void test_quoted(void **state)
{
	(void)state;
	CHECK("\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\"\nx,\"\",y\n",
	      "1/1 @0+33 ok|a,b|say \"hi\"|line1\\x0aline2\n"
	      "2/3 @33+7 ok|x||y\n"
	      "rows=2 bad=0 blank=0/0 bom=0\n");
	/* A quoted field that is only an escaped quote, and one holding a blank line. */
	CHECK("\"\"\"\",\"\n\n\"\nz\n",
	      "1/1 @0+10 ok|\"|\\x0a\\x0a\n"
	      "2/4 @10+2 ok|z\n"
	      "rows=2 bad=0 blank=0/0 bom=0\n");
}

static void test_crlf(void **state)
{
	(void)state;
	CHECK("a,b\r\n\"c\r\nd\",e\r\n",
	      "1/1 @0+5 ok|a|b\n"
	      "2/2 @5+10 ok|c\\x0d\\x0ad|e\n"
	      "rows=2 bad=0 blank=0/0 bom=0\n");
	/* Exactly max_row_bytes before a CRLF: the CR is the line end, not row data. */
	CHECK_SMALL("aaaa,bbbb,cccc,d\r\nx\r\n",
		    "1/1 @0+18 too_many_fields@14 raw=aaaa,bbbb,cccc,d\n"
		    "2/2 @18+3 ok|x\n"
		    "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK_SMALL("aaaa,bbbb,cccc\r\n",
		    "1/1 @0+16 ok|aaaa|bbbb|cccc\n"
		    "rows=1 bad=0 blank=0/0 bom=0\n");
}

static void test_bom(void **state)
{
	(void)state;
	CHECK("\xEF\xBB\xBFid,name\n1,\xE5\xBC\xA0\xE4\xB8\x89\n",
	      "1/1 @3+8 ok|id|name\n"
	      "2/2 @11+9 ok|1|\\xe5\\xbc\\xa0\\xe4\\xb8\\x89\n"
	      "rows=2 bad=0 blank=0/0 bom=3\n");
	CHECK("\xEF\xBB\xBF", "rows=0 bad=0 blank=0/0 bom=3\n");
	/* Only the very start: a second BOM is data (valid UTF-8, U+FEFF). */
	CHECK("\xEF\xBB\xBF\xEF\xBB\xBF" "a\n",
	      "1/1 @3+5 ok|\\xef\\xbb\\xbfa\n"
	      "rows=1 bad=0 blank=0/0 bom=3\n");
	/* A BOM prefix that is not one is ordinary (here invalid) input, also when the
	 * input ends inside it. */
	CHECK("\xEF\xBB", "1/1 @0+2 utf8@0 raw=\\xef\\xbb\nrows=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\xEF\xBBx\n",
	      "1/1 @0+4 utf8@0 raw=\\xef\\xbbx\n"
	      "rows=1 bad=1 blank=0/0 bom=0\n");
}

static void test_no_final_newline(void **state)
{
	(void)state;
	CHECK("a,b\nc,d",
	      "1/1 @0+4 ok|a|b\n"
	      "2/2 @4+3 ok|c|d\n"
	      "rows=2 bad=0 blank=0/0 bom=0\n");
	CHECK("a,\"b\"",
	      "1/1 @0+5 ok|a|b\n"
	      "rows=1 bad=0 blank=0/0 bom=0\n");
	CHECK("a,",
	      "1/1 @0+2 ok|a|\n"
	      "rows=1 bad=0 blank=0/0 bom=0\n");
}

static void test_empty_fields(void **state)
{
	(void)state;
	CHECK(",,\n,\n\"\"\n",
	      "1/1 @0+3 ok|||\n"
	      "2/2 @3+2 ok||\n"
	      "3/3 @5+3 ok|\n"
	      "rows=3 bad=0 blank=0/0 bom=0\n");
}

static void test_empty_lines(void **state)
{
	(void)state;
	CHECK("\na\n\r\n\nb\n\n",
	      "2/2 @1+2 ok|a\n"
	      "5/5 @6+2 ok|b\n"
	      "rows=2 bad=0 blank=4/5 bom=0\n");
	CHECK("\r\n\r\n", "rows=0 bad=0 blank=2/4 bom=0\n");
}

static void test_ragged(void **state)
{
	(void)state;
	/* Field counts are reported as found; judging them against the header is the
	 * caller's business. */
	CHECK("a,b,c\n1,2\n1,2,3,4\n",
	      "1/1 @0+6 ok|a|b|c\n"
	      "2/2 @6+4 ok|1|2\n"
	      "3/3 @10+8 ok|1|2|3|4\n"
	      "rows=3 bad=0 blank=0/0 bom=0\n");
}

static void test_unterminated(void **state)
{
	(void)state;
	CHECK("a,b\n\"x,y\nz\n",
	      "1/1 @0+4 ok|a|b\n"
	      "2/2 @4+7 unterminated@4 raw=\"x,y\\x0az\\x0a\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK("\"", "1/1 @0+1 unterminated@0 raw=\"\nrows=1 bad=1 blank=0/0 bom=0\n");
	/* With a field limit, a missing closing quote costs one line, not the file. */
	CHECK_SMALL("\"abcdef\nx,y\nz\n",
		    "1/1 @0+8 field_too_long@5 raw=\"abcdef\n"
		    "2/2 @8+4 ok|x|y\n"
		    "3/3 @12+2 ok|z\n"
		    "rows=3 bad=1 blank=0/0 bom=0\n");
}

static void test_stray_quote(void **state)
{
	(void)state;
	CHECK("ab\"c,d\n1,2\n",
	      "1/1 @0+7 quote_in_field@2 raw=ab\"c,d\n"
	      "2/2 @7+4 ok|1|2\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
	/* The stray quote must not open a field that runs over the line end. */
	CHECK("a\"b,\"c\nd,e\n",
	      "1/1 @0+7 quote_in_field@1 raw=a\"b,\"c\n"
	      "2/2 @7+4 ok|d|e\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
}

static void test_after_quote(void **state)
{
	(void)state;
	CHECK("\"ab\"x,c\n\"ok\"\n",
	      "1/1 @0+8 after_quote@4 raw=\"ab\"x,c\n"
	      "2/2 @8+5 ok|ok\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK("\"a\" ,b\n", "1/1 @0+7 after_quote@3 raw=\"a\" ,b\nrows=1 bad=1 blank=0/0 bom=0\n");
	/* After a multi-line field, the rest of the line is skipped with quotes ignored. */
	CHECK("\"l1\nl2\"z\"\nq\nr\n",
	      "1/1 @0+10 after_quote@7 raw=\"l1\\x0al2\"z\"\n"
	      "2/3 @10+2 ok|q\n"
	      "3/4 @12+2 ok|r\n"
	      "rows=3 bad=1 blank=0/0 bom=0\n");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	CHECK("a,\xC3\xA9\nb,\xC3x\nc\n",
	      "1/1 @0+5 ok|a|\\xc3\\xa9\n"
	      "2/2 @5+5 utf8@7 raw=b,\\xc3x\n"
	      "3/3 @10+2 ok|c\n"
	      "rows=3 bad=1 blank=0/0 bom=0\n");
	/* Overlong, surrogate, beyond U+10FFFF, then a valid 4-byte character. */
	CHECK("\xC0\xAF\n\xE0\x80\x80\n\xED\xA0\x80\n\xF4\x90\x80\x80\n\xF0\x9F\x98\x80\n",
	      "1/1 @0+3 utf8@0 raw=\\xc0\\xaf\n"
	      "2/2 @3+4 utf8@3 raw=\\xe0\\x80\\x80\n"
	      "3/3 @7+4 utf8@7 raw=\\xed\\xa0\\x80\n"
	      "4/4 @11+5 utf8@11 raw=\\xf4\\x90\\x80\\x80\n"
	      "5/5 @16+5 ok|\\xf0\\x9f\\x98\\x80\n"
	      "rows=5 bad=4 blank=0/0 bom=0\n");
	/* A sequence cut by the end of input, by a closing quote, by a line end. */
	CHECK("a,\xE4\xB8", "1/1 @0+4 utf8@2 raw=a,\\xe4\\xb8\nrows=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\"\xE4\"\n", "1/1 @0+4 utf8@1 raw=\"\\xe4\"\nrows=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\xE4\r\n", "1/1 @0+3 utf8@0 raw=\\xe4\nrows=1 bad=1 blank=0/0 bom=0\n");
	/* A content error keeps the quoting: the multi-line field still ends at its quote. */
	CHECK("\"\xFF\nx\",y\nz\n",
	      "1/1 @0+8 utf8@1 raw=\"\\xff\\x0ax\",y\n"
	      "2/3 @8+2 ok|z\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
}

static void test_nul(void **state)
{
	(void)state;
	CHECK("a,b\0c\nd\n",
	      "1/1 @0+6 nul@3 raw=a,b\\x00c\n"
	      "2/2 @6+2 ok|d\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK("\"x\0\ny\"\nz\n",
	      "1/1 @0+7 nul@2 raw=\"x\\x00\\x0ay\"\n"
	      "2/3 @7+2 ok|z\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
}

/* Runs in[0..len) whole: the transcript is want, or starts with it. */
static void expect_whole(const struct csv_limits *lim, const char *in, size_t len, const char *want)
{
	char *t = csv_run(lim, in, len, NULL, 0, 0);

	assert_string_equal(t, want);
	free(t);
}

static void expect_start(const struct csv_limits *lim, const char *in, size_t len, const char *want)
{
	char *t = csv_run(lim, in, len, NULL, 0, 0);

	if (strncmp(t, want, strlen(want)) != 0)
		fail_msg("transcript '%s' does not start with '%s'", t, want);
	free(t);
}

/* Each byte that ends or breaks plain field text, at every position of a field long
 * enough for two 16-byte windows and an 8-byte one: in an unquoted field, and in a
 * quoted one (where only the quote and NUL are special); a byte >= 0x80 likewise,
 * valid (U+00E9) and not (0xFF). */
static void test_special_at_every_offset(void **state)
{
	char in[64], expect[256];

	(void)state;
	for (size_t len = 1; len <= 44; len++)
		for (size_t at = 0; at < len; at++) {
			memset(in, 'a', len);
			in[at] = ',';
			in[len] = '\n';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu ok|%.*s|%.*s\nrows=1 bad=0 blank=0/0 bom=0\n",
				 len + 1, (int)at, in, (int)(len - at - 1), in + at + 1);
			expect_whole(&lim_default, in, len + 1, expect);
			in[at] = '\0';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu nul@%zu raw=", len + 1, at);
			expect_start(&lim_default, in, len + 1, expect);
			in[at] = '\xff';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu utf8@%zu raw=", len + 1, at);
			expect_start(&lim_default, in, len + 1, expect);
			/* Quoted: the comma and a line end are text. */
			in[0] = '"';
			memset(in + 1, 'b', len);
			in[1 + at] = at % 2 ? ',' : '\n';
			in[len + 1] = '"';
			in[len + 2] = '\n';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu ok|%.*s%s%.*s\nrows=1 bad=0 blank=0/0 bom=0\n",
				 len + 3, (int)at, in + 1, at % 2 ? "," : "\\x0a", (int)(len - at - 1),
				 in + 2 + at);
			expect_whole(&lim_default, in, len + 3, expect);
		}
	/* A CR or a quote inside an unquoted field, and a doubled quote inside a quoted one,
	 * at every position; a field limit ending inside a 16-byte window. */
	for (size_t len = 2; len <= 44; len++)
		for (size_t at = 1; at < len; at++) {
			struct csv_limits lim = lim_default;

			memset(in, 'a', len);
			in[len] = '\n';
			in[at] = '\r';
			if (at + 1 < len)
				snprintf(expect, sizeof(expect), "1/1 @0+%zu bare_cr@%zu raw=", len + 1, at);
			else   /* before the LF it ends the line (CRLF) */
				snprintf(expect, sizeof(expect), "1/1 @0+%zu ok|%.*s\n", len + 1, (int)at, in);
			expect_start(&lim_default, in, len + 1, expect);
			in[at] = '"';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu quote_in_field@%zu raw=", len + 1, at);
			expect_start(&lim_default, in, len + 1, expect);
			in[at] = 'a';
			lim.max_field_bytes = at;   /* the field is one byte too long from here */
			snprintf(expect, sizeof(expect), "1/1 @0+%zu field_too_long@%zu raw=", len + 1, at);
			expect_start(&lim, in, len + 1, expect);
			/* "bb…""…bb": the doubled quote is one quote of the field. */
			in[0] = '"';
			memset(in + 1, 'b', len + 1);
			in[at] = '"';
			in[at + 1] = '"';
			in[len + 2] = '"';
			in[len + 3] = '\n';
			snprintf(expect, sizeof(expect), "1/1 @0+%zu ok|%.*s\"%.*s\nrows=1 bad=0 blank=0/0 bom=0\n",
				 len + 4, (int)(at - 1), in + 1, (int)(len - at), in + at + 2);
			expect_whole(&lim_default, in, len + 4, expect);
		}
	/* Valid two-byte UTF-8 at every position after a run of ASCII. */
	for (size_t at = 0; at + 2 <= 44; at++) {
		memset(in, 'a', 44);
		memcpy(in + at, "\xc3\xa9", 2);
		in[44] = '\n';
		snprintf(expect, sizeof(expect), "1/1 @0+45 ok|%.*s\\xc3\\xa9%.*s\nrows=1 bad=0 blank=0/0 bom=0\n",
			 (int)at, in, (int)(42 - at), in + at + 2);
		expect_whole(&lim_default, in, 45, expect);
	}
}

static void test_bare_cr(void **state)
{
	(void)state;
	CHECK("a\rb\nc\n",
	      "1/1 @0+4 bare_cr@1 raw=a\\x0db\n"
	      "2/2 @4+2 ok|c\n"
	      "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK("a\r", "1/1 @0+2 bare_cr@1 raw=a\\x0d\nrows=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\r\r\n", "1/1 @0+3 bare_cr@0 raw=\\x0d\nrows=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\"a\"\rb\n", "1/1 @0+6 bare_cr@3 raw=\"a\"\\x0db\nrows=1 bad=1 blank=0/0 bom=0\n");
}

static void test_limits(void **state)
{
	(void)state;
	CHECK_SMALL("abcd,e\nabcde,f\ng\n",
		    "1/1 @0+7 ok|abcd|e\n"
		    "2/2 @7+8 field_too_long@11 raw=abcde,f\n"
		    "3/3 @15+2 ok|g\n"
		    "rows=3 bad=1 blank=0/0 bom=0\n");
	/* Quotes count towards the row, not the field; raw keeps the first 16 bytes. */
	CHECK_SMALL("\"aaaa\",\"bbbb\",\"cccc\"\nz\n",
		    "1/1 @0+21 row_too_long@16 raw=\"aaaa\",\"bbbb\",\"c trunc\n"
		    "2/2 @21+2 ok|z\n"
		    "rows=2 bad=1 blank=0/0 bom=0\n");
	/* An escaped quote and a quoted LF are one field byte each. */
	CHECK_SMALL("\"a\"\"b\n\"\nz\n",
		    "1/1 @0+8 ok|a\"b\\x0a\n"
		    "2/3 @8+2 ok|z\n"
		    "rows=2 bad=0 blank=0/0 bom=0\n");
	CHECK_SMALL("\"ab\"\"cd\"\nz\n",
		    "1/1 @0+9 field_too_long@6 raw=\"ab\"\"cd\"\n"
		    "2/2 @9+2 ok|z\n"
		    "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK_SMALL("\"abcd\"\"\"\nz\n",
		    "1/1 @0+9 field_too_long@6 raw=\"abcd\"\"\"\n"
		    "2/2 @9+2 ok|z\n"
		    "rows=2 bad=1 blank=0/0 bom=0\n");
	/* The LF that overflows a quoted field ends the record: resynchronised at once. */
	CHECK_SMALL("\"abcd\nx\ny\n",
		    "1/1 @0+6 field_too_long@5 raw=\"abcd\n"
		    "2/2 @6+2 ok|x\n"
		    "3/3 @8+2 ok|y\n"
		    "rows=3 bad=1 blank=0/0 bom=0\n");
	CHECK_SMALL("a,b,c,d\ne\n",
		    "1/1 @0+8 too_many_fields@5 raw=a,b,c,d\n"
		    "2/2 @8+2 ok|e\n"
		    "rows=2 bad=1 blank=0/0 bom=0\n");
}

/* The row limit reached by each kind of byte: a comma, a quoted LF, a bare CR. */
static void test_row_limit_bytes(void **state)
{
	static const struct csv_limits row10 = {
		.max_field_bytes = 8, .max_fields = 8, .max_row_bytes = 10,
	};
	static const struct csv_limits row3 = {
		.max_field_bytes = 3, .max_fields = 8, .max_row_bytes = 3,
	};

	(void)state;
	CHECK_LIM(&row10, "abcd,abcd,,\nz\n",
		  "1/1 @0+12 row_too_long@10 raw=abcd,abcd, trunc\n"
		  "2/2 @12+2 ok|z\n"
		  "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK_LIM(&row10, "a,\"bcdefgh\nz\n",
		  "1/1 @0+11 row_too_long@10 raw=a,\"bcdefgh\n"
		  "2/2 @11+2 ok|z\n"
		  "rows=2 bad=1 blank=0/0 bom=0\n");
	CHECK_LIM(&row3, "abc\rd\nz\n",
		  "1/1 @0+6 row_too_long@3 raw=abc trunc\n"
		  "2/2 @6+2 ok|z\n"
		  "rows=2 bad=1 blank=0/0 bom=0\n");
}

/* --- 10 MB generated input, fed in uneven chunks, never held whole --- */

struct big {
	struct csv_reader *r;
	uint64_t rows, bad, blank;   /* expected */
	uint64_t seen_ok, seen_bad;
	uint64_t lcg;
	size_t mem_warm;
	char gen[65536];
	size_t glen;
};

static gv_err big_row(void *ctx, const struct csv_row *row)
{
	struct big *b = ctx;

	if (row->status == CSV_OK) {
		char id[32];

		assert_int_equal(row->nfields, 4);
		snprintf(id, sizeof(id), "%llu", (unsigned long long)row->row_no);
		assert_int_equal(row->fields[0].len, strlen(id));
		assert_memory_equal(row->fields[0].ptr, id, strlen(id));
		assert_string_equal(row->fields[2].ptr, "quoted, with \"quotes\" and\nnewline");
		b->seen_ok++;
	} else {
		assert_int_equal(row->status, CSV_ERR_QUOTE_IN_FIELD);
		b->seen_bad++;
	}
	if (row->row_no == 10000) {
		struct csv_stats st;

		csv_reader_stats(b->r, &st);
		b->mem_warm = st.mem_bytes;
	}
	return GV_OK;
}

static size_t big_next_cut(struct big *b)
{
	b->lcg = b->lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return 1 + (size_t)((b->lcg >> 33) % 8191);
}

/* Feeds gen[0..glen) in pseudo-random pieces. */
static void big_flush(struct big *b)
{
	size_t from = 0;

	while (from < b->glen) {
		size_t n = big_next_cut(b);

		if (n > b->glen - from)
			n = b->glen - from;
		assert_int_equal(csv_reader_feed(b->r, b->gen + from, n), GV_OK);
		from += n;
	}
	b->glen = 0;
}

static void test_big_input(void **state)
{
	struct big *b = calloc(1, sizeof(*b));
	uint64_t total = 0, recno = 0;
	struct csv_stats st;

	(void)state;
	assert_non_null(b);
	b->lcg = 42;
	assert_int_equal(csv_reader_new(&lim_default, big_row, b, &b->r), GV_OK);
	assert_int_equal(csv_reader_feed(b->r, "\xEF\xBB\xBF", 3), GV_OK);
	total = 3;
	while (total < 10u * 1024 * 1024) {
		int n;

		recno++;
		if (recno % 777 == 0) {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen, "\r\n");
			b->blank++;
		} else if (recno % 1000 == 0) {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen,
				     "%llu,bad\"quote,\"x\r\n", (unsigned long long)recno);
			b->rows++;
			b->bad++;
		} else {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen,
				     "%llu,\xE5\xBC\xA0\xE4\xB8\x89,\"quoted, with \"\"quotes\"\" and\n"
				     "newline\",\r\n", (unsigned long long)recno);
			b->rows++;
		}
		assert_true(n > 0 && (size_t)n < sizeof(b->gen) - b->glen);
		b->glen += (size_t)n;
		total += (uint64_t)n;
		if (b->glen > sizeof(b->gen) - 256)
			big_flush(b);
	}
	big_flush(b);
	assert_int_equal(csv_reader_finish(b->r), GV_OK);
	csv_reader_stats(b->r, &st);
	assert_int_equal(st.bytes, total);
	assert_int_equal(st.rows, b->rows);
	assert_int_equal(st.bad_rows, b->bad);
	assert_int_equal(st.blank_lines, b->blank);
	assert_int_equal(b->seen_ok + b->seen_bad, b->rows);
	assert_int_equal(b->seen_bad, b->bad);
	/* Steady state: nothing grew after the first 10000 rows; and it is small. */
	assert_int_not_equal(b->mem_warm, 0);
	assert_int_equal(st.mem_bytes, b->mem_warm);
	assert_true(st.mem_bytes < 64 * 1024);
	csv_reader_free(b->r);
	free(b);
}

struct giant {
	uint64_t rows;
	enum csv_status first;
	uint64_t first_size;
	int first_trunc;
	size_t first_raw;
	int second_ok;
};

static gv_err giant_row(void *ctx, const struct csv_row *row)
{
	struct giant *g = ctx;

	if (++g->rows == 1) {
		g->first = row->status;
		g->first_size = row->size;
		g->first_trunc = row->raw_truncated;
		g->first_raw = row->raw.len;
	} else {
		g->second_ok = row->status == CSV_OK && row->nfields == 2 &&
			       strcmp(row->fields[1].ptr, "b") == 0;
	}
	return GV_OK;
}

/* A quote that never closes and no line end for 10 MB: memory stays at the limits. */
static void test_giant_unterminated(void **state)
{
	static char chunk[65536];
	struct giant g = {0};
	struct csv_reader *r = NULL;
	struct csv_stats st;
	size_t total = 0;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(csv_reader_new(&lim_default, giant_row, &g, &r), GV_OK);
	assert_int_equal(csv_reader_feed(r, "\"", 1), GV_OK);
	while (total < 10u * 1024 * 1024) {
		assert_int_equal(csv_reader_feed(r, chunk, sizeof(chunk)), GV_OK);
		total += sizeof(chunk);
		csv_reader_stats(r, &st);
		assert_true(st.mem_bytes < 64 * 1024);
	}
	assert_int_equal(csv_reader_feed(r, "\na,b\n", 5), GV_OK);
	assert_int_equal(csv_reader_finish(r), GV_OK);
	assert_int_equal(g.rows, 2);
	assert_int_equal(g.first, CSV_ERR_FIELD_TOO_LONG);
	assert_int_equal(g.first_size, 1 + total + 1);
	assert_true(g.first_trunc);
	assert_int_equal(g.first_raw, lim_default.max_row_bytes);
	assert_true(g.second_ok);
	csv_reader_free(r);
}

/* --- API contract --- */

static gv_err count_row(void *ctx, const struct csv_row *row)
{
	(void)row;
	(*(int *)ctx)++;
	return GV_OK;
}

static gv_err stop_at_2(void *ctx, const struct csv_row *row)
{
	(*(int *)ctx)++;
	return row->row_no == 2 ? GV_ERR_LIMIT : GV_OK;
}

static void test_api(void **state)
{
	struct csv_limits bad[] = {
		{.max_field_bytes = 1, .max_fields = 1, .max_row_bytes = 0},
		{.max_field_bytes = 0, .max_fields = 1, .max_row_bytes = 10},
		{.max_field_bytes = 11, .max_fields = 1, .max_row_bytes = 10},
		{.max_field_bytes = 1, .max_fields = 0, .max_row_bytes = 10},
		{.max_field_bytes = 1, .max_fields = CSV_FIELDS_MAX + 1, .max_row_bytes = 10},
		{.max_field_bytes = 1, .max_fields = 1, .max_row_bytes = CSV_ROW_BYTES_MAX + 1},
	};
	struct csv_reader *r = (struct csv_reader *)&bad;
	int n = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_int_equal(csv_reader_new(&bad[k], count_row, &n, &r), GV_ERR_INVALID);
		assert_null(r);
	}
	assert_int_equal(csv_reader_new(&lim_default, NULL, &n, &r), GV_ERR_INVALID);
	assert_int_equal(csv_reader_new(NULL, count_row, &n, &r), GV_ERR_INVALID);
	csv_reader_free(NULL);

	/* The callback's error stops the reader for good. */
	assert_int_equal(csv_reader_new(&lim_default, stop_at_2, &n, &r), GV_OK);
	assert_int_equal(csv_reader_feed(r, "a\nb\nc\n", 6), GV_ERR_LIMIT);
	assert_int_equal(n, 2);
	assert_int_equal(csv_reader_feed(r, "d\n", 2), GV_ERR_STATE);
	assert_int_equal(csv_reader_finish(r), GV_ERR_STATE);
	csv_reader_free(r);

	/* ...also when it comes from the last row, delivered by finish. */
	n = 0;
	assert_int_equal(csv_reader_new(&lim_default, stop_at_2, &n, &r), GV_OK);
	assert_int_equal(csv_reader_feed(r, "a\nb", 3), GV_OK);
	assert_int_equal(csv_reader_finish(r), GV_ERR_LIMIT);
	csv_reader_free(r);

	/* finish ends the input. */
	n = 0;
	assert_int_equal(csv_reader_new(&lim_default, count_row, &n, &r), GV_OK);
	assert_int_equal(csv_reader_feed(r, "a", 1), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(csv_reader_finish(r), GV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(csv_reader_finish(r), GV_ERR_STATE);
	assert_int_equal(csv_reader_feed(r, "b\n", 2), GV_ERR_STATE);
	csv_reader_free(r);

	for (int s = 0; s < CSV_STATUS__COUNT; s++)
		assert_non_null(csv_status_text((enum csv_status)s));
	assert_string_equal(csv_status_text(CSV_STATUS__COUNT), "unknown CSV status");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_stray_quote),
		cmocka_unit_test(test_after_quote),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_row_limit_bytes),
		cmocka_unit_test(test_special_at_every_offset),
		cmocka_unit_test(test_big_input),
		cmocka_unit_test(test_giant_unterminated),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

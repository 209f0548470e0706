/* test_jsonlread.c - the incremental JSON Lines reader.
 *
 * Same method as test_csvread.c: each case's transcript (line numbers, offsets, the
 * parsed object re-serialised with sorted keys, or the status with its offset, column,
 * jansson detail and raw bytes, then the statistics) must come out the same whether the
 * input is fed whole, cut at every position, cut at every pair of positions, or byte by
 * byte; and every delivered line is checked against the input bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "data/jsonlread.h"

#define OUT_MAX (1u << 20)

static const struct jsonl_limits lim_default = {.max_line_bytes = 4096, .max_depth = 16};
static const struct jsonl_limits lim_small = {.max_line_bytes = 16, .max_depth = 3};
static const struct jsonl_limits lim_deep = {.max_line_bytes = 4096, .max_depth = 3};

static const char *const short_name[JSONL_STATUS__COUNT] = {
	[JSONL_OK] = "ok",
	[JSONL_ERR_TOO_LONG] = "too_long",
	[JSONL_ERR_NUL] = "nul",
	[JSONL_ERR_BAD_UTF8] = "utf8",
	[JSONL_ERR_TOO_DEEP] = "too_deep",
	[JSONL_ERR_SYNTAX] = "syntax",
	[JSONL_ERR_DUPLICATE_KEY] = "duplicate",
	[JSONL_ERR_NOT_OBJECT] = "not_object",
};

struct collect {
	const unsigned char *in;
	size_t len;
	uint64_t next;
	uint64_t sum;
	struct gv_buf out;
};

static int is_blank_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void put_escaped(struct gv_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			assert_int_equal(buf_printf(b, "\\x%02x", c), GV_OK);
		else
			assert_int_equal(buf_append(b, &c, 1), GV_OK);
	}
}

static gv_err on_line(void *ctx, const struct jsonl_line *ln)
{
	struct collect *c = ctx;

	/* Only blank lines may lie between two delivered lines. */
	assert_true(ln->offset >= c->next);
	for (uint64_t k = c->next; k < ln->offset; k++)
		assert_true(is_blank_byte(c->in[k]));
	assert_true(ln->offset + ln->size <= c->len);
	assert_true(ln->size >= ln->raw.len);
	assert_memory_equal(ln->raw.ptr, c->in + ln->offset, ln->raw.len);
	if (!ln->raw_truncated) {
		size_t eol = (size_t)(ln->size - ln->raw.len);

		assert_true(eol <= 2);
		if (eol == 1)
			assert_int_equal(c->in[ln->offset + ln->raw.len], '\n');
		if (eol == 2)
			assert_memory_equal(c->in + ln->offset + ln->raw.len, "\r\n", 2);
	}
	c->next = ln->offset + ln->size;
	c->sum += ln->size;

	assert_int_equal(buf_printf(&c->out, "%llu @%llu+%llu ", (unsigned long long)ln->line_no,
				    (unsigned long long)ln->offset,
				    (unsigned long long)ln->size), GV_OK);
	if (ln->status == JSONL_OK) {
		char *dump = json_dumps(ln->obj, JSON_COMPACT | JSON_SORT_KEYS);

		assert_non_null(dump);
		assert_null(ln->reason);
		assert_int_equal(buf_printf(&c->out, "ok %s\n", dump), GV_OK);
		free(dump);
		return GV_OK;
	}
	assert_null(ln->obj);
	assert_string_equal(ln->reason, jsonl_status_text(ln->status));
	assert_true(ln->err_offset >= ln->offset && ln->err_offset < ln->offset + ln->size);
	/* The detail never quotes the input. */
	assert_null(strstr(ln->detail, " near '"));
	assert_int_equal(buf_printf(&c->out, "%s@%llu", short_name[ln->status],
				    (unsigned long long)ln->err_offset), GV_OK);
	if (ln->err_column)
		assert_int_equal(buf_printf(&c->out, " col=%d", ln->err_column), GV_OK);
	if (ln->detail[0])
		assert_int_equal(buf_printf(&c->out, " (%s)", ln->detail), GV_OK);
	assert_int_equal(buf_append(&c->out, " raw=", 5), GV_OK);
	put_escaped(&c->out, ln->raw.ptr, ln->raw.len);
	if (ln->raw_truncated)
		assert_int_equal(buf_append(&c->out, " trunc", 6), GV_OK);
	assert_int_equal(buf_append(&c->out, "\n", 1), GV_OK);
	return GV_OK;
}

static char *jsonl_run(const struct jsonl_limits *lim, const char *in, size_t len,
		       const size_t *cuts, size_t ncuts, int byte_by_byte)
{
	struct collect c = {.in = (const unsigned char *)in, .len = len};
	struct jsonl_reader *r = NULL;
	struct jsonl_stats st;
	size_t from = 0;
	char *text;

	/* The first line starts after the BOM, when there is one. */
	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		c.next = 3;
	buf_init(&c.out, OUT_MAX);
	assert_int_equal(jsonl_reader_new(lim, on_line, &c, &r), GV_OK);
	if (byte_by_byte) {
		for (size_t i = 0; i < len; i++) {
			assert_int_equal(jsonl_reader_feed(r, in + i, 1), GV_OK);
			assert_int_equal(jsonl_reader_feed(r, in + i, 0), GV_OK);
		}
	} else {
		for (size_t k = 0; k <= ncuts; k++) {
			size_t to = k < ncuts ? cuts[k] : len;

			assert_int_equal(jsonl_reader_feed(r, in + from, to - from), GV_OK);
			from = to;
		}
	}
	assert_int_equal(jsonl_reader_finish(r), GV_OK);
	jsonl_reader_stats(r, &st);
	jsonl_reader_free(r);
	assert_int_equal(st.bytes, len);
	assert_int_equal(st.bom_bytes + c.sum + st.blank_bytes, len);
	for (uint64_t k = c.next; k < len; k++)
		assert_true(is_blank_byte((unsigned char)in[k]));
	assert_int_equal(buf_printf(&c.out, "lines=%llu bad=%llu blank=%llu/%llu bom=%zu\n",
				    (unsigned long long)st.lines, (unsigned long long)st.bad_lines,
				    (unsigned long long)st.blank_lines,
				    (unsigned long long)st.blank_bytes, st.bom_bytes), GV_OK);
	text = strdup(c.out.data ? c.out.data : "");
	assert_non_null(text);
	buf_release(&c.out);
	return text;
}

static void jsonl_check_lim(const struct jsonl_limits *lim, const char *in, size_t len,
			    const char *expect)
{
	char *whole = jsonl_run(lim, in, len, NULL, 0, 0), *t;
	size_t cuts[2];

	assert_string_equal(whole, expect);
	for (size_t i = 1; i < len; i++) {
		cuts[0] = i;
		t = jsonl_run(lim, in, len, cuts, 1, 0);
		assert_string_equal(t, whole);
		free(t);
		for (size_t j = i + 1; j < len && len <= 96; j++) {
			cuts[1] = j;
			t = jsonl_run(lim, in, len, cuts, 2, 0);
			assert_string_equal(t, whole);
			free(t);
		}
	}
	t = jsonl_run(lim, in, len, NULL, 0, 1);
	assert_string_equal(t, whole);
	free(t);
	free(whole);
}

#define CHECK(in, expect) jsonl_check_lim(&lim_default, in, sizeof(in) - 1, expect)
#define CHECK_SMALL(in, expect) jsonl_check_lim(&lim_small, in, sizeof(in) - 1, expect)
#define CHECK_LIM(lim, in, expect) jsonl_check_lim(lim, in, sizeof(in) - 1, expect)

static void test_simple(void **state)
{
	(void)state;
	CHECK("{\"a\":1}\n{\"c\":[1,{\"d\":null}],\"b\":\"x\"}\n",
	      "1 @0+8 ok {\"a\":1}\n"
	      "2 @8+29 ok {\"b\":\"x\",\"c\":[1,{\"d\":null}]}\n"
	      "lines=2 bad=0 blank=0/0 bom=0\n");
	CHECK("", "lines=0 bad=0 blank=0/0 bom=0\n");
	/* UTF-8 in keys and values, and an escaped line break inside a string. */
	CHECK("{\"\xE5\xA7\x93\xE5\x90\x8D\":\"\xE5\xBC\xA0\\n\xE4\xB8\x89\"}\n",
	      "1 @0+22 ok {\"\xE5\xA7\x93\xE5\x90\x8D\":\"\xE5\xBC\xA0\\n\xE4\xB8\x89\"}\n"
	      "lines=1 bad=0 blank=0/0 bom=0\n");
}

static void test_crlf(void **state)
{
	(void)state;
	CHECK("{\"a\":1}\r\n{\"b\":2}\r\n",
	      "1 @0+9 ok {\"a\":1}\n"
	      "2 @9+9 ok {\"b\":2}\n"
	      "lines=2 bad=0 blank=0/0 bom=0\n");
	/* Exactly max_line_bytes before a CRLF: the CR is the line end. */
	CHECK_SMALL("{\"a\":\"01234567\"}\r\n",
		    "1 @0+18 ok {\"a\":\"01234567\"}\n"
		    "lines=1 bad=0 blank=0/0 bom=0\n");
}

static void test_bom(void **state)
{
	(void)state;
	CHECK("\xEF\xBB\xBF{\"a\":1}\n",
	      "1 @3+8 ok {\"a\":1}\n"
	      "lines=1 bad=0 blank=0/0 bom=3\n");
	CHECK("\xEF\xBB\xBF", "lines=0 bad=0 blank=0/0 bom=3\n");
	CHECK("\xEF\xBB{}\n",
	      "1 @0+5 utf8@0 raw=\\xef\\xbb{}\n"
	      "lines=1 bad=1 blank=0/0 bom=0\n");
	CHECK("\xEF\xBB",
	      "1 @0+2 utf8@0 raw=\\xef\\xbb\n"
	      "lines=1 bad=1 blank=0/0 bom=0\n");
}

static void test_blank_lines(void **state)
{
	(void)state;
	CHECK("\n{\"a\":1}\n  \t\n\r\n{\"b\":2}\n\n",
	      "2 @1+8 ok {\"a\":1}\n"
	      "5 @15+8 ok {\"b\":2}\n"
	      "lines=2 bad=0 blank=4/8 bom=0\n");
	/* Whitespace only is blank however long; a final one without a line end too. */
	CHECK_SMALL("                    \n{}\n \t",
		    "2 @21+3 ok {}\n"
		    "lines=1 bad=0 blank=2/23 bom=0\n");
}

static void test_no_final_newline(void **state)
{
	(void)state;
	CHECK("{\"a\":1}\n{\"b\":2}",
	      "1 @0+8 ok {\"a\":1}\n"
	      "2 @8+7 ok {\"b\":2}\n"
	      "lines=2 bad=0 blank=0/0 bom=0\n");
	/* A lone CR at the very end is not a line end: it stays in raw (JSON whitespace). */
	CHECK("{\"a\":1}\r",
	      "1 @0+8 ok {\"a\":1}\n"
	      "lines=1 bad=0 blank=0/0 bom=0\n");
}

static void test_syntax(void **state)
{
	(void)state;
	/* An escaped NUL is refused too: strings stay C strings for everything after. */
	CHECK("{\"a\":\"\\u0000\"}\n",
	      "1 @0+15 syntax@12 col=13 (\\u0000 is not allowed without JSON_ALLOW_NUL) "
	      "raw={\"a\":\"\\x5cu0000\"}\n"
	      "lines=1 bad=1 blank=0/0 bom=0\n");
	CHECK("{\"a\":1,}\n{\"a\" 1}\n{\"a\":1} x\n{\"a\":tru}\n{\"a\":1}\n",
	      "1 @0+9 syntax@7 col=8 (string or '}' expected) raw={\"a\":1,}\n"
	      "2 @9+8 syntax@14 col=6 (':' expected) raw={\"a\" 1}\n"
	      "3 @17+10 syntax@25 col=9 (end of file expected) raw={\"a\":1} x\n"
	      "4 @27+10 syntax@34 col=8 (invalid token) raw={\"a\":tru}\n"
	      "5 @37+8 ok {\"a\":1}\n"
	      "lines=5 bad=4 blank=0/0 bom=0\n");
}

static void test_not_object(void **state)
{
	(void)state;
	CHECK("[1,2]\n3\n\"s\"\nnull\n{}\n",
	      "1 @0+6 not_object@0 raw=[1,2]\n"
	      "2 @6+2 not_object@6 raw=3\n"
	      "3 @8+4 not_object@8 raw=\"s\"\n"
	      "4 @12+5 not_object@12 raw=null\n"
	      "5 @17+3 ok {}\n"
	      "lines=5 bad=4 blank=0/0 bom=0\n");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	CHECK("{\"a\":\"\xC3\"}\n{\"a\":\"\xED\xA0\x80\"}\n{\"a\":\"\xC3\xA9\"}\n",
	      "1 @0+10 utf8@6 raw={\"a\":\"\\xc3\"}\n"
	      "2 @10+12 utf8@16 raw={\"a\":\"\\xed\\xa0\\x80\"}\n"
	      "3 @22+11 ok {\"a\":\"\xC3\xA9\"}\n"
	      "lines=3 bad=2 blank=0/0 bom=0\n");
	/* 4-byte and E0 sequences; then a lead byte that can never start one, an
	 * overlong E0 form and a code point past U+10FFFF. */
	CHECK("{\"a\":\"\xF0\x9F\x98\x80\xE0\xA0\x80\"}\n{\"\xF5\":1}\n"
	      "{\"\xE0\x80\x80\":1}\n{\"\xF4\x90\x80\x80\":1}\n",
	      "1 @0+16 ok {\"a\":\"\xF0\x9F\x98\x80\xE0\xA0\x80\"}\n"
	      "2 @16+8 utf8@18 raw={\"\\xf5\":1}\n"
	      "3 @24+10 utf8@26 raw={\"\\xe0\\x80\\x80\":1}\n"
	      "4 @34+11 utf8@36 raw={\"\\xf4\\x90\\x80\\x80\":1}\n"
	      "lines=4 bad=3 blank=0/0 bom=0\n");
	/* A sequence cut by the line end. */
	CHECK("{}\xE4\xB8\n{}\n",
	      "1 @0+5 utf8@2 raw={}\\xe4\\xb8\n"
	      "2 @5+3 ok {}\n"
	      "lines=2 bad=1 blank=0/0 bom=0\n");
}

static void test_nul(void **state)
{
	(void)state;
	CHECK("{\"a\":\"b\0\"}\n{}\n",
	      "1 @0+11 nul@7 raw={\"a\":\"b\\x00\"}\n"
	      "2 @11+3 ok {}\n"
	      "lines=2 bad=1 blank=0/0 bom=0\n");
}

static void test_too_long(void **state)
{
	(void)state;
	CHECK_SMALL("{\"a\":\"0123456789\"}\n{\"b\":1}\n",
		    "1 @0+19 too_long@16 raw={\"a\":\"0123456789 trunc\n"
		    "2 @19+8 ok {\"b\":1}\n"
		    "lines=2 bad=1 blank=0/0 bom=0\n");
	/* 16 bytes and a CR with no LF after it: the CR is content, so it is too long. */
	CHECK_SMALL("{\"a\":\"01234567\"}\r",
		    "1 @0+17 too_long@16 raw={\"a\":\"01234567\"} trunc\n"
		    "lines=1 bad=1 blank=0/0 bom=0\n");
}

static void test_too_deep(void **state)
{
	(void)state;
	/* Depth 3 is allowed; brackets inside strings (even after an escaped quote) do not
	 * count. */
	CHECK_LIM(&lim_deep,
		  "{\"a\":{\"b\":[1]}}\n{\"a\":[[[1]]]}\n{\"a\":\"[[[[\"}\n{\"\\\"[\":[[]]}\n",
		  "1 @0+16 ok {\"a\":{\"b\":[1]}}\n"
		  "2 @16+14 too_deep@23 raw={\"a\":[[[1]]]}\n"
		  "3 @30+13 ok {\"a\":\"[[[[\"}\n"
		  "4 @43+13 ok {\"\\\"[\":[[]]}\n"
		  "lines=4 bad=1 blank=0/0 bom=0\n");
}

static void test_duplicate(void **state)
{
	(void)state;
	CHECK("{\"a\":1,\"a\":2}\n{\"x\":{\"k\":1,\"k\":1}}\n{\"a\":1,\"A\":2}\n",
	      "1 @0+14 duplicate@9 col=10 (duplicate object key) raw={\"a\":1,\"a\":2}\n"
	      "2 @14+20 duplicate@28 col=15 (duplicate object key) raw={\"x\":{\"k\":1,\"k\":1}}\n"
	      "3 @34+14 ok {\"A\":2,\"a\":1}\n"
	      "lines=3 bad=2 blank=0/0 bom=0\n");
}

/* --- 10 MB generated input, fed in uneven chunks, never held whole --- */

struct big {
	struct jsonl_reader *r;
	uint64_t lines, bad, blank;  /* expected */
	uint64_t seen_ok, seen_bad;
	uint64_t lcg;
	size_t mem_warm;
	char gen[65536];
	size_t glen;
};

static gv_err big_line(void *ctx, const struct jsonl_line *ln)
{
	struct big *b = ctx;

	if (ln->status == JSONL_OK) {
		json_t *id = json_object_get(ln->obj, "id");

		assert_true(json_is_integer(id));
		assert_int_equal(json_integer_value(id), (json_int_t)ln->line_no);
		assert_string_equal(json_string_value(json_object_get(ln->obj, "note")),
				    "tab\there");
		b->seen_ok++;
	} else {
		assert_int_equal(ln->status, JSONL_ERR_DUPLICATE_KEY);
		b->seen_bad++;
	}
	if (ln->line_no == 10000) {
		struct jsonl_stats st;

		jsonl_reader_stats(b->r, &st);
		b->mem_warm = st.mem_bytes;
	}
	return GV_OK;
}

static void big_flush(struct big *b)
{
	size_t from = 0;

	while (from < b->glen) {
		size_t n;

		b->lcg = b->lcg * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 1 + (size_t)((b->lcg >> 33) % 8191);
		if (n > b->glen - from)
			n = b->glen - from;
		assert_int_equal(jsonl_reader_feed(b->r, b->gen + from, n), GV_OK);
		from += n;
	}
	b->glen = 0;
}

static void test_big_input(void **state)
{
	struct big *b = calloc(1, sizeof(*b));
	uint64_t total, lineno = 0;
	struct jsonl_stats st;

	(void)state;
	assert_non_null(b);
	b->lcg = 7;
	assert_int_equal(jsonl_reader_new(&lim_default, big_line, b, &b->r), GV_OK);
	assert_int_equal(jsonl_reader_feed(b->r, "\xEF\xBB\xBF", 3), GV_OK);
	total = 3;
	while (total < 10u * 1024 * 1024) {
		int n;

		lineno++;
		if (lineno % 777 == 0) {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen, " \r\n");
			b->blank++;
		} else if (lineno % 1000 == 0) {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen,
				     "{\"id\":%llu,\"id\":0}\n", (unsigned long long)lineno);
			b->lines++;
			b->bad++;
		} else {
			n = snprintf(b->gen + b->glen, sizeof(b->gen) - b->glen,
				     "{\"id\":%llu,\"name\":\"\xE5\xBC\xA0\xE4\xB8\x89\","
				     "\"tags\":[\"a\",{\"b\":null}],\"note\":\"tab\\there\"}\r\n",
				     (unsigned long long)lineno);
			b->lines++;
		}
		assert_true(n > 0 && (size_t)n < sizeof(b->gen) - b->glen);
		b->glen += (size_t)n;
		total += (uint64_t)n;
		if (b->glen > sizeof(b->gen) - 256)
			big_flush(b);
	}
	big_flush(b);
	assert_int_equal(jsonl_reader_finish(b->r), GV_OK);
	jsonl_reader_stats(b->r, &st);
	assert_int_equal(st.bytes, total);
	assert_int_equal(st.lines, b->lines);
	assert_int_equal(st.bad_lines, b->bad);
	assert_int_equal(st.blank_lines, b->blank);
	assert_int_equal(b->seen_ok + b->seen_bad, b->lines);
	assert_int_not_equal(b->mem_warm, 0);
	assert_int_equal(st.mem_bytes, b->mem_warm);
	assert_true(st.mem_bytes < 64 * 1024);
	jsonl_reader_free(b->r);
	free(b);
}

struct giant {
	uint64_t lines;
	enum jsonl_status first;
	uint64_t first_size;
	int first_trunc;
	int second_ok;
};

static gv_err giant_line(void *ctx, const struct jsonl_line *ln)
{
	struct giant *g = ctx;

	if (++g->lines == 1) {
		g->first = ln->status;
		g->first_size = ln->size;
		g->first_trunc = ln->raw_truncated;
	} else {
		g->second_ok = ln->status == JSONL_OK;
	}
	return GV_OK;
}

/* A 10 MB line: reported too long, with memory at the limit throughout. */
static void test_giant_line(void **state)
{
	static char chunk[65536];
	struct giant g = {0};
	struct jsonl_reader *r = NULL;
	struct jsonl_stats st;
	size_t total = 0;

	(void)state;
	memset(chunk, '[', sizeof(chunk));
	assert_int_equal(jsonl_reader_new(&lim_default, giant_line, &g, &r), GV_OK);
	while (total < 10u * 1024 * 1024) {
		assert_int_equal(jsonl_reader_feed(r, chunk, sizeof(chunk)), GV_OK);
		total += sizeof(chunk);
		jsonl_reader_stats(r, &st);
		assert_true(st.mem_bytes < 64 * 1024);
	}
	assert_int_equal(jsonl_reader_feed(r, "\r\n{}", 4), GV_OK);
	assert_int_equal(jsonl_reader_finish(r), GV_OK);
	assert_int_equal(g.lines, 2);
	assert_int_equal(g.first, JSONL_ERR_TOO_LONG);
	assert_int_equal(g.first_size, total + 2);
	assert_true(g.first_trunc);
	assert_true(g.second_ok);
	jsonl_reader_free(r);
}

/* --- API contract --- */

static gv_err count_line(void *ctx, const struct jsonl_line *ln)
{
	(void)ln;
	(*(int *)ctx)++;
	return GV_OK;
}

static gv_err stop_at_2(void *ctx, const struct jsonl_line *ln)
{
	(*(int *)ctx)++;
	return ln->line_no == 2 ? GV_ERR_LIMIT : GV_OK;
}

/* The callback borrows the object; taking a reference keeps it past the callback. */
static gv_err keep_obj(void *ctx, const struct jsonl_line *ln)
{
	*(json_t **)ctx = json_incref(ln->obj);
	return GV_OK;
}

static void test_api(void **state)
{
	struct jsonl_limits bad[] = {
		{.max_line_bytes = 0, .max_depth = 1},
		{.max_line_bytes = JSONL_LINE_BYTES_MAX + 1, .max_depth = 1},
		{.max_line_bytes = 10, .max_depth = 0},
		{.max_line_bytes = 10, .max_depth = JSONL_DEPTH_MAX + 1},
	};
	struct jsonl_reader *r = (struct jsonl_reader *)&bad;
	json_t *kept = NULL;
	int n = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_int_equal(jsonl_reader_new(&bad[k], count_line, &n, &r), GV_ERR_INVALID);
		assert_null(r);
	}
	assert_int_equal(jsonl_reader_new(&lim_default, NULL, &n, &r), GV_ERR_INVALID);
	assert_int_equal(jsonl_reader_new(NULL, count_line, &n, &r), GV_ERR_INVALID);
	jsonl_reader_free(NULL);

	assert_int_equal(jsonl_reader_new(&lim_default, stop_at_2, &n, &r), GV_OK);
	assert_int_equal(jsonl_reader_feed(r, "{}\n{}\n{}\n", 9), GV_ERR_LIMIT);
	assert_int_equal(n, 2);
	assert_int_equal(jsonl_reader_feed(r, "{}\n", 3), GV_ERR_STATE);
	assert_int_equal(jsonl_reader_finish(r), GV_ERR_STATE);
	jsonl_reader_free(r);

	n = 0;
	assert_int_equal(jsonl_reader_new(&lim_default, stop_at_2, &n, &r), GV_OK);
	assert_int_equal(jsonl_reader_feed(r, "{}\n{}", 5), GV_OK);
	assert_int_equal(jsonl_reader_finish(r), GV_ERR_LIMIT);
	jsonl_reader_free(r);

	n = 0;
	assert_int_equal(jsonl_reader_new(&lim_default, count_line, &n, &r), GV_OK);
	assert_int_equal(jsonl_reader_feed(r, "{}", 2), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(jsonl_reader_finish(r), GV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(jsonl_reader_finish(r), GV_ERR_STATE);
	assert_int_equal(jsonl_reader_feed(r, "{}\n", 3), GV_ERR_STATE);
	jsonl_reader_free(r);

	assert_int_equal(jsonl_reader_new(&lim_default, keep_obj, &kept, &r), GV_OK);
	assert_int_equal(jsonl_reader_feed(r, "{\"k\":\"v\"}\n", 10), GV_OK);
	jsonl_reader_free(r);
	assert_non_null(kept);
	assert_string_equal(json_string_value(json_object_get(kept, "k")), "v");
	json_decref(kept);

	for (int s = 0; s < JSONL_STATUS__COUNT; s++)
		assert_non_null(jsonl_status_text((enum jsonl_status)s));
	assert_string_equal(jsonl_status_text(JSONL_STATUS__COUNT), "unknown JSONL status");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_big_input),
		cmocka_unit_test(test_giant_line),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rawblock.c - blocks of rows as received: packing, limits, compression round
 * trip, blocks of the earlier codec (zstd), lookup by row number, and refusal of
 * malformed blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "common/buf.h"
#include "common/util.h"
#include "data/rawblock.h"

/* Compresses b and decompresses the result into plain. */
static void round_trip(struct rawblock_builder *b, struct gv_buf *plain, struct gv_buf *packed)
{
	const void *data;
	size_t len;

	assert_int_equal(rawblock_compress(b, &data, &len), GV_OK);
	assert_true(len > 5);
	assert_int_equal(((const char *)data)[0], RAWBLOCK_LZ4);
	packed->len = 0;
	assert_int_equal(buf_append(packed, data, len), GV_OK);
	buf_init(plain, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_decompress(packed->data, packed->len, plain), GV_OK);
}

static void expect_row(const struct gv_buf *plain, int64_t row_no, const char *text)
{
	const void *row;
	size_t len;

	assert_int_equal(rawblock_find(plain->data, plain->len, row_no, &row, &len), GV_OK);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(row, text, len);
}

static void test_round_trip(void **state)
{
	struct rawblock_builder *b;
	struct gv_buf plain, packed;
	const void *row;
	size_t len;
	/* Row numbers may skip (JSON Lines skips blank lines); an empty row is a row. */
	static const int64_t nos[] = {2, 3, 7, 8, 40};
	static const char *const rows[] = {"110101199003074514,王伟,13812345678", "", "a,b,\"c\r\nd\"",
					   "\xef\xbb\xbfx", "last"};

	(void)state;
	buf_init(&packed, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	assert_int_equal(rawblock_rows(b), 0);
	assert_false(rawblock_needs_close(b, RAWBLOCK_ROW_MAX));   /* an empty block takes any row */
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(rawblock_add(b, nos[i], rows[i], strlen(rows[i])), GV_OK);
	assert_int_equal(rawblock_rows(b), 5);
	assert_int_equal(rawblock_first_row(b), 2);
	round_trip(b, &plain, &packed);
	assert_int_equal(rawblock_rows(b), 0);   /* emptied for the next block */
	for (size_t i = 0; i < 5; i++)
		expect_row(&plain, nos[i], rows[i]);
	assert_int_equal(rawblock_find(plain.data, plain.len, 1, &row, &len), GV_ERR_NOT_FOUND);
	assert_int_equal(rawblock_find(plain.data, plain.len, 5, &row, &len), GV_ERR_NOT_FOUND);
	assert_int_equal(rawblock_find(plain.data, plain.len, 41, &row, &len), GV_ERR_NOT_FOUND);
	buf_release(&plain);
	/* The builder is reused: the next block starts at its own first row. */
	assert_int_equal(rawblock_add(b, 41, "next", 4), GV_OK);
	assert_int_equal(rawblock_first_row(b), 41);
	round_trip(b, &plain, &packed);
	expect_row(&plain, 41, "next");
	buf_release(&plain);
	buf_release(&packed);
	rawblock_builder_free(b);
}

static void test_limits(void **state)
{
	struct rawblock_builder *b;
	struct gv_buf plain, packed;
	char *big = malloc(RAWBLOCK_ROW_MAX + 1), row[1024];
	int64_t n = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', RAWBLOCK_ROW_MAX + 1);
	buf_init(&packed, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	assert_int_equal(rawblock_add(b, 1, big, RAWBLOCK_ROW_MAX + 1), GV_ERR_INVALID);
	assert_int_equal(rawblock_add(b, 0, "x", 1), GV_ERR_INVALID);
	/* A row of the largest size makes a block of its own. */
	assert_int_equal(rawblock_add(b, 1, big, RAWBLOCK_ROW_MAX), GV_OK);
	assert_true(rawblock_needs_close(b, 1));
	round_trip(b, &plain, &packed);
	assert_true(packed.len < RAWBLOCK_ROW_MAX / 100);   /* repetitive: compresses */
	buf_release(&plain);
	/* 1 KiB rows: the byte bound closes the block first. */
	memset(row, 'r', sizeof(row));
	while (!rawblock_needs_close(b, sizeof(row)))
		assert_int_equal(rawblock_add(b, ++n, row, sizeof(row)), GV_OK);
	assert_int_equal(n, RAWBLOCK_BYTES / sizeof(row));
	round_trip(b, &plain, &packed);
	buf_release(&plain);
	/* Short rows: the row bound does. */
	n = 0;
	while (!rawblock_needs_close(b, 1))
		assert_int_equal(rawblock_add(b, ++n, "s", 1), GV_OK);
	assert_int_equal(n, RAWBLOCK_ROWS);
	assert_int_equal(rawblock_add(b, ++n, "s", 1), GV_ERR_INVALID);
	round_trip(b, &plain, &packed);
	expect_row(&plain, RAWBLOCK_ROWS, "s");
	buf_release(&plain);
	free(big);
	buf_release(&packed);
	rawblock_builder_free(b);
}

/* Damaged input is refused, never read past. */
static void test_malformed(void **state)
{
	struct rawblock_builder *b;
	struct gv_buf plain, packed;
	unsigned char bad[64];
	const void *row;
	size_t len;

	(void)state;
	buf_init(&packed, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	assert_int_equal(rawblock_add(b, 1, "one", 3), GV_OK);
	assert_int_equal(rawblock_add(b, 2, "two", 3), GV_OK);
	round_trip(b, &plain, &packed);
	/* Truncated and garbage compressed forms. */
	for (size_t cut = 0; cut < packed.len; cut++) {
		struct gv_buf out;

		buf_init(&out, RAWBLOCK_PLAIN_MAX);
		assert_int_not_equal(rawblock_decompress(packed.data, cut, &out), GV_OK);
		buf_release(&out);
	}
	memset(bad, 0xa5, sizeof(bad));
	{
		struct gv_buf out;

		buf_init(&out, RAWBLOCK_PLAIN_MAX);
		assert_int_equal(rawblock_decompress(bad, sizeof(bad), &out), GV_ERR_STORE);
		buf_release(&out);
	}
	/* Plain forms that lie about their entries. */
	assert_int_equal(rawblock_find(plain.data, 3, 1, &row, &len), GV_ERR_STORE);
	assert_int_equal(rawblock_find(plain.data, 4 + 12, 1, &row, &len), GV_ERR_STORE);
	plain.data[0] = 0;   /* no entries */
	assert_int_equal(rawblock_find(plain.data, plain.len, 1, &row, &len), GV_ERR_STORE);
	plain.data[0] = 2;
	plain.data[4 + 12 + 8] = (char)0xff;   /* second row ends beyond the data */
	assert_int_equal(rawblock_find(plain.data, plain.len, 2, &row, &len), GV_ERR_STORE);
	/* A block whose index does not hold together gives no row at all. */
	assert_int_equal(rawblock_find(plain.data, plain.len, 1, &row, &len), GV_ERR_STORE);
	plain.data[4 + 12 + 8] = 6;
	expect_row(&plain, 2, "two");
	plain.data[4 + 12] = 1;                /* row numbers 1, 1 */
	assert_int_equal(rawblock_find(plain.data, plain.len, 1, &row, &len), GV_ERR_STORE);
	plain.data[4 + 12] = 2;
	plain.data[4 + 8] = 7;                 /* the first row ends after the second */
	assert_int_equal(rawblock_find(plain.data, plain.len, 2, &row, &len), GV_ERR_STORE);
	buf_release(&plain);
	buf_release(&packed);
	rawblock_builder_free(b);
}

/* Blocks written with zstd before LZ4 still open; a codec byte that names neither,
 * and an LZ4 block whose plain length is not the declared one, are refused. */
static void test_codecs(void **state)
{
	struct rawblock_builder *b;
	struct gv_buf plain, packed, out;
	size_t bound, n;
	char *z;

	(void)state;
	buf_init(&packed, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	assert_int_equal(rawblock_add(b, 1, "110101199003074514,王伟", strlen("110101199003074514,王伟")),
			 GV_OK);
	assert_int_equal(rawblock_add(b, 2, "second row", 10), GV_OK);
	round_trip(b, &plain, &packed);
	bound = 1 + ZSTD_compressBound(plain.len);
	z = malloc(bound);
	assert_non_null(z);
	z[0] = RAWBLOCK_ZSTD;
	n = ZSTD_compress(z + 1, bound - 1, plain.data, plain.len, 1);
	assert_false(ZSTD_isError(n));
	buf_init(&out, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_decompress(z, 1 + n, &out), GV_OK);
	assert_int_equal(out.len, plain.len);
	assert_memory_equal(out.data, plain.data, plain.len);
	expect_row(&out, 1, "110101199003074514,王伟");
	expect_row(&out, 2, "second row");
	out.len = 0;
	z[0] = 'x';
	assert_int_equal(rawblock_decompress(z, 1 + n, &out), GV_ERR_STORE);
	packed.data[0] = RAWBLOCK_ZSTD;   /* an LZ4 block read as zstd */
	assert_int_equal(rawblock_decompress(packed.data, packed.len, &out), GV_ERR_STORE);
	packed.data[0] = RAWBLOCK_LZ4;
	util_put_le((unsigned char *)packed.data + 1, plain.len + 1, 4);
	assert_int_equal(rawblock_decompress(packed.data, packed.len, &out), GV_ERR_STORE);
	util_put_le((unsigned char *)packed.data + 1, plain.len - 1, 4);
	assert_int_equal(rawblock_decompress(packed.data, packed.len, &out), GV_ERR_STORE);
	util_put_le((unsigned char *)packed.data + 1, plain.len, 4);
	assert_int_equal(rawblock_decompress(packed.data, packed.len, &out), GV_OK);
	assert_memory_equal(out.data, plain.data, plain.len);
	free(z);
	buf_release(&out);
	buf_release(&plain);
	buf_release(&packed);
	rawblock_builder_free(b);
}

/* A row that cannot be added leaves the block as it was. */
static void test_failed_add(void **state)
{
	struct rawblock_builder *b;
	struct gv_buf plain, packed;
	char *big = malloc(RAWBLOCK_ROW_MAX);
	const void *row;
	size_t len;

	(void)state;
	assert_non_null(big);
	memset(big, 'b', RAWBLOCK_ROW_MAX);
	buf_init(&packed, RAWBLOCK_PLAIN_MAX);
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	assert_int_equal(rawblock_add(b, 1, "first", 5), GV_OK);
	assert_int_equal(rawblock_add(b, 2, big, RAWBLOCK_ROW_MAX), GV_OK);
	/* Past the builder's byte limit: refused. */
	assert_int_not_equal(rawblock_add(b, 3, big, RAWBLOCK_ROW_MAX), GV_OK);
	assert_int_equal(rawblock_rows(b), 2);
	assert_int_equal(rawblock_add(b, 4, "last", 4), GV_OK);
	round_trip(b, &plain, &packed);
	expect_row(&plain, 1, "first");
	assert_int_equal(rawblock_find(plain.data, plain.len, 2, &row, &len), GV_OK);
	assert_int_equal(len, RAWBLOCK_ROW_MAX);
	assert_int_equal(rawblock_find(plain.data, plain.len, 3, &row, &len), GV_ERR_NOT_FOUND);
	expect_row(&plain, 4, "last");
	buf_release(&plain);
	buf_release(&packed);
	free(big);
	rawblock_builder_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_failed_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fuzz_rawblock.c - blocks of rows as received (data/rawblock.h).
 *
 * Input: 1 mode byte, then data.  Mode 0: data is a compressed block, opened as a
 * stored one would be, and every row it lists looked up.  Mode 1: data is a plain
 * block, every row number it lists (and some it does not) looked up.  Mode 2: data's
 * lines become the rows of a block (row numbers rising by the line's first byte), which
 * is compressed, opened and read back: every row must come back byte for byte.  A row
 * found must lie inside the block; anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "data/rawblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Looks up every row number a plain block lists, and a few around them. */
static void lookup_all(const uint8_t *plain, size_t len)
{
	size_t n = len >= 4 ? (size_t)util_get_le(plain, 4) : 0;

	for (size_t i = 0; i < n && i < RAWBLOCK_ROWS && 4 + 12 * (i + 1) <= len; i++) {
		int64_t no = (int64_t)util_get_le(plain + 4 + 12 * i, 8);

		for (int64_t d = -1; d <= 1; d++) {
			const void *row;
			size_t rl;

			if ((d < 0 && no == INT64_MIN) || (d > 0 && no == INT64_MAX))
				continue;

			if (rawblock_find(plain, len, no + d, &row, &rl) == GV_OK)
				CHECK((const uint8_t *)row >= plain && (const uint8_t *)row + rl <= plain + len);
		}
	}
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct rawblock_builder *b;
	struct gv_buf plain;
	const uint8_t *rows[RAWBLOCK_ROWS];
	size_t lens[RAWBLOCK_ROWS], n = 0, at = 0;
	int64_t nos[RAWBLOCK_ROWS], no = 0;
	const void *packed;
	size_t plen;

	if (rawblock_builder_new(&b) != GV_OK)
		return;
	while (at < size && n < RAWBLOCK_ROWS) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) : size - at;

		if (rawblock_needs_close(b, len))
			break;
		no += 1 + (len ? data[at] % 4 : 0);
		CHECK(rawblock_add(b, no, data + at, len) == GV_OK);
		rows[n] = data + at;
		lens[n] = len;
		nos[n++] = no;
		at += len + 1;
	}
	if (n && rawblock_compress(b, &packed, &plen) == GV_OK) {
		buf_init(&plain, RAWBLOCK_PLAIN_MAX);
		CHECK(rawblock_decompress(packed, plen, &plain) == GV_OK);
		for (size_t i = 0; i < n; i++) {
			const void *row;
			size_t rl;

			CHECK(rawblock_find(plain.data, plain.len, nos[i], &row, &rl) == GV_OK);
			CHECK(rl == lens[i] && (rl == 0 || memcmp(row, rows[i], rl) == 0));
		}
		buf_release(&plain);
	}
	rawblock_builder_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_buf plain;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		buf_init(&plain, RAWBLOCK_PLAIN_MAX);
		if (rawblock_decompress(data + 1, size - 1, &plain) == GV_OK)
			lookup_all((const uint8_t *)plain.data, plain.len);
		buf_release(&plain);
		break;
	case 1:
		lookup_all(data + 1, size - 1);
		break;
	default:
		round_trip(data + 1, size - 1);
	}
	return 0;
}

/* rawblock.c - packing, compressing and reading blocks of rows as received. */
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_customMem: memory that is wiped when freed */
#include "data/rawblock.h"

#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <zstd.h>

#include "common/util.h"

#define ENTRY_BYTES 12           /* u64le row_no, u32le end */
#define HEAD_MAX (4 + ENTRY_BYTES * RAWBLOCK_ROWS)
#define LZ4_HEAD 5               /* the codec byte and the plain length */

/* The rows are gathered behind room for the largest head, so that the head goes right
 * in front of them at the end and the plain form is compressed where it lies. */
struct rawblock_builder {
	struct gv_buf head;      /* u32 n, then the entries */
	struct gv_buf plain;     /* HEAD_MAX bytes of room, then the rows */
	size_t n;
	int64_t first_row;
	void *lz4;               /* LZ4's state: positions in the rows, wiped when freed */
	struct gv_buf out;       /* the last compressed block */
};

/* zstd's allocator for reading blocks written before LZ4: the size goes in front so
 * that free can wipe what zstd kept (windows of the rows in clear). */
#define HDR 16

static void *wipe_alloc(void *opaque, size_t size)
{
	unsigned char *p;

	(void)opaque;
	if (size > SIZE_MAX - HDR)
		return NULL;
	p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + HDR;
}

static void wipe_free(void *opaque, void *addr)
{
	unsigned char *p;
	size_t size;

	(void)opaque;
	if (!addr)
		return;
	p = (unsigned char *)addr - HDR;
	memcpy(&size, p, sizeof(size));
	util_wipe(addr, size);
	free(p);
}

static const ZSTD_customMem wiping_mem = {wipe_alloc, wipe_free, NULL};

gv_err rawblock_builder_new(struct rawblock_builder **out)
{
	struct rawblock_builder *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b)
		return GV_ERR_NOMEM;
	buf_init(&b->head, HEAD_MAX);
	buf_init(&b->plain, HEAD_MAX + RAWBLOCK_BYTES + RAWBLOCK_ROW_MAX);
	buf_init(&b->out, LZ4_HEAD + LZ4_COMPRESSBOUND(RAWBLOCK_PLAIN_MAX));
	b->lz4 = calloc(1, (size_t)LZ4_sizeofState());
	if (!b->lz4 || buf_reserve(&b->plain, HEAD_MAX) != GV_OK) {
		rawblock_builder_free(b);
		return GV_ERR_NOMEM;
	}
	buf_advance(&b->plain, HEAD_MAX);
	*out = b;
	return GV_OK;
}

void rawblock_builder_free(struct rawblock_builder *b)
{
	if (!b)
		return;
	buf_release(&b->head);
	buf_release(&b->plain);
	buf_release(&b->out);
	if (b->lz4)
		util_wipe(b->lz4, (size_t)LZ4_sizeofState());
	free(b->lz4);
	free(b);
}

size_t rawblock_rows(const struct rawblock_builder *b)
{
	return b->n;
}

int64_t rawblock_first_row(const struct rawblock_builder *b)
{
	return b->first_row;
}

int rawblock_needs_close(const struct rawblock_builder *b, size_t len)
{
	return b->n && (b->n == RAWBLOCK_ROWS || b->plain.len - HEAD_MAX + len > RAWBLOCK_BYTES);
}

gv_err rawblock_add(struct rawblock_builder *b, int64_t row_no, const void *data, size_t len)
{
	unsigned char e[ENTRY_BYTES];
	gv_err err = GV_OK;

	if (len > RAWBLOCK_ROW_MAX || b->n == RAWBLOCK_ROWS || row_no <= 0)
		return GV_ERR_INVALID;
	if (!b->n) {
		static const unsigned char zero[4];

		b->head.len = 0;
		err = buf_append(&b->head, zero, sizeof(zero));
		b->first_row = row_no;
	}
	util_put_le(e, (uint64_t)row_no, 8);
	util_put_le(e + 8, (uint64_t)(b->plain.len - HEAD_MAX + len), 4);
	if (err == GV_OK)
		err = buf_append(&b->head, e, sizeof(e));
	if (err == GV_OK && len)
		err = buf_append(&b->plain, data, len);
	if (err == GV_OK)
		b->n++;
	else   /* the block stays as it was: its entries and rows agree */
		b->head.len = b->n ? 4 + ENTRY_BYTES * b->n : 0;
	return err;
}

gv_err rawblock_compress(struct rawblock_builder *b, const void **data, size_t *len)
{
	char *plain;
	size_t total;
	int bound, n;
	gv_err err;

	*data = NULL;
	*len = 0;
	if (!b->n)
		return GV_ERR_INVALID;
	util_put_le((unsigned char *)b->head.data, b->n, 4);
	plain = b->plain.data + HEAD_MAX - b->head.len;
	memcpy(plain, b->head.data, b->head.len);
	total = b->plain.len - HEAD_MAX + b->head.len;
	bound = LZ4_compressBound((int)total);
	b->out.len = 0;
	err = buf_reserve(&b->out, LZ4_HEAD + (size_t)bound);
	if (err == GV_OK) {
		b->out.data[0] = RAWBLOCK_LZ4;
		util_put_le((unsigned char *)b->out.data + 1, total, 4);
		n = LZ4_compress_fast_extState(b->lz4, plain, b->out.data + LZ4_HEAD, (int)total, bound, 1);
		err = n > 0 ? GV_OK : GV_ERR_STORE;
		if (err == GV_OK) {
			buf_advance(&b->out, LZ4_HEAD + (size_t)n);
			*data = b->out.data;
			*len = b->out.len;
		}
	}
	util_wipe(b->head.data, b->head.len);
	util_wipe(plain, total);
	b->head.len = 0;
	b->plain.len = HEAD_MAX;
	b->n = 0;
	return err;
}

/* A zstd frame, as blocks were compressed before LZ4. */
static gv_err zstd_decompress(const void *data, size_t len, struct gv_buf *out)
{
	unsigned long long size = ZSTD_getFrameContentSize(data, len);
	ZSTD_DCtx *d;
	size_t rc;
	gv_err err;

	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size < 4 ||
	    size > RAWBLOCK_PLAIN_MAX)
		return GV_ERR_STORE;
	d = ZSTD_createDCtx_advanced(wiping_mem);
	if (!d)
		return GV_ERR_NOMEM;
	err = buf_reserve(out, (size_t)size);
	if (err == GV_OK) {
		rc = ZSTD_decompressDCtx(d, out->data + out->len, (size_t)size, data, len);
		if (ZSTD_isError(rc) || rc != size)
			err = GV_ERR_STORE;
		else
			buf_advance(out, (size_t)size);
	}
	ZSTD_freeDCtx(d);
	return err;
}

gv_err rawblock_decompress(const void *data, size_t len, struct gv_buf *out)
{
	const unsigned char *p = data;
	size_t size;
	int n;
	gv_err err;

	if (len >= 1 && p[0] == RAWBLOCK_ZSTD)
		return zstd_decompress(p + 1, len - 1, out);
	if (len < LZ4_HEAD || p[0] != RAWBLOCK_LZ4 || len - LZ4_HEAD > (size_t)INT32_MAX)
		return GV_ERR_STORE;
	size = (size_t)util_get_le(p + 1, 4);
	if (size < 4 || size > RAWBLOCK_PLAIN_MAX)
		return GV_ERR_STORE;
	err = buf_reserve(out, size);
	if (err != GV_OK)
		return err;
	n = LZ4_decompress_safe((const char *)p + LZ4_HEAD, out->data + out->len, (int)(len - LZ4_HEAD),
				(int)size);
	if (n < 0 || (size_t)n != size)
		return GV_ERR_STORE;   /* what it wrote is past out->len: the caller's buffer wipes it */
	buf_advance(out, size);
	return GV_OK;
}

gv_err rawblock_find(const void *plain, size_t plainlen, int64_t row_no, const void **row, size_t *len)
{
	const unsigned char *p = plain;
	size_t n, data_at, lo, hi;
	uint64_t start = 0;

	*row = NULL;
	*len = 0;
	if (plainlen < 4)
		return GV_ERR_STORE;
	n = (size_t)util_get_le(p, 4);
	if (n == 0 || n > RAWBLOCK_ROWS || plainlen < 4 + ENTRY_BYTES * n)
		return GV_ERR_STORE;
	data_at = 4 + ENTRY_BYTES * n;
	/* The whole index must be consistent (row numbers rising, ends not falling, the
	 * last at the end of the data) before any row is believed. */
	for (size_t i = 0; i < n; i++) {
		const unsigned char *e = p + 4 + ENTRY_BYTES * i;

		if (i && ((int64_t)util_get_le(e, 8) <= (int64_t)util_get_le(e - ENTRY_BYTES, 8) ||
			  util_get_le(e + 8, 4) < util_get_le(e - ENTRY_BYTES + 8, 4)))
			return GV_ERR_STORE;
	}
	if (util_get_le(p + 4 + ENTRY_BYTES * (n - 1) + 8, 4) != plainlen - data_at)
		return GV_ERR_STORE;
	/* Row numbers ascend: binary search. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((int64_t)util_get_le(p + 4 + ENTRY_BYTES * mid, 8) < row_no)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || (int64_t)util_get_le(p + 4 + ENTRY_BYTES * lo, 8) != row_no)
		return GV_ERR_NOT_FOUND;
	if (lo)
		start = util_get_le(p + 4 + ENTRY_BYTES * (lo - 1) + 8, 4);
	{
		uint64_t end = util_get_le(p + 4 + ENTRY_BYTES * lo + 8, 4);

		if (end < start || end > plainlen - data_at)
			return GV_ERR_STORE;
		*row = p + data_at + start;
		*len = (size_t)(end - start);
	}
	return GV_OK;
}

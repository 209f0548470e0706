/* rawblock.c - packing, compressing and reading blocks of rows as received. */
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_customMem: memory that is wiped when freed */
#include "data/rawblock.h"

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "common/util.h"

#define ENTRY_BYTES 12           /* u64le row_no, u32le end */
#define LEVEL 1                  /* zstd's fastest regular level: CSV still shrinks 3-5x */

struct rawblock_builder {
	struct gv_buf head;      /* u32 n, then the entries */
	struct gv_buf rows;
	size_t n;
	int64_t first_row;
	ZSTD_CCtx *cctx;
	struct gv_buf out;       /* the last compressed block */
};

/* zstd's allocator: the size goes in front so that free can wipe what zstd kept
 * (windows of the rows in clear). */
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
	buf_init(&b->head, 4 + ENTRY_BYTES * RAWBLOCK_ROWS);
	buf_init(&b->rows, RAWBLOCK_BYTES + RAWBLOCK_ROW_MAX);
	buf_init(&b->out, ZSTD_COMPRESSBOUND(RAWBLOCK_PLAIN_MAX));
	b->cctx = ZSTD_createCCtx_advanced(wiping_mem);
	if (!b->cctx || ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 0))) {
		rawblock_builder_free(b);
		return GV_ERR_NOMEM;
	}
	*out = b;
	return GV_OK;
}

void rawblock_builder_free(struct rawblock_builder *b)
{
	if (!b)
		return;
	buf_release(&b->head);
	buf_release(&b->rows);
	buf_release(&b->out);
	ZSTD_freeCCtx(b->cctx);
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
	return b->n && (b->n == RAWBLOCK_ROWS || b->rows.len + len > RAWBLOCK_BYTES);
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
	util_put_le(e + 8, (uint64_t)(b->rows.len + len), 4);
	if (err == GV_OK)
		err = buf_append(&b->head, e, sizeof(e));
	if (err == GV_OK && len)
		err = buf_append(&b->rows, data, len);
	if (err == GV_OK)
		b->n++;
	else   /* the block stays as it was: its entries and rows agree */
		b->head.len = b->n ? 4 + ENTRY_BYTES * b->n : 0;
	return err;
}

gv_err rawblock_compress(struct rawblock_builder *b, const void **data, size_t *len)
{
	ZSTD_inBuffer parts[2] = {{b->head.data, b->head.len, 0}, {b->rows.data, b->rows.len, 0}};
	ZSTD_outBuffer o;
	size_t total = b->head.len + b->rows.len, bound = ZSTD_compressBound(total), rc = 0;
	gv_err err;

	*data = NULL;
	*len = 0;
	if (!b->n)
		return GV_ERR_INVALID;
	util_put_le((unsigned char *)b->head.data, b->n, 4);
	b->out.len = 0;
	err = buf_reserve(&b->out, bound);
	if (err != GV_OK)
		goto out;
	o = (ZSTD_outBuffer){b->out.data, bound, 0};
	ZSTD_CCtx_reset(b->cctx, ZSTD_reset_session_only);
	err = GV_ERR_STORE;
	if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(b->cctx, total)))
		goto out;
	rc = ZSTD_compressStream2(b->cctx, &o, &parts[0], ZSTD_e_continue);
	if (ZSTD_isError(rc) || parts[0].pos != parts[0].size)
		goto out;
	/* With room for the whole bound, one end call finishes the frame. */
	rc = ZSTD_compressStream2(b->cctx, &o, &parts[1], ZSTD_e_end);
	if (ZSTD_isError(rc) || rc != 0)
		goto out;
	buf_advance(&b->out, o.pos);
	*data = b->out.data;
	*len = b->out.len;
	err = GV_OK;
out:
	util_wipe(b->head.data, b->head.len);
	if (b->rows.data)
		util_wipe(b->rows.data, b->rows.len);
	b->head.len = b->rows.len = 0;
	b->n = 0;
	return err;
}

gv_err rawblock_decompress(const void *data, size_t len, struct gv_buf *out)
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

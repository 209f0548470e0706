/* rawblock.h - the rows of an import as received, packed into compressed blocks.
 *
 * An import keeps every row as it arrived (the "original table").  Sealing and
 * storing each 1 KiB row on its own cost an AEAD message, a table row and two index
 * entries per row, more than the record made from it.  Consecutive rows of a batch are
 * packed instead into a block of at most RAWBLOCK_ROWS rows or RAWBLOCK_BYTES bytes,
 * compressed, and sealed once by records.c (records_seal_raw_block).
 *
 * The block's plain form, before compression:
 *   u32le n, then n entries {u64le row_no, u32le end}, then the rows' bytes one after
 *   another; row i spans [end(i-1), end(i)) of those bytes.
 * The compressed form: a codec byte, then
 *   RAWBLOCK_LZ4: u32le length of the plain form, then one LZ4 block of it;
 *   RAWBLOCK_ZSTD: a zstd frame of it, as blocks were written before LZ4 (read only).
 * LZ4 compresses CSV 2.8 times at 750 MB/s here, zstd's fastest level 4.7 times at
 * 310 MB/s: zstd took a fifth of the import parser's time.
 * Compression comes before encryption; every block holds rows of one batch, which one
 * account submitted, so no one can learn another party's data from a block's size.
 *
 * What the codecs keep is wiped when freed: zstd's windows hold rows in clear. */
#ifndef GV_DATA_RAWBLOCK_H
#define GV_DATA_RAWBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define RAWBLOCK_LZ4 'l'
#define RAWBLOCK_ZSTD 'z'

#define RAWBLOCK_ROWS 128
#define RAWBLOCK_BYTES ((size_t)128 << 10)
/* The largest plain form accepted when opening: a full block, or one row of up to
 * RAWBLOCK_ROW_MAX bytes alone. */
#define RAWBLOCK_ROW_MAX ((size_t)1 << 20)
#define RAWBLOCK_PLAIN_MAX (RAWBLOCK_BYTES + RAWBLOCK_ROW_MAX + 16 * RAWBLOCK_ROWS)

struct rawblock_builder;

gv_err rawblock_builder_new(struct rawblock_builder **out) GV_MUST_CHECK;
/* Frees the builder, its rows wiped. NULL is a no-op. */
void rawblock_builder_free(struct rawblock_builder *b);
/* Rows in the block being built (0: empty). */
size_t rawblock_rows(const struct rawblock_builder *b);
/* The row number of the block's first row (valid when it has rows). */
int64_t rawblock_first_row(const struct rawblock_builder *b);
/* Whether a row of len bytes must start a new block (the current one is full, or would
 * grow past RAWBLOCK_BYTES with it). */
int rawblock_needs_close(const struct rawblock_builder *b, size_t len);
/* Adds a row (len <= RAWBLOCK_ROW_MAX; row numbers ascending). */
gv_err rawblock_add(struct rawblock_builder *b, int64_t row_no, const void *data,
		    size_t len) GV_MUST_CHECK;
/* Compresses the block (LZ4) and empties the builder (rows wiped).  *data, *len: the
 * compressed form, owned by the builder until its next compress or free. */
gv_err rawblock_compress(struct rawblock_builder *b, const void **data, size_t *len) GV_MUST_CHECK;

/* The plain form of a compressed block, of either codec, into out (the caller wipes
 * it); GV_ERR_STORE when it is not a well-formed block. */
gv_err rawblock_decompress(const void *data, size_t len, struct gv_buf *out) GV_MUST_CHECK;
/* Row row_no of a plain block: *row and *len point into plain.  GV_ERR_NOT_FOUND when
 * the block lacks it, GV_ERR_STORE when the block is malformed. */
gv_err rawblock_find(const void *plain, size_t plainlen, int64_t row_no, const void **row,
		     size_t *len) GV_MUST_CHECK;

#endif

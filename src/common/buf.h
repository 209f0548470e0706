/* buf.h - growable byte buffer with a hard maximum size.
 *
 * All byte accumulation (request bodies, response text) goes through this type so that
 * no caller can write past a limit; appending beyond max returns GV_ERR_TOO_LARGE and
 * leaves the buffer unchanged. */
#ifndef GV_COMMON_BUF_H
#define GV_COMMON_BUF_H

#include <stddef.h>

#include "common/error.h"

struct gv_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;
	size_t touched;   /* data[0..touched) may have held contents: what release wipes */
};

void buf_init(struct gv_buf *b, size_t max);
/* Wipes what the buffer ever held (a body may hold a password) and frees the storage.
 * Capacity never written is not touched: a large buffer reserved ahead costs only the
 * pages it used. */
void buf_release(struct gv_buf *b);
gv_err buf_append(struct gv_buf *b, const void *data, size_t len) GV_MUST_CHECK;
/* For producers that write in place (a decompressor): room for extra more bytes at
 * data + len, then buf_advance by what was written (at most extra). */
gv_err buf_reserve(struct gv_buf *b, size_t extra) GV_MUST_CHECK;
void buf_advance(struct gv_buf *b, size_t n);
/* Room for size bytes in an empty buffer, allocated but not touched: pages never
 * written cost nothing, and the buffer does not grow by copies while it fills. */
gv_err buf_preallocate(struct gv_buf *b, size_t size) GV_MUST_CHECK;
gv_err buf_printf(struct gv_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) GV_MUST_CHECK;

#endif

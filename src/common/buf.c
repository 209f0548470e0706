/* buf.c - bounded growable buffer. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void buf_init(struct gv_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->touched = 0;
}

void buf_release(struct gv_buf *b)
{
	if (b->data) {
		util_wipe(b->data, b->touched);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = b->touched = 0;
}

gv_err buf_reserve(struct gv_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return GV_ERR_TOO_LARGE;
	need = b->len + extra + 1;
	if (need <= b->cap)
		goto out;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	/* Copy rather than realloc so that old contents can be wiped. */
	p = malloc(cap);
	if (!p)
		return GV_ERR_NOMEM;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		util_wipe(b->data, b->touched);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	b->touched = b->len + 1;
out:
	/* The caller may write all it reserved (in-place producers) */
	if (b->touched < need)
		b->touched = need;
	return GV_OK;
}

gv_err buf_preallocate(struct gv_buf *b, size_t size)
{
	if (b->data)
		return GV_ERR_STATE;
	if (size > b->max)
		return GV_ERR_TOO_LARGE;
	b->data = malloc(size + 1);
	if (!b->data)
		return GV_ERR_NOMEM;
	b->data[0] = '\0';
	b->len = 0;
	b->cap = size + 1;
	b->touched = 1;
	return GV_OK;
}

void buf_advance(struct gv_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

gv_err buf_append(struct gv_buf *b, const void *data, size_t len)
{
	gv_err err = buf_reserve(b, len);

	if (err != GV_OK)
		return err;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return GV_OK;
}

gv_err buf_printf(struct gv_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	gv_err err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GV_ERR_INVALID;
	err = buf_reserve(b, (size_t)n);
	if (err != GV_OK)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return GV_OK;
}

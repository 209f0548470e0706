/* arena.c - a linked list of chunks, freed together. */
#include "common/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define ARENA_CHUNK 4096

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	_Alignas(max_align_t) unsigned char mem[];
};

void arena_init(struct gv_arena *a, size_t max)
{
	a->head = NULL;
	a->total = 0;
	a->max = max;
}

void arena_release(struct gv_arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		util_wipe(c->mem, c->used);
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *arena_alloc(struct gv_arena *a, size_t len)
{
	size_t aligned = (len + 15) & ~(size_t)15;
	struct arena_chunk *c = a->head;
	void *p;

	if (len == 0 || aligned < len || aligned > a->max || a->total > a->max - aligned)
		return NULL;
	if (!c || c->size - c->used < aligned) {
		size_t size = aligned > ARENA_CHUNK ? aligned : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	p = c->mem + c->used;
	c->used += aligned;
	a->total += aligned;
	memset(p, 0, aligned);
	return p;
}

char *arena_strdup(struct gv_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *arena_printf(struct gv_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

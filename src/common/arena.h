/* arena.h - request-scoped allocator: everything allocated from an arena dies with it.
 *
 * Handlers take strings and small structs from the request's arena so that no error
 * path has to remember individual frees.  Memory is wiped when the arena is released
 * because request data can include credentials. */
#ifndef GV_COMMON_ARENA_H
#define GV_COMMON_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct gv_arena {
	struct arena_chunk *head;
	size_t total;
	size_t max;   /* hard cap on the sum of allocations */
};

void arena_init(struct gv_arena *a, size_t max);
void arena_release(struct gv_arena *a);
/* Zeroed memory, or NULL when out of memory or past the arena's cap. */
void *arena_alloc(struct gv_arena *a, size_t len);
char *arena_strdup(struct gv_arena *a, const char *s);
char *arena_printf(struct gv_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

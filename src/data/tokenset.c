/* tokenset.c - open addressing over the tokens' own bits: they are MAC output, so
 * their first bytes are already a uniform hash. */
#include "data/tokenset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define KEY_BYTES 16
#define FIRST_SLOTS 1024   /* a power of two */

struct slot {
	unsigned char used;
	unsigned char tag;
	unsigned char key[KEY_BYTES];
};

struct tokenset {
	struct slot *slots;
	size_t cap;   /* a power of two */
	size_t n;
};

/* The first KEY_BYTES bytes of a hex token; 0 when it is shorter or not hex. */
static int token_key(const char *token, unsigned char key[KEY_BYTES])
{
	return util_hex_decode_n(token, key, KEY_BYTES) == GV_OK;
}

static size_t slot_of(const struct tokenset *t, unsigned char tag, const unsigned char key[KEY_BYTES])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)((h ^ (uint64_t)tag * 0x9E3779B97F4A7C15ull) & (t->cap - 1));
}

/* The slot holding (tag, key), or the empty slot where it would go. */
static struct slot *find(const struct tokenset *t, unsigned char tag, const unsigned char key[KEY_BYTES])
{
	size_t i = slot_of(t, tag, key);

	while (t->slots[i].used &&
	       (t->slots[i].tag != tag || memcmp(t->slots[i].key, key, KEY_BYTES) != 0))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static gv_err grow(struct tokenset *t)
{
	struct tokenset bigger = {NULL, t->cap * 2, t->n};

	if (bigger.cap > SIZE_MAX / sizeof(struct slot))
		return GV_ERR_NOMEM;
	bigger.slots = calloc(bigger.cap, sizeof(struct slot));
	if (!bigger.slots)
		return GV_ERR_NOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			*find(&bigger, t->slots[i].tag, t->slots[i].key) = t->slots[i];
	util_wipe(t->slots, t->cap * sizeof(struct slot));
	free(t->slots);
	*t = bigger;
	return GV_OK;
}

gv_err tokenset_new(struct tokenset **out)
{
	struct tokenset *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return GV_ERR_NOMEM;
	t->cap = FIRST_SLOTS;
	t->slots = calloc(t->cap, sizeof(struct slot));
	if (!t->slots) {
		free(t);
		return GV_ERR_NOMEM;
	}
	*out = t;
	return GV_OK;
}

void tokenset_free(struct tokenset *t)
{
	if (!t)
		return;
	util_wipe(t->slots, t->cap * sizeof(struct slot));
	free(t->slots);
	free(t);
}

size_t tokenset_count(const struct tokenset *t)
{
	return t->n;
}

int tokenset_has(const struct tokenset *t, int tag, const char *token)
{
	unsigned char key[KEY_BYTES];

	if (tag < 0 || tag > UINT8_MAX || !token_key(token, key))
		return -1;
	return find(t, (unsigned char)tag, key)->used;
}

gv_err tokenset_add(struct tokenset *t, int tag, const char *token)
{
	unsigned char key[KEY_BYTES];
	struct slot *s;

	if (tag < 0 || tag > UINT8_MAX || !token_key(token, key))
		return GV_ERR_INVALID;
	if ((t->n + 1) * 4 > t->cap * 3) {
		gv_err err = grow(t);

		if (err != GV_OK)
			return err;
	}
	s = find(t, (unsigned char)tag, key);
	if (!s->used) {
		s->used = 1;
		s->tag = (unsigned char)tag;
		memcpy(s->key, key, KEY_BYTES);
		t->n++;
	}
	return GV_OK;
}

/* tokenset.h - a set of blind-index tokens, each under a small tag (the quality rule
 * it was seen for): what an import remembers of its own accepted values, so that a
 * uniqueness rule sees the rows before in the same batch, whose index entries are
 * added only at its end and found only once it commits.
 *
 * A token is the hex of a keyed MAC; the set keeps its first 128 bits, so two distinct
 * values collide with probability 2^-128 per pair.  18 bytes a slot, in a table that
 * doubles when 3/4 full: 24-48 MB per million values, and half as much again for a
 * moment while it doubles. */
#ifndef GV_DATA_TOKENSET_H
#define GV_DATA_TOKENSET_H

#include "common/error.h"

struct tokenset;

gv_err tokenset_new(struct tokenset **out);
/* Wipes and frees; NULL is ignored. */
void tokenset_free(struct tokenset *t);
/* 1 when (tag, token) is in the set, 0 when not, -1 when token is not 32+ hex digits
 * or tag not 0-255. */
int tokenset_has(const struct tokenset *t, int tag, const char *token);
/* Members so far. */
size_t tokenset_count(const struct tokenset *t);
/* GV_ERR_INVALID for a token or tag as above, GV_ERR_NOMEM when the set cannot grow. */
gv_err tokenset_add(struct tokenset *t, int tag, const char *token);

#endif

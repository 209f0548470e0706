/* bom.h - the UTF-8 byte-order mark at the start of input that arrives in pieces, for
 * the streaming readers (csvread.c, jsonlread.c): a piece may end inside the mark, and
 * bytes that began like one but turn out not to be are input after all. */
#ifndef GV_DATA_BOM_H
#define GV_DATA_BOM_H

#include <stddef.h>

struct bom_state {
	unsigned char held[3];   /* a prefix of the mark, held until it is decided */
	size_t nheld;
	int done;                /* decided: stripped, or replayed as input */
};

enum bom_result {
	BOM_PENDING,    /* every byte so far is a prefix of the mark: wait for more */
	BOM_STRIPPED,   /* the whole mark was removed */
	BOM_ABSENT,     /* no mark: held[0..nheld) (maybe empty) is input before *data */
};

/* Takes the mark's bytes from the front of *data / *len.  Call while !b->done; after
 * BOM_STRIPPED and BOM_ABSENT it is done. */
static inline enum bom_result bom_take(struct bom_state *b, const unsigned char **data,
				       size_t *len)
{
	static const unsigned char mark[3] = {0xEF, 0xBB, 0xBF};

	while (*len > 0 && b->nheld < 3 && **data == mark[b->nheld]) {
		b->held[b->nheld++] = **data;
		(*data)++;
		(*len)--;
	}
	if (b->nheld == 3) {
		b->done = 1;
		return BOM_STRIPPED;
	}
	if (*len == 0)
		return BOM_PENDING;
	b->done = 1;
	return BOM_ABSENT;
}

#endif

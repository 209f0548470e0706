/* extsort.h - sorting more fixed-size entries than memory should hold.
 *
 * Entries are gathered in a buffer of run_entries; each full buffer is sorted and
 * appended to one unnamed temporary file as a run, and reading back merges the runs
 * (and what is still in memory) in order, holding a few entries of each run.  The order is memcmp's over the whole entry, so a
 * caller lays its fields out most significant first (big-endian numbers, strings
 * padded with NUL).  An import adds its blind-index entries in index order with it
 * (data/import.c): a 1 GB file must not need its index entries in memory.
 *
 * The temporary file goes to $TMPDIR or /tmp, is created 0600 and close-on-exec and
 * unlinked at once, so it is gone with the sort (its blocks are freed, not wiped);
 * the buffers are wiped when freed.  One thread at a time. */
#ifndef GV_DATA_EXTSORT_H
#define GV_DATA_EXTSORT_H

#include <stddef.h>

#include "common/error.h"

struct extsort;

gv_err extsort_new(size_t entry_size, size_t run_entries, struct extsort **out) GV_MUST_CHECK;
/* Frees, closing its file; NULL is ignored. */
void extsort_free(struct extsort *s);
/* Copies one entry in (GV_ERR_STATE once reading began, GV_ERR_IO when a run cannot be
 * written, GV_ERR_NOMEM). */
gv_err extsort_add(struct extsort *s, const void *entry) GV_MUST_CHECK;
/* Entries added so far. */
size_t extsort_count(const struct extsort *s);
/* Ends adding and starts reading from the smallest entry. */
gv_err extsort_finish(struct extsort *s) GV_MUST_CHECK;
/* *entry at the next entry in order (valid until the next call), NULL after the last;
 * GV_ERR_IO when a run cannot be read back, and from then on (as after a failed
 * finish): an entry is never skipped silently. */
gv_err extsort_next(struct extsort *s, const void **entry) GV_MUST_CHECK;

#endif

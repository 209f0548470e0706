/* extsort.c - sorted runs one after another in one unlinked temporary file (one file
 * descriptor however many runs), merged through a binary heap of the runs' next
 * entries, each run read back READ_ENTRIES at a time. */
#include "data/extsort.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/util.h"

#define READ_ENTRIES 256   /* read back per run at a time */

/* A run in the file: where it starts, and when reading back, what is left of it and
 * the entries read ahead. */
struct run {
	off_t at;
	size_t left;          /* entries not yet read from the file */
	unsigned char *ahead; /* READ_ENTRIES entries */
	size_t nahead, pos;
};

struct extsort {
	size_t size, cap;
	unsigned char *buf;   /* cap entries */
	size_t n;             /* in buf */
	size_t total;
	int fd;               /* the runs' file, -1 until the first run */
	off_t end;
	struct run *runs;
	size_t nruns, capruns;
	int reading;
	gv_err failed;          /* reading cannot go on: what went wrong */
	/* reading: heap[0..nheap) are run indexes ordered by their head entry; the
	 * buffer's own sorted entries count as run nruns (no file). */
	size_t *heap, nheap;
	unsigned char *heads;   /* one entry per run, and one for the buffer */
	size_t pos;             /* next entry of the buffer */
	unsigned char *out;     /* the entry returned last */
};

static int cmp_entries(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(size_t *)size);
}

/* An unlinked temporary file, 0600 (mkostemp's mode), closed on exec. */
static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir || strlen(dir) > sizeof(path) - 32)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/govvault-sort-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Sorts the buffer and writes it out as a run. */
static gv_err spill(struct extsort *s)
{
	struct run *r;
	gv_err err;

	if (s->nruns == s->capruns) {
		size_t cap = s->capruns ? 2 * s->capruns : 8;
		struct run *more = realloc(s->runs, cap * sizeof(*more));

		if (!more)
			return GV_ERR_NOMEM;
		s->runs = more;
		s->capruns = cap;
	}
	qsort_r(s->buf, s->n, s->size, cmp_entries, &s->size);
	if (s->fd < 0 && (s->fd = temp_file()) < 0)
		return GV_ERR_IO;
	err = util_pwrite_all(s->fd, s->buf, s->n * s->size, s->end);
	if (err != GV_OK)
		return err;
	r = &s->runs[s->nruns++];
	memset(r, 0, sizeof(*r));
	r->at = s->end;
	r->left = s->n;
	s->end += (off_t)(s->n * s->size);
	util_wipe(s->buf, s->n * s->size);
	s->n = 0;
	return GV_OK;
}

gv_err extsort_new(size_t entry_size, size_t run_entries, struct extsort **out)
{
	struct extsort *s;

	*out = NULL;
	if (!entry_size || !run_entries || run_entries > SIZE_MAX / entry_size ||
	    entry_size > SIZE_MAX / READ_ENTRIES)
		return GV_ERR_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return GV_ERR_NOMEM;
	s->size = entry_size;
	s->cap = run_entries;
	s->fd = -1;
	s->buf = malloc(entry_size * run_entries);
	s->out = malloc(entry_size);
	if (!s->buf || !s->out) {
		extsort_free(s);
		return GV_ERR_NOMEM;
	}
	*out = s;
	return GV_OK;
}

void extsort_free(struct extsort *s)
{
	if (!s)
		return;
	if (s->buf)   /* only what entries used: the rest was never touched */
		util_wipe(s->buf, (s->total < s->cap ? s->total : s->cap) * s->size);
	if (s->heads)
		util_wipe(s->heads, (s->nruns + 1) * s->size);
	if (s->out)
		util_wipe(s->out, s->size);
	for (size_t i = 0; i < s->nruns; i++) {
		if (s->runs[i].ahead)
			util_wipe(s->runs[i].ahead, READ_ENTRIES * s->size);
		free(s->runs[i].ahead);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s->heads);
	free(s->out);
	free(s->heap);
	free(s->runs);
	free(s);
}

gv_err extsort_add(struct extsort *s, const void *entry)
{
	if (s->reading)
		return GV_ERR_STATE;
	if (s->n == s->cap) {
		gv_err err = spill(s);

		if (err != GV_OK)
			return err;
	}
	memcpy(s->buf + s->n * s->size, entry, s->size);
	s->n++;
	s->total++;
	return GV_OK;
}

size_t extsort_count(const struct extsort *s)
{
	return s->total;
}

static unsigned char *head(struct extsort *s, size_t run)
{
	return s->heads + run * s->size;
}

static int less(struct extsort *s, size_t a, size_t b)
{
	return memcmp(head(s, a), head(s, b), s->size) < 0;
}

static void sift_down(struct extsort *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < s->nheap && less(s, s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && less(s, s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

/* Loads run i's next entry into its head; 0 when the run is used up. */
static int refill(struct extsort *s, size_t i, gv_err *err)
{
	struct run *r;

	if (i == s->nruns) {   /* the buffer */
		if (s->pos == s->n)
			return 0;
		memcpy(head(s, i), s->buf + s->pos++ * s->size, s->size);
		return 1;
	}
	r = &s->runs[i];
	if (r->pos == r->nahead) {
		size_t n = r->left < READ_ENTRIES ? r->left : READ_ENTRIES;

		if (!n)
			return 0;
		gv_err e = util_pread_all(s->fd, r->ahead, n * s->size, r->at);

		if (e != GV_OK) {
			*err = e;
			return 0;
		}
		r->at += (off_t)(n * s->size);
		r->left -= n;
		r->nahead = n;
		r->pos = 0;
	}
	memcpy(head(s, i), r->ahead + r->pos++ * s->size, s->size);
	return 1;
}

gv_err extsort_finish(struct extsort *s)
{
	gv_err err = GV_OK;

	if (s->reading)
		return GV_ERR_STATE;
	s->reading = 1;
	qsort_r(s->buf, s->n, s->size, cmp_entries, &s->size);
	s->heads = malloc((s->nruns + 1) * s->size);
	s->heap = malloc((s->nruns + 1) * sizeof(*s->heap));
	if (!s->heads || !s->heap)
		err = GV_ERR_NOMEM;
	for (size_t i = 0; err == GV_OK && i < s->nruns; i++)
		if (!(s->runs[i].ahead = malloc(READ_ENTRIES * s->size)))
			err = GV_ERR_NOMEM;
	for (size_t i = 0; err == GV_OK && i <= s->nruns; i++)
		if (refill(s, i, &err))
			s->heap[s->nheap++] = i;
	if (err != GV_OK) {
		s->failed = err;   /* a run missing from the merge would lose entries */
		return err;
	}
	for (size_t i = s->nheap / 2; i-- > 0;)
		sift_down(s, i);
	return GV_OK;
}

gv_err extsort_next(struct extsort *s, const void **entry)
{
	gv_err err = GV_OK;
	size_t top;

	*entry = NULL;
	if (!s->reading)
		return GV_ERR_STATE;
	if (s->failed)
		return s->failed;
	if (!s->nheap)
		return GV_OK;
	top = s->heap[0];
	memcpy(s->out, head(s, top), s->size);
	if (!refill(s, top, &err)) {
		if (err != GV_OK) {
			s->failed = err;
			return err;
		}
		s->heap[0] = s->heap[--s->nheap];
	}
	sift_down(s, 0);
	*entry = s->out;
	return GV_OK;
}

/* extsort.c - sorted runs in unlinked temporary files, merged through a binary heap of
 * the runs' next entries. */
#include "data/extsort.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* A run being read back: its file, and its next entry (in heads). */
struct run {
	FILE *f;
	size_t left;   /* entries not yet read from f */
};

struct extsort {
	size_t size, cap;
	unsigned char *buf;   /* cap entries */
	size_t n;             /* in buf */
	size_t total;
	struct run *runs;
	size_t nruns, capruns;
	int reading;
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

/* An unlinked temporary file, 0600 (mkstemp's mode). */
static FILE *temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f = NULL;
	int fd;

	if (!dir || !*dir || strlen(dir) > sizeof(path) - 32)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/govvault-sort-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	f = fdopen(fd, "w+b");
	if (!f)
		close(fd);
	return f;
}

/* Sorts the buffer and writes it out as a run. */
static gv_err spill(struct extsort *s)
{
	struct run *r;
	FILE *f;

	if (s->nruns == s->capruns) {
		size_t cap = s->capruns ? 2 * s->capruns : 8;
		struct run *more = realloc(s->runs, cap * sizeof(*more));

		if (!more)
			return GV_ERR_NOMEM;
		s->runs = more;
		s->capruns = cap;
	}
	qsort_r(s->buf, s->n, s->size, cmp_entries, &s->size);
	f = temp_file();
	if (!f)
		return GV_ERR_IO;
	if (fwrite(s->buf, s->size, s->n, f) != s->n || fflush(f) != 0) {
		fclose(f);
		return GV_ERR_IO;
	}
	r = &s->runs[s->nruns++];
	r->f = f;
	r->left = s->n;
	util_wipe(s->buf, s->n * s->size);
	s->n = 0;
	return GV_OK;
}

gv_err extsort_new(size_t entry_size, size_t run_entries, struct extsort **out)
{
	struct extsort *s;

	*out = NULL;
	if (!entry_size || !run_entries || run_entries > SIZE_MAX / entry_size)
		return GV_ERR_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return GV_ERR_NOMEM;
	s->size = entry_size;
	s->cap = run_entries;
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
	if (s->buf)
		util_wipe(s->buf, s->cap * s->size);
	if (s->heads)
		util_wipe(s->heads, (s->nruns + 1) * s->size);
	if (s->out)
		util_wipe(s->out, s->size);
	for (size_t i = 0; i < s->nruns; i++)
		fclose(s->runs[i].f);
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
	if (i == s->nruns) {   /* the buffer */
		if (s->pos == s->n)
			return 0;
		memcpy(head(s, i), s->buf + s->pos++ * s->size, s->size);
		return 1;
	}
	if (!s->runs[i].left)
		return 0;
	if (fread(head(s, i), s->size, 1, s->runs[i].f) != 1) {
		*err = GV_ERR_IO;
		return 0;
	}
	s->runs[i].left--;
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
		return GV_ERR_NOMEM;
	for (size_t i = 0; i < s->nruns; i++)
		if (fseek(s->runs[i].f, 0, SEEK_SET) != 0)
			return GV_ERR_IO;
	for (size_t i = 0; i <= s->nruns; i++)
		if (refill(s, i, &err))
			s->heap[s->nheap++] = i;
	if (err != GV_OK)
		return err;
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
	if (!s->nheap)
		return GV_OK;
	top = s->heap[0];
	memcpy(s->out, head(s, top), s->size);
	if (!refill(s, top, &err)) {
		if (err != GV_OK)
			return err;
		s->heap[0] = s->heap[--s->nheap];
	}
	sift_down(s, 0);
	*entry = s->out;
	return GV_OK;
}

/* test_extsort.c - the external sort an import orders its index entries with: every
 * entry comes back once, in memcmp order, whether it stayed in memory or went through
 * temporary runs, duplicates included; misuse is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/extsort.h"

#define SIZE 12

/* A pseudo-random entry of SIZE bytes for i, from a fixed-seed LCG, with many
 * duplicates (only 4096 distinct values). */
static void entry(uint32_t i, unsigned char out[SIZE])
{
	uint32_t x = (i % 4096) * 2654435761u + 12345u;

	for (int k = 0; k < SIZE; k++) {
		x = x * 1103515245u + 12345u;
		out[k] = (unsigned char)(x >> 16);
	}
}

static int cmp(const void *a, const void *b)
{
	return memcmp(a, b, SIZE);
}

/* Sorts n entries through runs of `run` entries; checks them against qsort. */
static void sort_and_check(size_t n, size_t run)
{
	struct extsort *s;
	unsigned char *want = malloc(n ? n * SIZE : 1);
	size_t got = 0;

	assert_non_null(want);
	assert_int_equal(extsort_new(SIZE, run, &s), GV_OK);
	for (size_t i = 0; i < n; i++) {
		entry((uint32_t)i, want + i * SIZE);
		assert_int_equal(extsort_add(s, want + i * SIZE), GV_OK);
	}
	assert_int_equal(extsort_count(s), n);
	qsort(want, n, SIZE, cmp);
	assert_int_equal(extsort_finish(s), GV_OK);
	for (;;) {
		const void *e = NULL;

		assert_int_equal(extsort_next(s, &e), GV_OK);
		if (!e)
			break;
		assert_true(got < n);
		assert_memory_equal(e, want + got * SIZE, SIZE);
		got++;
	}
	assert_int_equal(got, n);
	extsort_free(s);
	free(want);
}

static void test_in_memory(void **state)
{
	(void)state;
	sort_and_check(0, 16);
	sort_and_check(1, 16);
	sort_and_check(1000, 4096);
}

/* Runs in temporary files: one full run and a remainder, exactly full runs, and many
 * runs (the heap with more than two). */
static void test_runs(void **state)
{
	(void)state;
	sort_and_check(17, 16);
	sort_and_check(64, 16);
	sort_and_check(20000, 256);
	sort_and_check(5000, 1);
}

/* A run that cannot be written is an error, not a lost entry. */
static void test_no_temporary_directory(void **state)
{
	struct extsort *s;
	unsigned char e[SIZE] = {0};
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	gv_err err = GV_OK;

	(void)state;
	setenv("TMPDIR", "/nonexistent/govvault-test", 1);
	assert_int_equal(extsort_new(SIZE, 4, &s), GV_OK);
	for (int i = 0; i < 5 && err == GV_OK; i++)
		err = extsort_add(s, e);
	assert_int_equal(err, GV_ERR_IO);   /* the fifth entry needed a run */
	extsort_free(s);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
}

static void test_misuse(void **state)
{
	struct extsort *s;
	unsigned char e[SIZE] = {0};
	const void *out;

	(void)state;
	assert_int_equal(extsort_new(0, 16, &s), GV_ERR_INVALID);
	assert_int_equal(extsort_new(SIZE, 0, &s), GV_ERR_INVALID);
	assert_int_equal(extsort_new(SIZE, SIZE_MAX, &s), GV_ERR_INVALID);
	assert_int_equal(extsort_new(SIZE, 4, &s), GV_OK);
	assert_int_equal(extsort_next(s, &out), GV_ERR_STATE);   /* not finished */
	assert_int_equal(extsort_add(s, e), GV_OK);
	assert_int_equal(extsort_finish(s), GV_OK);
	assert_int_equal(extsort_finish(s), GV_ERR_STATE);
	assert_int_equal(extsort_add(s, e), GV_ERR_STATE);
	assert_int_equal(extsort_next(s, &out), GV_OK);
	assert_memory_equal(out, e, SIZE);
	assert_int_equal(extsort_next(s, &out), GV_OK);
	assert_null(out);
	assert_int_equal(extsort_next(s, &out), GV_OK);   /* stays at the end */
	assert_null(out);
	extsort_free(s);
	extsort_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_no_temporary_directory),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

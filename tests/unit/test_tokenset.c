/* test_tokenset.c - the set an import remembers its own unique values in: members are
 * found under their tag only, the table grows without losing any, and tokens that are
 * not hex are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "data/tokenset.h"

/* A 64-hex-digit token for i: distinct for distinct i within the first 32 digits. */
static void token(unsigned i, char out[65])
{
	snprintf(out, 65, "%08x%08x%016x%032x", i * 2654435761u, i, 0u, 0u);
}

static void test_members(void **state)
{
	struct tokenset *t;
	char tok[65];

	(void)state;
	assert_int_equal(tokenset_new(&t), GV_OK);
	/* Far more than the first table holds: it grows and keeps every member. */
	for (unsigned i = 0; i < 100000; i++) {
		token(i, tok);
		assert_int_equal(tokenset_has(t, (int)(i % 3), tok), 0);
		assert_int_equal(tokenset_add(t, (int)(i % 3), tok), GV_OK);
		assert_int_equal(tokenset_add(t, (int)(i % 3), tok), GV_OK);   /* again: no change */
		assert_int_equal(tokenset_count(t), i + 1);
	}
	for (unsigned i = 0; i < 100000; i++) {
		token(i, tok);
		assert_int_equal(tokenset_has(t, (int)(i % 3), tok), 1);
		assert_int_equal(tokenset_has(t, (int)(i % 3) + 1, tok), 0);   /* another rule's */
	}
	token(100000, tok);
	assert_int_equal(tokenset_has(t, 0, tok), 0);
	/* Upper-case hex is the same token. */
	token(7, tok);
	for (char *p = tok; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(tokenset_has(t, 1, tok), 1);
	tokenset_free(t);
	tokenset_free(NULL);
}

static void test_refused(void **state)
{
	struct tokenset *t;
	char tok[65];

	(void)state;
	assert_int_equal(tokenset_new(&t), GV_OK);
	assert_int_equal(tokenset_count(t), 0);
	token(1, tok);
	assert_int_equal(tokenset_add(t, -1, tok), GV_ERR_INVALID);
	assert_int_equal(tokenset_add(t, 256, tok), GV_ERR_INVALID);
	assert_int_equal(tokenset_has(t, 256, tok), -1);
	assert_int_equal(tokenset_add(t, 0, "abc"), GV_ERR_INVALID);   /* too short */
	tok[5] = 'g';
	assert_int_equal(tokenset_add(t, 0, tok), GV_ERR_INVALID);
	assert_int_equal(tokenset_has(t, 0, tok), -1);
	assert_int_equal(tokenset_count(t), 0);   /* nothing refused got in */
	tokenset_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

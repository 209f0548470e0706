/* test_buf.c - the bounded buffer: appends within max, room reserved ahead without
 * growing by copies, and the bytes it may have held (what release and growth wipe)
 * following every reservation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "common/buf.h"

static void test_append_and_limit(void **state)
{
	struct gv_buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "abcd", 4), GV_OK);
	assert_int_equal(buf_printf(&b, "%d", 123), GV_OK);
	assert_string_equal(b.data, "abcd123");
	assert_true(b.touched >= b.len + 1 && b.touched <= b.cap);
	assert_int_equal(buf_append(&b, "xy", 2), GV_ERR_TOO_LARGE);   /* past max: unchanged */
	assert_string_equal(b.data, "abcd123");
	assert_int_equal(buf_append(&b, "x", 1), GV_OK);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len + b.cap + b.touched, 0);
}

static void test_preallocate(void **state)
{
	struct gv_buf b;
	char *at;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_preallocate(&b, (1 << 20) + 1), GV_ERR_TOO_LARGE);
	assert_null(b.data);
	assert_int_equal(buf_preallocate(&b, 1 << 16), GV_OK);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.touched, 1);   /* the NUL only: the room is not written */
	assert_int_equal(buf_preallocate(&b, 1 << 16), GV_ERR_STATE);   /* once */
	at = b.data;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, "0123456789", 10), GV_OK);
	assert_ptr_equal(b.data, at);   /* filled where it was: no copy */
	assert_int_equal(b.touched, b.len + 1);
	/* An in-place producer may write all it reserved: all of it counts as held. */
	assert_int_equal(buf_reserve(&b, 5000), GV_OK);
	assert_int_equal(b.touched, b.len + 5000 + 1);
	memset(b.data + b.len, 'x', 5000);
	buf_advance(&b, 100);
	/* Shrinking keeps the mark: the bytes past len were written. */
	b.len = 10;
	b.data[10] = '\0';
	assert_int_equal(b.touched, 10000 + 5000 + 1);
	/* Growth copies what is held and keeps the mark of what the new storage held. */
	assert_int_equal(buf_reserve(&b, 1 << 17), GV_OK);
	assert_true(b.data != at);
	assert_memory_equal(b.data, "0123456789", 10);
	assert_int_equal(b.touched, 10 + (1 << 17) + 1);
	buf_release(&b);
	assert_int_equal(b.touched, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_limit),
		cmocka_unit_test(test_preallocate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

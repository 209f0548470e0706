/* test_cidr_timewin.c - address allowlists and time windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/cidr.h"
#include "common/timewin.h"

static void test_cidr(void **state)
{
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_parse("10.1.2.3/8", &c), GV_OK);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(c.addr[1], 0); /* host bits cleared */
	assert_true(cidr_contains(&c, "10.255.0.1"));
	assert_false(cidr_contains(&c, "11.0.0.1"));
	assert_true(cidr_contains(&c, "::ffff:10.9.9.9"));
	assert_false(cidr_contains(&c, "::1"));
	assert_int_equal(cidr_parse("2001:db8::/32", &c), GV_OK);
	assert_true(cidr_contains(&c, "2001:db8:1::5"));
	assert_false(cidr_contains(&c, "2001:db9::1"));
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), GV_ERR_INVALID);
	assert_int_equal(cidr_parse("::/129", &c), GV_ERR_INVALID);
	assert_int_equal(cidr_parse("10.0.0.0/", &c), GV_ERR_INVALID);
	assert_int_equal(cidr_parse("host.example", &c), GV_ERR_INVALID);
	assert_int_equal(cidr_parse("192.0.2.7", &c), GV_OK);
	assert_int_equal(c.prefix, 32);
}

static void test_cidr_lists(void **state)
{
	(void)state;
	assert_int_equal(cidr_list_validate(""), GV_OK);
	assert_int_equal(cidr_list_validate("10.0.0.0/8, ::1/128"), GV_OK);
	assert_int_equal(cidr_list_validate("10.0.0.0/8,,::1"), GV_ERR_INVALID);
	assert_int_equal(cidr_list_validate("nonsense"), GV_ERR_INVALID);
	assert_true(cidr_list_allows("", "203.0.113.1"));
	assert_true(cidr_list_allows("10.0.0.0/8,127.0.0.0/8", "127.0.0.1"));
	assert_false(cidr_list_allows("10.0.0.0/8", "127.0.0.1"));
	assert_false(cidr_list_allows("garbage", "127.0.0.1"));
}

/* 2024-01-01 00:00:00 UTC was a Monday: 08:00 local at +08:00. */
#define MON_0800_CST 1704067200LL

static void test_windows(void **state)
{
	(void)state;
	assert_true(timewin_list_allows("", MON_0800_CST, 480));
	assert_true(timewin_list_allows("mon-fri 08:00-18:00", MON_0800_CST, 480));
	assert_false(timewin_list_allows("mon-fri 08:00-18:00", MON_0800_CST - 60, 480));
	assert_false(timewin_list_allows("mon-fri 08:00-18:00", MON_0800_CST + 10 * 3600, 480));
	assert_false(timewin_list_allows("tue 00:00-24:00", MON_0800_CST, 480));
	assert_true(timewin_list_allows("* 07:00-09:00", MON_0800_CST, 480));
	assert_true(timewin_list_allows("sat-mon 07:00-09:00", MON_0800_CST, 480));
	/* Overnight: Sunday 22:00 - Monday 06:00 covers Monday 05:00 but not 07:00. */
	assert_true(timewin_list_allows("sun 22:00-06:00", MON_0800_CST - 3 * 3600, 480));
	assert_false(timewin_list_allows("sun 22:00-06:00", MON_0800_CST - 3600, 480));
	/* Same instant in UTC is Monday 00:00. */
	assert_true(timewin_list_allows("mon 00:00-01:00", MON_0800_CST, 0));
	assert_true(timewin_list_allows("tue 01:00-02:00, mon 07:59-08:01", MON_0800_CST, 480));
}

static void test_window_validation(void **state)
{
	int m;

	(void)state;
	assert_int_equal(timewin_list_validate("mon-fri 08:00-18:00,sat 09:00-12:00"), GV_OK);
	assert_int_equal(timewin_list_validate("funday 08:00-18:00"), GV_ERR_INVALID);
	assert_int_equal(timewin_list_validate("mon 8:00-18:00"), GV_ERR_INVALID);
	assert_int_equal(timewin_list_validate("mon 08:00-08:00"), GV_ERR_INVALID);
	assert_int_equal(timewin_list_validate("mon 08:60-09:00"), GV_ERR_INVALID);
	assert_int_equal(timewin_list_validate("mon"), GV_ERR_INVALID);
	assert_int_equal(timewin_parse_offset("+08:00", &m), GV_OK);
	assert_int_equal(m, 480);
	assert_int_equal(timewin_parse_offset("Z", &m), GV_OK);
	assert_int_equal(m, 0);
	assert_int_equal(timewin_parse_offset("+15:00", &m), GV_ERR_INVALID);
	assert_int_equal(timewin_parse_offset("0800", &m), GV_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr), cmocka_unit_test(test_cidr_lists),
		cmocka_unit_test(test_windows), cmocka_unit_test(test_window_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_session.c - session expiry and the login stage machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "auth/login.h"
#include "auth/role.h"
#include "auth/session.h"

static void test_expiry(void **state)
{
	struct store_session s = {0};

	(void)state;
	s.created_at = 1000;
	s.last_seen = 1500;
	assert_false(session_expired(&s, 1500 + 899, 900, 28800));
	assert_true(session_expired(&s, 1500 + 900, 900, 28800));
	s.last_seen = 1000 + 28799;
	assert_false(session_expired(&s, 1000 + 28799, 900, 28800));
	assert_true(session_expired(&s, 1000 + 28800, 900, 28800));
	assert_string_equal(session_stage_name(SESSION_TOTP_VERIFY), "totp_verify");
	assert_string_equal(session_stage_name(99), "unknown");
}

static void test_stages(void **state)
{
	struct store_account a = {0};
	const int64_t now = 100 * 86400;

	(void)state;
	a.roles = ROLE_BIT(ROLE_SECADMIN);
	a.clearance = 1;
	a.pw_changed_at = now;
	a.must_change_pw = 1;
	assert_int_equal(login_next_stage(&a, 0, now, 90), SESSION_PASSWORD_CHANGE);
	a.must_change_pw = 0;
	assert_int_equal(login_next_stage(&a, 0, now, 90), SESSION_TOTP_ENROLL);
	a.totp_enabled = 1;
	assert_int_equal(login_next_stage(&a, 0, now, 90), SESSION_TOTP_VERIFY);
	assert_int_equal(login_next_stage(&a, 1, now, 90), SESSION_ACTIVE);
	a.pw_changed_at = now - 90 * 86400;
	assert_int_equal(login_next_stage(&a, 1, now, 90), SESSION_PASSWORD_CHANGE);
	assert_int_equal(login_next_stage(&a, 1, now, 0), SESSION_ACTIVE);
	a.roles = ROLE_BIT(ROLE_ANALYST);
	a.totp_enabled = 0;
	a.pw_changed_at = now;
	assert_int_equal(login_next_stage(&a, 0, now, 90), SESSION_ACTIVE);
	a.clearance = 3;
	assert_int_equal(login_next_stage(&a, 0, now, 90), SESSION_TOTP_ENROLL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_stages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

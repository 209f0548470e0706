/* test_role.c - role names and the separation-of-duties rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "auth/account.h"
#include "auth/role.h"

static void test_names(void **state)
{
	enum role r;
	char text[64];

	(void)state;
	assert_int_equal(role_parse("auditadmin", &r), GV_OK);
	assert_int_equal(r, ROLE_AUDITADMIN);
	assert_string_equal(role_name(ROLE_DATA_OWNER), "data_owner");
	assert_int_equal(role_parse("root", &r), GV_ERR_INVALID);
	role_format(ROLE_BIT(ROLE_ANALYST) | ROLE_BIT(ROLE_REVIEWER), text, sizeof(text));
	assert_string_equal(text, "analyst,reviewer");
}

static void test_separation(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(role_check_set(ROLE_BIT(ROLE_SECADMIN), &why), GV_OK);
	assert_int_equal(role_check_set(ROLE_BIT(ROLE_ANALYST) | ROLE_BIT(ROLE_DATA_OWNER), &why), GV_OK);
	assert_int_equal(role_check_set(ROLE_BIT(ROLE_SYSADMIN) | ROLE_BIT(ROLE_SECADMIN), &why),
			 GV_ERR_FORBIDDEN);
	assert_int_equal(role_check_set(ROLE_ADMIN_MASK, &why), GV_ERR_FORBIDDEN);
	assert_int_equal(role_check_set(ROLE_BIT(ROLE_AUDITADMIN) | ROLE_BIT(ROLE_ANALYST), &why),
			 GV_ERR_FORBIDDEN);
	assert_int_equal(role_check_set(0, &why), GV_ERR_INVALID);
	assert_int_equal(role_check_set(1u << 20, &why), GV_ERR_INVALID);
}

static void test_account_validate(void **state)
{
	struct store_account a = {0};
	const char *why;

	(void)state;
	snprintf(a.username, sizeof(a.username), "alice");
	snprintf(a.full_name, sizeof(a.full_name), "Alice Li");
	snprintf(a.department, sizeof(a.department), "Statistics");
	snprintf(a.contact, sizeof(a.contact), "alice@example.gov");
	a.roles = ROLE_BIT(ROLE_ANALYST);
	a.clearance = 2;
	assert_int_equal(account_validate(&a, 1000, &why), GV_OK);
	assert_false(account_totp_required(&a));
	a.clearance = 3;
	assert_true(account_totp_required(&a));
	a.clearance = 4;
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	a.clearance = 1;
	a.outsourced = 1;
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	a.expires_at = 500;
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	a.expires_at = 5000;
	assert_int_equal(account_validate(&a, 1000, &why), GV_OK);
	snprintf(a.ip_allowlist, sizeof(a.ip_allowlist), "10.0.0.0/8,bad");
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	a.ip_allowlist[0] = '\0';
	snprintf(a.device_fps, sizeof(a.device_fps), "ABCDEF");
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	a.device_fps[0] = '\0';
	snprintf(a.username, sizeof(a.username), "Alice");
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	snprintf(a.username, sizeof(a.username), "alice");
	a.contact[0] = '\0';
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_INVALID);
	snprintf(a.contact, sizeof(a.contact), "x");
	a.roles = ROLE_BIT(ROLE_SYSADMIN) | ROLE_BIT(ROLE_ANALYST);
	assert_int_equal(account_validate(&a, 1000, &why), GV_ERR_FORBIDDEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_separation),
		cmocka_unit_test(test_account_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

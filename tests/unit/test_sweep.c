/* test_sweep.c - dormant accounts are disabled and past-expiry accounts expired by the
 * maintenance sweep, each with an audit event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/bootstrap.h"
#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"

static int count_action(const struct audit_rec *r, void *ctx)
{
	(*(int *)ctx)++;
	(void)r;
	return 0;
}

static void test_sweep(void **state)
{
	char dir[] = "/tmp/gvsweepXXXXXX", data[128], conf[160], err[512], cmd[200];
	struct bootstrap_options opt = {data, NULL,
		"[password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\ncommon_list =\n"};
	struct bootstrap_admin admins[3];
	struct audit_filter f = {.limit = 1000, .action = "account.dormant_disabled"};
	struct store_account a;
	struct gv_app *app;
	int64_t now = util_now_s();
	int changed = 0, n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(conf, sizeof(conf), "%s/govvault.conf", data);
	assert_int_equal(bootstrap_init(&opt, admins, err, sizeof(err)), GV_OK);
	assert_int_equal(app_open(conf, &app, err, sizeof(err)), GV_OK);
	assert_int_equal(account_sweep(app, now, &changed), GV_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(app->st->ops->account_get(app->st, "sysadmin", &a), GV_OK);
	a.last_login_at = now - 91 * 86400;
	assert_int_equal(app->st->ops->account_update(app->st, &a), GV_OK);
	assert_int_equal(app->st->ops->account_get(app->st, "auditadmin", &a), GV_OK);
	a.expires_at = now - 10;
	assert_int_equal(app->st->ops->account_update(app->st, &a), GV_OK);
	assert_int_equal(account_sweep(app, now, &changed), GV_OK);
	assert_int_equal(changed, 2);
	assert_int_equal(app->st->ops->account_get(app->st, "sysadmin", &a), GV_OK);
	assert_int_equal(a.status, ACCOUNT_DISABLED);
	assert_string_equal(a.status_reason, "dormant");
	assert_int_equal(app->st->ops->account_get(app->st, "auditadmin", &a), GV_OK);
	assert_int_equal(a.status, ACCOUNT_EXPIRED);
	assert_int_equal(app->st->ops->account_get(app->st, "secadmin", &a), GV_OK);
	assert_int_equal(a.status, ACCOUNT_ACTIVE);
	assert_int_equal(audit_query(app->audit, &f, count_action, &n), GV_OK);
	assert_int_equal(n, 1);
	app_free(app);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep)};

	if (log_open(NULL, GV_LOG_ERROR) != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_policy.c - the access decision without HTTP: the order of its checks, grant
 * matching and conditions, the compiled table's rebuild after a change, and the row
 * and field limits of a permit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "policy/policy.h"

static char dir[] = "/tmp/gvpolicyXXXXXX";
static struct gv_app app;
static struct store_dataset ds2, ds3;
static struct store_account sec, owner, analyst, other_analyst;

static void account(struct store_account *a, const char *name, const char *dept, unsigned roles,
		    int clearance)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->username, sizeof(a->username), "%s", name);
	snprintf(a->full_name, sizeof(a->full_name), "%s", name);
	snprintf(a->department, sizeof(a->department), "%s", dept);
	snprintf(a->contact, sizeof(a->contact), "c");
	a->roles = roles;
	a->clearance = clearance;
	a->status = ACCOUNT_ACTIVE;
	a->totp_enabled = clearance >= 3;
	assert_int_equal(app.st->ops->account_insert(app.st, a), GV_OK);
}

static void dataset(struct store_dataset *d, const char *name, int grade)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->department, sizeof(d->department), "Statistics");
	snprintf(d->schema, sizeof(d->schema), "%s",
		 "{\"fields\":[{\"name\":\"district\",\"type\":\"string\"},"
		 "{\"name\":\"name\",\"type\":\"string\",\"kind\":\"name\"}]}");
	snprintf(d->quality_rules, sizeof(d->quality_rules), "[]");
	d->grade = d->grade_suggested = grade;
	d->grade_confirmed = 1;
	assert_int_equal(app.st->ops->dataset_insert(app.st, d), GV_OK);
}

static int setup(void **state)
{
	char path[128];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/p.db", dir);
	if (store_sqlite_open(path, &app.st) != GV_OK)
		return -1;
	pthread_rwlock_init(&app.cfg_lock, NULL);
	pthread_rwlock_init(&app.keys_lock, NULL);
	account(&sec, "sec", "Security", ROLE_BIT(ROLE_SECADMIN), 3);
	account(&owner, "owner", "Statistics", ROLE_BIT(ROLE_DATA_OWNER), 3);
	account(&analyst, "analyst", "Statistics", ROLE_BIT(ROLE_ANALYST), 2);
	account(&other_analyst, "outsider", "Health", ROLE_BIT(ROLE_ANALYST), 3);
	dataset(&ds2, "d2", 2);
	dataset(&ds3, "d3", 3);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	store_close(app.st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct policy_decision decide(const struct store_account *a, const struct store_dataset *d,
				     int action, const char *purpose)
{
	struct policy_request rq = {a, d, action, purpose, "127.0.0.1", util_now_s()};
	struct policy_decision dec;

	assert_int_equal(policy_decide(&app, &rq, &dec), GV_OK);
	return dec;
}

/* A grant to subject on d, made through the service as secadmin; returns its id. */
static int64_t grant(const struct store_dataset *d, int type, const char *subject, unsigned actions,
		     const char *windows, const char *ranges)
{
	struct store_grant g;
	char why[256];

	memset(&g, 0, sizeof(g));
	g.subject_type = type;
	snprintf(g.subject, sizeof(g.subject), "%s", subject);
	g.actions = actions;
	snprintf(g.purposes, sizeof(g.purposes), "statistics,audit");
	g.valid_from = util_now_s() - 60;
	g.valid_until = util_now_s() + 86400;
	snprintf(g.time_windows, sizeof(g.time_windows), "%s", windows ? windows : "");
	snprintf(g.ip_ranges, sizeof(g.ip_ranges), "%s", ranges ? ranges : "");
	snprintf(g.reason, sizeof(g.reason), "test");
	assert_int_equal(policy_grant_create(&app, &sec, d->name, &g, why, sizeof(why)), GV_OK);
	return g.id;
}

static void test_order_of_checks(void **state)
{
	struct policy_decision dec;

	(void)state;
	dec = decide(&sec, &ds2, PA_READ, "statistics");
	assert_false(dec.permit);
	assert_non_null(strstr(dec.reason, "administrators"));
	dec = decide(&analyst, &ds3, PA_READ, "statistics");
	assert_false(dec.permit);
	assert_non_null(strstr(dec.reason, "clearance"));
	dec = decide(&owner, &ds2, PA_READ, NULL);
	assert_false(dec.permit);
	assert_non_null(strstr(dec.reason, "purpose"));
	dec = decide(&owner, &ds2, PA_EXPORT, "anything");
	assert_true(dec.permit && dec.custodian);
	assert_string_equal(dec.profile, "none");
	/* No grant: visible to the department (403), not to others (404). */
	dec = decide(&analyst, &ds2, PA_READ, "statistics");
	assert_false(dec.permit);
	assert_true(dec.visible);
	dec = decide(&other_analyst, &ds2, PA_READ, "statistics");
	assert_false(dec.permit);
	assert_false(dec.visible);
	assert_int_equal(policy_action_parse("search"), PA_SEARCH);
	assert_int_equal(policy_action_parse("fly"), -1);
}

static void test_grants_and_their_conditions(void **state)
{
	struct policy_decision dec;
	struct store_grant g;
	const char *why;
	int64_t id;

	(void)state;
	/* A role grant stays in the dataset's department; a department grant crosses. */
	id = grant(&ds2, GRANT_ROLE, "analyst", 1u << PA_READ, NULL, NULL);
	assert_true(decide(&analyst, &ds2, PA_READ, "statistics").permit);
	assert_false(decide(&other_analyst, &ds2, PA_READ, "statistics").permit);
	assert_false(decide(&analyst, &ds2, PA_SEARCH, "statistics").permit);   /* action */
	dec = decide(&analyst, &ds2, PA_READ, "marketing");                      /* purpose */
	assert_false(dec.permit);
	assert_non_null(strstr(dec.reason, "purpose"));
	grant(&ds2, GRANT_DEPARTMENT, "Health", 1u << PA_SEARCH, NULL, "10.0.0.0/8");
	dec = decide(&other_analyst, &ds2, PA_SEARCH, "audit");
	assert_false(dec.permit);                                                /* address */
	assert_true(dec.visible);
	assert_non_null(strstr(dec.reason, "address"));
	/* Revocation takes effect at once: the compiled table is rebuilt. */
	assert_int_equal(policy_grant_revoke(&app, &sec, id, "done", &g, &why), GV_OK);
	assert_false(decide(&analyst, &ds2, PA_READ, "statistics").permit);
	/* Grade 3 waits for the owner of the dataset's department. */
	id = grant(&ds3, GRANT_DEPARTMENT, "Health", 1u << PA_READ, NULL, NULL);
	dec = decide(&other_analyst, &ds3, PA_READ, "statistics");
	assert_false(dec.permit);
	assert_non_null(strstr(dec.reason, "approval"));
	assert_int_equal(policy_grant_approve(&app, &other_analyst, id, &g, &why), GV_ERR_NOT_FOUND);
	assert_int_equal(policy_grant_approve(&app, &owner, id, &g, &why), GV_OK);
	assert_true(decide(&other_analyst, &ds3, PA_READ, "statistics").permit);
}

static void test_row_and_field_limits(void **state)
{
	struct policy_decision d;
	json_t *east = json_pack("{s:s}", "district", "east");
	json_t *west = json_pack("{s:s}", "district", "west");
	json_t *none = json_object();

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_true(policy_row_allowed(&d, west));
	assert_true(policy_field_allowed(&d, "anything"));
	snprintf(d.row_field, sizeof(d.row_field), "district");
	snprintf(d.row_value, sizeof(d.row_value), "east");
	snprintf(d.fields, sizeof(d.fields), "name,district");
	assert_true(policy_row_allowed(&d, east));
	assert_false(policy_row_allowed(&d, west));
	assert_false(policy_row_allowed(&d, none));   /* missing: the condition is not met */
	assert_true(policy_field_allowed(&d, "name"));
	assert_false(policy_field_allowed(&d, "nam"));  /* whole names only */
	assert_false(policy_field_allowed(&d, "id_no"));
	json_decref(east);
	json_decref(west);
	json_decref(none);
}

/* The daily cap holds in memory, survives a flush and a restart (forget), and two
 * grants count apart. */
static void test_daily_rows(void **state)
{
	int64_t id = grant(&ds2, GRANT_ACCOUNT, "analyst", 1u << PA_READ, NULL, NULL);
	int64_t other = grant(&ds2, GRANT_DEPARTMENT, "Statistics", 1u << PA_READ, NULL, NULL);
	struct policy_decision d, e;
	int64_t used = -1, day;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.grant_id = id;
	d.max_rows_day = 5;
	e = d;
	e.grant_id = other;
	assert_int_equal(policy_count_rows(&app, &d, 3), GV_OK);
	assert_int_equal(policy_count_rows(&app, &d, 3), GV_ERR_QUOTA);   /* 6 > 5: nothing counted */
	assert_int_equal(policy_count_rows(&app, &d, 2), GV_OK);
	assert_int_equal(policy_count_rows(&app, &d, 1), GV_ERR_QUOTA);
	assert_int_equal(policy_count_rows(&app, &e, 5), GV_OK);
	/* Not yet in the store; written by the flush. */
	day = util_now_s() / 86400;   /* the test's configuration has offset 0 */
	assert_int_equal(app.st->ops->grant_use(app.st, id, day, 0, 0, &used), GV_OK);
	assert_int_equal(used, 0);
	assert_int_equal(policy_usage_flush(&app), GV_OK);
	assert_int_equal(app.st->ops->grant_use(app.st, id, day, 0, 0, &used), GV_OK);
	assert_int_equal(used, 5);
	assert_int_equal(policy_usage_flush(&app), GV_OK);   /* nothing pending: nothing added */
	assert_int_equal(app.st->ops->grant_use(app.st, id, day, 0, 0, &used), GV_OK);
	assert_int_equal(used, 5);
	/* A restart reads what was written. */
	policy_usage_forget();
	assert_int_equal(policy_count_rows(&app, &d, 1), GV_ERR_QUOTA);
	assert_int_equal(policy_count_rows(&app, &e, 1), GV_ERR_QUOTA);
	d.max_rows_day = 0;                                        /* no cap: not counted */
	assert_int_equal(policy_count_rows(&app, &d, 1000), GV_OK);
	policy_usage_forget();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_of_checks),
		cmocka_unit_test(test_grants_and_their_conditions),
		cmocka_unit_test(test_row_and_field_limits),
		cmocka_unit_test(test_daily_rows),
	};

	if (crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_store.c - the SQLite backend through the storage interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[] = "/tmp/gvstoreXXXXXX";
static char path[128];

static int setup(void **state)
{
	struct gv_store *st;

	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (store_sqlite_open(path, &st) != GV_OK)
		return -1;
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void make_account(struct store_account *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->username, sizeof(a->username), "%s", name);
	snprintf(a->full_name, sizeof(a->full_name), "Full %s", name);
	snprintf(a->department, sizeof(a->department), "Dept");
	snprintf(a->contact, sizeof(a->contact), "c");
	a->roles = 1u << 4;
	a->clearance = 2;
}

static int count_cb(const struct store_account *a, void *ctx)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

static void test_accounts(void **state)
{
	struct gv_store *st = *state;
	struct store_account a, b;
	int n = 0;

	make_account(&a, "alice");
	a.totp_secret_len = 36;
	memset(a.totp_secret, 7, 36);
	assert_int_equal(st->ops->account_insert(st, &a), GV_OK);
	assert_true(a.id > 0);
	assert_int_equal(st->ops->account_insert(st, &a), GV_ERR_EXISTS);
	assert_int_equal(st->ops->account_get(st, "alice", &b), GV_OK);
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.totp_secret_len, 36);
	assert_memory_equal(b.totp_secret, a.totp_secret, 36);
	assert_string_equal(b.full_name, "Full alice");
	b.status = ACCOUNT_LOCKED;
	b.failed_pw = 5;
	assert_int_equal(st->ops->account_update(st, &b), GV_OK);
	assert_int_equal(st->ops->account_get_id(st, a.id, &a), GV_OK);
	assert_int_equal(a.status, ACCOUNT_LOCKED);
	assert_int_equal(a.failed_pw, 5);
	assert_int_equal(st->ops->account_get(st, "nobody", &b), GV_ERR_NOT_FOUND);
	b.id = 9999;
	assert_int_equal(st->ops->account_update(st, &b), GV_ERR_NOT_FOUND);
	make_account(&b, "bob");
	assert_int_equal(st->ops->account_insert(st, &b), GV_OK);
	assert_int_equal(st->ops->account_list(st, count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
}

struct texts {
	int n;
	char first[64];
};

static int text_cb(const char *t, void *ctx)
{
	struct texts *x = ctx;

	if (x->n++ == 0)
		snprintf(x->first, sizeof(x->first), "%s", t);
	return 0;
}

static void test_history_and_recovery(void **state)
{
	struct gv_store *st = *state;
	struct store_account a;
	const char *codes[] = {"h1", "h2", "h3"};
	const char *codes2[] = {"h9"};
	struct texts x = {0};
	int n;

	make_account(&a, "carol");
	assert_int_equal(st->ops->account_insert(st, &a), GV_OK);
	for (int i = 0; i < 7; i++) {
		char h[16];

		snprintf(h, sizeof(h), "hash%d", i);
		assert_int_equal(st->ops->pwhist_add(st, a.id, h, i, 5), GV_OK);
	}
	assert_int_equal(st->ops->pwhist_list(st, a.id, 100, text_cb, &x), GV_OK);
	assert_int_equal(x.n, 5);
	assert_string_equal(x.first, "hash6");
	/* Staged codes are unusable until activated. */
	assert_int_equal(st->ops->recovery_stage(st, a.id, codes, 3), GV_OK);
	assert_int_equal(st->ops->recovery_count(st, a.id, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h2"), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->recovery_activate(st, a.id), GV_OK);
	assert_int_equal(st->ops->recovery_count(st, a.id, &n), GV_OK);
	assert_int_equal(n, 3);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h2"), GV_OK);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h2"), GV_ERR_NOT_FOUND);
	/* A new staging leaves the active codes alone until it is activated. */
	assert_int_equal(st->ops->recovery_stage(st, a.id, codes2, 1), GV_OK);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h9"), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h3"), GV_OK);
	assert_int_equal(st->ops->recovery_count(st, a.id, &n), GV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st->ops->recovery_activate(st, a.id), GV_OK);
	assert_int_equal(st->ops->recovery_count(st, a.id, &n), GV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h1"), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->recovery_consume(st, a.id, "h9"), GV_OK);
}

static int session_count(const struct store_session *s, void *ctx)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

static void test_sessions_roles(void **state)
{
	struct gv_store *st = *state;
	struct store_account a;
	struct store_session s = {0}, g;
	char ip[64], win[64];
	int n = 0, deleted;

	make_account(&a, "dave");
	assert_int_equal(st->ops->account_insert(st, &a), GV_OK);
	snprintf(s.id, sizeof(s.id), "sid1");
	snprintf(s.token_hash, sizeof(s.token_hash), "th1");
	s.account_id = a.id;
	s.created_at = s.last_seen = 100;
	assert_int_equal(st->ops->session_insert(st, &s), GV_OK);
	snprintf(s.id, sizeof(s.id), "sid2");
	snprintf(s.token_hash, sizeof(s.token_hash), "th2");
	s.created_at = s.last_seen = 1000;
	assert_int_equal(st->ops->session_insert(st, &s), GV_OK);
	assert_int_equal(st->ops->session_get(st, "th1", &g), GV_OK);
	assert_string_equal(g.username, "dave");
	g.stage = 2;
	g.last_seen = 150;
	assert_int_equal(st->ops->session_update(st, &g), GV_OK);
	assert_int_equal(st->ops->session_get(st, "th1", &g), GV_OK);
	assert_int_equal(g.stage, 2);
	assert_int_equal(st->ops->session_list(st, a.id, session_count, &n), GV_OK);
	assert_int_equal(n, 2);
	assert_int_equal(st->ops->session_purge(st, 500, 0), GV_OK);
	assert_int_equal(st->ops->session_get(st, "th1", &g), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->session_delete(st, "sid1"), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->session_delete_account(st, a.id, &deleted), GV_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(st->ops->role_get(st, "analyst", ip, sizeof(ip), win, sizeof(win)), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->role_set(st, "analyst", "10.0.0.0/8", ""), GV_OK);
	assert_int_equal(st->ops->role_set(st, "analyst", "127.0.0.1", "* 08:00-09:00"), GV_OK);
	assert_int_equal(st->ops->role_get(st, "analyst", ip, sizeof(ip), win, sizeof(win)), GV_OK);
	assert_string_equal(ip, "127.0.0.1");
	assert_string_equal(win, "* 08:00-09:00");
}


static int dataset_count(const struct store_dataset *d, void *ctx)
{
	(void)d;
	(*(int *)ctx)++;
	return 0;
}

static void test_datasets(void **state)
{
	struct gv_store *st = *state;
	static struct store_dataset d, g;
	int n = 0;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "population");
	snprintf(d.department, sizeof(d.department), "Statistics");
	snprintf(d.schema, sizeof(d.schema), "{\"fields\":[]}");
	d.grade = d.grade_suggested = 3;
	d.expected_rows = 5000000000LL;
	assert_int_equal(st->ops->dataset_insert(st, &d), GV_OK);
	assert_true(d.id > 0);
	assert_int_equal(st->ops->dataset_insert(st, &d), GV_ERR_EXISTS);
	assert_int_equal(st->ops->dataset_get(st, "population", &g), GV_OK);
	assert_memory_equal(&d, &g, sizeof(d));
	g.grade = 2;
	g.pending_grade = 1;
	snprintf(g.pending_by, sizeof(g.pending_by), "olga");
	assert_int_equal(st->ops->dataset_update(st, &g), GV_OK);
	assert_int_equal(st->ops->dataset_get(st, "population", &d), GV_OK);
	assert_int_equal(d.grade, 2);
	assert_string_equal(d.pending_by, "olga");
	assert_int_equal(st->ops->dataset_get(st, "nothing", &g), GV_ERR_NOT_FOUND);
	g.id = 999;
	assert_int_equal(st->ops->dataset_update(st, &g), GV_ERR_NOT_FOUND);
	snprintf(d.name, sizeof(d.name), "prices");
	assert_int_equal(st->ops->dataset_insert(st, &d), GV_OK);
	assert_int_equal(st->ops->dataset_list(st, dataset_count, &n), GV_OK);
	assert_int_equal(n, 2);
}

static void test_reopen(void **state)
{
	struct gv_store *st2;
	struct store_account a;

	(void)state;
	/* A second connection sees the schema (migrations already applied) and data. */
	assert_int_equal(store_sqlite_open(path, &st2), GV_OK);
	assert_int_equal(st2->ops->account_get(st2, "alice", &a), GV_OK);
	store_close(st2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_history_and_recovery),
		cmocka_unit_test(test_sessions_roles),
		cmocka_unit_test(test_datasets),
		cmocka_unit_test(test_reopen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

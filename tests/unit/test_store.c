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
	snprintf(d.quality_rules, sizeof(d.quality_rules), "[]");
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

static int rec_count_cb(const struct store_record *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static int raw_count_cb(const struct store_raw_row *w, void *ctx)
{
	(void)w;
	(*(int *)ctx)++;
	return 0;
}

/* A dataset to hang batches on; returns its id. */
static int64_t batch_dataset(struct gv_store *st, const char *name)
{
	static struct store_dataset d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.schema, sizeof(d.schema), "{}");
	assert_int_equal(st->ops->dataset_insert(st, &d), GV_OK);
	return d.id;
}

/* Writes n imported rows (each a record with one index token) into batch b. */
static void write_rows(struct gv_store *st, int64_t ds, int64_t b, int n, const char *tag)
{
	struct store_record rec[8];
	struct store_index_entry idx[8];
	struct store_import_row rows[8];
	char tokens[8][65];
	unsigned char body[] = "P{}";

	assert_true(n <= 8);
	for (int i = 0; i < n; i++) {
		memset(&rec[i], 0, sizeof(rec[i]));
		rec[i].dataset_id = ds;
		snprintf(rec[i].record_id, sizeof(rec[i].record_id), "%s%d", tag, i);
		rec[i].version = 1;
		rec[i].key_version = 1;
		rec[i].body = body;
		rec[i].body_len = 3;
		rec[i].batch_id = b;
		rec[i].raw_row = i + 1;
		snprintf(tokens[i], sizeof(tokens[i]), "tok-%s", tag);
		idx[i].field = "f";
		idx[i].token = tokens[i];
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].raw.batch_id = b;
		rows[i].raw.row_no = i + 1;
		rows[i].raw.line_no = i + 1;
		rows[i].raw.key_version = 1;
		rows[i].raw.sealed = body;
		rows[i].raw.sealed_len = 3;
		rows[i].raw.status = i == n - 1 ? RAW_QUARANTINED : RAW_ACCEPTED;
		rows[i].rec = i == n - 1 ? NULL : &rec[i];
		rows[i].idx = &idx[i];
		rows[i].nidx = 1;
	}
	assert_int_equal(st->ops->batch_write(st, b, rows, (size_t)n), GV_OK);
}

static void test_batches(void **state)
{
	struct gv_store *st = *state;
	static struct store_batch b1, b2, b3, got;
	int64_t ds = batch_dataset(st, "imports");
	int n = 0, found = 0, recovered = 0;
	struct store_raw_row w;

	memset(&b1, 0, sizeof(b1));
	b1.dataset_id = ds;
	snprintf(b1.format, sizeof(b1.format), "csv");
	b2 = b3 = b1;
	assert_int_equal(st->ops->batch_insert(st, &b1), GV_OK);
	assert_int_equal(st->ops->batch_insert(st, &b2), GV_OK);
	assert_int_equal(st->ops->batch_insert(st, &b3), GV_OK);
	write_rows(st, ds, b1.id, 3, "a");
	write_rows(st, ds, b2.id, 3, "b");
	write_rows(st, ds, b3.id, 3, "c");
	/* Loading: invisible to reads, visible to its own uniqueness checks. */
	assert_int_equal(st->ops->record_get(st, ds, "a0", 0, rec_count_cb, &n), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->record_find(st, ds, "f", "tok-a", 10, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-a", 0, &found), GV_OK);
	assert_int_equal(found, 0);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-a", b1.id, &found), GV_OK);
	assert_int_equal(found, 1);
	/* Committed: all of it at once.  Rejected: nothing of it is left. */
	b1.state = BATCH_COMMITTED;
	b1.rows = 2;
	assert_int_equal(st->ops->batch_finish(st, &b1), GV_OK);
	b2.state = BATCH_REJECTED;
	assert_int_equal(st->ops->batch_finish(st, &b2), GV_OK);
	assert_int_equal(st->ops->record_find(st, ds, "f", "tok-a", 10, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(st->ops->record_scan(st, ds, "", 100, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(st->ops->raw_row_list(st, b2.id, -1, 0, 100, raw_count_cb, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-b", b2.id, &found), GV_OK);
	assert_int_equal(found, 0);
	/* A batch left loading (the process died) is failed and emptied at start. */
	assert_int_equal(st->ops->batch_recover(st, &recovered), GV_OK);
	assert_int_equal(recovered, 1);
	assert_int_equal(st->ops->batch_get(st, ds, b3.id, &got), GV_OK);
	assert_int_equal(got.state, BATCH_FAILED);
	assert_int_equal(st->ops->raw_row_list(st, b3.id, -1, 0, 100, raw_count_cb, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->batch_get(st, ds + 1000, b1.id, &got), GV_ERR_NOT_FOUND);
	/* Quarantine: a row settles once. */
	n = 0;
	assert_int_equal(st->ops->raw_row_list(st, b1.id, RAW_QUARANTINED, 0, 100, raw_count_cb, &n),
			 GV_OK);
	assert_int_equal(n, 1);
	memset(&w, 0, sizeof(w));
	w.batch_id = b1.id;
	w.row_no = 3;
	w.status = RAW_DISCARDED;
	w.resolution = "duplicate";
	assert_int_equal(st->ops->raw_row_resolve(st, &w, NULL, NULL, 0), GV_OK);
	assert_int_equal(st->ops->raw_row_resolve(st, &w, NULL, NULL, 0), GV_ERR_STATE);
	w.row_no = 1;   /* accepted, not quarantined */
	assert_int_equal(st->ops->raw_row_resolve(st, &w, NULL, NULL, 0), GV_ERR_STATE);
	assert_int_equal(st->ops->batch_get(st, ds, b1.id, &got), GV_OK);
	assert_int_equal(got.discarded, 1);
}

static void test_keys_meta_lineage(void **state)
{
	struct gv_store *st = *state;
	int64_t a = batch_dataset(st, "keyed"), b = batch_dataset(st, "derived");
	unsigned char w[44] = {1}, out[64];
	int64_t rec = 0, raw = 0;
	size_t len = 0;
	int v = 0;

	assert_int_equal(st->ops->datakey_latest(st, a, 0, &v), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->datakey_put(st, a, 0, 1, w, sizeof(w)), GV_OK);
	assert_int_equal(st->ops->datakey_put(st, a, 0, 2, w, sizeof(w)), GV_OK);
	assert_int_equal(st->ops->datakey_latest(st, a, 0, &v), GV_OK);
	assert_int_equal(v, 2);
	assert_int_equal(st->ops->datakey_usage(st, a, 1, &rec, &raw), GV_OK);
	assert_int_equal(rec + raw, 0);
	assert_int_equal(st->ops->datakey_retire(st, a, 1), GV_OK);
	assert_int_equal(st->ops->datakey_get(st, a, 0, 1, out, sizeof(out), &len), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->meta_get(st, "x", out, sizeof(out), &len), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->meta_put(st, "x", w, 3), GV_OK);
	assert_int_equal(st->ops->meta_put(st, "x", w, 5), GV_OK);
	assert_int_equal(st->ops->meta_get(st, "x", out, sizeof(out), &len), GV_OK);
	assert_int_equal(len, 5);
	assert_int_equal(st->ops->lineage_add(st, b, a, "count"), GV_OK);
	assert_int_equal(st->ops->lineage_add(st, b, a, "again"), GV_ERR_EXISTS);
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
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_keys_meta_lineage),
		cmocka_unit_test(test_reopen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

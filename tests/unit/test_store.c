/* test_store.c - the SQLite backend through the storage interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

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


/* Sessions, accounts and role restrictions are served from memory after a first read
 * (sqlite_cache.c): each read here comes after one that filled the cache, so a write
 * that failed to drop its entry shows as a stale answer. */
/* Stores session s as id with token hash n (in hex digits) for account, created and
 * seen at 100, and reads it back into g. */
static void put_session(struct gv_store *st, struct store_session *s, const char *id, int n,
			int64_t account, struct store_session *g)
{
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->token_hash, sizeof(s->token_hash), "%064d", n);
	s->account_id = account;
	s->created_at = s->last_seen = 100;
	assert_int_equal(st->ops->session_insert(st, s), GV_OK);
	assert_int_equal(st->ops->session_get(st, s->token_hash, g), GV_OK);
}

static void test_cached_rows_follow_writes(void **state)
{
	struct gv_store *st = *state;
	struct store_account a, b;
	struct store_session s = {0}, g;
	char ip[64], win[64];
	int deleted;

	make_account(&a, "erin");
	assert_int_equal(st->ops->account_insert(st, &a), GV_OK);
	assert_int_equal(st->ops->account_get_id(st, a.id, &b), GV_OK);
	b.status = ACCOUNT_DISABLED;
	snprintf(b.username, sizeof(b.username), "erin2");
	assert_int_equal(st->ops->account_update(st, &b), GV_OK);
	assert_int_equal(st->ops->account_get_id(st, a.id, &b), GV_OK);
	assert_int_equal(b.status, ACCOUNT_DISABLED);
	assert_string_equal(b.username, "erin2");

	put_session(st, &s, "sidc", 7, a.id, &g);
	assert_string_equal(g.username, "erin2");
	/* The session row carries the account's name: a rename shows at once. */
	snprintf(b.username, sizeof(b.username), "erin3");
	assert_int_equal(st->ops->account_update(st, &b), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_OK);
	assert_string_equal(g.username, "erin3");
	g.last_seen = 200;
	assert_int_equal(st->ops->session_update(st, &g), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_OK);
	assert_int_equal(g.last_seen, 200);
	assert_int_equal(st->ops->session_delete(st, "sidc"), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_ERR_NOT_FOUND);

	assert_int_equal(st->ops->session_insert(st, &s), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_OK);
	assert_int_equal(st->ops->session_delete_account(st, a.id, &deleted), GV_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->session_insert(st, &s), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_OK);
	assert_int_equal(st->ops->session_purge(st, 150, 0), GV_OK);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_ERR_NOT_FOUND);

	assert_int_equal(st->ops->role_set(st, "auditor", "10.0.0.0/8", ""), GV_OK);
	assert_int_equal(st->ops->role_get(st, "auditor", ip, sizeof(ip), win, sizeof(win)), GV_OK);
	assert_string_equal(ip, "10.0.0.0/8");
	assert_int_equal(st->ops->role_set(st, "auditor", "", "* 08:00-09:00"), GV_OK);
	assert_int_equal(st->ops->role_get(st, "auditor", ip, sizeof(ip), win, sizeof(win)), GV_OK);
	assert_string_equal(ip, "");
	assert_string_equal(win, "* 08:00-09:00");
	/* Too small a buffer is refused from memory as from the database. */
	assert_int_not_equal(st->ops->role_get(st, "auditor", ip, sizeof(ip), win, 4), GV_OK);
}

/* Should a second process write the database (not a supported set-up), what it
 * revokes holds in this one within a second: cached rows are trusted that long. */
static void test_cached_rows_expire(void **state)
{
	struct gv_store *st = *state, *other;
	struct store_session s = {0}, g;
	struct store_account a;
	char ip[64], win[64];

	make_account(&a, "frank");
	assert_int_equal(st->ops->account_insert(st, &a), GV_OK);
	put_session(st, &s, "sidx", 8, a.id, &g);
	assert_int_equal(st->ops->account_get_id(st, a.id, &a), GV_OK);
	assert_int_equal(st->ops->role_get(st, "operator", ip, sizeof(ip), win, sizeof(win)),
			 GV_ERR_NOT_FOUND);
	assert_int_equal(store_sqlite_open(path, &other), GV_OK);
	assert_int_equal(other->ops->session_delete(other, "sidx"), GV_OK);
	a.status = ACCOUNT_DISABLED;
	assert_int_equal(other->ops->account_update(other, &a), GV_OK);
	assert_int_equal(other->ops->role_set(other, "operator", "10.0.0.0/8", ""), GV_OK);
	store_close(other);
	usleep(1100 * 1000);
	assert_int_equal(st->ops->session_get(st, s.token_hash, &g), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->account_get_id(st, a.id, &a), GV_OK);
	assert_int_equal(a.status, ACCOUNT_DISABLED);
	assert_int_equal(st->ops->role_get(st, "operator", ip, sizeof(ip), win, sizeof(win)), GV_OK);
	assert_string_equal(ip, "10.0.0.0/8");
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

/* How many records a callback saw, and the last one's id. */
struct rec_ids {
	int n;
	char id[65];
};

static int rec_ids_cb(const struct store_record *r, void *ctx)
{
	struct rec_ids *c = ctx;

	c->n++;
	snprintf(c->id, sizeof(c->id), "%s", r->record_id);
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

/* Writes n imported rows into batch b: records tag0.. and a quarantined last row. */
static void write_rows(struct gv_store *st, int64_t ds, int64_t b, int n, const char *tag)
{
	struct store_record rec[8];
	struct store_import_row rows[8];
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
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].raw.batch_id = b;
		rows[i].raw.row_no = i + 1;
		rows[i].raw.line_no = i + 1;
		rows[i].raw.key_version = 1;
		rows[i].raw.sealed = body;
		rows[i].raw.sealed_len = 3;
		rows[i].raw.status = i == n - 1 ? RAW_QUARANTINED : RAW_ACCEPTED;
		rows[i].rec = i == n - 1 ? NULL : &rec[i];
	}
	assert_int_equal(st->ops->batch_write(st, b, rows, (size_t)n, NULL, 0), GV_OK);
}

/* Indexes the n - 1 records write_rows made under field f, token "tok-<tag>". */
static gv_err index_rows(struct gv_store *st, int64_t ds, int64_t b, int n, const char *tag)
{
	struct store_index_row rows[8];
	char ids[8][16], token[16];

	snprintf(token, sizeof(token), "tok-%s", tag);
	for (int i = 0; i < n - 1; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s%d", tag, i);
		rows[i] = (struct store_index_row){"f", token, ids[i], 1};
	}
	return st->ops->index_add(st, b, ds, rows, (size_t)(n - 1));
}

/* A number SQL computes on the store's database, through a second connection: the
 * tables an import fills before its batch is visible have no other reader. */
static int64_t sql_count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	const char *rest = sql;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	while (rest && *rest) {
		assert_int_equal(sqlite3_prepare_v2(db, rest, -1, &q, &rest), SQLITE_OK);
		if (!q)
			break;
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return v;
}

static void test_batches(void **state)
{
	struct gv_store *st = *state;
	static struct store_batch b1, b2, b3, b4, got;
	int64_t ds = batch_dataset(st, "imports");
	int n = 0, found = 0, recovered = 0;
	struct store_raw_row w;

	memset(&b1, 0, sizeof(b1));
	b1.dataset_id = ds;
	snprintf(b1.format, sizeof(b1.format), "csv");
	b2 = b3 = b4 = b1;
	assert_int_equal(st->ops->batch_insert(st, &b1), GV_OK);
	assert_int_equal(st->ops->batch_insert(st, &b2), GV_OK);
	assert_int_equal(st->ops->batch_insert(st, &b3), GV_OK);
	assert_int_equal(st->ops->batch_insert(st, &b4), GV_OK);
	write_rows(st, ds, b1.id, 3, "a");
	write_rows(st, ds, b2.id, 3, "b");
	write_rows(st, ds, b3.id, 3, "c");
	write_rows(st, ds, b4.id, 3, "d");
	assert_int_equal(index_rows(st, ds, b1.id, 3, "a"), GV_OK);
	assert_int_equal(index_rows(st, ds, b2.id, 3, "b"), GV_OK);
	assert_int_equal(index_rows(st, ds, b3.id, 3, "c"), GV_OK);
	assert_int_equal(index_rows(st, ds + 1000, b3.id, 3, "c"), GV_ERR_STATE);   /* another dataset's */
	/* Loading: invisible to reads and to uniqueness checks (the import remembers its
	 * own values), index entries included. */
	assert_int_equal(st->ops->record_get(st, ds, "a0", 0, rec_count_cb, &n), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->record_find(st, ds, "f", "tok-a", 10, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-a", &found), GV_OK);
	assert_int_equal(found, 0);
	assert_int_equal(sql_count("SELECT count(*) FROM blind_index"), 6);
	/* Committed: all of it at once.  Rejected: nothing of it is left, index entries
	 * included; one that never added any leaves the index alone. */
	b1.state = BATCH_COMMITTED;
	b1.rows = 2;
	assert_int_equal(st->ops->batch_finish(st, &b1), GV_OK);
	assert_int_equal(index_rows(st, ds, b1.id, 3, "a"), GV_ERR_STATE);   /* committed */
	b2.state = BATCH_REJECTED;
	assert_int_equal(st->ops->batch_finish(st, &b2), GV_OK);
	/* b4 never added entries, so its end does not read the index for them: an entry
	 * naming its record (put there behind the store's back) stays. */
	assert_int_equal(sql_count("INSERT INTO blind_index VALUES (" "(SELECT id FROM datasets WHERE name = 'imports'),"
				   " 'f', 'tok-d', 'd0', 1); SELECT count(*) FROM blind_index WHERE token = 'tok-d'"), 1);
	b4.state = BATCH_REJECTED;
	assert_int_equal(st->ops->batch_finish(st, &b4), GV_OK);
	assert_int_equal(sql_count("DELETE FROM blind_index WHERE token = 'tok-d' RETURNING 1"), 1);
	assert_int_equal(st->ops->record_find(st, ds, "f", "tok-a", 10, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-a", &found), GV_OK);
	assert_int_equal(found, 1);
	assert_int_equal(sql_count("SELECT count(*) FROM blind_index"), 4);   /* a's and c's */
	n = 0;
	assert_int_equal(st->ops->record_scan(st, ds, "", 100, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(st->ops->raw_row_list(st, b2.id, -1, 0, 100, raw_count_cb, &n), GV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->index_exists(st, ds, "f", "tok-b", &found), GV_OK);
	assert_int_equal(found, 0);
	/* A batch left loading (the process died while adding its index entries) is
	 * failed and emptied at start, index entries included. */
	assert_int_equal(st->ops->batch_recover(st, &recovered), GV_OK);
	assert_int_equal(sql_count("SELECT count(*) FROM blind_index"), 2);
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

/* An import of more rows than one statement takes (raw rows and records go 16, index
 * entries 32 to a statement): every row, record and entry lands, and each token finds
 * its own record. */
static void test_many_rows(void **state)
{
	struct gv_store *st = *state;
	static struct store_batch b;
	static struct store_record rec[40];
	static struct store_import_row rows[40];
	static struct store_index_row idx[40];
	static char tokens[40][65];
	unsigned char body[] = "P{}";
	int64_t ds = batch_dataset(st, "many");
	size_t nidx = 0;
	int n = 0;

	memset(&b, 0, sizeof(b));
	b.dataset_id = ds;
	snprintf(b.format, sizeof(b.format), "csv");
	assert_int_equal(st->ops->batch_insert(st, &b), GV_OK);
	for (int i = 0; i < 40; i++) {
		memset(&rec[i], 0, sizeof(rec[i]));
		rec[i].dataset_id = ds;
		snprintf(rec[i].record_id, sizeof(rec[i].record_id), "m%02d", i);
		rec[i].version = 1;
		rec[i].key_version = 1;
		rec[i].body = body;
		rec[i].body_len = 3;
		rec[i].batch_id = b.id;
		rec[i].raw_row = i + 1;
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].raw.batch_id = b.id;
		rows[i].raw.row_no = i + 1;
		rows[i].raw.line_no = i + 2;
		rows[i].raw.key_version = 1;
		rows[i].raw.sealed = body;
		rows[i].raw.sealed_len = 3;
		rows[i].raw.status = i == 20 ? RAW_QUARANTINED : RAW_ACCEPTED;
		rows[i].rec = i == 20 ? NULL : &rec[i];
		snprintf(tokens[i], sizeof(tokens[i]), "%064x", i);
		if (i != 20)   /* the quarantined row has no record */
			idx[nidx++] = (struct store_index_row){"f", tokens[i], rec[i].record_id, 1};
	}
	assert_int_equal(st->ops->batch_write(st, b.id, rows, 40, NULL, 0), GV_OK);
	assert_int_equal(st->ops->index_add(st, b.id, ds, idx, nidx), GV_OK);   /* 32 + 7 */
	b.state = BATCH_COMMITTED;
	b.rows = 40;
	assert_int_equal(st->ops->batch_finish(st, &b), GV_OK);
	assert_int_equal(st->ops->raw_row_list(st, b.id, -1, 0, 100, raw_count_cb, &n), GV_OK);
	assert_int_equal(n, 40);
	n = 0;
	assert_int_equal(st->ops->record_scan(st, ds, "", 100, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 39);
	for (int i = 0; i < 40; i++) {
		struct rec_ids got = {0};

		if (i == 20)
			continue;
		assert_int_equal(st->ops->record_find(st, ds, "f", tokens[i], 10, rec_ids_cb, &got), GV_OK);
		assert_int_equal(got.n, 1);
		assert_string_equal(got.id, rec[i].record_id);
	}
}

/* A copy of the raw rows a callback saw. */
struct raw_seen {
	int n;
	int64_t row_no[8], block_row[8];
	int key_version[8];
	char sealed[8][16];
};

static int raw_seen_cb(const struct store_raw_row *w, void *ctx)
{
	struct raw_seen *x = ctx;

	if (x->n < 8) {
		x->row_no[x->n] = w->row_no;
		x->block_row[x->n] = w->block_row;
		x->key_version[x->n] = w->key_version;
		snprintf(x->sealed[x->n], sizeof(x->sealed[0]), "%.*s", (int)w->sealed_len,
			 (const char *)w->sealed);
	}
	x->n++;
	return 0;
}

/* Rows kept in a block carry the block's sealed bytes and key version; rows sealed on
 * their own (before schema 9) keep theirs; rotation finds and re-seals both; a batch
 * that is not committed loses its blocks. */
static void test_raw_blocks(void **state)
{
	struct gv_store *st = *state;
	int64_t ds = batch_dataset(st, "blocks");
	static struct store_batch b;
	struct store_import_row rows[4];
	struct store_raw_block blk;
	struct store_raw_row n;
	struct raw_seen x;
	int64_t rec = 0, raw = 0;
	unsigned char own[] = "own", sealed[] = "block-v1", resealed[] = "block-v2";

	memset(&b, 0, sizeof(b));
	b.dataset_id = ds;
	snprintf(b.format, sizeof(b.format), "csv");
	assert_int_equal(st->ops->batch_insert(st, &b), GV_OK);
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 4; i++) {
		rows[i].raw.batch_id = b.id;
		rows[i].raw.row_no = rows[i].raw.line_no = i + 1;
		rows[i].raw.key_version = 1;
		rows[i].raw.status = RAW_QUARANTINED;
		rows[i].raw.block_row = i < 3 ? 1 : 0;
	}
	rows[3].raw.sealed = own;
	rows[3].raw.sealed_len = 3;
	blk = (struct store_raw_block){b.id, 1, 3, 1, sealed, 8};
	/* A block of another batch is refused, and nothing of the chunk stays. */
	blk.batch_id = b.id + 1;
	assert_int_equal(st->ops->batch_write(st, b.id, rows, 4, &blk, 1), GV_ERR_INVALID);
	blk.batch_id = b.id;
	assert_int_equal(st->ops->batch_write(st, b.id, rows, 4, &blk, 1), GV_OK);
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->raw_row_list(st, b.id, -1, 0, 10, raw_seen_cb, &x), GV_OK);
	assert_int_equal(x.n, 4);
	assert_int_equal(x.block_row[1], 1);
	assert_string_equal(x.sealed[1], "block-v1");
	assert_int_equal(x.block_row[3], 0);
	assert_string_equal(x.sealed[3], "own");
	assert_int_equal(st->ops->datakey_usage(st, ds, 1, &rec, &raw), GV_OK);
	assert_int_equal(raw, 4);
	/* Stale under version 2: the row sealed alone, then the block (as its first row). */
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->raw_row_stale_keys(st, ds, 2, 10, raw_seen_cb, &x), GV_OK);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.row_no[0], 4);
	assert_int_equal(x.block_row[1], 1);
	assert_string_equal(x.sealed[1], "block-v1");
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->raw_row_stale_keys(st, ds, 2, 1, raw_seen_cb, &x), GV_OK);
	assert_int_equal(x.n, 1);
	memset(&n, 0, sizeof(n));
	n.batch_id = b.id;
	n.row_no = n.block_row = 1;
	n.key_version = 2;
	n.sealed = resealed;
	n.sealed_len = 8;
	assert_int_equal(st->ops->raw_row_rekey(st, &n, 1), GV_OK);
	assert_int_equal(st->ops->raw_row_rekey(st, &n, 1), GV_ERR_STATE);   /* done already */
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->raw_row_get(st, b.id, 2, raw_seen_cb, &x), GV_OK);
	assert_int_equal(x.key_version[0], 2);
	assert_string_equal(x.sealed[0], "block-v2");
	assert_int_equal(st->ops->datakey_usage(st, ds, 1, &rec, &raw), GV_OK);
	assert_int_equal(raw, 1);
	assert_int_equal(st->ops->datakey_usage(st, ds, 2, &rec, &raw), GV_OK);
	assert_int_equal(raw, 3);
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->raw_row_stale_keys(st, ds, 2, 10, raw_seen_cb, &x), GV_OK);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.block_row[0], 0);
	/* Rejected: rows and blocks go. */
	b.state = BATCH_REJECTED;
	assert_int_equal(st->ops->batch_finish(st, &b), GV_OK);
	assert_int_equal(st->ops->datakey_usage(st, ds, 2, &rec, &raw), GV_OK);
	assert_int_equal(raw, 0);
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

/* ---- sharing ---- */

static void make_request(struct store_share_request *r, int64_t ds, const char *dept)
{
	memset(r, 0, sizeof(*r));
	r->dataset_id = ds;
	r->kind = SHARE_KIND_SHARE;
	snprintf(r->requester, sizeof(r->requester), "erin");
	snprintf(r->department, sizeof(r->department), "%s", dept);
	snprintf(r->fields, sizeof(r->fields), "name,age");
	r->actions = 3;
	snprintf(r->purpose, sizeof(r->purpose), "planning");
	r->valid_until = 2000000000;
	r->expected_rows_day = 500;
	snprintf(r->service, sizeof(r->service), "{\"name\":\"pop\"}");
	r->state = SHARE_PENDING;
	r->needs_owner = r->needs_secadmin = 1;
	r->created_at = r->updated_at = 100;
}

static void make_event(struct store_share_event *e, const char *step, int64_t at)
{
	memset(e, 0, sizeof(*e));
	e->at = at;
	snprintf(e->actor, sizeof(e->actor), "erin");
	snprintf(e->step, sizeof(e->step), "%s", step);
	snprintf(e->comment, sizeof(e->comment), "c-%s", step);
}

static void make_grant(struct store_grant *g, int64_t ds, const char *dept)
{
	memset(g, 0, sizeof(*g));
	g->dataset_id = ds;
	g->subject_type = GRANT_DEPARTMENT;
	snprintf(g->subject, sizeof(g->subject), "%s", dept);
	g->actions = 3;
	g->state = GRANT_ACTIVE;
}

static void make_service(struct store_service *v, const char *name, int64_t ds, const char *dept)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->dataset_id = ds;
	snprintf(v->department, sizeof(v->department), "%s", dept);
	snprintf(v->params, sizeof(v->params), "[]");
	v->max_rows = 100;
	v->rate_per_minute = 60;
	v->state = SERVICE_ACTIVE;
}

static int grant_count(const struct store_grant *g, void *ctx)
{
	(void)g;
	(*(int *)ctx)++;
	return 0;
}

struct ids {
	int n;
	int64_t id[16];
	char text[16][80];
};

static int req_ids(const struct store_share_request *r, void *ctx)
{
	struct ids *x = ctx;

	if (x->n < 16)
		x->id[x->n] = r->id;
	x->n++;
	return 0;
}

static int event_steps(const struct store_share_event *e, void *ctx)
{
	struct ids *x = ctx;

	if (x->n < 16) {
		x->id[x->n] = e->request_id;
		snprintf(x->text[x->n], sizeof(x->text[0]), "%s", e->step);
	}
	x->n++;
	return 0;
}

static int svc_names(const struct store_service *v, void *ctx)
{
	struct ids *x = ctx;

	if (x->n < 16) {
		x->id[x->n] = v->version;
		snprintf(x->text[x->n], sizeof(x->text[0]), "%s", v->name);
	}
	x->n++;
	return 0;
}

static void test_share_commit(void **state)
{
	struct gv_store *st = *state;
	static struct store_share_request r1, r2, r3, got, was;
	static struct store_share_event ev;
	static struct store_grant g, g3, gg;
	static struct store_service v, v2, v3, gv;
	int64_t ds = batch_dataset(st, "shared"), ds2 = batch_dataset(st, "shared_other");
	struct ids x = {0};
	int n = 0;

	/* A new request with its event, grant and service, in one step. */
	make_request(&r1, ds, "Health");
	make_event(&ev, "created", 100);
	make_grant(&g, ds, "Health");
	make_service(&v, "pop_by_age", ds, "Health");
	assert_int_equal(st->ops->share_commit(st, &r1, NULL, &ev, &g, &v), GV_OK);
	assert_true(r1.id > 0);
	assert_true(g.id > 0);
	assert_true(v.id > 0);
	assert_int_equal(v.version, 1);
	assert_int_equal(r1.grant_id, g.id);
	assert_int_equal(r1.service_id, v.id);
	assert_int_equal(ev.request_id, r1.id);
	/* Made in the same step, the service learns the new request's and grant's ids. */
	assert_int_equal(v.request_id, r1.id);
	assert_int_equal(v.grant_id, g.id);
	assert_int_equal(st->ops->share_request_get(st, r1.id, &got), GV_OK);
	assert_memory_equal(&got, &r1, sizeof(got));
	assert_int_equal(st->ops->grant_get(st, g.id, &gg), GV_OK);
	assert_string_equal(gg.subject, "Health");
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 0, &gv), GV_OK);
	assert_memory_equal(&gv, &v, sizeof(gv));

	/* The same name, dataset and department: the next version. */
	make_request(&r2, ds, "Health");
	make_event(&ev, "created", 200);
	make_service(&v2, "pop_by_age", ds, "Health");
	v2.max_rows = 7;
	assert_int_equal(st->ops->share_commit(st, &r2, NULL, &ev, NULL, &v2), GV_OK);
	assert_int_equal(v2.version, 2);
	assert_int_equal(r2.service_id, v2.id);
	assert_int_equal(r2.grant_id, 0);
	assert_int_equal(v2.grant_id, 0);
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 0, &gv), GV_OK);
	assert_int_equal(gv.version, 2);
	assert_int_equal(gv.max_rows, 7);
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 1, &gv), GV_OK);
	assert_int_equal(gv.id, v.id);
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 3, &gv), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->service_get(st, "nothing", 0, &gv), GV_ERR_NOT_FOUND);

	/* The name taken by another department, or another dataset: nothing of the step is
	 * left, and the caller's ids are as they were. */
	make_request(&r3, ds, "Finance");
	make_event(&ev, "approved", 300);
	ev.request_id = 77;
	make_grant(&g3, ds, "Finance");
	make_service(&v3, "pop_by_age", ds, "Finance");
	v3.version = 9;
	assert_int_equal(st->ops->share_commit(st, &r3, NULL, &ev, &g3, &v3), GV_ERR_EXISTS);
	assert_int_equal(r3.id, 0);
	assert_int_equal(r3.grant_id, 0);
	assert_int_equal(r3.service_id, 0);
	assert_int_equal(g3.id, 0);
	assert_int_equal(v3.id, 0);
	assert_int_equal(v3.version, 9);
	assert_int_equal(v3.grant_id, 0);
	assert_int_equal(v3.request_id, 0);
	assert_int_equal(ev.request_id, 77);
	make_service(&v3, "pop_by_age", ds2, "Health");
	assert_int_equal(st->ops->share_commit(st, &r3, NULL, &ev, &g3, &v3), GV_ERR_EXISTS);
	assert_int_equal(r3.id, 0);
	assert_int_equal(g3.id, 0);
	assert_int_equal(st->ops->grant_list(st, ds, grant_count, &n), GV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st->ops->share_request_list(st, req_ids, &x), GV_OK);
	assert_int_equal(x.n, 2);
	/* ... and a retry with a free name goes through. */
	make_service(&v3, "pop_finance", ds, "Finance");
	assert_int_equal(st->ops->share_commit(st, &r3, NULL, &ev, &g3, &v3), GV_OK);
	assert_true(r3.id > r2.id);
	assert_int_equal(v3.version, 1);

	/* Updates: the request, its grant and its service in one step. */
	was = r1;
	r1.state = SHARE_APPROVED;
	snprintf(r1.owner_by, sizeof(r1.owner_by), "olga");
	r1.owner_at = 400;
	g.max_rows_day = 1000;
	v.state = SERVICE_REVOKED;
	snprintf(v.revoked_by, sizeof(v.revoked_by), "sam");
	make_event(&ev, "approved", 400);
	assert_int_equal(st->ops->share_commit(st, &r1, &was, &ev, &g, &v), GV_OK);
	assert_int_equal(v.version, 1);
	assert_int_equal(st->ops->share_request_get(st, r1.id, &got), GV_OK);
	assert_int_equal(got.state, SHARE_APPROVED);
	assert_string_equal(got.owner_by, "olga");
	assert_int_equal(got.grant_id, g.id);
	assert_int_equal(st->ops->grant_get(st, g.id, &gg), GV_OK);
	assert_int_equal(gg.max_rows_day, 1000);
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 1, &gv), GV_OK);
	assert_int_equal(gv.state, SERVICE_REVOKED);
	assert_string_equal(gv.revoked_by, "sam");
	/* A second step over the request as it was before the first (a race) is refused
	 * whole: its grant is not left behind. */
	got = r1;
	got.state = SHARE_REJECTED;
	make_grant(&g3, ds, "Racer");
	assert_int_equal(st->ops->share_commit(st, &got, &was, NULL, &g3, NULL), GV_ERR_STATE);
	assert_int_equal(g3.id, 0);
	assert_int_equal(st->ops->share_request_get(st, r1.id, &was), GV_OK);
	assert_int_equal(was.state, SHARE_APPROVED);
	/* An update of a request that is not there undoes the rest of the step. */
	got = r1;
	got.id = 99999;
	make_grant(&g3, ds, "Nobody");
	assert_int_equal(st->ops->share_commit(st, &got, &r1, NULL, &g3, NULL), GV_ERR_STATE);
	assert_int_equal(got.id, 99999);
	assert_int_equal(g3.id, 0);
	assert_int_equal(got.grant_id, g.id);
	n = 0;
	assert_int_equal(st->ops->grant_list(st, ds, grant_count, &n), GV_OK);
	assert_int_equal(n, 2);
	/* service_update on its own. */
	v2.rate_per_minute = 5;
	assert_int_equal(st->ops->service_update(st, &v2), GV_OK);
	assert_int_equal(st->ops->service_get(st, "pop_by_age", 2, &gv), GV_OK);
	assert_int_equal(gv.rate_per_minute, 5);
	gv.id = 99999;
	assert_int_equal(st->ops->service_update(st, &gv), GV_ERR_NOT_FOUND);
	assert_int_equal(st->ops->share_request_get(st, 99999, &got), GV_ERR_NOT_FOUND);

	/* Lists: requests newest first, events oldest first, services by name, version. */
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->share_request_list(st, req_ids, &x), GV_OK);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.id[0], r3.id);
	assert_int_equal(x.id[1], r2.id);
	assert_int_equal(x.id[2], r1.id);
	memset(&x, 0, sizeof(x));
	assert_int_equal(st->ops->share_event_list(st, r1.id, event_steps, &x), GV_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.text[0], "created");
	assert_string_equal(x.text[1], "approved");
	assert_int_equal(x.id[1], r1.id);
	memset(&x, 0, sizeof(x));
	make_request(&r2, ds, "Health");
	make_service(&v, "alpha", ds, "");
	v.open = 1;
	assert_int_equal(st->ops->share_commit(st, &r2, NULL, NULL, NULL, &v), GV_OK);
	assert_int_equal(st->ops->service_list(st, svc_names, &x), GV_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.text[0], "alpha");
	assert_string_equal(x.text[1], "pop_by_age");
	assert_int_equal(x.id[1], 1);
	assert_string_equal(x.text[2], "pop_by_age");
	assert_int_equal(x.id[2], 2);
	assert_string_equal(x.text[3], "pop_finance");
}

static void test_share_depts(void **state)
{
	struct gv_store *st = *state;
	int64_t ds = batch_dataset(st, "dept_shared");
	char out[64], tiny[8], long_name[200];

	memset(out, 'x', sizeof(out));
	assert_int_equal(st->ops->share_depts_get(st, ds, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "");
	assert_int_equal(st->ops->share_depts_put(st, ds, " Health , Finance,,Health"), GV_OK);
	assert_int_equal(st->ops->share_depts_get(st, ds, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "Finance,Health");
	/* Exactly fits ("Finance,Health" + NUL = 15), one byte less does not: never cut. */
	assert_int_equal(st->ops->share_depts_get(st, ds, out, 15), GV_OK);
	assert_int_equal(st->ops->share_depts_get(st, ds, out, 14), GV_ERR_TOO_LARGE);
	assert_string_equal(out, "");
	assert_int_equal(st->ops->share_depts_get(st, ds, tiny, sizeof(tiny)), GV_ERR_TOO_LARGE);
	assert_string_equal(tiny, "");
	/* A refused list leaves the old one. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(st->ops->share_depts_put(st, ds, long_name), GV_ERR_INVALID);
	assert_int_equal(st->ops->share_depts_get(st, ds, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "Finance,Health");
	assert_int_equal(st->ops->share_depts_put(st, ds, "Tax"), GV_OK);
	assert_int_equal(st->ops->share_depts_get(st, ds, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "Tax");
	assert_int_equal(st->ops->share_depts_put(st, ds, ""), GV_OK);
	assert_int_equal(st->ops->share_depts_get(st, ds, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "");
}

static void make_consumer(struct store_consumer *c, const char *client_id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->client_id, sizeof(c->client_id), "%s", client_id);
	snprintf(c->name, sizeof(c->name), "app %s", client_id);
	snprintf(c->department, sizeof(c->department), "Health");
	snprintf(c->secret_hash, sizeof(c->secret_hash), "%064d", 0);
	snprintf(c->ip_allowlist, sizeof(c->ip_allowlist), "10.0.0.0/8");
	snprintf(c->services, sizeof(c->services), "pop_by_age");
	c->state = CONSUMER_ACTIVE;
	c->created_at = c->updated_at = 100;
}

static int consumer_ids(const struct store_consumer *c, void *ctx)
{
	struct ids *x = ctx;

	if (x->n < 16) {
		x->id[x->n] = c->id;
		snprintf(x->text[x->n], sizeof(x->text[0]), "%s", c->client_id);
	}
	x->n++;
	return 0;
}

static void test_consumers(void **state)
{
	struct gv_store *st = *state;
	struct store_consumer c1, c2, got;
	struct ids x = {0};

	make_consumer(&c1, "gvc_00000000000000a1");
	assert_int_equal(st->ops->consumer_insert(st, &c1), GV_OK);
	assert_true(c1.id > 0);
	make_consumer(&c2, "gvc_00000000000000a1");
	assert_int_equal(st->ops->consumer_insert(st, &c2), GV_ERR_EXISTS);
	assert_int_equal(c2.id, 0);
	make_consumer(&c2, "gvc_00000000000000a0");
	assert_int_equal(st->ops->consumer_insert(st, &c2), GV_OK);
	assert_true(c2.id > c1.id);
	assert_int_equal(st->ops->consumer_get(st, "gvc_00000000000000a1", &got), GV_OK);
	assert_memory_equal(&got, &c1, sizeof(got));
	assert_int_equal(st->ops->consumer_get(st, "gvc_ffffffffffffffff", &got), GV_ERR_NOT_FOUND);
	c1.state = CONSUMER_REVOKED;
	snprintf(c1.revoked_by, sizeof(c1.revoked_by), "sam");
	snprintf(c1.cert_fp, sizeof(c1.cert_fp), "%064d", 1);
	c1.updated_at = 200;
	assert_int_equal(st->ops->consumer_update(st, &c1), GV_OK);
	assert_int_equal(st->ops->consumer_get(st, "gvc_00000000000000a1", &got), GV_OK);
	assert_int_equal(got.state, CONSUMER_REVOKED);
	assert_string_equal(got.revoked_by, "sam");
	assert_string_equal(got.cert_fp, c1.cert_fp);
	assert_int_equal(got.updated_at, 200);
	got.id = 99999;
	assert_int_equal(st->ops->consumer_update(st, &got), GV_ERR_NOT_FOUND);
	/* Taking another consumer's client id by update is refused too. */
	got = c2;
	snprintf(got.client_id, sizeof(got.client_id), "%s", c1.client_id);
	assert_int_equal(st->ops->consumer_update(st, &got), GV_ERR_EXISTS);
	/* By id, not by client id. */
	assert_int_equal(st->ops->consumer_list(st, consumer_ids, &x), GV_OK);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.id[0], c1.id);
	assert_string_equal(x.text[1], "gvc_00000000000000a0");
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

/* A database of schema 7 (written before sharing, raw-row blocks and the versioned
 * blind index existed, with tokens of 64 hex digits) takes migrations 8 to 11 when it
 * is opened, keeping its data
 * and the index entries of its committed records.  Made by taking the later tables
 * and columns out of this store's database with SQLite itself (SQL in the tests, like
 * sql_count, only where they are about the SQLite backend's own tables). */
static void test_migrate_from_v7(void **state)
{
	static const char *const drop =
		"BEGIN; DROP TABLE share_events; DROP TABLE share_depts; DROP TABLE consumers;"
		" DROP TABLE services; DROP TABLE share_requests; DROP TABLE raw_blocks;"
		" DROP INDEX raw_rows_key; ALTER TABLE raw_rows DROP COLUMN block_row;"
		" CREATE INDEX raw_rows_key ON raw_rows(key_version);"
		" CREATE TABLE bi7 (dataset_id INTEGER NOT NULL, field TEXT NOT NULL, token TEXT NOT NULL,"
		" record_id TEXT NOT NULL, PRIMARY KEY (dataset_id, field, token, record_id)) WITHOUT ROWID;"
		" INSERT INTO bi7 SELECT dataset_id, field, token, record_id FROM blind_index;"
		/* tokens of 64 hex digits, as before schema 11 */
		" INSERT INTO bi7 SELECT dataset_id, field, 'ab' || substr(hex(zeroblob(31)), 1, 62),"
		" record_id FROM blind_index WHERE token = 'tok-a';"
		" DROP TABLE blind_index; ALTER TABLE bi7 RENAME TO blind_index;"
		" CREATE INDEX blind_index_record ON blind_index(dataset_id, record_id);"
		" CREATE INDEX records_batch ON records(batch_id) WHERE batch_id IS NOT NULL;"
		" ALTER TABLE batches DROP COLUMN indexed;"
		" PRAGMA user_version = 7; COMMIT;";
	struct gv_store *st2;
	struct store_dataset d;
	struct store_consumer c;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char out[32];
	int version = 0, n = 0;

	(void)state;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, drop, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_sqlite_open(path, &st2), GV_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_true(version >= 10);
	assert_int_equal(st2->ops->dataset_get(st2, "imports", &d), GV_OK);
	assert_int_equal(st2->ops->record_find(st2, d.id, "f", "tok-a", 10, rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	/* Schema 11 cut the long tokens to their first 32 digits, under which they are found. */
	n = 0;
	assert_int_equal(st2->ops->record_find(st2, d.id, "f", "ab000000000000000000000000000000", 10,
					       rec_count_cb, &n), GV_OK);
	assert_int_equal(n, 2);
	assert_int_equal(sql_count("SELECT count(*) FROM blind_index WHERE length(token) = 64"), 0);
	assert_int_equal(st2->ops->dataset_get(st2, "shared", &d), GV_OK);
	assert_int_equal(st2->ops->share_depts_put(st2, d.id, "Health"), GV_OK);
	assert_int_equal(st2->ops->share_depts_get(st2, d.id, out, sizeof(out)), GV_OK);
	assert_string_equal(out, "Health");
	make_consumer(&c, "gvc_00000000000000a1");
	assert_int_equal(st2->ops->consumer_insert(st2, &c), GV_OK);
	store_close(st2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_history_and_recovery),
		cmocka_unit_test(test_sessions_roles),
		cmocka_unit_test(test_cached_rows_follow_writes),
		cmocka_unit_test(test_cached_rows_expire),
		cmocka_unit_test(test_datasets),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_raw_blocks),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_keys_meta_lineage),
		cmocka_unit_test(test_share_commit),
		cmocka_unit_test(test_share_depts),
		cmocka_unit_test(test_consumers),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_migrate_from_v7),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

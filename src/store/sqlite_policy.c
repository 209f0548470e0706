/* sqlite_policy.c - the SQLite tables of access policy: grants, their daily use, and
 * masking profiles.  Same connection, lock and helpers as sqlite.c (sqlite_int.h). */
#include "store/sqlite_int.h"

#include <stdlib.h>

enum policy_stmt {
	QP_GRANT_INSERT, QP_GRANT_UPDATE, QP_GRANT_GET, QP_GRANT_LIST, QP_GRANT_LIST_ALL,
	QP_USE_GET, QP_USE_ADD,
	QP_PROFILE_LAST, QP_PROFILE_PUT, QP_PROFILE_GET, QP_PROFILE_LATEST, QP_PROFILE_LIST,
	QP__COUNT
};

_Static_assert(QP__COUNT <= SQLITE_POLICY_STMTS, "SQLITE_POLICY_STMTS is too small");

#define GRANT_COLS \
	"id, dataset_id, subject_type, subject, actions, fields, row_field, row_value, " \
	"row_subject, purposes, valid_from, valid_until, time_windows, ip_ranges, " \
	"max_rows_request, max_rows_day, mask_profile, reason, state, created_by, approved_by, " \
	"revoked_by, created_at, approved_at, revoked_at"

#define PROFILE_COLS "name, version, json, created_by, created_at"

static const char *const policy_sql[QP__COUNT] = {
	[QP_GRANT_INSERT] =
		"INSERT INTO grants (dataset_id, subject_type, subject, actions, fields, row_field, "
		"row_value, row_subject, purposes, valid_from, valid_until, time_windows, ip_ranges, "
		"max_rows_request, max_rows_day, mask_profile, reason, state, created_by, approved_by, "
		"revoked_by, created_at, approved_at, revoked_at) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,"
		"?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25)",
	[QP_GRANT_UPDATE] =
		"UPDATE grants SET dataset_id=?2, subject_type=?3, subject=?4, actions=?5, fields=?6, "
		"row_field=?7, row_value=?8, row_subject=?9, purposes=?10, valid_from=?11, "
		"valid_until=?12, time_windows=?13, ip_ranges=?14, max_rows_request=?15, "
		"max_rows_day=?16, mask_profile=?17, reason=?18, state=?19, created_by=?20, "
		"approved_by=?21, revoked_by=?22, created_at=?23, approved_at=?24, revoked_at=?25 "
		"WHERE id=?1",
	[QP_GRANT_GET] = "SELECT " GRANT_COLS " FROM grants WHERE id = ?1",
	[QP_GRANT_LIST] = "SELECT " GRANT_COLS " FROM grants WHERE dataset_id = ?1 ORDER BY id",
	[QP_GRANT_LIST_ALL] = "SELECT " GRANT_COLS " FROM grants ORDER BY id",
	[QP_USE_GET] = "SELECT rows FROM grant_use WHERE grant_id = ?1 AND day = ?2",
	[QP_USE_ADD] = "INSERT INTO grant_use (grant_id, day, rows) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT(grant_id, day) DO UPDATE SET rows = rows + excluded.rows",
	[QP_PROFILE_LAST] = "SELECT max(version) FROM mask_profiles WHERE name = ?1",
	[QP_PROFILE_PUT] = "INSERT INTO mask_profiles (" PROFILE_COLS ") VALUES (?1,?2,?3,?4,?5)",
	[QP_PROFILE_GET] = "SELECT " PROFILE_COLS " FROM mask_profiles WHERE name = ?1 AND version = ?2",
	[QP_PROFILE_LATEST] = "SELECT " PROFILE_COLS " FROM mask_profiles WHERE name = ?1 "
			      "ORDER BY version DESC LIMIT 1",
	[QP_PROFILE_LIST] = "SELECT " PROFILE_COLS " FROM mask_profiles p WHERE version = "
			    "(SELECT max(version) FROM mask_profiles q WHERE q.name = p.name) ORDER BY name",
};

static sqlite3_stmt *policy_stmt(struct sqlite_store *s, enum policy_stmt id)
{
	return stmt_cached(s, &s->policy_stmts[id], policy_sql[id]);
}

static void grant_bind(sqlite3_stmt *q, const struct store_grant *g, int with_id)
{
	if (with_id)
		sqlite3_bind_int64(q, 1, g->id);
	sqlite3_bind_int64(q, 2, g->dataset_id);
	sqlite3_bind_int(q, 3, g->subject_type);
	bind_text(q, 4, g->subject);
	sqlite3_bind_int64(q, 5, g->actions);
	bind_text(q, 6, g->fields);
	bind_text(q, 7, g->row_field);
	bind_text(q, 8, g->row_value);
	sqlite3_bind_int(q, 9, g->row_subject);
	bind_text(q, 10, g->purposes);
	sqlite3_bind_int64(q, 11, g->valid_from);
	sqlite3_bind_int64(q, 12, g->valid_until);
	bind_text(q, 13, g->time_windows);
	bind_text(q, 14, g->ip_ranges);
	sqlite3_bind_int64(q, 15, g->max_rows_request);
	sqlite3_bind_int64(q, 16, g->max_rows_day);
	bind_text(q, 17, g->mask_profile);
	bind_text(q, 18, g->reason);
	sqlite3_bind_int(q, 19, g->state);
	bind_text(q, 20, g->created_by);
	bind_text(q, 21, g->approved_by);
	bind_text(q, 22, g->revoked_by);
	sqlite3_bind_int64(q, 23, g->created_at);
	sqlite3_bind_int64(q, 24, g->approved_at);
	sqlite3_bind_int64(q, 25, g->revoked_at);
}

static void grant_read(sqlite3_stmt *q, struct store_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->id = sqlite3_column_int64(q, 0);
	g->dataset_id = sqlite3_column_int64(q, 1);
	g->subject_type = sqlite3_column_int(q, 2);
	col_text(q, 3, g->subject, sizeof(g->subject));
	g->actions = (unsigned)sqlite3_column_int64(q, 4);
	col_text(q, 5, g->fields, sizeof(g->fields));
	col_text(q, 6, g->row_field, sizeof(g->row_field));
	col_text(q, 7, g->row_value, sizeof(g->row_value));
	g->row_subject = sqlite3_column_int(q, 8);
	col_text(q, 9, g->purposes, sizeof(g->purposes));
	g->valid_from = sqlite3_column_int64(q, 10);
	g->valid_until = sqlite3_column_int64(q, 11);
	col_text(q, 12, g->time_windows, sizeof(g->time_windows));
	col_text(q, 13, g->ip_ranges, sizeof(g->ip_ranges));
	g->max_rows_request = sqlite3_column_int64(q, 14);
	g->max_rows_day = sqlite3_column_int64(q, 15);
	col_text(q, 16, g->mask_profile, sizeof(g->mask_profile));
	col_text(q, 17, g->reason, sizeof(g->reason));
	g->state = sqlite3_column_int(q, 18);
	col_text(q, 19, g->created_by, sizeof(g->created_by));
	col_text(q, 20, g->approved_by, sizeof(g->approved_by));
	col_text(q, 21, g->revoked_by, sizeof(g->revoked_by));
	g->created_at = sqlite3_column_int64(q, 22);
	g->approved_at = sqlite3_column_int64(q, 23);
	g->revoked_at = sqlite3_column_int64(q, 24);
}

gv_err sqp_grant_insert_locked(struct sqlite_store *s, struct store_grant *g)
{
	sqlite3_stmt *q = policy_stmt(s, QP_GRANT_INSERT);
	gv_err err;

	if (!q)
		return GV_ERR_STORE;
	grant_bind(q, g, 0);
	err = exec_simple(s, q);
	if (err == GV_OK)
		g->id = sqlite3_last_insert_rowid(s->db);
	return err;
}

gv_err sqp_grant_update_locked(struct sqlite_store *s, const struct store_grant *g)
{
	sqlite3_stmt *q = policy_stmt(s, QP_GRANT_UPDATE);
	gv_err err;

	if (!q)
		return GV_ERR_STORE;
	grant_bind(q, g, 1);
	err = exec_simple(s, q);
	if (err == GV_OK && sqlite3_changes(s->db) == 0)
		err = GV_ERR_NOT_FOUND;
	return err;
}

gv_err sqp_grant_insert(struct gv_store *st, struct store_grant *g)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqp_grant_insert_locked(s, g);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqp_grant_update(struct gv_store *st, const struct store_grant *g)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqp_grant_update_locked(s, g);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqp_grant_get(struct gv_store *st, int64_t id, struct store_grant *out)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = policy_stmt(s, QP_GRANT_GET);
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, id);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			grant_read(q, out);
			err = GV_OK;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

struct grant_cb {
	store_grant_cb cb;
	void *ctx;
	struct store_grant *g;
};

static int grant_row(sqlite3_stmt *q, void *arg)
{
	struct grant_cb *c = arg;

	grant_read(q, c->g);
	return c->cb(c->g, c->ctx);
}

gv_err sqp_grant_list(struct gv_store *st, int64_t dataset_id, store_grant_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct grant_cb c = {cb, ctx, malloc(sizeof(struct store_grant))};
	gv_err err = GV_ERR_NOMEM;

	if (c.g && dataset_id)
		err = sq_rows(s, &s->policy_stmts[QP_GRANT_LIST], policy_sql[QP_GRANT_LIST], grant_row,
			      &c, NULL, "I", dataset_id);
	else if (c.g)
		err = sq_rows(s, &s->policy_stmts[QP_GRANT_LIST_ALL], policy_sql[QP_GRANT_LIST_ALL],
			      grant_row, &c, NULL, "");
	free(c.g);
	return err;
}

gv_err sqp_grant_use(struct gv_store *st, int64_t grant_id, int64_t day, int64_t rows, int64_t max,
		     int64_t *used)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	*used = 0;
	pthread_mutex_lock(&s->lock);
	/* Under the store lock the read and the add cannot interleave with another's. */
	q = policy_stmt(s, QP_USE_GET);
	err = GV_ERR_STORE;
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, grant_id);
		sqlite3_bind_int64(q, 2, day);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			*used = sqlite3_column_int64(q, 0);
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	if (err == GV_OK && max && *used + rows > max)
		err = GV_ERR_LIMIT;
	if (err == GV_OK && rows) {
		q = policy_stmt(s, QP_USE_ADD);
		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, grant_id);
			sqlite3_bind_int64(q, 2, day);
			sqlite3_bind_int64(q, 3, rows);
			err = exec_simple(s, q);
		}
		if (err == GV_OK)
			*used += rows;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqp_profile_put(struct gv_store *st, const char *name, const char *json, const char *by,
		       int64_t at, int *version)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	*version = 0;
	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err != GV_OK)
		goto out;
	q = policy_stmt(s, QP_PROFILE_LAST);
	err = GV_ERR_STORE;
	if (q) {
		bind_text(q, 1, name);
		if (sqlite3_step(q) == SQLITE_ROW) {
			*version = sqlite3_column_int(q, 0) + 1;
			err = GV_OK;
		}
		stmt_done(q);
	}
	if (err == GV_OK) {
		q = policy_stmt(s, QP_PROFILE_PUT);
		err = GV_ERR_STORE;
		if (q) {
			bind_text(q, 1, name);
			sqlite3_bind_int(q, 2, *version);
			bind_text(q, 3, json);
			bind_text(q, 4, by);
			sqlite3_bind_int64(q, 5, at);
			err = exec_simple(s, q);
		}
	}
	if (err == GV_OK)
		err = sqd_commit(s);
	else
		sqd_rollback(s);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

struct profile_cb {
	store_profile_cb cb;
	void *ctx;
};

static int profile_row(sqlite3_stmt *q, void *arg)
{
	struct profile_cb *c = arg;

	return c->cb((const char *)sqlite3_column_text(q, 0), sqlite3_column_int(q, 1),
		     (const char *)sqlite3_column_text(q, 2), (const char *)sqlite3_column_text(q, 3),
		     sqlite3_column_int64(q, 4), c->ctx);
}

gv_err sqp_profile_get(struct gv_store *st, const char *name, int version, store_profile_cb cb,
		       void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct profile_cb c = {cb, ctx};
	int found = 0;
	gv_err err = version
		? sq_rows(s, &s->policy_stmts[QP_PROFILE_GET], policy_sql[QP_PROFILE_GET], profile_row,
			  &c, &found, "si", name, version)
		: sq_rows(s, &s->policy_stmts[QP_PROFILE_LATEST], policy_sql[QP_PROFILE_LATEST],
			  profile_row, &c, &found, "s", name);

	return err == GV_OK && !found ? GV_ERR_NOT_FOUND : err;
}

gv_err sqp_profile_list(struct gv_store *st, store_profile_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);

	return sq_rows(s, &s->policy_stmts[QP_PROFILE_LIST], policy_sql[QP_PROFILE_LIST], profile_row,
		       &(struct profile_cb){cb, ctx}, NULL, "");
}

void sqp_finalize(struct sqlite_store *s)
{
	for (int i = 0; i < QP__COUNT; i++)
		sqlite3_finalize(s->policy_stmts[i]);
}

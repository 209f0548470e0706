/* sqlite_data.c - the SQLite tables of the data catalog.  Same connection, lock and
 * helpers as sqlite.c (sqlite_int.h); its own prepared statements. */
#include "store/sqlite_int.h"

#include <stdlib.h>

enum data_stmt {
	QD_DATASET_INSERT, QD_DATASET_GET, QD_DATASET_GET_ID, QD_DATASET_UPDATE, QD_DATASET_LIST,
	QD_BEGIN, QD_COMMIT, QD_ROLLBACK,
	QD_KEY_PUT, QD_KEY_GET,
	QD_REC_LAST, QD_REC_UNSET_CURRENT, QD_REC_INSERT, QD_REC_GET_CURRENT, QD_REC_GET_VERSION,
	QD_REC_HISTORY, QD_REC_FIND, QD_REC_INSERT_MANY,
	QD_KEY_LATEST, QD_KEY_LIST, QD_KEY_REPLACE, QD_KEY_DELETE, QD_KEY_USE_REC, QD_KEY_USE_RAW,
	QD_REC_SCAN, QD_IDX_EXISTS, QD_REC_STALE, QD_REC_REKEY,
	QD__COUNT
};

_Static_assert(QD__COUNT <= SQLITE_DATA_STMTS, "SQLITE_DATA_STMTS is too small");

#define DATASET_COLS \
	"id, name, title, department, owner, category, description, legal_basis, " \
	"retention_days, expected_rows, schema, grade, grade_suggested, grade_reason, " \
	"grade_confirmed, confirmed_by, pending_grade, pending_by, pending_reason, created_by, " \
	"created_at, updated_at, quality_rules"

#define RECORD_COLS \
	"r.dataset_id, r.record_id, r.version, r.key_version, r.body, r.created_by, r.created_at, " \
	"r.batch_id, r.raw_row"

/* Records of an import batch stay invisible until the batch is committed. */
#define VISIBLE \
	" AND (r.batch_id IS NULL OR EXISTS (SELECT 1 FROM batches b WHERE b.id = r.batch_id " \
	"AND b.state = 1))"

/* A record row of an insert: 9 parameters (rec_bind), current = 1. */
#define REC_ROW "(?,?,?,?,?,?,?,1,?,?)"
#define REC_ROWS_4 REC_ROW "," REC_ROW "," REC_ROW "," REC_ROW
#define REC_MANY 16

static const char *const data_sql[QD__COUNT] = {
	[QD_DATASET_INSERT] =
		"INSERT INTO datasets (name, title, department, owner, category, description, "
		"legal_basis, retention_days, expected_rows, schema, grade, grade_suggested, "
		"grade_reason, grade_confirmed, confirmed_by, pending_grade, pending_by, "
		"pending_reason, created_by, created_at, updated_at, quality_rules) VALUES (?2,?3,?4,"
		"?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23)",
	[QD_DATASET_GET] = "SELECT " DATASET_COLS " FROM datasets WHERE name = ?1",
	[QD_DATASET_GET_ID] = "SELECT " DATASET_COLS " FROM datasets WHERE id = ?1",
	[QD_DATASET_UPDATE] =
		"UPDATE datasets SET name=?2, title=?3, department=?4, owner=?5, category=?6, "
		"description=?7, legal_basis=?8, retention_days=?9, expected_rows=?10, schema=?11, "
		"grade=?12, grade_suggested=?13, grade_reason=?14, grade_confirmed=?15, "
		"confirmed_by=?16, pending_grade=?17, pending_by=?18, pending_reason=?19, "
		"created_by=?20, created_at=?21, updated_at=?22, quality_rules=?23 WHERE id=?1",
	[QD_DATASET_LIST] = "SELECT " DATASET_COLS " FROM datasets ORDER BY name",
	[QD_BEGIN] = "BEGIN IMMEDIATE",
	[QD_COMMIT] = "COMMIT",
	[QD_ROLLBACK] = "ROLLBACK",
	[QD_KEY_PUT] = "INSERT INTO data_keys (dataset_id, kind, version, wrapped) VALUES (?1,?2,?3,?4)",
	[QD_KEY_GET] = "SELECT wrapped FROM data_keys WHERE dataset_id = ?1 AND kind = ?2 AND version = ?3",
	[QD_REC_LAST] = "SELECT max(r.version) FROM records r WHERE r.dataset_id = ?1 AND "
			"r.record_id = ?2" VISIBLE,
	[QD_REC_UNSET_CURRENT] = "UPDATE records SET current = 0 WHERE dataset_id = ?1 AND "
				 "record_id = ?2 AND current = 1",
	[QD_REC_INSERT] = "INSERT INTO records (dataset_id, record_id, version, key_version, body, "
			  "created_by, created_at, current, batch_id, raw_row) VALUES " REC_ROW,
	/* REC_MANY new records a statement (an import's): fewer statements to run. */
	[QD_REC_INSERT_MANY] = "INSERT INTO records (dataset_id, record_id, version, key_version, "
			       "body, created_by, created_at, current, batch_id, raw_row) VALUES "
			       REC_ROWS_4 "," REC_ROWS_4 "," REC_ROWS_4 "," REC_ROWS_4,
	[QD_REC_GET_CURRENT] = "SELECT " RECORD_COLS " FROM records r WHERE r.dataset_id = ?1 AND "
			       "r.record_id = ?2 AND r.current = 1" VISIBLE,
	[QD_REC_GET_VERSION] = "SELECT " RECORD_COLS " FROM records r WHERE r.dataset_id = ?1 AND "
			       "r.record_id = ?2 AND r.version = ?3" VISIBLE,
	[QD_REC_HISTORY] = "SELECT " RECORD_COLS " FROM records r WHERE r.dataset_id = ?1 AND "
			   "r.record_id = ?2" VISIBLE " ORDER BY r.version",
	/* An index entry holds for the version it was made for (sqb_index_insert): the
	 * join skips the entries of versions that are no longer current. */
	[QD_REC_FIND] = "SELECT " RECORD_COLS " FROM blind_index i CROSS JOIN records r ON "
			"r.dataset_id = i.dataset_id AND r.record_id = i.record_id AND "
			"r.version = i.version AND r.current = 1 "
			"WHERE i.dataset_id = ?1 AND i.field = ?2 AND i.token = ?3" VISIBLE
			" ORDER BY i.record_id LIMIT ?4",   /* CROSS JOIN: drive from the index */
	[QD_KEY_LATEST] = "SELECT max(version) FROM data_keys WHERE dataset_id = ?1 AND kind = ?2",
	[QD_KEY_LIST] = "SELECT dataset_id, kind, version, wrapped FROM data_keys "
			"ORDER BY dataset_id, kind, version",
	[QD_KEY_REPLACE] = "UPDATE data_keys SET wrapped = ?4 WHERE dataset_id = ?1 AND kind = ?2 "
			   "AND version = ?3",
	[QD_KEY_DELETE] = "DELETE FROM data_keys WHERE dataset_id = ?1 AND kind = 0 AND version = ?2",
	[QD_KEY_USE_REC] = "SELECT count(*) FROM records WHERE dataset_id = ?1 AND key_version = ?2",
	/* Rows sealed alone, and rows of blocks; a block counts at least once whatever
	 * its (unauthenticated) row count says, so that its key is never retired. */
	[QD_KEY_USE_RAW] = "SELECT (SELECT count(*) FROM raw_rows w JOIN batches b ON "
			   "b.id = w.batch_id WHERE b.dataset_id = ?1 AND w.block_row = 0 AND "
			   "w.key_version = ?2) + (SELECT coalesce(sum(max(k.rows, 1)), 0) FROM raw_blocks k "
			   "JOIN batches b ON b.id = k.batch_id WHERE b.dataset_id = ?1 AND "
			   "k.key_version = ?2)",
	[QD_REC_SCAN] = "SELECT " RECORD_COLS " FROM records r WHERE r.dataset_id = ?1 AND "
			"r.current = 1 AND r.record_id > ?2" VISIBLE " ORDER BY r.record_id LIMIT ?3",
	[QD_IDX_EXISTS] = "SELECT 1 FROM blind_index i CROSS JOIN records r ON "
			  "r.dataset_id = i.dataset_id AND r.record_id = i.record_id AND "
			  "r.version = i.version AND r.current = 1 "
			  "WHERE i.dataset_id = ?1 AND i.field = ?2 AND i.token = ?3" VISIBLE " LIMIT 1",
	/* Rotation re-seals every stored version, visible or not: a loading batch's rows
	 * are sealed too. */
	[QD_REC_STALE] = "SELECT " RECORD_COLS " FROM records r WHERE r.dataset_id = ?1 AND "
			 "r.key_version < ?2 LIMIT ?3",
	[QD_REC_REKEY] = "UPDATE records SET body = ?5, key_version = ?6 WHERE dataset_id = ?1 AND "
			 "record_id = ?2 AND version = ?3 AND key_version = ?4",
};

static sqlite3_stmt *data_stmt(struct sqlite_store *s, enum data_stmt id)
{
	return stmt_cached(s, &s->data_stmts[id], data_sql[id]);
}

/* Binds ?2..?22 (and ?1 = id for updates) in DATASET_COLS order. */
static void dataset_bind(sqlite3_stmt *q, const struct store_dataset *d, int with_id)
{
	if (with_id)
		sqlite3_bind_int64(q, 1, d->id);
	bind_text(q, 2, d->name);
	bind_text(q, 3, d->title);
	bind_text(q, 4, d->department);
	bind_text(q, 5, d->owner);
	bind_text(q, 6, d->category);
	bind_text(q, 7, d->description);
	bind_text(q, 8, d->legal_basis);
	sqlite3_bind_int(q, 9, d->retention_days);
	sqlite3_bind_int64(q, 10, d->expected_rows);
	bind_text(q, 11, d->schema);
	sqlite3_bind_int(q, 12, d->grade);
	sqlite3_bind_int(q, 13, d->grade_suggested);
	bind_text(q, 14, d->grade_reason);
	sqlite3_bind_int(q, 15, d->grade_confirmed);
	bind_text(q, 16, d->confirmed_by);
	sqlite3_bind_int(q, 17, d->pending_grade);
	bind_text(q, 18, d->pending_by);
	bind_text(q, 19, d->pending_reason);
	bind_text(q, 20, d->created_by);
	sqlite3_bind_int64(q, 21, d->created_at);
	sqlite3_bind_int64(q, 22, d->updated_at);
	bind_text(q, 23, d->quality_rules[0] ? d->quality_rules : "[]");
}

static void dataset_read(sqlite3_stmt *q, struct store_dataset *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(q, 0);
	col_text(q, 1, d->name, sizeof(d->name));
	col_text(q, 2, d->title, sizeof(d->title));
	col_text(q, 3, d->department, sizeof(d->department));
	col_text(q, 4, d->owner, sizeof(d->owner));
	col_text(q, 5, d->category, sizeof(d->category));
	col_text(q, 6, d->description, sizeof(d->description));
	col_text(q, 7, d->legal_basis, sizeof(d->legal_basis));
	d->retention_days = sqlite3_column_int(q, 8);
	d->expected_rows = sqlite3_column_int64(q, 9);
	col_text(q, 10, d->schema, sizeof(d->schema));
	d->grade = sqlite3_column_int(q, 11);
	d->grade_suggested = sqlite3_column_int(q, 12);
	col_text(q, 13, d->grade_reason, sizeof(d->grade_reason));
	d->grade_confirmed = sqlite3_column_int(q, 14);
	col_text(q, 15, d->confirmed_by, sizeof(d->confirmed_by));
	d->pending_grade = sqlite3_column_int(q, 16);
	col_text(q, 17, d->pending_by, sizeof(d->pending_by));
	col_text(q, 18, d->pending_reason, sizeof(d->pending_reason));
	col_text(q, 19, d->created_by, sizeof(d->created_by));
	d->created_at = sqlite3_column_int64(q, 20);
	d->updated_at = sqlite3_column_int64(q, 21);
	col_text(q, 22, d->quality_rules, sizeof(d->quality_rules));
}

uint64_t sqd_generation(struct gv_store *st)
{
	return __atomic_load_n(&impl(st)->generation, __ATOMIC_ACQUIRE);
}

/* Marks datasets or keys as changed; lock held. */
static void bump(struct sqlite_store *s)
{
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
}

gv_err sqd_dataset_insert(struct gv_store *st, struct store_dataset *d)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_DATASET_INSERT);
	if (q) {
		dataset_bind(q, d, 0);
		err = exec_simple(s, q);
		if (err == GV_OK)
			d->id = sqlite3_last_insert_rowid(s->db);
		bump(s);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* One dataset by name (name != NULL) or id; lock not held. */
static gv_err dataset_one(struct sqlite_store *s, const char *name, int64_t id,
			  struct store_dataset *out)
{
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, name ? QD_DATASET_GET : QD_DATASET_GET_ID);
	if (q) {
		int rc;

		if (name)
			bind_text(q, 1, name);
		else
			sqlite3_bind_int64(q, 1, id);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			dataset_read(q, out);
			err = GV_OK;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_dataset_get(struct gv_store *st, const char *name, struct store_dataset *out)
{
	return dataset_one(impl(st), name, 0, out);
}

gv_err sqd_dataset_get_id(struct gv_store *st, int64_t id, struct store_dataset *out)
{
	return dataset_one(impl(st), NULL, id, out);
}

gv_err sqd_dataset_update(struct gv_store *st, const struct store_dataset *d)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_DATASET_UPDATE);
	if (q) {
		dataset_bind(q, d, 1);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
		bump(s);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_dataset_list(struct gv_store *st, store_dataset_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct store_dataset *d = malloc(sizeof(*d));
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	if (!d)
		return GV_ERR_NOMEM;
	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_DATASET_LIST);
	if (q) {
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			dataset_read(q, d);
			if (cb(d, ctx))
				break;
		}
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	free(d);
	return err;
}

static gv_err dtx(struct sqlite_store *s, enum data_stmt id)
{
	sqlite3_stmt *q = data_stmt(s, id);

	return q ? exec_simple(s, q) : GV_ERR_STORE;
}

gv_err sqd_datakey_put(struct gv_store *st, int64_t dataset_id, int kind, int version,
		       const unsigned char *wrapped, size_t len)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_KEY_PUT);
	if (q) {
		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_int(q, 2, kind);
		sqlite3_bind_int(q, 3, version);
		bind_blob(q, 4, wrapped, len);
		err = exec_simple(s, q);
		bump(s);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_datakey_get(struct gv_store *st, int64_t dataset_id, int kind, int version,
		       unsigned char *out, size_t max, size_t *len)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*len = 0;
	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_KEY_GET);
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_int(q, 2, kind);
		sqlite3_bind_int(q, 3, version);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			col_blob(q, 0, out, max, len);
			err = *len ? GV_OK : GV_ERR_STORE;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Runs one of the record statements; caller holds the lock. */
static gv_err rec_exec(struct sqlite_store *s, enum data_stmt id, int64_t ds, const char *rid)
{
	sqlite3_stmt *q = data_stmt(s, id);

	if (!q)
		return GV_ERR_STORE;
	sqlite3_bind_int64(q, 1, ds);
	bind_text(q, 2, rid);
	return exec_simple(s, q);
}

gv_err sqd_begin(struct sqlite_store *s)
{
	return sq_durable(s) == GV_OK ? dtx(s, QD_BEGIN) : GV_ERR_STORE;
}

gv_err sqd_commit(struct sqlite_store *s)
{
	gv_err err = dtx(s, QD_COMMIT);

	if (err != GV_OK)
		(void)dtx(s, QD_ROLLBACK);
	return err;
}

void sqd_rollback(struct sqlite_store *s)
{
	(void)dtx(s, QD_ROLLBACK);
}

/* Binds record i of an array of pointers as the row of an insert whose parameters
 * start after at. */
static void rec_bind(sqlite3_stmt *q, int at, size_t i, const void *rows)
{
	const struct store_record *r = ((const struct store_record *const *)rows)[i];

	sqlite3_bind_int64(q, at + 1, r->dataset_id);
	bind_text_static(q, at + 2, r->record_id);
	sqlite3_bind_int64(q, at + 3, r->version);
	sqlite3_bind_int(q, at + 4, r->key_version);
	bind_blob_static(q, at + 5, r->body, r->body_len);   /* step and reset follow */
	bind_text_static(q, at + 6, r->created_by);
	sqlite3_bind_int64(q, at + 7, r->created_at);
	bind_id(q, at + 8, r->batch_id);
	bind_id(q, at + 9, r->raw_row);
}

gv_err sqd_records_insert(struct sqlite_store *s, const struct store_record *const *r, size_t n)
{
	return sq_insert_rows(s, data_stmt(s, QD_REC_INSERT), data_stmt(s, QD_REC_INSERT_MANY),
			      REC_MANY, 9, n, rec_bind, r);
}

gv_err sqd_record_write(struct sqlite_store *s, const struct store_record *r,
			const struct store_index_entry *idx, size_t nidx, int fresh)
{
	sqlite3_stmt *q;
	int64_t last = 0;
	gv_err err = GV_OK;

	if (!fresh) {
		q = data_stmt(s, QD_REC_LAST);
		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, r->dataset_id);
			bind_text_static(q, 2, r->record_id);
			if (sqlite3_step(q) == SQLITE_ROW) {
				last = sqlite3_column_int64(q, 0);
				err = GV_OK;
			}
			stmt_done(q);
		}
		/* Versions are dense: the writer that read the same current version loses. */
		if (err == GV_OK && r->version > 1 && last == 0)
			err = GV_ERR_NOT_FOUND;
		else if (err == GV_OK && r->version != last + 1)
			err = GV_ERR_EXISTS;
		if (err == GV_OK)
			err = rec_exec(s, QD_REC_UNSET_CURRENT, r->dataset_id, r->record_id);
	}
	if (err == GV_OK)
		err = sqd_records_insert(s, &r, 1);
	if (err == GV_OK && nidx) {
		struct store_index_row rows[64];

		if (nidx > sizeof(rows) / sizeof(rows[0]))
			return GV_ERR_INVALID;   /* the catalog allows 64 fields */
		for (size_t i = 0; i < nidx; i++)
			rows[i] = (struct store_index_row){idx[i].field, idx[i].token, r->record_id,
							   r->version};
		err = sqb_index_insert(s, r->dataset_id, rows, nidx);
	}
	return err;
}

gv_err sqd_record_put(struct gv_store *st, const struct store_record *r,
		      const struct store_index_entry *idx, size_t nidx)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err == GV_OK) {
		err = sqd_record_write(s, r, idx, nidx, 0);
		if (err == GV_OK)
			err = sqd_commit(s);
		else
			sqd_rollback(s);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* A record row to the caller's callback. */
struct rec_cb {
	store_record_cb cb;
	void *ctx;
};

static int rec_row(sqlite3_stmt *q, void *arg)
{
	struct rec_cb *c = arg;
	struct store_record r;

	memset(&r, 0, sizeof(r));
	r.dataset_id = sqlite3_column_int64(q, 0);
	col_text(q, 1, r.record_id, sizeof(r.record_id));
	r.version = sqlite3_column_int64(q, 2);
	r.key_version = sqlite3_column_int(q, 3);
	r.body = (unsigned char *)sqlite3_column_blob(q, 4);
	r.body_len = r.body ? (size_t)sqlite3_column_bytes(q, 4) : 0;
	col_text(q, 5, r.created_by, sizeof(r.created_by));
	r.created_at = sqlite3_column_int64(q, 6);
	r.batch_id = sqlite3_column_int64(q, 7);
	r.raw_row = sqlite3_column_int64(q, 8);
	return c->cb(&r, c->ctx);
}

/* Records of statement id, bound from spec (sq_rows). */
#define REC_ROWS(s, id, cb, ctx, found, spec, ...) \
	sq_rows((s), &(s)->data_stmts[id], data_sql[id], rec_row, \
		&(struct rec_cb){(cb), (ctx)}, (found), (spec), __VA_ARGS__)

gv_err sqd_record_get(struct gv_store *st, int64_t dataset_id, const char *record_id,
		      int64_t version, store_record_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	int found = 0;
	gv_err err = version
		? REC_ROWS(s, QD_REC_GET_VERSION, cb, ctx, &found, "IsI", dataset_id, record_id, version)
		: REC_ROWS(s, QD_REC_GET_CURRENT, cb, ctx, &found, "Is", dataset_id, record_id);

	return err == GV_OK && !found ? GV_ERR_NOT_FOUND : err;
}

gv_err sqd_record_history(struct gv_store *st, int64_t dataset_id, const char *record_id,
			  store_record_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	int found = 0;
	gv_err err = REC_ROWS(s, QD_REC_HISTORY, cb, ctx, &found, "Is", dataset_id, record_id);

	return err == GV_OK && !found ? GV_ERR_NOT_FOUND : err;
}

gv_err sqd_record_find(struct gv_store *st, int64_t dataset_id, const char *field,
		       const char *token, int limit, store_record_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);

	return REC_ROWS(s, QD_REC_FIND, cb, ctx, NULL, "Issi", dataset_id, field, token, limit);
}

gv_err sqd_record_scan(struct gv_store *st, int64_t dataset_id, const char *after_id, int limit,
		       store_record_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);

	return REC_ROWS(s, QD_REC_SCAN, cb, ctx, NULL, "Isi", dataset_id, after_id, limit);
}

gv_err sqd_index_exists(struct gv_store *st, int64_t dataset_id, const char *field,
			const char *token, int *found)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*found = 0;
	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_IDX_EXISTS);
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, dataset_id);
		bind_text(q, 2, field);
		bind_text(q, 3, token);
		rc = sqlite3_step(q);
		*found = rc == SQLITE_ROW;
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_record_stale_keys(struct gv_store *st, int64_t dataset_id, int key_version, int limit,
			     store_record_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);

	return REC_ROWS(s, QD_REC_STALE, cb, ctx, NULL, "Iii", dataset_id, key_version, limit);
}

gv_err sqd_record_rekey(struct gv_store *st, const struct store_record *r, int old_key_version)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_REC_REKEY);
	if (q) {
		sqlite3_bind_int64(q, 1, r->dataset_id);
		bind_text(q, 2, r->record_id);
		sqlite3_bind_int64(q, 3, r->version);
		sqlite3_bind_int(q, 4, old_key_version);
		bind_blob(q, 5, r->body, r->body_len);
		sqlite3_bind_int(q, 6, r->key_version);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_STATE;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_datakey_latest(struct gv_store *st, int64_t dataset_id, int kind, int *version)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*version = 0;
	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_KEY_LATEST);
	if (q) {
		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_int(q, 2, kind);
		if (sqlite3_step(q) == SQLITE_ROW) {
			err = sqlite3_column_type(q, 0) == SQLITE_NULL ? GV_ERR_NOT_FOUND : GV_OK;
			*version = sqlite3_column_int(q, 0);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_datakey_list(struct gv_store *st,
			int (*cb)(int64_t dataset_id, int kind, int version,
				  const unsigned char *wrapped, size_t len, void *ctx),
			void *ctx)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_KEY_LIST);
	if (q) {
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			const unsigned char *w = sqlite3_column_blob(q, 3);

			if (cb(sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
			       sqlite3_column_int(q, 2), w, w ? (size_t)sqlite3_column_bytes(q, 3) : 0,
			       ctx))
				break;
		}
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_datakey_replace_all(struct gv_store *st, const int64_t *dataset_ids, const int *kinds,
			       const int *versions, const unsigned char *const *wrapped,
			       const size_t *lens, size_t n, const char *const *meta_names,
			       const unsigned char *const *meta, const size_t *meta_lens, size_t nmeta)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	for (size_t i = 0; err == GV_OK && i < n; i++) {
		sqlite3_stmt *q = data_stmt(s, QD_KEY_REPLACE);

		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, dataset_ids[i]);
			sqlite3_bind_int(q, 2, kinds[i]);
			sqlite3_bind_int(q, 3, versions[i]);
			bind_blob(q, 4, wrapped[i], lens[i]);
			err = exec_simple(s, q);
			if (err == GV_OK && sqlite3_changes(s->db) != 1)
				err = GV_ERR_STATE;   /* a key appeared or vanished meanwhile */
		}
	}
	for (size_t i = 0; err == GV_OK && i < nmeta; i++)
		err = sqb_meta_put_locked(s, meta_names[i], meta[i], meta_lens[i]);
	if (err == GV_OK)
		err = sqd_commit(s);
	else
		sqd_rollback(s);
	bump(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Counts of a key version's users; lock held. */
static gv_err key_usage(struct sqlite_store *s, int64_t ds, int version, int64_t *rec, int64_t *raw)
{
	enum data_stmt ids[2] = {QD_KEY_USE_REC, QD_KEY_USE_RAW};
	int64_t *outs[2] = {rec, raw};

	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *q = data_stmt(s, ids[i]);
		int rc;

		if (!q)
			return GV_ERR_STORE;
		sqlite3_bind_int64(q, 1, ds);
		sqlite3_bind_int(q, 2, version);
		rc = sqlite3_step(q);
		*outs[i] = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		stmt_done(q);
		if (rc != SQLITE_ROW)
			return map_rc(s, rc);
	}
	return GV_OK;
}

gv_err sqd_datakey_usage(struct gv_store *st, int64_t dataset_id, int version, int64_t *records,
			 int64_t *raw_rows)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = key_usage(s, dataset_id, version, records, raw_rows);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_datakey_retire(struct gv_store *st, int64_t dataset_id, int version)
{
	struct sqlite_store *s = impl(st);
	int64_t rec = 0, raw = 0;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err == GV_OK)
		err = key_usage(s, dataset_id, version, &rec, &raw);
	if (err == GV_OK && (rec || raw))
		err = GV_ERR_STATE;
	if (err == GV_OK) {
		sqlite3_stmt *q = data_stmt(s, QD_KEY_DELETE);

		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, dataset_id);
			sqlite3_bind_int(q, 2, version);
			err = exec_simple(s, q);
		}
	}
	if (err == GV_OK)
		err = sqd_commit(s);
	else
		sqd_rollback(s);
	bump(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

void sqd_finalize(struct sqlite_store *s)
{
	for (int i = 0; i < QD__COUNT; i++)
		sqlite3_finalize(s->data_stmts[i]);
}

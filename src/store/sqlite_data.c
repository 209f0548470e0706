/* sqlite_data.c - the SQLite tables of the data catalog.  Same connection, lock and
 * helpers as sqlite.c (sqlite_int.h); its own prepared statements. */
#include "store/sqlite_int.h"

#include <stdlib.h>

enum data_stmt {
	QD_DATASET_INSERT, QD_DATASET_GET, QD_DATASET_UPDATE, QD_DATASET_LIST,
	QD__COUNT
};

_Static_assert(QD__COUNT <= SQLITE_DATA_STMTS, "SQLITE_DATA_STMTS is too small");

#define DATASET_COLS \
	"id, name, title, department, owner, category, description, legal_basis, " \
	"retention_days, expected_rows, schema, grade, grade_suggested, grade_reason, " \
	"grade_confirmed, confirmed_by, pending_grade, pending_by, pending_reason, created_by, " \
	"created_at, updated_at"

static const char *const data_sql[QD__COUNT] = {
	[QD_DATASET_INSERT] =
		"INSERT INTO datasets (name, title, department, owner, category, description, "
		"legal_basis, retention_days, expected_rows, schema, grade, grade_suggested, "
		"grade_reason, grade_confirmed, confirmed_by, pending_grade, pending_by, "
		"pending_reason, created_by, created_at, updated_at) VALUES (?2,?3,?4,?5,?6,?7,?8,"
		"?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)",
	[QD_DATASET_GET] = "SELECT " DATASET_COLS " FROM datasets WHERE name = ?1",
	[QD_DATASET_UPDATE] =
		"UPDATE datasets SET name=?2, title=?3, department=?4, owner=?5, category=?6, "
		"description=?7, legal_basis=?8, retention_days=?9, expected_rows=?10, schema=?11, "
		"grade=?12, grade_suggested=?13, grade_reason=?14, grade_confirmed=?15, "
		"confirmed_by=?16, pending_grade=?17, pending_by=?18, pending_reason=?19, "
		"created_by=?20, created_at=?21, updated_at=?22 WHERE id=?1",
	[QD_DATASET_LIST] = "SELECT " DATASET_COLS " FROM datasets ORDER BY name",
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
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqd_dataset_get(struct gv_store *st, const char *name, struct store_dataset *out)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = data_stmt(s, QD_DATASET_GET);
	if (q) {
		int rc;

		bind_text(q, 1, name);
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

void sqd_finalize(struct sqlite_store *s)
{
	for (int i = 0; i < QD__COUNT; i++)
		sqlite3_finalize(s->data_stmts[i]);
}

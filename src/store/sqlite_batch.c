/* sqlite_batch.c - the SQLite tables of imports: batches, their raw rows, lineage, and
 * the small named values of the key hierarchy.  Same connection, lock and helpers as
 * sqlite.c (sqlite_int.h); its own prepared statements. */
#include "store/sqlite_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum batch_stmt {
	QB_META_GET, QB_META_PUT,
	QB_BATCH_INSERT, QB_BATCH_UPDATE, QB_BATCH_GET, QB_BATCH_LIST, QB_BATCH_LOADING, QB_BATCH_BY_ID, QB_BATCH_LOADING_DS,
	QB_DROP_RECORDS, QB_DROP_RAW,
	QB_RAW_INSERT, QB_RAW_INSERT_MANY, QB_RAW_LIST, QB_RAW_LIST_STATUS, QB_RAW_GET, QB_RAW_RESOLVE, QB_BATCH_COUNT,
	QB_RAW_STALE, QB_RAW_REKEY,
	QB_BLOCK_INSERT, QB_DROP_BLOCKS, QB_BLOCK_STALE, QB_BLOCK_REKEY,
	QB_LINEAGE_ADD, QB_LINEAGE_UP, QB_LINEAGE_DOWN,
	QB_INDEX_ADD, QB_INDEX_ADD_MANY, QB_BATCH_INDEXED, QB_BATCH_IS_INDEXED, QB_UNINDEX_BATCH,
	QB__COUNT
};

_Static_assert(QB__COUNT <= SQLITE_BATCH_STMTS, "SQLITE_BATCH_STMTS is too small");

#define BATCH_COLS \
	"id, dataset_id, format, source, submitted_by, submitted_at, finished_at, state, " \
	"state_reason, sm3, declared_sm3, bytes, rows, accepted, flagged, quarantined, corrected, " \
	"discarded, report"

/* A raw row of an insert: 12 parameters (raw_bind); RAW_MANY at a time for imports. */
#define RAW_ROW "(?,?,?,?,?,?,?,?,?,?,?,?)"
#define RAW_ROWS_4 RAW_ROW "," RAW_ROW "," RAW_ROW "," RAW_ROW
#define RAW_MANY 16

/* index_add's rows: (dataset, field, token, record, version), INDEX_MANY at a time. */
#define INDEX_ROW "(?,?,?,?,?)"
#define INDEX_ROWS_4 INDEX_ROW "," INDEX_ROW "," INDEX_ROW "," INDEX_ROW
#define INDEX_ROWS_16 INDEX_ROWS_4 "," INDEX_ROWS_4 "," INDEX_ROWS_4 "," INDEX_ROWS_4
#define INDEX_MANY 32

/* A row with its sealed bytes: its own, or its block's (block_row names the block). */
#define RAW_COLS \
	"w.batch_id, w.row_no, w.line_no, coalesce(k.key_version, w.key_version), " \
	"coalesce(k.sealed, w.sealed), w.status, w.reasons, w.record_id, w.resolved_by, " \
	"w.resolved_at, w.resolution, w.block_row"
#define RAW_FROM \
	" FROM raw_rows w LEFT JOIN raw_blocks k ON k.batch_id = w.batch_id AND " \
	"k.first_row = w.block_row"

static const char *const batch_sql[QB__COUNT] = {
	[QB_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[QB_META_PUT] = "INSERT INTO meta (name, value) VALUES (?1, ?2) "
			"ON CONFLICT(name) DO UPDATE SET value = excluded.value",
	[QB_BATCH_INSERT] =
		"INSERT INTO batches (dataset_id, format, source, submitted_by, submitted_at, "
		"finished_at, state, state_reason, sm3, declared_sm3, bytes, rows, accepted, flagged, "
		"quarantined, corrected, discarded, report) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
		"?12,?13,?14,?15,?16,?17,?18,?19)",
	[QB_BATCH_UPDATE] =
		"UPDATE batches SET dataset_id=?2, format=?3, source=?4, submitted_by=?5, "
		"submitted_at=?6, finished_at=?7, state=?8, state_reason=?9, sm3=?10, "
		"declared_sm3=?11, bytes=?12, rows=?13, accepted=?14, flagged=?15, quarantined=?16, "
		"corrected=?17, discarded=?18, report=?19 WHERE id=?1",
	[QB_BATCH_GET] = "SELECT " BATCH_COLS " FROM batches WHERE dataset_id = ?1 AND id = ?2",
	[QB_BATCH_LIST] = "SELECT " BATCH_COLS " FROM batches WHERE dataset_id = ?1 ORDER BY id DESC",
	[QB_BATCH_LOADING] = "SELECT id FROM batches WHERE state = 0",
	[QB_BATCH_BY_ID] = "SELECT " BATCH_COLS " FROM batches WHERE id = ?1",
	[QB_BATCH_LOADING_DS] = "SELECT count(*) FROM batches WHERE state = 0 AND dataset_id = ?1",
	/* Through the batch's raw rows, which name its records (a loading batch has no
	 * corrected rows yet). */
	[QB_DROP_RECORDS] = "DELETE FROM records WHERE dataset_id = (SELECT dataset_id FROM batches "
			    "WHERE id = ?1) AND record_id IN (SELECT record_id FROM raw_rows WHERE "
			    "batch_id = ?1 AND record_id <> '') AND batch_id = ?1",
	[QB_DROP_RAW] = "DELETE FROM raw_rows WHERE batch_id = ?1",
	[QB_DROP_BLOCKS] = "DELETE FROM raw_blocks WHERE batch_id = ?1",
	[QB_RAW_INSERT] = "INSERT INTO raw_rows (batch_id, row_no, line_no, key_version, sealed, "
			  "status, reasons, record_id, resolved_by, resolved_at, resolution, "
			  "block_row) VALUES " RAW_ROW,
	[QB_RAW_INSERT_MANY] = "INSERT INTO raw_rows (batch_id, row_no, line_no, key_version, "
			       "sealed, status, reasons, record_id, resolved_by, resolved_at, "
			       "resolution, block_row) VALUES " RAW_ROWS_4 "," RAW_ROWS_4 ","
			       RAW_ROWS_4 "," RAW_ROWS_4,
	[QB_BLOCK_INSERT] = "INSERT INTO raw_blocks (batch_id, first_row, rows, key_version, sealed) "
			    "VALUES (?1,?2,?3,?4,?5)",
	[QB_RAW_LIST] = "SELECT " RAW_COLS RAW_FROM " WHERE w.batch_id = ?1 AND "
			"w.row_no > ?2 ORDER BY w.row_no LIMIT ?3",
	/* Through the primary key: an index on status would cost every imported row a
	 * B-tree insert to speed up listing the few that were not accepted. */
	[QB_RAW_LIST_STATUS] = "SELECT " RAW_COLS RAW_FROM " WHERE w.batch_id = ?1 AND "
			       "w.row_no > ?2 AND w.status = ?4 ORDER BY w.row_no LIMIT ?3",
	[QB_RAW_GET] = "SELECT " RAW_COLS RAW_FROM " WHERE w.batch_id = ?1 AND w.row_no = ?2",
	[QB_RAW_RESOLVE] = "UPDATE raw_rows SET status = ?3, record_id = ?4, resolved_by = ?5, "
			   "resolved_at = ?6, resolution = ?7 WHERE batch_id = ?1 AND row_no = ?2 "
			   "AND status = 2",
	[QB_BATCH_COUNT] = "UPDATE batches SET corrected = corrected + ?2, discarded = discarded + ?3 "
			   "WHERE id = ?1",
	[QB_RAW_STALE] = "SELECT " RAW_COLS RAW_FROM " JOIN batches b ON b.id = w.batch_id "
			 "WHERE b.dataset_id = ?1 AND w.block_row = 0 AND w.key_version < ?2 LIMIT ?3",
	[QB_RAW_REKEY] = "UPDATE raw_rows SET sealed = ?3, key_version = ?4 WHERE batch_id = ?1 AND "
			 "row_no = ?2 AND key_version = ?5 AND block_row = 0",
	/* A block in the shape of a raw row (raw_row reads both). */
	[QB_BLOCK_STALE] = "SELECT k.batch_id, k.first_row, 0, k.key_version, k.sealed, 0, '[]', '', "
			   "'', 0, '', k.first_row FROM raw_blocks k JOIN batches b ON "
			   "b.id = k.batch_id WHERE b.dataset_id = ?1 AND k.key_version < ?2 LIMIT ?3",
	[QB_BLOCK_REKEY] = "UPDATE raw_blocks SET sealed = ?3, key_version = ?4 WHERE batch_id = ?1 "
			   "AND first_row = ?2 AND key_version = ?5",
	/* A loading batch's entries, added sorted when it is about to commit; the batch
	 * notes it in the same transaction. */
	[QB_INDEX_ADD] = "INSERT OR IGNORE INTO blind_index (dataset_id, field, token, record_id, "
			 "version) VALUES " INDEX_ROW,
	/* INDEX_MANY rows a statement: a third of the cost of one statement a row. */
	[QB_INDEX_ADD_MANY] = "INSERT OR IGNORE INTO blind_index (dataset_id, field, token, "
			      "record_id, version) VALUES " INDEX_ROWS_16 "," INDEX_ROWS_16,
	[QB_BATCH_INDEXED] = "UPDATE batches SET indexed = 1 WHERE id = ?1 AND dataset_id = ?2 AND "
			     "state = 0",
	[QB_BATCH_IS_INDEXED] = "SELECT indexed FROM batches WHERE id = ?1",
	/* The entries of a batch that had added them and then failed: found through its
	 * records, reading the dataset's whole index (rare: a failure at the very end). */
	[QB_UNINDEX_BATCH] = "DELETE FROM blind_index WHERE dataset_id = (SELECT dataset_id FROM "
			     "batches WHERE id = ?1) AND record_id IN (SELECT record_id FROM raw_rows "
			     "WHERE batch_id = ?1 AND record_id <> '')",
	[QB_LINEAGE_ADD] = "INSERT INTO lineage (dataset_id, source_id, transformation) "
			   "VALUES (?1, ?2, ?3)",
	[QB_LINEAGE_UP] = "SELECT d.name, l.transformation FROM lineage l JOIN datasets d ON "
			  "d.id = l.source_id WHERE l.dataset_id = ?1 ORDER BY d.name",
	[QB_LINEAGE_DOWN] = "SELECT d.name, l.transformation FROM lineage l JOIN datasets d ON "
			    "d.id = l.dataset_id WHERE l.source_id = ?1 ORDER BY d.name",
};

static sqlite3_stmt *batch_stmt(struct sqlite_store *s, enum batch_stmt id)
{
	return stmt_cached(s, &s->batch_stmts[id], batch_sql[id]);
}

/* Runs a statement bound to one id (?1); lock held. */
static gv_err exec_id(struct sqlite_store *s, enum batch_stmt id, int64_t v)
{
	sqlite3_stmt *q = batch_stmt(s, id);

	if (!q)
		return GV_ERR_STORE;
	sqlite3_bind_int64(q, 1, v);
	return exec_simple(s, q);
}

gv_err sqb_meta_put_locked(struct sqlite_store *s, const char *name, const unsigned char *v,
			   size_t len)
{
	sqlite3_stmt *q = batch_stmt(s, QB_META_PUT);

	if (!q)
		return GV_ERR_STORE;
	bind_text(q, 1, name);
	bind_blob(q, 2, v, len);
	return exec_simple(s, q);
}

gv_err sqb_meta_put(struct gv_store *st, const char *name, const unsigned char *value, size_t len)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqb_meta_put_locked(s, name, value, len);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqb_meta_get(struct gv_store *st, const char *name, unsigned char *out, size_t max,
		    size_t *len)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*len = 0;
	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, QB_META_GET);
	if (q) {
		int rc;

		bind_text(q, 1, name);
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

static void batch_bind(sqlite3_stmt *q, const struct store_batch *b, int with_id)
{
	if (with_id)
		sqlite3_bind_int64(q, 1, b->id);
	sqlite3_bind_int64(q, 2, b->dataset_id);
	bind_text(q, 3, b->format);
	bind_text(q, 4, b->source);
	bind_text(q, 5, b->submitted_by);
	sqlite3_bind_int64(q, 6, b->submitted_at);
	sqlite3_bind_int64(q, 7, b->finished_at);
	sqlite3_bind_int(q, 8, b->state);
	bind_text(q, 9, b->state_reason);
	bind_text(q, 10, b->sm3);
	bind_text(q, 11, b->declared_sm3);
	sqlite3_bind_int64(q, 12, b->bytes);
	sqlite3_bind_int64(q, 13, b->rows);
	sqlite3_bind_int64(q, 14, b->accepted);
	sqlite3_bind_int64(q, 15, b->flagged);
	sqlite3_bind_int64(q, 16, b->quarantined);
	sqlite3_bind_int64(q, 17, b->corrected);
	sqlite3_bind_int64(q, 18, b->discarded);
	bind_text(q, 19, b->report[0] ? b->report : "{}");
}

static void batch_read(sqlite3_stmt *q, struct store_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(q, 0);
	b->dataset_id = sqlite3_column_int64(q, 1);
	col_text(q, 2, b->format, sizeof(b->format));
	col_text(q, 3, b->source, sizeof(b->source));
	col_text(q, 4, b->submitted_by, sizeof(b->submitted_by));
	b->submitted_at = sqlite3_column_int64(q, 5);
	b->finished_at = sqlite3_column_int64(q, 6);
	b->state = sqlite3_column_int(q, 7);
	col_text(q, 8, b->state_reason, sizeof(b->state_reason));
	col_text(q, 9, b->sm3, sizeof(b->sm3));
	col_text(q, 10, b->declared_sm3, sizeof(b->declared_sm3));
	b->bytes = sqlite3_column_int64(q, 11);
	b->rows = sqlite3_column_int64(q, 12);
	b->accepted = sqlite3_column_int64(q, 13);
	b->flagged = sqlite3_column_int64(q, 14);
	b->quarantined = sqlite3_column_int64(q, 15);
	b->corrected = sqlite3_column_int64(q, 16);
	b->discarded = sqlite3_column_int64(q, 17);
	col_text(q, 18, b->report, sizeof(b->report));
}

gv_err sqb_batch_insert(struct gv_store *st, struct store_batch *b)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, QB_BATCH_INSERT);
	if (q) {
		b->state = BATCH_LOADING;
		batch_bind(q, b, 0);
		err = exec_simple(s, q);
		if (err == GV_OK)
			b->id = sqlite3_last_insert_rowid(s->db);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Binds import row i as the raw row of an insert whose parameters start after at.
 * The raw row names its record, whatever the caller set: a failed batch's records
 * are found so. */
static void raw_bind(sqlite3_stmt *q, int at, size_t i, const void *rows)
{
	const struct store_import_row *row = (const struct store_import_row *)rows + i;
	const struct store_raw_row *w = &row->raw;
	const char *record_id = row->rec ? row->rec->record_id : w->record_id;

	sqlite3_bind_int64(q, at + 1, w->batch_id);
	sqlite3_bind_int64(q, at + 2, w->row_no);
	sqlite3_bind_int64(q, at + 3, w->line_no);
	sqlite3_bind_int(q, at + 4, w->key_version);
	if (w->block_row)
		sqlite3_bind_zeroblob(q, at + 5, 0);   /* its bytes are in the block */
	else
		bind_blob_static(q, at + 5, w->sealed, w->sealed_len);   /* exec_simple resets at once */
	sqlite3_bind_int(q, at + 6, w->status);
	bind_text_static(q, at + 7, w->reasons ? w->reasons : "[]");
	bind_text_static(q, at + 8, record_id ? record_id : "");
	bind_text_static(q, at + 9, w->resolved_by ? w->resolved_by : "");
	sqlite3_bind_int64(q, at + 10, w->resolved_at);
	bind_text_static(q, at + 11, w->resolution ? w->resolution : "");
	sqlite3_bind_int64(q, at + 12, w->block_row);
}

static gv_err block_insert(struct sqlite_store *s, const struct store_raw_block *k)
{
	sqlite3_stmt *q = batch_stmt(s, QB_BLOCK_INSERT);

	if (!q)
		return GV_ERR_STORE;
	sqlite3_bind_int64(q, 1, k->batch_id);
	sqlite3_bind_int64(q, 2, k->first_row);
	sqlite3_bind_int(q, 3, k->rows);
	sqlite3_bind_int(q, 4, k->key_version);
	bind_blob_static(q, 5, k->sealed, k->sealed_len);   /* exec_simple resets at once */
	return exec_simple(s, q);
}

/* An import's chunks and index slices are committed without waiting for the disk
 * (synchronous=NORMAL in WAL mode: no fsync at the commit).  A batch is all or
 * nothing, so only its last commit must be durable: batch_finish commits with FULL,
 * and its fsync of the log makes every frame written before it durable too.  A crash
 * before then loses part of a loading batch, which startup fails and drops anyway
 * (batch_recover).  Syncing each chunk had the writer waiting for the disk a third
 * of its time.  So that the last fsync does not wait for all of it, the import starts
 * the log's writeback as it goes (writeback: sync_file_range, as PostgreSQL and
 * RocksDB do).  Lock held; every other transaction keeps FULL. */
static gv_err relaxed_begin(struct sqlite_store *s, int *began)
{
	gv_err err = sq_durable(s);

	*began = 0;
	if (err == GV_OK && sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		err = GV_ERR_STORE;
	if (err == GV_OK)
		err = sqd_begin(s);
	*began = err == GV_OK;
	return err;
}

void sqb_writeback(struct gv_store *st)
{
	struct sqlite_store *s = impl(st);

	if (s->wal_fd >= 0)
		(void)sync_file_range(s->wal_fd, 0, 0, SYNC_FILE_RANGE_WRITE);   /* a hint: errors change nothing */
}

/* Commits (err GV_OK) or rolls back what relaxed_begin began, then restores FULL; the
 * outcome.  Should FULL not come back, nothing is written until it does (sq_durable). */
static gv_err relaxed_end(struct sqlite_store *s, gv_err err, int began)
{
	if (began && err == GV_OK)
		err = sqd_commit(s);
	else if (began)
		sqd_rollback(s);
	if (!sqlite3_get_autocommit(s->db))   /* a commit and its rollback both failed */
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("sqlite: synchronous=FULL could not be restored (%s): writes are refused "
			  "until it is", sqlite3_errmsg(s->db));
		s->sync_lost = 1;
		err = GV_ERR_STORE;
	}
	return err;
}

gv_err sqb_batch_write(struct gv_store *st, int64_t batch_id, const struct store_import_row *rows,
		       size_t n, const struct store_raw_block *blocks, size_t nblocks)
{
	struct sqlite_store *s = impl(st);
	gv_err err;
	int began;

	pthread_mutex_lock(&s->lock);
	err = relaxed_begin(s, &began);
	if (err == GV_OK) {
		for (size_t i = 0; err == GV_OK && i < nblocks; i++)
			err = blocks[i].batch_id == batch_id ? block_insert(s, &blocks[i]) : GV_ERR_INVALID;
		for (size_t i = 0; err == GV_OK && i < n; i++)
			if (rows[i].raw.batch_id != batch_id ||
			    (rows[i].rec && rows[i].rec->batch_id != batch_id))
				err = GV_ERR_INVALID;
		if (err == GV_OK)
			err = sq_insert_rows(s, batch_stmt(s, QB_RAW_INSERT), batch_stmt(s, QB_RAW_INSERT_MANY),
					     RAW_MANY, 12, n, raw_bind, rows);
		for (size_t i = 0; err == GV_OK && i < n;) {   /* the records, RAW_MANY at a time */
			const struct store_record *recs[RAW_MANY];
			size_t nrec = 0;

			for (; i < n && nrec < RAW_MANY; i++)
				if (rows[i].rec)
					recs[nrec++] = rows[i].rec;
			err = sqd_records_insert(s, recs, nrec);
		}
	}
	err = relaxed_end(s, err, began);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Whether the batch has added entries to the index (index_add); lock held. */
static gv_err batch_indexed(struct sqlite_store *s, int64_t batch_id, int *indexed)
{
	sqlite3_stmt *q = batch_stmt(s, QB_BATCH_IS_INDEXED);
	int rc;

	*indexed = 0;
	if (!q)
		return GV_ERR_STORE;
	sqlite3_bind_int64(q, 1, batch_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*indexed = sqlite3_column_int(q, 0) != 0;
	stmt_done(q);
	return rc == SQLITE_ROW ? GV_OK : rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
}

/* Removes what a batch that will never be committed stored; lock and transaction held. */
static gv_err drop_rows(struct sqlite_store *s, int64_t batch_id)
{
	int indexed = 0;
	gv_err err = batch_indexed(s, batch_id, &indexed);

	if (err == GV_OK && indexed)
		err = exec_id(s, QB_UNINDEX_BATCH, batch_id);
	if (err == GV_OK)
		err = exec_id(s, QB_DROP_RECORDS, batch_id);
	if (err == GV_OK)
		err = exec_id(s, QB_DROP_RAW, batch_id);
	if (err == GV_OK)
		err = exec_id(s, QB_DROP_BLOCKS, batch_id);
	return err;
}

static gv_err finish_locked(struct sqlite_store *s, const struct store_batch *b)
{
	sqlite3_stmt *q = batch_stmt(s, QB_BATCH_UPDATE);
	gv_err err = GV_ERR_STORE;

	if (q) {
		batch_bind(q, b, 1);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
	}
	if (err == GV_OK && b->state != BATCH_COMMITTED)
		err = drop_rows(s, b->id);
	return err;
}

/* What index_bind binds from: the rows, and their dataset. */
struct index_rows {
	const struct store_index_row *rows;
	int64_t dataset_id;
};

/* Binds index row i after parameter at. */
static void index_bind(sqlite3_stmt *q, int at, size_t i, const void *ctx)
{
	const struct index_rows *x = ctx;
	const struct store_index_row *r = &x->rows[i];

	sqlite3_bind_int64(q, at + 1, x->dataset_id);
	bind_text_static(q, at + 2, r->field);
	bind_text_static(q, at + 3, r->token);
	bind_text_static(q, at + 4, r->record_id);
	sqlite3_bind_int64(q, at + 5, r->version);
}

gv_err sqb_index_insert(struct sqlite_store *s, int64_t dataset_id,
			const struct store_index_row *rows, size_t n)
{
	return sq_insert_rows(s, batch_stmt(s, QB_INDEX_ADD), batch_stmt(s, QB_INDEX_ADD_MANY),
			      INDEX_MANY, 5, n, index_bind, &(struct index_rows){rows, dataset_id});
}

gv_err sqb_index_add(struct gv_store *st, int64_t batch_id, int64_t dataset_id,
		     const struct store_index_row *rows, size_t n)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;
	int began;

	pthread_mutex_lock(&s->lock);
	err = relaxed_begin(s, &began);
	if (err != GV_OK)
		goto out;
	q = batch_stmt(s, QB_BATCH_INDEXED);
	err = q ? GV_OK : GV_ERR_STORE;
	if (q) {
		sqlite3_bind_int64(q, 1, batch_id);
		sqlite3_bind_int64(q, 2, dataset_id);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_STATE;   /* not a loading batch of that dataset */
	}
	if (err == GV_OK)
		err = sqb_index_insert(s, dataset_id, rows, n);
out:
	err = relaxed_end(s, err, began);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* After a batch's rows were dropped: secure_delete zeroed their pages in the database,
 * but the write-ahead log may still hold them (up to 64 MiB of it, see
 * wal_autocheckpoint).  A truncating checkpoint empties it; if a reader (an online
 * backup) holds it, the next checkpoint recycles it instead.  Lock held. */
static void wal_truncate(struct sqlite_store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("sqlite: checkpoint after dropping a batch: %s", sqlite3_errstr(rc));
}

gv_err sqb_batch_finish(struct gv_store *st, const struct store_batch *b)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err == GV_OK) {
		err = finish_locked(s, b);
		if (err == GV_OK)
			err = sqd_commit(s);
		else
			sqd_rollback(s);
	}
	if (err == GV_OK && b->state != BATCH_COMMITTED)
		wal_truncate(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqb_batch_get(struct gv_store *st, int64_t dataset_id, int64_t id, struct store_batch *out)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, QB_BATCH_GET);
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_int64(q, 2, id);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			batch_read(q, out);
			err = GV_OK;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

struct batch_cb {
	store_batch_cb cb;
	void *ctx;
	struct store_batch *b;
};

static int batch_row(sqlite3_stmt *q, void *arg)
{
	struct batch_cb *c = arg;

	batch_read(q, c->b);
	return c->cb(c->b, c->ctx);
}

gv_err sqb_batch_list(struct gv_store *st, int64_t dataset_id, store_batch_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct batch_cb c = {cb, ctx, malloc(sizeof(struct store_batch))};
	gv_err err = c.b ? sq_rows(s, &s->batch_stmts[QB_BATCH_LIST], batch_sql[QB_BATCH_LIST],
				   batch_row, &c, NULL, "I", dataset_id)
			 : GV_ERR_NOMEM;

	free(c.b);
	return err;
}

gv_err sqb_batch_loading(struct gv_store *st, int64_t dataset_id, int *n)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*n = 0;
	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, QB_BATCH_LOADING_DS);
	if (q) {
		int rc;

		sqlite3_bind_int64(q, 1, dataset_id);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			*n = sqlite3_column_int(q, 0);
		err = rc == SQLITE_ROW ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqb_batch_recover(struct gv_store *st, int *n)
{
	struct sqlite_store *s = impl(st);
	struct store_batch *b = malloc(sizeof(*b));
	int64_t ids[64];
	int found;
	gv_err err = GV_OK;

	*n = 0;
	if (!b)
		return GV_ERR_NOMEM;
	pthread_mutex_lock(&s->lock);
	do {   /* in rounds of 64: the ids are read before the rows change */
		sqlite3_stmt *q = batch_stmt(s, QB_BATCH_LOADING);
		int rc;

		found = 0;
		if (!q) {
			err = GV_ERR_STORE;
			break;
		}
		while (found < 64 && (rc = sqlite3_step(q)) == SQLITE_ROW)
			ids[found++] = sqlite3_column_int64(q, 0);
		stmt_done(q);
		for (int i = 0; err == GV_OK && i < found; i++) {
			sqlite3_stmt *g = batch_stmt(s, QB_BATCH_BY_ID);

			err = sqd_begin(s);
			if (err != GV_OK)
				break;
			err = GV_ERR_STORE;
			if (g) {
				sqlite3_bind_int64(g, 1, ids[i]);
				if (sqlite3_step(g) == SQLITE_ROW) {
					batch_read(g, b);
					err = GV_OK;
				}
				stmt_done(g);
			}
			if (err == GV_OK) {
				b->state = BATCH_FAILED;
				b->finished_at = (int64_t)time(NULL);
				snprintf(b->state_reason, sizeof(b->state_reason), "%s",
					 "the service stopped while the batch was loading; nothing of it was kept");
				err = finish_locked(s, b);
			}
			if (err == GV_OK)
				err = sqd_commit(s);
			else
				sqd_rollback(s);
			if (err == GV_OK)
				(*n)++;
		}
	} while (err == GV_OK && found == 64);
	if (*n)
		wal_truncate(s);
	pthread_mutex_unlock(&s->lock);
	free(b);
	return err;
}

/* A raw row to the caller's callback. */
struct raw_cb {
	store_raw_row_cb cb;
	void *ctx;
};

static int raw_row(sqlite3_stmt *q, void *arg)
{
	struct raw_cb *c = arg;
	struct store_raw_row w;

	memset(&w, 0, sizeof(w));
	w.batch_id = sqlite3_column_int64(q, 0);
	w.row_no = sqlite3_column_int64(q, 1);
	w.line_no = sqlite3_column_int64(q, 2);
	w.key_version = sqlite3_column_int(q, 3);
	w.sealed = sqlite3_column_blob(q, 4);
	w.sealed_len = w.sealed ? (size_t)sqlite3_column_bytes(q, 4) : 0;
	w.status = sqlite3_column_int(q, 5);
	w.reasons = (const char *)sqlite3_column_text(q, 6);
	w.record_id = (const char *)sqlite3_column_text(q, 7);
	w.resolved_by = (const char *)sqlite3_column_text(q, 8);
	w.resolved_at = sqlite3_column_int64(q, 9);
	w.resolution = (const char *)sqlite3_column_text(q, 10);
	w.block_row = sqlite3_column_int64(q, 11);
	return c->cb(&w, c->ctx);
}

/* Raw rows of statement id, bound from spec (sq_rows). */
#define RAW_ROWS(s, id, cb, ctx, found, spec, ...) \
	sq_rows((s), &(s)->batch_stmts[id], batch_sql[id], raw_row, \
		&(struct raw_cb){(cb), (ctx)}, (found), (spec), __VA_ARGS__)

gv_err sqb_raw_row_list(struct gv_store *st, int64_t batch_id, int status, int64_t after, int limit,
			store_raw_row_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);

	return status < 0 ? RAW_ROWS(s, QB_RAW_LIST, cb, ctx, NULL, "IIi", batch_id, after, limit)
			  : RAW_ROWS(s, QB_RAW_LIST_STATUS, cb, ctx, NULL, "IIii", batch_id, after,
				     limit, status);
}

gv_err sqb_raw_row_get(struct gv_store *st, int64_t batch_id, int64_t row_no, store_raw_row_cb cb,
		       void *ctx)
{
	struct sqlite_store *s = impl(st);
	int found = 0;
	gv_err err = RAW_ROWS(s, QB_RAW_GET, cb, ctx, &found, "II", batch_id, row_no);

	return err == GV_OK && !found ? GV_ERR_NOT_FOUND : err;
}

gv_err sqb_raw_row_resolve(struct gv_store *st, const struct store_raw_row *row,
			   const struct store_record *rec, const struct store_index_entry *idx,
			   size_t nidx)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err != GV_OK)
		goto out;
	q = batch_stmt(s, QB_RAW_RESOLVE);
	err = GV_ERR_STORE;
	if (q) {
		sqlite3_bind_int64(q, 1, row->batch_id);
		sqlite3_bind_int64(q, 2, row->row_no);
		sqlite3_bind_int(q, 3, row->status);
		bind_text(q, 4, row->record_id ? row->record_id : "");
		bind_text(q, 5, row->resolved_by ? row->resolved_by : "");
		sqlite3_bind_int64(q, 6, row->resolved_at);
		bind_text(q, 7, row->resolution ? row->resolution : "");
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_STATE;   /* not quarantined (any more) */
	}
	if (err == GV_OK && rec)
		err = sqd_record_write(s, rec, idx, nidx, 1);
	if (err == GV_OK) {
		q = batch_stmt(s, QB_BATCH_COUNT);
		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, row->batch_id);
			sqlite3_bind_int(q, 2, row->status == RAW_CORRECTED);
			sqlite3_bind_int(q, 3, row->status == RAW_DISCARDED);
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

gv_err sqb_raw_row_stale_keys(struct gv_store *st, int64_t dataset_id, int key_version, int limit,
			      store_raw_row_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	int found = 0;
	gv_err err = RAW_ROWS(s, QB_RAW_STALE, cb, ctx, &found, "Iii", dataset_id, key_version, limit);

	if (err == GV_OK && found < limit)
		err = RAW_ROWS(s, QB_BLOCK_STALE, cb, ctx, NULL, "Iii", dataset_id, key_version,
			       limit - found);
	return err;
}

gv_err sqb_raw_row_rekey(struct gv_store *st, const struct store_raw_row *row, int old_key_version)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, row->block_row ? QB_BLOCK_REKEY : QB_RAW_REKEY);
	if (q) {
		sqlite3_bind_int64(q, 1, row->batch_id);
		sqlite3_bind_int64(q, 2, row->row_no);
		bind_blob(q, 3, row->sealed, row->sealed_len);
		sqlite3_bind_int(q, 4, row->key_version);
		sqlite3_bind_int(q, 5, old_key_version);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_STATE;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqb_lineage_add(struct gv_store *st, int64_t dataset_id, int64_t source_id,
		       const char *transformation)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = batch_stmt(s, QB_LINEAGE_ADD);
	if (q) {
		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_int64(q, 2, source_id);
		bind_text(q, 3, transformation);
		err = exec_simple(s, q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

struct lineage_cb {
	store_lineage_cb cb;
	void *ctx;
};

static int lineage_row(sqlite3_stmt *q, void *arg)
{
	struct lineage_cb *c = arg;

	return c->cb((const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
		     c->ctx);
}

gv_err sqb_lineage_list(struct gv_store *st, int64_t dataset_id, int upstream, store_lineage_cb cb,
			void *ctx)
{
	struct sqlite_store *s = impl(st);
	enum batch_stmt id = upstream ? QB_LINEAGE_UP : QB_LINEAGE_DOWN;

	return sq_rows(s, &s->batch_stmts[id], batch_sql[id], lineage_row,
		       &(struct lineage_cb){cb, ctx}, NULL, "I", dataset_id);
}

void sqb_finalize(struct sqlite_store *s)
{
	for (int i = 0; i < QB__COUNT; i++)
		sqlite3_finalize(s->batch_stmts[i]);
}

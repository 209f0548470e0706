/* sqlite_int.h - what the SQLite backend's files share: the connection struct and the
 * small statement helpers.  Private to src/store/sqlite*.c. */
#ifndef GV_STORE_SQLITE_INT_H
#define GV_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "common/log.h"
#include "store/store.h"

#define SQLITE_CORE_STMTS 64   /* sqlite.c's enum stmt_id fits (checked there) */
#define SQLITE_DATA_STMTS 48   /* sqlite_data.c's statements */
#define SQLITE_BATCH_STMTS 32  /* sqlite_batch.c's statements */
#define SQLITE_POLICY_STMTS 16 /* sqlite_policy.c's statements */
#define SQLITE_SHARE_STMTS 32  /* sqlite_share.c's statements */

struct sqlite_store {
	struct gv_store base;   /* first: the interface pointer casts to this */
	sqlite3 *db;
	pthread_mutex_t lock;   /* held for every operation: one connection, serialised */
	sqlite3_stmt *stmts[SQLITE_CORE_STMTS];
	sqlite3_stmt *data_stmts[SQLITE_DATA_STMTS];
	sqlite3_stmt *batch_stmts[SQLITE_BATCH_STMTS];
	sqlite3_stmt *policy_stmts[SQLITE_POLICY_STMTS];
	sqlite3_stmt *share_stmts[SQLITE_SHARE_STMTS];
	uint64_t generation;    /* bumped under the lock by writes of datasets and keys */
	struct sqlite_cache *cache;   /* sqlite_cache.c */
	int wal_fd;             /* the write-ahead log, read-only, for writeback (or -1); set
				 * at open, then only read (writeback takes no lock) */
	int sync_lost;          /* synchronous=FULL could not be restored after an import's
				 * relaxed commit: writes are refused until it is (sq_durable) */
};

/* sqlite_cache.c: sessions, accounts and role restrictions held in memory.  Gets
 * return 1 when they answered (a role with its result in *err); every write of those
 * tables drops the entries it touches.  Caller holds the lock. */
gv_err sqc_open(struct sqlite_store *s);
void sqc_close(struct sqlite_store *s);
int sqc_session_get(struct sqlite_store *s, const char *hash, struct store_session *out);
void sqc_session_put(struct sqlite_store *s, const struct store_session *v);
/* Drops the session v (found by its token hash), or any session with id or (id NULL)
 * of account_id. */
void sqc_session_drop(struct sqlite_store *s, const struct store_session *v);
void sqc_session_drop_where(struct sqlite_store *s, const char *id, int64_t account_id);
void sqc_session_drop_all(struct sqlite_store *s);
int sqc_account_get(struct sqlite_store *s, int64_t id, struct store_account *out);
void sqc_account_put(struct sqlite_store *s, const struct store_account *v);
void sqc_account_drop(struct sqlite_store *s, int64_t id);
int sqc_role_get(struct sqlite_store *s, const char *role, char *ip, size_t iplen, char *windows,
		 size_t winlen, gv_err *err);
void sqc_role_put(struct sqlite_store *s, const char *role, int found, const char *ip,
		  const char *windows);
void sqc_role_drop_all(struct sqlite_store *s);

static inline struct sqlite_store *impl(struct gv_store *st)
{
	return (struct sqlite_store *)st;
}

/* The statement in *slot, prepared from sql on first use; caller holds the lock. */
static inline sqlite3_stmt *stmt_cached(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql)
{
	if (!*slot && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
		      SQLITE_OK) {
		log_error("sqlite: prepare failed: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return *slot;
}

static inline void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

static inline gv_err map_rc(struct sqlite_store *s, int rc)
{
	if (rc == SQLITE_DONE || rc == SQLITE_OK || rc == SQLITE_ROW)
		return GV_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return GV_ERR_EXISTS;
	log_error("sqlite: %s", sqlite3_errmsg(s->db));
	return GV_ERR_STORE;
}

/* GV_OK when commits are durable (synchronous=FULL), restoring FULL first if an
 * import's relaxed commit could not (sqlite_batch.c); GV_ERR_STORE while it cannot be,
 * so that nothing is committed without its fsync.  Lock held. */
gv_err sq_durable(struct sqlite_store *s);

/* Runs a statement with no result rows. */
static inline gv_err exec_simple(struct sqlite_store *s, sqlite3_stmt *q)
{
	int rc;
	gv_err err;

	/* A statement outside a transaction commits by itself. */
	if (s->sync_lost && sqlite3_get_autocommit(s->db) && sq_durable(s) != GV_OK) {
		stmt_done(q);
		return GV_ERR_STORE;
	}
	rc = sqlite3_step(q);
	err = map_rc(s, rc);

	stmt_done(q);
	return err;
}

/* Copies text column i into dst, cut to fit; 0 when it had to be cut. */
static inline int col_text(sqlite3_stmt *q, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
	int fits = n < size;

	if (!fits)
		n = size - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
	return fits;
}

static inline void col_blob(sqlite3_stmt *q, int i, unsigned char *dst, size_t size, size_t *len)
{
	const void *b = sqlite3_column_blob(q, i);
	size_t n = b ? (size_t)sqlite3_column_bytes(q, i) : 0;

	if (n > size)
		n = 0; /* cannot be produced by this code; treat as absent */
	if (n)
		memcpy(dst, b, n);
	*len = n;
}

/* A blob the caller keeps unchanged until the statement is reset: not copied, which
 * matters for the kilobyte bodies an import writes by the hundred thousand. */
static inline void bind_blob_static(sqlite3_stmt *q, int i, const unsigned char *b, size_t len)
{
	if (len)
		sqlite3_bind_blob(q, i, b, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

static inline void bind_text(sqlite3_stmt *q, int i, const char *t)
{
	sqlite3_bind_text(q, i, t, -1, SQLITE_TRANSIENT);
}
/* Text the caller keeps unchanged until the statement is reset (exec_simple resets at
 * once): not copied, for the statements an import runs for every row. */
static inline void bind_text_static(sqlite3_stmt *q, int i, const char *t)
{
	sqlite3_bind_text(q, i, t, -1, SQLITE_STATIC);
}

static inline void bind_blob(sqlite3_stmt *q, int i, const unsigned char *b, size_t len)
{
	if (len)
		sqlite3_bind_blob(q, i, b, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

/* A row id that may be absent: 0 is stored as NULL. */
static inline void bind_id(sqlite3_stmt *q, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(q, i, id);
	else
		sqlite3_bind_null(q, i);
}

/* Reads rows under the store's lock: the statement in *slot (prepared from sql on first
 * use) is bound from spec, one character per parameter in order - 'I' int64_t, 'i'
 * int, 's' const char * - stepped, and every row handed to row(q, ctx) until it returns
 * non-zero.  *found (may be NULL) gets the rows handed over.  sqlite.c */
typedef int (*sq_row_fn)(sqlite3_stmt *q, void *ctx);
/* Inserts n rows through one statement that takes `many` rows (`stride` parameters
 * each) and one that takes a single row, for what does not fill the first: bind
 * binds row i of ctx after parameter `at`.  An import's rows go many to a statement,
 * which runs a third of the statements.  Lock and transaction held. */
typedef void (*sq_bind_row_fn)(sqlite3_stmt *q, int at, size_t i, const void *ctx);
gv_err sq_insert_rows(struct sqlite_store *s, sqlite3_stmt *one, sqlite3_stmt *many, size_t nmany,
		      int stride, size_t n, sq_bind_row_fn bind, const void *ctx);
gv_err sq_rows(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql, sq_row_fn row,
	       void *ctx, int *found, const char *spec, ...);

/* sqlite_data.c: the catalog tables. */
uint64_t sqd_generation(struct gv_store *st);
/* Transactions and the record write shared with sqlite_batch.c; lock held.  fresh:
 * the record id was just made at random, so there is no earlier version to close. */
gv_err sqd_begin(struct sqlite_store *s);
gv_err sqd_commit(struct sqlite_store *s);   /* rolls back when the commit fails */
void sqd_rollback(struct sqlite_store *s);
/* Inserts n versions as they are (many to a statement for an import's new records);
 * lock and transaction held. */
gv_err sqd_records_insert(struct sqlite_store *s, const struct store_record *const *r, size_t n);
gv_err sqd_record_write(struct sqlite_store *s, const struct store_record *r,
			const struct store_index_entry *idx, size_t nidx, int fresh);
gv_err sqd_record_scan(struct gv_store *st, int64_t dataset_id, const char *after_id, int limit,
		       store_record_cb cb, void *ctx);
gv_err sqd_index_exists(struct gv_store *st, int64_t dataset_id, const char *field,
			const char *token, int *found);
gv_err sqd_record_stale_keys(struct gv_store *st, int64_t dataset_id, int key_version, int limit,
			     store_record_cb cb, void *ctx);
gv_err sqd_record_rekey(struct gv_store *st, const struct store_record *r, int old_key_version);
gv_err sqd_datakey_latest(struct gv_store *st, int64_t dataset_id, int kind, int *version);
gv_err sqd_datakey_list(struct gv_store *st,
			int (*cb)(int64_t dataset_id, int kind, int version,
				  const unsigned char *wrapped, size_t len, void *ctx),
			void *ctx);
gv_err sqd_datakey_replace_all(struct gv_store *st, const int64_t *dataset_ids, const int *kinds,
			       const int *versions, const unsigned char *const *wrapped,
			       const size_t *lens, size_t n, const char *const *meta_names,
			       const unsigned char *const *meta, const size_t *meta_lens, size_t nmeta);
gv_err sqd_datakey_usage(struct gv_store *st, int64_t dataset_id, int version, int64_t *records,
			 int64_t *raw_rows);
gv_err sqd_datakey_retire(struct gv_store *st, int64_t dataset_id, int version);

/* sqlite_batch.c: import batches, raw rows, lineage, meta. */
gv_err sqb_meta_put_locked(struct sqlite_store *s, const char *name, const unsigned char *v,
			   size_t len);
gv_err sqb_meta_get(struct gv_store *st, const char *name, unsigned char *out, size_t max,
		    size_t *len);
gv_err sqb_meta_put(struct gv_store *st, const char *name, const unsigned char *value, size_t len);
gv_err sqb_batch_insert(struct gv_store *st, struct store_batch *b);
gv_err sqb_batch_write(struct gv_store *st, int64_t batch_id, const struct store_import_row *rows,
		       size_t n, const struct store_raw_block *blocks, size_t nblocks);
gv_err sqb_batch_finish(struct gv_store *st, const struct store_batch *b);
void sqb_writeback(struct gv_store *st);
gv_err sqb_index_add(struct gv_store *st, int64_t batch_id, int64_t dataset_id,
		     const struct store_index_row *rows, size_t n);
/* Inserts blind-index entries of dataset_id (record writes and index_add share it);
 * lock and transaction held. */
gv_err sqb_index_insert(struct sqlite_store *s, int64_t dataset_id,
			const struct store_index_row *rows, size_t n);
gv_err sqb_batch_get(struct gv_store *st, int64_t dataset_id, int64_t id, struct store_batch *out);
gv_err sqb_batch_list(struct gv_store *st, int64_t dataset_id, store_batch_cb cb, void *ctx);
gv_err sqb_batch_loading(struct gv_store *st, int64_t dataset_id, int *n);
gv_err sqb_batch_recover(struct gv_store *st, int *n);
gv_err sqb_raw_row_list(struct gv_store *st, int64_t batch_id, int status, int64_t after, int limit,
			store_raw_row_cb cb, void *ctx);
gv_err sqb_raw_row_get(struct gv_store *st, int64_t batch_id, int64_t row_no, store_raw_row_cb cb,
		       void *ctx);
gv_err sqb_raw_row_resolve(struct gv_store *st, const struct store_raw_row *row,
			   const struct store_record *rec, const struct store_index_entry *idx,
			   size_t nidx);
gv_err sqb_raw_row_stale_keys(struct gv_store *st, int64_t dataset_id, int key_version, int limit,
			      store_raw_row_cb cb, void *ctx);
gv_err sqb_raw_row_rekey(struct gv_store *st, const struct store_raw_row *row, int old_key_version);
gv_err sqb_lineage_add(struct gv_store *st, int64_t dataset_id, int64_t source_id,
		       const char *transformation);
gv_err sqb_lineage_list(struct gv_store *st, int64_t dataset_id, int upstream, store_lineage_cb cb,
			void *ctx);
void sqb_finalize(struct sqlite_store *s);

/* sqlite_policy.c: grants and masking profiles. */
/* The grant write inside a caller's transaction (share_commit); lock held. */
gv_err sqp_grant_insert_locked(struct sqlite_store *s, struct store_grant *g);
gv_err sqp_grant_update_locked(struct sqlite_store *s, const struct store_grant *g);
gv_err sqp_grant_insert(struct gv_store *st, struct store_grant *g);
gv_err sqp_grant_update(struct gv_store *st, const struct store_grant *g);
gv_err sqp_grant_get(struct gv_store *st, int64_t id, struct store_grant *out);
gv_err sqp_grant_list(struct gv_store *st, int64_t dataset_id, store_grant_cb cb, void *ctx);
gv_err sqp_grant_use(struct gv_store *st, int64_t grant_id, int64_t day, int64_t rows, int64_t max,
		     int64_t *used);
gv_err sqp_profile_put(struct gv_store *st, const char *name, const char *json, const char *by,
		       int64_t at, int *version);
gv_err sqp_profile_get(struct gv_store *st, const char *name, int version, store_profile_cb cb,
		       void *ctx);
gv_err sqp_profile_list(struct gv_store *st, store_profile_cb cb, void *ctx);
void sqp_finalize(struct sqlite_store *s);

/* sqlite_share.c: sharing requests and their events, share departments, data services
 * and consumers. */
gv_err sqs_share_commit(struct gv_store *st, struct store_share_request *req,
			const struct store_share_request *was, struct store_share_event *ev,
			struct store_grant *grant, struct store_service *svc);
gv_err sqs_share_request_get(struct gv_store *st, int64_t id, struct store_share_request *out);
gv_err sqs_share_request_list(struct gv_store *st, store_share_request_cb cb, void *ctx);
gv_err sqs_share_event_list(struct gv_store *st, int64_t request_id, store_share_event_cb cb,
			    void *ctx);
gv_err sqs_share_depts_get(struct gv_store *st, int64_t dataset_id, char *out, size_t len);
gv_err sqs_share_depts_put(struct gv_store *st, int64_t dataset_id, const char *list);
gv_err sqs_service_list(struct gv_store *st, store_service_cb cb, void *ctx);
gv_err sqs_service_get(struct gv_store *st, const char *name, int version,
		       struct store_service *out);
gv_err sqs_service_update(struct gv_store *st, const struct store_service *svc);
gv_err sqs_consumer_insert(struct gv_store *st, struct store_consumer *c);
gv_err sqs_consumer_update(struct gv_store *st, const struct store_consumer *c);
gv_err sqs_consumer_get(struct gv_store *st, const char *client_id, struct store_consumer *out);
gv_err sqs_consumer_list(struct gv_store *st, store_consumer_cb cb, void *ctx);
void sqs_finalize(struct sqlite_store *s);
gv_err sqd_dataset_insert(struct gv_store *st, struct store_dataset *d);
gv_err sqd_dataset_get(struct gv_store *st, const char *name, struct store_dataset *out);
gv_err sqd_dataset_get_id(struct gv_store *st, int64_t id, struct store_dataset *out);
gv_err sqd_dataset_update(struct gv_store *st, const struct store_dataset *d);
gv_err sqd_dataset_list(struct gv_store *st, store_dataset_cb cb, void *ctx);
gv_err sqd_datakey_put(struct gv_store *st, int64_t dataset_id, int kind, int version,
		       const unsigned char *wrapped, size_t len);
gv_err sqd_datakey_get(struct gv_store *st, int64_t dataset_id, int kind, int version,
		       unsigned char *out, size_t max, size_t *len);
gv_err sqd_record_put(struct gv_store *st, const struct store_record *r,
		      const struct store_index_entry *idx, size_t nidx);
gv_err sqd_record_get(struct gv_store *st, int64_t dataset_id, const char *record_id,
		      int64_t version, store_record_cb cb, void *ctx);
gv_err sqd_record_history(struct gv_store *st, int64_t dataset_id, const char *record_id,
			  store_record_cb cb, void *ctx);
gv_err sqd_record_find(struct gv_store *st, int64_t dataset_id, const char *field,
		       const char *token, int limit, store_record_cb cb, void *ctx);
void sqd_finalize(struct sqlite_store *s);

#endif

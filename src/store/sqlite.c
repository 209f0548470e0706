/* sqlite.c - the embedded SQLite backend of the storage interface.
 *
 * One connection guarded by a mutex: SQLite serialises writers anyway, and with
 * synchronous=FULL every commit is an fsync, so a pool would only add contention.
 * Statements are prepared once (SQLITE_PREPARE_PERSISTENT) and reused. */
#include "store/sqlite_int.h"

#include <fcntl.h>
#include <stdarg.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

enum stmt_id {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_ACCOUNT_INSERT, Q_ACCOUNT_GET, Q_ACCOUNT_GET_ID, Q_ACCOUNT_UPDATE, Q_ACCOUNT_LIST,
	Q_PWHIST_ADD, Q_PWHIST_TRIM, Q_PWHIST_LIST,
	Q_RECOVERY_CLEAR, Q_RECOVERY_ADD, Q_RECOVERY_CONSUME, Q_RECOVERY_COUNT,
	Q_RECOVERY_DROP_ACTIVE, Q_RECOVERY_ACTIVATE,
	Q_SESSION_INSERT, Q_SESSION_GET, Q_SESSION_UPDATE, Q_SESSION_DELETE,
	Q_SESSION_DELETE_ACCOUNT, Q_SESSION_LIST, Q_SESSION_LIST_ACCOUNT, Q_SESSION_PURGE,
	Q_ROLE_GET, Q_ROLE_SET,
	Q__COUNT
};

#define ACCOUNT_COLS \
	"id, username, full_name, department, contact, roles, status, status_reason, " \
	"outsourced, expires_at, clearance, created_by, approved_by, approved_at, " \
	"ip_allowlist, time_windows, device_fps, pw_hash, pw_changed_at, must_change_pw, " \
	"failed_pw, failed_totp, locked_until, totp_enabled, totp_secret, totp_pending, " \
	"totp_last_step, last_login_at, created_at, updated_at"

#define SESSION_COLS \
	"s.id, s.token_hash, s.account_id, a.username, s.stage, s.created_at, s.last_seen, " \
	"s.ip, s.device_fp"

static const char *const stmt_sql[Q__COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_ACCOUNT_INSERT] =
		"INSERT INTO accounts (username, full_name, department, contact, roles, status, "
		"status_reason, outsourced, expires_at, clearance, created_by, approved_by, "
		"approved_at, ip_allowlist, time_windows, device_fps, pw_hash, pw_changed_at, "
		"must_change_pw, failed_pw, failed_totp, locked_until, totp_enabled, totp_secret, "
		"totp_pending, totp_last_step, last_login_at, created_at, updated_at) VALUES "
		"(?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
		"?24,?25,?26,?27,?28,?29,?30)",
	[Q_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE username = ?1",
	[Q_ACCOUNT_GET_ID] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1",
	[Q_ACCOUNT_UPDATE] =
		"UPDATE accounts SET username=?2, full_name=?3, department=?4, contact=?5, roles=?6, "
		"status=?7, status_reason=?8, outsourced=?9, expires_at=?10, clearance=?11, "
		"created_by=?12, approved_by=?13, approved_at=?14, ip_allowlist=?15, "
		"time_windows=?16, device_fps=?17, pw_hash=?18, pw_changed_at=?19, "
		"must_change_pw=?20, failed_pw=?21, failed_totp=?22, locked_until=?23, "
		"totp_enabled=?24, totp_secret=?25, totp_pending=?26, totp_last_step=?27, "
		"last_login_at=?28, created_at=?29, updated_at=?30 WHERE id=?1",
	[Q_ACCOUNT_LIST] = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY id",
	[Q_PWHIST_ADD] = "INSERT INTO password_history (account_id, pw_hash, changed_at) VALUES (?1,?2,?3)",
	[Q_PWHIST_TRIM] =
		"DELETE FROM password_history WHERE account_id = ?1 AND id NOT IN (SELECT id FROM "
		"password_history WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2)",
	[Q_PWHIST_LIST] =
		"SELECT pw_hash FROM password_history WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2",
	[Q_RECOVERY_CLEAR] = "DELETE FROM recovery_codes WHERE account_id = ?1 AND pending = 1",
	[Q_RECOVERY_ADD] =
		"INSERT INTO recovery_codes (account_id, code_hash, pending) VALUES (?1, ?2, 1)",
	[Q_RECOVERY_CONSUME] = "DELETE FROM recovery_codes WHERE account_id = ?1 AND code_hash = ?2 "
			       "AND pending = 0",
	[Q_RECOVERY_COUNT] = "SELECT count(*) FROM recovery_codes WHERE account_id = ?1 AND pending = 0",
	[Q_RECOVERY_DROP_ACTIVE] = "DELETE FROM recovery_codes WHERE account_id = ?1 AND pending = 0",
	[Q_RECOVERY_ACTIVATE] = "UPDATE recovery_codes SET pending = 0 WHERE account_id = ?1",
	[Q_SESSION_INSERT] =
		"INSERT INTO sessions (id, token_hash, account_id, stage, created_at, last_seen, ip, "
		"device_fp) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
	[Q_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions s JOIN accounts a ON a.id = "
			  "s.account_id WHERE s.token_hash = ?1",
	[Q_SESSION_UPDATE] = "UPDATE sessions SET stage = ?2, last_seen = ?3 WHERE id = ?1",
	[Q_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	[Q_SESSION_DELETE_ACCOUNT] = "DELETE FROM sessions WHERE account_id = ?1",
	[Q_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions s JOIN accounts a ON a.id = "
			   "s.account_id ORDER BY s.created_at",
	[Q_SESSION_LIST_ACCOUNT] = "SELECT " SESSION_COLS " FROM sessions s JOIN accounts a ON "
				   "a.id = s.account_id WHERE s.account_id = ?1 ORDER BY s.created_at",
	[Q_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2",
	[Q_ROLE_GET] = "SELECT ip_allowlist, time_windows FROM role_restrictions WHERE role = ?1",
	[Q_ROLE_SET] = "INSERT INTO role_restrictions (role, ip_allowlist, time_windows) VALUES "
		       "(?1,?2,?3) ON CONFLICT(role) DO UPDATE SET ip_allowlist = excluded.ip_allowlist, "
		       "time_windows = excluded.time_windows",
};

/* Schema versions, applied in order inside one transaction each. */
static const char *const migrations[] = {
	/* 1: foundation - accounts, credentials, sessions, restrictions, audit rows */
	"CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,"
	" department TEXT NOT NULL, contact TEXT NOT NULL, roles INTEGER NOT NULL,"
	" status INTEGER NOT NULL, status_reason TEXT NOT NULL DEFAULT '',"
	" outsourced INTEGER NOT NULL, expires_at INTEGER NOT NULL, clearance INTEGER NOT NULL,"
	" created_by TEXT NOT NULL, approved_by TEXT NOT NULL, approved_at INTEGER NOT NULL,"
	" ip_allowlist TEXT NOT NULL, time_windows TEXT NOT NULL, device_fps TEXT NOT NULL,"
	" pw_hash TEXT NOT NULL, pw_changed_at INTEGER NOT NULL, must_change_pw INTEGER NOT NULL,"
	" failed_pw INTEGER NOT NULL, failed_totp INTEGER NOT NULL, locked_until INTEGER NOT NULL,"
	" totp_enabled INTEGER NOT NULL, totp_secret BLOB, totp_pending BLOB,"
	" totp_last_step INTEGER NOT NULL, last_login_at INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE password_history (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL"
	" REFERENCES accounts(id), pw_hash TEXT NOT NULL, changed_at INTEGER NOT NULL);"
	"CREATE INDEX password_history_account ON password_history(account_id);"
	"CREATE TABLE recovery_codes (account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" code_hash TEXT NOT NULL, PRIMARY KEY (account_id, code_hash));"
	"CREATE TABLE sessions (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id), stage INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, ip TEXT NOT NULL,"
	" device_fp TEXT NOT NULL);"
	"CREATE INDEX sessions_account ON sessions(account_id);"
	"CREATE TABLE role_restrictions (role TEXT PRIMARY KEY, ip_allowlist TEXT NOT NULL,"
	" time_windows TEXT NOT NULL);"
	"CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_us INTEGER NOT NULL,"
	" node TEXT NOT NULL, request_id TEXT NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,"
	" session TEXT NOT NULL, source TEXT NOT NULL, device_fp TEXT NOT NULL,"
	" action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL,"
	" status INTEGER NOT NULL, reason TEXT NOT NULL);"
	"CREATE INDEX audit_log_actor ON audit_log(actor);",
	/* 2: recovery codes issued with a TOTP re-enrolment wait, like its secret, for the
	 * confirmation; until then the old codes stay valid. */
	"ALTER TABLE recovery_codes ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;",
	/* 3: the audit trail moved to the chained segment files of src/audit; rows from
	 * before are kept, renamed, for reference. */
	"ALTER TABLE audit_log RENAME TO audit_log_legacy;",
	/* 4: the data catalog (sqlite_data.c) */
	"CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" title TEXT NOT NULL, department TEXT NOT NULL, owner TEXT NOT NULL,"
	" category TEXT NOT NULL, description TEXT NOT NULL, legal_basis TEXT NOT NULL,"
	" retention_days INTEGER NOT NULL, expected_rows INTEGER NOT NULL, schema TEXT NOT NULL,"
	" grade INTEGER NOT NULL, grade_suggested INTEGER NOT NULL, grade_reason TEXT NOT NULL,"
	" grade_confirmed INTEGER NOT NULL, confirmed_by TEXT NOT NULL,"
	" pending_grade INTEGER NOT NULL, pending_by TEXT NOT NULL, pending_reason TEXT NOT NULL,"
	" created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);",
	/* 5: encrypted records, their keys and blind indexes (sqlite_data.c) */
	"CREATE TABLE data_keys (dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" kind INTEGER NOT NULL, version INTEGER NOT NULL, wrapped BLOB NOT NULL,"
	" PRIMARY KEY (dataset_id, kind, version));"
	"CREATE TABLE records (dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" record_id TEXT NOT NULL, version INTEGER NOT NULL, key_version INTEGER NOT NULL,"
	" body BLOB NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" current INTEGER NOT NULL, PRIMARY KEY (dataset_id, record_id, version));"
	"CREATE INDEX records_current ON records(dataset_id, record_id, current);"
	"CREATE TABLE blind_index (dataset_id INTEGER NOT NULL, field TEXT NOT NULL,"
	" token TEXT NOT NULL, record_id TEXT NOT NULL,"
	" PRIMARY KEY (dataset_id, field, token, record_id));"
	"CREATE INDEX blind_index_record ON blind_index(dataset_id, record_id);",
	/* 6: import batches with their raw rows, provenance of records, quality rules,
	 * lineage, and named key material (sqlite_batch.c) */
	"ALTER TABLE datasets ADD COLUMN quality_rules TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE records ADD COLUMN batch_id INTEGER;"
	"ALTER TABLE records ADD COLUMN raw_row INTEGER;"
	"CREATE INDEX records_batch ON records(batch_id) WHERE batch_id IS NOT NULL;"
	"CREATE INDEX records_key ON records(dataset_id, key_version);"
	"CREATE TABLE batches (id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id), format TEXT NOT NULL,"
	" source TEXT NOT NULL, submitted_by TEXT NOT NULL, submitted_at INTEGER NOT NULL,"
	" finished_at INTEGER NOT NULL, state INTEGER NOT NULL, state_reason TEXT NOT NULL,"
	" sm3 TEXT NOT NULL, declared_sm3 TEXT NOT NULL, bytes INTEGER NOT NULL,"
	" rows INTEGER NOT NULL, accepted INTEGER NOT NULL, flagged INTEGER NOT NULL,"
	" quarantined INTEGER NOT NULL, corrected INTEGER NOT NULL, discarded INTEGER NOT NULL,"
	" report TEXT NOT NULL);"
	"CREATE INDEX batches_dataset ON batches(dataset_id, id);"
	"CREATE INDEX batches_state ON batches(state);"
	"CREATE TABLE raw_rows (batch_id INTEGER NOT NULL REFERENCES batches(id),"
	" row_no INTEGER NOT NULL, line_no INTEGER NOT NULL, key_version INTEGER NOT NULL,"
	" sealed BLOB NOT NULL, status INTEGER NOT NULL, reasons TEXT NOT NULL,"
	" record_id TEXT NOT NULL, resolved_by TEXT NOT NULL, resolved_at INTEGER NOT NULL,"
	" resolution TEXT NOT NULL, PRIMARY KEY (batch_id, row_no));"
	"CREATE INDEX raw_rows_status ON raw_rows(batch_id, status, row_no);"
	"CREATE INDEX raw_rows_key ON raw_rows(key_version);"
	"CREATE TABLE lineage (dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" source_id INTEGER NOT NULL REFERENCES datasets(id), transformation TEXT NOT NULL,"
	" PRIMARY KEY (dataset_id, source_id));"
	"CREATE INDEX lineage_source ON lineage(source_id);"
	"CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);",
	/* 7: access grants, their daily use, and masking profiles (sqlite_policy.c) */
	"CREATE TABLE grants (id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id), subject_type INTEGER NOT NULL,"
	" subject TEXT NOT NULL, actions INTEGER NOT NULL, fields TEXT NOT NULL,"
	" row_field TEXT NOT NULL, row_value TEXT NOT NULL, row_subject INTEGER NOT NULL,"
	" purposes TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL,"
	" time_windows TEXT NOT NULL, ip_ranges TEXT NOT NULL, max_rows_request INTEGER NOT NULL,"
	" max_rows_day INTEGER NOT NULL, mask_profile TEXT NOT NULL, reason TEXT NOT NULL,"
	" state INTEGER NOT NULL, created_by TEXT NOT NULL, approved_by TEXT NOT NULL,"
	" revoked_by TEXT NOT NULL, created_at INTEGER NOT NULL, approved_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL);"
	"CREATE INDEX grants_dataset ON grants(dataset_id);"
	"CREATE TABLE grant_use (grant_id INTEGER NOT NULL REFERENCES grants(id),"
	" day INTEGER NOT NULL, rows INTEGER NOT NULL, PRIMARY KEY (grant_id, day));"
	"CREATE TABLE mask_profiles (name TEXT NOT NULL, version INTEGER NOT NULL,"
	" json TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" PRIMARY KEY (name, version));"
	/* Fewer B-trees per imported row: the current version is found through the primary
	 * key (few versions per record), and the blind index needs no rowid of its own. */
	"DROP INDEX records_current;"
	"DROP INDEX raw_rows_status;"
	"CREATE TABLE blind_index_v7 (dataset_id INTEGER NOT NULL, field TEXT NOT NULL,"
	" token TEXT NOT NULL, record_id TEXT NOT NULL,"
	" PRIMARY KEY (dataset_id, field, token, record_id)) WITHOUT ROWID;"
	"INSERT INTO blind_index_v7 SELECT dataset_id, field, token, record_id FROM blind_index;"
	"DROP TABLE blind_index;"
	"ALTER TABLE blind_index_v7 RENAME TO blind_index;"
	"CREATE INDEX blind_index_record ON blind_index(dataset_id, record_id);",
	/* 8: sharing - requests and their review events, the departments a dataset may be
	 * shared with, versioned data services and their consumers (sqlite_share.c).  Ids
	 * that may be absent (a request's grant and service, a service's request and
	 * grant) are NULL rather than 0, so that the references hold. */
	"CREATE TABLE share_requests (id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id), kind INTEGER NOT NULL,"
	" requester TEXT NOT NULL, department TEXT NOT NULL, fields TEXT NOT NULL,"
	" actions INTEGER NOT NULL, purpose TEXT NOT NULL, legal_basis TEXT NOT NULL,"
	" valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL,"
	" expected_rows_day INTEGER NOT NULL, mask_profile TEXT NOT NULL, service TEXT NOT NULL,"
	" state INTEGER NOT NULL, needs_owner INTEGER NOT NULL, needs_secadmin INTEGER NOT NULL,"
	" owner_by TEXT NOT NULL, owner_at INTEGER NOT NULL, secadmin_by TEXT NOT NULL,"
	" secadmin_at INTEGER NOT NULL, grant_id INTEGER REFERENCES grants(id),"
	" service_id INTEGER REFERENCES services(id), created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX share_requests_dataset ON share_requests(dataset_id);"
	"CREATE TABLE share_events (id INTEGER PRIMARY KEY,"
	" request_id INTEGER NOT NULL REFERENCES share_requests(id), at INTEGER NOT NULL,"
	" actor TEXT NOT NULL, step TEXT NOT NULL, comment TEXT NOT NULL, scope TEXT NOT NULL);"
	"CREATE INDEX share_events_request ON share_events(request_id);"
	"CREATE TABLE share_depts (dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" department TEXT NOT NULL, PRIMARY KEY (dataset_id, department)) WITHOUT ROWID;"
	"CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" version INTEGER NOT NULL, dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" request_id INTEGER REFERENCES share_requests(id), grant_id INTEGER REFERENCES grants(id),"
	" department TEXT NOT NULL, open INTEGER NOT NULL, fields TEXT NOT NULL,"
	" mask_profile TEXT NOT NULL, params TEXT NOT NULL, max_rows INTEGER NOT NULL,"
	" rate_per_minute INTEGER NOT NULL, valid_until INTEGER NOT NULL, state INTEGER NOT NULL,"
	" created_by TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_by TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL, UNIQUE (name, version));"
	"CREATE TABLE consumers (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL, department TEXT NOT NULL, secret_hash TEXT NOT NULL,"
	" cert_fp TEXT NOT NULL, ip_allowlist TEXT NOT NULL, services TEXT NOT NULL,"
	" state INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" revoked_by TEXT NOT NULL, revoked_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);",
	/* 9: rows as received are sealed in compressed blocks (data/rawblock.h); a raw row
	 * names its block by the block's first row.  Rows stored before keep their own
	 * sealed bytes (block_row 0), and only they are in the key-version index. */
	"ALTER TABLE raw_rows ADD COLUMN block_row INTEGER NOT NULL DEFAULT 0;"
	"DROP INDEX raw_rows_key;"
	"CREATE INDEX raw_rows_key ON raw_rows(key_version) WHERE block_row = 0;"
	"CREATE TABLE raw_blocks (batch_id INTEGER NOT NULL REFERENCES batches(id),"
	" first_row INTEGER NOT NULL, rows INTEGER NOT NULL CHECK (rows > 0), key_version INTEGER NOT NULL,"
	" sealed BLOB NOT NULL, PRIMARY KEY (batch_id, first_row));"
	"CREATE INDEX raw_blocks_key ON raw_blocks(key_version);",
	/* 10: the blind index names the version an entry was made for, so that an update
	 * adds its entries instead of deleting the record's old ones, and the index needs
	 * no second B-tree by record.  An import adds its entries at the end, sorted
	 * (index_add): added row by row they landed on random pages, and each transaction
	 * wrote every page it touched again, 8 KiB a row once the index outgrew a
	 * transaction.  A batch notes when it has entries in the index (indexed), so that
	 * a batch failing after that, or a crash, takes them out.  Entries of batches that
	 * never committed are not carried.  Raw rows, small now that blocks hold their
	 * bytes, are kept in their primary key's B-tree alone, and name the records of a
	 * batch, which records_batch did for every imported record. */
	"CREATE TABLE blind_index_v10 (dataset_id INTEGER NOT NULL, field TEXT NOT NULL,"
	" token TEXT NOT NULL, record_id TEXT NOT NULL, version INTEGER NOT NULL,"
	" PRIMARY KEY (dataset_id, field, token, record_id, version)) WITHOUT ROWID;"
	"INSERT INTO blind_index_v10 SELECT i.dataset_id, i.field, i.token, i.record_id, r.version"
	" FROM blind_index i JOIN records r ON r.dataset_id = i.dataset_id AND"
	" r.record_id = i.record_id AND r.current = 1 WHERE r.batch_id IS NULL OR"
	" EXISTS (SELECT 1 FROM batches b WHERE b.id = r.batch_id AND b.state = 1);"
	"DROP TABLE blind_index;"
	"ALTER TABLE blind_index_v10 RENAME TO blind_index;"
	"CREATE TABLE raw_rows_v10 (batch_id INTEGER NOT NULL REFERENCES batches(id),"
	" row_no INTEGER NOT NULL, line_no INTEGER NOT NULL, key_version INTEGER NOT NULL,"
	" sealed BLOB NOT NULL, status INTEGER NOT NULL, reasons TEXT NOT NULL,"
	" record_id TEXT NOT NULL, resolved_by TEXT NOT NULL, resolved_at INTEGER NOT NULL,"
	" resolution TEXT NOT NULL, block_row INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (batch_id, row_no)) WITHOUT ROWID;"
	"INSERT INTO raw_rows_v10 SELECT batch_id, row_no, line_no, key_version, sealed, status,"
	" reasons, record_id, resolved_by, resolved_at, resolution, block_row FROM raw_rows;"
	"DROP TABLE raw_rows;"
	"ALTER TABLE raw_rows_v10 RENAME TO raw_rows;"
	"CREATE INDEX raw_rows_key ON raw_rows(key_version) WHERE block_row = 0;"
	"DROP INDEX records_batch;"
	"ALTER TABLE batches ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;",
	/* 11: blind-index tokens keep the first 128 bits of their MAC (32 hex digits, see
	 * DATAKEY_TOKEN_HEX): the index is a quarter smaller, and an import's end, which
	 * adds its entries, a quarter faster.  A token is a prefix of what it was, so the
	 * entries are cut, not computed again. */
	"UPDATE blind_index SET token = substr(token, 1, 32) WHERE length(token) = 64;",
};

gv_err sq_insert_rows(struct sqlite_store *s, sqlite3_stmt *one, sqlite3_stmt *many, size_t nmany,
		      int stride, size_t n, sq_bind_row_fn bind, const void *ctx)
{
	gv_err err = one && many ? GV_OK : GV_ERR_STORE;

	for (size_t i = 0; err == GV_OK && i < n;) {
		size_t k = n - i >= nmany ? nmany : 1;
		sqlite3_stmt *q = k > 1 ? many : one;

		for (size_t r = 0; r < k; r++, i++)
			bind(q, (int)r * stride, i, ctx);
		err = exec_simple(s, q);
	}
	return err;
}

gv_err sq_rows(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql, sq_row_fn row,
	       void *ctx, int *found, const char *spec, ...)
{
	sqlite3_stmt *q;
	va_list ap;
	int rc = SQLITE_DONE, n = 0;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = stmt_cached(s, slot, sql);
	if (q) {
		va_start(ap, spec);
		for (int i = 0; spec[i]; i++) {
			if (spec[i] == 'I')
				sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t));
			else if (spec[i] == 'i')
				sqlite3_bind_int(q, i + 1, va_arg(ap, int));
			else
				bind_text(q, i + 1, va_arg(ap, const char *));
		}
		va_end(ap);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			n++;
			if (row(q, ctx))
				break;
		}
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	if (found)
		*found = n;
	return err;
}

/* Returns the cached statement, prepared on first use; caller holds the lock. */
_Static_assert(Q__COUNT <= SQLITE_CORE_STMTS, "SQLITE_CORE_STMTS is too small");

static sqlite3_stmt *stmt_get(struct sqlite_store *s, enum stmt_id id)
{
	return stmt_cached(s, &s->stmts[id], stmt_sql[id]);
}

static void account_bind(sqlite3_stmt *q, const struct store_account *a)
{
	sqlite3_bind_int64(q, 1, a->id);
	bind_text(q, 2, a->username);
	bind_text(q, 3, a->full_name);
	bind_text(q, 4, a->department);
	bind_text(q, 5, a->contact);
	sqlite3_bind_int64(q, 6, a->roles);
	sqlite3_bind_int(q, 7, a->status);
	bind_text(q, 8, a->status_reason);
	sqlite3_bind_int(q, 9, a->outsourced);
	sqlite3_bind_int64(q, 10, a->expires_at);
	sqlite3_bind_int(q, 11, a->clearance);
	bind_text(q, 12, a->created_by);
	bind_text(q, 13, a->approved_by);
	sqlite3_bind_int64(q, 14, a->approved_at);
	bind_text(q, 15, a->ip_allowlist);
	bind_text(q, 16, a->time_windows);
	bind_text(q, 17, a->device_fps);
	bind_text(q, 18, a->pw_hash);
	sqlite3_bind_int64(q, 19, a->pw_changed_at);
	sqlite3_bind_int(q, 20, a->must_change_pw);
	sqlite3_bind_int(q, 21, a->failed_pw);
	sqlite3_bind_int(q, 22, a->failed_totp);
	sqlite3_bind_int64(q, 23, a->locked_until);
	sqlite3_bind_int(q, 24, a->totp_enabled);
	bind_blob(q, 25, a->totp_secret, a->totp_secret_len);
	bind_blob(q, 26, a->totp_pending, a->totp_pending_len);
	sqlite3_bind_int64(q, 27, a->totp_last_step);
	sqlite3_bind_int64(q, 28, a->last_login_at);
	sqlite3_bind_int64(q, 29, a->created_at);
	sqlite3_bind_int64(q, 30, a->updated_at);
}

static void account_read(sqlite3_stmt *q, struct store_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	col_text(q, 1, a->username, sizeof(a->username));
	col_text(q, 2, a->full_name, sizeof(a->full_name));
	col_text(q, 3, a->department, sizeof(a->department));
	col_text(q, 4, a->contact, sizeof(a->contact));
	a->roles = (unsigned)sqlite3_column_int64(q, 5);
	a->status = sqlite3_column_int(q, 6);
	col_text(q, 7, a->status_reason, sizeof(a->status_reason));
	a->outsourced = sqlite3_column_int(q, 8);
	a->expires_at = sqlite3_column_int64(q, 9);
	a->clearance = sqlite3_column_int(q, 10);
	col_text(q, 11, a->created_by, sizeof(a->created_by));
	col_text(q, 12, a->approved_by, sizeof(a->approved_by));
	a->approved_at = sqlite3_column_int64(q, 13);
	col_text(q, 14, a->ip_allowlist, sizeof(a->ip_allowlist));
	col_text(q, 15, a->time_windows, sizeof(a->time_windows));
	col_text(q, 16, a->device_fps, sizeof(a->device_fps));
	col_text(q, 17, a->pw_hash, sizeof(a->pw_hash));
	a->pw_changed_at = sqlite3_column_int64(q, 18);
	a->must_change_pw = sqlite3_column_int(q, 19);
	a->failed_pw = sqlite3_column_int(q, 20);
	a->failed_totp = sqlite3_column_int(q, 21);
	a->locked_until = sqlite3_column_int64(q, 22);
	a->totp_enabled = sqlite3_column_int(q, 23);
	col_blob(q, 24, a->totp_secret, sizeof(a->totp_secret), &a->totp_secret_len);
	col_blob(q, 25, a->totp_pending, sizeof(a->totp_pending), &a->totp_pending_len);
	a->totp_last_step = sqlite3_column_int64(q, 26);
	a->last_login_at = sqlite3_column_int64(q, 27);
	a->created_at = sqlite3_column_int64(q, 28);
	a->updated_at = sqlite3_column_int64(q, 29);
}

static gv_err sq_account_insert(struct gv_store *st, struct store_account *a)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_ACCOUNT_INSERT);
	if (q) {
		account_bind(q, a);
		sqlite3_bind_null(q, 1);
		err = exec_simple(s, q);
		if (err == GV_OK)
			a->id = sqlite3_last_insert_rowid(s->db);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err account_fetch(struct sqlite_store *s, enum stmt_id id, const char *name, int64_t rowid,
			    struct store_account *out)
{
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (!name && sqc_account_get(s, rowid, out)) {
		pthread_mutex_unlock(&s->lock);
		return GV_OK;
	}
	q = stmt_get(s, id);
	if (q) {
		if (name)
			bind_text(q, 1, name);
		else
			sqlite3_bind_int64(q, 1, rowid);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			account_read(q, out);
			sqc_account_put(s, out);
			err = GV_OK;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_account_get(struct gv_store *st, const char *username, struct store_account *out)
{
	return account_fetch(impl(st), Q_ACCOUNT_GET, username, 0, out);
}

static gv_err sq_account_get_id(struct gv_store *st, int64_t id, struct store_account *out)
{
	return account_fetch(impl(st), Q_ACCOUNT_GET_ID, NULL, id, out);
}

static gv_err sq_account_update(struct gv_store *st, const struct store_account *a)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	sqc_account_drop(s, a->id);
	q = stmt_get(s, Q_ACCOUNT_UPDATE);
	if (q) {
		account_bind(q, a);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_account_list(struct gv_store *st, store_account_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct store_account *a = malloc(sizeof(*a));
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	if (!a)
		return GV_ERR_NOMEM;
	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_ACCOUNT_LIST);
	if (q) {
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			account_read(q, a);
			if (cb(a, ctx))
				break;
		}
		err = rc == SQLITE_ROW ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	util_wipe(a, sizeof(*a));
	free(a);
	return err;
}

gv_err sq_durable(struct sqlite_store *s)
{
	if (!s->sync_lost)
		return GV_OK;
	if (!sqlite3_get_autocommit(s->db) ||
	    sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
		return GV_ERR_STORE;
	s->sync_lost = 0;
	log_warn("sqlite: synchronous=FULL restored; writes go on");
	return GV_OK;
}

static gv_err tx(struct sqlite_store *s, enum stmt_id id)
{
	sqlite3_stmt *q = stmt_get(s, id);

	if (id == Q_BEGIN && sq_durable(s) != GV_OK)
		return GV_ERR_STORE;
	return q ? exec_simple(s, q) : GV_ERR_STORE;
}

static gv_err sq_pwhist_add(struct gv_store *st, int64_t account_id, const char *hash, int64_t at,
			    int keep)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = tx(s, Q_BEGIN);
	if (err != GV_OK)
		goto out;
	q = stmt_get(s, Q_PWHIST_ADD);
	err = GV_ERR_STORE;
	if (q) {
		sqlite3_bind_int64(q, 1, account_id);
		bind_text(q, 2, hash);
		sqlite3_bind_int64(q, 3, at);
		err = exec_simple(s, q);
	}
	if (err == GV_OK) {
		q = stmt_get(s, Q_PWHIST_TRIM);
		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, account_id);
			sqlite3_bind_int(q, 2, keep);
			err = exec_simple(s, q);
		}
	}
	if (err == GV_OK)
		err = tx(s, Q_COMMIT);
	if (err != GV_OK)
		(void)tx(s, Q_ROLLBACK);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_pwhist_list(struct gv_store *st, int64_t account_id, int limit, store_text_cb cb,
			     void *ctx)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_PWHIST_LIST);
	if (q) {
		sqlite3_bind_int64(q, 1, account_id);
		sqlite3_bind_int(q, 2, limit);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			if (cb((const char *)sqlite3_column_text(q, 0), ctx))
				break;
		err = rc == SQLITE_ROW ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Runs the one-parameter (account id) statement id. */
static gv_err exec_account(struct sqlite_store *s, enum stmt_id id, int64_t account_id)
{
	sqlite3_stmt *q = stmt_get(s, id);

	if (!q)
		return GV_ERR_STORE;
	sqlite3_bind_int64(q, 1, account_id);
	return exec_simple(s, q);
}

static gv_err sq_recovery_stage(struct gv_store *st, int64_t account_id,
				const char *const *hashes, size_t n)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = tx(s, Q_BEGIN);
	if (err != GV_OK)
		goto out;
	err = exec_account(s, Q_RECOVERY_CLEAR, account_id);
	for (size_t i = 0; err == GV_OK && i < n; i++) {
		q = stmt_get(s, Q_RECOVERY_ADD);
		err = GV_ERR_STORE;
		if (q) {
			sqlite3_bind_int64(q, 1, account_id);
			bind_text(q, 2, hashes[i]);
			err = exec_simple(s, q);
		}
	}
	if (err == GV_OK)
		err = tx(s, Q_COMMIT);
	if (err != GV_OK)
		(void)tx(s, Q_ROLLBACK);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_recovery_activate(struct gv_store *st, int64_t account_id)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = tx(s, Q_BEGIN);
	if (err != GV_OK)
		goto out;
	err = exec_account(s, Q_RECOVERY_DROP_ACTIVE, account_id);
	if (err == GV_OK)
		err = exec_account(s, Q_RECOVERY_ACTIVATE, account_id);
	if (err == GV_OK)
		err = tx(s, Q_COMMIT);
	if (err != GV_OK)
		(void)tx(s, Q_ROLLBACK);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_recovery_consume(struct gv_store *st, int64_t account_id, const char *hash)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_RECOVERY_CONSUME);
	if (q) {
		sqlite3_bind_int64(q, 1, account_id);
		bind_text(q, 2, hash);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_recovery_count(struct gv_store *st, int64_t account_id, int *out)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	*out = 0;
	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_RECOVERY_COUNT);
	if (q) {
		sqlite3_bind_int64(q, 1, account_id);
		if (sqlite3_step(q) == SQLITE_ROW) {
			*out = sqlite3_column_int(q, 0);
			err = GV_OK;
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_insert(struct gv_store *st, const struct store_session *ss)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, Q_SESSION_INSERT);
	if (q) {
		bind_text(q, 1, ss->id);
		bind_text(q, 2, ss->token_hash);
		sqlite3_bind_int64(q, 3, ss->account_id);
		sqlite3_bind_int(q, 4, ss->stage);
		sqlite3_bind_int64(q, 5, ss->created_at);
		sqlite3_bind_int64(q, 6, ss->last_seen);
		bind_text(q, 7, ss->ip);
		bind_text(q, 8, ss->device_fp);
		err = exec_simple(s, q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static void session_read(sqlite3_stmt *q, struct store_session *out)
{
	memset(out, 0, sizeof(*out));
	col_text(q, 0, out->id, sizeof(out->id));
	col_text(q, 1, out->token_hash, sizeof(out->token_hash));
	out->account_id = sqlite3_column_int64(q, 2);
	col_text(q, 3, out->username, sizeof(out->username));
	out->stage = sqlite3_column_int(q, 4);
	out->created_at = sqlite3_column_int64(q, 5);
	out->last_seen = sqlite3_column_int64(q, 6);
	col_text(q, 7, out->ip, sizeof(out->ip));
	col_text(q, 8, out->device_fp, sizeof(out->device_fp));
}

static gv_err sq_session_get(struct gv_store *st, const char *token_hash, struct store_session *out)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (sqc_session_get(s, token_hash, out)) {
		pthread_mutex_unlock(&s->lock);
		return GV_OK;
	}
	q = stmt_get(s, Q_SESSION_GET);
	if (q) {
		bind_text(q, 1, token_hash);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			session_read(q, out);
			sqc_session_put(s, out);
			err = GV_OK;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_update(struct gv_store *st, const struct store_session *ss)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	sqc_session_drop(s, ss);
	q = stmt_get(s, Q_SESSION_UPDATE);
	if (q) {
		bind_text(q, 1, ss->id);
		sqlite3_bind_int(q, 2, ss->stage);
		sqlite3_bind_int64(q, 3, ss->last_seen);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_delete(struct gv_store *st, const char *id)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	sqc_session_drop_where(s, id, 0);
	q = stmt_get(s, Q_SESSION_DELETE);
	if (q) {
		bind_text(q, 1, id);
		err = exec_simple(s, q);
		if (err == GV_OK && sqlite3_changes(s->db) == 0)
			err = GV_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_delete_account(struct gv_store *st, int64_t account_id, int *deleted)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	if (deleted)
		*deleted = 0;
	pthread_mutex_lock(&s->lock);
	sqc_session_drop_where(s, NULL, account_id);
	q = stmt_get(s, Q_SESSION_DELETE_ACCOUNT);
	if (q) {
		sqlite3_bind_int64(q, 1, account_id);
		err = exec_simple(s, q);
		if (err == GV_OK && deleted)
			*deleted = sqlite3_changes(s->db);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_list(struct gv_store *st, int64_t account_id, store_session_cb cb,
			      void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct store_session row;
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc;

	pthread_mutex_lock(&s->lock);
	q = stmt_get(s, account_id ? Q_SESSION_LIST_ACCOUNT : Q_SESSION_LIST);
	if (q) {
		if (account_id)
			sqlite3_bind_int64(q, 1, account_id);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			session_read(q, &row);
			if (cb(&row, ctx))
				break;
		}
		err = rc == SQLITE_ROW ? GV_OK : map_rc(s, rc);
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_session_purge(struct gv_store *st, int64_t idle_before, int64_t created_before)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	sqc_session_drop_all(s);
	q = stmt_get(s, Q_SESSION_PURGE);
	if (q) {
		sqlite3_bind_int64(q, 1, idle_before);
		sqlite3_bind_int64(q, 2, created_before);
		err = exec_simple(s, q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_role_get(struct gv_store *st, const char *role, char *ip, size_t iplen,
			  char *windows, size_t winlen)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;
	int rc, fits;

	ip[0] = windows[0] = '\0';
	pthread_mutex_lock(&s->lock);
	if (sqc_role_get(s, role, ip, iplen, windows, winlen, &err)) {
		pthread_mutex_unlock(&s->lock);
		return err;
	}
	q = stmt_get(s, Q_ROLE_GET);
	if (q) {
		bind_text(q, 1, role);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			fits = col_text(q, 0, ip, iplen);
			fits &= col_text(q, 1, windows, winlen);
			/* A cut list would be another list: refused, as from memory. */
			err = fits ? GV_OK : GV_ERR_TOO_LARGE;
		} else {
			err = rc == SQLITE_DONE ? GV_ERR_NOT_FOUND : map_rc(s, rc);
		}
		if (err == GV_OK || err == GV_ERR_NOT_FOUND)
			sqc_role_put(s, role, err == GV_OK, ip, windows);
		else if (err == GV_ERR_TOO_LARGE)
			ip[0] = windows[0] = '\0';
		stmt_done(q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static gv_err sq_role_set(struct gv_store *st, const char *role, const char *ip,
			  const char *windows)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err = GV_ERR_STORE;

	pthread_mutex_lock(&s->lock);
	sqc_role_drop_all(s);
	q = stmt_get(s, Q_ROLE_SET);
	if (q) {
		bind_text(q, 1, role);
		bind_text(q, 2, ip);
		bind_text(q, 3, windows);
		err = exec_simple(s, q);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}


static void sq_close(struct gv_store *st)
{
	struct sqlite_store *s = impl(st);

	for (int i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqd_finalize(s);
	sqb_finalize(s);
	sqp_finalize(s);
	sqs_finalize(s);
	sqlite3_close(s->db);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	sqc_close(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.account_insert = sq_account_insert,
	.account_get = sq_account_get,
	.account_get_id = sq_account_get_id,
	.account_update = sq_account_update,
	.account_list = sq_account_list,
	.pwhist_add = sq_pwhist_add,
	.pwhist_list = sq_pwhist_list,
	.recovery_stage = sq_recovery_stage,
	.recovery_activate = sq_recovery_activate,
	.recovery_consume = sq_recovery_consume,
	.recovery_count = sq_recovery_count,
	.session_insert = sq_session_insert,
	.session_get = sq_session_get,
	.session_update = sq_session_update,
	.session_delete = sq_session_delete,
	.session_delete_account = sq_session_delete_account,
	.session_list = sq_session_list,
	.session_purge = sq_session_purge,
	.role_get = sq_role_get,
	.role_set = sq_role_set,
	.generation = sqd_generation,
	.dataset_insert = sqd_dataset_insert,
	.dataset_get = sqd_dataset_get,
	.dataset_get_id = sqd_dataset_get_id,
	.dataset_update = sqd_dataset_update,
	.dataset_list = sqd_dataset_list,
	.datakey_put = sqd_datakey_put,
	.datakey_get = sqd_datakey_get,
	.record_put = sqd_record_put,
	.record_get = sqd_record_get,
	.record_history = sqd_record_history,
	.record_find = sqd_record_find,
	.record_scan = sqd_record_scan,
	.index_exists = sqd_index_exists,
	.record_stale_keys = sqd_record_stale_keys,
	.record_rekey = sqd_record_rekey,
	.datakey_latest = sqd_datakey_latest,
	.datakey_list = sqd_datakey_list,
	.datakey_replace_all = sqd_datakey_replace_all,
	.datakey_retire = sqd_datakey_retire,
	.datakey_usage = sqd_datakey_usage,
	.meta_get = sqb_meta_get,
	.meta_put = sqb_meta_put,
	.batch_insert = sqb_batch_insert,
	.batch_write = sqb_batch_write,
	.index_add = sqb_index_add,
	.batch_finish = sqb_batch_finish,
	.writeback = sqb_writeback,
	.batch_get = sqb_batch_get,
	.batch_list = sqb_batch_list,
	.batch_loading = sqb_batch_loading,
	.batch_recover = sqb_batch_recover,
	.raw_row_list = sqb_raw_row_list,
	.raw_row_get = sqb_raw_row_get,
	.raw_row_resolve = sqb_raw_row_resolve,
	.raw_row_stale_keys = sqb_raw_row_stale_keys,
	.raw_row_rekey = sqb_raw_row_rekey,
	.grant_insert = sqp_grant_insert,
	.grant_update = sqp_grant_update,
	.grant_get = sqp_grant_get,
	.grant_list = sqp_grant_list,
	.grant_use = sqp_grant_use,
	.profile_put = sqp_profile_put,
	.profile_get = sqp_profile_get,
	.profile_list = sqp_profile_list,
	.share_commit = sqs_share_commit,
	.share_request_get = sqs_share_request_get,
	.share_request_list = sqs_share_request_list,
	.share_event_list = sqs_share_event_list,
	.share_depts_get = sqs_share_depts_get,
	.share_depts_put = sqs_share_depts_put,
	.service_list = sqs_service_list,
	.service_get = sqs_service_get,
	.service_update = sqs_service_update,
	.consumer_insert = sqs_consumer_insert,
	.consumer_update = sqs_consumer_update,
	.consumer_get = sqs_consumer_get,
	.consumer_list = sqs_consumer_list,
	.lineage_add = sqb_lineage_add,
	.lineage_list = sqb_lineage_list,
};

static gv_err migrate(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int version = 0;
	char *msg = NULL;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return GV_ERR_STORE;
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > (int)GV_ARRAY_LEN(migrations)) {
		log_error("sqlite: database schema %d is newer than this build (%d)", version,
			  (int)GV_ARRAY_LEN(migrations));
		return GV_ERR_STORE;
	}
	for (int v = version; v < (int)GV_ARRAY_LEN(migrations); v++) {
		char pragma[48];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		/* Fixed, compiled-in DDL: the only place exec() is used rather than binding. */
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			log_error("sqlite: migration %d failed: %s", v + 1, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return GV_ERR_STORE;
		}
		log_info("sqlite: applied schema migration %d", v + 1);
	}
	return GV_OK;
}

/* Statement journals in memory up to 1 MiB.  A many-row insert into a table with a
 * foreign key (an import's records and raw rows) runs as a statement that can be
 * undone alone, and SQLite keeps the original of every page it changes in a statement
 * journal.  Past SQLite's 64 KiB that journal went to a new temporary file in each
 * transaction: 60 MB of writes for a 20 MB import.  Such a statement changes a few
 * pages; a statement that changes many still spills.  Set once, before SQLite starts
 * (it refuses later, which leaves only the default). */
#define STMT_JOURNAL_MEM (1 << 20)

/* SQLite's page cache, as much as cache_size asks (64 MiB of 8 KiB pages), in one
 * region of transparent huge pages: pages are given to the cache as it fills, and an
 * import fills it by some 5,000 pages, each of which cost a page fault on memory
 * malloc had fresh from the kernel (15 % of the writer thread's time).  Address space
 * only until used; a page that does not fit, or one past the region, comes from malloc
 * as before. */
#define PAGECACHE_BYTES ((size_t)64 << 20)
#define PAGECACHE_PAGE 8192
#define HUGE_PAGE ((size_t)2 << 20)

static void pagecache_configure(void)
{
	int hdr = 0;
	size_t line;
	char *map, *at;

	if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK || hdr < 0)
		return;
	line = PAGECACHE_PAGE + (size_t)hdr;
	map = mmap(NULL, PAGECACHE_BYTES + HUGE_PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return;
	at = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	(void)madvise(at, PAGECACHE_BYTES, MADV_HUGEPAGE);   /* a hint: without it, 4 KiB pages */
	(void)madvise(map, PAGECACHE_BYTES + HUGE_PAGE, MADV_DONTDUMP);   /* grade-1 pages are clear */
	if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, at, (int)line, (int)(PAGECACHE_BYTES / line)) !=
	    SQLITE_OK)
		munmap(map, PAGECACHE_BYTES + HUGE_PAGE);
}

static void sq_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_MEM);
	pagecache_configure();
}

/* The write-ahead log, opened read-only for writeback (sqlite_batch.c); an in-memory
 * database has none. */
static void wal_open(struct sqlite_store *s)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	char path[4096];

	if (db && *db && (size_t)snprintf(path, sizeof(path), "%s-wal", db) < sizeof(path))
		s->wal_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

gv_err store_sqlite_open(const char *path, struct gv_store **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	struct sqlite_store *s;
	gv_err err = GV_ERR_STORE;

	*out = NULL;
	pthread_once(&once, sq_configure);
	s = calloc(1, sizeof(*s));
	if (!s)
		return GV_ERR_NOMEM;
	s->base.ops = &sqlite_ops;
	s->wal_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (sqc_open(s) != GV_OK) {
		free(s);
		return GV_ERR_NOMEM;
	}
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("sqlite: cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "?");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* 64 MiB of page cache instead of SQLite's 2 MiB: an import appends to several
	 * B-trees at once, and with the small cache each commit read their pages back from
	 * the OS. */
	if (sqlite3_exec(s->db,
			 "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA foreign_keys=ON;"
			 "PRAGMA secure_delete=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	err = migrate(s->db);
	if (err != GV_OK)
		goto out;
	wal_open(s);
	*out = &s->base;
	s = NULL;
out:
	if (s)
		sq_close(&s->base);
	return err;
}

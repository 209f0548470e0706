/* store.h - the storage interface: records govvault keeps and the operations on them.
 *
 * A backend fills a `struct store_ops` and embeds `struct gv_store` as its first
 * member.  Nothing outside a backend's own file sees its database types or SQL.  The
 * SQLite backend (sqlite.c) is the embedded default; PostgreSQL arrives later behind
 * the same table.  Every write is durable when the call returns. */
#ifndef GV_STORE_STORE_H
#define GV_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/error.h"

enum account_status {
	ACCOUNT_PENDING,
	ACCOUNT_ACTIVE,
	ACCOUNT_LOCKED,
	ACCOUNT_DISABLED,
	ACCOUNT_EXPIRED,
};

#define STORE_NAME_LEN 65
#define STORE_TEXT_LEN 129
#define STORE_LIST_LEN 1025
#define STORE_SEALED_MAX 64

struct store_account {
	int64_t id;
	char username[STORE_NAME_LEN];
	char full_name[STORE_TEXT_LEN];
	char department[STORE_TEXT_LEN];
	char contact[STORE_TEXT_LEN];
	unsigned roles;                  /* bit mask of enum role (auth/role.h) */
	int status;                      /* enum account_status */
	char status_reason[STORE_NAME_LEN];
	int outsourced;
	int64_t expires_at;              /* unix seconds, 0 = no expiry */
	int clearance;                   /* highest data grade the account may be cleared for: 1..3 */
	char created_by[STORE_NAME_LEN];
	char approved_by[STORE_NAME_LEN];
	int64_t approved_at;
	char ip_allowlist[STORE_LIST_LEN];   /* comma-separated CIDRs, empty = any */
	char time_windows[513];              /* see common/timewin.h, empty = any */
	char device_fps[STORE_LIST_LEN];     /* comma-separated SHA-256 hex of client certs */
	char pw_hash[256];               /* Argon2id encoded string */
	int64_t pw_changed_at;
	int must_change_pw;
	int failed_pw;
	int failed_totp;
	int64_t locked_until;
	int totp_enabled;
	unsigned char totp_secret[STORE_SEALED_MAX];   /* SM4-GCM sealed */
	size_t totp_secret_len;
	unsigned char totp_pending[STORE_SEALED_MAX];  /* sealed secret awaiting confirmation */
	size_t totp_pending_len;
	int64_t totp_last_step;          /* last accepted TOTP counter, refuses replay */
	int64_t last_login_at;
	int64_t created_at;
	int64_t updated_at;
};

/* Session stages: what the holder of the token must do next. */
enum session_stage {
	SESSION_ACTIVE,
	SESSION_PASSWORD_CHANGE,
	SESSION_TOTP_ENROLL,
	SESSION_TOTP_VERIFY,
};

struct store_session {
	char id[33];                 /* public identifier, safe to show and log */
	char token_hash[65];         /* HMAC-SM3 hex of the bearer token */
	int64_t account_id;
	char username[STORE_NAME_LEN];
	int stage;                   /* enum session_stage */
	int64_t created_at;
	int64_t last_seen;
	char ip[64];
	char device_fp[65];
};

/* A dataset of the catalog (data/catalog.h for the schema and grades). */
struct store_dataset {
	int64_t id;
	char name[64];
	char title[129];
	char department[129];         /* the owning department: reads are limited to it */
	char owner[65];               /* the data owner account that registered it */
	char category[129];           /* business category */
	char description[1025];
	char legal_basis[513];
	int retention_days;
	int64_t expected_rows;
	char schema[16384];           /* catalog schema JSON */
	int grade;                    /* 1..3 in force */
	int grade_suggested;
	char grade_reason[257];
	int grade_confirmed;          /* secadmin has confirmed or set the grade */
	char confirmed_by[65];
	int pending_grade;            /* a lowering waiting for the second person; 0 = none */
	char pending_by[65];
	char pending_reason[257];
	char created_by[65];
	int64_t created_at;
	int64_t updated_at;
	char quality_rules[16384];    /* JSON array (data/quality.h), "[]" = none */
};

/* One version of a record: body as stored (see data/records.c for its formats). */
struct store_record {
	int64_t dataset_id;
	char record_id[65];
	int64_t version;
	int key_version;
	unsigned char *body;          /* owned by the reader's callback scope; see ops */
	size_t body_len;
	char created_by[65];
	int64_t created_at;
	int64_t batch_id;             /* provenance: the import batch and its raw row, */
	int64_t raw_row;              /* 0 when the version was written through the API */
};

/* Import batches (data/import.h).  A batch's records stay invisible to every read
 * until its state is BATCH_COMMITTED, which one update sets: a batch is there whole
 * or not at all, whatever happens to the process while it loads. */
enum batch_state { BATCH_LOADING, BATCH_COMMITTED, BATCH_REJECTED, BATCH_FAILED };

struct store_batch {
	int64_t id;
	int64_t dataset_id;
	char format[8];               /* csv | jsonl */
	char source[129];             /* the source system the client names */
	char submitted_by[65];
	int64_t submitted_at, finished_at;
	int state;                    /* enum batch_state */
	char state_reason[257];
	char sm3[65];                 /* of the body as received */
	char declared_sm3[65];        /* what the client said it sent ("" = nothing) */
	int64_t bytes, rows, accepted, flagged, quarantined, corrected, discarded;
	char report[32768];           /* quality report JSON */
};

/* Every row of a batch as received (sealed), with what became of it. */
enum raw_status { RAW_ACCEPTED, RAW_FLAGGED, RAW_QUARANTINED, RAW_CORRECTED, RAW_DISCARDED,
		  RAW__COUNT };

struct store_raw_row {
	int64_t batch_id;
	int64_t row_no;               /* the reader's record number (CSV header = 1) */
	int64_t line_no;
	int key_version;
	const unsigned char *sealed;  /* borrowed */
	size_t sealed_len;
	int status;                   /* enum raw_status */
	const char *reasons;          /* JSON array, never values */
	const char *record_id;        /* the record made from it, "" when none */
	const char *resolved_by;
	int64_t resolved_at;
	const char *resolution;       /* discard reason */
	/* 0: sealed holds this row alone.  Otherwise the first row of the block that
	 * holds it (data/rawblock.h), and sealed and key_version are the block's. */
	int64_t block_row;
};

/* A sealed block of rows as received (data/rawblock.h), rows first_row.. of a batch. */
struct store_raw_block {
	int64_t batch_id;
	int64_t first_row;
	int rows;                     /* how many rows it holds */
	int key_version;
	const unsigned char *sealed;  /* borrowed */
	size_t sealed_len;
};

/* Access grants (policy/grant.h). */
enum grant_subject { GRANT_ACCOUNT, GRANT_ROLE, GRANT_DEPARTMENT };
enum grant_state { GRANT_PENDING, GRANT_ACTIVE, GRANT_REVOKED };

struct store_grant {
	int64_t id;
	int64_t dataset_id;
	int subject_type;             /* enum grant_subject */
	char subject[129];            /* username, role name or department */
	unsigned actions;             /* bit mask of enum policy_action */
	char fields[1025];            /* comma list of fields; "" = every field */
	char row_field[64];           /* row condition: row_field = row_value ... */
	char row_value[129];
	int row_subject;              /* ... or, when 1, = the subject's department */
	char purposes[1025];          /* comma list of declared purposes allowed */
	int64_t valid_from, valid_until;
	char time_windows[513];       /* common/timewin.h; "" = any time */
	char ip_ranges[1025];         /* comma list of CIDRs; "" = any address */
	int64_t max_rows_request;     /* 0 = no cap */
	int64_t max_rows_day;
	char mask_profile[65];        /* "" = the grade's default profile */
	char reason[257];
	int state;                    /* enum grant_state */
	char created_by[65];
	char approved_by[65];
	char revoked_by[65];
	int64_t created_at, approved_at, revoked_at;
};

/* Sharing (share/share.h).  A request asks to share a dataset with a department, or
 * to open it to the public; its review steps are kept as events; approval makes a
 * grant and, when asked, a data service; consumers are other departments'
 * applications that call services. */
enum share_kind { SHARE_KIND_SHARE, SHARE_KIND_OPEN };
enum share_state { SHARE_PENDING, SHARE_RETURNED, SHARE_APPROVED, SHARE_REJECTED,
		   SHARE_REVOKED, SHARE_WITHDRAWN };

struct store_share_request {
	int64_t id;
	int64_t dataset_id;
	int kind;                     /* enum share_kind */
	char requester[65];           /* the account that asked */
	char department[129];         /* the requesting department */
	char fields[1025];            /* comma list; "" = every field */
	unsigned actions;             /* bit mask of enum policy_action */
	char purpose[128];
	char legal_basis[513];
	int64_t valid_from, valid_until;
	int64_t expected_rows_day;    /* the volume asked for: the grant's rows per day */
	char mask_profile[65];        /* "" = the grade's default */
	char service[4096];           /* the data service asked for (JSON), "" = none */
	int state;                    /* enum share_state */
	int needs_owner, needs_secadmin;   /* approvals the grade requires */
	char owner_by[65];            /* who gave each approval ("" = not yet) */
	int64_t owner_at;
	char secadmin_by[65];
	int64_t secadmin_at;
	int64_t grant_id;             /* made on approval; 0 = none */
	int64_t service_id;
	int64_t created_at, updated_at;
};

/* One step in a request's life: created, amended, approved, narrowed, returned,
 * rejected, revoked, withdrawn; with the actor's comment. */
struct store_share_event {
	int64_t request_id;
	int64_t at;
	char actor[65];
	char step[24];
	char comment[513];
	char scope[1025];             /* what a narrowing changed, "" otherwise */
};

enum service_state { SERVICE_ACTIVE, SERVICE_REVOKED };

/* A version of a data service: a named endpoint over one dataset (share/service.h). */
struct store_service {
	int64_t id;
	char name[64];
	int version;                  /* 1, 2, ... per name */
	int64_t dataset_id;
	int64_t request_id;           /* the approval that made it */
	int64_t grant_id;             /* the grant it serves under; 0 for an open service */
	char department[129];         /* whose consumers may call it; "" = open to any */
	int open;                     /* listed in the public catalogue */
	char fields[1025];            /* returned fields, comma list; "" = every field */
	char mask_profile[65];
	char params[4096];            /* parameter specs, JSON array (share/params.h) */
	int max_rows;                 /* per call */
	int rate_per_minute;          /* per consumer */
	int64_t valid_until;
	int state;                    /* enum service_state */
	char created_by[65];
	int64_t created_at;
	char revoked_by[65];
	int64_t revoked_at;
};

enum consumer_state { CONSUMER_ACTIVE, CONSUMER_REVOKED };

/* An application of a department that calls services. */
struct store_consumer {
	int64_t id;
	char client_id[33];           /* public: "gvc_" + 16 hex */
	char name[129];
	char department[129];
	char secret_hash[65];         /* HMAC-SM3 hex of the secret (token key); never the secret */
	char cert_fp[65];             /* SHA-256 hex of its client certificate; "" = none */
	char ip_allowlist[1025];      /* comma list of CIDRs; never empty */
	char services[1025];          /* comma list of service names it may call */
	int state;                    /* enum consumer_state */
	char created_by[65];
	int64_t created_at;
	char revoked_by[65];
	int64_t revoked_at;
	int64_t updated_at;
};

/* An index entry of a record: a blind-index token of one field. */
struct store_index_entry {
	const char *field;
	const char *token;            /* hex HMAC-SM3 */
};

struct gv_store;

typedef int (*store_record_cb)(const struct store_record *r, void *ctx);
typedef int (*store_dataset_cb)(const struct store_dataset *d, void *ctx);
typedef int (*store_account_cb)(const struct store_account *a, void *ctx);
typedef int (*store_session_cb)(const struct store_session *s, void *ctx);
typedef int (*store_text_cb)(const char *text, void *ctx);
typedef int (*store_batch_cb)(const struct store_batch *b, void *ctx);
typedef int (*store_raw_row_cb)(const struct store_raw_row *r, void *ctx);
typedef int (*store_grant_cb)(const struct store_grant *g, void *ctx);
typedef int (*store_profile_cb)(const char *name, int version, const char *json,
				const char *created_by, int64_t created_at, void *ctx);
typedef int (*store_share_request_cb)(const struct store_share_request *r, void *ctx);
typedef int (*store_share_event_cb)(const struct store_share_event *e, void *ctx);
typedef int (*store_service_cb)(const struct store_service *s, void *ctx);
typedef int (*store_consumer_cb)(const struct store_consumer *c, void *ctx);
typedef int (*store_lineage_cb)(const char *dataset, const char *transformation, void *ctx);

/* One imported row as batch_write stores it: the raw row, and the record made from
 * it (rec NULL for a quarantined row).  Its index entries come with index_add. */
struct store_import_row {
	struct store_raw_row raw;
	const struct store_record *rec;
};

/* An index entry of an imported record (index_add). */
struct store_index_row {
	const char *field;
	const char *token;            /* hex HMAC-SM3 */
	const char *record_id;
	int64_t version;
};

/* Callbacks return 0 to continue, non-zero to stop early (not an error). */
struct store_ops {
	const char *name;
	void (*close)(struct gv_store *st);

	gv_err (*account_insert)(struct gv_store *st, struct store_account *a);
	gv_err (*account_get)(struct gv_store *st, const char *username, struct store_account *out);
	gv_err (*account_get_id)(struct gv_store *st, int64_t id, struct store_account *out);
	gv_err (*account_update)(struct gv_store *st, const struct store_account *a);
	gv_err (*account_list)(struct gv_store *st, store_account_cb cb, void *ctx);

	gv_err (*pwhist_add)(struct gv_store *st, int64_t account_id, const char *hash,
			     int64_t at, int keep);
	gv_err (*pwhist_list)(struct gv_store *st, int64_t account_id, int limit,
			      store_text_cb cb, void *ctx);

	/* Recovery codes of a TOTP enrolment are staged (pending, unusable) and replace
	 * the account's active codes only on activate, when the new secret is confirmed;
	 * staging again discards earlier pending codes.  consume/count see active codes. */
	gv_err (*recovery_stage)(struct gv_store *st, int64_t account_id,
				 const char *const *hashes, size_t n);
	gv_err (*recovery_activate)(struct gv_store *st, int64_t account_id);
	gv_err (*recovery_consume)(struct gv_store *st, int64_t account_id, const char *hash);
	gv_err (*recovery_count)(struct gv_store *st, int64_t account_id, int *out);

	gv_err (*session_insert)(struct gv_store *st, const struct store_session *s);
	gv_err (*session_get)(struct gv_store *st, const char *token_hash, struct store_session *out);
	gv_err (*session_update)(struct gv_store *st, const struct store_session *s);
	gv_err (*session_delete)(struct gv_store *st, const char *id);
	gv_err (*session_delete_account)(struct gv_store *st, int64_t account_id, int *deleted);
	gv_err (*session_list)(struct gv_store *st, int64_t account_id, store_session_cb cb, void *ctx);
	gv_err (*session_purge)(struct gv_store *st, int64_t idle_before, int64_t created_before);

	/* A role's restrictions; GV_ERR_NOT_FOUND when it has none, GV_ERR_TOO_LARGE
	 * (both lists empty) when a list does not fit, since a cut list is another list. */
	gv_err (*role_get)(struct gv_store *st, const char *role, char *ip, size_t iplen,
			   char *windows, size_t winlen);
	gv_err (*role_set)(struct gv_store *st, const char *role, const char *ip, const char *windows);

	/* A number that changes whenever a dataset or a dataset key is written, so that
	 * copies of them held in memory (data/records.c) know when they are stale. */
	uint64_t (*generation)(struct gv_store *st);

	/* Catalog. insert sets d->id; GV_ERR_EXISTS for a taken name. */
	gv_err (*dataset_insert)(struct gv_store *st, struct store_dataset *d);
	gv_err (*dataset_get)(struct gv_store *st, const char *name, struct store_dataset *out);
	gv_err (*dataset_get_id)(struct gv_store *st, int64_t id, struct store_dataset *out);
	gv_err (*dataset_update)(struct gv_store *st, const struct store_dataset *d);
	gv_err (*dataset_list)(struct gv_store *st, store_dataset_cb cb, void *ctx);

	/* Wrapped keys of a dataset (crypto/datakey.h): kind 0 data, 1 index. put is
	 * GV_ERR_EXISTS for a (dataset, kind, version) already stored. */
	gv_err (*datakey_put)(struct gv_store *st, int64_t dataset_id, int kind, int version,
			      const unsigned char *wrapped, size_t len);
	gv_err (*datakey_get)(struct gv_store *st, int64_t dataset_id, int kind, int version,
			      unsigned char *out, size_t max, size_t *len);
	/* Highest stored version of a kind; GV_ERR_NOT_FOUND when none. */
	gv_err (*datakey_latest)(struct gv_store *st, int64_t dataset_id, int kind, int *version);
	/* Every wrapped key of every dataset (master-key rotation). */
	gv_err (*datakey_list)(struct gv_store *st,
			       int (*cb)(int64_t dataset_id, int kind, int version,
					 const unsigned char *wrapped, size_t len, void *ctx),
			       void *ctx);
	/* Replaces every wrapped key (same count) and the named meta values, in one
	 * transaction: master-key rotation is all or nothing. */
	gv_err (*datakey_replace_all)(struct gv_store *st, const int64_t *dataset_ids,
				      const int *kinds, const int *versions,
				      const unsigned char *const *wrapped, const size_t *lens, size_t n,
				      const char *const *meta_names, const unsigned char *const *meta,
				      const size_t *meta_lens, size_t nmeta);
	/* Deletes a data-key version no record or raw row uses any more; GV_ERR_STATE if
	 * one still does. */
	gv_err (*datakey_retire)(struct gv_store *st, int64_t dataset_id, int version);
	/* Records and raw rows still sealed under a data-key version. */
	gv_err (*datakey_usage)(struct gv_store *st, int64_t dataset_id, int version,
				int64_t *records, int64_t *raw_rows);
	/* Small named values kept beside the data (wrapped service keys, key check). */
	gv_err (*meta_get)(struct gv_store *st, const char *name, unsigned char *out, size_t max,
			   size_t *len);
	gv_err (*meta_put)(struct gv_store *st, const char *name, const unsigned char *value,
			   size_t len);

	/* Records are versioned: put stores r as version r->version, which must be the
	 * current version + 1 (GV_ERR_EXISTS otherwise, so concurrent writers cannot both
	 * win; GV_ERR_NOT_FOUND for an update of a record that does not exist), and
	 * indexes it under idx, in one transaction.  Entries made for earlier versions
	 * stay but no longer find the record. */
	gv_err (*record_put)(struct gv_store *st, const struct store_record *r,
			     const struct store_index_entry *idx, size_t nidx);
	/* version 0 = current.  cb gets the record with body valid during the call. */
	gv_err (*record_get)(struct gv_store *st, int64_t dataset_id, const char *record_id,
			     int64_t version, store_record_cb cb, void *ctx);
	/* Every version, oldest first. */
	gv_err (*record_history)(struct gv_store *st, int64_t dataset_id, const char *record_id,
				 store_record_cb cb, void *ctx);
	/* Current records whose field has the token (at most limit). */
	gv_err (*record_find)(struct gv_store *st, int64_t dataset_id, const char *field,
			      const char *token, int limit, store_record_cb cb, void *ctx);
	/* Every current record, in record id order, after after_id ("" = from the start). */
	gv_err (*record_scan)(struct gv_store *st, int64_t dataset_id, const char *after_id,
			      int limit, store_record_cb cb, void *ctx);
	/* 1 in *found if a visible record has the token (a loading batch's records are
	 * not visible, even once their entries are added: data/import.c remembers its
	 * own values). */
	gv_err (*index_exists)(struct gv_store *st, int64_t dataset_id, const char *field,
			       const char *token, int *found);
	/* Up to limit record versions sealed under key versions below key_version. */
	gv_err (*record_stale_keys)(struct gv_store *st, int64_t dataset_id, int key_version,
				    int limit, store_record_cb cb, void *ctx);
	/* Replaces the body of one stored version if it is still under old_key_version
	 * (GV_ERR_STATE otherwise): key rotation re-seals in place. */
	gv_err (*record_rekey)(struct gv_store *st, const struct store_record *r,
			       int old_key_version);

	/* Import batches.  insert sets b->id (state BATCH_LOADING). */
	gv_err (*batch_insert)(struct gv_store *st, struct store_batch *b);
	/* Stores n rows of a loading batch and the nblocks blocks holding them, in one
	 * transaction.  Neither it nor index_add need be durable on its own (a backend
	 * may commit them without waiting for the disk): batch_finish's commit is, with
	 * all they wrote, and a batch still loading after a crash is failed and dropped
	 * (batch_recover). */
	gv_err (*batch_write)(struct gv_store *st, int64_t batch_id,
			      const struct store_import_row *rows, size_t n,
			      const struct store_raw_block *blocks, size_t nblocks);
	/* Adds n index entries of the records of loading batch batch_id (of dataset_id;
	 * GV_ERR_STATE otherwise), in one transaction; should the batch fail, the entries
	 * naming its records are taken out (entries naming other records are the
	 * caller's mistake and stay).  They find nothing while the batch
	 * loads.  An import adds them at its end in the index's order (field, token,
	 * record, version), where a page is written once for many entries, not once for
	 * each as entries in row order would. */
	gv_err (*index_add)(struct gv_store *st, int64_t batch_id, int64_t dataset_id,
			    const struct store_index_row *rows, size_t n);
	/* Sets the final state, counts and report, durably; a batch that is not committed
	 * loses its rows, records and index entries in the same transaction. */
	gv_err (*batch_finish)(struct gv_store *st, const struct store_batch *b);
	/* Starts writing what was committed out to the disk, without waiting: a hint, from
	 * any thread, that batch_finish's sync will need it.  An import gives it after each
	 * chunk, so that the last sync has little left and the writer thread does not do
	 * the starting. */
	void (*writeback)(struct gv_store *st);
	gv_err (*batch_get)(struct gv_store *st, int64_t dataset_id, int64_t id,
			    struct store_batch *out);
	/* Newest first. */
	gv_err (*batch_list)(struct gv_store *st, int64_t dataset_id, store_batch_cb cb, void *ctx);
	/* How many batches of dataset_id are loading now. */
	gv_err (*batch_loading)(struct gv_store *st, int64_t dataset_id, int *n);
	/* Batches left loading by a process that died: failed, their rows removed.  Run at
	 * start, before serving.  *n gets how many. */
	gv_err (*batch_recover)(struct gv_store *st, int *n);
	/* Raw rows of a batch with status (-1 = any) after row after, at most limit. */
	gv_err (*raw_row_list)(struct gv_store *st, int64_t batch_id, int status, int64_t after,
			       int limit, store_raw_row_cb cb, void *ctx);
	gv_err (*raw_row_get)(struct gv_store *st, int64_t batch_id, int64_t row_no,
			      store_raw_row_cb cb, void *ctx);
	/* Settles a quarantined row: status RAW_CORRECTED with rec (stored as a new record
	 * linked to the row) or RAW_DISCARDED with row->resolution.  GV_ERR_STATE when the
	 * row is not quarantined.  The batch's counts follow. */
	gv_err (*raw_row_resolve)(struct gv_store *st, const struct store_raw_row *row,
				  const struct store_record *rec, const struct store_index_entry *idx,
				  size_t nidx);
	/* Up to limit raw rows sealed under key versions below key_version, and their
	 * replacement (same row, new sealed bytes) if still under old_key_version.  A
	 * block comes as a row with row_no = block_row = its first row and no status. */
	gv_err (*raw_row_stale_keys)(struct gv_store *st, int64_t dataset_id, int key_version,
				     int limit, store_raw_row_cb cb, void *ctx);
	gv_err (*raw_row_rekey)(struct gv_store *st, const struct store_raw_row *row,
				int old_key_version);

	/* Grants.  insert sets g->id. */
	gv_err (*grant_insert)(struct gv_store *st, struct store_grant *g);
	gv_err (*grant_update)(struct gv_store *st, const struct store_grant *g);
	gv_err (*grant_get)(struct gv_store *st, int64_t id, struct store_grant *out);
	/* Grants of dataset_id (0 = every dataset), by id. */
	gv_err (*grant_list)(struct gv_store *st, int64_t dataset_id, store_grant_cb cb, void *ctx);
	/* Adds rows to grant_id's count for day (days since the epoch) unless that would pass
	 * max (0 = no cap): GV_ERR_LIMIT then, and nothing is added.  *used gets the count. */
	gv_err (*grant_use)(struct gv_store *st, int64_t grant_id, int64_t day, int64_t rows,
			    int64_t max, int64_t *used);
	/* Masking profiles, versioned: put stores a new version (*version gets it). */
	gv_err (*profile_put)(struct gv_store *st, const char *name, const char *json,
			      const char *by, int64_t at, int *version);
	/* version 0 = the latest. */
	gv_err (*profile_get)(struct gv_store *st, const char *name, int version,
			      store_profile_cb cb, void *ctx);
	/* The latest version of every profile, by name. */
	gv_err (*profile_list)(struct gv_store *st, store_profile_cb cb, void *ctx);

	/* Sharing.  One step of a request's life in one transaction: when grant is not
	 * NULL it is inserted (id 0, setting g->id and req->grant_id) or updated; the
	 * same for svc (an insert takes the next version of svc->name, which it sets,
	 * and sets req->service_id; a service inserted with grant_id or request_id 0 gets
	 * the ids of the grant and request of the same call); then req is inserted (id 0,
	 * setting req->id) or updated - only if its stored state, owner_by and secadmin_by
	 * are still was's (GV_ERR_STATE otherwise: another step came first) - and ev (may
	 * be NULL) is added with ev->request_id = req->id.  A service insert is
	 * GV_ERR_EXISTS when svc->name is used by another dataset or department.  On any
	 * error nothing is written and the ids are as they were. */
	gv_err (*share_commit)(struct gv_store *st, struct store_share_request *req,
			       const struct store_share_request *was,
			       struct store_share_event *ev, struct store_grant *grant,
			       struct store_service *svc);
	gv_err (*share_request_get)(struct gv_store *st, int64_t id,
				    struct store_share_request *out);
	/* Every request, newest first. */
	gv_err (*share_request_list)(struct gv_store *st, store_share_request_cb cb, void *ctx);
	/* The events of a request, oldest first. */
	gv_err (*share_event_list)(struct gv_store *st, int64_t request_id,
				   store_share_event_cb cb, void *ctx);
	/* Departments authorised to receive a dataset (grade 2 and 3 are shared only
	 * with them): comma list, "" = none. put replaces the list. */
	gv_err (*share_depts_get)(struct gv_store *st, int64_t dataset_id, char *out, size_t len);
	gv_err (*share_depts_put)(struct gv_store *st, int64_t dataset_id, const char *list);
	/* Services: every version, by name then version. */
	gv_err (*service_list)(struct gv_store *st, store_service_cb cb, void *ctx);
	/* version 0 = the latest version of name. */
	gv_err (*service_get)(struct gv_store *st, const char *name, int version,
			      struct store_service *out);
	gv_err (*service_update)(struct gv_store *st, const struct store_service *s);
	/* Consumers.  insert sets c->id; GV_ERR_EXISTS for a taken client id. */
	gv_err (*consumer_insert)(struct gv_store *st, struct store_consumer *c);
	gv_err (*consumer_update)(struct gv_store *st, const struct store_consumer *c);
	gv_err (*consumer_get)(struct gv_store *st, const char *client_id,
			       struct store_consumer *out);
	gv_err (*consumer_list)(struct gv_store *st, store_consumer_cb cb, void *ctx);

	/* Lineage: the datasets a derived dataset was made from. */
	gv_err (*lineage_add)(struct gv_store *st, int64_t dataset_id, int64_t source_id,
			      const char *transformation);
	/* Sources of dataset_id (upstream 1) or datasets made from it (upstream 0). */
	gv_err (*lineage_list)(struct gv_store *st, int64_t dataset_id, int upstream,
			       store_lineage_cb cb, void *ctx);

};

struct gv_store {
	const struct store_ops *ops;
};

/* Opens the backend named by cfg->backend, applying pending schema migrations. */
gv_err store_open(const struct gv_config *cfg, struct gv_store **out) GV_MUST_CHECK;
void store_close(struct gv_store *st);

const char *store_status_name(int status);
int store_status_parse(const char *name);

/* Backend constructors (one per backend file). */
gv_err store_sqlite_open(const char *path, struct gv_store **out) GV_MUST_CHECK;

#endif

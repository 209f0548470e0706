/* import.h - batch import of CSV and JSON Lines files into a dataset, streamed.
 *
 * The body arrives in pieces (import_feed) and is never held whole: rows are parsed
 * as they complete (csvread.h, jsonlread.h), checked against the schema and the
 * dataset's quality rules (quality.h), and written in transactions of up to 1024 rows
 * by a writer thread (import.c).  Every row is kept as received, sealed under the
 * dataset's data key (the "original table"); a row that passes becomes a record linked to its batch and row;
 * a row that fails goes to quarantine with its reasons, never dropped.
 *
 * A batch is all or nothing: its records stay invisible until import_finish commits
 * it in one update (store.h, batch_finish).  A declared SM3 digest that does not
 * match what arrived rejects the whole batch, and so does a CSV header that does not
 * fit the schema; a batch whose upload stops is marked failed and its rows removed,
 * also after a crash (store batch_recover at start). */
#ifndef GV_DATA_IMPORT_H
#define GV_DATA_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/app.h"
#include "data/records.h"

struct import_request {
	const char *dataset;
	const char *source;        /* the source system, 1-128 printable bytes */
	const char *format;        /* "csv" or "jsonl" */
	const char *declared_sm3;  /* 64 hex digits, or NULL */
	uint64_t expected_bytes;   /* the body's declared length; 0: not known */
};

struct import_job;

/* Checks the request and actor's right to write, and opens the batch.  why explains a
 * refusal. */
gv_err import_begin(struct gv_app *app, const struct store_account *actor,
		    const struct import_request *rq, struct import_job **out, char *why,
		    size_t whylen) GV_MUST_CHECK;
/* Consumes the next piece of the body.  Only a failure to store is an error (the job is
 * then finished as failed by import_free); bad content is recorded row by row. */
gv_err import_feed(struct import_job *j, const void *data, size_t len) GV_MUST_CHECK;
/* Ends the input and commits or rejects the batch; out gets it as stored.  GV_OK when
 * committed; GV_ERR_INTEGRITY when the digest did not match and GV_ERR_INVALID when the
 * content as a whole was unusable (why says why; the batch is stored as rejected). */
gv_err import_finish(struct import_job *j, struct store_batch *out, char *why,
		     size_t whylen) GV_MUST_CHECK;
/* Called by import_finish after every row is written and before the batch is committed
 * (not for a rejected batch): anything but GV_OK leaves the batch uncommitted, failed,
 * and import_finish returns it.  The HTTP layer re-checks the caller there, and writes
 * the audit record first, so that a batch is never committed unaudited or for a caller
 * whose access ended during the upload. */
void import_set_commit_check(struct import_job *j, gv_err (*check)(void *ctx, const struct store_batch *b),
			     void *ctx);
/* The id of the job's batch. */
int64_t import_batch_id(const struct import_job *j);
/* Frees a job; one that was not finished has its batch marked failed and its rows
 * removed.  NULL is a no-op. */
void import_free(struct import_job *j);

/* The checks of an import for one record outside a batch run (a quarantine
 * correction): schema, then the quality rules with uniqueness against what is stored
 * (the batch is committed: its records are).  status gets RAW_ACCEPTED, RAW_FLAGGED
 * or RAW_QUARANTINED and reasons (an array) the issues. */
gv_err import_check_record(struct gv_app *app, const struct store_account *actor,
			   struct records_ds *ds, const json_t *data, json_t *reasons,
			   int *status) GV_MUST_CHECK;

/* Names of enum raw_status and enum batch_state ("quarantined", "committed", ...), and
 * the inverse (-1 when unknown). */
const char *import_raw_status_name(int status);
int import_raw_status_parse(const char *name);
const char *import_batch_state_name(int state);

#endif

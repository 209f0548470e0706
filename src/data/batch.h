/* batch.h - import batches after the import (data/import.h): their list and quality
 * report, the rows as received with their quarantine, corrections and discards of
 * quarantined rows, the provenance of a record, and the export of a dataset.
 *
 * Batch metadata is visible to secadmin and the department's business accounts; the
 * rows as received, and what is done with them, are the data owner's. */
#ifndef GV_DATA_BATCH_H
#define GV_DATA_BATCH_H

#include <jansson.h>

#include "auth/app.h"
#include "common/buf.h"
#include "data/records.h"

/* A batch as API JSON (new reference). */
json_t *batch_json(const struct store_batch *b, const char *dataset);
/* {"batches": [...]}, newest first. */
gv_err batch_list_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		       json_t **out, const char **why) GV_MUST_CHECK;
gv_err batch_get_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		      int64_t id, json_t **out, const char **why) GV_MUST_CHECK;
/* {"rows": [...], "next": row|null}: rows of status (-1 = any) after row after. */
gv_err batch_rows_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		       int64_t id, int status, int64_t after, int limit, json_t **out,
		       const char **why) GV_MUST_CHECK;
/* Replaces quarantined row row_no of batch id by data: a record linked to the row, if
 * data passes the schema and the error rules (GV_ERR_INVALID with *reasons_out, a new
 * reference, otherwise).  rid gets the new record's id. */
gv_err batch_correct(struct gv_app *app, const struct store_account *actor, const char *dataset,
		     int64_t id, int64_t row_no, const json_t *data, char rid[RECORDS_ID_LEN + 1],
		     json_t **reasons_out, const char **why) GV_MUST_CHECK;
/* Settles a quarantined row without a record, for reason; *out gets the row. */
gv_err batch_discard(struct gv_app *app, const struct store_account *actor, const char *dataset,
		     int64_t id, int64_t row_no, const char *reason, json_t **out,
		     const char **why) GV_MUST_CHECK;
/* {"id", "batch", "row"}: where an imported record came from; the row as received
 * only when with_raw (it is the unmasked original).  The caller decided access. */
gv_err batch_record_source(struct gv_app *app, const char *dataset, const char *record_id,
			   int with_raw, json_t **out, const char **why) GV_MUST_CHECK;
/* Decides what of a record an export writes: may change rec, returns 0 to skip it,
 * 1 to write it, negative to stop with an error. */
typedef int (*batch_export_fn)(void *ctx, json_t *rec);
/* Every current record, passed through keep, as JSON Lines into out (bounded by out's
 * limit), with its SM3.  The caller decided access. */
gv_err batch_export(struct gv_app *app, const char *dataset, batch_export_fn keep, void *ctx,
		    struct gv_buf *out, char sm3[65], int64_t *count, const char **why) GV_MUST_CHECK;

#endif

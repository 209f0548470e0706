/* records.h - the encrypted record store of a dataset.
 *
 * Records are JSON objects checked against the dataset's schema and kept in versions
 * (an update adds one; history keeps all).  How a version is stored depends on the
 * dataset's grade: grade 1 as JSON; grade 2 with each sensitive field sealed by SM4-GCM;
 * grade 3 sealed whole.  Associated data binds every sealed value to its dataset,
 * record, field and version (crypto/datakey.h).  Indexed fields get a blind-index token,
 * so an equality search decrypts only the records it finds.
 *
 * Access in this issue: the department's data owner writes (once secadmin confirmed
 * the grade); the department's business accounts read, if their clearance reaches the
 * grade.  The policy engine of the next issue generalises this. */
#ifndef GV_DATA_RECORDS_H
#define GV_DATA_RECORDS_H

#include <jansson.h>

#include "auth/app.h"

#define RECORDS_ID_LEN 64
#define RECORDS_SEARCH_MAX 100

/* Creates (record_id NULL: a random id) or updates (expect_version = the current
 * version the caller read; GV_ERR_EXISTS when someone else wrote meanwhile) a record.
 * why gets the reason of a refusal. */
gv_err records_put(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t expect_version, const json_t *data,
		   char id_out[RECORDS_ID_LEN + 1], int64_t *version_out, const char **why,
		   char *whybuf, size_t whylen) GV_MUST_CHECK;
/* {id, version, data, created_by, created_at} of version (0: current); new reference. */
gv_err records_get(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t version, json_t **out,
		   const char **why) GV_MUST_CHECK;
/* {id, versions: [...]} oldest first. */
gv_err records_history(struct gv_app *app, const struct store_account *actor,
		       const char *dataset, const char *record_id, json_t **out,
		       const char **why) GV_MUST_CHECK;
/* Current records whose indexed field equals value: {records: [...]} (at most
 * RECORDS_SEARCH_MAX). */
gv_err records_search(struct gv_app *app, const struct store_account *actor,
		      const char *dataset, const char *field, const char *value, json_t **out,
		      const char **why) GV_MUST_CHECK;

#endif

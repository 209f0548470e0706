/* rekey.h - key rotation (docs/keys.md).
 *
 * Data-key rotation adds a version to a dataset's data key; new writes use it at
 * once, and a background worker re-seals every stored record version and raw row
 * under it, in small batches, while older versions keep decrypting.  A version that
 * nothing uses any more is deleted one worker pass after the last re-seal, so a read
 * that fetched a row just before it was re-sealed still finds its key.
 *
 * Master-key rotation makes a new master key, rewraps every dataset key under the new
 * KEK and keeps the service keys (session-token, recovery-code, TOTP and audit-digest
 * keys) unchanged by storing them wrapped under the new master: sessions, enrolments
 * and earlier audit digests stay valid.  The new key file is written before the
 * database transaction and renamed into place after it; a check value of the KEK in
 * the database tells, at the next start, which file is current, so a crash at any
 * point leaves a master key that opens the data. */
#ifndef GV_DATA_REKEY_H
#define GV_DATA_REKEY_H

#include <jansson.h>

#include "auth/app.h"

/* secadmin: a new data-key version for dataset; *version gets it. */
gv_err rekey_rotate_dataset(struct gv_app *app, const struct store_account *actor,
			    const char *dataset, int *version, const char **why) GV_MUST_CHECK;
/* {"dataset","current","versions":[{"version","records","raw_rows"}]} */
gv_err rekey_status_json(struct gv_app *app, const char *dataset, json_t **out,
			 const char **why) GV_MUST_CHECK;
/* One pass over every dataset: re-seals up to limit stored items under current keys and
 * retires versions found unused on the previous pass.  *work gets how many were
 * re-sealed. */
gv_err rekey_pass(struct gv_app *app, int limit, int *work) GV_MUST_CHECK;

/* The background worker running rekey_pass. */
/* The background re-sealing worker (common/worker.h): kick it after a rotation, stop
 * it with worker_stop. */
struct gv_worker;
gv_err rekey_worker_start(struct gv_app *app, struct gv_worker **out) GV_MUST_CHECK;

/* secadmin: rotates the master key; *n gets the number of dataset keys rewrapped. */
gv_err rekey_rotate_master(struct gv_app *app, const struct store_account *actor, int *n,
			   const char **why) GV_MUST_CHECK;
/* At start, after the store opened: checks the master key file against the database,
 * completes a rotation a crash interrupted, and loads stored service keys.  errmsg
 * explains a refusal. */
gv_err rekey_startup(struct gv_app *app, char *errmsg, size_t errlen) GV_MUST_CHECK;

#endif

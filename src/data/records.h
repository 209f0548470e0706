/* records.h - the encrypted record store of a dataset.
 *
 * Records are JSON objects checked against the dataset's schema and kept in versions
 * (an update adds one; history keeps all).  How a version is stored depends on the
 * dataset's grade: grade 1 as JSON; grade 2 with its sensitive fields sealed together
 * by SM4-GCM (format S; bodies of the earlier format F, each field sealed alone, are
 * still read); grade 3 sealed whole.  Associated data binds every sealed value to its
 * dataset, record, field ("$sensitive" for S, empty for a whole record) and version
 * (crypto/datakey.h).  Indexed fields get a blind-index token,
 * so an equality search decrypts only the records it finds.
 *
 * Access in this issue: the department's data owner writes (once secadmin confirmed
 * the grade); the department's business accounts read, if their clearance reaches the
 * grade.  The policy engine of the next issue generalises this. */
#ifndef GV_DATA_RECORDS_H
#define GV_DATA_RECORDS_H

#include <jansson.h>

#include "auth/app.h"
#include "common/buf.h"
#include "crypto/crypto.h"
#include "data/catalog.h"

#define RECORDS_ID_LEN 64
#define RECORDS_SEARCH_MAX 100

/* An opened dataset: its row, parsed schema and unwrapped keys, for the paths that
 * handle many records at once (import, export, key rotation).  Keys are wiped by
 * records_close. */
struct records_ds;

/* Opens dataset for actor (NULL: the service itself, no access check).  writer asks
 * for the write right and creates the keys on first use; a reader of a dataset never
 * written to gets a handle whose records_key_version is 0. */
gv_err records_open(struct gv_app *app, const struct store_account *actor, const char *dataset,
		    int writer, struct records_ds **out, const char **why) GV_MUST_CHECK;
void records_close(struct records_ds *c);
/* Wipes and drops the datasets and keys held in memory between requests (at exit), and
 * the calling thread's cipher; other threads' ciphers go when those threads end. */
void records_cache_flush(void);
const struct store_dataset *records_dataset(const struct records_ds *c);
/* Copies of the dataset's row and parsed schema (either may be NULL), from memory when
 * they are current; GV_ERR_NOT_FOUND for no such dataset.  No access check.  A caller
 * that only reads them can hold a records_open handle instead of copying 50 KB. */
gv_err records_describe(struct gv_app *app, const char *name, struct store_dataset *d,
			struct catalog_schema *schema) GV_MUST_CHECK;
const struct catalog_schema *records_schema(const struct records_ds *c);
/* The data-key version writes use; 0 when the dataset has no keys yet. */
int records_key_version(const struct records_ds *c);
/* Key rotation: a new data-key version, which writes through c use from now on.
 * GV_ERR_STATE when the dataset has no key yet or another rotation won. */
gv_err records_add_key(struct records_ds *c, int *version) GV_MUST_CHECK;
/* Loads data-key versions made since c was opened (a rotation meanwhile); call
 * between store reads, never inside a store callback. */
gv_err records_refresh_keys(struct records_ds *c) GV_MUST_CHECK;
/* A fresh random record id (RECORDS_NEW_ID_HEX hex digits). */
#define RECORDS_NEW_ID_HEX 32
void records_new_id(char out[RECORDS_ID_LEN + 1]);
/* catalog_record_check against the dataset's schema. */
gv_err records_check(struct records_ds *c, const json_t *data, char *whybuf,
		     size_t whylen) GV_MUST_CHECK;
/* The stored body of data as version of rid (appended to body) and its blind-index
 * entries (idx and tokens have room for CATALOG_MAX_FIELDS, one per indexed field;
 * idx[i].token points into tokens). */
gv_err records_seal(struct records_ds *c, const char *rid, int64_t version, const json_t *data,
		    struct gv_buf *body, struct store_index_entry *idx, char (*tokens)[65],
		    size_t *nidx) GV_MUST_CHECK;
/* Blind-index token of value v of field. */
gv_err records_token(struct records_ds *c, const char *field, const json_t *v,
		     char out[65]) GV_MUST_CHECK;
/* The same for a value already in its index text (strings as they are, numbers as
 * JSON writes them). */
gv_err records_token_text(struct records_ds *c, const char *field, const char *text,
			  char out[65]) GV_MUST_CHECK;
/* A row of an import as received, sealed for row row_no of batch_id (appended to out);
 * and the inverse (out gets the plaintext; the caller wipes it). */
gv_err records_seal_raw(struct records_ds *c, int64_t batch_id, int64_t row_no, const void *raw,
			size_t len, struct gv_buf *out) GV_MUST_CHECK;
gv_err records_open_raw(struct records_ds *c, const struct store_raw_row *w,
			struct gv_buf *out) GV_MUST_CHECK;
/* A compressed block of rows as received (data/rawblock.h) sealed for the rows from
 * first_row of batch_id (appended to out), with g (records_gcm_new; NULL: c's own
 * handle).  records_open_raw reads a row of a block from the store_raw_row that names
 * it (block_row). */
gv_err records_seal_raw_block(struct records_ds *c, struct crypto_gcm *g, int64_t batch_id,
			      int64_t first_row, const void *compressed, size_t len,
			      struct gv_buf *out) GV_MUST_CHECK;
/* A handle of c's current data key for a second thread (c's own handles serve one
 * thread at a time).  With it, that thread may call records_seal_raw_block and
 * records_key_version on c while another uses c, which reads only the dataset's id
 * and key version there, fixed while c is open.  crypto_gcm_free frees it;
 * GV_ERR_STATE before c has a key. */
gv_err records_gcm_new(struct records_ds *c, struct crypto_gcm **out) GV_MUST_CHECK;
/* Key rotation: the same content sealed again under the current data key, in the
 * stronger of its format and the grade's (an F body becomes S); GV_ERR_STORE when the
 * data no longer passes the schema check.  For raw rows, a block as a whole when w
 * names one. */
gv_err records_rekey_record(struct records_ds *c, const struct store_record *r,
			    struct gv_buf *body) GV_MUST_CHECK;
gv_err records_rekey_raw(struct records_ds *c, const struct store_raw_row *w,
			 struct gv_buf *out) GV_MUST_CHECK;
/* {id, version, data, created_by, created_at, source} of a stored version. */
gv_err records_record_json(struct records_ds *c, const struct store_record *r,
			   json_t **out) GV_MUST_CHECK;

/* Creates (record_id NULL: a random id) or updates (expect_version = the current
 * version the caller read; GV_ERR_EXISTS when someone else wrote meanwhile) a record.
 * why gets the reason of a refusal. */
gv_err records_put(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t expect_version, const json_t *data,
		   char id_out[RECORDS_ID_LEN + 1], int64_t *version_out, const char **why,
		   char *whybuf, size_t whylen) GV_MUST_CHECK;
/* An update the caller has already authorised (a grant's update action): by is the
 * account written into the version.  The dataset's grade must be confirmed. */
gv_err records_update_as(struct gv_app *app, const char *by, const char *dataset,
			 const char *record_id, int64_t expect_version, const json_t *data,
			 int64_t *version_out, const char **why, char *whybuf,
			 size_t whylen) GV_MUST_CHECK;
/* records_record_json of version (0: current); new reference. */
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

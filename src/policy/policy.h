/* policy.h - least-privilege access decisions over datasets (docs/access-control.md).
 *
 * Deny by default: a read, search, export, update or delete of a dataset's records is
 * permitted only by a grant (secadmin creates them; a grant on grade-3 data also needs
 * the data owner's approval) or by the custodian rule: the data owner of the dataset's
 * own department keeps full access to the data it is responsible for.  Before any grant
 * is looked at: administrators never touch data, the subject's clearance must reach the
 * dataset's grade, grade-3 access needs a session that passed TOTP, and the request must
 * declare a purpose.
 *
 * A grant names a subject (an account, a role or a department), actions, optionally the
 * fields and a row condition (a field equal to a value or to the subject's department),
 * the purposes it serves, a validity period, time-of-day windows, address ranges, row
 * caps per request and per day, and the masking profile applied to what it returns.
 *
 * Decisions are cheap: active grants are compiled once into an in-memory table, sorted
 * by dataset, and rebuilt only after a grant changes. */
#ifndef GV_POLICY_POLICY_H
#define GV_POLICY_POLICY_H

#include <jansson.h>

#include "auth/app.h"

enum policy_action { PA_READ, PA_SEARCH, PA_EXPORT, PA_UPDATE, PA_DELETE, PA__COUNT };

#define POLICY_PURPOSE_MAX 127   /* what the audit record's purpose field holds */

struct policy_request {
	const struct store_account *account;
	const struct store_dataset *dataset;
	int action;                  /* enum policy_action */
	const char *purpose;         /* as declared; NULL or "" = none */
	const char *ip;
	int64_t now;                 /* unix seconds */
};

struct policy_decision {
	int permit;
	int visible;                 /* 0: the subject has no business with the dataset: 404 */
	char reason[200];            /* why (permit: which grant) - safe to show the caller */
	int64_t grant_id;            /* 0 = the custodian rule */
	int custodian;
	char profile[65];            /* masking profile name; "" = the grade's default */
	char fields[1025];           /* fields that may be returned; "" = all */
	char row_field[64];          /* rows returned must have row_field == row_value */
	char row_value[129];
	int64_t max_rows_request;    /* 0 = no cap */
	int64_t max_rows_day;
};

const char *policy_action_name(int action);
const char *policy_subject_name(int type);
int policy_subject_parse(const char *name);  /* -1 if unknown */
int policy_action_parse(const char *name);   /* -1 if unknown */

/* The decision for rq (no side effects). */
gv_err policy_decide(struct gv_app *app, const struct policy_request *rq,
		     struct policy_decision *out) GV_MUST_CHECK;
/* Counts rows against the daily cap of the permitting grant: GV_ERR_QUOTA (nothing
 * counted) if they would pass it.  The count is kept in memory and written to the
 * store by policy_usage_flush (usage.c says why). */
gv_err policy_count_rows(struct gv_app *app, const struct policy_decision *d,
			 int64_t rows) GV_MUST_CHECK;
/* Writes the rows counted since the last flush. */
gv_err policy_usage_flush(struct gv_app *app) GV_MUST_CHECK;
/* Drops the counts held in memory (tests: what a restart does). */
void policy_usage_forget(void);
/* A worker (common/worker.h) that flushes every second; after worker_stop, flush once
 * more. */
struct gv_worker;
gv_err policy_usage_start(struct gv_app *app, struct gv_worker **out) GV_MUST_CHECK;
/* 1 if field may be returned under d. */
int policy_field_allowed(const struct policy_decision *d, const char *field);
/* 1 if a record's data meets d's row condition. */
int policy_row_allowed(const struct policy_decision *d, const json_t *data);

/* Applies d to records (an array of {id, version, data, ...}) of dataset ds in place:
 * records failing the row condition are removed, fields outside the grant deleted, and
 * the rest masked by the decision's profile (the grade's default when the grant names
 * none; nothing for the custodian).  log gets the masking log line: the profile with
 * its version and every field masked with its method - never a value.  *kept gets how
 * many records remain. */
gv_err policy_view_apply(struct gv_app *app, const struct policy_decision *d,
			 const struct store_dataset *ds, json_t *records, char *log, size_t loglen,
			 size_t *kept) GV_MUST_CHECK;

/* The same in steps, for code that applies one decision to records arriving from a
 * store callback (which must not call the store): open loads the profile and the
 * schema, run applies them, close wipes the pseudonym key.  pseudonym_key (32 bytes,
 * may be NULL) replaces the profile's stable key: a masked copy for development uses a
 * random key it then forgets, so its pseudonyms link to nothing, not even in govvault.
 * The log of run accumulates over calls. */
struct policy_view;
gv_err policy_view_open(struct gv_app *app, const struct policy_decision *d,
			const struct store_dataset *ds, const unsigned char *pseudonym_key,
			struct policy_view **out) GV_MUST_CHECK;
gv_err policy_view_run(struct policy_view *v, json_t *records, char *log, size_t loglen,
		       size_t *kept) GV_MUST_CHECK;
void policy_view_close(struct policy_view *v);

/* Grants (secadmin).  g holds the request for dataset, its syntax checked by the API
 * layer: subject, actions, fields, row condition, purposes, period, windows, ranges,
 * caps, profile, reason.  This checks it against the catalog, the accounts and the
 * masking profiles, sets the state (pending for grade 3), stores it and fills in the
 * rest of g.  why explains a refusal. */
gv_err policy_grant_create(struct gv_app *app, const struct store_account *actor,
			   const char *dataset, struct store_grant *g, char *why,
			   size_t whylen) GV_MUST_CHECK;
/* The data owner of the dataset's department approves a pending grade-3 grant. */
gv_err policy_grant_approve(struct gv_app *app, const struct store_account *actor, int64_t id,
			    struct store_grant *out, const char **why) GV_MUST_CHECK;
gv_err policy_grant_revoke(struct gv_app *app, const struct store_account *actor, int64_t id,
			   const char *reason, struct store_grant *out, const char **why) GV_MUST_CHECK;
/* API JSON of a grant (new reference). */
json_t *policy_grant_json(struct gv_app *app, const struct store_grant *g);
/* 1 if grant_id is active, approved where grade 3 needs it, gives action, and is within
 * its period at now: a data service made with a grant serves only while the grant
 * would. */
int policy_grant_in_force(struct gv_app *app, int64_t dataset_id, int64_t grant_id, int grade,
			  int action, int64_t now);
/* Comma lists and catalog checks shared with the layers above. */
int policy_list_has(const char *list, const char *item);
json_t *policy_list_json(const char *list);
/* 1 if every name of list is a field of schema; bad gets the first that is not. */
struct catalog_schema;
int policy_fields_known(const struct catalog_schema *schema, const char *list, char *bad,
			size_t len);
int policy_profile_exists(struct gv_app *app, const char *name);
/* Forgets the compiled grants (after any change). */
void policy_invalidate(void);

#endif

/* share.h - sharing and opening requests, data services and their consumers
 * (docs/sharing.md).
 *
 * Data leaves its owner only through review (Xinyang measures Art. 25 and 33): a
 * department asks; the approvals the dataset's grade requires are collected; approval
 * makes a time-boxed grant (policy/policy.h) for the asking department and, when
 * asked, a data service over it.  The grade rules are enforced here, not advised:
 *
 *   grade 1  shared after the data owner's review; may be opened to the public after
 *            secadmin's review of the owner's request
 *   grade 2  shared only with departments authorised on the dataset, after the data
 *            owner's review; never opened
 *   grade 3  as grade 2, and secadmin must approve too
 *
 * Revocation ends the grant and the service in one transaction; expiry ends both at
 * the same instant, because the service carries the grant's end.
 *
 * A data service answers lookups by declared parameters (share/params.h) with masked
 * records, at most max_rows per call and rate_per_minute calls per consumer.  Services
 * and consumers are compiled into an in-memory table rebuilt after any change, so a
 * call costs no store read before the lookup itself. */
#ifndef GV_SHARE_SHARE_H
#define GV_SHARE_SHARE_H

#include <jansson.h>

#include "auth/app.h"
#include "share/params.h"

/* ---- requests (request.c) ---- */

/* What a request asks for, as the API layer parsed it (syntax checked there). */
struct share_ask {
	int kind;                     /* enum share_kind */
	const char *dataset;
	const char *fields;           /* comma list, "" = every field */
	unsigned actions;             /* share: bit mask of enum policy_action; 0 = read+search */
	const char *purpose;
	const char *legal_basis;
	int64_t valid_from, valid_until;
	int64_t expected_rows_day;
	const char *mask_profile;     /* "" = the grade's default */
	const json_t *service;        /* the data service asked for, or NULL */
	const char *comment;
};

/* What an approver may narrow (0 / NULL = unchanged). */
struct share_narrow {
	const char *fields;
	unsigned actions;
	int64_t valid_until;
	int64_t expected_rows_day;
	int max_rows;                 /* the service's rows per call */
	int rate_per_minute;
};

enum share_step { SHARE_STEP_APPROVE, SHARE_STEP_RETURN, SHARE_STEP_REJECT };

/* Creates a request of actor's department.  why explains a refusal (the grade rule,
 * the field, the parameter at fault). */
gv_err share_request_create(struct gv_app *app, const struct store_account *actor,
			    const struct share_ask *ask, struct store_share_request *out,
			    char *why, size_t whylen) GV_MUST_CHECK;
/* The requester changes a returned request, which goes back to review. */
gv_err share_request_amend(struct gv_app *app, const struct store_account *actor, int64_t id,
			   const struct share_ask *ask, struct store_share_request *out,
			   char *why, size_t whylen) GV_MUST_CHECK;
/* One reviewer's step: approve (narrow may be NULL), return or reject, with comment.
 * The last approval the grade needs makes the grant and the service. */
gv_err share_request_review(struct gv_app *app, const struct store_account *actor, int64_t id,
			    int step, const struct share_narrow *narrow, const char *comment,
			    struct store_share_request *out, char *why, size_t whylen) GV_MUST_CHECK;
/* The requester withdraws a request still under review. */
gv_err share_request_withdraw(struct gv_app *app, const struct store_account *actor, int64_t id,
			      const char *comment, struct store_share_request *out, char *why,
			      size_t whylen) GV_MUST_CHECK;
/* secadmin or the data owner ends an approved request: its grant and service with it. */
gv_err share_request_revoke(struct gv_app *app, const struct store_account *actor, int64_t id,
			    const char *comment, struct store_share_request *out, char *why,
			    size_t whylen) GV_MUST_CHECK;
/* 1 if actor may see request r: secadmin all, others those of their department or on
 * their department's datasets. */
int share_request_visible(struct gv_app *app, const struct store_account *actor,
			  const struct store_share_request *r);
/* API JSON of a request, with its events when with_events (new reference). */
json_t *share_request_json(struct gv_app *app, const struct store_share_request *r,
			   int with_events);
const char *share_state_name(const struct store_share_request *r, int64_t now);

/* Departments authorised to receive a dataset (grades 2 and 3). */
gv_err share_depts_set(struct gv_app *app, const char *dataset, const char *list,
		       char *why, size_t whylen) GV_MUST_CHECK;

/* ---- services and consumers (spec.c, service.c, consumer.c) ---- */

/* A service name as approvals make them: 2-63 of a-z, 0-9 and '-', from a letter. */
int share_service_name_ok(const char *s);

/* A compiled service version, shared by the calls using it; share_service_put
 * releases it. */
struct share_service {
	struct store_service s;
	struct params_spec *spec;
	struct store_dataset *d;      /* the dataset as it was when the table was built */
	unsigned indexed;             /* bit i: parameter i is on an indexed field */
	int64_t max_rows_day;         /* the grant's cap; 0 = none */
	int64_t valid_from;           /* the approval's period starts */
	char fields[STORE_LIST_LEN];  /* returned: the service's fields within the approval's
				       * ("" = every field, only when both say so) */
	int no_fields;                /* they have none in common: the service returns nothing */
	char purpose[128];            /* the approval's purpose, for the audit record */
	int refs;
};

/* The consumer presenting client_id with secret (NULL: none) or the client
 * certificate cert_fp ("" = none), from ip.  GV_ERR_AUTH for unknown credentials,
 * GV_ERR_RESTRICTED for an address outside its allowlist.  out gets a copy. */
gv_err share_consumer_auth(struct gv_app *app, const char *client_id, const char *secret,
			   const char *cert_fp, const char *ip,
			   struct store_consumer *out) GV_MUST_CHECK;
/* The service version (0 = latest) consumer c may call now.  GV_ERR_NOT_FOUND when it
 * does not exist or c is not bound to it; GV_ERR_FORBIDDEN with why when it was
 * revoked or has expired, or its grant has.  *out is released with share_service_put. */
gv_err share_service_get(struct gv_app *app, const struct store_consumer *c, const char *name,
			 int version, int64_t now, struct share_service **out, const char **why) GV_MUST_CHECK;
void share_service_put(struct share_service *s);
/* Runs an accepted call: looks records up by the indexed parameters, keeps those equal
 * to the others, applies the service's fields and masking, at most max_rows, and counts
 * them against the grant's rows per day (GV_ERR_QUOTA).  *records gets the array;
 * masklog the masking log. */
gv_err share_service_fetch(struct gv_app *app, const struct share_service *s,
			   const struct params_call *call, json_t **records, char *masklog,
			   size_t loglen, const char **why) GV_MUST_CHECK;
json_t *share_service_json(const struct store_service *s, const char *dataset);
/* Every service version, with the dataset name (new reference). */
gv_err share_service_list(struct gv_app *app, const struct store_account *actor,
			  json_t **out) GV_MUST_CHECK;

/* Consumers (secadmin).  create fills c (department, name, ip_allowlist, services,
 * cert_fp from the caller) and writes the one-time secret into secret (65 bytes);
 * the store keeps only its keyed hash. */
gv_err share_consumer_create(struct gv_app *app, const struct store_account *actor,
			     struct store_consumer *c, char secret[65], char *why,
			     size_t whylen) GV_MUST_CHECK;
/* Replaces what names (CONSUMER_SET_*) of a consumer with with's values. */
enum { CONSUMER_SET_NAME = 1, CONSUMER_SET_ALLOWLIST = 2, CONSUMER_SET_SERVICES = 4,
       CONSUMER_SET_CERT = 8 };
gv_err share_consumer_change(struct gv_app *app, const char *client_id,
			     const struct store_consumer *with, unsigned what,
			     struct store_consumer *out, char *why, size_t whylen) GV_MUST_CHECK;
gv_err share_consumer_revoke(struct gv_app *app, const struct store_account *actor,
			     const char *client_id, struct store_consumer *out) GV_MUST_CHECK;
/* A new secret (secret, 65 bytes); the old one stops at once. */
gv_err share_consumer_rotate(struct gv_app *app, const char *client_id, char secret[65],
			     struct store_consumer *out) GV_MUST_CHECK;
json_t *share_consumer_json(const struct store_consumer *c);

/* Forgets the compiled services and consumers (after any change). */
void share_invalidate(void);
/* Frees them (at exit). */
void share_cache_flush(void);

/* ---- the public catalogue and the call report (catalogue.c, report.c) ---- */

/* Grade-1 datasets opened by an approved, unexpired request, with their open
 * services: metadata only. */
gv_err share_catalogue(struct gv_app *app, json_t **out) GV_MUST_CHECK;

/* Calls per consumer, service and local day between from_day and to_day (days since
 * the epoch, inclusive), read from the audit trail: calls, rows, refusals, calls out
 * of hours, and flags for unusual volume or hours. */
gv_err share_report(struct gv_app *app, int64_t from_day, int64_t to_day, const char *consumer,
		    const char *service, json_t **out) GV_MUST_CHECK;

#endif

/* shared.h - helpers the files of src/share use among themselves; not part of the
 * subsystem's interface (share.h). */
#ifndef GV_SHARE_SHARED_H
#define GV_SHARE_SHARED_H

#include <jansson.h>

#include "auth/app.h"
#include "data/catalog.h"

/* 1 if every item of the comma list sub is in of ("" = everything). */
int share_list_subset(const char *sub, const char *of);
json_t *share_time_json(int64_t t);

/* The data service a request asks for (service.c): spec is checked against the
 * dataset (params bound to known fields of matching type, at least one on an indexed
 * field - a required one from grade 2 - and everything within the request's fields)
 * and written in canonical form into out. */
gv_err share_service_spec_check(const struct store_dataset *d, const struct catalog_schema *schema,
				const char *req_fields, const json_t *spec, char *out, size_t outlen,
				char *why, size_t whylen) GV_MUST_CHECK;
/* Lowers the limits of a canonical spec in place (0 = unchanged) and drops returned
 * fields outside req_fields. */
gv_err share_service_spec_narrow(char *spec, size_t len, const char *req_fields, int max_rows,
				 int rate_per_minute, char *why, size_t whylen) GV_MUST_CHECK;
/* The service version an approved request makes (name, version 0: the store numbers it). */
gv_err share_service_from_request(const struct store_share_request *r,
				  const struct store_account *actor, struct store_service *out,
				  char *why, size_t whylen) GV_MUST_CHECK;
/* The latest version of a service (the compiled table). */
gv_err share_service_latest(struct gv_app *app, const char *name, struct store_service *out) GV_MUST_CHECK;
/* The active, unexpired open services, as the catalogue shows them (new reference:
 * an array of service JSON, each with its "request"). */
gv_err share_service_list_open(struct gv_app *app, json_t **out) GV_MUST_CHECK;
/* The approval's rows per day of a service's latest version; 0 = none or unknown. */
int64_t share_service_rows_day(struct gv_app *app, const char *name);
/* 1 if an active consumer other than except (a client id, or NULL) is registered with
 * the certificate fingerprint fp. */
int share_cert_taken(struct gv_app *app, const char *fp, const char *except);
/* A service version by its id. */
gv_err share_service_by_id(struct gv_app *app, int64_t id, struct store_service *out) GV_MUST_CHECK;

#endif

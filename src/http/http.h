/* http.h - the HTTP/JSON API: server lifecycle (server.c), the route table with
 * authentication and role checks (router.c), replies and error mapping (reply.c), and
 * one handler file per resource (h_*.c).
 *
 * A request lives in a `struct http_req` allocated when its headers arrive and freed
 * when libmicrohttpd reports completion.  Handlers fill resp/status or return an error;
 * reply.c writes the audit row and only then queues the response (fail closed). */
#ifndef GV_HTTP_HTTP_H
#define GV_HTTP_HTTP_H

#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth/app.h"
#include "common/arena.h"
#include "common/buf.h"

#define HTTP_MAX_PARAMS 4

struct http_server;

struct http_req {
	struct gv_app *app;
	struct MHD_Connection *conn;
	struct gv_arena arena;
	struct gv_buf body;
	int body_too_large;
	int headers_too_large;
	uint64_t declared_len;   /* Content-Length, as MHD enforces it; 0: none or chunked */
	const char *method;
	char path[512];
	char *params[HTTP_MAX_PARAMS];
	int nparams;
	char ip[64];
	char device_fp[65];
	char request_id[33];
	json_t *json;                 /* parsed request body (an object) or NULL */
	int has_session;
	struct store_session session;
	struct store_account account; /* the caller, when has_session */
	struct records_ds *rds;       /* the path's dataset held open (data/records.h), or NULL */
	/* audit */
	const char *action;
	const char *object;
	const char *reason;           /* internal reason for the audit row, never sent */
	const char *audit_params;     /* name=keyed digest of sensitive parameters, or NULL */
	const char *audit_purpose;    /* the purpose the request declared, or NULL */
	const char *audit_masked;     /* the masking log: profile and fields masked, or NULL */
	const char *audit_actor;      /* a caller that is no account ("consumer:<id>"), or NULL */
	const char *audit_detail;     /* structured outcome ("rows=N"), or NULL */
	int retry_after;              /* seconds, sent as Retry-After when > 0 */
	/* reply */
	int status;
	json_t *resp;
	gv_err err;
	const char *message;          /* public error message, overrides gv_strerror */
	char allow[64];               /* methods for the Allow header of a 405 */
	struct gv_buf raw;            /* a non-JSON success body (export), when raw_type */
	const char *raw_type;
	char raw_sm3[65];             /* sent as X-Content-SM3 with a raw body */
	int responded;
	/* The audit record is written by the log's group commit while the connection is
	 * suspended, so a worker thread never blocks on an fsync (reply.c). */
	int can_suspend;              /* set for the access handler's last call */
	int audit_submitted;
	int audit_done;               /* set by the audit notifier (atomic) */
	gv_err audit_result;
	/* A streamed body (routes marked stream): the handler runs when the headers are
	 * in and sets these; the server then hands over the body piece by piece instead
	 * of buffering it, and calls stream_end when it is complete.  stream_free runs at
	 * completion in any case (also when the client went away). */
	int is_stream;
	int stream_failed;            /* stream_feed failed: the rest of the body is dropped */
	void *stream_ctx;
	gv_err (*stream_feed)(struct http_req *r, const char *data, size_t len);
	void (*stream_end)(struct http_req *r);
	void (*stream_free)(struct http_req *r);
};

typedef gv_err (*http_handler)(struct http_req *r);

gv_err http_server_start(struct gv_app *app, struct http_server **out, char *errmsg,
			 size_t errlen) GV_MUST_CHECK;
/* Stops the server once no request waits for its audit row (at most the audit write
 * timeout and 5 s); GV_ERR_UNAVAILABLE, with the server left running, if some still
 * do: the process must then exit without freeing what the server uses. */
gv_err http_server_stop(struct http_server *srv) GV_MUST_CHECK;

/* router.c */
/* Resolves route, session, restrictions, stage and role, then runs the handler. */
void router_dispatch(struct http_req *r);
/* Authenticates r again and checks its session is active with one of roles: for a
 * long request (a streamed upload) whose caller may have lost access meanwhile.  Sets
 * the error reply when not. */
gv_err router_recheck(struct http_req *r, unsigned roles) GV_MUST_CHECK;
/* 1 if method and path name a route whose body is streamed (no body-size limit). */
int router_is_stream(const char *method, const char *path);

/* reply.c */
int reply_status_for(gv_err err);
/* Sets an error with a public message (static or arena string). */
gv_err reply_error(struct http_req *r, gv_err err, const char *message);
/* reply_error with a message that is also the audit record's reason: for refusals whose
 * why (a buffer of the caller's, copied) names rules and names, never values. */
gv_err reply_refuse(struct http_req *r, gv_err err, const char *why);
/* Writes the audit row, then queues the response; returns the MHD result.  With
 * r->can_suspend it suspends the connection until the row is durable and finishes when
 * libmicrohttpd calls the handler again (server.c). */
enum MHD_Result reply_send(struct http_req *r);
/* json_decref(j) after wiping the strings only j holds (NULL is fine). */
void reply_json_free(json_t *j);
/* Requests suspended until their audit row is durable (http_server_stop waits). */
int reply_suspended(void);
/* From now on requests wait for their audit row on the worker thread: libmicrohttpd
 * must not stop with a connection suspended. */
void reply_stop_suspending(void);

/* request body helpers (router.c) */
/* GV_OK if the body object has only keys from `allowed` (NULL-terminated). */
gv_err req_only_fields(struct http_req *r, const char *const *allowed) GV_MUST_CHECK;
/* String field: required or optional (*out = NULL when absent); max bytes; printable. */
gv_err req_string(struct http_req *r, const char *key, int required, size_t max,
		  const char **out) GV_MUST_CHECK;
gv_err req_int(struct http_req *r, const char *key, int required, long long min, long long max,
	       long long *out, int *present) GV_MUST_CHECK;
gv_err req_bool(struct http_req *r, const char *key, int *out, int *present) GV_MUST_CHECK;
/* Array of non-empty strings without commas, joined with ',' into out (absent = ""). */
gv_err req_list(struct http_req *r, const char *key, char *out, size_t len) GV_MUST_CHECK;
/* Array of action names (read, search, ...) as a bit mask of enum policy_action. h_grants.c */
gv_err req_actions(struct http_req *r, const char *key, int required, unsigned *out) GV_MUST_CHECK;
/* Optional time field ("YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"): *out = 0 when absent. */
gv_err req_time(struct http_req *r, const char *key, int64_t *out) GV_MUST_CHECK;
/* Query parameter key as an integer in [min, max]: 0 with *out = def when absent, -1
 * when present but not such an integer. */
int req_query_int(struct http_req *r, const char *key, long long min, long long max,
		  long long def, long long *out);
/* Depth of nested arrays/objects in text, scanning outside strings only. */
int json_text_depth(const char *text, size_t len);
/* Parses a request body as a JSON object with depth and UTF-8 checks. */
gv_err json_parse_body(const char *text, size_t len, int max_depth, json_t **out,
		       const char **why) GV_MUST_CHECK;

/* handlers */
gv_err h_health(struct http_req *r);
gv_err h_auth_login(struct http_req *r);
gv_err h_auth_logout(struct http_req *r);
gv_err h_auth_me(struct http_req *r);
gv_err h_auth_password(struct http_req *r);
gv_err h_auth_totp(struct http_req *r);
gv_err h_auth_totp_enroll(struct http_req *r);
gv_err h_auth_totp_confirm(struct http_req *r);
gv_err h_accounts_list(struct http_req *r);
gv_err h_accounts_create(struct http_req *r);
gv_err h_accounts_get(struct http_req *r);
gv_err h_accounts_patch(struct http_req *r);
gv_err h_accounts_cancel(struct http_req *r);
gv_err h_accounts_approve(struct http_req *r);
gv_err h_accounts_disable(struct http_req *r);
gv_err h_accounts_enable(struct http_req *r);
gv_err h_accounts_unlock(struct http_req *r);
gv_err h_accounts_reset_password(struct http_req *r);
gv_err h_roles_list(struct http_req *r);
gv_err h_roles_set_restrictions(struct http_req *r);
gv_err h_sessions_list(struct http_req *r);
gv_err h_sessions_revoke(struct http_req *r);
gv_err h_audit_list(struct http_req *r);
gv_err h_audit_verify(struct http_req *r);
gv_err h_audit_public_key(struct http_req *r);
gv_err h_audit_export(struct http_req *r);
/* A verification result as JSON. h_audit.c */
json_t *audit_verify_json(const struct audit_verify_result *v);
gv_err h_datasets_create(struct http_req *r);
gv_err h_datasets_list(struct http_req *r);
gv_err h_datasets_get(struct http_req *r);
gv_err h_datasets_grade(struct http_req *r);
gv_err h_records_create(struct http_req *r);
gv_err h_records_update(struct http_req *r);
gv_err h_records_get(struct http_req *r);
gv_err h_records_history(struct http_req *r);
gv_err h_records_search(struct http_req *r);
gv_err h_datasets_rules(struct http_req *r);
gv_err h_datasets_lineage(struct http_req *r);
gv_err h_datasets_export(struct http_req *r);
gv_err h_datasets_masked_copy(struct http_req *r);
gv_err h_records_source(struct http_req *r);
gv_err h_batches_import(struct http_req *r);
gv_err h_batches_list(struct http_req *r);
gv_err h_batches_get(struct http_req *r);
gv_err h_batches_rows(struct http_req *r);
gv_err h_batches_correct(struct http_req *r);
gv_err h_batches_discard(struct http_req *r);
gv_err h_keys_show(struct http_req *r);
gv_err h_keys_rotate(struct http_req *r);
gv_err h_keys_rotate_master(struct http_req *r);
gv_err h_grants_create(struct http_req *r);
gv_err h_grants_list(struct http_req *r);
gv_err h_grants_get(struct http_req *r);
gv_err h_grants_approve(struct http_req *r);
gv_err h_grants_revoke(struct http_req *r);
gv_err h_policy_explain(struct http_req *r);
gv_err h_profiles_put(struct http_req *r);
gv_err h_profiles_list(struct http_req *r);
gv_err h_profiles_get(struct http_req *r);
gv_err h_share_create(struct http_req *r);
gv_err h_share_list(struct http_req *r);
gv_err h_share_get(struct http_req *r);
gv_err h_share_amend(struct http_req *r);
gv_err h_share_approve(struct http_req *r);
gv_err h_share_return(struct http_req *r);
gv_err h_share_reject(struct http_req *r);
gv_err h_share_withdraw(struct http_req *r);
gv_err h_share_revoke(struct http_req *r);
gv_err h_share_depts_get(struct http_req *r);
gv_err h_share_depts_put(struct http_req *r);
gv_err h_service_call(struct http_req *r);
gv_err h_services_list(struct http_req *r);
gv_err h_catalogue(struct http_req *r);
gv_err h_consumers_create(struct http_req *r);
gv_err h_consumers_list(struct http_req *r);
gv_err h_consumers_get(struct http_req *r);
gv_err h_consumers_change(struct http_req *r);
gv_err h_consumers_revoke(struct http_req *r);
gv_err h_consumers_rotate(struct http_req *r);
gv_err h_report_service_calls(struct http_req *r);
gv_err h_system_config(struct http_req *r);
gv_err h_system_reload(struct http_req *r);

/* Account record as JSON (never credentials). h_accounts.c */
json_t *account_to_json(const struct store_account *a);
/* A comma-joined list as a JSON array of strings. h_accounts.c */
json_t *json_list(const char *list);
/* RFC 3339 UTC string for unix seconds, JSON null for 0. h_accounts.c */
json_t *json_time(int64_t t);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" into unix seconds. h_accounts.c */
gv_err time_parse(const char *text, int64_t *out) GV_MUST_CHECK;

#endif

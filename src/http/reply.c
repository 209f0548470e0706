/* reply.c - the one place errors become HTTP statuses, the audit-then-send rule (with
 * the switch to waiting on the worker when the server stops), and the wiping of the
 * JSON a request read and sent. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"

int reply_status_for(gv_err err)
{
	switch (err) {
	case GV_OK: return MHD_HTTP_OK;
	case GV_ERR_INVALID: return MHD_HTTP_BAD_REQUEST;
	case GV_ERR_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
	case GV_ERR_EXISTS: return MHD_HTTP_CONFLICT;
	case GV_ERR_AUTH: return MHD_HTTP_UNAUTHORIZED;
	case GV_ERR_UNAUTHENTICATED: return MHD_HTTP_UNAUTHORIZED;
	case GV_ERR_FORBIDDEN: return MHD_HTTP_FORBIDDEN;
	case GV_ERR_RESTRICTED: return MHD_HTTP_FORBIDDEN;
	case GV_ERR_STAGE: return MHD_HTTP_FORBIDDEN;
	case GV_ERR_POLICY: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case GV_ERR_LIMIT: return MHD_HTTP_CONFLICT;
	case GV_ERR_TOO_LARGE: return MHD_HTTP_CONTENT_TOO_LARGE;
	case GV_ERR_STATE: return MHD_HTTP_CONFLICT;
	case GV_ERR_UNAVAILABLE: return MHD_HTTP_SERVICE_UNAVAILABLE;
	case GV_ERR_INTEGRITY: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case GV_ERR_QUOTA: return MHD_HTTP_TOO_MANY_REQUESTS;
	case GV_ERR_RATE: return MHD_HTTP_TOO_MANY_REQUESTS;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Wipes the strings of j that nothing else holds (a shared node, such as a cached
 * schema answered by reference, is left alone: another request still reads it). */
static void wipe_strings(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!j || j->refcount != 1)
		return;
	if (json_is_string(j))
		util_wipe((char *)json_string_value(j), json_string_length(j));
	else if (json_is_object(j))
		json_object_foreach(j, k, v)
			wipe_strings(v);
	else if (json_is_array(j))
		json_array_foreach(j, i, v)
			wipe_strings(v);
}

void reply_json_free(json_t *j)
{
	wipe_strings(j);
	json_decref(j);
}

gv_err reply_error(struct http_req *r, gv_err err, const char *message)
{
	r->err = err;
	r->message = message;
	r->status = reply_status_for(err);
	if (r->resp) {
		reply_json_free(r->resp);
		r->resp = NULL;
	}
	return err;
}

gv_err reply_refuse(struct http_req *r, gv_err err, const char *why)
{
	const char *msg = why && *why ? arena_strdup(&r->arena, why) : NULL;

	if (msg)
		r->reason = msg;
	return reply_error(r, err, msg);
}

/* libmicrohttpd's free of a sent JSON text: wiped first, as it may hold a token or
 * personal data. */
static void text_free(void *text)
{
	util_wipe(text, strlen(text));
	free(text);
}

static json_t *error_body(struct http_req *r)
{
	const char *msg = r->message ? r->message : gv_strerror(r->err);
	char clean[1024];

	/* Internal failures get a generic message; the detail goes to the log only. */
	if (r->status >= 500 && r->err != GV_ERR_UNAVAILABLE)
		msg = "internal error; see the server log with the request id";
	/* A message may quote a caller's text cut by bytes: JSON takes only UTF-8, and a
	 * refused string would drop the connection instead of answering. */
	util_utf8_clean(msg, clean, sizeof(clean));
	return json_pack("{s:{s:s,s:s,s:s}}", "error", "code", gv_err_code(r->err), "message", clean,
			 "request_id", r->request_id);
}

static void fill_audit(struct http_req *r, struct audit_rec *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = AUDIT_KIND_REQUEST;
	snprintf(a->request_id, sizeof(a->request_id), "%s", r->request_id);
	if (r->audit_actor) {
		/* A caller that is not an account (a data-service consumer). */
		snprintf(a->actor, sizeof(a->actor), "%s", r->audit_actor);
		snprintf(a->roles, sizeof(a->roles), "consumer");
	} else if (r->has_session) {
		snprintf(a->actor, sizeof(a->actor), "%s", r->account.username);
		role_format(r->account.roles, a->roles, sizeof(a->roles));
		/* Keyed, so the trail links a session's requests without naming the session
		 * that /v1/sessions would let someone revoke or correlate. */
		if (crypto_hmac_sm3_hex(r->app->keys.audit, sizeof(r->app->keys.audit), r->session.id,
					a->session) != GV_OK)
			a->session[0] = '\0';
	}
	snprintf(a->source, sizeof(a->source), "%s", r->ip);
	snprintf(a->device_fp, sizeof(a->device_fp), "%s", r->device_fp);
	if (r->action)
		snprintf(a->action, sizeof(a->action), "%s", r->action);
	else
		snprintf(a->action, sizeof(a->action), "%s %.40s", r->method, r->path);
	snprintf(a->object, sizeof(a->object), "%s", r->object ? r->object : "");
	if (r->audit_params)
		snprintf(a->params, sizeof(a->params), "%s", r->audit_params);
	if (r->audit_purpose)
		snprintf(a->purpose, sizeof(a->purpose), "%s", r->audit_purpose);
	if (r->audit_masked)
		snprintf(a->masked, sizeof(a->masked), "%s", r->audit_masked);
	if (r->audit_detail)
		snprintf(a->detail, sizeof(a->detail), "%s", r->audit_detail);
	a->status = r->status;
	snprintf(a->decision, sizeof(a->decision), "%s",
		 r->status < 400 ? "permit" : r->status >= 500 ? "error" : "deny");
	snprintf(a->reason, sizeof(a->reason), "%s",
		 r->reason ? r->reason : r->err != GV_OK ? gv_err_code(r->err) : "");
	if (r->body.len) {
		unsigned char d[CRYPTO_SM3_LEN];

		if (crypto_hmac_sm3(r->app->keys.audit, sizeof(r->app->keys.audit), r->body.data,
				    r->body.len, d) == GV_OK)
			util_hex_encode(d, sizeof(d), a->body_sm3);
	}
}

static int suspended;   /* requests waiting for their audit row (atomic) */
/* Set when the server stops: from then on no request suspends (it waits for its row
 * on the worker instead), so the count above only falls.  A request counts itself
 * before it looks at the flag and the stop sets the flag before it reads the count,
 * both sequentially consistent: either the request sees the stop, or the stop sees
 * the request and waits for its resumption. */
static int stopping;

int reply_suspended(void)
{
	return __atomic_load_n(&suspended, __ATOMIC_SEQ_CST);
}

void reply_stop_suspending(void)
{
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
}

/* Suspends r's connection until its audit row is durable; 0 when the server is
 * stopping and the caller must wait for the row itself. */
static int suspend(struct http_req *r)
{
	__atomic_add_fetch(&suspended, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&suspended, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	/* Suspended first: the notifier may resume it before audit_submit returns. */
	MHD_suspend_connection(r->conn);
	return 1;
}

/* The audit notifier: the row is durable (or cannot be); the reply can go. */
static void audited(void *ctx, gv_err result)
{
	struct http_req *r = ctx;

	r->audit_result = result;
	__atomic_store_n(&r->audit_done, 1, __ATOMIC_RELEASE);
	MHD_resume_connection(r->conn);
	__atomic_sub_fetch(&suspended, 1, __ATOMIC_RELEASE);
}

enum MHD_Result reply_send(struct http_req *r)
{
	struct MHD_Response *resp;
	struct audit_rec rec;
	enum MHD_Result ret;
	char *text;

	if (r->responded)
		return MHD_YES;
	if (!r->audit_submitted) {
		if (r->err != GV_OK && r->status >= 500 && r->err != GV_ERR_UNAVAILABLE)
			log_error("request %s %s %.64s failed: %s", r->request_id, r->method, r->path,
				  gv_strerror(r->err));
		if (r->err == GV_OK && !r->resp)
			r->resp = json_object();
		fill_audit(r, &rec);
		r->audit_submitted = 1;
		if (r->can_suspend && suspend(r)) {
			if (audit_submit(r->app->audit, &rec, audited, r) != GV_OK)
				audited(r, GV_ERR_UNAVAILABLE);   /* refused at once */
			return MHD_YES;
		}
		r->audit_result = audit_append(r->app->audit, &rec);
		r->audit_done = 1;
	}
	if (!__atomic_load_n(&r->audit_done, __ATOMIC_ACQUIRE))
		return MHD_YES;   /* called again before the notifier resumed it */
	r->responded = 1;
	if (r->audit_result != GV_OK) {
		/* No durable record, no response content: the caller learns only that the
		 * service cannot serve safely now. */
		reply_error(r, GV_ERR_UNAVAILABLE, "audit trail unavailable; request refused");
	}
	if (r->err != GV_OK) {
		reply_json_free(r->resp);
		r->resp = error_body(r);
	}
	if (r->err == GV_OK && r->raw_type) {
		/* The buffer outlives the response only through MHD's copy. */
		resp = MHD_create_response_from_buffer(r->raw.len, r->raw.data ? r->raw.data : "",
						       MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->raw_type);
		MHD_add_response_header(resp, "X-Content-SM3", r->raw_sm3);
	} else {
		static const char failed[] =
			"{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error\"}}";

		text = r->resp ? json_dumps(r->resp, JSON_COMPACT) : NULL;
		if (text) {
			resp = MHD_create_response_from_buffer_with_free_callback(strlen(text), text,
										  text_free);
			if (!resp)
				text_free(text);
		} else {
			/* Out of memory: the record is written, so the caller still gets JSON. */
			r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			resp = MHD_create_response_from_buffer(sizeof(failed) - 1, (void *)failed,
							       MHD_RESPMEM_PERSISTENT);
		}
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	}
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED && r->allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					r->audit_actor ? "Basic realm=\"govvault-services\""
						       : "Bearer realm=\"govvault\"");
	if (r->retry_after > 0) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	ret = MHD_queue_response(r->conn, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* router.c - route table, authentication, restrictions, stage and role checks, and the
 * request-body helpers.  Deny by default: a route lists the roles it admits. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/account.h"
#include "auth/login.h"
#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"

enum route_auth {
	AUTH_NONE,      /* public */
	AUTH_ANY_STAGE, /* a session in any login stage (finishing login) */
	AUTH_ACTIVE,    /* a fully authenticated session */
};

#define ANY_ROLE ((unsigned)-1)
#define SEC ROLE_BIT(ROLE_SECADMIN)
#define SYS ROLE_BIT(ROLE_SYSADMIN)
#define AUD ROLE_BIT(ROLE_AUDITADMIN)
#define OWN ROLE_BIT(ROLE_DATA_OWNER)
#define BIZ (ROLE_BIT(ROLE_DATA_OWNER) | ROLE_BIT(ROLE_ANALYST) | ROLE_BIT(ROLE_REVIEWER))

struct route {
	const char *method;
	const char *pattern;   /* "{}" matches one path segment */
	enum route_auth auth;
	unsigned roles;
	const char *action;
	http_handler handler;
	int stream;            /* the body is streamed to the handler (http.h) */
};

static const struct route routes[] = {
	{"GET", "/v1/health", AUTH_NONE, 0, "health", h_health, 0},
	{"POST", "/v1/auth/login", AUTH_NONE, 0, "auth.login", h_auth_login, 0},
	{"POST", "/v1/auth/logout", AUTH_ANY_STAGE, ANY_ROLE, "auth.logout", h_auth_logout, 0},
	{"GET", "/v1/auth/me", AUTH_ANY_STAGE, ANY_ROLE, "auth.me", h_auth_me, 0},
	{"POST", "/v1/auth/password", AUTH_ANY_STAGE, ANY_ROLE, "auth.password", h_auth_password, 0},
	{"POST", "/v1/auth/totp", AUTH_ANY_STAGE, ANY_ROLE, "auth.totp", h_auth_totp, 0},
	{"POST", "/v1/auth/totp/enroll", AUTH_ANY_STAGE, ANY_ROLE, "auth.totp_enroll", h_auth_totp_enroll, 0},
	{"POST", "/v1/auth/totp/confirm", AUTH_ANY_STAGE, ANY_ROLE, "auth.totp_confirm", h_auth_totp_confirm, 0},
	{"GET", "/v1/accounts", AUTH_ACTIVE, SEC, "account.list", h_accounts_list, 0},
	{"POST", "/v1/accounts", AUTH_ACTIVE, SEC, "account.apply", h_accounts_create, 0},
	{"GET", "/v1/accounts/{}", AUTH_ACTIVE, SEC, "account.get", h_accounts_get, 0},
	{"PATCH", "/v1/accounts/{}", AUTH_ACTIVE, SEC, "account.change", h_accounts_patch, 0},
	{"DELETE", "/v1/accounts/{}", AUTH_ACTIVE, SEC, "account.cancel", h_accounts_cancel, 0},
	{"POST", "/v1/accounts/{}/approve", AUTH_ACTIVE, SEC, "account.approve", h_accounts_approve, 0},
	{"POST", "/v1/accounts/{}/disable", AUTH_ACTIVE, SEC, "account.disable", h_accounts_disable, 0},
	{"POST", "/v1/accounts/{}/enable", AUTH_ACTIVE, SEC, "account.enable", h_accounts_enable, 0},
	{"POST", "/v1/accounts/{}/unlock", AUTH_ACTIVE, SEC, "account.unlock", h_accounts_unlock, 0},
	{"POST", "/v1/accounts/{}/reset-password", AUTH_ACTIVE, SEC, "account.reset_password",
	 h_accounts_reset_password, 0},
	{"GET", "/v1/roles", AUTH_ACTIVE, SEC, "role.list", h_roles_list, 0},
	{"PUT", "/v1/roles/{}/restrictions", AUTH_ACTIVE, SEC, "role.restrict", h_roles_set_restrictions, 0},
	{"GET", "/v1/sessions", AUTH_ACTIVE, SEC, "session.list", h_sessions_list, 0},
	{"DELETE", "/v1/sessions/{}", AUTH_ACTIVE, SEC, "session.revoke", h_sessions_revoke, 0},
	{"GET", "/v1/audit", AUTH_ACTIVE, AUD, "audit.list", h_audit_list, 0},
	{"POST", "/v1/audit/verify", AUTH_ACTIVE, AUD, "audit.verify", h_audit_verify, 0},
	{"GET", "/v1/audit/export", AUTH_ACTIVE, AUD, "audit.export", h_audit_export, 0},
	{"GET", "/v1/audit/public-key", AUTH_ACTIVE, AUD, "audit.public_key", h_audit_public_key, 0},
	{"GET", "/v1/datasets", AUTH_ACTIVE, SEC | BIZ, "dataset.list", h_datasets_list, 0},
	{"POST", "/v1/datasets", AUTH_ACTIVE, OWN, "dataset.register", h_datasets_create, 0},
	{"GET", "/v1/datasets/{}", AUTH_ACTIVE, SEC | BIZ, "dataset.get", h_datasets_get, 0},
	{"POST", "/v1/datasets/{}/grade", AUTH_ACTIVE, SEC | OWN, "dataset.grade", h_datasets_grade, 0},
	{"POST", "/v1/datasets/{}/records", AUTH_ACTIVE, OWN, "record.create", h_records_create, 0},
	{"GET", "/v1/datasets/{}/records/{}", AUTH_ACTIVE, BIZ, "record.read", h_records_get, 0},
	{"PUT", "/v1/datasets/{}/records/{}", AUTH_ACTIVE, BIZ, "record.update", h_records_update, 0},
	{"GET", "/v1/datasets/{}/records/{}/history", AUTH_ACTIVE, BIZ, "record.history",
	 h_records_history, 0},
	{"GET", "/v1/datasets/{}/search", AUTH_ACTIVE, BIZ, "record.search", h_records_search, 0},
	{"GET", "/v1/datasets/{}/records/{}/source", AUTH_ACTIVE, BIZ, "record.source",
	 h_records_source, 0},
	{"PUT", "/v1/datasets/{}/quality-rules", AUTH_ACTIVE, OWN, "dataset.rules", h_datasets_rules, 0},
	{"GET", "/v1/datasets/{}/lineage", AUTH_ACTIVE, SEC | BIZ, "dataset.lineage",
	 h_datasets_lineage, 0},
	{"GET", "/v1/datasets/{}/export", AUTH_ACTIVE, BIZ, "dataset.export", h_datasets_export, 0},
	{"POST", "/v1/datasets/{}/masked-copy", AUTH_ACTIVE, OWN, "dataset.masked_copy",
	 h_datasets_masked_copy, 0},
	{"POST", "/v1/datasets/{}/batches", AUTH_ACTIVE, OWN, "batch.import", h_batches_import, 1},
	{"GET", "/v1/datasets/{}/batches", AUTH_ACTIVE, SEC | BIZ, "batch.list", h_batches_list, 0},
	{"GET", "/v1/datasets/{}/batches/{}", AUTH_ACTIVE, SEC | BIZ, "batch.get", h_batches_get, 0},
	{"GET", "/v1/datasets/{}/batches/{}/rows", AUTH_ACTIVE, OWN, "batch.rows", h_batches_rows, 0},
	{"POST", "/v1/datasets/{}/batches/{}/rows/{}/correct", AUTH_ACTIVE, OWN, "batch.correct",
	 h_batches_correct, 0},
	{"POST", "/v1/datasets/{}/batches/{}/rows/{}/discard", AUTH_ACTIVE, OWN, "batch.discard",
	 h_batches_discard, 0},
	{"GET", "/v1/datasets/{}/keys", AUTH_ACTIVE, SEC, "key.show", h_keys_show, 0},
	{"POST", "/v1/datasets/{}/keys/rotate", AUTH_ACTIVE, SEC, "key.rotate", h_keys_rotate, 0},
	{"POST", "/v1/system/keys/rotate-master", AUTH_ACTIVE, SEC, "key.rotate_master",
	 h_keys_rotate_master, 0},
	{"POST", "/v1/grants", AUTH_ACTIVE, SEC, "grant.create", h_grants_create, 0},
	{"GET", "/v1/grants", AUTH_ACTIVE, SEC | OWN, "grant.list", h_grants_list, 0},
	{"GET", "/v1/grants/{}", AUTH_ACTIVE, SEC | OWN, "grant.get", h_grants_get, 0},
	{"POST", "/v1/grants/{}/approve", AUTH_ACTIVE, OWN, "grant.approve", h_grants_approve, 0},
	{"POST", "/v1/grants/{}/revoke", AUTH_ACTIVE, SEC, "grant.revoke", h_grants_revoke, 0},
	{"POST", "/v1/policy/explain", AUTH_ACTIVE, SEC, "policy.explain", h_policy_explain, 0},
	{"GET", "/v1/mask-profiles", AUTH_ACTIVE, SEC | BIZ, "mask_profile.list", h_profiles_list, 0},
	{"GET", "/v1/mask-profiles/{}", AUTH_ACTIVE, SEC | BIZ, "mask_profile.get", h_profiles_get, 0},
	{"PUT", "/v1/mask-profiles/{}", AUTH_ACTIVE, SEC, "mask_profile.put", h_profiles_put, 0},
	{"GET", "/v1/datasets/{}/share-departments", AUTH_ACTIVE, SEC | OWN, "share.departments",
	 h_share_depts_get, 0},
	{"PUT", "/v1/datasets/{}/share-departments", AUTH_ACTIVE, SEC, "share.authorise",
	 h_share_depts_put, 0},
	{"POST", "/v1/share-requests", AUTH_ACTIVE, BIZ, "share.request", h_share_create, 0},
	{"GET", "/v1/share-requests", AUTH_ACTIVE, SEC | BIZ, "share.list", h_share_list, 0},
	{"GET", "/v1/share-requests/{}", AUTH_ACTIVE, SEC | BIZ, "share.get", h_share_get, 0},
	{"PUT", "/v1/share-requests/{}", AUTH_ACTIVE, BIZ, "share.amend", h_share_amend, 0},
	{"POST", "/v1/share-requests/{}/approve", AUTH_ACTIVE, SEC | OWN, "share.approve",
	 h_share_approve, 0},
	{"POST", "/v1/share-requests/{}/return", AUTH_ACTIVE, SEC | OWN, "share.return",
	 h_share_return, 0},
	{"POST", "/v1/share-requests/{}/reject", AUTH_ACTIVE, SEC | OWN, "share.reject",
	 h_share_reject, 0},
	{"POST", "/v1/share-requests/{}/withdraw", AUTH_ACTIVE, BIZ, "share.withdraw",
	 h_share_withdraw, 0},
	{"POST", "/v1/share-requests/{}/revoke", AUTH_ACTIVE, SEC | OWN, "share.revoke",
	 h_share_revoke, 0},
	{"GET", "/v1/services", AUTH_ACTIVE, SEC | BIZ, "service.list", h_services_list, 0},
	/* Consumers authenticate in the handler: they are applications, not accounts. */
	{"GET", "/v1/services/{}/{}/call", AUTH_NONE, 0, "service.call", h_service_call, 0},
	{"POST", "/v1/consumers", AUTH_ACTIVE, SEC, "consumer.create", h_consumers_create, 0},
	{"GET", "/v1/consumers", AUTH_ACTIVE, SEC, "consumer.list", h_consumers_list, 0},
	{"GET", "/v1/consumers/{}", AUTH_ACTIVE, SEC, "consumer.get", h_consumers_get, 0},
	{"PATCH", "/v1/consumers/{}", AUTH_ACTIVE, SEC, "consumer.change", h_consumers_change, 0},
	{"POST", "/v1/consumers/{}/revoke", AUTH_ACTIVE, SEC, "consumer.revoke", h_consumers_revoke, 0},
	{"POST", "/v1/consumers/{}/rotate-secret", AUTH_ACTIVE, SEC, "consumer.rotate_secret",
	 h_consumers_rotate, 0},
	{"GET", "/v1/open/catalogue", AUTH_NONE, 0, "catalogue.open", h_catalogue, 0},
	{"GET", "/v1/reports/service-calls", AUTH_ACTIVE, SEC | AUD, "report.service_calls",
	 h_report_service_calls, 0},
	{"GET", "/v1/system/config", AUTH_ACTIVE, SYS, "system.config", h_system_config, 0},
	{"POST", "/v1/system/reload", AUTH_ACTIVE, SYS, "system.reload", h_system_reload, 0},
};

/* Matches path against pattern, capturing "{}" segments into r->params (arena). */
static int route_match(struct http_req *r, const char *pattern, const char *path)
{
	int n = 0;

	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t len = strcspn(path, "/");
			char *seg;

			if (len == 0 || n == HTTP_MAX_PARAMS)
				return 0;
			seg = arena_alloc(&r->arena, len + 1);
			if (!seg)
				return 0;
			memcpy(seg, path, len);
			r->params[n++] = seg;
			pattern += 2;
			path += len;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	if (*pattern || *path)
		return 0;
	r->nparams = n;
	return 1;
}

static gv_err authenticate(struct http_req *r)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	int64_t now = util_now_s();
	int expired;
	gv_err err;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return reply_error(r, GV_ERR_UNAUTHENTICATED, "missing bearer token");
	err = session_resolve(r->app, auth + 7, now, &r->session);
	if (err == GV_ERR_UNAUTHENTICATED) {
		r->reason = "unknown or expired session";
		return reply_error(r, err, "session is invalid or has expired; log in again");
	}
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	err = r->app->st->ops->account_get_id(r->app->st, r->session.account_id, &r->account);
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	r->has_session = 1;
	/* The sweep runs periodically; an account's end date is enforced to the second. */
	err = account_expire_due(r->app, &r->account, now, &expired);
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	if (expired || r->account.status != ACCOUNT_ACTIVE) {
		(void)r->app->st->ops->session_delete(r->app->st, r->session.id);
		r->reason = "account no longer active";
		return reply_error(r, GV_ERR_UNAUTHENTICATED, "session is invalid or has expired; log in again");
	}
	/* Device binding also pins the session to the certificate it logged in with. */
	if (r->session.device_fp[0] && strcmp(r->session.device_fp, r->device_fp) != 0) {
		r->reason = "client certificate differs from the one used at login";
		return reply_error(r, GV_ERR_RESTRICTED, NULL);
	}
	err = login_check_access(r->app, &r->account, r->ip, r->device_fp, now, &r->reason);
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	return GV_OK;
}

/* "application/json", optionally followed by parameters; not a longer type name that
 * merely starts with it (application/jsonx, application/json-seq). */
static int media_type_is_json(const char *ctype)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ctype || strncasecmp(ctype, want, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

gv_err router_recheck(struct http_req *r, unsigned roles)
{
	gv_err err = authenticate(r);

	if (err != GV_OK)
		return err;
	if (r->session.stage != SESSION_ACTIVE || !(r->account.roles & roles)) {
		r->reason = "access ended during the request";
		return reply_error(r, GV_ERR_FORBIDDEN, "access ended during the request");
	}
	return GV_OK;
}

int router_is_stream(const char *method, const char *path)
{
	/* Matching needs a request for its captures; a throwaway one suffices. */
	struct http_req probe;
	int yes = 0;

	if (strcmp(method, "POST") != 0)   /* the only method that streams */
		return 0;
	memset(&probe, 0, sizeof(probe));
	arena_init(&probe.arena, 4096);
	for (size_t i = 0; i < GV_ARRAY_LEN(routes) && !yes; i++)
		yes = routes[i].stream && strcmp(routes[i].method, method) == 0 &&
		      route_match(&probe, routes[i].pattern, path);
	arena_release(&probe.arena);
	return yes;
}

void router_dispatch(struct http_req *r)
{
	const struct route *rt = NULL;
	int path_known = 0;
	size_t used;
	gv_err err;

	for (size_t i = 0; i < GV_ARRAY_LEN(routes); i++) {
		if (!route_match(r, routes[i].pattern, r->path))
			continue;
		if (strcmp(routes[i].method, r->method) == 0) {
			rt = &routes[i];
			break;
		}
		/* RFC 9110 15.5.6: a 405 names the methods the resource does accept. */
		used = strlen(r->allow);
		snprintf(r->allow + used, sizeof(r->allow) - used, "%s%s", path_known ? ", " : "",
			 routes[i].method);
		path_known = 1;
	}
	if (!rt) {
		r->action = "http.unrouted";
		if (path_known)
			reply_error(r, GV_ERR_INVALID, "method not allowed on this resource");
		else
			reply_error(r, GV_ERR_NOT_FOUND, "no such API endpoint");
		if (path_known)
			r->status = MHD_HTTP_METHOD_NOT_ALLOWED;
		return;
	}
	r->action = rt->action;
	/* Fail closed before any work: a request whose record cannot be written must not
	 * change or read anything. */
	if (!audit_available(r->app->audit)) {
		r->reason = "audit log unavailable";
		reply_error(r, GV_ERR_UNAVAILABLE, "audit trail unavailable; request refused");
		return;
	}
	if (rt->auth != AUTH_NONE) {
		if (authenticate(r) != GV_OK)
			return;
		if (rt->auth == AUTH_ACTIVE && r->session.stage != SESSION_ACTIVE) {
			r->reason = "login not complete";
			r->message = arena_printf(&r->arena, "complete the login step '%s' first",
						  session_stage_name(r->session.stage));
			reply_error(r, GV_ERR_STAGE, r->message);
			return;
		}
		if (rt->roles != ANY_ROLE && !(r->account.roles & rt->roles)) {
			r->reason = "role not permitted";
			reply_error(r, GV_ERR_FORBIDDEN, NULL);
			return;
		}
	}
	if (r->body.len) {
		const char *why = NULL;
		const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
								MHD_HTTP_HEADER_CONTENT_TYPE);
		struct gv_config cfg;

		if (!media_type_is_json(ctype)) {
			reply_error(r, GV_ERR_INVALID, "request body must be application/json");
			r->status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
			return;
		}
		app_policy(r->app, &cfg);
		err = json_parse_body(r->body.data, r->body.len, cfg.max_json_depth, &r->json, &why);
		if (err != GV_OK) {
			reply_error(r, err, why);
			return;
		}
	}
	err = rt->handler(r);
	if (err != GV_OK && r->err == GV_OK)
		reply_error(r, err, NULL);
}

int json_text_depth(const char *text, size_t len)
{
	int depth = 0, max = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

gv_err json_parse_body(const char *text, size_t len, int max_depth, json_t **out, const char **why)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	*why = NULL;
	if (json_text_depth(text, len) > max_depth) {
		*why = "JSON nesting is deeper than server.max_json_depth";
		return GV_ERR_INVALID;
	}
	/* jansson rejects invalid UTF-8, NUL in strings unless allowed, and trailing data. */
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		*why = "request body is not valid JSON (or not valid UTF-8, or has duplicate keys)";
		return GV_ERR_INVALID;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*why = "request body must be a JSON object";
		return GV_ERR_INVALID;
	}
	*out = j;
	return GV_OK;
}

gv_err req_only_fields(struct http_req *r, const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!r->json)
		return GV_OK;
	json_object_foreach(r->json, key, v) {
		int ok = 0;

		(void)v;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			char *msg = util_utf8_printable(key) && strlen(key) < 64
				? arena_printf(&r->arena, "unknown field '%s'", key) : NULL;

			return reply_error(r, GV_ERR_INVALID, msg ? msg : "unknown field");
		}
	}
	return GV_OK;
}

gv_err req_string(struct http_req *r, const char *key, int required, size_t max, const char **out)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return GV_OK;
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' is required", key));
	}
	if (!json_is_string(v))
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' must be a string", key));
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return reply_error(r, GV_ERR_INVALID,
				   arena_printf(&r->arena, "field '%s' is longer than %zu bytes", key, max));
	if (!util_utf8_printable(json_string_value(v)))
		return reply_error(r, GV_ERR_INVALID,
				   arena_printf(&r->arena, "field '%s' contains control characters", key));
	*out = json_string_value(v);
	return GV_OK;
}

gv_err req_int(struct http_req *r, const char *key, int required, long long min, long long max,
	       long long *out, int *present)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL;

	*present = 0;
	if (!v) {
		if (!required)
			return GV_OK;
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' is required", key));
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return reply_error(r, GV_ERR_INVALID,
				   arena_printf(&r->arena, "field '%s' must be an integer in [%lld, %lld]",
						key, min, max));
	*out = json_integer_value(v);
	*present = 1;
	return GV_OK;
}

gv_err req_bool(struct http_req *r, const char *key, int *out, int *present)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL;

	*present = 0;
	if (!v)
		return GV_OK;
	if (!json_is_boolean(v))
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' must be true or false", key));
	*out = json_is_true(v);
	*present = 1;
	return GV_OK;
}

gv_err req_list(struct http_req *r, const char *key, char *out, size_t len)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL, *item;
	size_t used = 0, i;

	out[0] = '\0';
	if (!v)
		return GV_OK;
	if (!json_is_array(v))
		return reply_error(r, GV_ERR_INVALID,
				   arena_printf(&r->arena, "field '%s' must be an array of strings", key));
	json_array_foreach(v, i, item) {
		const char *s = json_string_value(item);
		size_t n = s ? strlen(s) : 0;

		if (!s || !n || strchr(s, ',') || n != json_string_length(item) ||
		    !util_utf8_printable(s))
			return reply_error(r, GV_ERR_INVALID,
					   arena_printf(&r->arena, "field '%s' has an invalid entry", key));
		if (used + n + 2 > len)
			return reply_error(r, GV_ERR_INVALID,
					   arena_printf(&r->arena, "field '%s' is too long", key));
		if (used)
			out[used++] = ',';
		memcpy(out + used, s, n + 1);
		used += n;
	}
	return GV_OK;
}

gv_err req_time(struct http_req *r, const char *key, int64_t *out)
{
	const char *text = NULL;

	*out = 0;
	if (req_string(r, key, 0, 20, &text) != GV_OK)
		return r->err;
	if (text && time_parse(text, out) != GV_OK)
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' must be "
					   "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", key));
	return GV_OK;
}

int req_query_int(struct http_req *r, const char *key, long long min, long long max,
		     long long def, long long *out)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	char *end;

	*out = def;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	if (!*v || *end || *out < min || *out > max)
		return -1;
	return 0;
}

/* h_services.c - data services and their consumers: the call a consumer makes
 * (/v1/services/{name}/{version}/call), the list of services, consumer credentials
 * (secadmin), the public open-data catalogue and the call-audit report.
 *
 * A call is refused in this order, each refusal audited: unknown credentials (401), an
 * address outside the consumer's allowlist (403), a service it is not bound to (404),
 * one revoked or expired (403), over the rate limit (429 with Retry-After), then
 * parameters: unknown, repeated, missing, mistyped or over-long (400) - all before
 * anything touches storage. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/cidr.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "share/ratelimit.h"
#include "share/share.h"

#define CALL_ARGS_MAX (2 * PARAMS_MAX)   /* more is refused without looking further */

/* "gvc_" + 16 lower-case hex digits. */
static int client_id_ok(const char *s)
{
	if (!s || strlen(s) != 20 || strncmp(s, "gvc_", 4) != 0)
		return 0;
	for (int i = 4; i < 20; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

struct args {
	struct params_arg a[CALL_ARGS_MAX];
	size_t n;
	int too_many;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   size_t key_size, const char *value, size_t value_size)
{
	struct args *x = cls;

	(void)kind;
	(void)key_size;
	if (x->n == CALL_ARGS_MAX) {
		x->too_many = 1;
		return MHD_NO;
	}
	x->a[x->n].name = key;
	x->a[x->n].value = value;
	x->a[x->n].len = value ? value_size : 0;
	x->n++;
	return MHD_YES;
}

/* The consumer's credentials: HTTP Basic (client id : secret), X-Client-Id with
 * X-Client-Secret, or a client certificate registered for it. */
static gv_err consumer_authenticate(struct http_req *r, struct store_consumer *c)
{
	char *user = NULL, *pass = NULL;
	const char *id = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Client-Id");
	const char *secret = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Client-Secret");
	const char *claimed;
	gv_err err;

	user = MHD_basic_auth_get_username_password(r->conn, &pass);
	if (user) {
		id = user;
		secret = pass ? pass : "";
	}
	/* Until the credentials hold, the caller is nobody: a claimed client id goes into
	 * the reason, so a stranger cannot fill a real consumer's rows of the report. */
	r->audit_actor = "consumer:(unauthenticated)";
	claimed = client_id_ok(id) ? arena_strdup(&r->arena, id) : NULL;   /* id may be freed below */
	if (!id && !secret && r->device_fp[0])
		err = share_consumer_auth(r->app, NULL, NULL, r->device_fp, r->ip, c);
	else if (claimed)
		err = share_consumer_auth(r->app, claimed, secret, r->device_fp, r->ip, c);
	else
		err = GV_ERR_AUTH;
	if (user)
		MHD_free(user);
	if (pass) {
		util_wipe(pass, strlen(pass));
		MHD_free(pass);
	}
	id = secret = user = pass = NULL;
	/* Credentials that hold make the call the consumer's, even from a wrong address. */
	if (err == GV_OK || err == GV_ERR_RESTRICTED)
		r->audit_actor = arena_printf(&r->arena, "consumer:%s", c->client_id);
	if (err == GV_ERR_AUTH) {
		r->reason = claimed ? arena_printf(&r->arena, "unknown client or wrong credentials "
						   "(claimed %s)", claimed)
				    : "unknown client or wrong credentials";
		return reply_error(r, err, "unknown client or wrong credentials");
	}
	if (err == GV_ERR_RESTRICTED) {
		r->reason = "address outside the consumer's allowlist";
		return reply_error(r, err, "this address may not call as this consumer");
	}
	return err == GV_OK ? GV_OK : reply_error(r, err, NULL);
}

/* name=keyed digest of each argument: the trail can match a value an auditor holds,
 * and never holds the value.  What does not fit is marked, not dropped in silence. */
static const char *params_digest(struct http_req *r, const struct params_spec *s,
				 const struct params_call *call)
{
	char out[512];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		char d[65];

		if (!call->vals[i] || crypto_hmac_sm3_hex(r->app->keys.audit, sizeof(r->app->keys.audit),
							 call->vals[i], d) != GV_OK)
			continue;
		if (used + strlen(s->p[i].name) + 67 + 8 >= sizeof(out)) {
			snprintf(out + used, sizeof(out) - used, ",...(cut)");
			break;
		}
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s=%s", used ? "," : "",
					 s->p[i].name, d);
	}
	return arena_strdup(&r->arena, out);
}

/* {id, data} of each record: who wrote it and where it came from stay inside. */
static json_t *records_out(json_t *records)
{
	json_t *out = json_array(), *rec;
	size_t i;

	json_array_foreach(records, i, rec)
		json_array_append_new(out, json_pack("{s:O,s:O}", "id", json_object_get(rec, "id"),
						     "data", json_object_get(rec, "data")));
	return out;
}

gv_err h_service_call(struct http_req *r)
{
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	struct share_service *s = NULL;
	struct params_call call;
	struct args args = {0};
	const char *why = NULL;
	char whybuf[200], masklog[1024];
	json_t *records = NULL;
	long long version = 0;
	char *end;
	int retry;
	gv_err err;

	if (!c)
		return GV_ERR_NOMEM;
	if (strcmp(r->params[1], "latest") != 0) {
		version = strtoll(r->params[1], &end, 10);
		if (*end || version < 1 || version > 1000000)
			version = -1;
	}
	/* Until the version is resolved the record names what was asked for; a name or
	 * version that cannot be one is not echoed. */
	r->object = arena_printf(&r->arena, "service:%s/%s%s",
				 share_service_name_ok(r->params[0]) ? r->params[0] : "(invalid)",
				 version > 0 ? "v" : "", version > 0 ? r->params[1]
								     : version ? "(invalid)" : "latest");
	if (consumer_authenticate(r, c) != GV_OK)
		return r->err;
	if (version < 0) {
		r->reason = "no such service version";
		return reply_error(r, GV_ERR_NOT_FOUND, "no such service version");
	}
	err = share_service_get(r->app, c, r->params[0], (int)version, util_now_s(), &s, &why);
	if (err != GV_OK) {
		r->reason = why;
		return reply_error(r, err, why);
	}
	r->object = arena_printf(&r->arena, "service:%s/v%d", s->s.name, s->s.version);
	if (s->purpose[0])
		r->audit_purpose = arena_strdup(&r->arena, s->purpose);
	if (!ratelimit_take(c->id, s->s.id, s->s.rate_per_minute, util_now_us(), &retry)) {
		r->retry_after = retry;
		r->reason = arena_printf(&r->arena, "over %d calls per minute", s->s.rate_per_minute);
		err = reply_error(r, GV_ERR_RATE, arena_printf(&r->arena, "over the service's limit of "
					  "%d calls per minute; retry after %d s", s->s.rate_per_minute, retry));
		goto out;
	}
	/* Parameters: nothing below this touches storage until they have passed. */
	MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
	if (args.too_many) {
		r->reason = "too many parameters";
		err = reply_error(r, GV_ERR_INVALID, "too many parameters");
		goto out;
	}
	if (params_check(s->spec, args.a, args.n, &call, whybuf, sizeof(whybuf)) != GV_OK) {
		r->reason = arena_strdup(&r->arena, whybuf);
		err = reply_error(r, GV_ERR_INVALID, r->reason);
		goto out;
	}
	r->audit_params = params_digest(r, s->spec, &call);
	err = share_service_fetch(r->app, s, &call, &records, masklog, sizeof(masklog), &why);
	if (err != GV_OK) {
		r->reason = why;
		err = reply_error(r, err, why);
		goto out;
	}
	r->audit_masked = arena_printf(&r->arena, "%.240s%s", masklog,
				       strlen(masklog) > 240 ? " ...(cut)" : "");
	r->audit_detail = arena_printf(&r->arena, "rows=%zu", json_array_size(records));
	r->reason = arena_printf(&r->arena, "permit: service %s v%d for %.64s; %zu records",
				 s->s.name, s->s.version, c->department, json_array_size(records));
	r->resp = json_pack("{s:s,s:i,s:o,s:I}", "service", s->s.name, "version", s->s.version,
			    "records", records_out(records), "count",
			    (json_int_t)json_array_size(records));
	err = r->resp ? GV_OK : GV_ERR_NOMEM;
out:
	json_decref(records);
	share_service_put(s);
	return err;
}

gv_err h_services_list(struct http_req *r)
{
	return share_service_list(r->app, &r->account, &r->resp);
}

gv_err h_catalogue(struct http_req *r)
{
	r->object = "open_catalogue";
	return share_catalogue(r->app, &r->resp);
}

/* ---- consumers (secadmin) ---- */

static int cidr_list_ok(const char *list)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		char item[64];
		struct cidr c;

		if (n >= sizeof(item))
			return 0;
		memcpy(item, p, n);
		item[n] = '\0';
		if (cidr_parse(item, &c) != GV_OK)
			return 0;
		p += n + (p[n] == ',');
	}
	return 1;
}

static int fp_ok(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* name, ip_allowlist, services and cert_fp of a body into c; create asks for all. */
static gv_err parse_consumer(struct http_req *r, struct store_consumer *c, int create)
{
	static const char *const create_fields[] = {"name", "department", "ip_allowlist", "services",
						    "cert_fp", NULL};
	static const char *const change_fields[] = {"name", "ip_allowlist", "services", "cert_fp",
						    NULL};
	const char *name = NULL, *dept = NULL, *fp = NULL;

	memset(c, 0, sizeof(*c));
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, create ? create_fields : change_fields) ||
	    req_string(r, "name", create, 128, &name) ||
	    (create && req_string(r, "department", 1, 128, &dept)) ||
	    req_string(r, "cert_fp", 0, 64, &fp) ||
	    req_list(r, "ip_allowlist", c->ip_allowlist, sizeof(c->ip_allowlist)) ||
	    req_list(r, "services", c->services, sizeof(c->services)))
		return r->err;
	if (((create || json_object_get(r->json, "ip_allowlist")) && !c->ip_allowlist[0]) ||
	    !cidr_list_ok(c->ip_allowlist))
		return reply_error(r, GV_ERR_INVALID, "ip_allowlist must be a non-empty array of "
				   "addresses or CIDR ranges");
	if (fp && *fp && !fp_ok(fp))
		return reply_error(r, GV_ERR_INVALID, "cert_fp must be the SHA-256 of the client "
				   "certificate in lower-case hex");
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	snprintf(c->department, sizeof(c->department), "%s", dept ? dept : "");
	snprintf(c->cert_fp, sizeof(c->cert_fp), "%s", fp ? fp : "");
	if (create && (!c->name[0] || !c->department[0]))
		return reply_error(r, GV_ERR_INVALID, "name and department must not be empty");
	return GV_OK;
}

/* The reply carrying a consumer and, once, its secret. */
static gv_err reply_consumer(struct http_req *r, const struct store_consumer *c, char *secret)
{
	r->object = arena_printf(&r->arena, "consumer:%s", c->client_id);
	r->resp = share_consumer_json(c);
	if (r->resp && secret && secret[0])
		json_object_set_new(r->resp, "client_secret", json_string(secret));
	if (secret)
		util_wipe(secret, 65);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_consumers_create(struct http_req *r)
{
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	char secret[65], why[256];
	gv_err err;

	if (!c)
		return GV_ERR_NOMEM;
	if (parse_consumer(r, c, 1) != GV_OK)
		return r->err;
	err = share_consumer_create(r->app, &r->account, c, secret, why, sizeof(why));
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	r->status = 201;
	r->reason = arena_printf(&r->arena, "consumer for %.64s", c->department);
	return reply_consumer(r, c, secret);
}

static int collect_consumer(const struct store_consumer *c, void *arg)
{
	json_t *list = arg;

	return json_array_append_new(list, share_consumer_json(c)) != 0;
}

gv_err h_consumers_list(struct http_req *r)
{
	json_t *list = json_array();
	gv_err err = list ? r->app->st->ops->consumer_list(r->app->st, collect_consumer, list)
			  : GV_ERR_NOMEM;

	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "consumers", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_consumers_get(struct http_req *r)
{
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	gv_err err = c ? r->app->st->ops->consumer_get(r->app->st, r->params[0], c) : GV_ERR_NOMEM;

	r->object = arena_printf(&r->arena, "consumer:%.32s", r->params[0]);
	if (err != GV_OK)
		return reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such consumer" : NULL);
	util_wipe(c->secret_hash, sizeof(c->secret_hash));
	return reply_consumer(r, c, NULL);
}

gv_err h_consumers_change(struct http_req *r)
{
	struct store_consumer *with = arena_alloc(&r->arena, sizeof(*with));
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {{"name", CONSUMER_SET_NAME}, {"ip_allowlist", CONSUMER_SET_ALLOWLIST},
		    {"services", CONSUMER_SET_SERVICES}, {"cert_fp", CONSUMER_SET_CERT}};
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	unsigned what = 0;
	char why[256];
	gv_err err;

	r->object = arena_printf(&r->arena, "consumer:%.32s", r->params[0]);
	if (!with || !c)
		return GV_ERR_NOMEM;
	if (parse_consumer(r, with, 0) != GV_OK)
		return r->err;
	/* What the body names changes; what it leaves out stays as it is. */
	for (size_t i = 0; i < GV_ARRAY_LEN(keys); i++)
		if (json_object_get(r->json, keys[i].key))
			what |= keys[i].bit;
	if (what & CONSUMER_SET_NAME && !with->name[0])
		return reply_error(r, GV_ERR_INVALID, "name must not be empty");
	err = share_consumer_change(r->app, r->params[0], with, what, c, why, sizeof(why));
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	return reply_consumer(r, c, NULL);
}

gv_err h_consumers_revoke(struct http_req *r)
{
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	gv_err err = c ? share_consumer_revoke(r->app, &r->account, r->params[0], c) : GV_ERR_NOMEM;

	r->object = arena_printf(&r->arena, "consumer:%.32s", r->params[0]);
	if (err != GV_OK)
		return reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such consumer"
					   : err == GV_ERR_STATE ? "the consumer is revoked already" : NULL);
	return reply_consumer(r, c, NULL);
}

gv_err h_consumers_rotate(struct http_req *r)
{
	struct store_consumer *c = arena_alloc(&r->arena, sizeof(*c));
	char secret[65];
	gv_err err = c ? share_consumer_rotate(r->app, r->params[0], secret, c) : GV_ERR_NOMEM;

	r->object = arena_printf(&r->arena, "consumer:%.32s", r->params[0]);
	if (err != GV_OK)
		return reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such consumer"
					   : err == GV_ERR_STATE ? "the consumer is revoked" : NULL);
	return reply_consumer(r, c, secret);
}

/* ---- the call-audit report (secadmin, auditadmin) ---- */

static int query_day(struct http_req *r, const char *key, int64_t def, int64_t *out)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	int64_t t;

	*out = def;
	if (!v)
		return 0;
	if (strlen(v) != 10 || time_parse(v, &t) != GV_OK)
		return -1;
	*out = t / 86400;
	return 0;
}

gv_err h_report_service_calls(struct http_req *r)
{
	const char *consumer = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "consumer");
	const char *service = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "service");
	struct gv_config cfg;
	int64_t today, from, to;

	r->object = "report:service_calls";
	app_policy(r->app, &cfg);
	today = (util_now_s() + cfg.utc_offset_min * 60) / 86400;
	if (query_day(r, "to", today, &to) || query_day(r, "from", to, &from))
		return reply_error(r, GV_ERR_INVALID, "from and to must be YYYY-MM-DD");
	if (from > to || to - from > 366)
		return reply_error(r, GV_ERR_INVALID, "from must not be after to, and at most 367 days "
				   "apart");
	if ((consumer && (strlen(consumer) > 64 || !util_utf8_printable(consumer))) ||
	    (service && (strlen(service) > 63 || !util_utf8_printable(service))))
		return reply_error(r, GV_ERR_INVALID, "consumer and service are short names");
	return share_report(r->app, from, to, consumer, service, &r->resp);
}

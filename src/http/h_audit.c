/* h_audit.c - GET /v1/audit: the audit administrator reads the audit trail.
 * Query: after (sequence, default 0), limit (1-1000, default 100), actor, action. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static int audit_one(const struct store_audit *a, void *ctx)
{
	json_t *t = json_time(a->ts_us / 1000000);
	char when[40] = "";

	if (json_is_string(t))
		snprintf(when, sizeof(when), "%.19s.%06lldZ", json_string_value(t),
			 (long long)(a->ts_us % 1000000));
	json_decref(t);
	json_array_append_new(
		ctx, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "seq",
			       (json_int_t)a->seq, "time", when, "node", a->node, "request_id",
			       a->request_id, "actor", a->actor, "roles", a->roles, "session",
			       a->session, "source", a->source, "device_fingerprint", a->device_fp,
			       "action", a->action, "object", a->object, "result", a->result,
			       "status", a->status, "reason", a->reason));
	return 0;
}

static int query_int(struct http_req *r, const char *key, long long min, long long max,
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

gv_err h_audit_list(struct http_req *r)
{
	struct store_audit_filter f = {0};
	long long after, limit;
	json_t *list;
	gv_err err;

	if (query_int(r, "after", 0, INT64_MAX, 0, &after) ||
	    query_int(r, "limit", 1, 1000, 100, &limit))
		return reply_error(r, GV_ERR_INVALID, "after must be >= 0 and limit in [1, 1000]");
	f.after_seq = after;
	f.limit = (int)limit;
	f.actor = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "actor");
	f.action = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "action");
	if ((f.actor && (strlen(f.actor) > 64 || !util_utf8_printable(f.actor))) ||
	    (f.action && (strlen(f.action) > 64 || !util_utf8_printable(f.action))))
		return reply_error(r, GV_ERR_INVALID, "actor and action filters must be short text");
	list = json_array();
	if (!list)
		return GV_ERR_NOMEM;
	err = r->app->st->ops->audit_list(r->app->st, &f, audit_one, list);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "records", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

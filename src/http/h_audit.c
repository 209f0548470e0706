/* h_audit.c - /v1/audit: the audit administrator queries and verifies the audit log.
 * GET query: after (sequence), limit (1-1000, default 100), from / to (RFC 3339 or
 * YYYY-MM-DD, UTC; to is exclusive), actor, action, object (prefix), result. */
#include "http/http.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Export bodies are built in memory; a larger range must be split by the caller. */
#define EXPORT_MAX ((size_t)64 << 20)

/* A JSON string for a record field.  Fields can hold bytes that are not UTF-8 (a path
 * segment of a refused request, say); those are shown as \xHH rather than letting one
 * record vanish from queries and exports. */
static json_t *jtext(const char *v)
{
	json_t *j = json_string(v);
	struct gv_buf b;

	if (j)
		return j;
	buf_init(&b, 4 * strlen(v) + 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		gv_err err = *p < 0x80 ? buf_append(&b, p, 1) : buf_printf(&b, "\\x%02x", *p);

		if (err != GV_OK)
			break;
	}
	j = json_string(b.data ? b.data : "");
	buf_release(&b);
	return j;
}

static json_t *rec_json(const struct audit_rec *a)
{
	static const struct {
		const char *key;
		size_t off;
	} text[] = {
		{"node", offsetof(struct audit_rec, node)},
		{"request_id", offsetof(struct audit_rec, request_id)},
		{"actor", offsetof(struct audit_rec, actor)},
		{"roles", offsetof(struct audit_rec, roles)},
		{"session", offsetof(struct audit_rec, session)},
		{"source", offsetof(struct audit_rec, source)},
		{"device_fingerprint", offsetof(struct audit_rec, device_fp)},
		{"action", offsetof(struct audit_rec, action)},
		{"object", offsetof(struct audit_rec, object)},
		{"result", offsetof(struct audit_rec, decision)},
		{"reason", offsetof(struct audit_rec, reason)},
		{"purpose", offsetof(struct audit_rec, purpose)},
		{"masked_fields", offsetof(struct audit_rec, masked)},
		{"body_digest", offsetof(struct audit_rec, body_sm3)},
		{"params", offsetof(struct audit_rec, params)},
		{"detail", offsetof(struct audit_rec, detail)},
	};
	char when[AUDIT_TIME_LEN];
	json_t *o;

	audit_time_format(a->ts_us, when);
	o = json_pack("{s:I,s:s,s:s,s:i}", "seq", (json_int_t)a->seq, "time", when, "kind",
		      audit_kind_name(a->kind), "status", a->status);
	for (size_t i = 0; o && i < sizeof(text) / sizeof(text[0]); i++)
		if (json_object_set_new(o, text[i].key, jtext((const char *)a + text[i].off)) != 0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

static int audit_one(const struct audit_rec *a, void *ctx)
{
	json_array_append_new(ctx, rec_json(a));
	return 0;
}

struct export_ctx {
	struct gv_buf *out;
	gv_err err;
};

static int export_one(const struct audit_rec *a, void *ctx)
{
	struct export_ctx *x = ctx;
	json_t *j = rec_json(a);
	char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	x->err = line ? buf_printf(x->out, "%s\n", line) : GV_ERR_NOMEM;
	free(line);
	return x->err != GV_OK;
}

static int query_time(struct http_req *r, const char *key, int64_t *out_us)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	int64_t s;

	*out_us = 0;
	if (!v)
		return 0;
	if (time_parse(v, &s) != GV_OK)
		return -1;
	*out_us = s * 1000000;
	return 0;
}

static int query_text(struct http_req *r, const char *key, const char **out)
{
	*out = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	return *out && (strlen(*out) > 128 || !util_utf8_printable(*out)) ? -1 : 0;
}

/* The query parameters shared by list and export. */
static gv_err parse_filter(struct http_req *r, struct audit_filter *f, long long max_limit,
			   long long def_limit)
{
	long long after, limit;

	memset(f, 0, sizeof(*f));
	if (req_query_int(r, "after", 0, INT64_MAX, 0, &after) ||
	    req_query_int(r, "limit", 1, max_limit, def_limit, &limit))
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena,
				   "after must be >= 0 and limit in [1, %lld]", max_limit));
	f->after_seq = after;
	f->limit = (int)limit;
	if (query_time(r, "from", &f->from_us) || query_time(r, "to", &f->to_us))
		return reply_error(r, GV_ERR_INVALID,
				   "from and to must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
	if (query_text(r, "actor", &f->actor) || query_text(r, "action", &f->action) ||
	    query_text(r, "object", &f->object) || query_text(r, "result", &f->decision))
		return reply_error(r, GV_ERR_INVALID,
				   "actor, action, object and result filters must be short text");
	return GV_OK;
}

gv_err h_audit_list(struct http_req *r)
{
	struct audit_filter f;
	json_t *list;
	gv_err err;

	if (parse_filter(r, &f, 1000, 100) != GV_OK)
		return r->err;
	list = json_array();
	if (!list)
		return GV_ERR_NOMEM;
	err = audit_query(r->app->audit, &f, audit_one, list);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "records", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

json_t *audit_verify_json(const struct audit_verify_result *v)
{
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}", "ok", v->ok, "records",
			 (json_int_t)v->records, "checkpoints", (json_int_t)v->checkpoints,
			 "witnessed", (json_int_t)v->witnessed, "first_seq", (json_int_t)v->first_seq,
			 "last_seq", (json_int_t)v->last_seq, "bad_seq", (json_int_t)v->bad_seq,
			 "problem", v->ok ? NULL : v->problem);
}

gv_err h_audit_verify(struct http_req *r)
{
	static const char *const fields[] = {"tail_only", NULL};
	struct audit_verify_result v;
	int tail = 0, present;
	gv_err err;

	if (req_only_fields(r, fields) || req_bool(r, "tail_only", &tail, &present))
		return r->err;
	r->object = "audit";
	err = audit_verify(r->app->audit, tail, &v);
	if (err != GV_OK)
		return err;
	if (!v.ok)
		r->reason = "audit verification failed";
	r->resp = audit_verify_json(&v);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_audit_export(struct http_req *r)
{
	struct audit_filter f;
	struct export_ctx x = {&r->raw, GV_OK};
	unsigned char d[CRYPTO_SM3_LEN];
	gv_err err;

	if (parse_filter(r, &f, INT32_MAX, INT32_MAX) != GV_OK)
		return r->err;
	if (!f.from_us || !f.to_us || f.to_us <= f.from_us)
		return reply_error(r, GV_ERR_INVALID, "export needs a time range: from < to");
	r->object = arena_printf(&r->arena, "audit:%lld-%lld", (long long)(f.from_us / 1000000),
				 (long long)(f.to_us / 1000000));
	buf_init(&r->raw, EXPORT_MAX);
	err = audit_query(r->app->audit, &f, export_one, &x);
	if (err == GV_OK)
		err = x.err;
	if (err == GV_ERR_TOO_LARGE)
		return reply_error(r, err, "the export exceeds 64 MiB; split the time range");
	if (err != GV_OK)
		return err;
	err = crypto_sm3(r->raw.data ? r->raw.data : "", r->raw.len, d);
	if (err != GV_OK)
		return err;
	util_hex_encode(d, sizeof(d), r->raw_sm3);
	r->raw_type = "application/x-ndjson";
	return GV_OK;
}

gv_err h_audit_public_key(struct http_req *r)
{
	struct gv_buf pem;
	gv_err err;

	buf_init(&pem, 4096);
	err = audit_public_key_pem(r->app->audit, &pem);
	if (err == GV_OK)
		r->resp = json_pack("{s:s,s:s}", "algorithm", "SM2 (sm2p256v1), signatures over SM3 "
				    "with user id 1234567812345678", "public_key_pem", pem.data);
	buf_release(&pem);
	if (err != GV_OK)
		return err;
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

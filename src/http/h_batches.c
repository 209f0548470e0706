/* h_batches.c - /v1/datasets/{name}/batches: streamed import, batches and their
 * reports, rows as received, quarantine corrections and discards. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/dataset.h"
#include "data/batch.h"
#include "data/import.h"

#define ROWS_PAGE_MAX 200   /* rows of up to 1 MiB each: a page stays bounded */

static const char *query(struct http_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* The import format: ?format= or else the media type of the body. */
static const char *import_format(struct http_req *r)
{
	const char *f = query(r, "format");
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);

	if (f)
		return f;
	if (!ct)
		return NULL;
	if (strncasecmp(ct, "text/csv", 8) == 0)
		return "csv";
	if (strncasecmp(ct, "application/x-ndjson", 20) == 0 ||
	    strncasecmp(ct, "application/jsonl", 17) == 0)
		return "jsonl";
	return NULL;
}

static gv_err import_feed_cb(struct http_req *r, const char *data, size_t len)
{
	gv_err err = import_feed(r->stream_ctx, data, len);
	int64_t now = util_now_s();

	/* An upload is activity: its session does not idle out while bytes arrive (the
	 * caller is checked again before the commit). */
	if (err == GV_OK && now - r->session.last_seen >= 30) {
		r->session.last_seen = now;
		(void)r->app->st->ops->session_update(r->app->st, &r->session);
	}
	if (err != GV_OK)
		reply_error(r, err, NULL);
	return err;
}

/* Before the commit: the caller must still hold its access, and the commit must be in
 * the audit trail first (fail closed: an unaudited batch is never committed). */
static gv_err commit_check(void *ctx, const struct store_batch *b)
{
	struct http_req *r = ctx;
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	char note[200];
	gv_err err = router_recheck(r, ROLE_BIT(ROLE_DATA_OWNER));

	if (err == GV_OK)
		err = d ? r->app->st->ops->dataset_get(r->app->st, r->params[0], d) : GV_ERR_NOMEM;
	if (err == GV_OK && !dataset_visible(&r->account, d))
		err = reply_error(r, GV_ERR_FORBIDDEN, "access ended during the request");
	if (err != GV_OK)
		return err;
	snprintf(note, sizeof(note), "committing %lld rows: %lld accepted, %lld flagged, %lld "
		 "quarantined", (long long)b->rows, (long long)b->accepted, (long long)b->flagged,
		 (long long)b->quarantined);
	err = audit_event(r->app->audit, r->account.username, "batch.commit", r->object, note);
	if (err != GV_OK)
		return reply_error(r, GV_ERR_UNAVAILABLE, "audit trail unavailable; the batch was not committed");
	return GV_OK;
}

static void import_end_cb(struct http_req *r)
{
	struct store_batch *b = arena_alloc(&r->arena, sizeof(*b));
	char why[300];
	gv_err err = GV_ERR_NOMEM;

	if (b) {
		memset(b, 0, sizeof(*b));
		import_set_commit_check(r->stream_ctx, commit_check, r);
		err = import_finish(r->stream_ctx, b, why, sizeof(why));
		if (err != GV_OK && r->err != GV_OK)
			return;   /* commit_check replied */
	}

	if (err == GV_OK || err == GV_ERR_INTEGRITY || err == GV_ERR_INVALID)
		r->reason = arena_printf(&r->arena, "source %.64s, %lld rows: %lld accepted, "
					 "%lld flagged, %lld quarantined%s%.200s",
					 b->source, (long long)b->rows, (long long)b->accepted,
					 (long long)b->flagged, (long long)b->quarantined,
					 err == GV_OK ? "" : "; rejected: ", err == GV_OK ? "" : why);
	if (err == GV_OK) {
		r->status = 201;
		r->resp = batch_json(b, r->params[0]);
		if (!r->resp)
			reply_error(r, GV_ERR_NOMEM, NULL);
	} else if (err == GV_ERR_INTEGRITY || err == GV_ERR_INVALID) {
		reply_error(r, err, arena_printf(&r->arena, "batch %lld rejected: %s",
						 (long long)b->id, why));
	} else {
		reply_error(r, err, NULL);
	}
}

static void import_free_cb(struct http_req *r)
{
	if (!r->responded && r->has_session) {
		/* The client went away mid-upload: no reply will carry an audit row. */
		if (audit_event(r->app->audit, r->account.username, "batch.import", r->object,
				"upload interrupted; the batch was marked failed") != GV_OK)
			(void)0;   /* the log refuses: it is failing closed already */
	}
	import_free(r->stream_ctx);
	r->stream_ctx = NULL;
}

gv_err h_batches_import(struct http_req *r)
{
	const char *sm3 = query(r, "sm3");
	struct import_request rq;
	struct import_job *j = NULL;
	char why[256];
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!sm3)
		sm3 = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Content-SM3");
	rq.dataset = r->params[0];
	rq.source = query(r, "source");
	rq.format = import_format(r);
	rq.declared_sm3 = sm3;
	rq.expected_bytes = r->declared_len;
	err = import_begin(r->app, &r->account, &rq, &j, why, sizeof(why));
	if (err != GV_OK)
		return reply_error(r, err, why[0] ? arena_strdup(&r->arena, why) : NULL);
	r->object = arena_printf(&r->arena, "dataset:%.64s/batch:%lld", r->params[0],
				 (long long)import_batch_id(j));
	r->stream_ctx = j;
	r->stream_feed = import_feed_cb;
	r->stream_end = import_end_cb;
	r->stream_free = import_free_cb;
	return GV_OK;
}

gv_err h_batches_list(struct http_req *r)
{
	const char *why = NULL;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	err = batch_list_json(r->app, &r->account, r->params[0], &r->resp, &why);
	return err == GV_OK ? GV_OK : reply_error(r, err, why);
}

/* The batch id of the path; 0 when it is not a positive integer. */
static int64_t batch_id(struct http_req *r)
{
	char *end;
	long long v = strtoll(r->params[1], &end, 10);

	r->object = arena_printf(&r->arena, "dataset:%.64s/batch:%.20s", r->params[0], r->params[1]);
	return *end || v < 1 ? 0 : v;
}

gv_err h_batches_get(struct http_req *r)
{
	int64_t id = batch_id(r);
	const char *why = NULL;
	gv_err err;

	if (!id)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such batch");
	err = batch_get_json(r->app, &r->account, r->params[0], id, &r->resp, &why);
	return err == GV_OK ? GV_OK : reply_error(r, err, why);
}

gv_err h_batches_rows(struct http_req *r)
{
	int64_t id = batch_id(r);
	const char *st = query(r, "status"), *why = NULL;
	long long after = 0, limit = 0;
	int status = -1;
	gv_err err;

	if (!id)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such batch");
	if (st && (status = import_raw_status_parse(st)) < 0)
		return reply_error(r, GV_ERR_INVALID, "status must be accepted, flagged, quarantined, "
				   "corrected or discarded");
	if (req_query_int(r, "after", 0, INT64_MAX, 0, &after) ||
	    req_query_int(r, "limit", 1, ROWS_PAGE_MAX, 100, &limit))
		return reply_error(r, GV_ERR_INVALID, "after must be >= 0 and limit in [1, 200]");
	err = batch_rows_json(r->app, &r->account, r->params[0], id, status, after, (int)limit,
			      &r->resp, &why);
	return err == GV_OK ? GV_OK : reply_error(r, err, why);
}

/* The row number of the path; 0 when it is not a positive integer. */
static int64_t row_no(struct http_req *r)
{
	char *end;
	long long v = strtoll(r->params[2], &end, 10);

	r->object = arena_printf(&r->arena, "dataset:%.64s/batch:%.20s/row:%.20s", r->params[0],
				 r->params[1], r->params[2]);
	return *end || v < 1 ? 0 : v;
}

gv_err h_batches_correct(struct http_req *r)
{
	static const char *const fields[] = {"data", NULL};
	int64_t id = batch_id(r), row = row_no(r);
	char rid[RECORDS_ID_LEN + 1];
	json_t *data, *reasons = NULL;
	const char *why = NULL;
	gv_err err;

	if (!id || !row)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such row");
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields))
		return r->err;
	data = json_object_get(r->json, "data");
	if (!json_is_object(data))
		return reply_error(r, GV_ERR_INVALID, "field 'data' must be an object");
	err = batch_correct(r->app, &r->account, r->params[0], id, row, data, rid, &reasons, &why);
	if (err == GV_ERR_INVALID && reasons) {
		/* The reasons name rules and fields, never values. */
		char *text = json_dumps(reasons, JSON_COMPACT);

		json_decref(reasons);
		err = reply_error(r, err, arena_printf(&r->arena, "%s: %.400s", why, text ? text : ""));
		free(text);
		return err;
	}
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->status = 201;
	r->resp = json_pack("{s:s,s:i,s:I}", "id", rid, "version", 1, "row", (json_int_t)row);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_batches_discard(struct http_req *r)
{
	static const char *const fields[] = {"reason", NULL};
	int64_t id = batch_id(r), row = row_no(r);
	const char *reason = NULL, *why = NULL;
	gv_err err;

	if (!id || !row)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such row");
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "reason", 1, 256, &reason))
		return r->err;
	if (!*reason)
		return reply_error(r, GV_ERR_INVALID, "a reason is required");
	/* The reason is kept with the row; the trail says only that there was one (it is
	 * free text, and people type identifiers into free text). */
	r->reason = "discarded with a reason";
	err = batch_discard(r->app, &r->account, r->params[0], id, row, reason, &r->resp, &why);
	return err == GV_OK ? GV_OK : reply_error(r, err, why);
}

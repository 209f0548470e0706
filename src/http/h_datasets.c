/* h_datasets.c - /v1/datasets: the data catalog (registration, metadata, grading).
 * Metadata is visible to secadmin and to the business accounts of the owning
 * department; for anyone else a dataset does not exist (404, not 403). */
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/batch.h"
#include "data/dataset.h"
#include "data/records.h"
#include "policy/policy.h"

#define EXPORT_MAX ((size_t)256 << 20)

static json_t *dataset_json(const struct store_dataset *d)
{
	json_t *schema = json_loads(d->schema, 0, NULL);
	json_t *rules = json_loads(d->quality_rules, 0, NULL);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:o,s:i,s:i,s:s,s:b,s:s,s:o,"
			      "s:s,s:s,s:o,s:o,s:o}",
			      "name", d->name, "title", d->title, "department", d->department,
			      "owner", d->owner, "category", d->category, "description",
			      d->description, "legal_basis", d->legal_basis, "retention_days",
			      d->retention_days, "expected_rows", (json_int_t)d->expected_rows,
			      "schema", schema ? schema : json_null(), "grade", d->grade,
			      "grade_suggested", d->grade_suggested, "grade_reason", d->grade_reason,
			      "grade_confirmed", d->grade_confirmed, "confirmed_by", d->confirmed_by,
			      "pending_grade", d->pending_grade ? json_integer(d->pending_grade) : json_null(),
			      "pending_by", d->pending_by, "pending_reason", d->pending_reason,
			      "created_at", json_time(d->created_at),
			      "updated_at", json_time(d->updated_at),
			      "quality_rules", rules ? rules : json_array());
	return o;
}

gv_err h_datasets_create(struct http_req *r)
{
	static const char *const fields[] = {"name", "title", "category", "description",
					     "legal_basis", "retention_days", "expected_rows",
					     "schema", "quality_rules", "lineage", NULL};
	struct dataset_input in = {0};
	struct store_dataset *d;
	long long days = 0, rows = 0;
	int present;
	char why[256];
	gv_err err;

	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "name", 1, 63, &in.name) ||
	    req_string(r, "title", 1, 128, &in.title) || req_string(r, "category", 1, 128, &in.category) ||
	    req_string(r, "description", 0, 1024, &in.description) ||
	    req_string(r, "legal_basis", 1, 512, &in.legal_basis) ||
	    req_int(r, "retention_days", 1, 1, 36500, &days, &present) ||
	    req_int(r, "expected_rows", 0, 0, 10000000000LL, &rows, &present))
		return r->err;
	in.retention_days = (int)days;
	in.expected_rows = rows;
	in.schema = json_object_get(r->json, "schema");
	if (!in.schema)
		return reply_error(r, GV_ERR_INVALID, "field 'schema' is required");
	in.quality_rules = json_object_get(r->json, "quality_rules");
	in.lineage = json_object_get(r->json, "lineage");
	if (in.lineage && !json_is_object(in.lineage))
		return reply_error(r, GV_ERR_INVALID, "field 'lineage' must be an object");
	r->object = arena_printf(&r->arena, "dataset:%s", in.name);
	d = arena_alloc(&r->arena, sizeof(*d));
	if (!d)
		return GV_ERR_NOMEM;
	err = dataset_register(r->app, &r->account, &in, d, why, sizeof(why));
	if (err == GV_ERR_INVALID || err == GV_ERR_EXISTS || err == GV_ERR_TOO_LARGE)
		return reply_error(r, err, arena_strdup(&r->arena, why));
	if (err != GV_OK)
		return err;
	r->status = 201;
	r->resp = dataset_json(d);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

struct list_ctx {
	const struct store_account *actor;
	json_t *list;
};

static int list_one(const struct store_dataset *d, void *ctx)
{
	struct list_ctx *c = ctx;

	if (dataset_visible(c->actor, d))
		json_array_append_new(c->list, dataset_json(d));
	return 0;
}

gv_err h_datasets_list(struct http_req *r)
{
	struct list_ctx c = {&r->account, json_array()};
	gv_err err;

	if (!c.list)
		return GV_ERR_NOMEM;
	err = r->app->st->ops->dataset_list(r->app->st, list_one, &c);
	if (err != GV_OK) {
		json_decref(c.list);
		return err;
	}
	r->resp = json_pack("{s:o}", "datasets", c.list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_datasets_get(struct http_req *r)
{
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	gv_err err;

	if (!d)
		return GV_ERR_NOMEM;
	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	err = r->app->st->ops->dataset_get(r->app->st, r->params[0], d);
	if (err == GV_OK && !dataset_visible(&r->account, d))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, err, "no such dataset");
	if (err != GV_OK)
		return err;
	r->resp = dataset_json(d);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_datasets_grade(struct http_req *r)
{
	static const char *const fields[] = {"grade", "reason", NULL};
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	const char *reason = NULL, *why = NULL;
	long long grade = 0;
	int present;
	gv_err err;

	if (!d)
		return GV_ERR_NOMEM;
	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_int(r, "grade", 1, 1, 3, &grade, &present) ||
	    req_string(r, "reason", 1, 256, &reason))
		return r->err;
	err = dataset_set_grade(r->app, &r->account, r->params[0], (int)grade, reason, d, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = dataset_json(d);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

/* Records: /v1/datasets/{name}/records[/{id}[/history]] and /search. */
static gv_err decide(struct http_req *r, int action, const struct store_dataset **d,
		     struct policy_decision *dec);

/* The decision for writing the path's dataset; *custodian says whether the whole
 * record is the caller's to write. */
static gv_err write_decision(struct http_req *r, int *custodian)
{
	const struct store_dataset *d = NULL;
	struct policy_decision dec;
	gv_err err;

	*custodian = 0;
	err = decide(r, PA_UPDATE, &d, &dec);
	*custodian = err == GV_OK && dec.custodian;
	return err;
}

gv_err h_records_create(struct http_req *r)
{
	static const char *const fields[] = {"id", "data", NULL};
	const char *id = NULL, *why = NULL;
	char rid[RECORDS_ID_LEN + 1], whybuf[256];
	int64_t version = 0;
	int custodian = 0;
	json_t *data;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "id", 0, RECORDS_ID_LEN, &id))
		return r->err;
	data = json_object_get(r->json, "data");
	if (!json_is_object(data))
		return reply_error(r, GV_ERR_INVALID, "field 'data' must be an object");
	err = write_decision(r, &custodian);
	if (err != GV_OK)
		return err;
	if (!custodian)
		return reply_error(r, GV_ERR_FORBIDDEN, "records are created by the dataset's data owner");
	err = records_put(r->app, &r->account, r->params[0], id, 0, data, rid, &version, &why,
			  whybuf, sizeof(whybuf));
	if (err != GV_OK)
		return reply_error(r, err, why ? arena_strdup(&r->arena, why) : NULL);
	r->object = arena_printf(&r->arena, "dataset:%.64s/record:%s", r->params[0], rid);
	r->status = 201;
	r->resp = json_pack("{s:s,s:I}", "id", rid, "version", (json_int_t)version);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

/* An update through a grant: only the grant's fields change (the others keep their
 * current values), and the record must meet the row condition before and after. */
static gv_err update_granted(struct http_req *r, int64_t expect, const json_t *data,
			     int64_t *version)
{
	const struct store_dataset *d = NULL;
	struct policy_decision dec;
	const char *why = NULL, *k;
	char whybuf[256];
	json_t *cur = NULL, *merged = NULL, *v;
	gv_err err;

	err = decide(r, PA_UPDATE, &d, &dec);
	if (err != GV_OK)
		return err;
	json_object_foreach((json_t *)data, k, v)
		if (!policy_field_allowed(&dec, k))
			return reply_error(r, GV_ERR_FORBIDDEN, "the grant does not cover one of the fields");
	err = records_get(r->app, NULL, r->params[0], r->params[1], expect, &cur, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	merged = json_deep_copy(json_object_get(cur, "data"));
	json_decref(cur);
	if (!merged)
		return GV_ERR_NOMEM;
	if (!policy_row_allowed(&dec, merged)) {
		json_decref(merged);
		return reply_error(r, GV_ERR_NOT_FOUND, "no such record");
	}
	json_object_update(merged, (json_t *)data);
	if (!policy_row_allowed(&dec, merged)) {
		json_decref(merged);
		return reply_error(r, GV_ERR_FORBIDDEN, "the change would move the record outside the grant");
	}
	/* The day's allowance is taken before the write: a refused update writes nothing. */
	err = policy_count_rows(r->app, &dec, 1);
	if (err != GV_OK) {
		json_decref(merged);
		return reply_error(r, err, err == GV_ERR_QUOTA ? "the grant's rows per day are used up" : NULL);
	}
	err = records_update_as(r->app, r->account.username, r->params[0], r->params[1], expect,
				merged, version, &why, whybuf, sizeof(whybuf));
	json_decref(merged);
	if (err != GV_OK)
		return reply_error(r, err, why ? arena_strdup(&r->arena, why) : NULL);
	return GV_OK;
}

gv_err h_records_update(struct http_req *r)
{
	static const char *const fields[] = {"version", "data", NULL};
	const char *why = NULL;
	char rid[RECORDS_ID_LEN + 1], whybuf[256];
	long long expect = 0;
	int64_t version = 0;
	int present, custodian = 0;
	json_t *data;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s/record:%.64s", r->params[0], r->params[1]);
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_int(r, "version", 1, 1, (long long)1 << 62, &expect, &present))
		return r->err;
	data = json_object_get(r->json, "data");
	if (!json_is_object(data))
		return reply_error(r, GV_ERR_INVALID, "field 'data' must be an object");
	snprintf(rid, sizeof(rid), "%s", r->params[1]);
	err = write_decision(r, &custodian);
	if (err != GV_OK)
		return err;
	if (custodian) {
		/* The custodian writes whole records; records_put checks the department. */
		err = records_put(r->app, &r->account, r->params[0], r->params[1], expect, data, rid,
				  &version, &why, whybuf, sizeof(whybuf));
		if (err != GV_OK)
			return reply_error(r, err, why ? arena_strdup(&r->arena, why) : NULL);
	} else {
		err = update_granted(r, expect, data, &version);
		if (err != GV_OK)
			return r->err != GV_OK ? r->err : err;
	}
	r->resp = json_pack("{s:s,s:I}", "id", rid, "version", (json_int_t)version);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

/* The access decision for action on the path's dataset; replies 404 or 403 itself.
 * The decision and the declared purpose go into the audit record.  *d points into the
 * dataset the request holds open (r->rds, closed with the request): no copy. */
static gv_err decide(struct http_req *r, int action, const struct store_dataset **d,
		     struct policy_decision *dec)
{
	const char *purpose = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Purpose");
	struct policy_request rq;
	const char *why;
	gv_err err;

	*d = NULL;
	if (!purpose)
		purpose = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "purpose");
	if (purpose && (strlen(purpose) > POLICY_PURPOSE_MAX || !util_utf8_printable(purpose)))
		return reply_error(r, GV_ERR_INVALID, "the purpose is up to 127 printable bytes");
	if (!r->rds)
		err = records_open(r->app, NULL, r->params[0], 0, &r->rds, &why);
	else
		err = GV_OK;
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, err, "no such dataset");
	if (err != GV_OK)
		return err;
	*d = records_dataset(r->rds);
	memset(&rq, 0, sizeof(rq));
	rq.account = &r->account;
	rq.dataset = *d;
	rq.action = action;
	rq.purpose = purpose;
	rq.ip = r->ip;
	rq.now = util_now_s();
	err = policy_decide(r->app, &rq, dec);
	if (err != GV_OK)
		return err;
	r->reason = arena_printf(&r->arena, "%s: %s", dec->permit ? "permit" : "deny", dec->reason);
	if (purpose && *purpose)
		r->audit_purpose = arena_strdup(&r->arena, purpose);
	if (!dec->permit && !dec->visible)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such dataset");
	if (!dec->permit)
		return reply_error(r, GV_ERR_FORBIDDEN, arena_strdup(&r->arena, dec->reason));
	return GV_OK;
}

/* The masking log as the audit record holds it: cut with a visible mark when longer
 * than its field, so a reader knows there was more. */
static const char *masking_log(struct http_req *r, const char *log)
{
	if (strlen(log) < 250)
		return arena_strdup(&r->arena, log);
	return arena_printf(&r->arena, "%.240s ...(cut)", log);
}

/* Applies the decision to records (an array): rows, fields, masking, the per-request
 * cap (truncated reports a cut) and the daily one; the masking log joins the audit
 * reason. */
static gv_err view(struct http_req *r, const struct store_dataset *d,
		   const struct policy_decision *dec, json_t *records, int *truncated, int search)
{
	char log[1024];
	size_t kept = 0;
	gv_err err = policy_view_apply(r->app, dec, d, records, log, sizeof(log), &kept);

	*truncated = 0;
	if (err != GV_OK)
		return err;
	if (dec->max_rows_request && kept > (size_t)dec->max_rows_request) {
		while (json_array_size(records) > (size_t)dec->max_rows_request)
			json_array_remove(records, json_array_size(records) - 1);
		kept = (size_t)dec->max_rows_request;
		*truncated = 1;
	}
	r->reason = arena_printf(&r->arena, "%s; %zu records", r->reason, kept);
	r->audit_masked = masking_log(r, log);
	/* A search counts at least one row, found or not: misses must not guess for free. */
	err = policy_count_rows(r->app, dec, (int64_t)(search && !kept ? 1 : kept));
	if (err == GV_ERR_QUOTA)
		return reply_error(r, err, "the grant's rows per day are used up");
	return err;
}

/* What a read needs checked besides the decision. */
struct read_opts {
	const char *search_field;   /* a search: the field must be one the grant covers */
	int check_current;          /* a version or the history: the record as it is now
				     * must meet the row condition, or none of it is shown */
};

/* 1 if the path's record, as it is now, meets dec's row condition. */
static int current_row_ok(struct http_req *r, const struct policy_decision *dec)
{
	const char *why;
	json_t *cur = NULL;
	int ok;

	if (!dec->row_field[0])
		return 1;
	if (records_get(r->app, NULL, r->params[0], r->params[1], 0, &cur, &why) != GV_OK)
		return 0;
	ok = policy_row_allowed(dec, json_object_get(cur, "data"));
	json_decref(cur);
	return ok;
}

/* Runs a read of kind on the path's dataset under the decision for action; *out gets
 * the records array. */
static gv_err read_with_policy(struct http_req *r, int action, const struct read_opts *o,
			       json_t **out, int *truncated,
			       gv_err (*read)(struct http_req *r, json_t **list, const char **why))
{
	const struct store_dataset *d = NULL;
	struct policy_decision dec;
	const char *why = NULL;
	json_t *list = NULL;
	gv_err err;

	*out = NULL;
	err = decide(r, action, &d, &dec);
	if (err != GV_OK)
		return err;
	/* Searching a field the grant does not cover would confirm its values. */
	if (o->search_field && !policy_field_allowed(&dec, o->search_field))
		return reply_error(r, GV_ERR_FORBIDDEN, "the grant does not cover the searched field");
	if (o->check_current && !current_row_ok(r, &dec))
		return reply_error(r, GV_ERR_NOT_FOUND, "no such record");
	err = read(r, &list, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	err = view(r, d, &dec, list, truncated, o->search_field != NULL);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	*out = list;
	return GV_OK;
}

static gv_err read_one(struct http_req *r, json_t **list, const char **why)
{
	long long version = 0;
	json_t *one = NULL;
	gv_err err;

	if (req_query_int(r, "version", 1, INT64_MAX, 0, &version)) {
		*why = "version must be a positive integer";
		return GV_ERR_INVALID;
	}
	err = records_get(r->app, NULL, r->params[0], r->params[1], version, &one, why);
	*list = err == GV_OK ? json_pack("[o]", one) : NULL;
	return err != GV_OK ? err : *list ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_records_get(struct http_req *r)
{
	json_t *list;
	int truncated;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s/record:%.64s", r->params[0], r->params[1]);
	{
		struct read_opts o = {NULL, MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
									"version") != NULL};

		err = read_with_policy(r, PA_READ, &o, &list, &truncated, read_one);
	}
	if (err != GV_OK)
		return err;
	/* A record outside the grant's row condition does not exist for the caller. */
	if (!json_array_size(list)) {
		json_decref(list);
		return reply_error(r, GV_ERR_NOT_FOUND, "no such record");
	}
	r->resp = json_incref(json_array_get(list, 0));
	json_decref(list);
	return GV_OK;
}

static gv_err read_history(struct http_req *r, json_t **list, const char **why)
{
	json_t *h = NULL;
	gv_err err = records_history(r->app, NULL, r->params[0], r->params[1], &h, why);

	*list = err == GV_OK ? json_incref(json_object_get(h, "versions")) : NULL;
	json_decref(h);
	return err;
}

gv_err h_records_history(struct http_req *r)
{
	json_t *list;
	int truncated;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s/record:%.64s", r->params[0], r->params[1]);
	{
		struct read_opts o = {NULL, 1};

		err = read_with_policy(r, PA_READ, &o, &list, &truncated, read_history);
	}
	if (err != GV_OK)
		return err;
	if (!json_array_size(list)) {
		json_decref(list);
		return reply_error(r, GV_ERR_NOT_FOUND, "no such record");
	}
	r->resp = json_pack("{s:s,s:o}", "id", r->params[1], "versions", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static gv_err read_search(struct http_req *r, json_t **list, const char **why)
{
	const char *field = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "field");
	const char *value = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "value");
	json_t *res = NULL;
	gv_err err = records_search(r->app, NULL, r->params[0], field, value, &res, why);

	*list = err == GV_OK ? json_incref(json_object_get(res, "records")) : NULL;
	json_decref(res);
	return err;
}

gv_err h_records_search(struct http_req *r)
{
	const char *field = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "field");
	const char *value = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "value");
	char digest[65];
	json_t *list;
	int truncated;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!field || !value || strlen(field) > 63 || strlen(value) > 1024 ||
	    !util_utf8_printable(field) || !util_utf8_printable(value))
		return reply_error(r, GV_ERR_INVALID, "field and value are required, short text");
	/* The value searched for is personal data: the audit record keeps only its keyed
	 * digest, which an auditor holding the key can still match. */
	if (crypto_hmac_sm3_hex(r->app->keys.audit, sizeof(r->app->keys.audit), value, digest) == GV_OK)
		r->audit_params = arena_printf(&r->arena, "%.63s=%s", field, digest);
	{
		struct read_opts o = {field, 0};

		err = read_with_policy(r, PA_SEARCH, &o, &list, &truncated, read_search);
	}
	if (err != GV_OK)
		return err;
	r->resp = json_pack("{s:o,s:b}", "records", list, "truncated", truncated);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_datasets_rules(struct http_req *r)
{
	static const char *const fields[] = {"rules", NULL};
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	char why[256];
	json_t *rules;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!d)
		return GV_ERR_NOMEM;
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields))
		return r->err;
	rules = json_object_get(r->json, "rules");
	if (!json_is_array(rules))
		return reply_error(r, GV_ERR_INVALID, "field 'rules' must be an array");
	err = dataset_set_rules(r->app, &r->account, r->params[0], rules, d, why, sizeof(why));
	if (err != GV_OK)
		return reply_error(r, err, why[0] ? arena_strdup(&r->arena, why) : NULL);
	r->resp = dataset_json(d);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_datasets_lineage(struct http_req *r)
{
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!d)
		return GV_ERR_NOMEM;
	err = r->app->st->ops->dataset_get(r->app->st, r->params[0], d);
	if (err == GV_OK && !dataset_visible(&r->account, d))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_OK)
		err = dataset_lineage(r->app, d, &r->resp);
	return err == GV_OK ? GV_OK : reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such dataset" : NULL);
}

struct export_ctx {
	struct http_req *r;
	const struct store_dataset *d;
	const struct policy_decision *dec;
	struct policy_view *view;        /* opened before the export: no store calls inside */
	const unsigned char *copy_key;   /* a masked copy: its one-off key, else NULL */
	json_t *one;
	int64_t kept;
	char log[1024];
};

/* Each exported record passes the same view as a read; the cap per request stops it. */
static int export_keep(void *arg, json_t *rec)
{
	struct export_ctx *c = arg;
	size_t kept = 0;

	if (c->dec->max_rows_request && c->kept >= c->dec->max_rows_request)
		return 0;
	if (c->copy_key) {
		/* A copy for development links to nothing: its ids are pseudonyms under the
		 * copy's one-off key, and who wrote a record or where it came from is left out. */
		unsigned char mac[CRYPTO_SM3_LEN];
		const char *id = json_string_value(json_object_get(rec, "id"));
		char hex[65];

		if (!id || crypto_hmac_sm3(c->copy_key, 32, id, strlen(id), mac) != GV_OK)
			return -1;
		util_hex_encode(mac, 16, hex);
		json_object_set_new(rec, "id", json_string(hex));
		json_object_del(rec, "created_by");
		json_object_del(rec, "source");
	}
	json_array_clear(c->one);
	json_array_append(c->one, rec);
	if (policy_view_run(c->view, c->one, c->log, sizeof(c->log), &kept) != GV_OK)
		return -1;
	c->kept += (int64_t)kept;
	return kept > 0;
}

gv_err h_datasets_export(struct http_req *r)
{
	const struct store_dataset *d = NULL;
	struct export_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	struct policy_decision dec;
	const char *why = NULL;
	int64_t n = 0;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!c)
		return GV_ERR_NOMEM;
	err = decide(r, PA_EXPORT, &d, &dec);
	if (err != GV_OK)
		return err;
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->d = d;
	c->dec = &dec;
	c->one = json_array();
	if (!c->one)
		return GV_ERR_NOMEM;
	err = policy_view_open(r->app, &dec, d, NULL, &c->view);
	if (err != GV_OK) {
		json_decref(c->one);
		return err;
	}
	buf_release(&r->raw);
	buf_init(&r->raw, EXPORT_MAX);
	err = batch_export(r->app, r->params[0], export_keep, c, &r->raw, r->raw_sm3, &n, &why);
	policy_view_close(c->view);
	json_decref(c->one);
	if (err == GV_OK)
		err = policy_count_rows(r->app, &dec, n);
	if (err != GV_OK) {
		buf_release(&r->raw);
		return reply_error(r, err, err == GV_ERR_QUOTA ? "the grant's rows per day are used up" : why);
	}
	r->raw_type = "application/x-ndjson";
	r->reason = arena_printf(&r->arena, "%s; %lld records", r->reason, (long long)n);
	r->audit_masked = masking_log(r, c->log);
	return GV_OK;
}

static int profile_exists(const char *name, int version, const char *json, const char *by,
			  int64_t at, void *ctx)
{
	(void)name, (void)version, (void)json, (void)by, (void)at, (void)ctx;
	return 1;
}

gv_err h_datasets_masked_copy(struct http_req *r)
{
	static const char *const fields[] = {"profile", NULL};
	const struct store_dataset *d = NULL;
	struct export_ctx *c = arena_alloc(&r->arena, sizeof(*c));
	unsigned char key[32];
	struct policy_decision dec;
	struct gv_buf body;
	const char *profile = NULL, *why = NULL;
	char sm3[65];
	json_t *report;
	char *line = NULL;
	int64_t n = 0;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!c)
		return GV_ERR_NOMEM;
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "profile", 1, 64, &profile))
		return r->err;
	err = decide(r, PA_EXPORT, &d, &dec);
	if (err != GV_OK)
		return err;
	err = r->app->st->ops->profile_get(r->app->st, profile, 0, profile_exists, NULL);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, GV_ERR_INVALID, "no such masking profile");
	if (err != GV_OK)
		return err;
	if (!dec.custodian)
		return reply_error(r, GV_ERR_FORBIDDEN, "a masked copy is made by the dataset's data owner");
	/* The copy is masked by the named profile whoever asks; nothing of the original
	 * leaves unmasked, and its pseudonyms use a key that exists only for this copy. */
	dec.custodian = 0;
	snprintf(dec.profile, sizeof(dec.profile), "%s", profile);
	util_random_bytes(key, sizeof(key));
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->d = d;
	c->dec = &dec;
	c->one = json_array();
	buf_init(&body, EXPORT_MAX);
	err = c->one ? policy_view_open(r->app, &dec, d, key, &c->view) : GV_ERR_NOMEM;
	c->copy_key = key;
	if (err == GV_OK)
		err = batch_export(r->app, r->params[0], export_keep, c, &body, sm3, &n, &why);
	util_wipe(key, sizeof(key));
	policy_view_close(c->view);
	json_decref(c->one);
	if (err == GV_ERR_STORE && !c->log[0])
		why = "no such masking profile, or it cannot be applied";
	if (err != GV_OK) {
		buf_release(&body);
		return reply_error(r, err, why);
	}
	/* The report comes first: what was masked and how, and the digest of the records. */
	report = json_pack("{s:{s:s,s:s,s:I,s:s,s:s,s:s}}", "masked_copy", "dataset", r->params[0],
			   "profile", profile, "records", (json_int_t)n, "masking", c->log,
			   "records_sm3", sm3, "pseudonyms", "keyed by a random key that was discarded");
	line = report ? json_dumps(report, JSON_COMPACT) : NULL;
	json_decref(report);
	buf_release(&r->raw);
	buf_init(&r->raw, EXPORT_MAX + 4096);
	err = line ? buf_append(&r->raw, line, strlen(line)) : GV_ERR_NOMEM;
	if (err == GV_OK)
		err = buf_append(&r->raw, "\n", 1);
	if (err == GV_OK && body.len)
		err = buf_append(&r->raw, body.data, body.len);
	free(line);
	buf_release(&body);
	if (err == GV_OK) {
		unsigned char dg[CRYPTO_SM3_LEN];

		err = crypto_sm3(r->raw.data, r->raw.len, dg);
		util_hex_encode(dg, sizeof(dg), r->raw_sm3);
	}
	if (err != GV_OK)
		return err;
	r->raw_type = "application/x-ndjson";
	r->reason = arena_printf(&r->arena, "%s; masked copy of %lld records", r->reason, (long long)n);
	r->audit_masked = masking_log(r, c->log);
	return GV_OK;
}

gv_err h_records_source(struct http_req *r)
{
	const struct store_dataset *d = NULL;
	struct policy_decision dec;
	const char *why = NULL;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s/record:%.64s", r->params[0], r->params[1]);
	err = decide(r, PA_READ, &d, &dec);
	if (err != GV_OK)
		return err;
	if (!dec.custodian && !current_row_ok(r, &dec))
		return reply_error(r, GV_ERR_NOT_FOUND, "no such record");
	/* The row as received is the unmasked original: the custodian's alone.  Others
	 * learn where the record came from (batch and row), not what the row said. */
	err = batch_record_source(r->app, r->params[0], r->params[1], dec.custodian, &r->resp, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	if (!dec.custodian) {
		json_t *row = json_object_get(r->resp, "row"), *batch = json_object_get(r->resp, "batch");
		json_t *slim = json_pack("{s:s,s:{s:O},s:{s:O}}", "id", r->params[1], "batch", "id",
					 json_object_get(batch, "id"), "row", "row",
					 json_object_get(row, "row"));

		json_decref(r->resp);
		r->resp = slim;
		if (!slim)
			return GV_ERR_NOMEM;
		err = policy_count_rows(r->app, &dec, 1);
		if (err == GV_ERR_QUOTA)
			return reply_error(r, err, "the grant's rows per day are used up");
	}
	return err;
}

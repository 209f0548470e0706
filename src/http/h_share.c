/* h_share.c - /v1/share-requests: a department asks to receive a dataset (or its data
 * owner to open it), the reviewers the grade requires approve, narrow, return or
 * reject, and an approved share can be revoked; and /v1/datasets/{name}/share-
 * departments, the departments grade-2 and grade-3 data may be shared with. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "policy/policy.h"
#include "share/share.h"

/* The body of a create or an amendment as a share_ask (strings in the arena). */
static gv_err parse_ask(struct http_req *r, struct share_ask *a)
{
	static const char *const fields[] = {"kind", "dataset", "fields", "actions", "purpose",
					     "legal_basis", "valid_from", "valid_until",
					     "expected_rows_per_day", "mask_profile", "service",
					     "comment", NULL};
	const char *kind = NULL, *profile = NULL;
	char *list = arena_alloc(&r->arena, STORE_LIST_LEN);
	long long rows = 0;
	int present;

	memset(a, 0, sizeof(*a));
	if (!list)
		return GV_ERR_NOMEM;
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "kind", 0, 8, &kind) ||
	    req_string(r, "dataset", 1, 63, &a->dataset) ||
	    req_string(r, "purpose", 1, 127, &a->purpose) ||
	    req_string(r, "legal_basis", 1, 512, &a->legal_basis) ||
	    req_string(r, "mask_profile", 0, 64, &profile) ||
	    req_string(r, "comment", 0, 512, &a->comment) ||
	    req_int(r, "expected_rows_per_day", 1, 1, 1000000000LL, &rows, &present) ||
	    req_time(r, "valid_from", &a->valid_from) || req_time(r, "valid_until", &a->valid_until) ||
	    req_list(r, "fields", list, STORE_LIST_LEN) || req_actions(r, "actions", 0, &a->actions))
		return r->err;
	if (!*a->purpose || !*a->legal_basis)
		return reply_error(r, GV_ERR_INVALID, "purpose and legal_basis must not be empty");
	if (!a->valid_until)
		return reply_error(r, GV_ERR_INVALID, "field 'valid_until' is required: shares end");
	if (!kind || strcmp(kind, "share") == 0)
		a->kind = SHARE_KIND_SHARE;
	else if (strcmp(kind, "open") == 0)
		a->kind = SHARE_KIND_OPEN;
	else
		return reply_error(r, GV_ERR_INVALID, "kind must be share or open");
	a->fields = list;
	a->expected_rows_day = rows;
	a->mask_profile = profile ? profile : "";
	a->service = json_object_get(r->json, "service");
	if (json_is_null(a->service))
		a->service = NULL;
	return GV_OK;
}

static int64_t request_id(struct http_req *r)
{
	char *end;
	long long v = strtoll(r->params[0], &end, 10);

	r->object = arena_printf(&r->arena, "share_request:%.20s", r->params[0]);
	return *end || v < 1 ? 0 : v;
}

/* The reply for a request after a step: its JSON with events. */
static gv_err reply_request(struct http_req *r, const struct store_share_request *q)
{
	r->object = arena_printf(&r->arena, "share_request:%lld", (long long)q->id);
	r->resp = share_request_json(r->app, q, 1);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_share_create(struct http_req *r)
{
	struct store_share_request *q = arena_alloc(&r->arena, sizeof(*q));
	struct share_ask a;
	char why[256];
	gv_err err;

	if (!q)
		return GV_ERR_NOMEM;
	if (parse_ask(r, &a) != GV_OK)
		return r->err;
	r->object = arena_printf(&r->arena, "dataset:%s", a.dataset);
	r->audit_purpose = a.purpose;
	err = share_request_create(r->app, &r->account, &a, q, why, sizeof(why));
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	r->reason = arena_printf(&r->arena, "%s request for dataset %s",
				 a.kind == SHARE_KIND_OPEN ? "opening" : "sharing", a.dataset);
	r->status = 201;
	return reply_request(r, q);
}

gv_err h_share_amend(struct http_req *r)
{
	struct store_share_request *q = arena_alloc(&r->arena, sizeof(*q));
	int64_t id = request_id(r);
	struct share_ask a;
	char why[256];
	gv_err err;

	if (!q)
		return GV_ERR_NOMEM;
	if (parse_ask(r, &a) != GV_OK)
		return r->err;
	err = id ? share_request_amend(r->app, &r->account, id, &a, q, why, sizeof(why))
		 : (snprintf(why, sizeof(why), "no such request"), GV_ERR_NOT_FOUND);
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	return reply_request(r, q);
}

struct req_list {
	struct store_share_request *q;
	size_t n, cap;
	gv_err err;
};

static int collect_request(const struct store_share_request *q, void *arg)
{
	struct req_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct store_share_request *t = realloc(l->q, cap * sizeof(*t));

		if (!t) {
			l->err = GV_ERR_NOMEM;
			return 1;
		}
		l->q = t;
		l->cap = cap;
	}
	l->q[l->n++] = *q;
	return 0;
}

gv_err h_share_list(struct http_req *r)
{
	const char *state = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "state");
	struct req_list l = {NULL, 0, 0, GV_OK};
	json_t *list = json_array();
	int64_t now = util_now_s();
	gv_err err = list ? r->app->st->ops->share_request_list(r->app->st, collect_request, &l)
			  : GV_ERR_NOMEM;

	if (err == GV_OK)
		err = l.err;
	/* Copied out first: visibility and JSON read the catalog, which a store callback
	 * must not. */
	for (size_t i = 0; err == GV_OK && i < l.n; i++) {
		if (state && strcmp(state, share_state_name(&l.q[i], now)) != 0)
			continue;
		if (share_request_visible(r->app, &r->account, &l.q[i]) &&
		    json_array_append_new(list, share_request_json(r->app, &l.q[i], 0)) != 0)
			err = GV_ERR_NOMEM;
	}
	free(l.q);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "requests", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_share_get(struct http_req *r)
{
	struct store_share_request *q = arena_alloc(&r->arena, sizeof(*q));
	int64_t id = request_id(r);
	gv_err err = q ? GV_OK : GV_ERR_NOMEM;

	if (err == GV_OK)
		err = id ? r->app->st->ops->share_request_get(r->app->st, id, q) : GV_ERR_NOT_FOUND;
	if (err == GV_OK && !share_request_visible(r->app, &r->account, q))
		err = GV_ERR_NOT_FOUND;
	if (err != GV_OK)
		return reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such request" : NULL);
	return reply_request(r, q);
}

/* Narrowing a reviewer may give with an approval. */
static gv_err parse_narrow(struct http_req *r, struct share_narrow *n, int *any)
{
	static const char *const keys[] = {"fields", "actions", "valid_until",
					   "expected_rows_per_day", "max_rows_per_call",
					   "rate_limit_per_minute", NULL};
	json_t *o = json_object_get(r->json, "narrow"), *saved = r->json;
	char *list = arena_alloc(&r->arena, STORE_LIST_LEN);
	long long rows = 0, maxrows = 0, rate = 0;
	int present;
	gv_err err = GV_OK;

	memset(n, 0, sizeof(*n));
	*any = 0;
	if (!o || json_is_null(o))
		return GV_OK;
	if (!list)
		return GV_ERR_NOMEM;
	if (!json_is_object(o))
		return reply_error(r, GV_ERR_INVALID, "narrow must be an object");
	/* The request-body helpers read r->json: point them at the narrow object. */
	r->json = o;
	if (req_only_fields(r, keys) || req_list(r, "fields", list, STORE_LIST_LEN) ||
	    req_actions(r, "actions", 0, &n->actions) || req_time(r, "valid_until", &n->valid_until) ||
	    req_int(r, "expected_rows_per_day", 0, 1, 1000000000LL, &rows, &present) ||
	    req_int(r, "max_rows_per_call", 0, 1, 1000, &maxrows, &present) ||
	    req_int(r, "rate_limit_per_minute", 0, 1, 1000000, &rate, &present))
		err = r->err;
	r->json = saved;
	if (err != GV_OK)
		return err;
	n->fields = list;
	n->expected_rows_day = rows;
	n->max_rows = (int)maxrows;
	n->rate_per_minute = (int)rate;
	*any = 1;
	return GV_OK;
}

static gv_err review(struct http_req *r, int step)
{
	static const char *const approve_fields[] = {"comment", "narrow", NULL};
	static const char *const other_fields[] = {"comment", NULL};
	struct store_share_request *q = arena_alloc(&r->arena, sizeof(*q));
	int64_t id = request_id(r);
	const char *comment = NULL;
	struct share_narrow n;
	char why[256];
	int narrowed = 0;
	gv_err err;

	if (!q)
		return GV_ERR_NOMEM;
	if (req_only_fields(r, step == SHARE_STEP_APPROVE ? approve_fields : other_fields) ||
	    req_string(r, "comment", 0, 512, &comment) ||
	    (step == SHARE_STEP_APPROVE && parse_narrow(r, &n, &narrowed)))
		return r->err;
	err = id ? share_request_review(r->app, &r->account, id, step, narrowed ? &n : NULL, comment,
					q, why, sizeof(why))
		 : (snprintf(why, sizeof(why), "no such request"), GV_ERR_NOT_FOUND);
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	r->reason = arena_printf(&r->arena, "request now %s", share_state_name(q, util_now_s()));
	return reply_request(r, q);
}

gv_err h_share_approve(struct http_req *r)
{
	return review(r, SHARE_STEP_APPROVE);
}

gv_err h_share_return(struct http_req *r)
{
	return review(r, SHARE_STEP_RETURN);
}

gv_err h_share_reject(struct http_req *r)
{
	return review(r, SHARE_STEP_REJECT);
}

/* Withdraw and revoke: a comment and the request. */
static gv_err end(struct http_req *r,
		  gv_err (*fn)(struct gv_app *, const struct store_account *, int64_t, const char *,
			       struct store_share_request *, char *, size_t))
{
	static const char *const fields[] = {"comment", NULL};
	struct store_share_request *q = arena_alloc(&r->arena, sizeof(*q));
	int64_t id = request_id(r);
	const char *comment = NULL;
	char why[256];
	gv_err err;

	if (!q)
		return GV_ERR_NOMEM;
	if (req_only_fields(r, fields) || req_string(r, "comment", 0, 512, &comment))
		return r->err;
	err = id ? fn(r->app, &r->account, id, comment, q, why, sizeof(why))
		 : (snprintf(why, sizeof(why), "no such request"), GV_ERR_NOT_FOUND);
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	return reply_request(r, q);
}

gv_err h_share_withdraw(struct http_req *r)
{
	return end(r, share_request_withdraw);
}

gv_err h_share_revoke(struct http_req *r)
{
	return end(r, share_request_revoke);
}

gv_err h_share_depts_get(struct http_req *r)
{
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	char list[STORE_LIST_LEN];
	gv_err err = d ? r->app->st->ops->dataset_get(r->app->st, r->params[0], d) : GV_ERR_NOMEM;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	/* secadmin, or the data owners of the dataset's own department. */
	if (err == GV_OK && !(r->account.roles & ROLE_BIT(ROLE_SECADMIN)) &&
	    strcmp(d->department, r->account.department) != 0)
		err = GV_ERR_NOT_FOUND;
	if (err == GV_OK)
		err = r->app->st->ops->share_depts_get(r->app->st, d->id, list, sizeof(list));
	if (err != GV_OK)
		return reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such dataset" : NULL);
	r->resp = json_pack("{s:s,s:i,s:o}", "dataset", d->name, "grade", d->grade, "departments",
			    policy_list_json(list));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_share_depts_put(struct http_req *r)
{
	static const char *const fields[] = {"departments", "reason", NULL};
	char *list = arena_alloc(&r->arena, STORE_LIST_LEN);
	const char *reason = NULL;
	char why[256];
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	if (!list)
		return GV_ERR_NOMEM;
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "reason", 1, 256, &reason) ||
	    req_list(r, "departments", list, STORE_LIST_LEN))
		return r->err;
	if (!json_is_array(json_object_get(r->json, "departments")) || !*reason)
		return reply_error(r, GV_ERR_INVALID, "departments (an array) and a reason are required");
	err = share_depts_set(r->app, r->params[0], list, why, sizeof(why));
	if (err != GV_OK)
		return reply_refuse(r, err, why);
	r->reason = arena_printf(&r->arena, "authorised departments set: %.200s", reason);
	return h_share_depts_get(r);
}

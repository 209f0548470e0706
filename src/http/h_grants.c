/* h_grants.c - /v1/grants (secadmin creates and revokes, the data owner approves grade-3
 * grants) and /v1/policy/explain (would account A be allowed X on D for P, and why). */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/cidr.h"
#include "common/timewin.h"
#include "common/util.h"
#include "data/dataset.h"
#include "policy/policy.h"

/* An array of non-empty strings joined by ',' into out; each checked by ok. */
static gv_err join_list(struct http_req *r, const char *key, int required, int (*ok)(const char *),
			char *out, size_t len)
{
	json_t *v = json_object_get(r->json, key);

	if (!v && !required) {
		out[0] = '\0';
		return GV_OK;
	}
	if (!json_is_array(v) || (required && !json_array_size(v)))
		return reply_error(r, GV_ERR_INVALID, arena_printf(&r->arena, "field '%s' must be a%s "
					   "array of strings", key, required ? " non-empty" : "n"));
	if (req_list(r, key, out, len) != GV_OK)
		return r->err;
	for (const char *p = out; ok && *p;) {
		size_t n = strcspn(p, ",");
		char item[256];

		snprintf(item, sizeof(item), "%.*s", (int)(n < 255 ? n : 255), p);
		if (!ok(item))
			return reply_error(r, GV_ERR_INVALID,
					   arena_printf(&r->arena, "field '%s' has an invalid entry", key));
		p += n + (p[n] == ',');
	}
	return GV_OK;
}

static int action_ok(const char *s)
{
	return policy_action_parse(s) >= 0;
}

gv_err req_actions(struct http_req *r, const char *key, int required, unsigned *out)
{
	char list[128];

	*out = 0;
	if (join_list(r, key, required, action_ok, list, sizeof(list)) != GV_OK)
		return r->err;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		char item[16];

		snprintf(item, sizeof(item), "%.*s", (int)(n < 15 ? n : 15), p);
		*out |= 1u << policy_action_parse(item);
		p += n + (p[n] == ',');
	}
	return GV_OK;
}

static int purpose_ok(const char *s)
{
	return strlen(s) <= POLICY_PURPOSE_MAX;
}

static int cidr_ok(const char *s)
{
	struct cidr c;

	return cidr_parse(s, &c) == GV_OK;
}

/* The row condition: {"field", "equals"} or {"field", "equals_subject": "department"}. */
static gv_err parse_row_filter(struct http_req *r, struct store_grant *g)
{
	json_t *f = json_object_get(r->json, "row_filter"), *field, *eq, *subj;

	if (!f || json_is_null(f))
		return GV_OK;
	field = json_object_get(f, "field");
	eq = json_object_get(f, "equals");
	subj = json_object_get(f, "equals_subject");
	if (!json_is_object(f) || !json_is_string(field) || json_object_size(f) != 2 ||
	    (eq && !json_is_string(eq)) || (subj && (!json_is_string(subj) ||
	    strcmp(json_string_value(subj), "department") != 0)) || (!eq && !subj) ||
	    json_string_length(field) >= sizeof(g->row_field) ||
	    (eq && json_string_length(eq) >= sizeof(g->row_value)))
		return reply_error(r, GV_ERR_INVALID, "row_filter must be {\"field\", \"equals\": text} "
				   "or {\"field\", \"equals_subject\": \"department\"}");
	snprintf(g->row_field, sizeof(g->row_field), "%s", json_string_value(field));
	if (eq)
		snprintf(g->row_value, sizeof(g->row_value), "%s", json_string_value(eq));
	g->row_subject = subj != NULL;
	return GV_OK;
}

gv_err h_grants_create(struct http_req *r)
{
	static const char *const fields[] = {"dataset", "subject", "actions", "fields", "row_filter",
					     "purposes", "valid_from", "valid_until", "time_windows",
					     "ip_ranges", "max_rows_per_request", "max_rows_per_day",
					     "mask_profile", "reason", NULL};
	struct store_grant *g = arena_alloc(&r->arena, sizeof(*g));
	const char *dataset = NULL, *windows = NULL, *profile = NULL, *reason = NULL;
	json_t *subj;
	char why[256];
	long long cap_req = 0, cap_day = 0;
	int present;
	gv_err err;

	if (!g)
		return GV_ERR_NOMEM;
	memset(g, 0, sizeof(*g));
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "dataset", 1, 63, &dataset) ||
	    req_string(r, "time_windows", 0, 512, &windows) ||
	    req_string(r, "mask_profile", 0, 64, &profile) || req_string(r, "reason", 1, 256, &reason) ||
	    req_int(r, "max_rows_per_request", 0, 0, 1000000000LL, &cap_req, &present) ||
	    req_int(r, "max_rows_per_day", 0, 0, 1000000000000LL, &cap_day, &present) ||
	    req_time(r, "valid_from", &g->valid_from) || req_time(r, "valid_until", &g->valid_until) ||
	    parse_row_filter(r, g))
		return r->err;
	r->object = arena_printf(&r->arena, "dataset:%s", dataset);
	subj = json_object_get(r->json, "subject");
	if (!json_is_object(subj) || json_object_size(subj) != 2 ||
	    !json_is_string(json_object_get(subj, "name")) ||
	    (g->subject_type = policy_subject_parse(json_string_value(json_object_get(subj, "type")) ?
						    json_string_value(json_object_get(subj, "type")) : "")) < 0 ||
	    json_string_length(json_object_get(subj, "name")) >= sizeof(g->subject) ||
	    !json_string_length(json_object_get(subj, "name")))
		return reply_error(r, GV_ERR_INVALID, "subject must be {\"type\": account|role|department, "
				   "\"name\"}");
	snprintf(g->subject, sizeof(g->subject), "%s", json_string_value(json_object_get(subj, "name")));
	if (!*reason)
		return reply_error(r, GV_ERR_INVALID, "a reason is required");
	if (windows && timewin_list_validate(windows) != GV_OK)
		return reply_error(r, GV_ERR_INVALID, "time_windows is not a valid list of windows");
	if (req_actions(r, "actions", 1, &g->actions) != GV_OK)
		return r->err;
	if (g->actions & (1u << PA_DELETE))
		return reply_error(r, GV_ERR_INVALID, "records are not deleted through a grant: "
				   "destruction is a separate, approved and recorded procedure");
	if (join_list(r, "purposes", 1, purpose_ok, g->purposes, sizeof(g->purposes)) != GV_OK ||
	    join_list(r, "fields", 0, NULL, g->fields, sizeof(g->fields)) != GV_OK ||
	    join_list(r, "ip_ranges", 0, cidr_ok, g->ip_ranges, sizeof(g->ip_ranges)) != GV_OK)
		return r->err;
	if (!g->valid_until)
		return reply_error(r, GV_ERR_INVALID, "field 'valid_until' is required: grants end");
	if (!g->valid_from)
		g->valid_from = util_now_s();
	snprintf(g->time_windows, sizeof(g->time_windows), "%s", windows ? windows : "");
	snprintf(g->mask_profile, sizeof(g->mask_profile), "%s", profile ? profile : "");
	snprintf(g->reason, sizeof(g->reason), "%s", reason);
	g->max_rows_request = cap_req;
	g->max_rows_day = cap_day;
	err = policy_grant_create(r->app, &r->account, dataset, g, why, sizeof(why));
	if (err != GV_OK)
		return reply_error(r, err, why[0] ? arena_strdup(&r->arena, why) : NULL);
	r->object = arena_printf(&r->arena, "dataset:%s/grant:%lld", dataset, (long long)g->id);
	r->reason = arena_printf(&r->arena, "grant to %s %s", policy_subject_name(g->subject_type),
				 g->subject);
	r->status = 201;
	r->resp = policy_grant_json(r->app, g);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

/* Grants are copied out of the store's callback first: building their JSON reads the
 * catalog, which a callback must not do (the store's lock is held). */
struct grant_list {
	struct store_grant *g;
	size_t n, cap;
	gv_err err;
};

static int collect_grant(const struct store_grant *g, void *arg)
{
	struct grant_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct store_grant *t = realloc(l->g, cap * sizeof(*t));

		if (!t) {
			l->err = GV_ERR_NOMEM;
			return 1;
		}
		l->g = t;
		l->cap = cap;
	}
	l->g[l->n++] = *g;
	return 0;
}

/* 1 if actor may see grant g: secadmin every one, a data owner those on its
 * department's datasets. */
static int grant_visible(struct http_req *r, const struct store_grant *g)
{
	struct store_dataset *d;
	int ok;

	if (r->account.roles & ROLE_BIT(ROLE_SECADMIN))
		return 1;
	d = malloc(sizeof(*d));
	ok = d && r->app->st->ops->dataset_get_id(r->app->st, g->dataset_id, d) == GV_OK &&
	     strcmp(d->department, r->account.department) == 0;
	free(d);
	return ok;
}

gv_err h_grants_list(struct http_req *r)
{
	struct grant_list l = {NULL, 0, 0, GV_OK};
	json_t *list = json_array();
	gv_err err = list ? r->app->st->ops->grant_list(r->app->st, 0, collect_grant, &l) : GV_ERR_NOMEM;

	if (err == GV_OK)
		err = l.err;
	for (size_t i = 0; err == GV_OK && i < l.n; i++)
		if (grant_visible(r, &l.g[i]) &&
		    json_array_append_new(list, policy_grant_json(r->app, &l.g[i])) != 0)
			err = GV_ERR_NOMEM;
	free(l.g);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "grants", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static int64_t grant_id(struct http_req *r)
{
	char *end;
	long long v = strtoll(r->params[0], &end, 10);

	r->object = arena_printf(&r->arena, "grant:%.20s", r->params[0]);
	return *end || v < 1 ? 0 : v;
}

gv_err h_grants_get(struct http_req *r)
{
	struct store_grant *g = arena_alloc(&r->arena, sizeof(*g));
	int64_t id = grant_id(r);
	gv_err err = g ? GV_OK : GV_ERR_NOMEM;

	if (err == GV_OK)
		err = id ? r->app->st->ops->grant_get(r->app->st, id, g) : GV_ERR_NOT_FOUND;
	if (err == GV_OK && !grant_visible(r, g))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_OK) {
		r->resp = policy_grant_json(r->app, g);
		err = r->resp ? GV_OK : GV_ERR_NOMEM;
	}
	return err == GV_OK ? GV_OK : reply_error(r, err, err == GV_ERR_NOT_FOUND ? "no such grant" : NULL);
}

gv_err h_grants_approve(struct http_req *r)
{
	struct store_grant *g = arena_alloc(&r->arena, sizeof(*g));
	int64_t id = grant_id(r);
	const char *why = "no such grant";
	gv_err err = g ? GV_OK : GV_ERR_NOMEM;

	if (err == GV_OK)
		err = id ? policy_grant_approve(r->app, &r->account, id, g, &why) : GV_ERR_NOT_FOUND;
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = policy_grant_json(r->app, g);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_grants_revoke(struct http_req *r)
{
	static const char *const fields[] = {"reason", NULL};
	struct store_grant *g = arena_alloc(&r->arena, sizeof(*g));
	int64_t id = grant_id(r);
	const char *why = "no such grant", *reason = NULL;
	gv_err err = g ? GV_OK : GV_ERR_NOMEM;

	if (req_only_fields(r, fields) || req_string(r, "reason", 0, 120, &reason))
		return r->err;
	if (err == GV_OK)
		err = id ? policy_grant_revoke(r->app, &r->account, id, reason, g, &why) : GV_ERR_NOT_FOUND;
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = policy_grant_json(r->app, g);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_policy_explain(struct http_req *r)
{
	static const char *const fields[] = {"account", "dataset", "action", "purpose", "ip", "at", NULL};
	struct store_account *a = arena_alloc(&r->arena, sizeof(*a));
	struct store_dataset *d = arena_alloc(&r->arena, sizeof(*d));
	struct policy_decision dec;
	struct policy_request rq;
	const char *user = NULL, *dataset = NULL, *action = NULL, *purpose = NULL, *ip = NULL;
	int64_t at = 0;
	gv_err err;

	if (!a || !d)
		return GV_ERR_NOMEM;
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_string(r, "account", 1, 64, &user) ||
	    req_string(r, "dataset", 1, 63, &dataset) || req_string(r, "action", 1, 16, &action) ||
	    req_string(r, "purpose", 0, POLICY_PURPOSE_MAX, &purpose) || req_string(r, "ip", 0, 63, &ip) ||
	    req_time(r, "at", &at))
		return r->err;
	r->object = arena_printf(&r->arena, "dataset:%s", dataset);
	r->reason = arena_printf(&r->arena, "explain %s for %s", action, user);
	memset(&rq, 0, sizeof(rq));
	rq.action = policy_action_parse(action);
	if (rq.action < 0)
		return reply_error(r, GV_ERR_INVALID, "action must be read, search, export, update or delete");
	err = r->app->st->ops->account_get(r->app->st, user, a);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, GV_ERR_INVALID, "no such account");
	if (err == GV_OK)
		err = r->app->st->ops->dataset_get(r->app->st, dataset, d);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, GV_ERR_INVALID, "no such dataset");
	if (err != GV_OK)
		return err;
	rq.account = a;
	rq.dataset = d;
	rq.purpose = purpose;
	rq.ip = ip;
	rq.now = at ? at : util_now_s();
	if (a->status != ACCOUNT_ACTIVE) {
		memset(&dec, 0, sizeof(dec));
		snprintf(dec.reason, sizeof(dec.reason), "the account is %s", store_status_name(a->status));
	} else {
		err = policy_decide(r->app, &rq, &dec);
		if (err != GV_OK)
			return err;
	}
	util_wipe(a, sizeof(*a));
	r->resp = json_pack("{s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "decision", dec.permit ? "permit" : "deny",
			    "reason", dec.reason, "grant", dec.grant_id ? json_integer(dec.grant_id) : json_null(),
			    "mask_profile", dec.permit ? (dec.profile[0] ? dec.profile : "(grade default)") : "",
			    "fields", dec.fields[0] ? dec.fields : "*",
			    "row_filter", dec.row_field[0] ? json_pack("{s:s,s:s}", "field", dec.row_field,
								      "equals", dec.row_value) : json_null(),
			    "max_rows_per_request", dec.max_rows_request ? json_integer(dec.max_rows_request) : json_null(),
			    "max_rows_per_day", dec.max_rows_day ? json_integer(dec.max_rows_day) : json_null());
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

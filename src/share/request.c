/* request.c - sharing and opening requests: creation, review, amendment, withdrawal
 * and revocation, each step one store transaction with its event. */
#include "share/share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/catalog.h"
#include "data/records.h"
#include "policy/policy.h"
#include "share/shared.h"

#define PERIOD_MAX_S (3 * 366 * 86400LL)   /* a share is time-boxed: three years at most */
#define SHARE_ACTIONS ((1u << PA_READ) | (1u << PA_SEARCH) | (1u << PA_EXPORT))

static const char *const kind_names[] = {"share", "open"};
static const char *const state_names[] = {"pending", "returned", "approved", "rejected",
					  "revoked", "withdrawn"};

const char *share_state_name(const struct store_share_request *r, int64_t now)
{
	if (r->state == SHARE_APPROVED && r->valid_until && now >= r->valid_until)
		return "expired";
	return r->state >= 0 && r->state < (int)GV_ARRAY_LEN(state_names) ? state_names[r->state]
									    : "unknown";
}

/* The dataset of a request, with its schema, in one allocation. */
struct share_ds {
	struct store_dataset d;
	struct catalog_schema schema;
};

static gv_err ds_load(struct gv_app *app, const char *name, int64_t id, struct share_ds **out,
		      char *why, size_t whylen)
{
	struct share_ds *x = malloc(sizeof(*x));
	gv_err err = x ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	if (err == GV_OK && !name) {
		err = app->st->ops->dataset_get_id(app->st, id, &x->d);
		name = x->d.name;
	}
	if (err == GV_OK)
		err = records_describe(app, name, &x->d, &x->schema);
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such dataset");
	if (err != GV_OK) {
		free(x);
		return err;
	}
	*out = x;
	return GV_OK;
}

static int is_owner_of(const struct store_account *a, const struct store_dataset *d)
{
	return (a->roles & ROLE_BIT(ROLE_DATA_OWNER)) && strcmp(a->department, d->department) == 0;
}

/* Approvals the grade requires (see share.h). */
static void required_approvals(const struct store_share_request *r, int grade, int *owner,
			       int *sec)
{
	*owner = r->kind == SHARE_KIND_SHARE;   /* an opening is the owner's own request */
	*sec = r->kind == SHARE_KIND_OPEN || grade >= 3;
}

/* Grade 2 and 3 go only to departments authorised on the dataset. */
static gv_err department_authorised(struct gv_app *app, const struct store_dataset *d,
				    const char *department, char *why, size_t whylen)
{
	char depts[STORE_LIST_LEN];
	gv_err err;

	if (d->grade < 2)
		return GV_OK;
	err = app->st->ops->share_depts_get(app->st, d->id, depts, sizeof(depts));
	if (err != GV_OK)
		return err;
	if (!policy_list_has(depts, department)) {
		snprintf(why, whylen, "grade-%d data is shared only with departments authorised on "
			 "the dataset; '%s' is not", d->grade, department);
		return GV_ERR_FORBIDDEN;
	}
	return GV_OK;
}

/* What an approval checks again against the dataset as it is now: the grade or the
 * authorised departments may have changed since the request was made, and the
 * service must fit the current grade's rules. */
static gv_err approval_rules(struct gv_app *app, const struct share_ds *x,
			     struct store_share_request *r, char *why, size_t whylen)
{
	gv_err err = GV_OK;

	if (!x->d.grade_confirmed) {
		snprintf(why, whylen, "the dataset's grade must be confirmed before it is shared");
		return GV_ERR_STATE;
	}
	if (r->kind == SHARE_KIND_OPEN && x->d.grade > 1) {
		snprintf(why, whylen, "the dataset is grade %d now: never opened", x->d.grade);
		return GV_ERR_FORBIDDEN;
	}
	if (r->kind == SHARE_KIND_SHARE)
		err = department_authorised(app, &x->d, r->department, why, whylen);
	if (err == GV_OK && r->service[0] && r->kind == SHARE_KIND_SHARE &&
	    !(r->actions & (1u << PA_SEARCH))) {
		snprintf(why, whylen, "a data service looks records up: the share must keep the "
			 "search action");
		return GV_ERR_INVALID;
	}
	if (err == GV_OK && r->service[0]) {
		json_t *spec = json_loads(r->service, 0, NULL);

		err = spec ? share_service_spec_check(&x->d, &x->schema, r->fields, spec, r->service,
						      sizeof(r->service), why, whylen)
			   : GV_ERR_STORE;
		json_decref(spec);
	}
	return err;
}

/* The grade rules and the scope of ask against the dataset as it is now. */
static gv_err check_scope(struct gv_app *app, const struct store_account *actor,
			  const struct share_ds *x, const struct share_ask *ask, int64_t now,
			  char *why, size_t whylen)
{
	const struct store_dataset *d = &x->d;
	char bad[CATALOG_NAME_LEN];

	if (!d->grade_confirmed) {
		snprintf(why, whylen, "the dataset's grade must be confirmed before it is shared");
		return GV_ERR_STATE;
	}
	if (ask->kind == SHARE_KIND_OPEN) {
		if (d->grade > 1) {
			snprintf(why, whylen, "grade-%d data is never opened to the public", d->grade);
			return GV_ERR_FORBIDDEN;
		}
		if (!is_owner_of(actor, d)) {
			snprintf(why, whylen, "only the data owner of the dataset's department asks "
				 "to open it");
			return GV_ERR_FORBIDDEN;
		}
		if (ask->actions && ask->actions != ((1u << PA_READ) | (1u << PA_SEARCH))) {
			snprintf(why, whylen, "an opening publishes the dataset and its open services; "
				 "it names no actions");
			return GV_ERR_INVALID;
		}
	} else {
		if (strcmp(actor->department, d->department) == 0) {
			snprintf(why, whylen, "the dataset is your department's own: access within a "
				 "department is granted by secadmin, not shared");
			return GV_ERR_INVALID;
		}
		gv_err err = department_authorised(app, d, actor->department, why, whylen);

		if (err != GV_OK)
			return err;
		if (ask->actions & ~SHARE_ACTIONS) {
			snprintf(why, whylen, "a share gives read, search or export only");
			return GV_ERR_INVALID;
		}
	}
	if (!policy_fields_known(&x->schema, ask->fields, bad, sizeof(bad))) {
		snprintf(why, whylen, "fields: '%s' is not a field of the dataset", bad);
		return GV_ERR_INVALID;
	}
	if (!ask->valid_until || ask->valid_until <= now || ask->valid_until <= ask->valid_from) {
		snprintf(why, whylen, "valid_until must be in the future and after valid_from");
		return GV_ERR_INVALID;
	}
	if (ask->valid_until - (ask->valid_from > now ? ask->valid_from : now) > PERIOD_MAX_S) {
		snprintf(why, whylen, "a share lasts three years at most");
		return GV_ERR_INVALID;
	}
	if (ask->mask_profile[0] && !policy_profile_exists(app, ask->mask_profile)) {
		snprintf(why, whylen, "no masking profile '%s'", ask->mask_profile);
		return GV_ERR_INVALID;
	}
	return GV_OK;
}

/* Fills r's asked-for scope from ask, the service checked and in canonical form. */
static gv_err scope_from_ask(struct gv_app *app, const struct store_account *actor,
			     const struct share_ds *x, const struct share_ask *ask,
			     struct store_share_request *r, char *why, size_t whylen)
{
	int64_t now = util_now_s();
	gv_err err = check_scope(app, actor, x, ask, now, why, whylen);

	if (err != GV_OK)
		return err;
	r->dataset_id = x->d.id;
	r->kind = ask->kind;
	snprintf(r->requester, sizeof(r->requester), "%s", actor->username);
	snprintf(r->department, sizeof(r->department), "%s",
		 ask->kind == SHARE_KIND_OPEN ? "(public)" : actor->department);
	snprintf(r->fields, sizeof(r->fields), "%s", ask->fields);
	r->actions = ask->actions ? ask->actions : (1u << PA_READ) | (1u << PA_SEARCH);
	snprintf(r->purpose, sizeof(r->purpose), "%s", ask->purpose);
	snprintf(r->legal_basis, sizeof(r->legal_basis), "%s", ask->legal_basis);
	r->valid_from = ask->valid_from ? ask->valid_from : now;
	r->valid_until = ask->valid_until;
	r->expected_rows_day = ask->expected_rows_day;
	snprintf(r->mask_profile, sizeof(r->mask_profile), "%s", ask->mask_profile);
	r->service[0] = '\0';
	if (ask->service) {
		err = share_service_spec_check(&x->d, &x->schema, r->fields, ask->service, r->service,
					       sizeof(r->service), why, whylen);
		if (err != GV_OK)
			return err;
		if (r->kind == SHARE_KIND_SHARE && !(r->actions & (1u << PA_SEARCH))) {
			snprintf(why, whylen, "a data service looks records up: ask for the search "
				 "action too");
			return GV_ERR_INVALID;
		}
	}
	required_approvals(r, x->d.grade, &r->needs_owner, &r->needs_secadmin);
	r->owner_by[0] = r->secadmin_by[0] = '\0';
	r->owner_at = r->secadmin_at = 0;
	return GV_OK;
}

static void event_init(struct store_share_event *ev, const struct store_account *actor,
		       const char *step, const char *comment)
{
	memset(ev, 0, sizeof(*ev));
	ev->at = util_now_s();
	snprintf(ev->actor, sizeof(ev->actor), "%s", actor->username);
	snprintf(ev->step, sizeof(ev->step), "%s", step);
	snprintf(ev->comment, sizeof(ev->comment), "%s", comment ? comment : "");
}

gv_err share_request_create(struct gv_app *app, const struct store_account *actor,
			    const struct share_ask *ask, struct store_share_request *out,
			    char *why, size_t whylen)
{
	struct share_ds *x = NULL;
	struct store_share_event ev;
	gv_err err;

	why[0] = '\0';
	memset(out, 0, sizeof(*out));
	err = ds_load(app, ask->dataset, 0, &x, why, whylen);
	if (err == GV_OK)
		err = scope_from_ask(app, actor, x, ask, out, why, whylen);
	if (err == GV_OK) {
		out->state = SHARE_PENDING;
		out->created_at = out->updated_at = util_now_s();
		event_init(&ev, actor, "created", ask->comment);
		err = app->st->ops->share_commit(app->st, out, NULL, &ev, NULL, NULL);
	}
	free(x);
	return err;
}

/* Loads request id into r and into *was (the state the step's update must still find;
 * caller frees), and its dataset into *x (caller frees; NULL when x is NULL). */
static gv_err load(struct gv_app *app, int64_t id, struct store_share_request *r,
		   struct store_share_request **was, struct share_ds **x, char *why, size_t whylen)
{
	gv_err err = app->st->ops->share_request_get(app->st, id, r);

	*was = NULL;
	if (x)
		*x = NULL;
	if (err == GV_OK && !(*was = malloc(sizeof(**was))))
		err = GV_ERR_NOMEM;
	if (err == GV_OK) {
		**was = *r;
		if (x)
			err = ds_load(app, NULL, r->dataset_id, x, why, whylen);
	}
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such request");
	return err;
}

/* The store's refusal of a step that another one overtook, in words. */
static gv_err raced(gv_err err, char *why, size_t whylen)
{
	if (err == GV_ERR_STATE)
		snprintf(why, whylen, "the request changed meanwhile; read it again");
	return err;
}

gv_err share_request_amend(struct gv_app *app, const struct store_account *actor, int64_t id,
			   const struct share_ask *ask, struct store_share_request *out,
			   char *why, size_t whylen)
{
	struct store_share_request *was = NULL;
	struct share_ds *x = NULL;
	struct store_share_event ev;
	gv_err err;

	why[0] = '\0';
	err = load(app, id, out, &was, &x, why, whylen);
	if (err == GV_OK && strcmp(out->requester, actor->username) != 0) {
		snprintf(why, whylen, "only the requester amends a request");
		err = GV_ERR_FORBIDDEN;
	}
	if (err == GV_OK && out->state != SHARE_RETURNED) {
		snprintf(why, whylen, "only a request returned for changes is amended (it is %s)",
			 share_state_name(out, util_now_s()));
		err = GV_ERR_STATE;
	}
	if (err == GV_OK && (ask->kind != out->kind || strcmp(ask->dataset, x->d.name) != 0)) {
		snprintf(why, whylen, "an amendment keeps the request's kind and dataset");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK)
		err = scope_from_ask(app, actor, x, ask, out, why, whylen);
	if (err == GV_OK) {
		out->state = SHARE_PENDING;
		out->updated_at = util_now_s();
		event_init(&ev, actor, "amended", ask->comment);
		err = raced(app->st->ops->share_commit(app->st, out, was, &ev, NULL, NULL), why, whylen);
	}
	free(was);
	free(x);
	return err;
}

/* Narrows r's scope as asked; only narrower is accepted.  scope describes what
 * changed (no values of data, only names and limits). */
static gv_err apply_narrow(const struct share_narrow *n, const struct catalog_schema *schema,
			   struct store_share_request *r, char *scope, size_t scopelen, char *why,
			   size_t whylen)
{
	char bad[CATALOG_NAME_LEN];
	size_t used = 0;

	scope[0] = '\0';
#define NOTE(...) (used += (size_t)snprintf(scope + used, used < scopelen ? scopelen - used : 0, \
					     __VA_ARGS__), used = used < scopelen ? used : scopelen)
	if (n->fields && n->fields[0]) {
		if (!policy_fields_known(schema, n->fields, bad, sizeof(bad))) {
			snprintf(why, whylen, "narrowing: '%s' is not a field of the dataset", bad);
			return GV_ERR_INVALID;
		}
		if (!share_list_subset(n->fields, r->fields)) {
			snprintf(why, whylen, "narrowing: fields must be a subset of those asked for");
			return GV_ERR_INVALID;
		}
		snprintf(r->fields, sizeof(r->fields), "%s", n->fields);
		if (strlen(n->fields) < scopelen / 2)
			NOTE("fields=%s; ", n->fields);
		else
			NOTE("fields narrowed; ");
	}
	if (n->actions) {
		if (n->actions & ~r->actions) {
			snprintf(why, whylen, "narrowing: actions must be a subset of those asked for");
			return GV_ERR_INVALID;
		}
		r->actions = n->actions;
		NOTE("actions narrowed; ");
	}
	if (n->valid_until) {
		if (n->valid_until > r->valid_until || n->valid_until <= util_now_s()) {
			snprintf(why, whylen, "narrowing: valid_until must be in the future and no "
				 "later than asked");
			return GV_ERR_INVALID;
		}
		r->valid_until = n->valid_until;
		NOTE("valid_until earlier; ");
	}
	if (n->expected_rows_day) {
		if (n->expected_rows_day > r->expected_rows_day) {
			snprintf(why, whylen, "narrowing: expected_rows_per_day must be no more than asked");
			return GV_ERR_INVALID;
		}
		r->expected_rows_day = n->expected_rows_day;
		NOTE("rows per day %lld; ", (long long)n->expected_rows_day);
	}
	if (n->max_rows || n->rate_per_minute) {
		gv_err err;

		if (!r->service[0]) {
			snprintf(why, whylen, "narrowing: the request asks for no service");
			return GV_ERR_INVALID;
		}
		err = share_service_spec_narrow(r->service, sizeof(r->service), r->fields, n->max_rows,
						n->rate_per_minute, why, whylen);
		if (err != GV_OK)
			return err;
		NOTE("service limits lowered; ");
	} else if (n->fields && n->fields[0] && r->service[0]) {
		/* The service returns nothing the narrowed request does not cover. */
		gv_err err = share_service_spec_narrow(r->service, sizeof(r->service), r->fields, 0, 0,
						       why, whylen);

		if (err != GV_OK)
			return err;
	}
#undef NOTE
	return GV_OK;
}

/* The grant an approved share makes: the requesting department, the approved scope. */
static void grant_for(const struct store_share_request *r, const struct store_account *actor,
		      struct store_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->dataset_id = r->dataset_id;
	g->subject_type = GRANT_DEPARTMENT;
	snprintf(g->subject, sizeof(g->subject), "%s", r->department);
	g->actions = r->actions;
	snprintf(g->fields, sizeof(g->fields), "%s", r->fields);
	snprintf(g->purposes, sizeof(g->purposes), "%s", r->purpose);
	g->valid_from = r->valid_from;
	g->valid_until = r->valid_until;
	g->max_rows_day = r->expected_rows_day;
	snprintf(g->mask_profile, sizeof(g->mask_profile), "%s", r->mask_profile);
	snprintf(g->reason, sizeof(g->reason), "share request %lld: %.200s", (long long)r->id,
		 r->purpose);
	g->state = GRANT_ACTIVE;
	snprintf(g->created_by, sizeof(g->created_by), "%s", actor->username);
	snprintf(g->approved_by, sizeof(g->approved_by), "%s", r->owner_by[0] ? r->owner_by
									    : r->secadmin_by);
	g->created_at = g->approved_at = util_now_s();
}

gv_err share_request_review(struct gv_app *app, const struct store_account *actor, int64_t id,
			    int step, const struct share_narrow *narrow, const char *comment,
			    struct store_share_request *out, char *why, size_t whylen)
{
	static const char *const steps[] = {"approved", "returned", "rejected"};
	struct store_share_request *was = NULL;
	struct share_ds *x = NULL;
	struct store_share_event ev;
	struct store_grant *g = NULL;
	struct store_service *svc = NULL;
	int as_owner = 0, as_sec = 0, need_owner, need_sec;
	int64_t now = util_now_s();
	gv_err err;

	why[0] = '\0';
	err = load(app, id, out, &was, &x, why, whylen);
	if (err != GV_OK)
		goto out;
	if (!share_request_visible(app, actor, out)) {
		snprintf(why, whylen, "no such request");
		err = GV_ERR_NOT_FOUND;
		goto out;
	}
	if (out->state != SHARE_PENDING) {
		snprintf(why, whylen, "the request is %s, not under review", share_state_name(out, now));
		err = GV_ERR_STATE;
		goto out;
	}
	if (strcmp(out->requester, actor->username) == 0) {
		snprintf(why, whylen, "a request is never reviewed by its requester");
		err = GV_ERR_FORBIDDEN;
		goto out;
	}
	/* The grade may have changed since the request was made: its rules now apply. */
	required_approvals(out, x->d.grade, &need_owner, &need_sec);
	out->needs_owner |= need_owner;
	out->needs_secadmin |= need_sec;
	if (out->needs_owner && !out->owner_by[0] && is_owner_of(actor, &x->d))
		as_owner = 1;
	else if (out->needs_secadmin && !out->secadmin_by[0] &&
		 (actor->roles & ROLE_BIT(ROLE_SECADMIN)))
		as_sec = 1;
	if (!as_owner && !as_sec) {
		snprintf(why, whylen, "the request waits for no review of yours");
		err = GV_ERR_FORBIDDEN;
		goto out;
	}
	if ((step == SHARE_STEP_RETURN || step == SHARE_STEP_REJECT) && (!comment || !*comment)) {
		snprintf(why, whylen, "say why in a comment");
		err = GV_ERR_INVALID;
		goto out;
	}
	event_init(&ev, actor, steps[step], comment);
	if (step != SHARE_STEP_APPROVE) {
		out->state = step == SHARE_STEP_RETURN ? SHARE_RETURNED : SHARE_REJECTED;
		out->owner_by[0] = out->secadmin_by[0] = '\0';   /* a resubmission is reviewed anew */
		out->owner_at = out->secadmin_at = 0;
	} else {
		if (narrow) {
			err = apply_narrow(narrow, &x->schema, out, ev.scope, sizeof(ev.scope), why, whylen);
			if (err != GV_OK)
				goto out;
			if (ev.scope[0])
				snprintf(ev.step, sizeof(ev.step), "narrowed");
		}
		err = approval_rules(app, x, out, why, whylen);
		if (err != GV_OK)
			goto out;
		if (out->valid_until <= now) {
			snprintf(why, whylen, "the requested period has ended");
			err = GV_ERR_STATE;
			goto out;
		}
		if (as_owner) {
			snprintf(out->owner_by, sizeof(out->owner_by), "%s", actor->username);
			out->owner_at = now;
		} else {
			snprintf(out->secadmin_by, sizeof(out->secadmin_by), "%s", actor->username);
			out->secadmin_at = now;
		}
		if ((!out->needs_owner || out->owner_by[0]) && (!out->needs_secadmin || out->secadmin_by[0])) {
			out->state = SHARE_APPROVED;
			if (out->kind == SHARE_KIND_SHARE) {
				g = malloc(sizeof(*g));
				if (!g) {
					err = GV_ERR_NOMEM;
					goto out;
				}
				grant_for(out, actor, g);
			}
			if (out->service[0]) {
				svc = malloc(sizeof(*svc));
				if (!svc) {
					err = GV_ERR_NOMEM;
					goto out;
				}
				err = share_service_from_request(out, actor, svc, why, whylen);
				if (err != GV_OK)
					goto out;
			}
		}
	}
	out->updated_at = now;
	err = raced(app->st->ops->share_commit(app->st, out, was, &ev, g, svc), why, whylen);
	if (err == GV_ERR_EXISTS && svc)
		snprintf(why, whylen, "service name '%s' belongs to another dataset or department",
			 svc->name);
	if (err == GV_OK && (g || svc)) {
		policy_invalidate();
		share_invalidate();
	}
out:
	free(g);
	free(svc);
	free(was);
	free(x);
	return err;
}

gv_err share_request_withdraw(struct gv_app *app, const struct store_account *actor, int64_t id,
			      const char *comment, struct store_share_request *out, char *why,
			      size_t whylen)
{
	struct store_share_request *was = NULL;
	struct store_share_event ev;
	gv_err err;

	why[0] = '\0';
	err = load(app, id, out, &was, NULL, why, whylen);
	if (err == GV_OK && strcmp(out->requester, actor->username) != 0)
		err = share_request_visible(app, actor, out) ? GV_ERR_FORBIDDEN : GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such request");
	else if (err == GV_ERR_FORBIDDEN)
		snprintf(why, whylen, "only the requester withdraws a request");
	if (err == GV_OK && out->state != SHARE_PENDING && out->state != SHARE_RETURNED) {
		snprintf(why, whylen, "the request is %s; only one under review or returned is "
			 "withdrawn", share_state_name(out, util_now_s()));
		err = GV_ERR_STATE;
	}
	if (err == GV_OK) {
		out->state = SHARE_WITHDRAWN;
		out->updated_at = util_now_s();
		event_init(&ev, actor, "withdrawn", comment);
		err = raced(app->st->ops->share_commit(app->st, out, was, &ev, NULL, NULL), why, whylen);
	}
	free(was);
	return err;
}

gv_err share_request_revoke(struct gv_app *app, const struct store_account *actor, int64_t id,
			    const char *comment, struct store_share_request *out, char *why,
			    size_t whylen)
{
	struct store_share_request *was = NULL;
	struct share_ds *x = NULL;
	struct store_share_event ev;
	struct store_grant *g = NULL;
	struct store_service *svc = NULL;
	int64_t now = util_now_s();
	gv_err err;

	why[0] = '\0';
	err = load(app, id, out, &was, &x, why, whylen);
	if (err == GV_OK && !(actor->roles & ROLE_BIT(ROLE_SECADMIN)) && !is_owner_of(actor, &x->d)) {
		snprintf(why, whylen, share_request_visible(app, actor, out)
			 ? "secadmin or the dataset's data owner revokes a share" : "no such request");
		err = share_request_visible(app, actor, out) ? GV_ERR_FORBIDDEN : GV_ERR_NOT_FOUND;
	}
	if (err == GV_OK && out->state != SHARE_APPROVED) {
		snprintf(why, whylen, "the request is %s; only an approved one is revoked",
			 share_state_name(out, now));
		err = GV_ERR_STATE;
	}
	if (err == GV_OK && (!comment || !*comment)) {
		snprintf(why, whylen, "say why in a comment");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && out->grant_id) {
		g = malloc(sizeof(*g));
		err = g ? app->st->ops->grant_get(app->st, out->grant_id, g) : GV_ERR_NOMEM;
		if (err == GV_OK && g->state != GRANT_REVOKED) {
			g->state = GRANT_REVOKED;
			snprintf(g->revoked_by, sizeof(g->revoked_by), "%s", actor->username);
			g->revoked_at = now;
		}
	}
	if (err == GV_OK && out->service_id) {
		svc = malloc(sizeof(*svc));
		err = svc ? share_service_by_id(app, out->service_id, svc) : GV_ERR_NOMEM;
		if (err == GV_OK && svc->state != SERVICE_REVOKED) {
			svc->state = SERVICE_REVOKED;
			snprintf(svc->revoked_by, sizeof(svc->revoked_by), "%s", actor->username);
			svc->revoked_at = now;
		}
	}
	if (err == GV_OK) {
		out->state = SHARE_REVOKED;
		out->updated_at = now;
		event_init(&ev, actor, "revoked", comment);
		/* The grant, the service and the request end in one transaction. */
		err = raced(app->st->ops->share_commit(app->st, out, was, &ev, g, svc), why, whylen);
	}
	if (err == GV_OK) {
		policy_invalidate();
		share_invalidate();
	}
	free(g);
	free(svc);
	free(was);
	free(x);
	return err;
}

int share_request_visible(struct gv_app *app, const struct store_account *actor,
			  const struct store_share_request *r)
{
	struct store_dataset *d;
	int ok;

	if (actor->roles & ROLE_BIT(ROLE_SECADMIN))
		return 1;
	if (actor->roles & ROLE_ADMIN_MASK)
		return 0;
	if (r->kind == SHARE_KIND_SHARE && strcmp(r->department, actor->department) == 0)
		return 1;
	d = malloc(sizeof(*d));
	ok = d && app->st->ops->dataset_get_id(app->st, r->dataset_id, d) == GV_OK &&
	     strcmp(d->department, actor->department) == 0;
	free(d);
	return ok;
}

/* Approved, unexpired shares of a dataset, for share_depts_set (copied out of the store
 * callback, which must not call the store). */
struct live_shares {
	int64_t dataset_id, now;
	const char *keep;             /* departments that stay authorised */
	char ids[200];                /* the requests of the others */
	size_t used;
};

static int live_share(const struct store_share_request *r, void *arg)
{
	struct live_shares *l = arg;

	if (r->dataset_id == l->dataset_id && r->kind == SHARE_KIND_SHARE &&
	    r->state == SHARE_APPROVED && l->now < r->valid_until &&
	    !policy_list_has(l->keep, r->department) && l->used + 24 < sizeof(l->ids))
		l->used += (size_t)snprintf(l->ids + l->used, sizeof(l->ids) - l->used, "%s%lld",
					    l->used ? ", " : "", (long long)r->id);
	return 0;
}

gv_err share_depts_set(struct gv_app *app, const char *dataset, const char *list, char *why,
		       size_t whylen)
{
	struct store_dataset *d = malloc(sizeof(*d));
	struct live_shares l;
	char clean[STORE_LIST_LEN];
	size_t used = 0;
	gv_err err = d ? app->st->ops->dataset_get(app->st, dataset, d) : GV_ERR_NOMEM;

	why[0] = clean[0] = '\0';
	/* The names as they are kept: blanks around them and empty ones dropped. */
	for (const char *p = list; err == GV_OK && *p;) {
		size_t n = strcspn(p, ",");
		const char *a = p, *b = p + n;

		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if (b > a && used + (size_t)(b - a) + 2 < sizeof(clean))
			used += (size_t)snprintf(clean + used, sizeof(clean) - used, "%s%.*s",
						 used ? "," : "", (int)(b - a), a);
		p += n + (p[n] == ',');
	}
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such dataset");
	if (err == GV_OK && policy_list_has(clean, d->department)) {
		snprintf(why, whylen, "the owning department is not shared with; it holds the data");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && d->grade >= 2) {
		/* Taking a department off the list does not end its shares silently. */
		memset(&l, 0, sizeof(l));
		l.dataset_id = d->id;
		l.now = util_now_s();
		l.keep = clean;
		err = app->st->ops->share_request_list(app->st, live_share, &l);
		if (err == GV_OK && l.used) {
			snprintf(why, whylen, "departments taken off the list still hold approved shares; "
				 "revoke them first (requests %s)", l.ids);
			err = GV_ERR_STATE;
		}
	}
	if (err == GV_OK)
		err = app->st->ops->share_depts_put(app->st, d->id, clean);
	if (err == GV_OK)
		share_invalidate();
	free(d);
	return err;
}

/* ---- JSON ---- */

struct events_ctx {
	json_t *list;
	gv_err err;
};

static int event_json(const struct store_share_event *e, void *arg)
{
	struct events_ctx *c = arg;
	json_t *o = json_pack("{s:s,s:s,s:o,s:s}", "step", e->step, "actor", e->actor, "at",
			      share_time_json(e->at), "comment", e->comment);

	if (o && e->scope[0])
		json_object_set_new(o, "narrowed", json_string(e->scope));
	if (!o || json_array_append_new(c->list, o) != 0) {
		c->err = GV_ERR_NOMEM;
		return 1;
	}
	return 0;
}

static json_t *approval_json(int needed, const char *by, int64_t at)
{
	if (!needed)
		return json_null();
	return json_pack("{s:o,s:o}", "by", by[0] ? json_string(by) : json_null(), "at",
			 share_time_json(at));
}

json_t *share_request_json(struct gv_app *app, const struct store_share_request *r,
			   int with_events)
{
	struct store_dataset *d = malloc(sizeof(*d));
	json_t *service = r->service[0] ? json_loads(r->service, 0, NULL) : json_null();
	json_t *svc_ref = json_null(), *actions = json_array(), *o = NULL;
	struct store_service s;

	if (d && app->st->ops->dataset_get_id(app->st, r->dataset_id, d) != GV_OK)
		snprintf(d->name, sizeof(d->name), "?");
	for (int a = 0; actions && a < PA__COUNT; a++)
		if (r->actions & (1u << a))
			json_array_append_new(actions, json_string(policy_action_name(a)));
	if (r->service_id && share_service_by_id(app, r->service_id, &s) == GV_OK)
		svc_ref = json_pack("{s:s,s:i}", "name", s.name, "version", s.version);
	if (d && service)
		o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:I,s:s,s:o,s:s,"
			      "s:{s:o,s:o},s:o,s:o,s:o,s:o}",
			      "id", (json_int_t)r->id, "kind", kind_names[r->kind ? 1 : 0],
			      "dataset", d->name, "requester", r->requester, "department", r->department,
			      "fields", policy_list_json(r->fields), "actions", actions,
			      "purpose", r->purpose, "legal_basis", r->legal_basis,
			      "valid_from", share_time_json(r->valid_from),
			      "valid_until", share_time_json(r->valid_until),
			      "expected_rows_per_day", (json_int_t)r->expected_rows_day,
			      "mask_profile", r->mask_profile, "service", service,
			      "state", share_state_name(r, util_now_s()),
			      "approvals", "data_owner", approval_json(r->needs_owner, r->owner_by, r->owner_at),
			      "secadmin", approval_json(r->needs_secadmin, r->secadmin_by, r->secadmin_at),
			      "grant", r->grant_id ? json_integer(r->grant_id) : json_null(),
			      "data_service", svc_ref,
			      "created_at", share_time_json(r->created_at),
			      "updated_at", share_time_json(r->updated_at));
	else {
		json_decref(service);
		json_decref(svc_ref);
		json_decref(actions);
	}
	if (o && with_events) {
		struct events_ctx c = {json_array(), GV_OK};

		if (c.list && app->st->ops->share_event_list(app->st, r->id, event_json, &c) == GV_OK &&
		    c.err == GV_OK) {
			json_object_set_new(o, "events", c.list);
		} else {
			json_decref(c.list);
			json_decref(o);
			o = NULL;
		}
	}
	free(d);
	return o;
}

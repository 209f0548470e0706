/* decide.c - the access decision over compiled grants, and the row and field limits of a
 * permit. */
#include "policy/policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/cidr.h"
#include "common/timewin.h"
#include "common/util.h"

static const char *const action_names[PA__COUNT] = {"read", "search", "export", "update", "delete"};

const char *policy_action_name(int action)
{
	return action >= 0 && action < PA__COUNT ? action_names[action] : "unknown";
}

int policy_action_parse(const char *name)
{
	for (int i = 0; i < PA__COUNT; i++)
		if (strcmp(name, action_names[i]) == 0)
			return i;
	return -1;
}

/* The compiled table: active and pending grants sorted by dataset, rebuilt after any
 * change (policy_invalidate).  Readers share it under the read lock. */
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct store_grant *table;
static size_t ntable, captable;
static int table_valid;

void policy_invalidate(void)
{
	pthread_rwlock_wrlock(&table_lock);
	table_valid = 0;
	pthread_rwlock_unlock(&table_lock);
}

static int collect(const struct store_grant *g, void *ctx)
{
	gv_err *err = ctx;   /* the build's own error, apart from the store's */

	if (g->state == GRANT_REVOKED)
		return 0;
	if (ntable == captable) {
		size_t cap = captable ? 2 * captable : 64;
		struct store_grant *t = realloc(table, cap * sizeof(*t));

		if (!t) {
			*err = GV_ERR_NOMEM;
			return 1;
		}
		table = t;
		captable = cap;
	}
	table[ntable++] = *g;
	return 0;
}

static int by_dataset(const void *a, const void *b)
{
	const struct store_grant *x = a, *y = b;

	if (x->dataset_id != y->dataset_id)
		return x->dataset_id < y->dataset_id ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Rebuilds the table if a change made it stale; returns with the read lock held. */
static gv_err table_acquire(struct gv_app *app)
{
	gv_err err = GV_OK;

	pthread_rwlock_rdlock(&table_lock);
	if (table_valid)
		return GV_OK;
	pthread_rwlock_unlock(&table_lock);
	pthread_rwlock_wrlock(&table_lock);
	if (!table_valid) {
		gv_err built = GV_OK;

		ntable = 0;
		err = app->st->ops->grant_list(app->st, 0, collect, &built);
		if (err == GV_OK)
			err = built;
		if (err == GV_OK) {
			if (ntable)   /* qsort of a NULL table is undefined even for 0 */
				qsort(table, ntable, sizeof(*table), by_dataset);
			table_valid = 1;
		}
	}
	pthread_rwlock_unlock(&table_lock);
	if (err != GV_OK)
		return err;
	pthread_rwlock_rdlock(&table_lock);
	return GV_OK;
}

int policy_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == n && memcmp(p, item, n) == 0)
			return 1;
		p += k + (p[k] == ',');
	}
	return 0;
}

static int subject_matches(const struct store_grant *g, const struct store_account *a,
			   const struct store_dataset *d)
{
	enum role role;

	switch (g->subject_type) {
	case GRANT_ACCOUNT:
		return strcmp(g->subject, a->username) == 0;
	case GRANT_ROLE:
		/* A role within the dataset's own department: sharing with another department
		 * names that department (or an account) explicitly. */
		return role_parse(g->subject, &role) == GV_OK && (a->roles & ROLE_BIT(role)) &&
		       strcmp(a->department, d->department) == 0;
	case GRANT_DEPARTMENT:
		return strcmp(g->subject, a->department) == 0;
	default:
		return 0;
	}
}

static void deny(struct policy_decision *out, const char *why)
{
	out->permit = 0;
	snprintf(out->reason, sizeof(out->reason), "%s", why);
}

/* Why g does not permit rq now, or NULL if it does. */
static const char *grant_refuses(struct gv_app *app, const struct store_grant *g,
				 const struct policy_request *rq)
{
	if (g->state != GRANT_ACTIVE)
		return "the grant waits for the data owner's approval";
	/* A grade raised to 3 after the grant: the owner's consent is still needed. */
	if (rq->dataset->grade >= 3 && !g->approved_by[0])
		return "the grant waits for the data owner's approval (the grade is now 3)";
	if (!(g->actions & (1u << rq->action)))
		return "the grant does not include this action";
	if (!policy_list_has(g->purposes, rq->purpose))
		return "the grant does not serve the declared purpose";
	if (rq->now < g->valid_from)
		return "the grant is not yet valid";
	if (g->valid_until && rq->now >= g->valid_until)
		return "the grant has expired";
	if (g->time_windows[0]) {
		struct gv_config cfg;   /* copied only when a window needs the zone */

		app_policy(app, &cfg);
		if (!timewin_list_allows(g->time_windows, rq->now, cfg.utc_offset_min))
			return "outside the grant's time windows";
	}
	if (g->ip_ranges[0] && !cidr_list_allows(g->ip_ranges, rq->ip ? rq->ip : ""))
		return "the request comes from outside the grant's address ranges";
	return NULL;
}

static void permit_from(struct policy_decision *out, const struct store_grant *g,
			const struct store_account *a)
{
	out->permit = 1;
	out->grant_id = g->id;
	snprintf(out->reason, sizeof(out->reason), "grant %lld", (long long)g->id);
	snprintf(out->profile, sizeof(out->profile), "%s", g->mask_profile);
	snprintf(out->fields, sizeof(out->fields), "%s", g->fields);
	snprintf(out->row_field, sizeof(out->row_field), "%s", g->row_field);
	snprintf(out->row_value, sizeof(out->row_value), "%s",
		 g->row_subject ? a->department : g->row_value);
	out->max_rows_request = g->max_rows_request;
	out->max_rows_day = g->max_rows_day;
}

gv_err policy_decide(struct gv_app *app, const struct policy_request *rq,
		     struct policy_decision *out)
{
	const struct store_account *a = rq->account;
	const struct store_dataset *d = rq->dataset;
	const char *first_refusal = NULL;
	size_t lo = 0, hi;
	int any_for_subject = 0;
	gv_err err;

	memset(out, 0, sizeof(*out));
	out->visible = (a->roles & ROLE_BIT(ROLE_SECADMIN)) ||
		       (!(a->roles & ROLE_ADMIN_MASK) && strcmp(a->department, d->department) == 0);
	if (rq->action < 0 || rq->action >= PA__COUNT) {
		deny(out, "unknown action");
		return GV_OK;
	}
	if (a->roles & ROLE_ADMIN_MASK) {
		deny(out, "administrators do not read or write data");
		return GV_OK;
	}
	if (a->clearance < d->grade) {
		deny(out, "the account's clearance is below the dataset's grade");
		return GV_OK;
	}
	/* Clearance 3 requires TOTP enrolment, and an enrolled account's session is active
	 * only after its TOTP step; the check stays here so the rule does not rest on that. */
	if (d->grade >= 3 && !a->totp_enabled) {
		deny(out, "grade-3 data needs a session that passed TOTP");
		return GV_OK;
	}
	if (!rq->purpose || !rq->purpose[0]) {
		deny(out, "declare the purpose of the request (X-Purpose header)");
		return GV_OK;
	}
	if ((a->roles & ROLE_BIT(ROLE_DATA_OWNER)) && strcmp(a->department, d->department) == 0) {
		/* The custodian: the department's data owner answers for this data. */
		out->permit = out->custodian = 1;
		snprintf(out->reason, sizeof(out->reason), "custodian (data owner of %.64s)", d->department);
		snprintf(out->profile, sizeof(out->profile), "none");
		return GV_OK;
	}
	err = table_acquire(app);
	if (err != GV_OK)
		return err;
	hi = ntable;
	while (lo < hi) {   /* first grant of the dataset */
		size_t mid = lo + (hi - lo) / 2;

		if (table[mid].dataset_id < d->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ntable && table[i].dataset_id == d->id; i++) {
		const char *why;

		if (!subject_matches(&table[i], a, d))
			continue;
		any_for_subject = 1;
		why = grant_refuses(app, &table[i], rq);
		if (!why) {
			permit_from(out, &table[i], a);
			break;
		}
		if (!first_refusal)
			first_refusal = why;
	}
	pthread_rwlock_unlock(&table_lock);
	if (any_for_subject)
		out->visible = 1;
	if (!out->permit)
		deny(out, first_refusal ? first_refusal : "no grant permits this");
	return GV_OK;
}

int policy_grant_in_force(struct gv_app *app, int64_t dataset_id, int64_t grant_id, int grade,
			  int action, int64_t now)
{
	size_t lo = 0, hi;
	int ok = 0;

	if (table_acquire(app) != GV_OK)
		return 0;   /* fail closed */
	hi = ntable;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (table[mid].dataset_id < dataset_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ntable && table[i].dataset_id == dataset_id; i++)
		if (table[i].id == grant_id) {
			const struct store_grant *g = &table[i];

			ok = g->state == GRANT_ACTIVE && (grade < 3 || g->approved_by[0]) &&
			     (g->actions & (1u << action)) &&
			     now >= g->valid_from && (!g->valid_until || now < g->valid_until);
			break;
		}
	pthread_rwlock_unlock(&table_lock);
	return ok;
}

int policy_field_allowed(const struct policy_decision *d, const char *field)
{
	return !d->fields[0] || policy_list_has(d->fields, field);
}

int policy_row_allowed(const struct policy_decision *d, const json_t *data)
{
	const json_t *v;
	char num[32];
	const char *text;

	if (!d->row_field[0])
		return 1;
	v = json_object_get(data, d->row_field);
	if (json_is_string(v)) {
		text = json_string_value(v);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		text = num;
	} else {
		return 0;   /* missing, null or another type: the condition is not met */
	}
	return strcmp(text, d->row_value) == 0;
}

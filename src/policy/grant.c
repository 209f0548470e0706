/* grant.c - creating, approving and revoking grants, and their API form. */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/catalog.h"
#include "data/dataset.h"

static const char *const subject_names[] = {"account", "role", "department"};
static const char *const state_names[] = {"pending_approval", "active", "revoked"};

const char *policy_subject_name(int type)
{
	return type >= 0 && type < (int)GV_ARRAY_LEN(subject_names) ? subject_names[type] : "unknown";
}

int policy_subject_parse(const char *name)
{
	for (int i = 0; i < (int)GV_ARRAY_LEN(subject_names); i++)
		if (strcmp(name, subject_names[i]) == 0)
			return i;
	return -1;
}

int policy_fields_known(const struct catalog_schema *schema, const char *list, char *bad, size_t len)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		char name[CATALOG_NAME_LEN];

		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) - 1 ? n : sizeof(name) - 1), p);
		if (n >= sizeof(name) || !catalog_field_find(schema, name)) {
			/* A cut name may end inside a character: not echoed. */
			snprintf(bad, len, "%s", n >= sizeof(name) ? "(too long)" : name);
			return 0;
		}
		p += n + (p[n] == ',');
	}
	return 1;
}

static int profile_seen(const char *name, int version, const char *json, const char *by,
			int64_t at, void *ctx)
{
	(void)name, (void)version, (void)json, (void)by, (void)at;
	*(int *)ctx = 1;
	return 1;
}

int policy_profile_exists(struct gv_app *app, const char *name)
{
	int found = 0;

	return app->st->ops->profile_get(app->st, name, 0, profile_seen, &found) == GV_OK && found;
}

/* Checks the subject; an account subject caps the period at the account's expiry. */
static gv_err check_subject(struct gv_app *app, struct store_grant *g, int grade, char *why,
			    size_t whylen)
{
	struct store_account a;
	enum role role;

	switch (g->subject_type) {
	case GRANT_ACCOUNT:
		if (app->st->ops->account_get(app->st, g->subject, &a) != GV_OK) {
			snprintf(why, whylen, "no account '%.64s'", g->subject);
			return GV_ERR_INVALID;
		}
		if (a.roles & ROLE_ADMIN_MASK) {
			snprintf(why, whylen, "administrators are never granted data");
			return GV_ERR_INVALID;
		}
		if (a.clearance < grade) {
			snprintf(why, whylen, "the account's clearance (%d) is below the dataset's grade (%d)",
				 a.clearance, grade);
			return GV_ERR_INVALID;
		}
		/* An outsourced account's access ends with the account at the latest. */
		if (a.expires_at && (!g->valid_until || g->valid_until > a.expires_at))
			g->valid_until = a.expires_at;
		util_wipe(&a, sizeof(a));
		return GV_OK;
	case GRANT_ROLE:
		if (role_parse(g->subject, &role) != GV_OK || (ROLE_BIT(role) & ROLE_ADMIN_MASK)) {
			snprintf(why, whylen, "subject role must be data_owner, analyst or reviewer");
			return GV_ERR_INVALID;
		}
		return GV_OK;
	case GRANT_DEPARTMENT:
		return GV_OK;
	default:
		snprintf(why, whylen, "subject type must be account, role or department");
		return GV_ERR_INVALID;
	}
}

gv_err policy_grant_create(struct gv_app *app, const struct store_account *actor,
			   const char *dataset, struct store_grant *g, char *why, size_t whylen)
{
	struct store_dataset *d = malloc(sizeof(*d));
	struct catalog_schema *schema = malloc(sizeof(*schema));
	char bad[CATALOG_NAME_LEN];
	json_t *j = NULL;
	gv_err err = d && schema ? GV_OK : GV_ERR_NOMEM;

	why[0] = '\0';
	if (err == GV_OK) {
		err = app->st->ops->dataset_get(app->st, dataset, d);
		if (err == GV_ERR_NOT_FOUND) {
			snprintf(why, whylen, "no such dataset");
			err = GV_ERR_INVALID;
		}
	}
	if (err == GV_OK) {
		j = json_loads(d->schema, 0, NULL);
		err = j && catalog_schema_parse(j, schema, why, whylen) == GV_OK ? GV_OK : GV_ERR_STORE;
	}
	if (err == GV_OK && !d->grade_confirmed) {
		snprintf(why, whylen, "the dataset's grade must be confirmed before it is shared");
		err = GV_ERR_STATE;
	}
	if (err == GV_OK)
		err = check_subject(app, g, d->grade, why, whylen);
	if (err == GV_OK && !policy_fields_known(schema, g->fields, bad, sizeof(bad))) {
		snprintf(why, whylen, "fields: '%s' is not a field of the dataset", bad);
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && g->row_field[0] && !catalog_field_find(schema, g->row_field)) {
		snprintf(why, whylen, "row_filter: '%s' is not a field of the dataset", g->row_field);
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && g->valid_until && g->valid_until <= g->valid_from) {
		snprintf(why, whylen, "valid_until must be after valid_from (and before the "
			 "account's expiry, for an account that expires)");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && g->mask_profile[0]) {
		if (!policy_profile_exists(app, g->mask_profile)) {
			snprintf(why, whylen, "no masking profile '%.64s'", g->mask_profile);
			err = GV_ERR_INVALID;
		}
	}
	if (err == GV_OK) {
		g->dataset_id = d->id;
		/* Grade 3 is shared only with the data owner's consent: two people. */
		g->state = d->grade >= 3 ? GRANT_PENDING : GRANT_ACTIVE;
		snprintf(g->created_by, sizeof(g->created_by), "%s", actor->username);
		g->created_at = util_now_s();
		g->approved_by[0] = g->revoked_by[0] = '\0';
		g->approved_at = g->revoked_at = 0;
		err = app->st->ops->grant_insert(app->st, g);
	}
	if (err == GV_OK)
		policy_invalidate();
	json_decref(j);
	free(d);
	free(schema);
	return err;
}

gv_err policy_grant_approve(struct gv_app *app, const struct store_account *actor, int64_t id,
			    struct store_grant *out, const char **why)
{
	struct store_dataset *d = malloc(sizeof(*d));
	gv_err err = d ? app->st->ops->grant_get(app->st, id, out) : GV_ERR_NOMEM;

	*why = NULL;
	if (err == GV_OK)
		err = app->st->ops->dataset_get_id(app->st, out->dataset_id, d);
	/* The data owner of the dataset's own department is the second person. */
	if (err == GV_OK && (!(actor->roles & ROLE_BIT(ROLE_DATA_OWNER)) ||
			     strcmp(actor->department, d->department) != 0))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such grant";
	/* Pending, or active but made before the grade rose to 3 and never approved. */
	if (err == GV_OK && out->state != GRANT_PENDING &&
	    !(out->state == GRANT_ACTIVE && d->grade >= 3 && !out->approved_by[0])) {
		*why = "the grant is not waiting for approval";
		err = GV_ERR_STATE;
	}
	if (err == GV_OK) {
		out->state = GRANT_ACTIVE;
		snprintf(out->approved_by, sizeof(out->approved_by), "%s", actor->username);
		out->approved_at = util_now_s();
		err = app->st->ops->grant_update(app->st, out);
	}
	if (err == GV_OK)
		policy_invalidate();
	free(d);
	return err;
}

gv_err policy_grant_revoke(struct gv_app *app, const struct store_account *actor, int64_t id,
			   const char *reason, struct store_grant *out, const char **why)
{
	gv_err err = app->st->ops->grant_get(app->st, id, out);

	*why = NULL;
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such grant";
	if (err == GV_OK && out->state == GRANT_REVOKED) {
		*why = "the grant is revoked already";
		err = GV_ERR_STATE;
	}
	if (err == GV_OK) {
		out->state = GRANT_REVOKED;
		snprintf(out->revoked_by, sizeof(out->revoked_by), "%s", actor->username);
		out->revoked_at = util_now_s();
		if (reason && *reason) {
			char was[sizeof(out->reason)];

			snprintf(was, sizeof(was), "%s", out->reason);
			snprintf(out->reason, sizeof(out->reason), "%.120s; revoked: %.120s", was, reason);
		}
		err = app->st->ops->grant_update(app->st, out);
	}
	if (err == GV_OK)
		policy_invalidate();
	return err;
}

json_t *policy_list_json(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (a && *p) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static json_t *time_json(int64_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	util_time_rfc3339(t, buf);
	return json_string(buf);
}

json_t *policy_grant_json(struct gv_app *app, const struct store_grant *g)
{
	struct store_dataset *d = malloc(sizeof(*d));
	json_t *actions = json_array(), *row = json_null(), *o = NULL;

	for (int a = 0; actions && a < PA__COUNT; a++)
		if (g->actions & (1u << a))
			json_array_append_new(actions, json_string(policy_action_name(a)));
	if (g->row_field[0])
		row = g->row_subject ? json_pack("{s:s,s:s}", "field", g->row_field, "equals_subject",
						 "department")
				     : json_pack("{s:s,s:s}", "field", g->row_field, "equals", g->row_value);
	if (d && app->st->ops->dataset_get_id(app->st, g->dataset_id, d) != GV_OK)
		snprintf(d->name, sizeof(d->name), "?");
	if (d)
		o = json_pack("{s:I,s:s,s:{s:s,s:s},s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:I,s:I,s:s,s:s,"
			      "s:s,s:s,s:o,s:s,s:o,s:s,s:o}",
			      "id", (json_int_t)g->id, "dataset", d->name, "subject", "type",
			      policy_subject_name(g->subject_type), "name", g->subject, "actions",
			      actions, "fields", policy_list_json(g->fields), "row_filter", row, "purposes",
			      policy_list_json(g->purposes), "valid_from", time_json(g->valid_from),
			      "valid_until", time_json(g->valid_until), "time_windows", g->time_windows,
			      "ip_ranges", policy_list_json(g->ip_ranges), "max_rows_per_request",
			      (json_int_t)g->max_rows_request, "max_rows_per_day",
			      (json_int_t)g->max_rows_day, "mask_profile", g->mask_profile, "reason",
			      g->reason, "state",
			      g->state >= 0 && g->state < (int)GV_ARRAY_LEN(state_names)
				      ? state_names[g->state] : "unknown",
			      "created_by", g->created_by, "created_at", time_json(g->created_at),
			      "approved_by", g->approved_by, "approved_at", time_json(g->approved_at),
			      "revoked_by", g->revoked_by, "revoked_at", time_json(g->revoked_at));
	free(d);
	return o;
}

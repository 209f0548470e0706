/* view.c - what a permit lets a request see: the row condition, the fields, and the
 * masking profile applied to the records before they leave (docs/masking.md). */
#include "policy/policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "data/catalog.h"
#include "data/records.h"
#include "mask/mask.h"

#define PROFILE_CACHE 64

/* Compiled profiles: the grade defaults, and stored profiles by name and version (a
 * new version is a new entry, so a cached one never goes stale). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mask_profile *defaults[4];
static struct {
	char name[65];
	int version;
	struct mask_profile *p;
} cache[PROFILE_CACHE];
static int ncache;

struct profile_row {
	char name[65];
	int version;
	json_t *json;
};

static int profile_latest(const char *name, int version, const char *json, const char *by,
			  int64_t at, void *ctx)
{
	struct profile_row *row = ctx;

	(void)by, (void)at;
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->version = version;
	row->json = json_loads(json, 0, NULL);
	return 1;
}

/* The profile to apply and its name@version for the log; NULL with GV_OK means none.
 * *owned is a profile compiled for this request alone (the cache was full), which the
 * caller frees: cached profiles are never freed while the process runs, since another
 * request may be applying one. */
static gv_err profile_for(struct gv_app *app, const struct policy_decision *d, int grade,
			  const struct mask_profile **out, struct mask_profile **owned,
			  char *label, size_t labellen)
{
	struct profile_row row = {"", 0, NULL};
	char why[200];
	gv_err err = GV_OK;

	*out = NULL;
	*owned = NULL;
	if (d->custodian || strcmp(d->profile, "none") == 0)
		return GV_OK;
	if (!d->profile[0]) {
		if (grade < 1 || grade > 3)
			return GV_ERR_STORE;
		pthread_mutex_lock(&cache_lock);
		if (!defaults[grade]) {
			json_t *j = mask_profile_default(grade);

			err = j ? mask_profile_parse(j, &defaults[grade], why, sizeof(why)) : GV_ERR_NOMEM;
			json_decref(j);
		}
		*out = defaults[grade];
		pthread_mutex_unlock(&cache_lock);
		snprintf(label, labellen, "default-grade-%d", grade);
		return err;
	}
	err = app->st->ops->profile_get(app->st, d->profile, 0, profile_latest, &row);
	if (err == GV_OK && !row.json)
		err = GV_ERR_STORE;
	if (err == GV_OK) {
		snprintf(label, labellen, "%s@%d", row.name, row.version);
		pthread_mutex_lock(&cache_lock);
		for (int i = 0; i < ncache && !*out; i++)
			if (cache[i].version == row.version && strcmp(cache[i].name, row.name) == 0)
				*out = cache[i].p;
		if (!*out) {
			struct mask_profile *p = NULL;

			err = mask_profile_parse(row.json, &p, why, sizeof(why));
			if (err == GV_OK && ncache < PROFILE_CACHE) {
				snprintf(cache[ncache].name, sizeof(cache[ncache].name), "%s", row.name);
				cache[ncache].version = row.version;
				cache[ncache++].p = p;
				*out = p;
			} else if (err == GV_OK) {
				*owned = p;   /* full: this request's alone */
				*out = p;
			}
		}
		pthread_mutex_unlock(&cache_lock);
	}
	json_decref(row.json);
	return err;
}

/* Appends "field(method)" for each masked field not yet in log. */
static void log_report(const struct mask_report *rep, char *log, size_t loglen)
{
	for (size_t i = 0; i < rep->nfields; i++) {
		char item[96];
		size_t used = strlen(log);

		char spaced[100];

		snprintf(item, sizeof(item), "%s(%s%s)", rep->fields[i].field, rep->fields[i].method,
			 rep->fields[i].fail_closed ? ",redacted" : "");
		/* Whole entries compared: "name(mask)" is not "nickname(mask)". */
		snprintf(spaced, sizeof(spaced), " %s", item);
		if (strncmp(log, item, strlen(item)) == 0 && (log[strlen(item)] == ' ' || !log[strlen(item)]))
			continue;
		if (strstr(log, spaced))
			continue;
		if (used + strlen(item) + 2 < loglen - 4)
			snprintf(log + used, loglen - used, "%s%s", used ? " " : "", item);
		else if (!strstr(log, " ..."))
			snprintf(log + used, loglen - used, " ...");
	}
}

struct policy_view {
	const struct policy_decision *d;
	struct records_ds *rds;               /* holds the schema below; NULL: no masking */
	const struct catalog_schema *schema;
	struct mask_field mf[CATALOG_MAX_FIELDS];
	const struct mask_profile *profile;   /* NULL: no masking */
	struct mask_profile *owned;           /* profile compiled for this view alone */
	unsigned char key[MASK_KEY_LEN];
	char label[96];
	char fields_log[768];
};

gv_err policy_view_open(struct gv_app *app, const struct policy_decision *d,
			const struct store_dataset *ds, const unsigned char *pseudonym_key,
			struct policy_view **out)
{
	struct policy_view *v = calloc(1, sizeof(*v));
	const char *why;
	gv_err err = v ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	if (err == GV_OK) {
		v->d = d;
		err = profile_for(app, d, ds->grade, &v->profile, &v->owned, v->label, sizeof(v->label));
	}
	/* Only masking needs the field kinds: the parsed schema comes from memory (the
	 * records cache), and not at all for a view that masks nothing (the custodian). */
	if (err == GV_OK && v->profile) {
		err = records_open(app, NULL, ds->name, 0, &v->rds, &why);
		if (err == GV_OK)
			v->schema = records_schema(v->rds);
	}
	if (err == GV_OK && v->profile) {
		/* The pseudonym key of a profile: stable across requests, distinct per profile
		 * (or the caller's, for a one-off copy). */
		char msg[160];

		/* Per profile and dataset: pseudonyms do not link records across datasets.  The
		 * audit key is the secret input of an extraction keyed by the label, never the
		 * key: the audit log keeps HMAC(audit key, x) of any x a caller sends (request
		 * bodies, searched values), so a label under that key would be readable there. */
		snprintf(msg, sizeof(msg), "govvault pseudonym v2|%s|%s", mask_profile_name(v->profile),
			 ds->name);
		if (pseudonym_key)
			memcpy(v->key, pseudonym_key, sizeof(v->key));
		else
			err = crypto_hmac_sm3(msg, strlen(msg), app->keys.audit, sizeof(app->keys.audit),
					      v->key);
		for (int f = 0; f < v->schema->nfields; f++) {
			v->mf[f].name = v->schema->fields[f].name;
			v->mf[f].kind = catalog_kind_name(v->schema->fields[f].kind);
		}
	}
	if (err != GV_OK) {
		policy_view_close(v);
		return err;
	}
	*out = v;
	return GV_OK;
}

void policy_view_close(struct policy_view *v)
{
	if (!v)
		return;
	util_wipe(v->key, sizeof(v->key));
	mask_profile_free(v->owned);
	records_close(v->rds);
	free(v);
}

gv_err policy_view_run(struct policy_view *v, json_t *records, char *log, size_t loglen,
		       size_t *kept)
{
	const struct policy_decision *d = v->d;
	size_t i = 0, n = 0;
	gv_err err = GV_OK;

	*kept = 0;
	while (err == GV_OK && i < json_array_size(records)) {
		json_t *rec = json_array_get(records, i), *data = json_object_get(rec, "data");
		const char *k;
		json_t *val, *tmp;

		if (!json_is_object(data) || !policy_row_allowed(d, data)) {
			json_array_remove(records, i);
			continue;
		}
		json_object_foreach_safe(data, tmp, k, val)
			if (!policy_field_allowed(d, k))
				json_object_del(data, k);
		(void)val;
		if (v->profile) {
			struct mask_report rep;

			err = mask_apply(v->profile, v->mf, (size_t)v->schema->nfields, v->key, data, &rep);
			if (err == GV_OK)
				log_report(&rep, v->fields_log, sizeof(v->fields_log));
		}
		n++;
		i++;
	}
	if (err == GV_OK)
		snprintf(log, loglen, "%s%s%s%s", v->profile ? "masked by " : "not masked (",
			 v->profile ? v->label : (d->custodian ? "custodian" : "profile none"),
			 v->profile ? ": " : ")",
			 v->profile ? (v->fields_log[0] ? v->fields_log : "nothing") : "");
	*kept = n;
	return err;
}

gv_err policy_view_apply(struct gv_app *app, const struct policy_decision *d,
			 const struct store_dataset *ds, json_t *records, char *log, size_t loglen,
			 size_t *kept)
{
	struct policy_view *v = NULL;
	gv_err err = policy_view_open(app, d, ds, NULL, &v);

	*kept = 0;
	log[0] = '\0';
	if (err == GV_OK)
		err = policy_view_run(v, records, log, loglen, kept);
	policy_view_close(v);
	return err;
}

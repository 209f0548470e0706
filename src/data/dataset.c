/* dataset.c - dataset registration and the two-person grading workflow. */
#include "data/dataset.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/catalog.h"
#include "data/quality.h"

/* Serialises read-modify-write of a dataset's grade (few and rare). */
static pthread_mutex_t grade_lock = PTHREAD_MUTEX_INITIALIZER;

static int is_secadmin(const struct store_account *a)
{
	return (a->roles & ROLE_BIT(ROLE_SECADMIN)) != 0;
}

gv_err dataset_check_config(const struct gv_config *cfg, char *why, size_t whylen)
{
	char what[200];
	unsigned kinds;
	gv_err err = catalog_kinds_parse(cfg->data_important_kinds, &kinds, what, sizeof(what));

	if (err != GV_OK)
		snprintf(why, whylen, "data.important_kinds: %s", what);
	return err;
}

int dataset_visible(const struct store_account *actor, const struct store_dataset *d)
{
	return is_secadmin(actor) || (!(actor->roles & ROLE_ADMIN_MASK) &&
				      strcmp(actor->department, d->department) == 0);
}

/* Dataset names appear in paths and audit objects: keep them to identifiers. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

gv_err dataset_rules_check(struct gv_app *app, const struct store_account *actor,
			   const struct catalog_schema *schema, const json_t *rules, char *canon,
			   size_t canonlen, char *why, size_t whylen)
{
	struct quality_rules *q = NULL;
	struct store_dataset *ref = NULL;
	json_t *sj = catalog_schema_json(schema), *rule;
	char *text = NULL;
	size_t i;
	gv_err err;

	if (!sj)
		return GV_ERR_NOMEM;
	err = quality_rules_parse(rules, json_object_get(sj, "fields"), &q, why, whylen);
	for (i = 0; err == GV_OK && i < quality_rules_count(q); i++) {
		const struct catalog_field *f = catalog_field_find(schema, quality_rules_field(q, i));

		if (quality_rules_kind(q, i) == QUALITY_UNIQUE && (!f || !f->indexed)) {
			snprintf(why, whylen, "rule %zu (field \"%s\"): unique needs an indexed field", i,
				 quality_rules_field(q, i));
			err = GV_ERR_INVALID;
		}
	}
	json_array_foreach(rules, i, rule) {
		const char *name = json_string_value(json_object_get(rule, "dataset"));
		const char *field = json_string_value(json_object_get(rule, "ref_field"));
		struct catalog_schema rs;
		const struct catalog_field *f;
		json_t *j;

		if (err != GV_OK)
			break;
		if (strcmp(json_string_value(json_object_get(rule, "rule")), "reference") != 0)
			continue;
		if (!ref && !(ref = malloc(sizeof(*ref)))) {
			err = GV_ERR_NOMEM;
			break;
		}
		err = app->st->ops->dataset_get(app->st, name, ref);
		if (err == GV_OK && !dataset_visible(actor, ref))
			err = GV_ERR_NOT_FOUND;
		if (err == GV_ERR_NOT_FOUND) {
			snprintf(why, whylen, "rule %zu: no dataset '%.63s'", i, name);
			err = GV_ERR_INVALID;
			break;
		}
		if (err != GV_OK)
			break;
		j = json_loads(ref->schema, 0, NULL);
		err = j && catalog_schema_parse(j, &rs, why, whylen) == GV_OK ? GV_OK : GV_ERR_STORE;
		json_decref(j);
		f = err == GV_OK ? catalog_field_find(&rs, field) : NULL;
		if (err == GV_OK && (!f || !f->indexed)) {
			snprintf(why, whylen, "rule %zu: dataset '%.63s' has no indexed field '%.63s'", i,
				 name, field);
			err = GV_ERR_INVALID;
		}
	}
	if (err == GV_OK) {
		text = json_dumps(rules, JSON_COMPACT | JSON_SORT_KEYS);
		err = !text ? GV_ERR_NOMEM : strlen(text) >= canonlen ? GV_ERR_TOO_LARGE : GV_OK;
		if (err == GV_ERR_TOO_LARGE)
			snprintf(why, whylen, "quality rules are too large");
		if (err == GV_OK)
			snprintf(canon, canonlen, "%s", text);
	}
	free(text);
	free(ref);
	quality_rules_free(q);
	json_decref(sj);
	return err;
}

/* Checks in->lineage: sources actor can see, a transformation text; ids into src. */
static gv_err lineage_check(struct gv_app *app, const struct store_account *actor,
			    const json_t *lin, int64_t *src, size_t *nsrc, const char **transformation,
			    char *why, size_t whylen)
{
	const json_t *sources = json_object_get(lin, "sources");
	struct store_dataset *d;
	const char *key;
	json_t *v;
	size_t i;
	gv_err err = GV_OK;

	*nsrc = 0;
	*transformation = json_string_value(json_object_get(lin, "transformation"));
	json_object_foreach((json_t *)lin, key, v)
		if (strcmp(key, "sources") != 0 && strcmp(key, "transformation") != 0) {
			snprintf(why, whylen, "lineage: unknown attribute '%.32s'", key);
			return GV_ERR_INVALID;
		}
	if (!json_is_array(sources) || json_array_size(sources) < 1 || json_array_size(sources) > 16 ||
	    !*transformation || !**transformation || strlen(*transformation) > 1024 ||
	    !util_utf8_printable(*transformation)) {
		snprintf(why, whylen, "lineage must be {\"sources\": [1-16 dataset names], "
			 "\"transformation\": \"how the data was derived\" (up to 1024 bytes)}");
		return GV_ERR_INVALID;
	}
	d = malloc(sizeof(*d));
	if (!d)
		return GV_ERR_NOMEM;
	json_array_foreach(sources, i, v) {
		const char *name = json_string_value(v);

		err = name ? app->st->ops->dataset_get(app->st, name, d) : GV_ERR_NOT_FOUND;
		if (err == GV_OK && !dataset_visible(actor, d))
			err = GV_ERR_NOT_FOUND;
		if (err == GV_ERR_NOT_FOUND) {
			snprintf(why, whylen, "lineage: source %zu is not a dataset you can see", i);
			err = GV_ERR_INVALID;
		}
		if (err != GV_OK)
			break;
		for (size_t k = 0; k < *nsrc; k++)
			if (src[k] == d->id) {
				snprintf(why, whylen, "lineage: source %zu is named twice", i);
				err = GV_ERR_INVALID;
			}
		if (err != GV_OK)
			break;
		src[(*nsrc)++] = d->id;
	}
	free(d);
	return err;
}

gv_err dataset_register(struct gv_app *app, const struct store_account *actor,
			const struct dataset_input *in, struct store_dataset *out, char *why,
			size_t whylen)
{
	struct catalog_schema schema;
	struct catalog_policy pol;
	struct gv_config cfg;
	json_t *canon = NULL;
	char *text = NULL, obj[96], reason[360];
	const char *transformation = NULL;
	int64_t src[16];
	size_t nsrc = 0;
	gv_err err;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (!name_ok(in->name)) {
		snprintf(why, whylen, "name must be 2-63 characters of a-z, 0-9, _ and -, starting "
			 "with a letter");
		return GV_ERR_INVALID;
	}
	if (!in->title[0] || !in->category[0] || !in->legal_basis[0]) {
		snprintf(why, whylen, "title, category and legal_basis must not be empty");
		return GV_ERR_INVALID;
	}
	if (in->retention_days < 1 || in->expected_rows < 0) {
		snprintf(why, whylen, "retention_days must be >= 1 and expected_rows >= 0");
		return GV_ERR_INVALID;
	}
	err = catalog_schema_parse(in->schema, &schema, why, whylen);
	if (err != GV_OK)
		return err;
	snprintf(out->quality_rules, sizeof(out->quality_rules), "[]");
	if (in->quality_rules)
		err = dataset_rules_check(app, actor, &schema, in->quality_rules, out->quality_rules,
					  sizeof(out->quality_rules), why, whylen);
	if (err == GV_OK && in->lineage)
		err = lineage_check(app, actor, in->lineage, src, &nsrc, &transformation, why, whylen);
	if (err != GV_OK)
		return err;
	app_policy(app, &cfg);
	pol.important_rows = cfg.data_important_rows;
	if (catalog_kinds_parse(cfg.data_important_kinds, &pol.important_kinds, why, whylen) != GV_OK)
		return GV_ERR_CONFIG;
	canon = catalog_schema_json(&schema);
	text = canon ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(canon);
	if (!text)
		return GV_ERR_NOMEM;
	if (strlen(text) >= sizeof(out->schema)) {
		free(text);
		snprintf(why, whylen, "schema is too large");
		return GV_ERR_TOO_LARGE;
	}
	snprintf(out->schema, sizeof(out->schema), "%s", text);
	free(text);
	snprintf(out->name, sizeof(out->name), "%s", in->name);
	snprintf(out->title, sizeof(out->title), "%s", in->title);
	snprintf(out->department, sizeof(out->department), "%s", actor->department);
	snprintf(out->owner, sizeof(out->owner), "%s", actor->username);
	snprintf(out->category, sizeof(out->category), "%s", in->category);
	snprintf(out->description, sizeof(out->description), "%s", in->description ? in->description : "");
	snprintf(out->legal_basis, sizeof(out->legal_basis), "%s", in->legal_basis);
	out->retention_days = in->retention_days;
	out->expected_rows = in->expected_rows;
	out->grade_suggested = catalog_grade_suggest(&schema, in->expected_rows, &pol,
						     out->grade_reason, sizeof(out->grade_reason));
	out->grade = out->grade_suggested;
	snprintf(out->created_by, sizeof(out->created_by), "%s", actor->username);
	out->created_at = out->updated_at = util_now_s();
	err = app->st->ops->dataset_insert(app->st, out);
	if (err == GV_ERR_EXISTS)
		snprintf(why, whylen, "a dataset with this name already exists");
	for (size_t i = 0; err == GV_OK && i < nsrc; i++)
		err = app->st->ops->lineage_add(app->st, out->id, src[i], transformation);
	if (err != GV_OK)
		return err;
	snprintf(obj, sizeof(obj), "dataset:%s", out->name);
	snprintf(reason, sizeof(reason), "registered for %.64s; suggested grade %d: %.200s%s",
		 out->department, out->grade_suggested, out->grade_reason,
		 nsrc ? "; derived (lineage recorded)" : "");
	return audit_event(app->audit, actor->username, "dataset.registered", obj, reason);
}

gv_err dataset_set_rules(struct gv_app *app, const struct store_account *actor, const char *name,
			 const json_t *rules, struct store_dataset *out, char *why, size_t whylen)
{
	struct catalog_schema *schema = malloc(sizeof(*schema));
	char obj[96], note[64];
	json_t *j;
	gv_err err;

	why[0] = '\0';
	if (!schema)
		return GV_ERR_NOMEM;
	pthread_mutex_lock(&grade_lock);
	err = app->st->ops->dataset_get(app->st, name, out);
	if (err == GV_OK && !dataset_visible(actor, out))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		snprintf(why, whylen, "no such dataset");
	if (err == GV_OK && !(actor->roles & ROLE_BIT(ROLE_DATA_OWNER))) {
		snprintf(why, whylen, "only the department's data owner sets quality rules");
		err = GV_ERR_FORBIDDEN;
	}
	if (err == GV_OK) {
		j = json_loads(out->schema, 0, NULL);
		err = j && catalog_schema_parse(j, schema, why, whylen) == GV_OK ? GV_OK : GV_ERR_STORE;
		json_decref(j);
	}
	if (err == GV_OK)
		err = dataset_rules_check(app, actor, schema, rules, out->quality_rules,
					  sizeof(out->quality_rules), why, whylen);
	if (err == GV_OK) {
		out->updated_at = util_now_s();
		err = app->st->ops->dataset_update(app->st, out);
	}
	if (err == GV_OK) {
		snprintf(obj, sizeof(obj), "dataset:%s", out->name);
		snprintf(note, sizeof(note), "%zu quality rules", json_array_size(rules));
		err = audit_event(app->audit, actor->username, "dataset.rules_changed", obj, note);
	}
	pthread_mutex_unlock(&grade_lock);
	free(schema);
	return err;
}

struct lineage_ctx {
	json_t *list;
};

static int lineage_one(const char *dataset, const char *transformation, void *ctx)
{
	struct lineage_ctx *c = ctx;

	return json_array_append_new(c->list, json_pack("{s:s,s:s}", "dataset", dataset,
							"transformation", transformation)) != 0;
}

gv_err dataset_lineage(struct gv_app *app, const struct store_dataset *d, json_t **out)
{
	struct lineage_ctx up = {json_array()}, down = {json_array()};
	gv_err err = up.list && down.list ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	if (err == GV_OK)
		err = app->st->ops->lineage_list(app->st, d->id, 1, lineage_one, &up);
	if (err == GV_OK)
		err = app->st->ops->lineage_list(app->st, d->id, 0, lineage_one, &down);
	if (err == GV_OK) {
		*out = json_pack("{s:s,s:O,s:O}", "dataset", d->name, "sources", up.list, "derived",
				 down.list);
		err = *out ? GV_OK : GV_ERR_NOMEM;
	}
	json_decref(up.list);
	json_decref(down.list);
	return err;
}

gv_err dataset_set_grade(struct gv_app *app, const struct store_account *actor, const char *name,
			 int grade, const char *reason, struct store_dataset *out, const char **why)
{
	char obj[96], note[400];
	const char *action;
	int sec = is_secadmin(actor), owner;
	gv_err err;

	*why = NULL;
	if (grade < 1 || grade > 3 || !reason || !*reason) {
		*why = "grade must be 1, 2 or 3, with a reason";
		return GV_ERR_INVALID;
	}
	pthread_mutex_lock(&grade_lock);
	err = app->st->ops->dataset_get(app->st, name, out);
	if (err == GV_OK && !dataset_visible(actor, out))
		err = GV_ERR_NOT_FOUND;   /* another department's dataset does not exist for them */
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such dataset";
	if (err != GV_OK)
		goto out;
	owner = !sec && (actor->roles & ROLE_BIT(ROLE_DATA_OWNER));
	if (!sec && !owner) {
		*why = "only the security administrator or the department's data owner may grade";
		err = GV_ERR_FORBIDDEN;
		goto out;
	}
	if (sec && (!out->grade_confirmed || grade > out->grade)) {
		action = !out->grade_confirmed ? (grade == out->grade_suggested ? "dataset.grade_confirmed"
							: "dataset.grade_overridden")
			 : "dataset.grade_raised";
		out->grade = grade;
		out->grade_confirmed = 1;
		snprintf(out->confirmed_by, sizeof(out->confirmed_by), "%s", actor->username);
		out->pending_grade = 0;
		out->pending_by[0] = out->pending_reason[0] = '\0';
	} else if (grade == out->grade) {
		*why = "the dataset already has this grade";
		err = GV_ERR_STATE;
		goto out;
	} else if (grade > out->grade) {
		*why = "raising a grade is the security administrator's";
		err = GV_ERR_FORBIDDEN;
		goto out;
	} else if (out->pending_grade == grade && strcmp(out->pending_by, actor->username) != 0) {
		/* The second of the two people agrees: owner after secadmin or the reverse. */
		struct store_account other;

		if (app->st->ops->account_get(app->st, out->pending_by, &other) != GV_OK ||
		    is_secadmin(&other) == sec) {
			*why = "lowering a grade needs the data owner and the security administrator";
			err = GV_ERR_FORBIDDEN;
			goto out;
		}
		action = "dataset.grade_lowered";
		out->grade = grade;
		out->pending_grade = 0;
		out->pending_by[0] = out->pending_reason[0] = '\0';
	} else {
		if (!out->grade_confirmed) {
			*why = "the security administrator must confirm the grade first";
			err = GV_ERR_STATE;
			goto out;
		}
		action = "dataset.grade_lowering_requested";
		out->pending_grade = grade;
		snprintf(out->pending_by, sizeof(out->pending_by), "%s", actor->username);
		snprintf(out->pending_reason, sizeof(out->pending_reason), "%s", reason);
	}
	out->updated_at = util_now_s();
	err = app->st->ops->dataset_update(app->st, out);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "dataset:%s", out->name);
	snprintf(note, sizeof(note), "grade %d: %.300s", grade, reason);
	err = audit_event(app->audit, actor->username, action, obj, note);
out:
	pthread_mutex_unlock(&grade_lock);
	return err;
}

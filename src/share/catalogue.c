/* catalogue.c - the public open-data catalogue: grade-1 datasets an approved,
 * unexpired request opened, with their open services.  Metadata only: no record, no
 * count of records, nothing about who asked. */
#include "share/share.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "data/catalog.h"
#include "data/records.h"
#include "policy/policy.h"
#include "share/shared.h"

struct opened {
	struct store_share_request *r;
	size_t n, cap;
	int64_t now;
	gv_err err;
};

static int collect_open(const struct store_share_request *r, void *arg)
{
	struct opened *o = arg;

	if (r->kind != SHARE_KIND_OPEN || r->state != SHARE_APPROVED || o->now >= r->valid_until ||
	    o->now < r->valid_from)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		struct store_share_request *t = realloc(o->r, cap * sizeof(*t));

		if (!t) {
			o->err = GV_ERR_NOMEM;
			return 1;
		}
		o->r = t;
		o->cap = cap;
	}
	o->r[o->n++] = *r;
	return 0;
}

/* The opened fields with their types (never kinds of personal data: grade 1 has none
 * worth naming, and the catalogue says only what a caller may ask for). */
static json_t *fields_json(const struct catalog_schema *schema, const char *list)
{
	json_t *a = json_array();

	for (int i = 0; a && i < schema->nfields; i++) {
		const struct catalog_field *f = &schema->fields[i];
		static const char *const types[] = {"string", "integer", "number", "boolean", "date"};

		if (list[0] && !policy_list_has(list, f->name))
			continue;
		json_array_append_new(a, json_pack("{s:s,s:s}", "name", f->name, "type",
						   f->type >= 0 && f->type < CT__COUNT ? types[f->type] : "?"));
	}
	return a;
}

gv_err share_catalogue(struct gv_app *app, json_t **out)
{
	struct opened o = {NULL, 0, 0, util_now_s(), GV_OK};
	struct store_dataset *d = malloc(sizeof(*d));
	struct catalog_schema *schema = malloc(sizeof(*schema));
	json_t *list = json_array(), *services = NULL;
	gv_err err = d && schema && list ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	if (err == GV_OK)
		err = app->st->ops->share_request_list(app->st, collect_open, &o);
	if (err == GV_OK)
		err = o.err;
	if (err == GV_OK)
		err = share_service_list_open(app, &services);
	for (size_t i = 0; err == GV_OK && i < o.n; i++) {
		const struct store_share_request *r = &o.r[i];
		json_t *mine = json_array(), *s;
		size_t k;

		err = app->st->ops->dataset_get_id(app->st, r->dataset_id, d);
		if (err == GV_OK)
			err = records_describe(app, d->name, d, schema);
		if (err != GV_OK || d->grade != 1) {
			json_decref(mine);
			if (err == GV_ERR_NOT_FOUND || err == GV_OK)
				err = GV_OK;   /* raised since: it is no longer open (share.h) */
			continue;
		}
		json_array_foreach(services, k, s)
			if (json_integer_value(json_object_get(s, "request")) == r->id) {
				json_t *c = json_copy(s);

				json_object_del(c, "request");
				json_array_append_new(mine, c);
			}
		if (err == GV_OK &&
		    json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o}",
				"dataset", d->name, "title", d->title, "department", d->department,
				"category", d->category, "description", d->description, "grade", d->grade,
				"fields", fields_json(schema, r->fields),
				"opened_at", share_time_json(r->secadmin_at),
				"open_until", share_time_json(r->valid_until), "services", mine)) != 0)
			err = GV_ERR_NOMEM;
	}
	if (err == GV_OK)
		*out = json_pack("{s:o}", "datasets", list);
	else
		json_decref(list);
	json_decref(services);
	free(o.r);
	free(d);
	free(schema);
	return err == GV_OK && !*out ? GV_ERR_NOMEM : err;
}

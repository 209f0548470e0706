/* spec.c - the data service a request asks for: its definition checked against the
 * dataset and the grade's rules, written in canonical form, lowered by a narrowing, and
 * turned into a service version when the request is approved. */
#include "share/share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "data/records.h"
#include "policy/policy.h"
#include "share/shared.h"

#define SERVICE_ROWS_MAX RECORDS_SEARCH_MAX   /* one lookup returns no more */
#define SERVICE_RATE_MAX 60000

int share_service_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int types_match(int param_type, int field_type)
{
	if (param_type == PARAM_INTEGER)
		return field_type == CT_INTEGER;
	return field_type == CT_STRING || field_type == CT_DATE;
}

/* Joins a JSON array of field names into out. */
static gv_err join_fields(const json_t *arr, char *out, size_t len, char *why, size_t whylen)
{
	size_t used = 0;

	out[0] = '\0';
	if (!json_is_array(arr)) {
		snprintf(why, whylen, "service: fields must be an array of field names");
		return GV_ERR_INVALID;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *f = json_string_value(json_array_get(arr, i));
		size_t n = f ? strlen(f) : 0;

		if (!n || strchr(f, ',') || used + n + 2 > len) {
			snprintf(why, whylen, "service: fields must be an array of field names");
			return GV_ERR_INVALID;
		}
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", f);
	}
	return GV_OK;
}

gv_err share_service_spec_check(const struct store_dataset *d, const struct catalog_schema *schema,
				const char *req_fields, const json_t *spec, char *out, size_t outlen,
				char *why, size_t whylen)
{
	static const char *const keys[] = {"name", "params", "fields", "max_rows_per_call",
					   "rate_limit_per_minute", NULL};
	struct params_spec *ps = NULL;
	const json_t *name = json_object_get(spec, "name"), *maxrows, *rate;
	char fields[STORE_LIST_LEN], bad[CATALOG_NAME_LEN];
	int indexed = 0, required_indexed = 0, personal = 0;
	json_t *canon = NULL, *v;
	const char *key;
	char *text = NULL;
	gv_err err;

	if (!json_is_object(spec)) {
		snprintf(why, whylen, "service must be an object");
		return GV_ERR_INVALID;
	}
	json_object_foreach((json_t *)spec, key, v) {
		size_t k = 0;

		while (keys[k] && strcmp(keys[k], key) != 0)
			k++;
		if (!keys[k]) {
			snprintf(why, whylen, "service: unknown key '%s'",
				 strlen(key) < 32 && util_utf8_printable(key) ? key : "(not a key name)");
			return GV_ERR_INVALID;
		}
	}
	if (!json_is_string(name) || !share_service_name_ok(json_string_value(name))) {
		snprintf(why, whylen, "service: name must be 2-63 of a-z, 0-9, '-' starting with a letter");
		return GV_ERR_INVALID;
	}
	maxrows = json_object_get(spec, "max_rows_per_call");
	rate = json_object_get(spec, "rate_limit_per_minute");
	if (!json_is_integer(maxrows) || json_integer_value(maxrows) < 1 ||
	    json_integer_value(maxrows) > SERVICE_ROWS_MAX) {
		snprintf(why, whylen, "service: max_rows_per_call must be 1-%d", SERVICE_ROWS_MAX);
		return GV_ERR_INVALID;
	}
	if (!json_is_integer(rate) || json_integer_value(rate) < 1 ||
	    json_integer_value(rate) > SERVICE_RATE_MAX) {
		snprintf(why, whylen, "service: rate_limit_per_minute must be 1-%d", SERVICE_RATE_MAX);
		return GV_ERR_INVALID;
	}
	fields[0] = '\0';
	if (json_object_get(spec, "fields")) {
		err = join_fields(json_object_get(spec, "fields"), fields, sizeof(fields), why, whylen);
		if (err != GV_OK)
			return err;
		if (!policy_fields_known(schema, fields, bad, sizeof(bad))) {
			snprintf(why, whylen, "service: '%s' is not a field of the dataset", bad);
			return GV_ERR_INVALID;
		}
	} else {
		snprintf(fields, sizeof(fields), "%s", req_fields);
	}
	if (!share_list_subset(fields, req_fields)) {
		snprintf(why, whylen, "service: it returns only fields the request asks for");
		return GV_ERR_INVALID;
	}
	err = params_spec_parse(json_object_get(spec, "params"), &ps, why, whylen);
	if (err != GV_OK)
		return err;
	for (size_t i = 0; err == GV_OK && i < ps->n; i++) {
		const struct param_spec *p = &ps->p[i];
		const struct catalog_field *f = catalog_field_find(schema, p->field);

		if (!f) {
			snprintf(why, whylen, "parameter '%s': '%.63s' is not a field of the dataset",
				 p->name, p->field);
			err = GV_ERR_INVALID;
		} else if (!types_match(p->type, f->type)) {
			snprintf(why, whylen, "parameter '%s': its type does not fit field '%s'", p->name,
				 f->name);
			err = GV_ERR_INVALID;
		} else if (req_fields[0] && !policy_list_has(req_fields, f->name)) {
			/* Looking up by a field outside the share would confirm its values. */
			snprintf(why, whylen, "parameter '%s': field '%s' is not among the fields "
				 "asked for", p->name, f->name);
			err = GV_ERR_INVALID;
		} else if ((f->sensitive || catalog_kind_personal(f->kind)) && (!f->indexed || personal++)) {
			/* A filter on such a field would let a caller test guesses of a value the
			 * answer masks: only one, and it must be the exact-match key. */
			snprintf(why, whylen, "parameter '%s': a service takes at most one parameter on "
				 "personal or sensitive data, and only as an exact-match key (an indexed "
				 "field)", p->name);
			err = GV_ERR_INVALID;
		}
		if (err == GV_OK && f && f->indexed) {
			indexed++;
			required_indexed += p->required;
		}
	}
	if (err == GV_OK && !indexed) {
		snprintf(why, whylen, "service: at least one parameter must be an indexed field (an "
			 "exact-match key): a service looks records up, it does not scan");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK && d->grade >= 2 && !required_indexed) {
		snprintf(why, whylen, "service: on grade-%d data an exact-match key parameter must be "
			 "required, so no call can scan", d->grade);
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK) {
		canon = json_pack("{s:s,s:o,s:o,s:I,s:I}", "name", json_string_value(name), "params",
				  params_spec_json(ps), "fields", policy_list_json(fields),
				  "max_rows_per_call", (json_int_t)json_integer_value(maxrows),
				  "rate_limit_per_minute", (json_int_t)json_integer_value(rate));
		text = canon ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		err = text ? GV_OK : GV_ERR_NOMEM;
	}
	if (err == GV_OK && strlen(text) >= outlen) {
		snprintf(why, whylen, "service: the definition is too long");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK)
		snprintf(out, outlen, "%s", text);
	free(text);
	json_decref(canon);
	params_spec_free(ps);
	return err;
}

gv_err share_service_spec_narrow(char *spec, size_t len, const char *req_fields, int max_rows,
				 int rate_per_minute, char *why, size_t whylen)
{
	json_t *j = json_loads(spec, 0, NULL), *kept;
	json_int_t cur_rows = json_integer_value(json_object_get(j, "max_rows_per_call"));
	json_int_t cur_rate = json_integer_value(json_object_get(j, "rate_limit_per_minute"));
	char fields[STORE_LIST_LEN];
	char *text = NULL;
	gv_err err = j ? GV_OK : GV_ERR_STORE;

	if (err == GV_OK && ((max_rows && max_rows > cur_rows) || max_rows < 0 ||
			     (rate_per_minute && rate_per_minute > cur_rate) || rate_per_minute < 0)) {
		snprintf(why, whylen, "narrowing: the service's limits may only be lowered");
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK)
		err = join_fields(json_object_get(j, "fields"), fields, sizeof(fields), why, whylen);
	if (err == GV_OK) {
		/* What the service returns stays within the narrowed fields. */
		kept = json_array();
		for (const char *p = fields[0] ? fields : req_fields; kept && *p;) {
			size_t n = strcspn(p, ",");
			char f[CATALOG_NAME_LEN];

			snprintf(f, sizeof(f), "%.*s", (int)(n < sizeof(f) - 1 ? n : sizeof(f) - 1), p);
			if (!req_fields[0] || policy_list_has(req_fields, f))
				json_array_append_new(kept, json_string(f));
			p += n + (p[n] == ',');
		}
		if (kept && !json_array_size(kept) && (fields[0] || req_fields[0])) {
			/* An empty list would read as "every field". */
			json_decref(kept);
			snprintf(why, whylen, "narrowing: the service would return none of the "
				 "narrowed fields; narrow its fields too or leave them");
			err = GV_ERR_INVALID;
			goto out;
		}
		json_object_set_new(j, "fields", kept);
		if (max_rows)
			json_object_set_new(j, "max_rows_per_call", json_integer(max_rows));
		if (rate_per_minute)
			json_object_set_new(j, "rate_limit_per_minute", json_integer(rate_per_minute));
		text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		err = text && strlen(text) < len ? GV_OK : GV_ERR_NOMEM;
	}
	/* A lookup parameter on a field the narrowing took away would confirm its values. */
	for (size_t i = 0; err == GV_OK && req_fields[0] &&
			   i < json_array_size(json_object_get(j, "params")); i++) {
		const char *f = json_string_value(json_object_get(
			json_array_get(json_object_get(j, "params"), i), "field"));

		if (!f || !policy_list_has(req_fields, f)) {
			snprintf(why, whylen, "narrowing: the service looks up by field '%.63s', which "
				 "the narrowed fields leave out", f ? f : "?");
			err = GV_ERR_INVALID;
		}
	}
	if (err == GV_OK)
		snprintf(spec, len, "%s", text);
out:
	free(text);
	json_decref(j);
	return err;
}

gv_err share_service_from_request(const struct store_share_request *r,
				  const struct store_account *actor, struct store_service *out,
				  char *why, size_t whylen)
{
	json_t *j = json_loads(r->service, 0, NULL);
	char *params = j ? json_dumps(json_object_get(j, "params"), JSON_COMPACT) : NULL;
	gv_err err = params ? GV_OK : GV_ERR_STORE;

	memset(out, 0, sizeof(*out));
	if (err == GV_OK)
		err = join_fields(json_object_get(j, "fields"), out->fields, sizeof(out->fields), why,
				  whylen);
	if (err == GV_OK) {
		snprintf(out->name, sizeof(out->name), "%s", json_string_value(json_object_get(j, "name")));
		snprintf(out->params, sizeof(out->params), "%s", params);
		out->dataset_id = r->dataset_id;
		out->request_id = r->id;
		out->open = r->kind == SHARE_KIND_OPEN;
		snprintf(out->department, sizeof(out->department), "%s", out->open ? "" : r->department);
		snprintf(out->mask_profile, sizeof(out->mask_profile), "%s", r->mask_profile);
		out->max_rows = (int)json_integer_value(json_object_get(j, "max_rows_per_call"));
		out->rate_per_minute = (int)json_integer_value(json_object_get(j, "rate_limit_per_minute"));
		out->valid_until = r->valid_until;
		out->state = SERVICE_ACTIVE;
		snprintf(out->created_by, sizeof(out->created_by), "%s", actor->username);
		out->created_at = util_now_s();
	}
	free(params);
	json_decref(j);
	return err;
}

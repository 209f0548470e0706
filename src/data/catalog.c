/* catalog.c - dataset schema parsing, record checks and the grading suggestion. */
#include "data/catalog.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "mask/idcheck.h"

#define DEFAULT_MAX_LEN 4096

static const char *const kind_names[CK__COUNT] = {
	[CK_NONE] = "none", [CK_RESIDENT_ID] = "resident_id", [CK_NAME] = "name",
	[CK_MOBILE] = "mobile", [CK_LANDLINE] = "landline", [CK_EMAIL] = "email",
	[CK_ADDRESS] = "address", [CK_BANK_CARD] = "bank_card", [CK_USCC] = "uscc",
	[CK_PASSPORT] = "passport", [CK_PLATE] = "plate", [CK_DATE_OF_BIRTH] = "date_of_birth",
	[CK_FREE_TEXT] = "free_text", [CK_OTHER] = "other",
};

static const char *const type_names[CT__COUNT] = {
	[CT_STRING] = "string", [CT_INTEGER] = "integer", [CT_NUMBER] = "number",
	[CT_BOOLEAN] = "boolean", [CT_DATE] = "date",
};

const char *catalog_kind_name(int kind)
{
	return kind >= 0 && kind < CK__COUNT ? kind_names[kind] : "unknown";
}

int catalog_kind_parse(const char *name)
{
	for (int i = 0; i < CK__COUNT; i++)
		if (!strcmp(kind_names[i], name))
			return i;
	return -1;
}

int catalog_kind_personal(int kind)
{
	/* A USCC names an organisation, not a person; "other" is sensitive but not
	 * personal by declaration. */
	return kind != CK_NONE && kind != CK_USCC && kind != CK_OTHER;
}

gv_err catalog_kinds_parse(const char *list, unsigned *out, char *why, size_t whylen)
{
	const char *p = list;

	*out = 0;
	while (*p) {
		char name[CATALOG_NAME_LEN];
		size_t n = strcspn(p, ",");
		int k;

		while (*p == ' ')
			p++, n--;
		if (n == 0 || n >= sizeof(name)) {
			snprintf(why, whylen, "empty or over-long kind in '%.64s'", list);
			return GV_ERR_INVALID;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		while (n && name[n - 1] == ' ')
			name[--n] = '\0';
		k = catalog_kind_parse(name);
		if (k < 0) {
			snprintf(why, whylen, "unknown data kind '%.64s'", name);
			return GV_ERR_INVALID;
		}
		*out |= 1u << k;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return GV_OK;
}

static int type_parse(const char *name)
{
	for (int i = 0; i < CT__COUNT; i++)
		if (!strcmp(type_names[i], name))
			return i;
	return -1;
}

/* Field names become JSON keys, SQL-free index labels and audit field lists: keep
 * them to identifiers. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CATALOG_NAME_LEN || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static gv_err field_parse(const json_t *f, int index, struct catalog_field *out, char *why,
			  size_t whylen)
{
	static const char *const allowed[] = {"name", "type", "kind", "required", "indexed",
					      "sensitive", "max_len", NULL};
	const char *key, *name, *type, *kind;
	json_t *v, *sens;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(f)) {
		snprintf(why, whylen, "fields[%d] must be an object", index);
		return GV_ERR_INVALID;
	}
	json_object_foreach((json_t *)f, key, v) {
		int ok = 0;

		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		if (!ok) {
			snprintf(why, whylen, "fields[%d]: unknown attribute '%.32s'", index, key);
			return GV_ERR_INVALID;
		}
	}
	name = json_string_value(json_object_get(f, "name"));
	if (!name || !name_ok(name)) {
		snprintf(why, whylen, "fields[%d]: name must be 1-63 characters of a-z, 0-9 and _, "
			 "starting with a letter or _", index);
		return GV_ERR_INVALID;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	type = json_string_value(json_object_get(f, "type"));
	out->type = type ? type_parse(type) : -1;
	if (out->type < 0) {
		snprintf(why, whylen, "field '%s': type must be string, integer, number, boolean or date",
			 name);
		return GV_ERR_INVALID;
	}
	kind = json_string_value(json_object_get(f, "kind"));
	out->kind = kind ? catalog_kind_parse(kind) : CK_NONE;
	if (out->kind < 0 || (json_object_get(f, "kind") && !kind)) {
		snprintf(why, whylen, "field '%s': unknown kind", name);
		return GV_ERR_INVALID;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const flags[] = {"required", "indexed", "sensitive"};
		json_t *b = json_object_get(f, flags[i]);

		if (b && !json_is_boolean(b)) {
			snprintf(why, whylen, "field '%s': %s must be true or false", name, flags[i]);
			return GV_ERR_INVALID;
		}
	}
	out->required = json_is_true(json_object_get(f, "required"));
	out->indexed = json_is_true(json_object_get(f, "indexed"));
	sens = json_object_get(f, "sensitive");
	out->sensitive = sens ? json_is_true(sens) : out->kind != CK_NONE;
	v = json_object_get(f, "max_len");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > 65536 || out->type != CT_STRING)) {
		snprintf(why, whylen, "field '%s': max_len must be an integer in [1, 65536] on a "
			 "string field", name);
		return GV_ERR_INVALID;
	}
	out->max_len = v ? (int)json_integer_value(v) : DEFAULT_MAX_LEN;
	if (out->indexed && out->type == CT_BOOLEAN) {
		snprintf(why, whylen, "field '%s': a boolean cannot be indexed", name);
		return GV_ERR_INVALID;
	}
	return GV_OK;
}

gv_err catalog_schema_parse(const json_t *j, struct catalog_schema *out, char *why, size_t whylen)
{
	const json_t *fields = json_is_object(j) ? json_object_get(j, "fields") : NULL;
	size_t i;
	json_t *f;
	gv_err err;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_array(fields) ||
	    json_array_size(fields) == 0) {
		snprintf(why, whylen, "schema must be {\"fields\": [...]} with at least one field");
		return GV_ERR_INVALID;
	}
	if (json_array_size(fields) > CATALOG_MAX_FIELDS) {
		snprintf(why, whylen, "at most %d fields", CATALOG_MAX_FIELDS);
		return GV_ERR_INVALID;
	}
	json_array_foreach(fields, i, f) {
		err = field_parse(f, (int)i, &out->fields[i], why, whylen);
		if (err != GV_OK)
			return err;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(out->fields[k].name, out->fields[i].name)) {
				snprintf(why, whylen, "field '%s' is defined twice", out->fields[i].name);
				return GV_ERR_INVALID;
			}
		out->nfields++;
	}
	return GV_OK;
}

json_t *catalog_schema_json(const struct catalog_schema *s)
{
	json_t *a = json_array();

	for (int i = 0; a && i < s->nfields; i++) {
		const struct catalog_field *f = &s->fields[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b}", "name", f->name, "type",
				      type_names[f->type], "kind", kind_names[f->kind], "required",
				      f->required, "indexed", f->indexed, "sensitive", f->sensitive);

		if (o && f->type == CT_STRING)
			json_object_set_new(o, "max_len", json_integer(f->max_len));
		json_array_append_new(a, o);
	}
	return a ? json_pack("{s:o}", "fields", a) : NULL;
}

const struct catalog_field *catalog_field_find(const struct catalog_schema *s, const char *name)
{
	/* The first byte settles most mismatches without a call: an import looks up every
	 * field of every row several times. */
	for (int i = 0; i < s->nfields; i++)
		if (s->fields[i].name[0] == name[0] && !strcmp(s->fields[i].name, name))
			return &s->fields[i];
	return NULL;
}

const struct catalog_field *catalog_field_find_next(const struct catalog_schema *s, const char *name,
						    int *next)
{
	const struct catalog_field *f;

	if (*next >= 0 && *next < s->nfields && !strcmp(s->fields[*next].name, name))
		f = &s->fields[*next];
	else
		f = catalog_field_find(s, name);
	if (f)
		*next = (int)(f - s->fields) + 1;
	return f;
}

int catalog_grade_suggest(const struct catalog_schema *s, long long expected_rows,
			  const struct catalog_policy *p, char *why, size_t whylen)
{
	const char *personal = NULL;

	for (int i = 0; i < s->nfields; i++) {
		const struct catalog_field *f = &s->fields[i];

		if (f->kind != CK_NONE && (p->important_kinds & (1u << f->kind))) {
			snprintf(why, whylen, "field '%s' holds %s, a kind configured as important",
				 f->name, kind_names[f->kind]);
			return 3;
		}
		if (!personal && catalog_kind_personal(f->kind))
			personal = f->name;
	}
	if (p->important_rows > 0 && expected_rows >= p->important_rows && personal) {
		snprintf(why, whylen, "personal data (field '%s') in %lld or more records", personal,
			 p->important_rows);
		return 3;
	}
	if (personal) {
		snprintf(why, whylen, "field '%s' holds personal information", personal);
		return 2;
	}
	snprintf(why, whylen, "no personal or important data declared");
	return 1;
}

gv_err catalog_record_check(const struct catalog_schema *s, const json_t *rec, char *why,
			    size_t whylen)
{
	const char *key;
	json_t *v;
	int next = 0;

	if (!json_is_object(rec)) {
		snprintf(why, whylen, "a record must be a JSON object");
		return GV_ERR_INVALID;
	}
	json_object_foreach((json_t *)rec, key, v) {
		const struct catalog_field *f = catalog_field_find_next(s, key, &next);
		int ok;

		if (!f) {
			/* The key is named only when it has the shape of a field name: a JSON Lines
			 * row keyed by, say, an ID number must not put it into a reason. */
			if (name_ok(key))
				snprintf(why, whylen, "unknown field '%s'", key);
			else
				snprintf(why, whylen, "a field name that is not in the schema");
			return GV_ERR_INVALID;
		}
		if (json_is_null(v)) {
			if (f->required)
				goto missing;
			continue;
		}
		switch (f->type) {
		case CT_STRING:
			ok = json_is_string(v) && json_string_length(v) <= (size_t)f->max_len &&
			     strlen(json_string_value(v)) == json_string_length(v);
			break;
		case CT_INTEGER:
			ok = json_is_integer(v);
			break;
		case CT_NUMBER:
			ok = json_is_number(v);
			break;
		case CT_BOOLEAN:
			ok = json_is_boolean(v);
			break;
		default:
			ok = json_is_string(v) && id_date_text_valid(json_string_value(v));
			break;
		}
		if (!ok) {
			snprintf(why, whylen, "field '%s' must be %s%s", f->name,
				 f->type == CT_DATE ? "a date YYYY-MM-DD" : type_names[f->type],
				 f->type == CT_STRING ? " within max_len, without NUL" : "");
			return GV_ERR_INVALID;
		}
		continue;
missing:
		snprintf(why, whylen, "field '%s' is required", f->name);
		return GV_ERR_INVALID;
	}
	for (int i = 0; i < s->nfields; i++)
		if (s->fields[i].required && !json_object_get(rec, s->fields[i].name)) {
			snprintf(why, whylen, "field '%s' is required", s->fields[i].name);
			return GV_ERR_INVALID;
		}
	return GV_OK;
}

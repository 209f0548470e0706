/* records.c - record versions: schema check, sealing by grade, blind index, reads. */
#include "data/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "crypto/datakey.h"
#include "data/catalog.h"
#include "data/dataset.h"

#define DATA_KEY_VERSION 1   /* rotation adds versions; until then every record uses 1 */
#define BODY_MAX ((size_t)1 << 20)

/* Storage formats, the first byte of a stored body. */
#define FMT_PLAIN 'P'    /* grade 1: JSON */
#define FMT_FIELDS 'F'   /* grade 2: JSON, sensitive values as {"$sm4": "<hex>"} */
#define FMT_RECORD 'R'   /* grade 3: the JSON sealed whole */

struct ds_ctx {
	struct store_dataset d;
	struct catalog_schema schema;
	unsigned char key[DATAKEY_LEN];
	unsigned char ikey[INDEXKEY_LEN];
};

static void ctx_wipe(struct ds_ctx *c)
{
	util_wipe(c->key, sizeof(c->key));
	util_wipe(c->ikey, sizeof(c->ikey));
}

static int record_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RECORDS_ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* A dataset key, made on first use (kind 0 data, 1 index). */
static gv_err load_key(struct gv_app *app, int64_t ds, int kind, int create, unsigned char *key)
{
	unsigned char wrapped[INDEXKEY_WRAPPED_LEN];
	enum datakey_kind k = kind ? DATAKEY_INDEX : DATAKEY_DATA;
	int version = kind ? 0 : DATA_KEY_VERSION;
	size_t len = 0;
	gv_err err = app->st->ops->datakey_get(app->st, ds, kind, version, wrapped, sizeof(wrapped), &len);

	if (err == GV_ERR_NOT_FOUND && create) {
		err = datakey_new(app->keys.data_kek, k, ds, version, key, wrapped);
		if (err == GV_OK)
			err = app->st->ops->datakey_put(app->st, ds, kind, version, wrapped,
						       (kind ? INDEXKEY_LEN : DATAKEY_LEN) + CRYPTO_SEAL_OVERHEAD);
		if (err == GV_ERR_EXISTS)   /* another writer made it first: use theirs */
			return load_key(app, ds, kind, 0, key);
		return err;
	}
	if (err != GV_OK)
		return err;
	return datakey_unwrap(app->keys.data_kek, k, ds, version, wrapped, len, key);
}

/* Loads the dataset and its keys for actor; writer asks for the write right. */
static gv_err open_dataset(struct gv_app *app, const struct store_account *actor, const char *name,
			   int writer, struct ds_ctx *c, const char **why)
{
	char buf[256];
	json_t *j;
	gv_err err = app->st->ops->dataset_get(app->st, name, &c->d);

	if (err == GV_OK && !dataset_visible(actor, &c->d))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such dataset";
	if (err != GV_OK)
		return err;
	if (actor->roles & ROLE_ADMIN_MASK) {
		*why = "administrators do not read or write data";
		return GV_ERR_FORBIDDEN;
	}
	if (writer && !(actor->roles & ROLE_BIT(ROLE_DATA_OWNER))) {
		*why = "only the department's data owner writes records";
		return GV_ERR_FORBIDDEN;
	}
	if (writer && !c->d.grade_confirmed) {
		*why = "the security administrator must confirm the dataset's grade first";
		return GV_ERR_STATE;
	}
	if (!writer && actor->clearance < c->d.grade) {
		*why = "the account's clearance is below the dataset's grade";
		return GV_ERR_FORBIDDEN;
	}
	j = json_loads(c->d.schema, 0, NULL);
	err = j ? catalog_schema_parse(j, &c->schema, buf, sizeof(buf)) : GV_ERR_STORE;
	json_decref(j);
	if (err == GV_OK)
		err = load_key(app, c->d.id, 0, writer, c->key);
	if (err == GV_OK)
		err = load_key(app, c->d.id, 1, writer, c->ikey);
	if (err == GV_ERR_NOT_FOUND && !writer) {
		*why = "no such record";   /* nothing was ever written */
		return GV_ERR_NOT_FOUND;
	}
	return err;
}

/* The text a value is indexed by: strings as they are, numbers and booleans in JSON. */
static char *index_text(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* Seals data into body (with its format byte) for version. */
static gv_err seal_body(struct ds_ctx *c, const char *rid, int64_t version, const json_t *data,
			struct gv_buf *body)
{
	json_t *copy = NULL;
	char *text = NULL;
	gv_err err = GV_OK;
	char fmt = c->d.grade >= 3 ? FMT_RECORD : c->d.grade == 2 ? FMT_FIELDS : FMT_PLAIN;

	if (fmt == FMT_FIELDS) {
		const char *k;
		json_t *v;

		copy = json_deep_copy(data);
		if (!copy)
			return GV_ERR_NOMEM;
		json_object_foreach(copy, k, v) {
			const struct catalog_field *f = catalog_field_find(&c->schema, k);
			struct gv_buf sealed;
			char *plain;

			if (!f || !f->sensitive || json_is_null(v))
				continue;
			plain = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			buf_init(&sealed, BODY_MAX);
			err = plain ? datakey_seal(c->key, c->d.id, rid, k, version, plain, strlen(plain),
						   &sealed) : GV_ERR_NOMEM;
			if (err == GV_OK) {
				char *h = malloc(2 * sealed.len + 1);

				if (!h) {
					err = GV_ERR_NOMEM;
				} else {
					util_hex_encode((unsigned char *)sealed.data, sealed.len, h);
					json_object_set_new(copy, k, json_pack("{s:s}", "$sm4", h));
					free(h);
				}
			}
			if (plain)
				util_free_secret(plain);
			buf_release(&sealed);
			if (err != GV_OK)
				break;
		}
	}
	if (err == GV_OK)
		text = json_dumps(copy ? copy : data, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (err == GV_OK && !text)
		err = GV_ERR_NOMEM;
	if (err == GV_OK)
		err = buf_append(body, &fmt, 1);
	if (err == GV_OK && fmt == FMT_RECORD)
		err = datakey_seal(c->key, c->d.id, rid, "", version, text, strlen(text), body);
	else if (err == GV_OK)
		err = buf_append(body, text, strlen(text));
	if (text)
		util_free_secret(text);
	return err;
}

/* The JSON data of a stored body (new reference). */
static gv_err open_body(struct ds_ctx *c, const struct store_record *r, json_t **out)
{
	struct gv_buf plain;
	json_t *j = NULL;
	gv_err err = GV_OK;

	*out = NULL;
	if (r->body_len < 1)
		return GV_ERR_STORE;
	buf_init(&plain, BODY_MAX);
	if (r->body[0] == FMT_RECORD)
		err = datakey_open(c->key, c->d.id, r->record_id, "", r->version, r->body + 1,
				   r->body_len - 1, &plain);
	else
		err = buf_append(&plain, r->body + 1, r->body_len - 1);
	if (err == GV_OK) {
		j = json_loadb(plain.data ? plain.data : "", plain.len, 0, NULL);
		if (!json_is_object(j))
			err = GV_ERR_STORE;
	}
	if (err == GV_OK && r->body[0] == FMT_FIELDS) {
		const char *k;
		json_t *v;

		json_object_foreach(j, k, v) {
			const char *hex = json_string_value(json_object_get(v, "$sm4"));
			size_t n = hex ? strlen(hex) / 2 : 0;
			unsigned char *sealed;
			struct gv_buf field;

			if (!hex)
				continue;
			sealed = malloc(n ? n : 1);
			buf_init(&field, BODY_MAX);
			err = sealed && util_hex_decode(hex, sealed, n) == GV_OK ? GV_OK : GV_ERR_STORE;
			if (err == GV_OK)
				err = datakey_open(c->key, c->d.id, r->record_id, k, r->version, sealed, n,
						   &field);
			if (err == GV_OK) {
				json_t *val = json_loadb(field.data, field.len, JSON_DECODE_ANY, NULL);

				err = val ? GV_OK : GV_ERR_STORE;
				if (val)
					json_object_set_new(j, k, val);
			}
			free(sealed);
			buf_release(&field);
			if (err != GV_OK)
				break;
		}
	}
	buf_release(&plain);
	if (err != GV_OK) {
		json_decref(j);
		return err == GV_ERR_CRYPTO ? GV_ERR_STORE : err;
	}
	*out = j;
	return GV_OK;
}

gv_err records_put(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t expect_version, const json_t *data,
		   char id_out[RECORDS_ID_LEN + 1], int64_t *version_out, const char **why,
		   char *whybuf, size_t whylen)
{
	struct ds_ctx *c = calloc(1, sizeof(*c));
	struct store_index_entry idx[CATALOG_MAX_FIELDS];
	char *texts[CATALOG_MAX_FIELDS], tokens[CATALOG_MAX_FIELDS][65];
	struct store_record r;
	struct gv_buf body;
	size_t nidx = 0;
	gv_err err;

	*why = NULL;
	*version_out = 0;
	id_out[0] = '\0';
	buf_init(&body, 2 * BODY_MAX);
	if (!c)
		return GV_ERR_NOMEM;
	err = open_dataset(app, actor, dataset, 1, c, why);
	if (err != GV_OK)
		goto out;
	if (record_id && !record_id_ok(record_id)) {
		*why = "a record id is 1-64 characters of A-Z a-z 0-9 _ -";
		err = GV_ERR_INVALID;
		goto out;
	}
	err = catalog_record_check(&c->schema, data, whybuf, whylen);
	if (err != GV_OK) {
		*why = whybuf;
		goto out;
	}
	if (record_id) {
		snprintf(id_out, RECORDS_ID_LEN + 1, "%s", record_id);
	} else {
		unsigned char raw[16];

		util_random_bytes(raw, sizeof(raw));
		util_hex_encode(raw, sizeof(raw), id_out);
	}
	memset(&r, 0, sizeof(r));
	r.dataset_id = c->d.id;
	snprintf(r.record_id, sizeof(r.record_id), "%s", id_out);
	r.version = expect_version + 1;
	r.key_version = DATA_KEY_VERSION;
	snprintf(r.created_by, sizeof(r.created_by), "%s", actor->username);
	r.created_at = util_now_s();
	for (int i = 0; err == GV_OK && i < c->schema.nfields; i++) {
		const struct catalog_field *f = &c->schema.fields[i];
		json_t *v = json_object_get(data, f->name);

		if (!f->indexed || !v || json_is_null(v))
			continue;
		texts[nidx] = index_text(v);
		err = texts[nidx] ? datakey_blind_index(c->ikey, f->name, texts[nidx], tokens[nidx])
				  : GV_ERR_NOMEM;
		if (texts[nidx])
			util_free_secret(texts[nidx]);
		idx[nidx].field = f->name;
		idx[nidx].token = tokens[nidx];
		nidx++;
	}
	if (err == GV_OK)
		err = seal_body(c, r.record_id, r.version, data, &body);
	if (err != GV_OK)
		goto out;
	r.body = (unsigned char *)body.data;
	r.body_len = body.len;
	err = app->st->ops->record_put(app->st, &r, idx, nidx);
	if (err == GV_ERR_EXISTS)
		*why = expect_version ? "the record changed since that version was read" :
					"a record with this id exists; update it instead";
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such record";
	if (err == GV_OK)
		*version_out = r.version;
out:
	buf_release(&body);
	ctx_wipe(c);
	free(c);
	return err;
}

struct read_ctx {
	struct ds_ctx *c;
	json_t *list;            /* append here, or */
	json_t *one;             /* keep the single record */
	gv_err err;
};

static int read_one(const struct store_record *r, void *arg)
{
	struct read_ctx *x = arg;
	json_t *data = NULL, *o;

	x->err = open_body(x->c, r, &data);
	if (x->err != GV_OK)
		return 1;
	{
		char when[32];

		util_time_rfc3339(r->created_at, when);
		o = json_pack("{s:s,s:I,s:o,s:s,s:s}", "id", r->record_id, "version",
			      (json_int_t)r->version, "data", data, "created_by", r->created_by,
			      "created_at", when);
	}
	if (!o) {
		x->err = GV_ERR_NOMEM;
		return 1;
	}
	if (x->list)
		json_array_append_new(x->list, o);
	else
		x->one = o;
	return 0;
}

/* What a read asks for; one function serves the three kinds, so the access checks,
 * key handling and clean-up exist once. */
enum read_kind { READ_ONE, READ_HISTORY, READ_SEARCH };

struct read_req {
	enum read_kind kind;
	const char *record_id;       /* READ_ONE, READ_HISTORY */
	int64_t version;             /* READ_ONE: 0 = current */
	const char *field, *value;   /* READ_SEARCH */
};

/* Runs q; *out gets the single record (READ_ONE) or the array of records. */
static gv_err read_records(struct gv_app *app, const struct store_account *actor,
			   const char *dataset, const struct read_req *q, json_t **out,
			   const char **why)
{
	struct ds_ctx *c = calloc(1, sizeof(*c));
	struct read_ctx x = {c, q->kind == READ_ONE ? NULL : json_array(), NULL, GV_OK};
	const struct catalog_field *f;
	char token[65];
	int nokeys;
	gv_err err;

	*out = NULL;
	*why = NULL;
	if (!c || (q->kind != READ_ONE && !x.list)) {
		free(c);
		json_decref(x.list);
		return GV_ERR_NOMEM;
	}
	err = open_dataset(app, actor, dataset, 0, c, why);
	/* open_dataset parses the schema before it looks for keys: a dataset nothing was
	 * written to has no keys yet, and its search finds nothing. */
	nokeys = err == GV_ERR_NOT_FOUND && c->schema.nfields;
	if (q->kind == READ_SEARCH && (err == GV_OK || nokeys)) {
		f = catalog_field_find(&c->schema, q->field);
		if (!f || !f->indexed) {
			*why = "search works on indexed fields only";
			err = GV_ERR_INVALID;
		} else if (nokeys) {
			err = GV_OK;
			*why = NULL;
		} else {
			err = datakey_blind_index(c->ikey, q->field, q->value, token);
			if (err == GV_OK)
				err = app->st->ops->record_find(app->st, c->d.id, q->field, token,
								RECORDS_SEARCH_MAX, read_one, &x);
		}
	} else if (err == GV_OK && q->kind == READ_ONE) {
		err = app->st->ops->record_get(app->st, c->d.id, q->record_id, q->version, read_one, &x);
	} else if (err == GV_OK) {
		err = app->st->ops->record_history(app->st, c->d.id, q->record_id, read_one, &x);
	}
	if (err == GV_OK)
		err = x.err;
	if (err == GV_ERR_NOT_FOUND && !*why)
		*why = "no such record";
	if (err == GV_OK) {
		*out = q->kind == READ_ONE ? x.one : x.list;
	} else {
		json_decref(x.one);
		json_decref(x.list);
	}
	ctx_wipe(c);
	free(c);
	return err;
}

gv_err records_get(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t version, json_t **out, const char **why)
{
	struct read_req q = {READ_ONE, record_id, version, NULL, NULL};

	return read_records(app, actor, dataset, &q, out, why);
}

gv_err records_history(struct gv_app *app, const struct store_account *actor,
		       const char *dataset, const char *record_id, json_t **out, const char **why)
{
	struct read_req q = {READ_HISTORY, record_id, 0, NULL, NULL};
	json_t *list;
	gv_err err = read_records(app, actor, dataset, &q, &list, why);

	*out = NULL;
	if (err != GV_OK)
		return err;
	*out = json_pack("{s:s,s:o}", "id", record_id, "versions", list);
	return *out ? GV_OK : GV_ERR_NOMEM;
}

gv_err records_search(struct gv_app *app, const struct store_account *actor,
		      const char *dataset, const char *field, const char *value, json_t **out,
		      const char **why)
{
	struct read_req q = {READ_SEARCH, NULL, 0, field, value};
	json_t *list;
	gv_err err = read_records(app, actor, dataset, &q, &list, why);

	*out = NULL;
	if (err != GV_OK)
		return err;
	*out = json_pack("{s:o}", "records", list);
	return *out ? GV_OK : GV_ERR_NOMEM;
}

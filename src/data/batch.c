/* batch.c - what follows an import: batches and their reports, the rows as received,
 * quarantine corrections and discards, the provenance of a record, and export. */
#include "data/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/util.h"
#include "data/dataset.h"
#include "data/import.h"

#define EXPORT_PAGE 500

json_t *batch_json(const struct store_batch *b, const char *dataset)
{
	json_t *report = json_loads(b->report, 0, NULL);
	char sub[32], fin[32];

	util_time_rfc3339(b->submitted_at, sub);
	util_time_rfc3339(b->finished_at, fin);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:I,s:o}",
			 "id", (json_int_t)b->id, "dataset", dataset, "format", b->format,
			 "source", b->source, "submitted_by", b->submitted_by, "submitted_at", sub,
			 "finished_at", b->finished_at ? fin : NULL, "state",
			 import_batch_state_name(b->state), "state_reason", b->state_reason, "sm3",
			 b->sm3, "declared_sm3", b->declared_sm3, "bytes", (json_int_t)b->bytes,
			 "rows", (json_int_t)b->rows, "accepted", (json_int_t)b->accepted,
			 "flagged", (json_int_t)b->flagged, "quarantined", (json_int_t)b->quarantined,
			 "corrected", (json_int_t)b->corrected, "discarded", (json_int_t)b->discarded,
			 "report", report ? report : json_object());
}

/* The dataset, if actor may see its metadata (secadmin, the department). */
static gv_err visible_dataset(struct gv_app *app, const struct store_account *actor,
			      const char *name, struct store_dataset *d, const char **why)
{
	gv_err err = app->st->ops->dataset_get(app->st, name, d);

	if (err == GV_OK && !dataset_visible(actor, d))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such dataset";
	return err;
}

struct list_ctx {
	const char *dataset;
	json_t *list;
};

static int list_one(const struct store_batch *b, void *arg)
{
	struct list_ctx *c = arg;
	json_t *o = batch_json(b, c->dataset);

	return !o || json_array_append_new(c->list, o) != 0;
}

gv_err batch_list_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		       json_t **out, const char **why)
{
	struct store_dataset *d = malloc(sizeof(*d));
	struct list_ctx c = {dataset, json_array()};
	gv_err err = d && c.list ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = visible_dataset(app, actor, dataset, d, why);
	if (err == GV_OK)
		err = app->st->ops->batch_list(app->st, d->id, list_one, &c);
	if (err == GV_OK)
		*out = json_pack("{s:O}", "batches", c.list);
	if (err == GV_OK && !*out)
		err = GV_ERR_NOMEM;
	json_decref(c.list);
	free(d);
	return err;
}

gv_err batch_get_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		      int64_t id, json_t **out, const char **why)
{
	struct store_dataset *d = malloc(sizeof(*d));
	struct store_batch *b = malloc(sizeof(*b));
	gv_err err = d && b ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = visible_dataset(app, actor, dataset, d, why);
	if (err == GV_OK) {
		err = app->st->ops->batch_get(app->st, d->id, id, b);
		if (err == GV_ERR_NOT_FOUND)
			*why = "no such batch";
	}
	if (err == GV_OK) {
		*out = batch_json(b, dataset);
		err = *out ? GV_OK : GV_ERR_NOMEM;
	}
	free(d);
	free(b);
	return err;
}

/* Opens dataset for the data owner handling a batch's rows, and checks the batch is
 * the dataset's. */
static gv_err owner_open(struct gv_app *app, const struct store_account *actor, const char *dataset,
			 int64_t batch_id, int writer, struct records_ds **ds, struct store_batch *b,
			 const char **why)
{
	gv_err err = records_open(app, actor, dataset, writer, ds, why);

	if (err == GV_OK && !(actor->roles & ROLE_BIT(ROLE_DATA_OWNER))) {
		*why = "rows as received are the data owner's";
		err = GV_ERR_FORBIDDEN;
	}
	if (err == GV_OK) {
		err = app->st->ops->batch_get(app->st, records_dataset(*ds)->id, batch_id, b);
		if (err == GV_ERR_NOT_FOUND)
			*why = "no such batch";
	}
	if (err != GV_OK) {
		records_close(*ds);
		*ds = NULL;
	}
	return err;
}

/* A row as received, as JSON text when it is UTF-8, else as hex. */
static gv_err raw_json(struct records_ds *ds, const struct store_raw_row *w, json_t *o)
{
	struct gv_buf plain;
	gv_err err;

	buf_init(&plain, (size_t)1 << 30);
	err = records_open_raw(ds, w, &plain);
	if (err == GV_OK) {
		json_t *s = json_stringn(plain.data ? plain.data : "", plain.len);

		if (!s) {
			char *hex = malloc(2 * plain.len + 1);

			if (hex) {
				util_hex_encode((unsigned char *)plain.data, plain.len, hex);
				s = json_string(hex);
				free(hex);
			}
			if (s)
				json_object_set_new(o, "raw_hex", s);
		} else {
			json_object_set_new(o, "raw", s);
		}
		err = s ? GV_OK : GV_ERR_NOMEM;
	}
	if (plain.data)
		util_wipe(plain.data, plain.len);
	buf_release(&plain);
	return err;
}

static json_t *row_json(struct records_ds *ds, const struct store_raw_row *w, gv_err *err)
{
	json_t *reasons = json_loads(w->reasons ? w->reasons : "[]", 0, NULL);
	char when[32];
	json_t *o;

	util_time_rfc3339(w->resolved_at, when);
	o = json_pack("{s:I,s:I,s:s,s:o,s:s,s:s,s:s?,s:s}", "row", (json_int_t)w->row_no, "line",
		      (json_int_t)w->line_no, "status", import_raw_status_name(w->status), "reasons",
		      reasons ? reasons : json_array(), "record_id", w->record_id ? w->record_id : "",
		      "resolved_by", w->resolved_by ? w->resolved_by : "", "resolved_at",
		      w->resolved_at ? when : NULL, "resolution", w->resolution ? w->resolution : "");
	*err = o ? raw_json(ds, w, o) : GV_ERR_NOMEM;
	if (*err != GV_OK) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct rows_ctx {
	struct records_ds *ds;
	json_t *list;
	int64_t last;
	gv_err err;
};

static int rows_one(const struct store_raw_row *w, void *arg)
{
	struct rows_ctx *c = arg;
	json_t *o = row_json(c->ds, w, &c->err);

	if (!o)
		return 1;
	c->last = w->row_no;
	return json_array_append_new(c->list, o) != 0;
}

gv_err batch_rows_json(struct gv_app *app, const struct store_account *actor, const char *dataset,
		       int64_t id, int status, int64_t after, int limit, json_t **out,
		       const char **why)
{
	struct store_batch *b = malloc(sizeof(*b));
	struct rows_ctx c = {NULL, json_array(), 0, GV_OK};
	gv_err err = b && c.list ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = owner_open(app, actor, dataset, id, 0, &c.ds, b, why);
	if (err == GV_OK && b->state == BATCH_LOADING) {
		*why = "the batch is still loading";   /* its rows and ids are not yet real */
		err = GV_ERR_STATE;
	}
	if (err == GV_OK)
		err = app->st->ops->raw_row_list(app->st, id, status, after, limit, rows_one, &c);
	if (err == GV_OK)
		err = c.err;
	if (err == GV_OK) {
		*out = json_pack("{s:O,s:o}", "rows", c.list, "next",
				 (int)json_array_size(c.list) == limit ? json_integer(c.last) : json_null());
		err = *out ? GV_OK : GV_ERR_NOMEM;
	}
	json_decref(c.list);
	records_close(c.ds);
	free(b);
	return err;
}

struct one_ctx {
	struct records_ds *ds;
	json_t *row;
	int status;
	gv_err err;
};

static int one_row(const struct store_raw_row *w, void *arg)
{
	struct one_ctx *c = arg;

	c->status = w->status;
	c->row = row_json(c->ds, w, &c->err);
	return 1;
}

static int row_status(const struct store_raw_row *w, void *arg)
{
	*(int *)arg = w->status;
	return 1;
}

gv_err batch_correct(struct gv_app *app, const struct store_account *actor, const char *dataset,
		     int64_t id, int64_t row_no, const json_t *data, char rid[RECORDS_ID_LEN + 1],
		     json_t **reasons_out, const char **why)
{
	struct store_batch *b = malloc(sizeof(*b));
	struct store_index_entry idx[CATALOG_MAX_FIELDS];
	char tokens[CATALOG_MAX_FIELDS][65];
	struct records_ds *ds = NULL;
	struct store_raw_row w;
	struct store_record r;
	struct gv_buf body;
	json_t *reasons = json_array();
	size_t nidx = 0;
	int status;
	gv_err err = b && reasons ? GV_OK : GV_ERR_NOMEM;

	*why = NULL;
	*reasons_out = NULL;
	rid[0] = '\0';
	buf_init(&body, (size_t)4 << 20);
	if (err == GV_OK)
		err = owner_open(app, actor, dataset, id, 1, &ds, b, why);
	if (err == GV_OK && b->state != BATCH_COMMITTED) {
		*why = "only rows of a committed batch are corrected";
		err = GV_ERR_STATE;
	}
	if (err == GV_OK)
		err = app->st->ops->raw_row_get(app->st, id, row_no, row_status, &status);
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such row";
	if (err == GV_OK && status != RAW_QUARANTINED) {
		*why = "the row is not in quarantine (corrected or discarded already?)";
		err = GV_ERR_STATE;
	}
	if (err == GV_OK)
		err = import_check_record(app, actor, ds, data, reasons, &status);
	if (err == GV_OK && status == RAW_QUARANTINED) {
		*why = "the corrected row still fails the dataset's rules";
		*reasons_out = json_incref(reasons);
		err = GV_ERR_INVALID;
	}
	if (err == GV_OK) {
		memset(&r, 0, sizeof(r));
		r.dataset_id = records_dataset(ds)->id;
		records_new_id(r.record_id);
		r.version = 1;
		r.key_version = records_key_version(ds);
		snprintf(r.created_by, sizeof(r.created_by), "%s", actor->username);
		r.created_at = util_now_s();
		r.batch_id = id;
		r.raw_row = row_no;
		err = records_seal(ds, r.record_id, 1, data, &body, idx, tokens, &nidx);
		r.body = (unsigned char *)body.data;
		r.body_len = body.len;
	}
	if (err == GV_OK) {
		memset(&w, 0, sizeof(w));
		w.batch_id = id;
		w.row_no = row_no;
		w.status = RAW_CORRECTED;
		w.record_id = r.record_id;
		w.resolved_by = actor->username;
		w.resolved_at = util_now_s();
		w.resolution = status == RAW_FLAGGED ? "corrected (flagged by warnings)" : "corrected";
		err = app->st->ops->raw_row_resolve(app->st, &w, &r, idx, nidx);
		if (err == GV_ERR_STATE)
			*why = "the row is not in quarantine (corrected or discarded already?)";
	}
	if (err == GV_OK)
		snprintf(rid, RECORDS_ID_LEN + 1, "%s", r.record_id);
	if (body.data)
		util_wipe(body.data, body.len);
	buf_release(&body);
	json_decref(reasons);
	records_close(ds);
	free(b);
	return err;
}

gv_err batch_discard(struct gv_app *app, const struct store_account *actor, const char *dataset,
		     int64_t id, int64_t row_no, const char *reason, json_t **out, const char **why)
{
	struct store_batch *b = malloc(sizeof(*b));
	struct one_ctx c = {NULL, NULL, 0, GV_OK};
	struct store_raw_row w;
	gv_err err = b ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = owner_open(app, actor, dataset, id, 1, &c.ds, b, why);
	if (err == GV_OK && b->state != BATCH_COMMITTED) {
		*why = "only rows of a committed batch are discarded";
		err = GV_ERR_STATE;
	}
	if (err == GV_OK) {
		memset(&w, 0, sizeof(w));
		w.batch_id = id;
		w.row_no = row_no;
		w.status = RAW_DISCARDED;
		w.resolved_by = actor->username;
		w.resolved_at = util_now_s();
		w.resolution = reason;
		err = app->st->ops->raw_row_resolve(app->st, &w, NULL, NULL, 0);
		if (err == GV_ERR_STATE)
			*why = "the row is not in quarantine (corrected or discarded already?)";
	}
	if (err == GV_OK)
		err = app->st->ops->raw_row_get(app->st, id, row_no, one_row, &c);
	if (err == GV_OK)
		err = c.err;
	if (err == GV_OK)
		*out = c.row;
	else
		json_decref(c.row);
	records_close(c.ds);
	free(b);
	return err;
}

struct source_ctx {
	int64_t batch_id, row_no;
};

static int source_of(const struct store_record *r, void *arg)
{
	struct source_ctx *c = arg;

	c->batch_id = r->batch_id;
	c->row_no = r->raw_row;
	return 1;
}

gv_err batch_record_source(struct gv_app *app, const char *dataset, const char *record_id,
			   int with_raw, json_t **out, const char **why)
{
	struct store_batch *b = malloc(sizeof(*b));
	struct records_ds *ds = NULL;
	struct source_ctx src = {0, 0};
	struct one_ctx c = {NULL, NULL, 0, GV_OK};
	gv_err err = b ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = records_open(app, NULL, dataset, 0, &ds, why);
	if (err == GV_OK) {
		/* Provenance is that of the first version: later ones were edits. */
		err = records_key_version(ds)
			? app->st->ops->record_get(app->st, records_dataset(ds)->id, record_id, 1,
						   source_of, &src)
			: GV_ERR_NOT_FOUND;
		if (err == GV_ERR_NOT_FOUND)
			*why = "no such record";
	}
	if (err == GV_OK && !src.batch_id) {
		*why = "the record was written through the API, not imported";
		err = GV_ERR_NOT_FOUND;
	}
	if (err == GV_OK)
		err = app->st->ops->batch_get(app->st, records_dataset(ds)->id, src.batch_id, b);
	c.ds = ds;
	if (err == GV_OK)
		err = app->st->ops->raw_row_get(app->st, src.batch_id, src.row_no, one_row, &c);
	if (err == GV_OK)
		err = c.err;
	/* The row as received is the unmasked original: the data owner's alone. */
	if (err == GV_OK && !with_raw) {
		json_object_del(c.row, "raw");
		json_object_del(c.row, "raw_hex");
	}
	if (err == GV_OK) {
		*out = json_pack("{s:s,s:o,s:O}", "id", record_id, "batch", batch_json(b, dataset),
				 "row", c.row);
		err = *out ? GV_OK : GV_ERR_NOMEM;
	}
	json_decref(c.row);
	records_close(ds);
	free(b);
	return err;
}

struct export_ctx {
	struct records_ds *ds;
	batch_export_fn keep;
	void *keep_ctx;
	struct gv_buf *out;
	struct crypto_sm3_stream *sm3;
	char last[RECORDS_ID_LEN + 1];
	int n;
	int64_t written;
	gv_err err;
};

static int export_one(const struct store_record *r, void *arg)
{
	struct export_ctx *c = arg;
	json_t *o = NULL;
	char *line = NULL;

	int keep = 0;

	c->err = records_record_json(c->ds, r, &o);
	if (c->err == GV_OK) {
		keep = c->keep(c->keep_ctx, o);
		c->err = keep < 0 ? GV_ERR_STORE : GV_OK;
	}
	if (c->err == GV_OK && keep) {
		line = json_dumps(o, JSON_COMPACT);
		c->err = line ? GV_OK : GV_ERR_NOMEM;
	}
	if (c->err == GV_OK && line)
		c->err = buf_append(c->out, line, strlen(line));
	if (c->err == GV_OK && line)
		c->err = buf_append(c->out, "\n", 1);
	if (line)
		util_free_secret(line);
	json_decref(o);
	snprintf(c->last, sizeof(c->last), "%s", r->record_id);
	c->n++;
	c->written += keep > 0 && c->err == GV_OK;
	return c->err != GV_OK;
}

gv_err batch_export(struct gv_app *app, const char *dataset, batch_export_fn keep, void *ctx,
		    struct gv_buf *out, char sm3[65], int64_t *count, const char **why)
{
	struct export_ctx c = {NULL, keep, ctx, out, NULL, "", 0, 0, GV_OK};
	gv_err err;

	*why = NULL;
	*count = 0;
	sm3[0] = '\0';
	err = records_open(app, NULL, dataset, 0, &c.ds, why);
	if (err == GV_OK)
		err = crypto_sm3_stream_new(&c.sm3);
	while (err == GV_OK && records_key_version(c.ds)) {
		/* A rotation may have re-sealed rows ahead under a newer key meanwhile. */
		err = records_refresh_keys(c.ds);
		if (err != GV_OK)
			break;
		c.n = 0;
		err = app->st->ops->record_scan(app->st, records_dataset(c.ds)->id, c.last, EXPORT_PAGE,
						 export_one, &c);
		if (err == GV_OK)
			err = c.err;
		if (c.n < EXPORT_PAGE)
			break;
	}
	if (err == GV_ERR_TOO_LARGE)
		*why = "the export is larger than the server buffers; export fewer records";
	*count = c.written;
	if (err == GV_OK) {
		crypto_sm3_stream_update(c.sm3, out->data ? out->data : "", out->len);
		crypto_sm3_stream_hex(c.sm3, sm3);
	}
	crypto_sm3_stream_free(c.sm3);
	records_close(c.ds);
	return err;
}

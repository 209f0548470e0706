/* rekey.c - data-key rotation with background re-sealing, and master-key rotation. */
#include "data/rekey.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"
#include "common/worker.h"
#include "crypto/datakey.h"
#include "data/dataset.h"
#include "data/records.h"

#define PASS_IDLE_S 2         /* worker sleep when there was nothing to re-seal */
#define PASS_LIMIT 256        /* items re-sealed per dataset per pass */
#define UNUSED_MAX 256        /* versions remembered as unused between passes */
#define META_CHECK "kek_check"
#define META_SERVICE "service_keys"
#define SERVICE_AAD "govvault service keys v1"

gv_err rekey_rotate_dataset(struct gv_app *app, const struct store_account *actor,
			    const char *dataset, int *version, const char **why)
{
	struct records_ds *ds = NULL;
	char obj[96], note[64];
	gv_err err;

	*version = 0;
	*why = NULL;
	/* The service opens the keys; the route admits secadmin only, for any department. */
	err = records_open(app, NULL, dataset, 0, &ds, why);
	if (err == GV_OK && !records_key_version(ds)) {
		*why = "the dataset has no records yet: its first key is made with its first write";
		err = GV_ERR_STATE;
	}
	for (int v = 1; err == GV_OK && v < records_key_version(ds); v++) {
		unsigned char w[INDEXKEY_WRAPPED_LEN];
		size_t len;

		if (app->st->ops->datakey_get(app->st, records_dataset(ds)->id, 0, v, w, sizeof(w),
					      &len) == GV_OK) {
			*why = "the previous rotation is still re-sealing; try again when GET "
			       "/v1/datasets/{name}/keys lists one version";
			err = GV_ERR_STATE;
		}
	}
	if (err == GV_OK) {
		err = records_add_key(ds, version);
		if (err == GV_ERR_STATE)
			*why = "another rotation of this dataset happened at the same time";
	}
	if (err == GV_OK) {
		snprintf(obj, sizeof(obj), "dataset:%s", dataset);
		snprintf(note, sizeof(note), "data key version %d; older versions re-sealed in the "
			 "background", *version);
		err = audit_event(app->audit, actor->username, "key.rotated", obj, note);
	}
	records_close(ds);
	return err;
}

struct status_ctx {
	struct gv_app *app;
	int64_t ds;
	json_t *list;
};

gv_err rekey_status_json(struct gv_app *app, const char *dataset, json_t **out, const char **why)
{
	struct records_ds *ds = NULL;
	json_t *list = json_array();
	gv_err err = list ? GV_OK : GV_ERR_NOMEM;
	int kv = 0;

	*out = NULL;
	*why = NULL;
	if (err == GV_OK)
		err = records_open(app, NULL, dataset, 0, &ds, why);
	if (err == GV_OK)
		kv = records_key_version(ds);
	for (int v = 1; err == GV_OK && v <= kv; v++) {
		unsigned char w[INDEXKEY_WRAPPED_LEN];
		int64_t rec = 0, raw = 0;
		size_t len;
		gv_err e = app->st->ops->datakey_get(app->st, records_dataset(ds)->id, 0, v, w,
						      sizeof(w), &len);

		if (e == GV_ERR_NOT_FOUND)
			continue;   /* retired */
		err = e;
		if (err == GV_OK)
			err = app->st->ops->datakey_usage(app->st, records_dataset(ds)->id, v, &rec, &raw);
		if (err == GV_OK && json_array_append_new(list, json_pack("{s:i,s:I,s:I}", "version", v,
									 "records", (json_int_t)rec,
									 "raw_rows", (json_int_t)raw)))
			err = GV_ERR_NOMEM;
	}
	if (err == GV_OK) {
		*out = json_pack("{s:s,s:i,s:O}", "dataset", dataset, "current", kv, "versions", list);
		err = *out ? GV_OK : GV_ERR_NOMEM;
	}
	json_decref(list);
	records_close(ds);
	return err;
}

/* Re-sealing: the stale items are copied out of the store's callback first (a
 * callback must not call the store), then each is replaced only if it is still under
 * the version it was read with (a concurrent re-seal or write wins). */
struct stale {
	struct store_record rec;
	struct store_raw_row raw;
	unsigned char *bytes;
};

struct stale_list {
	struct stale *items;
	int n, cap;
	gv_err err;
};

static struct stale *stale_add(struct stale_list *l, const unsigned char *bytes, size_t len)
{
	struct stale *s;

	if (l->n == l->cap) {
		l->err = GV_ERR_NOMEM;   /* sized by the limit: cannot happen */
		return NULL;
	}
	s = &l->items[l->n];
	memset(s, 0, sizeof(*s));
	s->bytes = malloc(len ? len : 1);
	if (!s->bytes) {
		l->err = GV_ERR_NOMEM;
		return NULL;
	}
	if (len)
		memcpy(s->bytes, bytes, len);
	l->n++;
	return s;
}

static int collect_record(const struct store_record *r, void *arg)
{
	struct stale *s = stale_add(arg, r->body, r->body_len);

	if (!s)
		return 1;
	s->rec = *r;
	s->rec.body = s->bytes;
	return 0;
}

static int collect_raw(const struct store_raw_row *w, void *arg)
{
	struct stale *s = stale_add(arg, w->sealed, w->sealed_len);

	if (!s)
		return 1;
	s->raw = *w;
	s->raw.sealed = s->bytes;
	s->raw.reasons = s->raw.record_id = s->raw.resolved_by = s->raw.resolution = NULL;
	return 0;
}

static void stale_clear(struct stale_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->items[i].bytes);
	l->n = 0;
}

/* Re-seals what l holds (records or raw rows) under ds's current key. */
static gv_err reseal(struct gv_app *app, struct records_ds *ds, struct stale_list *l, int raw,
		     int *done)
{
	gv_err err = GV_OK;

	for (int i = 0; err == GV_OK && i < l->n; i++) {
		struct stale *s = &l->items[i];
		struct gv_buf out;

		buf_init(&out, ((size_t)1 << 30) + 64);
		if (raw) {
			struct store_raw_row n = s->raw;

			err = records_rekey_raw(ds, &s->raw, &out);
			n.sealed = (unsigned char *)out.data;
			n.sealed_len = out.len;
			n.key_version = records_key_version(ds);
			if (err == GV_OK)
				err = app->st->ops->raw_row_rekey(app->st, &n, s->raw.key_version);
		} else {
			struct store_record n = s->rec;

			err = records_rekey_record(ds, &s->rec, &out);
			n.body = (unsigned char *)out.data;
			n.body_len = out.len;
			n.key_version = records_key_version(ds);
			if (err == GV_OK)
				err = app->st->ops->record_rekey(app->st, &n, s->rec.key_version);
		}
		if (err == GV_ERR_STATE)
			err = GV_OK;   /* changed meanwhile */
		if (out.data)
			util_wipe(out.data, out.len);
		buf_release(&out);
		(*done)++;
	}
	return err;
}

/* Versions seen unused on the previous pass: retired if still unused on this one. */
static struct {
	int64_t ds;
	int version;
} unused_prev[UNUSED_MAX], unused_now[UNUSED_MAX];
static int nprev, nnow;

static int was_unused(int64_t ds, int version)
{
	for (int i = 0; i < nprev; i++)
		if (unused_prev[i].ds == ds && unused_prev[i].version == version)
			return 1;
	return 0;
}

static gv_err retire_unused(struct gv_app *app, struct records_ds *ds)
{
	const struct store_dataset *d = records_dataset(ds);
	int loading = 0;
	gv_err err = app->st->ops->batch_loading(app->st, d->id, &loading);

	/* An import seals under the version current when it began, to its end. */
	if (err != GV_OK || loading)
		return err;

	for (int v = 1; err == GV_OK && v < records_key_version(ds); v++) {
		unsigned char w[INDEXKEY_WRAPPED_LEN];
		int64_t rec = 1, raw = 1;
		size_t len;
		char obj[96], note[64];

		if (app->st->ops->datakey_get(app->st, d->id, 0, v, w, sizeof(w), &len) != GV_OK)
			continue;
		err = app->st->ops->datakey_usage(app->st, d->id, v, &rec, &raw);
		if (err != GV_OK || rec || raw)
			continue;
		if (!was_unused(d->id, v)) {
			if (nnow < UNUSED_MAX) {
				unused_now[nnow].ds = d->id;
				unused_now[nnow++].version = v;
			}
			continue;
		}
		err = app->st->ops->datakey_retire(app->st, d->id, v);
		if (err == GV_ERR_STATE) {   /* used again meanwhile: a later pass retries */
			err = GV_OK;
			continue;
		}
		snprintf(obj, sizeof(obj), "dataset:%s", d->name);
		snprintf(note, sizeof(note), "data key version %d deleted: nothing uses it", v);
		if (err == GV_OK)
			err = audit_event(app->audit, "system", "key.retired", obj, note);
	}
	return err;
}

struct names_ctx {
	char (*names)[64];
	int n, cap;
};

static int name_one(const struct store_dataset *d, void *arg)
{
	struct names_ctx *c = arg;

	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 64;
		char (*n)[64] = realloc(c->names, (size_t)cap * sizeof(*n));

		if (!n)
			return 1;
		c->names = n;
		c->cap = cap;
	}
	snprintf(c->names[c->n++], 64, "%s", d->name);
	return 0;
}

gv_err rekey_pass(struct gv_app *app, int limit, int *work)
{
	struct names_ctx names = {NULL, 0, 0};
	gv_err err = app->st->ops->dataset_list(app->st, name_one, &names);
	int failed = 0;

	*work = 0;
	nnow = 0;
	struct stale_list l = {calloc((size_t)limit, sizeof(struct stale)), 0, limit, GV_OK};

	if (!l.items)
		err = GV_ERR_NOMEM;
	/* One dataset's failure does not hold up the others: each is tried every pass. */
	for (int i = 0; l.items && i < names.n; i++) {
		struct records_ds *ds = NULL;
		const char *why;
		int done = 0;

		if (err != GV_OK) {
			log_error("key rotation: re-sealing dataset %s failed: %s", names.names[i - 1],
				  gv_strerror(err));
			failed = 1;
			err = GV_OK;
		}
		err = records_open(app, NULL, names.names[i], 0, &ds, &why);
		if (err == GV_OK && records_key_version(ds) > 1) {
			int64_t id = records_dataset(ds)->id;
			int kv = records_key_version(ds);

			err = app->st->ops->record_stale_keys(app->st, id, kv, limit, collect_record, &l);
			if (err == GV_OK)
				err = l.err;
			if (err == GV_OK)
				err = reseal(app, ds, &l, 0, &done);
			stale_clear(&l);
			if (err == GV_OK)
				err = app->st->ops->raw_row_stale_keys(app->st, id, kv, limit, collect_raw, &l);
			if (err == GV_OK)
				err = l.err;
			if (err == GV_OK)
				err = reseal(app, ds, &l, 1, &done);
			stale_clear(&l);
			if (err == GV_OK && !done)
				err = retire_unused(app, ds);
			*work += done;
		}
		records_close(ds);
	}
	free(l.items);
	if (err != GV_OK && names.n)
		log_error("key rotation: re-sealing dataset %s failed: %s", names.names[names.n - 1],
			  gv_strerror(err));
	if (failed && err == GV_OK)
		err = GV_ERR_STORE;
	memcpy(unused_prev, unused_now, sizeof(unused_now[0]) * (size_t)nnow);
	nprev = nnow;
	free(names.names);
	return err;
}

/* One worker run: a pass, and more at once when it found work. */
static int rekey_run(void *arg)
{
	int work = 0;

	if (rekey_pass(arg, PASS_LIMIT, &work) != GV_OK) {
		log_error("key rotation: a re-sealing pass failed; retrying later");
		work = 0;
	}
	return work > 0;
}

gv_err rekey_worker_start(struct gv_app *app, struct gv_worker **out)
{
	return worker_start(rekey_run, app, PASS_IDLE_S, out);
}

/* Master-key rotation. */

struct wrapped_list {
	int64_t *ds;
	int *kind, *version;
	unsigned char **wrapped;
	size_t *len;
	size_t n, cap;
	const unsigned char *old_kek, *new_kek;
	gv_err err;
};

static int rewrap_one(int64_t ds, int kind, int version, const unsigned char *wrapped, size_t len,
		      void *arg)
{
	struct wrapped_list *l = arg;
	enum datakey_kind k = kind ? DATAKEY_INDEX : DATAKEY_DATA;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *a = realloc(l->ds, cap * sizeof(*l->ds)), *b, *c, *d, *e;

		if (a)
			l->ds = a;
		b = realloc(l->kind, cap * sizeof(*l->kind));
		if (b)
			l->kind = b;
		c = realloc(l->version, cap * sizeof(*l->version));
		if (c)
			l->version = c;
		d = realloc(l->wrapped, cap * sizeof(*l->wrapped));
		if (d)
			l->wrapped = d;
		e = realloc(l->len, cap * sizeof(*l->len));
		if (e)
			l->len = e;
		if (!a || !b || !c || !d || !e) {
			l->err = GV_ERR_NOMEM;
			return 1;
		}
		l->cap = cap;
	}
	l->wrapped[l->n] = malloc(INDEXKEY_WRAPPED_LEN);
	if (!l->wrapped[l->n]) {
		l->err = GV_ERR_NOMEM;
		return 1;
	}
	l->err = datakey_rewrap(l->old_kek, l->new_kek, k, ds, version, wrapped, len,
				l->wrapped[l->n]);
	if (l->err != GV_OK) {
		free(l->wrapped[l->n]);
		return 1;
	}
	l->ds[l->n] = ds;
	l->kind[l->n] = kind;
	l->version[l->n] = version;
	l->len[l->n] = (kind ? INDEXKEY_LEN : DATAKEY_LEN) + CRYPTO_SEAL_OVERHEAD;
	l->n++;
	return 0;
}

static void list_free(struct wrapped_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->wrapped[i]);
	free(l->ds);
	free(l->kind);
	free(l->version);
	free(l->wrapped);
	free(l->len);
}

/* The service keys of k sealed under wrap. */
static gv_err service_seal(const struct gv_keys *k, const unsigned char wrap[16],
			   unsigned char out[KEYS_SERVICE_LEN + CRYPTO_SEAL_OVERHEAD])
{
	unsigned char blob[KEYS_SERVICE_LEN];
	gv_err err;

	keys_service_pack(k, blob);
	err = crypto_sm4gcm_seal(wrap, SERVICE_AAD, strlen(SERVICE_AAD), blob, sizeof(blob), out);
	util_wipe(blob, sizeof(blob));
	return err;
}

static void next_path(struct gv_app *app, char *out, size_t len)
{
	snprintf(out, len, "%s.next", app->cfg.server_key);
}

static gv_err sync_dir_of(const char *path)
{
	char dir[GV_PATH_MAX + 16];   /* the key path and its ".next" */
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return GV_ERR_IO;
	if (fsync(fd) != 0) {
		close(fd);
		return GV_ERR_IO;
	}
	close(fd);
	return GV_OK;
}

gv_err rekey_rotate_master(struct gv_app *app, const struct store_account *actor, int *n,
			   const char **why)
{
	unsigned char master[KEYS_MASTER_LEN];
	unsigned char service[KEYS_SERVICE_LEN + CRYPTO_SEAL_OVERHEAD];
	struct gv_keys *nk = calloc(1, sizeof(*nk));
	struct wrapped_list l;
	char path[GV_PATH_MAX + 8], check[65], note[96];
	const char *names[2] = {META_SERVICE, META_CHECK};
	const unsigned char *vals[2] = {service, (const unsigned char *)check};
	size_t lens[2] = {sizeof(service), 64};
	gv_err err = nk ? GV_OK : GV_ERR_NOMEM;

	*n = 0;
	*why = NULL;
	memset(&l, 0, sizeof(l));
	next_path(app, path, sizeof(path));
	if (access(path, F_OK) == 0) {
		/* It may be the only copy of the key the database now needs. */
		*why = "an earlier rotation is not settled (keys/server.key.next exists); restart the "
		       "service, which completes or discards it";
		free(nk);
		return GV_ERR_STATE;
	}
	util_random_bytes(master, sizeof(master));
	/* Nothing may unwrap or create a dataset key while the KEK changes. */
	pthread_rwlock_wrlock(&app->keys_lock);
	if (err == GV_OK)
		err = keys_derive(master, nk);
	if (err == GV_OK)
		err = service_seal(&app->keys, nk->service_wrap, service);
	if (err == GV_OK)
		err = keys_kek_check(nk, check);
	l.old_kek = app->keys.data_kek;
	l.new_kek = nk ? nk->data_kek : NULL;
	if (err == GV_OK)
		err = app->st->ops->datakey_list(app->st, rewrap_one, &l);
	if (err == GV_OK)
		err = l.err;
	if (err == GV_OK) {
		err = keys_write_file(path, master);
		if (err != GV_OK)
			*why = "cannot write the new master key file";
	}
	if (err == GV_OK)
		err = sync_dir_of(path);
	if (err == GV_OK) {
		/* On failure the .next file stays: whether the commit happened is for the
		 * next start to tell from the check value, not for a guess here. */
		err = app->st->ops->datakey_replace_all(app->st, l.ds, l.kind, l.version,
							(const unsigned char *const *)l.wrapped, l.len,
							l.n, names, vals, lens, 2);
	}
	if (err == GV_OK) {
		/* From here on the database needs the new key: the file must follow even if
		 * this rename fails (the next start completes it from the .next file). */
		if (rename(path, app->cfg.server_key) != 0 || sync_dir_of(app->cfg.server_key) != GV_OK)
			log_error("master key rotation: renaming %s failed (%s); the next start "
				  "completes it", path, strerror(errno));
		memcpy(app->keys.data_kek, nk->data_kek, sizeof(nk->data_kek));
		memcpy(app->keys.service_wrap, nk->service_wrap, sizeof(nk->service_wrap));
		*n = (int)l.n;
	}
	pthread_rwlock_unlock(&app->keys_lock);
	util_wipe(master, sizeof(master));
	util_wipe(service, sizeof(service));
	if (nk)
		keys_wipe(nk);
	free(nk);
	list_free(&l);
	if (err == GV_OK) {
		snprintf(note, sizeof(note), "new master key; %d dataset keys rewrapped", *n);
		err = audit_event(app->audit, actor->username, "key.master_rotated", "keys:master", note);
	}
	return err;
}

/* 1 if keys match the database's check value. */
static int check_matches(const struct gv_keys *k, const unsigned char *stored, size_t len)
{
	char mine[65];

	if (keys_kek_check(k, mine) != GV_OK || len != 64)
		return 0;
	return util_ct_equal(mine, stored, 64);
}

gv_err rekey_startup(struct gv_app *app, char *errmsg, size_t errlen)
{
	unsigned char stored[128], service[KEYS_SERVICE_LEN + CRYPTO_SEAL_OVERHEAD];
	unsigned char blob[KEYS_SERVICE_LEN];
	char path[GV_PATH_MAX + 8], check[65];
	struct gv_keys *next = calloc(1, sizeof(*next));
	size_t len = 0;
	gv_err err = next ? GV_OK : GV_ERR_NOMEM;

	errmsg[0] = '\0';
	next_path(app, path, sizeof(path));
	if (err == GV_OK)
		err = app->st->ops->meta_get(app->st, META_CHECK, stored, sizeof(stored), &len);
	if (err == GV_ERR_NOT_FOUND) {
		/* First start of this database (or of this version): remember the key. */
		err = keys_kek_check(&app->keys, check);
		if (err == GV_OK)
			err = app->st->ops->meta_put(app->st, META_CHECK, (unsigned char *)check, 64);
		unlink(path);   /* never committed */
	} else if (err == GV_OK && check_matches(&app->keys, stored, len)) {
		unlink(path);   /* a rotation that did not reach its commit */
	} else if (err == GV_OK && keys_load(path, next) == GV_OK && check_matches(next, stored, len)) {
		/* Committed, but the rename did not happen: complete it. */
		if (rename(path, app->cfg.server_key) != 0 || sync_dir_of(app->cfg.server_key) != GV_OK) {
			snprintf(errmsg, errlen, "cannot complete the master key rotation: rename %s",
				 path);
			err = GV_ERR_IO;
		} else {
			memcpy(app->keys.data_kek, next->data_kek, sizeof(next->data_kek));
			memcpy(app->keys.service_wrap, next->service_wrap, sizeof(next->service_wrap));
			log_info("completed an interrupted master key rotation");
			app->rotation_completed = 1;   /* audited by govvaultd once the log is open */
		}
	} else if (err == GV_OK) {
		snprintf(errmsg, errlen, "the master key %s does not belong to this database "
			 "(restore the key file that was in use with it)", app->cfg.server_key);
		err = GV_ERR_CONFIG;
	}
	if (err == GV_OK) {
		err = app->st->ops->meta_get(app->st, META_SERVICE, service, sizeof(service), &len);
		if (err == GV_OK)
			err = len == sizeof(service)
				? crypto_sm4gcm_open(app->keys.service_wrap, SERVICE_AAD, strlen(SERVICE_AAD),
						     service, len, blob)
				: GV_ERR_CRYPTO;
		if (err == GV_OK)
			keys_service_unpack(blob, &app->keys);
		else if (err == GV_ERR_NOT_FOUND)
			err = GV_OK;   /* never rotated: the service keys derive from the master */
		else
			snprintf(errmsg, errlen, "the stored service keys do not open with the master key");
	}
	if (err != GV_OK && !errmsg[0])
		snprintf(errmsg, errlen, "cannot check the master key against the database: %s",
			 gv_strerror(err));
	util_wipe(blob, sizeof(blob));
	if (next)
		keys_wipe(next);
	free(next);
	return err;
}

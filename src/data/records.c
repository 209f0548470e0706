/* records.c - record versions: schema check, sealing by grade, blind index, reads. */
#include "data/records.h"

#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"
#include "crypto/datakey.h"
#include "data/catalog.h"
#include "data/dataset.h"
#include "data/jsonw.h"
#include "data/rawblock.h"

#define BODY_MAX ((size_t)1 << 20)
#define RECORDS_OLD_KEYS 8   /* older data-key versions a handle opens */

/* Storage formats, the first byte of a stored body. */
#define FMT_PLAIN 'P'    /* grade 1: JSON */
#define FMT_SPLIT 'S'    /* grade 2: u32le n, the clear fields' JSON (n bytes), then the
			  * sensitive fields' JSON sealed once */
#define FMT_FIELDS 'F'   /* grade 2 before FMT_SPLIT, read only: JSON, sensitive values as
			  * {"$sm4": "<hex>"}, each sealed alone */
#define FMT_RECORD 'R'   /* grade 3: the JSON sealed whole */
#define SPLIT_HEAD 5     /* the format byte and n */
/* The associated data's field of a FMT_SPLIT seal: no field name has '$'. */
#define SPLIT_FIELD "$sensitive"

/* Raw rows of imports are sealed under the data key in a place no record can have:
 * '#' is not allowed in record ids. */
#define RAW_FIELD "raw"
#define BLOCK_FIELD "rawblock"
/* How a FMT_FIELDS body wrote a sealed value around its hex. */
#define SEALED_HEAD "{\"$sm4\":\""
#define SEALED_TAIL "\"}"

/* A dataset's row and parsed schema, shared read-only by the cache and every handle
 * opened from it (a copy is 50 KB: a read paid two of them before). */
struct ds_meta {
	int refs;                             /* atomic */
	struct store_dataset d;
	struct catalog_schema schema;
};

static void meta_unref(struct ds_meta *m)
{
	if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(m);
}

static struct ds_meta *meta_ref(struct ds_meta *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_ACQ_REL);
	return m;
}

struct records_ds {
	struct gv_app *app;
	struct ds_meta *m;                    /* shared; never written once loaded */
	int kv;                               /* current data-key version: writes use it */
	unsigned char key[DATAKEY_LEN];
	/* Older versions still stored, loaded up front: reads run inside store callbacks,
	 * which must not call the store again. */
	unsigned char old_keys[RECORDS_OLD_KEYS][DATAKEY_LEN];
	int old_kv[RECORDS_OLD_KEYS];         /* 0 = slot unused */
	unsigned char ikey[INDEXKEY_LEN];
	/* The keys set up for use, made on first need: keying a cipher costs more than
	 * sealing a kilobyte with it. */
	struct crypto_gcm *gcm;
	struct crypto_gcm *gcm_old[RECORDS_OLD_KEYS];
	struct crypto_hmac *mac;
	/* The last block of raw rows opened, decompressed: a listing of a batch's rows
	 * reads each block once, not once per row.  Wiped on close. */
	struct gv_buf block;
	int64_t block_batch, block_first;
	int block_kv;
	struct gv_buf sens;   /* the sensitive fields' JSON being sealed: wiped after each use */
};

/* The cipher of the current data key is kept by the thread when its handle closes:
 * keying SM4-GCM costs more than reading a record with it, and a thread mostly serves
 * one dataset after another.  Freed (and wiped) when the thread ends. */
struct gcm_stash {
	struct crypto_gcm *g;
	unsigned char key[DATAKEY_LEN];
};
static pthread_key_t stash_key;
static int stash_ok;
static pthread_once_t stash_once = PTHREAD_ONCE_INIT;

/* Drops what the thread keeps. */
static void stash_clear(struct gcm_stash *t)
{
	crypto_gcm_free(t->g);
	t->g = NULL;
	util_wipe(t->key, sizeof(t->key));
}

static void stash_free(void *p)
{
	stash_clear(p);
	free(p);
}

static void stash_init(void)
{
	stash_ok = pthread_key_create(&stash_key, stash_free) == 0;
}

static struct gcm_stash *stash_get(int create)
{
	struct gcm_stash *t;

	(void)pthread_once(&stash_once, stash_init);
	if (!stash_ok)
		return NULL;
	t = pthread_getspecific(stash_key);
	if (!t && create && (t = calloc(1, sizeof(*t))) && pthread_setspecific(stash_key, t) != 0) {
		free(t);
		t = NULL;
	}
	return t;
}

/* Takes the thread's cipher when it is keyed with c's current data key; one keyed
 * otherwise (another dataset, or a version since rotated) is dropped.  A key thus stays
 * in a thread's memory until the thread next opens a dataset's records, or ends: the
 * same bound as the datasets cached between requests. */
static void stash_take(struct records_ds *c)
{
	struct gcm_stash *t = stash_get(0);

	if (!t || !t->g)
		return;
	if (util_ct_equal(t->key, c->key, sizeof(c->key))) {
		c->gcm = t->g;
		t->g = NULL;
	}
	stash_clear(t);
}

/* Gives c's current cipher to the thread (replacing the one it had). */
static void stash_put(struct records_ds *c)
{
	struct gcm_stash *t = stash_get(1);

	if (!t)
		return;
	stash_clear(t);
	t->g = c->gcm;
	memcpy(t->key, c->key, sizeof(t->key));
	c->gcm = NULL;
}

void records_close(struct records_ds *c)
{
	if (!c)
		return;
	if (c->gcm)
		stash_put(c);
	crypto_gcm_free(c->gcm);
	for (int i = 0; i < RECORDS_OLD_KEYS; i++)
		crypto_gcm_free(c->gcm_old[i]);
	crypto_hmac_free(c->mac);
	buf_release(&c->block);
	buf_release(&c->sens);
	meta_unref(c->m);
	util_wipe(c->key, sizeof(c->key));
	util_wipe(c->old_keys, sizeof(c->old_keys));
	util_wipe(c->ikey, sizeof(c->ikey));
	free(c);
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

/* A dataset key of version (kind 0 data, 1 index, whose only version is 0), made on
 * first use when create is set. */
static gv_err load_key_locked(struct gv_app *app, int64_t ds, int kind, int version, int create,
			      unsigned char *key)
{
	unsigned char wrapped[INDEXKEY_WRAPPED_LEN];
	enum datakey_kind k = kind ? DATAKEY_INDEX : DATAKEY_DATA;
	size_t len = 0;
	gv_err err = app->st->ops->datakey_get(app->st, ds, kind, version, wrapped, sizeof(wrapped), &len);

	if (err == GV_ERR_NOT_FOUND && create) {
		err = datakey_new(app->keys.data_kek, k, ds, version, key, wrapped);
		if (err == GV_OK)
			err = app->st->ops->datakey_put(app->st, ds, kind, version, wrapped,
						       (kind ? INDEXKEY_LEN : DATAKEY_LEN) + CRYPTO_SEAL_OVERHEAD);
		if (err == GV_ERR_EXISTS)   /* another writer made it first: use theirs */
			return load_key_locked(app, ds, kind, version, 0, key);
		return err;
	}
	if (err != GV_OK)
		return err;
	return datakey_unwrap(app->keys.data_kek, k, ds, version, wrapped, len, key);
}

static gv_err load_key(struct gv_app *app, int64_t ds, int kind, int version, int create,
		       unsigned char *key)
{
	gv_err err;

	pthread_rwlock_rdlock(&app->keys_lock);
	err = load_key_locked(app, ds, kind, version, create, key);
	pthread_rwlock_unlock(&app->keys_lock);
	return err;
}

/* The data key a stored value was sealed under. */
static gv_err key_for(struct records_ds *c, int version, struct crypto_gcm **g)
{
	if (version == c->kv) {
		if (!c->gcm)
			stash_take(c);
		if (!c->gcm && crypto_gcm_new(c->key, &c->gcm) != GV_OK)
			return GV_ERR_CRYPTO;
		*g = c->gcm;
		return GV_OK;
	}
	for (int i = 0; i < RECORDS_OLD_KEYS; i++)
		if (c->old_kv[i] == version) {
			if (!c->gcm_old[i] && crypto_gcm_new(c->old_keys[i], &c->gcm_old[i]) != GV_OK)
				return GV_ERR_CRYPTO;
			*g = c->gcm_old[i];
			return GV_OK;
		}
	return GV_ERR_STORE;   /* retired, or older than any rotation leaves in use */
}

/* The index key, set up. */
static struct crypto_hmac *index_mac(struct records_ds *c)
{
	if (!c->mac && crypto_hmac_new(c->ikey, sizeof(c->ikey), &c->mac) != GV_OK)
		return NULL;
	return c->mac;
}

/* The versions below the current one that still exist (rotation in progress). */
static gv_err load_old_keys(struct records_ds *c)
{
	int slot = 0;

	for (int v = c->kv - 1; v >= 1 && slot < RECORDS_OLD_KEYS; v--) {
		gv_err err = load_key(c->app, c->m->d.id, 0, v, 0, c->old_keys[slot]);

		if (err == GV_ERR_NOT_FOUND)
			continue;
		if (err != GV_OK)
			return err;
		c->old_kv[slot++] = v;
	}
	return GV_OK;
}

/* Loaded datasets: the row, the parsed schema and the unwrapped keys, reused while the
 * store's change generation stays the same (every write of a dataset or of one of its
 * keys moves it).  Reads otherwise pay two store reads, a JSON parse and two unwraps
 * each.  Entries hold key material and are wiped when replaced or flushed. */
#define DS_CACHE 64

static pthread_mutex_t ds_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const struct gv_app *app;
	uint64_t gen;
	int64_t used;
	struct records_ds *c;          /* a template; NULL = free slot */
} ds_cache[DS_CACHE];
static int64_t ds_clock;

/* The fields of a handle that a template carries (not its keyed contexts). */
static void ds_copy(struct records_ds *to, const struct records_ds *from)
{
	meta_unref(to->m);
	to->m = meta_ref(from->m);
	to->kv = from->kv;
	memcpy(to->key, from->key, sizeof(to->key));
	memcpy(to->old_keys, from->old_keys, sizeof(to->old_keys));
	memcpy(to->old_kv, from->old_kv, sizeof(to->old_kv));
	memcpy(to->ikey, from->ikey, sizeof(to->ikey));
}

static int ds_cache_get(struct gv_app *app, const char *name, uint64_t gen, struct records_ds *c)
{
	int hit = 0;

	pthread_mutex_lock(&ds_cache_lock);
	for (int i = 0; i < DS_CACHE && !hit; i++)
		if (ds_cache[i].c && ds_cache[i].app == app && ds_cache[i].gen == gen &&
		    strcmp(ds_cache[i].c->m->d.name, name) == 0) {
			ds_copy(c, ds_cache[i].c);
			ds_cache[i].used = ++ds_clock;
			hit = 1;
		}
	pthread_mutex_unlock(&ds_cache_lock);
	return hit;
}

static void ds_cache_put(struct gv_app *app, uint64_t gen, const struct records_ds *c)
{
	struct records_ds *t = calloc(1, sizeof(*t));
	int slot = 0;

	if (!t)
		return;
	ds_copy(t, c);
	pthread_mutex_lock(&ds_cache_lock);
	for (int i = 0; i < DS_CACHE; i++) {
		/* The same dataset's older entry, a free slot, or the least recently used. */
		if (ds_cache[i].c && ds_cache[i].app == app && strcmp(ds_cache[i].c->m->d.name, c->m->d.name) == 0) {
			slot = i;
			break;
		}
		if (!ds_cache[i].c || ds_cache[i].used < ds_cache[slot].used)
			slot = i;
	}
	records_close(ds_cache[slot].c);
	ds_cache[slot].app = app;
	ds_cache[slot].gen = gen;
	ds_cache[slot].used = ++ds_clock;
	ds_cache[slot].c = t;
	pthread_mutex_unlock(&ds_cache_lock);
}

void records_cache_flush(void)
{
	struct gcm_stash *t = stash_get(0);

	if (t)
		stash_clear(t);
	pthread_mutex_lock(&ds_cache_lock);
	for (int i = 0; i < DS_CACHE; i++) {
		records_close(ds_cache[i].c);
		ds_cache[i].c = NULL;
	}
	pthread_mutex_unlock(&ds_cache_lock);
}

/* Fills c from the store: row, schema, keys (made when writer and missing). */
static gv_err ds_load(struct gv_app *app, const char *name, int writer, struct records_ds *c)
{
	char buf[256];
	json_t *j;
	struct ds_meta *m = calloc(1, sizeof(*m));
	gv_err err = m ? app->st->ops->dataset_get(app->st, name, &m->d) : GV_ERR_NOMEM;

	/* A fresh row: the handle's old one may be shared with the cache and others. */
	if (m)
		m->refs = 1;
	meta_unref(c->m);
	c->m = m;
	if (err != GV_OK)
		return err;
	j = json_loads(c->m->d.schema, 0, NULL);
	err = j ? catalog_schema_parse(j, &c->m->schema, buf, sizeof(buf)) : GV_ERR_STORE;
	json_decref(j);
	if (err != GV_OK)
		return err == GV_ERR_NOT_FOUND ? GV_ERR_STORE : err;
	/* Keys are made only for a writer whose grade is confirmed (checked by the caller
	 * before: see records_open). */
	if (writer && !c->m->d.grade_confirmed)
		writer = 0;
	err = app->st->ops->datakey_latest(app->st, c->m->d.id, 0, &c->kv);
	if (err == GV_ERR_NOT_FOUND) {
		c->kv = 1;
		err = GV_OK;
	}
	if (err == GV_OK)
		err = load_key(app, c->m->d.id, 0, c->kv, writer, c->key);
	if (err == GV_OK)
		err = load_key(app, c->m->d.id, 1, 0, writer, c->ikey);
	if (err == GV_OK)
		err = load_old_keys(c);
	if (err == GV_ERR_NOT_FOUND) {
		c->kv = 0;                 /* nothing was ever written: every read finds nothing */
		err = GV_OK;
	}
	return err;
}

gv_err records_open(struct gv_app *app, const struct store_account *actor, const char *name,
		    int writer, struct records_ds **out, const char **why)
{
	struct records_ds *c = calloc(1, sizeof(*c));
	uint64_t gen;
	gv_err err = GV_OK;

	*out = NULL;
	*why = NULL;
	if (!c)
		return GV_ERR_NOMEM;
	c->app = app;
	buf_init(&c->sens, BODY_MAX);
	gen = app->st->ops->generation(app->st);
	if (!ds_cache_get(app, name, gen, c)) {
		err = ds_load(app, name, 0, c);   /* keys are made only after the checks below */
		/* Cached only when nothing changed while it loaded, and the keys exist. */
		if (err == GV_OK && c->kv && app->st->ops->generation(app->st) == gen)
			ds_cache_put(app, gen, c);
	}
	if (err == GV_OK && actor && !dataset_visible(actor, &c->m->d))
		err = GV_ERR_NOT_FOUND;
	if (err == GV_ERR_NOT_FOUND)
		*why = "no such dataset";
	if (err != GV_OK)
		goto out;
	err = GV_ERR_FORBIDDEN;
	if (actor && (actor->roles & ROLE_ADMIN_MASK)) {
		*why = "administrators do not read or write data";
		goto out;
	}
	if (actor && writer && !(actor->roles & ROLE_BIT(ROLE_DATA_OWNER))) {
		*why = "only the department's data owner writes records";
		goto out;
	}
	if (writer && !c->m->d.grade_confirmed) {
		*why = "the security administrator must confirm the dataset's grade first";
		err = GV_ERR_STATE;
		goto out;
	}
	if (actor && !writer && actor->clearance < c->m->d.grade) {
		*why = "the account's clearance is below the dataset's grade";
		goto out;
	}
	err = GV_OK;
	if (writer && !c->kv) {
		/* A cached reader's view of a dataset never written to: make its keys now. */
		err = ds_load(app, name, 1, c);
	}
out:
	if (err == GV_OK)
		*out = c;
	else
		records_close(c);
	return err;
}

gv_err records_describe(struct gv_app *app, const char *name, struct store_dataset *d,
			struct catalog_schema *schema)
{
	struct records_ds *c = NULL;
	const char *why;
	gv_err err = records_open(app, NULL, name, 0, &c, &why);

	if (err == GV_OK) {
		if (d)
			*d = c->m->d;
		if (schema)
			*schema = c->m->schema;
	}
	records_close(c);
	return err;
}

const struct store_dataset *records_dataset(const struct records_ds *c)
{
	return &c->m->d;
}

const struct catalog_schema *records_schema(const struct records_ds *c)
{
	return &c->m->schema;
}

int records_key_version(const struct records_ds *c)
{
	return c->kv;
}

gv_err records_refresh_keys(struct records_ds *c)
{
	int latest = 0;
	gv_err err;

	if (!c->kv)
		return GV_OK;
	err = c->app->st->ops->datakey_latest(c->app->st, c->m->d.id, 0, &latest);
	while (err == GV_OK && c->kv < latest) {
		/* The current key becomes the newest old one, as in records_add_key. */
		unsigned char key[DATAKEY_LEN];

		err = load_key(c->app, c->m->d.id, 0, c->kv + 1, 0, key);
		if (err != GV_OK)
			break;
		crypto_gcm_free(c->gcm_old[RECORDS_OLD_KEYS - 1]);
		memmove(c->old_keys[1], c->old_keys[0], sizeof(c->old_keys[0]) * (RECORDS_OLD_KEYS - 1));
		memmove(c->old_kv + 1, c->old_kv, sizeof(c->old_kv[0]) * (RECORDS_OLD_KEYS - 1));
		memmove(c->gcm_old + 1, c->gcm_old, sizeof(c->gcm_old[0]) * (RECORDS_OLD_KEYS - 1));
		memcpy(c->old_keys[0], c->key, sizeof(c->key));
		c->old_kv[0] = c->kv;
		c->gcm_old[0] = c->gcm;
		c->gcm = NULL;
		memcpy(c->key, key, sizeof(key));
		util_wipe(key, sizeof(key));
		c->kv++;
	}
	return err;
}

gv_err records_add_key(struct records_ds *c, int *version)
{
	unsigned char wrapped[DATAKEY_WRAPPED_LEN], key[DATAKEY_LEN];
	int v = c->kv + 1;
	gv_err err;

	*version = 0;
	if (!c->kv)
		return GV_ERR_STATE;
	pthread_rwlock_rdlock(&c->app->keys_lock);
	err = datakey_new(c->app->keys.data_kek, DATAKEY_DATA, c->m->d.id, v, key, wrapped);
	if (err == GV_OK)
		err = c->app->st->ops->datakey_put(c->app->st, c->m->d.id, 0, v, wrapped, sizeof(wrapped));
	pthread_rwlock_unlock(&c->app->keys_lock);
	if (err == GV_OK) {
		/* The handle keeps reading what the previous key sealed. */
		crypto_gcm_free(c->gcm_old[RECORDS_OLD_KEYS - 1]);
		memmove(c->old_keys[1], c->old_keys[0], sizeof(c->old_keys[0]) * (RECORDS_OLD_KEYS - 1));
		memmove(c->old_kv + 1, c->old_kv, sizeof(c->old_kv[0]) * (RECORDS_OLD_KEYS - 1));
		memmove(c->gcm_old + 1, c->gcm_old, sizeof(c->gcm_old[0]) * (RECORDS_OLD_KEYS - 1));
		memcpy(c->old_keys[0], c->key, sizeof(c->key));
		c->old_kv[0] = c->kv;
		c->gcm_old[0] = c->gcm;
		c->gcm = NULL;
		memcpy(c->key, key, sizeof(key));
		c->kv = v;
		*version = v;
	}
	util_wipe(key, sizeof(key));
	return err == GV_ERR_EXISTS ? GV_ERR_STATE : err;
}

/* 8 bytes of time and 8 random ones; import.c's sort entries hold ids of this length. */
_Static_assert(RECORDS_NEW_ID_HEX == 2 * 16, "a new record id is 16 bytes in hex");

void records_new_id(char out[RECORDS_ID_LEN + 1])
{
	unsigned char raw[RECORDS_NEW_ID_HEX / 2];
	int64_t ms = util_now_us() / 1000;

	/* Time first, like a UUIDv7: new records go to the end of the primary-key B-tree
	 * instead of to random pages, which is most of what an import writes.  The 64 bits
	 * after it keep ids unguessable; the nonce generator gives them at a thirtieth of
	 * the cost of strong random bytes. */
	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)(ms >> (56 - 8 * i));
	crypto_nonce(raw + 8, 8);
	util_hex_encode(raw, sizeof(raw), out);
}

gv_err records_token(struct records_ds *c, const char *field, const json_t *v, char out[65])
{
	struct crypto_hmac *m = index_mac(c);
	char *text;
	gv_err err;

	if (!m)
		return GV_ERR_CRYPTO;
	/* Strings are indexed as they are (no copy), numbers and booleans as their JSON. */
	if (json_is_string(v))
		return datakey_blind_index_mac(m, field, json_string_value(v), out);
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	err = text ? datakey_blind_index_mac(m, field, text, out) : GV_ERR_NOMEM;
	if (text)
		util_free_secret(text);
	return err;
}

gv_err records_token_text(struct records_ds *c, const char *field, const char *text, char out[65])
{
	struct crypto_hmac *m = index_mac(c);

	return m ? datakey_blind_index_mac(m, field, text, out) : GV_ERR_CRYPTO;
}

/* How much a format protects: plain < sensitive fields sealed < all sealed. */
static int fmt_strength(char fmt)
{
	return fmt == FMT_RECORD ? 2 : fmt == FMT_SPLIT || fmt == FMT_FIELDS ? 1 : 0;
}

/* Writes the members of data as two compact objects: the non-null values of sensitive
 * fields into sens, the others into clear. */
static gv_err split_members(const struct catalog_schema *schema, const json_t *data,
			    struct gv_buf *clear, struct gv_buf *sens)
{
	const char *k;
	json_t *v;
	int nclear = 0, nsens = 0, next = 0;
	gv_err err = buf_append(clear, "{", 1);

	if (err == GV_OK)
		err = buf_append(sens, "{", 1);
	json_object_foreach((json_t *)data, k, v) {
		const struct catalog_field *f = catalog_field_find_next(schema, k, &next);

		if (err != GV_OK)
			return err;
		if (f && f->sensitive && !json_is_null(v))
			err = jsonw_append_member(sens, k, v, !nsens++);
		else
			err = jsonw_append_member(clear, k, v, !nclear++);
	}
	if (err == GV_OK)
		err = buf_append(clear, "}", 1);
	return err == GV_OK ? buf_append(sens, "}", 1) : err;
}

/* Seals data into body (with its format byte) for version, under the current key, in
 * the format of the dataset's grade or, when stronger, in floor's strength (so that
 * re-sealing a version written under a higher grade never exposes it).  A grade-2 body
 * seals its sensitive values once, together: sealing each alone cost an AEAD message
 * per value, the larger part of an import's sealing. */
static gv_err seal_body(struct records_ds *c, const char *rid, int64_t version, const json_t *data,
			char floor, struct gv_buf *body)
{
	struct crypto_gcm *g = NULL;
	struct gv_buf text;
	gv_err err = GV_OK;
	char fmt = c->m->d.grade >= 3 ? FMT_RECORD : c->m->d.grade == 2 ? FMT_SPLIT : FMT_PLAIN;

	if (fmt_strength(floor) > fmt_strength(fmt))
		fmt = fmt_strength(floor) == 2 ? FMT_RECORD : FMT_SPLIT;
	if (fmt != FMT_PLAIN)
		err = key_for(c, c->kv, &g);
	if (err == GV_OK)
		err = buf_append(body, &fmt, 1);
	if (err != GV_OK)
		return err;
	if (fmt == FMT_PLAIN)
		return jsonw_append(body, data);
	if (fmt == FMT_SPLIT) {
		static const unsigned char n0[SPLIT_HEAD - 1];
		size_t at = body->len;

		err = buf_append(body, n0, sizeof(n0));
		if (err == GV_OK)
			err = split_members(&c->m->schema, data, body, &c->sens);
		if (err == GV_OK) {
			util_put_le((unsigned char *)body->data + at, body->len - at - sizeof(n0), 4);
			err = datakey_seal_gcm(g, c->m->d.id, rid, SPLIT_FIELD, version, c->sens.data,
					       c->sens.len, body);
		}
		if (c->sens.data)
			util_wipe(c->sens.data, c->sens.len);
		c->sens.len = 0;
		return err;
	}
	buf_init(&text, BODY_MAX);
	err = jsonw_append(&text, data);
	if (err == GV_OK)
		err = datakey_seal_gcm(g, c->m->d.id, rid, "", version, text.data, text.len, body);
	if (text.data)
		util_wipe(text.data, text.len);
	buf_release(&text);
	return err;
}

/* A value's JSON text (a stored scalar, or a sealed field opened) as a value.  Strings
 * without escapes, integers and literals, the common cases, are made directly: setting
 * up jansson's parser costs more than such a value. */
static json_t *field_value(const char *p, size_t n)
{
	int plain = n >= 2 && p[0] == '"' && p[n - 1] == '"' &&
		    jsonw_plain_len(p + 1, n - 2) == n - 2;
	size_t i = n && p[0] == '-';
	size_t digits = n - i;

	if (plain)
		return json_stringn(p + 1, n - 2);   /* checks the UTF-8 */
	/* Up to 18 digits cannot overflow; no leading zero, as JSON says. */
	if (digits >= 1 && digits <= 18 && (p[i] != '0' || digits == 1)) {
		json_int_t v = 0;

		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			v = v * 10 + (p[i] - '0');
		if (i == n)
			return json_integer(p[0] == '-' ? -v : v);
	}
	if (n == 4 && memcmp(p, "true", 4) == 0)
		return json_true();
	if (n == 5 && memcmp(p, "false", 5) == 0)
		return json_false();
	if (n == 4 && memcmp(p, "null", 4) == 0)
		return json_null();
	return json_loadb(p, n, JSON_DECODE_ANY, NULL);
}

/* The value of field sealed as hex (hexlen digits at hex), opened.  Values of up to
 * FIELD_SMALL sealed bytes, nearly all, are decoded on the stack.  Only a sensitive
 * field of the schema (fixed at registration) was ever sealed alone, and only a scalar:
 * any other name is a seal moved here from elsewhere (an S body's sealed part has the
 * field "$sensitive", an R body's ""), whose contents a rotation would otherwise write
 * back in clear. */
#define FIELD_SMALL 512
static gv_err open_field(struct records_ds *c, const struct store_record *r, struct crypto_gcm *key,
			 const char *field, const char *hex, size_t hexlen, json_t **val)
{
	const struct catalog_field *f = catalog_field_find(&c->m->schema, field);
	unsigned char small[FIELD_SMALL], *sealed = small;
	size_t n = hexlen / 2;
	struct gv_buf plain;
	gv_err err = GV_ERR_STORE;

	*val = NULL;
	if (hexlen % 2 != 0 || !f || !f->sensitive)
		return GV_ERR_STORE;
	if (n > sizeof(small) && !(sealed = malloc(n)))
		return GV_ERR_NOMEM;
	buf_init(&plain, BODY_MAX);
	if (util_hex_decode_n(hex, sealed, n) == GV_OK)
		err = datakey_open_gcm(key, c->m->d.id, r->record_id, field, r->version, sealed, n,
				       &plain);
	if (err == GV_OK) {
		*val = field_value(plain.data ? plain.data : "", plain.len);
		err = *val && !json_is_object(*val) && !json_is_array(*val) ? GV_OK : GV_ERR_STORE;
		if (err != GV_OK) {
			json_decref(*val);
			*val = NULL;
		}
	}
	if (sealed != small)
		free(sealed);
	buf_release(&plain);   /* wipes */
	return err;
}

/* Where the scalar value at p ends: after its closing quote, or at the next ',' or
 * '}'.  NULL for an object or array, or text that ends first. */
static const char *scalar_end(const char *p, const char *end)
{
	if (p >= end || *p == '{' || *p == '[')
		return NULL;
	if (*p != '"') {
		while (p < end && *p != ',' && *p != '}')
			p++;
		return p < end ? p : NULL;
	}
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\' && ++p == end)
			return NULL;
	return p < end ? p + 1 : NULL;
}

/* The data of a body as jsonw writes it: a compact object of scalars, each sensitive
 * value of a FMT_FIELDS body as {"$sm4":"<hex>"}, opened on the way.  That skips
 * jansson's parser, which cost a tenth of a masked read, and the objects it made for
 * the sealed values.  *out stays NULL (GV_OK) for any other text, which the caller
 * reads with jansson. */
static gv_err body_read(struct records_ds *c, const struct store_record *r,
			struct crypto_gcm *key, const char *p, size_t n, json_t **out)
{
	static const char sm4[] = SEALED_HEAD;
	const char *end = p + n;
	json_t *j;
	gv_err err = GV_OK;

	*out = NULL;
	if (n < 2 || *p++ != '{')
		return GV_OK;
	if (!(j = json_object()))
		return GV_ERR_NOMEM;
	if (*p == '}' && p + 1 == end)
		goto done;
	for (;;) {
		char name[CATALOG_NAME_LEN];
		const char *k = p + 1, *v;
		json_t *val;

		if (*p != '"')
			goto other;
		p = k + jsonw_plain_len(k, (size_t)(end - k));
		if (end - p < 2 || *p != '"' || p[1] != ':' || (size_t)(p - k) >= sizeof(name))
			goto other;
		memcpy(name, k, (size_t)(p - k));
		name[p - k] = '\0';
		p += 2;
		if (r->body[0] == FMT_FIELDS && (size_t)(end - p) > sizeof(sm4) - 1 &&
		    memcmp(p, sm4, sizeof(sm4) - 1) == 0) {
			const char *h = p + sizeof(sm4) - 1;

			for (v = h; v < end && *v != '"'; v++)
				;
			if ((size_t)(end - v) < sizeof(SEALED_TAIL) - 1 ||
			    memcmp(v, SEALED_TAIL, sizeof(SEALED_TAIL) - 1) != 0)
				goto other;
			err = open_field(c, r, key, name, h, (size_t)(v - h), &val);
			if (err != GV_OK)
				goto other;
			v += sizeof(SEALED_TAIL) - 1;
		} else if (!(v = scalar_end(p, end)) || !(val = field_value(p, (size_t)(v - p)))) {
			goto other;
		}
		if (json_object_set_new(j, name, val) != 0)
			goto other;   /* a key that is not UTF-8: jansson says why */
		p = v;
		if (p < end && *p == ',' && ++p < end)
			continue;
		if (p + 1 == end && *p == '}')
			goto done;
		goto other;
	}
done:
	*out = j;
	return GV_OK;
other:   /* text in another form (err GV_OK), or a sealed value that does not open */
	json_decref(j);
	return err;
}

/* The object of JSON text: as the writer makes it through body_read, in any other
 * form through jansson (a FMT_FIELDS body's sealed values opened on the way). */
static gv_err read_object(struct records_ds *c, const struct store_record *r,
			  struct crypto_gcm *key, const char *text, size_t tlen, json_t **out)
{
	const char *k;
	json_t *j = NULL, *v;
	gv_err err = body_read(c, r, key, text, tlen, &j);

	*out = j;
	if (j || err != GV_OK)
		return err;
	j = json_loadb(text, tlen, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return GV_ERR_STORE;
	}
	if (r->body[0] == FMT_FIELDS)
		json_object_foreach(j, k, v) {
			const char *hex = json_string_value(json_object_get(v, "$sm4"));
			json_t *val;

			if (!hex)
				continue;
			err = open_field(c, r, key, k, hex, strlen(hex), &val);
			if (err != GV_OK)
				break;
			json_object_set_new(j, k, val);
		}
	if (err != GV_OK) {
		json_decref(j);
		return err;
	}
	*out = j;
	return GV_OK;
}

/* The data of a FMT_SPLIT body: its sensitive fields opened, then its clear ones.  The
 * clear part is not authenticated: one that gives a sensitive field a value is refused,
 * and a null there does not replace a sealed value. */
static gv_err split_read(struct records_ds *c, const struct store_record *r,
			 struct crypto_gcm *key, struct gv_buf *plain, json_t **out)
{
	size_t n = r->body_len >= SPLIT_HEAD ? (size_t)util_get_le(r->body + 1, 4) : 0;
	json_t *clear = NULL;
	gv_err err = GV_ERR_STORE;

	*out = NULL;
	if (r->body_len >= SPLIT_HEAD && n <= r->body_len - SPLIT_HEAD)
		err = datakey_open_gcm(key, c->m->d.id, r->record_id, SPLIT_FIELD, r->version,
				       r->body + SPLIT_HEAD + n, r->body_len - SPLIT_HEAD - n, plain);
	if (err == GV_OK)
		err = read_object(c, r, key, plain->data ? plain->data : "", plain->len, out);
	if (err == GV_OK)
		err = read_object(c, r, key, (const char *)r->body + SPLIT_HEAD, n, &clear);
	/* The writer puts a sensitive field in the clear part only when it is null. */
	for (int i = 0; err == GV_OK && i < c->m->schema.nfields; i++) {
		const struct catalog_field *f = &c->m->schema.fields[i];
		json_t *v = f->sensitive ? json_object_get(clear, f->name) : NULL;

		if (v && !json_is_null(v))
			err = GV_ERR_STORE;
	}
	if (err == GV_OK && json_object_update_missing(*out, clear) != 0)
		err = GV_ERR_NOMEM;
	json_decref(clear);
	if (err != GV_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return err;
}

/* The JSON data of a stored body (new reference). */
static gv_err open_body(struct records_ds *c, const struct store_record *r, json_t **out)
{
	struct crypto_gcm *key = NULL;
	struct gv_buf plain;
	char fmt = r->body_len ? (char)r->body[0] : 0;
	gv_err err = GV_OK;

	*out = NULL;
	if (fmt != FMT_PLAIN && fmt != FMT_SPLIT && fmt != FMT_FIELDS && fmt != FMT_RECORD)
		return GV_ERR_STORE;
	if (fmt != FMT_PLAIN) {
		err = key_for(c, r->key_version, &key);
		if (err != GV_OK)
			return err;
	}
	buf_init(&plain, BODY_MAX);
	if (fmt == FMT_SPLIT) {
		err = split_read(c, r, key, &plain, out);
	} else if (fmt == FMT_RECORD) {
		err = datakey_open_gcm(key, c->m->d.id, r->record_id, "", r->version, r->body + 1,
				       r->body_len - 1, &plain);
		if (err == GV_OK)
			err = read_object(c, r, key, plain.data ? plain.data : "", plain.len, out);
	} else {
		err = read_object(c, r, key, (const char *)r->body + 1, r->body_len - 1, out);
	}
	buf_release(&plain);
	return err == GV_ERR_CRYPTO ? GV_ERR_STORE : err;
}

gv_err records_seal(struct records_ds *c, const char *rid, int64_t version, const json_t *data,
		    struct gv_buf *body, struct store_index_entry *idx, char (*tokens)[65],
		    size_t *nidx)
{
	gv_err err = GV_OK;

	*nidx = 0;
	for (int i = 0; err == GV_OK && i < c->m->schema.nfields; i++) {
		const struct catalog_field *f = &c->m->schema.fields[i];
		json_t *v = json_object_get(data, f->name);

		if (!f->indexed || !v || json_is_null(v))
			continue;
		err = records_token(c, f->name, v, tokens[*nidx]);
		idx[*nidx].field = f->name;
		idx[*nidx].token = tokens[*nidx];
		(*nidx)++;
	}
	if (err == GV_OK)
		err = seal_body(c, rid, version, data, FMT_PLAIN, body);
	return err;
}

/* Associated data of a raw row: record id "#<batch>" (no record id has '#'), field
 * "raw", version = the row number. */
static void raw_place(int64_t batch_id, char rid[32])
{
	snprintf(rid, 32, "#%lld", (long long)batch_id);
}

/* Seals under the current key (g, or c's own handle) what belongs at (batch, field,
 * version). */
static gv_err raw_seal(struct records_ds *c, struct crypto_gcm *g, int64_t batch_id,
		       const char *field, int64_t version, const void *data, size_t len,
		       struct gv_buf *out)
{
	char rid[32];
	gv_err err = g ? GV_OK : key_for(c, c->kv, &g);

	raw_place(batch_id, rid);
	return err == GV_OK ? datakey_seal_gcm(g, c->m->d.id, rid, field, version, data, len, out) : err;
}

gv_err records_seal_raw(struct records_ds *c, int64_t batch_id, int64_t row_no, const void *raw,
			size_t len, struct gv_buf *out)
{
	return raw_seal(c, NULL, batch_id, RAW_FIELD, row_no, raw, len, out);
}

gv_err records_gcm_new(struct records_ds *c, struct crypto_gcm **out)
{
	*out = NULL;
	return c->kv ? crypto_gcm_new(c->key, out) : GV_ERR_STATE;
}

gv_err records_seal_raw_block(struct records_ds *c, struct crypto_gcm *g, int64_t batch_id,
			      int64_t first_row, const void *compressed, size_t len,
			      struct gv_buf *out)
{
	/* The codec byte leads the compressed form: sealed with it, it cannot be changed. */
	return raw_seal(c, g, batch_id, BLOCK_FIELD, first_row, compressed, len, out);
}

/* What w's sealed bytes hold, opened: the row itself, or (block_row set) the block's
 * format byte and compressed rows. */
static gv_err raw_unseal(struct records_ds *c, const struct store_raw_row *w, struct gv_buf *out)
{
	struct crypto_gcm *key;
	char rid[32];
	gv_err err = key_for(c, w->key_version, &key);

	raw_place(w->batch_id, rid);
	if (err == GV_OK)
		err = datakey_open_gcm(key, c->m->d.id, rid, w->block_row ? BLOCK_FIELD : RAW_FIELD,
				       w->block_row ? w->block_row : w->row_no, w->sealed,
				       w->sealed_len, out);
	return err == GV_ERR_CRYPTO ? GV_ERR_STORE : err;
}

/* Makes c->block the decompressed block holding w. */
static gv_err block_load(struct records_ds *c, const struct store_raw_row *w)
{
	struct gv_buf sealed;
	gv_err err;

	if (c->block.len && c->block_batch == w->batch_id && c->block_first == w->block_row &&
	    c->block_kv == w->key_version)
		return GV_OK;
	buf_release(&c->block);
	buf_init(&c->block, RAWBLOCK_PLAIN_MAX);
	buf_init(&sealed, w->sealed_len);
	err = raw_unseal(c, w, &sealed);
	if (err == GV_OK)
		err = rawblock_decompress(sealed.data, sealed.len, &c->block);
	buf_release(&sealed);
	if (err != GV_OK) {
		buf_release(&c->block);
		return err == GV_ERR_NOMEM ? err : GV_ERR_STORE;
	}
	c->block_batch = w->batch_id;
	c->block_first = w->block_row;
	c->block_kv = w->key_version;
	return GV_OK;
}

gv_err records_open_raw(struct records_ds *c, const struct store_raw_row *w, struct gv_buf *out)
{
	const void *row;
	size_t len;
	gv_err err;

	if (!w->block_row)
		return raw_unseal(c, w, out);
	err = block_load(c, w);
	if (err == GV_OK)
		err = rawblock_find(c->block.data, c->block.len, w->row_no, &row, &len);
	if (err == GV_OK)
		err = buf_append(out, row, len);
	return err == GV_ERR_NOT_FOUND ? GV_ERR_STORE : err;
}

gv_err records_rekey_record(struct records_ds *c, const struct store_record *r, struct gv_buf *body)
{
	json_t *data = NULL;
	char why[256];
	gv_err err = open_body(c, r, &data);

	/* Only data the schema accepts is sealed again: a member it does not know would go
	 * into the clear part of a grade-2 body.  The reason names fields, never values. */
	if (err == GV_OK && records_check(c, data, why, sizeof(why)) != GV_OK) {
		log_warn("key rotation: record %s version %lld of dataset %s fails the schema "
			 "check (%s); not re-sealed", r->record_id, (long long)r->version,
			 c->m->d.name, why);
		err = GV_ERR_STORE;
	}
	if (err == GV_OK)
		err = seal_body(c, r->record_id, r->version, data, (char)r->body[0], body);
	json_decref(data);
	return err;
}

gv_err records_rekey_raw(struct records_ds *c, const struct store_raw_row *w, struct gv_buf *out)
{
	struct gv_buf plain;
	gv_err err;

	buf_init(&plain, (size_t)1 << 30);
	err = raw_unseal(c, w, &plain);
	if (err == GV_OK)
		err = raw_seal(c, NULL, w->batch_id, w->block_row ? BLOCK_FIELD : RAW_FIELD,
			       w->block_row ? w->block_row : w->row_no, plain.data, plain.len, out);
	if (plain.data)
		util_wipe(plain.data, plain.len);
	buf_release(&plain);
	return err;
}

gv_err records_check(struct records_ds *c, const json_t *data, char *whybuf, size_t whylen)
{
	return catalog_record_check(&c->m->schema, data, whybuf, whylen);
}

static gv_err put_record(struct gv_app *app, const struct store_account *actor, const char *by,
			 const char *dataset, const char *record_id, int64_t expect_version,
			 const json_t *data, char id_out[RECORDS_ID_LEN + 1], int64_t *version_out,
			 const char **why, char *whybuf, size_t whylen)
{
	struct records_ds *c = NULL;
	struct store_index_entry idx[CATALOG_MAX_FIELDS];
	char tokens[CATALOG_MAX_FIELDS][65];
	struct store_record r;
	struct gv_buf body;
	size_t nidx = 0;
	gv_err err;

	*why = NULL;
	*version_out = 0;
	id_out[0] = '\0';
	buf_init(&body, 2 * BODY_MAX);
	err = records_open(app, actor, dataset, 1, &c, why);
	if (err != GV_OK)
		goto out;
	if (record_id && !record_id_ok(record_id)) {
		*why = "a record id is 1-64 characters of A-Z a-z 0-9 _ -";
		err = GV_ERR_INVALID;
		goto out;
	}
	err = catalog_record_check(&c->m->schema, data, whybuf, whylen);
	if (err != GV_OK) {
		*why = whybuf;
		goto out;
	}
	if (record_id)
		snprintf(id_out, RECORDS_ID_LEN + 1, "%s", record_id);
	else
		records_new_id(id_out);
	memset(&r, 0, sizeof(r));
	r.dataset_id = c->m->d.id;
	snprintf(r.record_id, sizeof(r.record_id), "%s", id_out);
	r.version = expect_version + 1;
	r.key_version = c->kv;
	snprintf(r.created_by, sizeof(r.created_by), "%s", by);
	r.created_at = util_now_s();
	err = records_seal(c, r.record_id, r.version, data, &body, idx, tokens, &nidx);
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
	records_close(c);
	return err;
}

gv_err records_put(struct gv_app *app, const struct store_account *actor, const char *dataset,
		   const char *record_id, int64_t expect_version, const json_t *data,
		   char id_out[RECORDS_ID_LEN + 1], int64_t *version_out, const char **why,
		   char *whybuf, size_t whylen)
{
	return put_record(app, actor, actor->username, dataset, record_id, expect_version, data,
			  id_out, version_out, why, whybuf, whylen);
}

gv_err records_update_as(struct gv_app *app, const char *by, const char *dataset,
			 const char *record_id, int64_t expect_version, const json_t *data,
			 int64_t *version_out, const char **why, char *whybuf, size_t whylen)
{
	char id[RECORDS_ID_LEN + 1];

	if (expect_version < 1) {
		*why = "an update names the version it read";
		return GV_ERR_INVALID;
	}
	return put_record(app, NULL, by, dataset, record_id, expect_version, data, id, version_out,
			  why, whybuf, whylen);
}

gv_err records_record_json(struct records_ds *c, const struct store_record *r, json_t **out)
{
	json_t *data = NULL, *src;
	char when[32];
	gv_err err = open_body(c, r, &data);

	*out = NULL;
	if (err != GV_OK)
		return err;
	util_time_rfc3339(r->created_at, when);
	src = r->batch_id ? json_pack("{s:I,s:I}", "batch", (json_int_t)r->batch_id, "row",
				      (json_int_t)r->raw_row) : json_null();
	*out = json_pack("{s:s,s:I,s:o,s:s,s:s,s:o}", "id", r->record_id, "version",
			 (json_int_t)r->version, "data", data, "created_by", r->created_by,
			 "created_at", when, "source", src ? src : json_null());
	return *out ? GV_OK : GV_ERR_NOMEM;
}

/* Stored versions copied out of the store's callback: decrypting and decoding them
 * happens after the store's lock is released, so reads on other threads proceed
 * meanwhile instead of queueing behind one thread's decryption. */
struct read_ctx {
	struct store_record *rows;
	size_t n, cap;
	gv_err err;
};

static int read_one(const struct store_record *r, void *arg)
{
	struct read_ctx *x = arg;
	struct store_record *copy;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 4;
		struct store_record *t = realloc(x->rows, cap * sizeof(*t));

		if (!t) {
			x->err = GV_ERR_NOMEM;
			return 1;
		}
		x->rows = t;
		x->cap = cap;
	}
	copy = &x->rows[x->n];
	*copy = *r;
	copy->body = malloc(r->body_len ? r->body_len : 1);
	if (!copy->body) {
		x->err = GV_ERR_NOMEM;
		return 1;
	}
	if (r->body_len)
		memcpy(copy->body, r->body, r->body_len);
	x->n++;
	return 0;
}

static void read_ctx_free(struct read_ctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->rows[i].body_len && x->rows[i].body[0] == FMT_PLAIN)
			util_wipe(x->rows[i].body, x->rows[i].body_len);   /* clear text */
		free(x->rows[i].body);
	}
	free(x->rows);
}

/* What a read asks for; one function serves the kinds, so the access checks, key
 * handling and clean-up exist once. */
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
	struct records_ds *c = NULL;
	struct read_ctx x = {NULL, 0, 0, GV_OK};
	json_t *list = q->kind == READ_ONE ? NULL : json_array(), *one = NULL;
	const struct catalog_field *f;
	char token[65];
	gv_err err;

	*out = NULL;
	*why = NULL;
	if (q->kind != READ_ONE && !list)
		return GV_ERR_NOMEM;
	err = records_open(app, actor, dataset, 0, &c, why);
	if (err == GV_OK && q->kind == READ_SEARCH) {
		f = catalog_field_find(&c->m->schema, q->field);
		if (!f || !f->indexed) {
			*why = "search works on indexed fields only";
			err = GV_ERR_INVALID;
		} else if (c->kv) {   /* a dataset nothing was written to has no keys yet */
			err = records_token_text(c, q->field, q->value, token);
			if (err == GV_OK)
				err = app->st->ops->record_find(app->st, c->m->d.id, q->field, token,
								RECORDS_SEARCH_MAX, read_one, &x);
		}
	} else if (err == GV_OK && !c->kv) {
		err = GV_ERR_NOT_FOUND;
	} else if (err == GV_OK && q->kind == READ_ONE) {
		err = app->st->ops->record_get(app->st, c->m->d.id, q->record_id, q->version, read_one, &x);
	} else if (err == GV_OK) {
		err = app->st->ops->record_history(app->st, c->m->d.id, q->record_id, read_one, &x);
	}
	if (err == GV_OK)
		err = x.err;
	for (size_t i = 0; err == GV_OK && i < x.n; i++) {
		json_t *o = NULL;

		err = records_record_json(c, &x.rows[i], &o);
		if (err == GV_OK && list)
			json_array_append_new(list, o);
		else if (err == GV_OK)
			one = o;
	}
	read_ctx_free(&x);
	if (err == GV_ERR_NOT_FOUND && !*why)
		*why = "no such record";
	if (err == GV_OK) {
		*out = q->kind == READ_ONE ? one : list;
	} else {
		json_decref(one);
		json_decref(list);
	}
	records_close(c);
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

/* service.c - data services: the compiled table of services and consumers, consumer
 * authentication, and the work of one call.
 *
 * The table is rebuilt after any change of a service or consumer (share_invalidate)
 * or of a dataset (the store's generation), and shared under a read lock.  A call
 * takes a reference to its service's entry, so a rebuild meanwhile frees the entry
 * only after the call has finished with it. */
#include "share/share.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/log.h"
#include "common/util.h"
#include "data/records.h"
#include "auth/role.h"
#include "policy/policy.h"
#include "share/shared.h"

/* ---- the compiled table ---- */

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct share_service **svcs;        /* by name, then version */
static size_t nsvcs;
static struct store_consumer *cons;        /* by client id */
static size_t ncons;
static int cache_valid;
static uint64_t cache_gen;

static void entry_unref(struct share_service *e)
{
	if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		params_spec_free(e->spec);
		free(e->d);
		free(e);
	}
}

void share_service_put(struct share_service *s)
{
	entry_unref(s);
}

/* Drops the table; write lock held. */
static void cache_drop(void)
{
	for (size_t i = 0; i < nsvcs; i++)
		entry_unref(svcs[i]);
	free(svcs);
	svcs = NULL;
	nsvcs = 0;
	if (cons)
		util_wipe(cons, ncons * sizeof(*cons));   /* secret hashes */
	free(cons);
	cons = NULL;
	ncons = 0;
	cache_valid = 0;
}

void share_invalidate(void)
{
	pthread_rwlock_wrlock(&cache_lock);
	cache_valid = 0;
	pthread_rwlock_unlock(&cache_lock);
}

void share_cache_flush(void)
{
	pthread_rwlock_wrlock(&cache_lock);
	cache_drop();
	pthread_rwlock_unlock(&cache_lock);
}

struct collect {
	struct store_service *s;
	struct store_consumer *c;
	size_t n, cap;
	gv_err err;
};

/* Room for one more; the old array is wiped before it is freed (consumers hold the
 * keyed hashes of their secrets). */
static int grow(struct collect *c, size_t size, void **arr)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *t = malloc(cap * size);

		if (!t) {
			c->err = GV_ERR_NOMEM;
			return 0;
		}
		if (*arr) {
			memcpy(t, *arr, c->n * size);
			util_wipe(*arr, c->n * size);
		}
		free(*arr);
		*arr = t;
		c->cap = cap;
	}
	return 1;
}

static int collect_service(const struct store_service *s, void *arg)
{
	struct collect *c = arg;

	if (!grow(c, sizeof(*s), (void **)&c->s))
		return 1;
	c->s[c->n++] = *s;
	return 0;
}

static int collect_consumer(const struct store_consumer *x, void *arg)
{
	struct collect *c = arg;

	if (!grow(c, sizeof(*x), (void **)&c->c))
		return 1;
	c->c[c->n++] = *x;
	return 0;
}

static int by_client(const void *a, const void *b)
{
	return strcmp(((const struct store_consumer *)a)->client_id,
		      ((const struct store_consumer *)b)->client_id);
}

/* The service's fields within the approval's (each "" = every field) into e: what a
 * call may return, however the two were made. */
static void fields_within(const char *svc, const char *approved, struct share_service *e)
{
	size_t used = 0;

	e->fields[0] = '\0';
	e->no_fields = 0;
	if (!approved[0]) {
		snprintf(e->fields, sizeof(e->fields), "%s", svc);
		return;
	}
	if (!svc[0]) {
		snprintf(e->fields, sizeof(e->fields), "%s", approved);
		return;
	}
	for (const char *p = svc; *p;) {
		size_t n = strcspn(p, ",");
		char f[CATALOG_NAME_LEN];

		snprintf(f, sizeof(f), "%.*s", (int)(n < sizeof(f) - 1 ? n : sizeof(f) - 1), p);
		if (policy_list_has(approved, f) && used + strlen(f) + 2 < sizeof(e->fields))
			used += (size_t)snprintf(e->fields + used, sizeof(e->fields) - used, "%s%s",
						 used ? "," : "", f);
		p += n + (p[n] == ',');
	}
	e->no_fields = used == 0;
}

/* One compiled entry: the parsed parameters and, from the request, its purpose and
 * the grant's rows per day.  Store reads happen here, outside any store callback. */
static gv_err entry_new(struct gv_app *app, const struct store_service *s,
			struct share_service **out)
{
	struct share_service *e = calloc(1, sizeof(*e));
	struct store_share_request *r = malloc(sizeof(*r));
	struct catalog_schema *schema = malloc(sizeof(*schema));
	json_t *params = json_loads(s->params, 0, NULL);
	char why[256];
	gv_err err = e && r && schema && (e->d = malloc(sizeof(*e->d))) ? GV_OK : GV_ERR_NOMEM;

	*out = NULL;
	if (err == GV_OK)
		err = params_spec_parse(params, &e->spec, why, sizeof(why));
	if (err == GV_ERR_INVALID) {
		log_error("share: service %s v%d has a parameter spec this build refuses: %s", s->name,
			  s->version, why);
		err = GV_ERR_STORE;
	}
	if (err == GV_OK)
		err = app->st->ops->dataset_get_id(app->st, s->dataset_id, e->d);
	if (err == GV_OK)
		err = records_describe(app, e->d->name, e->d, schema);
	for (size_t i = 0; err == GV_OK && i < e->spec->n; i++) {
		const struct catalog_field *f = catalog_field_find(schema, e->spec->p[i].field);

		if (f && f->indexed)
			e->indexed |= 1u << i;
	}
	if (err == GV_OK && s->request_id) {
		err = app->st->ops->share_request_get(app->st, s->request_id, r);
		if (err == GV_OK) {
			e->max_rows_day = r->kind == SHARE_KIND_SHARE ? r->expected_rows_day : 0;
			e->valid_from = r->valid_from;
			snprintf(e->purpose, sizeof(e->purpose), "%s", r->purpose);
		}
	}
	if (err == GV_OK)
		fields_within(s->fields, s->request_id ? r->fields : "", e);
	if (err == GV_OK) {
		e->s = *s;
		e->refs = 1;
		*out = e;
		e = NULL;
	}
	if (e) {
		params_spec_free(e->spec);
		free(e->d);
	}
	free(e);
	free(r);
	free(schema);
	json_decref(params);
	return err;
}

/* Rebuilds the table if stale; returns with the read lock held. */
static gv_err cache_acquire(struct gv_app *app)
{
	uint64_t gen = app->st->ops->generation(app->st);
	struct collect sc = {0}, cc = {0};
	gv_err err = GV_OK;

	pthread_rwlock_rdlock(&cache_lock);
	if (cache_valid && cache_gen == gen)
		return GV_OK;
	pthread_rwlock_unlock(&cache_lock);
	pthread_rwlock_wrlock(&cache_lock);
	if (!cache_valid || cache_gen != gen) {
		cache_drop();
		err = app->st->ops->service_list(app->st, collect_service, &sc);
		if (err == GV_OK)
			err = sc.err;
		if (err == GV_OK)
			err = app->st->ops->consumer_list(app->st, collect_consumer, &cc);
		if (err == GV_OK)
			err = cc.err;
		if (err == GV_OK && sc.n && !(svcs = calloc(sc.n, sizeof(*svcs))))
			err = GV_ERR_NOMEM;
		for (size_t i = 0; err == GV_OK && i < sc.n; i++) {
			err = entry_new(app, &sc.s[i], &svcs[i]);
			if (err == GV_OK)
				nsvcs++;
		}
		if (err == GV_OK) {
			if (cc.n)
				qsort(cc.c, cc.n, sizeof(*cc.c), by_client);
			cons = cc.c;
			ncons = cc.n;
			cc.c = NULL;
			cache_valid = 1;
			cache_gen = gen;
		} else {
			cache_drop();
		}
	}
	pthread_rwlock_unlock(&cache_lock);
	free(sc.s);
	if (cc.c)
		util_wipe(cc.c, cc.n * sizeof(*cc.c));
	free(cc.c);
	if (err != GV_OK)
		return err;
	pthread_rwlock_rdlock(&cache_lock);
	return GV_OK;
}

/* The entry of name and version; version 0 = the highest active one (or, when none is
 * active, the highest, so the caller learns it was revoked).  Read lock held. */
static struct share_service *find_service(const char *name, int version)
{
	struct share_service *best = NULL;

	for (size_t i = 0; i < nsvcs; i++) {
		struct share_service *e = svcs[i];

		if (strcmp(e->s.name, name) != 0)
			continue;
		if (version ? e->s.version == version
			    : !best || (e->s.state == SERVICE_ACTIVE && best->s.state != SERVICE_ACTIVE) ||
			      (e->s.version > best->s.version &&
			       (e->s.state == SERVICE_ACTIVE) == (best->s.state == SERVICE_ACTIVE)))
			best = e;
	}
	return best;
}

gv_err share_service_by_id(struct gv_app *app, int64_t id, struct store_service *out)
{
	gv_err err = cache_acquire(app);

	if (err != GV_OK)
		return err;
	err = GV_ERR_NOT_FOUND;
	for (size_t i = 0; i < nsvcs; i++)
		if (svcs[i]->s.id == id) {
			*out = svcs[i]->s;
			err = GV_OK;
			break;
		}
	pthread_rwlock_unlock(&cache_lock);
	return err;
}

gv_err share_service_latest(struct gv_app *app, const char *name, struct store_service *out)
{
	const struct share_service *e;
	gv_err err = cache_acquire(app);

	if (err != GV_OK)
		return err;
	e = find_service(name, 0);
	if (e)
		*out = e->s;
	pthread_rwlock_unlock(&cache_lock);
	return e ? GV_OK : GV_ERR_NOT_FOUND;
}

int share_cert_taken(struct gv_app *app, const char *fp, const char *except)
{
	int taken = 0;

	if (cache_acquire(app) != GV_OK)
		return 1;   /* cannot tell: refuse */
	for (size_t i = 0; i < ncons && !taken; i++)
		taken = cons[i].state == CONSUMER_ACTIVE && strcmp(cons[i].cert_fp, fp) == 0 &&
			(!except || strcmp(cons[i].client_id, except) != 0);
	pthread_rwlock_unlock(&cache_lock);
	return taken;
}

gv_err share_consumer_auth(struct gv_app *app, const char *client_id, const char *secret,
			   const char *cert_fp, const char *ip, struct store_consumer *out)
{
	char hash[65] = "";
	int found = 0, ok;
	gv_err err;

	memset(out, 0, sizeof(*out));
	err = cache_acquire(app);
	if (err != GV_OK)
		return err;
	if (client_id) {
		struct store_consumer key;
		const struct store_consumer *c;

		snprintf(key.client_id, sizeof(key.client_id), "%s", client_id);
		c = ncons ? bsearch(&key, cons, ncons, sizeof(*cons), by_client) : NULL;
		if (c && strlen(client_id) < sizeof(key.client_id)) {
			*out = *c;
			found = 1;
		}
	} else if (cert_fp && cert_fp[0]) {
		for (size_t i = 0; i < ncons && !found; i++)
			if (cons[i].state == CONSUMER_ACTIVE && cons[i].cert_fp[0] &&
			    util_ct_streq(cons[i].cert_fp, cert_fp)) {
				*out = cons[i];
				found = 1;
			}
	}
	pthread_rwlock_unlock(&cache_lock);
	/* The secret is hashed whether or not the consumer exists: no timing tells. */
	if (secret && crypto_hmac_sm3_hex(app->keys.token, sizeof(app->keys.token), secret, hash) != GV_OK)
		hash[0] = '\0';
	if (secret)
		ok = found && hash[0] && util_ct_streq(hash, out->secret_hash);
	else
		ok = found && cert_fp && cert_fp[0] && out->cert_fp[0] &&
		     util_ct_streq(out->cert_fp, cert_fp);
	util_wipe(hash, sizeof(hash));
	if (!ok || out->state != CONSUMER_ACTIVE) {
		util_wipe(out->secret_hash, sizeof(out->secret_hash));
		return GV_ERR_AUTH;
	}
	util_wipe(out->secret_hash, sizeof(out->secret_hash));
	if (!cidr_list_allows(out->ip_allowlist, ip ? ip : ""))
		return GV_ERR_RESTRICTED;
	return GV_OK;
}

gv_err share_service_get(struct gv_app *app, const struct store_consumer *c, const char *name,
			 int version, int64_t now, struct share_service **out, const char **why)
{
	struct share_service *e;
	gv_err err = cache_acquire(app);

	*out = NULL;
	*why = "no such service";
	if (err != GV_OK)
		return err;
	e = find_service(name, version);
	/* A consumer sees only the services its approval covers, and the open ones. */
	if (!e || !policy_list_has(c->services, name) ||
	    (!e->s.open && strcmp(e->s.department, c->department) != 0))
		e = NULL;
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&cache_lock);
	if (!e)
		return GV_ERR_NOT_FOUND;
	err = GV_ERR_FORBIDDEN;
	if (e->s.state != SERVICE_ACTIVE)
		*why = "the service was revoked";
	else if (now >= e->s.valid_until)
		*why = "the service has expired with its approval";
	else if (now < e->valid_from)
		*why = "the service's approval is not yet valid";
	else if (e->s.open && e->d->grade > 1)
		*why = "the dataset is no longer grade 1: it is not open any more";
	else
		err = GV_OK;
	/* The grant may have been revoked or have expired on its own. */
	if (err == GV_OK && e->s.grant_id &&
	    !policy_grant_in_force(app, e->d->id, e->s.grant_id, e->d->grade, PA_SEARCH, now)) {
		*why = "the grant the service serves under is no longer in force";
		err = GV_ERR_FORBIDDEN;
	}
	if (err != GV_OK) {
		entry_unref(e);
		return err;
	}
	*why = NULL;
	*out = e;
	return GV_OK;
}

/* 1 if the record's field value, as index text, is the argument. */
static int value_equals(const json_t *data, const char *field, const char *v)
{
	const json_t *x = json_object_get(data, field);
	char num[32];

	if (json_is_string(x))
		return strcmp(json_string_value(x), v) == 0;
	if (json_is_integer(x)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(x));
		return strcmp(num, v) == 0;
	}
	return 0;
}

gv_err share_service_fetch(struct gv_app *app, const struct share_service *s,
			   const struct params_call *call, json_t **records, char *masklog,
			   size_t loglen, const char **why)
{
	const struct params_spec *ps = s->spec;
	struct policy_decision dec;
	json_t *res = NULL, *list;
	size_t key = ps->n, kept = 0;
	gv_err err;

	*records = NULL;
	masklog[0] = '\0';
	for (size_t i = 0; i < ps->n && key == ps->n; i++)
		if (call->vals[i] && (s->indexed & (1u << i)))
			key = i;
	if (key == ps->n) {
		*why = "give at least one exact-match key parameter";
		return GV_ERR_INVALID;
	}
	if (s->no_fields) {
		*why = "the service returns no field its approval covers";
		return GV_ERR_FORBIDDEN;
	}
	err = records_search(app, NULL, s->d->name, ps->p[key].field, call->vals[key], &res, why);
	if (err != GV_OK)
		return err;
	list = json_incref(json_object_get(res, "records"));
	json_decref(res);
	if (!list)
		return GV_ERR_NOMEM;
	/* The other parameters narrow what the key found. */
	for (size_t r = 0; r < json_array_size(list);) {
		const json_t *data = json_object_get(json_array_get(list, r), "data");
		int keep = 1;

		for (size_t i = 0; keep && i < ps->n; i++)
			if (i != key && call->vals[i])
				keep = value_equals(data, ps->p[i].field, call->vals[i]);
		if (keep)
			r++;
		else
			json_array_remove(list, r);
	}
	memset(&dec, 0, sizeof(dec));
	dec.permit = 1;
	dec.grant_id = s->s.grant_id;
	snprintf(dec.reason, sizeof(dec.reason), "service %s v%d", s->s.name, s->s.version);
	snprintf(dec.profile, sizeof(dec.profile), "%s", s->s.mask_profile);
	snprintf(dec.fields, sizeof(dec.fields), "%s", s->fields);
	dec.max_rows_request = s->s.max_rows;
	dec.max_rows_day = s->max_rows_day;
	err = policy_view_apply(app, &dec, s->d, list, masklog, loglen, &kept);
	while (err == GV_OK && json_array_size(list) > (size_t)s->s.max_rows)
		json_array_remove(list, json_array_size(list) - 1);
	/* A miss counts as one row against the day's volume: misses must not guess for free. */
	if (err == GV_OK)
		err = policy_count_rows(app, &dec, json_array_size(list) ? (int64_t)json_array_size(list) : 1);
	if (err == GV_ERR_QUOTA)
		*why = "the approval's rows per day are used up";
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	*records = list;
	return GV_OK;
}

json_t *share_service_json(const struct store_service *s, const char *dataset)
{
	json_t *params = json_loads(s->params, 0, NULL);

	return json_pack("{s:s,s:i,s:s,s:s,s:b,s:o,s:o,s:s,s:i,s:i,s:o,s:s,s:I,s:s,s:o,s:s,s:o}",
			 "name", s->name, "version", s->version, "dataset", dataset,
			 "department", s->department, "open", s->open,
			 "params", params ? params : json_array(), "fields", policy_list_json(s->fields),
			 "mask_profile", s->mask_profile, "max_rows_per_call", s->max_rows,
			 "rate_limit_per_minute", s->rate_per_minute,
			 "valid_until", share_time_json(s->valid_until),
			 "state", s->state == SERVICE_ACTIVE ? "active" : "revoked",
			 "request", (json_int_t)s->request_id, "created_by", s->created_by,
			 "created_at", share_time_json(s->created_at), "revoked_by", s->revoked_by,
			 "revoked_at", share_time_json(s->revoked_at));
}

gv_err share_service_list(struct gv_app *app, const struct store_account *actor, json_t **out)
{
	json_t *list = json_array();
	gv_err err = list ? cache_acquire(app) : GV_ERR_NOMEM;

	*out = NULL;
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	for (size_t i = 0; i < nsvcs && err == GV_OK; i++) {
		const struct share_service *e = svcs[i];

		/* secadmin sees all; a department its own datasets' services and those it
		 * receives, and everyone the open ones. */
		if (!(actor->roles & ROLE_BIT(ROLE_SECADMIN)) && !e->s.open &&
		    strcmp(e->s.department, actor->department) != 0 &&
		    strcmp(e->d->department, actor->department) != 0)
			continue;
		if (json_array_append_new(list, share_service_json(&e->s, e->d->name)) != 0)
			err = GV_ERR_NOMEM;
	}
	pthread_rwlock_unlock(&cache_lock);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	*out = json_pack("{s:o}", "services", list);
	return *out ? GV_OK : GV_ERR_NOMEM;
}

gv_err share_service_list_open(struct gv_app *app, json_t **out)
{
	json_t *list = json_array();
	int64_t now = util_now_s();
	gv_err err = list ? cache_acquire(app) : GV_ERR_NOMEM;

	*out = NULL;
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	for (size_t i = 0; i < nsvcs && err == GV_OK; i++) {
		const struct store_service *s = &svcs[i]->s;
		json_t *o;

		if (!s->open || s->state != SERVICE_ACTIVE || now >= s->valid_until ||
		    now < svcs[i]->valid_from || svcs[i]->d->grade > 1)
			continue;
		o = json_pack("{s:s,s:i,s:o,s:o,s:i,s:i,s:I}", "name", s->name, "version", s->version,
			      "params", json_loads(s->params, 0, NULL), "fields",
			      policy_list_json(s->fields), "max_rows_per_call", s->max_rows,
			      "rate_limit_per_minute", s->rate_per_minute, "request",
			      (json_int_t)s->request_id);
		if (json_array_append_new(list, o) != 0)
			err = GV_ERR_NOMEM;
	}
	pthread_rwlock_unlock(&cache_lock);
	if (err != GV_OK)
		json_decref(list);
	else
		*out = list;
	return err;
}

int64_t share_service_rows_day(struct gv_app *app, const char *name)
{
	const struct share_service *e;
	int64_t rows = 0;

	if (cache_acquire(app) != GV_OK)
		return 0;
	e = find_service(name, 0);
	if (e)
		rows = e->max_rows_day;
	pthread_rwlock_unlock(&cache_lock);
	return rows;
}

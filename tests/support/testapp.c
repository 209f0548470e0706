/* testapp.c - see testapp.h. */
#include "testapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "data/records.h"

gv_err testapp_open(struct testapp *t, const char *dir_template, const char *schema_json)
{
	struct store_dataset *d = calloc(1, sizeof(*d));
	char path[128];
	gv_err err = GV_ERR_NOMEM;

	memset(t, 0, sizeof(*t));
	if (!d)
		return GV_ERR_NOMEM;
	if (util_strcpy(t->dir, sizeof(t->dir), dir_template) != GV_OK || !mkdtemp(t->dir)) {
		free(d);
		return GV_ERR_INVALID;
	}
	snprintf(path, sizeof(path), "%s/t.db", t->dir);
	err = store_sqlite_open(path, &t->app.st);
	if (err == GV_OK)
		err = crypto_init();
	if (err == GV_OK) {
		pthread_rwlock_init(&t->app.cfg_lock, NULL);
		pthread_rwlock_init(&t->app.keys_lock, NULL);
		t->locks = 1;
		util_random_bytes(t->app.keys.data_kek, sizeof(t->app.keys.data_kek));
		snprintf(d->name, sizeof(d->name), "people");
		snprintf(d->department, sizeof(d->department), "Statistics");
		err = util_strcpy(d->schema, sizeof(d->schema), schema_json);
	}
	if (err == GV_OK) {
		snprintf(d->quality_rules, sizeof(d->quality_rules), "[]");
		d->grade = d->grade_suggested = 2;
		d->grade_confirmed = 1;
		err = t->app.st->ops->dataset_insert(t->app.st, d);
		t->dataset_id = d->id;
	}
	free(d);
	if (err != GV_OK)
		testapp_close(t);
	return err;
}

struct records_ds *testapp_people(struct testapp *t)
{
	struct records_ds *ds = NULL;
	const char *why;

	return records_open(&t->app, NULL, "people", 1, &ds, &why) == GV_OK ? ds : NULL;
}

gv_err testapp_read_body(struct records_ds *ds, const void *body, size_t len, json_t **data)
{
	struct store_record r;
	json_t *rec = NULL;
	gv_err err;

	*data = NULL;
	memset(&r, 0, sizeof(r));
	snprintf(r.record_id, sizeof(r.record_id), "r1");
	r.version = 1;
	r.key_version = records_key_version(ds);
	r.body = (unsigned char *)body;
	r.body_len = len;
	err = records_record_json(ds, &r, &rec);
	if (err == GV_OK)
		*data = json_incref(json_object_get(rec, "data"));
	json_decref(rec);
	return err;
}

void testapp_close(struct testapp *t)
{
	char cmd[128];

	records_cache_flush();
	if (t->app.st)
		store_close(t->app.st);
	t->app.st = NULL;
	if (t->locks) {
		pthread_rwlock_destroy(&t->app.cfg_lock);
		pthread_rwlock_destroy(&t->app.keys_lock);
		t->locks = 0;
	}
	if (t->dir[0] && !strstr(t->dir, "XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
		(void)!system(cmd);
	}
	t->dir[0] = '\0';
}

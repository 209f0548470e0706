/* testapp.h - what the tests of the records layer share: an application with a fresh
 * SQLite store in a temporary directory, a random data KEK, and one dataset. */
#ifndef GV_TESTS_TESTAPP_H
#define GV_TESTS_TESTAPP_H

#include <jansson.h>

#include "auth/app.h"
#include "data/records.h"

struct testapp {
	struct gv_app app;
	char dir[64];
	int64_t dataset_id;
	int locks;   /* app's rwlocks made */
};

/* Opens t with dataset "people" of department "Statistics", grade 2 confirmed, whose
 * schema is schema_json and whose quality rules are none; dir_template ends in XXXXXX.
 * GV_OK, or an error with nothing left behind. */
gv_err testapp_open(struct testapp *t, const char *dir_template, const char *schema_json);
/* "people" opened for writing by the service itself, or NULL. */
struct records_ds *testapp_people(struct testapp *t);
/* The data of a stored body (format byte first) read as version 1 of record "r1"
 * under ds's current key (new reference in *data). */
gv_err testapp_read_body(struct records_ds *ds, const void *body, size_t len, json_t **data);
/* Drops the cached datasets, closes the store and removes the directory. */
void testapp_close(struct testapp *t);

#endif

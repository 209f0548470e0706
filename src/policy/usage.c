/* usage.c - rows served per grant and day, counted in memory and written to the store
 * in the background.
 *
 * A grant's daily cap is checked on every capped read.  Writing the count durably on
 * each read made every one of them wait for a disk flush under the store's lock (one
 * flush per call, measured at 0.26 ms here: the whole service was bound by it).  So
 * the count lives in memory: loaded from the store on a grant's first use of a day,
 * raised at once under a mutex (two readers cannot both pass the cap), and written to
 * the store as deltas by policy_usage_flush, which a background thread runs every
 * second and govvaultd runs at stop.  A crash forgets at most the last second's rows;
 * the audit trail still holds every call with its rows (docs/access-control.md). */
#include "policy/policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/worker.h"

#define FLUSH_EVERY_S 1

struct usage {
	int64_t grant_id, day;
	int64_t used;        /* as known here: stored + pending */
	int64_t pending;     /* not yet written */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct usage *tab;
static size_t ntab, captab;

static struct usage *find(int64_t grant_id, int64_t day)
{
	for (size_t i = 0; i < ntab; i++)
		if (tab[i].grant_id == grant_id && tab[i].day == day)
			return &tab[i];
	return NULL;
}

gv_err policy_count_rows(struct gv_app *app, const struct policy_decision *d, int64_t rows)
{
	struct gv_config cfg;
	struct usage *u;
	int64_t day, stored = 0;
	gv_err err = GV_OK;

	if (!d->grant_id || !d->max_rows_day)
		return GV_OK;
	app_policy(app, &cfg);
	/* The agency's day, not UTC's: the count starts again at its midnight. */
	day = (util_now_s() + (int64_t)cfg.utc_offset_min * 60) / 86400;
	pthread_mutex_lock(&lock);
	u = find(d->grant_id, day);
	pthread_mutex_unlock(&lock);
	if (!u) {
		/* First use today: what the store holds (adding nothing). */
		err = app->st->ops->grant_use(app->st, d->grant_id, day, 0, 0, &stored);
		if (err != GV_OK)
			return err;
	}
	pthread_mutex_lock(&lock);
	u = find(d->grant_id, day);
	if (!u) {
		if (ntab == captab) {
			size_t cap = captab ? 2 * captab : 32;
			struct usage *t = realloc(tab, cap * sizeof(*t));

			if (!t) {
				pthread_mutex_unlock(&lock);
				return GV_ERR_NOMEM;
			}
			tab = t;
			captab = cap;
		}
		u = &tab[ntab++];
		u->grant_id = d->grant_id;
		u->day = day;
		u->used = stored;
		u->pending = 0;
	}
	if (u->used + rows > d->max_rows_day) {
		err = GV_ERR_QUOTA;   /* nothing counted */
	} else {
		u->used += rows;
		u->pending += rows;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

gv_err policy_usage_flush(struct gv_app *app)
{
	struct usage *batch = NULL;
	struct gv_config cfg;
	size_t n = 0;
	int64_t today;
	gv_err err = GV_OK;

	app_policy(app, &cfg);
	today = (util_now_s() + (int64_t)cfg.utc_offset_min * 60) / 86400;   /* as counted */

	pthread_mutex_lock(&lock);
	if (ntab && (batch = malloc(ntab * sizeof(*batch))) != NULL) {
		for (size_t i = 0; i < ntab; i++)
			if (tab[i].pending) {
				batch[n++] = tab[i];
				tab[i].pending = 0;
			}
	}
	/* Days that are over and written need no entry any more. */
	for (size_t i = 0; i < ntab;)
		if (!tab[i].pending && tab[i].day < today - 1)
			tab[i] = tab[--ntab];
		else
			i++;
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		int64_t used;
		gv_err e = app->st->ops->grant_use(app->st, batch[i].grant_id, batch[i].day,
						   batch[i].pending, 0, &used);

		if (e != GV_OK) {
			struct usage *u;

			/* Kept for the next flush rather than lost. */
			pthread_mutex_lock(&lock);
			u = find(batch[i].grant_id, batch[i].day);
			if (u)
				u->pending += batch[i].pending;
			pthread_mutex_unlock(&lock);
			err = e;
		}
	}
	free(batch);
	return err;
}

void policy_usage_forget(void)
{
	pthread_mutex_lock(&lock);
	free(tab);
	tab = NULL;
	ntab = captab = 0;
	pthread_mutex_unlock(&lock);
}

/* One worker run: the counts since the last. */
static int usage_run(void *arg)
{
	if (policy_usage_flush(arg) != GV_OK)
		log_error("policy: writing daily row counts failed; retrying");
	return 0;
}

gv_err policy_usage_start(struct gv_app *app, struct gv_worker **out)
{
	return worker_start(usage_run, app, FLUSH_EVERY_S, out);
}

/* worker.c - the loop of worker.h: a mutex and a condition guard `stop` and `kicked`;
 * the job runs outside them. */
#include "common/worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct gv_worker {
	worker_fn fn;
	void *arg;
	int idle_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop, kicked;
};

static void *worker_main(void *arg)
{
	struct gv_worker *w = arg;
	int more;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		pthread_mutex_unlock(&w->lock);
		more = w->fn(w->arg);
		pthread_mutex_lock(&w->lock);
		if (!more && !w->kicked && !w->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += w->idle_s;
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		w->kicked = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

gv_err worker_start(worker_fn fn, void *arg, int idle_s, struct gv_worker **out)
{
	struct gv_worker *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return GV_ERR_NOMEM;
	w->fn = fn;
	w->arg = arg;
	w->idle_s = idle_s;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return GV_ERR_NOMEM;
	}
	*out = w;
	return GV_OK;
}

void worker_kick(struct gv_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->kicked = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void worker_stop(struct gv_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

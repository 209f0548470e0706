/* worker.h - a background thread that runs one job again and again: at once while the
 * job says there is more to do, otherwise after an idle period or when kicked.  Key
 * re-sealing (data/rekey.c) and the daily row counts (policy/usage.c) run on it. */
#ifndef GV_COMMON_WORKER_H
#define GV_COMMON_WORKER_H

#include "common/error.h"

/* One run of the job: returns 1 when more work is waiting (run again at once). */
typedef int (*worker_fn)(void *arg);

struct gv_worker;

/* Starts the thread; the first run is at once. */
gv_err worker_start(worker_fn fn, void *arg, int idle_s, struct gv_worker **out) GV_MUST_CHECK;
/* Runs the job as soon as the current run ends. NULL is a no-op. */
void worker_kick(struct gv_worker *w);
/* Lets the current run end, joins the thread and frees; NULL is a no-op. */
void worker_stop(struct gv_worker *w);

#endif

/* audit.c - the audit log writer: chain, group commit, checkpoints, witness, watchdog.
 * See audit.h for the guarantees; the invariants kept here are:
 *  - next_seq/head describe the chain including queued records; durable_seq/
 *    durable_head only what an fsync has covered.  After a failure the chain is reset
 *    to the durable state and every queued record fails, so no sequence number is
 *    ever durable twice or skipped.
 *  - A witness line is written only after the record holding its checkpoint is
 *    durable, so the witness never claims more than the log holds. */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/segment.h"
#include "audit/syslog.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"

/* One appender waiting for its record: on the appender's stack (audit_append), or
 * allocated with a completion to call (audit_submit). */
struct waiter {
	struct waiter *next;
	int state;                   /* 0 waiting, 1 durable, -1 failed */
	audit_done_fn done;          /* audit_submit: called once settled, by the notifier */
	void *ctx;
	int64_t since_us;            /* when it was queued, for the write timeout */
	struct waiter *settled_next;
};

struct audit_log {
	char dir[GV_PATH_MAX];
	char witness_path[GV_PATH_MAX];
	char node[64];
	int cp_records, cp_seconds;
	int64_t seg_bytes;
	struct sm2_key *key;
	pthread_t thread;
	int thread_started;

	pthread_mutex_t mu;
	pthread_cond_t cv_writer, cv_done;
	/* guarded by mu */
	int stop;
	int available;
	char problem[256];
	int64_t next_seq;                 /* last assigned sequence */
	unsigned char head[SEG_HASH_LEN]; /* chain hash after next_seq */
	int64_t durable_seq;
	unsigned char durable_head[SEG_HASH_LEN];
	struct gv_buf queue;              /* frames not yet written */
	struct gv_buf witness;            /* witness lines of queued checkpoints */
	struct waiter *wait_head, **wait_tail;
	struct waiter *inflight;          /* waiters of the batch being written */
	/* submitted records settled but not yet told: the notifier thread calls their
	 * completions outside mu, so neither the writer nor an appender ever does */
	struct waiter *settled_head, **settled_tail;
	pthread_t notifier;
	int notifier_started, notifier_stop;
	pthread_cond_t cv_notify;
	int write_timeout_s;
	int queued;                       /* records queued since the writer took a batch */
	int last_batch;                   /* records in the batch written last */
	int gather;                       /* records the writer is waiting for, 0 = none */
	int64_t since_cp;
	int64_t last_cp_us;
	int64_t last_tick_us;
	/* the active segment; written by the writer thread, read under mu */
	int fd;
	char seg_path[GV_PATH_MAX];
	dev_t seg_dev;
	ino_t seg_ino;
	int64_t durable_size;
	int witness_fd;
	dev_t wit_dev;
	ino_t wit_ino;
	int64_t wit_size;                /* bytes of witness lines known written */
	struct audit_syslog *syslog;     /* NULL when forwarding is off */
};

#define QUEUE_MAX ((size_t)64 << 20)
/* Group commit under load: a flush costs the same for one record or for many (and, in
 * a virtual machine, a trip to the host), so when the last batch showed concurrent
 * appenders the writer waits up to GATHER_US for GATHER_TARGET records before it
 * writes.  After a batch of one the writer does not wait, so a lone appender waits at
 * most once, right after a burst. */
#define GATHER_TARGET 32
#define GATHER_US 1000


gv_err audit_checkpoint_message(const char *node, int64_t seq, const char *hash_hex,
				int64_t ts_us, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "govvault-audit-checkpoint v1 node=%s seq=%lld hash=%s time=%lld",
			 node, (long long)seq, hash_hex, (long long)ts_us);

	return n > 0 && (size_t)n < outlen ? GV_OK : GV_ERR_INVALID;
}

/* Encodes, chains and queues a fully stamped record.  Caller holds mu. */
static gv_err chain_put(struct audit_log *log, const struct audit_rec *r)
{
	unsigned char h[SEG_HASH_LEN];
	struct gv_buf enc;
	gv_err err;

	buf_init(&enc, AUDIT_REC_MAX);
	err = audit_rec_encode(r, &enc);
	if (err == GV_OK) {
		seg_chain_hash(log->head, (const unsigned char *)enc.data, enc.len, h);
		err = seg_frame_put(&log->queue, (const unsigned char *)enc.data, enc.len, h);
	}
	buf_release(&enc);
	if (err != GV_OK)
		return err;
	log->next_seq = r->seq;
	memcpy(log->head, h, sizeof(h));
	return GV_OK;
}

gv_err audit_pruned_message(const char *node, int64_t first, int64_t last, const char *hash_hex,
			    int64_t ts_us, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "govvault-audit-pruned v1 node=%s first=%lld last=%lld hash=%s "
			 "time=%lld", node, (long long)first, (long long)last, hash_hex, (long long)ts_us);

	return n > 0 && (size_t)n < outlen ? GV_OK : GV_ERR_INVALID;
}

/* Stamps sequence, time and node, then chains and queues r.  Caller holds mu. */
static gv_err chain_add(struct audit_log *log, struct audit_rec *r)
{
	gv_err err;

	r->seq = log->next_seq + 1;
	r->ts_us = util_now_us();
	snprintf(r->node, sizeof(r->node), "%s", log->node);
	err = chain_put(log, r);
	if (err == GV_OK)
		log->since_cp++;
	return err;
}

/* Queues a checkpoint that signs the current head, and its witness line.  The
 * checkpoint's own time is the signed time.  Caller holds mu. */
static gv_err chain_checkpoint(struct audit_log *log)
{
	struct audit_rec cp;
	unsigned char sig[SM2_SIG_MAX];
	char hash_hex[2 * SEG_HASH_LEN + 1], sig_hex[2 * SM2_SIG_MAX + 1], msg[256];
	size_t siglen = 0;
	int64_t seq = log->next_seq;
	gv_err err;

	if (seq == 0)
		return GV_OK;
	memset(&cp, 0, sizeof(cp));
	util_hex_encode(log->head, SEG_HASH_LEN, hash_hex);
	cp.kind = AUDIT_KIND_CHECKPOINT;
	cp.seq = seq + 1;
	cp.ts_us = util_now_us();
	snprintf(cp.node, sizeof(cp.node), "%s", log->node);
	err = audit_checkpoint_message(log->node, seq, hash_hex, cp.ts_us, msg, sizeof(msg));
	if (err == GV_OK)
		err = sm2_sign(log->key, msg, strlen(msg), sig, &siglen);
	if (err != GV_OK)
		return err;
	util_hex_encode(sig, siglen, sig_hex);
	snprintf(cp.actor, sizeof(cp.actor), "system");
	snprintf(cp.action, sizeof(cp.action), "audit.checkpoint");
	snprintf(cp.decision, sizeof(cp.decision), "event");
	snprintf(cp.detail, sizeof(cp.detail), "seq=%lld hash=%s sig=%s", (long long)seq, hash_hex,
		 sig_hex);
	err = chain_put(log, &cp);
	if (err != GV_OK)
		return err;
	log->since_cp = 0;
	log->last_cp_us = cp.ts_us;
	return buf_printf(&log->witness, "%s %lld %s %lld %s\n", log->node, (long long)seq, hash_hex,
			  (long long)cp.ts_us, sig_hex);
}

/* Tells the SIEM at once that the log stopped: the alert cannot wait for the log.  It
 * is not a chained record (seq 0); the chained audit.resumed record follows later. */
static void alert_siem(struct audit_log *log, const char *what)
{
	struct audit_rec a;

	if (!log->syslog)
		return;
	memset(&a, 0, sizeof(a));
	a.kind = AUDIT_KIND_EVENT;
	a.ts_us = util_now_us();
	snprintf(a.node, sizeof(a.node), "%s", log->node);
	snprintf(a.actor, sizeof(a.actor), "system");
	snprintf(a.action, sizeof(a.action), "audit.unavailable");
	snprintf(a.decision, sizeof(a.decision), "error");
	snprintf(a.reason, sizeof(a.reason), "%.250s", what);
	if (audit_syslog_send(log->syslog, &a) != GV_OK)
		log_warn("audit: the unavailability alert could not be queued for the SIEM");
}

/* Marks a waiter durable (1) or failed (-1); a submitted one goes to the notifier.
 * Caller holds mu. */
static void settle(struct audit_log *log, struct waiter *w, int state)
{
	w->state = state;
	if (!w->done)
		return;
	w->settled_next = NULL;
	*log->settled_tail = w;
	log->settled_tail = &w->settled_next;
	pthread_cond_signal(&log->cv_notify);
}

/* Turns the log unavailable, fails every queued record and rewinds the chain to the
 * durable state.  Caller holds mu. */
static void log_fail(struct audit_log *log, const char *what)
{
	if (log->available) {
		log_error("ALERT: audit log unavailable, requests are refused: %s", what);
		alert_siem(log, what);
	}
	__atomic_store_n(&log->available, 0, __ATOMIC_RELEASE);
	if (what != log->problem)
		snprintf(log->problem, sizeof(log->problem), "%s", what);
	/* In-flight waiters are released too: a write that hangs must turn into refusals,
	 * and the writer, when it returns, finds no waiter left to touch. */
	for (struct waiter *w = log->wait_head, *n; w; w = n) {
		n = w->next;   /* a settled submitted waiter may be freed by the notifier */
		settle(log, w, -1);
	}
	for (struct waiter *w = log->inflight, *n; w; w = n) {
		n = w->next;
		settle(log, w, -1);
	}
	log->inflight = NULL;
	log->wait_head = NULL;
	log->wait_tail = &log->wait_head;
	log->queue.len = 0;
	log->witness.len = 0;
	log->next_seq = log->durable_seq;
	memcpy(log->head, log->durable_head, SEG_HASH_LEN);
	pthread_cond_broadcast(&log->cv_done);
}

/* Opens (creating) the segment for first_seq as the active one.  Caller holds mu. */
static gv_err segment_open(struct audit_log *log, int64_t first_seq, int create)
{
	char name[SEG_NAME_LEN], path[GV_PATH_MAX];
	struct stat st;
	int fd;

	seg_name(first_seq, name);
	if (snprintf(path, sizeof(path), "%s/%s", log->dir, name) >= (int)sizeof(path))
		return GV_ERR_CONFIG;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_EXCL : 0),
		  0600);
	if (fd < 0 && create && errno == EEXIST) {
		/* Left by an earlier attempt that failed after creating it: reuse it only if
		 * it is still empty. */
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_size != 0)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return GV_ERR_IO;
	if (fstat(fd, &st) != 0 || (create && seg_fsync_dir(log->dir) != GV_OK)) {
		close(fd);
		return GV_ERR_IO;
	}
	/* Only a segment that opened becomes the active one. */
	memcpy(log->seg_path, path, sizeof(path));
	if (log->fd >= 0)
		close(log->fd);
	log->fd = fd;
	log->seg_dev = st.st_dev;
	log->seg_ino = st.st_ino;
	log->durable_size = st.st_size;
	return GV_OK;
}

/* Writes a queued batch and its witness lines; outside mu. */
#ifdef GV_FAULT_INJECTION
/* Test builds only: GOVVAULT_FAULT_AUDIT_STALL_MS makes every group write hang that
 * long first, standing in for a disk whose fsync does not return. */
static void fault_stall(void)
{
	const char *v = getenv("GOVVAULT_FAULT_AUDIT_STALL_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;

	if (ms > 0)
		usleep((useconds_t)ms * 1000);
}
#else
static void fault_stall(void)
{
}
#endif

/* Writes a batch, then its witness lines.  Returns GV_OK when the segment part is
 * durable; *witness_ok says whether the witness part is too.  A batch on disk stays
 * durable even if its witness line is lost: the records are proven by the chain, and
 * cutting them back would make the witness name records that no longer exist. */
static gv_err batch_write(struct audit_log *log, int fd, const struct gv_buf *batch,
			  const struct gv_buf *wit, int *witness_ok)
{
	*witness_ok = 0;
	if (util_write_all(fd, batch->data, batch->len) != GV_OK || fdatasync(fd) != 0)
		return GV_ERR_IO;
	*witness_ok = !wit->len || (util_write_all(log->witness_fd, wit->data, wit->len) == GV_OK &&
				    fdatasync(log->witness_fd) == 0);
	return GV_OK;
}

/* Creates the witness file's directory (one level) if it is missing. */
static void witness_dir_make(const char *path)
{
	char dir[GV_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		log_warn("audit: cannot create %s: %s", dir, strerror(errno));
}

/* Copies the records of a durable batch to the SIEM; outside mu (it only queues). */
static void forward(struct audit_log *log, const struct gv_buf *batch)
{
	const unsigned char *data = (const unsigned char *)batch->data, *p, *h;
	size_t pos = 0, plen;

	if (!log->syslog)
		return;
	while (seg_frame_next(data, batch->len, &pos, &p, &plen, &h) == SEG_FRAME) {
		struct audit_rec r;

		if (audit_rec_decode(p, plen, &r) == GV_OK && audit_syslog_send(log->syslog, &r) != GV_OK)
			log_warn("audit: cannot queue a record for the SIEM");
	}
}

/* (Re)opens the witness for appending and remembers which file it is. */
static gv_err witness_open(struct audit_log *log)
{
	struct stat st;
	int fd;

	witness_dir_make(log->witness_path);
	fd = open(log->witness_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return GV_ERR_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return GV_ERR_IO;
	}
	if (log->witness_fd >= 0)
		close(log->witness_fd);
	log->witness_fd = fd;
	log->wit_dev = st.st_dev;
	log->wit_ino = st.st_ino;
	log->wit_size = st.st_size;
	return GV_OK;
}

/* Checks that the active segment and the directory are still ours; mu held. */
static void watchdog(struct audit_log *log)
{
	struct stat st;

	if (!log->available)
		return;
	if (stat(log->seg_path, &st) != 0)
		log_fail(log, "the active audit segment was removed");
	else if (st.st_dev != log->seg_dev || st.st_ino != log->seg_ino)
		log_fail(log, "the active audit segment was replaced");
	else if (st.st_size < log->durable_size)
		log_fail(log, "the active audit segment was truncated");
	else if (st.st_size > log->durable_size)
		/* The watchdog runs between batches: any extra byte was written by someone
		 * else, and O_APPEND would put the next frames after it. */
		log_fail(log, "bytes were appended to the active audit segment by another writer");
	else if (stat(log->witness_path, &st) != 0)
		log_fail(log, "the audit witness file was removed");
	else if (st.st_dev != log->wit_dev || st.st_ino != log->wit_ino)
		log_fail(log, "the audit witness file was replaced");
	else if (st.st_size < log->wit_size)
		log_fail(log, "the audit witness file was truncated");
}

/* Makes the log writable again: a new segment (or the old one cut back to its durable
 * size, if it is still ours) whose first record says what happened.  mu held. */
static void try_resume(struct audit_log *log)
{
	struct audit_rec ev;
	struct stat st;
	struct gv_buf batch, wit;
	/* Continue in the same segment only if it is exactly as we left it; anything else
	 * stays as evidence and writing goes on in a new segment. */
	int same = log->fd >= 0 && stat(log->seg_path, &st) == 0 && st.st_ino == log->seg_ino &&
		   st.st_dev == log->seg_dev && st.st_size == log->durable_size;
	char witness_note[96] = "";
	int witness_ok;
	gv_err err;

	if (mkdir(log->dir, 0700) != 0 && errno != EEXIST)
		return;
	if (same) {
		if (ftruncate(log->fd, log->durable_size) != 0)
			return;
	} else if (segment_open(log, log->durable_seq + 1, 1) != GV_OK) {
		return;
	}
	if ((log->witness_fd < 0 || stat(log->witness_path, &st) != 0 || st.st_ino != log->wit_ino ||
	     st.st_dev != log->wit_dev) && witness_open(log) != GV_OK)
		return;
	if (fstat(log->witness_fd, &st) != 0)
		return;
	if (st.st_size > log->wit_size) {
		/* A failed write left part of a line: cut it, or every check would stop there. */
		if (ftruncate(log->witness_fd, log->wit_size) != 0)
			return;
	} else if (st.st_size < log->wit_size) {
		snprintf(witness_note, sizeof(witness_note), "; witness cut from %lld to %lld bytes",
			 (long long)log->wit_size, (long long)st.st_size);
		log->wit_size = st.st_size;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_KIND_EVENT;
	snprintf(ev.actor, sizeof(ev.actor), "system");
	snprintf(ev.action, sizeof(ev.action), "audit.resumed");
	snprintf(ev.decision, sizeof(ev.decision), "event");
	snprintf(ev.reason, sizeof(ev.reason), "audit log was unavailable: %.150s%.70s", log->problem,
		 witness_note);
	if (chain_add(log, &ev) != GV_OK || chain_checkpoint(log) != GV_OK) {
		log_fail(log, log->problem);
		return;
	}
	batch = log->queue;
	wit = log->witness;
	err = batch_write(log, log->fd, &batch, &wit, &witness_ok);
	if (err != GV_OK || !witness_ok) {
		if (err == GV_OK)
			log->durable_size += (int64_t)batch.len;   /* on disk: keep it */
		if (err == GV_OK) {
			log->durable_seq = log->next_seq;
			memcpy(log->durable_head, log->head, SEG_HASH_LEN);
		}
		log_fail(log, log->problem);
		return;
	}
	forward(log, &batch);
	log->wit_size += (int64_t)wit.len;
	log->durable_size += (int64_t)batch.len;
	log->durable_seq = log->next_seq;
	memcpy(log->durable_head, log->head, SEG_HASH_LEN);
	log->queue.len = 0;
	log->witness.len = 0;
	__atomic_store_n(&log->available, 1, __ATOMIC_RELEASE);
	log->problem[0] = '\0';
	log_warn("audit log writable again (segment %s)", log->seg_path);
}

/* Once a second: resume if unavailable, else watch the files and keep time-based
 * checkpoints coming.  mu held. */
static void writer_tick(struct audit_log *log)
{
	int64_t now_us = util_now_us();

	if (now_us - log->last_tick_us < 1000000)
		return;
	log->last_tick_us = now_us;
	/* Resumption is tried from the tick after the failure on. */
	if (!log->available) {
		try_resume(log);
		return;
	}
	watchdog(log);
	if (log->available && log->since_cp > 0 &&
	    now_us - log->last_cp_us >= (int64_t)log->cp_seconds * 1000000 &&
	    chain_checkpoint(log) != GV_OK)
		log_fail(log, "cannot sign an audit checkpoint");
}

static void *writer_main(void *arg)
{
	struct audit_log *log = arg;
	struct gv_buf batch, wit, spare_q, spare_w;

	buf_init(&spare_q, QUEUE_MAX);
	buf_init(&spare_w, QUEUE_MAX);
	pthread_mutex_lock(&log->mu);
	for (;;) {
		int64_t last_seq;
		unsigned char last_head[SEG_HASH_LEN];
		gv_err err;
		int fd, witness_ok;

		while (!log->stop && log->queue.len == 0) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			(void)pthread_cond_timedwait(&log->cv_writer, &log->mu, &ts);
			/* Ticks are timed by the clock, not by idle waits: a steady trickle of
			 * appends must not postpone the watchdog. */
			writer_tick(log);
		}
		writer_tick(log);
		if (log->queue.len == 0) {
			if (log->stop)
				break;   /* stopping, nothing left */
			continue;        /* a failing tick discarded the queue */
		}
		log->gather = log->last_batch > 1 ? GATHER_TARGET : 0;
		if (log->gather && log->queued < log->gather && !log->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += GATHER_US * 1000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			(void)pthread_cond_timedwait(&log->cv_writer, &log->mu, &ts);
		}
		log->last_batch = log->queued;
		log->queued = 0;
		log->gather = 0;
		/* Take the batch: appenders keep queueing into the spare buffers meanwhile. */
		batch = log->queue;
		wit = log->witness;
		log->queue = spare_q;
		log->witness = spare_w;
		log->inflight = log->wait_head;
		log->wait_head = NULL;
		log->wait_tail = &log->wait_head;
		last_seq = log->next_seq;
		memcpy(last_head, log->head, SEG_HASH_LEN);
		fd = log->fd;
		pthread_mutex_unlock(&log->mu);

		fault_stall();
		err = batch_write(log, fd, &batch, &wit, &witness_ok);
		if (err == GV_OK)
			forward(log, &batch);

		pthread_mutex_lock(&log->mu);
		if (err == GV_OK) {
			/* On disk is durable, even if an appender failed the log meanwhile:
			 * cutting it back would reuse sequence numbers already witnessed and
			 * forwarded. */
			log->durable_seq = last_seq;
			memcpy(log->durable_head, last_head, SEG_HASH_LEN);
			log->durable_size += (int64_t)batch.len;
			for (struct waiter *w = log->inflight, *n; w; w = n) {
				n = w->next;
				settle(log, w, 1);
			}
			log->inflight = NULL;
			if (!log->available) {
				/* log_fail rewound the chain to the state before this batch. */
				log->next_seq = log->durable_seq;
				memcpy(log->head, log->durable_head, SEG_HASH_LEN);
			}
			if (witness_ok)
				log->wit_size += (int64_t)wit.len;
			else
				log_fail(log, "the audit witness cannot be written");
		} else {
			for (struct waiter *w = log->inflight, *n; w; w = n) {
				n = w->next;
				settle(log, w, -1);
			}
			log->inflight = NULL;
			if (err != GV_OK) {
				char what[160];

				snprintf(what, sizeof(what), "write or fsync failed: %s", strerror(errno));
				log_fail(log, what);
			}
			/* Part of the batch may be on disk: cut the segment back. */
			if (ftruncate(log->fd, log->durable_size) != 0)
				log_error("audit: cannot cut %s back to %lld bytes", log->seg_path,
					  (long long)log->durable_size);
		}
		pthread_cond_broadcast(&log->cv_done);
		batch.len = 0;
		wit.len = 0;
		spare_q = batch;
		spare_w = wit;
		if (log->available && log->durable_size >= log->seg_bytes &&
		    segment_open(log, log->durable_seq + 1, 1) != GV_OK)
			log_fail(log, "cannot start a new audit segment");
	}
	pthread_mutex_unlock(&log->mu);
	buf_release(&spare_q);
	buf_release(&spare_w);
	return NULL;
}

/* A record was queued (mu held): the writer wants to hear of the first of a batch, and
 * of the one that completes a gathering. */
static void wake_writer(struct audit_log *log)
{
	if (++log->queued == 1 || log->queued == log->gather)
		pthread_cond_signal(&log->cv_writer);
}

gv_err audit_append(struct audit_log *log, struct audit_rec *r)
{
	struct waiter me = {.next = NULL};
	struct timespec deadline;
	gv_err err;

	pthread_mutex_lock(&log->mu);
	if (!log->available || log->stop) {
		pthread_mutex_unlock(&log->mu);
		return GV_ERR_UNAVAILABLE;
	}
	err = chain_add(log, r);
	if (err == GV_OK && log->since_cp >= log->cp_records)
		err = chain_checkpoint(log);
	if (err != GV_OK) {
		log_fail(log, "cannot encode or sign an audit record");
		pthread_mutex_unlock(&log->mu);
		return GV_ERR_UNAVAILABLE;
	}
	*log->wait_tail = &me;
	log->wait_tail = &me.next;
	wake_writer(log);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += log->write_timeout_s;
	while (me.state == 0) {
		if (pthread_cond_timedwait(&log->cv_done, &log->mu, &deadline) == ETIMEDOUT &&
		    me.state == 0) {
			char what[96];

			snprintf(what, sizeof(what), "an audit write has not completed within %d s",
				 log->write_timeout_s);
			log_fail(log, what);   /* releases me and everyone waiting */
		}
	}
	pthread_mutex_unlock(&log->mu);
	return me.state > 0 ? GV_OK : GV_ERR_UNAVAILABLE;
}

gv_err audit_submit(struct audit_log *log, struct audit_rec *r, audit_done_fn done, void *ctx)
{
	struct waiter *w = calloc(1, sizeof(*w));
	gv_err err;

	if (!w)
		return GV_ERR_UNAVAILABLE;
	w->done = done;
	w->ctx = ctx;
	w->since_us = util_now_us();
	pthread_mutex_lock(&log->mu);
	if (!log->available || log->stop || !log->notifier_started) {
		pthread_mutex_unlock(&log->mu);
		free(w);
		return GV_ERR_UNAVAILABLE;
	}
	err = chain_add(log, r);
	if (err == GV_OK && log->since_cp >= log->cp_records)
		err = chain_checkpoint(log);
	if (err != GV_OK) {
		log_fail(log, "cannot encode or sign an audit record");
		pthread_mutex_unlock(&log->mu);
		free(w);
		return GV_ERR_UNAVAILABLE;
	}
	*log->wait_tail = w;
	log->wait_tail = &w->next;
	wake_writer(log);
	pthread_mutex_unlock(&log->mu);
	return GV_OK;
}

/* Calls the completions of settled submitted records, and fails the log when the
 * oldest pending record has waited longer than the write timeout (a hung fsync must
 * turn into refusals also when every appender is a submitter, which never waits). */
static void *notifier_main(void *arg)
{
	struct audit_log *log = arg;

	pthread_mutex_lock(&log->mu);
	for (;;) {
		struct waiter *batch;

		while (!log->settled_head && !log->notifier_stop) {
			struct timespec ts;
			struct waiter *oldest = log->inflight ? log->inflight : log->wait_head;

			if (oldest && util_now_us() - oldest->since_us >
				      (int64_t)log->write_timeout_s * 1000000 && oldest->since_us) {
				char what[96];

				snprintf(what, sizeof(what), "an audit write has not completed within %d s",
					 log->write_timeout_s);
				log_fail(log, what);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			(void)pthread_cond_timedwait(&log->cv_notify, &log->mu, &ts);
		}
		if (!log->settled_head && log->notifier_stop)
			break;
		batch = log->settled_head;
		log->settled_head = NULL;
		log->settled_tail = &log->settled_head;
		pthread_mutex_unlock(&log->mu);
		while (batch) {
			struct waiter *n = batch->settled_next;

			batch->done(batch->ctx, batch->state > 0 ? GV_OK : GV_ERR_UNAVAILABLE);
			free(batch);
			batch = n;
		}
		pthread_mutex_lock(&log->mu);
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

gv_err audit_event(struct audit_log *log, const char *actor, const char *action,
		   const char *object, const char *reason)
{
	struct audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = AUDIT_KIND_EVENT;
	snprintf(rec.actor, sizeof(rec.actor), "%s", actor ? actor : "");
	snprintf(rec.action, sizeof(rec.action), "%s", action);
	snprintf(rec.object, sizeof(rec.object), "%s", object ? object : "");
	snprintf(rec.reason, sizeof(rec.reason), "%s", reason ? reason : "");
	snprintf(rec.decision, sizeof(rec.decision), "event");
	return audit_append(log, &rec);
}

int audit_available(struct audit_log *log)
{
	/* Without the mutex: a writer stuck in I/O under it must turn requests into 503s,
	 * not into a queue of blocked threads. */
	return __atomic_load_n(&log->available, __ATOMIC_ACQUIRE);
}

void audit_paths(struct audit_log *log, const char **dir, const char **witness,
		 const struct sm2_key **key)
{
	*dir = log->dir;
	*witness = log->witness_path;
	*key = log->key;
}

int64_t audit_durable_seq(struct audit_log *log)
{
	int64_t seq;

	pthread_mutex_lock(&log->mu);
	seq = log->durable_seq;
	pthread_mutex_unlock(&log->mu);
	return seq;
}

const char *audit_node(struct audit_log *log)
{
	return log->node;
}

gv_err audit_public_key_pem(struct audit_log *log, struct gv_buf *out)
{
	return sm2_pubkey_pem(log->key, out);
}

/* The last record's sequence and stored chain hash of a segment (trusted as stored). */
static gv_err segment_last(const char *path, int64_t *seq, unsigned char hash[SEG_HASH_LEN])
{
	struct seg_map m;
	const unsigned char *p = NULL, *h = NULL;
	size_t plen = 0;
	int64_t ts;
	int kind;
	gv_err err = seg_map_file(path, &m);

	if (err != GV_OK)
		return err;
	err = GV_ERR_NOT_FOUND;
	if (seg_last_frame(m.data, m.len, &p, &plen, &h) &&
	    audit_rec_peek(p, plen, seq, &ts, &kind) == GV_OK) {
		memcpy(hash, h, SEG_HASH_LEN);
		err = GV_OK;
	}
	seg_unmap(&m);
	return err;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Replays the last segment to find the chain head; a torn tail (an incomplete or
 * unreadable final frame with nothing valid after it) is cut off and reported in
 * *torn.  Anything else that does not chain is refused: it is evidence, not debris. */
static gv_err recover_tail(struct audit_log *log, const struct seg_list *l, char *torn,
			   size_t tornlen, char *errmsg, size_t errlen)
{
	char path[GV_PATH_MAX + SEG_NAME_LEN + 2];
	struct seg_map m;
	unsigned char prev[SEG_HASH_LEN] = {0};
	int64_t expect = l->first_seq[l->n - 1];
	size_t pos = 0, good = 0;
	gv_err err;

	torn[0] = '\0';
	if (l->n > 1) {
		int64_t pseq = 0;

		snprintf(path, sizeof(path), "%s/%s", log->dir, l->names[l->n - 2]);
		if (segment_last(path, &pseq, prev) != GV_OK || pseq + 1 != expect) {
			snprintf(errmsg, errlen, "audit segment %s does not end where %s begins; run "
				 "'govvault audit verify'", l->names[l->n - 2], l->names[l->n - 1]);
			return GV_ERR_STATE;
		}
	} else if (expect != 1) {
		int64_t last = 0;
		char hex[2 * SEG_HASH_LEN + 1];

		if (seg_pruned_state(log->dir, &last, prev, hex) != GV_OK || last + 1 != expect) {
			snprintf(errmsg, errlen, "the only audit segment %s does not start at record 1 "
				 "and no pruning accounts for the records before it", l->names[0]);
			return GV_ERR_STATE;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", log->dir, l->names[l->n - 1]);
	err = seg_map_file(path, &m);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot read audit segment %s", path);
		return err;
	}
	for (;;) {
		const unsigned char *p, *h;
		size_t plen, at = pos;
		unsigned char calc[SEG_HASH_LEN];
		struct audit_rec r;
		enum seg_step st = seg_frame_next(m.data, m.len, &pos, &p, &plen, &h);

		if (st == SEG_END)
			break;
		if (st == SEG_FRAME && audit_rec_decode(p, plen, &r) == GV_OK && r.seq == expect) {
			seg_chain_hash(prev, p, plen, calc);
			if (memcmp(calc, h, SEG_HASH_LEN) == 0) {
				memcpy(prev, calc, SEG_HASH_LEN);
				expect++;
				good = pos;
				continue;
			}
		}
		/* Debris of a crash is an incomplete last frame or a zero-filled tail (size
		 * extended before the data reached the disk).  A complete frame that does not
		 * chain is damage, even the last one, and stays for the verifier. */
		if (st != SEG_TORN && !all_zero(m.data + at, m.len - at)) {
			snprintf(errmsg, errlen, "audit segment %s is damaged at offset %zu (record %lld); "
				 "run 'govvault audit verify'", l->names[l->n - 1], at, (long long)expect);
			seg_unmap(&m);
			return GV_ERR_STATE;
		}
		snprintf(torn, tornlen, "segment %s: %zu bytes of an incomplete record after record %lld removed",
			 l->names[l->n - 1], m.len - at, (long long)(expect - 1));
		break;
	}
	seg_unmap(&m);
	err = segment_open(log, l->first_seq[l->n - 1], 0);
	if (err == GV_OK && torn[0] && (ftruncate(log->fd, (off_t)good) != 0 || fdatasync(log->fd) != 0))
		err = GV_ERR_IO;
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot open audit segment %s for writing", path);
		return err;
	}
	log->durable_size = (int64_t)good;
	log->next_seq = log->durable_seq = expect - 1;
	memcpy(log->head, prev, SEG_HASH_LEN);
	memcpy(log->durable_head, prev, SEG_HASH_LEN);
	return GV_OK;
}

/* After a crash the witness may end in part of a line, or lack the lines of the last
 * checkpoints that reached the log: cut the part, and append the missing lines from
 * the checkpoints of the newest segment, so that every checkpoint has its line.  note
 * says what was done ("" if nothing).  Only at open, before the writer runs. */
static gv_err witness_reconcile(struct audit_log *log, char *note, size_t notelen)
{
	char tail[4096], *nl;
	struct seg_map m;
	struct gv_buf add;
	long long last_wseq = 0;
	size_t pos = 0, plen, cut = 0;
	const unsigned char *p, *h;
	int64_t size = log->wit_size, from = size > (int64_t)sizeof(tail) - 1 ?
					 size - (int64_t)sizeof(tail) + 1 : 0;
	ssize_t n = size ? pread(log->witness_fd, tail, (size_t)(size - from), from) : 0;
	gv_err err = GV_OK;

	note[0] = '\0';
	if (n < 0 || (size && n != size - from))
		return GV_ERR_IO;
	tail[n] = '\0';
	if (n && tail[n - 1] != '\n') {
		nl = memrchr(tail, '\n', (size_t)n);
		cut = (size_t)n - (nl ? (size_t)(nl - tail) + 1 : 0);
		if (!nl && from > 0)
			return GV_ERR_STATE;   /* a 4 KiB "line": not ours to repair */
		if (ftruncate(log->witness_fd, size - (int64_t)cut) != 0)
			return GV_ERR_IO;
		log->wit_size = size - (int64_t)cut;
		n -= (ssize_t)cut;
		tail[n] = '\0';
	}
	if (n) {
		tail[n - 1] = '\0';
		nl = strrchr(tail, '\n');
		if (sscanf(nl ? nl + 1 : tail, "%*s %lld", &last_wseq) != 1)
			last_wseq = 0;
	}
	err = seg_map_file(log->seg_path, &m);
	if (err != GV_OK)
		return err;
	buf_init(&add, SEG_FILE_MAX);
	while (err == GV_OK && seg_frame_next(m.data, m.len, &pos, &p, &plen, &h) == SEG_FRAME) {
		struct audit_rec r;
		long long seq;
		char hash[2 * SEG_HASH_LEN + 1], sig[2 * SM2_SIG_MAX + 1];

		if (pos > (size_t)log->durable_size || audit_rec_decode(p, plen, &r) != GV_OK ||
		    r.kind != AUDIT_KIND_CHECKPOINT ||
		    sscanf(r.detail, "seq=%lld hash=%64[0-9a-f] sig=%144[0-9a-f]", &seq, hash, sig) != 3 ||
		    seq <= last_wseq)
			continue;
		err = buf_printf(&add, "%s %lld %s %lld %s\n", r.node, seq, hash, (long long)r.ts_us, sig);
	}
	seg_unmap(&m);
	if (err == GV_OK && add.len) {
		if (util_write_all(log->witness_fd, add.data, add.len) != GV_OK || fdatasync(log->witness_fd) != 0)
			err = GV_ERR_IO;
		else
			log->wit_size += (int64_t)add.len;
	}
	if (err == GV_OK && (cut || add.len))
		snprintf(note, notelen, "witness repaired: %zu bytes of an incomplete line cut, %zu bytes "
			 "of missing checkpoint lines restored from the log", cut, add.len);
	buf_release(&add);
	return err;
}

gv_err audit_open(const struct audit_options *opt, struct audit_log **out, char *errmsg,
		  size_t errlen)
{
	struct audit_log *log = calloc(1, sizeof(*log));
	struct seg_list l = {0};
	char torn[256] = "", repaired[200] = "";
	gv_err err;

	*out = NULL;
	if (!log)
		return GV_ERR_NOMEM;
	log->fd = log->witness_fd = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv_writer, NULL);
	pthread_cond_init(&log->cv_done, NULL);
	pthread_cond_init(&log->cv_notify, NULL);
	log->settled_tail = &log->settled_head;
	buf_init(&log->queue, QUEUE_MAX);
	buf_init(&log->witness, QUEUE_MAX);
	log->wait_tail = &log->wait_head;
	log->cp_records = opt->checkpoint_records;
	log->cp_seconds = opt->checkpoint_seconds;
	log->seg_bytes = opt->segment_bytes;
	log->write_timeout_s = opt->write_timeout_s > 0 ? opt->write_timeout_s : 10;
	if (util_strcpy(log->dir, sizeof(log->dir), opt->dir) != GV_OK ||
	    util_strcpy(log->witness_path, sizeof(log->witness_path), opt->witness_path) != GV_OK ||
	    util_strcpy(log->node, sizeof(log->node), opt->node) != GV_OK) {
		snprintf(errmsg, errlen, "audit paths or node id too long");
		err = GV_ERR_CONFIG;
		goto out;
	}
	err = sm2_key_load(opt->sign_key_path, &log->key);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "%s: cannot load the audit signing key (%s; must exist with mode 0600)",
			 opt->sign_key_path, gv_strerror(err));
		goto out;
	}
	if (mkdir(log->dir, 0700) != 0 && errno != EEXIST) {
		snprintf(errmsg, errlen, "cannot create audit directory %s: %s", log->dir, strerror(errno));
		err = GV_ERR_IO;
		goto out;
	}
	err = witness_open(log);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot open audit witness %s: %s", log->witness_path, strerror(errno));
		goto out;
	}
	err = seg_list_read(log->dir, &l);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot list audit directory %s", log->dir);
		goto out;
	}
	if (l.n == 0) {
		err = segment_open(log, 1, 1);
		if (err != GV_OK)
			snprintf(errmsg, errlen, "cannot create the first audit segment in %s", log->dir);
	} else {
		err = recover_tail(log, &l, torn, sizeof(torn), errmsg, errlen);
	}
	if (err != GV_OK)
		goto out;
	err = witness_reconcile(log, repaired, sizeof(repaired));
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot reconcile the audit witness %s with the log",
			 log->witness_path);
		goto out;
	}
	if (opt->syslog_host && opt->syslog_host[0]) {
		err = audit_syslog_new(opt->syslog_host, opt->syslog_port, log->node, opt->syslog_queue,
				       &log->syslog);
		if (err != GV_OK) {
			snprintf(errmsg, errlen, "cannot start SIEM forwarding to %s:%d", opt->syslog_host,
				 opt->syslog_port);
			goto out;
		}
	}
	__atomic_store_n(&log->available, 1, __ATOMIC_RELEASE);
	log->last_cp_us = util_now_us();
	/* The forwarder exists before the writer thread that reads log->syslog. */
	if (pthread_create(&log->thread, NULL, writer_main, log) != 0) {
		snprintf(errmsg, errlen, "cannot start the audit writer thread");
		err = GV_ERR_NOMEM;
		goto out;
	}
	log->thread_started = 1;
	if (pthread_create(&log->notifier, NULL, notifier_main, log) != 0) {
		snprintf(errmsg, errlen, "cannot start the audit notifier thread");
		err = GV_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_lock(&log->mu);
	log->notifier_started = 1;
	pthread_mutex_unlock(&log->mu);
	if (repaired[0]) {
		log_warn("audit: %s", repaired);
		err = audit_event(log, "system", "audit.witness_repaired", "audit", repaired);
		if (err != GV_OK) {
			snprintf(errmsg, errlen, "cannot record the witness repair");
			goto out;
		}
	}
	if (torn[0]) {
		log_warn("audit: %s", torn);
		err = audit_event(log, "system", "audit.torn_tail_truncated", "audit", torn);
		if (err != GV_OK) {
			snprintf(errmsg, errlen, "cannot record the torn-tail repair");
			goto out;
		}
	}
	*out = log;
	log = NULL;
out:
	seg_list_release(&l);
	audit_close(log);
	return err;
}

void audit_close(struct audit_log *log)
{
	if (!log)
		return;
	if (log->thread_started) {
		pthread_mutex_lock(&log->mu);
		if (log->available && log->since_cp > 0 && chain_checkpoint(log) != GV_OK)
			log_error("audit: cannot sign the closing checkpoint");
		log->stop = 1;
		pthread_cond_signal(&log->cv_writer);
		pthread_mutex_unlock(&log->mu);
		pthread_join(log->thread, NULL);
	}
	if (log->notifier_started) {
		/* The writer settled everything it held; the notifier tells the last ones. */
		pthread_mutex_lock(&log->mu);
		log->notifier_stop = 1;
		pthread_cond_signal(&log->cv_notify);
		pthread_mutex_unlock(&log->mu);
		pthread_join(log->notifier, NULL);
	}
	audit_syslog_free(log->syslog, 2000);
	if (log->fd >= 0)
		close(log->fd);
	if (log->witness_fd >= 0)
		close(log->witness_fd);
	buf_release(&log->queue);
	buf_release(&log->witness);
	sm2_key_free(log->key);
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv_writer);
	pthread_cond_destroy(&log->cv_done);
	pthread_cond_destroy(&log->cv_notify);
	free(log);
}

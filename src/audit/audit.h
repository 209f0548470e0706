/* audit.h - the tamper-evident, fail-closed audit log.
 *
 * Records go to append-only segment files (segment.h) under a hash chain
 * h[n] = SM3(h[n-1] || encoding(record n)).  A writer thread commits them in groups: an
 * appender waits until the fsync that covers its record has returned, so a record is
 * durable before audit_append returns GV_OK, while concurrent appenders share the fsync.
 * Every checkpoint_records records or checkpoint_seconds a checkpoint record carries an
 * SM2 signature over (node, seq, h[seq], time) of the record before it; the same line
 * goes to a witness file in another directory, so truncation or rollback of the log is
 * detectable, not only edits.
 *
 * Fail closed: when a write or fsync fails, or the active segment or the directory is
 * removed, replaced or shrunk (checked every second), the log turns unavailable: every
 * pending and later append fails with GV_ERR_UNAVAILABLE until a new segment can be
 * written, and the first record of that segment says what happened.
 *
 * Locking: one mutex guards the chain state and the queue; encoding, hashing and
 * signing of a checkpoint happen under it (ordering is the chain).  The writer does
 * its group-commit write and fsync outside it; the rare I/O of resumption, segment
 * rotation and the watchdog's stat calls happens under it.  audit_available() reads
 * an atomic flag, and an appender waits at most write_timeout_s before it fails the
 * log, so a hanging disk turns into refusals rather than a pile of blocked threads. */
#ifndef GV_AUDIT_AUDIT_H
#define GV_AUDIT_AUDIT_H

#include <pthread.h>
#include <stdint.h>

#include "audit/record.h"
#include "common/buf.h"
#include "crypto/sm2.h"

struct audit_options {
	const char *dir;              /* segment directory */
	const char *witness_path;     /* checkpoint witness file (another directory) */
	const char *node;
	const char *sign_key_path;    /* SM2 private key (PEM) */
	int checkpoint_records;
	int checkpoint_seconds;
	int64_t segment_bytes;        /* rotate after this size */
	int write_timeout_s;          /* a group write slower than this fails the log */
	const char *syslog_host;      /* NULL or "" = no SIEM forwarding */
	int syslog_port;
	int syslog_queue;
};

struct audit_log;

/* Opens (creating dir if needed) the log, replays the newest segment, repairs a torn
 * tail (recorded as an event) or refuses a damaged one, and starts the writer thread.
 * Verification against signatures and the witness is audit_verify's job (govvaultd
 * runs it at start).  errmsg gets the reason on failure. */
gv_err audit_open(const struct audit_options *opt, struct audit_log **out, char *errmsg,
		  size_t errlen) GV_MUST_CHECK;
/* Writes a final checkpoint, stops the writer and frees; NULL is a no-op. */
void audit_close(struct audit_log *log);

/* Stamps seq, time and node, chains and queues r, and waits until it is durable.
 * GV_ERR_UNAVAILABLE when it could not be made durable: the caller must not serve. */
gv_err audit_append(struct audit_log *log, struct audit_rec *r) GV_MUST_CHECK;
/* Like audit_append without waiting: done(ctx, GV_OK) once r is durable, or
 * done(ctx, GV_ERR_UNAVAILABLE) when it cannot be made so (also after
 * audit.write_timeout_seconds), called exactly once from the log's notifier thread.
 * GV_ERR_UNAVAILABLE at once (done is not called) when the log refuses now. */
typedef void (*audit_done_fn)(void *ctx, gv_err result);
gv_err audit_submit(struct audit_log *log, struct audit_rec *r, audit_done_fn done,
		    void *ctx) GV_MUST_CHECK;
/* A security or system event not tied to a request (start, stop, sweep, lockout...). */
gv_err audit_event(struct audit_log *log, const char *actor, const char *action,
		   const char *object, const char *reason) GV_MUST_CHECK;
/* 1 while appends can succeed; cheap, for refusing work before it starts. */
int audit_available(struct audit_log *log);

struct audit_filter {
	int64_t after_seq;            /* records with seq > after_seq */
	int64_t from_us, to_us;       /* time range, 0 = open */
	int limit;
	const char *actor, *action, *object, *decision;   /* NULL = any; object is a prefix */
};

/* Calls cb for each durable record matching f, in sequence order; cb returns non-zero
 * to stop.  Reads the segment files, never the writer's queue. */
gv_err audit_query(struct audit_log *log, const struct audit_filter *f,
		   int (*cb)(const struct audit_rec *r, void *ctx), void *ctx) GV_MUST_CHECK;

/* Fixed at open: segment directory, witness path and signing key (borrowed). */
void audit_paths(struct audit_log *log, const char **dir, const char **witness,
		 const struct sm2_key **key);
/* Highest sequence known durable. */
int64_t audit_durable_seq(struct audit_log *log);

/* The public half of the signing key, PEM. */
gv_err audit_public_key_pem(struct audit_log *log, struct gv_buf *out) GV_MUST_CHECK;

/* Archives (gzip, with its witness lines, checked by SM3) and then deletes every
 * closed segment whose newest record is older than retention_days before now_us,
 * recording each as an `audit.pruned` event; *pruned counts them. */
gv_err audit_retain(struct audit_log *log, const char *archive_dir, int retention_days,
		    int64_t now_us, int *pruned) GV_MUST_CHECK;

/* Outcome of a verification; `problem` names the first bad record or file exactly. */
struct audit_verify_result {
	int ok;
	int64_t records;              /* records checked */
	int64_t checkpoints;          /* signed checkpoints checked in the log */
	int64_t witnessed;            /* witness lines checked */
	int64_t first_seq, last_seq;
	int64_t bad_seq;              /* 0 when the problem is not one record */
	char problem[512];
	int64_t bytes;
};

/* Verifies the chain of every segment in dir from the first record (or, with
 * tail_only, the last segment chained from its predecessor's stored hash), every
 * checkpoint signature with pub, and every witness line against the log.  from/to
 * (0 = open) restrict which records are reported on; the chain is always checked
 * from the start of the first segment read.  Pure reader: works offline. */
gv_err audit_verify_dir(const char *dir, const char *witness_path, const struct sm2_key *pub,
			int tail_only, struct audit_verify_result *res) GV_MUST_CHECK;
/* The same on the running log (durable records only). */
gv_err audit_verify(struct audit_log *log, int tail_only, struct audit_verify_result *res) GV_MUST_CHECK;

/* The statement the audit key signs when segments are pruned, kept in pruned.state:
 *   "govvault-audit-pruned v1 node=<node> first=<a> last=<b> hash=<h[b] hex> time=<us>" */
gv_err audit_pruned_message(const char *node, int64_t first, int64_t last, const char *hash_hex,
			    int64_t ts_us, char *out, size_t outlen) GV_MUST_CHECK;
/* The node id the log was opened with. */
const char *audit_node(struct audit_log *log);
/* Verifies the running log from its first record through last_seq (durable records
 * only): what retention runs before it archives and deletes a segment. */
gv_err audit_verify_upto(struct audit_log *log, int64_t last_seq,
			 struct audit_verify_result *res) GV_MUST_CHECK;

/* The message a checkpoint signs; independent verifiers rebuild it byte for byte:
 *   "govvault-audit-checkpoint v1 node=<node> seq=<n> hash=<64 hex> time=<us>" */
gv_err audit_checkpoint_message(const char *node, int64_t seq, const char *hash_hex,
				int64_t ts_us, char *out, size_t outlen) GV_MUST_CHECK;

#endif

/* verify.c - reading the audit log back: verification and queries.
 *
 * Verification trusts nothing it reads: it recomputes the chain from the first record
 * it covers, checks sequence continuity across segments, every checkpoint signature
 * against the public key, and every witness line against both the key and the log.
 * It stops at the first problem and names it, because everything after a break is
 * unproven. */
#include "audit/audit.h"

#include <gcrypt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/segment.h"
#include "common/config.h"
#include "common/util.h"

/* One parsed witness line: "<node> <seq> <hash hex> <time us> <signature hex>". */
struct wline {
	char node[64];
	long long seq, ts;
	char hash[2 * SEG_HASH_LEN + 1];
	char sighex[2 * SM2_SIG_MAX + 1];
	unsigned char sig[SM2_SIG_MAX];
	size_t siglen;
	size_t lineno;
};

/* The witness is read alongside the log, in sequence order, so memory stays constant
 * however long the log is.  Only the bytes present when verification started are
 * read: a line appended later may name a checkpoint the segments were read without. */
struct witness_cur {
	FILE *f;
	int64_t left;              /* bytes still to read of the starting size */
	char *buf;
	size_t cap;
	size_t lineno;
	int have;                  /* cur holds the next unmatched line */
	struct wline cur;
};

struct verify_ctx {
	const struct sm2_key *pub;
	struct audit_verify_result *res;
	struct witness_cur *w;     /* NULL: no witness to check */
	int64_t from_seq;          /* witness lines before this are outside the check */
	int live;                  /* the last segment may end in a frame being written */
	int64_t max_seq;           /* records after this one are not examined (0: all) */
	int64_t pruned_seq;        /* pruned.state: records up to this one were archived */
	char pruned_hash[2 * SEG_HASH_LEN + 1];
	int pruned_confirmed;      /* an audit.pruned record in the chain says the same */
};

__attribute__((format(printf, 3, 4)))
static gv_err fail(struct audit_verify_result *res, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (!res->ok)
		return GV_OK;   /* keep the first problem */
	res->ok = 0;
	res->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->problem, sizeof(res->problem), fmt, ap);
	va_end(ap);
	return GV_OK;
}



/* Reads the next witness line into w->cur; w->have = 0 at the end.  A malformed line
 * is a problem of its own. */
static gv_err witness_next(struct verify_ctx *v)
{
	struct witness_cur *w = v->w;
	struct wline *c = &w->cur;
	ssize_t n;

	w->have = 0;
	if (w->left <= 0 || (n = getline(&w->buf, &w->cap, w->f)) <= 0)
		return GV_OK;
	w->left -= n;
	w->lineno++;
	memset(c, 0, sizeof(*c));
	c->lineno = w->lineno;
	if (w->buf[n - 1] != '\n' ||
	    sscanf(w->buf, "%63s %lld %64[0-9a-f] %lld %144[0-9a-f]", c->node, &c->seq, c->hash, &c->ts,
		   c->sighex) != 5 || strlen(c->hash) != 2 * SEG_HASH_LEN || strlen(c->sighex) % 2 ||
	    (c->siglen = strlen(c->sighex) / 2) > SM2_SIG_MAX ||
	    util_hex_decode(c->sighex, c->sig, c->siglen) != GV_OK)
		return fail(v->res, 0, "witness line %zu is malformed", w->lineno);
	w->have = 1;
	return GV_OK;
}

static int wline_signed(const struct verify_ctx *v, const struct wline *c)
{
	char msg[256];

	return audit_checkpoint_message(c->node, c->seq, c->hash, c->ts, msg, sizeof(msg)) == GV_OK &&
	       sm2_verify(v->pub, msg, strlen(msg), c->sig, c->siglen) == GV_OK;
}

/* A witness line with no checkpoint to match in the log, at or before last_seq (the
 * log lost or rewrote it) or after it (the log was cut). */
static gv_err witness_unmatched(struct verify_ctx *v, const struct wline *c, int64_t last_seq)
{
	if (c->seq < v->from_seq)
		return GV_OK;   /* outside the range checked: not even its signature */
	if (!wline_signed(v, c))
		return fail(v->res, c->seq, "witness line %zu (record %lld): signature does not verify",
			    c->lineno, c->seq);
	v->res->witnessed++;
	if (c->seq > last_seq)
		return fail(v->res, c->seq, "the witness has a checkpoint of record %lld but the log "
			    "ends at record %lld: the log was truncated or rolled back", c->seq,
			    (long long)last_seq);
	return fail(v->res, c->seq, "witness line %zu: the log holds no checkpoint for record %lld "
		    "(log replaced or rewritten)", c->lineno, c->seq);
}

/* Matches the witness against a checkpoint verified in the log (signed seq, hash,
 * node, time, signature hex).  An identical line needs no second SM2 verification. */
static gv_err witness_match(struct verify_ctx *v, long long seq, const char *hash,
			    const char *node, int64_t ts, const char *sighex)
{
	struct witness_cur *w = v->w;
	gv_err err = GV_OK;

	if (!w)
		return GV_OK;
	while (err == GV_OK && v->res->ok && w->have && w->cur.seq < seq) {
		err = witness_unmatched(v, &w->cur, seq - 1);
		if (err == GV_OK && v->res->ok)
			err = witness_next(v);
	}
	if (err != GV_OK || !v->res->ok)
		return err;
	if (!w->have || w->cur.seq != seq)
		/* Every checkpoint gets its line once it is durable (and at open after a
		 * crash), so a missing one was removed. */
		return fail(v->res, seq, "the witness has no line for the checkpoint of record %lld "
			    "(witness truncated, emptied or replaced)", seq);
	if (!strcmp(w->cur.hash, hash) && !strcmp(w->cur.node, node) && w->cur.ts == ts &&
	    !strcmp(w->cur.sighex, sighex)) {
		v->res->witnessed++;
	} else if (!wline_signed(v, &w->cur)) {
		return fail(v->res, seq, "witness line %zu (record %lld): signature does not verify",
			    w->cur.lineno, seq);
	} else {
		return fail(v->res, seq, "witness line %zu: the log's checkpoint for record %lld has a "
			    "different hash (log replaced or rewritten)", w->cur.lineno, seq);
	}
	return witness_next(v);
}

/* Checks one checkpoint record whose preceding record hashed to prev. */
static gv_err check_checkpoint(struct verify_ctx *v, const struct audit_rec *r,
			       const unsigned char prev[SEG_HASH_LEN])
{
	long long seq = 0;
	char hash[2 * SEG_HASH_LEN + 1], sighex[2 * SM2_SIG_MAX + 1], want[2 * SEG_HASH_LEN + 1];
	char msg[256];
	unsigned char sig[SM2_SIG_MAX];
	size_t siglen;

	util_hex_encode(prev, SEG_HASH_LEN, want);
	if (sscanf(r->detail, "seq=%lld hash=%64[0-9a-f] sig=%144[0-9a-f]", &seq, hash, sighex) != 3 ||
	    strlen(sighex) % 2 || strlen(sighex) / 2 > SM2_SIG_MAX)
		return fail(v->res, r->seq, "checkpoint %lld: malformed signature field", (long long)r->seq);
	if (seq != r->seq - 1 || strcmp(hash, want) != 0)
		return fail(v->res, r->seq, "checkpoint %lld does not sign the record before it",
			    (long long)r->seq);
	siglen = strlen(sighex) / 2;
	if (util_hex_decode(sighex, sig, siglen) != GV_OK ||
	    audit_checkpoint_message(r->node, seq, hash, r->ts_us, msg, sizeof(msg)) != GV_OK ||
	    sm2_verify(v->pub, msg, strlen(msg), sig, siglen) != GV_OK)
		return fail(v->res, r->seq, "checkpoint %lld: SM2 signature does not verify with the "
			    "audit public key (log rewritten, or another key)", (long long)r->seq);
	v->res->checkpoints++;
	return witness_match(v, seq, hash, r->node, r->ts_us, sighex);
}

/* Link checks of frames [from, to): each frame's stored hash must equal SM3 of the
 * stored hash before it (prev0 for the first frame of the segment) and its payload.
 * Links do not depend on each other's results, so they run on several threads; a
 * chain whose every link holds is the chain the writer made. */
struct link_job {
	const unsigned char *data;
	const size_t *offs;
	size_t from, to;
	const unsigned char *prev0;
	size_t bad;               /* first failing frame, or SIZE_MAX */
	pthread_t thread;
};

static const unsigned char *frame_hash(const unsigned char *data, const size_t *offs, size_t i,
				       size_t *plen)
{
	const unsigned char *f = data + offs[i];

	*plen = ((size_t)f[4] << 24) | ((size_t)f[5] << 16) | ((size_t)f[6] << 8) | f[7];
	return f + SEG_HEAD_LEN + *plen;
}

static void *link_check(void *arg)
{
	struct link_job *j = arg;

	j->bad = SIZE_MAX;
	for (size_t i = j->from; i < j->to; i++) {
		size_t plen, pplen;
		const unsigned char *h = frame_hash(j->data, j->offs, i, &plen);
		const unsigned char *prev = i ? frame_hash(j->data, j->offs, i - 1, &pplen) : j->prev0;
		unsigned char calc[SEG_HASH_LEN];

		seg_chain_hash(prev, j->data + j->offs[i] + SEG_HEAD_LEN, plen, calc);
		if (memcmp(calc, h, SEG_HASH_LEN) != 0) {
			j->bad = i;
			break;
		}
	}
	return NULL;
}

#define LINK_THREADS_MAX 8
#define LINK_PARALLEL_MIN 4096   /* frames; below this threads cost more than they save */

/* First failing link among frames [0, n), using up to the machine's cores. */
static size_t links_check(const unsigned char *data, const size_t *offs, size_t n,
			  const unsigned char *prev0)
{
	struct link_job jobs[LINK_THREADS_MAX];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = n < LINK_PARALLEL_MIN || cores < 2 ? 1 : (size_t)(cores > LINK_THREADS_MAX ?
								    LINK_THREADS_MAX : cores);
	size_t bad = SIZE_MAX;

	for (size_t t = 0; t < nt; t++) {
		jobs[t].data = data;
		jobs[t].offs = offs;
		jobs[t].from = n * t / nt;
		jobs[t].to = n * (t + 1) / nt;
		jobs[t].prev0 = prev0;
		if (t == 0 || pthread_create(&jobs[t].thread, NULL, link_check, &jobs[t]) != 0) {
			jobs[t].thread = 0;
			if (t > 0)
				link_check(&jobs[t]);
		}
	}
	link_check(&jobs[0]);
	for (size_t t = 0; t < nt; t++) {
		if (t > 0 && jobs[t].thread)
			pthread_join(jobs[t].thread, NULL);
		if (jobs[t].bad < bad)
			bad = jobs[t].bad;
	}
	return bad;
}

/* Walks one segment; *expect and prev carry the chain across segments.  A first pass
 * in order checks framing, sequence, checkpoints and pruning records, and collects
 * frame offsets; then the links are checked (in parallel); the problem reported is
 * the one earliest in the file. */
static gv_err verify_segment(struct verify_ctx *v, const char *dir, const char *name,
			     int64_t *expect, unsigned char prev[SEG_HASH_LEN], int last)
{
	char path[GV_PATH_MAX + SEG_NAME_LEN + 2];
	struct audit_verify_result seq_res, *outer = v->res;
	struct seg_map m;
	size_t pos = 0, n = 0, cap = 0, bad;
	size_t *offs = NULL;
	int64_t first = *expect;
	gv_err err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = seg_map_file(path, &m);
	if (err != GV_OK)
		return fail(v->res, 0, "segment %s cannot be read", name);
	outer->bytes += (int64_t)m.len;
	/* Problems of the ordered pass are held back until the links are known. */
	seq_res = *outer;
	v->res = &seq_res;
	while (seq_res.ok) {
		const unsigned char *p, *h, *sprev;
		size_t plen, at = pos, pplen;
		struct audit_rec r;
		int64_t seq, ts;
		int kind;
		enum seg_step st = seg_frame_next(m.data, m.len, &pos, &p, &plen, &h);

		if (st == SEG_END)
			break;
		if (st == SEG_TORN && last && v->live)
			break;   /* a batch being written right now */
		if (st == SEG_TORN) {
			fail(&seq_res, *expect, "segment %s ends with an incomplete record at offset %zu "
			     "(after record %lld)", name, at, (long long)(*expect - 1));
			break;
		}
		if (st == SEG_BAD) {
			fail(&seq_res, *expect, "segment %s: the bytes at offset %zu are not a record frame "
			     "(expected record %lld)", name, at, (long long)*expect);
			break;
		}
		if (audit_rec_peek(p, plen, &seq, &ts, &kind) != GV_OK) {
			fail(&seq_res, *expect, "segment %s offset %zu: record %lld cannot be decoded "
			     "(contents changed)", name, at, (long long)*expect);
			break;
		}
		if (v->max_seq && *expect > v->max_seq)
			break;   /* written after verification started */
		if (seq != *expect) {
			fail(&seq_res, *expect, "segment %s offset %zu: found record %lld where record %lld "
			     "belongs (records deleted, reordered or inserted)", name, at,
			     (long long)seq, (long long)*expect);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			void *q = realloc(offs, ncap * sizeof(*offs));

			if (!q) {
				err = GV_ERR_NOMEM;
				break;
			}
			offs = q;
			cap = ncap;
		}
		offs[n++] = at;
		sprev = n > 1 ? frame_hash(m.data, offs, n - 2, &pplen) : prev;
		if (kind == AUDIT_KIND_EVENT && v->pruned_seq) {
			long long a, b;
			char hash[2 * SEG_HASH_LEN + 1];

			if (audit_rec_decode(p, plen, &r) == GV_OK && !strcmp(r.action, "audit.pruned") &&
			    sscanf(r.reason, "records %lld..%lld last-hash %64[0-9a-f]", &a, &b, hash) == 3 &&
			    b == v->pruned_seq && !strcmp(hash, v->pruned_hash))
				v->pruned_confirmed = 1;
		}
		if (kind == AUDIT_KIND_CHECKPOINT) {
			if (audit_rec_decode(p, plen, &r) != GV_OK) {
				n--;
				fail(&seq_res, seq, "checkpoint %lld cannot be decoded", (long long)seq);
				break;
			}
			err = check_checkpoint(v, &r, sprev);
			if (err != GV_OK)
				break;
			if (!seq_res.ok) {
				n--;   /* the checkpoint itself is the problem */
				break;
			}
		}
		(*expect)++;
	}
	v->res = outer;
	bad = err == GV_OK ? links_check(m.data, offs, n, prev) : SIZE_MAX;
	if (bad != SIZE_MAX) {
		int64_t bseq = first + (int64_t)bad;

		fail(outer, bseq, "record %lld (segment %s offset %zu): chain hash does not match its "
		     "contents or its predecessor (record changed)", (long long)bseq, name, offs[bad]);
		n = bad;
	} else if (!seq_res.ok) {
		*outer = seq_res;
	}
	outer->checkpoints = seq_res.checkpoints;
	outer->witnessed = seq_res.witnessed;
	if (n) {
		size_t plen;

		memcpy(prev, frame_hash(m.data, offs, n - 1, &plen), SEG_HASH_LEN);
		if (!outer->first_seq)
			outer->first_seq = first;
		outer->last_seq = first + (int64_t)n - 1;
		outer->records += (int64_t)n;
	}
	*expect = first + (int64_t)n;
	free(offs);
	seg_unmap(&m);
	return err;
}

/* pruned.state is "last hash first time node sig": the signature covers
 * audit_pruned_message(node, first, last, hash, time). */
static gv_err pruned_state_signed(const char *dir, const struct sm2_key *pub)
{
	char path[GV_PATH_MAX + 16], *text = NULL, hash[2 * SEG_HASH_LEN + 1], node[64];
	char sighex[2 * SM2_SIG_MAX + 1], msg[256];
	unsigned char sig[SM2_SIG_MAX];
	long long last, first, ts;
	size_t siglen;
	gv_err err;

	snprintf(path, sizeof(path), "%s/pruned.state", dir);
	err = util_file_read(path, 4096, &text, NULL);
	if (err != GV_OK)
		return err;
	err = GV_ERR_CRYPTO;
	if (sscanf(text, "%lld %64[0-9a-f] %lld %lld %63s %144[0-9a-f]", &last, hash, &first, &ts, node,
		   sighex) == 6 && strlen(sighex) % 2 == 0 &&
	    util_hex_decode(sighex, sig, siglen = strlen(sighex) / 2) == GV_OK &&
	    audit_pruned_message(node, first, last, hash, ts, msg, sizeof(msg)) == GV_OK &&
	    sm2_verify(pub, msg, strlen(msg), sig, siglen) == GV_OK)
		err = GV_OK;
	free(text);
	return err;
}

static gv_err verify_dir(const char *dir, const char *witness_path, const struct sm2_key *pub,
			 int tail_only, int live, int64_t max_seq, struct audit_verify_result *res)
{
	struct verify_ctx v = {pub, res, NULL, 0, live, max_seq, 0, "", 0};
	struct witness_cur w = {0};
	struct seg_list l;
	unsigned char prev[SEG_HASH_LEN] = {0};
	int64_t expect = 1;
	size_t start = 0;
	gv_err err;

	memset(res, 0, sizeof(*res));
	res->ok = 1;
	if (witness_path) {
		struct stat st;

		/* Opened, and its size taken, before any segment is read (see witness_cur). */
		w.f = fopen(witness_path, "re");
		if (!w.f || fstat(fileno(w.f), &st) != 0) {
			if (w.f)
				fclose(w.f);
			fail(res, 0, "witness file %s cannot be read", witness_path);
			return GV_OK;
		}
		w.left = st.st_size;
		v.w = &w;
	}
	err = seg_list_read(dir, &l);
	if (err != GV_OK) {
		fail(res, 0, "audit directory %s cannot be listed", dir);
		err = GV_OK;
		goto out_list;
	}
	if (l.n == 0) {
		fail(res, 0, "no audit segments in %s", dir);
		goto out;
	}
	if (tail_only && l.n > 1) {
		/* The tail is chained from its predecessor's stored last hash: that hash is
		 * itself checked when the full log is verified. */
		char path[GV_PATH_MAX + SEG_NAME_LEN + 2];
		struct seg_map m;
		const unsigned char *p, *h;
		size_t plen;

		start = l.n - 1;
		expect = l.first_seq[start];
		snprintf(path, sizeof(path), "%s/%s", dir, l.names[start - 1]);
		if (seg_map_file(path, &m) == GV_OK) {
			if (seg_last_frame(m.data, m.len, &p, &plen, &h))
				memcpy(prev, h, SEG_HASH_LEN);
			seg_unmap(&m);
		}
	}
	if (start == 0 && l.first_seq[0] > 1) {
		/* The oldest records were archived: continue from the hash noted at pruning,
		 * which the audit key signed when the segments were pruned. */
		int64_t last = 0;

		if (seg_pruned_state(dir, &last, prev, v.pruned_hash) != GV_OK ||
		    last + 1 != l.first_seq[0]) {
			fail(res, 1, "the log starts at record %lld: records 1..%lld are missing and no "
			     "pruning accounts for them", (long long)l.first_seq[0],
			     (long long)l.first_seq[0] - 1);
			goto out;
		}
		if (pruned_state_signed(dir, pub) != GV_OK) {
			fail(res, last, "pruned.state (records up to %lld archived) is not signed by the "
			     "audit key: the missing records are unexplained", (long long)last);
			goto out;
		}
		v.pruned_seq = last;
		expect = l.first_seq[0];
	}
	v.from_seq = l.first_seq[start];
	if (v.w)
		err = witness_next(&v);
	for (size_t i = start; i < l.n && res->ok && err == GV_OK; i++) {
		if (max_seq && expect > max_seq)
			break;
		if (l.first_seq[i] != expect) {
			fail(res, expect, "segment %s starts at record %lld but record %lld comes next: "
			     "records %s", l.names[i], (long long)l.first_seq[i], (long long)expect,
			     l.first_seq[i] > expect ? "are missing (segment deleted?)" : "overlap");
			break;
		}
		err = verify_segment(&v, dir, l.names[i], &expect, prev, i + 1 == l.n);
	}
	/* The signature on pruned.state is the proof; the chained record is checked too
	 * when the whole log was read (a bounded read may stop before it). */
	if (err == GV_OK && res->ok && v.pruned_seq && !v.pruned_confirmed && !max_seq)
		fail(res, v.pruned_seq, "pruned.state says records up to %lld were archived, but no "
		     "audit.pruned record in the log confirms it", (long long)v.pruned_seq);
	/* What the witness holds beyond the last checkpoint of the log (a line past
	 * max_seq belongs to records this verification did not cover). */
	while (err == GV_OK && res->ok && v.w && w.have && !(max_seq && w.cur.seq > max_seq)) {
		err = witness_unmatched(&v, &w.cur, res->last_seq);
		if (err == GV_OK && res->ok)
			err = witness_next(&v);
	}
out:
	seg_list_release(&l);
out_list:
	if (w.f)
		fclose(w.f);
	free(w.buf);
	return err;
}

gv_err audit_verify_upto(struct audit_log *log, int64_t last_seq, struct audit_verify_result *res)
{
	const char *dir, *witness;
	const struct sm2_key *key;
	int64_t durable = audit_durable_seq(log);

	audit_paths(log, &dir, &witness, &key);
	return verify_dir(dir, witness, key, 0, 1, last_seq < durable ? last_seq : durable, res);
}

gv_err audit_verify_dir(const char *dir, const char *witness_path, const struct sm2_key *pub,
			int tail_only, struct audit_verify_result *res)
{
	return verify_dir(dir, witness_path, pub, tail_only, 0, 0, res);
}

/* Reads the running log's paths and key; see audit.c for the struct. */
gv_err audit_verify(struct audit_log *log, int tail_only, struct audit_verify_result *res)
{
	const char *dir, *witness;
	const struct sm2_key *key;

	/* Durable first, witness size second (verify_dir): every checkpoint up to here
	 * has its witness line within what will be read. */
	int64_t durable = audit_durable_seq(log);

	audit_paths(log, &dir, &witness, &key);
	return verify_dir(dir, witness, key, tail_only, 1, durable, res);
}

static int rec_matches(const struct audit_filter *f, const struct audit_rec *r)
{
	if (r->seq <= f->after_seq)
		return 0;
	if ((f->from_us && r->ts_us < f->from_us) || (f->to_us && r->ts_us >= f->to_us))
		return 0;
	if ((f->actor && strcmp(f->actor, r->actor)) || (f->action && strcmp(f->action, r->action)) ||
	    (f->decision && strcmp(f->decision, r->decision)))
		return 0;
	return !f->object || strncmp(f->object, r->object, strlen(f->object)) == 0;
}

gv_err audit_query(struct audit_log *log, const struct audit_filter *f,
		   int (*cb)(const struct audit_rec *r, void *ctx), void *ctx)
{
	const char *dir, *witness;
	const struct sm2_key *key;
	struct seg_list l;
	int64_t durable = audit_durable_seq(log);
	int stop = 0, sent = 0;
	gv_err err;

	audit_paths(log, &dir, &witness, &key);
	err = seg_list_read(dir, &l);
	if (err != GV_OK)
		return GV_ERR_UNAVAILABLE;
	for (size_t i = 0; i < l.n && !stop; i++) {
		char path[GV_PATH_MAX + SEG_NAME_LEN + 2];
		struct seg_map m;
		size_t pos = 0;
		const unsigned char *p, *h;
		size_t plen;

		/* Whole segments before the cursor are skipped by name. */
		if (i + 1 < l.n && l.first_seq[i + 1] <= f->after_seq + 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, l.names[i]);
		if (seg_map_file(path, &m) != GV_OK)
			continue;
		while (!stop && seg_frame_next(m.data, m.len, &pos, &p, &plen, &h) == SEG_FRAME) {
			struct audit_rec r;

			if (audit_rec_decode(p, plen, &r) != GV_OK)
				break;
			if (r.seq > durable) {
				stop = 1;
				break;
			}
			if (!rec_matches(f, &r))
				continue;
			if (cb(&r, ctx) || ++sent >= f->limit)
				stop = 1;
		}
		seg_unmap(&m);
	}
	seg_list_release(&l);
	return GV_OK;
}

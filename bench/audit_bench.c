/* audit_bench.c - audit log throughput with same-run baselines.
 *   audit_bench append DIR THREADS SECONDS   durable audited appends/s (group commit)
 *   audit_bench fsync FILE SECONDS           baseline: one writer, write + fdatasync
 *   audit_bench verify DIR                   verification MB/s and raw SM3 MB/s
 * Each prints one number per line as "name value". */
#include <fcntl.h>
#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/segment.h"
#include "common/log.h"
#include "common/util.h"
#include "crypto/crypto.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
	struct audit_log *log;
	double until;
	long done;
};

static void *append_loop(void *arg)
{
	struct worker *w = arg;

	while (now_s() < w->until) {
		struct audit_rec r;

		memset(&r, 0, sizeof(r));
		r.kind = AUDIT_KIND_REQUEST;
		r.status = 200;
		snprintf(r.actor, sizeof(r.actor), "analyst%ld", w->done % 100);
		snprintf(r.roles, sizeof(r.roles), "analyst");
		snprintf(r.source, sizeof(r.source), "127.0.0.1");
		snprintf(r.action, sizeof(r.action), "record.read");
		snprintf(r.object, sizeof(r.object), "dataset:population/record:%ld", w->done);
		snprintf(r.decision, sizeof(r.decision), "permit");
		snprintf(r.reason, sizeof(r.reason), "grant 17");
		if (audit_append(w->log, &r) != GV_OK) {
			fprintf(stderr, "append failed\n");
			exit(1);
		}
		w->done++;
	}
	return NULL;
}

static int bench_append(const char *dir, int threads, int seconds)
{
	char key[512], witness[512], err[512];
	struct sm2_key *k = NULL;
	struct audit_options opt = {0};
	struct audit_log *log = NULL;
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	double start;
	long total = 0;

	snprintf(key, sizeof(key), "%s.key.pem", dir);
	snprintf(witness, sizeof(witness), "%s.witness", dir);
	unlink(key);
	if (!w || !t || sm2_key_generate(&k) != GV_OK || sm2_key_save(k, key) != GV_OK)
		return 1;
	sm2_key_free(k);
	opt.dir = dir;
	opt.witness_path = witness;
	opt.node = "bench";
	opt.sign_key_path = key;
	opt.checkpoint_records = 10000;   /* the daemon's default */
	opt.checkpoint_seconds = 10;
	opt.segment_bytes = (int64_t)64 << 20;
	if (audit_open(&opt, &log, err, sizeof(err)) != GV_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	start = now_s();
	for (int i = 0; i < threads; i++) {
		w[i].log = log;
		w[i].until = start + seconds;
		pthread_create(&t[i], NULL, append_loop, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	printf("appends_per_s %.1f\n", (double)total / (now_s() - start));
	audit_close(log);
	free(w);
	free(t);
	return 0;
}

static int bench_fsync(const char *path, int seconds)
{
	char rec[320];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	double start = now_s();
	long n = 0;

	if (fd < 0)
		return 1;
	memset(rec, 'a', sizeof(rec));
	while (now_s() - start < seconds) {
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || fdatasync(fd) != 0)
			return 1;
		n++;
	}
	printf("fsync_writes_per_s %.1f\n", (double)n / (now_s() - start));
	close(fd);
	unlink(path);
	return 0;
}

static int bench_verify(const char *dir, const char *witness, const char *key_path)
{
	struct audit_verify_result v;
	struct sm2_key *k = NULL;
	struct seg_list l;
	unsigned char d[32];
	double t0, t1, sm3_s = 0;
	int64_t bytes = 0;

	if (sm2_key_load(key_path, &k) != GV_OK)
		return 1;
	t0 = now_s();
	if (audit_verify_dir(dir, witness, k, 0, &v) != GV_OK || !v.ok) {
		fprintf(stderr, "verify failed: %s\n", v.problem);
		return 1;
	}
	t1 = now_s();
	/* The baseline reads the same files the same way and hashes them in one SM3 pass:
	 * what "checking a file" costs at the least, so the ratio is the price of the
	 * chain, the sequence checks and the signatures. */
	if (seg_list_read(dir, &l) != GV_OK)
		return 1;
	for (size_t i = 0; i < l.n; i++) {
		char path[1024];
		struct seg_map m;
		double s;

		snprintf(path, sizeof(path), "%s/%s", dir, l.names[i]);
		s = now_s();
		if (seg_map_file(path, &m) != GV_OK)
			return 1;
		gcry_md_hash_buffer(GCRY_MD_SM3, d, m.data, m.len);
		sm3_s += now_s() - s;
		bytes += (int64_t)m.len;
		seg_unmap(&m);
	}
	seg_list_release(&l);
	printf("verify_records %lld\nverify_mb_per_s %.1f\nread_sm3_mb_per_s %.1f\n", (long long)v.records,
	       (double)v.bytes / 1e6 / (t1 - t0), (double)bytes / 1e6 / sm3_s);
	sm2_key_free(k);
	return 0;
}

int main(int argc, char **argv)
{
	if (log_open(NULL, GV_LOG_ERROR) != GV_OK || crypto_init() != GV_OK)
		return 1;
	if (argc == 5 && !strcmp(argv[1], "append"))
		return bench_append(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "fsync"))
		return bench_fsync(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "verify"))
		return bench_verify(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: audit_bench append DIR THREADS SECONDS | fsync FILE SECONDS | "
			"verify DIR WITNESS KEY\n");
	return 2;
}

/* test_audit.c - the audit log: canonical encoding, chain, checkpoints and witness,
 * tamper detection naming the first bad record, torn-tail repair, fail-closed and
 * resumption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/segment.h"
#include "common/log.h"
#include "common/util.h"
#include "crypto/crypto.h"

struct fixture {
	char dir[64];
	char seg_dir[128];
	char witness[160];
	char key[128];
	struct sm2_key *pub;
	struct audit_options opt;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sm2_key *k = NULL;
	struct gv_buf pem;

	snprintf(f->dir, sizeof(f->dir), "/tmp/gvauditXXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->seg_dir, sizeof(f->seg_dir), "%s/audit", f->dir);
	snprintf(f->witness, sizeof(f->witness), "%s/witness/checkpoints.log", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/sign.pem", f->dir);
	buf_init(&pem, 4096);
	if (sm2_key_generate(&k) != GV_OK || sm2_key_save(k, f->key) != GV_OK ||
	    sm2_pubkey_pem(k, &pem) != GV_OK || sm2_pubkey_from_pem(pem.data, pem.len, &f->pub) != GV_OK)
		return -1;
	buf_release(&pem);
	sm2_key_free(k);
	f->opt.dir = f->seg_dir;
	f->opt.witness_path = f->witness;
	f->opt.node = "node-t";
	f->opt.sign_key_path = f->key;
	f->opt.checkpoint_records = 5;
	f->opt.checkpoint_seconds = 3600;
	f->opt.segment_bytes = 1 << 20;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	sm2_key_free(f->pub);
	free(f);
	return 0;
}

static void append_n(struct audit_log *log, int n, const char *action)
{
	for (int i = 0; i < n; i++) {
		struct audit_rec r;

		memset(&r, 0, sizeof(r));
		r.kind = AUDIT_KIND_REQUEST;
		r.status = 200;
		snprintf(r.actor, sizeof(r.actor), "user%d", i);
		snprintf(r.action, sizeof(r.action), "%s", action);
		snprintf(r.object, sizeof(r.object), "account:user%d", i);
		snprintf(r.decision, sizeof(r.decision), "permit");
		assert_int_equal(audit_append(log, &r), GV_OK);
		assert_true(r.seq > 0);
	}
}

/* A log of n request records (plus checkpoints), closed. */
static void make_log(struct fixture *f, int n)
{
	struct audit_log *log = NULL;
	char err[256];

	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, n, "test.op");
	audit_close(log);
}

static void verify(struct fixture *f, struct audit_verify_result *v)
{
	assert_int_equal(audit_verify_dir(f->seg_dir, f->witness, f->pub, 0, v), GV_OK);
}

static void segment_path(struct fixture *f, int64_t first, char *out, size_t len)
{
	char name[SEG_NAME_LEN];

	seg_name(first, name);
	snprintf(out, len, "%s/%s", f->seg_dir, name);
}

/* Byte offsets of the frames of a segment file. */
static size_t frame_offsets(const char *path, size_t *offs, size_t max, size_t *file_len)
{
	struct seg_map m;
	size_t pos = 0, n = 0, plen;
	const unsigned char *p, *h;

	assert_int_equal(seg_map_file(path, &m), GV_OK);
	while (n < max) {
		size_t at = pos;

		if (seg_frame_next(m.data, m.len, &pos, &p, &plen, &h) != SEG_FRAME)
			break;
		offs[n++] = at;
	}
	offs[n] = pos;
	*file_len = m.len;
	seg_unmap(&m);
	return n;
}

static int count_cb(const struct audit_rec *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static void test_encoding_round_trip(void **state)
{
	struct audit_rec r, back;
	struct gv_buf b;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.seq = 42;
	r.ts_us = 1700000000123456;
	r.kind = AUDIT_KIND_EVENT;
	r.status = -1;
	snprintf(r.actor, sizeof(r.actor), "张三");
	snprintf(r.reason, sizeof(r.reason), "why \"quoted\"");
	buf_init(&b, AUDIT_REC_MAX);
	assert_int_equal(audit_rec_encode(&r, &b), GV_OK);
	assert_int_equal(audit_rec_decode((unsigned char *)b.data, b.len, &back), GV_OK);
	assert_memory_equal(&r, &back, sizeof(r));
	/* Strict: trailing bytes, a short buffer, a bad kind all refused. */
	assert_int_equal(audit_rec_decode((unsigned char *)b.data, b.len - 1, &back), GV_ERR_INVALID);
	b.data[b.len] = 'x';
	assert_int_equal(audit_rec_decode((unsigned char *)b.data, b.len + 1, &back), GV_ERR_INVALID);
	b.data[16] = 9;
	assert_int_equal(audit_rec_decode((unsigned char *)b.data, b.len, &back), GV_ERR_INVALID);
	buf_release(&b);
}

static void test_chain_checkpoints_and_witness(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_filter flt = {.limit = 1000, .action = "test.op"};
	struct audit_log *log = NULL;
	char err[256];
	int n = 0;

	make_log(f, 12);
	verify(f, &v);
	assert_true(v.ok);
	/* 12 records + a checkpoint after every 5 + the closing checkpoint. */
	assert_int_equal(v.records, 15);
	assert_int_equal(v.checkpoints, 3);
	assert_int_equal(v.witnessed, 3);
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	assert_int_equal(audit_query(log, &flt, count_cb, &n), GV_OK);
	audit_close(log);
	assert_int_equal(n, 12);
}

static void test_changed_byte_is_named(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	char path[256];
	size_t offs[64], len;
	int fd;
	char c;

	make_log(f, 8);
	segment_path(f, 1, path, sizeof(path));
	assert_true(frame_offsets(path, offs, 63, &len) >= 4);
	/* A byte of record 3's actor ("user2"): frame head, fixed part, node, request id,
	 * actor length. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)offs[2] + 8 + 21 + 2 + 6 + 2 + 2), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)offs[2] + 8 + 21 + 2 + 6 + 2 + 2), 1);
	close(fd);
	verify(f, &v);
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, 3);
	assert_non_null(strstr(v.problem, "record 3 (segment"));
	assert_non_null(strstr(v.problem, "record changed"));
}

/* Rewrites the segment with the frames in `order` (indexes into the original). */
static void rewrite_frames(const char *path, const int *order, int n)
{
	struct seg_map m;
	size_t offs[64], len;
	size_t cnt = frame_offsets(path, offs, 63, &len);
	struct gv_buf out;

	assert_int_equal(seg_map_file(path, &m), GV_OK);
	buf_init(&out, 1 << 20);
	for (int i = 0; i < n; i++) {
		assert_true((size_t)order[i] < cnt);
		assert_int_equal(buf_append(&out, m.data + offs[order[i]], offs[order[i] + 1] - offs[order[i]]), GV_OK);
	}
	seg_unmap(&m);
	assert_int_equal(util_file_write(path, out.data, out.len, 0600), GV_OK);
	buf_release(&out);
}

static void test_deleted_record_is_named(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	char path[256];
	static const int order[] = {0, 1, 3, 4, 5, 6, 7, 8};

	make_log(f, 8);
	segment_path(f, 1, path, sizeof(path));
	rewrite_frames(path, order, 8);
	verify(f, &v);
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, 3);
	assert_non_null(strstr(v.problem, "found record 4 where record 3 belongs"));
}

static void test_swapped_records_are_named(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	char path[256];
	static const int order[] = {0, 1, 3, 2, 4, 5, 6, 7, 8, 9};

	make_log(f, 8);
	segment_path(f, 1, path, sizeof(path));
	rewrite_frames(path, order, 10);
	verify(f, &v);
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, 3);
}

static void test_truncated_tail_is_caught_by_the_witness(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	char path[256];
	static const int order[] = {0, 1, 2, 3};

	make_log(f, 8);   /* records 1-5, cp 6, 7-9, closing cp 10 */
	segment_path(f, 1, path, sizeof(path));
	rewrite_frames(path, order, 4);   /* a clean cut after record 4: the chain is intact */
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "truncated or rolled back"));
}

static void test_shorter_valid_looking_log_is_caught(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	char cmd[1024];

	make_log(f, 3);
	snprintf(cmd, sizeof(cmd), "cp -r %s %s.short && cp %s %s.short-witness", f->seg_dir,
		 f->seg_dir, f->witness, f->seg_dir);
	assert_int_equal(system(cmd), 0);
	/* The real log grows on. */
	{
		struct audit_log *log = NULL;
		char err[256];

		assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
		append_n(log, 10, "test.more");
		audit_close(log);
	}
	/* An attacker puts back the old, shorter but internally valid log. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mv %s.short %s", f->seg_dir, f->seg_dir, f->seg_dir);
	assert_int_equal(system(cmd), 0);
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "truncated or rolled back"));
}

static void test_torn_tail_is_repaired_and_recorded(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	char path[256], err[256];
	const char junk[] = "GVA1\x00\x00\x01\x00partial";
	int fd;

	make_log(f, 3);
	segment_path(f, 1, path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
	close(fd);
	verify(f, &v);
	assert_false(v.ok);   /* offline, the torn tail is reported */
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	audit_close(log);
	verify(f, &v);
	assert_true(v.ok);
	{
		struct audit_filter flt = {.limit = 10, .action = "audit.torn_tail_truncated"};
		int n = 0;

		assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
		assert_int_equal(audit_query(log, &flt, count_cb, &n), GV_OK);
		audit_close(log);
		assert_int_equal(n, 1);
	}
}

static void test_damage_before_valid_records_refuses_to_open(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log = NULL;
	char path[256], err[256];
	size_t offs[64], len;
	int fd;
	char c = 'Z';

	make_log(f, 4);
	segment_path(f, 1, path, sizeof(path));
	frame_offsets(path, offs, 63, &len);
	fd = open(path, O_RDWR);
	assert_int_equal(pwrite(fd, &c, 1, (off_t)offs[1] + 30), 1);
	close(fd);
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_ERR_STATE);
	assert_null(log);
	assert_non_null(strstr(err, "damaged"));
}

static void test_removed_directory_fails_closed_then_resumes(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	struct audit_rec r;
	char err[256], cmd[512];
	int waited = 0;

	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, 3, "test.before");
	snprintf(cmd, sizeof(cmd), "mv %s %s.gone", f->seg_dir, f->seg_dir);
	assert_int_equal(system(cmd), 0);
	/* The watchdog notices within seconds ... */
	while (audit_available(log) && waited < 50) {
		usleep(100000);
		waited++;
	}
	assert_false(audit_available(log));
	memset(&r, 0, sizeof(r));
	snprintf(r.action, sizeof(r.action), "test.refused");
	r.kind = AUDIT_KIND_REQUEST;
	assert_int_equal(audit_append(log, &r), GV_ERR_UNAVAILABLE);
	/* ... and writing resumes by itself, in a new segment that says why. */
	waited = 0;
	while (!audit_available(log) && waited < 50) {
		usleep(100000);
		waited++;
	}
	assert_true(audit_available(log));
	append_n(log, 2, "test.after");
	audit_close(log);
	verify(f, &v);
	assert_false(v.ok);   /* the moved-away records are missing from audit/ */
	assert_non_null(strstr(v.problem, "missing"));
}

static void test_retention_archives_then_prunes(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	char err[256], arc[160], cmd[1024], state_path[200];
	struct seg_list before, after;
	int pruned = -1;

	f->opt.segment_bytes = 2048;
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, 60, "test.old");
	assert_int_equal(seg_list_read(f->seg_dir, &before), GV_OK);
	assert_true(before.n >= 4);
	snprintf(arc, sizeof(arc), "%s/archive", f->dir);
	/* Nothing is past a year yet. */
	assert_int_equal(audit_retain(log, arc, 365, util_now_us(), &pruned), GV_OK);
	assert_int_equal(pruned, 0);
	/* 400 days on, every closed segment goes, archived first. */
	assert_int_equal(audit_retain(log, arc, 365, util_now_us() + (int64_t)400 * 86400 * 1000000,
				      &pruned), GV_OK);
	assert_int_equal(pruned, (int)before.n - 1);
	assert_int_equal(seg_list_read(f->seg_dir, &after), GV_OK);
	assert_true(after.first_seq[0] > 1);
	snprintf(cmd, sizeof(cmd), "gzip -t %s/%s.gz && test -s %s/%s.gz && test -f %s/%s.checkpoints",
		 arc, before.names[0], arc, before.names[0], arc, before.names[0]);
	assert_int_equal(system(cmd), 0);
	append_n(log, 3, "test.new");
	audit_close(log);
	/* Verification continues across the archived range, and so does reopening. */
	verify(f, &v);
	assert_true(v.ok);
	assert_int_equal(v.first_seq, after.first_seq[0]);
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	audit_close(log);
	/* Without the pruning state, the gap is unexplained. */
	snprintf(state_path, sizeof(state_path), "%s/pruned.state", f->seg_dir);
	assert_int_equal(unlink(state_path), 0);
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "missing"));
	seg_list_release(&before);
	seg_list_release(&after);
}

static void test_forged_pruning_state_is_refused(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	char err[256], arc[160], state_path[200], *text = NULL, *sp;
	int pruned = 0;

	f->opt.segment_bytes = 2048;
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, 40, "test.old");
	snprintf(arc, sizeof(arc), "%s/archive", f->dir);
	assert_int_equal(audit_retain(log, arc, 365, util_now_us() + (int64_t)400 * 86400 * 1000000,
				      &pruned), GV_OK);
	assert_true(pruned > 0);
	audit_close(log);
	verify(f, &v);
	assert_true(v.ok);
	/* Claiming a different first record breaks the signature. */
	snprintf(state_path, sizeof(state_path), "%s/pruned.state", f->seg_dir);
	assert_int_equal(util_file_read(state_path, 4096, &text, NULL), GV_OK);
	sp = strchr(strchr(text, ' ') + 1, ' ') + 1;   /* the "first" field */
	*sp = *sp == '1' ? '2' : '1';
	assert_int_equal(util_file_write(state_path, text, strlen(text), 0600), GV_OK);
	free(text);
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "not signed"));
}

static void test_tampered_segment_is_not_pruned(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log = NULL;
	char err[256], arc[160], path[256];
	size_t offs[64], len;
	int pruned = -1, fd;
	char c;

	f->opt.segment_bytes = 2048;
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, 40, "test.old");
	segment_path(f, 1, path, sizeof(path));
	frame_offsets(path, offs, 63, &len);
	fd = open(path, O_RDWR);
	assert_int_equal(pread(fd, &c, 1, (off_t)offs[1] + 60), 1);
	c ^= 1;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)offs[1] + 60), 1);
	close(fd);
	snprintf(arc, sizeof(arc), "%s/archive", f->dir);
	assert_int_equal(audit_retain(log, arc, 365, util_now_us() + (int64_t)400 * 86400 * 1000000,
				      &pruned), GV_ERR_STATE);
	assert_int_equal(pruned, 0);
	assert_int_equal(access(path, F_OK), 0);   /* the evidence stays */
	audit_close(log);
}

static void test_witness_is_repaired_at_open_and_required(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	char err[256], *text = NULL;
	size_t len = 0;
	int fd;

	make_log(f, 12);   /* checkpoints: signed 5, 11, 14 */
	/* A crash cut the last witness line in half. */
	assert_int_equal(util_file_read(f->witness, 1 << 20, &text, &len), GV_OK);
	assert_int_equal(truncate(f->witness, (off_t)(len - 40)), 0);
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "malformed"));
	/* Opening cuts the part and restores the missing line from the log. */
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	audit_close(log);
	verify(f, &v);
	assert_true(v.ok);
	/* A witness emptied by someone is not a witness with nothing to say. */
	fd = open(f->witness, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	verify(f, &v);
	assert_false(v.ok);
	assert_non_null(strstr(v.problem, "has no line"));
	free(text);
}

static void test_hanging_write_turns_into_refusals(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result v;
	struct audit_log *log = NULL;
	struct audit_rec r;
	char err[256];
	int64_t t0;
	int waited = 0;

	f->opt.write_timeout_s = 1;
	assert_int_equal(audit_open(&f->opt, &log, err, sizeof(err)), GV_OK);
	append_n(log, 2, "test.before");
	/* The next group write hangs for 2.5 s (test builds only). */
	setenv("GOVVAULT_FAULT_AUDIT_STALL_MS", "2500", 1);
	memset(&r, 0, sizeof(r));
	r.kind = AUDIT_KIND_REQUEST;
	snprintf(r.action, sizeof(r.action), "test.stalled");
	t0 = util_now_us();
	assert_int_equal(audit_append(log, &r), GV_ERR_UNAVAILABLE);
	assert_true(util_now_us() - t0 < 2000000);   /* refused after the timeout, not the stall */
	assert_false(audit_available(log));
	unsetenv("GOVVAULT_FAULT_AUDIT_STALL_MS");
	/* Once the write returns, the writer resumes by itself. */
	while (!audit_available(log) && waited < 80) {
		usleep(100000);
		waited++;
	}
	assert_true(audit_available(log));
	append_n(log, 2, "test.after");
	audit_close(log);
	verify(f, &v);
	assert_true(v.ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_round_trip),
		cmocka_unit_test_setup_teardown(test_chain_checkpoints_and_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_byte_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_record_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_records_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_tail_is_caught_by_the_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shorter_valid_looking_log_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_is_repaired_and_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_before_valid_records_refuses_to_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_directory_fails_closed_then_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_archives_then_prunes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_pruning_state_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_segment_is_not_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_witness_is_repaired_at_open_and_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hanging_write_turns_into_refusals, setup, teardown),
	};

	if (log_open(NULL, GV_LOG_ERROR) != GV_OK || crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

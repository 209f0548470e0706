/* retention.c - archiving and pruning of segments past the retention period.
 *
 * A closed segment whose newest record is older than the retention period is, in this
 * order: compressed into the archive directory with the witness lines that cover it,
 * read back and compared by SM3 with the original, recorded as an `audit.pruned`
 * event (range and last hash, itself chained and signed by the next checkpoint), noted
 * in audit/pruned.state, and only then deleted.  Verification continues across the
 * gap from the state file, which an `audit.pruned` record in the chain must confirm.
 * Only the oldest segments go, one after another, so the log stays one run. */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "audit/segment.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"

/* Time, sequence and stored chain hash of the last record of a segment image. */
static int last_record(const struct seg_map *m, int64_t *ts_us, int64_t *seq,
		       unsigned char hash[SEG_HASH_LEN])
{
	const unsigned char *p, *h;
	size_t plen;
	int kind;

	if (!seg_last_frame(m->data, m->len, &p, &plen, &h) ||
	    audit_rec_peek(p, plen, seq, ts_us, &kind) != GV_OK)
		return 0;
	memcpy(hash, h, SEG_HASH_LEN);
	return 1;
}

/* Writes data gzip-compressed to path (0600, fsynced). */
static gv_err gzip_write(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), dupfd;
	gzFile gz;
	gv_err err = GV_OK;

	if (fd < 0)
		return GV_ERR_IO;
	dupfd = dup(fd);
	gz = dupfd >= 0 ? gzdopen(dupfd, "wb9") : NULL;
	if (!gz) {
		if (dupfd >= 0)
			close(dupfd);
		close(fd);
		return GV_ERR_IO;
	}
	while (len && err == GV_OK) {
		unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;

		if (gzwrite(gz, data, chunk) != (int)chunk)
			err = GV_ERR_IO;
		data += chunk;
		len -= chunk;
	}
	if (gzclose(gz) != Z_OK)
		err = GV_ERR_IO;
	if (err == GV_OK && fsync(fd) != 0)
		err = GV_ERR_IO;
	close(fd);
	return err;
}

/* SM3 of the decompressed archive, to prove it before the original goes. */
static gv_err gzip_sm3(const char *path, unsigned char out[32])
{
	gzFile gz = gzopen(path, "rb");
	gcry_md_hd_t md;
	unsigned char buf[65536];
	int n;

	if (!gz)
		return GV_ERR_IO;
	if (gcry_md_open(&md, GCRY_MD_SM3, 0)) {
		gzclose(gz);
		return GV_ERR_CRYPTO;
	}
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		gcry_md_write(md, buf, (size_t)n);
	memcpy(out, gcry_md_read(md, GCRY_MD_SM3), 32);
	gcry_md_close(md);
	return gzclose(gz) == Z_OK && n == 0 ? GV_OK : GV_ERR_IO;
}

/* Copies the witness lines whose sequence lies in [first, last] to path, reading the
 * witness as a stream (it grows for as long as the log lives). */
static gv_err witness_extract(const char *witness, int64_t first, int64_t last, const char *path)
{
	FILE *in = fopen(witness, "re");
	struct gv_buf out;
	char *line = NULL;
	size_t cap = 0;
	gv_err err = GV_OK;

	if (!in)
		return GV_ERR_IO;
	buf_init(&out, SEG_FILE_MAX);
	while (err == GV_OK && getline(&line, &cap, in) > 0) {
		char node[64];
		long long seq;

		if (sscanf(line, "%63s %lld", node, &seq) != 2 || seq < first)
			continue;
		if (seq > last)
			break;
		err = buf_printf(&out, "%s", line);
	}
	if (ferror(in))
		err = GV_ERR_IO;
	fclose(in);
	free(line);
	if (err == GV_OK)
		err = util_file_write(path, out.data ? out.data : "", out.len, 0600);
	buf_release(&out);
	return err;
}

/* Records the pruning (chained) and signs it for pruned.state: verification trusts
 * the gap only with this signature.  state gets the line for pruned.state. */
static gv_err prune_record(struct audit_log *log, const struct sm2_key *key, int64_t first,
			   int64_t last, const char *hex, const char *name, char *state,
			   size_t statelen)
{
	struct audit_rec r;
	unsigned char sig[SM2_SIG_MAX];
	char sighex[2 * SM2_SIG_MAX + 1], msg[256];
	size_t siglen = 0;
	int64_t ts = util_now_us();
	gv_err err = audit_pruned_message(audit_node(log), first, last, hex, ts, msg, sizeof(msg));

	if (err == GV_OK)
		err = sm2_sign(key, msg, strlen(msg), sig, &siglen);
	if (err != GV_OK)
		return err;
	util_hex_encode(sig, siglen, sighex);
	memset(&r, 0, sizeof(r));
	r.kind = AUDIT_KIND_EVENT;
	snprintf(r.actor, sizeof(r.actor), "system");
	snprintf(r.action, sizeof(r.action), "audit.pruned");
	snprintf(r.object, sizeof(r.object), "audit");
	snprintf(r.decision, sizeof(r.decision), "event");
	snprintf(r.reason, sizeof(r.reason), "records %lld..%lld last-hash %s archived %s.gz",
		 (long long)first, (long long)last, hex, name);
	snprintf(r.detail, sizeof(r.detail), "time=%lld sig=%s", (long long)ts, sighex);
	err = audit_append(log, &r);
	if (err == GV_OK)
		snprintf(state, statelen, "%lld %s %lld %lld %s %s\n", (long long)last, hex,
			 (long long)first, (long long)ts, audit_node(log), sighex);
	return err;
}

gv_err audit_retain(struct audit_log *log, const char *archive_dir, int retention_days,
		    int64_t now_us, int *pruned)
{
	const char *dir, *witness;
	const struct sm2_key *key;
	struct seg_list l;
	int64_t cutoff = now_us - (int64_t)retention_days * 86400 * 1000000;
	gv_err err;

	*pruned = 0;
	audit_paths(log, &dir, &witness, &key);
	if (mkdir(archive_dir, 0700) != 0 && errno != EEXIST)
		return GV_ERR_IO;
	err = seg_list_read(dir, &l);
	if (err != GV_OK)
		return err;
	/* Never the newest segment: it is the one being written. */
	for (size_t i = 0; i + 1 < l.n && err == GV_OK; i++) {
		char path[GV_PATH_MAX + SEG_NAME_LEN + 2], arc[GV_PATH_MAX + SEG_NAME_LEN + 16];
		char cps[GV_PATH_MAX + SEG_NAME_LEN + 16], state[GV_PATH_MAX + 16];
		char state_line[512], hex[2 * SEG_HASH_LEN + 1];
		struct audit_verify_result v;
		unsigned char hash[SEG_HASH_LEN], d1[32], d2[32];
		int64_t ts = 0, last = 0;
		struct seg_map m;

		snprintf(path, sizeof(path), "%s/%s", dir, l.names[i]);
		err = seg_map_file(path, &m);
		if (err != GV_OK)
			break;
		if (!last_record(&m, &ts, &last, hash) || ts >= cutoff) {
			seg_unmap(&m);
			break;   /* the rest are newer */
		}
		/* Evidence is checked before it leaves: the segment must verify (chain from
		 * its predecessor or the pruning state, checkpoints, witness). */
		err = audit_verify_upto(log, last, &v);
		if (err == GV_OK && !v.ok) {
			log_error("ALERT: audit segment %s does not verify and is kept: %s", l.names[i],
				  v.problem);
			(void)!audit_event(log, "system", "audit.prune_refused", "audit", v.problem);
			err = GV_ERR_STATE;
		}
		if (err != GV_OK) {
			seg_unmap(&m);
			break;
		}
		snprintf(arc, sizeof(arc), "%s/%s.gz", archive_dir, l.names[i]);
		snprintf(cps, sizeof(cps), "%s/%s.checkpoints", archive_dir, l.names[i]);
		gcry_md_hash_buffer(GCRY_MD_SM3, d1, m.data, m.len);
		err = gzip_write(arc, m.data, m.len);
		seg_unmap(&m);
		if (err == GV_OK)
			err = gzip_sm3(arc, d2);
		if (err == GV_OK && memcmp(d1, d2, 32) != 0)
			err = GV_ERR_IO;
		if (err == GV_OK)
			err = witness_extract(witness, l.first_seq[i], last, cps);
		if (err != GV_OK) {
			log_error("audit: archiving %s failed; it is kept", l.names[i]);
			break;
		}
		util_hex_encode(hash, SEG_HASH_LEN, hex);
		err = prune_record(log, key, l.first_seq[i], last, hex, l.names[i], state_line,
				   sizeof(state_line));
		if (err != GV_OK)
			break;
		snprintf(state, sizeof(state), "%s/pruned.state", dir);
		err = util_file_write(state, state_line, strlen(state_line), 0600);
		if (err == GV_OK)
			err = seg_fsync_dir(archive_dir);
		if (err == GV_OK && unlink(path) != 0)
			err = GV_ERR_IO;
		if (err == GV_OK)
			err = seg_fsync_dir(dir);
		if (err == GV_OK) {
			(*pruned)++;
			log_info("audit: %s archived and pruned (records up to %lld)", l.names[i], (long long)last);
		}
	}
	seg_list_release(&l);
	return err;
}

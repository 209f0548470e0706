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

/* Time, sequence and chain hash of the last record of a segment image. */
static int last_record(const struct seg_map *m, int64_t *ts_us, int64_t *seq,
		       unsigned char hash[SEG_HASH_LEN])
{
	const unsigned char *p, *h;
	size_t pos = 0, plen;
	int found = 0;

	while (seg_frame_next(m->data, m->len, &pos, &p, &plen, &h) == SEG_FRAME) {
		struct audit_rec r;

		if (audit_rec_decode(p, plen, &r) != GV_OK)
			return 0;
		*ts_us = r.ts_us;
		*seq = r.seq;
		memcpy(hash, h, SEG_HASH_LEN);
		found = 1;
	}
	return found;
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

/* Copies the witness lines whose sequence lies in [first, last] to path. */
static gv_err witness_extract(const char *witness, int64_t first, int64_t last, const char *path)
{
	char *text = NULL, *line, *save = NULL;
	struct gv_buf out;
	gv_err err = util_file_read(witness, SEG_FILE_MAX, &text, NULL);

	if (err != GV_OK)
		return err;
	buf_init(&out, SEG_FILE_MAX);
	for (line = strtok_r(text, "\n", &save); line && err == GV_OK; line = strtok_r(NULL, "\n", &save)) {
		char node[64];
		long long seq;

		if (sscanf(line, "%63s %lld", node, &seq) == 2 && seq >= first && seq <= last)
			err = buf_printf(&out, "%s\n", line);
	}
	if (err == GV_OK)
		err = util_file_write(path, out.data ? out.data : "", out.len, 0600);
	buf_release(&out);
	free(text);
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
		char reason[256], hex[2 * SEG_HASH_LEN + 1];
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
		snprintf(reason, sizeof(reason), "records %lld..%lld last-hash %s archived %s.gz",
			 (long long)l.first_seq[i], (long long)last, hex, l.names[i]);
		err = audit_event(log, "system", "audit.pruned", "audit", reason);
		if (err != GV_OK)
			break;
		snprintf(state, sizeof(state), "%s/pruned.state", dir);
		snprintf(reason, sizeof(reason), "%lld %s\n", (long long)last, hex);
		err = util_file_write(state, reason, strlen(reason), 0600);
		if (err == GV_OK && unlink(path) != 0)
			err = GV_ERR_IO;
		if (err == GV_OK) {
			(*pruned)++;
			log_info("audit: %s archived and pruned (records up to %lld)", l.names[i], (long long)last);
		}
	}
	seg_list_release(&l);
	return err;
}

/* segment.c - segment file framing, listing and read-only mapping. */
#include "audit/segment.h"

#include <dirent.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

gv_err seg_frame_put(struct gv_buf *out, const unsigned char *payload, size_t plen,
		     const unsigned char hash[SEG_HASH_LEN])
{
	unsigned char head[SEG_HEAD_LEN];
	gv_err err;

	if (plen == 0 || plen > SEG_PAYLOAD_MAX)
		return GV_ERR_INVALID;
	memcpy(head, SEG_MAGIC, 4);
	head[4] = (unsigned char)(plen >> 24);
	head[5] = (unsigned char)(plen >> 16);
	head[6] = (unsigned char)(plen >> 8);
	head[7] = (unsigned char)plen;
	err = buf_append(out, head, sizeof(head));
	if (err == GV_OK)
		err = buf_append(out, payload, plen);
	if (err == GV_OK)
		err = buf_append(out, hash, SEG_HASH_LEN);
	return err;
}

enum seg_step seg_frame_next(const unsigned char *data, size_t len, size_t *pos,
			     const unsigned char **payload, size_t *plen,
			     const unsigned char **hash)
{
	size_t left = len - *pos, n;

	if (left == 0)
		return SEG_END;
	if (left < SEG_HEAD_LEN)
		return memcmp(data + *pos, SEG_MAGIC, left < 4 ? left : 4) == 0 ? SEG_TORN : SEG_BAD;
	if (memcmp(data + *pos, SEG_MAGIC, 4) != 0)
		return SEG_BAD;
	n = ((size_t)data[*pos + 4] << 24) | ((size_t)data[*pos + 5] << 16) |
	    ((size_t)data[*pos + 6] << 8) | data[*pos + 7];
	if (n == 0 || n > SEG_PAYLOAD_MAX)
		return SEG_BAD;
	if (left - SEG_HEAD_LEN < n + SEG_HASH_LEN)
		return SEG_TORN;
	*payload = data + *pos + SEG_HEAD_LEN;
	*plen = n;
	*hash = data + *pos + SEG_HEAD_LEN + n;
	*pos += SEG_HEAD_LEN + n + SEG_HASH_LEN;
	return SEG_FRAME;
}

void seg_name(int64_t first_seq, char out[SEG_NAME_LEN])
{
	snprintf(out, SEG_NAME_LEN, "seg-%020lld.gva", (long long)first_seq);
}

/* First sequence from a well-formed segment name, or -1. */
static int64_t name_seq(const char *name)
{
	int64_t v = 0;

	if (strlen(name) != 28 || strncmp(name, "seg-", 4) != 0 || strcmp(name + 24, ".gva") != 0)
		return -1;
	for (int i = 4; i < 24; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

static int cmp_seq(const void *a, const void *b)
{
	return strcmp(a, b);   /* zero-padded names sort as their numbers */
}

gv_err seg_list_read(const char *dir, struct seg_list *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	gv_err err = GV_OK;

	memset(out, 0, sizeof(*out));
	if (!d)
		return GV_ERR_IO;
	while ((e = readdir(d)) != NULL) {
		if (name_seq(e->d_name) < 0)
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(out->names, ncap * SEG_NAME_LEN);

			if (!p) {
				err = GV_ERR_NOMEM;
				break;
			}
			out->names = p;
			cap = ncap;
		}
		/* name_seq accepted it, so it is exactly 28 bytes. */
		memcpy(out->names[out->n++], e->d_name, 29);
	}
	closedir(d);
	if (err == GV_OK && out->n) {
		qsort(out->names, out->n, SEG_NAME_LEN, cmp_seq);
		out->first_seq = calloc(out->n, sizeof(*out->first_seq));
		if (!out->first_seq)
			err = GV_ERR_NOMEM;
		for (size_t i = 0; err == GV_OK && i < out->n; i++)
			out->first_seq[i] = name_seq(out->names[i]);
	}
	if (err != GV_OK)
		seg_list_release(out);
	return err;
}

void seg_list_release(struct seg_list *l)
{
	free(l->names);
	free(l->first_seq);
	memset(l, 0, sizeof(*l));
}

/* Read into memory rather than mmap: a segment truncated by someone else while mapped
 * would raise SIGBUS in the daemon; a short read is just data to report. */
gv_err seg_map_file(const char *path, struct seg_map *out)
{
	struct stat st;
	size_t got = 0;
	int fd;
	gv_err err = GV_OK;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return GV_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SEG_FILE_MAX) {
		err = GV_ERR_IO;
		goto out;
	}
	if (st.st_size == 0)
		goto out;
	out->data = malloc((size_t)st.st_size);
	if (!out->data) {
		err = GV_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, out->data + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out->len = got;
out:
	close(fd);
	return err;
}

void seg_unmap(struct seg_map *m)
{
	free(m->data);
	memset(m, 0, sizeof(*m));
}

gv_err seg_pruned_state(const char *dir, int64_t *last, unsigned char hash[SEG_HASH_LEN],
			char hex[2 * SEG_HASH_LEN + 1])
{
	char path[1100], *text = NULL;
	long long v = 0;
	gv_err err;

	snprintf(path, sizeof(path), "%s/pruned.state", dir);
	err = util_file_read(path, 4096, &text, NULL);
	if (err != GV_OK)
		return GV_ERR_NOT_FOUND;
	if (sscanf(text, "%lld %64[0-9a-f]", &v, hex) != 2 || strlen(hex) != 2 * SEG_HASH_LEN ||
	    v < 1 || util_hex_decode(hex, hash, SEG_HASH_LEN) != GV_OK)
		err = GV_ERR_INVALID;
	*last = v;
	free(text);
	return err;
}

gv_err seg_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gv_err err;

	if (fd < 0)
		return GV_ERR_IO;
	err = fsync(fd) == 0 ? GV_OK : GV_ERR_IO;
	close(fd);
	return err;
}

void seg_chain_hash(const unsigned char prev[SEG_HASH_LEN], const unsigned char *payload,
		    size_t len, unsigned char out[SEG_HASH_LEN])
{
	gcry_buffer_t iov[2];

	memset(iov, 0, sizeof(iov));
	iov[0].data = (void *)prev;
	iov[0].len = SEG_HASH_LEN;
	iov[1].data = (void *)payload;
	iov[1].len = len;
	/* One call, no handle state: as fast as a reused handle for records of a few
	 * hundred bytes, and safe from any thread. */
	if (gcry_md_hash_buffers(GCRY_MD_SM3, 0, out, iov, 2))
		memset(out, 0xff, SEG_HASH_LEN);   /* never matches a stored hash */
}

int seg_last_frame(const unsigned char *data, size_t len, const unsigned char **payload,
		   size_t *plen, const unsigned char **hash)
{
	const unsigned char *p, *h;
	size_t pos = 0, n;
	int found = 0;

	while (seg_frame_next(data, len, &pos, &p, &n, &h) == SEG_FRAME) {
		*payload = p;
		*plen = n;
		*hash = h;
		found = 1;
	}
	return found;
}

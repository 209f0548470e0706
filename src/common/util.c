/* util.c - clocks, randomness, hex, constant-time compare, wiping, UTF-8 checks, file
 * I/O. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int64_t util_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_now_s(void)
{
	return (int64_t)time(NULL);
}

void util_random_bytes(void *buf, size_t len)
{
	gcry_randomize(buf, len, GCRY_STRONG_RANDOM);
}

void util_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

size_t util_fmt_i64(int64_t v, char *out)
{
	char tmp[UTIL_I64_CHARS];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return len;
}

void util_put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t util_get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int util_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

gv_err util_hex_decode(const char *in, unsigned char *out, size_t outlen)
{
	if (strlen(in) != 2 * outlen)
		return GV_ERR_INVALID;
	return util_hex_decode_n(in, out, outlen);
}

gv_err util_hex_decode_n(const char *in, unsigned char *out, size_t outlen)
{
	for (size_t i = 0; i < outlen; i++) {
		/* The second digit only after a first: in may end (NUL) early. */
		int hi = util_hex_digit(in[2 * i]), lo = hi < 0 ? -1 : util_hex_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return GV_ERR_INVALID;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return GV_OK;
}

int util_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

int util_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);
	size_t n = la < lb ? la : lb;

	/* Compare over the shorter length; the length mismatch is already folded in. */
	diff |= (unsigned char)!util_ct_equal(a, b, n);
	return diff == 0;
}

void util_wipe(void *p, size_t len)
{
	if (p)
		explicit_bzero(p, len);
}

void util_free_secret(char *s)
{
	if (!s)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

gv_err util_strcpy(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstlen) {
		if (dstlen)
			dst[0] = '\0';
		return GV_ERR_TOO_LARGE;
	}
	memcpy(dst, src, n + 1);
	return GV_OK;
}

gv_err util_file_read(const char *path, size_t maxlen, char **out, size_t *outlen)
{
	gv_err err = GV_ERR_IO;
	char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GV_ERR_NOT_FOUND : GV_ERR_IO;
	if (fstat(fd, &st) != 0)
		goto out;
	if ((size_t)st.st_size > maxlen) {
		err = GV_ERR_TOO_LARGE;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = GV_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (outlen)
		*outlen = got;
	err = GV_OK;
out:
	if (buf) {
		util_wipe(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return err;
}

enum io_op { IO_WRITE, IO_PWRITE, IO_PREAD };

/* All of len bytes by op (at off for the positioned ones), EINTR retried. */
static gv_err io_all(int fd, enum io_op op, void *data, size_t len, off_t off)
{
	char *p = data;

	while (len) {
		ssize_t n = op == IO_WRITE ? write(fd, p, len) :
			    op == IO_PWRITE ? pwrite(fd, p, len, off) : pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return GV_ERR_IO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return GV_OK;
}

gv_err util_write_all(int fd, const void *data, size_t len)
{
	return io_all(fd, IO_WRITE, (void *)data, len, 0);
}

gv_err util_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	return io_all(fd, IO_PWRITE, (void *)data, len, off);
}

gv_err util_pread_all(int fd, void *data, size_t len, off_t off)
{
	return io_all(fd, IO_PREAD, data, len, off);
}

int util_time_rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (!gmtime_r(&tt, &tm))
		return 0;
	return strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

gv_err util_file_write(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4096];
	gv_err err = GV_ERR_IO;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return GV_ERR_TOO_LARGE;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return GV_ERR_IO;
	if (fchmod(fd, mode) != 0)
		goto out;
	if (util_write_all(fd, data, len) != GV_OK || fsync(fd) != 0)
		goto out;
	if (rename(tmp, path) != 0)
		goto out;
	err = GV_OK;
out:
	close(fd);
	if (err != GV_OK)
		unlink(tmp);
	return err;
}

size_t util_utf8_step(const char *s, size_t len, size_t i)
{
	const unsigned char *p = (const unsigned char *)s + i;
	size_t left = len - i, n;

	if (i >= len || p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t k = 1; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

void util_utf8_clean(const char *in, char *out, size_t outlen)
{
	size_t len = strlen(in), o = 0;

	for (size_t i = 0; i < len && outlen > 0;) {
		size_t n = util_utf8_step(in, len, i);

		if (o + (n ? n : 1) >= outlen)
			break;
		if (n)
			memcpy(out + o, in + i, n);
		else
			out[o] = '?';
		o += n ? n : 1;
		i += n ? n : 1;
	}
	if (outlen > 0)
		out[o] = '\0';
}

int util_utf8_printable(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
		n = util_utf8_step(s, len, i);
		if (n == 0)
			return 0;
	}
	return 1;
}

gv_err util_file_create(const char *path, const void *data, size_t len, unsigned mode)
{
	gv_err err = GV_ERR_IO;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return errno == EEXIST ? GV_ERR_EXISTS : GV_ERR_IO;
	/* The umask may only narrow the mode, but the owner must be able to read it. */
	if (fchmod(fd, mode) != 0)
		goto out;
	if (util_write_all(fd, data, len) != GV_OK || fsync(fd) != 0)
		goto out;
	err = GV_OK;
out:
	if (close(fd) != 0 && err == GV_OK)
		err = GV_ERR_IO;
	if (err != GV_OK)
		unlink(path);   /* ours: O_EXCL created it */
	return err;
}

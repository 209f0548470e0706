/* util.h - small process-wide helpers: clock, randomness, hex, secret handling,
 * bounded string copy and whole-file I/O. */
#ifndef GV_COMMON_UTIL_H
#define GV_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>   /* off_t */

#include "common/error.h"

#define GV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Eight bytes at a time in a uint64_t, for scans of text for a few byte values:
 * UTIL_ZERO_BYTE(x) is non-zero when a byte of x is zero, and only then (x ^ (UTIL_ONES
 * * c) has a zero byte where x has c). */
#define UTIL_ONES 0x0101010101010101ull
#define UTIL_HIGHS 0x8080808080808080ull
#define UTIL_ZERO_BYTE(x) (((x) - UTIL_ONES) & ~(x) & UTIL_HIGHS)

/* Wall clock, microseconds / seconds since the epoch (UTC). */
int64_t util_now_us(void);
/* Microseconds on a clock that never steps (for timeouts and ages, not dates). */
int64_t util_mono_us(void);
/* CPU time of the calling thread, microseconds. */
int64_t util_thread_cpu_us(void);
int64_t util_now_s(void);

/* Cryptographically strong random bytes (libgcrypt GCRY_STRONG_RANDOM). */
void util_random_bytes(void *buf, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex_encode(const unsigned char *in, size_t len, char *out);
/* Decodes exactly outlen bytes from 2*outlen hex chars; GV_ERR_INVALID otherwise. */
gv_err util_hex_decode(const char *in, unsigned char *out, size_t outlen) GV_MUST_CHECK;
/* The value of one hex digit, or -1. */
int util_hex_digit(char c);
/* The same for exactly 2 * outlen digits at in, which need not end there. */
gv_err util_hex_decode_n(const char *in, unsigned char *out, size_t outlen) GV_MUST_CHECK;

/* Decimal text of v into out (at least UTIL_I64_CHARS bytes, NUL added); its length.
 * What snprintf("%lld") writes, at a tenth of its cost on the import's hot path. */
#define UTIL_I64_CHARS 21
size_t util_fmt_i64(int64_t v, char *out);

/* The low `bytes` bytes of v at p, least significant first, and back: the byte order
 * of the stored formats that pack integers (raw blocks, split record bodies). */
void util_put_le(unsigned char *p, uint64_t v, int bytes);
uint64_t util_get_le(const unsigned char *p, int bytes);

/* 1 when equal; time depends only on len. */
int util_ct_equal(const void *a, const void *b, size_t len);
/* Constant-time comparison of two NUL-terminated strings of possibly different length. */
int util_ct_streq(const char *a, const char *b);

/* Wipes memory holding a secret; the compiler cannot elide it. */
void util_wipe(void *p, size_t len);
/* Wipes and frees a NUL-terminated secret string; NULL is a no-op. */
void util_free_secret(char *s);

/* Copies src into dst[dstlen]; GV_ERR_TOO_LARGE (dst left empty) when it does not fit. */
gv_err util_strcpy(char *dst, size_t dstlen, const char *src) GV_MUST_CHECK;

/* Reads a whole file of at most maxlen bytes into a NUL-terminated buffer the caller
 * frees (util_free_secret when it holds a secret). */
gv_err util_file_read(const char *path, size_t maxlen, char **out, size_t *outlen) GV_MUST_CHECK;
/* write() until all of data is written (EINTR retried); GV_ERR_IO otherwise. */
gv_err util_write_all(int fd, const void *data, size_t len) GV_MUST_CHECK;
/* The same at offset off, and its inverse: exactly len bytes read at off, GV_ERR_IO
 * short of that (end of file included). */
gv_err util_pwrite_all(int fd, const void *data, size_t len, off_t off) GV_MUST_CHECK;
gv_err util_pread_all(int fd, void *data, size_t len, off_t off) GV_MUST_CHECK;
/* "2026-11-24T02:03:04Z" for unix seconds t; 0 (out "") if t cannot be shown. */
int util_time_rfc3339(int64_t t, char out[32]);

/* Creates path exclusively (GV_ERR_EXISTS if it is there, never replaced even by a
 * race), writes and fsyncs it with the given mode; removes it again on failure. */
gv_err util_file_create(const char *path, const void *data, size_t len, unsigned mode) GV_MUST_CHECK;
/* Writes atomically (temp + fsync + rename) with the given mode. */
gv_err util_file_write(const char *path, const void *data, size_t len, unsigned mode) GV_MUST_CHECK;

/* Byte length (1-4) of the valid UTF-8 sequence at s[i] (i < len), 0 when invalid
 * (or NUL). */
size_t util_utf8_step(const char *s, size_t len, size_t i);
/* in as UTF-8 into out (outlen > 0): each byte that starts no valid sequence becomes
 * '?', and the text is cut before a character that would not fit. */
void util_utf8_clean(const char *in, char *out, size_t outlen);
/* 1 if s is valid UTF-8 with no NUL and no C0 control characters other than tab. */
int util_utf8_printable(const char *s);

#endif

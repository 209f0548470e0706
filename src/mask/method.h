/* method.h - the masking methods as pure functions over one value, for mask.c.
 *
 * Text methods read (s, len) UTF-8 that is not NUL-terminated and append their result
 * to a bounded buffer; they count and cut in code points and never split a sequence.
 * A method that does not apply to its input (a non-date given to generalise "year",
 * invalid UTF-8, an address with no recognisable level, a number out of range) returns
 * GV_ERR_INVALID and appends nothing, so the caller can redact instead (fail closed).
 * Nothing here allocates except through the buffer, and nothing keeps state. */
#ifndef GV_MASK_METHOD_H
#define GV_MASK_METHOD_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"
#include "crypto/crypto.h"

/* Levels of a Chinese administrative address, coarsest first. */
enum method_level { METHOD_PROVINCE = 1, METHOD_CITY, METHOD_DISTRICT };

#define METHOD_PSEUDONYM_LEN 19   /* "pn_" + 16 hex digits */

/* Number of code points in s, or (size_t)-1 when s is not valid UTF-8 or holds NUL. */
size_t method_utf8_count(const char *s, size_t len);

/* Keeps the first keep_first and last keep_last code points and writes ch (ch_len bytes,
 * one code point) for every other one; a value of keep_first + keep_last code points or
 * fewer is masked entirely.  With keep_domain, the part from the last '@' on is kept and
 * only the part before it is masked that way. */
gv_err method_mask(const char *s, size_t len, unsigned keep_first, unsigned keep_last,
		   const char *ch, size_t ch_len, int keep_domain, struct gv_buf *out) GV_MUST_CHECK;
/* The first n code points (all of s when it is shorter). */
gv_err method_truncate(const char *s, size_t len, unsigned n, struct gv_buf *out) GV_MUST_CHECK;
/* "YYYY-MM-DD" (a real date) to "YYYY" or, with month, "YYYY-MM". */
gv_err method_generalise_date(const char *s, size_t len, int month,
			      struct gv_buf *out) GV_MUST_CHECK;
/* The prefix of a Chinese address up to and including the deepest administrative level
 * found at or above level (see method.c for how levels are recognised). */
gv_err method_generalise_address(const char *s, size_t len, enum method_level level,
				 struct gv_buf *out) GV_MUST_CHECK;
/* "lo-hi" with lo = floor(v / step) * step and hi = lo + step - 1; step >= 1. */
gv_err method_generalise_integer(long long v, long long step, struct gv_buf *out) GV_MUST_CHECK;
gv_err method_generalise_real(double v, long long step, struct gv_buf *out) GV_MUST_CHECK;
/* The bytes a value's noise is drawn from: HMAC(h's key, 0x01 "noise" || 0x00 ||
 * target || 0x00 || the value's text).  Fixed per value under a key, so every read
 * gives the same noisy value: fresh noise per read could be averaged away. */
gv_err method_noise_seed(struct crypto_hmac *h, const char *target, const char *text, size_t len,
			 unsigned char seed[CRYPTO_SM3_LEN]) GV_MUST_CHECK;
/* v plus an integer in [-bound, bound] (bound >= 1) drawn uniformly from seed, never
 * overflowing. */
gv_err method_noise_integer(long long v, long long bound, const unsigned char seed[CRYPTO_SM3_LEN],
			    long long *out) GV_MUST_CHECK;
/* v plus a real in [-bound, bound) drawn from seed; GV_ERR_INVALID if not finite, or if
 * bound is too small to move v at all (below its precision). */
gv_err method_noise_real(double v, double bound, const unsigned char seed[CRYPTO_SM3_LEN],
			 double *out) GV_MUST_CHECK;
/* "pn_" + the first 16 hex digits of HMAC(h's key, target || 0x00 || value) into
 * out[METHOD_PSEUDONYM_LEN + 1]. */
gv_err method_pseudonym(struct crypto_hmac *h, const char *target, const char *value,
			size_t len, char out[METHOD_PSEUDONYM_LEN + 1]) GV_MUST_CHECK;

#endif

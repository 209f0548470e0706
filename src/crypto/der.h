/* der.h - the little DER and PEM that SM2 keys and signatures need, by hand, because
 * govvault uses no ASN.1 library.
 *
 * The reader accepts DER only: exact tags, definite lengths in their shortest form,
 * integers without redundant sign bytes; anything else is GV_ERR_INVALID, never a
 * guess.  A cursor never reads outside the (pointer, length) it was given, so a hostile
 * input can make a parse fail but not make it read out of bounds.  Nothing here
 * allocates; callers own every buffer. */
#ifndef GV_CRYPTO_DER_H
#define GV_CRYPTO_DER_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_OID 0x06
#define DER_CTX(n) (0xa0 | (n))   /* [n] EXPLICIT, constructed */

/* The unread rest of a DER buffer (borrowed, never freed). */
struct der_cur {
	const unsigned char *p;
	size_t len;
};

/* Reads one element whose tag is `tag`; *body gets its contents and c moves past it.
 * Lengths above 0xffff are refused: nothing SM2 needs is that long. */
gv_err der_get(struct der_cur *c, unsigned char tag, struct der_cur *body) GV_MUST_CHECK;
/* 1 if the next element has tag `tag` (for OPTIONAL fields); never reads past c. */
int der_peek(const struct der_cur *c, unsigned char tag);
/* Reads a non-negative INTEGER into out[outlen], big-endian and left-padded with zeros.
 * Refuses negative, non-minimal or wider-than-outlen values; zero is accepted. */
gv_err der_get_uint(struct der_cur *c, unsigned char *out, size_t outlen) GV_MUST_CHECK;
/* Consumes exactly the bytes enc[len] (a fixed element such as an algorithm id). */
gv_err der_get_fixed(struct der_cur *c, const unsigned char *enc, size_t len) GV_MUST_CHECK;

/* Writes val[len] (unsigned big-endian) as a minimal INTEGER element into out, which
 * must hold len + 3 bytes (1 <= len < 126); returns the number of bytes written. */
size_t der_put_uint(unsigned char *out, const unsigned char *val, size_t len);

/* Appends der[len] as PEM ("-----BEGIN label-----", base64 in 64-column lines) to out.
 * On failure out is left as it was. */
gv_err der_pem_encode(struct gv_buf *out, const char *label, const unsigned char *der,
		      size_t len) GV_MUST_CHECK;
/* Decodes the one PEM block labelled `label` that pem[len] must consist of (whitespace
 * allowed around it, line breaks inside it) into out[max]; *outlen gets its length.
 * The base64 must be canonical.  On failure out holds nothing of the input. */
gv_err der_pem_decode(const char *pem, size_t len, const char *label, unsigned char *out,
		      size_t max, size_t *outlen) GV_MUST_CHECK;

#endif

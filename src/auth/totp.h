/* totp.h - RFC 6238 one-time codes (liboath) and enrolment material (otpauth URI, QR).
 *
 * Codes are 6 digits over 30-second steps with one step of drift either way.  The
 * caller keeps the last accepted step and passes it back, so a code is accepted once. */
#ifndef GV_AUTH_TOTP_H
#define GV_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define TOTP_SECRET_LEN 20
#define TOTP_DIGITS 6
#define TOTP_STEP 30
#define TOTP_WINDOW 1

gv_err totp_init(void) GV_MUST_CHECK;
/* Code for time t with `digits` digits (6 or 8), SHA-1. out needs digits + 1. */
gv_err totp_generate(const unsigned char *secret, size_t len, int64_t t, unsigned digits,
		     char *out) GV_MUST_CHECK;
/* GV_OK and *step_out = matched step when code is valid within the window and newer
 * than last_step; GV_ERR_AUTH otherwise (wrong, malformed or replayed). */
gv_err totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
		   int64_t last_step, int64_t *step_out) GV_MUST_CHECK;
/* otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30 */
gv_err totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
		struct gv_buf *out) GV_MUST_CHECK;
/* The URI as an SVG QR code (libqrencode). */
gv_err totp_qr_svg(const char *uri, struct gv_buf *out) GV_MUST_CHECK;
/* The URI as a QR code drawn with Unicode half blocks for a terminal. */
gv_err totp_qr_text(const char *uri, struct gv_buf *out) GV_MUST_CHECK;

#endif

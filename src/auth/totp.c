/* totp.c - TOTP over liboath, otpauth URIs and QR rendering over libqrencode. */
#include "auth/totp.h"

#include <ctype.h>
#include <liboath/oath.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

gv_err totp_init(void)
{
	return oath_init() == OATH_OK ? GV_OK : GV_ERR_CRYPTO;
}

gv_err totp_generate(const unsigned char *secret, size_t len, int64_t t, unsigned digits,
		     char *out)
{
	if (digits != 6 && digits != 8)
		return GV_ERR_INVALID;
	if (oath_totp_generate2((const char *)secret, len, (time_t)t, TOTP_STEP, 0, digits, 0,
				out) != OATH_OK)
		return GV_ERR_CRYPTO;
	return GV_OK;
}

gv_err totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
		   int64_t last_step, int64_t *step_out)
{
	uint64_t counter = 0;
	int pos = 0, rc;

	if (strlen(code) != TOTP_DIGITS)
		return GV_ERR_AUTH;
	for (const char *p = code; *p; p++)
		if (!isdigit((unsigned char)*p))
			return GV_ERR_AUTH;
	rc = oath_totp_validate4((const char *)secret, len, (time_t)now, TOTP_STEP, 0, TOTP_WINDOW,
				 &pos, &counter, 0, code);
	if (rc < 0)
		return GV_ERR_AUTH;
	if ((int64_t)counter <= last_step)
		return GV_ERR_AUTH; /* replay of an accepted (or older) code */
	*step_out = (int64_t)counter;
	return GV_OK;
}

/* Percent-encodes everything but unreserved characters. */
static gv_err append_escaped(struct gv_buf *out, const char *s)
{
	gv_err err = GV_OK;

	for (; *s && err == GV_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			err = buf_append(out, s, 1);
		else
			err = buf_printf(out, "%%%02X", c);
	}
	return err;
}

gv_err totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
		struct gv_buf *out)
{
	char *b32 = NULL;
	size_t b32len = 0;
	gv_err err;

	if (oath_base32_encode((const char *)secret, len, &b32, &b32len) != OATH_OK)
		return GV_ERR_CRYPTO;
	/* Authenticator apps expect base32 without padding. */
	while (b32len && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	err = buf_printf(out, "otpauth://totp/");
	if (err == GV_OK)
		err = append_escaped(out, issuer);
	if (err == GV_OK)
		err = buf_printf(out, ":");
	if (err == GV_OK)
		err = append_escaped(out, account);
	if (err == GV_OK)
		err = buf_printf(out, "?secret=%s&issuer=", b32);
	if (err == GV_OK)
		err = append_escaped(out, issuer);
	if (err == GV_OK)
		err = buf_printf(out, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP);
	util_wipe(b32, b32len);
	free(b32);
	return err;
}

static gv_err qr_encode(const char *uri, QRcode **out)
{
	*out = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	return *out ? GV_OK : GV_ERR_NOMEM;
}

gv_err totp_qr_svg(const char *uri, struct gv_buf *out)
{
	const int margin = 4;
	QRcode *qr;
	gv_err err = qr_encode(uri, &qr);
	int size;

	if (err != GV_OK)
		return err;
	size = qr->width + 2 * margin;
	err = buf_printf(out,
			 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
			 "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
			 "fill=\"#fff\"/><path fill=\"#000\" d=\"",
			 size, size, size, size);
	for (int y = 0; err == GV_OK && y < qr->width; y++)
		for (int x = 0; err == GV_OK && x < qr->width; x++)
			if (qr->data[y * qr->width + x] & 1)
				err = buf_printf(out, "M%d %dh1v1h-1z", x + margin, y + margin);
	if (err == GV_OK)
		err = buf_printf(out, "\"/></svg>");
	QRcode_free(qr);
	return err;
}

gv_err totp_qr_text(const char *uri, struct gv_buf *out)
{
	/* Two rows per line: upper half block, lower half block, full block, space. */
	static const char *const cells[4] = {" ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88"};
	const int margin = 2;
	QRcode *qr;
	gv_err err = qr_encode(uri, &qr);
	int w;

	if (err != GV_OK)
		return err;
	w = qr->width;
	/* Dark modules print as blank so that the code reads on a dark terminal. */
	for (int y = -margin; err == GV_OK && y < w + margin; y += 2) {
		for (int x = -margin; err == GV_OK && x < w + margin; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
				  (qr->data[(y + 1) * w + x] & 1);
			int idx = (!top) | (!bot) << 1;

			err = buf_printf(out, "%s", cells[idx]);
		}
		if (err == GV_OK)
			err = buf_printf(out, "\n");
	}
	QRcode_free(qr);
	return err;
}

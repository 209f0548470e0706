/* login.h - the login state machine: password, one-time code or recovery code, forced
 * password change, TOTP enrolment, and the access restrictions checked at login and on
 * every request (address allowlist, time windows, device binding).
 *
 * Wrong, unknown and locked all return GV_ERR_AUTH after exactly one Argon2
 * verification, so they cannot be told apart by body, status or timing.  *reason is
 * for the audit row only and is never sent to the client. */
#ifndef GV_AUTH_LOGIN_H
#define GV_AUTH_LOGIN_H

#include "auth/app.h"
#include "auth/session.h"
#include "common/buf.h"

#define LOGIN_RECOVERY_CODES 10
#define LOGIN_RECOVERY_LEN 14   /* xxxx-xxxx-xxxx */

struct login_result {
	char token[SESSION_TOKEN_LEN + 1];
	struct store_session session;
};

struct login_enrolment {
	struct gv_buf uri;
	struct gv_buf svg;
};

/* The stage a session moves to once `totp_done` is known (pure; tested). */
int login_next_stage(const struct store_account *a, int totp_done, int64_t now, int max_age_days);

gv_err login_password(struct gv_app *app, const char *username, const char *password,
		      const char *ip, const char *device_fp, struct login_result *out,
		      const char **reason) GV_MUST_CHECK;
/* Second factor for a session in stage totp_verify: exactly one of code / recovery. */
gv_err login_totp(struct gv_app *app, struct store_session *s, const char *code,
		  const char *recovery, const char **reason) GV_MUST_CHECK;
/* Changes the password of the session's account (current password required). */
gv_err login_change_password(struct gv_app *app, struct store_session *s, const char *current,
			     const char *next, const char **why) GV_MUST_CHECK;
/* Starts TOTP enrolment: a new secret awaiting confirmation plus recovery codes.
 * codes are returned once and stored hashed.  e is initialised here; release its bufs. */
gv_err login_totp_enroll(struct gv_app *app, struct store_session *s, struct login_enrolment *e,
			 char codes[LOGIN_RECOVERY_CODES][LOGIN_RECOVERY_LEN + 1]) GV_MUST_CHECK;
gv_err login_totp_confirm(struct gv_app *app, struct store_session *s, const char *code,
			  const char **why) GV_MUST_CHECK;
void login_enrolment_release(struct login_enrolment *e);

/* Address, time-window and device restrictions of the account and its roles. */
gv_err login_check_access(struct gv_app *app, const struct store_account *a, const char *ip,
			  const char *device_fp, int64_t now, const char **why) GV_MUST_CHECK;

#endif

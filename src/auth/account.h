/* account.h - real-name account lifecycle: application, approval and issuance, change,
 * enable/disable, unlock, password reset, cancellation, and the dormancy/expiry sweep.
 *
 * Every function here writes its own security-event audit row; the HTTP layer adds the
 * per-request row.  Administrators cannot change their own roles or status. */
#ifndef GV_AUTH_ACCOUNT_H
#define GV_AUTH_ACCOUNT_H

#include "auth/app.h"

#define ACCOUNT_OTP_LEN 20

/* Field checks shared by create and change; *why is a static explanation. */
gv_err account_validate(const struct store_account *a, int64_t now, const char **why) GV_MUST_CHECK;
/* 1 if the account must use TOTP (administrators and grade-3 clearance). */
int account_totp_required(const struct store_account *a);

/* Records an application (status pending) made by actor. */
gv_err account_apply(struct gv_app *app, const char *actor, struct store_account *a,
		     const char **why) GV_MUST_CHECK;
/* pending -> active; issues a one-time password that must be changed at first login. */
gv_err account_approve(struct gv_app *app, const char *actor, const char *username,
		       char otp[ACCOUNT_OTP_LEN + 1], const char **why) GV_MUST_CHECK;
/* Applies the editable attributes of `edits` (names, department, contact, roles,
 * clearance, outsourced, expiry, restrictions) to the stored account edits->id, under
 * acct_lock, after validation; *out gets the stored result.  Role changes revoke the
 * account's sessions. */
gv_err account_change(struct gv_app *app, const char *actor, const struct store_account *edits,
		      struct store_account *out, const char **why) GV_MUST_CHECK;
/* disable / enable; reason is recorded with the status. */
gv_err account_set_enabled(struct gv_app *app, const char *actor, const char *username,
			   int enabled, const char **why) GV_MUST_CHECK;
gv_err account_unlock(struct gv_app *app, const char *actor, const char *username,
		      const char **why) GV_MUST_CHECK;
gv_err account_reset_password(struct gv_app *app, const char *actor, const char *username,
			      char otp[ACCOUNT_OTP_LEN + 1], const char **why) GV_MUST_CHECK;
/* Cancellation: permanently disabled, sessions revoked, record kept for the audit trail. */
gv_err account_cancel(struct gv_app *app, const char *actor, const char *username,
		      const char **why) GV_MUST_CHECK;
/* Hashes password, stores it in the account and its history. */
gv_err account_store_password(struct gv_app *app, struct store_account *a, const char *password,
			      int must_change) GV_MUST_CHECK;
/* Disables dormant accounts and expires accounts past their end date. */
gv_err account_sweep(struct gv_app *app, int64_t now, int *changed) GV_MUST_CHECK;
/* *expired = 1 if a's end date has passed; an active or locked account is then moved
 * to expired at once (sessions ended, event audited) rather than at the next sweep. */
gv_err account_expire_due(struct gv_app *app, const struct store_account *a, int64_t now,
			  int *expired) GV_MUST_CHECK;

#endif

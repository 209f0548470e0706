/* session.h - bearer sessions: creation, lookup with expiry, and limits.
 *
 * A token is "gv1." + 64 hex digits (256 random bits).  Only HMAC-SM3(token) is stored,
 * so a copy of the database does not yield usable tokens.  Sessions carry a stage: a
 * token issued after the password alone can only finish the login steps. */
#ifndef GV_AUTH_SESSION_H
#define GV_AUTH_SESSION_H

#include <stdint.h>

#include "auth/app.h"

#define SESSION_TOKEN_LEN 68   /* "gv1." + 64 hex */

const char *session_stage_name(int stage);

/* 1 if the session has passed its idle or absolute limit at `now` (pure; tested). */
int session_expired(const struct store_session *s, int64_t now, int idle_s, int absolute_s);

/* Creates a session; GV_ERR_LIMIT when the account already has max_per_account live
 * sessions.  token receives the bearer token (wipe after sending). */
gv_err session_create(struct gv_app *app, const struct store_account *a, int stage,
		      const char *ip, const char *device_fp, char token[SESSION_TOKEN_LEN + 1],
		      struct store_session *out) GV_MUST_CHECK;
/* Looks up a bearer token; GV_ERR_UNAUTHENTICATED when unknown or expired (an expired
 * session is deleted).  Refreshes last_seen. */
gv_err session_resolve(struct gv_app *app, const char *token, int64_t now,
		       struct store_session *out) GV_MUST_CHECK;
gv_err session_set_stage(struct gv_app *app, struct store_session *s, int stage) GV_MUST_CHECK;

#endif

/* h_auth.c - the /v1/auth endpoints: login, second factor, password change, TOTP enrolment,
 * logout and the caller's own identity. */
#include "http/http.h"

#include <string.h>

#include "auth/account.h"
#include "auth/login.h"
#include "auth/role.h"
#include "common/util.h"

static json_t *roles_json(unsigned roles)
{
	json_t *a = json_array();

	for (int i = 0; a && i < ROLE__COUNT; i++)
		if (roles & ROLE_BIT(i))
			json_array_append_new(a, json_string(role_name((enum role)i)));
	return a;
}

/* Makes the audit row name the account a successful step acted for. */
static void adopt_session(struct http_req *r, const struct store_session *s)
{
	r->session = *s;
	if (r->app->st->ops->account_get_id(r->app->st, s->account_id, &r->account) == GV_OK)
		r->has_session = 1;
}

gv_err h_auth_login(struct http_req *r)
{
	static const char *const fields[] = {"username", "password", NULL};
	struct login_result res;
	struct gv_config cfg;
	const char *user, *pw;
	gv_err err;

	if (req_only_fields(r, fields) || req_string(r, "username", 1, 64, &user) ||
	    req_string(r, "password", 1, PASSWORD_MAX_BYTES, &pw))
		return r->err;
	r->object = arena_printf(&r->arena, "account:%s", user);
	err = login_password(r->app, user, pw, r->ip, r->device_fp, &res, &r->reason);
	if (err == GV_ERR_AUTH)
		return reply_error(r, err, "invalid username or password");
	if (err == GV_ERR_LIMIT)
		return reply_error(r, err, "too many concurrent sessions for this account; log out elsewhere first");
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	adopt_session(r, &res.session);
	app_policy(r->app, &cfg);
	r->resp = json_pack("{s:s,s:s,s:s,s:i}", "token", res.token, "session_id", res.session.id,
			    "stage", session_stage_name(res.session.stage), "idle_timeout_seconds",
			    cfg.session_idle_s);
	util_wipe(res.token, sizeof(res.token));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_logout(struct http_req *r)
{
	gv_err err = r->app->st->ops->session_delete(r->app->st, r->session.id);

	if (err != GV_OK && err != GV_ERR_NOT_FOUND)
		return err;
	r->object = arena_printf(&r->arena, "session:%s", r->session.id);
	r->resp = json_pack("{s:b}", "logged_out", 1);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_me(struct http_req *r)
{
	const struct store_account *a = &r->account;
	struct gv_config cfg;
	int64_t pw_expires = 0;

	app_policy(r->app, &cfg);
	if (cfg.pw_max_age_days > 0)
		pw_expires = a->pw_changed_at + (int64_t)cfg.pw_max_age_days * 86400;
	r->resp = json_pack("{s:s,s:s,s:s,s:o,s:i,s:s,s:s,s:b,s:b,s:o,s:o}", "username", a->username,
			    "full_name", a->full_name, "department", a->department, "roles",
			    roles_json(a->roles), "clearance", a->clearance, "session_id", r->session.id,
			    "stage", session_stage_name(r->session.stage), "totp_enabled", a->totp_enabled,
			    "totp_required", account_totp_required(a), "password_expires_at",
			    json_time(pw_expires), "session_created_at", json_time(r->session.created_at));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_password(struct http_req *r)
{
	static const char *const fields[] = {"current_password", "new_password", NULL};
	const char *cur, *next, *why = NULL;
	gv_err err;

	if (req_only_fields(r, fields) || req_string(r, "current_password", 1, PASSWORD_MAX_BYTES, &cur) ||
	    req_string(r, "new_password", 1, PASSWORD_MAX_BYTES, &next))
		return r->err;
	r->object = arena_printf(&r->arena, "account:%s", r->account.username);
	err = login_change_password(r->app, &r->session, cur, next, &why);
	if (err == GV_ERR_AUTH)
		return reply_error(r, GV_ERR_FORBIDDEN, why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = json_pack("{s:b,s:s}", "changed", 1, "stage", session_stage_name(r->session.stage));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_totp(struct http_req *r)
{
	static const char *const fields[] = {"code", "recovery_code", NULL};
	const char *code, *recovery;
	gv_err err;

	if (req_only_fields(r, fields) || req_string(r, "code", 0, 16, &code) ||
	    req_string(r, "recovery_code", 0, 32, &recovery))
		return r->err;
	if ((code == NULL) == (recovery == NULL))
		return reply_error(r, GV_ERR_INVALID, "give exactly one of 'code' or 'recovery_code'");
	r->object = arena_printf(&r->arena, "account:%s", r->account.username);
	err = login_totp(r->app, &r->session, code, recovery, &r->reason);
	if (err == GV_ERR_AUTH)
		return reply_error(r, err, "invalid one-time code");
	if (err == GV_ERR_STATE)
		return reply_error(r, err, "no one-time code is expected for this session now");
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	r->resp = json_pack("{s:s}", "stage", session_stage_name(r->session.stage));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_totp_enroll(struct http_req *r)
{
	static const char *const fields[] = {NULL};
	char codes[LOGIN_RECOVERY_CODES][LOGIN_RECOVERY_LEN + 1];
	struct login_enrolment e;
	json_t *list;
	gv_err err;

	if (req_only_fields(r, fields))
		return r->err;
	r->object = arena_printf(&r->arena, "account:%s", r->account.username);
	err = login_totp_enroll(r->app, &r->session, &e, codes);
	if (err == GV_ERR_STAGE)
		return reply_error(r, err, "complete the current login step before enrolling");
	if (err != GV_OK)
		return reply_error(r, err, NULL);
	list = json_array();
	for (int i = 0; list && i < LOGIN_RECOVERY_CODES; i++)
		json_array_append_new(list, json_string(codes[i]));
	r->resp = json_pack("{s:s,s:s,s:o,s:s}", "otpauth_uri", e.uri.data, "qr_svg", e.svg.data,
			    "recovery_codes", list, "next", "POST /v1/auth/totp/confirm with a current code");
	util_wipe(codes, sizeof(codes));
	login_enrolment_release(&e);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_auth_totp_confirm(struct http_req *r)
{
	static const char *const fields[] = {"code", NULL};
	const char *code, *why = NULL;
	gv_err err;

	if (req_only_fields(r, fields) || req_string(r, "code", 1, 16, &code))
		return r->err;
	r->object = arena_printf(&r->arena, "account:%s", r->account.username);
	err = login_totp_confirm(r->app, &r->session, code, &why);
	if (err == GV_ERR_AUTH)
		return reply_error(r, GV_ERR_INVALID, why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = json_pack("{s:b,s:s}", "totp_enabled", 1, "stage", session_stage_name(r->session.stage));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

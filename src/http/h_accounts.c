/* h_accounts.c - /v1/accounts: real-name account lifecycle for the security
 * administrator (application, approval, change, enable/disable, unlock, password
 * reset, cancellation). */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/account.h"
#include "auth/role.h"
#include "common/util.h"

json_t *json_time(int64_t t)
{
	char text[32];

	if (t == 0 || !util_time_rfc3339(t, text))
		return json_null();
	return json_string(text);
}

/* Reads exactly n decimal digits; -1 on anything else. */
static int digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Strict: fixed widths, a real calendar date, no leading or trailing text; mktime-style
 * normalisation (Feb 30 -> Mar 2) would silently move an account's end date. */
gv_err time_parse(const char *text, int64_t *out)
{
	struct tm tm;
	size_t len = strlen(text);
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (len != 10 && len != 20)
		return GV_ERR_INVALID;
	y = digits(text, 4);
	mo = digits(text + 5, 2);
	d = digits(text + 8, 2);
	if (text[4] != '-' || text[7] != '-' || y < 2000 || y > 2999 || mo < 1 || mo > 12 ||
	    d < 1 || d > days_in_month(y, mo))
		return GV_ERR_INVALID;
	if (len == 20) {
		h = digits(text + 11, 2);
		mi = digits(text + 14, 2);
		sec = digits(text + 17, 2);
		if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z' ||
		    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
			return GV_ERR_INVALID;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return GV_OK;
}

json_t *json_list(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (a && *p) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n;
		if (*p == ',')
			p++;
	}
	return a;
}

json_t *account_to_json(const struct store_account *a)
{
	json_t *roles = json_array();

	for (int i = 0; roles && i < ROLE__COUNT; i++)
		if (a->roles & ROLE_BIT(i))
			json_array_append_new(roles, json_string(role_name((enum role)i)));
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b,s:o,s:i,s:s,s:s,s:o,s:o,s:o,s:o,s:b,"
			 "s:b,s:o,s:o,s:o,s:o,s:o}",
			 "username", a->username, "full_name", a->full_name, "department",
			 a->department, "contact", a->contact, "roles", roles, "status",
			 store_status_name(a->status), "status_reason", a->status_reason, "outsourced",
			 a->outsourced, "expires_at", json_time(a->expires_at), "clearance",
			 a->clearance, "created_by", a->created_by, "approved_by", a->approved_by,
			 "approved_at", json_time(a->approved_at), "ip_allowlist",
			 json_list(a->ip_allowlist), "time_windows", json_list(a->time_windows),
			 "device_fingerprints", json_list(a->device_fps), "totp_enabled",
			 a->totp_enabled, "must_change_password", a->must_change_pw,
			 "password_changed_at", json_time(a->pw_changed_at), "last_login_at",
			 json_time(a->last_login_at), "locked_until", json_time(a->locked_until),
			 "created_at", json_time(a->created_at), "updated_at", json_time(a->updated_at));
}

static gv_err read_roles(struct http_req *r, unsigned *out)
{
	json_t *v = json_object_get(r->json, "roles");
	json_t *item;
	size_t i;

	*out = 0;
	if (!json_is_array(v))
		return reply_error(r, GV_ERR_INVALID, "field 'roles' must be an array of role names");
	json_array_foreach(v, i, item) {
		enum role role;

		if (!json_is_string(item) || role_parse(json_string_value(item), &role) != GV_OK)
			return reply_error(r, GV_ERR_INVALID,
					   "unknown role (sysadmin, secadmin, auditadmin, data_owner, analyst, reviewer)");
		*out |= ROLE_BIT(role);
	}
	return GV_OK;
}

static gv_err copy_text(struct http_req *r, const char *key, int required, char *dst, size_t len)
{
	const char *v;

	if (req_string(r, key, required, len - 1, &v) != GV_OK)
		return r->err;
	if (v)
		snprintf(dst, len, "%s", v);
	return GV_OK;
}

/* Applies the editable fields present in the body to a; `creating` requires the
 * identity fields. */
static gv_err apply_fields(struct http_req *r, struct store_account *a, int creating)
{
	long long clearance = 0;
	const char *expires;
	int present, b;

	if (copy_text(r, "full_name", creating, a->full_name, sizeof(a->full_name)) ||
	    copy_text(r, "department", creating, a->department, sizeof(a->department)) ||
	    copy_text(r, "contact", creating, a->contact, sizeof(a->contact)))
		return r->err;
	if (json_object_get(r->json, "roles") && read_roles(r, &a->roles))
		return r->err;
	if (creating && !json_object_get(r->json, "roles"))
		return reply_error(r, GV_ERR_INVALID, "field 'roles' is required");
	if (req_int(r, "clearance", 0, 1, 3, &clearance, &present))
		return r->err;
	if (present)
		a->clearance = (int)clearance;
	if (req_bool(r, "outsourced", &b, &present))
		return r->err;
	if (present)
		a->outsourced = b;
	if (json_object_get(r->json, "expires_at") && json_is_null(json_object_get(r->json, "expires_at"))) {
		a->expires_at = 0;
	} else {
		if (req_string(r, "expires_at", 0, 32, &expires))
			return r->err;
		if (expires && time_parse(expires, &a->expires_at) != GV_OK)
			return reply_error(r, GV_ERR_INVALID,
					   "expires_at must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
	}
	if (json_object_get(r->json, "ip_allowlist") &&
	    req_list(r, "ip_allowlist", a->ip_allowlist, sizeof(a->ip_allowlist)))
		return r->err;
	if (json_object_get(r->json, "time_windows") &&
	    req_list(r, "time_windows", a->time_windows, sizeof(a->time_windows)))
		return r->err;
	if (json_object_get(r->json, "device_fingerprints") &&
	    req_list(r, "device_fingerprints", a->device_fps, sizeof(a->device_fps)))
		return r->err;
	return GV_OK;
}

static const char *const editable_fields[] = {
	"full_name", "department", "contact", "roles", "clearance", "outsourced", "expires_at",
	"ip_allowlist", "time_windows", "device_fingerprints", NULL};

gv_err h_accounts_create(struct http_req *r)
{
	static const char *const fields[] = {
		"username", "full_name", "department", "contact", "roles", "clearance", "outsourced",
		"expires_at", "ip_allowlist", "time_windows", "device_fingerprints", NULL};
	struct store_account a;
	const char *why = NULL;
	gv_err err;

	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	memset(&a, 0, sizeof(a));
	a.clearance = 1;
	if (req_only_fields(r, fields) || copy_text(r, "username", 1, a.username, sizeof(a.username)) ||
	    apply_fields(r, &a, 1))
		return r->err;
	r->object = arena_printf(&r->arena, "account:%s", a.username);
	err = account_apply(r->app, r->account.username, &a, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->status = MHD_HTTP_CREATED;
	r->resp = account_to_json(&a);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static int list_one(const struct store_account *a, void *ctx)
{
	json_array_append_new(ctx, account_to_json(a));
	return 0;
}

gv_err h_accounts_list(struct http_req *r)
{
	json_t *list = json_array();
	gv_err err;

	if (!list)
		return GV_ERR_NOMEM;
	err = r->app->st->ops->account_list(r->app->st, list_one, list);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "accounts", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static gv_err load_param(struct http_req *r, struct store_account *a)
{
	gv_err err;

	r->object = arena_printf(&r->arena, "account:%.64s", r->params[0]);
	err = r->app->st->ops->account_get(r->app->st, r->params[0], a);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, err, "no such account");
	return err;
}

gv_err h_accounts_get(struct http_req *r)
{
	struct store_account a;
	gv_err err = load_param(r, &a);

	if (err != GV_OK)
		return err;
	r->resp = account_to_json(&a);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_accounts_patch(struct http_req *r)
{
	struct store_account edits, stored;
	const char *why = NULL;
	gv_err err;

	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, editable_fields))
		return r->err;
	err = load_param(r, &edits);
	if (err != GV_OK)
		return err;
	if (apply_fields(r, &edits, 0))
		return r->err;
	err = account_change(r->app, r->account.username, &edits, &stored, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = account_to_json(&stored);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

/* Shared tail of the POST /v1/accounts/{u}/<verb> handlers. */
static gv_err account_result(struct http_req *r, gv_err err, const char *why, const char *otp)
{
	struct store_account a;

	if (err != GV_OK)
		return reply_error(r, err, why);
	err = r->app->st->ops->account_get(r->app->st, r->params[0], &a);
	if (err != GV_OK)
		return err;
	r->resp = account_to_json(&a);
	if (r->resp && otp)
		json_object_set_new(r->resp, "one_time_password", json_string(otp));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static gv_err verb_prologue(struct http_req *r)
{
	static const char *const fields[] = {NULL};

	r->object = arena_printf(&r->arena, "account:%.64s", r->params[0]);
	return req_only_fields(r, fields);
}

gv_err h_accounts_approve(struct http_req *r)
{
	char otp[ACCOUNT_OTP_LEN + 1];
	const char *why = NULL;
	gv_err err;

	if (verb_prologue(r))
		return r->err;
	err = account_approve(r->app, r->account.username, r->params[0], otp, &why);
	err = account_result(r, err, why, err == GV_OK ? otp : NULL);
	util_wipe(otp, sizeof(otp));
	return err;
}

gv_err h_accounts_reset_password(struct http_req *r)
{
	char otp[ACCOUNT_OTP_LEN + 1];
	const char *why = NULL;
	gv_err err;

	if (verb_prologue(r))
		return r->err;
	err = account_reset_password(r->app, r->account.username, r->params[0], otp, &why);
	err = account_result(r, err, why, err == GV_OK ? otp : NULL);
	util_wipe(otp, sizeof(otp));
	return err;
}

gv_err h_accounts_disable(struct http_req *r)
{
	const char *why = NULL;

	if (verb_prologue(r))
		return r->err;
	return account_result(r, account_set_enabled(r->app, r->account.username, r->params[0], 0, &why),
			      why, NULL);
}

gv_err h_accounts_enable(struct http_req *r)
{
	const char *why = NULL;

	if (verb_prologue(r))
		return r->err;
	return account_result(r, account_set_enabled(r->app, r->account.username, r->params[0], 1, &why),
			      why, NULL);
}

gv_err h_accounts_unlock(struct http_req *r)
{
	const char *why = NULL;

	if (verb_prologue(r))
		return r->err;
	return account_result(r, account_unlock(r->app, r->account.username, r->params[0], &why), why, NULL);
}

gv_err h_accounts_cancel(struct http_req *r)
{
	const char *why = NULL;

	if (verb_prologue(r))
		return r->err;
	return account_result(r, account_cancel(r->app, r->account.username, r->params[0], &why), why, NULL);
}

/* account.c - account lifecycle rules. */
#include "auth/account.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "common/cidr.h"
#include "common/log.h"
#include "common/timewin.h"
#include "common/util.h"

#define CANCELLED_REASON "cancelled"

static int username_ok(const char *u)
{
	size_t n = strlen(u);

	if (n < 3 || n > 64 || !islower((unsigned char)u[0]))
		return 0;
	for (; *u; u++)
		if (!islower((unsigned char)*u) && !isdigit((unsigned char)*u) && *u != '_' &&
		    *u != '.' && *u != '-')
			return 0;
	return 1;
}

static int fps_ok(const char *list)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n != 64)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
				return 0;
		p += n;
		if (*p == ',')
			p++;
	}
	return 1;
}

gv_err account_validate(const struct store_account *a, int64_t now, const char **why)
{
	gv_err err;

	*why = NULL;
	if (!username_ok(a->username)) {
		*why = "username must be 3-64 characters: lower-case letters, digits, '.', '_' or '-', "
		       "starting with a letter";
		return GV_ERR_INVALID;
	}
	if (!a->full_name[0] || !a->department[0] || !a->contact[0]) {
		*why = "full_name, department and contact are required (real-name accounts)";
		return GV_ERR_INVALID;
	}
	if (!util_utf8_printable(a->full_name) || !util_utf8_printable(a->department) ||
	    !util_utf8_printable(a->contact)) {
		*why = "names and contact must be printable UTF-8 text";
		return GV_ERR_INVALID;
	}
	if (a->clearance < 1 || a->clearance > 3) {
		*why = "clearance must be 1, 2 or 3";
		return GV_ERR_INVALID;
	}
	if (a->outsourced && a->expires_at == 0) {
		*why = "expires_at is mandatory for outsourced or contractor accounts";
		return GV_ERR_INVALID;
	}
	if (a->expires_at && a->expires_at <= now && a->status != ACCOUNT_EXPIRED) {
		*why = "expires_at must be in the future";
		return GV_ERR_INVALID;
	}
	err = role_check_set(a->roles, why);
	if (err != GV_OK)
		return err;
	if (cidr_list_validate(a->ip_allowlist) != GV_OK) {
		*why = "ip_allowlist must be a list of IPv4/IPv6 addresses or CIDR blocks";
		return GV_ERR_INVALID;
	}
	if (timewin_list_validate(a->time_windows) != GV_OK) {
		*why = "time_windows entries must look like \"mon-fri 08:00-18:00\"";
		return GV_ERR_INVALID;
	}
	if (!fps_ok(a->device_fps)) {
		*why = "device_fingerprints must be lower-case SHA-256 hex of client certificates";
		return GV_ERR_INVALID;
	}
	return GV_OK;
}

int account_totp_required(const struct store_account *a)
{
	return (a->roles & ROLE_ADMIN_MASK) != 0 || a->clearance >= 3;
}

gv_err account_store_password(struct gv_app *app, struct store_account *a, const char *password,
			      int must_change)
{
	struct gv_config cfg;
	struct password_params p;
	gv_err err;

	app_policy(app, &cfg);
	p = app_password_params(&cfg);
	err = password_hash(&p, password, a->pw_hash, sizeof(a->pw_hash));
	if (err != GV_OK)
		return err;
	a->pw_changed_at = util_now_s();
	a->must_change_pw = must_change;
	a->updated_at = a->pw_changed_at;
	err = app->st->ops->account_update(app->st, a);
	if (err == GV_OK)
		err = app->st->ops->pwhist_add(app->st, a->id, a->pw_hash, a->pw_changed_at,
					       cfg.pw_history > 0 ? cfg.pw_history : 1);
	return err;
}

gv_err account_apply(struct gv_app *app, const char *actor, struct store_account *a,
		     const char **why)
{
	int64_t now = util_now_s();
	char obj[96];
	gv_err err;

	a->status = ACCOUNT_PENDING;
	a->status_reason[0] = '\0';
	err = account_validate(a, now, why);
	if (err != GV_OK)
		return err;
	snprintf(a->created_by, sizeof(a->created_by), "%s", actor);
	a->approved_by[0] = '\0';
	a->created_at = a->updated_at = now;
	err = app->st->ops->account_insert(app->st, a);
	if (err == GV_ERR_EXISTS)
		*why = "an account with this username already exists";
	if (err != GV_OK)
		return err;
	snprintf(obj, sizeof(obj), "account:%s", a->username);
	return audit_event(app->audit, actor, "account.applied", obj, "pending approval");
}

/* Loads username for a change by actor, refusing self-service administration. */
static gv_err load_target(struct gv_app *app, const char *actor, const char *username,
			  struct store_account *a, const char **why)
{
	gv_err err = app->st->ops->account_get(app->st, username, a);

	if (err == GV_ERR_NOT_FOUND) {
		*why = "no such account";
		return err;
	}
	if (err != GV_OK)
		return err;
	if (strcmp(actor, username) == 0) {
		*why = "administrators cannot change their own account status or roles";
		return GV_ERR_FORBIDDEN;
	}
	return GV_OK;
}

gv_err account_approve(struct gv_app *app, const char *actor, const char *username,
		       char otp[ACCOUNT_OTP_LEN + 1], const char **why)
{
	struct store_account a;
	char obj[96];
	gv_err err;

	*why = NULL;
	pthread_mutex_lock(&app->acct_lock);
	err = load_target(app, actor, username, &a, why);
	if (err != GV_OK)
		goto out;
	if (a.status != ACCOUNT_PENDING) {
		*why = "only a pending application can be approved";
		err = GV_ERR_STATE;
		goto out;
	}
	err = password_generate(otp, ACCOUNT_OTP_LEN);
	if (err != GV_OK)
		goto out;
	a.status = ACCOUNT_ACTIVE;
	snprintf(a.approved_by, sizeof(a.approved_by), "%s", actor);
	a.approved_at = util_now_s();
	/* Dormancy counts from issuance until the first login. */
	a.last_login_at = a.approved_at;
	err = account_store_password(app, &a, otp, 1);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", username);
	err = audit_event(app->audit, actor, "account.approved", obj, "one-time password issued");
out:
	pthread_mutex_unlock(&app->acct_lock);
	if (err != GV_OK)
		util_wipe(otp, ACCOUNT_OTP_LEN + 1);
	return err;
}

/* The attributes an administrator may edit; everything else (status, credentials,
 * counters, TOTP) belongs to other code paths and is never overwritten by a change. */
static void copy_editable(struct store_account *dst, const struct store_account *src)
{
	memcpy(dst->full_name, src->full_name, sizeof(dst->full_name));
	memcpy(dst->department, src->department, sizeof(dst->department));
	memcpy(dst->contact, src->contact, sizeof(dst->contact));
	dst->roles = src->roles;
	dst->clearance = src->clearance;
	dst->outsourced = src->outsourced;
	dst->expires_at = src->expires_at;
	memcpy(dst->ip_allowlist, src->ip_allowlist, sizeof(dst->ip_allowlist));
	memcpy(dst->time_windows, src->time_windows, sizeof(dst->time_windows));
	memcpy(dst->device_fps, src->device_fps, sizeof(dst->device_fps));
}

gv_err account_change(struct gv_app *app, const char *actor, const struct store_account *edits,
		      struct store_account *out, const char **why)
{
	struct store_account cur, next;
	char obj[96], reason[256];
	gv_err err;

	*why = NULL;
	/* Read-modify-write under acct_lock: a lock, password change, enrolment or
	 * cancellation that lands while the request was being parsed is kept. */
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, edits->id, &cur);
	if (err != GV_OK)
		goto unlock;
	next = cur;
	copy_editable(&next, edits);
	if (strcmp(actor, cur.username) == 0 &&
	    (next.roles != cur.roles || next.clearance != cur.clearance ||
	     strcmp(next.ip_allowlist, cur.ip_allowlist) ||
	     strcmp(next.time_windows, cur.time_windows) ||
	     strcmp(next.device_fps, cur.device_fps) || next.expires_at != cur.expires_at)) {
		*why = "administrators cannot change their own roles, clearance or restrictions";
		err = GV_ERR_FORBIDDEN;
		goto unlock;
	}
	if (cur.status == ACCOUNT_DISABLED && !strcmp(cur.status_reason, CANCELLED_REASON)) {
		*why = "a cancelled account cannot be changed";
		err = GV_ERR_STATE;
		goto unlock;
	}
	err = account_validate(&next, util_now_s(), why);
	if (err != GV_OK)
		goto unlock;
	next.updated_at = util_now_s();
	err = app->st->ops->account_update(app->st, &next);
unlock:
	pthread_mutex_unlock(&app->acct_lock);
	if (err != GV_OK)
		goto out;
	*out = next;
	snprintf(obj, sizeof(obj), "account:%s", next.username);
	if (next.roles != cur.roles) {
		char r1[96], r2[96];

		role_format(cur.roles, r1, sizeof(r1));
		role_format(next.roles, r2, sizeof(r2));
		snprintf(reason, sizeof(reason), "roles %s -> %s; sessions revoked", r1, r2);
		err = app->st->ops->session_delete_account(app->st, next.id, NULL);
		if (err == GV_OK)
			err = audit_event(app->audit, actor, "account.roles_changed", obj, reason);
		goto out;
	}
	err = audit_event(app->audit, actor, "account.changed", obj, "attributes updated");
out:
	util_wipe(&cur, sizeof(cur));
	util_wipe(&next, sizeof(next));
	return err;
}

gv_err account_set_enabled(struct gv_app *app, const char *actor, const char *username,
			   int enabled, const char **why)
{
	struct store_account a;
	char obj[96];
	gv_err err;

	*why = NULL;
	pthread_mutex_lock(&app->acct_lock);
	err = load_target(app, actor, username, &a, why);
	if (err != GV_OK)
		goto out;
	if (a.status == ACCOUNT_PENDING) {
		*why = "a pending application must be approved first";
		err = GV_ERR_STATE;
		goto out;
	}
	if (a.status == ACCOUNT_DISABLED && !strcmp(a.status_reason, CANCELLED_REASON)) {
		*why = "a cancelled account cannot be re-enabled";
		err = GV_ERR_STATE;
		goto out;
	}
	if (enabled) {
		if (a.expires_at && a.expires_at <= util_now_s()) {
			*why = "the account's expiry date has passed; extend expires_at first";
			err = GV_ERR_STATE;
			goto out;
		}
		a.status = ACCOUNT_ACTIVE;
		a.failed_pw = a.failed_totp = 0;
		a.locked_until = 0;
		/* A re-enabled dormant account gets a fresh dormancy period. */
		a.last_login_at = util_now_s();
	} else {
		a.status = ACCOUNT_DISABLED;
	}
	snprintf(a.status_reason, sizeof(a.status_reason), "%s", enabled ? "" : "disabled by administrator");
	a.updated_at = util_now_s();
	err = app->st->ops->account_update(app->st, &a);
	if (err == GV_OK && !enabled)
		err = app->st->ops->session_delete_account(app->st, a.id, NULL);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", username);
	err = audit_event(app->audit, actor, enabled ? "account.enabled" : "account.disabled", obj,
			  enabled ? "" : "sessions revoked");
out:
	pthread_mutex_unlock(&app->acct_lock);
	return err;
}

gv_err account_unlock(struct gv_app *app, const char *actor, const char *username,
		      const char **why)
{
	struct store_account a;
	char obj[96];
	gv_err err;

	*why = NULL;
	pthread_mutex_lock(&app->acct_lock);
	err = load_target(app, actor, username, &a, why);
	if (err != GV_OK)
		goto out;
	if (a.status != ACCOUNT_LOCKED) {
		*why = "the account is not locked";
		err = GV_ERR_STATE;
		goto out;
	}
	a.status = ACCOUNT_ACTIVE;
	a.status_reason[0] = '\0';
	a.failed_pw = a.failed_totp = 0;
	a.locked_until = 0;
	a.updated_at = util_now_s();
	err = app->st->ops->account_update(app->st, &a);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", username);
	err = audit_event(app->audit, actor, "account.unlocked", obj, "unlocked by administrator");
out:
	pthread_mutex_unlock(&app->acct_lock);
	return err;
}

gv_err account_reset_password(struct gv_app *app, const char *actor, const char *username,
			      char otp[ACCOUNT_OTP_LEN + 1], const char **why)
{
	struct store_account a;
	char obj[96];
	gv_err err;

	*why = NULL;
	pthread_mutex_lock(&app->acct_lock);
	err = load_target(app, actor, username, &a, why);
	if (err != GV_OK)
		goto out;
	if (a.status == ACCOUNT_PENDING ||
	    (a.status == ACCOUNT_DISABLED && !strcmp(a.status_reason, CANCELLED_REASON))) {
		*why = "the account has no password to reset";
		err = GV_ERR_STATE;
		goto out;
	}
	err = password_generate(otp, ACCOUNT_OTP_LEN);
	if (err != GV_OK)
		goto out;
	err = account_store_password(app, &a, otp, 1);
	if (err == GV_OK)
		err = app->st->ops->session_delete_account(app->st, a.id, NULL);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", username);
	err = audit_event(app->audit, actor, "account.password_reset", obj,
			  "one-time password issued; sessions revoked");
out:
	pthread_mutex_unlock(&app->acct_lock);
	if (err != GV_OK)
		util_wipe(otp, ACCOUNT_OTP_LEN + 1);
	return err;
}

gv_err account_cancel(struct gv_app *app, const char *actor, const char *username,
		      const char **why)
{
	struct store_account a;
	char obj[96];
	gv_err err;

	*why = NULL;
	pthread_mutex_lock(&app->acct_lock);
	err = load_target(app, actor, username, &a, why);
	if (err != GV_OK)
		goto out;
	if (a.status == ACCOUNT_DISABLED && !strcmp(a.status_reason, CANCELLED_REASON)) {
		*why = "the account is already cancelled";
		err = GV_ERR_STATE;
		goto out;
	}
	a.status = ACCOUNT_DISABLED;
	snprintf(a.status_reason, sizeof(a.status_reason), CANCELLED_REASON);
	a.updated_at = util_now_s();
	err = app->st->ops->account_update(app->st, &a);
	if (err == GV_OK)
		err = app->st->ops->session_delete_account(app->st, a.id, NULL);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", username);
	err = audit_event(app->audit, actor, "account.cancelled", obj, "sessions revoked");
out:
	pthread_mutex_unlock(&app->acct_lock);
	return err;
}

/* What the sweep does to a: ACCOUNT_EXPIRED, ACCOUNT_DISABLED (dormant) or -1. */
static int sweep_target(const struct store_account *a, int64_t now, int64_t dormant_s)
{
	if (a->status != ACCOUNT_ACTIVE && a->status != ACCOUNT_LOCKED)
		return -1;
	if (a->expires_at && a->expires_at <= now)
		return ACCOUNT_EXPIRED;
	if (dormant_s > 0 && a->last_login_at && now - a->last_login_at >= dormant_s)
		return ACCOUNT_DISABLED;
	return -1;
}

struct sweep_ctx {
	int64_t now;
	int64_t dormant_s;
	int64_t ids[256];
	int n;
	int more;
};

static int sweep_pick(const struct store_account *a, void *ctx)
{
	struct sweep_ctx *s = ctx;

	if (sweep_target(a, s->now, s->dormant_s) < 0)
		return 0;
	if (s->n == (int)GV_ARRAY_LEN(s->ids)) {
		s->more = 1;
		return 1;
	}
	s->ids[s->n++] = a->id;
	return 0;
}

/* Expires or disables (dormant) one account if it is still due, ends its sessions and
 * records the event.  *done is 1 when this call made the change. */
static gv_err sweep_apply(struct gv_app *app, int64_t id, int64_t now, int64_t dormant_s, int *done)
{
	struct store_account a;
	char obj[96];
	int to;
	gv_err err;

	*done = 0;
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, id, &a);
	/* Decided again on the fresh record: the account may have been cancelled,
	 * re-enabled or given a new end date since it was picked. */
	to = err == GV_OK ? sweep_target(&a, now, dormant_s) : -1;
	if (to < 0) {
		pthread_mutex_unlock(&app->acct_lock);
		return err;
	}
	a.status = to;
	snprintf(a.status_reason, sizeof(a.status_reason), "%s",
		 to == ACCOUNT_EXPIRED ? "expiry date reached" : "dormant");
	a.updated_at = now;
	err = app->st->ops->account_update(app->st, &a);
	if (err == GV_OK)
		err = app->st->ops->session_delete_account(app->st, a.id, NULL);
	pthread_mutex_unlock(&app->acct_lock);
	if (err != GV_OK)
		return err;
	*done = 1;
	snprintf(obj, sizeof(obj), "account:%s", a.username);
	log_info("account %s %s", a.username, to == ACCOUNT_EXPIRED ? "expired" : "disabled (dormant)");
	return audit_event(app->audit, "system",
			   to == ACCOUNT_EXPIRED ? "account.expired" : "account.dormant_disabled",
			   obj, a.status_reason);
}

gv_err account_expire_due(struct gv_app *app, const struct store_account *a, int64_t now,
			  int *expired)
{
	int done;

	*expired = 0;
	if (!a->expires_at || a->expires_at > now)
		return GV_OK;
	*expired = 1;
	if (a->status != ACCOUNT_ACTIVE && a->status != ACCOUNT_LOCKED)
		return GV_OK;
	return sweep_apply(app, a->id, now, 0, &done);
}

gv_err account_sweep(struct gv_app *app, int64_t now, int *changed)
{
	struct gv_config cfg;
	struct sweep_ctx s;
	gv_err err;

	*changed = 0;
	app_policy(app, &cfg);
	do {
		memset(&s, 0, sizeof(s));
		s.now = now;
		s.dormant_s = (int64_t)cfg.dormant_days * 86400;
		err = app->st->ops->account_list(app->st, sweep_pick, &s);
		for (int i = 0; err == GV_OK && i < s.n; i++) {
			int done;

			err = sweep_apply(app, s.ids[i], now, s.dormant_s, &done);
			*changed += done;
		}
	} while (err == GV_OK && s.more);
	return err;
}

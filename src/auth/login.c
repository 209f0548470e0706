/* login.c - authentication steps and access restrictions. */
#include "auth/login.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/account.h"
#include "auth/role.h"
#include "auth/totp.h"
#include "common/cidr.h"
#include "common/log.h"
#include "common/timewin.h"
#include "common/util.h"

int login_next_stage(const struct store_account *a, int totp_done, int64_t now, int max_age_days)
{
	if (a->totp_enabled && !totp_done)
		return SESSION_TOTP_VERIFY;
	if (a->must_change_pw ||
	    (max_age_days > 0 && now - a->pw_changed_at >= (int64_t)max_age_days * 86400))
		return SESSION_PASSWORD_CHANGE;
	if (account_totp_required(a) && !a->totp_enabled)
		return SESSION_TOTP_ENROLL;
	return SESSION_ACTIVE;
}

static int fp_listed(const char *list, const char *fp)
{
	size_t n = strlen(fp);
	const char *p = list;

	if (n != 64)
		return 0;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && util_ct_equal(p, fp, n))
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

gv_err login_check_access(struct gv_app *app, const struct store_account *a, const char *ip,
			  const char *device_fp, int64_t now, const char **why)
{
	struct gv_config cfg;

	*why = NULL;
	app_policy(app, &cfg);
	if (!cidr_list_allows(a->ip_allowlist, ip)) {
		*why = "source address not in the account's allowlist";
		return GV_ERR_RESTRICTED;
	}
	if (!timewin_list_allows(a->time_windows, now, cfg.utc_offset_min)) {
		*why = "outside the account's allowed time windows";
		return GV_ERR_RESTRICTED;
	}
	for (int r = 0; r < ROLE__COUNT; r++) {
		char ips[STORE_LIST_LEN], wins[513];
		gv_err err;

		if (!(a->roles & ROLE_BIT(r)))
			continue;
		err = app->st->ops->role_get(app->st, role_name((enum role)r), ips, sizeof(ips), wins,
					     sizeof(wins));
		if (err == GV_ERR_NOT_FOUND)
			continue;
		if (err != GV_OK)
			return err;
		if (!cidr_list_allows(ips, ip)) {
			*why = "source address not in the role's allowlist";
			return GV_ERR_RESTRICTED;
		}
		if (!timewin_list_allows(wins, now, cfg.utc_offset_min)) {
			*why = "outside the role's allowed time windows";
			return GV_ERR_RESTRICTED;
		}
	}
	if (a->device_fps[0] && !(device_fp && fp_listed(a->device_fps, device_fp))) {
		*why = "the connection does not present a client certificate bound to the account";
		return GV_ERR_RESTRICTED;
	}
	return GV_OK;
}

/* Locks the account for the configured duration; caller holds acct_lock. */
static gv_err lock_account(struct gv_app *app, struct store_account *a, int64_t now,
			   int duration_s, const char *why)
{
	char obj[96];
	gv_err err;

	a->status = ACCOUNT_LOCKED;
	a->locked_until = now + duration_s;
	snprintf(a->status_reason, sizeof(a->status_reason), "%s", why);
	err = app->st->ops->account_update(app->st, a);
	if (err == GV_OK)
		err = app->st->ops->session_delete_account(app->st, a->id, NULL);
	if (err != GV_OK)
		return err;
	snprintf(obj, sizeof(obj), "account:%s", a->username);
	log_warn("account %s locked: %s", a->username, why);
	return audit_event(app->audit, a->username, "auth.lockout", obj, why);
}

/* Lifts an expired lock; caller holds acct_lock. */
static gv_err lock_expire(struct gv_app *app, struct store_account *a, int64_t now)
{
	char obj[96];
	gv_err err;

	if (a->status != ACCOUNT_LOCKED || a->locked_until > now)
		return GV_OK;
	a->status = ACCOUNT_ACTIVE;
	a->status_reason[0] = '\0';
	a->failed_pw = a->failed_totp = 0;
	a->locked_until = 0;
	err = app->st->ops->account_update(app->st, a);
	if (err != GV_OK)
		return err;
	snprintf(obj, sizeof(obj), "account:%s", a->username);
	return audit_event(app->audit, "system", "auth.lock_expired", obj, "lock period ended");
}

gv_err login_password(struct gv_app *app, const char *username, const char *password,
		      const char *ip, const char *device_fp, struct login_result *out,
		      const char **reason)
{
	struct store_account a;
	struct gv_config cfg;
	gv_err err, verdict;
	int found, just_expired = 0;
	int64_t now;

	*reason = NULL;
	memset(out, 0, sizeof(*out));
	app_policy(app, &cfg);
	err = app->st->ops->account_get(app->st, username, &a);
	if (err != GV_OK && err != GV_ERR_NOT_FOUND)
		return err;
	found = err == GV_OK;
	/* Exactly one Argon2 verification on every path keeps timing uniform. */
	if (found && a.pw_hash[0]) {
		verdict = password_verify(a.pw_hash, password);
	} else {
		/* Unknown or never-issued accounts: same work, and never a match. */
		char dummy[PASSWORD_HASH_MAX];
		gv_err ignored;

		app_dummy_hash(app, dummy);
		ignored = password_verify(dummy, password);
		(void)ignored;
		verdict = GV_ERR_AUTH;
	}
	if (verdict != GV_OK && verdict != GV_ERR_AUTH)
		return verdict;
	if (!found) {
		*reason = "unknown user";
		return GV_ERR_AUTH;
	}

	now = util_now_s();
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, a.id, &a);
	if (err == GV_OK)
		err = lock_expire(app, &a, now);
	if (err != GV_OK)
		goto out;
	if ((a.status == ACCOUNT_ACTIVE || a.status == ACCOUNT_LOCKED) && a.expires_at &&
	    a.expires_at <= now) {
		a.status = ACCOUNT_EXPIRED;
		snprintf(a.status_reason, sizeof(a.status_reason), "expiry date reached");
		err = app->st->ops->account_update(app->st, &a);
		if (err == GV_OK)
			err = app->st->ops->session_delete_account(app->st, a.id, NULL);
		if (err != GV_OK)
			goto out;
		just_expired = 1;
	}
	if (a.status == ACCOUNT_LOCKED) {
		*reason = "account locked";
		err = GV_ERR_AUTH;
		goto out;
	}
	if (verdict != GV_OK) {
		*reason = "wrong password";
		err = GV_ERR_AUTH;
		if (a.status != ACCOUNT_ACTIVE)
			goto out;
		a.failed_pw++;
		if (a.failed_pw >= cfg.lock_max_failures) {
			gv_err lerr = lock_account(app, &a, now, cfg.lock_duration_s,
						   "too many wrong passwords");

			if (lerr != GV_OK)
				err = lerr;
		} else if (app->st->ops->account_update(app->st, &a) != GV_OK) {
			err = GV_ERR_STORE;
		}
		goto out;
	}
	if (a.status != ACCOUNT_ACTIVE) {
		*reason = a.status == ACCOUNT_PENDING ? "account pending approval"
			: a.status == ACCOUNT_EXPIRED ? "account expired" : "account disabled";
		err = GV_ERR_AUTH;
		goto out;
	}
	err = login_check_access(app, &a, ip, device_fp, now, reason);
	if (err != GV_OK)
		goto out; /* not a credential failure: the counter is left alone */
	a.failed_pw = 0;
	a.last_login_at = now;
	{
		/* A hash made at an older Argon2 cost is remade at today's on the next
		 * successful login, so that a wrong password costs the same for this account
		 * as for an unknown username. */
		struct password_params pp = app_password_params(&cfg);
		char fresh[PASSWORD_HASH_MAX];

		if (password_needs_rehash(a.pw_hash, &pp) &&
		    password_hash(&pp, password, fresh, sizeof(fresh)) == GV_OK)
			memcpy(a.pw_hash, fresh, sizeof(fresh));
		util_wipe(fresh, sizeof(fresh));
	}
	err = app->st->ops->account_update(app->st, &a);
	if (err != GV_OK)
		goto out;
	err = session_create(app, &a, login_next_stage(&a, 0, now, cfg.pw_max_age_days), ip,
			     device_fp, out->token, &out->session);
	if (err == GV_ERR_LIMIT)
		*reason = "concurrent session limit reached";
out:
	pthread_mutex_unlock(&app->acct_lock);
	/* The same event the sweep and the request path write, outside the lock like theirs. */
	if (just_expired) {
		char obj[96];
		gv_err aerr;

		snprintf(obj, sizeof(obj), "account:%s", a.username);
		aerr = audit_event(app->audit, "system", "account.expired", obj, "expiry date reached");
		if (aerr != GV_OK)
			err = aerr;
	}
	util_wipe(&a, sizeof(a));
	return err;
}

/* Normalises a recovery code (case, separators) and returns its keyed hash. */
static gv_err recovery_hash(struct gv_app *app, const char *code, char out[65])
{
	char norm[32];
	size_t n = 0;
	gv_err err;

	for (const char *p = code; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		if (!isalnum((unsigned char)*p) || n + 1 >= sizeof(norm))
			return GV_ERR_AUTH;
		norm[n++] = (char)tolower((unsigned char)*p);
	}
	norm[n] = '\0';
	if (n != 12)
		return GV_ERR_AUTH;
	err = crypto_hmac_sm3_hex(app->keys.recovery, sizeof(app->keys.recovery), norm, out);
	util_wipe(norm, sizeof(norm));
	return err;
}

static gv_err totp_open_secret(struct gv_app *app, const struct store_account *a, int pending,
			       unsigned char secret[TOTP_SECRET_LEN])
{
	const unsigned char *sealed = pending ? a->totp_pending : a->totp_secret;
	size_t len = pending ? a->totp_pending_len : a->totp_secret_len;
	char aad[96];

	if (len != TOTP_SECRET_LEN + CRYPTO_SEAL_OVERHEAD)
		return GV_ERR_STATE;
	/* Binding the account id stops a sealed secret being copied to another account. */
	snprintf(aad, sizeof(aad), "totp:%lld", (long long)a->id);
	return crypto_sm4gcm_open(app->keys.totp, aad, strlen(aad), sealed, len, secret);
}

gv_err login_totp(struct gv_app *app, struct store_session *s, const char *code,
		  const char *recovery, const char **reason)
{
	unsigned char secret[TOTP_SECRET_LEN];
	struct store_account a;
	struct gv_config cfg;
	int64_t now = util_now_s(), step = 0;
	gv_err err, verdict = GV_ERR_AUTH;

	*reason = NULL;
	if (s->stage != SESSION_TOTP_VERIFY) {
		*reason = "no one-time code is expected at this step";
		return GV_ERR_STATE;
	}
	app_policy(app, &cfg);
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, s->account_id, &a);
	if (err != GV_OK)
		goto out;
	if (a.status != ACCOUNT_ACTIVE) {
		*reason = "account not active";
		err = GV_ERR_UNAUTHENTICATED;
		goto out;
	}
	if (code) {
		err = totp_open_secret(app, &a, 0, secret);
		if (err != GV_OK)
			goto out;
		verdict = totp_verify(secret, sizeof(secret), now, code, a.totp_last_step, &step);
		util_wipe(secret, sizeof(secret));
	} else if (recovery) {
		char hash[65];

		verdict = recovery_hash(app, recovery, hash);
		if (verdict == GV_OK) {
			verdict = app->st->ops->recovery_consume(app->st, a.id, hash);
			if (verdict == GV_ERR_NOT_FOUND)
				verdict = GV_ERR_AUTH;
		}
	}
	if (verdict != GV_OK && verdict != GV_ERR_AUTH) {
		err = verdict;
		goto out;
	}
	if (verdict == GV_ERR_AUTH) {
		*reason = code ? "wrong or replayed one-time code" : "wrong recovery code";
		a.failed_totp++;
		if (a.failed_totp >= cfg.lock_totp_max_failures)
			err = lock_account(app, &a, now, cfg.lock_duration_s, "too many wrong one-time codes");
		else
			err = app->st->ops->account_update(app->st, &a);
		if (err == GV_OK)
			err = GV_ERR_AUTH;
		goto out;
	}
	a.failed_totp = 0;
	if (code)
		a.totp_last_step = step;
	err = app->st->ops->account_update(app->st, &a);
	if (err == GV_OK)
		err = session_set_stage(app, s, login_next_stage(&a, 1, now, cfg.pw_max_age_days));
	if (err == GV_OK && recovery) {
		char obj[96];

		snprintf(obj, sizeof(obj), "account:%s", a.username);
		err = audit_event(app->audit, a.username, "auth.recovery_code_used", obj, "");
	}
out:
	pthread_mutex_unlock(&app->acct_lock);
	util_wipe(&a, sizeof(a));
	return err;
}

struct history_check {
	const char *candidate;
	int reused;
	gv_err err;
};

static int history_match(const char *hash, void *ctx)
{
	struct history_check *h = ctx;
	gv_err err = password_verify(hash, h->candidate);

	if (err == GV_OK) {
		h->reused = 1;
		return 1;
	}
	if (err != GV_ERR_AUTH) {
		h->err = err;
		return 1;
	}
	return 0;
}

gv_err login_change_password(struct gv_app *app, struct store_session *s, const char *current,
			     const char *next, const char **why)
{
	struct store_account a;
	struct gv_config cfg;
	struct password_policy pol;
	struct history_check hist = {next, 0, GV_OK};
	char obj[96];
	gv_err err;

	*why = NULL;
	if (s->stage != SESSION_ACTIVE && s->stage != SESSION_PASSWORD_CHANGE) {
		*why = "complete the one-time code step first";
		return GV_ERR_STAGE;
	}
	app_policy(app, &cfg);
	err = app->st->ops->account_get_id(app->st, s->account_id, &a);
	if (err != GV_OK)
		return err;
	err = password_verify(a.pw_hash, current);
	if (err == GV_ERR_AUTH) {
		/* A stolen session must not become a password-guessing oracle. */
		*why = "current password is wrong";
		pthread_mutex_lock(&app->acct_lock);
		if (app->st->ops->account_get_id(app->st, s->account_id, &a) == GV_OK &&
		    a.status == ACCOUNT_ACTIVE) {
			gv_err lerr;

			a.failed_pw++;
			if (a.failed_pw >= cfg.lock_max_failures)
				lerr = lock_account(app, &a, util_now_s(), cfg.lock_duration_s,
						    "too many wrong passwords");
			else
				lerr = app->st->ops->account_update(app->st, &a);
			if (lerr != GV_OK)
				err = lerr;
		}
		pthread_mutex_unlock(&app->acct_lock);
		goto out;
	}
	if (err != GV_OK)
		goto out;
	pol.min_length = cfg.pw_min_length;
	pol.min_classes = cfg.pw_min_classes;
	pthread_rwlock_rdlock(&app->cfg_lock);
	pol.common = app->common;
	err = password_check_policy(&pol, a.username, next, why);
	pthread_rwlock_unlock(&app->cfg_lock);
	if (err != GV_OK)
		goto out;
	err = app->st->ops->pwhist_list(app->st, a.id, cfg.pw_history > 0 ? cfg.pw_history : 1,
					history_match, &hist);
	if (err == GV_OK)
		err = hist.err;
	if (err != GV_OK)
		goto out;
	if (hist.reused || password_verify(a.pw_hash, next) == GV_OK) {
		*why = "password was used recently; choose one not among the last ones";
		err = GV_ERR_POLICY;
		goto out;
	}
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, s->account_id, &a);
	if (err == GV_OK)
		err = account_store_password(app, &a, next, 0);
	pthread_mutex_unlock(&app->acct_lock);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", a.username);
	err = audit_event(app->audit, a.username, "auth.password_changed", obj, "");
	if (err == GV_OK && s->stage != SESSION_ACTIVE)
		err = session_set_stage(app, s, login_next_stage(&a, 1, util_now_s(), cfg.pw_max_age_days));
out:
	util_wipe(&a, sizeof(a));
	return err;
}

void login_enrolment_release(struct login_enrolment *e)
{
	buf_release(&e->uri);
	buf_release(&e->svg);
}

static void recovery_code_new(char out[LOGIN_RECOVERY_LEN + 1])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789"; /* 31 symbols */
	size_t k = 0;

	for (int i = 0; i < 12; i++) {
		unsigned char r;

		do
			util_random_bytes(&r, 1);
		while (r >= 248);
		if (i == 4 || i == 8)
			out[k++] = '-';
		out[k++] = alphabet[r % 31];
	}
	out[k] = '\0';
}

gv_err login_totp_enroll(struct gv_app *app, struct store_session *s, struct login_enrolment *e,
			 char codes[LOGIN_RECOVERY_CODES][LOGIN_RECOVERY_LEN + 1])
{
	unsigned char secret[TOTP_SECRET_LEN];
	char hashes[LOGIN_RECOVERY_CODES][65];
	const char *hash_ptrs[LOGIN_RECOVERY_CODES];
	struct store_account a;
	char aad[96];
	gv_err err;

	buf_init(&e->uri, 4096);
	buf_init(&e->svg, 256 * 1024);
	/* Enrolment replaces a secret only from the enrolment step or an active session. */
	if (s->stage != SESSION_TOTP_ENROLL && s->stage != SESSION_ACTIVE)
		return GV_ERR_STAGE;
	util_random_bytes(secret, sizeof(secret));
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, s->account_id, &a);
	if (err != GV_OK)
		goto out;
	snprintf(aad, sizeof(aad), "totp:%lld", (long long)a.id);
	err = crypto_sm4gcm_seal(app->keys.totp, aad, strlen(aad), secret, sizeof(secret),
				 a.totp_pending);
	if (err != GV_OK)
		goto out;
	a.totp_pending_len = sizeof(secret) + CRYPTO_SEAL_OVERHEAD;
	for (int i = 0; i < LOGIN_RECOVERY_CODES && err == GV_OK; i++) {
		recovery_code_new(codes[i]);
		err = recovery_hash(app, codes[i], hashes[i]);
		hash_ptrs[i] = hashes[i];
	}
	if (err != GV_OK)
		goto out;
	err = app->st->ops->account_update(app->st, &a);
	if (err == GV_OK)
		err = app->st->ops->recovery_stage(app->st, a.id, hash_ptrs, LOGIN_RECOVERY_CODES);
	if (err == GV_OK)
		err = totp_uri(secret, sizeof(secret), "govvault", a.username, &e->uri);
	if (err == GV_OK)
		err = totp_qr_svg(e->uri.data, &e->svg);
out:
	pthread_mutex_unlock(&app->acct_lock);
	util_wipe(secret, sizeof(secret));
	util_wipe(&a, sizeof(a));
	if (err != GV_OK) {
		login_enrolment_release(e);
		util_wipe(codes, sizeof(char[LOGIN_RECOVERY_CODES][LOGIN_RECOVERY_LEN + 1]));
	}
	return err;
}

gv_err login_totp_confirm(struct gv_app *app, struct store_session *s, const char *code,
			  const char **why)
{
	unsigned char secret[TOTP_SECRET_LEN];
	struct store_account a;
	struct gv_config cfg;
	int64_t now = util_now_s(), step = 0;
	char obj[96];
	gv_err err;

	*why = NULL;
	if (s->stage != SESSION_TOTP_ENROLL && s->stage != SESSION_ACTIVE)
		return GV_ERR_STAGE;
	app_policy(app, &cfg);
	pthread_mutex_lock(&app->acct_lock);
	err = app->st->ops->account_get_id(app->st, s->account_id, &a);
	if (err != GV_OK)
		goto out;
	err = totp_open_secret(app, &a, 1, secret);
	if (err == GV_ERR_STATE) {
		*why = "start enrolment first";
		goto out;
	}
	if (err != GV_OK)
		goto out;
	err = totp_verify(secret, sizeof(secret), now, code, 0, &step);
	util_wipe(secret, sizeof(secret));
	if (err != GV_OK) {
		*why = "the code does not match the new secret";
		goto out;
	}
	/* Codes first: a crash between the two leaves the new codes with the old secret,
	 * which the user holds both of, never a secret without usable codes. */
	err = app->st->ops->recovery_activate(app->st, a.id);
	if (err != GV_OK)
		goto out;
	memcpy(a.totp_secret, a.totp_pending, a.totp_pending_len);
	a.totp_secret_len = a.totp_pending_len;
	a.totp_pending_len = 0;
	a.totp_enabled = 1;
	a.totp_last_step = step;
	a.updated_at = now;
	err = app->st->ops->account_update(app->st, &a);
	if (err != GV_OK)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s", a.username);
	err = audit_event(app->audit, a.username, "auth.totp_enrolled", obj, "");
	if (err == GV_OK && s->stage != SESSION_ACTIVE)
		err = session_set_stage(app, s, login_next_stage(&a, 1, now, cfg.pw_max_age_days));
out:
	pthread_mutex_unlock(&app->acct_lock);
	util_wipe(&a, sizeof(a));
	return err;
}

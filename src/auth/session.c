/* session.c - session tokens, expiry and per-account limits. */
#include "auth/session.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const char *const stage_names[] = {
	[SESSION_ACTIVE] = "active",
	[SESSION_PASSWORD_CHANGE] = "password_change",
	[SESSION_TOTP_ENROLL] = "totp_enroll",
	[SESSION_TOTP_VERIFY] = "totp_verify",
};

const char *session_stage_name(int stage)
{
	if (stage < 0 || stage > SESSION_TOTP_VERIFY)
		return "unknown";
	return stage_names[stage];
}

int session_expired(const struct store_session *s, int64_t now, int idle_s, int absolute_s)
{
	return now - s->last_seen >= idle_s || now - s->created_at >= absolute_s;
}

struct live_count {
	int64_t now;
	int idle_s, absolute_s;
	int live;
};

static int count_live(const struct store_session *s, void *ctx)
{
	struct live_count *c = ctx;

	if (!session_expired(s, c->now, c->idle_s, c->absolute_s))
		c->live++;
	return 0;
}

static gv_err token_hash(struct gv_app *app, const char *token, char out[65])
{
	return crypto_hmac_sm3_hex(app->keys.token, sizeof(app->keys.token), token, out);
}

gv_err session_create(struct gv_app *app, const struct store_account *a, int stage,
		      const char *ip, const char *device_fp, char token[SESSION_TOKEN_LEN + 1],
		      struct store_session *out)
{
	struct gv_config cfg;
	struct live_count live;
	unsigned char raw[32], idraw[16];
	int64_t now = util_now_s();
	gv_err err;

	app_policy(app, &cfg);
	live.now = now;
	live.idle_s = cfg.session_idle_s;
	live.absolute_s = cfg.session_absolute_s;
	live.live = 0;
	err = app->st->ops->session_list(app->st, a->id, count_live, &live);
	if (err != GV_OK)
		return err;
	if (live.live >= cfg.session_max_per_account)
		return GV_ERR_LIMIT;

	memset(out, 0, sizeof(*out));
	util_random_bytes(raw, sizeof(raw));
	memcpy(token, "gv1.", 4);
	util_hex_encode(raw, sizeof(raw), token + 4);
	util_wipe(raw, sizeof(raw));
	util_random_bytes(idraw, sizeof(idraw));
	util_hex_encode(idraw, sizeof(idraw), out->id);
	err = token_hash(app, token, out->token_hash);
	if (err != GV_OK)
		goto out;
	out->account_id = a->id;
	snprintf(out->username, sizeof(out->username), "%s", a->username);
	out->stage = stage;
	out->created_at = out->last_seen = now;
	snprintf(out->ip, sizeof(out->ip), "%s", ip);
	snprintf(out->device_fp, sizeof(out->device_fp), "%s", device_fp ? device_fp : "");
	err = app->st->ops->session_insert(app->st, out);
out:
	if (err != GV_OK)
		util_wipe(token, SESSION_TOKEN_LEN + 1);
	return err;
}

gv_err session_resolve(struct gv_app *app, const char *token, int64_t now,
		       struct store_session *out)
{
	struct gv_config cfg;
	char hash[65];
	gv_err err;

	if (strlen(token) != SESSION_TOKEN_LEN || memcmp(token, "gv1.", 4) != 0)
		return GV_ERR_UNAUTHENTICATED;
	err = token_hash(app, token, hash);
	if (err != GV_OK)
		return err;
	/* The lookup is by keyed hash, so timing reveals nothing about valid tokens. */
	err = app->st->ops->session_get(app->st, hash, out);
	if (err == GV_ERR_NOT_FOUND)
		return GV_ERR_UNAUTHENTICATED;
	if (err != GV_OK)
		return err;
	app_policy(app, &cfg);
	if (session_expired(out, now, cfg.session_idle_s, cfg.session_absolute_s)) {
		(void)app->st->ops->session_delete(app->st, out->id);
		return GV_ERR_UNAUTHENTICATED;
	}
	/* Second granularity is enough for timeouts measured in minutes and saves a write
	 * per request on busy sessions. */
	if (out->last_seen != now) {
		out->last_seen = now;
		err = app->st->ops->session_update(app->st, out);
		if (err == GV_ERR_NOT_FOUND)
			return GV_ERR_UNAUTHENTICATED; /* revoked concurrently */
	}
	return err;
}

gv_err session_set_stage(struct gv_app *app, struct store_session *s, int stage)
{
	s->stage = stage;
	return app->st->ops->session_update(app->st, s);
}

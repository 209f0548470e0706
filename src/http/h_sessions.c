/* h_sessions.c - /v1/sessions: the security administrator lists and revokes sessions. */
#include "http/http.h"

#include "auth/session.h"
#include "common/util.h"

struct session_list_ctx {
	json_t *list;
	struct gv_config *cfg;
	int64_t now;
};

static int session_one(const struct store_session *s, void *ctx)
{
	struct session_list_ctx *c = ctx;

	if (session_expired(s, c->now, c->cfg->session_idle_s, c->cfg->session_absolute_s))
		return 0;
	json_array_append_new(c->list,
			      json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "id", s->id, "username",
					s->username, "stage", session_stage_name(s->stage), "created_at",
					json_time(s->created_at), "last_seen", json_time(s->last_seen),
					"ip", s->ip, "device_fingerprint", s->device_fp));
	return 0;
}

gv_err h_sessions_list(struct http_req *r)
{
	struct gv_config cfg;
	struct session_list_ctx c = {json_array(), &cfg, util_now_s()};
	gv_err err;

	if (!c.list)
		return GV_ERR_NOMEM;
	app_policy(r->app, &cfg);
	err = r->app->st->ops->session_list(r->app->st, 0, session_one, &c);
	if (err != GV_OK) {
		json_decref(c.list);
		return err;
	}
	r->resp = json_pack("{s:o}", "sessions", c.list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_sessions_revoke(struct http_req *r)
{
	gv_err err;

	r->object = arena_printf(&r->arena, "session:%.40s", r->params[0]);
	err = r->app->st->ops->session_delete(r->app->st, r->params[0]);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, err, "no such session");
	if (err != GV_OK)
		return err;
	r->resp = json_pack("{s:b}", "revoked", 1);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

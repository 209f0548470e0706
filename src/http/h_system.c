/* h_system.c - /v1/system: the system administrator's view of configuration and
 * reload.  Only settings are shown; key material is never read here. */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

static void config_one(const char *section, const char *key, const char *value, int reloadable,
		       void *ctx)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.%s", section, key);
	json_object_set_new(ctx, name, json_pack("{s:s,s:b}", "value", value, "reloadable", reloadable));
}

gv_err h_system_config(struct http_req *r)
{
	struct gv_config cfg;
	json_t *obj = json_object();

	if (!obj)
		return GV_ERR_NOMEM;
	app_policy(r->app, &cfg);
	config_each(&cfg, config_one, obj);
	r->resp = json_pack("{s:s,s:o}", "config_file", r->app->config_path, "settings", obj);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_system_reload(struct http_req *r)
{
	char errmsg[512];
	gv_err err;

	r->object = "config";
	err = app_reload(r->app, errmsg, sizeof(errmsg));
	if (err != GV_OK) {
		r->reason = "reload refused: invalid configuration";
		return reply_error(r, GV_ERR_INVALID, arena_strdup(&r->arena, errmsg));
	}
	log_info("configuration reloaded by %s", r->account.username);
	r->resp = json_pack("{s:b}", "reloaded", 1);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

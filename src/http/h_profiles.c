/* h_profiles.c - /v1/mask-profiles: masking profiles as versioned data (secadmin writes;
 * the business roles read what will be applied to them; docs/masking.md). */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mask/mask.h"

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n >= MASK_PROFILE_NAME_LEN || strncmp(s, "default-grade-", 14) == 0 ||
	    strcmp(s, "none") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

gv_err h_profiles_put(struct http_req *r)
{
	struct mask_profile *p = NULL;
	json_t *profile;
	char why[256], *text = NULL;
	int version = 0;
	gv_err err;

	r->object = arena_printf(&r->arena, "mask_profile:%.64s", r->params[0]);
	if (!name_ok(r->params[0]))
		return reply_error(r, GV_ERR_INVALID, "a profile name is 2-63 characters of a-z, 0-9, "
				   "- and _ (default-grade-N and none are built in)");
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	profile = json_deep_copy(r->json);
	if (!profile)
		return GV_ERR_NOMEM;
	/* The path names the profile; a name in the body must agree. */
	if (json_object_get(profile, "name") &&
	    (!json_is_string(json_object_get(profile, "name")) ||
	     strcmp(json_string_value(json_object_get(profile, "name")), r->params[0]) != 0)) {
		json_decref(profile);
		return reply_error(r, GV_ERR_INVALID, "the profile's name differs from the path");
	}
	json_object_set_new(profile, "name", json_string(r->params[0]));
	err = mask_profile_parse(profile, &p, why, sizeof(why));
	mask_profile_free(p);
	if (err == GV_OK) {
		text = json_dumps(profile, JSON_COMPACT);
		err = text ? r->app->st->ops->profile_put(r->app->st, r->params[0], text,
							  r->account.username, util_now_s(), &version)
			   : GV_ERR_NOMEM;
	}
	free(text);
	if (err == GV_ERR_INVALID) {
		json_decref(profile);
		return reply_error(r, err, arena_strdup(&r->arena, why));
	}
	if (err != GV_OK) {
		json_decref(profile);
		return err;
	}
	r->reason = arena_printf(&r->arena, "version %d", version);
	r->resp = json_pack("{s:s,s:i,s:o}", "name", r->params[0], "version", version, "profile", profile);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

static int profile_row(const char *name, int version, const char *json, const char *by,
		       int64_t at, void *ctx)
{
	json_t *list = ctx, *p = json_loads(json, 0, NULL);
	char when[32];

	util_time_rfc3339(at, when);
	return json_array_append_new(list, json_pack("{s:s,s:i,s:o,s:s,s:s,s:b}", "name", name,
						     "version", version, "profile", p ? p : json_null(),
						     "created_by", by, "created_at", when,
						     "builtin", 0)) != 0;
}

gv_err h_profiles_list(struct http_req *r)
{
	json_t *list = json_array();
	gv_err err = list ? GV_OK : GV_ERR_NOMEM;

	r->object = "mask_profile:*";
	for (int g = 1; err == GV_OK && g <= 3; g++) {
		json_t *p = mask_profile_default(g);

		if (!p || json_array_append_new(list, json_pack("{s:s+,s:i,s:o,s:b}", "name",
								"default-grade-", g == 1 ? "1" : g == 2 ? "2" : "3",
								"version", 1, "profile", p, "builtin", 1)))
			err = GV_ERR_NOMEM;
	}
	if (err == GV_OK)
		err = r->app->st->ops->profile_list(r->app->st, profile_row, list);
	if (err != GV_OK) {
		json_decref(list);
		return err;
	}
	r->resp = json_pack("{s:o}", "profiles", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_profiles_get(struct http_req *r)
{
	json_t *list = json_array();
	long long version = 0;
	gv_err err;

	r->object = arena_printf(&r->arena, "mask_profile:%.64s", r->params[0]);
	if (!list)
		return GV_ERR_NOMEM;
	if (strncmp(r->params[0], "default-grade-", 14) == 0 && r->params[0][14] >= '1' &&
	    r->params[0][14] <= '3' && !r->params[0][15]) {
		/* The built-in defaults are not stored, and have one version. */
		json_t *p = mask_profile_default(r->params[0][14] - '0');

		json_decref(list);
		r->resp = p ? json_pack("{s:s,s:i,s:o,s:b}", "name", r->params[0], "version", 1,
					"profile", p, "builtin", 1) : NULL;
		return r->resp ? GV_OK : GV_ERR_NOMEM;
	}
	if (req_query_int(r, "version", 1, 1000000, 0, &version)) {
		json_decref(list);
		return reply_error(r, GV_ERR_INVALID, "version must be a positive integer");
	}
	err = r->app->st->ops->profile_get(r->app->st, r->params[0], (int)version, profile_row, list);
	if (err == GV_OK && json_array_size(list))
		r->resp = json_incref(json_array_get(list, 0));
	json_decref(list);
	if (err == GV_ERR_NOT_FOUND)
		return reply_error(r, err, "no such masking profile");
	return err;
}

/* h_roles.c - /v1/roles: per-role access restrictions (address allowlist, time windows). */
#include "http/http.h"

#include <string.h>

#include "auth/role.h"
#include "common/cidr.h"
#include "common/timewin.h"

gv_err h_roles_list(struct http_req *r)
{
	json_t *list = json_array();

	if (!list)
		return GV_ERR_NOMEM;
	for (int i = 0; i < ROLE__COUNT; i++) {
		char ips[STORE_LIST_LEN], wins[513];
		gv_err err = r->app->st->ops->role_get(r->app->st, role_name((enum role)i), ips,
							sizeof(ips), wins, sizeof(wins));

		if (err != GV_OK && err != GV_ERR_NOT_FOUND) {
			json_decref(list);
			return err;
		}
		json_array_append_new(list, json_pack("{s:s,s:b,s:o,s:o}", "role", role_name((enum role)i),
						      "administrator", (ROLE_ADMIN_MASK & ROLE_BIT(i)) != 0,
						      "ip_allowlist", json_list(ips), "time_windows", json_list(wins)));
	}
	r->resp = json_pack("{s:o}", "roles", list);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_roles_set_restrictions(struct http_req *r)
{
	static const char *const fields[] = {"ip_allowlist", "time_windows", NULL};
	char ips[STORE_LIST_LEN], wins[513];
	enum role role;
	gv_err err;

	r->object = arena_printf(&r->arena, "role:%.32s", r->params[0]);
	if (role_parse(r->params[0], &role) != GV_OK)
		return reply_error(r, GV_ERR_NOT_FOUND, "no such role");
	if (!r->json)
		return reply_error(r, GV_ERR_INVALID, "a JSON body is required");
	if (req_only_fields(r, fields) || req_list(r, "ip_allowlist", ips, sizeof(ips)) ||
	    req_list(r, "time_windows", wins, sizeof(wins)))
		return r->err;
	if (cidr_list_validate(ips) != GV_OK)
		return reply_error(r, GV_ERR_INVALID, "ip_allowlist entries must be IPv4/IPv6 addresses or CIDR blocks");
	if (timewin_list_validate(wins) != GV_OK)
		return reply_error(r, GV_ERR_INVALID, "time_windows entries must look like \"mon-fri 08:00-18:00\"");
	err = r->app->st->ops->role_set(r->app->st, role_name(role), ips, wins);
	if (err != GV_OK)
		return err;
	r->reason = "role restrictions replaced";
	r->resp = json_pack("{s:s,s:o,s:o}", "role", role_name(role), "ip_allowlist", json_list(ips),
			    "time_windows", json_list(wins));
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

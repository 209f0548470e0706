/* h_health.c - GET /v1/health: liveness without authentication. */
#include "http/http.h"

gv_err h_health(struct http_req *r)
{
	r->resp = json_pack("{s:s,s:s,s:s}", "status", "ok", "version", GV_VERSION, "storage",
			    r->app->st->ops->name);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

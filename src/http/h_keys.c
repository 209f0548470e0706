/* h_keys.c - key rotation: a dataset's data-key versions, their rotation, and the
 * rotation of the master key (secadmin; data/rekey.h). */
#include "http/http.h"

#include "common/worker.h"
#include "data/rekey.h"

gv_err h_keys_show(struct http_req *r)
{
	const char *why = NULL;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	err = rekey_status_json(r->app, r->params[0], &r->resp, &why);
	return err == GV_OK ? GV_OK : reply_error(r, err, why);
}

gv_err h_keys_rotate(struct http_req *r)
{
	const char *why = NULL;
	int version = 0;
	gv_err err;

	r->object = arena_printf(&r->arena, "dataset:%.64s", r->params[0]);
	err = rekey_rotate_dataset(r->app, &r->account, r->params[0], &version, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	worker_kick(r->app->rekey);
	r->status = 202;
	r->resp = json_pack("{s:s,s:i}", "dataset", r->params[0], "version", version);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

gv_err h_keys_rotate_master(struct http_req *r)
{
	const char *why = NULL;
	int n = 0;
	gv_err err;

	r->object = "keys:master";
	err = rekey_rotate_master(r->app, &r->account, &n, &why);
	if (err != GV_OK)
		return reply_error(r, err, why);
	r->resp = json_pack("{s:i}", "data_keys", n);
	return r->resp ? GV_OK : GV_ERR_NOMEM;
}

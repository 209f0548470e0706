/* audit.c - audit row stamping and writing. */
#include "audit/audit.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

void audit_init(struct audit_log *log, struct gv_store *st, const char *node)
{
	log->st = st;
	snprintf(log->node, sizeof(log->node), "%s", node);
}

gv_err audit_append(struct audit_log *log, struct store_audit *rec)
{
	gv_err err;

	rec->ts_us = util_now_us();
	snprintf(rec->node, sizeof(rec->node), "%s", log->node);
	err = log->st->ops->audit_append(log->st, rec);
	if (err != GV_OK)
		log_error("audit: write failed (%s); refusing to proceed", gv_strerror(err));
	return err;
}

gv_err audit_event(struct audit_log *log, const char *actor, const char *action,
		   const char *object, const char *reason)
{
	struct store_audit rec;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.actor, sizeof(rec.actor), "%s", actor ? actor : "");
	snprintf(rec.action, sizeof(rec.action), "%s", action);
	snprintf(rec.object, sizeof(rec.object), "%s", object ? object : "");
	snprintf(rec.reason, sizeof(rec.reason), "%s", reason ? reason : "");
	snprintf(rec.result, sizeof(rec.result), "event");
	return audit_append(log, &rec);
}

/* audit.h - the audit trail writer: one durable row per request and per security event.
 *
 * Rows are written synchronously through the store (SQLite synchronous=FULL), so when
 * audit_append returns GV_OK the row is on disk; callers send no response otherwise.
 * Callers never pass passwords, tokens, codes or keys; the session is the public id. */
#ifndef GV_AUDIT_AUDIT_H
#define GV_AUDIT_AUDIT_H

#include "store/store.h"

struct audit_log {
	struct gv_store *st;
	char node[64];
};

void audit_init(struct audit_log *log, struct gv_store *st, const char *node);
/* Stamps time and node, then writes; rec->seq is set on success. */
gv_err audit_append(struct audit_log *log, struct store_audit *rec) GV_MUST_CHECK;
/* A security or system event not tied to a request (start, stop, sweep, lockout...). */
gv_err audit_event(struct audit_log *log, const char *actor, const char *action,
		   const char *object, const char *reason) GV_MUST_CHECK;

#endif

/* syslog.h - forwarding audit records to a SIEM: RFC 5424 messages over TCP with
 * RFC 6587 octet-counting framing.
 *
 * The local segment files are the record of truth; forwarding is a copy that must
 * never slow down or block an audited request.  audit_syslog_send only queues (bounded;
 * when full the oldest queued message is dropped and counted), and a sender thread
 * connects, reconnects with backoff and writes.  Checkpoints travel the same way, which
 * makes the SIEM a second, independent witness.
 *
 * Delivery is at least once as far as TCP can tell: whatever was written on a
 * connection that then fails is written again on the next one, so the SIEM may see a
 * record twice (same node and seq); see syslog.c for the limits of plain TCP. */
#ifndef GV_AUDIT_SYSLOG_H
#define GV_AUDIT_SYSLOG_H

#include <stdint.h>

#include "audit/record.h"
#include "common/error.h"

struct audit_syslog;

struct audit_syslog_stats {
	int64_t queued;     /* messages accepted by audit_syslog_send */
	int64_t sent;       /* messages the receiver's TCP acknowledged, counted a second
			       later if the connection did not fail meanwhile (at once
			       while audit_syslog_free drains); a message written twice
			       (after a reconnect) counts once */
	int64_t dropped;    /* messages discarded because the queue was full */
	int connected;      /* 1 while a connection is up */
};
/* queued == sent + dropped + messages still pending (queued or in flight). */

/* host: IPv4/IPv6 literal or name, resolved by the sender thread before every
 * connection attempt; port 1..65535; hostname is the HOSTNAME field of the messages
 * (the node id; cut at 255 characters, non-PRINTUSASCII replaced by '_'); queue_max >= 1
 * messages.  Starts the sender thread; does not connect (the SIEM may be down at start).
 * GV_ERR_INVALID on bad arguments.  The caller frees *out with audit_syslog_free. */
gv_err audit_syslog_new(const char *host, int port, const char *hostname, int queue_max,
			struct audit_syslog **out) GV_MUST_CHECK;
/* Formats r (borrowed) and queues it; never blocks on the network.  When the queue is
 * full the oldest queued message is dropped and counted, and r is still queued: GV_OK
 * (a rate-limited warning goes to the process log).  GV_ERR_NOMEM when r cannot be
 * queued.  Thread-safe. */
gv_err audit_syslog_send(struct audit_syslog *s, const struct audit_rec *r) GV_MUST_CHECK;
/* A consistent snapshot, taken under the forwarder's lock. */
void audit_syslog_stats(struct audit_syslog *s, struct audit_syslog_stats *out);
/* Waits up to timeout_ms for every queued message to be written and acknowledged,
 * stops the thread (what is still queued is lost) and frees; NULL ok.  The wait can
 * exceed timeout_ms only by a name lookup in progress (bounded by resolv.conf's
 * timeout and attempts); numeric addresses never block there. */
void audit_syslog_free(struct audit_syslog *s, int timeout_ms);

/* The RFC 5424 message for r, without framing, NUL-terminated in out (outlen bytes);
 * returns its length (< outlen; 0 when outlen is 0).  Every record fits in 8192 bytes.  With less
 * room the output stays well-formed: MSG is cut (any byte boundary: it is ASCII), SD
 * parameters that no longer fit are left out whole, never cut; when not even the header
 * and seq fit, out is "" and the result 0.  No NUL, CR or LF is ever written into the
 * message.  Exposed for tests. */
size_t audit_syslog_format(const struct audit_rec *r, const char *hostname, char *out,
			   size_t outlen);

#endif

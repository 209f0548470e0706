/* record.h - one audit record and its canonical byte encoding.
 *
 * The encoding is what the hash chain covers, so it must be unambiguous and stable:
 *   u64 seq | i64 ts_us | u8 kind | i32 status | then every text field, in the fixed order
 *   of enum audit_field, as u16 length + bytes (no terminator).
 * All integers are big-endian.  Decoding accepts exactly this layout and nothing else
 * (every length checked, no trailing bytes), so two different byte strings never decode
 * to the same record and the reader can be fuzzed. */
#ifndef GV_AUDIT_RECORD_H
#define GV_AUDIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

enum audit_kind {
	AUDIT_KIND_REQUEST = 1,     /* one API request, allowed or refused */
	AUDIT_KIND_EVENT = 2,       /* a security or system event */
	AUDIT_KIND_CHECKPOINT = 3,  /* signed (seq, hash, time) of the record before it */
};

/* Field sizes include the terminating NUL of the in-memory form. */
struct audit_rec {
	int64_t seq;
	int64_t ts_us;
	int kind;
	int status;               /* HTTP status; 0 for events */
	char node[64];
	char request_id[33];
	char actor[65];
	char roles[128];
	char session[65];         /* keyed hash of the session id, never a token */
	char source[64];          /* peer address */
	char device_fp[65];       /* SHA-256 of the client certificate, or "" */
	char action[64];
	char object[256];         /* dataset / record / account ids */
	char purpose[128];        /* declared purpose, when the request carried one */
	char decision[16];        /* permit | deny | error | event */
	char reason[256];         /* the rule or reason of the decision; never a secret */
	char masked[256];         /* comma list of fields masked in the response */
	char body_sm3[65];        /* HMAC-SM3 (audit key) of the request body, hex, or "":
				   keyed, because a bare SM3 of a login body would let
				   anyone holding the log test password guesses */
	char params[512];         /* sensitive parameters as name=HMAC-SM3 hex, comma list */
	char detail[512];         /* checkpoint: "seq=N hash=HEX sig=HEX" (verify.c) */
};

#define AUDIT_REC_MAX 4096    /* larger than any encoding of struct audit_rec */

/* Appends the canonical encoding of r to out. */
gv_err audit_rec_encode(const struct audit_rec *r, struct gv_buf *out) GV_MUST_CHECK;
/* Parses exactly len bytes; GV_ERR_INVALID on anything malformed (nothing is read
 * outside data[0..len)). */
gv_err audit_rec_decode(const unsigned char *data, size_t len, struct audit_rec *out) GV_MUST_CHECK;
/* Sequence, time and kind from the fixed head of an encoding, without decoding the
 * text fields (for readers that need only those, and whose bytes a chain hash proves). */
gv_err audit_rec_peek(const unsigned char *data, size_t len, int64_t *seq, int64_t *ts_us,
		      int *kind) GV_MUST_CHECK;
/* Name of a kind for JSON and messages ("request", "event", "checkpoint"). */
const char *audit_kind_name(int kind);
/* RFC 3339 UTC with microseconds ("2026-11-24T02:03:04.123456Z"). */
#define AUDIT_TIME_LEN 64
void audit_time_format(int64_t ts_us, char out[AUDIT_TIME_LEN]);

#endif

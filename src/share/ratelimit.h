/* ratelimit.h - calls per minute per consumer and service, as token buckets.
 *
 * A bucket holds up to per_minute tokens and refills at per_minute per 60 seconds, so
 * a consumer may burst to its minute's allowance and then call at the steady rate.
 * Buckets live in this process's memory: with several govvault nodes behind a
 * balancer, each node enforces the limit on the calls it serves (docs/sharing.md). */
#ifndef GV_SHARE_RATELIMIT_H
#define GV_SHARE_RATELIMIT_H

#include <stdint.h>

/* Takes one token of (consumer_id, service_id)'s bucket at now_us.  1 if there was
 * one; 0 if not, with *retry_after_s (>= 1) the seconds until there will be. */
int ratelimit_take(int64_t consumer_id, int64_t service_id, int per_minute, int64_t now_us,
		   int *retry_after_s);
/* Forgets every bucket (at exit; tests).  Buckets are small and one per consumer and
 * service called, so they are kept until then. */
void ratelimit_clear(void);

#endif

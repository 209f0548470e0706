/* ratelimit.c - token buckets in an open-addressed table under one mutex.  A call
 * holds the mutex for a hash and a few arithmetic operations, so it is not worth
 * striping on two cores. */
#include "share/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
	int64_t consumer, service;    /* 0, 0 = empty slot */
	double tokens;
	int64_t last_us;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket *slots;
static size_t nslots, used;

static size_t slot_of(int64_t c, int64_t s, size_t n)
{
	uint64_t h = (uint64_t)c * 0x9e3779b97f4a7c15ull ^ (uint64_t)s * 0xc2b2ae3d27d4eb4full;

	h ^= h >> 29;
	return (size_t)(h & (n - 1));
}

/* Doubles the table; on allocation failure the old one stays (callers fail closed). */
static int grow(void)
{
	size_t n = nslots ? nslots * 2 : 256;
	struct bucket *t = calloc(n, sizeof(*t));

	if (!t)
		return 0;
	for (size_t i = 0; i < nslots; i++) {
		size_t j;

		if (!slots[i].consumer && !slots[i].service)
			continue;
		for (j = slot_of(slots[i].consumer, slots[i].service, n); t[j].consumer || t[j].service;
		     j = (j + 1) & (n - 1))
			;
		t[j] = slots[i];
	}
	free(slots);
	slots = t;
	nslots = n;
	return 1;
}

int ratelimit_take(int64_t consumer_id, int64_t service_id, int per_minute, int64_t now_us,
		   int *retry_after_s)
{
	struct bucket *b = NULL;
	double rate = per_minute / 60e6;   /* tokens per microsecond */
	int ok = 0;

	*retry_after_s = 60;
	if (per_minute <= 0)
		return 0;
	pthread_mutex_lock(&lock);
	if ((used + 1) * 4 > nslots * 3 && !grow())
		goto out;   /* no memory for a bucket: refuse rather than run unlimited */
	for (size_t j = slot_of(consumer_id, service_id, nslots);; j = (j + 1) & (nslots - 1)) {
		if (slots[j].consumer == consumer_id && slots[j].service == service_id) {
			b = &slots[j];
			break;
		}
		if (!slots[j].consumer && !slots[j].service) {
			b = &slots[j];
			b->consumer = consumer_id;
			b->service = service_id;
			b->tokens = per_minute;
			b->last_us = now_us;
			used++;
			break;
		}
	}
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * rate;
		b->last_us = now_us;
	}
	if (b->tokens > per_minute)
		b->tokens = per_minute;   /* a lowered limit applies at once */
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		ok = 1;
	} else {
		/* Whole seconds, rounded up (a microsecond of float error aside). */
		double wait_us = (1.0 - b->tokens) / rate;
		int s = (int)((wait_us - 1.0) / 1e6) + 1;

		*retry_after_s = s < 1 ? 1 : s > 3600 ? 3600 : s;
	}
out:
	pthread_mutex_unlock(&lock);
	return ok;
}

void ratelimit_clear(void)
{
	pthread_mutex_lock(&lock);
	free(slots);
	slots = NULL;
	nslots = used = 0;
	pthread_mutex_unlock(&lock);
}

/* nonce.c - unique, unpredictable bytes for GCM nonces and record ids, drawn from
 * libgcrypt's nonce generator in bulk.
 *
 * gcry_create_nonce takes a global lock and calls getpid() on every use to notice a
 * fork; an import seals five values per row, so that was five system calls a row.
 * Each thread keeps its own pool instead and refills it 480 bytes at a time; a fork
 * bumps a generation so a child never hands out bytes its parent may also use. */
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <gcrypt.h>

#define POOL_BYTES 480

static atomic_uint fork_generation;

static _Thread_local struct {
	unsigned char buf[POOL_BYTES];
	size_t used;
	unsigned generation;
	int filled;
} pool;

static void on_fork_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}

void crypto_nonce_fork_guard(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

void crypto_nonce(void *out, size_t len)
{
	unsigned gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);

	if (len > POOL_BYTES / 4) {
		gcry_create_nonce(out, len);
		return;
	}
	if (!pool.filled || pool.generation != gen || POOL_BYTES - pool.used < len) {
		gcry_create_nonce(pool.buf, POOL_BYTES);
		pool.used = 0;
		pool.generation = gen;
		pool.filled = 1;
	}
	memcpy(out, pool.buf + pool.used, len);
	/* Handed-out bytes are not kept: a later read of the pool cannot replay them. */
	memset(pool.buf + pool.used, 0, len);
	pool.used += len;
}

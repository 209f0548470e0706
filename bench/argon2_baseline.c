/* argon2_baseline.c - raw libargon2 Argon2id verifications per second at a given cost,
 * with N threads: the ceiling for govvault's login rate.
 * usage: argon2_baseline MEMORY_KIB ITERATIONS THREADS SECONDS */
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char encoded[256];
static double seconds;
static uint32_t m_cost, t_cost;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	long *count = arg;
	double end = now() + seconds;

	while (now() < end) {
		if (argon2id_verify(encoded, "Bench-Password-1", 16) != ARGON2_OK)
			abort();
		(*count)++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const unsigned char salt[16] = "bench-salt-16byt";
	pthread_t th[64];
	long counts[64] = {0}, total = 0;
	int n;

	if (argc != 5)
		return 2;
	m_cost = (uint32_t)atoi(argv[1]);
	t_cost = (uint32_t)atoi(argv[2]);
	n = atoi(argv[3]);
	seconds = atof(argv[4]);
	if (n < 1 || n > 64)
		return 2;
	if (argon2id_hash_encoded(t_cost, m_cost, 1, "Bench-Password-1", 16, salt, 16, 32, encoded,
				  sizeof(encoded)) != ARGON2_OK)
		return 1;
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, &counts[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += counts[i];
	}
	printf("%.1f\n", total / seconds);
	return 0;
}

/* import_baseline.c - the baseline for the batch-import benchmark (import_bench.py):
 * raw SQLite batched inserts of the same rows that govvault imports.
 *   import_baseline CSV DBFILE
 * reads CSV (the file the benchmark POSTs), skips its header line and inserts every
 * further line, as it is, as the body of one row of a table shaped like govvault's
 * records table (schema migrations 5-7 in src/store/sqlite.c), with a time-ordered
 * 32-hex-digit record id as govvault makes them, in transactions of 512 rows
 * through one prepared statement, on a fresh database opened with the pragmas govvault
 * uses (8 KiB pages, WAL, synchronous=FULL, foreign_keys, secure_delete, 64 MiB of page
 * cache, a checkpoint every 8192 WAL pages).  No parsing beyond
 * splitting lines, no checks, no encryption, no HTTP: what the import costs above this
 * is govvault's work.
 * prints, one "name value" per line: rows, bytes, seconds, rows_per_s, mb_per_s.
 * The time runs from opening the CSV to the last COMMIT. */
#define _POSIX_C_SOURCE 200809L

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define BATCH 512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "import_baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
	exit(1);
}

static void exec(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sql);
}

/* xorshift64*: record ids need only be distinct and spread over the key space. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Like govvault's records_new_id: milliseconds since the epoch first (big-endian hex),
 * then 64 random bits, so new rows land at the end of the primary key. */
static void random_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	struct timespec ts;
	uint64_t ms, v = rng();

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (int i = 0; i < 16; i++)
		out[i] = hex[(ms >> (60 - 4 * i)) & 15];
	for (int i = 0; i < 16; i++, v >>= 4)
		out[16 + i] = hex[v & 15];
	out[32] = '\0';
}

int main(int argc, char **argv)
{
	sqlite3_stmt *ins;
	FILE *f;
	char *line = NULL, id[33];
	size_t cap = 0;
	ssize_t n;
	long rows = 0, bytes = 0;
	int header = 1;
	double t0, t;

	if (argc != 3) {
		fprintf(stderr, "usage: import_baseline CSV DBFILE\n");
		return 2;
	}
	rng_state ^= (uint64_t)time(NULL);
	if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK)
		die("open");
	exec("PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	     "PRAGMA foreign_keys=ON;"
	     "PRAGMA secure_delete=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;");
	exec("CREATE TABLE records (dataset_id INTEGER NOT NULL,"
	     " record_id TEXT NOT NULL, version INTEGER NOT NULL, key_version INTEGER NOT NULL,"
	     " body BLOB NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
	     " current INTEGER NOT NULL, PRIMARY KEY (dataset_id, record_id, version));");
	if (sqlite3_prepare_v2(db, "INSERT INTO records (dataset_id, record_id, version, key_version,"
				   " body, created_by, created_at, current) VALUES (1, ?, 1, 1, ?, ?, ?, 1)",
			       -1, &ins, NULL) != SQLITE_OK)
		die("prepare");

	t0 = now_s();
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	exec("BEGIN");
	while ((n = getline(&line, &cap, f)) > 0) {
		bytes += n;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (header || n == 0) {
			header = 0;
			continue;
		}
		random_id(id);
		sqlite3_bind_text(ins, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 2, line, (int)n, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, "bench", -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, (sqlite3_int64)time(NULL));
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert");
		sqlite3_reset(ins);
		if (++rows % BATCH == 0) {
			exec("COMMIT");
			exec("BEGIN");
		}
	}
	exec("COMMIT");
	t = now_s() - t0;
	fclose(f);
	free(line);
	sqlite3_finalize(ins);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	printf("rows %ld\nbytes %ld\nseconds %.6f\nrows_per_s %.1f\nmb_per_s %.2f\n", rows, bytes, t,
	       rows / t, bytes / 1e6 / t);
	return 0;
}

/* records_bench.c - the record store with same-run baselines.
 *   records_bench DIR SECONDS
 * prints, one "name value" per line:
 *   sm4_seal_mb_per_s / raw_sm4_gcm_mb_per_s   sealing 1 KiB values (datakey_seal: AAD,
 *                                              nonce, buffer) vs libgcrypt SM4-GCM alone
 *   search_per_s                               point reads by blind index (records_search:
 *                                              token, index lookup, decrypt, JSON)
 *   get_per_s                                  reads by record id (records_get)
 *   sqlite_point_reads_per_s                   baseline: the same number of rows read by
 *                                              primary key with plain sqlite3 prepared
 *                                              statements on a separate connection
 * Reads go through the service layer without HTTP and without the per-request audit
 * record (the HTTP benchmarks show that cost). */
#include <gcrypt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/bootstrap.h"
#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"
#include "crypto/datakey.h"
#include "data/dataset.h"
#include "data/records.h"

#define NREC 2000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "records_bench: %s\n", what);
	exit(1);
}

static void bench_sm4(double seconds)
{
	unsigned char key[16], nonce[12], tag[16], plain[1024], out[1024];
	struct gv_buf b;
	gcry_cipher_hd_t h;
	double t0;
	long n = 0;

	util_random_bytes(key, sizeof(key));
	util_random_bytes(plain, sizeof(plain));
	buf_init(&b, 4096);
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		b.len = 0;
		if (datakey_seal(key, 1, "r1", "field", 1, plain, sizeof(plain), &b) != GV_OK)
			die("seal");
		n++;
	}
	printf("sm4_seal_mb_per_s %.1f\n", (double)n * 1024 / 1e6 / (now_s() - t0));
	buf_release(&b);
	n = 0;
	if (gcry_cipher_open(&h, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_GCM, 0) || gcry_cipher_setkey(h, key, 16))
		die("gcry");
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		gcry_create_nonce(nonce, sizeof(nonce));
		if (gcry_cipher_setiv(h, nonce, 12) || gcry_cipher_authenticate(h, "1|r1|field|1", 12) ||
		    gcry_cipher_encrypt(h, out, sizeof(out), plain, sizeof(plain)) ||
		    gcry_cipher_gettag(h, tag, 16))
			die("gcm");
		n++;
	}
	gcry_cipher_close(h);
	printf("raw_sm4_gcm_mb_per_s %.1f\n", (double)n * 1024 / 1e6 / (now_s() - t0));
}

int main(int argc, char **argv)
{
	char data[512], conf[600], err[512], id[RECORDS_ID_LEN + 1], why_buf[256];
	struct bootstrap_options opt = {NULL, NULL,
		"[password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n"};
	struct bootstrap_admin admins[3];
	struct store_account owner, sec;
	struct store_dataset *d = malloc(sizeof(*d));
	struct dataset_input in = {0};
	struct gv_app *app = NULL;
	const char *why = NULL;
	double seconds, t0;
	int64_t version;
	long n;
	json_t *schema, *out;
	sqlite3 *db;
	sqlite3_stmt *q;

	if (argc != 3 || !d)
		die("usage: records_bench DIR SECONDS");
	seconds = atof(argv[2]);
	if (log_open(NULL, GV_LOG_ERROR) != GV_OK || crypto_init() != GV_OK)
		die("init");
	snprintf(data, sizeof(data), "%s/data", argv[1]);
	snprintf(conf, sizeof(conf), "%s/govvault.conf", data);
	opt.data_dir = data;
	if (bootstrap_init(&opt, admins, err, sizeof(err)) != GV_OK || app_open(conf, &app, err, sizeof(err)) != GV_OK)
		die(err);
	bench_sm4(seconds);
	memset(&owner, 0, sizeof(owner));
	snprintf(owner.username, sizeof(owner.username), "olga");
	snprintf(owner.department, sizeof(owner.department), "Statistics");
	owner.roles = ROLE_BIT(ROLE_DATA_OWNER);
	owner.clearance = 3;
	sec = owner;
	snprintf(sec.username, sizeof(sec.username), "secadmin");
	sec.roles = ROLE_BIT(ROLE_SECADMIN);
	schema = json_loads("{\"fields\":[{\"name\":\"id_no\",\"type\":\"string\",\"kind\":\"resident_id\","
			    "\"indexed\":true},{\"name\":\"name\",\"type\":\"string\",\"kind\":\"name\"},"
			    "{\"name\":\"note\",\"type\":\"string\"}]}", 0, NULL);
	in.name = "people";
	in.title = in.category = in.legal_basis = "bench";
	in.retention_days = 365;
	in.expected_rows = NREC;
	in.schema = schema;
	if (dataset_register(app, &owner, &in, d, why_buf, sizeof(why_buf)) != GV_OK ||
	    dataset_set_grade(app, &sec, "people", 2, "bench", d, &why) != GV_OK)
		die("dataset");
	for (int i = 0; i < NREC; i++) {
		char rid[16], idno[24];
		json_t *rec;

		snprintf(rid, sizeof(rid), "r%05d", i);
		snprintf(idno, sizeof(idno), "1101051949%08d", i);
		rec = json_pack("{s:s,s:s,s:s}", "id_no", idno, "name", "张三", "note", "x");
		if (records_put(app, &owner, "people", rid, 0, rec, id, &version, &why, why_buf,
				sizeof(why_buf)) != GV_OK)
			die("put");
		json_decref(rec);
	}
	n = 0;
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		char idno[24];

		snprintf(idno, sizeof(idno), "1101051949%08ld", n % NREC);
		if (records_search(app, &owner, "people", "id_no", idno, &out, &why) != GV_OK ||
		    json_array_size(json_object_get(out, "records")) != 1)
			die("search");
		json_decref(out);
		n++;
	}
	printf("search_per_s %.1f\n", (double)n / (now_s() - t0));
	n = 0;
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		char rid[16];

		snprintf(rid, sizeof(rid), "r%05ld", n % NREC);
		if (records_get(app, &owner, "people", rid, 0, &out, &why) != GV_OK)
			die("get");
		json_decref(out);
		n++;
	}
	printf("get_per_s %.1f\n", (double)n / (now_s() - t0));
	/* Baseline: point reads of the same rows, plain SQLite. */
	snprintf(conf, sizeof(conf), "%s/govvault.db", data);
	if (sqlite3_open_v2(conf, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT body FROM records WHERE dataset_id = ?1 AND record_id = ?2 "
			       "AND current = 1", -1, &q, NULL) != SQLITE_OK)
		die("sqlite");
	n = 0;
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		char rid[16];

		snprintf(rid, sizeof(rid), "r%05ld", n % NREC);
		sqlite3_bind_int64(q, 1, d->id);
		sqlite3_bind_text(q, 2, rid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_ROW)
			die("sqlite row");
		sqlite3_reset(q);
		n++;
	}
	printf("sqlite_point_reads_per_s %.1f\n", (double)n / (now_s() - t0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	json_decref(schema);
	free(d);
	app_free(app);
	return 0;
}

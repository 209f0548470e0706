/* policy_bench.c - access decisions per second with a same-run baseline.
 *   policy_bench DIR SECONDS [THREADS]
 * Sets up a data directory with NDS grade-2 datasets, NACC analyst accounts and NGRANT
 * grants (NGRANT / NDS per dataset: account, role and department subjects, some with
 * address ranges and time windows), all created through the service functions
 * (dataset_register, dataset_set_grade, policy_grant_create).  Then THREADS threads
 * (default: every core) call policy_decide() on a fixed mix of NREQ requests (permit,
 * wrong purpose, no grant for the subject, action not granted, clearance too low) for
 * SECONDS, and every answer is checked against the one a single thread got first.
 * prints, one "name value" per line:
 *   threads, grants, datasets, permit_share   the set-up and the request mix
 *   decisions_per_s                           policy_decide() on all threads
 *   baseline_per_s                            the cheapest check of the same question:
 *                                             pthread_rwlock_rdlock + bsearch of the
 *                                             (dataset, subject) pair over the same
 *                                             grants sorted, + unlock, same requests
 *                                             and threads
 * Decisions run without HTTP, session, store reads or audit: the HTTP benchmark
 * (masked_read_bench.py) shows those. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/bootstrap.h"
#include "auth/role.h"
#include "common/log.h"
#include "common/util.h"
#include "data/dataset.h"
#include "policy/policy.h"

#define NDS 100
#define NGRANT 1000
#define NACC 40
#define NREQ 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "policy_bench: %s\n", what);
	exit(1);
}

static struct gv_app *app;
static struct store_dataset *ds;       /* NDS */
static struct store_account *acc;      /* NACC analysts, then one low-clearance one */
static struct policy_request req[NREQ];
static unsigned char expect[NREQ];
static volatile int stop;

/* The baseline's table: one key per grant, sorted. */
struct key {
	int64_t dataset_id;
	char subject[129];
};
static struct key *keys;
static size_t nkeys;
static pthread_rwlock_t keys_lock = PTHREAD_RWLOCK_INITIALIZER;

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->dataset_id != y->dataset_id)
		return x->dataset_id < y->dataset_id ? -1 : 1;
	return strcmp(x->subject, y->subject);
}

static int baseline_check(const struct policy_request *rq)
{
	struct key k;
	int found;

	k.dataset_id = rq->dataset->id;
	snprintf(k.subject, sizeof(k.subject), "%s", rq->account->username);
	pthread_rwlock_rdlock(&keys_lock);
	found = bsearch(&k, keys, nkeys, sizeof(*keys), key_cmp) != NULL;
	pthread_rwlock_unlock(&keys_lock);
	return found;
}

struct worker {
	pthread_t t;
	int id, baseline;
	long n;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct policy_decision dec;
	size_t i = (size_t)w->id * 997;
	long n = 0;

	while (!stop) {
		for (int k = 0; k < 256; k++, i++) {
			const struct policy_request *rq = &req[i % NREQ];

			if (w->baseline) {
				n += baseline_check(rq) >= 0;
				continue;
			}
			if (policy_decide(app, rq, &dec) != GV_OK || dec.permit != expect[i % NREQ])
				die("decision differs from the single-thread one");
			n++;
		}
	}
	w->n = n;
	return NULL;
}

static double run(int threads, double seconds, int baseline)
{
	struct worker w[64];
	double t0, el;
	long n = 0;

	stop = 0;
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		w[i].id = i;
		w[i].baseline = baseline;
		if (pthread_create(&w[i].t, NULL, work, &w[i]) != 0)
			die("thread");
	}
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		n += w[i].n;
	}
	el = now_s() - t0;
	return (double)n / el;
}

static void make_account(int i, const char *name, int clearance)
{
	struct store_account *a = &acc[i];

	memset(a, 0, sizeof(*a));
	snprintf(a->username, sizeof(a->username), "%s", name);
	snprintf(a->full_name, sizeof(a->full_name), "User %s", name);
	snprintf(a->department, sizeof(a->department), "%s", i % 2 ? "Health" : "Statistics");
	snprintf(a->contact, sizeof(a->contact), "%s@example.gov", name);
	a->roles = ROLE_BIT(ROLE_ANALYST);
	a->status = ACCOUNT_ACTIVE;
	a->clearance = clearance;
	snprintf(a->created_by, sizeof(a->created_by), "secadmin");
	a->created_at = a->updated_at = util_now_s();
	if (app->st->ops->account_insert(app->st, a) != GV_OK)
		die("account");
}

/* One grant on dataset d; subject kinds rotate so every matcher is exercised. */
static void make_grant(int d, int k, struct store_account *sec)
{
	struct store_grant *g = calloc(1, sizeof(*g));
	char why[256];

	if (!g)
		die("nomem");
	if (k < 7) {   /* seven account grants, on accounts that rotate with the dataset */
		g->subject_type = GRANT_ACCOUNT;
		snprintf(g->subject, sizeof(g->subject), "%s", acc[(d * 7 + k) % NACC].username);
	} else if (k == 7) {   /* analysts, but for another purpose */
		g->subject_type = GRANT_ROLE;
		snprintf(g->subject, sizeof(g->subject), "analyst");
	} else {
		g->subject_type = GRANT_DEPARTMENT;
		snprintf(g->subject, sizeof(g->subject), "%s", k == 8 ? "Finance" : "Transport");
	}
	g->actions = (1u << PA_READ) | (1u << PA_SEARCH);
	snprintf(g->purposes, sizeof(g->purposes), "%s", k == 7 ? "audit" : "planning,statistics,reporting");
	g->valid_from = util_now_s() - 86400;
	g->valid_until = util_now_s() + 365 * 86400;
	if (k == 1)
		snprintf(g->ip_ranges, sizeof(g->ip_ranges), "10.0.0.0/8,127.0.0.0/8");
	if (k == 2)
		snprintf(g->time_windows, sizeof(g->time_windows), "* 00:00-24:00");
	if (k == 3)
		g->max_rows_request = 100;
	snprintf(g->reason, sizeof(g->reason), "bench");
	if (policy_grant_create(app, sec, ds[d].name, g, why, sizeof(why)) != GV_OK)
		die(why);
	keys[nkeys].dataset_id = g->dataset_id;
	snprintf(keys[nkeys].subject, sizeof(keys[nkeys].subject), "%s", g->subject);
	nkeys++;
	free(g);
}

int main(int argc, char **argv)
{
	char data[512], conf[600], err[512], why_buf[256];
	struct bootstrap_options opt = {NULL, NULL,
		"[password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n"};
	struct bootstrap_admin admins[3];
	struct store_account owner, sec;
	struct policy_decision dec;
	const char *why = NULL;
	double seconds, dps, base;
	int threads, permits = 0;
	json_t *schema;
	static const char *purposes[] = {"statistics", "marketing"};

	if (argc < 3)
		die("usage: policy_bench DIR SECONDS [THREADS]");
	seconds = atof(argv[2]);
	threads = argc > 3 ? atoi(argv[3]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || threads > 64)
		die("threads: 1-64");
	ds = calloc(NDS, sizeof(*ds));
	acc = calloc(NACC + 1, sizeof(*acc));
	keys = calloc(NGRANT, sizeof(*keys));
	if (!ds || !acc || !keys)
		die("nomem");
	if (log_open(NULL, GV_LOG_ERROR) != GV_OK || crypto_init() != GV_OK)
		die("init");
	snprintf(data, sizeof(data), "%s/data", argv[1]);
	snprintf(conf, sizeof(conf), "%s/govvault.conf", data);
	opt.data_dir = data;
	if (bootstrap_init(&opt, admins, err, sizeof(err)) != GV_OK || app_open(conf, &app, err, sizeof(err)) != GV_OK)
		die(err);
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
			    "{\"name\":\"district\",\"type\":\"string\"}]}", 0, NULL);
	for (int i = 0; i < NACC; i++) {
		char name[16];

		snprintf(name, sizeof(name), "an%02d", i);
		make_account(i, name, 2);
	}
	make_account(NACC, "low", 1);
	for (int d = 0; d < NDS; d++) {
		struct dataset_input in = {0};
		char name[16];

		snprintf(name, sizeof(name), "ds%03d", d);
		in.name = name;
		in.title = in.category = in.legal_basis = "bench";
		in.retention_days = 365;
		in.expected_rows = 10;
		in.schema = schema;
		/* Half the datasets belong to each department of the analysts. */
		snprintf(owner.department, sizeof(owner.department), "%s", d % 2 ? "Health" : "Statistics");
		if (dataset_register(app, &owner, &in, &ds[d], why_buf, sizeof(why_buf)) != GV_OK)
			die(why_buf);
		if (dataset_set_grade(app, &sec, name, 2, "bench", &ds[d], &why) != GV_OK)
			die(why ? why : "grade");
	}
	for (int d = 0; d < NDS; d++)
		for (int k = 0; k < NGRANT / NDS; k++)
			make_grant(d, k, &sec);
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	/* The request mix, fixed by a seed: an account on a dataset, one of two purposes,
	 * mostly reads, now and then an export (never granted) or the low-clearance one. */
	srand(42);
	for (int i = 0; i < NREQ; i++) {
		struct policy_request *rq = &req[i];
		int r = rand() % 100, d = rand() % NDS;

		rq->dataset = &ds[d];
		/* 60%: an account some grant of this dataset names, else any account. */
		rq->account = r < 60 ? &acc[(d * 7 + rand() % 7) % NACC] : &acc[rand() % NACC];
		rq->purpose = purposes[r < 80 ? 0 : 1];
		rq->action = r % 20 == 19 ? PA_EXPORT : PA_READ;
		if (r == 50)
			rq->account = &acc[NACC];
		rq->ip = "127.0.0.1";
		rq->now = util_now_s();
	}
	for (int i = 0; i < NREQ; i++) {
		if (policy_decide(app, &req[i], &dec) != GV_OK)
			die("decide");
		expect[i] = (unsigned char)dec.permit;
		permits += dec.permit;
	}
	dps = run(threads, seconds, 0);
	base = run(threads, seconds, 1);
	printf("threads %d\n", threads);
	printf("grants %zu\n", nkeys);
	printf("datasets %d\n", NDS);
	printf("permit_share %.3f\n", (double)permits / NREQ);
	printf("decisions_per_s %.1f\n", dps);
	printf("baseline_per_s %.1f\n", base);
	json_decref(schema);
	app_free(app);
	free(ds);
	free(acc);
	free(keys);
	return 0;
}

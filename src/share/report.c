/* report.c - the call-audit report: calls per consumer, service and local day, read
 * from the audit trail itself (Art. 25: call logs collected centrally and audited
 * periodically), so the report cannot disagree with the tamper-evident record. */
#include "share/share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "share/shared.h"

#define WORK_FROM_H 7        /* calls outside 07:00-20:00 local time are "off hours" */
#define WORK_TO_H 20
#define VOLUME_FACTOR 3      /* a day with more than 3x the pair's median calls is unusual */
#define REFUSAL_MIN 5        /* ... and one with >= 5 refusals making >= 20% of its calls */

struct cell {
	char consumer[65];
	char service[80];
	int64_t day;
	int64_t calls, rows, refusals, off_hours;
};

struct agg {
	struct cell *c;
	size_t n, cap;
	int offset_s;
	const char *consumer, *service;
	gv_err err;
	int64_t read;
};

static struct cell *cell_for(struct agg *a, const char *consumer, const char *service, int64_t day)
{
	for (size_t i = a->n; i-- > 0;)   /* the newest cells are the likeliest */
		if (a->c[i].day == day && strcmp(a->c[i].consumer, consumer) == 0 &&
		    strcmp(a->c[i].service, service) == 0)
			return &a->c[i];
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct cell *t = realloc(a->c, cap * sizeof(*t));

		if (!t)
			return NULL;
		a->c = t;
		a->cap = cap;
	}
	memset(&a->c[a->n], 0, sizeof(a->c[a->n]));
	snprintf(a->c[a->n].consumer, sizeof(a->c[a->n].consumer), "%s", consumer);
	snprintf(a->c[a->n].service, sizeof(a->c[a->n].service), "%.79s", service);
	a->c[a->n].day = day;
	return &a->c[a->n++];
}

static int add_record(const struct audit_rec *r, void *arg)
{
	struct agg *a = arg;
	const char *consumer = strncmp(r->actor, "consumer:", 9) == 0 ? r->actor + 9 : r->actor;
	const char *service = strncmp(r->object, "service:", 8) == 0 ? r->object + 8 : r->object;
	/* Callers that never authenticated are one row a day, whatever they named. */
	if (strcmp(consumer, "(unauthenticated)") == 0)
		service = "(any)";
	int64_t local = r->ts_us / 1000000 + a->offset_s, hour = (local % 86400) / 3600;
	long long rows = 0;
	struct cell *c;

	a->read++;
	if (a->consumer && strcmp(a->consumer, consumer) != 0)
		return 0;
	if (a->service && (strncmp(service, a->service, strlen(a->service)) != 0 ||
			   service[strlen(a->service)] != '/'))
		return 0;
	c = cell_for(a, consumer, service, local / 86400);
	if (!c) {
		a->err = GV_ERR_NOMEM;
		return 1;
	}
	c->calls++;
	if (strcmp(r->decision, "permit") == 0) {
		if (sscanf(r->detail, "rows=%lld", &rows) == 1 && rows > 0)
			c->rows += rows;
	} else {
		c->refusals++;
	}
	if (hour < WORK_FROM_H || hour >= WORK_TO_H)
		c->off_hours++;
	return 0;
}

static int by_key(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;
	int k = strcmp(a->consumer, b->consumer);

	if (!k)
		k = strcmp(a->service, b->service);
	return k ? k : (a->day > b->day) - (a->day < b->day);
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

static json_t *day_json(int64_t day)
{
	char buf[32];

	util_time_rfc3339(day * 86400, buf);
	buf[10] = '\0';
	return json_string(buf);
}

/* Flags of the cells [from, to) of one consumer and service, sorted by day. */
static gv_err pair_json(struct gv_app *app, const struct cell *c, size_t n, json_t *out)
{
	int64_t *calls = malloc(n * sizeof(*calls)), median;
	char name[80];
	int64_t rows_day;

	if (!calls)
		return GV_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		calls[i] = c[i].calls;
	qsort(calls, n, sizeof(*calls), cmp_i64);
	median = calls[n / 2];
	free(calls);
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(c[0].service, "/"), c[0].service);
	rows_day = share_service_rows_day(app, name);
	for (size_t i = 0; i < n; i++) {
		json_t *flags = json_array(), *o;

		if ((rows_day && c[i].rows > rows_day) ||
		    (n >= 3 && c[i].calls > VOLUME_FACTOR * median))
			json_array_append_new(flags, json_string("unusual_volume"));
		if (c[i].off_hours)
			json_array_append_new(flags, json_string("off_hours"));
		if (c[i].refusals >= REFUSAL_MIN && c[i].refusals * 5 >= c[i].calls)
			json_array_append_new(flags, json_string("refusals"));
		o = json_pack("{s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:o}", "consumer", c[i].consumer,
			      "service", c[i].service, "day", day_json(c[i].day),
			      "calls", (json_int_t)c[i].calls, "rows", (json_int_t)c[i].rows,
			      "refusals", (json_int_t)c[i].refusals,
			      "off_hours_calls", (json_int_t)c[i].off_hours, "flags", flags);
		if (json_array_append_new(out, o) != 0)
			return GV_ERR_NOMEM;
	}
	return GV_OK;
}

gv_err share_report(struct gv_app *app, int64_t from_day, int64_t to_day, const char *consumer,
		    const char *service, json_t **out)
{
	struct gv_config cfg;
	struct audit_filter f;
	struct agg a;
	json_t *list = json_array();
	gv_err err;

	*out = NULL;
	if (!list)
		return GV_ERR_NOMEM;
	app_policy(app, &cfg);
	memset(&a, 0, sizeof(a));
	a.offset_s = cfg.utc_offset_min * 60;
	a.consumer = consumer;
	a.service = service;
	memset(&f, 0, sizeof(f));
	f.action = "service.call";
	f.from_us = (from_day * 86400 - a.offset_s) * 1000000LL;
	f.to_us = ((to_day + 1) * 86400 - a.offset_s) * 1000000LL;
	f.limit = INT32_MAX;
	err = audit_query(app->audit, &f, add_record, &a);
	if (err == GV_OK)
		err = a.err;
	if (err == GV_OK && a.n)
		qsort(a.c, a.n, sizeof(*a.c), by_key);
	for (size_t i = 0; err == GV_OK && i < a.n;) {
		size_t j = i + 1;

		while (j < a.n && strcmp(a.c[j].consumer, a.c[i].consumer) == 0 &&
		       strcmp(a.c[j].service, a.c[i].service) == 0)
			j++;
		err = pair_json(app, &a.c[i], j - i, list);
		i = j;
	}
	if (err == GV_OK)
		*out = json_pack("{s:o,s:o,s:o,s:I,s:{s:s,s:i,s:s}}", "from", day_json(from_day), "to",
				 day_json(to_day), "rows", list, "audit_records_read",
				 (json_int_t)a.read, "rules", "off_hours", "before 07:00 or from 20:00 local time",
				 "unusual_volume_factor", VOLUME_FACTOR,
				 "refusals", "at least 5 refusals making at least 20% of the day's calls");
	else
		json_decref(list);
	free(a.c);
	return err == GV_OK && !*out ? GV_ERR_NOMEM : err;
}

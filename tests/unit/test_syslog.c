/* test_syslog.c - the SIEM forwarder: RFC 5424 format (PRI, timestamp, escaping,
 * control characters, omitted fields, bounds and truncation), and delivery to an
 * in-process TCP receiver on 127.0.0.1 that parses RFC 6587 octet counting:
 * reconnection without loss, drop-oldest overflow, bounded free(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit/syslog.h"
#include "common/log.h"

#define MSG_CAP 8192           /* the bound the forwarder formats into */
#define SD_ID "govvault@32473"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

#define SET(f, v) snprintf(r->f, sizeof(r->f), "%s", (v))

static void rec_init(struct audit_rec *r, int64_t seq, int kind, const char *decision)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->ts_us = INT64_C(1795485784123456);   /* 2026-11-24T02:03:04.123456Z */
	r->kind = kind;
	SET(node, "node-1");
	SET(decision, decision);
}

static void rec_request(struct audit_rec *r, int64_t seq)
{
	rec_init(r, seq, AUDIT_KIND_REQUEST, "permit");
	r->status = 200;
	SET(request_id, "0123456789abcdef0123456789abcdef");
	SET(actor, "alice");
	SET(roles, "analyst,auditor");
	SET(session, "5e55");
	SET(source, "127.0.0.1");
	SET(device_fp, "d3v1ce");
	SET(action, "dataset.read");
	SET(object, "ds-1");
	SET(purpose, "statistics");
	SET(reason, "grant 7");
	SET(masked, "name,phone");
	SET(body_sm3, "b0d7");
	SET(params, "q=abcd");
	SET(detail, "none");
}

/* ---- an RFC 5424 reader, strict where the forwarder promises more ----------------- */

#define MAX_PARAMS 32

struct parsed {
	int pri;
	char ts[64], host[300], app[64], procid[16], msgid[40], sdid[40];
	int nparams;
	char names[MAX_PARAMS][40];
	char values[MAX_PARAMS][1100];
	int has_msg;
	char msg[MSG_CAP];
};

/* One header field: 1*max PRINTUSASCII followed by SP. */
static int take_token(const char **p, const char *end, char *out, size_t max)
{
	size_t n = 0;

	while (*p < end && **p > 32 && **p < 127) {
		if (n + 1 >= max || n >= 255)
			return -1;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	if (n == 0 || *p >= end || **p != ' ')
		return -1;
	(*p)++;
	return 0;
}

/* SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']' and '"'. */
static int take_sdname(const char **p, const char *end, char *out)
{
	size_t n = 0;

	while (*p < end && **p > 32 && **p < 127 && **p != '=' && **p != ']' && **p != '"') {
		if (n >= 32)
			return -1;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

/* 1 if s[0..n) is UTF-8 without control characters (C0, DEL, C1). */
static int clean_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;

		if (len == 0 || i + len > n)
			return 0;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (len == 2 && cp < 0x80) ||
		    (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* 0 when m[0..len) is a message of the forwarder's shape; fills p. */
static int parse_msg(const char *m, size_t len, struct parsed *p)
{
	const char *s = m, *end = m + len;

	memset(p, 0, sizeof(*p));
	if (memchr(m, '\0', len) || memchr(m, '\n', len) || memchr(m, '\r', len))
		return -1;
	if (s >= end || *s++ != '<')
		return -1;
	while (s < end && *s >= '0' && *s <= '9' && p->pri < 1000)
		p->pri = p->pri * 10 + (*s++ - '0');
	if (p->pri > 191 || end - s < 3 || memcmp(s, ">1 ", 3) != 0)
		return -1;
	s += 3;
	if (take_token(&s, end, p->ts, sizeof(p->ts)) || take_token(&s, end, p->host, sizeof(p->host)) ||
	    take_token(&s, end, p->app, 49) || take_token(&s, end, p->procid, sizeof(p->procid)) ||
	    take_token(&s, end, p->msgid, 33))
		return -1;
	if (s >= end || *s++ != '[' || take_sdname(&s, end, p->sdid))
		return -1;
	while (s < end && *s == ' ') {
		size_t n = 0;
		char *v;

		s++;
		if (p->nparams >= MAX_PARAMS || take_sdname(&s, end, p->names[p->nparams]))
			return -1;
		if (end - s < 2 || s[0] != '=' || s[1] != '"')
			return -1;
		s += 2;
		v = p->values[p->nparams];
		for (;;) {
			if (s >= end || n + 1 >= sizeof(p->values[0]))
				return -1;
			if (*s == '"')
				break;
			if (*s == ']')
				return -1;                  /* must be escaped */
			if (*s == '\\') {
				if (end - s < 2 || (s[1] != '"' && s[1] != '\\' && s[1] != ']'))
					return -1;
				s++;
			}
			v[n++] = *s++;
		}
		v[n] = '\0';
		if (!clean_utf8((const unsigned char *)v, n))
			return -1;
		s++;
		p->nparams++;
	}
	if (s >= end || *s++ != ']')
		return -1;
	if (s == end)
		return 0;
	if (*s++ != ' ' || s == end)
		return -1;
	for (const char *q = s; q < end; q++)
		if (*q < 32 || *q > 126)
			return -1;                          /* MSG is plain ASCII, no BOM */
	p->has_msg = 1;
	memcpy(p->msg, s, (size_t)(end - s));
	p->msg[end - s] = '\0';
	return 0;
}

static const char *param(const struct parsed *p, const char *name)
{
	for (int i = 0; i < p->nparams; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

static size_t fmt(const struct audit_rec *r, const char *host, char *out, struct parsed *p)
{
	size_t n = audit_syslog_format(r, host, out, MSG_CAP);

	assert_true(n > 0 && n < MSG_CAP);
	assert_int_equal(strlen(out), n);
	assert_int_equal(parse_msg(out, n, p), 0);
	return n;
}

/* ---- format ---------------------------------------------------------------------- */

static void test_format_pri_and_msgid(void **state)
{
	static const struct {
		int kind;
		const char *decision;
		int pri;
		const char *msgid;
	} cases[] = {
		{AUDIT_KIND_REQUEST, "permit", 10 * 8 + 5, "request"},
		{AUDIT_KIND_REQUEST, "deny", 10 * 8 + 4, "request"},
		{AUDIT_KIND_REQUEST, "error", 10 * 8 + 3, "request"},
		{AUDIT_KIND_EVENT, "event", 10 * 8 + 6, "event"},
		{AUDIT_KIND_CHECKPOINT, "event", 10 * 8 + 5, "checkpoint"},
	};
	char out[MSG_CAP];
	struct parsed *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_rec r;

		rec_init(&r, 1, cases[i].kind, cases[i].decision);
		fmt(&r, "node-1", out, p);
		assert_int_equal(p->pri, cases[i].pri);
		assert_string_equal(p->msgid, cases[i].msgid);
		assert_string_equal(p->sdid, SD_ID);
	}
	free(p);
}

static void test_format_header_and_fields(void **state)
{
	char out[MSG_CAP], want[200];
	struct parsed *p = malloc(sizeof(*p));
	struct audit_rec r;

	(void)state;
	assert_non_null(p);
	rec_request(&r, 42);
	fmt(&r, "node-1", out, p);
	snprintf(want, sizeof(want),
		 "<85>1 2026-11-24T02:03:04.123456Z node-1 govvault %ld request [" SD_ID " seq=\"42\"",
		 (long)getpid());
	assert_memory_equal(out, want, strlen(want));
	/* every field of the record, under its documented name */
	assert_int_equal(p->nparams, 18);
	assert_string_equal(param(p, "node"), "node-1");
	assert_string_equal(param(p, "request"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(param(p, "actor"), "alice");
	assert_string_equal(param(p, "roles"), "analyst,auditor");
	assert_string_equal(param(p, "session"), "5e55");
	assert_string_equal(param(p, "source"), "127.0.0.1");
	assert_string_equal(param(p, "device"), "d3v1ce");
	assert_string_equal(param(p, "action"), "dataset.read");
	assert_string_equal(param(p, "object"), "ds-1");
	assert_string_equal(param(p, "result"), "permit");
	assert_string_equal(param(p, "status"), "200");
	assert_string_equal(param(p, "reason"), "grant 7");
	assert_string_equal(param(p, "purpose"), "statistics");
	assert_string_equal(param(p, "masked"), "name,phone");
	assert_string_equal(param(p, "body"), "b0d7");
	assert_string_equal(param(p, "params"), "q=abcd");
	assert_string_equal(param(p, "detail"), "none");
	assert_string_equal(p->msg, "alice dataset.read ds-1 -> permit 200");

	/* a time that RFC 3339 cannot carry is NILVALUE, never a malformed stamp */
	r.ts_us = -1;
	fmt(&r, "node-1", out, p);
	assert_string_equal(p->ts, "-");
	r.ts_us = INT64_C(253402300800000000);   /* year 10000 */
	fmt(&r, "node-1", out, p);
	assert_string_equal(p->ts, "-");
	r.ts_us = 0;
	fmt(&r, "node-1", out, p);
	assert_string_equal(p->ts, "1970-01-01T00:00:00.000000Z");
	free(p);
}

static void test_format_hostname(void **state)
{
	char out[MSG_CAP], longname[400];
	struct parsed *p = malloc(sizeof(*p));
	struct audit_rec r;

	(void)state;
	assert_non_null(p);
	rec_request(&r, 1);
	fmt(&r, "", out, p);
	assert_string_equal(p->host, "-");
	fmt(&r, "a b\tc\xc3\xa9\n", out, p);
	assert_string_equal(p->host, "a_b_c___");
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	fmt(&r, longname, out, p);
	assert_int_equal(strlen(p->host), 255);
	free(p);
}

static void test_format_escaping(void **state)
{
	char out[MSG_CAP];
	struct parsed *p = malloc(sizeof(*p));
	struct audit_rec *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(p);
	assert_non_null(r);
	rec_request(r, 7);
	SET(actor, "a\"b\\c]d");
	SET(object, "]]\\\"");
	fmt(r, "node-1", out, p);
	assert_non_null(strstr(out, " actor=\"a\\\"b\\\\c\\]d\""));
	assert_non_null(strstr(out, " object=\"\\]\\]\\\\\\\"\""));
	assert_string_equal(param(p, "actor"), "a\"b\\c]d");
	assert_string_equal(param(p, "object"), "]]\\\"");
	/* MSG needs no escaping: the summary shows the characters as they are */
	assert_string_equal(p->msg, "a\"b\\c]d dataset.read ]]\\\" -> permit 200");
	free(r);
	free(p);
}

static void test_format_control_characters(void **state)
{
	char out[MSG_CAP];
	struct parsed *p = malloc(sizeof(*p));
	struct audit_rec *r = malloc(sizeof(*r));
	size_t n;

	(void)state;
	assert_non_null(p);
	assert_non_null(r);
	rec_request(r, 8);
	SET(reason, "line1\nline2\r\x01\x7f\tend");
	SET(actor, "caf\xc3\xa9");                 /* valid UTF-8 */
	SET(object, "\xc2\x85next");               /* U+0085 NEL, a C1 control */
	SET(purpose, "\xff\xfe bad");              /* invalid bytes */
	SET(detail, "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80");   /* overlong, surrogate, >U+10FFFF */
	SET(masked, "\xe2\x80");                   /* truncated sequence */
	n = fmt(r, "node-1", out, p);
	for (size_t i = 0; i < n; i++)
		assert_true((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	assert_string_equal(param(p, "reason"), "line1?line2????end");
	assert_string_equal(param(p, "actor"), "caf\xc3\xa9");
	assert_string_equal(param(p, "object"), "?next");
	assert_string_equal(param(p, "purpose"), "?? bad");
	assert_string_equal(param(p, "detail"), "?? ??? ????");
	assert_string_equal(param(p, "masked"), "??");
	/* the ASCII summary shows one '?' per character */
	assert_string_equal(p->msg, "caf? dataset.read ?next -> permit 200");
	free(r);
	free(p);
}

static void test_format_omits_empty_fields(void **state)
{
	char out[MSG_CAP];
	struct parsed *p = malloc(sizeof(*p));
	struct audit_rec r;

	(void)state;
	assert_non_null(p);
	memset(&r, 0, sizeof(r));
	r.seq = 3;
	r.ts_us = 1;
	r.kind = AUDIT_KIND_EVENT;
	snprintf(r.action, sizeof(r.action), "system.start");
	snprintf(r.decision, sizeof(r.decision), "event");
	fmt(&r, "node-1", out, p);
	assert_int_equal(p->nparams, 3);
	assert_string_equal(p->names[0], "seq");
	assert_string_equal(p->names[1], "action");
	assert_string_equal(p->names[2], "result");
	assert_null(param(p, "status"));          /* 0 for events: left out */
	assert_null(param(p, "node"));
	assert_null(strstr(out, "=\"\""));        /* never an empty value */
	assert_string_equal(p->msg, "- system.start - -> event");
	free(p);
}

/* Fills a record field with copies of unit up to its capacity. */
static void fill(char *f, size_t cap, const char *unit)
{
	size_t u = strlen(unit), n = 0;

	while (n + u < cap) {
		memcpy(f + n, unit, u);
		n += u;
	}
	f[n] = '\0';
}

static void worst_case(struct audit_rec *r, const char *unit)
{
	rec_init(r, INT64_MAX, AUDIT_KIND_REQUEST, "permit");
	r->status = 599;
#define F(f) fill(r->f, sizeof(r->f), unit)
	F(node); F(request_id); F(actor); F(roles); F(session); F(source); F(device_fp); F(action);
	F(object); F(purpose); F(reason); F(masked); F(body_sm3); F(params); F(detail);
#undef F
	fill(r->decision, sizeof(r->decision), "\"");
}

/* The whole record fits the forwarder's bound; smaller buffers give shorter messages
 * that are still well-formed, hold only whole parameters and never overrun. */
static void test_format_bounds_and_truncation(void **state)
{
	static const char *const units[] = {"\"", "]", "\xc3\xa9", "\\x"};
	char *full = malloc(MSG_CAP), *out = malloc(MSG_CAP + 64), host[300];
	struct parsed *pf = malloc(sizeof(*pf)), *p = malloc(sizeof(*p));
	struct audit_rec *r = malloc(sizeof(*r));

	(void)state;
	assert_true(full && out && pf && p && r);
	memset(host, 'n', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t n;

		worst_case(r, units[u]);
		n = fmt(r, host, full, pf);
		assert_int_equal(pf->nparams, 18);
		assert_true(pf->has_msg);
		assert_non_null(strstr(pf->msg, " 599"));   /* the summary is complete */
		assert_string_equal(param(pf, "detail"), r->detail);

		for (size_t outlen = 0; outlen <= n + 2; outlen++) {
			size_t got;

			memset(out, 0x5a, MSG_CAP + 64);
			got = audit_syslog_format(r, host, out, outlen);
			for (size_t i = outlen; i < MSG_CAP + 64; i++)
				assert_int_equal((unsigned char)out[i], 0x5a);
			if (outlen == 0) {
				assert_int_equal(got, 0);
				continue;
			}
			assert_true(got < outlen);
			assert_int_equal(out[got], '\0');
			assert_int_equal(strlen(out), got);
			if (got == 0)
				continue;
			assert_int_equal(parse_msg(out, got, p), 0);
			assert_string_equal(param(p, "seq"), "9223372036854775807");
			for (int i = 0; i < p->nparams; i++)      /* whole values only */
				assert_string_equal(p->values[i], param(pf, p->names[i]));
			if (p->has_msg) {                          /* a cut MSG is a prefix */
				assert_memory_equal(p->msg, pf->msg, strlen(p->msg));
				if (strlen(p->msg) < strlen(pf->msg))
					assert_int_equal(got, outlen - 1);   /* cut only for room */
			}
			if (outlen > n)
				assert_memory_equal(out, full, n + 1);
		}
	}
	free(r);
	free(p);
	free(pf);
	free(out);
	free(full);
}

/* ---- an in-process receiver -------------------------------------------------------- */

#define MAX_FRAMES 256

struct lst {
	int fd;                   /* listening socket */
	int port;
	int close_first_after;    /* first connection: close after this many frames, 0 never */
	int close_delay_ms;       /* ... this long after reading them */
	pthread_t th;
	pthread_mutex_t mu;
	/* guarded by mu */
	int stop;
	int conns;
	int first_closed;
	int nframes;
	int bad;                  /* framing or syntax errors */
	int64_t seqs[MAX_FRAMES];
	char *frames[MAX_FRAMES];
};

static int lst_stopped(struct lst *l)
{
	int stop;

	pthread_mutex_lock(&l->mu);
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

/* 1 all n bytes read, 0 end of file or stop, -1 error. */
static int read_exact(struct lst *l, int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t k;

		if (lst_stopped(l))
			return 0;
		if (poll(&pf, 1, 50) <= 0)
			continue;
		k = read(fd, buf + got, n - got);
		if (k == 0)
			return 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		got += (size_t)k;
	}
	return 1;
}

/* RFC 6587 octet counting: MSG-LEN (NONZERO-DIGIT *DIGIT) SP SYSLOG-MSG.
 * 1 one frame in buf (NUL-terminated), 0 end of file or stop, -1 malformed. */
static int read_frame(struct lst *l, int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int digits = 0, rc;
	char c;

	for (;;) {
		rc = read_exact(l, fd, &c, 1);
		if (rc <= 0)
			return digits ? -1 : rc;
		if (c == ' ')
			break;
		if (c < '0' || c > '9' || (digits == 0 && c == '0') || ++digits > 5)
			return -1;
		n = n * 10 + (size_t)(c - '0');
	}
	if (digits == 0 || n == 0 || n >= cap)
		return -1;
	rc = read_exact(l, fd, buf, n);
	if (rc <= 0)
		return -1;
	buf[n] = '\0';
	*len = n;
	return 1;
}

static void lst_frame(struct lst *l, const char *buf, size_t len)
{
	struct parsed *p = malloc(sizeof(*p));
	const char *seq;

	pthread_mutex_lock(&l->mu);
	if (!p || parse_msg(buf, len, p) != 0 || !(seq = param(p, "seq")) ||
	    l->nframes >= MAX_FRAMES) {
		l->bad++;
	} else {
		l->seqs[l->nframes] = strtoll(seq, NULL, 10);
		l->frames[l->nframes] = strdup(buf);
		l->nframes++;
	}
	pthread_mutex_unlock(&l->mu);
	free(p);
}

static void *lst_main(void *arg)
{
	struct lst *l = arg;
	char *buf = malloc(MSG_CAP + 1);

	while (buf && !lst_stopped(l)) {
		struct pollfd pf = {.fd = l->fd, .events = POLLIN};
		int cfd, conn, here = 0;
		size_t len;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		cfd = accept(l->fd, NULL, NULL);
		if (cfd < 0)
			continue;
		pthread_mutex_lock(&l->mu);
		conn = ++l->conns;
		pthread_mutex_unlock(&l->mu);
		for (;;) {
			int rc = read_frame(l, cfd, buf, MSG_CAP + 1, &len);

			if (rc < 0) {
				pthread_mutex_lock(&l->mu);
				l->bad++;
				pthread_mutex_unlock(&l->mu);
			}
			if (rc <= 0)
				break;
			lst_frame(l, buf, len);
			if (conn == 1 && ++here == l->close_first_after) {
				/* Meanwhile the sender sees its data acknowledged; the unread
				 * rest is then answered with a reset: acknowledged, yet lost. */
				sleep_ms(l->close_delay_ms);
				close(cfd);
				cfd = -1;
				pthread_mutex_lock(&l->mu);
				l->first_closed = 1;
				pthread_mutex_unlock(&l->mu);
				break;
			}
		}
		if (cfd >= 0)
			close(cfd);
	}
	free(buf);
	return NULL;
}

/* A bound, not yet listening socket on 127.0.0.1: connections to it are refused. */
static int bound_socket(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Starts listening on fd (from bound_socket, or -1 for a new one). */
static void lst_start(struct lst *l, int fd, int close_first_after)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	l->close_first_after = close_first_after;
	l->close_delay_ms = 200;
	if (fd < 0)
		fd = bound_socket(&l->port);
	else {
		struct sockaddr_in a;
		socklen_t alen = sizeof(a);

		assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
		l->port = ntohs(a.sin_port);
	}
	l->fd = fd;
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(pthread_create(&l->th, NULL, lst_main, l), 0);
}

static void lst_stop(struct lst *l)
{
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->th, NULL);
	close(l->fd);
	for (int i = 0; i < l->nframes; i++)
		free(l->frames[i]);
	pthread_mutex_destroy(&l->mu);
}

static int lst_frames(struct lst *l)
{
	int n;

	pthread_mutex_lock(&l->mu);
	n = l->nframes;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* 1 when every seq in [from, to] has arrived at least once. */
static int lst_has_all(struct lst *l, int64_t from, int64_t to)
{
	int all = 1;

	pthread_mutex_lock(&l->mu);
	for (int64_t s = from; s <= to && all; s++) {
		int found = 0;

		for (int i = 0; i < l->nframes && !found; i++)
			found = l->seqs[i] == s;
		all = found;
	}
	pthread_mutex_unlock(&l->mu);
	return all;
}

static int lst_first_closed(struct lst *l)
{
	int c;

	pthread_mutex_lock(&l->mu);
	c = l->first_closed;
	pthread_mutex_unlock(&l->mu);
	return c;
}

#define WAIT_UNTIL(cond, ms)                                                   \
	do {                                                                   \
		int64_t until_ = now_ms() + (ms);                              \
		while (!(cond) && now_ms() < until_)                           \
			sleep_ms(5);                                           \
	} while (0)

static struct audit_syslog_stats stats(struct audit_syslog *s)
{
	struct audit_syslog_stats st;

	audit_syslog_stats(s, &st);
	return st;
}

static void send_range(struct audit_syslog *s, int64_t from, int64_t to)
{
	for (int64_t i = from; i <= to; i++) {
		struct audit_rec r;

		rec_request(&r, i);
		if (i % 2)
			snprintf(r.reason, sizeof(r.reason), "odd \"%lld\" \\ ] \n", (long long)i);
		assert_int_equal(audit_syslog_send(s, &r), GV_OK);
	}
}

/* ---- delivery -------------------------------------------------------------------- */

static void test_new_invalid(void **state)
{
	struct audit_syslog *s = (struct audit_syslog *)&s;
	char longhost[300];

	(void)state;
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(audit_syslog_new("127.0.0.1", 0, "n", 10, &s), GV_ERR_INVALID);
	assert_null(s);
	assert_int_equal(audit_syslog_new("127.0.0.1", 65536, "n", 10, &s), GV_ERR_INVALID);
	assert_int_equal(audit_syslog_new("127.0.0.1", 514, "n", 0, &s), GV_ERR_INVALID);
	assert_int_equal(audit_syslog_new("", 514, "n", 10, &s), GV_ERR_INVALID);
	assert_int_equal(audit_syslog_new(NULL, 514, "n", 10, &s), GV_ERR_INVALID);
	assert_int_equal(audit_syslog_new("127.0.0.1", 514, NULL, 10, &s), GV_ERR_INVALID);
	assert_int_equal(audit_syslog_new(longhost, 514, "n", 10, &s), GV_ERR_INVALID);
	assert_null(s);
	audit_syslog_free(NULL, 0);
}

/* Frames arrive in order, octet-counted, byte for byte what audit_syslog_format says. */
static void test_deliver_frames(void **state)
{
	struct audit_syslog *s = NULL;
	struct audit_syslog_stats st;
	char want[MSG_CAP];
	struct lst l;

	(void)state;
	lst_start(&l, -1, 0);
	assert_int_equal(audit_syslog_new("127.0.0.1", l.port, "node-1", 100, &s), GV_OK);
	send_range(s, 1, 20);
	WAIT_UNTIL(lst_frames(&l) >= 20, 5000);
	assert_int_equal(lst_frames(&l), 20);
	WAIT_UNTIL(stats(s).sent == 20, 5000);
	st = stats(s);
	assert_int_equal(st.queued, 20);
	assert_int_equal(st.sent, 20);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.connected, 1);
	audit_syslog_free(s, 2000);

	pthread_mutex_lock(&l.mu);
	assert_int_equal(l.bad, 0);
	assert_int_equal(l.conns, 1);
	for (int i = 0; i < 20; i++) {
		struct audit_rec r;

		assert_int_equal(l.seqs[i], i + 1);
		rec_request(&r, i + 1);
		if ((i + 1) % 2)
			snprintf(r.reason, sizeof(r.reason), "odd \"%d\" \\ ] \n", i + 1);
		audit_syslog_format(&r, "node-1", want, sizeof(want));
		assert_string_equal(l.frames[i], want);
	}
	pthread_mutex_unlock(&l.mu);
	lst_stop(&l);
}

/* A name, not only a literal, and free() drains at once instead of lingering. */
static void test_deliver_by_name_and_drain(void **state)
{
	struct audit_syslog *s = NULL;
	struct lst l;
	int64_t t0;

	(void)state;
	lst_start(&l, -1, 0);
	assert_int_equal(audit_syslog_new("localhost", l.port, "node-1", 100, &s), GV_OK);
	send_range(s, 1, 5);
	t0 = now_ms();
	audit_syslog_free(s, 5000);
	assert_true(now_ms() - t0 < 900);     /* acknowledged data needs no linger here */
	WAIT_UNTIL(lst_has_all(&l, 1, 5), 5000);   /* acknowledged, maybe not yet parsed */
	assert_true(lst_has_all(&l, 1, 5));
	lst_stop(&l);
}

/* The receiver resets the first connection after one message, with more unread (and
 * acknowledged by its TCP) and more to come: everything arrives on a later connection
 * (duplicates allowed). */
static void test_reconnect_without_loss(void **state)
{
	struct audit_syslog *s = NULL;
	struct lst l;

	(void)state;
	lst_start(&l, -1, 1);
	assert_int_equal(audit_syslog_new("127.0.0.1", l.port, "node-1", 100, &s), GV_OK);
	send_range(s, 1, 5);
	WAIT_UNTIL(lst_first_closed(&l), 5000);
	assert_true(lst_first_closed(&l));
	send_range(s, 6, 10);
	WAIT_UNTIL(lst_has_all(&l, 1, 10), 10000);
	assert_true(lst_has_all(&l, 1, 10));
	WAIT_UNTIL(stats(s).sent == 10, 5000);
	assert_int_equal(stats(s).sent, 10);      /* a resent message counts once */
	assert_int_equal(stats(s).dropped, 0);
	audit_syslog_free(s, 2000);
	pthread_mutex_lock(&l.mu);
	assert_true(l.conns >= 2);
	assert_true(l.nframes >= 10);
	assert_int_equal(l.bad, 0);
	pthread_mutex_unlock(&l.mu);
	lst_stop(&l);
}

/* With nobody listening, a queue of 3 keeps the newest 3 of 10 and counts 7 drops;
 * once a receiver appears exactly those 3 arrive, oldest first. */
static void test_overflow_drops_oldest(void **state)
{
	struct audit_syslog *s = NULL;
	struct audit_syslog_stats st;
	struct lst l;
	int port, fd = bound_socket(&port);

	(void)state;
	assert_int_equal(audit_syslog_new("127.0.0.1", port, "node-1", 3, &s), GV_OK);
	send_range(s, 1, 10);
	WAIT_UNTIL(stats(s).dropped == 7, 3000);
	sleep_ms(300);                        /* a few refused attempts later: still 7 */
	st = stats(s);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.dropped, 7);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.connected, 0);

	lst_start(&l, fd, 0);
	WAIT_UNTIL(lst_frames(&l) >= 3 && stats(s).sent == 3, 15000);
	st = stats(s);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.sent + st.dropped, st.queued);
	audit_syslog_free(s, 2000);
	pthread_mutex_lock(&l.mu);
	assert_int_equal(l.nframes, 3);
	assert_int_equal(l.seqs[0], 8);
	assert_int_equal(l.seqs[1], 9);
	assert_int_equal(l.seqs[2], 10);
	pthread_mutex_unlock(&l.mu);
	lst_stop(&l);
}

/* Nothing can drain: free() waits its timeout, then stops the sender even in the
 * middle of a long backoff (after 1.6 s of refusals it sleeps 0.8 s and more). */
static void test_free_dead_server(void **state)
{
	struct audit_syslog *s = NULL;
	int port, fd = bound_socket(&port);
	int64_t t0, took;

	(void)state;
	assert_int_equal(audit_syslog_new("127.0.0.1", port, "node-1", 100, &s), GV_OK);
	send_range(s, 1, 3);
	sleep_ms(1600);
	assert_int_equal(stats(s).connected, 0);
	t0 = now_ms();
	audit_syslog_free(s, 300);
	took = now_ms() - t0;
	assert_true(took >= 250);
	assert_true(took < 800);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_pri_and_msgid),
		cmocka_unit_test(test_format_header_and_fields),
		cmocka_unit_test(test_format_hostname),
		cmocka_unit_test(test_format_escaping),
		cmocka_unit_test(test_format_control_characters),
		cmocka_unit_test(test_format_omits_empty_fields),
		cmocka_unit_test(test_format_bounds_and_truncation),
		cmocka_unit_test(test_new_invalid),
		cmocka_unit_test(test_deliver_frames),
		cmocka_unit_test(test_deliver_by_name_and_drain),
		cmocka_unit_test(test_reconnect_without_loss),
		cmocka_unit_test(test_overflow_drops_oldest),
		cmocka_unit_test(test_free_dead_server),
	};

	/* The forwarder's connection warnings are expected here. */
	if (log_open(NULL, GV_LOG_ERROR) != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

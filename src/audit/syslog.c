/* syslog.c - the SIEM forwarder: RFC 5424 formatting, a bounded drop-oldest queue and
 * one sender thread writing RFC 6587 octet-counted frames over TCP.
 *
 * Message: <PRI>1 TIMESTAMP HOSTNAME govvault PID KIND [govvault@32473 ...] SUMMARY
 *  - Facility authpriv (10), not auth (4): the records name accounts, roles, session
 *    hashes and peer addresses, and authpriv is the facility that stock syslog
 *    configurations keep out of general logs (RHEL: "authpriv.none" for
 *    /var/log/messages, authpriv to the 0600 /var/log/secure), while auth is routinely
 *    mixed into them.  A SIEM rule can still select on the facility and the SD-ID.
 *  - Every field of the record travels in the one SD-ELEMENT (empty ones omitted), UTF-8
 *    as PARAM-VALUE allows; the MSG part is a plain-ASCII summary without BOM, so that no
 *    receiver has to guess its charset (non-ASCII characters show as '?' there, intact in
 *    the SD-ELEMENT).  Control characters and invalid UTF-8 become '?', so a message
 *    never holds a NUL or a line break, whatever a client put into a field.
 *  - 8192 bytes (rsyslog's default maxMessageSize) hold every record: the fields are
 *    bounded by struct audit_rec and escaping at most doubles them (about 6 KiB).
 *
 * Delivery: a message is always in exactly one place: the queue, the sender's hand
 * (cur) or the retained list (written on the current connection).  A retained message
 * is released, and counted as sent, once the receiver's TCP has acknowledged it
 * (SIOCOUTQ) and a further LINGER_MS have passed without the connection failing:
 * a receiver that closes or crashes with data it acknowledged but never read loses
 * that data, and RFC 6587 has no application acknowledgment to tell.  When the
 * connection fails, retained and cur go back to the front of the queue in order and
 * are written again after the reconnect: at least once, duplicates possible (the SIEM
 * can discard them by node and seq).  A receiver that acknowledges and then loses data
 * later than LINGER_MS is a loss only RELP could detect; the local segment files
 * remain the record of truth and seq gaps show it.
 *
 * Locking: mu guards the queue, the flags and the statistics; the socket, cur and the
 * retained list belong to the sender thread alone and are touched by free() only after
 * the join.  The sender never holds mu during I/O, so send() never waits on the
 * network.  It sleeps in poll() on the socket and an eventfd that send() (only when the
 * sender is idle) and free() write. */
#include "audit/syslog.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define FACILITY_AUTHPRIV 10
#define SEV_ERR 3
#define SEV_WARNING 4
#define SEV_NOTICE 5
#define SEV_INFO 6

#define APP_NAME "govvault"
/* 32473 is the example enterprise number of RFC 5612 (the one RFC 5424's own examples
 * use); a deployment with a registered PEN would put it here. */
#define SD_ID "govvault@32473"
#define MSG_MAX 8192
#define HOSTNAME_MAX 255      /* RFC 5424 HOSTNAME: 1*255 PRINTUSASCII */
#define HEAD_MAX 400          /* PRI to the SD-ID, with HOSTNAME at its maximum */

/* The SD-PARAMs after seq, in order: SD name and record field.  status (an int) goes
 * between the two lists. */
#define SD_FIELDS_A(X) \
	X("node", node) X("request", request_id) X("actor", actor) X("roles", roles) \
	X("session", session) X("source", source) X("device", device_fp) X("action", action) \
	X("object", object) X("result", decision)
#define SD_FIELDS_B(X) \
	X("reason", reason) X("purpose", purpose) X("masked", masked) X("body", body_sm3) \
	X("params", params) X("detail", detail)

/* MSG_MAX holds by construction: checked here, so that growing a field of struct
 * audit_rec cannot silently cut messages short. */
#define REC_FIELD(f) sizeof(((struct audit_rec *)0)->f)
#define FIELD_SUM(name, f) REC_FIELD(f) +
#define REC_TEXT_BYTES (SD_FIELDS_A(FIELD_SUM) SD_FIELDS_B(FIELD_SUM) 0)
#define VALUE_MAX 1024        /* the largest field sd_param can escape */
#define FIELD_FITS(name, f) REC_FIELD(f) <= VALUE_MAX &&
_Static_assert(SD_FIELDS_A(FIELD_FITS) SD_FIELDS_B(FIELD_FITS) 1,
	       "a record field is larger than sd_param can escape");
#define SUMMARY_MAX \
	(REC_FIELD(actor) + REC_FIELD(action) + REC_FIELD(object) + REC_FIELD(decision) + 32)
/* header + escaped values (at most doubled) + ` name=""` for 18 parameters + summary */
_Static_assert(HEAD_MAX + 2 * REC_TEXT_BYTES + 18 * 12 + SUMMARY_MAX < MSG_MAX,
	       "a record no longer fits one message: raise MSG_MAX (and the receivers' limit)");
_Static_assert(AUDIT_TIME_LEN <= 64, "HEAD_MAX assumes a timestamp of at most 63 bytes");

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 5000
#define STALL_TIMEOUT_MS 60000 /* a write that makes no progress this long: reconnect */
#define ACK_POLL_MS 10         /* how often unacknowledged data is looked at */
#define LINGER_MS 1000         /* an acknowledged message stays resendable this long */
#define DROP_LOG_MS 10000      /* at most one "queue full" warning per interval */

/* One framed message ("LEN SP SYSLOG-MSG"), ready to write. */
struct msg {
	struct msg *next;
	uint64_t end;          /* retained: stream offset just past it on its connection */
	int64_t acked_ms;      /* retained: when its acknowledgment was first seen */
	int acked;
	size_t len;
	char data[];
};

struct msg_list {
	struct msg *head, *tail;
	size_t n;
};

struct audit_syslog {
	char host[256];
	char port[8];
	char hostname[HOSTNAME_MAX + 1];
	size_t queue_max;
	int wake_fd;
	pthread_t thread;
	int thread_started;
	int sync_ready;

	pthread_mutex_t mu;
	pthread_cond_t cv_drained;
	/* guarded by mu */
	struct msg_list queue;
	int busy;              /* the sender holds messages outside the queue */
	int sleeping;          /* the sender waits for work: send() must wake it */
	int draining;          /* free() is waiting: release acknowledged data at once */
	int stop;
	int64_t last_drop_log_ms;
	struct audit_syslog_stats st;

	/* sender thread only (and free() after the join) */
	int fd;
	struct msg *cur;
	struct msg_list retained;
	uint64_t written;      /* bytes written on the current connection */
	int backoff_ms;
	int down_logged;       /* the current outage has been logged */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- formatting ------------------------------------------------------------------ */

/* Output cursor over out[0..cap): always NUL-terminated, never written past cap. */
struct writer {
	char *out;
	size_t cap;
	size_t len;
};

/* Appends n bytes whole, keeping reserve bytes free behind them; 0 (nothing written)
 * when they do not fit. */
static int writer_put(struct writer *w, const char *p, size_t n, size_t reserve)
{
	if (n + reserve >= w->cap - w->len)
		return 0;
	memcpy(w->out + w->len, p, n);
	w->len += n;
	w->out[w->len] = '\0';
	return 1;
}

/* Length of the valid UTF-8 sequence at p (n bytes available) and its code point, or
 * 0: overlong forms, surrogates and values above U+10FFFF are invalid (RFC 3629). */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, c = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, c = p[0] & 0x0f, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, c = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* C0, DEL and C1: they would let a field forge lines or terminal escapes. */
static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/* PARAM-VALUE of RFC 5424 6.3.3: valid UTF-8 with '"', '\' and ']' escaped by a
 * backslash; control characters and invalid bytes become '?'.  in is a record field
 * (at most incap bytes, NUL-terminated or not); out must hold 2 * incap + 1 bytes. */
static size_t escape_value(const char *in, size_t incap, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strnlen(in, incap), i = 0, o = 0;

	while (i < n) {
		uint32_t c;
		size_t len = utf8_seq(p + i, n - i, &c);

		if (len == 0 || is_control(c)) {
			out[o++] = '?';
			i += len ? len : 1;
			continue;
		}
		if (c == '"' || c == '\\' || c == ']')
			out[o++] = '\\';
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return o;
}

/* Printable ASCII for the summary: one '?' per character outside 0x20..0x7e, "-" for
 * an empty field.  out holds outcap bytes. */
static size_t ascii_field(const char *in, size_t incap, char *out, size_t outcap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strnlen(in, incap), i = 0, o = 0;

	if (outcap < 2)
		return 0;
	if (n == 0) {
		out[o++] = '-';
	}
	while (i < n && o + 1 < outcap) {
		uint32_t c;
		size_t len = utf8_seq(p + i, n - i, &c);

		out[o++] = len && c >= 0x20 && c < 0x7f ? (char)c : '?';
		i += len ? len : 1;
	}
	out[o] = '\0';
	return o;
}

/* HOSTNAME: PRINTUSASCII only ('_' for anything else), at most 255, "-" when empty. */
static void header_hostname(const char *in, char out[HOSTNAME_MAX + 1])
{
	size_t n = in ? strnlen(in, HOSTNAME_MAX) : 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = c > 32 && c < 127 ? (char)c : '_';
	}
	out[n] = '\0';
	if (n == 0)
		memcpy(out, "-", 2);
}

static int field_is(const char *field, size_t cap, const char *value)
{
	size_t n = strlen(value);

	return strnlen(field, cap) == n && memcmp(field, value, n) == 0;
}

static int rec_severity(const struct audit_rec *r)
{
	if (r->kind == AUDIT_KIND_CHECKPOINT)
		return SEV_NOTICE;
	if (field_is(r->decision, sizeof(r->decision), "permit"))
		return SEV_NOTICE;
	if (field_is(r->decision, sizeof(r->decision), "deny"))
		return SEV_WARNING;
	if (field_is(r->decision, sizeof(r->decision), "error"))
		return SEV_ERR;
	return SEV_INFO;   /* events, and a decision this code does not know yet */
}

/* Appends ` name="value"` whole, or nothing when the field is empty or it does not fit
 * in front of the closing ']': a receiver never sees a value cut short. */
static void sd_param(struct writer *w, const char *name, const char *value, size_t cap)
{
	char esc[2 * VALUE_MAX + 1];
	char param[sizeof(esc) + 40];
	size_t n;
	int len;

	if (cap > VALUE_MAX || strnlen(value, cap) == 0)
		return;
	n = escape_value(value, cap, esc);
	len = snprintf(param, sizeof(param), " %s=\"%.*s\"", name, (int)n, esc);
	if (len > 0 && (size_t)len < sizeof(param))
		(void)writer_put(w, param, (size_t)len, 1);
}

size_t audit_syslog_format(const struct audit_rec *r, const char *hostname, char *out,
			   size_t outlen)
{
	struct writer w = {out, outlen, 0};
	char head[HEAD_MAX], ts[AUDIT_TIME_LEN], host[HOSTNAME_MAX + 1], num[24];
	char actor[REC_FIELD(actor)], action[REC_FIELD(action)], object[REC_FIELD(object)];
	char result[REC_FIELD(decision)], summary[SUMMARY_MAX];
	int n;

	if (!out || outlen == 0)
		return 0;
	out[0] = '\0';
	/* RFC 3339 wants a four-digit year; anything outside is a clock fault: NILVALUE. */
	if (r->ts_us >= 0 && r->ts_us < INT64_C(253402300800000000))
		audit_time_format(r->ts_us, ts);
	else
		memcpy(ts, "-", 2);
	header_hostname(hostname, host);
	n = snprintf(head, sizeof(head), "<%d>1 %s %s " APP_NAME " %ld %s [" SD_ID,
		     FACILITY_AUTHPRIV * 8 + rec_severity(r), ts, host, (long)getpid(),
		     audit_kind_name(r->kind));
	snprintf(num, sizeof(num), "%lld", (long long)r->seq);
	/* The header and seq are the minimum worth sending; without room for them the
	 * output stays empty rather than malformed. */
	if (n <= 0 || (size_t)n >= sizeof(head) || !writer_put(&w, head, (size_t)n, 1)) {
		out[0] = '\0';
		return 0;
	}
	if (!writer_put(&w, " seq=\"", 6, 1) || !writer_put(&w, num, strlen(num), 1) ||
	    !writer_put(&w, "\"", 1, 1)) {
		out[0] = '\0';
		return 0;
	}
#define P(name, f) sd_param(&w, name, r->f, sizeof(r->f));
	SD_FIELDS_A(P)
	if (r->status != 0) {
		snprintf(num, sizeof(num), "%d", r->status);
		sd_param(&w, "status", num, sizeof(num));
	}
	SD_FIELDS_B(P)
#undef P
	(void)writer_put(&w, "]", 1, 0);   /* the reserve kept room for it */

	/* MSG: "actor action object -> result [status]", truncated to what is left. */
	ascii_field(r->actor, sizeof(r->actor), actor, sizeof(actor));
	ascii_field(r->action, sizeof(r->action), action, sizeof(action));
	ascii_field(r->object, sizeof(r->object), object, sizeof(object));
	ascii_field(r->decision, sizeof(r->decision), result, sizeof(result));
	if (r->status != 0)
		n = snprintf(summary, sizeof(summary), " %s %s %s -> %s %d", actor, action, object,
			     result, r->status);
	else
		n = snprintf(summary, sizeof(summary), " %s %s %s -> %s", actor, action, object,
			     result);
	if (n > 0) {
		size_t room = w.cap - w.len - 1, len = (size_t)n < sizeof(summary) ? (size_t)n
										  : sizeof(summary) - 1;

		if (room >= 2)   /* SP and at least one character, or no MSG at all */
			(void)writer_put(&w, summary, len < room ? len : room, 0);
	}
	return w.len;
}

/* ---- queue --------------------------------------------------------------------- */

static void list_push(struct msg_list *l, struct msg *m)
{
	m->next = NULL;
	if (l->tail)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
	l->n++;
}

static struct msg *list_pop(struct msg_list *l)
{
	struct msg *m = l->head;

	if (!m)
		return NULL;
	l->head = m->next;
	if (!l->head)
		l->tail = NULL;
	l->n--;
	m->next = NULL;
	return m;
}

/* Moves all of front before dst's messages, keeping the order; front ends empty. */
static void list_prepend(struct msg_list *dst, struct msg_list *front)
{
	if (!front->head)
		return;
	front->tail->next = dst->head;
	if (!dst->tail)
		dst->tail = front->tail;
	dst->head = front->head;
	dst->n += front->n;
	front->head = front->tail = NULL;
	front->n = 0;
}

static void list_clear(struct msg_list *l)
{
	struct msg *m;

	while ((m = list_pop(l)))
		free(m);
}

static void wake(struct audit_syslog *s)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the sender wakes anyway. */
	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("audit: SIEM wake-up failed: %s", strerror(errno));
}

/* Publishes what the sender holds and wakes free() when everything is out.  mu held. */
static void publish_busy(struct audit_syslog *s)
{
	s->busy = s->cur != NULL || s->retained.n > 0;
	if (!s->busy && s->queue.n == 0)
		pthread_cond_broadcast(&s->cv_drained);
}

/* ---- sender thread --------------------------------------------------------------- */

/* Waits up to timeout_ms for events on fd (none when fd < 0), returning early only
 * when stop is set: 1 fd ready, 0 timeout, -1 stop or poll failure. */
static int sender_poll(struct audit_syslog *s, int fd, short events, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN}, {.fd = fd, .events = events}};
		int64_t left = deadline - mono_ms();
		uint64_t count;
		int n, stop;

		if (left <= 0)
			return 0;
		n = poll(p, 2, (int)left);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		if (p[1].revents)
			return 1;
		if (read(s->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -1;
		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			return -1;
	}
}

/* Takes the next message into cur unless one is held; returns 1 when told to stop. */
static int sender_take(struct audit_syslog *s)
{
	int stop;

	pthread_mutex_lock(&s->mu);
	stop = s->stop;
	if (!stop && !s->cur && s->queue.n > 0) {
		s->cur = list_pop(&s->queue);
		publish_busy(s);
	}
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void sender_backoff(struct audit_syslog *s)
{
	(void)sender_poll(s, -1, 0, s->backoff_ms);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Keepalive finds a receiver that vanished while the line is idle, the user timeout
 * one that vanished with data outstanding; both end in an error on the socket. */
static void socket_tune(int fd)
{
	int on = 1, idle = 60, intvl = 10, cnt = 3;
	unsigned user_timeout = 60000;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout)) != 0)
		log_debug("audit: SIEM socket options: %s", strerror(errno));
}

/* Non-blocking connect to one address, bounded by CONNECT_TIMEOUT_MS; -1 on failure. */
static int connect_one(struct audit_syslog *s, const struct addrinfo *ai)
{
	int fd, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	socket_tune(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS && sender_poll(s, fd, POLLOUT, CONNECT_TIMEOUT_MS) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
		return fd;
	close(fd);
	return -1;
}

/* Resolves the host again on every attempt (the SIEM may move) and tries each address. */
static gv_err sender_connect(struct audit_syslog *s)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_protocol = IPPROTO_TCP, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	const char *why = "connection refused or timed out";
	int rc, fd = -1;

	rc = getaddrinfo(s->host, s->port, &hints, &res);
	if (rc != 0)
		why = gai_strerror(rc);
	for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(s, ai);
	if (res)
		freeaddrinfo(res);
	if (fd < 0) {
		if (!s->down_logged)
			log_warn("audit: cannot reach the SIEM at %s:%s (%s); retrying", s->host,
				 s->port, why);
		s->down_logged = 1;
		return GV_ERR_IO;
	}
	s->fd = fd;
	s->written = 0;
	s->down_logged = 0;
	log_info("audit: forwarding to the SIEM at %s:%s", s->host, s->port);
	pthread_mutex_lock(&s->mu);
	s->st.connected = 1;
	pthread_mutex_unlock(&s->mu);
	return GV_OK;
}

/* Closes the connection and puts everything written on it, then cur, back in front of
 * the queue: the next connection writes them again.  Trimming to queue_max drops the
 * oldest, as send() would have. */
static void sender_drop(struct audit_syslog *s)
{
	int64_t dropped = 0;

	if (s->fd >= 0) {
		close(s->fd);
		if (!s->down_logged)
			log_warn("audit: lost the connection to the SIEM at %s:%s; reconnecting",
				 s->host, s->port);
		s->down_logged = 1;
	}
	s->fd = -1;
	s->written = 0;
	if (s->cur) {
		list_push(&s->retained, s->cur);
		s->cur = NULL;
	}
	for (struct msg *m = s->retained.head; m; m = m->next)
		m->acked = 0;
	pthread_mutex_lock(&s->mu);
	list_prepend(&s->queue, &s->retained);
	while (s->queue.n > s->queue_max) {
		free(list_pop(&s->queue));
		dropped++;
	}
	s->st.dropped += dropped;
	s->st.connected = 0;
	publish_busy(s);
	pthread_mutex_unlock(&s->mu);
}

/* 0 while the connection can take data.  A syslog receiver never sends, so readable
 * means end of file or an error; stray bytes are discarded. */
static gv_err conn_check(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char scratch[512];

	if (poll(&p, 1, 0) < 0)
		return errno == EINTR ? GV_OK : GV_ERR_IO;
	if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
		return GV_ERR_IO;
	while (p.revents & POLLIN) {
		ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		return GV_ERR_IO;
	}
	return GV_OK;
}

/* Checks the connection and releases retained messages that are safely through (see
 * the file comment).  The queue size is read before the liveness check: a reset
 * empties the send queue, and it is still visible to the check, so it is never taken
 * for an acknowledgment.  Sets *next_ms to how long the sender may sleep before
 * something here can change (-1: nothing retained). */
static gv_err sender_check(struct audit_syslog *s, int *next_ms)
{
	int outq = 0, draining;
	int64_t now = mono_ms();
	uint64_t acked;
	size_t released = 0;
	struct msg *m;

	*next_ms = -1;
	if (ioctl(s->fd, SIOCOUTQ, &outq) != 0 || outq < 0 || (uint64_t)outq > s->written)
		return GV_ERR_IO;
	if (conn_check(s->fd) != GV_OK)
		return GV_ERR_IO;
	acked = s->written - (uint64_t)outq;
	for (m = s->retained.head; m && m->end <= acked; m = m->next) {
		if (!m->acked) {
			m->acked = 1;
			m->acked_ms = now;
		}
	}
	pthread_mutex_lock(&s->mu);
	draining = s->draining;
	pthread_mutex_unlock(&s->mu);
	while ((m = s->retained.head) && m->acked &&
	       (draining || now - m->acked_ms >= LINGER_MS || s->retained.n > s->queue_max)) {
		free(list_pop(&s->retained));
		released++;
	}
	if (released) {
		s->backoff_ms = BACKOFF_MIN_MS;   /* the receiver demonstrably works */
		pthread_mutex_lock(&s->mu);
		s->st.sent += (int64_t)released;
		publish_busy(s);
		pthread_mutex_unlock(&s->mu);
	}
	if ((m = s->retained.head))
		*next_ms = m->acked ? (int)(m->acked_ms + LINGER_MS - now) : ACK_POLL_MS;
	if (*next_ms == 0)
		*next_ms = 1;
	return GV_OK;
}

/* Writes cur whole and moves it to the retained list. */
static gv_err sender_write(struct audit_syslog *s)
{
	struct msg *m = s->cur;
	size_t off = 0;

	while (off < m->len) {
		ssize_t n = send(s->fd, m->data + off, m->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    sender_poll(s, s->fd, POLLOUT, STALL_TIMEOUT_MS) == 1)
			continue;
		return GV_ERR_IO;
	}
	s->written += m->len;
	m->end = s->written;
	m->acked = 0;
	s->cur = NULL;
	list_push(&s->retained, m);   /* still busy: no publish needed */
	return GV_OK;
}

/* Sleeps until a message is queued, stop or drain is asked for, the connection shows
 * an event, or timeout_ms (-1: no limit) passes. */
static void sender_sleep(struct audit_syslog *s, int timeout_ms)
{
	struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
			      {.fd = s->fd, .events = POLLIN | POLLRDHUP}};
	uint64_t count;

	pthread_mutex_lock(&s->mu);
	if (s->stop || s->queue.n > 0) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->sleeping = 1;
	pthread_mutex_unlock(&s->mu);
	if (poll(p, 2, timeout_ms) > 0 && (p[0].revents & POLLIN) &&
	    read(s->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("audit: SIEM wake-up read failed: %s", strerror(errno));
	pthread_mutex_lock(&s->mu);
	s->sleeping = 0;
	pthread_mutex_unlock(&s->mu);
}

static void *sender_main(void *arg)
{
	struct audit_syslog *s = arg;

	while (!sender_take(s)) {
		int next_ms = -1;

		if (s->fd >= 0 && sender_check(s, &next_ms) != GV_OK) {
			sender_drop(s);
			sender_backoff(s);
			continue;
		}
		if (!s->cur) {
			sender_sleep(s, next_ms);
			continue;
		}
		if (s->fd < 0 && sender_connect(s) != GV_OK) {
			sender_drop(s);   /* cur back to the queue, where overflow can drop it */
			sender_backoff(s);
			continue;
		}
		if (sender_write(s) != GV_OK) {
			sender_drop(s);
			sender_backoff(s);
		}
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return NULL;
}

/* ---- interface ------------------------------------------------------------------- */

gv_err audit_syslog_new(const char *host, int port, const char *hostname, int queue_max,
			struct audit_syslog **out)
{
	struct audit_syslog *s = NULL;
	pthread_condattr_t ca;
	gv_err err;

	*out = NULL;
	if (!host || !host[0] || port < 1 || port > 65535 || queue_max < 1 || !hostname)
		return GV_ERR_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return GV_ERR_NOMEM;
	s->fd = -1;
	s->wake_fd = -1;
	s->queue_max = (size_t)queue_max;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->last_drop_log_ms = INT64_MIN / 2;
	err = util_strcpy(s->host, sizeof(s->host), host);
	if (err != GV_OK) {
		err = GV_ERR_INVALID;
		goto out;
	}
	snprintf(s->port, sizeof(s->port), "%d", port);
	/* Longer node ids are cut at HOSTNAME's limit; the SD-ELEMENT keeps the full one. */
	snprintf(s->hostname, sizeof(s->hostname), "%s", hostname);
	err = GV_ERR_NOMEM;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0)
		goto out;
	/* Monotonic, so that free()'s timeout does not move with the wall clock. */
	if (pthread_condattr_init(&ca) != 0)
		goto out;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&s->cv_drained, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto out;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		pthread_cond_destroy(&s->cv_drained);
		goto out;
	}
	s->sync_ready = 1;
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0)
		goto out;
	s->thread_started = 1;
	*out = s;
	s = NULL;
	err = GV_OK;
out:
	audit_syslog_free(s, 0);
	return err;
}

gv_err audit_syslog_send(struct audit_syslog *s, const struct audit_rec *r)
{
	char text[MSG_MAX], prefix[24];
	struct msg *m, *old = NULL;
	size_t n;
	int plen, log_drop = 0;
	int64_t dropped = 0, now;

	n = audit_syslog_format(r, s->hostname, text, sizeof(text));
	plen = snprintf(prefix, sizeof(prefix), "%zu ", n);
	if (n == 0 || plen <= 0 || (size_t)plen >= sizeof(prefix))
		return GV_ERR_INVALID;
	m = malloc(sizeof(*m) + (size_t)plen + n);
	if (!m)
		return GV_ERR_NOMEM;
	memcpy(m->data, prefix, (size_t)plen);
	memcpy(m->data + plen, text, n);
	m->len = (size_t)plen + n;
	now = mono_ms();

	pthread_mutex_lock(&s->mu);
	if (s->queue.n >= s->queue_max) {
		old = list_pop(&s->queue);
		s->st.dropped++;
		dropped = s->st.dropped;
		if (now - s->last_drop_log_ms >= DROP_LOG_MS) {
			s->last_drop_log_ms = now;
			log_drop = 1;
		}
	}
	list_push(&s->queue, m);
	s->st.queued++;
	if (s->sleeping) {
		s->sleeping = 0;
		wake(s);
	}
	pthread_mutex_unlock(&s->mu);

	free(old);
	/* The new record is queued, so this is no error for the caller; the warning is
	 * rate-limited because an outage would otherwise log once per request. */
	if (log_drop)
		log_warn("audit: SIEM queue full (%zu messages): %lld forwarded records dropped so far",
			 s->queue_max, (long long)dropped);
	return GV_OK;
}

void audit_syslog_stats(struct audit_syslog *s, struct audit_syslog_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

void audit_syslog_free(struct audit_syslog *s, int timeout_ms)
{
	if (!s)
		return;
	if (s->thread_started) {
		struct timespec deadline;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		if (timeout_ms > 0) {
			deadline.tv_sec += timeout_ms / 1000;
			deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
			if (deadline.tv_nsec >= 1000000000) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000;
			}
		}
		pthread_mutex_lock(&s->mu);
		s->draining = 1;
		wake(s);
		while (s->queue.n > 0 || s->busy) {
			if (pthread_cond_timedwait(&s->cv_drained, &s->mu, &deadline) == ETIMEDOUT)
				break;
		}
		s->stop = 1;
		wake(s);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->cur);
	list_clear(&s->retained);
	list_clear(&s->queue);
	if (s->sync_ready) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv_drained);
	}
	free(s);
}

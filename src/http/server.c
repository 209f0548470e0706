/* server.c - libmicrohttpd daemon setup, request lifecycle and TLS peer identity. */
#include "http/http.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "data/records.h"
#include "common/util.h"

/* Room above the configured header limit, see memlimit in http_server_start. */
#define HTTP_POOL_HEADROOM ((size_t)64 << 10)

struct http_server {
	struct MHD_Daemon *daemon;
	struct gv_app *app;
	char *cert_pem;
	char *key_pem;
	int max_header_bytes;
};

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

static void peer_address(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "unknown");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

/* SHA-256 of the client certificate (DER), or "" when none was presented. */
static void peer_fingerprint(struct MHD_Connection *c, char out[65])
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *certs;
	unsigned char digest[32];
	unsigned int n = 0;

	out[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (!certs || n == 0)
		return;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, digest) < 0)
		return;
	util_hex_encode(digest, sizeof(digest), out);
}

struct header_size {
	size_t total;
};

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	struct header_size *h = cls;

	(void)kind;
	h->total += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static struct http_req *req_new(struct http_server *srv, struct MHD_Connection *c,
				const char *url, const char *method)
{
	struct http_req *r = calloc(1, sizeof(*r));
	struct gv_config cfg;
	struct header_size hs = {0};
	unsigned char rid[16];
	const char *clen;

	if (!r)
		return NULL;
	app_policy(srv->app, &cfg);
	r->app = srv->app;
	r->conn = c;
	r->method = method;
	r->status = 200;
	arena_init(&r->arena, 4u << 20);
	buf_init(&r->body, (size_t)cfg.max_body_bytes);
	/* Unique and unguessable is all an id needs; the strong generator costs three
	 * system calls a request. */
	crypto_nonce(rid, sizeof(rid));
	util_hex_encode(rid, sizeof(rid), r->request_id);
	peer_address(c, r->ip, sizeof(r->ip));
	peer_fingerprint(c, r->device_fp);
	if (util_strcpy(r->path, sizeof(r->path), url) != GV_OK)
		r->headers_too_large = 1;
	/* MHD hands over the path without its query; the arguments are part of the
	 * request line all the same. */
	MHD_get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, add_header_size, &hs);
	hs.total += strlen(url) + strlen(method);
	if (hs.total > (size_t)srv->max_header_bytes)
		r->headers_too_large = 1;
	/* Refuse early on a declared length so that a huge upload is never read.  A
	 * streamed body is never held, so no limit applies to it. */
	r->is_stream = router_is_stream(method, r->path);
	clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen) {
		char *end;
		unsigned long long n = strtoull(clen, &end, 10);

		if (*end == '\0')
			r->declared_len = (uint64_t)n;
		if (!r->is_stream && (*end != '\0' || n > (unsigned long long)cfg.max_body_bytes))
			r->body_too_large = 1;
	}
	return r;
}

static void req_free(struct http_req *r)
{
	if (!r)
		return;
	if (r->stream_free)
		r->stream_free(r);
	reply_json_free(r->json);   /* a login body holds a password */
	reply_json_free(r->resp);   /* a login answer holds a token */
	buf_release(&r->body);
	buf_release(&r->raw);
	records_close(r->rds);
	arena_release(&r->arena);
	util_wipe(&r->session, sizeof(r->session));
	util_wipe(&r->account, sizeof(r->account));
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = req_new(srv, c, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		/* Declared-oversize bodies are answered now; MHD then closes the connection
		 * instead of reading the upload. */
		if (r->body_too_large || r->headers_too_large) {
			reply_error(r, GV_ERR_TOO_LARGE, r->headers_too_large
				    ? "request line and headers exceed server.max_header_bytes"
				    : "request body exceeds server.max_body_bytes");
			if (r->headers_too_large)
				r->status = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
			r->action = "http.reject";
			return reply_send(r);
		}
		if (r->is_stream) {
			/* Authenticate and authorise before a byte of the body is read. */
			router_dispatch(r);
			if (r->err != GV_OK || !r->stream_feed)
				return reply_send(r);
		}
		return MHD_YES;
	}
	if (r->audit_submitted && !r->responded) {
		/* Resumed: the audit row is durable (or failed); send the reply. */
		*upload_size = 0;
		return reply_send(r);
	}
	if (r->responded) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->stream_feed) {
		size_t n = *upload_size;

		*upload_size = 0;
		/* After a failure the rest of the body is read and dropped: libmicrohttpd takes
		 * a response only once the upload is complete, and the client then gets the
		 * JSON error instead of a dropped connection. */
		if (n && !r->stream_failed && r->stream_feed(r, upload_data, n) != GV_OK)
			r->stream_failed = 1;   /* the handler set the error */
		if (n)
			return MHD_YES;
		if (!r->stream_failed)
			r->stream_end(r);
		r->can_suspend = 1;
		return reply_send(r);
	}
	if (*upload_size) {
		if (!r->body_too_large && buf_append(&r->body, upload_data, *upload_size) != GV_OK) {
			r->body_too_large = 1;
			buf_release(&r->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	r->can_suspend = 1;   /* the last call: the upload is complete */
	if (r->body_too_large) {
		reply_error(r, GV_ERR_TOO_LARGE, "request body exceeds server.max_body_bytes");
		r->action = "http.reject";
		return reply_send(r);
	}
	router_dispatch(r);
	return reply_send(r);
}

/* libmicrohttpd's unescaping of the path and of query values, except that "%00" stays
 * as it is: a decoded NUL would end the C string early, so "/v1/health%00x" answered
 * as /v1/health and "value=abc%00def" searched for (and audited) "abc". */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	size_t o = 0;

	(void)cls;
	(void)c;
	for (size_t i = 0; s[i]; i++) {
		int hi = s[i] == '%' ? util_hex_digit(s[i + 1]) : -1;
		int lo = hi >= 0 ? util_hex_digit(s[i + 2]) : -1;

		if (lo >= 0 && (hi || lo)) {
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static int is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

gv_err http_server_start(struct gv_app *app, struct http_server **out, char *errmsg,
			 size_t errlen)
{
	struct http_server *srv;
	struct gv_config cfg;
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	size_t memlimit;
	gv_err err = GV_ERR_CONFIG;

	*out = NULL;
	app_policy(app, &cfg);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg.listen, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg.port);
	} else if (inet_pton(AF_INET6, cfg.listen, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg.port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(errmsg, errlen, "server.listen '%s' is not an IPv4 or IPv6 address", cfg.listen);
		return GV_ERR_CONFIG;
	}
	if (!cfg.tls && !is_loopback(cfg.listen)) {
		snprintf(errmsg, errlen,
			 "refusing to listen on non-loopback %s without TLS (set server.tls = on)",
			 cfg.listen);
		return GV_ERR_CONFIG;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return GV_ERR_NOMEM;
	srv->app = app;
	srv->max_header_bytes = cfg.max_header_bytes;
	if (cfg.tls) {
		flags |= MHD_USE_TLS;
		if (util_file_read(cfg.tls_cert, 1 << 20, &srv->cert_pem, NULL) != GV_OK ||
		    util_file_read(cfg.tls_key, 1 << 20, &srv->key_pem, NULL) != GV_OK) {
			snprintf(errmsg, errlen, "cannot read TLS certificate %s or key %s", cfg.tls_cert,
				 cfg.tls_key);
			goto out;
		}
	}
	/* The connection pool must hold the headers plus a read buffer.  It is kept far
	 * above max_header_bytes so that oversized headers still reach req_new and get the
	 * JSON 431 with a request id; only beyond the pool does MHD answer by itself.  The
	 * pool is address space touched only as a request grows, not resident memory. */
	memlimit = (size_t)cfg.max_header_bytes * 4 + HTTP_POOL_HEADROOM;
	if (cfg.tls)
		/* MEM_TRUST makes GnuTLS request (not require) a client certificate, which is
		 * what device binding needs; nothing is verified against it. */
		srv->daemon = MHD_start_daemon(
			flags, (uint16_t)cfg.port, NULL, NULL, on_request, srv,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg.threads,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
			MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
			MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem,
			MHD_OPTION_HTTPS_MEM_TRUST, srv->cert_pem,
			MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
			MHD_OPTION_END);
	else
		srv->daemon = MHD_start_daemon(
			flags, (uint16_t)cfg.port, NULL, NULL, on_request, srv,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg.threads,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
			MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
			MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(errmsg, errlen, "cannot listen on %s port %d (in use, or TLS material invalid)",
			 cfg.listen, cfg.port);
		err = GV_ERR_IO;
		goto out;
	}
	*out = srv;
	srv = NULL;
	err = GV_OK;
out:
	if (srv) {
		util_free_secret(srv->key_pem);
		free(srv->cert_pem);
		free(srv);
	}
	return err;
}

gv_err http_server_stop(struct http_server *srv)
{
	struct gv_config cfg;
	int64_t deadline;

	if (!srv)
		return GV_OK;
	/* libmicrohttpd aborts the process if it stops with a connection suspended.  No
	 * request suspends from now on, and those waiting for their audit row are resumed
	 * by the audit log within its write timeout (failed, at worst). */
	reply_stop_suspending();
	app_policy(srv->app, &cfg);
	deadline = util_mono_us() + ((int64_t)cfg.audit_write_timeout_s + 5) * 1000000;
	while (reply_suspended() > 0 && util_mono_us() < deadline)
		usleep(10000);
	if (reply_suspended() > 0)
		return GV_ERR_UNAVAILABLE;   /* stopping now would abort the process */
	MHD_stop_daemon(srv->daemon);
	util_free_secret(srv->key_pem);
	free(srv->cert_pem);
	free(srv);
	return GV_OK;
}

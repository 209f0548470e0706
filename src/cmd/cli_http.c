/* cli_http.c - libcurl requests for the CLI.
 *
 * Three shapes of exchange share one handle set-up (URL, TLS trust and client
 * certificate, bearer token): a JSON request whose answer is held in memory (at most
 * 64 MiB, 60 s), an upload streamed from a file descriptor, and a download streamed to
 * one.  The streamed ones keep a constant amount of memory whatever the file size and
 * have no overall time limit (a gigabyte takes minutes), only a connect timeout and a
 * stall limit.
 *
 * The bearer token is copied into one header line; header lists are wiped before they
 * are freed so the token does not linger in freed heap memory. */
#include "cmd/cli_http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"

#define JSON_ANSWER_MAX (64u << 20)
#define ERROR_ANSWER_MAX (1u << 20)  /* the error body of a failed download */
#define URL_MAX 16384u
#define ESCAPE_INPUT_MAX 8192u       /* longest path segment or query value */
#define CONNECT_SECONDS 30L
#define STALL_SECONDS 300L           /* streamed: give up after this long below 1 B/s */

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, ptr, size * n) == GV_OK ? size * n : 0;
}

/* Wipes every line (one holds the token) before freeing the list. */
static void headers_free(struct curl_slist *list)
{
	for (struct curl_slist *p = list; p; p = p->next)
		util_wipe(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

static gv_err headers_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *next = curl_slist_append(*list, line);

	if (!next)
		return GV_ERR_NOMEM;
	*list = next;
	return GV_OK;
}

/* A handle for h->url + path with the TLS settings, and in *hdrs (caller frees with
 * headers_free, also on failure) the Authorization line; the caller adds its own lines
 * and sets CURLOPT_HTTPHEADER. */
static gv_err session_open(const struct cli_http *h, const char *path, CURL **out,
			   struct curl_slist **hdrs)
{
	struct gv_buf url, authline;
	char auth[160];
	CURL *c = NULL;
	gv_err err;

	*out = NULL;
	buf_init(&url, URL_MAX);
	buf_init(&authline, 4096);
	if ((err = buf_printf(&url, "%s%s", h->url, path)) != GV_OK)
		goto out;
	if (h->authorization) {
		err = buf_printf(&authline, "Authorization: %s", h->authorization);
		if (err == GV_OK)
			err = headers_add(hdrs, authline.data);
		if (authline.data)
			util_wipe(authline.data, authline.len);
		if (err != GV_OK)
			goto out;
	} else if (h->token[0]) {
		/* token[] is 128 bytes, so the line always fits. */
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h->token);
		err = headers_add(hdrs, auth);
		util_wipe(auth, sizeof(auth));
		if (err != GV_OK)
			goto out;
	}
	if (h->purpose && h->purpose[0]) {
		char line[160];

		if (strlen(h->purpose) > 128 || strpbrk(h->purpose, "\r\n")) {
			fprintf(stderr, "govvault: the purpose is up to 128 bytes on one line\n");
			err = GV_ERR_INVALID;
			goto out;
		}
		snprintf(line, sizeof(line), "X-Purpose: %s", h->purpose);
		err = headers_add(hdrs, line);
		if (err != GV_OK)
			goto out;
	}
	c = curl_easy_init();
	if (!c) {
		err = GV_ERR_NOMEM;
		goto out;
	}
	/* CURLOPT_URL copies the string. */
	if (curl_easy_setopt(c, CURLOPT_URL, url.data) != CURLE_OK) {
		err = GV_ERR_INVALID;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_SECONDS);
	if (h->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	if (h->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
	}
	*out = c;
	c = NULL;
out:
	curl_easy_cleanup(c);
	buf_release(&url);
	buf_release(&authline);
	return err;
}

gv_err cli_http_call(const struct cli_http *h, const char *method, const char *path,
		     json_t *body, long *status, json_t **out)
{
	struct curl_slist *hdrs = NULL;
	struct gv_buf resp;
	char *text = NULL;
	gv_err err;
	CURL *c = NULL;

	*out = NULL;
	*status = 0;
	buf_init(&resp, JSON_ANSWER_MAX);
	if ((err = session_open(h, path, &c, &hdrs)) != GV_OK ||
	    (err = headers_add(&hdrs, "Content-Type: application/json")) != GV_OK)
		goto out;
	err = GV_ERR_IO;
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			goto out;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}
	if (curl_easy_perform(c) != CURLE_OK)
		goto out;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	*out = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : json_object();
	err = *out ? GV_OK : GV_ERR_INVALID;
out:
	if (text) {
		util_wipe(text, strlen(text));
		free(text);
	}
	buf_release(&resp);
	headers_free(hdrs);
	curl_easy_cleanup(c);
	return err;
}

int cli_http_report(long status, json_t *resp)
{
	json_t *e = json_object_get(resp, "error");

	if (e)
		fprintf(stderr, "govvault: %s (%s, HTTP %ld, request %s)\n",
			json_string_value(json_object_get(e, "message")),
			json_string_value(json_object_get(e, "code")), status,
			json_string_value(json_object_get(e, "request_id")));
	else
		fprintf(stderr, "govvault: HTTP %ld\n", status);
	return 1;
}

int cli_http_run(const struct cli_http *h, const char *method, const char *path,
		 json_t *body, json_t **out)
{
	long status = 0;
	gv_err err = cli_http_call(h, method, path, body, &status, out);

	if (err != GV_OK) {
		fprintf(stderr, "govvault: cannot reach %s (%s)\n", h->url, gv_strerror(err));
		return 1;
	}
	if (status >= 400) {
		int rc = cli_http_report(status, *out);

		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

int cli_http_print(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(j);
	return 0;
}

static gv_err append_escaped(struct gv_buf *out, const char *raw)
{
	size_t len = strlen(raw);
	char *esc;
	gv_err err;

	if (len > ESCAPE_INPUT_MAX)
		return GV_ERR_TOO_LARGE;
	/* The handle argument is ignored by libcurl >= 7.82; len 0 would mean strlen. */
	if (len == 0)
		return GV_OK;
	esc = curl_easy_escape(NULL, raw, (int)len);
	if (!esc)
		return GV_ERR_NOMEM;
	err = buf_append(out, esc, strlen(esc));
	curl_free(esc);
	return err;
}

gv_err cli_http_path(struct gv_buf *out, const char *fmt, ...)
{
	gv_err err = GV_OK;
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p && err == GV_OK; p++) {
		if (p[0] == '%' && p[1] == 's') {
			const char *seg = va_arg(ap, const char *);

			p++;
			if (!seg[0] || !strcmp(seg, ".") || !strcmp(seg, ".."))
				err = GV_ERR_INVALID;
			else
				err = append_escaped(out, seg);
		} else {
			err = buf_append(out, p, 1);
		}
	}
	va_end(ap);
	return err;
}

gv_err cli_http_query(struct gv_buf *out, const char *name, const char *value)
{
	gv_err err;

	if ((err = buf_printf(out, "%c%s=", out->data && strchr(out->data, '?') ? '&' : '?',
			      name)) != GV_OK)
		return err;
	return append_escaped(out, value);
}

/* State of one streamed transfer, shared by the callbacks. */
struct stream_ctx {
	CURL *c;
	struct cli_stream *s;
	curl_off_t left;        /* upload: bytes still to send */
	struct gv_buf answer;   /* upload: the JSON answer; download: an error body */
	const char *failure;    /* why a callback stopped the transfer, NULL if none */
	int file_errno;
};

static size_t on_upload_read(char *dst, size_t size, size_t n, void *arg)
{
	struct stream_ctx *x = arg;
	size_t want = size * n;
	ssize_t got;

	if (x->left == 0)
		return 0;
	if ((curl_off_t)want > x->left)
		want = (size_t)x->left;
	do
		got = read(x->s->fd, dst, want);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		x->failure = "cannot read the file";
		x->file_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	if (got == 0) {
		/* Content-Length was promised; a shorter body would be cut off by the server
		 * anyway, and the digest was of another file. */
		x->failure = "the file became shorter while it was being sent";
		return CURL_READFUNC_ABORT;
	}
	x->left -= got;
	return (size_t)got;
}

/* Keeps the answer's X-Content-SM3, from the headers or from a trailer; a new status
 * line (an interim 100 Continue) starts over. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	static const char name[] = "x-content-sm3:";
	struct stream_ctx *x = arg;
	size_t len = size * n, i = sizeof(name) - 1, k = 0;
	char val[65];

	if (len >= 5 && !strncasecmp(line, "HTTP/", 5)) {
		x->s->answer_sm3[0] = '\0';
		return len;
	}
	if (len < i || strncasecmp(line, name, i) != 0)
		return len;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	for (; i < len && isxdigit((unsigned char)line[i]); i++) {
		if (k == 64)
			return len; /* longer than a digest: not one */
		val[k++] = (char)tolower((unsigned char)line[i]);
	}
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (k == 64 && i == len) {
		val[k] = '\0';
		memcpy(x->s->answer_sm3, val, sizeof(val));
	}
	return len;
}

static size_t on_download_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct stream_ctx *x = arg;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return buf_append(&x->answer, ptr, len) == GV_OK ? len : 0;
	if (util_write_all(x->s->fd, ptr, len) != GV_OK) {
		x->failure = "cannot write the output file";
		x->file_errno = errno;
		return 0;
	}
	x->s->written += (curl_off_t)len;
	return len;
}

/* Runs the prepared transfer and fills s->status, or s->why. */
static gv_err stream_perform(struct stream_ctx *x, char *errbuf)
{
	CURLcode rc = curl_easy_perform(x->c);

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->s->status);
	if (rc == CURLE_OK)
		return GV_OK;
	if (x->failure && x->file_errno)
		snprintf(x->s->why, sizeof(x->s->why), "%s: %s", x->failure, strerror(x->file_errno));
	else if (x->failure)
		snprintf(x->s->why, sizeof(x->s->why), "%s", x->failure);
	else
		snprintf(x->s->why, sizeof(x->s->why), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return GV_ERR_IO;
}

static void stream_limits(CURL *c)
{
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
}

gv_err cli_http_upload(const struct cli_http *h, const char *path, struct cli_stream *s,
		       json_t **out)
{
	struct stream_ctx x = {.s = s, .left = s->size};
	struct curl_slist *hdrs = NULL;
	char line[128], errbuf[CURL_ERROR_SIZE] = "";
	gv_err err;

	*out = NULL;
	s->status = 0;
	s->why[0] = '\0';
	buf_init(&x.answer, JSON_ANSWER_MAX);
	if ((err = session_open(h, path, &x.c, &hdrs)) != GV_OK)
		goto out;
	if (snprintf(line, sizeof(line), "Content-Type: %s", s->content_type) >= (int)sizeof(line)) {
		err = GV_ERR_INVALID;
		goto out;
	}
	if ((err = headers_add(&hdrs, line)) != GV_OK)
		goto out;
	if (s->sm3) {
		if (snprintf(line, sizeof(line), "X-Content-SM3: %s", s->sm3) >= (int)sizeof(line)) {
			err = GV_ERR_INVALID;
			goto out;
		}
		if ((err = headers_add(&hdrs, line)) != GV_OK)
			goto out;
	}
	/* POST with a read callback and a declared size: curl sends Content-Length and
	 * asks for the body in pieces, so the file is never loaded whole.  Expect:
	 * 100-continue stays on, so a refusal (401, 403, 404) arrives before the body is
	 * sent. */
	curl_easy_setopt(x.c, CURLOPT_POST, 1L);
	curl_easy_setopt(x.c, CURLOPT_POSTFIELDSIZE_LARGE, s->size);
	curl_easy_setopt(x.c, CURLOPT_READFUNCTION, on_upload_read);
	curl_easy_setopt(x.c, CURLOPT_READDATA, &x);
	curl_easy_setopt(x.c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x.c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x.c, CURLOPT_WRITEDATA, &x.answer);
	curl_easy_setopt(x.c, CURLOPT_ERRORBUFFER, errbuf);
	stream_limits(x.c);
	if ((err = stream_perform(&x, errbuf)) != GV_OK)
		goto out;
	*out = x.answer.len ? json_loadb(x.answer.data, x.answer.len, 0, NULL) : json_object();
	err = *out ? GV_OK : GV_ERR_INVALID;
out:
	buf_release(&x.answer);
	headers_free(hdrs);
	curl_easy_cleanup(x.c);
	return err;
}

gv_err cli_http_download(const struct cli_http *h, const char *path, struct cli_stream *s,
			 json_t **err_out)
{
	struct stream_ctx x = {.s = s};
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	gv_err err;

	*err_out = NULL;
	s->status = 0;
	s->written = 0;
	s->answer_sm3[0] = '\0';
	s->why[0] = '\0';
	buf_init(&x.answer, ERROR_ANSWER_MAX);
	if ((err = session_open(h, path, &x.c, &hdrs)) != GV_OK)
		goto out;
	curl_easy_setopt(x.c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(x.c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x.c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x.c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(x.c, CURLOPT_WRITEFUNCTION, on_download_data);
	curl_easy_setopt(x.c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.c, CURLOPT_ERRORBUFFER, errbuf);
	stream_limits(x.c);
	if ((err = stream_perform(&x, errbuf)) != GV_OK)
		goto out;
	if (s->status < 200 || s->status > 299)
		*err_out = json_loadb(x.answer.data ? x.answer.data : "", x.answer.len, 0, NULL);
out:
	buf_release(&x.answer);
	headers_free(hdrs);
	curl_easy_cleanup(x.c);
	return err;
}

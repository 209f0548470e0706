/* cli_http.h - the CLI's HTTPS client (libcurl): JSON requests answered in memory, and
 * uploads and downloads streamed between a file descriptor and the network. */
#ifndef GV_CMD_CLI_HTTP_H
#define GV_CMD_CLI_HTTP_H

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"

struct cli_http {
	const char *url;      /* https://127.0.0.1:8443 */
	const char *cacert;   /* PEM file, may be NULL */
	const char *cert;     /* client certificate for device binding, may be NULL */
	const char *key;
	char token[128];      /* bearer token, "" when none */
	const char *purpose;  /* sent as X-Purpose when set (reads of data need one) */
	const char *authorization; /* sent as the Authorization value instead of the bearer
				    * token (a consumer's Basic credentials), or NULL */
};

/* Sends body (may be NULL) and parses the JSON answer into *out (caller decrefs).
 * GV_ERR_IO when the daemon cannot be reached. */
gv_err cli_http_call(const struct cli_http *h, const char *method, const char *path,
		     json_t *body, long *status, json_t **out) GV_MUST_CHECK;

/* cli_http_call as a command uses it: on success returns 0 with the answer in *out
 * (caller decrefs); otherwise prints the transport or API error on stderr and returns
 * the exit status 1 with *out NULL. */
int cli_http_run(const struct cli_http *h, const char *method, const char *path,
		 json_t *body, json_t **out);

/* Prints an API error body ({"error":{code,message,request_id}}) or the bare status on
 * stderr; returns 1, the exit status of a failed command. */
int cli_http_report(long status, json_t *resp);

/* Prints j indented on stdout and drops the reference (j may be NULL); returns 0. */
int cli_http_print(json_t *j);

/* Appends an API path to out built from fmt, whose only conversions are %s: each
 * argument is percent-encoded (curl_easy_escape), so a name from the command line is
 * always exactly one path segment.  GV_ERR_INVALID for an empty, "." or ".." argument
 * (it would name another resource once the URL is normalised). */
gv_err cli_http_path(struct gv_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) GV_MUST_CHECK;

/* Appends "?name=value" (or "&name=value" once out has a query) with value
 * percent-encoded; name is a literal of the caller. */
gv_err cli_http_query(struct gv_buf *out, const char *name, const char *value) GV_MUST_CHECK;

/* One streamed exchange.  The caller fills the inputs of its direction; the rest is
 * written by cli_http_upload / cli_http_download. */
struct cli_stream {
	int fd;                    /* upload: read from its offset; download: written at it */
	curl_off_t size;           /* upload: exactly this many bytes are sent */
	const char *content_type;  /* upload: Content-Type */
	const char *sm3;           /* upload: sent as X-Content-SM3 when not NULL */
	/* results */
	long status;               /* HTTP status of the answer, 0 when there was none */
	curl_off_t written;        /* download: body bytes written to fd */
	char answer_sm3[65];       /* download: X-Content-SM3 of the answer (header or
				    * trailer), lower case; "" when absent or not 64 hex */
	char why[CURL_ERROR_SIZE]; /* when GV_ERR_IO: what failed, in words */
};

/* POSTs s->size bytes read from s->fd to path without holding them in memory, and
 * parses the JSON answer (whatever the status) into *out (caller decrefs).  GV_ERR_IO
 * with s->why when the daemon cannot be reached, the transfer stalls or the file cannot
 * be read or ends early; GV_ERR_INVALID when the answer is not JSON. */
gv_err cli_http_upload(const struct cli_http *h, const char *path, struct cli_stream *s,
		       json_t **out) GV_MUST_CHECK;

/* GETs path and, when the status is 2xx, writes the body to s->fd as it arrives;
 * otherwise the (JSON error) body goes to *err instead (caller decrefs; NULL when it is
 * not JSON).  GV_ERR_IO with s->why when the transfer or a write to s->fd fails. */
gv_err cli_http_download(const struct cli_http *h, const char *path, struct cli_stream *s,
			 json_t **err) GV_MUST_CHECK;

#endif

/* cli_http.h - the CLI's HTTPS client: one JSON request to the govvault API (libcurl). */
#ifndef GV_CMD_CLI_HTTP_H
#define GV_CMD_CLI_HTTP_H

#include <jansson.h>

#include "common/error.h"

struct cli_http {
	const char *url;      /* https://127.0.0.1:8443 */
	const char *cacert;   /* PEM file, may be NULL */
	const char *cert;     /* client certificate for device binding, may be NULL */
	const char *key;
	char token[128];      /* bearer token, "" when none */
};

/* Sends body (may be NULL) and parses the JSON answer into *out (caller decrefs).
 * GV_ERR_IO when the daemon cannot be reached. */
gv_err cli_http_call(const struct cli_http *h, const char *method, const char *path,
		     json_t *body, long *status, json_t **out) GV_MUST_CHECK;

#endif

/* cli_common.h - what the CLI's command files share: usage errors, number and JSON-file
 * arguments, and sending a request whose answer is printed. */
#ifndef GV_CMD_CLI_COMMON_H
#define GV_CMD_CLI_COMMON_H

#include <jansson.h>

#include "cmd/cli_http.h"

/* Prints "govvault: " and the message on stderr; returns 2, the status of bad usage. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usage error of a path cli_http_path refused with err. */
int cli_path_error(gv_err err);
/* A request body could not be built; returns 1. */
int cli_build_error(void);
/* Sends body (reference taken over) to the path built in p unless building it failed
 * with perr, prints the answer, and releases p.  body is NULL for no body when
 * !has_body; with has_body, NULL means building it failed (a json_pack refusing a
 * string that is not UTF-8, or no memory). */
int cli_send_print(const struct cli_http *h, const char *method, struct gv_buf *p, gv_err perr,
		   json_t *body, int has_body);
/* 0 when s is a decimal number in [min, max] (into *out when out is not NULL);
 * otherwise prints why and returns 2. */
int cli_number_parse(const char *s, const char *what, long long min, long long max,
		     long long *out);
/* Loads a JSON file of at most max bytes (it may hold personal data: wiped after
 * parsing) that must hold an object, or an array too when array_ok.  Prints why and
 * returns 1 otherwise. */
int cli_json_file_load(const char *file, size_t max, int array_ok, json_t **out);

#endif

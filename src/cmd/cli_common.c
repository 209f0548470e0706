/* cli_common.c - helpers of the CLI's command files (cli_data.c, cli_share.c). */
#include "cmd/cli_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("govvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cli_path_error(gv_err err)
{
	if (err == GV_ERR_INVALID)
		return cli_usage_error("a name or ID on the command line is empty, '.' or '..'");
	return cli_usage_error("a name, ID or value on the command line is too long (%s)",
			       gv_strerror(err));
}

int cli_build_error(void)
{
	fprintf(stderr, "govvault: cannot build the request (is every argument UTF-8 text?)\n");
	return 1;
}

int cli_send_print(const struct cli_http *h, const char *method, struct gv_buf *p, gv_err perr,
		   json_t *body, int has_body)
{
	json_t *r = NULL;
	int rc;

	if (perr != GV_OK)
		rc = cli_path_error(perr);
	else if (has_body && !body)
		rc = cli_build_error();
	else if ((rc = cli_http_run(h, method, p->data, body, &r)) == 0)
		rc = cli_http_print(r);
	json_decref(body);
	buf_release(p);
	return rc;
}

int cli_number_parse(const char *s, const char *what, long long min, long long max,
		     long long *out)
{
	long long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && p - s < 18; p++)
		v = v * 10 + (*p - '0');
	if (p == s || *p || v < min || v > max)
		return cli_usage_error("%s must be a whole number from %lld to %lld, not '%s'", what,
				       min, max, s);
	if (out)
		*out = v;
	return 0;
}

int cli_json_file_load(const char *file, size_t max, int array_ok, json_t **out)
{
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	gv_err err;

	*out = NULL;
	err = util_file_read(file, max, &text, &len);
	if (err != GV_OK) {
		fprintf(stderr, "govvault: cannot read %s: %s\n", file,
			err == GV_ERR_NOT_FOUND ? "no such file" :
			err == GV_ERR_TOO_LARGE ? "too large" : gv_strerror(err));
		return 1;
	}
	*out = json_loadb(text, len, 0, &je);
	util_wipe(text, len);
	free(text);
	if (!*out) {
		fprintf(stderr, "govvault: %s:%d:%d: not JSON: %s\n", file, je.line, je.column, je.text);
		return 1;
	}
	if (json_is_object(*out) || (array_ok && json_is_array(*out)))
		return 0;
	fprintf(stderr, "govvault: %s must hold a JSON object%s\n", file,
		array_ok ? " or array" : "");
	json_decref(*out);
	*out = NULL;
	return 1;
}

/* cli_data.c - the CLI's data commands over /v1/datasets: the catalog (dataset), records
 * (record), batch import and its quarantine (batch), verified export (dataset export)
 * and key rotation (keys).
 *
 * The commands are a table: each entry names its positional arguments and options, so
 * argument checking and the usage text come from one place, and a command's function is
 * one request.  Paths are built with cli_http_path / cli_http_query, so a name or value
 * from the command line is always exactly one percent-encoded path segment or query
 * value and cannot reach another resource.
 *
 * The two commands that move whole files stream them and never hold one in memory:
 * `batch import` reads the file twice (its SM3 first, since X-Content-SM3 is a request
 * header, then the upload), and `dataset export` writes to a temporary file beside the
 * target, reads that back from disk to recompute the SM3 the server declared, and only
 * then renames it into place - so the file a user finds under the target name is always
 * one whose digest was checked, and a failed check leaves nothing behind. */
#include "cmd/cli_data.h"
#include "cmd/cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "crypto/crypto.h"

#define PATH_BYTES 32768u        /* an API path with its escaped query */
#define JSON_FILE_MAX (64u << 20) /* the daemon's largest possible request body */
#define READ_CHUNK (256u << 10)
#define NUMBER_MAX 999999999999999999LL /* 18 digits: parsed without overflow */

struct data_cmd {
	const char *group;
	const char *verb;
	const char *args;      /* usage after "group verb" */
	const char *help;
	int npos;              /* positional arguments, exactly this many */
	const char *opts[4];   /* options, each taking a value; NULL-terminated */
	unsigned required;     /* bit k: opts[k] must be given */
	int (*run)(const struct cli_http *h, char **pos, const char **opt);
};

/* -- helpers ------------------------------------------------------------------- */

/* SM3 (lower-case hex), byte count and line count (a last line without a newline
 * counts) of fd from its offset to the end, read in chunks.  lines may be NULL. */
static gv_err file_digest(int fd, char hex[65], uint64_t *bytes, uint64_t *lines)
{
	struct crypto_sm3_stream *md = NULL;
	unsigned char *chunk = NULL;
	uint64_t nl = 0, total = 0;
	char last = '\n';
	gv_err err;

	if ((err = crypto_init()) != GV_OK || (err = crypto_sm3_stream_new(&md)) != GV_OK)
		return err;
	chunk = malloc(READ_CHUNK);
	err = GV_ERR_NOMEM;
	if (!chunk)
		goto out;
	for (;;) {
		ssize_t n = read(fd, chunk, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		err = GV_ERR_IO;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		crypto_sm3_stream_update(md, chunk, (size_t)n);
		for (const unsigned char *p = chunk, *end = chunk + n;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			nl++;
		total += (uint64_t)n;
		last = (char)chunk[n - 1];
	}
	crypto_sm3_stream_hex(md, hex);
	err = GV_ERR_CRYPTO;
	if (!hex[0])
		goto out;
	*bytes = total;
	if (lines)
		*lines = nl + (last != '\n');
	err = GV_OK;
out:
	free(chunk);
	crypto_sm3_stream_free(md);
	return err;
}

/* -- dataset ------------------------------------------------------------------- */

static int run_dataset_list(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)pos, (void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/datasets"), NULL, 0);
}

static int run_dataset_show(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/datasets/%s", pos[0]), NULL, 0);
}

static int run_dataset_create(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	json_t *body;

	(void)opt;
	if (cli_json_file_load(pos[0], JSON_FILE_MAX, 0, &body))
		return 1;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/datasets"), body, 1);
}

static int run_dataset_grade(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	long long grade;

	(void)opt;
	if (cli_number_parse(pos[1], "GRADE", 0, 9, &grade))
		return 2;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/datasets/%s/grade", pos[0]),
			  json_pack("{s:I,s:s}", "grade", (json_int_t)grade, "reason", pos[2]), 1);
}

/* FILE holds the rules array itself or {"rules": [...]}. */
static int run_dataset_rules(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	json_t *rules;

	(void)opt;
	if (cli_json_file_load(pos[1], JSON_FILE_MAX, 1, &rules))
		return 1;
	if (json_is_array(rules))
		rules = json_pack("{s:o}", "rules", rules);
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "PUT", &p,
			  cli_http_path(&p, "/v1/datasets/%s/quality-rules", pos[0]), rules, 1);
}

static int run_dataset_lineage(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/datasets/%s/lineage", pos[0]), NULL, 0);
}

static int run_dataset_export(const struct cli_http *h, char **pos, const char **opt)
{
	const char *target = opt[0];
	struct cli_stream s = {.fd = -1};
	char tmp[PATH_MAX] = "", hex[65];
	uint64_t bytes = 0, lines = 0;
	json_t *errj = NULL;
	struct gv_buf p;
	int rc = 1;
	gv_err err;

	buf_init(&p, PATH_BYTES);
	if ((err = cli_http_path(&p, "/v1/datasets/%s/export", pos[0])) != GV_OK) {
		rc = cli_path_error(err);
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.partXXXXXX", target) >= (int)sizeof(tmp)) {
		fprintf(stderr, "govvault: the output path is too long\n");
		tmp[0] = '\0';
		rc = 2;
		goto out;
	}
	/* mkstemp: mode 0600 (the export is the dataset's content), never an existing file. */
	s.fd = mkstemp(tmp);
	if (s.fd < 0) {
		fprintf(stderr, "govvault: cannot create %s: %s\n", tmp, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if ((err = cli_http_download(h, p.data, &s, &errj)) != GV_OK) {
		fprintf(stderr, "govvault: export failed: %s\n", s.why[0] ? s.why : gv_strerror(err));
		goto out;
	}
	if (s.status < 200 || s.status > 299) {
		rc = cli_http_report(s.status, errj);
		goto out;
	}
	if (!s.answer_sm3[0]) {
		fprintf(stderr, "govvault: the answer has no valid X-Content-SM3 header, so the export "
				"cannot be verified; nothing was kept\n");
		goto out;
	}
	if (fsync(s.fd) != 0 || lseek(s.fd, 0, SEEK_SET) != 0 ||
	    file_digest(s.fd, hex, &bytes, &lines) != GV_OK) {
		fprintf(stderr, "govvault: cannot write or read back %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (bytes != (uint64_t)s.written || strcmp(hex, s.answer_sm3) != 0) {
		fprintf(stderr, "govvault: export verification FAILED: the server declared SM3 %s, "
				"the %llu bytes written to disk hash to %s; nothing was kept\n",
			s.answer_sm3, (unsigned long long)bytes, hex);
		goto out;
	}
	if (rename(tmp, target) != 0) {
		fprintf(stderr, "govvault: cannot rename %s to %s: %s\n", tmp, target, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	rc = cli_http_print(json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "dataset", pos[0], "file", target,
				      "sm3", hex, "lines", (json_int_t)lines, "bytes",
				      (json_int_t)bytes, "verified", 1));
out:
	if (s.fd >= 0)
		close(s.fd);
	if (tmp[0])
		unlink(tmp);
	json_decref(errj);
	buf_release(&p);
	return rc;
}

/* -- record -------------------------------------------------------------------- */

/* FILE holds the record's data object. */
static int run_record_put(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	json_t *data, *body;

	if (cli_json_file_load(pos[1], JSON_FILE_MAX, 0, &data))
		return 1;
	body = json_pack("{s:o}", "data", data);
	if (body && opt[0] && json_object_set_new(body, "id", json_string(opt[0])) != 0) {
		json_decref(body);
		body = NULL;
	}
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/datasets/%s/records", pos[0]), body, 1);
}

static int run_record_get(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	gv_err err;

	if (opt[0] && cli_number_parse(opt[0], "--version", 0, INT32_MAX, NULL))
		return 2;
	buf_init(&p, PATH_BYTES);
	err = cli_http_path(&p, "/v1/datasets/%s/records/%s", pos[0], pos[1]);
	if (err == GV_OK && opt[0])
		err = cli_http_query(&p, "version", opt[0]);
	return cli_send_print(h, "GET", &p, err, NULL, 0);
}

static int run_record_history(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p,
			  cli_http_path(&p, "/v1/datasets/%s/records/%s/history", pos[0], pos[1]), NULL, 0);
}

static int run_record_search(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	gv_err err;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	if ((err = cli_http_path(&p, "/v1/datasets/%s/search", pos[0])) == GV_OK &&
	    (err = cli_http_query(&p, "field", pos[1])) == GV_OK)
		err = cli_http_query(&p, "value", pos[2]);
	return cli_send_print(h, "GET", &p, err, NULL, 0);
}

static int run_record_source(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p,
			  cli_http_path(&p, "/v1/datasets/%s/records/%s/source", pos[0], pos[1]), NULL, 0);
}

/* -- batch --------------------------------------------------------------------- */

/* The format from --format, else from the file name; NULL (reason printed) if neither. */
static const char *import_format(const char *given, const char *file)
{
	const char *dot = strrchr(file, '.');

	if (given) {
		if (!strcmp(given, "csv") || !strcmp(given, "jsonl"))
			return given;
		fprintf(stderr, "govvault: --format is csv or jsonl, not '%s'\n", given);
		return NULL;
	}
	if (dot && !strcasecmp(dot, ".csv"))
		return "csv";
	if (dot && (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson")))
		return "jsonl";
	fprintf(stderr, "govvault: cannot tell the format of %s from its name; "
			"give --format csv or --format jsonl\n", file);
	return NULL;
}

static int run_batch_import(const struct cli_http *h, char **pos, const char **opt)
{
	const char *file = pos[1], *format = import_format(opt[1], pos[1]);
	struct cli_stream s = {.fd = -1};
	json_t *resp = NULL;
	struct gv_buf p;
	uint64_t bytes = 0;
	struct stat st;
	char hex[65];
	const char *state;
	int rc = 1;
	gv_err err;

	buf_init(&p, PATH_BYTES);
	if (!format) {
		rc = 2;
		goto out;
	}
	s.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0 || fstat(s.fd, &st) != 0) {
		fprintf(stderr, "govvault: cannot open %s: %s\n", file, strerror(errno));
		goto out;
	}
	/* The file is read twice (digest, then upload), which a pipe cannot be. */
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "govvault: %s is not a regular file\n", file);
		goto out;
	}
	if (file_digest(s.fd, hex, &bytes, NULL) != GV_OK || lseek(s.fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, "govvault: cannot read %s: %s\n", file, strerror(errno));
		goto out;
	}
	if ((err = cli_http_path(&p, "/v1/datasets/%s/batches", pos[0])) != GV_OK ||
	    (err = cli_http_query(&p, "source", opt[0])) != GV_OK ||
	    (err = cli_http_query(&p, "format", format)) != GV_OK) {
		rc = cli_path_error(err);
		goto out;
	}
	s.size = (curl_off_t)bytes;
	s.content_type = !strcmp(format, "csv") ? "text/csv" : "application/x-ndjson";
	s.sm3 = hex;
	if ((err = cli_http_upload(h, p.data, &s, &resp)) != GV_OK) {
		fprintf(stderr, "govvault: import of %s failed: %s\n", file,
			s.why[0] ? s.why : gv_strerror(err));
		goto out;
	}
	if (s.status >= 400) {
		rc = cli_http_report(s.status, resp);
		goto out;
	}
	/* A batch that did not commit is still shown: its report says what went wrong. */
	state = json_string_value(json_object_get(resp, "state"));
	rc = state && !strcmp(state, "committed") ? 0 : 1;
	if (rc)
		fprintf(stderr, "govvault: the batch was not committed (state %s: %s)\n",
			state ? state : "unknown",
			json_string_value(json_object_get(resp, "state_reason")) ?
			json_string_value(json_object_get(resp, "state_reason")) : "no reason given");
	cli_http_print(resp);
	resp = NULL;
out:
	if (s.fd >= 0)
		close(s.fd);
	json_decref(resp);
	buf_release(&p);
	return rc;
}

static int run_batch_list(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/datasets/%s/batches", pos[0]), NULL, 0);
}

static int run_batch_show(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p,
			  cli_http_path(&p, "/v1/datasets/%s/batches/%s", pos[0], pos[1]), NULL, 0);
}

static int run_batch_rows(const struct cli_http *h, char **pos, const char **opt)
{
	static const char *const names[] = {"status", "after", "limit"};
	struct gv_buf p;
	gv_err err;

	if ((opt[1] && cli_number_parse(opt[1], "--after", 0, NUMBER_MAX, NULL)) ||
	    (opt[2] && cli_number_parse(opt[2], "--limit", 0, INT32_MAX, NULL)))
		return 2;
	buf_init(&p, PATH_BYTES);
	err = cli_http_path(&p, "/v1/datasets/%s/batches/%s/rows", pos[0], pos[1]);
	for (size_t k = 0; k < GV_ARRAY_LEN(names) && err == GV_OK; k++)
		if (opt[k])
			err = cli_http_query(&p, names[k], opt[k]);
	return cli_send_print(h, "GET", &p, err, NULL, 0);
}

/* FILE holds the corrected row's data object. */
static int run_batch_correct(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;
	json_t *data;

	(void)opt;
	if (cli_number_parse(pos[2], "ROW", 0, NUMBER_MAX, NULL))
		return 2;
	if (cli_json_file_load(pos[3], JSON_FILE_MAX, 0, &data))
		return 1;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p,
			  cli_http_path(&p, "/v1/datasets/%s/batches/%s/rows/%s/correct", pos[0],
					pos[1], pos[2]),
			  json_pack("{s:o}", "data", data), 1);
}

static int run_batch_discard(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	if (cli_number_parse(pos[2], "ROW", 0, NUMBER_MAX, NULL))
		return 2;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p,
			  cli_http_path(&p, "/v1/datasets/%s/batches/%s/rows/%s/discard", pos[0],
					pos[1], pos[2]),
			  json_pack("{s:s}", "reason", pos[3]), 1);
}

/* -- keys ---------------------------------------------------------------------- */

static int run_keys_show(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/datasets/%s/keys", pos[0]), NULL, 0);
}

static int run_keys_rotate(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/datasets/%s/keys/rotate", pos[0]),
			  NULL, 0);
}

static int run_keys_rotate_master(const struct cli_http *h, char **pos, const char **opt)
{
	struct gv_buf p;

	(void)pos, (void)opt;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/system/keys/rotate-master"), NULL, 0);
}

/* -- the table ----------------------------------------------------------------- */

static const struct data_cmd commands[] = {
	{"dataset", "list", "", "datasets you may see", 0, {NULL}, 0, run_dataset_list},
	{"dataset", "show", " NAME", "one dataset", 1, {NULL}, 0, run_dataset_show},
	{"dataset", "create", " FILE.json", "register a dataset (data owner)", 1, {NULL}, 0,
	 run_dataset_create},
	{"dataset", "grade", " NAME GRADE REASON", "confirm, raise or lower the grade", 3, {NULL}, 0,
	 run_dataset_grade},
	{"dataset", "rules", " NAME FILE.json", "replace the quality rules (array or {\"rules\"})",
	 2, {NULL}, 0, run_dataset_rules},
	{"dataset", "lineage", " NAME", "sources and derived datasets", 1, {NULL}, 0,
	 run_dataset_lineage},
	{"dataset", "export", " NAME -o FILE", "download JSON Lines, verify its SM3, then keep it",
	 1, {"-o", NULL}, 1u, run_dataset_export},
	{"record", "put", " DATASET FILE.json [--id ID]", "create a record from a data object", 2,
	 {"--id", NULL}, 0, run_record_put},
	{"record", "get", " DATASET ID [--version N]", "a record, or one of its versions", 2,
	 {"--version", NULL}, 0, run_record_get},
	{"record", "history", " DATASET ID", "every version of a record", 2, {NULL}, 0,
	 run_record_history},
	{"record", "search", " DATASET FIELD VALUE", "records whose indexed FIELD equals VALUE", 3,
	 {NULL}, 0, run_record_search},
	{"record", "source", " DATASET ID", "the batch row a record came from", 2, {NULL}, 0,
	 run_record_source},
	{"batch", "import", " DATASET FILE --source SYSTEM [--format csv|jsonl]",
	 "stream a CSV/JSON Lines file with its SM3; fails unless committed", 2,
	 {"--source", "--format", NULL}, 1u, run_batch_import},
	{"batch", "list", " DATASET", "the dataset's batches, newest first", 1, {NULL}, 0,
	 run_batch_list},
	{"batch", "show", " DATASET ID", "one batch and its report", 2, {NULL}, 0, run_batch_show},
	{"batch", "rows", " DATASET ID [--status S] [--after N] [--limit N]",
	 "rows of a batch, e.g. --status quarantined", 2, {"--status", "--after", "--limit", NULL},
	 0, run_batch_rows},
	{"batch", "correct", " DATASET ID ROW FILE.json", "store a quarantined row corrected", 4,
	 {NULL}, 0, run_batch_correct},
	{"batch", "discard", " DATASET ID ROW REASON", "discard a quarantined row", 4, {NULL}, 0,
	 run_batch_discard},
	{"keys", "show", " DATASET", "the dataset's key versions (secadmin)", 1, {NULL}, 0,
	 run_keys_show},
	{"keys", "rotate", " DATASET", "new dataset key; rewrapping goes on in the background", 1,
	 {NULL}, 0, run_keys_rotate},
	{"keys", "rotate-master", "", "rewrap every dataset key under a new master key", 0, {NULL},
	 0, run_keys_rotate_master},
};

static void usage_line(FILE *out, const struct data_cmd *c)
{
	char left[128];
	int n = snprintf(left, sizeof(left), "%s %s%s", c->group, c->verb, c->args);

	if (n >= 0 && n < 27)
		fprintf(out, "  %-28s%s\n", left, c->help);
	else
		fprintf(out, "  %s\n  %-28s%s\n", left, "", c->help);
}

static int usage_group(const char *group)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].group, group))
			usage_line(stderr, &commands[i]);
	return 2;
}

static int usage_command(const struct data_cmd *c)
{
	fprintf(stderr, "usage: govvault %s %s%s\n", c->group, c->verb, c->args);
	return 2;
}

static int option_index(const struct data_cmd *c, const char *arg)
{
	for (int k = 0; c->opts[k]; k++)
		if (!strcmp(c->opts[k], arg))
			return k;
	return -1;
}

/* Splits argv into exactly c->npos positionals and the values of c->opts; "--" ends the
 * options (for a REASON or VALUE that starts with "--").  Prints why and returns 2 on
 * anything else. */
static int args_parse(const struct data_cmd *c, int argc, char **argv, char **pos,
		      const char **opt)
{
	int n = 0, options = 1;

	for (int i = 0; i < argc; i++) {
		int k = options ? option_index(c, argv[i]) : -1;

		if (options && !strcmp(argv[i], "--")) {
			options = 0;
		} else if (k >= 0) {
			if (i + 1 >= argc || opt[k]) {
				fprintf(stderr, "govvault: %s needs one value\n", argv[i]);
				return usage_command(c);
			}
			opt[k] = argv[++i];
		} else if (options && !strncmp(argv[i], "--", 2)) {
			fprintf(stderr, "govvault: unknown option '%s'\n", argv[i]);
			return usage_command(c);
		} else if (n < c->npos) {
			pos[n++] = argv[i];
		} else {
			fprintf(stderr, "govvault: unexpected argument '%s'\n", argv[i]);
			return usage_command(c);
		}
	}
	if (n < c->npos)
		return usage_command(c);
	for (int k = 0; c->opts[k]; k++) {
		if ((c->required & (1u << k)) && !opt[k]) {
			fprintf(stderr, "govvault: %s is required\n", c->opts[k]);
			return usage_command(c);
		}
	}
	return 0;
}

int cli_data_knows(const char *cmd)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].group, cmd))
			return 1;
	return 0;
}

int cli_data_run(const struct cli_http *h, const char *cmd, int argc, char **argv)
{
	char *pos[4] = {NULL};
	const char *opt[4] = {NULL};

	if (argc < 1)
		return usage_group(cmd);
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++) {
		const struct data_cmd *c = &commands[i];

		if (strcmp(c->group, cmd) != 0 || strcmp(c->verb, argv[0]) != 0)
			continue;
		if (args_parse(c, argc - 1, argv + 1, pos, opt))
			return 2;
		return c->run(h, pos, opt);
	}
	fprintf(stderr, "govvault: unknown command '%s %s'\n", cmd, argv[0]);
	return usage_group(cmd);
}

void cli_data_usage(FILE *out)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		usage_line(out, &commands[i]);
}

/* cli_share.c - the CLI's commands for sharing data (docs/sharing.md): sharing and
 * opening requests and their review (share), the departments a dataset may be shared
 * with (share departments), data services and a consumer's call of one (service),
 * consumer credentials (consumer), the call report (report) and the public open-data
 * catalogue (catalogue).
 *
 * As in cli_data.c the commands are a table: each entry names its positional arguments
 * and options, so argument checking and the usage text come from one place.  Every
 * command checks its arguments completely - numbers, dates, lists, files, credentials -
 * before anything is sent, so a mistake on the command line costs no request and
 * leaves no audit record; what only the daemon can judge (an action name, a CIDR range,
 * a field of the dataset) is left to it and its message is shown.
 *
 * Two kinds of command handle a credential.  `service call` authenticates as a
 * consumer, not as the logged-in account: it sends neither the bearer token nor the
 * purpose, and the consumer secret comes from a file or from GOVVAULT_CLIENT_SECRET,
 * never from argv (which every local user can read), travels in one HTTP Basic header
 * line, and every buffer of ours that held it is wiped.  `consumer create` and
 * `consumer rotate-secret` print the one-time secret the daemon returns - the only
 * place a secret is ever shown - and wipe their copies after.
 *
 * `share amend` reads the request first and sends it back with the options applied,
 * because an amendment is a whole new ask: without the read, an option not repeated
 * would silently widen the request to every field.  `consumer change` sends only what
 * is given; the API keeps the rest. */
#include "cmd/cli_share.h"
#include "cmd/cli_common.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

#define PATH_BYTES 32768u          /* an API path with its escaped query */
#define SPEC_FILE_MAX (1u << 20)   /* a service specification */
#define SECRET_FILE_MAX 4096u
#define SECRET_MAX 256             /* a consumer secret is 64 hex digits */
#define ANSWER_MAX (64u << 20)
#define NUMBER_MAX 999999999999999999LL
#define OPTS_MAX 10
#define POS_MAX 66                 /* service call: NAME and up to 64 KEY=VALUE */

struct share_args {
	char **pos;
	int npos;
	const char **opt;          /* by the command's opts[]; a switch given is "" */
};

struct share_cmd {
	const char *group;
	const char *verb;          /* "" for a group that is a single command */
	const char *args;          /* usage after "group verb" */
	const char *brief;         /* args in the overview, NULL: args (see the legend) */
	const char *help;
	int npos;                  /* positional arguments, at least this many ... */
	int npos_max;              /* ... and at most this many */
	const char *opts[OPTS_MAX + 1]; /* NULL-terminated */
	unsigned required;         /* bit k: opts[k] must be given */
	unsigned switches;         /* bit k: opts[k] takes no value */
	int (*run)(const struct cli_http *h, const struct share_args *a);
};

/* The options of a request's ask, shared by `share request` and `share amend` (which
 * has all but --open). */
enum { ASK_PURPOSE, ASK_LEGAL, ASK_UNTIL, ASK_ROWS, ASK_FIELDS, ASK_ACTIONS, ASK_PROFILE,
       ASK_SERVICE, ASK_COMMENT, ASK_OPEN };
#define ASK_OPTS "--purpose", "--legal-basis", "--until", "--rows-per-day", "--fields", \
	"--actions", "--mask-profile", "--service-file", "--comment"

/* `share approve`: --comment, then the narrowing options. */
enum { NARROW_COMMENT, NARROW_FIELDS, NARROW_ACTIONS, NARROW_UNTIL, NARROW_ROWS,
       NARROW_MAX_ROWS, NARROW_RATE };
#define NARROW_OPTS "--narrow-fields", "--narrow-actions", "--narrow-until", \
	"--narrow-rows-per-day", "--narrow-max-rows", "--narrow-rate"
enum { CONSUMER_NAME, CONSUMER_ALLOW, CONSUMER_SERVICES, CONSUMER_CERT, CONSUMER_DEPT };
enum { CALL_VERSION, CALL_CLIENT, CALL_SECRET_FILE };

/* -- helpers ------------------------------------------------------------------- */

static int id_check(const char *s)
{
	return cli_number_parse(s, "the request ID", 1, NUMBER_MAX, NULL);
}

static int digits_at(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* 0 when s is a real calendar date YYYY-MM-DD, or (unless day_only) a UTC time
 * YYYY-MM-DDTHH:MM:SSZ, as the daemon reads them; otherwise prints why and returns 2. */
static int date_check(const char *s, const char *what, int day_only)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t len = strlen(s);
	int y = len >= 10 ? digits_at(s, 4) : -1, m = 0, d = 0, leap;

	if (y >= 0) {
		m = digits_at(s + 5, 2);
		d = digits_at(s + 8, 2);
	}
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 2000 || y > 2999 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 ||
	    d > days[m - 1] || (m == 2 && d == 29 && !leap))
		goto bad;
	if (len == 10)
		return 0;
	if (!day_only && len == 20 && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' &&
	    digits_at(s + 11, 2) >= 0 && digits_at(s + 11, 2) <= 23 && digits_at(s + 14, 2) >= 0 &&
	    digits_at(s + 14, 2) <= 59 && digits_at(s + 17, 2) >= 0 && digits_at(s + 17, 2) <= 59)
		return 0;
bad:
	return cli_usage_error("%s must be a date YYYY-MM-DD%s, not '%s'", what,
			   day_only ? "" : " (or a UTC time YYYY-MM-DDTHH:MM:SSZ)", s);
}

/* The comma-separated items of s as a JSON array in *out (caller decrefs): items are
 * trimmed of spaces and must not be empty; "" is the empty array.  0, or 2 with the
 * reason printed, or 1 without memory. */
static int list_parse(const char *s, const char *what, json_t **out)
{
	json_t *a = json_array();

	*out = NULL;
	if (!a)
		return cli_build_error();
	/* Each pass takes one item; a trailing comma leaves an empty last item. */
	for (const char *p = s; *s; p++) {
		size_t n = strcspn(p, ",");
		const char *b = p, *e = p + n;
		json_t *item;

		while (b < e && *b == ' ')
			b++;
		while (e > b && e[-1] == ' ')
			e--;
		if (b == e) {
			json_decref(a);
			return cli_usage_error("%s has an empty item: '%s'", what, s);
		}
		item = json_stringn(b, (size_t)(e - b));
		if (!item || json_array_append_new(a, item) != 0) {
			json_decref(a);
			return cli_usage_error("%s is not UTF-8 text", what);
		}
		p += n;
		if (!*p)
			break;
	}
	*out = a;
	return 0;
}

/* Sets key to the string v in o; nonzero when v is not UTF-8 or memory ran out. */
static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, json_string(v)) != 0;
}

/* "gvc_" and 16 lower-case hex digits, as the daemon issues them. */
static int client_id_check(const char *s)
{
	int ok = strlen(s) == 20 && !strncmp(s, "gvc_", 4);

	for (int i = 4; ok && i < 20; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
	return ok ? 0 : cli_usage_error("a client ID is gvc_ and 16 hex digits, not '%s'", s);
}

/* A certificate's SHA-256 as the daemon keeps it (64 lower-case hex digits) from hex
 * as openssl prints it (either case, optionally with colons) into out[65]; "" stays
 * "" (no certificate).  0, or 2 with the reason printed. */
static int cert_fp_parse(const char *s, char out[65])
{
	size_t n = 0;

	for (const char *p = s; *p; p++) {
		char c = *p;

		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (n == 64 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return cli_usage_error("--cert-fp is the SHA-256 of the client certificate in hex "
					   "(64 digits, colons allowed)");
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != 0 && n != 64)
		return cli_usage_error("--cert-fp is the SHA-256 of the client certificate in hex "
				   "(64 digits, colons allowed)");
	return 0;
}

/* Prints an answer carrying a one-time client_secret, then wipes every copy of the
 * secret we hold (the printed text and the string in r) and drops r. */
static int print_secret_answer(json_t *r)
{
	json_t *s = json_object_get(r, "client_secret");
	char *text = json_dumps(r, JSON_INDENT(2));
	int rc = 1;

	if (text) {
		printf("%s\n", text);
		fflush(stdout);
		util_wipe(text, strlen(text));
		free(text);
		rc = 0;
	}
	if (json_is_string(s)) {
		/* The string belongs to r, which is freed next: wipe it in place. */
		util_wipe((char *)json_string_value(s), json_string_length(s));
		fprintf(stderr, "govvault: the client secret above is shown only this once and cannot "
				"be read again. Store it now, e.g. in a file of mode 0600 for `service "
				"call --secret-file`; `consumer rotate-secret` issues a new one.\n");
	} else {
		fprintf(stderr, "govvault: the answer carries no client secret\n");
		rc = 1;
	}
	json_decref(r);
	return rc;
}

/* -- share --------------------------------------------------------------------- */

/* The ask options given in a->opt as the fields of a request body, into *out (caller
 * decrefs).  0, or 2 (why printed) for a bad value, or 1. */
static int ask_options(const struct share_args *a, json_t **out)
{
	const char **opt = a->opt;
	json_t *o = json_object(), *v = NULL;
	long long rows = 0;
	int bad = !o, rc;

	*out = NULL;
	if ((opt[ASK_UNTIL] && date_check(opt[ASK_UNTIL], "--until", 0)) ||
	    (opt[ASK_ROWS] && cli_number_parse(opt[ASK_ROWS], "--rows-per-day", 1, 1000000000LL, &rows))) {
		json_decref(o);
		return 2;
	}
	if (opt[ASK_PURPOSE])
		bad |= set_str(o, "purpose", opt[ASK_PURPOSE]);
	if (opt[ASK_LEGAL])
		bad |= set_str(o, "legal_basis", opt[ASK_LEGAL]);
	if (opt[ASK_UNTIL])
		bad |= set_str(o, "valid_until", opt[ASK_UNTIL]);
	if (opt[ASK_ROWS])
		bad |= json_object_set_new(o, "expected_rows_per_day", json_integer(rows)) != 0;
	if (opt[ASK_PROFILE])
		bad |= set_str(o, "mask_profile", opt[ASK_PROFILE]);
	if (opt[ASK_COMMENT])
		bad |= set_str(o, "comment", opt[ASK_COMMENT]);
	if (bad) {
		json_decref(o);
		return cli_build_error();
	}
	if (opt[ASK_FIELDS]) {
		if ((rc = list_parse(opt[ASK_FIELDS], "--fields", &v)) != 0)
			goto fail;
		json_object_set_new(o, "fields", v);
	}
	if (opt[ASK_ACTIONS]) {
		if ((rc = list_parse(opt[ASK_ACTIONS], "--actions", &v)) != 0)
			goto fail;
		json_object_set_new(o, "actions", v);
	}
	if (opt[ASK_SERVICE]) {
		if ((rc = cli_json_file_load(opt[ASK_SERVICE], SPEC_FILE_MAX, 0, &v)) != 0)
			goto fail;
		json_object_set_new(o, "service", v);
	}
	*out = o;
	return 0;
fail:
	json_decref(o);
	return rc;
}

static int run_share_request(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;
	json_t *body;
	int rc;

	if ((rc = ask_options(a, &body)) != 0)
		return rc;
	if (set_str(body, "kind", a->opt[ASK_OPEN] ? "open" : "share") ||
	    set_str(body, "dataset", a->pos[0])) {
		json_decref(body);
		body = NULL;
	}
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/share-requests"), body, 1);
}

/* The ask of request q as it stands (what a PUT must repeat), for `share amend`. */
static json_t *ask_of(json_t *q)
{
	static const char *const keys[] = {"kind", "dataset", "fields", "actions", "purpose",
					   "legal_basis", "valid_from", "valid_until",
					   "expected_rows_per_day", "mask_profile", "service"};
	json_t *ask = json_object();

	for (size_t i = 0; ask && i < GV_ARRAY_LEN(keys); i++) {
		json_t *v = json_object_get(q, keys[i]);

		if (v && !json_is_null(v) && json_object_set(ask, keys[i], v) != 0) {
			json_decref(ask);
			ask = NULL;
		}
	}
	return ask;
}

static int run_share_amend(const struct cli_http *h, const struct share_args *a)
{
	json_t *given = NULL, *q = NULL, *body = NULL;
	struct gv_buf p;
	gv_err err;
	int rc;

	if (id_check(a->pos[0]))
		return 2;
	if ((rc = ask_options(a, &given)) != 0)
		return rc;
	buf_init(&p, PATH_BYTES);
	if ((err = cli_http_path(&p, "/v1/share-requests/%s", a->pos[0])) != GV_OK) {
		rc = cli_path_error(err);
		goto out;
	}
	if ((rc = cli_http_run(h, "GET", p.data, NULL, &q)) != 0)
		goto out;
	body = ask_of(q);
	if (!body || json_object_update(body, given) != 0) {
		rc = cli_build_error();
		goto out;
	}
	rc = cli_send_print(h, "PUT", &p, GV_OK, body, 1);
	body = NULL;
out:
	json_decref(given);
	json_decref(q);
	json_decref(body);
	buf_release(&p);
	return rc;
}

static int run_share_list(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;
	gv_err err;

	buf_init(&p, PATH_BYTES);
	err = cli_http_path(&p, "/v1/share-requests");
	if (err == GV_OK && a->opt[0])
		err = cli_http_query(&p, "state", a->opt[0]);
	return cli_send_print(h, "GET", &p, err, NULL, 0);
}

static int run_share_show(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;

	if (id_check(a->pos[0]))
		return 2;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/share-requests/%s", a->pos[0]),
			  NULL, 0);
}

/* POST /v1/share-requests/ID/STEP with the comment and, for an approval, narrow. */
static int share_step(const struct cli_http *h, const char *id, const char *step,
		      const char *comment, json_t *narrow)
{
	json_t *body = json_object();
	struct gv_buf p;

	if (body && comment && set_str(body, "comment", comment)) {
		json_decref(body);
		body = NULL;
	}
	if (body && narrow && json_object_size(narrow) &&
	    json_object_set(body, "narrow", narrow) != 0) {
		json_decref(body);
		body = NULL;
	}
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/share-requests/%s/%s", id, step),
			  body, 1);
}

static int run_share_approve(const struct cli_http *h, const struct share_args *a)
{
	static const struct {
		int opt;
		const char *name, *key;
		long long max;
	} numbers[] = {
		{NARROW_ROWS, "--narrow-rows-per-day", "expected_rows_per_day", 1000000000LL},
		{NARROW_MAX_ROWS, "--narrow-max-rows", "max_rows_per_call", 1000},
		{NARROW_RATE, "--narrow-rate", "rate_limit_per_minute", 1000000},
	};
	const char **opt = a->opt;
	json_t *narrow, *v;
	int rc;

	if (id_check(a->pos[0]))
		return 2;
	if (opt[NARROW_UNTIL] && date_check(opt[NARROW_UNTIL], "--narrow-until", 0))
		return 2;
	narrow = json_object();
	if (!narrow)
		return cli_build_error();
	for (size_t i = 0; i < GV_ARRAY_LEN(numbers); i++) {
		long long n = 0;

		if (!opt[numbers[i].opt])
			continue;
		if (cli_number_parse(opt[numbers[i].opt], numbers[i].name, 1, numbers[i].max, &n)) {
			json_decref(narrow);
			return 2;
		}
		json_object_set_new(narrow, numbers[i].key, json_integer(n));
	}
	if (opt[NARROW_UNTIL])
		json_object_set_new(narrow, "valid_until", json_string(opt[NARROW_UNTIL]));
	if (opt[NARROW_FIELDS]) {
		if ((rc = list_parse(opt[NARROW_FIELDS], "--narrow-fields", &v)) != 0)
			goto fail;
		json_object_set_new(narrow, "fields", v);
	}
	if (opt[NARROW_ACTIONS]) {
		if ((rc = list_parse(opt[NARROW_ACTIONS], "--narrow-actions", &v)) != 0)
			goto fail;
		json_object_set_new(narrow, "actions", v);
	}
	rc = share_step(h, a->pos[0], "approve", opt[NARROW_COMMENT], narrow);
fail:
	json_decref(narrow);
	return rc;
}

/* return, reject, withdraw and revoke: the step is the command's verb. */
static int share_end(const struct cli_http *h, const struct share_args *a, const char *step)
{
	if (id_check(a->pos[0]))
		return 2;
	return share_step(h, a->pos[0], step, a->opt[0], NULL);
}

static int run_share_return(const struct cli_http *h, const struct share_args *a)
{
	return share_end(h, a, "return");
}

static int run_share_reject(const struct cli_http *h, const struct share_args *a)
{
	return share_end(h, a, "reject");
}

static int run_share_withdraw(const struct cli_http *h, const struct share_args *a)
{
	return share_end(h, a, "withdraw");
}

static int run_share_revoke(const struct cli_http *h, const struct share_args *a)
{
	return share_end(h, a, "revoke");
}

/* Without --set: the authorised departments; with it (and --reason): replaces them. */
static int run_share_departments(const struct cli_http *h, const struct share_args *a)
{
	const char *set = a->opt[0], *reason = a->opt[1];
	json_t *list, *body;
	struct gv_buf p;
	gv_err err;
	int rc;

	if (!set && reason)
		return cli_usage_error("--reason goes with --set");
	if (set && (!reason || !reason[0]))
		return cli_usage_error("--set needs --reason (why these departments receive the data)");
	buf_init(&p, PATH_BYTES);
	err = cli_http_path(&p, "/v1/datasets/%s/share-departments", a->pos[0]);
	if (!set)
		return cli_send_print(h, "GET", &p, err, NULL, 0);
	if ((rc = list_parse(set, "--set", &list)) != 0) {
		buf_release(&p);
		return rc;
	}
	body = json_pack("{s:o,s:s}", "departments", list, "reason", reason);
	return cli_send_print(h, "PUT", &p, err, body, 1);
}

/* -- service ------------------------------------------------------------------- */

static int run_service_list(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;

	(void)a;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/services"), NULL, 0);
}

/* The consumer secret from the first line of file, or from GOVVAULT_CLIENT_SECRET
 * when file is NULL, into out[SECRET_MAX + 1].  0, or 1/2 with the reason printed
 * (never the secret). */
static int secret_load(const char *file, char out[SECRET_MAX + 1])
{
	const char *src;
	char *text = NULL;
	struct stat st;
	size_t n;
	gv_err err;
	int rc = 2;

	out[0] = '\0';
	if (file) {
		err = util_file_read(file, SECRET_FILE_MAX, &text, NULL);
		if (err != GV_OK) {
			fprintf(stderr, "govvault: cannot read the secret file %s: %s\n", file,
				err == GV_ERR_NOT_FOUND ? "no such file" : gv_strerror(err));
			return 1;
		}
		if (stat(file, &st) == 0 && (st.st_mode & 077))
			fprintf(stderr, "govvault: warning: %s can be read by other users; keep a "
					"consumer secret in a file of mode 0600\n", file);
		src = text;
	} else {
		src = getenv("GOVVAULT_CLIENT_SECRET");
		if (!src)
			return cli_usage_error("the consumer secret is read from --secret-file FILE or "
					   "GOVVAULT_CLIENT_SECRET, never from the command line");
	}
	n = strcspn(src, "\r\n");
	if (n == 0 || n > SECRET_MAX || src[n + strspn(src + n, "\r\n")] != '\0') {
		cli_usage_error("the consumer secret (%s) must be one line of at most %d characters",
			    file ? file : "GOVVAULT_CLIENT_SECRET", SECRET_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) {
			cli_usage_error("the consumer secret (%s) contains control characters",
				    file ? file : "GOVVAULT_CLIENT_SECRET");
			goto out;
		}
	}
	memcpy(out, src, n);
	out[n] = '\0';
	rc = 0;
out:
	util_free_secret(text);
	return rc;
}

/* RFC 4648 base64 of len bytes into out (4 * ((len + 2) / 3) + 1 bytes). */
static void base64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Appends "?key=value" (or "&...") with both halves of one KEY=VALUE argument
 * percent-encoded. */
static gv_err query_append(struct gv_buf *p, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *halves[2] = {arg, eq + 1};
	size_t lens[2] = {(size_t)(eq - arg), strlen(eq + 1)};
	gv_err err = buf_append(p, strchr(p->data, '?') ? "&" : "?", 1);

	for (int k = 0; k < 2 && err == GV_OK; k++) {
		char *esc;

		if (k == 1 && (err = buf_append(p, "=", 1)) != GV_OK)
			break;
		if (lens[k] == 0)
			continue;
		if (lens[k] > 8192)
			return GV_ERR_TOO_LARGE;
		esc = curl_easy_escape(NULL, halves[k], (int)lens[k]);
		if (!esc)
			return GV_ERR_NOMEM;
		err = buf_append(p, esc, strlen(esc));
		curl_free(esc);
	}
	return err;
}

static int run_service_call(const struct cli_http *h, const struct share_args *a)
{
	const char *version = a->opt[CALL_VERSION] ? a->opt[CALL_VERSION] : "latest";
	const char *client = a->opt[CALL_CLIENT];
	char secret[SECRET_MAX + 1] = "", cred[SECRET_MAX + 32] = "";
	char b64[4 * ((sizeof(cred) + 2) / 3) + 1] = "", auth[sizeof(b64) + 32] = "";
	struct cli_http as;
	json_t *r = NULL;
	struct gv_buf p;
	gv_err err;
	int rc = 2;

	buf_init(&p, PATH_BYTES);
	if (strcmp(version, "latest") != 0 &&
	    cli_number_parse(version, "--version", 1, 1000000, NULL))
		goto out;
	for (int i = 1; i < a->npos; i++) {
		if (a->pos[i][0] == '=' || !strchr(a->pos[i], '=')) {
			cli_usage_error("service parameters are KEY=VALUE; argument %d after the service "
				    "name is not", i);
			goto out;
		}
	}
	if (!client && a->opt[CALL_SECRET_FILE]) {
		cli_usage_error("--secret-file goes with --client-id");
		goto out;
	}
	if (!client && !h->cert) {
		cli_usage_error("--client-id is required (or a client certificate registered for the "
			    "consumer, with --cert and --key)");
		goto out;
	}
	if (client && (client_id_check(client) ||
		       (rc = secret_load(a->opt[CALL_SECRET_FILE], secret)) != 0))
		goto out;
	rc = 2;
	if ((err = cli_http_path(&p, "/v1/services/%s/%s/call", a->pos[0], version)) != GV_OK) {
		rc = cli_path_error(err);
		goto out;
	}
	for (int i = 1; i < a->npos; i++) {
		if ((err = query_append(&p, a->pos[i])) != GV_OK) {
			rc = cli_path_error(err);
			goto out;
		}
	}
	if (client) {
		/* Both fit: client is 20 bytes, the secret at most SECRET_MAX. */
		int n = snprintf(cred, sizeof(cred), "%s:%s", client, secret);

		base64_encode((const unsigned char *)cred, (size_t)n, b64);
		snprintf(auth, sizeof(auth), "Basic %s", b64);
	}
	/* As the consumer: neither the session's token nor its purpose goes along. */
	as = *h;
	as.token[0] = '\0';
	as.purpose = NULL;
	as.authorization = client ? auth : NULL;
	if ((rc = cli_http_run(&as, "GET", p.data, NULL, &r)) == 0)
		rc = cli_http_print(r);
	r = NULL;
out:
	util_wipe(secret, sizeof(secret));
	util_wipe(cred, sizeof(cred));
	util_wipe(b64, sizeof(b64));
	util_wipe(auth, sizeof(auth));
	util_wipe(&as, sizeof(as));
	json_decref(r);
	buf_release(&p);
	return rc;
}

/* -- consumer ------------------------------------------------------------------ */

/* The options of create and change (those given) as body fields into o; --allow must
 * not be empty.  0, or 2 with the reason printed, or 1. */
static int consumer_options(const struct share_args *a, json_t *o)
{
	const char **opt = a->opt;
	char fp[65] = "";
	json_t *v;
	int rc;

	if (opt[CONSUMER_CERT] && cert_fp_parse(opt[CONSUMER_CERT], fp))
		return 2;
	if (opt[CONSUMER_ALLOW]) {
		if ((rc = list_parse(opt[CONSUMER_ALLOW], "--allow", &v)) != 0)
			return rc;
		if (!json_array_size(v)) {
			json_decref(v);
			return cli_usage_error("--allow needs at least one address or CIDR range");
		}
		json_object_set_new(o, "ip_allowlist", v);
	}
	if (opt[CONSUMER_SERVICES]) {
		if ((rc = list_parse(opt[CONSUMER_SERVICES], "--services", &v)) != 0)
			return rc;
		json_object_set_new(o, "services", v);
	}
	if ((opt[CONSUMER_NAME] && set_str(o, "name", opt[CONSUMER_NAME])) ||
	    (opt[CONSUMER_CERT] && set_str(o, "cert_fp", fp)))
		return cli_build_error();
	return 0;
}

static int run_consumer_create(const struct cli_http *h, const struct share_args *a)
{
	json_t *body = json_object(), *r = NULL;
	struct gv_buf p;
	gv_err err;
	int rc;

	if (!body)
		return cli_build_error();
	if (!a->opt[CONSUMER_NAME][0] || !a->opt[CONSUMER_DEPT][0]) {
		json_decref(body);
		return cli_usage_error("--name and --department must not be empty");
	}
	if ((rc = consumer_options(a, body)) != 0) {
		json_decref(body);
		return rc;
	}
	if (set_str(body, "department", a->opt[CONSUMER_DEPT])) {
		json_decref(body);
		return cli_build_error();
	}
	buf_init(&p, PATH_BYTES);
	if ((err = cli_http_path(&p, "/v1/consumers")) != GV_OK)
		rc = cli_path_error(err);
	else if ((rc = cli_http_run(h, "POST", p.data, body, &r)) == 0)
		rc = print_secret_answer(r);
	json_decref(body);
	buf_release(&p);
	return rc;
}

static int run_consumer_list(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;

	(void)a;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/consumers"), NULL, 0);
}

static int run_consumer_show(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;

	if (client_id_check(a->pos[0]))
		return 2;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "GET", &p, cli_http_path(&p, "/v1/consumers/%s", a->pos[0]), NULL, 0);
}

/* PATCH changes what the body names and keeps the rest. */
static int run_consumer_change(const struct cli_http *h, const struct share_args *a)
{
	json_t *body = NULL;
	struct gv_buf p;
	gv_err err;
	int rc = 2;

	if (client_id_check(a->pos[0]))
		return 2;
	if (!a->opt[CONSUMER_NAME] && !a->opt[CONSUMER_ALLOW] && !a->opt[CONSUMER_SERVICES] &&
	    !a->opt[CONSUMER_CERT])
		return cli_usage_error("nothing to change: give --name, --allow, --services or --cert-fp");
	if (a->opt[CONSUMER_NAME] && !a->opt[CONSUMER_NAME][0])
		return cli_usage_error("--name must not be empty");
	if (!(body = json_object()))
		return cli_build_error();
	buf_init(&p, PATH_BYTES);
	if ((rc = consumer_options(a, body)) != 0)
		goto out;
	if ((err = cli_http_path(&p, "/v1/consumers/%s", a->pos[0])) != GV_OK) {
		rc = cli_path_error(err);
		goto out;
	}
	rc = cli_send_print(h, "PATCH", &p, GV_OK, body, 1);
	body = NULL;
out:
	json_decref(body);
	buf_release(&p);
	return rc;
}

static int run_consumer_revoke(const struct cli_http *h, const struct share_args *a)
{
	struct gv_buf p;

	if (client_id_check(a->pos[0]))
		return 2;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(h, "POST", &p, cli_http_path(&p, "/v1/consumers/%s/revoke", a->pos[0]),
			  json_object(), 1);
}

static int run_consumer_rotate(const struct cli_http *h, const struct share_args *a)
{
	json_t *r = NULL;
	struct gv_buf p;
	gv_err err;
	int rc;

	if (client_id_check(a->pos[0]))
		return 2;
	buf_init(&p, PATH_BYTES);
	if ((err = cli_http_path(&p, "/v1/consumers/%s/rotate-secret", a->pos[0])) != GV_OK)
		rc = cli_path_error(err);
	else if ((rc = cli_http_run(h, "POST", p.data, NULL, &r)) == 0)
		rc = print_secret_answer(r);
	buf_release(&p);
	return rc;
}

/* -- report and catalogue ------------------------------------------------------ */

static int run_report_calls(const struct cli_http *h, const struct share_args *a)
{
	static const char *const names[] = {"from", "to", "consumer", "service"};
	struct gv_buf p;
	gv_err err;

	if ((a->opt[0] && date_check(a->opt[0], "--from", 1)) ||
	    (a->opt[1] && date_check(a->opt[1], "--to", 1)))
		return 2;
	if (a->opt[0] && a->opt[1] && strcmp(a->opt[0], a->opt[1]) > 0)
		return cli_usage_error("--from %s is after --to %s", a->opt[0], a->opt[1]);
	buf_init(&p, PATH_BYTES);
	err = cli_http_path(&p, "/v1/reports/service-calls");
	for (size_t k = 0; k < GV_ARRAY_LEN(names) && err == GV_OK; k++)
		if (a->opt[k])
			err = cli_http_query(&p, names[k], a->opt[k]);
	return cli_send_print(h, "GET", &p, err, NULL, 0);
}

/* Public: sent without the session's token or purpose. */
static int run_catalogue(const struct cli_http *h, const struct share_args *a)
{
	struct cli_http anon = {.url = h->url, .cacert = h->cacert, .cert = h->cert, .key = h->key};
	struct gv_buf p;

	(void)a;
	buf_init(&p, PATH_BYTES);
	return cli_send_print(&anon, "GET", &p, cli_http_path(&p, "/v1/open/catalogue"), NULL, 0);
}

/* -- the table ----------------------------------------------------------------- */

#define ASK_ARGS " --purpose P --legal-basis L --until DATE --rows-per-day N [--fields a,b]" \
	" [--actions read,search] [--mask-profile X] [--service-file SPEC.json] [--comment C]"
#define NARROW_ARGS " [--narrow-fields a,b] [--narrow-actions a,b] [--narrow-until DATE]" \
	" [--narrow-rows-per-day N] [--narrow-max-rows N] [--narrow-rate N]"

static const struct share_cmd commands[] = {
	{.group = "share", .verb = "request", .args = " DATASET [--open]" ASK_ARGS,
	 .brief = " DATASET [--open] ASK",
	 .help = "ask to receive a dataset (--open: its owner asks to publish it)",
	 .npos = 1, .npos_max = 1, .opts = {ASK_OPTS, "--open", NULL},
	 .required = (1u << ASK_PURPOSE) | (1u << ASK_LEGAL) | (1u << ASK_UNTIL) | (1u << ASK_ROWS),
	 .switches = 1u << ASK_OPEN, .run = run_share_request},
	{.group = "share", .verb = "list", .args = " [--state S]",
	 .help = "requests you may see (--state pending, approved, ...)",
	 .opts = {"--state", NULL}, .run = run_share_list},
	{.group = "share", .verb = "show", .args = " ID", .help = "one request with its events",
	 .npos = 1, .npos_max = 1, .run = run_share_show},
	{.group = "share", .verb = "approve", .args = " ID [--comment C]" NARROW_ARGS,
	 .brief = " ID [--comment C] [NARROW]", .help = "approve, optionally narrower than asked",
	 .npos = 1, .npos_max = 1, .opts = {"--comment", NARROW_OPTS, NULL}, .run = run_share_approve},
	{.group = "share", .verb = "return", .args = " ID --comment C",
	 .help = "send back to the requester for changes", .npos = 1, .npos_max = 1,
	 .opts = {"--comment", NULL}, .required = 1u, .run = run_share_return},
	{.group = "share", .verb = "reject", .args = " ID --comment C", .help = "refuse the request",
	 .npos = 1, .npos_max = 1, .opts = {"--comment", NULL}, .required = 1u,
	 .run = run_share_reject},
	{.group = "share", .verb = "withdraw", .args = " ID [--comment C]",
	 .help = "withdraw your request under review", .npos = 1, .npos_max = 1,
	 .opts = {"--comment", NULL}, .run = run_share_withdraw},
	{.group = "share", .verb = "revoke", .args = " ID --comment C",
	 .help = "end an approved share, its grant and service", .npos = 1, .npos_max = 1,
	 .opts = {"--comment", NULL}, .required = 1u, .run = run_share_revoke},
	{.group = "share", .verb = "amend", .args = " ID [any of" ASK_ARGS "]", .brief = " ID [ASK]",
	 .help = "change a returned request (what is not given stays), resubmit it",
	 .npos = 1, .npos_max = 1, .opts = {ASK_OPTS, NULL}, .run = run_share_amend},
	{.group = "share", .verb = "departments", .args = " DATASET [--set a,b --reason R]",
	 .help = "departments grade-2/3 data may go to; --set replaces them (secadmin)",
	 .npos = 1, .npos_max = 1, .opts = {"--set", "--reason", NULL},
	 .run = run_share_departments},
	{.group = "service", .verb = "list", .args = "", .help = "data services you may see",
	 .run = run_service_list},
	{.group = "service", .verb = "call",
	 .args = " NAME [--version N] --client-id ID [--secret-file FILE] KEY=VALUE...",
	 .help = "call as a consumer (secret: FILE or GOVVAULT_CLIENT_SECRET)",
	 .npos = 1, .npos_max = POS_MAX, .opts = {"--version", "--client-id", "--secret-file", NULL},
	 .run = run_service_call},
	{.group = "consumer", .verb = "create",
	 .args = " --name N --department D --allow CIDR[,CIDR] [--services a,b] [--cert-fp HEX]",
	 .help = "register a consumer; prints its secret once (secadmin)",
	 .opts = {"--name", "--allow", "--services", "--cert-fp", "--department", NULL},
	 .required = (1u << CONSUMER_NAME) | (1u << CONSUMER_ALLOW) | (1u << CONSUMER_DEPT),
	 .run = run_consumer_create},
	{.group = "consumer", .verb = "list", .args = "", .help = "every consumer (secadmin)",
	 .run = run_consumer_list},
	{.group = "consumer", .verb = "show", .args = " ID", .help = "one consumer", .npos = 1,
	 .npos_max = 1, .run = run_consumer_show},
	{.group = "consumer", .verb = "change",
	 .args = " ID [--name N] [--allow CIDR,...] [--services a,b] [--cert-fp HEX]",
	 .help = "what is not given stays; --services \"\" unbinds, --cert-fp \"\" clears",
	 .npos = 1, .npos_max = 1, .opts = {"--name", "--allow", "--services", "--cert-fp", NULL},
	 .run = run_consumer_change},
	{.group = "consumer", .verb = "revoke", .args = " ID", .help = "stop a consumer at once",
	 .npos = 1, .npos_max = 1, .run = run_consumer_revoke},
	{.group = "consumer", .verb = "rotate-secret", .args = " ID",
	 .help = "a new secret, printed once; the old one stops", .npos = 1, .npos_max = 1,
	 .run = run_consumer_rotate},
	{.group = "report", .verb = "service-calls",
	 .args = " [--from DATE] [--to DATE] [--consumer ID] [--service NAME]",
	 .help = "calls, rows, refusals per consumer and day (secadmin, auditadmin)",
	 .opts = {"--from", "--to", "--consumer", "--service", NULL}, .run = run_report_calls},
	{.group = "catalogue", .verb = "", .args = "", .help = "the public open-data catalogue (no login)",
	 .run = run_catalogue},
};

static void usage_line(FILE *out, const struct share_cmd *c)
{
	char left[512];
	int n = snprintf(left, sizeof(left), "%s%s%s%s", c->group, c->verb[0] ? " " : "", c->verb,
			 c->brief ? c->brief : c->args);

	if (n >= 0 && n < 27)
		fprintf(out, "  %-28s%s\n", left, c->help);
	else
		fprintf(out, "  %s\n  %-28s%s\n", left, "", c->help);
}

static void usage_legend(FILE *out)
{
	fprintf(out, "  ASK: --purpose P --legal-basis L --until DATE --rows-per-day N (all four in a\n"
		     "    request) [--fields a,b] [--actions read,search] [--mask-profile X]\n"
		     "    [--service-file SPEC.json] [--comment C]\n"
		     "  NARROW: [--narrow-fields a,b] [--narrow-actions a,b] [--narrow-until DATE]\n"
		     "    [--narrow-rows-per-day N] [--narrow-max-rows N] [--narrow-rate N]\n");
}

static int usage_group(const char *group)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].group, group))
			usage_line(stderr, &commands[i]);
	if (!strcmp(group, "share"))
		usage_legend(stderr);
	return 2;
}

static int usage_command(const struct share_cmd *c)
{
	fprintf(stderr, "usage: govvault %s%s%s%s\n", c->group, c->verb[0] ? " " : "", c->verb,
		c->args);
	return 2;
}

static int option_index(const struct share_cmd *c, const char *arg)
{
	for (int k = 0; c->opts[k]; k++)
		if (!strcmp(c->opts[k], arg))
			return k;
	return -1;
}

/* Splits argv into c->npos..c->npos_max positionals and the options of c; "--" ends
 * the options (for a value that starts with "--").  Prints why and returns 2 on
 * anything else. */
static int args_parse(const struct share_cmd *c, int argc, char **argv, struct share_args *a)
{
	int options = 1;

	a->npos = 0;
	for (int i = 0; i < argc; i++) {
		int k = options ? option_index(c, argv[i]) : -1;

		if (options && !strcmp(argv[i], "--")) {
			options = 0;
		} else if (k >= 0) {
			if (a->opt[k]) {
				cli_usage_error("%s is given twice", argv[i]);
				return usage_command(c);
			}
			if (c->switches & (1u << k)) {
				a->opt[k] = "";
				continue;
			}
			if (i + 1 >= argc) {
				cli_usage_error("%s needs a value", argv[i]);
				return usage_command(c);
			}
			a->opt[k] = argv[++i];
		} else if (options && !strncmp(argv[i], "--", 2)) {
			/* The name only: a mistyped option may be followed by a secret. */
			cli_usage_error("unknown option '%s'", argv[i]);
			return usage_command(c);
		} else if (a->npos < c->npos_max) {
			a->pos[a->npos++] = argv[i];
		} else {
			cli_usage_error("unexpected argument '%s'", argv[i]);
			return usage_command(c);
		}
	}
	if (a->npos < c->npos)
		return usage_command(c);
	for (int k = 0; c->opts[k]; k++) {
		if ((c->required & (1u << k)) && !a->opt[k]) {
			cli_usage_error("%s is required", c->opts[k]);
			return usage_command(c);
		}
	}
	return 0;
}

int cli_share_knows(const char *cmd)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].group, cmd))
			return 1;
	return 0;
}

int cli_share_run(const struct cli_http *h, const char *cmd, int argc, char **argv)
{
	char *pos[POS_MAX] = {NULL};
	const char *opt[OPTS_MAX] = {NULL};
	struct share_args a = {pos, 0, opt};

	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++) {
		const struct share_cmd *c = &commands[i];
		int skip = c->verb[0] ? 1 : 0;

		if (strcmp(c->group, cmd) != 0 || (skip && (argc < 1 || strcmp(c->verb, argv[0]))))
			continue;
		if (args_parse(c, argc - skip, argv + skip, &a))
			return 2;
		return c->run(h, &a);
	}
	if (argc >= 1)
		cli_usage_error("unknown command '%s %s'", cmd, argv[0]);
	return usage_group(cmd);
}

void cli_share_usage(FILE *out)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(commands); i++)
		usage_line(out, &commands[i]);
	usage_legend(out);
}

/* govvault.c - the command-line tool: offline commands on a data directory (init) and
 * API commands against a running govvaultd (login with its steps, whoami, health,
 * passwd, logout, and `api` for any endpoint).  The data commands (dataset, record,
 * batch, keys) live in cli_data.c, the sharing commands (share, service, consumer,
 * report, catalogue) in cli_share.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "audit/audit.h"
#include "auth/bootstrap.h"
#include "auth/totp.h"
#include "cmd/cli_data.h"
#include "cmd/cli_http.h"
#include "cmd/cli_prompt.h"
#include "cmd/cli_share.h"
#include "common/log.h"
#include "common/util.h"
#include "http/http.h"

#define DEFAULT_DATA_DIR "govvault-data"

static int cmd_init(int argc, char **argv)
{
	struct bootstrap_options opt = {DEFAULT_DATA_DIR, NULL, NULL};
	struct bootstrap_admin admins[3];
	char *extra = NULL;
	char errmsg[1024] = "";
	gv_err err;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			opt.data_dir = argv[++i];
		} else if (!strcmp(argv[i], "--tls-name") && i + 1 < argc) {
			opt.tls_name = argv[++i];
		} else if (!strcmp(argv[i], "--config-extra") && i + 1 < argc) {
			err = util_file_read(argv[++i], 1 << 20, &extra, NULL);
			if (err != GV_OK) {
				fprintf(stderr, "govvault init: cannot read %s: %s\n", argv[i], gv_strerror(err));
				return 1;
			}
			opt.config_extra = extra;
		} else {
			fprintf(stderr, "govvault init: unknown argument '%s'\n"
					"usage: govvault init [--data DIR] [--tls-name NAME] [--config-extra FILE]\n",
				argv[i]);
			free(extra);
			return 2;
		}
	}
	umask(077);
	if (log_open(NULL, GV_LOG_WARN) != GV_OK)
		return 1;
	err = bootstrap_init(&opt, admins, errmsg, sizeof(errmsg));
	free(extra);
	if (err != GV_OK) {
		fprintf(stderr, "govvault init: %s\n", errmsg[0] ? errmsg : gv_strerror(err));
		return 1;
	}
	printf("Initialised %s (SQLite store, self-signed TLS certificate, master key).\n\n"
	       "One-time passwords for the three administrators. They are shown only now;\n"
	       "each must be changed at first login, followed by TOTP enrolment.\n\n",
	       opt.data_dir);
	for (int i = 0; i < 3; i++)
		printf("  %-11s (%-10s)  %s\n", admins[i].username, admins[i].role, admins[i].otp);
	util_wipe(admins, sizeof(admins));
	printf("\nStart the daemon:  govvaultd --config %s/govvault.conf\n", opt.data_dir);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: govvault [--url URL] [--cacert FILE] [--cert FILE --key FILE] [--purpose TEXT] <command>\n\n"
		     "Offline:\n"
		     "  init [--data DIR] [--tls-name NAME] [--config-extra FILE]\n"
		     "                              create a data directory and the administrators\n"
		     "  audit verify --data DIR [--pubkey FILE] [--witness FILE] [--tail]\n"
		     "                              verify the audit chain, signatures and witness\n"
		     "API (token kept in ~/.govvault/token or $GOVVAULT_TOKEN_FILE):\n"
		     "  health                      service liveness\n"
		     "  login [USERNAME]            log in, completing password change and TOTP steps\n"
		     "  whoami                      the logged-in account and session\n"
		     "  passwd                      change your password\n"
		     "  logout                      end the session\n"
		     "  api METHOD PATH [JSON]      call any endpoint, e.g. api GET /v1/accounts\n"
		     "  audit verify [--tail]       verify the running daemon's audit log (auditadmin)\n"
		     "Data (FILE.json: a dataset, a record's data object, or quality rules):\n");
	cli_data_usage(out);
	fprintf(out, "Sharing and data services (DATE: YYYY-MM-DD; lists: a,b,c):\n");
	cli_share_usage(out);
	fprintf(out, "Reads of data declare a purpose: --purpose or GOVVAULT_PURPOSE (sent as X-Purpose).\n"
		     "`service call` authenticates as the consumer, not the logged-in account; its secret\n"
		     "is never taken from the command line.\n"
		     "Environment: GOVVAULT_URL, GOVVAULT_CACERT, GOVVAULT_CLIENT_CERT, GOVVAULT_CLIENT_KEY,\n"
		     "GOVVAULT_TOKEN, GOVVAULT_CLIENT_SECRET.\n");
}

static void token_path(char *out, size_t len)
{
	const char *env = getenv("GOVVAULT_TOKEN_FILE");
	const char *home = getenv("HOME");

	if (env)
		snprintf(out, len, "%s", env);
	else
		snprintf(out, len, "%s/.govvault/token", home ? home : ".");
}

static void token_load(struct cli_http *h)
{
	const char *env = getenv("GOVVAULT_TOKEN");
	char path[1024], *text = NULL;

	if (env) {
		snprintf(h->token, sizeof(h->token), "%s", env);
		return;
	}
	token_path(path, sizeof(path));
	if (util_file_read(path, 256, &text, NULL) == GV_OK) {
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(h->token, sizeof(h->token), "%s", text);
		util_free_secret(text);
	}
}

static int token_save(const char *token)
{
	char path[1024], dir[1024];
	char *slash;

	token_path(path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	return util_file_write(path, token, strlen(token), 0600) == GV_OK ? 0 : -1;
}

static int simple(struct cli_http *h, const char *method, const char *path)
{
	json_t *r;

	return cli_http_run(h, method, path, NULL, &r) ? 1 : cli_http_print(r);
}

static int cmd_api(struct cli_http *h, int argc, char **argv)
{
	json_t *body = NULL, *r;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: govvault api METHOD PATH [JSON]\n");
		return 2;
	}
	if (argc == 3) {
		body = json_loads(argv[2], 0, NULL);
		if (!body) {
			fprintf(stderr, "govvault: the JSON argument does not parse\n");
			return 2;
		}
	}
	rc = cli_http_run(h, argv[0], argv[1], body, &r);
	json_decref(body);
	return rc ? rc : cli_http_print(r);
}

static int change_password(struct cli_http *h, const char *current, json_t **out)
{
	char next[300], again[300];
	json_t *body;
	int rc = 1;

	if (cli_prompt("New password: ", 1, next, sizeof(next)) != GV_OK ||
	    cli_prompt("New password again: ", 1, again, sizeof(again)) != GV_OK)
		goto out;
	if (strcmp(next, again) != 0) {
		fprintf(stderr, "govvault: the passwords differ\n");
		goto out;
	}
	body = json_pack("{s:s,s:s}", "current_password", current, "new_password", next);
	rc = cli_http_run(h, "POST", "/v1/auth/password", body, out);
	json_decref(body);
out:
	util_wipe(next, sizeof(next));
	util_wipe(again, sizeof(again));
	return rc;
}

static int enrol_totp(struct cli_http *h, json_t **out)
{
	struct gv_buf qr;
	json_t *r, *body, *code;
	char answer[32];
	size_t i;
	int rc;

	rc = cli_http_run(h, "POST", "/v1/auth/totp/enroll", json_object(), &r);
	if (rc)
		return rc;
	buf_init(&qr, 1 << 20);
	if (totp_qr_text(json_string_value(json_object_get(r, "otpauth_uri")), &qr) == GV_OK)
		fprintf(stderr, "%s", qr.data);
	buf_release(&qr);
	fprintf(stderr, "Scan the code or enter this URI in an authenticator app:\n  %s\n"
			"Recovery codes (each works once; store them offline):\n",
		json_string_value(json_object_get(r, "otpauth_uri")));
	json_array_foreach(json_object_get(r, "recovery_codes"), i, code)
		fprintf(stderr, "  %s\n", json_string_value(code));
	json_decref(r);
	if (cli_prompt("Code from the app: ", 0, answer, sizeof(answer)) != GV_OK)
		return 1;
	body = json_pack("{s:s}", "code", answer);
	rc = cli_http_run(h, "POST", "/v1/auth/totp/confirm", body, out);
	json_decref(body);
	return rc;
}

static int second_factor(struct cli_http *h, json_t **out)
{
	char answer[40];
	json_t *body;
	int rc;

	if (cli_prompt("One-time code (or recovery code): ", 1, answer, sizeof(answer)) != GV_OK)
		return 1;
	body = json_pack("{s:s}", strlen(answer) == 6 ? "code" : "recovery_code", answer);
	util_wipe(answer, sizeof(answer));
	rc = cli_http_run(h, "POST", "/v1/auth/totp", body, out);
	json_decref(body);
	return rc;
}

static int cmd_login(struct cli_http *h, int argc, char **argv)
{
	char user[80], pw[300];
	json_t *body, *r = NULL;
	int rc = 1;

	if (argc > 1) {
		fprintf(stderr, "usage: govvault login [USERNAME]\n");
		return 2;
	}
	if (argc == 1)
		snprintf(user, sizeof(user), "%s", argv[0]);
	else if (cli_prompt("Username: ", 0, user, sizeof(user)) != GV_OK)
		return 1;
	if (cli_prompt("Password: ", 1, pw, sizeof(pw)) != GV_OK)
		return 1;
	h->token[0] = '\0';
	body = json_pack("{s:s,s:s}", "username", user, "password", pw);
	rc = cli_http_run(h, "POST", "/v1/auth/login", body, &r);
	json_decref(body);
	if (rc)
		goto out;
	snprintf(h->token, sizeof(h->token), "%s", json_string_value(json_object_get(r, "token")));
	for (int steps = 0; steps < 4; steps++) {
		const char *stage = json_string_value(json_object_get(r, "stage"));
		json_t *next = NULL;

		if (token_save(h->token) != 0)
			fprintf(stderr, "govvault: warning: cannot save the token\n");
		if (!stage || !strcmp(stage, "active")) {
			printf("Logged in as %s.\n", user);
			rc = 0;
			goto out;
		}
		if (!strcmp(stage, "password_change")) {
			fprintf(stderr, "A new password is required (>= 12 characters, 3 character classes).\n");
			rc = change_password(h, pw, &next);
		} else if (!strcmp(stage, "totp_enroll")) {
			fprintf(stderr, "Two-factor enrolment is required for this account.\n");
			rc = enrol_totp(h, &next);
		} else {
			rc = second_factor(h, &next);
		}
		if (rc)
			goto out;
		json_decref(r);
		r = next;
	}
	rc = 1;
out:
	util_wipe(pw, sizeof(pw));
	json_decref(r);
	return rc;
}

static int cmd_passwd(struct cli_http *h)
{
	char current[300];
	json_t *r;
	int rc;

	if (cli_prompt("Current password: ", 1, current, sizeof(current)) != GV_OK)
		return 1;
	rc = change_password(h, current, &r);
	util_wipe(current, sizeof(current));
	if (rc)
		return rc;
	json_decref(r);
	printf("Password changed.\n");
	return 0;
}

static int cmd_logout(struct cli_http *h)
{
	char path[1024];
	json_t *r;
	int rc = cli_http_run(h, "POST", "/v1/auth/logout", NULL, &r);

	json_decref(r);
	token_path(path, sizeof(path));
	unlink(path);
	if (!rc)
		printf("Logged out.\n");
	return rc;
}

/* Prints a verification result; 0 when the log verified. */
static int verify_report(json_t *v)
{
	int ok = json_is_true(json_object_get(v, "ok"));

	if (!ok)
		fprintf(stderr, "govvault: audit log verification FAILED: %s\n",
			json_string_value(json_object_get(v, "problem")));
	cli_http_print(v);
	return ok ? 0 : 1;
}

/* `audit verify --data DIR`: reads the files only, trusting nothing but the exported
 * public key, so it also works on a copy taken off the server. */
static int audit_verify_offline(const char *data, const char *pubkey, const char *witness, int tail)
{
	char conf[GV_PATH_MAX], pubpath[GV_PATH_MAX], errmsg[512];
	struct gv_config cfg;
	struct audit_verify_result res;
	struct sm2_key *pub = NULL;
	char *pem = NULL;
	size_t len = 0;
	int rc = 1;

	snprintf(conf, sizeof(conf), "%s/govvault.conf", data);
	snprintf(pubpath, sizeof(pubpath), "%s", pubkey ? pubkey : "");
	if (!pubkey)
		snprintf(pubpath, sizeof(pubpath), "%s/audit-sign.pub.pem", data);
	if (crypto_init() != GV_OK || config_load(conf, &cfg, errmsg, sizeof(errmsg)) != GV_OK) {
		fprintf(stderr, "govvault: cannot load %s\n", conf);
		return 1;
	}
	if (util_file_read(pubpath, 1 << 16, &pem, &len) != GV_OK ||
	    sm2_pubkey_from_pem(pem, len, &pub) != GV_OK) {
		fprintf(stderr, "govvault: cannot read the audit public key %s\n", pubpath);
		goto out;
	}
	/* The paths come from DIR's own configuration unless given: say which were used,
	 * and keep a copy of the witness off the server to pass with --witness. */
	if (!witness)
		witness = cfg.audit_witness;
	if (audit_verify_dir(cfg.audit_dir, witness, pub, tail, &res) != GV_OK) {
		fprintf(stderr, "govvault: verification could not run\n");
		goto out;
	}
	{
		json_t *j = audit_verify_json(&res);

		if (j) {
			json_object_set_new(j, "segments_dir", json_string(cfg.audit_dir));
			json_object_set_new(j, "witness", json_string(witness));
			json_object_set_new(j, "public_key", json_string(pubpath));
		}
		rc = verify_report(j);
	}
out:
	free(pem);
	sm2_key_free(pub);
	return rc;
}

static int cmd_audit(struct cli_http *h, int argc, char **argv)
{
	const char *data = NULL, *pubkey = NULL, *witness = NULL;
	int tail = 0, rc;
	json_t *r, *body;

	if (argc < 1 || strcmp(argv[0], "verify") != 0) {
		fprintf(stderr, "usage: govvault audit verify [--tail] [--data DIR [--pubkey FILE] "
				"[--witness FILE]]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data = argv[++i];
		} else if (!strcmp(argv[i], "--pubkey") && i + 1 < argc) {
			pubkey = argv[++i];
		} else if (!strcmp(argv[i], "--witness") && i + 1 < argc) {
			witness = argv[++i];
		} else if (!strcmp(argv[i], "--tail")) {
			tail = 1;
		} else {
			fprintf(stderr, "govvault audit verify: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (data)
		return audit_verify_offline(data, pubkey, witness, tail);
	body = json_pack("{s:b}", "tail_only", tail);
	rc = cli_http_run(h, "POST", "/v1/audit/verify", body, &r);
	json_decref(body);
	return rc ? 1 : verify_report(r);
}

int main(int argc, char **argv)
{
	struct cli_http h = {0};
	const char *cmd;
	int i = 1, rc;

	h.url = getenv("GOVVAULT_URL") ? getenv("GOVVAULT_URL") : "https://127.0.0.1:8443";
	h.cacert = getenv("GOVVAULT_CACERT");
	h.cert = getenv("GOVVAULT_CLIENT_CERT");
	h.key = getenv("GOVVAULT_CLIENT_KEY");
	h.purpose = getenv("GOVVAULT_PURPOSE");
	for (; i < argc && argv[i][0] == '-' && i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--url"))
			h.url = argv[i + 1];
		else if (!strcmp(argv[i], "--cacert"))
			h.cacert = argv[i + 1];
		else if (!strcmp(argv[i], "--cert"))
			h.cert = argv[i + 1];
		else if (!strcmp(argv[i], "--key"))
			h.key = argv[i + 1];
		else if (!strcmp(argv[i], "--purpose"))
			h.purpose = argv[i + 1];
		else
			break;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i++];
	if (!strcmp(cmd, "init"))
		return cmd_init(argc - i, argv + i);
	if (!strcmp(cmd, "audit") && argc - i >= 1 && argc - i <= 8) {
		for (int k = i; k < argc; k++)
			if (!strcmp(argv[k], "--data"))
				return cmd_audit(&h, argc - i, argv + i);
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!h.cacert && access("govvault-data/tls/cert.pem", R_OK) == 0)
		h.cacert = "govvault-data/tls/cert.pem";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	token_load(&h);
	if (!strcmp(cmd, "health"))
		rc = simple(&h, "GET", "/v1/health");
	else if (!strcmp(cmd, "whoami"))
		rc = simple(&h, "GET", "/v1/auth/me");
	else if (!strcmp(cmd, "login"))
		rc = cmd_login(&h, argc - i, argv + i);
	else if (!strcmp(cmd, "passwd"))
		rc = cmd_passwd(&h);
	else if (!strcmp(cmd, "logout"))
		rc = cmd_logout(&h);
	else if (!strcmp(cmd, "api"))
		rc = cmd_api(&h, argc - i, argv + i);
	else if (!strcmp(cmd, "audit"))
		rc = cmd_audit(&h, argc - i, argv + i);
	else if (cli_data_knows(cmd))
		rc = cli_data_run(&h, cmd, argc - i, argv + i);
	else if (cli_share_knows(cmd))
		rc = cli_share_run(&h, cmd, argc - i, argv + i);
	else {
		fprintf(stderr, "govvault: unknown command '%s'\n", cmd);
		usage(stderr);
		rc = 2;
	}
	util_wipe(h.token, sizeof(h.token));
	curl_global_cleanup();
	return rc;
}

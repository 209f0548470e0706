/* govvaultd.c - the govvault daemon: loads configuration, serves the API, sweeps
 * dormant and expired accounts, reloads on SIGHUP and stops cleanly on SIGTERM/SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/account.h"
#include "common/log.h"
#include "common/util.h"
#include "common/worker.h"
#include "data/dataset.h"
#include "data/records.h"
#include "data/rekey.h"
#include "http/http.h"
#include "policy/policy.h"
#include "share/ratelimit.h"
#include "share/share.h"

#define DEFAULT_CONFIG "govvault-data/govvault.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: govvaultd [--config FILE] [--foreground]\n"
		"  --config FILE   configuration file (default %s, or $GOVVAULT_CONFIG)\n"
		"  --foreground    stay attached and log to stderr\n"
		"  --version       print the version\n",
		DEFAULT_CONFIG);
}

/* Forks; the parent exits with the child's start-up verdict read from a pipe. */
static int daemonise(int *ready_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char verdict = 1;

		close(fds[1]);
		if (read(fds[0], &verdict, 1) != 1)
			verdict = 1;
		_exit(verdict == 0 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	*ready_fd = fds[1];
	return 0;
}

static void report_ready(int fd, int ok)
{
	char v = ok ? 0 : 1;
	int devnull;

	if (fd < 0)
		return;
	if (write(fd, &v, 1) != 1)
		log_warn("could not report readiness to the parent process");
	close(fd);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > 2)
			close(devnull);
	}
}

/* Records a system event; a failure is logged because the event already happened. */
static void audit_note(struct audit_log *log, const char *actor, const char *action,
		       const char *object, const char *reason)
{
	if (audit_event(log, actor, action, object, reason) != GV_OK)
		log_error("audit: could not record %s", action);
}

/* "version V config-sm3 H": what start and stop records say about this process. */
static void describe_process(const char *config_path, char *out, size_t outlen)
{
	unsigned char d[CRYPTO_SM3_LEN];
	char hex[2 * CRYPTO_SM3_LEN + 1] = "unreadable";
	char *text = NULL;
	size_t len = 0;

	if (util_file_read(config_path, 1 << 20, &text, &len) == GV_OK &&
	    crypto_sm3(text, len, d) == GV_OK)
		util_hex_encode(d, sizeof(d), hex);
	free(text);
	snprintf(out, outlen, "version %s config-sm3 %s", GV_VERSION, hex);
}

/* Verifies the newest segment against the chain, the signatures and the witness; a
 * failure is an alert and a record of its own. */
static void verify_tail(struct gv_app *app)
{
	struct audit_verify_result v;

	if (audit_verify(app->audit, 1, &v) != GV_OK || !v.ok) {
		log_error("ALERT: audit verification failed: %s", v.ok ? "cannot run" : v.problem);
		audit_note(app->audit, "system", "audit.verify_failed", "audit", v.ok ? "cannot run" : v.problem);
		return;
	}
	log_debug("audit tail verified: records %lld..%lld", (long long)v.first_seq, (long long)v.last_seq);
}

/* Archives and prunes audit segments past retention; hourly is plenty for a period
 * counted in days. */
static void retain_audit(struct gv_app *app)
{
	struct gv_config cfg;
	int pruned = 0;

	app_policy(app, &cfg);
	if (audit_retain(app->audit, cfg.audit_archive_dir, cfg.audit_retention_days, util_now_us(),
			 &pruned) != GV_OK)
		log_error("audit: archiving segments past retention failed; they are kept");
}

static void run_sweep(struct gv_app *app)
{
	int changed = 0;
	struct gv_config cfg;
	int64_t now = util_now_s();

	if (account_sweep(app, now, &changed) != GV_OK)
		log_error("account sweep failed");
	app_policy(app, &cfg);
	if (app->st->ops->session_purge(app->st, now - cfg.session_idle_s,
					now - cfg.session_absolute_s) != GV_OK)
		log_error("session purge failed");
}

int main(int argc, char **argv)
{
	const char *config = getenv("GOVVAULT_CONFIG");
	struct http_server *srv = NULL;
	struct gv_worker *counts = NULL;
	struct gv_app *app = NULL;
	char errmsg[1024] = "", what[160];
	int64_t last_verify = 0, last_retain = 0;
	int foreground = 0, ready_fd = -1, rc = 1, interrupted = 0;
	sigset_t sigs;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config = argv[++i];
		} else if (!strcmp(argv[i], "--foreground")) {
			foreground = 1;
		} else if (!strcmp(argv[i], "--version")) {
			printf("govvaultd %s\n", GV_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "govvaultd: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config)
		config = DEFAULT_CONFIG;

	/* Signals are consumed synchronously by the main loop below; worker threads
	 * inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	/* Fork before opening the store: SQLite's POSIX locks belong to the process that
	 * took them, so a store opened by the exiting parent would leave the daemon
	 * unlocked and let another connection delete its WAL. Start-up errors still reach
	 * the terminal: the child keeps stderr until it reports readiness. */
	if (!foreground && daemonise(&ready_fd) != 0) {
		fprintf(stderr, "govvaultd: cannot daemonise: %s\n", strerror(errno));
		return 1;
	}
	if (app_open(config, &app, errmsg, sizeof(errmsg)) != GV_OK) {
		fprintf(stderr, "govvaultd: %s\n", errmsg);
		goto out;
	}
	app->config_check = dataset_check_config;
	if (dataset_check_config(&app->cfg, errmsg, sizeof(errmsg)) != GV_OK) {
		fprintf(stderr, "govvaultd: %s: %s\n", config, errmsg);
		goto out;
	}
	if (rekey_startup(app, errmsg, sizeof(errmsg)) != GV_OK) {
		fprintf(stderr, "govvaultd: %s\n", errmsg);
		goto out;
	}
	app->log_stderr = foreground;
	if (app_log_open(app) != GV_OK) {
		fprintf(stderr, "govvaultd: cannot open log file %s\n", app->cfg.log_file);
		goto out;
	}
	describe_process(app->config_path, what, sizeof(what));
	if (audit_event(app->audit, "system", "system.start", "govvaultd", what) != GV_OK) {
		log_error("cannot write the start-up audit record; refusing to start");
		goto out;
	}
	audit_note(app->audit, "system", "system.config_load", app->config_path,
		   "configuration loaded at start");
	/* Imports a crash interrupted are there whole or not at all: not at all. */
	if (app->st->ops->batch_recover(app->st, &interrupted) != GV_OK) {
		log_error("cannot settle interrupted imports; refusing to start");
		goto out;
	}
	if (app->rotation_completed)
		audit_note(app->audit, "system", "key.master_rotation_completed", "keys:master",
			   "the key file of a committed master-key rotation was put in place at start");
	if (interrupted)
		audit_note(app->audit, "system", "batch.recovered", "batches",
			   "imports interrupted by a stop were marked failed and removed");
	if (rekey_worker_start(app, &app->rekey) != GV_OK) {
		log_error("cannot start the key re-sealing worker");
		goto out;
	}
	if (policy_usage_start(app, &counts) != GV_OK) {
		log_error("cannot start the daily row-count writer");
		goto out;
	}
	if (http_server_start(app, &srv, errmsg, sizeof(errmsg)) != GV_OK) {
		log_error("%s", errmsg);
		audit_note(app->audit, "system", "system.start_failed", "govvaultd", errmsg);
		goto out;
	}
	if (!foreground) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

		if (util_file_write(app->cfg.pid_file, pid, (size_t)n, 0644) != GV_OK)
			log_warn("cannot write pid file %s", app->cfg.pid_file);
	}
	log_info("govvaultd %s listening on %s%s:%d (storage %s)", GV_VERSION,
		 app->cfg.tls ? "https://" : "http://", app->cfg.listen, app->cfg.port,
		 app->st->ops->name);
	verify_tail(app);
	last_verify = last_retain = util_now_s();
	retain_audit(app);
	report_ready(ready_fd, 1);
	ready_fd = -1;
	run_sweep(app);

	for (;;) {
		struct gv_config cfg;
		struct timespec ts;
		int sig;

		app_policy(app, &cfg);
		ts.tv_sec = cfg.maintenance_interval_s;
		ts.tv_nsec = 0;
		sig = sigtimedwait(&sigs, NULL, &ts);
		/* Timed by the clock, so a stream of signals cannot postpone them. */
		if (util_now_s() - last_verify >= cfg.audit_verify_s) {
			verify_tail(app);
			last_verify = util_now_s();
		}
		if (util_now_s() - last_retain >= 3600) {
			retain_audit(app);
			last_retain = util_now_s();
		}
		if (sig < 0) {
			if (errno == EAGAIN)
				run_sweep(app);
			continue;
		}
		if (sig == SIGHUP) {
			if (app_reload(app, errmsg, sizeof(errmsg)) != GV_OK) {
				log_error("reload refused, keeping the running configuration: %s", errmsg);
				audit_note(app->audit, "system", "system.reload_failed", "config", errmsg);
				continue;
			}
			audit_note(app->audit, "system", "system.reload", "config", "SIGHUP");
			log_info("configuration reloaded");
			continue;
		}
		log_info("signal %d: shutting down", sig);
		break;
	}
	rc = 0;
out:
	report_ready(ready_fd, 0);
	if (http_server_stop(srv) != GV_OK) {
		log_error("http: requests still wait for the audit log after its write timeout; "
			  "exiting without a clean stop");
		log_close();
		_exit(1);
	}
	if (app) {
		worker_stop(app->rekey);
		app->rekey = NULL;
		worker_stop(counts);   /* after the server: no read counts any more */
		if (counts && policy_usage_flush(app) != GV_OK)
			log_error("policy: the last daily row counts could not be written");
		if (rc == 0)
		{
			describe_process(app->config_path, what, sizeof(what));
			audit_note(app->audit, "system", "system.stop", "govvaultd", what);
		}
		if (!foreground && rc == 0)
			unlink(app->cfg.pid_file);
	}
	app_free(app);
	records_cache_flush();
	share_cache_flush();
	ratelimit_clear();
	log_close();
	return rc;
}

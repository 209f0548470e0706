/* govvault.c - the command-line tool: offline commands on a data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/bootstrap.h"
#include "common/log.h"
#include "common/util.h"

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
	fprintf(out, "usage: govvault <command> [options]\n\n"
		     "Offline commands:\n"
		     "  init [--data DIR] [--tls-name NAME]   create a data directory and the administrators\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "init"))
		return cmd_init(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "govvault: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

/* cli_share.h - the CLI's sharing commands: share, service, consumer, report and
 * catalogue. */
#ifndef GV_CMD_CLI_SHARE_H
#define GV_CMD_CLI_SHARE_H

#include <stdio.h>

#include "cmd/cli_http.h"

/* 1 when cmd is one of the command groups handled here. */
int cli_share_knows(const char *cmd);

/* Runs `govvault CMD argv...` for a group cli_share_knows; returns the exit status
 * (0 done, 1 failed with a message on stderr, 2 bad usage and nothing sent). */
int cli_share_run(const struct cli_http *h, const char *cmd, int argc, char **argv);

/* Writes the usage lines of these commands, in the style of govvault's usage(). */
void cli_share_usage(FILE *out);

#endif

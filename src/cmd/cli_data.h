/* cli_data.h - the CLI's data commands: dataset, record, batch and keys. */
#ifndef GV_CMD_CLI_DATA_H
#define GV_CMD_CLI_DATA_H

#include <stdio.h>

#include "cmd/cli_http.h"

/* 1 when cmd is one of the command groups handled here. */
int cli_data_knows(const char *cmd);

/* Runs `govvault CMD argv...` for a group cli_data_knows; returns the exit status
 * (0 done, 1 failed with a message on stderr, 2 bad usage). */
int cli_data_run(const struct cli_http *h, const char *cmd, int argc, char **argv);

/* Writes the usage lines of these commands, in the style of govvault's usage(). */
void cli_data_usage(FILE *out);

#endif

/* cli_prompt.h - reading secrets and answers: echo off on a terminal, one line per
 * answer from a pipe (scripts and tests). */
#ifndef GV_CMD_CLI_PROMPT_H
#define GV_CMD_CLI_PROMPT_H

#include <stddef.h>

#include "common/error.h"

/* Prints label on stderr and reads one line into out (newline removed). */
gv_err cli_prompt(const char *label, int secret, char *out, size_t len) GV_MUST_CHECK;

#endif

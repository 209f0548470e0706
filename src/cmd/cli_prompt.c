/* cli_prompt.c - line and secret prompts. */
#include "cmd/cli_prompt.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

gv_err cli_prompt(const char *label, int secret, char *out, size_t len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), hidden = 0;
	char *got;

	fprintf(stderr, "%s", label);
	fflush(stderr);
	if (tty && secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	got = fgets(out, (int)len, stdin);
	if (hidden) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return GV_ERR_IO;
	out[strcspn(out, "\r\n")] = '\0';
	return GV_OK;
}

/* log.h - the process log: level filter, destination, one line per event.
 *
 * Never pass a password, token, one-time code, key or unmasked personal data. */
#ifndef GV_COMMON_LOG_H
#define GV_COMMON_LOG_H

#include "common/error.h"

enum gv_log_level { GV_LOG_DEBUG, GV_LOG_INFO, GV_LOG_WARN, GV_LOG_ERROR };

/* path NULL or "-" logs to stderr.  Safe to call again (SIGHUP reload). */
gv_err log_open(const char *path, enum gv_log_level level) GV_MUST_CHECK;
void log_close(void);
int log_level_parse(const char *name, enum gv_log_level *out);

void log_msg(enum gv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(GV_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(GV_LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(GV_LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(GV_LOG_ERROR, __VA_ARGS__)

#endif

/* log.c - line-oriented process log shared by all threads. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;
static enum gv_log_level log_min = GV_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name, enum gv_log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum gv_log_level)i;
			return 0;
		}
	}
	return -1;
}

gv_err log_open(const char *path, enum gv_log_level level)
{
	FILE *fp = NULL;

	if (path && *path && strcmp(path, "-") != 0) {
		fp = fopen(path, "ae");
		if (!fp)
			return GV_ERR_IO;
		setvbuf(fp, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (log_fp)
		fclose(log_fp);
	log_fp = fp;
	log_min = level;
	pthread_mutex_unlock(&log_lock);
	return GV_OK;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fp)
		fclose(log_fp);
	log_fp = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum gv_log_level level, const char *fmt, ...)
{
	char line[1024];
	char stamp[40];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Control characters from client-supplied text would let a caller forge lines. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	pthread_mutex_lock(&log_lock);
	fprintf(log_fp ? log_fp : stderr, "%s.%06ldZ %s %s\n", stamp, (long)tv.tv_usec,
		level_names[level], line);
	pthread_mutex_unlock(&log_lock);
}

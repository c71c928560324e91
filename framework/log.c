/*
 * One logging vocabulary for the master and the workers.  The tag names the
 * process so that interleaved lines of several workers stay readable.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static enum log_level	 log_level = LOG_LVL_INFO;
static int		 log_syslog;
static char		 log_tag[64] = "master";

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

void
log_init(enum log_level level, int use_syslog)
{
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("ringfan", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_tag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_tag, sizeof(log_tag), fmt, ap);
	va_end(ap);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

/* err >= 0 appends strerror(err). */
static void
log_emit(enum log_level level, int err, const char *fmt, va_list ap)
{
	char buf[1024];

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_syslog) {
		if (err >= 0)
			syslog(syslog_prio[level], "[%s] %s: %s", log_tag, buf,
			    strerror(err));
		else
			syslog(syslog_prio[level], "[%s] %s", log_tag, buf);
	} else {
		if (err >= 0)
			fprintf(stderr, "ringfan[%s] %s: %s: %s\n", log_tag,
			    level_names[level], buf, strerror(err));
		else
			fprintf(stderr, "ringfan[%s] %s: %s\n", log_tag,
			    level_names[level], buf);
	}
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	log_emit(level, -1, fmt, ap);
}

#define LOG_FN(fn, level, err)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
	int saved = errno;				\
							\
	va_start(ap, fmt);				\
	log_emit(level, err, fmt, ap);			\
	va_end(ap);					\
	errno = saved;					\
}

LOG_FN(log_warn, LOG_LVL_WARN, saved)
LOG_FN(log_warnx, LOG_LVL_WARN, -1)
LOG_FN(log_error, LOG_LVL_ERROR, -1)
LOG_FN(log_info, LOG_LVL_INFO, -1)
LOG_FN(log_debug, LOG_LVL_DEBUG, -1)

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, -1, fmt, ap);
	va_end(ap);
	exit(code);
}

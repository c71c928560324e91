/*
 * Logging for every ringfan process.  Lines go to stderr (or syslog), tagged
 * with the process: "[master]", "[uplink/3]".  log_warn appends strerror(errno),
 * log_warnx does not.  Nothing here exits: the top level decides that.
 * No call ever waits for the reader of the log: a line that cannot be written
 * at once is dropped and counted (log_dropped).
 */
#ifndef RINGFAN_LOG_H
#define RINGFAN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * The one table of level names, {name, level} in order: log.c's names of
 * the log prefix and the config's log.level enum (config_keys.c) are both
 * made from it, each expanding X(name, level) into its own row type.
 */
#define LOG_LEVELS(X)				\
	X("error", LOG_LVL_ERROR)		\
	X("warn", LOG_LVL_WARN)			\
	X("info", LOG_LVL_INFO)			\
	X("debug", LOG_LVL_DEBUG)

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

void	log_init(enum log_level level, int use_syslog);
void	log_set_tag(const char *fmt, ...) LOG_PRINTF(1, 2);
/*
 * Tag the lines with tag, which the caller keeps valid, until the next
 * log_set_tag or log_use_tag: switching is a store, for a loop that
 * changes tags per frame.
 */
void	log_use_tag(const char *tag);
void	log_set_level(enum log_level level);
/* True when a line of this level would be logged now. */
bool	log_wants(enum log_level level);
/*
 * A daemon's set-up: from log_setup_begin(fd), error and warning lines are
 * also written to fd, the parent's pipe; log_setup_end() tells it the
 * set-up is done and closes fd.  Without a begin, the end does nothing.
 * log_setup_forget(): a child forked meanwhile, which closed fd, drops it;
 * log_setup_close(): a child forked meanwhile closes it, without a word (the
 * parent's wait ends with the master's end or word, never a worker's).
 */
void	log_setup_begin(int fd);
void	log_setup_end(void);
void	log_setup_forget(void);
void	log_setup_close(void);
/*
 * A child of the master's: every descriptor above 2 closed but the log's
 * own.  syslog's socket goes too, closed first so that syslog(3)
 * reconnects rather than write to a descriptor reused since; the set-up's
 * pipe is forgotten.
 */
void	log_close_others(void);
/* Lines dropped so far by the master and every worker together. */
uint64_t log_dropped(void);
/*
 * The descriptor of its own that the log writes to (stderr opened anew, or
 * the syslog socket), which a process closing descriptors must keep; -1
 * when it writes to stderr as it is.
 */
int	log_descriptor(void);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/*
 * An info line that someone asked for (SIGUSR1's statistics): written
 * whatever log.level says, which would otherwise drop what was asked for.
 */
void	log_asked(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif

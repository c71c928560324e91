/*
 * Logging for every ringfan process.  Lines go to stderr (or syslog), tagged
 * with the process: "[master]", "[uplink/3]".  log_warn appends strerror(errno),
 * log_warnx does not; fatal and fatalx exit with the given code after logging.
 * No call ever waits for the reader of the log: a line that cannot be written
 * at once is dropped and counted (log_dropped).
 */
#ifndef RINGFAN_LOG_H
#define RINGFAN_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * The one list of level names, indexed by level: the log prefix, log.level
 * of the config file and its error message all come from it.
 */
struct log_level_name {
	const char	*name;
	enum log_level	 level;
};
#define LOG_NLEVELS	4
extern const struct log_level_name log_level_names[LOG_NLEVELS];
/* For messages that list the valid names; the same order as the table. */
#define LOG_LEVEL_NAMES	"error, warn, info, debug"

/* The level called s: 0, or -EINVAL when none is. */
int	log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

void	log_init(enum log_level level, int use_syslog);
void	log_set_tag(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Lines dropped so far by the master and every worker together. */
uint64_t log_dropped(void);
void	log_vmsg(enum log_level level, const char *fmt, va_list ap)
	    LOG_PRINTF(2, 0);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	fatal(int code, const char *fmt, ...) LOG_PRINTF(2, 3)
	    __attribute__((noreturn));
void	fatalx(int code, const char *fmt, ...) LOG_PRINTF(2, 3)
	    __attribute__((noreturn));

#endif

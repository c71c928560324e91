/*
 * One logging vocabulary for the master and the workers.  The tag names the
 * process so that interleaved lines of several workers stay readable.
 *
 * Logging never waits for whoever reads the log.  A master blocked in a write
 * to a pipe nobody drains, or to a stopped terminal, would answer no control
 * request, reap no child and respawn no worker; a worker blocked there would
 * stop capturing.  So every line is one non-blocking write of the whole line:
 * a line that cannot go out whole at once is dropped and counted, and the
 * first line that goes out afterwards is preceded by "N log lines dropped".
 *
 * stderr is not made non-blocking in place: O_NONBLOCK belongs to the open
 * file description, which ringfan shares with the shell or the service
 * manager that started it, and they would get EAGAIN on their own reads and
 * writes long after ringfan is gone.  Instead a pipe or a terminal is opened
 * anew through /proc/self/fd/2, which gives a description of ringfan's own on
 * the same pipe or terminal; a socket (systemd's journal stream) is written
 * with send(MSG_DONTWAIT); a regular file is written as it is, a write to it
 * does not wait for a reader.  Workers inherit the master's descriptor.
 *
 * syslog(3) can block as well: glibc's send(2) to /dev/log waits while the
 * log daemon's queue is full.  So syslog mode sends its datagrams to /dev/log
 * itself, with MSG_DONTWAIT, and counts what does not fit the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/*
 * A line and a "dropped" notice together stay within PIPE_BUF (4096 on
 * Linux), so that a write to a pipe is all or nothing and the lines of
 * several processes never interleave within a line.
 */
#define LOG_MSG_MAX	1024
#define LOG_LINE_MAX	(LOG_MSG_MAX + 512)
#define LOG_OUT_MAX	(2 * LOG_LINE_MAX)
#define LOG_SYSLOG_PATH	"/dev/log"

enum log_sink {
	LOG_SINK_WRITE,		/* a descriptor of our own, or a regular file */
	LOG_SINK_POLL,		/* stderr as it is: poll for room, then write */
	LOG_SINK_SEND,		/* a socket: send(MSG_DONTWAIT) */
	LOG_SINK_SYSLOG,	/* datagrams to /dev/log */
};

/*
 * The level, in the same shared memory as the drops once it is mapped: a
 * reload sets it in the master, and the workers running then log at it
 * too.  Until then a private one.
 */
static enum log_level	 log_level_private = LOG_LVL_INFO;
static enum log_level	*log_level = &log_level_private;
static char		 log_tag_own[64] = "master";
/* The tag lines carry: log_tag_own, or a caller's (log_use_tag). */
static const char	*log_tag = log_tag_own;
static enum log_sink	 log_sink = LOG_SINK_POLL;
static int		 log_fd = STDERR_FILENO;
static bool		 log_own_fd;	/* log_fd is ours to close */
/* A partial write left a line without its end: the next one starts anew. */
static bool		 log_torn;
/* Lines this process dropped since its last successful write. */
static unsigned long long log_pending;
static pid_t		 log_pending_pid;
/*
 * Every process's drops, in memory shared across fork() so that the master's
 * status shows the workers' too.  Until it is mapped, a private counter.
 */
static uint64_t		 log_dropped_private;
static uint64_t		*log_dropped_total = &log_dropped_private;
struct log_shared {
	uint64_t	 dropped;
	enum log_level	 level;
};

/* The prefix of a line of each level, from log.h's table. */
#define LOG_LEVEL_NAME(name, level)	[level] = (name),
static const char *const log_level_names[] = {
	LOG_LEVELS(LOG_LEVEL_NAME)
};
#undef LOG_LEVEL_NAME

static const int syslog_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

static void
log_close_sink(void)
{
	if (log_own_fd)
		close(log_fd);
	log_own_fd = false;
	log_fd = STDERR_FILENO;
	log_sink = LOG_SINK_POLL;
}

static void
log_open_syslog(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	log_close_sink();
	log_sink = LOG_SINK_SYSLOG;
	log_fd = -1;
	strlcpy(sun.sun_path, LOG_SYSLOG_PATH, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	/* Not there yet (no log daemon): the next line tries again. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return;
	}
	log_fd = fd;
	log_own_fd = true;
}

static void
log_open_stderr(void)
{
	struct stat st;
	int fd;

	log_close_sink();
	if (fstat(STDERR_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode)) {
		log_sink = LOG_SINK_SEND;
		return;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		log_sink = LOG_SINK_WRITE;
		return;
	}
	/*
	 * O_NOCTTY: a daemon's stderr on a terminal must not make it that
	 * terminal's controlling process.  Failing (no /proc, a FIFO whose
	 * reader is gone), poll for room before each write: that cannot wait
	 * while the pipe is full, but can when another process fills it
	 * between the poll and the write.
	 */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	log_fd = fd;
	log_own_fd = true;
	log_sink = LOG_SINK_WRITE;
}

void
log_init(enum log_level level, int use_syslog)
{
	struct log_shared *sh;
	void *p;

	/* Before the first fork, so that every worker shares it. */
	if (log_dropped_total == &log_dropped_private) {
		p = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			sh = p;
			sh->dropped = log_dropped_private;
			log_dropped_total = &sh->dropped;
			log_level = &sh->level;
		}
	}
	log_set_level(level);
	if (use_syslog)
		log_open_syslog();
	else
		log_open_stderr();
}

void
log_set_tag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_tag_own, sizeof(log_tag_own), fmt, ap);
	va_end(ap);
	log_tag = log_tag_own;
}

void
log_use_tag(const char *tag)
{
	log_tag = tag;
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(log_level, level, __ATOMIC_RELAXED);
}

int
log_descriptor(void)
{
	return log_own_fd ? log_fd : -1;
}

uint64_t
log_dropped(void)
{
	return __atomic_load_n(log_dropped_total, __ATOMIC_RELAXED);
}

static void
log_count_drop(void)
{
	pid_t pid = getpid();

	/* A worker does not report the lines its master dropped. */
	if (log_pending_pid != pid) {
		log_pending_pid = pid;
		log_pending = 0;
	}
	log_pending++;
	__atomic_fetch_add(log_dropped_total, 1, __ATOMIC_RELAXED);
}

/* The lines this process dropped and has not reported yet. */
static unsigned long long
log_unreported(void)
{
	return log_pending_pid == getpid() ? log_pending : 0;
}

/* One try, never waiting: the number of bytes written, or -1. */
static ssize_t
log_try(const char *buf, size_t len)
{
	struct pollfd pfd = { .fd = log_fd, .events = POLLOUT };

	switch (log_sink) {
	case LOG_SINK_SEND:
	case LOG_SINK_SYSLOG:
		return send(log_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case LOG_SINK_POLL:
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
			return -1;
		return write(log_fd, buf, len);
	case LOG_SINK_WRITE:
		break;
	}
	return write(log_fd, buf, len);
}

/* A whole stderr line with its newline; a partial write counts as a drop. */
static void
log_put_stderr(const char *line)
{
	char out[LOG_OUT_MAX];
	unsigned long long n = log_unreported();
	ssize_t w;
	int len;

	len = snprintf(out, sizeof(out), "%s", log_torn ? "\n" : "");
	if (n > 0)
		len += snprintf(out + len, sizeof(out) - (size_t)len,
		    "ringfan[%s] warn: %llu log line%s dropped\n", log_tag, n,
		    n == 1 ? "" : "s");
	len += snprintf(out + len, sizeof(out) - (size_t)len, "%s", line);
	if ((size_t)len >= sizeof(out))
		len = (int)sizeof(out) - 1;
	w = log_try(out, (size_t)len);
	if (w == len) {
		log_torn = false;
		log_pending = 0;
		return;
	}
	if (w > 0)
		log_torn = out[w - 1] != '\n';
	log_count_drop();
}

static ssize_t
log_send_syslog(int prio, const char *msg)
{
	char out[LOG_LINE_MAX + 64], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int len;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	len = snprintf(out, sizeof(out), "<%d>%s ringfan[%d]: %s",
	    LOG_DAEMON | prio, stamp, (int)getpid(), msg);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(out))
		len = (int)sizeof(out) - 1;
	if (log_fd == -1) {
		errno = ENOTCONN;
		return -1;
	}
	return log_try(out, (size_t)len);
}

static void
log_put_syslog(int prio, const char *msg)
{
	char notice[sizeof(log_tag_own) + 64];
	unsigned long long n;
	bool retried = false;

	for (;;) {
		if ((n = log_unreported()) > 0) {
			snprintf(notice, sizeof(notice), "[%s] %llu log "
			    "line%s dropped", log_tag, n, n == 1 ? "" : "s");
			if (log_send_syslog(LOG_WARNING, notice) >= 0)
				log_pending = 0;
		}
		if (log_send_syslog(prio, msg) >= 0)
			return;
		/*
		 * The log daemon restarted (or was not there yet): connect
		 * again, once.  A full queue (EAGAIN) is a drop, not a retry.
		 */
		if (retried || (errno != ECONNREFUSED && errno != ENOTCONN &&
		    errno != ENOENT && errno != EPIPE))
			break;
		retried = true;
		log_open_syslog();
	}
	log_count_drop();
}

/*
 * While a daemon sets up, its parent waits on this pipe for the outcome:
 * error lines are copied there, so that `ringfan -D` prints them.
 */
static int log_setup_fd = -1;

void
log_setup_begin(int fd)
{
	log_setup_fd = fd;
}

void
log_setup_end(void)
{
	static const char ready = '\0';
	ssize_t n;

	if (log_setup_fd == -1)
		return;
	/* The parent takes a NUL, which no line holds, for success. */
	do
		n = write(log_setup_fd, &ready, 1);
	while (n == -1 && errno == EINTR);
	close(log_setup_fd);
	log_setup_fd = -1;
}

void
log_setup_forget(void)
{
	log_setup_fd = -1;
}

void
log_setup_close(void)
{
	if (log_setup_fd != -1)
		close(log_setup_fd);
	log_setup_fd = -1;
}

void
log_close_others(void)
{
	int keep = log_descriptor();
	long max;

	closelog();
	log_setup_forget();
	if (keep < 3 ? close_range(3, ~0u, 0) == 0 :
	    (keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0u, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
		if (fd != keep)
			close((int)fd);
}

static void
log_setup_copy(const char *msg, int err)
{
	char line[LOG_LINE_MAX];
	ssize_t n;
	int len;

	len = snprintf(line, sizeof(line), "ringfan: %s%s%s\n", msg,
	    err >= 0 ? ": " : "", err >= 0 ? strerror(err) : "");
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line))
		len = (int)sizeof(line) - 1;
	do
		n = write(log_setup_fd, line, (size_t)len);
	while (n == -1 && errno == EINTR);
}

/*
 * A message cut at the end of msg[] may end inside a character: drop the
 * bytes of that character, so that the line stays UTF-8.
 */
static void
log_cut_char(char *s, size_t len)
{
	size_t i = len, want;
	unsigned char lead;

	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || (lead = (unsigned char)s[i - 1]) < 0xc0)
		return;
	want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (len - (i - 1) < want)
		s[i - 1] = '\0';
}

bool
log_wants(enum log_level level)
{
	return level <= __atomic_load_n(log_level, __ATOMIC_RELAXED);
}

/* err >= 0 appends strerror(err).  Whatever the level set. */
static void LOG_PRINTF(3, 0)
log_write(enum log_level level, int err, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], line[LOG_LINE_MAX];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		log_cut_char(msg, sizeof(msg) - 1);
	if (log_setup_fd != -1 && level <= LOG_LVL_WARN)
		log_setup_copy(msg, err);
	if (log_sink == LOG_SINK_SYSLOG) {
		snprintf(line, sizeof(line), "[%s] %s%s%s", log_tag, msg,
		    err >= 0 ? ": " : "", err >= 0 ? strerror(err) : "");
		log_put_syslog(syslog_prio[level], line);
	} else {
		snprintf(line, sizeof(line), "ringfan[%s] %s: %s%s%s\n",
		    log_tag, log_level_names[level], msg, err >= 0 ? ": " : "",
		    err >= 0 ? strerror(err) : "");
		log_put_stderr(line);
	}
}

static void LOG_PRINTF(3, 0)
log_emit(enum log_level level, int err, const char *fmt, va_list ap)
{
	if (log_wants(level))
		log_write(level, err, fmt, ap);
}

void
log_asked(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_write(LOG_LVL_INFO, -1, fmt, ap);
	va_end(ap);
	errno = saved;
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

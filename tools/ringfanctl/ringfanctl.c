/*
 * ringfanctl: the client of ringfan's control socket (docs/control.md).
 * One connection per command: send the line, read to EOF, render.
 *
 * Exit status: 0 success; 1 usage error or an error the daemon answered;
 * 2 no answer (cannot connect, timeout, malformed reply).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ringfan_build.h"
#include "render.h"

#define TIMEOUT_S	10		/* connect, request and reply, all */
/*
 * A reload answers once every worker runs it or is back: the daemon
 * answers within 120 s, and one asked for during another within twice.
 */
#define RELOAD_TIMEOUT_S 250
#define MAX_REPLY	(64u << 20)	/* far above any real reply */

#define EXIT_ERROR	1
#define EXIT_NOREPLY	2

/*
 * The commands rendered as tables, or with arguments checked, here.  Any
 * other goes to the daemon as it is, its reply printed as JSON (or text):
 * a command the daemon gains needs no ringfanctl of its own.
 */
struct command {
	const char	*name;
	int		(*render)(FILE *, const json_t *);
	int		 arg;		/* takes an argument */
};

static const struct command commands[] = {
	{ "status",	render_status, 0 },
	{ "stats",	render_stats, 0 },
	{ "workers",	render_workers, 0 },
	{ "plugins",	render_plugins, 0 },
	{ "reload",	render_reload, 0 },
	{ "restart",	render_restart, 1 },
	{ "stop",	render_stop, 0 },
	{ "metrics",	NULL, 0 },
	{ "top",	NULL, 0 },
	{ "help",	render_help, 0 },
	{ NULL,		NULL, 0 },
};

/* Set by SIGINT and SIGTERM while top runs; blocking calls see EINTR. */
static volatile sig_atomic_t quit;
/* Set by SIGCONT while top reads keys: stopped (^Z), it goes on. */
static volatile sig_atomic_t resumed;

static void
usage(FILE *fp)
{
	fputs("usage: ringfanctl [-s SOCKET] [--json] COMMAND [ARG ...]\n"
	    "       ringfanctl [-s SOCKET] [--json] restart CAPTURE[/WORKER]\n"
	    "       ringfanctl [-s SOCKET] [--json] [-n COUNT] [-d SECONDS] "
	    "top\n"
	    "commands: status stats workers plugins reload restart stop "
	    "metrics top help;\n"
	    "  any other is sent to the daemon and its reply printed\n"
	    "  -s, --socket SOCKET    control socket (default $RINGFAN_SOCKET "
	    "or " DEFAULT_SOCKET ")\n"
	    "  -j, --json             print the reply as JSON\n"
	    "  -n, --count COUNT      top: stop after COUNT screens\n"
	    "  -d, --delay SECONDS    top: seconds between screens "
	    "(default 1)\n"
	    "  -V, --version          print the version\n"
	    "  -h, --help             print this help\n", fp);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Bounds the next blocking call on fd by what is left of the deadline.
 * A zero timeval would mean "wait forever", hence the floor of 1 us.
 */
static int
set_timeout(int fd, int opt, double deadline)
{
	struct timeval tv;
	double left;

	left = deadline - now();
	if (left <= 0) {
		errno = EAGAIN;
		return -1;
	}
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* What path is when it is there but no socket; NULL otherwise. */
static const char *
not_a_socket(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1 || S_ISSOCK(st.st_mode))
		return NULL;
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (S_ISREG(st.st_mode))
		return "a regular file";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISCHR(st.st_mode))
		return "a character device";
	if (S_ISBLK(st.st_mode))
		return "a block device";
	return "a file of another kind";
}

static void
cannot_connect(const char *path, int error)
{
	const char *kind;

	/* A mistyped -s that names some other file: say so, not "refused". */
	if ((error == ECONNREFUSED || error == ENOTSOCK) &&
	    (kind = not_a_socket(path)) != NULL)
		fprintf(stderr, "ringfanctl: cannot connect to %s: it is %s, "
		    "not a socket\n", path, kind);
	else if (error == EAGAIN || error == EWOULDBLOCK || error == EINPROGRESS)
		fprintf(stderr, "ringfanctl: cannot connect to %s: timed out "
		    "after %d s\n", path, TIMEOUT_S);
	else if (error == ENOENT || error == ECONNREFUSED)
		fprintf(stderr, "ringfanctl: cannot connect to %s: %s "
		    "(is ringfan running?)\n", path, strerror(error));
	else
		fprintf(stderr, "ringfanctl: cannot connect to %s: %s\n", path,
		    strerror(error));
}

static int
connect_to(const char *path, double deadline)
{
	struct sockaddr_un addr;
	int fd, saved;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		cannot_connect(path, ENAMETOOLONG);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		cannot_connect(path, errno);
		return -1;
	}
	/* On a Unix socket the send timeout also bounds connect(2). */
	if (set_timeout(fd, SO_SNDTIMEO, deadline) == -1)
		goto fail;
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		if (errno != EINTR || quit)
			goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	if (!quit)
		cannot_connect(path, saved);
	return -1;
}

/*
 * Sends "COMMAND\n" and reads the reply to EOF into a NUL-terminated
 * buffer.  Returns 0, or -1 with the cause printed (nothing is printed
 * when a signal asked top to quit).
 */
static int
request(const char *path, const char *cmd, char **replyp, size_t *lenp)
{
	char line[512], *buf, *grown;
	size_t len, off, cap;
	double deadline;
	ssize_t n;
	int fd, timeout;

	timeout = strcmp(cmd, "reload") == 0 ? RELOAD_TIMEOUT_S : TIMEOUT_S;
	deadline = now() + timeout;
	if ((fd = connect_to(path, deadline)) == -1)
		return -1;
	len = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);
	for (off = 0; off < len; off += (size_t)n) {
		if (set_timeout(fd, SO_SNDTIMEO, deadline) == -1)
			goto send_failed;
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR && !quit) {
			n = 0;
			continue;
		}
		/* A server that closed early may still have left an error. */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n == -1)
			goto send_failed;
	}

	buf = NULL;
	off = cap = 0;
	for (;;) {
		if (cap - off < 4096 + 1) {
			cap = cap == 0 ? 16384 : cap * 2;
			if ((grown = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "ringfanctl: out of memory\n");
				goto fail;
			}
			buf = grown;
		}
		if (set_timeout(fd, SO_RCVTIMEO, deadline) == -1)
			goto recv_failed;
		n = recv(fd, buf + off, cap - off - 1, 0);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR && !quit)
				continue;
			goto recv_failed;
		}
		off += (size_t)n;
		if (off > MAX_REPLY) {
			fprintf(stderr, "ringfanctl: malformed reply from %s: "
			    "longer than %u bytes\n", path, MAX_REPLY);
			goto fail;
		}
	}
	/* Every answer has a byte: none is a connection closed on us. */
	if (off == 0) {
		fprintf(stderr, "ringfanctl: no reply from %s: it closed the "
		    "connection without an answer\n", path);
		goto fail;
	}
	close(fd);
	buf[off] = '\0';
	*replyp = buf;
	*lenp = off;
	return 0;

recv_failed:
	if (quit)
		goto fail;
	if ((errno == EAGAIN || errno == EWOULDBLOCK) && off > 0)
		fprintf(stderr, "ringfanctl: the reply from %s was not whole "
		    "within %d s (%zu bytes came)\n", path, timeout, off);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		fprintf(stderr, "ringfanctl: no reply from %s within %d s\n",
		    path, timeout);
	else
		fprintf(stderr, "ringfanctl: cannot read the reply from %s: "
		    "%s\n", path, strerror(errno));
fail:
	free(buf);
	close(fd);
	return -1;

send_failed:
	if (!quit) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			fprintf(stderr, "ringfanctl: cannot send to %s: timed "
			    "out after %d s\n", path, timeout);
		else
			fprintf(stderr, "ringfanctl: cannot send to %s: %s\n",
			    path, strerror(errno));
	}
	close(fd);
	return -1;
}

/*
 * Parses a JSON reply (render_reply).  Returns 0 with the document,
 * EXIT_ERROR when the daemon answered {"error": ...}, EXIT_NOREPLY when the
 * reply is not a JSON object; the message is printed.
 */
static int
parse_reply(const char *path, const char *buf, size_t len, json_t **docp)
{
	switch (render_reply(stderr, path, buf, len, docp)) {
	case 0:
		return 0;
	case RENDER_REFUSED:
		return EXIT_ERROR;
	default:
		return EXIT_NOREPLY;
	}
}

static int
print_json(const json_t *doc)
{
	/* 15 digits print back the daemon's numbers; 17 would add noise. */
	if (json_dumpf(doc, stdout, JSON_INDENT(2) |
	    JSON_REAL_PRECISION(15)) == -1)
		return -1;
	return fputc('\n', stdout) == EOF ? -1 : 0;
}

static int
run_once(const char *path, const struct command *cmd, const char *line,
    int json)
{
	const char *p;
	json_t *doc;
	size_t len;
	char *buf;
	int rc;

	if (request(path, line, &buf, &len) != 0)
		return EXIT_NOREPLY;

	/* Prometheus text passes through, unless the daemon sent an error. */
	if (cmd->render == NULL) {
		for (p = buf; *p == ' ' || *p == '\t' || *p == '\n'; p++)
			;
		if (*p != '{') {
			if (len == 0) {
				fprintf(stderr, "ringfanctl: malformed reply "
				    "from %s: empty reply\n", path);
				free(buf);
				return EXIT_NOREPLY;
			}
			/*
			 * Every reply ends with a newline: text without one
			 * was cut short (the daemon died or dropped us
			 * mid-reply), and none of it goes out as if whole.
			 */
			if (buf[len - 1] != '\n') {
				fprintf(stderr, "ringfanctl: malformed reply "
				    "from %s: cut short (no newline at its "
				    "end)\n", path);
				free(buf);
				return EXIT_NOREPLY;
			}
			fwrite(buf, 1, len, stdout);
			free(buf);
			return 0;
		}
	}

	rc = parse_reply(path, buf, len, &doc);
	free(buf);
	if (rc != 0)
		return rc;
	if (json)
		rc = print_json(doc);
	else if (cmd->render != NULL)
		rc = cmd->render(stdout, doc);
	else
		rc = print_json(doc);
	json_decref(doc);
	if (rc != 0) {
		fprintf(stderr, "ringfanctl: cannot write the output: %s\n",
		    strerror(errno));
		return EXIT_NOREPLY;
	}
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Whether top is the terminal's foreground job (stdin's). */
static int
top_foreground(void)
{
	return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

static void
on_cont(int sig)
{
	(void)sig;
	resumed = 1;
}

/*
 * Waits for `seconds`.  Returns 1 when the user asked to quit: a signal,
 * or q typed on the terminal (*keys says whether stdin is read for that;
 * it is cleared at EOF).  raw: the terminal's mode for single keys, NULL
 * when top does not read them.
 */
static int
top_wait(double seconds, int *keys, const struct termios *raw)
{
	struct pollfd pfd;
	struct timespec ts;
	sigset_t wake, mask;
	double deadline, left;
	char c;
	ssize_t n;
	int rc = 0;

	/*
	 * The signals that end or change the wait are let in only inside
	 * ppoll, so that one coming between the test of its flag and the
	 * ppoll does not wait there until the time is up.
	 */
	sigemptyset(&wake);
	sigaddset(&wake, SIGINT);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGCONT);
	sigprocmask(SIG_BLOCK, &wake, &mask);
	deadline = now() + seconds;
	while (!quit && (left = deadline - now()) > 0) {
		/*
		 * Stopped and continued: the shell gave the terminal its line
		 * editing back meanwhile.  Single keys again, as its
		 * foreground job; in the background, no keys (a read would
		 * stop top again) until the next continue.
		 */
		if (resumed && raw != NULL) {
			resumed = 0;
			*keys = top_foreground() &&
			    tcsetattr(STDIN_FILENO, TCSANOW, raw) == 0;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, *keys ? 1 : 0, &ts, &mask) <= 0)
			continue;
		if ((n = read(STDIN_FILENO, &c, 1)) <= 0) {
			if (n == 0 || errno != EINTR)
				*keys = 0;
			continue;
		}
		if (c == 'q' || c == 'Q') {
			rc = 1;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	return rc || quit;
}

static int
top(const char *path, int json, long count, double delay)
{
	struct sigaction sa;
	struct termios saved, raw;
	json_t *prev, *cur;
	double t, tprev, tsent, born[2], pborn[2];
	char *buf, hms[32];
	struct tm tm;
	time_t wall;
	size_t len;
	long screen;
	int rc, tty, keys, restore;

	/* No SA_RESTART: ^C must interrupt a pending connect or read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/*
	 * Read single keys for q, but only as the terminal's foreground job:
	 * tcsetattr from the background would stop us with SIGTTOU.  ISIG
	 * stays on, so ^C still quits.
	 */
	keys = isatty(STDIN_FILENO) && top_foreground() &&
	    tcgetattr(STDIN_FILENO, &saved) == 0;
	if (keys) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == -1)
			keys = 0;
	}
	restore = keys;
	/*
	 * SA_RESTART: a write that a stop interrupted (^Z, or SIGTTOU for a
	 * screen written from the background under tostop) goes on when top
	 * is continued.  The wait's ppoll is interrupted all the same.
	 */
	if (keys) {
		sa.sa_handler = on_cont;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGCONT, &sa, NULL);
	}
	tty = isatty(STDOUT_FILENO);

	prev = NULL;
	tprev = pborn[0] = pborn[1] = 0;
	rc = 0;
	for (screen = 0; count == 0 || screen < count; screen++) {
		if (screen > 0 && top_wait(delay, &keys,
		    restore ? &raw : NULL))
			break;
		tsent = now();
		if (request(path, "stats", &buf, &len) != 0) {
			rc = quit ? 0 : EXIT_NOREPLY;
			break;
		}
		t = now();
		rc = parse_reply(path, buf, len, &cur);
		free(buf);
		if (rc != 0) {
			rc = EXIT_NOREPLY;
			break;
		}
		/*
		 * The daemon's start on this clock: uptime_s (monotonic, to the
		 * ms) was taken between tsent and t.  When this window and the
		 * previous screen's do not meet, another daemon answered, even
		 * one that has been up longer than the last one was: its
		 * counters are no continuation of the last screen's.
		 */
		born[0] = tsent - json_number_value(json_object_get(cur,
		    "uptime_s")) - 0.001;
		born[1] = t - json_number_value(json_object_get(cur,
		    "uptime_s")) + 0.001;
		if (prev != NULL && (born[1] < pborn[0] ||
		    born[0] > pborn[1])) {
			json_decref(prev);
			prev = NULL;
		}
		pborn[0] = born[0];
		pborn[1] = born[1];
		wall = time(NULL);
		if (localtime_r(&wall, &tm) == NULL ||
		    strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
			strcpy(hms, "-");
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (screen > 0)
			fputc('\n', stdout);
		if (json)
			rc = print_json(cur);
		else if ((rc = render_top(stdout, prev, cur, prev != NULL ?
		    t - tprev : 0, hms)) == 0)
			rc = render_top_footer(stdout, path, keys);
		json_decref(prev);
		prev = cur;
		tprev = t;
		if (rc != 0 || fflush(stdout) == EOF) {
			fprintf(stderr, "ringfanctl: cannot write the output: "
			    "%s\n", strerror(errno));
			rc = EXIT_NOREPLY;
			break;
		}
	}
	json_decref(prev);
	/*
	 * As the foreground job only: sent to the background (^Z, bg), top
	 * left the modes to the shell, which took its own back at the stop,
	 * and tcsetattr there would stop top with SIGTTOU instead of ending.
	 */
	if (restore && top_foreground())
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}

static int
parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int
parse_delay(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v <= 0 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

/*
 * The exit status once the output is written: rc, or EXIT_NOREPLY when
 * what is still buffered cannot be written.  A failure already reported
 * (rc != 0: top flushes each screen and says so itself) is not reported
 * again.
 */
static int
finish(int rc)
{
	if (rc == 0 && (fflush(stdout) == EOF || ferror(stdout))) {
		fprintf(stderr, "ringfanctl: cannot write the output: %s\n",
		    strerror(errno));
		rc = EXIT_NOREPLY;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL,	's' },
		{ "json",	no_argument,		NULL,	'j' },
		{ "count",	required_argument,	NULL,	'n' },
		{ "delay",	required_argument,	NULL,	'd' },
		{ "version",	no_argument,		NULL,	'V' },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 },
	};
	const struct command *cmd;
	struct command other;
	const char *path, *env;
	char line[400];
	size_t off;
	double delay;
	long count;
	int ch, json, timing, rc;

	/*
	 * A reader that went (stats | head, top | head) is an output that
	 * cannot be written, said once, as a full disk is; top leaves through
	 * the end of its loop, which gives the terminal back.
	 */
	signal(SIGPIPE, SIG_IGN);
	path = DEFAULT_SOCKET;
	if ((env = getenv("RINGFAN_SOCKET")) != NULL && *env != '\0')
		path = env;
	json = timing = 0;
	count = 0;
	delay = 1;
	/* ":": the errors in ringfanctl's name, not in argv[0]'s. */
	while ((ch = getopt_long(argc, argv, ":s:jn:d:Vh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			if (parse_count(optarg, &count) != 0) {
				fprintf(stderr, "ringfanctl: -n: not a "
				    "positive count: %s\n", optarg);
				return EXIT_ERROR;
			}
			timing = 1;
			break;
		case 'd':
			if (parse_delay(optarg, &delay) != 0) {
				fprintf(stderr, "ringfanctl: -d: not a number "
				    "of seconds in (0, 86400]: %s\n", optarg);
				return EXIT_ERROR;
			}
			timing = 1;
			break;
		case 'V':
			printf("ringfanctl %s\n", RINGFAN_VERSION);
			return finish(0);
		case 'h':
			usage(stdout);
			return finish(0);
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				fprintf(stderr, "ringfanctl: %s needs an "
				    "argument\n", argv[optind - 1]);
			else
				fprintf(stderr, "ringfanctl: -%c needs an "
				    "argument\n", optopt);
			usage(stderr);
			return EXIT_ERROR;
		default:
			/* --json=1: a long option known, with a value. */
			if (strncmp(argv[optind - 1], "--", 2) == 0 &&
			    optopt != 0)
				fprintf(stderr, "ringfanctl: %.*s takes no "
				    "argument\n", (int)strcspn(argv[optind - 1],
				    "="), argv[optind - 1]);
			else if (optopt != 0)
				fprintf(stderr, "ringfanctl: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "ringfanctl: unknown option "
				    "%s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "ringfanctl: no command\n");
		usage(stderr);
		return EXIT_ERROR;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL) {
		/* Not ours: the daemon's answer, or its error, says it. */
		other.name = argv[0];
		other.render = NULL;
		other.arg = argc - 1;
		cmd = &other;
	} else if (argc != 1 + cmd->arg) {
		fprintf(stderr, cmd->arg ? "ringfanctl: %s needs one "
		    "argument\n" : "ringfanctl: one command at a time (%s "
		    "takes no argument)\n", cmd->name);
		usage(stderr);
		return EXIT_ERROR;
	}
	if (*path == '\0') {
		fprintf(stderr, "ringfanctl: -s: empty socket path\n");
		return EXIT_ERROR;
	}
	if (timing && strcmp(cmd->name, "top") != 0) {
		fprintf(stderr, "ringfanctl: -n and -d apply to top only\n");
		return EXIT_ERROR;
	}

	if (strcmp(cmd->name, "top") == 0)
		rc = top(path, json, count, delay);
	else {
		/* The command and its arguments, one space apart, one line. */
		off = 0;
		for (int i = 0; i < 1 + cmd->arg; i++) {
			if (off < sizeof(line))
				off += (size_t)snprintf(line + off,
				    sizeof(line) - off, "%s%s", i == 0 ? "" :
				    " ", argv[i]);
			if (off >= sizeof(line) ||
			    strpbrk(argv[i], "\n\r") != NULL) {
				fprintf(stderr, "ringfanctl: %s: %s too long "
				    "or not one line\n", cmd->name, i == 0 ?
				    "command" : "argument");
				return EXIT_ERROR;
			}
		}
		rc = run_once(path, cmd, line, json);
	}
	return finish(rc);
}

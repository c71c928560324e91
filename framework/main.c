/* ringfan: flags, configuration, daemonizing, and the hand-over to the master. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <linux/capability.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "offline.h"
#include "ringfan_build.h"
#include "util.h"

#include <ringfan/plugin.h>

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ringfan -c FILE [-t] [-D]\n"
	    "       ringfan -c FILE -r PCAP [--workers N]\n"
	    "       ringfan -i IFACE [-t] [-D]\n"
	    "       ringfan -V | -h\n"
	    "  -c FILE   run the captures configured in FILE, in the foreground\n"
	    "  -i IFACE  run the built-in configuration on IFACE\n"
	    "  -r PCAP   run the first capture's pipeline over a pcap or pcapng\n"
	    "            file, print the statistics as JSON and exit\n"
	    "  --workers N\n"
	    "            with -r: split the frames by flow over N pipelines, as\n"
	    "            the N workers of a capture (1 to 1024; default 1)\n"
	    "  -t        check the configuration and exit\n"
	    "  -D        daemonize: detach and log to syslog\n"
	    "  -V, --version\n"
	    "            print the version and the plugin ABI\n"
	    "  -h, --help\n"
	    "            this help\n");
}

/*
 * The exit status of -V and -h: 0 once their text is written, or
 * EXIT_RUNTIME with the cause when it cannot be (a full disk).
 */
static int
flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "ringfan: cannot write the output: %s\n",
		    strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Whether what is at `path` may become our pidfile: nothing, or a regular
 * file that holds a process id, or nothing yet (pidfile_open has made it and
 * the pid is not written).  pidfile_open truncates what it opens and
 * pidfile_remove deletes it: a mistyped path must not cost anyone a file.
 * 0, or -1 with the reason in err.
 */
static int
pidfile_check(const char *path, char *err, size_t errlen)
{
	char buf[32];
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "exists and is %s, not a pid file; "
		    "refusing to use it", file_kind(st.st_mode));
		return -1;
	}
	/* O_NOFOLLOW: not swapped for a link since the lstat. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	if (n == -1)
		snprintf(err, errlen, "%s", strerror(errno));
	close(fd);
	if (n == -1)
		return -1;
	for (i = 0; i < (size_t)n && buf[i] >= '0' && buf[i] <= '9'; i++)
		continue;
	/* Digits and at most a newline, all of it read. */
	if (n < (ssize_t)sizeof(buf) && (i == (size_t)n ||
	    (i > 0 && i + 1 == (size_t)n && buf[i] == '\n')))
		return 0;
	snprintf(err, errlen, "exists and is a regular file that does not "
	    "hold a process id; refusing to overwrite it");
	return -1;
}

/*
 * Whether this process may open packet sockets (CAP_NET_RAW in its
 * effective set, as root has).  Without it every later step fails on
 * something that does not name the cause (the pidfile or the fanout lock in
 * root's run directory), so a start says so first.
 */
static bool
may_capture(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return geteuid() == 0;
	return (data[CAP_NET_RAW / 32].effective &
	    (1u << (CAP_NET_RAW % 32))) != 0;
}

/*
 * -t checks a file that may be meant for another machine, so an interface
 * missing here is no error; it is said, with what a start would do.  The
 * built-in configuration of -i has no file to set wait_for_interface in.
 */
static void
note_missing_interfaces(const struct cfg *cfg, bool from_file)
{
	const struct cfg_capture *cap;
	size_t i;

	for (i = 0; i < cfg->ncaptures; i++) {
		cap = &cfg->captures[i];
		if (if_nametoindex(cap->interface) != 0)
			continue;
		fprintf(stderr, "ringfan: capture %s: interface %s does not "
		    "exist here: %s\n", cap->name, cap->interface,
		    cap->wait_for_interface ? "a start waits for it" :
		    from_file ? "a start fails (wait_for_interface: true "
		    "waits for it)" : "a start fails");
	}
}

/*
 * Only root can become the workers' user: a check by another user loads
 * and checks the plugins as itself, which is said, so that its "ok" is not
 * taken for one of the workers' access to them.
 */
static void
note_unchecked_user(const struct cfg *cfg)
{
	const struct passwd *pw;

	if (cfg->user == NULL || geteuid() == 0 ||
	    (pw = getpwnam(cfg->user)) == NULL || pw->pw_uid == geteuid())
		return;
	fprintf(stderr, "ringfan: user %s: the plugins were checked as uid "
	    "%u, not as %s (uid %u): only root can become it; run the check "
	    "as root to check them as the workers run them\n", cfg->user,
	    (unsigned)geteuid(), cfg->user, (unsigned)pw->pw_uid);
}

/*
 * Take the pidfile before the master builds anything: a second instance
 * must refuse to start, naming the first, before it touches any socket.
 */
static struct pidfh *
take_pidfile(const char *path)
{
	struct pidfh *pfh;
	pid_t other = 0;
	char err[256];

	if (pidfile_check(path, err, sizeof(err)) == -1) {
		fprintf(stderr, "ringfan: pidfile %s: %s\n", path, err);
		return NULL;
	}
	(void)mkdirs_for(path);	/* pidfile_open says what is missing */
	pfh = pidfile_open(path, 0644, &other);
	if (pfh == NULL) {
		if (errno == EEXIST)
			fprintf(stderr, "ringfan: already running as pid %d "
			    "(pidfile %s)\n", (int)other, path);
		else
			fprintf(stderr, "ringfan: pidfile %s: %s\n", path,
			    strerror(errno));
	}
	return pfh;
}

/*
 * Detaches as daemon(3) does (a new session, stdio on /dev/null, the
 * working directory kept), except that the parent stays until the daemon
 * has set up: its captures' sockets, the control socket, the metrics
 * listener.  It exits 0 then, or, when the set-up fails, with the daemon's
 * exit status and its error lines on stderr, as a start in the foreground
 * would.  Returns 0 in the daemon, which then logs its set-up to the pipe
 * (log_setup_begin), or -1 when it cannot fork.  The parent waits under
 * the signal mask `mask` (that of before the master's signals were
 * blocked): an interrupt ends the wait, not the daemon.
 */
static int
daemonize_wait(const sigset_t *mask)
{
	char buf[1024], *nul;
	ssize_t n;
	pid_t pid;
	int p[2], fd, status;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (setsid() == -1)
			_exit(EXIT_RUNTIME);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		/*
		 * A parent gone meanwhile must not kill it through the pipe
		 * (the master ignores SIGPIPE for good later on anyway).
		 */
		signal(SIGPIPE, SIG_IGN);
		log_setup_begin(p[1]);
		return 0;
	}
	close(p[1]);
	sigprocmask(SIG_SETMASK, mask, NULL);
	for (;;) {
		n = read(p[0], buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((nul = memchr(buf, '\0', (size_t)n)) != NULL) {
			fwrite(buf, 1, (size_t)(nul - buf), stderr);
			_exit(0);
		}
		fwrite(buf, 1, (size_t)n, stderr);
	}
	/* Closed without the word: the daemon has ended. */
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			_exit(EXIT_RUNTIME);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		_exit(WEXITSTATUS(status));
	fprintf(stderr, "ringfan: the daemon ended during its set-up\n");
	_exit(EXIT_RUNTIME);
}

/*
 * Standard input, output or error closed by whatever started ringfan:
 * /dev/null in their place, before anything is opened.  Otherwise the
 * pidfile, a fanout lock or a plugin's file would become descriptor 1 or
 * 2 and take the log lines and the statistics meant for them.
 */
static void
hold_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= STDERR_FILENO)
		continue;
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Long options: only those without a one-letter form. */
enum { OPT_WORKERS = 256 };

static const struct option long_options[] = {
	{ "workers",	required_argument,	NULL,	OPT_WORKERS },
	{ "help",	no_argument,		NULL,	'h' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 },
};

/* N of --workers N, 1 to OFFLINE_WORKERS_MAX; 0 when it is not that. */
static unsigned
parse_workers(const char *s)
{
	uint64_t n;

	if (parse_uint(s, &n) != 0 || n < 1 || n > OFFLINE_WORKERS_MAX)
		return 0;
	return (unsigned)n;
}

/*
 * A pidfile libbsd could not write, and keeps: see main().  Volatile, so
 * that the store stays though nothing reads it back.
 */
static struct pidfh *volatile pidfile_unwritten;

int
main(int argc, char **argv)
{
	const char *file = NULL, *iface = NULL, *pcap = NULL;
	struct master_opts opts = { .foreground = true };
	char err[CFG_ERR_MAX];
	bool check = false, daemonize = false;
	unsigned nworkers = 0;
	sigset_t sigs, mask;
	struct cfg cfg;
	FILE *out;
	int ch, fd, rc;

	/*
	 * Descriptors beyond stdio that whatever started ringfan left open
	 * are nobody's here: closed, so that no worker (which runs plugin
	 * code) inherits them.
	 */
	closefrom(STDERR_FILENO + 1);
	hold_stdio();
	setproctitle_init(argc, argv, environ);
	opterr = 0;		/* the messages below name ringfan, not argv[0] */
	while ((ch = getopt_long(argc, argv, ":c:i:r:tDVh", long_options,
	    NULL)) != -1) {
		if ((ch == 'c' && file != NULL) || (ch == 'i' && iface !=
		    NULL) || (ch == 'r' && pcap != NULL)) {
			fprintf(stderr, "ringfan: -%c given twice\n", ch);
			return EXIT_CONFIG;
		}
		switch (ch) {
		case OPT_WORKERS:
			if (nworkers != 0) {
				fprintf(stderr, "ringfan: --workers given "
				    "twice\n");
				return EXIT_CONFIG;
			}
			if ((nworkers = parse_workers(optarg)) == 0) {
				fprintf(stderr, "ringfan: --workers %s: not a "
				    "number from 1 to %d\n", optarg,
				    OFFLINE_WORKERS_MAX);
				return EXIT_CONFIG;
			}
			break;
		case 'c':
			file = optarg;
			break;
		case 'i':
			iface = optarg;
			break;
		case 'r':
			pcap = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'D':
			daemonize = true;
			break;
		case 'V':
			printf("ringfan %s (plugin ABI %d.%d)\n",
			    RINGFAN_VERSION, RINGFAN_PLUGIN_ABI_MAJOR,
			    RINGFAN_PLUGIN_ABI_MINOR);
			return flush_stdout();
		case 'h':
			usage(stdout);
			return flush_stdout();
		case ':':
			if (optopt == OPT_WORKERS)
				fprintf(stderr, "ringfan: --workers needs an "
				    "argument\n");
			else
				fprintf(stderr, "ringfan: -%c needs an "
				    "argument\n", optopt);
			usage(stderr);
			return EXIT_CONFIG;
		default:
			if (optopt != 0)
				fprintf(stderr, "ringfan: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "ringfan: unknown option "
				    "%s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ringfan: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}
	/* Children are reaped and supervised: an ignored SIGCHLD would not. */
	signal(SIGCHLD, SIG_DFL);
	/*
	 * A write beyond the file size limit (ulimit -f, systemd's
	 * LimitFSIZE=) fails with EFBIG, which a plugin handles like a full
	 * disk, instead of killing the process: a worker killed by SIGXFSZ
	 * would be respawned into the same write until the crash-loop limit
	 * fails its capture.  Workers inherit this; -r runs here.
	 */
	signal(SIGXFSZ, SIG_IGN);
	/* First: -r has no use for the -i that the next would suggest. */
	if (pcap != NULL && (file == NULL || check || daemonize)) {
		fprintf(stderr, "ringfan: -r PCAP goes with -c FILE, "
		    "without -t or -D\n");
		usage(stderr);
		return EXIT_CONFIG;
	}
	if ((file == NULL) == (iface == NULL)) {
		fprintf(stderr, "ringfan: give exactly one of -c FILE and "
		    "-i IFACE\n");
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (nworkers != 0 && pcap == NULL) {
		fprintf(stderr, "ringfan: --workers N goes with -r PCAP: a "
		    "capture's workers are set in its configuration\n");
		usage(stderr);
		return EXIT_CONFIG;
	}

	if (file != NULL)
		rc = cfg_load(&cfg, file, err, sizeof(err));
	else
		rc = cfg_default(&cfg, iface, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ringfan: %s\n", err);
		return EXIT_CONFIG;
	}
	log_init(cfg.log.level, false);
	/*
	 * -t checks everything; -D does too, while stderr still reaches the
	 * user, and the master builds on what it validated.  A foreground
	 * start validates once, as it builds; -r runs the pipeline in a
	 * process it forks, as this user, and checks it there.
	 */
	if ((check || daemonize) && (rc = master_check_keep(&cfg, daemonize ?
	    &opts.checked : NULL, err, sizeof(err))) != 0) {
		fprintf(stderr, "ringfan: %s\n", err);
		cfg_free(&cfg);
		return rc == -EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
	}
	if (check) {
		note_unchecked_user(&cfg);
		note_missing_interfaces(&cfg, file != NULL);
		fprintf(stderr, "ringfan: %s: configuration ok\n", cfg.path);
		cfg_free(&cfg);
		return 0;
	}
	if (pcap != NULL) {
		/*
		 * The pipelines run in a process of this one's (offline.c):
		 * the statistics document goes to a copy of stdout (which a
		 * program plugin code starts does not inherit), and what
		 * plugin code prints to stdout goes to stderr.
		 */
		if ((fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) == -1 ||
		    (out = fdopen(fd, "w")) == NULL ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1) {
			fprintf(stderr, "ringfan: stdout: %s\n",
			    strerror(errno));
			cfg_free(&cfg);
			return EXIT_RUNTIME;
		}
		rc = offline_run(&cfg, pcap, nworkers != 0 ? nworkers : 1,
		    out);
		if (fclose(out) == EOF && rc == 0) {
			fprintf(stderr, "ringfan: cannot write the statistics "
			    "document\n");
			rc = EXIT_RUNTIME;
		}
		cfg_free(&cfg);
		return rc;
	}

	opts.config_path = file;
	opts.iface = iface;
	if (!may_capture()) {
		fprintf(stderr, "ringfan: capturing needs root (CAP_NET_RAW, "
		    "to open packet sockets): run it as root; reading a pcap "
		    "file does not (ringfan -c FILE -r PCAP)\n");
		master_checked_free(opts.checked);
		cfg_free(&cfg);
		return EXIT_RUNTIME;
	}
	/* From here, a stop or a reload is the event loop's (master.h). */
	master_sigset(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, &mask);
	/*
	 * A log line to a stderr that no one reads any more fails with EPIPE
	 * while it sets up too, as it does later, instead of killing it.
	 */
	signal(SIGPIPE, SIG_IGN);
	if ((opts.pidfile = take_pidfile(cfg.control.pidfile)) == NULL) {
		master_checked_free(opts.checked);
		cfg_free(&cfg);
		return EXIT_RUNTIME;
	}
	if (daemonize) {
		/*
		 * The working directory stays: relative paths (the file, which
		 * a reload reads again, plugin directories, plugins' own files)
		 * mean what they meant to the check above and in the
		 * foreground.
		 */
		if (daemonize_wait(&mask) == -1) {
			fprintf(stderr, "ringfan: fork: %s\n",
			    strerror(errno));
			pidfile_remove(opts.pidfile);
			master_checked_free(opts.checked);
			cfg_free(&cfg);
			return EXIT_RUNTIME;
		}
		opts.foreground = false;
	}
	log_init(cfg.log.level, daemonize || cfg.log.syslog);
	/*
	 * Unwritten (a full file system), it is gone: libbsd removes it, and
	 * with it what keeps a second instance out.  The handle it keeps then
	 * it neither closes nor frees (pidfile_close refuses it): held to the
	 * exit, not lost.
	 */
	if (pidfile_write(opts.pidfile) == -1) {
		pidfile_unwritten = opts.pidfile;
		log_warn("pidfile %s: write", cfg.control.pidfile);
		master_checked_free(opts.checked);
		cfg_free(&cfg);
		return EXIT_RUNTIME;
	}
	rc = master_run(&cfg, &opts);
	pidfile_remove(opts.pidfile);
	return rc;
}

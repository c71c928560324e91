/*
 * The guard of a run over a file.  Offline the plugins run in one process,
 * not in workers that the master watches: a plugin that crashes,
 * calls exit() or never returns would end the run without a word, or never.
 * The guard names the plugin and the callback it was in:
 * - a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS), and
 *   SIGINT or SIGTERM (how a person ends a run that hangs): one line on
 *   stderr, then the signal's own action (a core, an exit status of 128
 *   plus its number).  The line is written by the handler with write(2)
 *   alone, from what the run keeps anyway: the stage word of each worker
 *   (stats.h) and pipeline_track()'s text;
 * - exit() called from a plugin's callback: the line, then exit status 2
 *   (EXIT_RUNTIME), whatever the plugin asked for;
 * - _exit() from a plugin, or a signal no handler sees (SIGKILL): the run
 *   is a process that ringfan's first one forked and watches
 *   (offline_guard_watch()), which writes the line from what the run
 *   shares with it (struct offline, the stats region) when the run ended
 *   without having said so, and ends as the run did: status 2 after
 *   _exit(), the signal's own end after a signal.
 * The run has one thread, the one that armed the guard: exit() or a fault
 * on any other is a thread that plugin code started, wherever the run's
 * own thread is meanwhile (outside the plugins, as likely as not).  A
 * process that plugin code forked is not the run: its exit() and faults
 * are its own, with no line.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master.h"
#include "offline_int.h"

static const int guard_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGINT, SIGTERM,
};

#define GUARD_NSIG	(sizeof(guard_signals) / sizeof(guard_signals[0]))

static struct {
	struct offline		*ol;	/* NULL: not armed */
	struct sigaction	 was[GUARD_NSIG];
	pid_t			 tid;	/* the run's thread */
	pid_t			 pid;	/* the run's process */
	bool			 exit_hooked;
} guard;

/* A stack for the handler, so that a plugin's stack overflow is seen. */
static uint8_t guard_stack[64 * 1024];

struct guard_line {
	char	 b[512];
	size_t	 n;
};

/* At most n bytes of s: a worker's tag, in memory that may be written over. */
static void
guard_putn(struct guard_line *l, const char *s, size_t n)
{
	while (n-- > 0 && *s != '\0' && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = *s++;
}

static void
guard_put(struct guard_line *l, const char *s)
{
	guard_putn(l, s, SIZE_MAX);
}

/* "CAPTURE/K" of worker w once it is set up, else "CAPTURE". */
static void
guard_put_tag(struct guard_line *l, const struct offline_worker *w)
{
	if (w != NULL && w->tag[0] != '\0')
		guard_putn(l, w->tag, sizeof(w->tag));
	else
		guard_put(l, guard.ol->capture);
}

static void
guard_put_u64(struct guard_line *l, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d) - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	guard_put(l, d + i);
}

/*
 * Where a worker is in plugin code, by its stage word: "in plugin NAME's
 * packet" and the like into l, and true; false outside the plugins.
 */
static bool
guard_stage(struct guard_line *l, const struct offline_worker *w)
{
	static const char *const what[] = {
		[STATS_CALL_PACKET] = "'s packet",
		[STATS_CALL_PREFETCH] = "'s prefetch",
		[STATS_CALL_TICK] = "'s tick",
		[STATS_CALL_OPEN] = "'s open",
		[STATS_CALL_CLOSE] = "'s close",
		[STATS_CALL_REST] = "'s packet",
	};
	const struct cfg_capture *cap = guard.ol->cap;
	enum stats_call call;
	uint32_t k = 0;

	/*
	 * Not yet set up: no stage to read.  The names are the steps' (as
	 * pipeline_load() has them), which the watching process has too.
	 */
	if (w->sw == NULL)
		return false;
	call = stats_stage_call(STATS_LOAD(&w->sw->stage),
	    (uint32_t)cap->npipeline, &k);
	if (call == STATS_CALL_OTHER)
		return false;
	guard_put(l, "in plugin ");
	guard_put(l, cfg_step_name(&cap->pipeline[k]));
	/* From the first batch stage on: a batch stage, or a per-frame one. */
	guard_put(l, call == STATS_CALL_REST && guard.ol->batch[k] ?
	    "'s batch" : what[call]);
	return true;
}

/*
 * "ringfan: CAPTURE/K: " and where the run is in plugin code: a worker's
 * stage, else pipeline_track()'s text (loading, check, close), else
 * "outside the plugins" and false.
 */
static bool
guard_where(struct guard_line *l)
{
	const struct offline *ol = guard.ol;
	const struct offline_worker *w = ol->w != NULL ? &ol->w[ol->tagged] :
	    NULL;
	bool in = false;
	size_t mark;

	guard_put(l, "ringfan: ");
	mark = l->n;
	for (unsigned k = 0; ol->w != NULL && k < ol->nworkers && !in; k++) {
		guard_putn(l, ol->w[k].tag, sizeof(ol->w[k].tag));
		guard_put(l, ": ");
		if (!(in = guard_stage(l, &ol->w[k])))
			l->n = mark;
	}
	if (in)
		return true;
	guard_put_tag(l, w);
	guard_put(l, ": ");
	if (ol->at[0] != '\0') {
		guard_put(l, ol->at);
		return true;
	}
	guard_put(l, "outside the plugins");
	return false;
}

/*
 * " after N frames of FILE; the run ends without its statistics" (or
 * "after them", when they were printed: a plugin's destructor at unload)
 */
static void
guard_after(struct guard_line *l)
{
	guard_put(l, " after ");
	guard_put_u64(l, offline_handled(guard.ol));
	guard_put(l, " frames of ");
	guard_put(l, guard.ol->path);
	guard_put(l, guard.ol->printed ? "; the run ends after its statistics" :
	    "; the run ends without its statistics");
}

static void
guard_write(struct guard_line *l)
{
	const char *p = l->b;
	ssize_t r;

	guard_put(l, "\n");
	while (l->n > 0 && ((r = write(STDERR_FILENO, p, l->n)) > 0 ||
	    (r == -1 && errno == EINTR)))
		if (r > 0) {
			p += r;
			l->n -= (size_t)r;
		}
}

/* Whether the caller is a thread that plugin code started. */
static bool
guard_plugin_thread(void)
{
	return gettid() != guard.tid;
}

/*
 * Whether the caller is the run's process, not one that plugin code
 * forked: that one's exit() and faults are its own, said by no line.
 */
static bool
guard_in_run(void)
{
	return guard.ol != NULL && getpid() == guard.pid;
}

/*
 * "ringfan: CAPTURE/K: in a plugin's thread": a fault (any of the guard's
 * signals but SIGINT and SIGTERM, which go to whichever thread takes them)
 * or an exit() on a thread of plugin code.
 */
static void
guard_thread(struct guard_line *l)
{
	const struct offline *ol = guard.ol;
	const struct offline_worker *w = ol->w != NULL ? &ol->w[ol->tagged] :
	    NULL;

	guard_put(l, "ringfan: ");
	guard_put_tag(l, w);
	guard_put(l, ": in a plugin's thread");
}

/* ": interrupted by signal 15 (Terminated)", or killed by one. */
static void
guard_put_signal(struct guard_line *l, int sig)
{
	const char *d = sigdescr_np(sig);

	guard_put(l, sig == SIGINT || sig == SIGTERM ?
	    ": interrupted by signal " : ": killed by signal ");
	guard_put_u64(l, (uint64_t)sig);
	guard_put(l, " (");
	guard_put(l, d != NULL ? d : "?");
	guard_put(l, ")");
}

/*
 * The signal's own action, now, and before any other that came meanwhile
 * and is still blocked: the process's status is this one's.
 */
static void
guard_die(int sig)
{
	sigset_t only;

	signal(sig, SIG_DFL);
	sigemptyset(&only);
	sigaddset(&only, sig);
	raise(sig);
	(void)sigprocmask(SIG_UNBLOCK, &only, NULL);
}

static void
guard_signal(int sig, siginfo_t *si, void *uc)
{
	struct guard_line l = { .n = 0 };
	int saved = errno;

	(void)si;
	(void)uc;

	if (guard_in_run()) {
		if (sig != SIGINT && sig != SIGTERM && guard_plugin_thread())
			guard_thread(&l);
		else
			guard_where(&l);
		guard_put_signal(&l, sig);
		guard_after(&l);
		guard_write(&l);
		guard.ol->said = 1;
	}
	errno = saved;
	guard_die(sig);
}

static void
guard_exit(void)
{
	struct guard_line l = { .n = 0 };

	if (!guard_in_run())
		return;
	/* Whoever called exit() said why, or the line does. */
	guard.ol->said = 1;
	if (guard_plugin_thread())
		guard_thread(&l);
	else if (!guard_where(&l))
		return;
	guard_put(&l, ": the plugin called exit()");
	guard_after(&l);
	guard_write(&l);
	_exit(EXIT_RUNTIME);
}

/* What the watching process passes on to the run. */
static const int watch_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

#define WATCH_NSIG	(sizeof(watch_signals) / sizeof(watch_signals[0]))

/* The run the watching process waits for: where its signals go. */
static volatile pid_t watched;

static void
watch_pass(int sig)
{
	int saved = errno;

	if (watched > 0)
		kill(watched, sig);
	errno = saved;
}

void
offline_guard_block(sigset_t *was)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t k = 0; k < WATCH_NSIG; k++)
		sigaddset(&set, watch_signals[k]);
	(void)sigprocmask(SIG_BLOCK, &set, was);
}

/*
 * How a run that said nothing ended, named as the guard names a crash:
 * from was, the copy of the run's struct offline taken before the fork,
 * and only what the run writes there since (where it is, the worker its
 * lines name, whether it printed its statistics) from ol, which plugin
 * code could have written over, or a process it forked could change still.
 * The workers stay in the shared mapping: their tags are read bounded,
 * their stats pointers set again.
 */
static void
watch_say(const struct offline *ol, const struct offline *was, int status)
{
	struct guard_line l = { .n = 0 };
	struct offline o = *was;

	o.tagged = ol->tagged < o.nworkers ? ol->tagged : 0;
	memcpy(o.at, ol->at, sizeof(o.at));
	o.at[sizeof(o.at) - 1] = '\0';
	o.printed = ol->printed;
	for (unsigned k = 0; k < o.nworkers; k++)
		o.w[k].sw = &o.shm->workers[k];
	guard.ol = &o;
	guard_where(&l);
	if (WIFSIGNALED(status))
		guard_put_signal(&l, WTERMSIG(status));
	else {
		/* Whose thread called it, the line cannot say. */
		guard_put(&l, ": the process ended with _exit(");
		guard_put_u64(&l, (uint64_t)WEXITSTATUS(status));
		guard_put(&l, ")");
	}
	guard_after(&l);
	guard_write(&l);
	guard.ol = NULL;
}

int
offline_guard_watch(struct offline *ol, const struct offline *was, pid_t pid,
    const sigset_t *mask)
{
	struct sigaction sa, was_sa[WATCH_NSIG];
	struct rlimit none = { 0, 0 };
	siginfo_t si;
	int status, rc;
	pid_t r;

	/* Blocked since before the fork (offline_guard_block()). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_pass;
	sigemptyset(&sa.sa_mask);
	watched = pid;
	for (size_t k = 0; k < WATCH_NSIG; k++)
		(void)sigaction(watch_signals[k], &sa, &was_sa[k]);
	(void)sigprocmask(SIG_SETMASK, mask, NULL);
	/* Ended, not yet reaped: no signal is passed to a pid reused. */
	while ((rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT)) == -1 &&
	    errno == EINTR)
		;
	offline_guard_block(NULL);
	watched = 0;
	while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	for (size_t k = 0; k < WATCH_NSIG; k++)
		(void)sigaction(watch_signals[k], &was_sa[k], NULL);
	(void)sigprocmask(SIG_SETMASK, mask, NULL);
	if (rc == -1 || r == -1) {
		fprintf(stderr, "ringfan: waiting for the run: %s\n",
		    strerror(errno));
		return EXIT_RUNTIME;
	}
	if (ol->said == 0)
		watch_say(ol, was, status);
	if (WIFEXITED(status))
		return ol->said != 0 ? WEXITSTATUS(status) : EXIT_RUNTIME;
	/*
	 * The run's end by a signal is ours, with no second core (nor a
	 * report by a core_pattern helper).
	 */
	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	guard_die(WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

void
offline_guard_arm(struct offline *ol)
{
	struct sigaction sa;
	stack_t ss = {
		.ss_sp = guard_stack,
		.ss_size = sizeof(guard_stack),
	};

	guard.ol = ol;
	guard.tid = gettid();
	guard.pid = getpid();
	pipeline_track(ol->at, sizeof(ol->at));
	(void)sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_signal;
	sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
	/* One line: no other of these signals while it is written. */
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < GUARD_NSIG; k++)
		sigaddset(&sa.sa_mask, guard_signals[k]);
	for (size_t k = 0; k < GUARD_NSIG; k++)
		(void)sigaction(guard_signals[k], &sa, &guard.was[k]);
	if (!guard.exit_hooked)
		guard.exit_hooked = atexit(guard_exit) == 0;
}

void
offline_guard_disarm(void)
{
	if (guard.ol == NULL)
		return;
	for (size_t k = 0; k < GUARD_NSIG; k++)
		(void)sigaction(guard_signals[k], &guard.was[k], NULL);
	pipeline_track(NULL, 0);
	guard.ol = NULL;
}

/*
 * The master process.
 *
 * One event loop (epoll) over a signalfd, a timerfd, the control socket,
 * the metrics listener and the link watch's rtnetlink socket does all the
 * work, in a fixed order per wake-up of the timer: children that ended
 * reaped, respawns that are due, the reload's rolling restart and the
 * capture reload's steps, the link watch, the stall watch, the kernel's
 * counters, the stop deadline.  Signals are blocked and handled as the
 * signalfd gives them.
 *
 * Building a generation is gen.c's, the process table children.c's, a
 * pipeline reload reload.c's and a capture reload swap.c's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bsd/libutil.h>

#include "capture.h"
#include "control.h"
#include "httpd.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "summary.h"
#include "supervise.h"
#include "util.h"

/*
 * The timer's period while something is under way (start-up, a respawn, a
 * reload, a stop), and at most while nothing is: an idle master wakes
 * seldom, since every wake-up costs the CPU the workers could use.
 */
#define MASTER_TICK_NS		(50ull * 1000000u)
#define MASTER_IDLE_TICK_NS	(500ull * 1000000u)
/*
 * The most time between two reads of the kernel's counters, whatever
 * stats_interval says: they are 32 bits, and a socket taking a 100 Gbit/s
 * link's every frame at the smallest (148.8 M a second) wraps them in
 * 28.9 s.  Read every 5 s they hold 860 M frames a second, or a read
 * delayed by 20 s at that rate; an idle master wakes more often anyway.
 */
#define MASTER_KERNEL_READ_NS	(5ull * 1000000000u)
/*
 * The least time between two looks at the fanout groups' members
 * (fanoutwatch.c), taken at a read of the counters: a look costs the
 * master some 30 us of CPU, which a stats_interval of 10 ms would ask
 * for a hundred times a second.
 */
#define MASTER_FANOUT_LOOK_NS	(1000000000ull)
/*
 * How long stopping workers get to drain before SIGKILL, beyond the
 * longest block_timeout of their rings: the kernel hands over the block it
 * holds only when that timeout retires it, up to block_timeout after the
 * stop (master_stop_grace_ms).
 */
#define MASTER_STOP_GRACE_MS	5000

/* Add readiness of src->fd to the event loop; 0 or -errno. */
static int
master_watch(struct master *m, struct ev_src *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, src->fd, &ev) == -1 ?
	    -errno : 0;
}

static void master_on_signal(struct master *, struct ev_src *, uint32_t);
static void master_on_timer(struct master *, struct ev_src *, uint32_t);

void
master_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

/*
 * The signals and the timer in the event loop; 0 or -errno.  The signals
 * are blocked, and SIGPIPE ignored, since before the pidfile (main.c).
 */
static int
master_events(struct master *m)
{
	sigset_t set;
	int rc;

	master_sigset(&set);
	m->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	m->sig.fn = master_on_signal;
	m->timer.fd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	m->timer.fn = master_on_timer;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sig.fd == -1 || m->timer.fd == -1 || m->epfd == -1)
		return -errno;
	if ((rc = master_watch(m, &m->sig, EPOLLIN)) != 0)
		return rc;
	return master_watch(m, &m->timer, EPOLLIN);
}

/* The time between two reads of the kernel's counters. */
static uint64_t
master_stats_period(const struct master *m)
{
	return m->g.cfg->stats_interval_ns < MASTER_KERNEL_READ_NS ?
	    m->g.cfg->stats_interval_ns : MASTER_KERNEL_READ_NS;
}

void
master_apply_live(struct master *m)
{
	uint64_t next = mono_ns() + master_stats_period(m);

	log_set_level(m->g.cfg->log.level);
	/* Not at the end of a longer interval before it: 32-bit counts. */
	if (next < m->next_stats_ns)
		m->next_stats_ns = next;
}

void
master_read_kernel(struct master *m)
{
	struct tpacket_stats_v3 st;
	struct stats_worker *sw;
	char name[64];
	int rc;

	FOREACH_SLOT(m, s) {
		sw = s->wk.sw;
		if (s->wk.fd == -1)	/* its interface is gone (linkwatch.c) */
			continue;
		if ((rc = capture_read_stats(s->wk.fd, &st)) != 0) {
			log_warnx("%s: getsockopt(PACKET_STATISTICS): %s",
			    master_slot_name(s, name, sizeof(name)), strerror(-rc));
			continue;
		}
		STATS_ADD(&sw->kernel_packets, st.tp_packets);
		STATS_ADD(&sw->kernel_drops, st.tp_drops);
		STATS_ADD(&sw->kernel_freeze_q, st.tp_freeze_q_cnt);
		master_read_rollover(s);
	}
}

const char *
master_capture_state(const struct master *m, unsigned c, unsigned *running)
{
	bool failed = false;
	unsigned n = 0, total = 0;
	const char *link;

	for (unsigned i = 0; i < m->g.nslots; i++) {
		if (m->g.slots[i].capture != c)
			continue;
		total++;
		switch (STATS_LOAD(&m->g.slots[i].wk.sw->state)) {
		case WORKER_RUNNING:
			n++;
			break;
		case WORKER_FAILED:
			failed = true;
			break;
		}
	}
	*running = n;
	if ((link = linkwatch_state(m, c)) != NULL)
		return link;
	if (failed)
		return "failed";
	return n == total ? "running" : "degraded";
}

/*
 * The stop's grace: the frames of a block the kernel still holds reach
 * its worker only when the ring's timer retires the block, up to
 * block_timeout after the stop, and the worker then has the usual grace
 * to hand them over and close its plugins.
 */
static unsigned
master_stop_grace_ms(struct master *m)
{
	unsigned tov = 0;

	FOREACH_SLOT(m, s)
		if (s->wk.cap != NULL && s->wk.cap->ring.block_timeout_ms > tov)
			tov = s->wk.cap->ring.block_timeout_ms;
	return MASTER_STOP_GRACE_MS + tov;
}

void
master_stop(struct master *m, const char *why)
{
	if (m->stopping)
		return;
	m->stopping = true;
	m->stop_grace_ms = master_stop_grace_ms(m);
	m->stop_deadline_ns = mono_ns() + m->stop_grace_ms * 1000000ull;
	log_info("stopping: %s", why);
	master_reload_answer(m, "reload: stopping before every worker took "
	    "it");
	master_queued_answer(m, "reload: stopping before it could run");
	bpfjob_free(&m->bpf);
	FOREACH_SLOT(m, s) {
		master_shut(s);
		if (master_drain(m, s))
			continue;
		if (STATS_LOAD(&s->wk.sw->state) == WORKER_BACKOFF)
			STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		master_close_unclosed(m, s);
	}
}

void
ctl_cmd_stop(void *ctx, struct ctl_req *rq, const char *arg)
{
	(void)arg;
	master_stop(ctx, "stop command");
	ctl_reply_json(rq, json_pack("{s:b}", "ok", 1));
}

static void
master_on_signal(struct master *m, struct ev_src *src, uint32_t events)
{
	struct signalfd_siginfo si;
	char err[512];
	const char *res;
	int rc;

	(void)src;
	(void)events;
	while (read(m->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_reap(m);
			break;
		case SIGTERM:
		case SIGINT:
			master_stop(m, si.ssi_signo == SIGTERM ? "SIGTERM" :
			    "SIGINT");
			break;
		case SIGUSR1:
			master_read_kernel(m);
			master_log_summary(m, true);
			break;
		case SIGUSR2:
			/* Other sensors reload on it: it must not end this one. */
			log_warnx("SIGUSR2 ignored: SIGHUP reloads, SIGUSR1 "
			    "logs the statistics");
			break;
		case SIGHUP:
			/* As a reload asked for on the control socket. */
			if (m->stopping) {
				log_warnx("reload: stopping before it could "
				    "run");
				break;
			}
			if (master_reload_busy(m)) {
				/* The latest file wins, once this one is done. */
				m->reload_again = true;
				log_info("reload: queued behind the one under way");
				break;
			}
			if ((rc = master_reload(m, &res, err,
			    sizeof(err))) == -EINPROGRESS)
				break;
			if (rc != 0)
				log_error("reload failed, configuration "
				    "unchanged: %s", err);
			else
				log_info("reload: %s", res);
			break;
		}
	}
}

/*
 * A closer started at the stop (master_spawn_closer), or after its
 * interface's drain deadline (nothing kills a process there any more),
 * that has not closed its plugins MASTER_CLOSE_GRACE_NS after its start
 * (hung in them, or stopped by a signal) is killed: the stop stays
 * bounded, the capture can close its sockets, and what it was closing is
 * reported lost when it is reaped.
 */
static void
master_close_overdue(struct master *m, uint64_t now)
{
	char name[64];

	FOREACH_SLOT(m, s) {
		if (s->pid <= 0 || s->close_killed ||
		    !(m->stopping ? s->stop_closer : s->closer &&
		    linkwatch_overdue(m, s)) ||
		    now < s->spawned_ns + MASTER_CLOSE_GRACE_NS)
			continue;
		log_warnx("%s (pid %d) did not close what its predecessor left "
		    "within %llu ms: SIGKILL", master_slot_name(s, name,
		    sizeof(name)), (int)s->pid,
		    MASTER_CLOSE_GRACE_NS / 1000000u);
		kill(s->pid, SIGKILL);
		s->close_killed = true;
	}
}

static void
master_on_timer(struct master *m, struct ev_src *src, uint32_t events)
{
	uint64_t expirations, now = mono_ns();
	char name[64];
	unsigned running = 0, waiting = 0, failed = 0;
	uint32_t st;

	(void)src;
	(void)events;
	if (read(m->timer.fd, &expirations, sizeof(expirations)) == -1 &&
	    errno != EAGAIN)
		log_warn("master: read(timerfd)");
	/*
	 * Children that ended before this turn first: a master held up past
	 * a deadline (stopped, starved) finds the timer ahead of SIGCHLD in
	 * the same wake-up, and would take a worker that exited in time for
	 * one that missed it.
	 */
	master_reap(m);
	FOREACH_SLOT(m, s) {
		if (STATS_LOAD(&s->wk.sw->state) == WORKER_RUNNING)
			s->nretries = 0;
		if (!m->stopping && s->pid <= 0 &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_FAILED &&
		    s->respawn_at != 0 && now >= s->respawn_at) {
			log_info("%s: cool-down over, starting it again",
			    master_slot_name(s, name, sizeof(name)));
			master_revive(m, s);
		}
		if (!m->stopping &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_BACKOFF &&
		    now >= s->respawn_at && master_spawn(m, s) != 0)
			master_spawn_refused(s, master_slot_name(s, name,
			    sizeof(name)));
	}
	if (!m->stopping) {
		master_handover_step(m);
		master_swap_step(m, now);
		master_reload_queued(m);
		linkwatch_step(m);
		master_stall_check(m, now);
		master_reload_watch(m, now);
		bpfjob_watch(&m->bpf, now);
	}
	if (now >= m->next_stats_ns) {
		master_read_kernel(m);
		if (!m->stopping && now >= m->fanout_next_ns) {
			master_fanout_check(m);
			m->fanout_next_ns = now + MASTER_FANOUT_LOOK_NS;
		}
		m->next_stats_ns = now + master_stats_period(m);
	}
	if (!m->ready && !m->stopping) {
		for (unsigned i = 0; i < m->g.nslots; i++) {
			st = STATS_LOAD(&m->g.slots[i].wk.sw->state);
			if (st == WORKER_RUNNING)
				running++;
			/* No socket: it waits for its interface. */
			else if (m->g.slots[i].wk.fd == -1)
				waiting++;
			/*
			 * Failed in a crash loop, whether or not its
			 * processes got as far as their loop while the master
			 * looked: the others run on meanwhile.
			 */
			else if (st == WORKER_FAILED)
				failed++;
		}
		if (running + waiting + failed == m->g.nslots) {
			m->ready = true;
			if (failed == 0)
				log_info("ready: %u worker%s on %zu capture%s",
				    m->g.nslots, m->g.nslots == 1 ? "" : "s",
				    m->g.cfg->ncaptures,
				    m->g.cfg->ncaptures == 1 ? "" : "s");
			else
				log_warnx("ready: %u of %u workers running on "
				    "%zu capture%s, %u waiting for their "
				    "interface, %u failed in a crash loop (started "
				    "again after a cool-down)", running,
				    m->g.nslots, m->g.cfg->ncaptures,
				    m->g.cfg->ncaptures == 1 ? "" : "s", waiting,
				    failed);
			log_setup_end();
		}
	}
	master_close_overdue(m, now);
	if (m->stopping && now >= m->stop_deadline_ns) {
		FOREACH_SLOT(m, s) {
			/* A closer has a deadline of its own. */
			if (s->pid <= 0 || s->stop_closer)
				continue;
			log_warnx("%s did not stop within %u ms: SIGKILL",
			    master_slot_name(s, name, sizeof(name)),
			    m->stop_grace_ms);
			kill(s->pid, SIGKILL);
		}
		m->stop_deadline_ns = UINT64_MAX;
	}
}


/*
 * Frames left in the ring of a worker that did not drain it (down at the
 * stop after a setup failure, a drainer that could not start or died,
 * killed at the deadline; master_drain() started one for a worker down
 * after a crash) will never
 * be handled: they count as dropped for that worker, so that after a stop
 * every frame the kernel took is handed over, dropped or quarantined.
 */
static void
master_stranded(struct master *m)
{
	struct stats_worker *sw;
	uint64_t n;
	char name[64];

	master_read_kernel(m);
	for (unsigned i = 0; i < m->g.nslots; i++) {
		sw = m->g.slots[i].wk.sw;
		if ((n = stats_backlog(sw)) == 0)
			continue;
		sw->carry.kernel_drops += n;
		log_warnx("%s (%s at the stop): %llu frames left in its ring, "
		    "counted as dropped", master_slot_name(&m->g.slots[i], name,
		    sizeof(name)), stats_state_name(STATS_LOAD(&sw->state)),
		    (unsigned long long)n);
	}
}

static void
master_final(struct master *m)
{
	json_t *doc;
	char line[160];

	/* Stopped during a capture reload: the old counters count too. */
	if (m->old.cfg != NULL) {
		if (m->swap == SWAP_STARTING)
			master_swap_forget_drops(m);
		master_retire(m);
	}
	master_stranded(m);
	doc = master_stats_json(m);
	master_log_summary(m, false);
	if (doc != NULL)
		stats_summary(doc, line, sizeof(line));
	if (!m->opts.foreground) {
		if (doc != NULL)
			log_info("stopped: %s", line);
		json_decref(doc);
		return;
	}
	/* 15 digits: the 3 decimals of uptime_s (stats_json.c), not more. */
	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) == -1)
		log_warnx("final stats: cannot write the JSON document");
	fputc('\n', stdout);
	fflush(stdout);
	/* Last on stderr, the line a person reads first. */
	if (doc != NULL)
		fprintf(stderr, "ringfan: %s\n", line);
	json_decref(doc);
}

static void
master_free(struct master *m)
{
	pipeline_validate_hook(NULL, NULL);
	ctl_close(m->ctl);
	httpd_close(m->httpd);
	linkwatch_close(m);
	master_prev_free(m);
	bpfjob_free(&m->bpf);
	bpfcache_clear();
	gen_free(&m->g);
	gen_free(&m->old);
	free(m->kp_floor);
	free(m->handover);
	master_fanout_close(m);
	if (m->epfd != -1)
		close(m->epfd);
	if (m->sig.fd != -1)
		close(m->sig.fd);
	if (m->timer.fd != -1)
		close(m->timer.fd);
}

static void
master_on_ctl(struct master *m, struct ev_src *src, uint32_t events)
{
	(void)src;
	(void)events;
	ctl_serve(m->ctl);
}

static void
master_on_httpd(struct master *m, struct ev_src *src, uint32_t events)
{
	(void)src;
	(void)events;
	httpd_serve(m->httpd);
}

/* Something the timer has to watch closely. */
static bool
master_busy(struct master *m)
{
	uint32_t st;

	if (!m->ready || m->stopping || m->reload_again ||
	    master_reload_busy(m))
		return true;
	FOREACH_SLOT(m, s) {
		st = STATS_LOAD(&s->wk.sw->state);
		if (st != WORKER_RUNNING && st != WORKER_FAILED &&
		    s->wk.fd != -1)	/* -1: waits for its interface */
			return true;
	}
	return false;
}

static void
master_timer_update(struct master *m)
{
	uint64_t period = MASTER_TICK_NS;
	struct itimerspec its;

	if (!master_busy(m)) {
		period = m->g.cfg->stats_interval_ns;
		if (period > MASTER_IDLE_TICK_NS)
			period = MASTER_IDLE_TICK_NS;
	}
	if (period == m->timer_period)
		return;
	its.it_interval.tv_sec = (time_t)(period / 1000000000u);
	its.it_interval.tv_nsec = (long)(period % 1000000000u);
	its.it_value = its.it_interval;
	if (timerfd_settime(m->timer.fd, 0, &its, NULL) == -1) {
		log_warn("master: timerfd_settime");
		return;
	}
	m->timer_period = period;
}

/*
 * Room for the control socket's 1024 clients, the metrics server's and the
 * workers' sockets: the soft limit of open files raised to the hard one,
 * up to 65536 (a service starts with 1024).
 */
static void
master_nofile(void)
{
	struct rlimit rl;
	rlim_t want = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
		    (unsigned long long)want);
}

int
master_run(struct cfg *cfg, const struct master_opts *opts)
{
	struct master m = { .opts = *opts, .epfd = -1, .sig.fd = -1,
	    .timer.fd = -1, .ctl_src = { .fd = -1, .fn = master_on_ctl },
	    .httpd_src = { .fd = -1, .fn = master_on_httpd },
	    .handing = -1 };
	struct master_checked *checked = opts->checked;
	struct epoll_event ev[16];
	char err[512];
	int n, rc;


	/* Only what was checked of this very configuration is taken. */
	if (checked != NULL && checked->cfg != cfg) {
		master_checked_free(checked);
		checked = NULL;
	}
	m.opts.checked = NULL;
	m.g.cfg = malloc(sizeof(*m.g.cfg));
	if (m.g.cfg == NULL) {
		master_checked_free(checked);
		cfg_free(cfg);
		log_warn("master: malloc");
		return EXIT_RUNTIME;
	}
	*m.g.cfg = *cfg;
	m.started_ns = mono_ns();
	setproctitle("master %s", opts->config_path != NULL ?
	    opts->config_path : opts->iface);
	if ((n = (int)capture_lock_sweep()) > 0)
		log_info("removed %d fanout lock file%s no ringfan held", n,
		    n == 1 ? "" : "s");
	if ((rc = gen_build(&m.g, NULL, checked, err, sizeof(err))) != 0) {
		log_error("%s", err);
		master_free(&m);
		return rc;
	}
	/* From now on the master holds workers' host memory. */
	pipeline_validate_hook(master_validator_unmap, &m);
	if ((m.handover = calloc(m.g.nslots, sizeof(*m.handover))) == NULL) {
		log_warn("master: calloc");
		master_free(&m);
		return EXIT_RUNTIME;
	}
	if ((rc = master_events(&m)) != 0) {
		log_warnx("master: event loop setup: %s", strerror(-rc));
		master_free(&m);
		return EXIT_RUNTIME;
	}
	master_nofile();
	if (ctl_open(&m.ctl, m.g.cfg, &m, err, sizeof(err)) != 0) {
		log_error("%s", err);
		master_free(&m);
		return EXIT_RUNTIME;
	}
	m.ctl_src.fd = ctl_fd(m.ctl);
	if ((rc = master_watch(&m, &m.ctl_src, EPOLLIN)) != 0) {
		log_warnx("control socket: epoll_ctl: %s", strerror(-rc));
		master_free(&m);
		return EXIT_RUNTIME;
	}
	/* The same page as the metrics command, over HTTP. */
	if (m.g.cfg->metrics_listen != NULL && httpd_open(&m.httpd,
	    m.g.cfg->metrics_listen, ctl_cmd_metrics, &m, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		master_free(&m);
		return EXIT_RUNTIME;
	}
	if (m.httpd != NULL) {
		m.httpd_src.fd = httpd_fd(m.httpd);
		if ((rc = master_watch(&m, &m.httpd_src, EPOLLIN)) != 0) {
			log_warnx("metrics_listen: epoll_ctl: %s",
			    strerror(-rc));
			master_free(&m);
			return EXIT_RUNTIME;
		}
	}
	/*
	 * Sockets, control socket and listener are up: what can still fail
	 * is a worker's.  A daemon's parent exits 0 once every worker runs,
	 * or one ended and the master goes on (master_reap); with the
	 * master's status if a worker's set-up failed, which ends it.
	 */
	for (unsigned i = 0; i < m.g.nslots; i++) {
		if (master_spawn(&m, &m.g.slots[i]) != 0) {
			m.exit_code = EXIT_RUNTIME;
			master_stop(&m, "fork failed");
			break;
		}
	}
	/* After the spawns: a capture whose interface is here now builds. */
	if ((rc = linkwatch_open(&m)) != 0)
		log_warnx("link watch: %s: interfaces that go down or away "
		    "are not followed", strerror(-rc));
	m.next_stats_ns = mono_ns() + master_stats_period(&m);
	master_timer_update(&m);
	while (!(m.stopping && master_all_exited(&m))) {
		n = epoll_wait(m.epfd, ev, 16, -1);
		if (n == -1 && errno != EINTR) {
			log_warn("master: epoll_wait");
			m.exit_code = EXIT_RUNTIME;
			master_stop(&m, "event loop failure");
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct ev_src *src = ev[i].data.ptr;

			src->fn(&m, src, ev[i].events);
		}
		/* After the batch: no event of it can name a freed client. */
		ctl_sweep(m.ctl, mono_ns());
		master_timer_update(&m);
	}
	master_final(&m);
	rc = m.exit_code;
	master_free(&m);
	return rc;
}

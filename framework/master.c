/*
 * The master process.
 *
 * One event loop (epoll) over a signalfd and a timerfd does all the work, in
 * a fixed order per wake-up: reap children, then stop requests, then the
 * periodic reading of the kernel's counters.  Signal handlers do nothing:
 * the signals are blocked and read from the signalfd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"
#include "master.h"
#include "plugin_host.h"
#include "stats.h"
#include "worker.h"

/* The timer's period: supervision and start-up checks run at this pace. */
#define MASTER_TICK_MS		100
/* How long stopping workers get to drain before SIGKILL. */
#define MASTER_STOP_GRACE_MS	5000

/* One slot of the process table per worker; a respawn reuses its slot. */
struct slot {
	struct worker		 wk;
	unsigned		 capture;	/* index in cfg->captures */
	pid_t			 pid;		/* 0: not running */
	int			 status;	/* last wait status */
};

struct master {
	const struct cfg	*cfg;
	struct stats_shm	*shm;
	struct pipeline		*pipelines;	/* one per capture */
	const char *const	**plugin_names;	/* per capture */
	struct slot		*slots;
	unsigned		 nslots;
	int			 epfd;
	int			 sigfd;
	int			 timerfd;
	uint64_t		 started_ns;
	uint64_t		 next_stats_ns;
	uint64_t		 stop_deadline_ns;
	bool			 ready;
	bool			 stopping;
	int			 exit_code;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
master_check(const struct cfg *cfg, char *err, size_t errlen)
{
	struct sock_fprog prog;
	struct pipeline pl;

	for (size_t c = 0; c < cfg->ncaptures; c++) {
		if (capture_bpf_compile(cfg, &cfg->captures[c], &prog, err,
		    errlen) == -1)
			return -1;
		capture_bpf_free(&prog);
		if (pipeline_load(&pl, cfg, &cfg->captures[c], err,
		    errlen) == -1)
			return -1;
		pipeline_unload(&pl);
	}
	return 0;
}

static int
master_cpu_of(const struct cfg_capture *cap, unsigned i)
{
	long ncpu;

	switch (cap->affinity) {
	case CFG_AFFINITY_AUTO:
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		return (int)(i % (unsigned)(ncpu > 0 ? ncpu : 1));
	case CFG_AFFINITY_LIST:
		return cap->cpus[i % cap->ncpus];
	case CFG_AFFINITY_NONE:
	default:
		return -1;
	}
}

static const char *
slot_name(const struct master *m, const struct slot *s, char *buf,
    size_t len)
{
	snprintf(buf, len, "worker %s/%u",
	    m->cfg->captures[s->capture].name, s->wk.id);
	return buf;
}

/* Load plugins, compile filters, open every socket in worker order. */
static int
master_setup(struct master *m)
{
	const struct cfg *cfg = m->cfg;
	struct sock_fprog prog;
	char err[PLUGIN_ERR_MAX];
	unsigned n = 0;
	int fd;

	m->nslots = cfg_total_workers(cfg);
	m->pipelines = calloc(cfg->ncaptures, sizeof(*m->pipelines));
	m->plugin_names = calloc(cfg->ncaptures, sizeof(*m->plugin_names));
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (m->pipelines == NULL || m->plugin_names == NULL ||
	    m->slots == NULL) {
		log_warn("master: calloc");
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < m->nslots; i++)
		m->slots[i].wk.fd = -1;
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		if (pipeline_load(&m->pipelines[c], cfg, &cfg->captures[c], err,
		    sizeof(err)) == -1) {
			log_error("%s", err);
			return EXIT_CONFIG;
		}
		m->plugin_names[c] = m->pipelines[c].names;
	}
	m->shm = stats_create(m->nslots);
	if (m->shm == NULL) {
		log_warn("master: mmap(shared stats of %u workers)", m->nslots);
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];

		if (capture_bpf_compile(cfg, cap, &prog, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return EXIT_CONFIG;
		}
		for (unsigned i = 0; i < cap->workers; i++, n++) {
			fd = capture_open(cap, &prog, err, sizeof(err));
			if (fd == -1) {
				log_error("%s", err);
				capture_bpf_free(&prog);
				return EXIT_RUNTIME;
			}
			m->slots[n] = (struct slot){
				.wk = {
					.cfg = cfg,
					.cap = cap,
					.id = i,
					.fd = fd,
					.cpu = master_cpu_of(cap, i),
					.sw = &m->shm->workers[n],
					.pl = &m->pipelines[c],
				},
				.capture = (unsigned)c,
			};
		}
		capture_bpf_free(&prog);
		log_info("capture %s: %u workers on %s, fanout %s group %u",
		    cap->name, cap->workers, cap->interface,
		    cfg_fanout_mode_name(cap->fanout.mode), cap->fanout.group);
	}
	return 0;
}

static int
master_events(struct master *m)
{
	struct itimerspec its = {
		.it_interval = { 0, MASTER_TICK_MS * 1000000L },
		.it_value = { 0, MASTER_TICK_MS * 1000000L },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	m->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sigfd == -1 || m->timerfd == -1 || m->epfd == -1)
		return -1;
	if (timerfd_settime(m->timerfd, 0, &its, NULL) == -1)
		return -1;
	ev.data.fd = m->sigfd;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->sigfd, &ev) == -1)
		return -1;
	ev.data.fd = m->timerfd;
	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->timerfd, &ev);
}

static int
master_spawn(struct master *m, struct slot *s)
{
	char name[64];
	pid_t pid;

	STATS_STORE(&s->wk.sw->state, WORKER_STARTING);
	pid = fork();
	if (pid == -1) {
		log_warn("%s: fork", slot_name(m, s, name, sizeof(name)));
		return -1;
	}
	if (pid == 0) {
		/* Keep only this worker's socket. */
		for (unsigned i = 0; i < m->nslots; i++)
			if (&m->slots[i] != s && m->slots[i].wk.fd != -1)
				close(m->slots[i].wk.fd);
		close(m->epfd);
		close(m->sigfd);
		close(m->timerfd);
		STATS_STORE(&s->wk.sw->pid, getpid());
		exit(worker_main(&s->wk));
	}
	s->pid = pid;
	STATS_STORE(&s->wk.sw->pid, pid);
	return 0;
}

static void
master_read_kernel(struct master *m)
{
	struct tpacket_stats_v3 st;
	struct stats_worker *sw;
	char name[64];
	int rc;

	for (unsigned i = 0; i < m->nslots; i++) {
		sw = m->slots[i].wk.sw;
		if ((rc = capture_read_stats(m->slots[i].wk.fd, &st)) != 0) {
			log_warnx("%s: getsockopt(PACKET_STATISTICS): %s",
			    slot_name(m, &m->slots[i], name, sizeof(name)),
			    strerror(-rc));
			continue;
		}
		STATS_ADD(&sw->kernel_packets, st.tp_packets);
		STATS_ADD(&sw->kernel_drops, st.tp_drops);
		STATS_ADD(&sw->kernel_freeze_q, st.tp_freeze_q_cnt);
	}
}

static void
master_log_summary(struct master *m)
{
	const struct stats_worker *sw;
	uint64_t kp, kd;
	char name[64];

	for (unsigned i = 0; i < m->nslots; i++) {
		sw = m->slots[i].wk.sw;
		kp = STATS_LOAD(&sw->kernel_packets);
		kd = STATS_LOAD(&sw->kernel_drops);
		log_info("%s: %s, packets %llu, bytes %llu, kernel packets "
		    "%llu, kernel drops %llu (%.2f%%), quarantined %llu",
		    slot_name(m, &m->slots[i], name, sizeof(name)),
		    stats_state_name(STATS_LOAD(&sw->state)),
		    (unsigned long long)STATS_LOAD(&sw->packets),
		    (unsigned long long)STATS_LOAD(&sw->bytes),
		    (unsigned long long)kp, (unsigned long long)kd,
		    kp > 0 ? 100.0 * (double)kd / (double)kp : 0.0,
		    (unsigned long long)STATS_LOAD(&sw->quarantined));
	}
}

static void
master_stop(struct master *m, const char *why)
{
	char name[64];
	int rc;

	if (m->stopping)
		return;
	m->stopping = true;
	m->stop_deadline_ns = mono_ns() + MASTER_STOP_GRACE_MS * 1000000ull;
	log_info("stopping: %s", why);
	for (unsigned i = 0; i < m->nslots; i++) {
		struct slot *s = &m->slots[i];

		/* No frame enters a ring after this: workers can drain it. */
		if ((rc = capture_shut(s->wk.fd)) != 0)
			log_warnx("%s: shutting the socket: %s",
			    slot_name(m, s, name, sizeof(name)), strerror(-rc));
		STATS_STORE(&s->wk.sw->stop, 1);
		if (s->pid > 0)
			kill(s->pid, SIGTERM);
	}
}

static void
master_reaped(struct master *m, struct slot *s, int status)
{
	struct stats_worker *sw = s->wk.sw;
	char name[64];

	slot_name(m, s, name, sizeof(name));
	s->pid = 0;
	s->status = status;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_OK &&
	    m->stopping) {
		STATS_STORE(&sw->state, WORKER_STOPPED);
		log_debug("%s stopped", name);
		return;
	}
	STATS_STORE(&sw->state, WORKER_FAILED);
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_SETUP) {
		log_error("%s: setup failed: %s", name, sw->err);
		m->exit_code = EXIT_RUNTIME;
		master_stop(m, "a worker could not start");
	} else if (WIFSIGNALED(status)) {
		log_error("%s (pid %d) killed by signal %d (%s)", name,
		    (int)STATS_LOAD(&sw->pid), WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	} else {
		log_error("%s (pid %d) exited with code %d", name,
		    (int)STATS_LOAD(&sw->pid), WEXITSTATUS(status));
	}
}

static void
master_reap(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < m->nslots; i++) {
			if (m->slots[i].pid == pid) {
				master_reaped(m, &m->slots[i], status);
				break;
			}
		}
	}
}

static bool
master_all_exited(const struct master *m)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			return false;
	return true;
}

static void
master_on_signal(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
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
			master_log_summary(m);
			break;
		case SIGHUP:
			log_warnx("SIGHUP: reload is not available yet; "
			    "configuration unchanged");
			break;
		}
	}
}

static void
master_on_timer(struct master *m)
{
	uint64_t expirations, now = mono_ns();
	char name[64];
	unsigned running = 0;

	if (read(m->timerfd, &expirations, sizeof(expirations)) == -1 &&
	    errno != EAGAIN)
		log_warn("master: read(timerfd)");
	if (now >= m->next_stats_ns) {
		master_read_kernel(m);
		m->next_stats_ns = now + m->cfg->stats_interval_ns;
	}
	if (!m->ready && !m->stopping) {
		for (unsigned i = 0; i < m->nslots; i++)
			if (STATS_LOAD(&m->slots[i].wk.sw->state) ==
			    WORKER_RUNNING)
				running++;
		if (running == m->nslots) {
			m->ready = true;
			log_info("ready: %u workers on %zu captures",
			    m->nslots, m->cfg->ncaptures);
		}
	}
	if (m->stopping && now >= m->stop_deadline_ns) {
		for (unsigned i = 0; i < m->nslots; i++) {
			if (m->slots[i].pid <= 0)
				continue;
			log_warnx("%s did not stop within %d ms: SIGKILL",
			    slot_name(m, &m->slots[i], name, sizeof(name)),
			    MASTER_STOP_GRACE_MS);
			kill(m->slots[i].pid, SIGKILL);
		}
		m->stop_deadline_ns = UINT64_MAX;
	}
}

static void
master_final(struct master *m, bool foreground)
{
	struct stats_view view = {
		.cfg = m->cfg,
		.shm = m->shm,
		.plugin_names = m->plugin_names,
		.uptime_s = (double)(mono_ns() - m->started_ns) / 1e9,
	};
	json_t *doc;

	master_read_kernel(m);
	master_log_summary(m);
	if (!foreground)
		return;
	doc = stats_json(&view);
	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) == -1)
		log_warnx("final stats: cannot write the JSON document");
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(doc);
}

static void
master_free(struct master *m)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (m->slots[i].wk.fd != -1)
			close(m->slots[i].wk.fd);
	for (size_t c = 0; m->pipelines != NULL && c < m->cfg->ncaptures; c++)
		pipeline_unload(&m->pipelines[c]);
	free(m->pipelines);
	free(m->plugin_names);
	free(m->slots);
	stats_destroy(m->shm);
	if (m->epfd > 0)
		close(m->epfd);
	if (m->sigfd > 0)
		close(m->sigfd);
	if (m->timerfd > 0)
		close(m->timerfd);
}

int
master_run(const struct cfg *cfg, bool foreground)
{
	struct master m = { .cfg = cfg, .epfd = -1, .sigfd = -1,
	    .timerfd = -1 };
	struct epoll_event ev[4];
	int n, rc;

	m.started_ns = mono_ns();
	if ((rc = master_setup(&m)) != 0) {
		master_free(&m);
		return rc;
	}
	if (master_events(&m) == -1) {
		log_warn("master: event loop setup");
		master_free(&m);
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < m.nslots; i++) {
		if (master_spawn(&m, &m.slots[i]) == -1) {
			m.exit_code = EXIT_RUNTIME;
			master_stop(&m, "fork failed");
			break;
		}
	}
	m.next_stats_ns = mono_ns() + cfg->stats_interval_ns;
	while (!(m.stopping && master_all_exited(&m))) {
		n = epoll_wait(m.epfd, ev, 4, -1);
		if (n == -1 && errno != EINTR) {
			log_warn("master: epoll_wait");
			m.exit_code = EXIT_RUNTIME;
			master_stop(&m, "event loop failure");
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == m.sigfd)
				master_on_signal(&m);
			else if (ev[i].data.fd == m.timerfd)
				master_on_timer(&m);
		}
	}
	master_final(&m, foreground);
	rc = m.exit_code;
	master_free(&m);
	return rc;
}

/*
 * The master process.
 *
 * One event loop (epoll) over a signalfd, a timerfd and the control socket
 * does all the work, in a fixed order per wake-up of the timer: respawns
 * that are due, the reload's rolling restart, the stop deadline, the
 * periodic reading of the kernel's counters.  Signals are blocked and read
 * from the signalfd in order: children reaped first, then stop, then reload.
 */
#include <errno.h>
#include <pwd.h>
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

#include <bsd/libutil.h>
#include <net/if.h>
#include <pcap/dlt.h>

#include "capture.h"
#include "log.h"
#include "master_int.h"
#include "supervise.h"
#include "util.h"

/*
 * The timer's period while something is under way (start-up, a respawn, a
 * reload, a stop), and at most while nothing is: an idle master wakes
 * seldom, since every wake-up costs the CPU the workers could use.
 */
#define MASTER_TICK_NS		(50ull * 1000000u)
#define MASTER_IDLE_TICK_NS	(500ull * 1000000u)
/* How long stopping workers get to drain before SIGKILL. */
#define MASTER_STOP_GRACE_MS	5000

static int
master_user(const struct cfg *cfg, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd *pw;

	if (cfg->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "%s: user \"%s\": %s", cfg->path,
		    cfg->user, errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * Each capture's link type; an interface that does not exist is an error
 * only when sockets are to be opened on it (need_iface), otherwise
 * Ethernet is assumed, so that a file can be checked anywhere.
 */
static int
master_linktypes(const struct cfg *cfg, bool need_iface, int **out,
    char *err, size_t errlen)
{
	int *lt;

	if ((lt = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*lt))) == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		if (capture_linktype(&cfg->captures[c], &lt[c], err,
		    errlen) == 0)
			continue;
		if (need_iface || if_nametoindex(
		    cfg->captures[c].interface) != 0) {
			free(lt);
			return EXIT_RUNTIME;
		}
		lt[c] = DLT_EN10MB;
	}
	*out = lt;
	return 0;
}

/*
 * Everything about a configuration that can be known without opening a
 * socket: the user, the filters compiled for each link type, and every
 * plugin checked in a child as the workers' user.  0 or an exit code, the
 * cause in err.
 */
static int
master_validate(const struct cfg *cfg, bool need_iface, int **linktypes,
    struct plugin_info ***infos, char *err, size_t errlen)
{
	struct plugin_env *envs;
	struct sock_fprog prog;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc, *lt = NULL;

	*infos = NULL;
	if (master_user(cfg, &uid, &gid, err, errlen) == -1)
		return EXIT_CONFIG;
	if ((rc = master_linktypes(cfg, need_iface, &lt, err, errlen)) != 0)
		return rc;
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		if (capture_bpf_compile(cfg, &cfg->captures[c], lt[c], &prog,
		    err, errlen) == -1) {
			free(lt);
			return EXIT_CONFIG;
		}
		capture_bpf_free(&prog);
	}
	if ((envs = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*envs))) == NULL) {
		free(lt);
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		envs[c].cfg = cfg;
		envs[c].cap = &cfg->captures[c];
		envs[c].worker_count = cfg->captures[c].workers;
		envs[c].interface = cfg->captures[c].interface;
		envs[c].linktype = lt[c];
		envs[c].snaplen = capture_snaplen(&cfg->captures[c]);
	}
	/* Only root can become the workers' user; -t by others checks as is. */
	rc = pipeline_validate(cfg, envs, cfg->user != NULL && geteuid() == 0,
	    uid, gid, infos, err, errlen) == 0 ? 0 : EXIT_CONFIG;
	free(envs);
	if (rc != 0 || linktypes == NULL)
		free(lt);
	else
		*linktypes = lt;
	return rc;
}

int
master_check(const struct cfg *cfg, char *err, size_t errlen)
{
	struct plugin_info **infos;

	if (master_validate(cfg, false, NULL, &infos, err, errlen) != 0)
		return -1;
	pipeline_info_free(infos, cfg->ncaptures);
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
slot_name(const struct slot *s, char *buf, size_t len)
{
	snprintf(buf, len, "worker %s/%u", s->wk.cap->name, s->wk.id);
	return buf;
}

/* Point every slot of the generation at its configuration. */
static void
gen_bind_slots(struct gen *g, uid_t uid, gid_t gid)
{
	for (unsigned i = 0; i < g->nslots; i++) {
		struct slot *s = &g->slots[i];

		s->wk.cfg = g->cfg;
		s->wk.cap = &g->cfg->captures[s->capture];
		s->wk.info = g->infos[s->capture];
		s->wk.mem = g->mems[i];
		s->wk.linktype = g->linktypes[s->capture];
		s->wk.snaplen = capture_snaplen(s->wk.cap);
		s->wk.drop_privileges = g->cfg->user != NULL;
		s->wk.master_pid = getpid();
		s->wk.uid = uid;
		s->wk.gid = gid;
	}
}

static void
gen_mems_free(struct plugin_mem *mems, size_t n)
{
	for (size_t k = 0; mems != NULL && k < n; k++)
		plugin_mem_unmap(&mems[k]);
	free(mems);
}

/* Host memory for one slot of a pipeline as validated; NULL on failure. */
static struct plugin_mem *
gen_mems_map(const struct plugin_info *info, size_t n, char *err,
    size_t errlen)
{
	struct plugin_mem *mems;
	int rc;

	if ((mems = calloc(n ? n : 1, sizeof(*mems))) == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		if ((rc = plugin_mem_map(&mems[k], &info[k])) != 0) {
			snprintf(err, errlen, "plugin %s: mmap(%llu bytes of "
			    "host memory): %s", info[k].name,
			    (unsigned long long)info[k].memory_size,
			    strerror(-rc));
			gen_mems_free(mems, k);
			return NULL;
		}
	}
	return mems;
}

/* The names stats are shown under, for capture c. */
static int
gen_names(struct gen *g, size_t c)
{
	size_t n = g->cfg->captures[c].npipeline;
	const char **names;

	if ((names = calloc(n ? n : 1, sizeof(*names))) == NULL)
		return -1;
	for (size_t k = 0; k < n; k++)
		names[k] = g->infos[c][k].name;
	free(g->plugin_names[c]);
	g->plugin_names[c] = names;
	return 0;
}

/* Frees what gen_build built; the sockets are closed, no worker runs. */
static void
gen_free(struct gen *g)
{
	size_t nc = g->cfg != NULL ? g->cfg->ncaptures : 0;

	for (unsigned i = 0; g->slots != NULL && i < g->nslots; i++) {
		if (g->slots[i].wk.fd != -1)
			close(g->slots[i].wk.fd);
		if (g->mems != NULL)
			gen_mems_free(g->mems[i], g->cfg->captures[
			    g->slots[i].capture].npipeline);
	}
	for (size_t c = 0; g->locks != NULL && c < nc; c++)
		capture_unlock(g->locks[c], &g->cfg->captures[c],
		    g->groups[c]);
	free(g->locks);
	for (size_t c = 0; g->plugin_names != NULL && c < nc; c++)
		free(g->plugin_names[c]);
	free(g->plugin_names);
	pipeline_info_free(g->infos, nc);
	free(g->linktypes);
	free(g->mems);
	free(g->first_slot);
	free(g->groups);
	free(g->slots);
	stats_destroy(g->shm);
	if (g->cfg != NULL) {
		cfg_free(g->cfg);
		free(g->cfg);
	}
	memset(g, 0, sizeof(*g));
}

/*
 * The fanout group a capture of the new generation joins: the configured
 * one, unless a capture of the retiring generation still holds that id; the
 * kernel would then add the new sockets to the old group.
 */
static int
gen_group(const struct gen *busy, uint16_t want)
{
	for (size_t c = 0; busy != NULL && busy->cfg != NULL &&
	    c < busy->cfg->ncaptures; c++)
		if (busy->groups[c] == want)
			return -1;
	return want;
}

/*
 * Build generation g from g->cfg: load plugins, compile filters, open every
 * socket in worker order.  Returns 0 or an exit code, the cause logged.
 */
static int
gen_build(struct gen *g, const struct gen *busy, char *err, size_t errlen)
{
	const struct cfg *cfg = g->cfg;
	struct sock_fprog prog;
	unsigned n = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	int fd, group, rc;

	if (master_user(cfg, &uid, &gid, err, errlen) == -1)
		return EXIT_CONFIG;
	g->nslots = cfg_total_workers(cfg);
	g->plugin_names = calloc(cfg->ncaptures, sizeof(*g->plugin_names));
	g->first_slot = calloc(cfg->ncaptures, sizeof(*g->first_slot));
	g->groups = calloc(cfg->ncaptures, sizeof(*g->groups));
	g->slots = calloc(g->nslots, sizeof(*g->slots));
	g->mems = calloc(g->nslots, sizeof(*g->mems));
	g->locks = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*g->locks));
	if (g->plugin_names == NULL || g->first_slot == NULL ||
	    g->groups == NULL || g->slots == NULL || g->mems == NULL ||
	    g->locks == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++)
		g->locks[c] = -1;
	for (unsigned i = 0; i < g->nslots; i++)
		g->slots[i].wk.fd = -1;
	if ((rc = master_validate(cfg, true, &g->linktypes, &g->infos, err,
	    errlen)) != 0)
		return rc;
	for (size_t c = 0; c < cfg->ncaptures; c++)
		if (gen_names(g, c) == -1) {
			snprintf(err, errlen, "master: %s", strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
	g->shm = stats_create(g->nslots);
	if (g->shm == NULL) {
		snprintf(err, errlen, "master: mmap(shared stats of %u workers): "
		    "%s", g->nslots, strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];

		if (capture_bpf_compile(cfg, cap, g->linktypes[c], &prog, err,
		    errlen) == -1)
			return EXIT_CONFIG;
		g->first_slot[c] = n;
		group = gen_group(busy, cap->fanout.group);
		/*
		 * A configured group is claimed first: joining one that
		 * another ringfan (or its orphans) uses would split the
		 * traffic with it silently.  A kernel-made id is unique.
		 */
		if (group >= 0) {
			g->groups[c] = (uint16_t)group;
			if ((g->locks[c] = capture_lock(cap, group, err,
			    errlen)) == -1) {
				capture_bpf_free(&prog);
				return EXIT_RUNTIME;
			}
		}
		for (unsigned i = 0; i < cap->workers; i++, n++) {
			g->slots[n].capture = (unsigned)c;
			g->mems[n] = gen_mems_map(g->infos[c], cap->npipeline,
			    err, errlen);
			fd = g->mems[n] == NULL ? -1 : capture_open(cap, &prog,
			    group, err, errlen);
			if (fd == -1) {
				capture_bpf_free(&prog);
				return EXIT_RUNTIME;
			}
			/* The others join the group the first one made. */
			if (group < 0)
				group = capture_group(fd);
			g->slots[n].wk.id = i;
			g->slots[n].wk.fd = fd;
			g->slots[n].wk.cpu = master_cpu_of(cap, i);
			g->slots[n].wk.sw = &g->shm->workers[n];
		}
		capture_bpf_free(&prog);
		g->groups[c] = (uint16_t)group;
		log_info("capture %s: %u workers on %s, fanout %s group %d",
		    cap->name, cap->workers, cap->interface,
		    cfg_fanout_mode_name(cap->fanout.mode), group);
	}
	gen_bind_slots(g, uid, gid);
	return 0;
}

int
master_watch(struct master *m, struct ev_src *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, src->fd, &ev);
}

void
master_unwatch(struct master *m, struct ev_src *src)
{
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

static void master_on_signal(struct master *, struct ev_src *, uint32_t);
static void master_rollback(struct master *, struct slot *);
static void master_prev_free(struct master *);
static void master_handover_step(struct master *);
static void master_reload_queued(struct master *);
static void master_revive(struct master *, struct slot *);
static void master_on_timer(struct master *, struct ev_src *, uint32_t);

static int
master_events(struct master *m)
{
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
	m->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	m->sig.fn = master_on_signal;
	m->timer.fd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	m->timer.fn = master_on_timer;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sig.fd == -1 || m->timer.fd == -1 || m->epfd == -1)
		return -1;
	if (master_watch(m, &m->sig, EPOLLIN) == -1)
		return -1;
	return master_watch(m, &m->timer, EPOLLIN);
}

/* The generations with workers: the current, and one retiring. */
static unsigned
master_gens(struct master *m, struct gen **gens)
{
	gens[0] = &m->g;
	gens[1] = &m->old;
	return m->old.cfg != NULL ? 2 : 1;
}

#define FOREACH_SLOT(m, s)						\
	for (struct gen *gens_[2], **gp_ = gens_,			\
	    **ge_ = gens_ + master_gens((m), gens_); gp_ < ge_; gp_++)	\
		for (struct slot *s = (*gp_)->slots;			\
		    s < (*gp_)->slots + (*gp_)->nslots; s++)

static int
master_spawn(struct master *m, struct slot *s)
{
	char name[64];
	pid_t pid;

	STATS_STORE(&s->wk.sw->state, WORKER_STARTING);
	/* A respawned retiring worker still has to drain and go. */
	if (STATS_LOAD(&s->wk.sw->stop) != WORKER_STOP_DRAIN)
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_NONE);
	s->wk.sw->err[0] = '\0';
	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		log_warn("%s: fork", slot_name(s, name, sizeof(name)));
		return -1;
	}
	if (pid == 0) {
		/* Keep only this worker's socket. */
		FOREACH_SLOT(m, o) {
			if (o == s)
				continue;
			if (o->wk.fd != -1)
				close(o->wk.fd);
			/* Another worker's host memory is not this one's. */
			for (size_t k = 0; o->wk.mem != NULL &&
			    k < o->wk.cap->npipeline; k++)
				plugin_mem_unmap(&o->wk.mem[k]);
		}
		for (unsigned i = 0; m->prev.mems != NULL && i < m->g.nslots;
		    i++)
			for (size_t k = 0; m->prev.mems[i] != NULL && k <
			    m->prev.cfg->captures[m->g.slots[i].capture].npipeline;
			    k++)
				plugin_mem_unmap(&m->prev.mems[i][k]);
		ctl_close(m);
		close(m->epfd);
		close(m->sig.fd);
		close(m->timer.fd);
		if (m->opts.pidfile != NULL)
			pidfile_close(m->opts.pidfile);
		STATS_STORE(&s->wk.sw->pid, getpid());
		exit(worker_main(&s->wk));
	}
	s->pid = pid;
	STATS_STORE(&s->wk.sw->pid, pid);
	return 0;
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
		if ((rc = capture_read_stats(s->wk.fd, &st)) != 0) {
			log_warnx("%s: getsockopt(PACKET_STATISTICS): %s",
			    slot_name(s, name, sizeof(name)), strerror(-rc));
			continue;
		}
		STATS_ADD(&sw->kernel_packets, st.tp_packets);
		STATS_ADD(&sw->kernel_drops, st.tp_drops);
		STATS_ADD(&sw->kernel_freeze_q, st.tp_freeze_q_cnt);
	}
}

json_t *
master_stats_json(struct master *m)
{
	struct stats_view view = {
		.cfg = m->g.cfg,
		.shm = m->g.shm,
		.plugin_names = (const char *const *const *)m->g.plugin_names,
		.first_slot = m->g.first_slot,
		.groups = m->g.groups,
		.uptime_s = (double)(mono_ns() - m->started_ns) / 1e9,
	};

	master_read_kernel(m);
	return stats_json(&view);
}

static void
master_log_summary(struct master *m)
{
	const struct stats_worker *sw;
	const struct stats_field *f;
	uint64_t v, whole;
	char name[64], line[512];
	size_t n;

	for (unsigned i = 0; i < m->g.nslots; i++) {
		sw = m->g.slots[i].wk.sw;
		n = 0;
		line[0] = '\0';
		/* The fields of stats.c that have a label, in its order. */
		for (size_t k = 0; k < STATS_NFIELDS && n < sizeof(line); k++) {
			f = &stats_fields[k];
			if (f->label == NULL)
				continue;
			v = stats_field_value(sw, f);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    ", %s %llu", f->label, (unsigned long long)v);
			if (f->share_of == NULL || n >= sizeof(line))
				continue;
			whole = stats_value(sw, f->share_of);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " (%.2f%%)", whole > 0 ?
			    100.0 * (double)v / (double)whole : 0.0);
		}
		log_info("%s: %s%s",
		    slot_name(&m->g.slots[i], name, sizeof(name)),
		    stats_state_name(STATS_LOAD(&sw->state)), line);
	}
}

const char *
master_capture_state(const struct master *m, unsigned c, unsigned *running)
{
	bool failed = false;
	unsigned n = 0, total = 0;

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
	if (failed)
		return "failed";
	return n == total ? "running" : "degraded";
}

void
master_stop(struct master *m, const char *why)
{
	char name[64];
	int rc;

	if (m->stopping)
		return;
	m->stopping = true;
	m->stop_deadline_ns = mono_ns() + MASTER_STOP_GRACE_MS * 1000000ull;
	log_info("stopping: %s", why);
	ctl_reload_done(m, "reload: stopping before every worker took it");
	ctl_reload_queued(m, NULL, "reload: stopping before it could run");
	FOREACH_SLOT(m, s) {
		/* No frame enters a ring after this: workers can drain it. */
		if ((rc = capture_shut(s->wk.fd)) != 0)
			log_warnx("%s: shutting the socket: %s",
			    slot_name(s, name, sizeof(name)), strerror(-rc));
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_DRAIN);
		if (s->pid > 0)
			kill(s->pid, SIGTERM);
		else if (STATS_LOAD(&s->wk.sw->state) == WORKER_BACKOFF)
			STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
	}
}

/* A crash: respawn after a doubling delay, or give up on a crash loop. */
static void
master_crashed(struct slot *s, const char *name)
{
	struct stats_worker *sw = s->wk.sw;
	uint64_t now = mono_ns();
	struct supervise_verdict v = supervise_crash(s->crashes, &s->ncrashes,
	    &s->nfailed, now);

	_Static_assert(sizeof(s->crashes) / sizeof(s->crashes[0]) ==
	    SUPERVISE_CRASH_LIMIT, "the slot keeps the crashes the policy counts");

	s->respawn_at = now + v.delay_ns;
	if (v.failed) {
		STATS_STORE(&sw->state, WORKER_FAILED);
		STATS_STORE(&sw->pid, 0);
		log_error("%s crashed %u times within %llu s: not respawned "
		    "for %llu s; capture %s failed", name, v.recent,
		    SUPERVISE_CRASH_WINDOW_NS / 1000000000ull,
		    (unsigned long long)(v.delay_ns / 1000000000u),
		    s->wk.cap->name);
		return;
	}
	STATS_STORE(&sw->state, WORKER_BACKOFF);
	log_info("%s: respawning in %llu ms", name,
	    (unsigned long long)(v.delay_ns / 1000000u));
}

/* Start a worker that has no process now, with a clean crash record. */
static void
master_revive(struct master *m, struct slot *s)
{
	char name[64];

	s->ncrashes = 0;
	s->nretries = 0;
	s->respawn_at = 0;
	if (master_spawn(m, s) == -1)
		master_crashed(s, slot_name(s, name, sizeof(name)));
}

int
master_restart(struct master *m, const char *target, json_t *names,
    char *err, size_t errlen)
{
	const char *slash = strchr(target, '/'), *errstr = NULL;
	size_t clen = slash != NULL ? (size_t)(slash - target) :
	    strlen(target), c;
	long long id = -1;
	char name[64];

	if (m->stopping) {
		snprintf(err, errlen, "stopping");
		return -1;
	}
	for (c = 0; c < m->g.cfg->ncaptures; c++)
		if (strlen(m->g.cfg->captures[c].name) == clen &&
		    strncmp(m->g.cfg->captures[c].name, target, clen) == 0)
			break;
	if (clen == 0 || c == m->g.cfg->ncaptures) {
		snprintf(err, errlen, "restart %s: no such capture", target);
		return -1;
	}
	if (slash != NULL && ((id = strtonum(slash + 1, 0,
	    (long long)m->g.cfg->captures[c].workers - 1, &errstr)),
	    errstr != NULL)) {
		snprintf(err, errlen, "restart %s: capture %s has workers 0 to "
		    "%u", target, m->g.cfg->captures[c].name,
		    m->g.cfg->captures[c].workers - 1);
		return -1;
	}
	if (master_reload_busy(m) || m->swap != SWAP_NONE) {
		snprintf(err, errlen, "restart %s: a reload is in progress",
		    target);
		return -1;
	}
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (m->g.slots[i].capture == c && (id < 0 ||
		    m->g.slots[i].wk.id == (unsigned)id))
			json_array_append_new(names, json_string(slot_name(
			    &m->g.slots[i], name, sizeof(name)) +
			    strlen("worker ")));
	/* The handover list is taken from its end: worker 0 first. */
	m->nhandover = 0;
	for (unsigned i = m->g.nslots; i-- > 0;) {
		struct slot *s = &m->g.slots[i];

		if (s->capture != c || (id >= 0 && s->wk.id != (unsigned)id))
			continue;
		if (s->pid <= 0)
			master_revive(m, s);
		else
			m->handover[m->nhandover++] = i;
	}
	log_info("restart %s: %zu worker%s", target, json_array_size(names),
	    json_array_size(names) == 1 ? "" : "s");
	master_handover_step(m);
	return 0;
}

static void
master_reaped(struct master *m, struct slot *s, int status)
{
	struct stats_worker *sw = s->wk.sw;
	uint32_t stop = STATS_LOAD(&sw->stop);
	char name[64];

	slot_name(s, name, sizeof(name));
	s->pid = 0;
	if (WIFSIGNALED(status))
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "exited with code %d", WEXITSTATUS(status));

	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_OK) {
		if (stop == WORKER_STOP_DRAIN || m->stopping) {
			STATS_STORE(&sw->state, WORKER_STOPPED);
			log_debug("%s stopped", name);
			return;
		}
		if (stop == WORKER_STOP_HANDOVER) {
			/* A reload's restart: the successor takes the ring. */
			if (master_spawn(m, s) == -1)
				master_crashed(s, name);
			return;
		}
	}
	/*
	 * Not a clean exit: its levels and problems were the state of a
	 * process that is gone, and no one writes them any more.
	 */
	stats_worker_gone(sw);
	if (m->stopping) {
		STATS_STORE(&sw->state, WORKER_STOPPED);
		log_warnx("%s (pid %d) %s while stopping", name,
		    (int)STATS_LOAD(&sw->pid), s->last_exit);
		return;
	}
	if (WIFEXITED(status) && (WEXITSTATUS(status) == WORKER_EXIT_RETRY ||
	    WEXITSTATUS(status) == WORKER_EXIT_SETUP) && m->prev.cfg != NULL &&
	    m->prev.changed[s->capture]) {
		master_rollback(m, s);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_RETRY) {
		/* A plugin lacks a resource for now: no crash, no limit. */
		uint64_t backoff = supervise_retry(&s->nretries);

		s->respawn_at = mono_ns() + backoff;
		STATS_STORE(&sw->state, WORKER_BACKOFF);
		log_warnx("%s: %s; retrying in %llu ms", name, sw->err,
		    (unsigned long long)(backoff / 1000000u));
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_SETUP) {
		/* Respawning cannot help: the same setup would fail again. */
		s->respawn_at = 0;
		STATS_STORE(&sw->state, WORKER_FAILED);
		STATS_STORE(&sw->pid, 0);
		log_error("%s: setup failed: %s", name, sw->err);
		if (!m->ready) {
			m->exit_code = EXIT_RUNTIME;
			master_stop(m, "a worker could not start");
		}
		return;
	}
	log_error("%s (pid %d) %s", name, (int)STATS_LOAD(&sw->pid),
	    s->last_exit);
	STATS_ADD(&sw->restarts, 1);
	master_crashed(s, name);
}

static void
master_reap(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		FOREACH_SLOT(m, s) {
			if (s->pid == pid) {
				master_reaped(m, s, status);
				break;
			}
		}
	}
}

static bool
gen_all_exited(const struct gen *g)
{
	for (unsigned i = 0; i < g->nslots; i++)
		if (g->slots[i].pid > 0)
			return false;
	return true;
}

static bool
master_all_exited(const struct master *m)
{
	return gen_all_exited(&m->g) && gen_all_exited(&m->old);
}

static void
master_on_signal(struct master *m, struct ev_src *src, uint32_t events)
{
	struct signalfd_siginfo si;
	char err[512];
	const char *res;

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
			master_log_summary(m);
			break;
		case SIGHUP:
			if (master_reload_busy(m)) {
				/* The latest file wins, once this one is done. */
				m->reload_again = true;
				log_info("reload: queued behind the one under way");
				break;
			}
			if ((res = master_reload(m, err, sizeof(err))) == NULL)
				log_error("reload failed, configuration "
				    "unchanged: %s", err);
			else
				log_info("reload: %s", res);
			break;
		}
	}
}

/*
 * A capture reload: build the new generation beside the current one, start
 * its workers, and hand over at a cut-over time T.  Every socket stamps a
 * frame with the same receive time (SO_TIMESTAMPNS), and both generations
 * see every frame while both are open: old workers take the frames stamped
 * before T, new ones those from T on, so none is lost or seen twice.
 */
static const char *
master_swap_begin(struct master *m, struct cfg *nc, char *err, size_t errlen)
{
	unsigned *handover;
	struct gen g = { 0 };
	int rc;

	if ((g.cfg = malloc(sizeof(*g.cfg))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		cfg_free(nc);
		goto fail;
	}
	*g.cfg = *nc;
	if ((rc = gen_build(&g, &m->g, err, errlen)) != 0)
		goto fail;
	if ((handover = calloc(g.nslots, sizeof(*handover))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}
	free(m->handover);
	m->handover = handover;
	m->old = m->g;
	m->g = g;
	/* Until T is known the new workers take nothing. */
	for (unsigned i = 0; i < m->g.nslots; i++)
		STATS_STORE(&m->g.slots[i].wk.sw->cut_from, UINT64_MAX);
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (master_spawn(m, &m->g.slots[i]) == -1)
			master_crashed(&m->g.slots[i], "new worker");
	m->swap = SWAP_STARTING;
	m->swap_at = mono_ns() + MASTER_SWAP_START_NS;
	m->reloads++;
	m->last_reload_error[0] = '\0';
	log_set_level(m->g.cfg->log.level);
	log_info("reload %s: new sockets built, starting %u workers",
	    m->g.cfg->path, m->g.nslots);
	return "captures";
fail:
	gen_free(&g);
	strlcpy(m->last_reload_error, err, sizeof(m->last_reload_error));
	return NULL;
}

/* Give up a swap whose new workers did not all start: keep the old. */
static void
master_swap_abort(struct master *m, const char *why)
{
	unsigned *handover;

	log_error("reload: %s; keeping the previous captures", why);
	snprintf(m->last_reload_error, sizeof(m->last_reload_error),
	    "reload: %s", why);
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (m->g.slots[i].pid > 0)
			kill(m->g.slots[i].pid, SIGKILL);
	gen_free(&m->g);
	m->g = m->old;
	memset(&m->old, 0, sizeof(m->old));
	if ((handover = calloc(m->g.nslots, sizeof(*handover))) != NULL) {
		free(m->handover);
		m->handover = handover;
	}
	m->swap = SWAP_NONE;
	ctl_reload_done(m, m->last_reload_error);
}

/* The retiring generation has exited: its counters go to the new slots. */
static void
master_retire(struct master *m)
{
	const struct cfg *nc = m->g.cfg;
	struct slot *o;
	size_t c;

	master_read_kernel(m);
	for (unsigned i = 0; i < m->old.nslots; i++) {
		o = &m->old.slots[i];
		for (c = 0; c < nc->ncaptures; c++)
			if (strcmp(nc->captures[c].name, o->wk.cap->name) == 0)
				break;
		if (c == nc->ncaptures) {
			log_info("capture %s removed: worker %u had handled "
			    "%llu frames", o->wk.cap->name, o->wk.id,
			    (unsigned long long)STATS_LOAD(&o->wk.sw->packets));
			continue;
		}
		stats_carry(m->g.slots[m->g.first_slot[c] + o->wk.id %
		    nc->captures[c].workers].wk.sw, o->wk.sw);
	}
	gen_free(&m->old);
	m->swap = SWAP_NONE;
	log_info("reload: captures handed over");
	ctl_reload_done(m, NULL);
}

static void
master_swap_step(struct master *m, uint64_t now)
{
	uint64_t cut, tov = 0;
	unsigned running = 0;
	char name[64];

	switch (m->swap) {
	case SWAP_NONE:
		return;
	case SWAP_STARTING:
		for (unsigned i = 0; i < m->g.nslots; i++) {
			uint32_t st = STATS_LOAD(&m->g.slots[i].wk.sw->state);

			if (st == WORKER_FAILED || st == WORKER_BACKOFF) {
				snprintf(name, sizeof(name), "new worker %s/%u "
				    "did not start", m->g.slots[i].wk.cap->name,
				    m->g.slots[i].wk.id);
				master_swap_abort(m, name);
				return;
			}
			running += st == WORKER_RUNNING;
		}
		if (running < m->g.nslots) {
			if (now >= m->swap_at)
				master_swap_abort(m, "new workers did not start "
				    "in time");
			return;
		}
		cut = clock_ns(CLOCK_REALTIME) + MASTER_SWAP_CUT_NS;
		for (unsigned i = 0; i < m->old.nslots; i++) {
			STATS_STORE(&m->old.slots[i].wk.sw->cut_until, cut);
			if (m->old.slots[i].wk.cap->ring.block_timeout_ms > tov)
				tov = m->old.slots[i].wk.cap->ring.block_timeout_ms;
		}
		for (unsigned i = 0; i < m->g.nslots; i++)
			STATS_STORE(&m->g.slots[i].wk.sw->cut_from, cut);
		/* Past T, and past the old rings' last block before T. */
		m->swap_at = now + 2 * MASTER_SWAP_CUT_NS + tov * 1000000u;
		m->swap = SWAP_CUTTING;
		return;
	case SWAP_CUTTING:
		if (now < m->swap_at)
			return;
		for (unsigned i = 0; i < m->old.nslots; i++) {
			struct slot *s = &m->old.slots[i];

			capture_shut(s->wk.fd);
			STATS_STORE(&s->wk.sw->stop, WORKER_STOP_DRAIN);
			if (s->pid > 0)
				kill(s->pid, SIGTERM);
			else if (STATS_LOAD(&s->wk.sw->state) != WORKER_BACKOFF)
				STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		}
		m->swap = SWAP_RETIRING;
		return;
	case SWAP_RETIRING:
		if (gen_all_exited(&m->old))
			master_retire(m);
		return;
	}
}

/* The reload's rolling restart: one worker at a time, each once running. */
static void
master_handover_step(struct master *m)
{
	struct slot *s;
	uint32_t state;

	if (m->handing >= 0) {
		s = &m->g.slots[m->handing];
		state = STATS_LOAD(&s->wk.sw->state);
		if (state == WORKER_RESTARTING || state == WORKER_STARTING)
			return;		/* still on its way */
		m->handing = -1;
	}
	if (m->nhandover == 0 && m->handing < 0) {
		/* Every worker runs the new pipeline: it has stood. */
		if (m->prev.cfg != NULL) {
			master_prev_free(m);
			ctl_reload_done(m, NULL);
		} else if (m->rolling_back) {
			m->rolling_back = false;
			ctl_reload_done(m, m->last_reload_error);
		}
		return;
	}
	while (m->nhandover > 0 && m->handing < 0) {
		s = &m->g.slots[m->handover[--m->nhandover]];
		if (s->pid <= 0) {
			/*
			 * Failed, or waiting to be respawned: start it now on
			 * the new pipeline, which may be what it waited for,
			 * and count the reload done only once it runs.
			 */
			s->ncrashes = 0;
			s->nretries = 0;
			if (master_spawn(m, s) == 0)
				m->handing = (int)(s - m->g.slots);
			continue;
		}
		m->handing = (int)(s - m->g.slots);
		STATS_STORE(&s->wk.sw->state, WORKER_RESTARTING);
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_HANDOVER);
		kill(s->pid, SIGTERM);
	}
}

static void
master_on_timer(struct master *m, struct ev_src *src, uint32_t events)
{
	uint64_t expirations, now = mono_ns();
	char name[64];
	unsigned running = 0;

	(void)src;
	(void)events;
	if (read(m->timer.fd, &expirations, sizeof(expirations)) == -1 &&
	    errno != EAGAIN)
		log_warn("master: read(timerfd)");
	FOREACH_SLOT(m, s) {
		if (STATS_LOAD(&s->wk.sw->state) == WORKER_RUNNING)
			s->nretries = 0;
		if (!m->stopping && s->pid <= 0 &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_FAILED &&
		    s->respawn_at != 0 && now >= s->respawn_at) {
			log_info("%s: cool-down over, starting it again",
			    slot_name(s, name, sizeof(name)));
			master_revive(m, s);
		}
		if (!m->stopping &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_BACKOFF &&
		    now >= s->respawn_at && master_spawn(m, s) == -1)
			master_crashed(s, slot_name(s, name,
			    sizeof(name)));
	}
	if (!m->stopping) {
		master_handover_step(m);
		master_swap_step(m, now);
		master_reload_queued(m);
	}
	if (now >= m->next_stats_ns) {
		master_read_kernel(m);
		m->next_stats_ns = now + m->g.cfg->stats_interval_ns;
	}
	if (!m->ready && !m->stopping) {
		for (unsigned i = 0; i < m->g.nslots; i++)
			if (STATS_LOAD(&m->g.slots[i].wk.sw->state) ==
			    WORKER_RUNNING)
				running++;
		if (running == m->g.nslots) {
			m->ready = true;
			log_info("ready: %u workers on %zu capture%s",
			    m->g.nslots, m->g.cfg->ncaptures,
			    m->g.cfg->ncaptures == 1 ? "" : "s");
		}
	}
	if (m->stopping && now >= m->stop_deadline_ns) {
		FOREACH_SLOT(m, s) {
			if (s->pid <= 0)
				continue;
			log_warnx("%s did not stop within %d ms: SIGKILL",
			    slot_name(s, name, sizeof(name)),
			    MASTER_STOP_GRACE_MS);
			kill(s->pid, SIGKILL);
		}
		m->stop_deadline_ns = UINT64_MAX;
	}
}

/* What cfg_diff reports of a key that only a restart of ringfan applies. */
static void
reload_restart_key(const char *key)
{
	log_warnx("reload: %s changes at the next start", key);
}

/*
 * Host memory for every slot of the changed captures of nc, as validated
 * in infos; mems[slot] stays NULL for the others.  0, or -1 with err set.
 */
static int
master_map_changed(struct master *m, const struct cfg *nc,
    struct plugin_info **infos, const bool *changed, struct plugin_mem **mems,
    char *err, size_t errlen)
{
	const struct gen *g = &m->g;
	unsigned c;

	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (changed[c] && (mems[i] = gen_mems_map(infos[c],
		    nc->captures[c].npipeline, err, errlen)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Move the changed captures of the current generation to the pipelines
 * validated in infos, with the memory of master_map_changed().  A running
 * worker keeps its own mapping of the old memory until it exits.
 */
static void
master_commit_pipelines(struct master *m, const struct cfg *nc,
    struct plugin_info **infos, const bool *changed, struct plugin_mem **mems)
{
	struct gen *g = &m->g;
	unsigned c;

	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (!changed[c])
			continue;
		m->prev.mems[i] = g->mems[i];
		g->mems[i] = mems[i];
		mems[i] = NULL;
	}
	for (c = 0; c < nc->ncaptures; c++) {
		if (!changed[c])
			continue;
		m->prev.infos[c] = g->infos[c];
		g->infos[c] = infos[c];
		infos[c] = NULL;
	}
}

/* Free what a reload replaced: every worker runs the new pipeline. */
static void
master_prev_free(struct master *m)
{
	struct reload_prev *p = &m->prev;
	size_t nc;

	if (p->cfg == NULL)
		return;
	nc = p->cfg->ncaptures;
	for (unsigned i = 0; p->mems != NULL && i < m->g.nslots; i++)
		if (p->mems[i] != NULL)
			gen_mems_free(p->mems[i], p->cfg->captures[
			    m->g.slots[i].capture].npipeline);
	free(p->mems);
	pipeline_info_free(p->infos, nc);
	free(p->changed);
	cfg_free(p->cfg);
	free(p->cfg);
	memset(p, 0, sizeof(*p));
}

/*
 * A worker failed on the pipeline a reload brought: every worker goes back
 * to the previous one.  Those still on it keep running; those restarted
 * already are handed over again; the failed one starts at once.
 */
static void
master_rollback(struct master *m, struct slot *failed)
{
	struct reload_prev *p = &m->prev;
	struct gen *g = &m->g;
	struct cfg *nc = g->cfg;
	bool *pending;
	char name[64], uerr[256];
	uid_t uid = 0;
	gid_t gid = 0;
	unsigned c;

	snprintf(m->last_reload_error, sizeof(m->last_reload_error),
	    "reload: %s: %s; every worker is back on the previous pipeline",
	    slot_name(failed, name, sizeof(name)), failed->wk.sw->err);
	log_error("%s", m->last_reload_error);
	if ((pending = calloc(g->nslots, sizeof(*pending))) == NULL) {
		log_warn("rollback");
		return;
	}
	for (unsigned k = 0; k < m->nhandover; k++)
		pending[m->handover[k]] = true;
	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (!p->changed[c])
			continue;
		gen_mems_free(g->mems[i], nc->captures[c].npipeline);
		g->mems[i] = p->mems[i];
		p->mems[i] = NULL;
	}
	for (c = 0; c < nc->ncaptures; c++) {
		if (!p->changed[c])
			continue;
		free(g->infos[c]);
		g->infos[c] = p->infos[c];
		p->infos[c] = NULL;
	}
	g->cfg = p->cfg;
	p->cfg = NULL;
	for (c = 0; c < g->cfg->ncaptures; c++)
		if (p->changed[c])
			gen_names(g, c);
	master_user(g->cfg, &uid, &gid, uerr, sizeof(uerr));
	gen_bind_slots(g, uid, gid);
	log_set_level(g->cfg->log.level);
	/*
	 * Restarted on the new pipeline already, or the one that failed on
	 * it: hand over once more, the failed one first.  The reload is
	 * answered once they all run the previous pipeline again.
	 */
	m->nhandover = 0;
	for (unsigned i = g->nslots; i-- > 0;)
		if (p->changed[g->slots[i].capture] && !pending[i] &&
		    &g->slots[i] != failed)
			m->handover[m->nhandover++] = i;
	m->handover[m->nhandover++] = (unsigned)(failed - g->slots);
	m->handing = -1;
	m->rolling_back = true;
	free(pending);
	p->cfg = nc;		/* freed below with the rest */
	master_prev_free(m);
	STATS_STORE(&failed->wk.sw->err[0], '\0');
	master_handover_step(m);
}

bool
master_reload_busy(const struct master *m)
{
	return master_reload_pending(m) || m->nhandover > 0 || m->handing >= 0;
}

/* Run the reload asked for while another was under way, once it is over. */
static void
master_reload_queued(struct master *m)
{
	char err[512];
	const char *res;

	if (!m->reload_again || m->stopping || master_reload_busy(m))
		return;
	m->reload_again = false;
	if ((res = master_reload(m, err, sizeof(err))) == NULL)
		log_error("queued reload failed, configuration unchanged: %s",
		    err);
	else
		log_info("queued reload: %s", res);
	ctl_reload_queued(m, res, err);
}

bool
master_reload_pending(const struct master *m)
{
	return m->prev.cfg != NULL || m->rolling_back || m->swap != SWAP_NONE;
}

const char *
master_reload(struct master *m, char *err, size_t errlen)
{
	struct cfg *old = m->g.cfg, nc, *ncfg = NULL;
	struct plugin_info **infos = NULL;
	struct plugin_mem **mems = NULL;
	bool *changed = NULL, any = false, everything;
	const char *res = NULL;
	uid_t uid = 0;
	gid_t gid = 0;

	if (m->opts.config_path == NULL) {
		snprintf(err, errlen, "no configuration file to reload "
		    "(started with -i)");
		goto fail_early;
	}
	if (m->stopping) {
		snprintf(err, errlen, "stopping");
		goto fail_early;
	}
	if (m->nhandover > 0 || m->handing >= 0 || master_reload_pending(m)) {
		snprintf(err, errlen, "a reload is still in progress");
		goto fail_early;
	}
	if (cfg_load(&nc, m->opts.config_path, err, errlen) != 0)
		goto fail_early;
	if (m->swap != SWAP_NONE) {
		snprintf(err, errlen, "a reload is still in progress");
		goto fail;
	}
	/* The number of captures is a key of the global diff. */
	if (cfg_diff(old, &nc, CFG_DIFF_GLOBAL, NULL) & CFG_RELOAD_CAPTURE)
		goto captures;
	for (size_t c = 0; c < nc.ncaptures; c++)
		if (cfg_diff(old, &nc, c, NULL) & CFG_RELOAD_CAPTURE)
			goto captures;
	if (master_validate(&nc, true, NULL, &infos, err, errlen) != 0 ||
	    master_user(&nc, &uid, &gid, err, errlen) != 0)
		goto fail;
	/* A new user or plugin path concerns every worker. */
	everything = (cfg_diff(old, &nc, CFG_DIFF_GLOBAL, reload_restart_key) &
	    CFG_RELOAD_PIPELINE) != 0;
	if ((changed = calloc(nc.ncaptures, sizeof(*changed))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}
	/* Options, or a plugin's file replaced by another build. */
	for (size_t c = 0; c < nc.ncaptures; c++) {
		changed[c] = everything ||
		    (cfg_diff(old, &nc, c, NULL) & CFG_RELOAD_PIPELINE) != 0 ||
		    !plugin_info_same(m->g.infos[c], infos[c],
		    nc.captures[c].npipeline);
		any |= changed[c];
	}
	if ((mems = calloc(m->g.nslots, sizeof(*mems))) == NULL ||
	    (ncfg = malloc(sizeof(*ncfg))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}
	if (master_map_changed(m, &nc, infos, changed, mems, err, errlen) != 0)
		goto fail;
	if (any && ((m->prev.mems = calloc(m->g.nslots,
	    sizeof(*m->prev.mems))) == NULL || (m->prev.infos = calloc(
	    nc.ncaptures, sizeof(*m->prev.infos))) == NULL)) {
		free(m->prev.mems);
		m->prev.mems = NULL;
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}

	/* From here on nothing fails: swap in the new configuration. */
	if (any) {
		master_commit_pipelines(m, &nc, infos, changed, mems);
		m->prev.cfg = old;
		m->prev.changed = changed;
		changed = NULL;
	}
	*ncfg = nc;
	m->g.cfg = ncfg;
	for (size_t c = 0; c < nc.ncaptures; c++)
		if (m->prev.changed != NULL && m->prev.changed[c])
			gen_names(&m->g, c);
	gen_bind_slots(&m->g, uid, gid);
	m->nhandover = 0;
	for (unsigned i = m->g.nslots; i-- > 0 && m->prev.cfg != NULL;)
		if (m->prev.changed[m->g.slots[i].capture])
			m->handover[m->nhandover++] = i;
	/* A reload is what a failed worker of any capture waits for. */
	for (unsigned i = 0; i < m->g.nslots; i++) {
		struct slot *s = &m->g.slots[i];

		if (s->pid <= 0 && (m->prev.cfg == NULL ||
		    !m->prev.changed[s->capture]) &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_FAILED)
			master_revive(m, s);
	}
	log_set_level(nc.log.level);
	if (m->prev.cfg == NULL) {
		cfg_free(old);
		free(old);
	}
	free(changed);
	free(mems);
	pipeline_info_free(infos, nc.ncaptures);
	m->reloads++;
	m->last_reload_error[0] = '\0';
	res = any ? "pipeline" : "unchanged";
	log_info("reloaded %s: %s", m->g.cfg->path, any ?
	    "restarting workers one at a time" : "no pipeline changed");
	master_handover_step(m);
	return res;

captures:
	/* master_swap_begin validates the new file as it builds it. */
	return master_swap_begin(m, &nc, err, errlen);
fail:
	for (unsigned i = 0; mems != NULL && i < m->g.nslots; i++)
		if (mems[i] != NULL)
			gen_mems_free(mems[i], nc.captures[
			    m->g.slots[i].capture].npipeline);
	free(mems);
	free(ncfg);
	pipeline_info_free(infos, nc.ncaptures);
	free(changed);
	cfg_free(&nc);
fail_early:
	strlcpy(m->last_reload_error, err, sizeof(m->last_reload_error));
	return NULL;
}

/*
 * Frames left in the ring of a worker that did not drain it (down at the
 * stop: failed, waiting for a respawn, killed at the deadline) will never
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
		    "counted as dropped", slot_name(&m->g.slots[i], name,
		    sizeof(name)), stats_state_name(STATS_LOAD(&sw->state)),
		    (unsigned long long)n);
	}
}

static void
master_final(struct master *m)
{
	json_t *doc;

	/* Stopped during a capture reload: the old counters count too. */
	if (m->old.cfg != NULL)
		master_retire(m);
	master_stranded(m);
	doc = master_stats_json(m);
	master_log_summary(m);
	if (!m->opts.foreground) {
		json_decref(doc);
		return;
	}
	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) == -1)
		log_warnx("final stats: cannot write the JSON document");
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(doc);
}

static void
master_free(struct master *m)
{
	ctl_close(m);
	master_prev_free(m);
	gen_free(&m->g);
	gen_free(&m->old);
	free(m->handover);
	if (m->epfd != -1)
		close(m->epfd);
	if (m->sig.fd != -1)
		close(m->sig.fd);
	if (m->timer.fd != -1)
		close(m->timer.fd);
}

/* Something the timer has to watch closely. */
static bool
master_busy(struct master *m)
{
	uint32_t st;

	if (!m->ready || m->stopping || m->swap != SWAP_NONE ||
	    m->nhandover > 0 || m->handing >= 0 || m->reload_again ||
	    master_reload_pending(m))
		return true;
	FOREACH_SLOT(m, s) {
		st = STATS_LOAD(&s->wk.sw->state);
		if (st != WORKER_RUNNING && st != WORKER_FAILED)
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

int
master_run(struct cfg *cfg, const struct master_opts *opts)
{
	struct master m = { .opts = *opts, .epfd = -1, .sig.fd = -1,
	    .timer.fd = -1, .handing = -1 };
	struct epoll_event ev[16];
	char err[512];
	int n, rc;

	m.g.cfg = malloc(sizeof(*m.g.cfg));
	if (m.g.cfg == NULL) {
		cfg_free(cfg);
		log_warn("master: malloc");
		return EXIT_RUNTIME;
	}
	*m.g.cfg = *cfg;
	m.started_ns = mono_ns();
	setproctitle("master %s", opts->config_path != NULL ?
	    opts->config_path : opts->iface);
	if ((rc = gen_build(&m.g, NULL, err, sizeof(err))) != 0) {
		log_error("%s", err);
		master_free(&m);
		return rc;
	}
	if ((m.handover = calloc(m.g.nslots, sizeof(*m.handover))) == NULL) {
		log_warn("master: calloc");
		master_free(&m);
		return EXIT_RUNTIME;
	}
	if (master_events(&m) == -1) {
		log_warn("master: event loop setup");
		master_free(&m);
		return EXIT_RUNTIME;
	}
	if (ctl_open(&m, err, sizeof(err)) == -1) {
		log_error("%s", err);
		master_free(&m);
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < m.g.nslots; i++) {
		if (master_spawn(&m, &m.g.slots[i]) == -1) {
			m.exit_code = EXIT_RUNTIME;
			master_stop(&m, "fork failed");
			break;
		}
	}
	m.next_stats_ns = mono_ns() + m.g.cfg->stats_interval_ns;
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
		ctl_sweep(&m, mono_ns());
		master_timer_update(&m);
	}
	master_final(&m);
	rc = m.exit_code;
	master_free(&m);
	return rc;
}

/*
 * The process table: forking a slot's worker, reaping it, and acting on
 * how it ended (a clean stop, a reload's hand-over, a temporary failure,
 * a setup failure, a crash) with the policy of supervise.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/libutil.h>

#include "capture.h"
#include "control.h"
#include "httpd.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "resume.h"
#include "supervise.h"
#include "util.h"

/* The generations with workers: the current, and one retiring. */
unsigned
master_gens(struct master *m, struct gen **gens)
{
	gens[0] = &m->g;
	gens[1] = &m->old;
	return m->old.cfg != NULL ? 2 : 1;
}

/*
 * In a child: the host memory mems[i] of every slot i of g, mapped for
 * the pipeline cfg gives its capture (a reload's previous or coming one),
 * is not the child's.  mems NULL: none.
 */
static void
child_unmap(const struct gen *g, struct plugin_mem **mems,
    const struct cfg *cfg, const struct plugin_mem *keep)
{
	for (unsigned i = 0; mems != NULL && i < g->nslots; i++)
		for (size_t k = 0; mems[i] != NULL && mems[i] != keep &&
		    k < cfg->captures[g->slots[i].capture].npipeline; k++)
			plugin_mem_unmap(&mems[i][k]);
}

/* In a child: s's host memory is not its to reach. */
static void
slot_mem_unmap(struct slot *s)
{
	for (size_t k = 0; s->wk.mem != NULL && k < s->wk.cap->npipeline; k++)
		plugin_mem_unmap(&s->wk.mem[k]);
}

/* In a child: the plugin files held for other pipelines than keep. */
static void
child_close_plugins(struct master *m, const struct plugin_info *keep)
{
	struct gen *gens[2];
	const struct cfg *pc = m->prev.cfg;

	for (unsigned k = 0; k < master_gens(m, gens); k++)
		for (size_t c = 0; gens[k]->infos != NULL &&
		    c < gens[k]->cfg->ncaptures; c++)
			if (gens[k]->infos[c] != keep)
				plugin_info_close(gens[k]->infos[c]);
	for (size_t c = 0; pc != NULL && m->prev.infos != NULL &&
	    c < pc->ncaptures; c++)
		if (m->prev.infos[c] != keep)
			plugin_info_close(m->prev.infos[c]);
	for (size_t c = 0; m->staged_infos != NULL &&
	    c < m->staged_cfg->ncaptures; c++)
		plugin_info_close(m->staged_infos[c]);
}

void
master_validator_unmap(void *arg)
{
	struct master *m = arg;
	struct gen *gens[2];

	FOREACH_SLOT(m, o)
		slot_mem_unmap(o);
	child_unmap(&m->g, m->prev.mems, m->prev.cfg, NULL);
	child_unmap(&m->g, m->staged, m->staged_cfg, NULL);
	/*
	 * Nor any worker's counters and state words, which a worker can
	 * write only its own of: the child reads none of them, and the
	 * master's mapping stays.
	 */
	for (unsigned k = 0; k < master_gens(m, gens); k++)
		stats_destroy(gens[k]->shm, gens[k]->nslots);
}

static int
master_fork(struct master *m, struct slot *s, bool closer)
{
	char name[64];
	struct gen *gens[2];
	pid_t pid;

	/*
	 * Its interface is gone: linkwatch.c starts it when it is back.  A
	 * closer takes no frame, and starts without a ring (worker_main).
	 */
	if (s->wk.fd == -1 && !closer) {
		STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		return 0;
	}
	STATS_STORE(&s->wk.sw->state, WORKER_STARTING);
	STATS_STORE(&s->wk.sw->stage, STATS_STAGE_NONE);
	s->on_new = m->prev.cfg != NULL && m->prev.changed[s->capture];
	s->late = false;
	s->handed_starting = false;
	s->drain_failed = false;
	s->closer = closer;
	s->stop_closer = closer;
	s->close_killed = false;
	s->mem_gone = false;
	s->exit.killed = false;
	s->spawned_ns = mono_ns();
	s->nstages = (uint32_t)s->wk.cap->npipeline;
	for (uint32_t k = 0; k < s->nstages && k < STATS_MAX_STAGES; k++) {
		strlcpy(s->steps[k], s->wk.info[k].step, sizeof(s->steps[k]));
		s->batch[k] = s->wk.info[k].batch != 0;
	}
	/* A respawned retiring worker still has to drain and go. */
	if (STATS_LOAD(&s->wk.sw->stop) != WORKER_STOP_DRAIN)
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_NONE);
	/*
	 * Told before it exists, so that it cannot take a block first: it
	 * opens its plugins and exits (worker_main).
	 */
	if (closer) {
		STATS_STORE(&s->wk.sw->state, WORKER_RESTARTING);
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_HANDOVER);
	}
	s->wk.sw->err[0] = '\0';
	s->wk.sw->starting_in[0] = '\0';
	STATS_STORE(&s->wk.sw->exiting, 0);
	STATS_STORE(&s->wk.sw->thread_fault, 0);
	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		int e = errno;

		snprintf(s->last_exit, sizeof(s->last_exit), "fork: %s",
		    strerror(e));
		log_warnx("%s: fork: %s", master_slot_name(s, name,
		    sizeof(name)), strerror(e));
		return -e;
	}
	if (pid == 0) {
		/* Keep only this worker's socket. */
		FOREACH_SLOT(m, o) {
			if (o->next_fd != -1)
				close(o->next_fd);
			if (o == s)
				continue;
			if (o->wk.fd != -1)
				close(o->wk.fd);
			/* Another worker's host memory is not this one's. */
			slot_mem_unmap(o);
		}
		/* A closer of a reload's previous pipeline keeps its own. */
		child_unmap(&m->g, m->prev.mems, m->prev.cfg, s->wk.mem);
		child_unmap(&m->g, m->staged, m->staged_cfg, s->wk.mem);
		child_close_plugins(m, s->wk.info);
		/* Other workers' counters are not this one's to write. */
		for (unsigned k = 0; k < master_gens(m, gens); k++)
			stats_isolate(gens[k]->shm, gens[k]->nslots, s->wk.sw);
		/*
		 * The fanout group locks are the master's: the lock holds
		 * while the master's descriptor is open.
		 */
		for (unsigned k = 0; k < master_gens(m, gens); k++)
			for (size_t c = 0; gens[k]->cfg != NULL &&
			    c < gens[k]->cfg->ncaptures; c++)
				if (gens[k]->locks != NULL &&
				    gens[k]->locks[c] >= 0)
					close(gens[k]->locks[c]);
		ctl_close(m->ctl);
		httpd_close(m->httpd);
		/* A daemon's parent waits for the master's word alone. */
		log_setup_close();
		linkwatch_forget(m);
		master_fanout_forget(m);
		close(m->epfd);
		close(m->sig.fd);
		close(m->timer.fd);
		if (m->opts.pidfile != NULL)
			pidfile_close(m->opts.pidfile);
		/*
		 * The statistics document is the master's stdout: what
		 * plugin code prints goes to stderr, beside the log.
		 */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		STATS_STORE(&s->wk.sw->pid, getpid());
		worker_exit(s->wk.sw, worker_main(&s->wk));
	}
	s->pid = pid;
	STATS_STORE(&s->wk.sw->pid, pid);
	return 0;
}

int
master_spawn(struct master *m, struct slot *s)
{
	return master_fork(m, s, false);
}

int
master_spawn_closer(struct master *m, struct slot *s)
{
	return master_fork(m, s, true);
}

/*
 * The stages of s's pipeline whose host memory its last process left
 * open, named in buf ("flowtable, pcapwriter"); how many.
 */
static unsigned
master_left_open(const struct master *m, const struct slot *s, char *buf,
    size_t len)
{
	const struct cfg_capture *cap = s->wk.cap;
	const struct plugin_mem *mems = s->wk.mem;
	unsigned n = 0;
	size_t at = 0;

	if (master_on_prev(m, s)) {
		cap = &m->prev.cfg->captures[s->capture];
		mems = m->prev.mems[s - m->g.slots];
	}
	buf[0] = '\0';
	for (size_t k = 0; mems != NULL && k < cap->npipeline; k++) {
		if (!plugin_mem_left_open(&mems[k]))
			continue;
		if (at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s",
			    n > 0 ? ", " : "", cfg_step_name(&cap->pipeline[k]));
		n++;
	}
	return n;
}

/* The error of what a slot's plugins held, lost: the stages, and why. */
static void
master_lost_log(const char *name, const char *what, const char *how)
{
	log_error("%s: what %s held in host memory is lost (%s): frames it "
	    "counted in packets are in no record or file", name, what, how);
}

/*
 * At a stop, what s's plugins held in host memory and no process closed
 * is lost: the frames it had, counted in `packets`, are in no record or
 * file.  Said as an error, and the worker ends failed.
 */
static void
master_close_lost(struct master *m, struct slot *s, const char *name,
    const char *how)
{
	char what[128];

	if (master_left_open(m, s, what, sizeof(what)) == 0) {
		STATS_STORE(&s->wk.sw->state, s->drain_failed ?
		    WORKER_FAILED : WORKER_STOPPED);
		return;
	}
	STATS_STORE(&s->wk.sw->state, WORKER_FAILED);
	STATS_STORE(&s->wk.sw->pid, 0);
	master_lost_log(name, what, how);
}

/*
 * A slot of a generation a capture reload retires: what its plugins left
 * in host memory, which no process closed (its drainer killed for no
 * progress, or dead past the crash-loop limit), is freed with the
 * generation.  Said as an error, as at a stop.
 */
void
master_retire_lost(const struct master *m, const struct slot *s)
{
	char what[128], name[64];

	if (master_left_open(m, s, what, sizeof(what)) == 0)
		return;
	master_lost_log(master_slot_name(s, name, sizeof(name)), what,
	    "a capture reload retired it unclosed");
}

void
master_close_gone(struct master *m, struct slot *s)
{
	char what[128], name[64];
	uint32_t st, stop;

	/*
	 * Killed at its interface's drain deadline, its socket is closed
	 * only at the next turn of linkwatch_step(): a closer starts on it
	 * still (it takes no frame), as on none once closed.
	 */
	if (s->pid > 0 || (s->wk.fd != -1 && !linkwatch_overdue(m, s)) ||
	    master_left_open(m, s, what, sizeof(what)) == 0)
		return;
	master_slot_name(s, name, sizeof(name));
	st = STATS_LOAD(&s->wk.sw->state);
	stop = STATS_LOAD(&s->wk.sw->stop);
	if (master_spawn_closer(m, s) != 0 || s->pid <= 0) {
		STATS_STORE(&s->wk.sw->state, st);
		STATS_STORE(&s->wk.sw->stop, stop);
		master_lost_log(name, what, "no closer could start");
		return;
	}
	log_info("%s: started to close what %s left in host memory, its "
	    "interface gone", name, what);
}

/*
 * At a stop, s's process ended without closing its plugins (killed at
 * the stop deadline, a crash or a stall while draining): what they held
 * in host memory (a flow table, a write buffer) is still there.  A closer
 * starts on it, as master_close_down() does before a reload, and closes
 * it; the frames left in the ring stay there, counted as dropped
 * (master_stranded).
 */
static void
master_close_at_stop(struct master *m, struct slot *s, const char *name)
{
	char what[128];
	bool failed = s->drain_failed;
	uint32_t st = STATS_LOAD(&s->wk.sw->state);
	int rc;

	if (master_left_open(m, s, what, sizeof(what)) == 0)
		return;
	rc = master_on_prev(m, s) ? master_spawn_prev(m, s, true) :
	    master_spawn_closer(m, s);
	s->drain_failed = failed;
	if (rc != 0 || s->pid <= 0) {
		s->stop_closer = false;
		STATS_STORE(&s->wk.sw->state, st);
		master_close_lost(m, s, name, "no closer could start");
		return;
	}
	log_info("%s: started to close what %s left in host memory", name,
	    what);
}

void
master_close_unclosed(struct master *m, struct slot *s)
{
	char name[64];

	if (s->pid <= 0)
		master_close_at_stop(m, s, master_slot_name(s, name,
		    sizeof(name)));
}

/* A crash: respawn after a doubling delay, or give up on a crash loop. */
void
master_crashed(struct slot *s, const char *name)
{
	struct stats_worker *sw = s->wk.sw;
	uint64_t now = mono_ns();
	struct supervise_verdict v = supervise_crash(s->crashes, &s->ncrashes,
	    &s->nfailed, &s->cooled, now);

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

void
master_spawn_refused(struct slot *s, const char *name)
{
	uint64_t backoff = supervise_retry(&s->nretries);

	s->respawn_at = mono_ns() + backoff;
	STATS_STORE(&s->wk.sw->state, WORKER_BACKOFF);
	/* master_fork logged why. */
	log_info("%s: starting it again in %llu ms", name,
	    (unsigned long long)(backoff / 1000000u));
}

/* Start a worker that has no process now, with a clean crash record. */
void
master_revive(struct master *m, struct slot *s)
{
	char name[64];

	s->ncrashes = 0;
	s->nretries = 0;
	s->respawn_at = 0;
	supervise_revive(&s->cooled, mono_ns());
	if (master_spawn(m, s) != 0)
		master_spawn_refused(s, master_slot_name(s, name,
		    sizeof(name)));
}

/*
 * A worker's death, for the operator: how it ended and where it was
 * (where, "" outside the plugins; a stall's last_exit says it).
 */
static void
master_log_death(const struct slot *s, const char *name, bool stalled,
    const char *where)
{
	log_error("%s (pid %d) %s%s%s", name, (int)STATS_LOAD(&s->wk.sw->pid),
	    s->last_exit, !stalled && where[0] != '\0' ? " " : "",
	    !stalled ? where : "");
}

/*
 * The error of a worker that died on the new pipeline of a reload, for
 * master_rollback(): how it ended and where it was (where, "" when
 * outside the plugins).
 */
static void
master_crash_err(struct slot *s, const char *name, bool stalled,
    const char *where)
{
	struct stats_worker *sw = s->wk.sw;

	master_log_death(s, name, stalled, where);
	if (s->late)
		snprintf(sw->err, sizeof(sw->err), "did not open the new "
		    "pipeline within %llu s%s%s", RELOAD_TAKE_NS /
		    1000000000ull, where[0] != '\0' ? ", " : "", where);
	else {
		strlcpy(sw->err, s->last_exit, sizeof(sw->err));
		/* A stall's last_exit says where already. */
		if (!stalled && where[0] != '\0') {
			strlcat(sw->err, " ", sizeof(sw->err));
			strlcat(sw->err, where, sizeof(sw->err));
		}
	}
}

bool
master_down_after_crash(const struct slot *s)
{
	uint32_t st = STATS_LOAD(&s->wk.sw->state);

	return s->pid <= 0 && s->wk.fd != -1 && (st == WORKER_BACKOFF ||
	    (st == WORKER_FAILED && s->respawn_at != 0));
}

void
master_shut(struct slot *s)
{
	char name[64];
	int rc;

	linkwatch_drop_next(s);
	if (s->wk.fd != -1 && (rc = capture_shut(s->wk.fd)) != 0)
		log_warnx("%s: shutting the socket: %s",
		    master_slot_name(s, name, sizeof(name)), strerror(-rc));
}

bool
master_drain(struct master *m, struct slot *s)
{
	char name[64];
	uint32_t st = STATS_LOAD(&s->wk.sw->state);
	uint64_t at = s->respawn_at;
	bool failed;

	STATS_STORE(&s->wk.sw->stop, WORKER_STOP_DRAIN);
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		return true;
	}
	/*
	 * No one else will read its ring or its plugins' host memory (a
	 * flow table, a write buffer): a drainer starts now.
	 */
	if (!master_down_after_crash(s))
		return false;
	failed = st == WORKER_FAILED;
	s->respawn_at = 0;
	if (master_spawn(m, s) != 0) {
		STATS_STORE(&s->wk.sw->state, st);
		s->respawn_at = at;
		return false;
	}
	s->drain_failed = failed;
	log_info("%s: started before its %s ends, to drain its ring",
	    master_slot_name(s, name, sizeof(name)),
	    failed ? "cool-down" : "backoff");
	return true;
}

/*
 * A retry or a failed setup (word) in s's last_exit by its reason, err,
 * which the worker wrote: the exit code names nothing.
 */
static void
master_exit_reason(struct slot *s, int word, const char *err)
{
	if (word == WORKER_EXIT_RETRY)
		strlcpy(s->last_exit, err, sizeof(s->last_exit));
	else
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "setup failed: %s", err);
}

static void
master_reaped(struct master *m, struct slot *s, int status)
{
	struct stats_worker *sw = s->wk.sw;
	uint32_t stop = STATS_LOAD(&sw->stop);
	uint32_t state = STATS_LOAD(&sw->state);
	char name[64], where[64], err[STATS_ERR_MAX], what[128];
	bool stalled, closer = s->closer, stop_closer = s->stop_closer, own;
	bool thread;
	int word;

	master_slot_name(s, name, sizeof(name));
	/* The worker wrote it (it may be the reason, below): terminated here. */
	stats_text(err, sw->err, sizeof(err));
	/* Where it was, before its block is settled (resume_settle). */
	if (!master_slot_where(s, where, sizeof(where)))
		where[0] = '\0';
	s->pid = 0;
	/*
	 * A fault of a thread that plugin code started (stats.h,
	 * thread_fault): not of the callback the worker's thread was in.
	 */
	thread = WIFSIGNALED(status) && STATS_LOAD(&sw->thread_fault) ==
	    (uint32_t)WTERMSIG(status);
	if (thread)
		where[0] = '\0';
	/* Its own exit, or plugin code's exit() (stats.h, exiting). */
	own = WIFEXITED(status) && where[0] == '\0' &&
	    STATS_LOAD(&sw->exiting) == (uint32_t)WEXITSTATUS(status) + 1;
	if (WIFSIGNALED(status))
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "killed by signal %d (%s)%s", WTERMSIG(status),
		    strsignal(WTERMSIG(status)),
		    thread ? " in a plugin's thread" : "");
	else if (own && WEXITSTATUS(status) == WORKER_EXIT_WAIT &&
	    err[0] != '\0')
		/* Its log's descriptor may have gone with the wait's. */
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "exited with code %d (%.200s)", WEXITSTATUS(status), err);
	else if (!own && where[0] == '\0')
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "exited with code %d in plugin code outside its callbacks "
		    "(exit() in a plugin's thread, say)", WEXITSTATUS(status));
	else
		snprintf(s->last_exit, sizeof(s->last_exit),
		    "exited with code %d", WEXITSTATUS(status));
	/* A stall's kill is a crash from here on, under its own name. */
	stalled = master_stall_reaped(s, status);
	/* Where, for the logs below: a stall's last_exit says it already. */
	strlcpy(s->died_in, stalled ? "" : where, sizeof(s->died_in));
	/*
	 * The worker's own word on its end: its exit code, unless plugin
	 * code's exit() ended it, inside a callback (the stage still names
	 * it) or outside (a plugin's thread: the code is not the one the
	 * worker stored).  Such a code, WORKER_EXIT_SETUP or
	 * WORKER_EXIT_RETRY included, is a crash of that plugin, never a
	 * setup failure or a retry of the worker.
	 */
	word = own ? WEXITSTATUS(status) : -1;
	/* That word says why in its own text, on whatever path follows. */
	if (word == WORKER_EXIT_RETRY || word == WORKER_EXIT_SETUP)
		master_exit_reason(s, word, err);

	if (word == WORKER_EXIT_OK) {
		/*
		 * Told to drain, it exits in state stopping once it has.
		 * Gone in another state, it left before it saw the word: on
		 * a SIGTERM of its own (one sent to the whole process group
		 * reaches it beside the master's), or at the end of a
		 * reload's hand-over that the stop overtook.  Its ring still
		 * holds the frames it did not take: a drainer takes them,
		 * unless the deadline that kills drainers has passed (it
		 * comes once: a drainer started after it would run on).
		 */
		if (stop == WORKER_STOP_DRAIN && state != WORKER_STOPPING &&
		    s->wk.fd != -1 && !(m->stopping &&
		    m->stop_deadline_ns == UINT64_MAX) &&
		    !linkwatch_overdue(m, s) && master_spawn(m, s) == 0) {
			log_info("%s: exited before it drained its ring; "
			    "started again to drain it", name);
			return;
		}
		if (stop == WORKER_STOP_DRAIN || m->stopping) {
			/* Closing for a drainer past the crash-loop limit. */
			STATS_STORE(&sw->state, stop_closer &&
			    s->drain_failed ? WORKER_FAILED : WORKER_STOPPED);
			if (stop_closer)
				log_info("%s: closed what its predecessor "
				    "left in host memory", name);
			else
				log_debug("%s stopped", name);
			return;
		}
		if (stop == WORKER_STOP_HANDOVER) {
			/* A reload's restart: the successor takes the ring. */
			if (master_spawn(m, s) != 0)
				master_spawn_refused(s, name);
			return;
		}
	}
	/*
	 * Not a clean exit: its levels and problems were the state of a
	 * process that is gone, and no one writes them any more.  Its block
	 * is settled now, as a successor would (resume.h): the frames it
	 * finished counted, the one in hand quarantined (after a plugin
	 * thread's fault too: the stages before had seen it, and would see
	 * it twice in the ring again).  At a stop, or past
	 * the crash-loop limit, no successor comes; one that does finds
	 * nothing left to settle.
	 */
	stats_worker_gone(sw);
	resume_settle(sw);
	if (m->stopping && stop_closer) {
		log_warnx("%s (pid %d) %s, closing what its predecessor left",
		    name, (int)STATS_LOAD(&sw->pid), s->last_exit);
		master_close_lost(m, s, name, s->close_killed ?
		    "its closer did not finish in time" : "its closer died");
		return;
	}
	/* No closer can start on what the master no longer maps. */
	if (s->mem_gone)
		log_error("%s (pid %d) %s: what its plugins held in host memory "
		    "is lost (the pipeline of a reload rolled back): frames it "
		    "counted in packets are in no record or file", name,
		    (int)STATS_LOAD(&sw->pid), s->last_exit);
	if (s->mem_gone && m->stopping) {
		STATS_STORE(&sw->state, WORKER_FAILED);
		STATS_STORE(&sw->pid, 0);
		return;
	}
	if (m->stopping) {
		/* A drainer of a worker past the crash-loop limit: still so. */
		STATS_STORE(&sw->state, s->drain_failed ? WORKER_FAILED :
		    WORKER_STOPPED);
		log_warnx("%s (pid %d) %s%s%s while stopping", name,
		    (int)STATS_LOAD(&sw->pid), s->last_exit,
		    s->died_in[0] != '\0' ? " " : "", s->died_in);
		master_close_at_stop(m, s, name);
		return;
	}
	/* Killed at its interface's drain deadline: an end, as at a stop. */
	if (linkwatch_overdue(m, s)) {
		STATS_STORE(&sw->state, WORKER_STOPPED);
		log_warnx("%s (pid %d) %s after its interface's end", name,
		    (int)STATS_LOAD(&sw->pid), s->last_exit);
		/*
		 * Still on the pipeline a reload replaces: what it left in
		 * that host memory, which the reload lets go of, is closed
		 * now, on the socket it still has (master_close_prev); by
		 * one closer, whose own end is the last (master_close_overdue
		 * bounds it).
		 */
		if (closer || !master_close_prev(m, s))
			if (master_on_prev(m, s) &&
			    master_left_open(m, s, what, sizeof(what)) > 0)
				master_lost_log(name, what, !closer ?
				    "no closer could start" : s->close_killed ?
				    "its closer did not finish in time" :
				    "its closer died");
		return;
	}
	/*
	 * Closing the pipeline a reload replaces, it died: what it held is
	 * lost, and said so, with a socket or without one; the new pipeline
	 * starts at once, watched by the reload as any other (its failure
	 * rolls every worker back).
	 */
	if (closer && m->prev.cfg != NULL) {
		/* A closer without a socket (master_close_gone): none starts. */
		log_error("%s (pid %d) %s%s%s, closing its previous pipeline; "
		    "%s", name, (int)STATS_LOAD(&sw->pid), s->last_exit,
		    s->died_in[0] != '\0' ? " " : "", s->died_in,
		    s->wk.fd == -1 ? "the new one starts when its interface "
		    "is back" : "starting the new one");
		if (master_left_open(m, s, what, sizeof(what)) > 0)
			master_lost_log(name, what, "its closer died");
		if (word != WORKER_EXIT_RETRY && word != WORKER_EXIT_SETUP)
			STATS_ADD(&sw->restarts, 1);
		master_revive(m, s);
		return;
	}
	/* Started on the new pipeline of a reload: it did not stand. */
	if (m->prev.cfg != NULL && s->on_new) {
		if (word == WORKER_EXIT_RETRY || word == WORKER_EXIT_SETUP) {
			master_rollback(m, s);
			return;
		}
		master_crash_err(s, name, stalled, where);
		STATS_ADD(&sw->restarts, 1);
		master_rollback(m, s);
		return;
	}
	if (word == WORKER_EXIT_RETRY) {
		/* A plugin lacks a resource for now: no crash, no limit. */
		uint64_t backoff = supervise_retry(&s->nretries);

		s->respawn_at = mono_ns() + backoff;
		STATS_STORE(&sw->state, WORKER_BACKOFF);
		log_warnx("%s: %s; retrying in %llu ms", name, err,
		    (unsigned long long)(backoff / 1000000u));
		return;
	}
	if (word == WORKER_EXIT_SETUP) {
		/* Respawning cannot help: the same setup would fail again. */
		s->respawn_at = 0;
		STATS_STORE(&sw->state, WORKER_FAILED);
		STATS_STORE(&sw->pid, 0);
		log_error("%s: setup failed: %s", name, err);
		if (!m->ready) {
			m->exit_code = EXIT_RUNTIME;
			master_stop(m, "a worker could not start");
		}
		return;
	}
	master_log_death(s, name, stalled, where);
	STATS_ADD(&sw->restarts, 1);
	/*
	 * Still on the pipeline a reload replaces: the new one would start
	 * on fresh host memory, and what this one left there be lost.
	 */
	if (master_close_prev(m, s))
		return;
	master_crashed(s, name);
}

void
master_reap(struct master *m)
{
	bool worker = false;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->bpf.pid) {
			bpfjob_reaped(&m->bpf, status);
			continue;
		}
		FOREACH_SLOT(m, s) {
			if (s->pid == pid) {
				master_reaped(m, s, status);
				worker = true;
				break;
			}
		}
	}
	/*
	 * A worker ended before the master was ready, and the master goes
	 * on (a crash respawned, a plugin's retry): a daemon's set-up is done
	 * as far as it will be, and its parent returns 0 with what was
	 * logged.  A set-up that failed stops the master, whose end the
	 * parent reports.
	 */
	if (worker && !m->ready && !m->stopping)
		log_setup_end();
}

bool
master_all_exited(const struct master *m)
{
	return gen_all_exited(&m->g) && gen_all_exited(&m->old);
}

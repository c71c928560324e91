/*
 * The stall watch: a worker that makes no progress while frames wait in
 * its ring is killed, and the crash path of children.c respawns it, the
 * frame it was stuck on quarantined (resume.h), so that a plugin looping
 * forever on one frame costs that frame and not the link.  The rule is
 * supervise_stall()'s; this file applies it on the master's timer.
 *
 * Progress is what the worker shows in its slot (stats.h): the frames it
 * consumed, committed or still in its block's pos, and the turns of its
 * loop (`beat`: a block, or an idle wake-up at most 100 ms after the
 * last).  Both only grow (but for an instant inside a commit), so a value
 * seen twice did not move in between, however long the master itself was
 * busy.
 * Whether frames wait is what the kernel took for the socket less what
 * was consumed, dropped or quarantined (stats_backlog()); the kernel's
 * counters are read for that only when a worker stood still since the
 * last look.  The clock of a worker that stands still with nothing to do
 * starts when frames come, so that they wait a whole stall_timeout.  A
 * stopped process (SIGSTOP) makes no progress either: it is a stall too.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "capture.h"
#include "log.h"
#include "master_int.h"
#include "resume.h"
#include "supervise.h"
#include "util.h"

/*
 * Consumed frames, those of the block in hand (resume.h's pos: done, and
 * the one in the pipeline) and the beat.  A commit moves frames from pos
 * to the counters, leaving the sum as it was once it is through.  pos is
 * read first, and the counters after it: a pos the commit cleared comes
 * with the counters it moved the frames to (resume_apply()'s release
 * fence), never with those before, which would make the sum of a worker
 * that went on look like one that did not.  A look that reads pos and then
 * counters a commit moved meanwhile counts that block twice: the next look
 * differs (the clock restarts), unless the worker stopped right after the
 * next block's commit, whose sum is the same; its stall is then timed from
 * the earlier look, one look early.
 */
static uint64_t
stall_progress(const struct stats_worker *sw)
{
	uint64_t pos = STATS_LOAD(&sw->pos);

	__atomic_thread_fence(__ATOMIC_ACQUIRE);

	return stats_consumed(sw) + pos_frames(pos) + pos_in_hand(pos) +
	    STATS_LOAD(&sw->beat);
}

/*
 * A worker in its loop, or starting and inside plugin code (loading a
 * plugin, its check or its open); not one setting up outside the plugins,
 * stopping, gone, or killed.  One stuck in plugin code as it starts while
 * frames wait is a stall too.
 */
static bool
stall_watched(const struct slot *s)
{
	uint32_t st = STATS_LOAD(&s->wk.sw->state);

	if (s->pid <= 0 || s->stall.killed)
		return false;
	if (st == WORKER_STARTING || (st == WORKER_RESTARTING &&
	    s->handed_starting))
		return master_slot_opening(s);
	return st == WORKER_RUNNING || st == WORKER_RESTARTING;
}

/* Stopped by a signal or a tracer: the state in /proc/PID/stat. */
static bool
stall_stopped(pid_t pid)
{
	char path[64], buf[256], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold anything: the state follows ") ". */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return false;
	return p[2] == 'T' || p[2] == 't';
}

bool
master_slot_opening(const struct slot *s)
{
	uint32_t k;

	/* Its own pipeline's stages (slot.nstages), not wk's. */
	return stats_stage_call(STATS_LOAD(&s->wk.sw->stage), s->nstages,
	    &k) == STATS_CALL_OPEN ||
	    __atomic_load_n(&s->wk.sw->starting_in[0], __ATOMIC_RELAXED) != '\0';
}

/* The name of step k of the pipeline s's process runs, for a message. */
static const char *
slot_step(const struct slot *s, uint32_t k, char *buf, size_t len)
{
	if (k < STATS_MAX_STAGES)
		return s->steps[k];
	snprintf(buf, len, "#%u", (unsigned)k + 1);
	return buf;
}

bool
master_slot_where(const struct slot *s, char *buf, size_t len)
{
	static const char *const what[] = {
		[STATS_CALL_PACKET] = "",
		[STATS_CALL_PREFETCH] = "'s prefetch",
		[STATS_CALL_TICK] = "'s tick",
		[STATS_CALL_OPEN] = "'s open",
		[STATS_CALL_CLOSE] = "'s close",
		[STATS_CALL_REST] = "",
	};
	const struct stats_worker *sw = s->wk.sw;
	uint32_t stage = STATS_LOAD(&sw->stage), k = 0;
	enum stats_call call = stats_stage_call(stage, s->nstages, &k);
	char num[16];

	/* A stage's index alone: in its packet only with a frame in hand. */
	if (call == STATS_CALL_PACKET && !pos_in_hand(STATS_LOAD(&sw->pos)))
		call = STATS_CALL_OTHER;
	if (call == STATS_CALL_OTHER) {
		/*
		 * Starting: loading a plugin, or in its check.  The worker's
		 * text, which plugin code could have written over: ended and
		 * scrubbed.
		 */
		stats_text(buf, sw->starting_in, len <
		    sizeof(sw->starting_in) ? len : sizeof(sw->starting_in));
		line_scrub(buf);
		if (buf[0] != '\0')
			return true;
		snprintf(buf, len, "outside the plugins");
		return false;
	}
	/* From the first batch stage on: a batch stage, or a per-frame one. */
	snprintf(buf, len, "in plugin %s%s", slot_step(s, k, num, sizeof(num)),
	    call == STATS_CALL_REST && k < STATS_MAX_STAGES && s->batch[k] ?
	    "'s batch" : what[call]);
	return true;
}

/* Where the worker of s is stuck: stopped, or master_slot_where(). */
static void
stall_where(const struct slot *s, char *buf, size_t len)
{
	if (stall_stopped(s->pid))
		snprintf(buf, len, "while stopped by a signal");
	else
		master_slot_where(s, buf, len);
}

static void
stall_kill(struct slot *s, uint64_t now, uint64_t waiting)
{
	char name[64];

	stall_where(s, s->stall.where, sizeof(s->stall.where));
	log_error("%s (pid %d) stalled %s: no progress for %.1f s with %llu "
	    "frame%s waiting; killing it",
	    master_slot_name(s, name, sizeof(name)), (int)s->pid,
	    s->stall.where, (double)(now - s->stall.since) / 1e9,
	    (unsigned long long)waiting, waiting == 1 ? "" : "s");
	STATS_ADD(&s->wk.sw->stalls, 1);
	s->stall.killed = true;
	kill(s->pid, SIGKILL);
}

void
master_stall_check(struct master *m, uint64_t now)
{
	uint64_t timeout = m->g.cfg->stall_timeout_ns, p, waiting;
	bool read = false;

	if (m->stopping || timeout == 0)
		return;
	FOREACH_SLOT(m, s) {
		/*
		 * One killed at its interface's drain deadline in this turn
		 * is not reaped yet: that kill is its end, not a stall.  A
		 * process started on the capture afterwards is watched.
		 */
		if (!stall_watched(s) || s->pid == s->stall.overdue)
			continue;
		p = stall_progress(s->wk.sw);
		if (s->stall.pid != s->pid || s->stall.progress != p) {
			s->stall.pid = s->pid;
			s->stall.progress = p;
			s->stall.since = now;
			s->stall.idle = false;
			continue;
		}
		/*
		 * Still since the last look (a healthy worker moves every
		 * 100 ms): do frames wait?  The kernel's counters, once.
		 */
		if (!read) {
			master_read_kernel(m);
			read = true;
		}
		waiting = stats_backlog(s->wk.sw);
		if (waiting > 0 && s->stall.idle) {
			/* They came since the last look: their clock starts. */
			s->stall.since = now;
			s->stall.idle = false;
		}
		switch (supervise_stall(s->stall.since, now, waiting > 0,
		    timeout)) {
		case SUPERVISE_IDLE:
			s->stall.since = now;
			s->stall.idle = true;
			break;
		case SUPERVISE_STALLED:
			stall_kill(s, now, waiting);
			break;
		case SUPERVISE_MOVING:
			break;
		}
	}
}

bool
master_exit_overdue(struct slot *s, uint64_t now)
{
	uint64_t p = stall_progress(s->wk.sw);

	if (s->exit.killed)
		return false;
	if (s->exit.pid != s->pid || s->exit.progress != p) {
		s->exit.pid = s->pid;
		s->exit.progress = p;
		s->exit.since = now;
		return false;
	}
	if (now - s->exit.since < MASTER_EXIT_GRACE_NS)
		return false;
	s->exit.killed = true;
	return true;
}

bool
master_stall_reaped(struct slot *s, int status)
{
	if (!s->stall.killed)
		return false;
	s->stall.killed = false;
	s->stall.pid = 0;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		return false;
	snprintf(s->last_exit, sizeof(s->last_exit),
	    "killed after a stall %s", s->stall.where);
	return true;
}

/*
 * The kernel keeps totals of rollover for the life of a socket; the shared
 * counters add what grew since the last read, so that they go on growing
 * over a socket made anew (a smaller total is a new socket's).
 */
static void
stall_rollover_add(uint64_t *sum, uint64_t *seen, uint64_t now)
{
	STATS_ADD(sum, now >= *seen ? now - *seen : now);
	*seen = now;
}

void
master_read_rollover(struct slot *s)
{
	struct tpacket_rollover_stats st;
	struct stats_worker *sw = s->wk.sw;

	if (!capture_read_rollover(s->wk.cap, s->wk.fd, &st))
		return;
	stall_rollover_add(&sw->rollover_packets, &s->rollover[0], st.tp_all);
	stall_rollover_add(&sw->rollover_huge, &s->rollover[1], st.tp_huge);
	stall_rollover_add(&sw->rollover_failed, &s->rollover[2],
	    st.tp_failed);
}

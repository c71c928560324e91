/*
 * The worker loop.
 *
 * The worker owns its slot in shared memory and keeps its position there as
 * it goes, by the protocol of resume.h, so that whatever instant it dies
 * at, a successor can tell which frames were handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "resume.h"
#include "sandbox.h"
#include "util.h"
#include "worker.h"

/* How long an idle worker sleeps in poll() before it looks at its clocks. */
#define WORKER_POLL_MS	100
/*
 * A frame stamped this long before network time: the real-time clock was
 * stepped back.  A ring holds its frames in the order they were stamped,
 * bar the few microseconds between CPUs.
 */
#define WORKER_CLOCK_STEP_NS	1000000000ULL

static volatile sig_atomic_t worker_term;

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_term = 1;
}

/*
 * The fatal signals of a fault, and abort()'s.  A thread that plugin code
 * started and that gets one stores it in the worker's slot before it dies
 * (stats.h, thread_fault): the master then names the thread, not the
 * callback the worker's own thread happens to be in.
 */
static const int worker_fault_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS,
};

#define WORKER_NFAULT \
	(sizeof(worker_fault_signals) / sizeof(worker_fault_signals[0]))

static struct stats_worker *worker_fault_sw;
static pid_t worker_fault_pid;	/* the worker, its own thread's id too */
static struct sigaction worker_fault_was[WORKER_NFAULT];

/*
 * Whether the thread brought the signal on itself: a fault of its own
 * instruction (si_code above 0), or its own raise() or abort(); not one
 * sent from outside (kill), which any thread may take.
 */
static bool
worker_fault_own(const siginfo_t *si)
{
	return si->si_code > 0 ||
	    (si->si_code == SI_TKILL && si->si_pid == getpid());
}

/*
 * On the thread that got sig, with nothing but async-signal-safe calls:
 * the mark (a thread of the worker's process but its own, not a process
 * that plugin code forked), then the action there was before, the
 * default's end of the whole process with the signal's status and core.
 * A fault comes again as its instruction runs again, with the context of
 * its own; a signal raised is raised again.
 */
static void
worker_on_fault(int sig, siginfo_t *si, void *uc)
{
	sigset_t only;
	size_t k = 0;
	int saved = errno;

	(void)uc;
	if (getpid() == worker_fault_pid && gettid() != worker_fault_pid &&
	    worker_fault_own(si))
		STATS_STORE(&worker_fault_sw->thread_fault, (uint32_t)sig);
	while (k < WORKER_NFAULT - 1 && worker_fault_signals[k] != sig)
		k++;
	(void)sigaction(sig, &worker_fault_was[k], NULL);
	errno = saved;
	if (si->si_code > 0)
		return;
	sigemptyset(&only);
	sigaddset(&only, sig);
	(void)raise(sig);
	(void)sigprocmask(SIG_UNBLOCK, &only, NULL);
}

/* Before any plugin code runs: its constructors may start threads. */
static void
worker_watch_faults(struct worker *wk)
{
	struct sigaction sa;

	worker_fault_sw = wk->sw;
	worker_fault_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = worker_on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < WORKER_NFAULT; k++)
		(void)sigaction(worker_fault_signals[k], &sa,
		    &worker_fault_was[k]);
}

/* As the worker takes a block: how the kernel retired it. */
static inline void
worker_ring_health(struct worker *wk, const struct tpacket_block_desc *bd)
{
	STATS_ADD(&wk->sw->blocks, 1);
	if (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_RELAXED) &
	    TP_STATUS_BLK_TMO)
		STATS_ADD(&wk->sw->blocks_timeout, 1);
}

/*
 * As the worker is done with block `index`, before it releases it: how
 * many blocks the kernel has handed over that the worker has not
 * released, this one included (how close the ring came to full: all of
 * them when the kernel drops, which a look at the next take would miss,
 * the block released just before not yet filled again).  The kernel
 * retires blocks in ring order and never takes one back, so those blocks
 * follow one another from here: the ones known already (wk->owned) need no
 * second look, and each block is looked at about once, however far behind
 * the worker runs.
 */
static inline void
worker_ring_backlog(struct worker *wk, uint32_t index)
{
	struct stats_worker *sw = wk->sw;
	uint32_t count = wk->ring.block_count, next;

	if (wk->owned == 0)
		wk->owned = 1;
	while (wk->owned < count) {
		next = index + wk->owned;
		if (next >= count)
			next -= count;
		if (!ring_block_ready(ring_block(&wk->ring, next)))
			break;
		wk->owned++;
	}
	STATS_STORE(&sw->backlog, wk->owned);
	if (wk->owned > STATS_LOAD(&sw->backlog_max))
		STATS_STORE(&sw->backlog_max, wk->owned);
}

/*
 * A new worker of a capture reload takes only the frames stamped from T
 * on while the old sockets are open; once the master has shut them, it
 * takes every frame that comes, whatever its stamp: a clock stepped back
 * below T after the hand-over would otherwise have it leave every frame,
 * to no one, until the clock passed T again.  As it shut them the master
 * stored how many frames the worker had taken and had waiting in its ring
 * (cut_lift, one more; stats_lift_count()): the cut holds for those, the
 * first the ring gives, and no later one.  The count lives in shared
 * memory, with the frames taken so far, so that a successor of a worker
 * killed before it lifted its cut, or one that was dead at the shut,
 * lifts it at the same frame.  Returns how
 * many of the frames from the next one are still held to the cut,
 * UINT32_MAX before the shut.
 */
static uint32_t
worker_cut_held(const struct stats_worker *sw)
{
	uint64_t at = STATS_LOAD(&sw->cut_lift), next;

	if (__builtin_expect(at == 0, 1))
		return UINT32_MAX;
	/* The frames taken, left or skipped after a crash, and this one. */
	next = stats_walked(sw) + 1;
	if (at <= next)
		return 0;
	return at - next < UINT32_MAX ? (uint32_t)(at - next) :
	    UINT32_MAX - 1;
}

/* Each turn: past the frames from before the shut, the cut goes. */
static void
worker_cut_lift(struct stats_worker *sw)
{
	if (worker_cut_held(sw) == 0 && STATS_LOAD(&sw->cut_from) != 0)
		STATS_STORE(&sw->cut_from, 0);
}

/* A block's frames: the cut they are taken by, and what they add up to. */
struct worker_sums {
	uint64_t	 from;		/* the cut, as read for the block */
	uint64_t	 until;
	uint64_t	 commit_at;	/* a pos this high is committed at once */
	uint64_t	 off;		/* sw->handed_off */
	uint64_t	 last_ts;	/* of the last frame handled */
	uint32_t	 cut_n;		/* frames from the walk's start the cut
					   holds for, the rest taken whole */
	size_t		 nb;		/* frames kept for the batch stages */
};

/*
 * Frame pkt to the prefetch callbacks.  `single`: the pipeline is one
 * per-frame stage, in stage 0 while the block's frames go through it
 * (worker_block()), whose prefetch is set: called straight, the stage
 * word named as pipeline_prefetch() names it and put back to 0.
 */
static inline __attribute__((always_inline)) void
worker_prefetch(const struct pipeline *pl, const struct ringfan_packet *pkt,
    const bool single)
{
	if (!single) {
		pipeline_prefetch(pl, pkt);
		return;
	}
	STATS_STORE(&pl->w->stage, STATS_STAGE_PREFETCH);
	pl->stages[0].prefetch(pl->stages[0].state, pkt);
	STATS_STORE(&pl->w->stage, 0);
}

/*
 * The rest of the block from the walk's position.  Inlined four times:
 * for the two common cases, no batch stage and no cut with one per-frame
 * stage (called straight, not through the stage loop) and with several,
 * for a stage with a prefetch callback, and for any other; with the flags
 * constant, the common loops test nothing they need not and keep more of
 * their state in registers.  GCC inlines none of them unless told: the
 * path then costs 31 instructions a frame more (bench_walk, one stage
 * that does nothing, 2026-12-02: 62 against 93).
 *
 * `prefetching`: the walk runs RINGFAN_PREFETCH_AHEAD - 1 frames ahead
 * of the frame in hand, within the block, and hands each frame it passes
 * to the stages' prefetch callbacks; its views wait in `views` for their
 * turn, read once (a second walk that read each header again cost 28
 * instructions a frame more: docs/performance.md).
 */
static inline __attribute__((always_inline)) void
worker_frames(struct worker *wk, struct ring_walk *walk,
    struct worker_sums *s, const bool batching, const bool cutting,
    const bool staged, const bool prefetching)
{
	struct stats_worker *sw = wk->sw;
	const struct pipeline *pl = wk->pl;
	struct ringfan_packet one, *pkt = &one;
	struct ringfan_packet views[RINGFAN_PREFETCH_AHEAD];
	uint32_t took = 0, made = 0;	/* views handed on, views walked */
	uint64_t from = s->from, until = s->until, commit_at = s->commit_at;
	/* sw->pos, as it will be: nothing uncommitted as a block starts. */
	uint64_t pos = 0, off = s->off, last_ts = s->last_ts;
	uint32_t cut_n = s->cut_n;
	size_t nb = s->nb;
	uint64_t len;
	bool held;
	/* Neither flag: the pipeline is one per-frame stage. */
	const bool single = !batching && !cutting && !staged;
	int (*packet)(void *, const struct ringfan_packet *) =
	    single ? pl->stages[0].packet : NULL;
	void *state = single ? pl->stages[0].state : NULL;
	bool passed;

	one.linktype = (uint16_t)wk->linktype;
	one.reserved = 0;
	if (prefetching) {
		for (int k = 0; k < RINGFAN_PREFETCH_AHEAD; k++) {
			views[k].linktype = (uint16_t)wk->linktype;
			views[k].reserved = 0;
		}
		for (; made < RINGFAN_PREFETCH_AHEAD - 1 &&
		    ring_walk_next(walk, &views[made]); made++)
			worker_prefetch(pl, &views[made], single);
	}
	for (;;) {
		if (prefetching) {
			if (took == made)
				break;
			pkt = &views[took++ % RINGFAN_PREFETCH_AHEAD];
			/*
			 * At most RINGFAN_PREFETCH_AHEAD - 1 views wait
			 * besides pkt's: the next one never takes its place.
			 */
			if (ring_walk_next(walk,
			    &views[made % RINGFAN_PREFETCH_AHEAD]))
				worker_prefetch(pl,
				    &views[made++ % RINGFAN_PREFETCH_AHEAD],
				    single);
			/* A batch stage needs the views to outlive the walk. */
			if (batching) {
				wk->batch[nb] = *pkt;
				pkt = &wk->batch[nb];
			}
		} else {
			if (batching)
				pkt = &wk->batch[nb];
			if (!ring_walk_next(walk, pkt))
				break;
		}
		/*
		 * The other generation's frame, at a reload; after a lift,
		 * only the first cut_n frames are held to cut_from.
		 */
		if (cutting) {
			held = cut_n > 0;
			cut_n -= held;
			if ((held && pkt->ts_ns < from) ||
			    pkt->ts_ns >= until) {
				resume_frame_handed_off(sw, ++off);
				continue;
			}
		}
		if (batching)
			pkt->linktype = (uint16_t)wk->linktype;
		last_ts = pkt->ts_ns;
		len = ring_wire_len(pkt->len, pkt->flags);
		resume_frame_begin(sw, pos);
		/*
		 * One per-frame stage and nothing after it: its verdict
		 * changes nothing, and is not looked at.
		 */
		if (single)
			passed = packet(state, pkt) == RINGFAN_CONTINUE;
		else
			passed = pipeline_run_staged(pl, sw, pkt, staged);
		if (passed && batching)
			wk->ptrs[nb++] = pkt;
		pos = resume_frame_done(sw, pos, len);
		if (__builtin_expect(pos >= commit_at, 0)) {
			resume_commit_pos(sw);
			pos = 0;
		}
	}
	s->off = off;
	s->last_ts = last_ts;
	s->nb = nb;
}

unsigned
worker_block(struct worker *wk, const struct tpacket_block_desc *bd,
    uint32_t index, uint32_t skip)
{
	struct stats_worker *sw = wk->sw;
	struct pipeline *pl = wk->pl;
	struct ringfan_packet one;
	struct ring_walk walk;
	/*
	 * The cut is read once per block: every frame of a block the kernel
	 * retired before the master moved the cut arrived before the cut
	 * itself.  A block of more frames than pos holds commits each.
	 */
	struct worker_sums s = {
		.from = STATS_LOAD(&sw->cut_from),
		.until = STATS_LOAD(&sw->cut_until),
		.commit_at = bd->hdr.bh1.num_pkts > POS_MAX_FRAMES ? 0 :
		    POS_COMMIT_AT,
		.off = sw->handed_off,
	};
	uint64_t packets = sw->packets, bytes;
	bool cutting = s.from != 0 || s.until != UINT64_MAX;
	bool batching = pl->has_batch;
	/*
	 * Each stage's index stored as it runs, into the line the frame's
	 * counters go to anyway; with one per-frame stage none, as the block
	 * stores its index once: a frame in hand is then in that stage.
	 */
	bool staged = pl->first_batch > 1;
	/*
	 * A block taken over from a worker that died in it gets no prefetch
	 * calls: a prefetch callback that crashes runs with no frame in hand,
	 * and would crash every successor at the same frame.  Without them
	 * the frame reaches packet, where a crash quarantines it.
	 */
	bool prefetching = pl->has_prefetch && skip == 0;
	uint32_t n;

	if (skip == 0) {
		uint32_t seq = ring_block_seq(bd);
		/*
		 * A block resumed in was counted by the worker that took it:
		 * after some of its frames (skip), or before any were done
		 * with, `at` naming it still (ring_block_seq() is never 0).
		 */
		bool again =
		    STATS_LOAD(&sw->at) == ((uint64_t)index | (uint64_t)seq << 32);

		resume_take(sw, index, seq, stats_consumed(sw));
		if (!again)
			worker_ring_health(wk, bd);
		else
			prefetching = false;
	}

	ring_walk_init(&walk, bd, wk->ring.block_size);
	for (uint32_t k = 0; k < skip && ring_walk_next(&walk, &one); k++)
		;
	/* Counted now: the frames skipped are counted already. */
	s.cut_n = worker_cut_held(sw);
	if (pl->nstages == 0 && !cutting) {
		/* Nothing looks at the frames: they are only counted. */
		n = ring_walk_count(&walk, &bytes, &s.last_ts);
		if (n > 0)
			resume_commit(sw, n, bytes, 0);
	} else {
		if (pl->first_batch == 1)
			STATS_STORE(&sw->stage, 0);
		if (__builtin_expect(batching || cutting || s.commit_at == 0,
		    0))
			worker_frames(wk, &walk, &s, batching, cutting, staged,
			    prefetching);
		else if (prefetching)
			worker_frames(wk, &walk, &s, false, false, staged,
			    true);
		else if (staged)
			worker_frames(wk, &walk, &s, false, false, true, false);
		else
			worker_frames(wk, &walk, &s, false, false, false,
			    false);
		if (pl->first_batch == 1)
			STATS_STORE(&sw->stage, STATS_STAGE_NONE);
		resume_commit_pos(sw);
	}
	/*
	 * The frames are counted as handled already: a crash from here on
	 * costs the later stages the rest of this block, never a frame twice.
	 */
	if (s.nb > 0) {
		pipeline_rest(pl, wk->ptrs, s.nb);
		STATS_STORE(&sw->stage, STATS_STAGE_NONE);
	}
	if (walk.bad)
		STATS_ADD(&sw->ring_errors, 1);
	if (s.last_ts > wk->clock.frame_ns)
		wk->clock.frame_ns = s.last_ts;
	worker_ring_backlog(wk, index);
	return (unsigned)(sw->packets - packets);
}

/*
 * While frames wait (waiting), the clock does not move network time: they
 * were stamped on arrival, up to block_timeout ago, and a tick past their
 * time would end the flows they belong to before they are seen, unlike the
 * same frames read from a file.  That holds before the worker's first
 * frame too (a respawned worker's flowtable has the flows of the one it
 * replaces): the time stays the last one given, and before any, there is
 * none (0), for the caller not to tick at.  The caller looks at the ring
 * after it read mono, so that a frame that comes later is stamped after it.
 * Before the first frame network time is the real-time clock, which it
 * follows back when the clock is stepped back more than a second: it
 * would otherwise stand still, with no plugin ticking, until the clock
 * came back to the time before the step.
 */
uint64_t
worker_clock_now(struct worker_clock *c, uint64_t mono, bool waiting)
{
	uint64_t t;

	if (waiting)
		t = c->frame_ns;	/* raised to c->last below, never lowered */
	else if (c->frame_ns == 0) {
		t = clock_ns(CLOCK_REALTIME);	/* no frame yet, none waits */
		if (c->last > t && c->last - t > WORKER_CLOCK_STEP_NS)
			c->last = t;
	} else
		t = c->frame_ns + (mono - c->frame_mono);
	if (t < c->last)
		t = c->last;
	c->last = t;
	return t;
}

bool
worker_clock_back(struct worker_clock *c, uint64_t frame_ns, uint64_t mono)
{
	if (frame_ns == 0 || c->last < frame_ns ||
	    c->last - frame_ns <= WORKER_CLOCK_STEP_NS)
		return false;
	/*
	 * Seen now: a block whose frames all go to the other generation of a
	 * capture reload would leave frame_mono at the frame before the step,
	 * and the clock would move network time on from there.
	 */
	c->frame_ns = frame_ns;
	c->frame_mono = mono;
	c->last = frame_ns;
	return true;
}

/*
 * Network time went back from `was` to `now` with the real-time clock:
 * every plugin ticks there, so that what it times (flows) goes on from
 * there rather than from the time before the step.
 */
static void
worker_clock_stepped(struct pipeline *pl, uint64_t was, uint64_t now)
{
	log_warnx("the clock went back %.3f s: network time goes back with it",
	    (double)(was - now) / 1e9);
	pipeline_tick_all(pl, now);
}

/*
 * Before the frames of block bd, found ready at the loop's monotonic time
 * mono: a first frame stamped well before network time is a step back of
 * the clock.
 */
static void
worker_clock_block(struct worker *wk, struct pipeline *pl,
    const struct tpacket_block_desc *bd, uint64_t mono)
{
	struct ring_walk walk;
	struct ringfan_packet first;
	uint64_t was = wk->clock.last;

	ring_walk_init(&walk, bd, wk->ring.block_size);
	if (ring_walk_next(&walk, &first) &&
	    worker_clock_back(&wk->clock, first.ts_ns, mono))
		worker_clock_stepped(pl, was, first.ts_ns);
}

uint32_t
worker_resume(const struct ring *r, struct stats_worker *sw, uint32_t *skip)
{
	uint32_t idx = resume_ring(r, sw, skip);

	if (*skip > 0)
		log_info("resuming in block %u after %u frames, %llu quarantined",
		    idx, *skip, (unsigned long long)sw->quarantined);
	return idx;
}

/* Record "what: strerror(errno)" as the reason the worker cannot start. */
static int
worker_fail(struct worker *wk, const char *what)
{
	snprintf(wk->sw->err, sizeof(wk->sw->err), "%s: %s", what,
	    strerror(errno));
	return -1;
}

/*
 * The one place a worker gives up root, in a fixed order: groups, gid,
 * uid, capabilities (which a master that is not root, holding ambient
 * ones, would otherwise hand on across the change of uid), a check that
 * root cannot be regained, no new privileges.
 */
static int
worker_drop_privileges(struct worker *wk)
{
	int rc;

	if (!wk->drop_privileges)
		return 0;
	if (setgroups(1, &wk->gid) == -1)
		return worker_fail(wk, "setgroups");
	if (setresgid(wk->gid, wk->gid, wk->gid) == -1)
		return worker_fail(wk, "setresgid");
	if (setresuid(wk->uid, wk->uid, wk->uid) == -1)
		return worker_fail(wk, "setresuid");
	if ((rc = caps_clear()) != 0) {
		errno = -rc;
		return worker_fail(wk, "dropping capabilities");
	}
	if (wk->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(wk->sw->err, sizeof(wk->sw->err),
		    "privileges not dropped: could become root again");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return worker_fail(wk, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}

/*
 * Once the ring is mapped, the worker needs its socket for nothing but
 * waiting, and a descriptor of it would let plugin code send on the link:
 * passed over a Unix socket to itself (SCM_RIGHTS) it comes back under a
 * number no seccomp rule names.  So an epoll instance watching the socket
 * takes the socket's number; the socket itself lives on in the mapping (and
 * in the master), out of reach of every system call.  epoll_wait() on the
 * number then waits for the ring, and tells the socket's events.
 */
static int
worker_hide_socket(struct worker *wk)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLERR };
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return worker_fail(wk, "epoll_create1");
	ev.data.fd = wk->fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, wk->fd, &ev) == -1) {
		close(ep);
		return worker_fail(wk, "epoll_ctl(capture socket)");
	}
	if (dup3(ep, wk->fd, O_CLOEXEC) == -1) {
		close(ep);
		return worker_fail(wk, "dup3(epoll over capture socket)");
	}
	close(ep);
	return 0;
}

/*
 * Load, check and open the pipeline, after the privilege drop: plugin code
 * runs with the worker's rights only.  enum ringfan_result.
 */
static int
worker_pipeline(struct worker *wk)
{
	struct plugin_env env = {
		.cfg = wk->cfg,
		.cap = wk->cap,
		.worker_id = wk->id,
		.worker_count = wk->cap->workers,
		.interface = wk->cap->interface,
		.linktype = wk->linktype,
		.snaplen = wk->snaplen,
	};
	char err[PLUGIN_ERR_MAX];
	int rc;

	/* The master names where a crash took it (master_slot_where). */
	pipeline_track(wk->sw->starting_in, sizeof(wk->sw->starting_in));
	rc = pipeline_load(wk->pl, wk->cfg, wk->cap, wk->info, err,
	    sizeof(err));
	/* Loaded: the files are mapped, their descriptors no plugin's. */
	plugin_info_close(wk->info);
	if (rc == -1) {
		strlcpy(wk->sw->err, err, sizeof(wk->sw->err));
		return RINGFAN_FAIL;
	}
	for (size_t k = 0; k < wk->pl->nstages; k++) {
		const struct plugin_info *now = &wk->pl->stages[k].info;

		if (plugin_file_same(now, &wk->info[k]))
			continue;
		if (strcmp(now->name, wk->info[k].name) != 0) {
			/* Its counters would show under no name the master knows. */
			snprintf(wk->sw->err, sizeof(wk->sw->err), "plugin %s: "
			    "%s is now plugin %s: reload to apply",
			    wk->info[k].name, now->path, now->name);
			return RINGFAN_FAIL;
		}
		log_warnx("plugin %s: %s changed since it was validated: "
		    "running the file as it is now; reload to validate it",
		    wk->info[k].name, now->path);
	}
	if (wk->pl->has_batch) {
		/* The walk returns no more frames of a block (ring.h). */
		wk->batch_max = RING_FRAMES_MAX(wk->cap->ring.block_size);
		wk->batch = calloc(wk->batch_max, sizeof(*wk->batch));
		wk->ptrs = calloc(wk->batch_max, sizeof(*wk->ptrs));
		if (wk->batch == NULL || wk->ptrs == NULL) {
			worker_fail(wk, "batch array");
			return RINGFAN_FAIL;
		}
	}
	if ((rc = pipeline_check(wk->pl, &env, err, sizeof(err))) ==
	    RINGFAN_OK)
		rc = pipeline_open(wk->pl, &env, wk->sw, wk->mem, err,
		    sizeof(err));
	/* From open on, the stage word says where it is. */
	pipeline_track(NULL, 0);
	if (rc != RINGFAN_OK)
		strlcpy(wk->sw->err, err, sizeof(wk->sw->err));
	return rc;
}

/*
 * Pins the worker to its CPU.  The config check knows only the online
 * CPUs, so EINVAL on one that is online means the cpuset of ringfan's
 * cgroup leaves it out: the error says so, since "Invalid argument" alone
 * would not.
 */
static int
worker_pin(struct worker *wk)
{
	cpu_set_t set;
	const char *why;
	int e;

	CPU_ZERO(&set);
	CPU_SET(wk->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		return 0;
	e = errno;
	if (e != EINVAL) {
		snprintf(wk->sw->err, sizeof(wk->sw->err),
		    "sched_setaffinity(CPU %d): %s", wk->cpu, strerror(e));
		return -1;
	}
	why = cfg_cpu_online(wk->cpu) ?
	    "online but outside the cpuset of ringfan's cgroup" : "offline";
	snprintf(wk->sw->err, sizeof(wk->sw->err),
	    "sched_setaffinity(CPU %d): %s (CPU %d is %s)", wk->cpu,
	    strerror(e), wk->cpu, why);
	return -1;
}

static int
worker_setup(struct worker *wk)
{
	struct sigaction sa;
	sigset_t none;
	int rc;

	log_set_tag("%s/%u", wk->cap->name, wk->id);
	/* The master coordinates stops; a terminal's ^C is for it alone. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = worker_on_term;
	sigaction(SIGTERM, &sa, NULL);
	worker_watch_faults(wk);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (wk->cpu >= 0 && worker_pin(wk) == -1)
		return -1;
	STATS_STORE(&wk->sw->cpu, wk->cpu);
	/* A closer whose interface is gone has no socket, and no ring. */
	if (wk->fd != -1) {
		rc = ring_map(&wk->ring, wk->fd, wk->cap->ring.block_size,
		    wk->cap->ring.block_count);
		if (rc != 0) {
			snprintf(wk->sw->err, sizeof(wk->sw->err),
			    "mmap(ring of %u x %u bytes): %s",
			    wk->cap->ring.block_count,
			    wk->cap->ring.block_size, strerror(-rc));
			return -1;
		}
		STATS_STORE(&wk->sw->ring_blocks, wk->ring.block_count);
		if (worker_hide_socket(wk) == -1)
			return -1;
	}
	if (worker_drop_privileges(wk) == -1)
		return -1;
	/*
	 * A worker never outlives its master.  After the drop, which clears
	 * the death signal; a master already gone is seen by its new parent.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != wk->master_pid) {
		snprintf(wk->sw->err, sizeof(wk->sw->err), "the master is gone");
		return -1;
	}
	/* Before the first plugin is loaded: its constructors run in dlopen. */
	if (sandbox_install(wk->fd, wk->sw->err, sizeof(wk->sw->err)) == -1)
		return -1;
	setproctitle("worker %u %s %s", wk->id, wk->cap->name,
	    wk->cap->interface);
	return worker_pipeline(wk);
}

/* How long to sleep in poll: until the next tick is due, at most. */
static int
worker_poll_ms(const struct pipeline *pl)
{
	uint64_t shortest = UINT64_MAX;

	for (size_t i = 0; i < pl->nstages; i++)
		if (pl->stages[i].tick_ns < shortest)
			shortest = pl->stages[i].tick_ns;
	shortest /= 1000000u;
	return shortest < 1 ? 1 : shortest < WORKER_POLL_MS ? (int)shortest :
	    WORKER_POLL_MS;
}

/*
 * Wait at most ms for a block.  wk->fd is the epoll instance that watches
 * the socket (worker_hide_socket), so the socket's own events come back.
 * A link taken down or deleted leaves ENETDOWN pending on the socket, and
 * the socket reports EPOLLERR at once, every time, until the error is
 * read; the worker cannot read it (it has no descriptor of the socket),
 * the master does (SO_ERROR, linkwatch.c) when it hears of the link.
 * Meanwhile, and should it never hear, the worker sleeps out its wait
 * instead of spinning: no frame arrives on a link that is down.
 */
static void
worker_wait(const struct worker *wk, int ms)
{
	struct epoll_event ev;
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L };
	int n;

	if ((n = epoll_wait(wk->fd, &ev, 1, ms)) == 1 &&
	    (ev.events & (EPOLLERR | EPOLLIN)) == EPOLLERR)
		nanosleep(&ts, NULL);
	/*
	 * Its descriptor gone (plugin code closed it): the worker could only
	 * poll its ring in a busy loop.  It ends as a crash instead; its
	 * successor has a descriptor of its own and takes the ring over.
	 * The log's descriptor may be gone too: the master says why.
	 */
	if (n == -1 && errno != EINTR) {
		snprintf(wk->sw->err, sizeof(wk->sw->err), "waiting for its "
		    "ring: epoll_wait: %s", strerror(errno));
		STATS_STORE(&wk->sw->exiting, WORKER_EXIT_WAIT + 1);
		_exit(WORKER_EXIT_WAIT);
	}
}

void
worker_exit(struct stats_worker *sw, int code)
{
	STATS_STORE(&sw->exiting, (uint32_t)code + 1);
	exit(code);
}

/* What a worker holds, let go before it exits. */
static void
worker_teardown(struct worker *wk)
{
	pipeline_unload(wk->pl);
	ring_unmap(&wk->ring);
	free(wk->batch);
	free(wk->ptrs);
}

int
worker_main(struct worker *wk)
{
	struct stats_worker *sw = wk->sw;
	const struct tpacket_block_desc *bd;
	struct pipeline pl;
	uint64_t now, net, was, drain_until = 0;
	bool got;
	uint32_t idx, skip, stop, state;
	int rc, poll_ms;

	memset(&pl, 0, sizeof(pl));
	wk->pl = &pl;
	if ((rc = worker_setup(wk)) != RINGFAN_OK) {
		log_error("%s%s", sw->err, rc == RINGFAN_RETRY ?
		    " (temporary: retrying)" : "");
		worker_teardown(wk);
		return rc == RINGFAN_RETRY ? WORKER_EXIT_RETRY :
		    WORKER_EXIT_SETUP;
	}
	/* A closer without a ring (its interface gone) has no frame. */
	if (wk->fd == -1) {
		log_debug("closing without a ring");
		worker_teardown(wk);
		return WORKER_EXIT_OK;
	}
	/*
	 * Running, unless the master asked for a hand-over while it opened
	 * (a reload going back): then no frame meets this pipeline, and the
	 * ring is left as it was for the successor.
	 */
	state = WORKER_STARTING;
	if (!__atomic_compare_exchange_n(&sw->state, &state, WORKER_RUNNING,
	    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (state == WORKER_RESTARTING &&
		    STATS_LOAD(&sw->stop) != WORKER_STOP_DRAIN) {
			log_debug("handing over before running");
			worker_teardown(wk);
			return WORKER_EXIT_OK;
		}
		/* Draining (a stop, a link gone): the ring's frames first. */
		STATS_STORE(&sw->state, WORKER_RUNNING);
	}
	poll_ms = worker_poll_ms(&pl);
	idx = worker_resume(&wk->ring, sw, &skip);
	log_debug("running on %s, ring %u x %u bytes", wk->cap->interface,
	    wk->ring.block_count, wk->ring.block_size);

	/* One clock read a turn: after the block or the sleep, for both uses. */
	now = clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		bd = ring_block(&wk->ring, idx);
		got = false;
		if (ring_block_ready(bd)) {
			worker_clock_block(wk, &pl, bd, now);
			got = worker_block(wk, bd, idx, skip) > 0;
			skip = 0;
			ring_block_return(&wk->ring, bd);
			idx = (idx + 1) % wk->ring.block_count;
			resume_released(sw, idx);
			if (wk->owned > 0)
				wk->owned--;
			worker_cut_lift(sw);
		} else if (drain_until == 0 || now < drain_until) {
			STATS_STORE(&sw->backlog, 0);	/* caught up */
			worker_wait(wk, poll_ms);
			worker_cut_lift(sw);
		} else
			break;		/* stopping, drained */

		now = clock_ns(CLOCK_MONOTONIC);
		if (got)
			wk->clock.frame_mono = now;
		was = wk->clock.last;
		net = worker_clock_now(&wk->clock, now,
		    ring_block_waiting(ring_block(&wk->ring, idx)));
		if (__builtin_expect(net < was, 0))
			worker_clock_stepped(&pl, was, net);
		else if (net != 0 && net >= pl.next_tick)
			pipeline_tick(&pl, net);
		/* Progress, for the master's stall watch: a turn is done. */
		STATS_STORE(&sw->beat, STATS_LOAD(&sw->beat) + 1);
		stop = STATS_LOAD(&sw->stop);
		if (stop == WORKER_STOP_HANDOVER ||
		    (worker_term && stop == WORKER_STOP_NONE))
			break;	/* the ring keeps the rest for a successor */
		if (stop == WORKER_STOP_DRAIN && drain_until == 0) {
			/*
			 * The master has shut the socket: no frame enters the
			 * ring any more, and the block the kernel holds is
			 * retired within block_timeout.  Take what is left.
			 */
			STATS_STORE(&sw->state, WORKER_STOPPING);
			drain_until = now + (uint64_t)(wk->cap->ring.block_timeout_ms
			    + 2 * WORKER_POLL_MS) * 1000000u;
		}
	}
	worker_teardown(wk);
	log_debug("stopped after %llu frames",
	    (unsigned long long)STATS_LOAD(&sw->packets));
	return WORKER_EXIT_OK;
}

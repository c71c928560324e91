/*
 * A capture reload: a new generation built beside the current one, its
 * workers started, a cut-over time set, the old generation retired.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "util.h"

/* How far the real-time clock stands above the monotonic one now, in ns. */
static int64_t
swap_clock_off(void)
{
	uint64_t mono = mono_ns();

	return (int64_t)(clock_ns(CLOCK_REALTIME) - mono);
}

/*
 * The highest the real-time clock stood since the new sockets were built:
 * a step back leaves it where it was.  T is taken on it, and the old
 * sockets are shut only once the clock as it is has passed T: after a step
 * back, frames stamped before T still come, and the old workers alone take
 * them.
 */
static void
swap_clock_note(struct master *m)
{
	int64_t off = swap_clock_off();

	if (off > m->swap_off)
		m->swap_off = off;
}

/*
 * A capture reload: build the new generation beside the current one, start
 * its workers, and hand over at a cut-over time T.  Every socket stamps a
 * frame with the same receive time (SO_TIMESTAMPNS), and both generations
 * see every frame while both are open: old workers take the frames stamped
 * before T, new ones those from T on, so none is lost or seen twice.
 */
int
master_swap_begin(struct master *m, struct cfg *nc, char *err, size_t errlen)
{
	unsigned *handover;
	struct gen g = { 0 };
	char name[64];
	int rc = -ENOMEM;

	if ((g.cfg = malloc(sizeof(*g.cfg))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		cfg_free(nc);
		goto fail;
	}
	*g.cfg = *nc;
	/* A file refused, or a system that refused what it asks for. */
	if ((rc = gen_build(&g, &m->g, NULL, err, errlen)) != 0) {
		rc = rc == EXIT_CONFIG ? -EINVAL : -EIO;
		goto fail;
	}
	if ((handover = calloc(g.nslots, sizeof(*handover))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		rc = -ENOMEM;
		goto fail;
	}
	free(m->handover);
	m->handover = handover;
	m->old = m->g;
	m->g = g;
	free(m->kp_floor);
	if ((m->kp_floor = calloc(m->g.nslots, sizeof(*m->kp_floor))) != NULL) {
		master_read_kernel(m);
		for (unsigned i = 0, k; i < m->old.nslots; i++)
			if ((k = master_retire_to(m, &m->old.slots[i])) !=
			    UINT_MAX)
				m->kp_floor[k] += stats_value(
				    m->old.slots[i].wk.sw, "kernel_packets");
	}
	/* Until T is known the new workers take nothing. */
	for (unsigned i = 0; i < m->g.nslots; i++)
		STATS_STORE(&m->g.slots[i].wk.sw->cut_from, UINT64_MAX);
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (master_spawn(m, &m->g.slots[i]) != 0)
			master_spawn_refused(&m->g.slots[i],
			    master_slot_name(&m->g.slots[i], name,
			    sizeof(name)));
	m->swap = SWAP_STARTING;
	m->swap_at = mono_ns() + MASTER_SWAP_START_NS;
	m->swap_off = swap_clock_off();
	m->swap_built = mono_ns();
	m->swap_clock_said = false;
	m->reloads++;
	m->last_reload_error[0] = '\0';
	master_apply_live(m);
	log_info("reload %s: new sockets built, starting %u worker%s",
	    m->g.cfg->path, m->g.nslots, m->g.nslots == 1 ? "" : "s");
	return 0;
fail:
	gen_free(&g);
	strlcpy(m->last_reload_error, err, sizeof(m->last_reload_error));
	return rc;
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
	free(m->kp_floor);
	m->kp_floor = NULL;
	if ((handover = calloc(m->g.nslots, sizeof(*handover))) != NULL) {
		free(m->handover);
		m->handover = handover;
	}
	m->swap = SWAP_NONE;
	/* The level is every process's: the workers kept run at the old. */
	master_apply_live(m);
	master_reload_answer(m, m->last_reload_error);
}

unsigned
master_retire_to(const struct master *m, const struct slot *o)
{
	const struct cfg *nc = m->g.cfg;

	for (size_t c = 0; c < nc->ncaptures; c++)
		if (strcmp(nc->captures[c].name, o->wk.cap->name) == 0)
			return m->g.first_slot[c] + o->wk.id %
			    nc->captures[c].workers;
	return UINT_MAX;
}

/*
 * The worker of a capture the reload removed: its counts in the log, the
 * last place they are kept, as stats showed them (what its slot carried
 * over from earlier generations included).
 */
static void
master_removed_log(const struct slot *o)
{
	const struct stats_worker *w = o->wk.sw;

	log_info("capture %s removed: worker %u had handled %llu frames "
	    "(kernel_packets %llu, kernel_drops %llu, quarantined %llu)",
	    o->wk.cap->name, o->wk.id,
	    (unsigned long long)stats_value(w, "packets"),
	    (unsigned long long)stats_value(w, "kernel_packets"),
	    (unsigned long long)stats_value(w, "kernel_drops"),
	    (unsigned long long)stats_value(w, "quarantined"));
}

/* The retiring generation has exited: its counters go to the new slots. */
void
master_retire(struct master *m)
{
	struct slot *o, *to;
	unsigned dropped, k;
	uint64_t n;
	char name[64];

	master_read_kernel(m);
	for (unsigned i = 0; i < m->old.nslots; i++) {
		o = &m->old.slots[i];
		/*
		 * Frames left in a ring that no one drained (killed at the
		 * deadline, failed) are freed with it: dropped, as at a stop.
		 */
		if ((n = stats_backlog(o->wk.sw)) > 0) {
			o->wk.sw->carry.kernel_drops += n;
			log_warnx("%s (retiring): %llu frames left in its ring, "
			    "counted as dropped", master_slot_name(o, name,
			    sizeof(name)), (unsigned long long)n);
		}
		master_retire_lost(m, o);
		if ((k = master_retire_to(m, o)) == UINT_MAX) {
			master_removed_log(o);
			continue;
		}
		to = &m->g.slots[k];
		if ((dropped = stats_carry(to->wk.sw, o->wk.sw)) > 0)
			log_warnx("%s: %u plugin counters not carried over: "
			    "all %d slots taken", master_slot_name(to, name,
			    sizeof(name)), dropped, STATS_MAX_COUNTERS);
	}
	gen_free(&m->old);
	free(m->kp_floor);
	m->kp_floor = NULL;
	m->swap = SWAP_NONE;
	log_info("reload: captures handed over");
	master_reload_answer(m, NULL);
}

/*
 * Until T, set just after this, the old configuration is in force: a frame
 * the new sockets receive is a copy of one the old generation takes, or
 * one only the new configuration asks for (a capture added, or given
 * another interface or a wider filter), which it takes from T on.  The new
 * workers leave it to the old ones.  A new ring that filled while its
 * worker was still starting dropped such frames only, which lose nothing
 * the configuration in force asks for: read now, before T, the
 * new sockets' drops are taken out of their kernel counts (the kernel's
 * packets include its drops), and so are the frames a new ring closed
 * with when its interface went away meanwhile, which linkwatch.c counted
 * as dropped in the carry (the carry of a new slot holds nothing else
 * before the retirement).  Frames that reached a ring are counted as
 * handed off by the worker that skips them, as before.  A stop before T
 * (master_final) forgets them too: the old generation took every frame.
 */
void
master_swap_forget_drops(struct master *m)
{
	struct stats_worker *sw;
	uint64_t drops, kp;
	char name[64];

	master_read_kernel(m);
	for (unsigned i = 0; i < m->g.nslots; i++) {
		sw = m->g.slots[i].wk.sw;
		drops = STATS_LOAD(&sw->kernel_drops) + sw->carry.kernel_drops;
		if (drops == 0)
			continue;
		kp = STATS_LOAD(&sw->kernel_packets);
		STATS_STORE(&sw->kernel_packets, kp > drops ? kp - drops : 0);
		STATS_STORE(&sw->kernel_drops, 0);
		sw->carry.kernel_drops = 0;
		log_info("%s: %llu frames dropped before the cut-over, while "
		    "the old configuration was in force: not counted",
		    master_slot_name(&m->g.slots[i], name, sizeof(name)),
		    (unsigned long long)drops);
	}
}

/* Why the new workers are late: the first one still starting, and where. */
static void
master_swap_late(const struct master *m, char *buf, size_t len)
{
	char where[STATS_ERR_MAX];

	for (unsigned i = 0; i < m->g.nslots; i++) {
		const struct slot *s = &m->g.slots[i];

		if (STATS_LOAD(&s->wk.sw->state) == WORKER_RUNNING ||
		    s->wk.fd == -1)
			continue;
		master_slot_where(s, where, sizeof(where));
		snprintf(buf, len, "new workers did not start in %llu s: "
		    "worker %s/%u still starting, %s",
		    MASTER_SWAP_START_NS / 1000000000u, s->wk.cap->name,
		    s->wk.id, where);
		return;
	}
	snprintf(buf, len, "new workers did not start in %llu s",
	    MASTER_SWAP_START_NS / 1000000000u);
}

/*
 * Whether the real-time clock, stepped back since T was set, has yet to
 * pass T and the old rings' last block before it: until it has, frames
 * stamped before T still come, which the new workers leave to the old.
 * Without a step the clock stands within microseconds of that due time
 * when the monotonic one reaches swap_at (either side of it: the master
 * read them apart), which is no step back.
 */
static bool
swap_clock_back(struct master *m)
{
	int64_t off = swap_clock_off();
	uint64_t rt = clock_ns(CLOCK_REALTIME);
	uint64_t due = m->swap_cut + MASTER_SWAP_CUT_NS + m->swap_tov;

	if (rt >= due || (!m->swap_clock_said &&
	    off + (int64_t)MASTER_SWAP_CLOCK_SLACK_NS >= m->swap_off))
		return false;
	if (!m->swap_clock_said) {
		m->swap_clock_said = true;
		log_warnx("reload: the clock went back %.3f s during the "
		    "hand-over: the old sockets stay open %.3f s more, until "
		    "it passes the cut-over again",
		    (double)(m->swap_off - off) / 1e9,
		    (double)(due - rt) / 1e9);
	}
	return true;
}

/*
 * Whether the retiring generation reassembles fragments on interface, by
 * any of its names: with the new one, two defrag fanout groups share the
 * kernel's one reassembly of each datagram, which the newest gets alone.
 */
static bool
swap_old_defrag(const struct master *m, const char *interface)
{
	const struct cfg *old = m->old.cfg;

	for (size_t c = 0; c < old->ncaptures; c++)
		if (old->captures[c].fanout.defrag &&
		    cfg_same_interface(old->captures[c].interface, interface))
			return true;
	return false;
}

/*
 * A capture that reassembles fragments (fanout.defrag) where the old one
 * did too: the kernel gives a reassembled datagram to the newest fanout
 * group alone, so from the build of the new sockets to T those datagrams
 * went to them, whose workers left them to the old, which never had them.
 * No count can tell how many.
 */
static void
swap_defrag_gap(const struct master *m, uint64_t cut_mono)
{
	const struct cfg *cfg = m->g.cfg;

	for (size_t c = 0; c < cfg->ncaptures; c++)
		if (cfg->captures[c].fanout.defrag &&
		    m->g.slots[m->g.first_slot[c]].wk.fd != -1 &&
		    swap_old_defrag(m, cfg->captures[c].interface))
			log_warnx("reload: capture %s reassembles fragments "
			    "(fanout.defrag): the datagrams sent in fragments "
			    "that complete in the %llu ms from its new sockets "
			    "to the cut-over reach the new sockets alone, "
			    "whose workers leave them to the old: not seen, "
			    "not counted (defrag: false has no such gap)",
			    cfg->captures[c].name, (unsigned long long)
			    ((cut_mono - m->swap_built) / 1000000u));
}

/*
 * Just before the old sockets are shut: past the frames each new worker
 * has taken and those waiting in its ring by now (stats_lift_count()),
 * every frame that comes is the new workers', stamped before T or not (a
 * clock stepped back after the hand-over), worker_cut_lift().  Read
 * before the shut, so that a frame that comes in between is taken by both
 * generations rather than neither, should the clock have gone back below
 * T.
 */
static void
swap_lift_at(struct master *m)
{
	struct stats_worker *sw;

	master_read_kernel(m);
	for (unsigned i = 0; i < m->g.nslots; i++) {
		sw = m->g.slots[i].wk.sw;
		STATS_STORE(&sw->cut_lift, stats_lift_count(sw));
	}
}

void
master_swap_step(struct master *m, uint64_t now)
{
	uint64_t cut, tov = 0;
	unsigned running = 0;
	char name[64], why[64 + sizeof(m->g.slots[0].last_exit) +
	    sizeof(m->g.slots[0].died_in)];

	switch (m->swap) {
	case SWAP_NONE:
		return;
	case SWAP_STARTING:
		swap_clock_note(m);
		for (unsigned i = 0; i < m->g.nslots; i++) {
			uint32_t st = STATS_LOAD(&m->g.slots[i].wk.sw->state);

			if (st == WORKER_FAILED || st == WORKER_BACKOFF) {
				/* The answer says why, as the log did. */
				snprintf(why, sizeof(why), "new worker %s/%u "
				    "did not start: %s%s%s",
				    m->g.slots[i].wk.cap->name,
				    m->g.slots[i].wk.id,
				    m->g.slots[i].last_exit,
				    m->g.slots[i].died_in[0] != '\0' ? " " : "",
				    m->g.slots[i].died_in);
				master_swap_abort(m, why);
				return;
			}
			/* No socket: it waits for its interface. */
			running += st == WORKER_RUNNING ||
			    m->g.slots[i].wk.fd == -1;
		}
		if (running < m->g.nslots) {
			if (now >= m->swap_at) {
				master_swap_late(m, why, sizeof(why));
				master_swap_abort(m, why);
			}
			return;
		}
		master_swap_forget_drops(m);
		swap_clock_note(m);
		cut = (uint64_t)((int64_t)mono_ns() + m->swap_off) +
		    MASTER_SWAP_CUT_NS;
		/*
		 * The new workers' first: a master held up between the two
		 * (past T) would have both generations take the frames from
		 * T on, an over-count, where the other order loses them.
		 */
		for (unsigned i = 0; i < m->g.nslots; i++)
			STATS_STORE(&m->g.slots[i].wk.sw->cut_from, cut);
		for (unsigned i = 0; i < m->old.nslots; i++) {
			STATS_STORE(&m->old.slots[i].wk.sw->cut_until, cut);
			if (m->old.slots[i].wk.cap->ring.block_timeout_ms > tov)
				tov = m->old.slots[i].wk.cap->ring.block_timeout_ms;
		}
		/* Past T, and past the old rings' last block before T. */
		m->swap_at = now + 2 * MASTER_SWAP_CUT_NS + tov * 1000000u;
		m->swap_cut = cut;
		m->swap_tov = tov * 1000000u;
		m->swap = SWAP_CUTTING;
		log_info("reload: %u new worker%s running, handing over",
		    m->g.nslots, m->g.nslots == 1 ? "" : "s");
		swap_defrag_gap(m, mono_ns() + MASTER_SWAP_CUT_NS);
		return;
	case SWAP_CUTTING:
		if (now < m->swap_at || swap_clock_back(m))
			return;
		swap_lift_at(m);
		/*
		 * Every old socket shut before any is drained (a drainer's
		 * fork takes a while): the window for a frame taken by both
		 * generations, above, as short as the shuts themselves.
		 */
		for (unsigned i = 0; i < m->old.nslots; i++)
			master_shut(&m->old.slots[i]);
		for (unsigned i = 0; i < m->old.nslots; i++) {
			struct slot *s = &m->old.slots[i];

			/*
			 * One waiting out a crash's backoff drains its ring
			 * now: the retirement waits for no respawn.
			 */
			if (!master_drain(m, s) &&
			    STATS_LOAD(&s->wk.sw->state) != WORKER_BACKOFF)
				STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		}
		log_info("reload: the old sockets shut, their workers "
		    "draining");
		m->swap = SWAP_RETIRING;
		return;
	case SWAP_RETIRING:
		for (unsigned i = 0; i < m->old.nslots; i++) {
			struct slot *s = &m->old.slots[i];

			/*
			 * No progress (stuck in a plugin's close, or
			 * stopped) where no frame waits, which is no stall:
			 * killed, as at a stop, and not started again.
			 */
			if (s->pid > 0) {
				if (master_exit_overdue(s, now)) {
					log_warnx("%s (pid %d) made no progress "
					    "for %llu ms draining for a "
					    "reload: SIGKILL", master_slot_name(
					    s, name, sizeof(name)), (int)s->pid,
					    MASTER_EXIT_GRACE_NS / 1000000u);
					kill(s->pid, SIGKILL);
				}
				continue;
			}
			if (STATS_LOAD(&s->wk.sw->state) != WORKER_BACKOFF)
				continue;
			/*
			 * One that died while draining (a crash, a stall's
			 * kill) waits out a backoff with no process: the
			 * frames before T are in its ring alone, so a drainer
			 * starts now, or the retirement would free the ring
			 * with them in it.  After a kill for no progress,
			 * only if frames wait (it was stuck in one, now
			 * quarantined), not for a close that hangs.
			 */
			if (s->exit.killed) {
				master_read_kernel(m);
				if (stats_backlog(s->wk.sw) == 0) {
					STATS_STORE(&s->wk.sw->state,
					    WORKER_STOPPED);
					continue;
				}
			}
			if (!master_drain(m, s))
				STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		}
		if (gen_all_exited(&m->old))
			master_retire(m);
		return;
	}
}

/*
 * The supervision policy as arithmetic: when a worker that died is started
 * again.  Functions of their arguments alone (no clock, no process), so the
 * master calls them with the time and its tests with any time they like.
 *
 * A crash is respawned after 100 ms, doubling with each crash within the
 * last 60 s up to 10 s.  The fifth crash within 60 s is a crash loop: the
 * worker is left failed for a cool-down of 1 minute, doubling with each
 * crash loop up to 64 minutes, and 1 minute again for a crash loop an hour
 * or more after the last cool-down ended (a worker that ran that long is
 * not the one that looped, whatever its history).  A temporary failure (a plugin lacking a
 * resource for now) is no crash and has no limit: it is retried after
 * 100 ms, doubling with each retry in a row up to 10 s.  A stall (no
 * progress for stall_timeout with frames waiting) is killed and then
 * dealt with as a crash.
 */
#ifndef RINGFAN_SUPERVISE_H
#define RINGFAN_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

/* Crash-loop limit: this many crashes of one worker within the window. */
#define SUPERVISE_CRASH_LIMIT		5
#define SUPERVISE_CRASH_WINDOW_NS	(60ull * 1000000000u)
#define SUPERVISE_BACKOFF_MIN_NS	(100ull * 1000000u)
#define SUPERVISE_BACKOFF_MAX_NS	(10ull * 1000000000u)
/* A crash-looped worker is tried again after this, doubling, at most 64x. */
#define SUPERVISE_COOLDOWN_NS		(60ull * 1000000000u)
#define SUPERVISE_COOLDOWN_DOUBLINGS	6
/* A crash loop this long after the last cool-down ended starts at 1 minute. */
#define SUPERVISE_COOLDOWN_RESET_NS	(3600ull * 1000000000u)

/* What to do about a crash. */
struct supervise_verdict {
	bool		failed;		/* a crash loop: cool down */
	unsigned	recent;		/* crashes within the window, this one too */
	uint64_t	delay_ns;	/* respawn (or end of cool-down) after */
};

/*
 * Record a crash at `now` in the worker's record (crashes[], the times of
 * the last SUPERVISE_CRASH_LIMIT crashes, crashes[n % LIMIT] the n-th of
 * *ncrashes ever; *nfailed crash loops since the doubling last started
 * over; *cooled, when the last cool-down ends or ended) and decide.
 */
struct supervise_verdict supervise_crash(uint64_t *crashes,
	    unsigned *ncrashes, unsigned *nfailed, uint64_t *cooled,
	    uint64_t now);

/*
 * The worker is started again at `now` with a clean crash record (its
 * cool-down over, or cut short by a reload or a restart): a cool-down that
 * was to end later ended now, and the hour after which a crash loop starts
 * over at 1 minute counts from here, not from the end it was given.
 */
void	supervise_revive(uint64_t *cooled, uint64_t now);

/* The delay before retry number *nretries (from 0) of a temporary failure. */
uint64_t supervise_retry(unsigned *nretries);

/*
 * The stall watch.  A worker is stalled when it made no progress (frames
 * consumed, turns of its loop) with frames waiting in its ring for
 * timeout_ns or more: it is then killed, and dealt with as a crash (the
 * frame in hand quarantined, the backoff, the crash-loop limit).  since_ns
 * is when that began, as far as the master saw: the later of its last
 * progress and the first look that found frames waiting after one that
 * found none.  Standing still with nothing waiting is no stall, only
 * idle, however long: frames that come later get a whole timeout.  A
 * timeout of 0 turns the watch off.
 */
enum supervise_stall {
	SUPERVISE_MOVING,	/* frames wait, not that long yet; or no watch */
	SUPERVISE_IDLE,		/* nothing waits: the clock starts again */
	SUPERVISE_STALLED,	/* frames waited that long without progress */
};

enum supervise_stall supervise_stall(uint64_t since_ns, uint64_t now,
	    bool waiting, uint64_t timeout_ns);

#endif

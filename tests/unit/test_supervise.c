/*
 * The supervision policy of supervise.h, at made-up times: no process is
 * started, no root needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "supervise.h"

#define MS	1000000ull
#define S	1000000000ull

/* A worker's crash record, as the master's process table keeps it. */
struct record {
	uint64_t	crashes[SUPERVISE_CRASH_LIMIT];
	unsigned	ncrashes;
	unsigned	nfailed;
	uint64_t	cooled;
};

static struct supervise_verdict
crash(struct record *r, uint64_t now)
{
	return supervise_crash(r->crashes, &r->ncrashes, &r->nfailed,
	    &r->cooled, now);
}

/* A crash loop: five crashes 1 s apart from t, the fifth at t + 4 s. */
static struct supervise_verdict
crash_loop(struct record *r, uint64_t t)
{
	struct supervise_verdict v;

	for (unsigned k = 0; k < 5; k++)
		v = crash(r, t + k * S);
	return v;
}

static void
test_crash_backoff_then_loop(void **state)
{
	const uint64_t want[] = { 100 * MS, 200 * MS, 400 * MS, 800 * MS };
	struct record r = { .ncrashes = 0 };
	struct supervise_verdict v;
	uint64_t now = 1000 * S;

	(void)state;
	for (unsigned k = 0; k < 4; k++) {
		v = crash(&r, now);
		assert_false(v.failed);
		assert_int_equal(v.recent, k + 1);
		assert_int_equal(v.delay_ns, want[k]);
		now += v.delay_ns + 1 * S;
	}
	/* The fifth within 60 s: a crash loop, cooled down for a minute. */
	v = crash(&r, now);
	assert_true(v.failed);
	assert_int_equal(v.recent, 5);
	assert_int_equal(v.delay_ns, 60 * S);
	assert_int_equal(r.nfailed, 1);
}

static void
test_crash_outside_window(void **state)
{
	struct record r = { .ncrashes = 0 };
	struct supervise_verdict v;
	uint64_t t0 = 5000 * S;

	(void)state;
	/* One crash, then four more after it left the 60 s window. */
	crash(&r, t0);
	for (unsigned k = 0; k < 4; k++) {
		v = crash(&r, t0 + 60 * S + k * S);
		assert_false(v.failed);
		assert_int_equal(v.recent, k + 1);
	}
	assert_int_equal(v.delay_ns, 800 * MS);
	/* Just inside the window it counts: 59.999... s after the first. */
	r = (struct record){ .ncrashes = 0 };
	crash(&r, t0);
	v = crash(&r, t0 + 60 * S - 1);
	assert_int_equal(v.recent, 2);
	assert_int_equal(v.delay_ns, 200 * MS);
	/* The oldest of the record falls out once the ring wraps. */
	r = (struct record){ .ncrashes = 0 };
	for (unsigned k = 0; k < 4; k++)
		crash(&r, t0 + k * 20 * S);
	v = crash(&r, t0 + 4 * 20 * S);		/* 80 s after the first */
	assert_false(v.failed);
	assert_int_equal(v.recent, 3);
	assert_int_equal(v.delay_ns, 400 * MS);
}

static void
test_cooldown_doubles_to_64_minutes(void **state)
{
	struct record r = { .ncrashes = 0 };
	struct supervise_verdict v;
	uint64_t now = 1 * S, cool = 60 * S;

	(void)state;
	for (unsigned loop = 0; loop < 9; loop++) {
		/* Five crashes 1 s apart: the fifth is a crash loop. */
		v = crash_loop(&r, now);
		assert_true(v.failed);
		assert_int_equal(v.delay_ns, cool);
		assert_int_equal(r.nfailed, loop + 1);
		if (cool < 3840 * S)
			cool *= 2;
		/* The cool-down is over, the record clean, as a revive. */
		now += 5 * S + v.delay_ns;
		r.ncrashes = 0;
	}
	assert_int_equal(v.delay_ns, 3840 * S);
}

/*
 * Five crash loops in a row make the cool-down 16 minutes; a worker that
 * then runs an hour after its cool-down ended and loops again is cooled
 * down for 1 minute, not 32 (a loop weeks later is no repeat of these);
 * one that loops just under the hour after its cool-down doubles on.
 */
static void
test_cooldown_starts_over(void **state)
{
	struct record r = { .ncrashes = 0 };
	struct supervise_verdict v;
	uint64_t now = 1 * S;

	(void)state;
	for (unsigned loop = 0; loop < 5; loop++) {
		v = crash_loop(&r, now);
		now += 4 * S + v.delay_ns;
		r.ncrashes = 0;
	}
	assert_int_equal(v.delay_ns, 960 * S);
	assert_int_equal(r.cooled, now);
	/* Ends of cool-down at `now`; the fifth crash just under an hour on. */
	v = crash_loop(&r, now + 3600 * S - 5 * S);
	assert_true(v.failed);
	assert_int_equal(v.delay_ns, 1920 * S);
	now = r.cooled;
	r.ncrashes = 0;
	/* The fifth an hour after that cool-down ended: 1 minute again. */
	v = crash_loop(&r, now + 3600 * S - 4 * S);
	assert_true(v.failed);
	assert_int_equal(v.delay_ns, 60 * S);
	assert_int_equal(r.nfailed, 1);
	/* A loop before the cool-down ended (a restart): doubles on. */
	r.ncrashes = 0;
	v = crash_loop(&r, now + 3600 * S + 10 * S);
	assert_int_equal(v.delay_ns, 120 * S);
}

/*
 * A worker cooled down for 64 minutes is started again by a restart (or a
 * reload) 5 minutes in, its cause fixed, and runs for an hour and more
 * before it loops again: its cool-down ended at the restart, over an hour
 * before, so it is cooled down for 1 minute, not 64.  Started again 5
 * minutes in and looping within the hour: the doubling goes on.
 */
static void
test_cooldown_cut_short(void **state)
{
	struct record r = { .ncrashes = 0 };
	struct supervise_verdict v;
	uint64_t now = 1 * S, revived;

	(void)state;
	for (unsigned loop = 0; loop < 7; loop++) {
		v = crash_loop(&r, now);
		now += 4 * S + v.delay_ns;
		r.ncrashes = 0;
	}
	assert_int_equal(v.delay_ns, 3840 * S);
	/* Looped again; restarted 5 minutes into its 64-minute cool-down. */
	v = crash_loop(&r, now);
	assert_int_equal(v.delay_ns, 3840 * S);
	revived = now + 4 * S + 300 * S;
	supervise_revive(&r.cooled, revived);
	r.ncrashes = 0;
	/* It loops 61 minutes after the restart. */
	v = crash_loop(&r, revived + 3660 * S);
	assert_true(v.failed);
	assert_int_equal(v.delay_ns, 60 * S);

	/* A revive at or after a cool-down's end moves nothing. */
	now = r.cooled;
	supervise_revive(&r.cooled, now + 10 * S);
	assert_int_equal(r.cooled, now);
	/* A loop 30 s after that cool-down ended: doubles on. */
	revived = now + 30 * S;
	r.ncrashes = 0;
	v = crash_loop(&r, revived);
	assert_int_equal(v.delay_ns, 120 * S);
	/* Restarted 1 minute into those 2, looping 30 minutes later. */
	supervise_revive(&r.cooled, revived + 4 * S + 60 * S);
	assert_int_equal(r.cooled, revived + 64 * S);
	r.ncrashes = 0;
	v = crash_loop(&r, revived + 64 * S + 1800 * S);
	assert_int_equal(v.delay_ns, 240 * S);
}

static void
test_retry_backoff(void **state)
{
	const uint64_t want[] = { 100 * MS, 200 * MS, 400 * MS, 800 * MS,
	    1600 * MS, 3200 * MS, 6400 * MS, 10 * S, 10 * S, 10 * S };
	unsigned nretries = 0;

	(void)state;
	for (unsigned k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		assert_int_equal(supervise_retry(&nretries), want[k]);
	assert_int_equal(nretries, 10);
	/* However long it goes on: never more than 10 s, no overflow. */
	nretries = 1000;
	assert_int_equal(supervise_retry(&nretries), 10 * S);
}

/*
 * The stall rule: frames waiting for the whole timeout without progress
 * is a stall; less is not yet; nothing waiting is idle, however long (the
 * caller starts the clock again); a watch that is off sees nothing.
 */
static void
test_stall(void **state)
{
	const uint64_t t0 = 7000 * S, to = 5 * S;

	(void)state;
	/* Frames waiting, less than the timeout: not yet. */
	assert_int_equal(supervise_stall(t0, t0, true, to), SUPERVISE_MOVING);
	assert_int_equal(supervise_stall(t0, t0 + to - 1, true, to),
	    SUPERVISE_MOVING);
	/* The whole timeout, or an hour: a stall. */
	assert_int_equal(supervise_stall(t0, t0 + to, true, to),
	    SUPERVISE_STALLED);
	assert_int_equal(supervise_stall(t0, t0 + 3600 * S, true, to),
	    SUPERVISE_STALLED);
	/* Nothing waiting: idle, at once or after an hour, never a stall. */
	assert_int_equal(supervise_stall(t0, t0, false, to), SUPERVISE_IDLE);
	assert_int_equal(supervise_stall(t0, t0 + to - 1, false, to),
	    SUPERVISE_IDLE);
	assert_int_equal(supervise_stall(t0, t0 + 3600 * S, false, to),
	    SUPERVISE_IDLE);
	/* 0: no watch, however long and whatever waits. */
	assert_int_equal(supervise_stall(t0, t0 + 3600 * S, true, 0),
	    SUPERVISE_MOVING);
	assert_int_equal(supervise_stall(t0, t0 + 3600 * S, false, 0),
	    SUPERVISE_MOVING);
	/* A time before the clock started is no time, not a wrap. */
	assert_int_equal(supervise_stall(t0, t0 - 1, true, to),
	    SUPERVISE_MOVING);
	assert_int_equal(supervise_stall(UINT64_MAX - S, 0, true, to),
	    SUPERVISE_MOVING);
	/* The smallest timeout the configuration allows, at its edge. */
	assert_int_equal(supervise_stall(0, S - 1, true, S), SUPERVISE_MOVING);
	assert_int_equal(supervise_stall(0, S, true, S), SUPERVISE_STALLED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_backoff_then_loop),
		cmocka_unit_test(test_crash_outside_window),
		cmocka_unit_test(test_cooldown_doubles_to_64_minutes),
		cmocka_unit_test(test_cooldown_starts_over),
		cmocka_unit_test(test_cooldown_cut_short),
		cmocka_unit_test(test_retry_backoff),
		cmocka_unit_test(test_stall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The shared-memory region of framework/stats.c and the `stats` document
 * built from it, on an anonymous mapping: no root, no daemon.  Every
 * number is spelled out, so that a change of what is summed, carried or
 * shown is a failing test.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ringfan_build.h"
#include "stats.h"
#include "util.h"

static void
test_create(void **state)
{
	struct stats_shm *shm;

	(void)state;
	shm = stats_create(3);
	assert_non_null(shm);
	assert_true(shm->magic == STATS_MAGIC);
	assert_int_equal(shm->layout, STATS_LAYOUT);
	assert_int_equal(shm->nworkers, 3);
	assert_int_equal(shm->size,
	    sizeof(struct stats_shm) + 3 * sizeof(struct stats_worker));
	assert_int_equal((uintptr_t)&shm->workers[0] % 64, 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(shm->workers[i].cpu, -1);
		assert_true(shm->workers[i].cut_until == UINT64_MAX);
		assert_int_equal(shm->workers[i].cut_from, 0);
		assert_int_equal(shm->workers[i].pid, 0);
		assert_int_equal(shm->workers[i].state, WORKER_STARTING);
		assert_int_equal(shm->workers[i].packets, 0);
		assert_int_equal(shm->workers[i].carry.ncounters, 0);
		assert_int_equal(shm->workers[i].counters[0].used, 0);
	}
	stats_destroy(shm, 3);
	stats_destroy(NULL, 0);
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(stats_state_name(WORKER_STARTING), "starting");
	assert_string_equal(stats_state_name(WORKER_RUNNING), "running");
	assert_string_equal(stats_state_name(WORKER_STOPPING), "stopping");
	assert_string_equal(stats_state_name(WORKER_STOPPED), "stopped");
	assert_string_equal(stats_state_name(WORKER_FAILED), "failed");
	assert_string_equal(stats_state_name(WORKER_BACKOFF), "backoff");
	assert_string_equal(stats_state_name(WORKER_RESTARTING),
	    "restarting");
	assert_string_equal(stats_state_name((enum worker_state)7),
	    "unknown");
}

/* Own values 10, 20, ..., carried 1, 2, ..., 7 handed off. */
static void
fill(struct stats_worker *w)
{
	w->packets = 10;
	w->bytes = 20;
	w->kernel_packets = 30;
	w->kernel_drops = 40;
	w->kernel_freeze_q = 50;
	w->quarantined = 60;
	w->restarts = 70;
	w->stalls = 80;
	w->backlog_max = 90;
	w->handed_off = 7;
	w->carry.packets = 1;
	w->carry.bytes = 2;
	w->carry.kernel_packets = 3;
	w->carry.kernel_drops = 4;
	w->carry.kernel_freeze_q = 5;
	w->carry.quarantined = 6;
	w->carry.restarts = 7;
	w->carry.stalls = 8;
}

static void
test_value(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	fill(w);
	assert_int_equal(stats_value(w, "packets"), 11);
	assert_int_equal(stats_value(w, "bytes"), 22);
	/* 30 + 3, less the 7 the other generation counted. */
	assert_int_equal(stats_value(w, "kernel_packets"), 26);
	assert_int_equal(stats_value(w, "kernel_drops"), 44);
	assert_int_equal(stats_value(w, "kernel_freeze_q"), 55);
	assert_int_equal(stats_value(w, "quarantined"), 66);
	assert_int_equal(stats_value(w, "restarts"), 77);
	assert_int_equal(stats_value(w, "stalls"), 88);
	/* A level of the ring has no carry. */
	assert_int_equal(stats_value(w, "backlog_max"), 90);
	assert_int_equal(stats_value(w, "handed_off"), 0);
	assert_int_equal(stats_value(w, "nosuch"), 0);
	assert_int_equal(stats_consumed(w), 17);
	for (size_t i = 0; i < STATS_NFIELDS; i++)
		assert_int_equal(stats_field_value(w, &stats_fields[i]),
		    stats_value(w, stats_fields[i].name));
	stats_destroy(shm, 1);
}

static void
test_fields(void **state)
{
	static const char *const names[STATS_NFIELDS] = { "packets",
	    "bytes", "kernel_packets", "kernel_drops", "kernel_freeze_q",
	    "quarantined", "restarts", "stalls", "ring_blocks", "backlog",
	    "backlog_max", "blocks", "blocks_timeout", "rollover_packets",
	    "rollover_huge", "rollover_failed" };
	/* Counts of the worker and levels of its ring: no capture total. */
	static const bool summed[STATS_NFIELDS] = { true, true, true, true,
	    true, true, false, false, false, false, false, true, true, true,
	    true, true };
	static const bool level[STATS_NFIELDS] = { [8] = true, [9] = true,
	    [10] = true };

	(void)state;
	for (size_t i = 0; i < STATS_NFIELDS; i++) {
		assert_string_equal(stats_fields[i].name, names[i]);
		assert_int_equal(stats_fields[i].summed, summed[i]);
		assert_int_equal(stats_fields[i].level, level[i]);
		/* A level is a gauge, everything else a counter. */
		assert_string_equal(stats_fields[i].type, level[i] ? "gauge" :
		    "counter");
		assert_int_equal(stats_fields[i].less_handed_off,
		    strcmp(names[i], "kernel_packets") == 0);
	}
}

static void
test_backlog(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	w->kernel_packets = 1000;
	w->carry.kernel_packets = 100;
	w->handed_off = 50;
	w->packets = 700;
	w->carry.packets = 40;
	w->kernel_drops = 100;
	w->carry.kernel_drops = 5;
	w->quarantined = 3;
	w->carry.quarantined = 2;
	/* (1000 + 100 - 50) - (740 + 105 + 5) */
	assert_int_equal(stats_backlog(w), 200);
	/* More out than in (a race of the readers): never negative. */
	w->packets = 2000;
	assert_int_equal(stats_backlog(w), 0);
	stats_destroy(shm, 1);
}

/*
 * A capture reload's lift counts the frames a new worker takes and those
 * waiting in its ring, never frames a ring closed with: those a gone
 * interface left (linkwatch.c's link_close), counted as dropped in the
 * carry, before the lift or after it.
 */
static void
test_lift(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	/* 100 taken, 5 dropped, 20 left in a closed ring, 5 waiting. */
	w->packets = 90;
	w->handed_off = 10;
	w->kernel_packets = 130;
	w->kernel_drops = 5;
	w->carry.kernel_drops = 20;
	assert_int_equal(stats_lift_count(w), 1 + 100 + 5);
	/* One quarantined of those waiting: the worker counts it taken. */
	w->quarantined = 1;
	w->kernel_packets = 131;
	assert_int_equal(stats_lift_count(w), 1 + 100 + 1 + 5);
	/*
	 * Walked past the kernel's count (read before the latest frames):
	 * the same lift, at or below the frames taken, which holds none.
	 */
	w->packets = 200;
	assert_int_equal(stats_lift_count(w), 1 + 100 + 1 + 5);

	/* Lifted at 100 taken and 30 waiting, then 10 taken, 20 left. */
	w->packets = 90;
	w->quarantined = 0;
	w->kernel_packets = 130;
	w->kernel_drops = 0;
	w->carry.kernel_drops = 0;
	w->cut_lift = stats_lift_count(w);
	assert_int_equal(w->cut_lift, 131);
	w->packets = 100;
	w->carry.kernel_drops = 20;
	stats_lift_strand(w);
	assert_int_equal(w->cut_lift, 1 + 110);
	/* Nothing held any more: it stays so. */
	stats_lift_strand(w);
	assert_int_equal(w->cut_lift, 111);
	/* No lift stored (the old sockets still open): none is made. */
	w->cut_lift = 0;
	stats_lift_strand(w);
	assert_int_equal(w->cut_lift, 0);
	stats_destroy(shm, 1);
}

/*
 * The slot of `name` of step `plugin`, which runs the plugin of that name,
 * in a pipeline that has the steps counter and flowtable too.
 */
static uint64_t *
slot_of(struct stats_worker *w, const char *plugin, const char *name,
    enum stats_kind kind)
{
	const char *const ids[] = { "counter", "flowtable", plugin,
	    "counter", "flowtable", plugin };
	uint64_t *slot = NULL;

	assert_int_equal(stats_counter(w, ids, 3, 2, name, kind, &slot), 0);
	assert_non_null(slot);
	return slot;
}

static void
test_counter(void **state)
{
	static const char *const ids[] = { "counter", "flowtable",
	    "counter", "flowtable" };
	struct stats_shm *shm;
	struct stats_worker *w;
	uint64_t *a, *b, *g, *slot;
	char name[16];

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	a = slot_of(w, "counter", "ipv4", STATS_COUNTER);
	assert_ptr_equal(a, &w->counters[0].value);
	assert_int_equal(w->counters[0].used, STATS_COUNTER);
	assert_string_equal(w->counters[0].plugin, "counter");
	assert_string_equal(w->counters[0].name, "ipv4");
	*a = 5;
	/* The same name again: the same slot, its value kept. */
	assert_ptr_equal(slot_of(w, "counter", "ipv4", STATS_COUNTER), a);
	assert_int_equal(*a, 5);
	/* Same name, other plugin: a slot of its own. */
	b = slot_of(w, "flowtable", "ipv4", STATS_COUNTER);
	assert_ptr_equal(b, &w->counters[1].value);
	g = slot_of(w, "flowtable", "flows", STATS_GAUGE);
	assert_ptr_equal(g, &w->counters[2].value);
	assert_int_equal(w->counters[2].used, STATS_GAUGE);
	/* A name taken by the other kind: that slot, unchanged. */
	slot = NULL;
	assert_int_equal(stats_counter(w, ids, 2, 1, "flows",
	    STATS_COUNTER, &slot), -EEXIST);
	assert_ptr_equal(slot, g);
	assert_int_equal(w->counters[2].used, STATS_GAUGE);
	assert_int_equal(stats_counter(w, ids, 2, 0, "ipv4", STATS_GAUGE,
	    &slot), -EEXIST);
	assert_ptr_equal(slot, a);
	assert_int_equal(*a, 5);
	slot = NULL;
	/* Fill the rest; one more is refused, known ones still found. */
	for (int i = 3; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_ptr_equal(slot_of(w, "counter", name, STATS_COUNTER),
		    &w->counters[i].value);
	}
	assert_int_equal(stats_counter(w, ids, 2, 0, "onemore",
	    STATS_COUNTER, &slot), -ENOSPC);
	assert_null(slot);
	assert_int_equal(stats_counter(w, ids, 2, 0, "onemore",
	    STATS_GAUGE, &slot), -ENOSPC);
	assert_ptr_equal(slot_of(w, "flowtable", "flows", STATS_GAUGE), g);
	assert_ptr_equal(slot_of(w, "counter", "c63", STATS_COUNTER),
	    &w->counters[63].value);
	stats_destroy(shm, 1);
}

/* A counter `w` carried over a reload before. */
static void
carried(struct stats_worker *w, const char *plugin, const char *name,
    uint64_t value)
{
	uint32_t k = w->carry.ncounters++;

	strlcpy(w->carry.counters[k].plugin, plugin,
	    sizeof(w->carry.counters[k].plugin));
	/* The step runs the plugin of its name. */
	strlcpy(w->carry.counters[k].own, plugin,
	    sizeof(w->carry.counters[k].own));
	strlcpy(w->carry.counters[k].name, name,
	    sizeof(w->carry.counters[k].name));
	w->carry.counters[k].value = value;
}

static void
test_carry(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *from, *to, *third;

	(void)state;
	assert_non_null(shm = stats_create(3));
	from = &shm->workers[0];
	to = &shm->workers[1];
	third = &shm->workers[2];
	fill(from);
	*slot_of(from, "counter", "ipv4", STATS_COUNTER) = 100;
	*slot_of(from, "flowtable", "flows", STATS_GAUGE) = 999;
	*slot_of(from, "flowtable", "exported", STATS_COUNTER) = 30;
	/* Carried into `from` by a reload before. */
	carried(from, "counter", "ipv4", 11);
	carried(from, "gone", "old", 4);

	/* `to` runs already and carries something of its own. */
	to->packets = 1000;
	to->carry.packets = 500;
	to->carry.restarts = 1;

	stats_carry(to, from);
	/* Every field as shown for `from`, added to what was carried. */
	assert_int_equal(to->carry.packets, 500 + 11);
	assert_int_equal(to->carry.bytes, 22);
	assert_int_equal(to->carry.kernel_packets, 26);
	assert_int_equal(to->carry.kernel_drops, 44);
	assert_int_equal(to->carry.kernel_freeze_q, 55);
	assert_int_equal(to->carry.quarantined, 66);
	assert_int_equal(to->carry.restarts, 1 + 77);
	assert_int_equal(to->carry.stalls, 88);
	/* Its own fields are not touched. */
	assert_int_equal(to->packets, 1000);
	assert_int_equal(to->handed_off, 0);
	assert_int_equal(stats_value(to, "packets"), 1511);
	assert_int_equal(stats_value(to, "kernel_packets"), 26);
	/* Counters carried (own, then its carry), the gauge not. */
	assert_int_equal(to->carry.ncounters, 3);
	assert_string_equal(to->carry.counters[0].plugin, "counter");
	assert_string_equal(to->carry.counters[0].name, "ipv4");
	assert_int_equal(to->carry.counters[0].value, 100 + 11);
	assert_string_equal(to->carry.counters[1].plugin, "flowtable");
	assert_string_equal(to->carry.counters[1].name, "exported");
	assert_int_equal(to->carry.counters[1].value, 30);
	assert_string_equal(to->carry.counters[2].plugin, "gone");
	assert_string_equal(to->carry.counters[2].name, "old");
	assert_int_equal(to->carry.counters[2].value, 4);
	/* `from` is read only. */
	assert_int_equal(from->carry.packets, 1);
	assert_int_equal(from->carry.ncounters, 2);

	/* A carry of a carry: `to` retires into `third`, and again. */
	to->handed_off = 11;
	to->kernel_packets = 100;
	stats_carry(third, to);
	assert_int_equal(third->carry.packets, 1511);
	assert_int_equal(third->carry.bytes, 22);
	assert_int_equal(third->carry.kernel_packets, 26 + 100 - 11);
	assert_int_equal(third->carry.kernel_drops, 44);
	assert_int_equal(third->carry.kernel_freeze_q, 55);
	assert_int_equal(third->carry.quarantined, 66);
	assert_int_equal(third->carry.restarts, 78);
	assert_int_equal(third->carry.ncounters, 3);
	assert_int_equal(third->carry.counters[0].value, 111);
	assert_int_equal(third->carry.counters[1].value, 30);
	assert_int_equal(third->carry.counters[2].value, 4);
	stats_carry(third, to);
	assert_int_equal(third->carry.packets, 2 * 1511);
	assert_int_equal(third->carry.ncounters, 3);
	assert_int_equal(third->carry.counters[0].value, 222);
	stats_destroy(shm, 3);
}

/*
 * A capture reload whose new generation keeps a name as a gauge that the
 * old one counted: the counter's total, live or carried, is not carried
 * on, and one carried before goes from a carry once the name is a gauge.
 */
static void
test_carry_rekind(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *from, *to;

	(void)state;
	assert_non_null(shm = stats_create(2));
	from = &shm->workers[0];
	to = &shm->workers[1];
	*slot_of(from, "flowtable", "flows", STATS_COUNTER) = 30;
	*slot_of(from, "flowtable", "exported", STATS_COUNTER) = 7;
	carried(from, "flowtable", "flows", 12);
	carried(from, "flowtable", "active", 5);
	*slot_of(to, "flowtable", "flows", STATS_GAUGE) = 3;
	assert_int_equal(stats_carry(to, from), 0);
	assert_int_equal(to->carry.ncounters, 2);
	assert_string_equal(to->carry.counters[0].name, "exported");
	assert_int_equal(to->carry.counters[0].value, 7);
	assert_string_equal(to->carry.counters[1].name, "active");
	assert_int_equal(to->carry.counters[1].value, 5);
	assert_true(stats_carried_gauge(to, "flowtable", "flowtable",
	    "flows"));
	assert_false(stats_carried_gauge(to, "flowtable", "flowtable",
	    "exported"));

	/* A later reload makes active a gauge: its carry goes. */
	*slot_of(to, "flowtable", "active", STATS_GAUGE) = 1;
	stats_carry_prune(to);
	assert_int_equal(to->carry.ncounters, 1);
	assert_string_equal(to->carry.counters[0].name, "exported");
	stats_destroy(shm, 2);
}

/*
 * A hand-over in progress: a new worker shows its counts with those of the
 * old one it takes over from, the kernel's as the frames settled, and
 * nothing goes back when the old one's final counts are folded in.
 */
static void
test_merged(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *old, *w, *m;
	const struct stats_worker *olds[1];
	const unsigned to[1] = { 1 };	/* w's slot */
	uint64_t shown;

	(void)state;
	assert_non_null(shm = stats_create(3));
	old = &shm->workers[0];
	w = &shm->workers[1];
	m = &shm->workers[2];
	olds[0] = old;
	/* 1000 frames before the cut, 300 after it in both rings. */
	old->kernel_packets = 1300;
	old->packets = 990;
	old->kernel_drops = 5;
	old->quarantined = 1;
	old->handed_off = 100;		/* 200 post-cut frames still wait */
	*slot_of(old, "counter", "udp", STATS_COUNTER) = 990;
	w->kernel_packets = 1300;
	w->handed_off = 900;		/* 100 pre-cut frames still wait */
	w->packets = 250;
	*slot_of(w, "counter", "udp", STATS_COUNTER) = 250;
	w->carry.packets = 7;		/* a generation before */
	w->carry.kernel_packets = 7;
	carried(w, "counter", "udp", 7);

	/* Before the cut: the old worker's alone, as the swap may stop. */
	stats_merged(m, w, 1, false, olds, to, 1, 0);
	assert_int_equal(stats_value(m, "packets"), 990);
	assert_int_equal(stats_value(m, "kernel_packets"), 996);
	/* The floor: what the old worker showed as the reload began. */
	stats_merged(m, w, 1, false, olds, to, 1, 1300);
	assert_int_equal(stats_value(m, "kernel_packets"), 1300);

	stats_merged(m, w, 1, true, olds, to, 1, 1000);
	assert_int_equal(stats_value(m, "packets"), 7 + 990 + 250);
	assert_int_equal(stats_value(m, "kernel_drops"), 5);
	shown = stats_value(m, "kernel_packets");
	assert_int_equal(shown, 7 + 990 + 5 + 1 + 250);
	assert_int_equal(m->carry.ncounters, 1);
	assert_int_equal(m->carry.counters[0].value, 7 + 990 + 250);
	/* The levels stay the new worker's: none in m. */
	assert_int_equal(m->pid, 0);
	/* An old worker folded into another slot is not this one's. */
	stats_merged(m, w, 2, true, olds, to, 1, 0);
	assert_int_equal(stats_value(m, "packets"), 7 + 250);
	stats_merged(m, w, 1, true, olds, to, 1, 1300);
	shown = stats_value(m, "kernel_packets");
	assert_int_equal(shown, 1300);

	/* The old worker settles the 200 it hands off, and exits. */
	old->handed_off = 300;
	stats_carry(w, old);
	assert_true(stats_value(w, "kernel_packets") >= shown);
	assert_int_equal(stats_value(w, "packets"), 7 + 990 + 250);
	stats_destroy(shm, 3);
}

static void
test_status(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;
	char buf[STATS_STATUS_MAX];

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	stats_status_init(w, 0, "flowtable");
	assert_string_equal(w->status[0].plugin, "flowtable");
	assert_int_equal(w->status[0].seq, 0);
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));

	stats_status_set(w, 0, "ipfix: Connection refused");
	assert_int_equal(w->status[0].seq, 2);
	assert_true(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	assert_string_equal(buf, "ipfix: Connection refused");
	/* The same text again costs nothing. */
	stats_status_set(w, 0, "ipfix: Connection refused");
	assert_int_equal(w->status[0].seq, 2);
	/* Another stage's plugin name: not its problem. */
	assert_false(stats_status_get(w, 0, "counter", buf, sizeof(buf)));
	/* A short buffer gets what fits, terminated. */
	assert_true(stats_status_get(w, 0, "flowtable", buf, 6));
	assert_string_equal(buf, "ipfix");
	stats_status_set(w, 0, "disk full");
	assert_int_equal(w->status[0].seq, 4);
	assert_true(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	assert_string_equal(buf, "disk full");
	/* Cleared. */
	stats_status_set(w, 0, "");
	assert_int_equal(w->status[0].seq, 6);
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	stats_status_set(w, 0, "");
	assert_int_equal(w->status[0].seq, 6);

	/* A writer killed mid-write left the sequence odd: unreadable. */
	stats_status_set(w, 0, "stuck");
	w->status[0].seq = 9;
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	/* Its successor evens it and starts with no problem. */
	stats_status_init(w, 0, "flowtable");
	assert_int_equal(w->status[0].seq, 12);
	assert_int_equal(w->status[0].set, 0);
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	stats_status_set(w, 0, "back");
	assert_true(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	assert_string_equal(buf, "back");
	/* A new plugin at the stage. */
	stats_status_init(w, 0, "counter");
	assert_string_equal(w->status[0].plugin, "counter");
	assert_false(stats_status_get(w, 0, "counter", buf, sizeof(buf)));
	stats_destroy(shm, 1);
}

/*
 * A slot that carries counters over capture reloads has room for
 * STATS_MAX_COUNTERS distinct ones: the rest are counted, not lost
 * silently, and a counter that has its slot already still adds up.
 */
static void
test_carry_full(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *from, *to, *third;
	char name[16];

	(void)state;
	assert_non_null(shm = stats_create(3));
	from = &shm->workers[0];
	to = &shm->workers[1];
	third = &shm->workers[2];
	for (int i = 0; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		carried(to, "old", name, 1);
	}
	*slot_of(from, "new", "a", STATS_COUNTER) = 5;
	*slot_of(from, "old", "c7", STATS_COUNTER) = 10;
	*slot_of(from, "new", "b", STATS_COUNTER) = 6;
	carried(from, "older", "x", 3);
	/* A gauge is never carried, so never dropped. */
	*slot_of(from, "new", "level", STATS_GAUGE) = 9;

	assert_int_equal(stats_carry(to, from), 3);
	assert_int_equal(to->carry.dropped, 3);
	assert_int_equal(to->carry.ncounters, STATS_MAX_COUNTERS);
	assert_string_equal(to->carry.counters[7].name, "c7");
	assert_int_equal(to->carry.counters[7].value, 11);
	assert_int_equal(stats_carry(to, from), 3);
	assert_int_equal(to->carry.dropped, 6);
	assert_int_equal(to->carry.counters[7].value, 21);
	/* What was dropped before stays counted when `to` retires. */
	assert_int_equal(stats_carry(third, to), 0);
	assert_int_equal(third->carry.ncounters, STATS_MAX_COUNTERS);
	assert_int_equal(third->carry.dropped, 6);
	stats_destroy(shm, 3);
}

/*
 * A fold into a carry with one slot free, of a counter whose name the new
 * worker keeps as a gauge and of another: the gauge's name takes no slot
 * (its total is not carried on), so the other finds the free one.
 */
static void
test_carry_full_rekind(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *from, *to;
	char name[16];

	(void)state;
	assert_non_null(shm = stats_create(2));
	from = &shm->workers[0];
	to = &shm->workers[1];
	for (int i = 0; i < STATS_MAX_COUNTERS - 1; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		carried(to, "old", name, 1);
	}
	*slot_of(to, "new", "level", STATS_GAUGE) = 2;
	*slot_of(from, "new", "level", STATS_COUNTER) = 40;
	*slot_of(from, "new", "a", STATS_COUNTER) = 5;

	assert_int_equal(stats_carry(to, from), 0);
	assert_int_equal(to->carry.dropped, 0);
	assert_int_equal(to->carry.ncounters, STATS_MAX_COUNTERS);
	assert_string_equal(to->carry.counters[STATS_MAX_COUNTERS - 1].name,
	    "a");
	assert_int_equal(to->carry.counters[STATS_MAX_COUNTERS - 1].value, 5);
	stats_destroy(shm, 2);
}

/*
 * The reader of a problem: a write under way (the count odd, as a worker
 * killed inside one leaves it) shows nothing, and a new plugin at the
 * stage takes over the problem's slot in one write.
 */
static void
test_status_torn(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;
	char buf[STATS_STATUS_MAX];
	uint32_t seq;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	stats_status_init(w, 0, "flowtable");
	stats_status_set(w, 0, "disk full");
	assert_true(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	seq = w->status[0].seq;
	assert_int_equal(seq, 2);
	/* A writer caught half way through a new name. */
	w->status[0].seq = seq + 1;
	memcpy(w->status[0].plugin, "count", 5);
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	assert_false(stats_status_get(w, 0, "counttable", buf, sizeof(buf)));
	/* Its successor ends that write, then replaces name and problem. */
	stats_status_init(w, 0, "counter");
	assert_int_equal(w->status[0].seq, seq + 4);
	assert_string_equal(w->status[0].plugin, "counter");
	assert_int_equal(w->status[0].set, 0);
	assert_string_equal(w->status[0].text, "");
	assert_false(stats_status_get(w, 0, "counter", buf, sizeof(buf)));
	assert_false(stats_status_get(w, 0, "flowtable", buf, sizeof(buf)));
	stats_status_set(w, 0, "stuck");
	assert_true(stats_status_get(w, 0, "counter", buf, sizeof(buf)));
	assert_string_equal(buf, "stuck");
	/* With no problem shown the name changes without a write. */
	stats_status_set(w, 0, "");
	seq = w->status[0].seq;
	stats_status_init(w, 0, "flowtable");
	assert_int_equal(w->status[0].seq, seq);
	assert_string_equal(w->status[0].plugin, "flowtable");
	assert_false(stats_status_get(w, 0, "counter", buf, sizeof(buf)));
	stats_destroy(shm, 1);
}

/* A worker's writer: two plugins take turns, each with its problem. */
static void *
status_writer(void *arg)
{
	struct stats_worker *w = arg;

	for (unsigned i = 0; STATS_LOAD(&w->stop) == 0; i++) {
		stats_status_init(w, 0, i % 2 ? "alpha" : "omega_long_name");
		stats_status_set(w, 0, i % 2 ? "alpha: broken" :
		    "omega_long_name: broken");
	}
	return NULL;
}

/*
 * Whatever instant it reads at, a reader never pairs one plugin's name
 * with the other's problem.  It reads until it has seen both often (in
 * milliseconds), or for at most 20 s: a machine under load may leave
 * either thread unscheduled for a while.
 */
static void
test_status_concurrent(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;
	char buf[STATS_STATUS_MAX];
	pthread_t t;
	unsigned seen[2] = { 0, 0 };
	uint64_t end;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	stats_status_init(w, 0, "alpha");
	assert_int_equal(pthread_create(&t, NULL, status_writer, w), 0);
	end = mono_ns() + 20000000000ull;
	while ((seen[0] < 200 || seen[1] < 200) && mono_ns() < end) {
		if (stats_status_get(w, 0, "alpha", buf, sizeof(buf))) {
			assert_string_equal(buf, "alpha: broken");
			seen[0]++;
		}
		if (stats_status_get(w, 0, "omega_long_name", buf,
		    sizeof(buf))) {
			assert_string_equal(buf, "omega_long_name: broken");
			seen[1]++;
		}
	}
	STATS_STORE(&w->stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* Both were read: the check above ran. */
	assert_true(seen[0] > 0);
	assert_true(seen[1] > 0);
	stats_destroy(shm, 1);
}

static void
test_worker_gone(void **state)
{
	struct stats_shm *shm;
	struct stats_worker *w;
	uint64_t *c, *g;
	char buf[STATS_STATUS_MAX];

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	w->packets = 5;
	stats_status_init(w, 0, "counter");
	stats_status_init(w, 1, "flowtable");
	c = slot_of(w, "flowtable", "exported", STATS_COUNTER);
	g = slot_of(w, "flowtable", "flows", STATS_GAUGE);
	*c = 40;
	*g = 17;
	stats_status_set(w, 1, "ipfix: Connection refused");
	w->status[0].seq = 3;	/* killed inside a write */

	stats_worker_gone(w);
	assert_int_equal(*c, 40);
	assert_int_equal(*g, 0);
	assert_int_equal(w->counters[1].used, STATS_GAUGE);
	assert_int_equal(w->packets, 5);
	assert_false(stats_status_get(w, 1, "flowtable", buf, sizeof(buf)));
	assert_int_equal(w->status[0].seq, 4);
	assert_int_equal(w->status[1].seq, 4);
	assert_string_equal(w->status[0].plugin, "counter");
	assert_string_equal(w->status[1].plugin, "flowtable");
	/* The slots stay: the next worker writes them again. */
	assert_ptr_equal(slot_of(w, "flowtable", "flows", STATS_GAUGE), g);
	stats_destroy(shm, 1);
}

/*
 * Two captures in a 4-slot region, the second first (first_slot {1, 0}),
 * slot 3 not shown; fanout groups in use other than configured.
 */
static const char stats_expected[] =
    "{\"version\": \"\", \"uptime_s\": 12.5, \"captures\": ["
    " {\"name\": \"uplink\", \"interface\": \"veth0\","
    "  \"fanout\": {\"mode\": \"hash\", \"group\": 4242},"
    "  \"totals\": {\"packets\": 311, \"bytes\": 19904,"
    "   \"kernel_packets\": 365, \"kernel_drops\": 20,"
    "   \"kernel_freeze_q\": 2, \"quarantined\": 1,"
    "   \"blocks\": 42, \"blocks_timeout\": 25, \"rollover_packets\": 6,"
    "   \"rollover_huge\": 1, \"rollover_failed\": 0},"
    "  \"workers\": ["
    "   {\"id\": 0, \"pid\": 1234, \"cpu\": 2, \"state\": \"running\","
    "    \"restarts\": 3, \"stalls\": 2, \"ring_blocks\": 32,"
    "    \"backlog\": 3, \"backlog_max\": 31,"
    "    \"packets\": 110, \"bytes\": 7040,"
    "    \"kernel_packets\": 150, \"kernel_drops\": 20,"
    "    \"kernel_freeze_q\": 2, \"quarantined\": 1,"
    "    \"blocks\": 42, \"blocks_timeout\": 25, \"rollover_packets\": 6,"
    "    \"rollover_huge\": 1, \"rollover_failed\": 0,"
    "    \"plugins\": {\"counter\": {\"ipv4\": 105, \"ipv6\": 5},"
    "     \"flowtable\": {\"exported\": 12}},"
    "    \"gauges\": {\"counter\": {}, \"flowtable\": {\"flows\": 9}},"
    "    \"errors\": {\"flowtable\": \"ipfix: Connection refused\"}},"
    "   {\"id\": 1, \"pid\": 1235, \"cpu\": -1, \"state\": \"backoff\","
    "    \"restarts\": 0,"
    "    \"stalls\": 0, \"ring_blocks\": 0, \"backlog\": 0,"
    "    \"backlog_max\": 0,"
    "    \"packets\": 201, \"bytes\": 12864,"
    "    \"kernel_packets\": 215, \"kernel_drops\": 0,"
    "    \"kernel_freeze_q\": 0, \"quarantined\": 0,"
    "    \"blocks\": 0, \"blocks_timeout\": 0, \"rollover_packets\": 0,"
    "    \"rollover_huge\": 0, \"rollover_failed\": 0,"
    "    \"plugins\": {\"counter\": {}, \"flowtable\": {}},"
    "    \"gauges\": {\"counter\": {}, \"flowtable\": {}},"
    "    \"errors\": {}}]},"
    " {\"name\": \"mirror\", \"interface\": \"veth1\","
    "  \"fanout\": {\"mode\": \"lb\", \"group\": 7},"
    "  \"totals\": {\"packets\": 7, \"bytes\": 700,"
    "   \"kernel_packets\": 7, \"kernel_drops\": 0,"
    "   \"kernel_freeze_q\": 0, \"quarantined\": 0,"
    "   \"blocks\": 0, \"blocks_timeout\": 0, \"rollover_packets\": 0,"
    "   \"rollover_huge\": 0, \"rollover_failed\": 0},"
    "  \"workers\": ["
    "   {\"id\": 0, \"pid\": 99, \"cpu\": 0, \"state\": \"stopping\","
    "    \"restarts\": 1,"
    "    \"stalls\": 0, \"ring_blocks\": 0, \"backlog\": 0,"
    "    \"backlog_max\": 0,"
    "    \"packets\": 7, \"bytes\": 700,"
    "    \"kernel_packets\": 7, \"kernel_drops\": 0,"
    "    \"kernel_freeze_q\": 0, \"quarantined\": 0,"
    "    \"blocks\": 0, \"blocks_timeout\": 0, \"rollover_packets\": 0,"
    "    \"rollover_huge\": 0, \"rollover_failed\": 0,"
    "    \"plugins\": {\"counter\": {\"ipv4\": 7}},"
    "    \"gauges\": {\"counter\": {}},"
    "    \"errors\": {}}]}]}";

static void
test_json(void **state)
{
	/* The step names, then the plugins' own (stats_counter's ids). */
	static const char *const uplink_names[] = { "counter", "flowtable",
	    "counter", "flowtable" };
	static const char *const mirror_names[] = { "counter", "counter" };
	static const char *const *const names[] = { uplink_names,
	    mirror_names };
	static const unsigned first_slot[] = { 1, 0 };
	static const uint16_t groups[] = { 4242, 7 };
	struct cfg_capture caps[2];
	struct stats_view view;
	struct stats_shm *shm;
	struct stats_worker *w;
	struct cfg cfg;
	json_t *doc, *expected;
	json_error_t error;
	char *got, *want;

	(void)state;
	assert_non_null(shm = stats_create(4));
	memset(caps, 0, sizeof(caps));
	caps[0].name = "uplink";
	caps[0].interface = "veth0";
	caps[0].workers = 2;
	caps[0].fanout.mode = CFG_FANOUT_HASH;
	caps[0].fanout.group = 42;
	caps[0].npipeline = 2;
	caps[1].name = "mirror";
	caps[1].interface = "veth1";
	caps[1].workers = 1;
	caps[1].fanout.mode = CFG_FANOUT_LB;
	caps[1].fanout.group = 7;
	caps[1].npipeline = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.captures = caps;
	cfg.ncaptures = 2;

	/* Slot 0: mirror worker 0. */
	w = &shm->workers[0];
	w->pid = 99;
	w->cpu = 0;
	w->state = WORKER_STOPPING;
	w->restarts = 1;
	w->packets = 7;
	w->bytes = 700;
	w->kernel_packets = 7;
	*slot_of(w, "counter", "ipv4", STATS_COUNTER) = 7;
	/* Of a plugin this pipeline does not have (any more): not shown. */
	*slot_of(w, "flowtable", "exported", STATS_COUNTER) = 1;

	/* Slot 1: uplink worker 0, with a carry, gauges and a problem. */
	w = &shm->workers[1];
	w->pid = 1234;
	w->cpu = 2;
	w->state = WORKER_RUNNING;
	w->restarts = 2;
	w->carry.restarts = 1;
	w->packets = 100;
	w->carry.packets = 10;
	w->bytes = 6400;
	w->carry.bytes = 640;
	w->kernel_packets = 140;
	w->carry.kernel_packets = 20;
	w->handed_off = 10;
	w->kernel_drops = 15;
	w->carry.kernel_drops = 5;
	w->kernel_freeze_q = 2;
	w->quarantined = 1;
	/* Ring health: counters carried, levels the ring's own. */
	w->stalls = 1;
	w->carry.stalls = 1;
	w->ring_blocks = 32;
	w->backlog = 3;
	w->backlog_max = 31;
	w->blocks = 40;
	w->carry.blocks = 2;
	w->blocks_timeout = 25;
	w->rollover_packets = 6;
	w->rollover_huge = 1;
	*slot_of(w, "counter", "ipv4", STATS_COUNTER) = 100;
	*slot_of(w, "counter", "ipv6", STATS_COUNTER) = 5;
	*slot_of(w, "flowtable", "flows", STATS_GAUGE) = 9;
	*slot_of(w, "flowtable", "exported", STATS_COUNTER) = 12;
	*slot_of(w, "removed", "x", STATS_COUNTER) = 1000;
	*slot_of(w, "removed", "level", STATS_GAUGE) = 1000;
	carried(w, "counter", "ipv4", 5);
	carried(w, "removed", "x", 3);
	stats_status_init(w, 0, "counter");
	stats_status_init(w, 1, "flowtable");
	stats_status_set(w, 1, "ipfix: Connection refused");

	/* Slot 2: uplink worker 1, none of its plugins counted yet. */
	w = &shm->workers[2];
	w->pid = 1235;
	w->state = WORKER_BACKOFF;
	w->packets = 201;
	w->bytes = 12864;
	w->kernel_packets = 215;

	/* Slot 3: no capture's. */
	w = &shm->workers[3];
	w->packets = 1000000;
	*slot_of(w, "counter", "ipv4", STATS_COUNTER) = 1000000;

	memset(&view, 0, sizeof(view));
	view.cfg = &cfg;
	view.shm = shm;
	view.plugin_names = names;
	view.first_slot = first_slot;
	view.groups = groups;
	view.uptime_s = 12.5;

	assert_non_null(doc = stats_json(&view));
	expected = json_loads(stats_expected, 0, &error);
	if (expected == NULL)
		fail_msg("expected document, line %d: %s", error.line,
		    error.text);
	json_object_set_new(expected, "version", json_string(RINGFAN_VERSION));
	got = json_dumps(doc, JSON_COMPACT);
	want = json_dumps(expected, JSON_COMPACT);
	/* The same members, in the order of docs/control.md. */
	assert_string_equal(got, want);
	assert_true(json_equal(doc, expected));
	free(got);
	free(want);
	json_decref(doc);

	/* No first_slot or groups: captures in order, groups configured. */
	view.first_slot = NULL;
	view.groups = NULL;
	assert_non_null(doc = stats_json(&view));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(doc, "captures"), 0), "fanout"),
	    "group")), 42);
	/* Capture 1 is slot 2 now. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(doc, "captures"),
	    1), "workers"), 0), "pid")), 1235);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(doc, "captures"), 0), "totals"),
	    "packets")), 7 + 110);
	json_decref(doc);
	json_decref(expected);
	stats_destroy(shm, 4);
}

/*
 * Values past INT64_MAX, the largest JSON integer: a gauge a plugin took
 * below 0, a counter whose carry adds past it, a summed field.  Each
 * shows as INT64_MAX, never negative.
 */
static void
test_json_past_int64(void **state)
{
	static const char *const plugin_names[] = { "p", "p" };
	static const char *const *const names[] = { plugin_names };
	struct cfg_capture cap;
	struct stats_view view;
	struct stats_shm *shm;
	struct stats_worker *w;
	struct cfg cfg;
	json_t *doc, *jw, *jc;
	char *got;

	(void)state;
	assert_non_null(shm = stats_create(2));
	memset(&cap, 0, sizeof(cap));
	cap.name = "uplink";
	cap.interface = "veth0";
	cap.workers = 2;
	cap.npipeline = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.captures = &cap;
	cfg.ncaptures = 1;
	for (int i = 0; i < 2; i++) {
		w = &shm->workers[i];
		w->packets = UINT64_MAX - 1;
		*slot_of(w, "p", "level", STATS_GAUGE) = UINT64_MAX;
		*slot_of(w, "p", "n", STATS_COUNTER) = INT64_MAX;
		carried(w, "p", "n", 5);
	}
	memset(&view, 0, sizeof(view));
	view.cfg = &cfg;
	view.shm = shm;
	view.plugin_names = names;
	assert_non_null(doc = stats_json(&view));
	jc = json_array_get(json_object_get(doc, "captures"), 0);
	jw = json_array_get(json_object_get(jc, "workers"), 1);
	got = json_dumps(json_object_get(jw, "gauges"), JSON_COMPACT);
	assert_non_null(got);
	assert_string_equal(got, "{\"p\":{\"level\":9223372036854775807}}");
	free(got);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(jw, "plugins"), "p"), "n")), INT64_MAX);
	assert_int_equal(json_integer_value(json_object_get(jw, "packets")),
	    INT64_MAX);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    jc, "totals"), "packets")), INT64_MAX);
	json_decref(doc);
	stats_destroy(shm, 2);
}

/*
 * Worker 0's `what` ("plugins" or "gauges") of `step` in the stats of shm
 * (one capture of one worker, one step) with plugin `own` at it now, as
 * compact JSON.
 */
static char *
step_json(const struct stats_shm *shm, const char *step, const char *own,
    const char *what)
{
	const char *const ids[] = { step, own };
	const char *const *const names[] = { ids };
	struct cfg_capture cap = { .name = "c", .interface = "veth0",
	    .workers = 1, .npipeline = 1 };
	struct cfg cfg = { .captures = &cap, .ncaptures = 1 };
	struct stats_view view = { .cfg = &cfg, .shm = shm,
	    .plugin_names = names };
	json_t *doc, *jw;
	char *got;

	assert_non_null(doc = stats_json(&view));
	jw = json_array_get(json_object_get(json_array_get(json_object_get(doc,
	    "captures"), 0), "workers"), 0);
	got = json_dumps(json_object_get(json_object_get(jw, what), step),
	    JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	assert_non_null(got);
	return got;
}

static void
assert_step_json(const struct stats_shm *shm, const char *step,
    const char *own, const char *what, const char *want)
{
	char *got = step_json(shm, step, own, what);

	assert_string_equal(got, want);
	free(got);
}

/*
 * A step that a reload gives another plugin: the new plugin's counters
 * start afresh, a name the old one used for a counter can be a gauge now,
 * and only the plugin at the step now is shown; the old one's come back
 * with it (a reload rolled back).  Carried counters likewise.
 */
static void
test_counter_other_plugin(void **state)
{
	static const char *const was[] = { "s", "counter" };
	static const char *const now[] = { "s", "portwatch" };
	struct stats_shm *shm;
	struct stats_worker *w;
	uint64_t *a, *b, *g;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	assert_int_equal(stats_counter(w, was, 1, 0, "udp", STATS_COUNTER,
	    &a), 0);
	*a = 600;
	assert_int_equal(stats_counter(w, now, 1, 0, "udp", STATS_COUNTER,
	    &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(*b, 0);
	*b = 3;
	assert_int_equal(stats_counter(w, now, 1, 0, "ipv4", STATS_GAUGE,
	    &g), 0);
	*g = 1;
	assert_int_equal(stats_counter(w, was, 1, 0, "ipv4", STATS_COUNTER,
	    &a), 0);
	*a = 7;
	assert_step_json(shm, "s", "portwatch", "plugins", "{\"udp\":3}");
	assert_step_json(shm, "s", "portwatch", "gauges", "{\"ipv4\":1}");
	assert_step_json(shm, "s", "counter", "plugins",
	    "{\"ipv4\":7,\"udp\":600}");
	assert_step_json(shm, "s", "counter", "gauges", "{}");
	/* Carried over a capture reload: the plugin goes with them. */
	carried(w, "s", "udp", 10);
	strlcpy(w->carry.counters[0].own, "counter",
	    sizeof(w->carry.counters[0].own));
	assert_step_json(shm, "s", "portwatch", "plugins", "{\"udp\":3}");
	assert_step_json(shm, "s", "counter", "plugins",
	    "{\"ipv4\":7,\"udp\":610}");
	stats_destroy(shm, 1);
}

/*
 * Slots used up by steps a pipeline no longer has: a new counter takes
 * the first of them, named afresh at 0, and a reader sees a slot being
 * renamed as no slot.  Those of the pipeline's steps are never taken.
 */
static void
test_counter_reclaim(void **state)
{
	static const char *const both[] = { "old", "new", "old", "new" };
	static const char *const only_new[] = { "new", "new" };
	char step[STATS_PLUGIN_NAME], own[STATS_PLUGIN_NAME];
	char name[STATS_COUNTER_NAME];
	struct stats_shm *shm;
	struct stats_worker *w;
	uint64_t *slot, v;
	uint32_t seq;

	(void)state;
	assert_non_null(shm = stats_create(1));
	w = &shm->workers[0];
	for (int i = 0; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(stats_counter(w, both, 2, 0, name, i == 5 ?
		    STATS_GAUGE : STATS_COUNTER, &slot), 0);
		*slot = 100 + (uint64_t)i;
	}
	/* "old" is a step of the pipeline still: nothing to take. */
	assert_int_equal(stats_counter(w, both, 2, 1, "a", STATS_COUNTER,
	    &slot), -ENOSPC);
	seq = w->counters[0].seq;
	assert_int_equal(stats_counter(w, only_new, 1, 0, "a", STATS_COUNTER,
	    &slot), 0);
	assert_ptr_equal(slot, &w->counters[0].value);
	assert_int_equal(*slot, 0);
	assert_int_equal(w->counters[0].seq, seq + 2);
	assert_int_equal(stats_counter_read(&w->counters[0], step, own, name,
	    &v), STATS_COUNTER);
	assert_string_equal(step, "new");
	assert_string_equal(own, "new");
	assert_string_equal(name, "a");
	/* A gauge takes the next; the one found again stays. */
	assert_int_equal(stats_counter(w, only_new, 1, 0, "b", STATS_GAUGE,
	    &slot), 0);
	assert_ptr_equal(slot, &w->counters[1].value);
	assert_int_equal(stats_counter(w, only_new, 1, 0, "a", STATS_COUNTER,
	    &slot), 0);
	assert_ptr_equal(slot, &w->counters[0].value);
	assert_step_json(shm, "new", "new", "plugins", "{\"a\":0}");
	/* Being renamed (seq odd): no slot, and not the end of them. */
	w->counters[0].seq++;
	assert_int_equal(stats_counter_read(&w->counters[0], step, own, name,
	    &v), UINT32_MAX);
	assert_int_equal(stats_counter_read(&w->counters[2], step, own, name,
	    &v), STATS_COUNTER);
	assert_string_equal(step, "old");
	assert_int_equal(v, 102);
	/*
	 * Left odd by a worker killed while it renamed: its successor that
	 * finds the slot, or the master once no worker runs, evens it.
	 */
	assert_int_equal(stats_counter(w, only_new, 1, 0, "a", STATS_COUNTER,
	    &slot), 0);
	assert_int_equal(w->counters[0].seq % 2, 0);
	assert_int_equal(stats_counter_read(&w->counters[0], step, own, name,
	    &v), STATS_COUNTER);
	w->counters[1].seq |= 1;
	stats_worker_gone(w);
	assert_int_equal(w->counters[1].seq % 2, 0);
	assert_int_equal(stats_counter_read(&w->counters[1], step, own, name,
	    &v), STATS_GAUGE);
	stats_destroy(shm, 1);
}

/*
 * Workers write the whole region, header included, and run plugin code:
 * the master reads it as untrusted.  The header's size is not what is
 * unmapped: a worker set to 0 would leave the region mapped, one set past
 * the region would unmap the master's own memory.
 */
static void
test_destroy_untrusted_size(void **state)
{
	struct stats_shm *shm;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec;

	(void)state;
	assert_non_null(shm = stats_create(1));
	shm->size = 0;
	shm->nworkers = 1000;
	stats_destroy(shm, 1);
	/* mincore fails with ENOMEM on a page that is not mapped. */
	assert_int_equal(mincore((void *)((uintptr_t)shm &
	    ~(uintptr_t)(page - 1)), (size_t)page, &vec), -1);
	assert_int_equal(errno, ENOMEM);
}

/*
 * The last slot of a region, everything a worker can write from its
 * counters to the end of the mapping set to 'A' (no NUL anywhere) and
 * every count at its most: the master reads no byte past the region and
 * no more than STATS_MAX_COUNTERS carried counters.
 */
static struct stats_shm *
poisoned(unsigned n, size_t *len)
{
	struct stats_shm *shm;
	struct stats_worker *w;
	long page = sysconf(_SC_PAGESIZE);
	size_t size = sizeof(*shm) + n * sizeof(*w);
	char *end;

	/*
	 * A page with no access right after the region: a read past it
	 * faults, whatever the mapping happens to be followed by.  The
	 * region goes into the hole left below that page (mappings are made
	 * from the top down); should it not, the page is put after it.
	 */
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	end = mmap(NULL, size + (size_t)page, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(end != MAP_FAILED);
	munmap(end, size);
	assert_non_null(shm = stats_create(n));
	if ((char *)shm + size != end + size) {
		munmap(end + size, (size_t)page);
		end = mmap((char *)shm + size, (size_t)page, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		assert_true(end == (char *)shm + size);
	}
	end = (char *)shm + size;
	w = &shm->workers[n - 1];
	memset(&w->carry.counters, 'A', (size_t)(end -
	    (char *)&w->carry.counters));
	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++)
		w->counters[i].used = STATS_COUNTER;
	w->carry.ncounters = UINT32_MAX;
	*len = size;
	return shm;
}

static void
unpoison(struct stats_shm *shm, unsigned n, size_t size)
{
	munmap((char *)shm + size, (size_t)sysconf(_SC_PAGESIZE));
	stats_destroy(shm, n);
}

static void
test_carry_untrusted(void **state)
{
	struct stats_shm *shm, *to;
	struct stats_worker *merged;
	size_t size;
	unsigned dropped;

	(void)state;
	shm = poisoned(2, &size);
	assert_non_null(to = stats_create(2));
	/* Into a slot whose own count a worker of the new generation set. */
	to->workers[1].carry.ncounters = UINT32_MAX;
	dropped = stats_carry(&to->workers[1], &shm->workers[1]);
	assert_true(to->workers[1].carry.ncounters <= STATS_MAX_COUNTERS);
	assert_true(dropped <= 2 * STATS_MAX_COUNTERS);
	/* Into the master's own memory, as stats_merged does. */
	assert_non_null(merged = stats_worker_new());
	(void)stats_carry(merged, &shm->workers[1]);
	assert_true(merged->carry.ncounters <= STATS_MAX_COUNTERS);
	/* The names, cut at their size and terminated. */
	assert_int_equal(strlen(merged->carry.counters[0].plugin),
	    STATS_PLUGIN_NAME - 1);
	assert_int_equal(strlen(merged->carry.counters[0].name),
	    STATS_COUNTER_NAME - 1);
	free(merged);
	stats_destroy(to, 2);
	unpoison(shm, 2, size);
}

static void
test_json_untrusted(void **state)
{
	static const char *const plugin_names[] = { "p", "p" };
	static const char *const *const names[] = { plugin_names, plugin_names };
	struct cfg_capture cap;
	struct stats_view view;
	struct stats_shm *shm;
	struct cfg cfg;
	size_t size;
	json_t *doc;

	(void)state;
	shm = poisoned(2, &size);
	memset(&cap, 0, sizeof(cap));
	cap.name = "uplink";
	cap.interface = "veth0";
	cap.workers = 2;
	cap.npipeline = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.captures = &cap;
	cfg.ncaptures = 1;
	memset(&view, 0, sizeof(view));
	view.cfg = &cfg;
	view.shm = shm;
	view.plugin_names = names;
	assert_non_null(doc = stats_json(&view));
	json_decref(doc);
	unpoison(shm, 2, size);
}

static void
test_text(void **state)
{
	char src[4] = { 'a', 'b', 'c', 'd' }, dst[4];

	(void)state;
	stats_text(dst, src, sizeof(dst));
	assert_string_equal(dst, "abc");
	src[1] = '\0';
	stats_text(dst, src, sizeof(dst));
	assert_string_equal(dst, "a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_backlog),
		cmocka_unit_test(test_lift),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_counter_other_plugin),
		cmocka_unit_test(test_counter_reclaim),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_carry_rekind),
		cmocka_unit_test(test_merged),
		cmocka_unit_test(test_carry_full),
		cmocka_unit_test(test_carry_full_rekind),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_torn),
		cmocka_unit_test(test_status_concurrent),
		cmocka_unit_test(test_worker_gone),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_past_int64),
		cmocka_unit_test(test_destroy_untrusted_size),
		cmocka_unit_test(test_carry_untrusted),
		cmocka_unit_test(test_json_untrusted),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A plugin counter's slot renamed (stats_counter() taking the slot of a
 * step no stage has any more) by a writer killed after every single-word
 * store of it.  The stores are counted here (STATS_STORE) and stats.c is
 * built into this file, as test_resume.c does with resume.c.  Whatever
 * store the writer died at, once the master has seen it gone
 * (stats_worker_gone()) its successor gets the new counter starting at
 * 0, and no reader ever shows the new counter with the old one's value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_death.h"

#include "../../framework/stats.c"

/* Every slot taken by step "old", slot 0 holding `kind` "c0" of 1234. */
static struct stats_worker *
full_of_old(struct stats_shm *shm, enum stats_kind kind)
{
	static const char *const old[] = { "old", "old" };
	struct stats_worker *w = &shm->workers[0];
	char name[STATS_COUNTER_NAME];
	uint64_t *slot;

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(stats_counter(w, old, 1, 0, name,
		    i == 0 ? kind : STATS_COUNTER, &slot), 0);
		*slot = 1234;
	}
	return w;
}

/* stats_counter() renaming a slot for "a", dying at store k: whether it did. */
static __attribute__((noinline)) bool
rename_dies(struct stats_worker *w, long k, enum stats_kind kind)
{
	static const char *const only_new[] = { "new", "new" };
	uint64_t *slot;
	bool died = false;

	store_budget = k;
	if (setjmp(store_death) == 0)
		(void)stats_counter(w, only_new, 1, 0, "a", kind, &slot);
	else
		died = true;
	store_budget = -1;
	return died;
}

static void
kill_rename(enum stats_kind old_kind, enum stats_kind new_kind)
{
	static const char *const only_new[] = { "new", "new" };
	char step[STATS_PLUGIN_NAME], own[STATS_PLUGIN_NAME];
	char name[STATS_COUNTER_NAME];
	struct stats_shm *shm;
	struct stats_worker *w;
	bool died;
	uint64_t *slot, v;
	uint32_t used;

	assert_non_null(shm = stats_create(1));
	for (long k = 0;; k++) {
		w = full_of_old(shm, old_kind);
		died = rename_dies(w, k, new_kind);
		/* The master, once the worker is gone; then its successor. */
		stats_worker_gone(w);
		for (int i = 0; i < STATS_MAX_COUNTERS; i++) {
			used = stats_counter_read(&w->counters[i], step, own,
			    name, &v);
			if (used == 0 || used == UINT32_MAX)
				continue;
			/* The new counter never shows the old one's count. */
			if (strcmp(step, "new") == 0)
				assert_int_equal(v, 0);
		}
		slot = NULL;
		assert_int_equal(stats_counter(w, only_new, 1, 0, "a",
		    new_kind, &slot), 0);
		assert_non_null(slot);
		assert_int_equal(*slot, 0);
		if (!died)
			break;
	}
	stats_destroy(shm, 1);
}

static void
test_rename_killed(void **state)
{
	(void)state;
	kill_rename(STATS_COUNTER, STATS_COUNTER);
}

/* Of a slot that held the other kind: not "taken by a gauge". */
static void
test_rename_killed_other_kind(void **state)
{
	(void)state;
	kill_rename(STATS_GAUGE, STATS_COUNTER);
	kill_rename(STATS_COUNTER, STATS_GAUGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rename_killed),
		cmocka_unit_test(test_rename_killed_other_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

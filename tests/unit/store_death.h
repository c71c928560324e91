/*
 * A writer killed after any single-word store: the test includes this, then
 * the framework source whose stores it counts (its STATS_STORE is this
 * one), and sets store_budget to the stores left before the death, which
 * longjmp()s to store_death.
 */
#ifndef RINGFAN_STORE_DEATH_H
#define RINGFAN_STORE_DEATH_H

#include <setjmp.h>

/* Stores left before the writer dies, or -1: it never does. */
static long store_budget = -1;
static jmp_buf store_death;

static void
store_step(void)
{
	if (store_budget >= 0 && store_budget-- == 0)
		longjmp(store_death, 1);
}

#define STATS_STORE(p, v) \
	(store_step(), __atomic_store_n((p), (v), __ATOMIC_RELAXED))

#endif

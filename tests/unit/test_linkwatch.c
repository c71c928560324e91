/*
 * What a capture does about its interface (link_decide of linkwatch.c),
 * through the sequences of kernel events an interface goes through: a
 * flap, carrier loss, a delete and re-create (also while the old workers
 * still drain), a rename, a start before the interface exists, a build
 * that failed.  No root, no socket: the record and the events only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkwatch.h"

/*
 * Interfaces as seen: gone; index 7 up, down, without carrier; index 9
 * (MTU not known).
 */
static const struct link_seen gone = { 0, false, false, 0, NULL };
static const struct link_seen up7 = { 7, true, true, 0, NULL };
static const struct link_seen down7 = { 7, false, false, 0, NULL };
static const struct link_seen nocarrier7 = { 7, true, false, 0, NULL };
static const struct link_seen up9 = { 9, true, true, 0, NULL };
static const struct link_seen down9 = { 9, false, false, 0, NULL };

/* A capture whose sockets are bound to interface 7, running. */
static struct link_cap
on7(void)
{
	struct link_cap lc;

	memset(&lc, 0, sizeof(lc));
	lc.state = LINK_RUNNING;
	lc.ifindex = 7;
	return lc;
}

static void
expect(struct link_cap *lc, const struct link_seen *seen,
    enum link_action action, enum link_state state)
{
	assert_int_equal(link_decide(lc, seen), action);
	assert_int_equal(lc->state, state);
}

/* Down and up again: the sockets stay, only the state follows. */
static void
test_flap(void **state)
{
	struct link_cap lc = on7();

	(void)state;
	expect(&lc, &down7, LINK_NONE, LINK_DOWN);
	expect(&lc, &down7, LINK_NONE, LINK_DOWN);
	expect(&lc, &up7, LINK_NONE, LINK_RUNNING);
	assert_int_equal(lc.ifindex, 7);
	/* Carrier lost (the peer down): down too, sockets kept. */
	expect(&lc, &nocarrier7, LINK_NONE, LINK_DOWN);
	expect(&lc, &up7, LINK_NONE, LINK_RUNNING);
	assert_int_equal(lc.ifindex, 7);
}

/* Deleted: park once, wait; back under a new index: build once. */
static void
test_recreate(void **state)
{
	struct link_cap lc = on7();

	(void)state;
	expect(&lc, &down7, LINK_NONE, LINK_DOWN);	/* its close first */
	expect(&lc, &gone, LINK_PARK, LINK_WAITING);
	assert_int_equal(lc.ifindex, 0);
	lc.draining = true;				/* what the caller does */
	expect(&lc, &gone, LINK_NONE, LINK_WAITING);	/* parked once */
	lc.draining = false;				/* they are gone */
	expect(&lc, &up9, LINK_BUILD, LINK_WAITING);
	lc.ifindex = 9;					/* built */
	lc.state = LINK_RUNNING;
	expect(&lc, &up9, LINK_NONE, LINK_RUNNING);
}

/*
 * Back while the old workers drain: built all the same (the caller puts
 * the sockets aside until they are gone); gone again: parked again.
 */
static void
test_back_draining(void **state)
{
	struct link_cap lc = on7();

	(void)state;
	expect(&lc, &gone, LINK_PARK, LINK_WAITING);
	lc.draining = true;				/* what the caller does */
	expect(&lc, &down9, LINK_NONE, LINK_DOWN);
	expect(&lc, &up9, LINK_BUILD, LINK_DOWN);
	lc.ifindex = 9;					/* built */
	lc.state = LINK_RUNNING;
	expect(&lc, &up9, LINK_NONE, LINK_RUNNING);
	expect(&lc, &gone, LINK_PARK, LINK_WAITING);
	assert_int_equal(lc.ifindex, 0);
	expect(&lc, &up9, LINK_BUILD, LINK_WAITING);
}

/* Created down, then up: a socket joins a group only on a link up. */
static void
test_created_down(void **state)
{
	struct link_cap lc;

	(void)state;
	memset(&lc, 0, sizeof(lc));
	lc.state = LINK_WAITING;			/* wait_for_interface */
	expect(&lc, &gone, LINK_NONE, LINK_WAITING);
	expect(&lc, &down9, LINK_NONE, LINK_DOWN);
	expect(&lc, &gone, LINK_NONE, LINK_WAITING);	/* deleted again */
	expect(&lc, &down9, LINK_NONE, LINK_DOWN);
	expect(&lc, &up9, LINK_BUILD, LINK_DOWN);
}

/* Renamed away, another interface taking the name: its sockets are dead. */
static void
test_rename(void **state)
{
	struct link_cap lc = on7();

	(void)state;
	/* The message about index 7 under another name is seen as gone. */
	expect(&lc, &gone, LINK_PARK, LINK_WAITING);
	lc = on7();
	/* Or the name's new owner is seen first. */
	expect(&lc, &up9, LINK_PARK, LINK_WAITING);
}

/* A build that failed is not tried again on the same interface. */
static void
test_failed(void **state)
{
	struct link_cap lc;

	(void)state;
	memset(&lc, 0, sizeof(lc));
	lc.state = LINK_WAITING;
	expect(&lc, &up9, LINK_BUILD, LINK_WAITING);
	lc.state = LINK_FAILED;				/* it failed */
	lc.failed_ifindex = 9;
	expect(&lc, &up9, LINK_NONE, LINK_FAILED);
	expect(&lc, &down9, LINK_NONE, LINK_FAILED);
	expect(&lc, &up9, LINK_NONE, LINK_FAILED);
	/* Gone, and another interface of the name: worth a try. */
	expect(&lc, &gone, LINK_NONE, LINK_WAITING);
	expect(&lc, &up7, LINK_BUILD, LINK_WAITING);
}

static void
test_names(void **state)
{
	size_t n;

	(void)state;
	assert_string_equal(link_state_name(LINK_RUNNING), "running");
	assert_string_equal(link_state_name(LINK_DOWN), "down");
	assert_string_equal(link_state_name(LINK_WAITING), "waiting");
	assert_string_equal(link_state_name(LINK_FAILED), "failed");
	/* Every link state is one of the states the metric lists. */
	for (int s = LINK_RUNNING; s <= LINK_FAILED; s++) {
		for (n = 0; linkwatch_states[n] != NULL; n++)
			if (strcmp(linkwatch_states[n],
			    link_state_name((enum link_state)s)) == 0)
				break;
		assert_non_null(linkwatch_states[n]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flap),
		cmocka_unit_test(test_recreate),
		cmocka_unit_test(test_back_draining),
		cmocka_unit_test(test_created_down),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

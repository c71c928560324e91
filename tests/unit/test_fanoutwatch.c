/*
 * The members of the fanout groups as sock_diag lists them
 * (fanoutwatch.c), in a network namespace of a child's own: packet sockets
 * in two groups and outside any, enough of them that the kernel answers in
 * several messages.  Root only: without it (or without the kernel's
 * packet_diag) the program exits 77.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fanoutwatch.h"

/*
 * Sockets: the first NA in group GA, the next NB in GB, the rest in none.
 * The kernel lists them all, 32 bytes each and 8 more for a member, the
 * first message of a dump made before the first read at most a page: 240
 * take several.  (Not
 * more: closing a packet socket waits for an RCU grace period, about 12
 * ms.)
 */
#define NSOCK	240
#define NA	150
#define NB	40
#define GA	4242
#define GB	17

#define SKIP	77

static int	fds[NSOCK];
static uint32_t	inos[NSOCK];

/* The group socket i was put in, -1 for none. */
static int
group_of(int i)
{
	return i < NA ? GA : i < NA + NB ? GB : -1;
}

/* 0 when the dump lists exactly the sockets in groups, with their ids. */
static int
members_listed(struct mnl_socket *nl, unsigned seq)
{
	struct fanout_member *mv;
	size_t n, found = 0;
	int rc;

	if ((rc = fanout_members(nl, seq, &mv, &n)) == -ENOENT)
		return SKIP;	/* sock_diag without packet_diag */
	if (rc != 0)
		return 3;
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < NSOCK; i++)
			if (mv[k].ino == inos[i]) {
				if (group_of(i) != mv[k].group)
					return 4;
				found++;
			}
	free(mv);
	return n == NA + NB && found == NA + NB ? 0 : 5;
}

/* The sockets made, the dump read twice over one sock_diag socket. */
static int
members_child(void)
{
	struct mnl_socket *nl;
	struct stat st;
	uint32_t fanout;
	int i, rc;

	if (unshare(CLONE_NEWNET) != 0)
		return SKIP;
	for (i = 0; i < NSOCK; i++) {
		/* A protocol at socket() makes it running: it may join. */
		if ((fds[i] = socket(AF_PACKET, SOCK_RAW,
		    htons(ETH_P_802_EX1))) == -1 || fstat(fds[i], &st) != 0)
			return SKIP;
		inos[i] = (uint32_t)st.st_ino;
		fanout = (uint32_t)group_of(i) | PACKET_FANOUT_HASH << 16;
		if (group_of(i) != -1 && setsockopt(fds[i], SOL_PACKET,
		    PACKET_FANOUT, &fanout, sizeof(fanout)) != 0)
			return 2;
	}
	if ((nl = fanout_open()) == NULL)
		return SKIP;	/* no sock_diag in this kernel */
	rc = members_listed(nl, 1);
	return rc != 0 ? rc : members_listed(nl, 2);
}

static bool skipped;

/* fn in a child, which exits with what it returns: 0, or SKIP. */
static void
in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	if ((pid = fork()) == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP) {
		skipped = true;
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_members(void **state)
{
	(void)state;
	in_child(members_child);
}

/* An empty namespace: no member, no memory. */
static int
none_child(void)
{
	struct fanout_member *mv = NULL;
	struct mnl_socket *nl;
	size_t n = 1;
	int rc;

	if (unshare(CLONE_NEWNET) != 0 || (nl = fanout_open()) == NULL)
		return SKIP;
	if ((rc = fanout_members(nl, 1, &mv, &n)) == -ENOENT)
		return SKIP;
	if (rc != 0)
		return 3;
	return n == 0 && mv == NULL ? 0 : 2;
}

static void
test_none(void **state)
{
	(void)state;
	in_child(none_child);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_none),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* A check left out is not reported as passed. */
	return failed != 0 ? failed : skipped ? SKIP : 0;
}

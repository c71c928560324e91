/*
 * The captures' interfaces as the kernel reports them (rtnetlink, group
 * RTMGRP_LINK, read in the master's event loop), and what a capture does
 * about them: a link that goes down keeps its sockets and workers, which
 * resume when it comes back; an interface that goes away costs its sockets,
 * and one of the same name that appears again gets new ones, in the same
 * fanout group, and new workers (or, while the old workers still drain,
 * new ones at once in a group the kernel makes, and the workers later).
 *
 * The decision is a pure function of a capture's link record and what was
 * seen (link_decide, tests/unit/test_linkwatch.c); linkwatch.c carries it
 * out on the master's process table.
 */
#ifndef RINGFAN_LINKWATCH_H
#define RINGFAN_LINKWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum link_state {
	LINK_RUNNING,	/* sockets bound, link up */
	LINK_DOWN,	/* the interface is there: down, or no carrier */
	LINK_WAITING,	/* no interface of that name (not yet, or deleted) */
	LINK_FAILED,	/* it came back, but its sockets could not be built */
};

enum link_action {
	LINK_NONE,
	LINK_PARK,	/* its sockets are dead: drain the workers, close them */
	LINK_BUILD,	/* it is here and up: new sockets, new workers */
};

/* One capture's link record. */
struct link_cap {
	enum link_state	 state;
	unsigned	 ifindex;	/* its sockets' interface; 0: none */
	bool		 draining;	/* parked, a worker still drains */
	uint64_t	 drain_end;	/* monotonic: then SIGKILL */
	unsigned	 drain_ms;	/* drain_end's distance from the end */
	unsigned	 failed_ifindex; /* a build failed there: not again */
	/*
	 * A build beside the sockets of the workers that drain failed
	 * there: not again until they are gone, then without them.
	 */
	unsigned	 beside_ifindex;
	bool		 ever;		/* it had sockets once: "back" */
	/* Its MTU as last seen on interface mtu_ifindex (its changes). */
	unsigned	 mtu;
	unsigned	 mtu_ifindex;
};

/* An interface as seen. */
struct link_seen {
	unsigned	 ifindex;	/* 0: no interface of the name */
	bool		 admin_up;	/* IFF_UP: a socket can join a group */
	bool		 running;	/* IFF_RUNNING too: carrier, operstate */
	unsigned	 mtu;		/* 0: not known */
	/*
	 * ifindex 0 because the capture's device no longer answers to its
	 * name (renamed, or the altname removed), and has this one; NULL:
	 * not known.
	 */
	const char	*renamed;
};

/*
 * What to do about capture lc now that its interface is seen so; updates
 * lc's state (and forgets its ifindex on LINK_PARK).  The caller clears
 * lc->draining once the parked workers are gone, and on LINK_BUILD sets
 * ifindex (done) or failed_ifindex and LINK_FAILED (failed).
 */
enum link_action link_decide(struct link_cap *lc, const struct link_seen *seen);
const char *link_state_name(enum link_state state);

/*
 * Every state a capture can be in, as `status` names them (`stats` all
 * but degraded), for the metric that has one sample per state;
 * NULL-terminated.
 */
extern const char *const linkwatch_states[];

struct master;
struct slot;

/*
 * Start watching: a netlink socket in the master's event loop, and every
 * capture's interface looked at once.  0 or -errno (the captures then run
 * without link states; their workers never spin either way).
 */
int	linkwatch_open(struct master *m);
void	linkwatch_close(struct master *m);
/* In a forked child: the netlink socket is the master's alone. */
void	linkwatch_forget(struct master *m);
/*
 * From the master's timer: a capture of a new generation gets its record,
 * a parked capture whose workers are gone closes its sockets, and a
 * capture whose interface is back gets new ones.
 */
void	linkwatch_step(struct master *m);
/*
 * The socket slot s got when its interface came back while the workers of
 * the one gone still drained, if any, is closed: at a stop, or at the
 * cut-over of a capture reload, before a worker took a frame from it.
 * What its ring took counts as dropped.
 */
void	linkwatch_drop_next(struct slot *s);
/* Slot s was killed at its parked capture's drain deadline. */
bool	linkwatch_overdue(const struct master *m, const struct slot *s);
/* "down", "waiting", "failed", or NULL when capture c's link is fine. */
const char *linkwatch_state(const struct master *m, unsigned c);
/*
 * Capture c's state for the stats document (arg: the master): running,
 * down, waiting or failed.
 */
const char *linkwatch_capture_state(const void *arg, size_t c);
/* The interface exists and is up: sockets can be built on it now. */
bool	linkwatch_usable(const char *ifname);

#endif

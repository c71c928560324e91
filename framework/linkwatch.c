/*
 * Interfaces that go down, come back, or disappear.  The master listens to
 * rtnetlink's link group (libmnl) in its event loop: one descriptor, read
 * only when the kernel has news.  What it does to a packet socket decides:
 *
 * - A link taken down (NETDEV_DOWN) unhooks the socket from the device and
 *   its fanout group and leaves ENETDOWN pending on it; brought up again,
 *   the kernel hooks it back into both.  So sockets and workers stay; the
 *   master reads the pending error (SO_ERROR), which would otherwise make
 *   every poll of the socket return at once, and the capture shows `down`.
 *   Carrier loss leaves the socket hooked: nothing arrives, nothing to do.
 * - An interface deleted (NETDEV_UNREGISTER) leaves its sockets bound to
 *   nothing for good, and a socket in a fanout group cannot be bound
 *   again.  The capture is parked: its workers drain what their rings hold
 *   and stop, their counts kept; once they are gone the sockets are closed
 *   (which frees the fanout group id).  When an interface of that name
 *   appears and is up, new sockets join the same group id and the workers
 *   start again on fresh rings.  One that appears while the old workers
 *   still drain gets its sockets at once, in a group id the kernel makes
 *   (the old sockets hold theirs until closed): their rings take its
 *   frames, and the workers start on them once the old ones are gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "capture.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "resume.h"
#include "util.h"

/*
 * How long parked workers get to drain, as at a stop, beyond the capture's
 * block_timeout (the kernel hands over its partly filled block only when
 * that timeout retires it): then SIGKILL.
 */
#define LINK_DRAIN_NS	(5ull * 1000000000u)

/* Enough for a burst of link messages; a longer one is read in turns. */
#define LINKWATCH_BUF	32768

struct linkwatch {
	struct ev_src		 src;	/* the event loop's pointer */
	struct mnl_socket	*nl;
	char			 buf[LINKWATCH_BUF];
};

/* Sockets that exist but whose interface index is unknown: never seen. */
#define LINK_IFINDEX_LOST	UINT32_MAX

static const char *const link_state_names[] = {
	[LINK_RUNNING] = "running",
	[LINK_DOWN] = "down",
	[LINK_WAITING] = "waiting",
	[LINK_FAILED] = "failed",
};

/* status's names (master_capture_state) and the link's, each once. */
const char *const linkwatch_states[] = {
	"running", "degraded", "down", "waiting", "failed", NULL,
};

const char *
link_state_name(enum link_state state)
{
	return (size_t)state < sizeof(link_state_names) /
	    sizeof(link_state_names[0]) ? link_state_names[state] : "unknown";
}

enum link_action
link_decide(struct link_cap *lc, const struct link_seen *seen)
{
	if (lc->ifindex != 0) {
		if (seen->ifindex == lc->ifindex) {
			lc->state = seen->admin_up && seen->running ?
			    LINK_RUNNING : LINK_DOWN;
			return LINK_NONE;
		}
		/*
		 * Gone, or renamed with another interface now under the
		 * name: either way the sockets can never take its frames.
		 */
		lc->ifindex = 0;
		lc->state = LINK_WAITING;
		return LINK_PARK;
	}
	if (seen->ifindex == 0) {
		lc->state = LINK_WAITING;
		return LINK_NONE;
	}
	if (seen->ifindex == lc->failed_ifindex) {
		/* The same build would fail again: a new interface may not. */
		lc->state = LINK_FAILED;
		return LINK_NONE;
	}
	if (!seen->admin_up) {
		/* A socket joins a fanout group only on an interface up. */
		lc->state = LINK_DOWN;
		return LINK_NONE;
	}
	return LINK_BUILD;
}

/* The interface `name` now; false when it could not be asked. */
static bool
link_probe(const char *name, struct link_seen *seen)
{
	struct ifreq ifr;
	int fd;

	memset(seen, 0, sizeof(*seen));
	if (!ifreq_name(&ifr, name))
		return true;	/* no interface has that name */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) == 0) {
		seen->ifindex = (unsigned)ifr.ifr_ifindex;
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
			close(fd);
			return false;
		}
		seen->admin_up = (ifr.ifr_flags & IFF_UP) != 0;
		seen->running = seen->admin_up &&
		    (ifr.ifr_flags & IFF_RUNNING) != 0;
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			seen->mtu = (unsigned)ifr.ifr_mtu;
	} else if (errno != ENODEV) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

bool
linkwatch_usable(const char *ifname)
{
	struct link_seen seen;

	return link_probe(ifname, &seen) && seen.ifindex != 0 && seen.admin_up;
}

/* The first and the end of capture c's slots in generation g. */
static struct slot *
link_slots(struct gen *g, unsigned c, struct slot **end)
{
	struct slot *s = &g->slots[g->first_slot[c]];

	*end = s + g->cfg->captures[c].workers;
	return s;
}

/*
 * Read the error a downed link left pending on capture c's sockets: a
 * pending error makes every poll of the socket return at once, and the
 * worker has no descriptor to read it with (docs/architecture.md,
 * "Sandbox").
 */
static void
link_clear_errors(struct gen *g, unsigned c)
{
	struct slot *s, *end;
	socklen_t len;
	int e;

	for (s = link_slots(g, c, &end); s < end; s++) {
		len = sizeof(e);
		if (s->wk.fd != -1)
			(void)getsockopt(s->wk.fd, SOL_SOCKET, SO_ERROR, &e,
			    &len);
	}
}

/* The interface a capture socket is bound to; LINK_IFINDEX_LOST if none. */
static unsigned
link_socket_ifindex(int fd)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(sll);

	memset(&sll, 0, sizeof(sll));
	if (getsockname(fd, (struct sockaddr *)&sll, &len) == -1 ||
	    sll.sll_ifindex <= 0)
		return LINK_IFINDEX_LOST;
	return (unsigned)sll.sll_ifindex;
}

/* Its sockets are dead: the workers drain their rings and stop. */
static void
link_park(struct master *m, unsigned c)
{
	struct slot *s, *end;
	uint32_t st;

	/*
	 * Gone again before the old workers drained: its sockets never had
	 * a worker, and the old ones drain on to their deadline.
	 */
	if (m->g.links[c].draining) {
		for (s = link_slots(&m->g, c, &end); s < end; s++)
			linkwatch_drop_next(s);
		return;
	}
	m->g.links[c].draining = true;
	m->g.links[c].drain_ms = (unsigned)(LINK_DRAIN_NS / 1000000u) +
	    m->g.cfg->captures[c].ring.block_timeout_ms;
	m->g.links[c].drain_end = mono_ns() +
	    m->g.links[c].drain_ms * 1000000ull;
	for (s = link_slots(&m->g, c, &end); s < end; s++) {
		if (s->wk.fd != -1)
			(void)capture_shut(s->wk.fd);
		st = STATS_LOAD(&s->wk.sw->state);
		if (!master_drain(m, s) &&
		    (st == WORKER_BACKOFF || st == WORKER_FAILED))
			STATS_STORE(&s->wk.sw->state, WORKER_STOPPED);
		s->respawn_at = 0;	/* no cool-down ends on a dead socket */
	}
}

/* The kernel's last counts of socket fd, added to sw's; false if none. */
static bool
link_last_counts(struct stats_worker *sw, int fd, struct tpacket_stats_v3 *st)
{
	if (fd == -1 || capture_read_stats(fd, st) != 0)
		return false;
	STATS_ADD(&sw->kernel_packets, st->tp_packets);
	STATS_ADD(&sw->kernel_drops, st->tp_drops);
	STATS_ADD(&sw->kernel_freeze_q, st->tp_freeze_q_cnt);
	return true;
}

void
linkwatch_drop_next(struct slot *s)
{
	struct tpacket_stats_v3 st;
	struct stats_worker *sw = s->wk.sw;
	uint64_t n;
	char name[64];

	if (s->next_fd == -1)
		return;
	(void)capture_shut(s->next_fd);
	if (link_last_counts(sw, s->next_fd, &st)) {
		if ((n = st.tp_packets - st.tp_drops) > 0) {
			sw->carry.kernel_drops += n;
			log_warnx("%s: %llu frames in the ring of a socket no "
			    "worker started on, counted as dropped",
			    master_slot_name(s, name, sizeof(name)),
			    (unsigned long long)n);
		}
	}
	close(s->next_fd);
	s->next_fd = -1;
}

/*
 * Capture c's sockets are in fanout group `group` now, an id the kernel
 * made: the configured id, which the old sockets held, is let go of, and
 * the new one claimed.
 */
static void
link_group_moved(struct gen *g, unsigned c, int group)
{
	char err[512];

	if (g->locks[c] >= 0)
		capture_unlock(g->locks[c], g->groups[c]);
	g->locks[c] = -1;
	if (group < 0)
		return;
	g->groups[c] = (uint16_t)group;
	if ((g->locks[c] = capture_lock_made(&g->cfg->captures[c], group, err,
	    sizeof(err))) == -1)
		log_warnx("%s", err);
}

/*
 * The parked workers are gone: the kernel's last counts are read, frames
 * left in a ring no one will drain count as dropped (as at a stop), the
 * position starts over for a fresh ring, and the sockets are closed.  The
 * sockets an interface got while they drained take their place, in their
 * group; true if so.
 */
static bool
link_close(struct master *m, unsigned c)
{
	struct tpacket_stats_v3 st;
	struct stats_worker *sw;
	struct slot *s, *end;
	uint64_t n;
	char name[64];
	bool next = false;

	for (s = link_slots(&m->g, c, &end); s < end; s++) {
		sw = s->wk.sw;
		resume_settle(sw);
		if (link_last_counts(sw, s->wk.fd, &st))
			master_read_rollover(s);
		/* The next socket's rollover totals start from 0. */
		memset(s->rollover, 0, sizeof(s->rollover));
		if ((n = stats_backlog(sw)) > 0) {
			sw->carry.kernel_drops += n;
			log_warnx("%s: %llu frames left in the ring of a gone "
			    "interface, counted as dropped", master_slot_name(s,
			    name, sizeof(name)), (unsigned long long)n);
		}
		/* A capture reload's cut holds for none of those. */
		stats_lift_strand(sw);
		STATS_STORE(&sw->at, 0);	/* block 0, between blocks */
		if (s->wk.fd != -1)
			close(s->wk.fd);
		s->wk.fd = s->next_fd;
		s->next_fd = -1;
		next = s->wk.fd != -1;
	}
	m->g.links[c].draining = false;
	m->g.links[c].beside_ifindex = 0;
	if (next)
		link_group_moved(&m->g, c, capture_group(
		    link_slots(&m->g, c, &end)->wk.fd));
	return next;
}

/* Where link_build() puts s's new socket. */
static int *
link_fd(struct slot *s, bool next)
{
	return next ? &s->next_fd : &s->wk.fd;
}

/*
 * New sockets for capture c in its fanout group, or with `next` (the old
 * sockets still hold that group: their workers drain) in one the kernel
 * makes, as the slots' next_fd; 0, or -1 with err.
 */
static int
link_build(struct master *m, unsigned c, bool next, char *err, size_t errlen)
{
	struct gen *g = &m->g;
	const struct cfg_capture *cap = &g->cfg->captures[c];
	struct sock_fprog prog;
	struct slot *s, *end, *first;
	int lt, fd, group = next ? -1 : g->groups[c], lock = -1;
	int *fdp;

	if (capture_linktype(cap, &lt, err, errlen) != 0)
		return -1;
	if (lt != g->linktypes[c]) {
		snprintf(err, errlen, "capture %s: interface %s now has link "
		    "type %d, its pipeline was checked for %d: a restart "
		    "of ringfan checks it for the new one",
		    cap->name, cap->interface, lt, g->linktypes[c]);
		return -1;
	}
	if (capture_bpf_compile(g->cfg, cap, lt, &prog, err, errlen) != 0)
		return -1;
	/*
	 * No group yet: the configured one if it can be claimed now (the
	 * generation that held it is gone), or else an id the kernel makes,
	 * never one another capture may use.  A claim refused by another
	 * ringfan or another program is said: the capture is then in another
	 * group than the configured one until a reload.
	 */
	if (!next && g->locks[c] == GEN_GROUP_LATER) {
		if (gen_group(&m->old, g, g->cfg->ncaptures, c,
		    (uint16_t)group) < 0)
			group = -1;
		else if ((lock = capture_lock(cap, group, err,
		    errlen)) == -1) {
			log_warnx("%s; the capture's sockets join a group the "
			    "kernel makes until a reload", err);
			group = -1;
		}
	}
	first = link_slots(g, c, &end);
	for (s = first; s < end; s++) {
		fd = capture_open(cap, &prog, group, err, errlen);
		if (fd == -1)
			break;
		/* The others join the group the first one made. */
		if (group < 0)
			group = capture_group(fd);
		*link_fd(s, next) = fd;
	}
	capture_bpf_free(&prog);
	if (s == end) {
		if (first < end)
			capture_warn(cap, *link_fd(first, next));
		if (!next && g->locks[c] == GEN_GROUP_LATER) {
			/* An id the kernel made is claimed as it is. */
			if (lock == -1 && group >= 0 && (lock =
			    capture_lock_made(cap, group, err, errlen)) == -1)
				log_warnx("%s", err);
			g->locks[c] = lock;
			g->groups[c] = (uint16_t)group;
		}
		return 0;
	}
	if (lock != -1)
		capture_unlock(lock, group);
	for (s = first; s < end; s++) {
		fdp = link_fd(s, next);
		if (*fdp != -1)
			close(*fdp);
		*fdp = -1;
	}
	return -1;
}

/* Capture c's sockets are built: its workers start on them. */
static void
link_start(struct master *m, unsigned c)
{
	struct slot *s, *end;

	for (s = link_slots(&m->g, c, &end); s < end; s++) {
		/*
		 * A closer without a socket (master_close_gone) still closes
		 * what the last worker left in host memory: the worker
		 * starts on the new socket when it exits (master_reaped),
		 * not beside it.
		 */
		if (s->pid > 0)
			continue;
		STATS_STORE(&s->wk.sw->stop, WORKER_STOP_NONE);
		master_revive(m, s);
	}
}

static void
link_rebuild(struct master *m, unsigned c, const struct link_seen *seen)
{
	const struct cfg_capture *cap = &m->g.cfg->captures[c];
	struct link_cap *lc = &m->g.links[c];
	struct slot *end;
	char err[512];

	if (lc->draining && seen->ifindex == lc->beside_ifindex)
		return;
	if (link_build(m, c, lc->draining, err, sizeof(err)) != 0) {
		/*
		 * The old sockets hold their descriptors and rings until
		 * their workers are gone: the build is tried again then,
		 * without them (link_resync), before the interface counts
		 * as one whose sockets cannot be built.
		 */
		if (lc->draining) {
			lc->beside_ifindex = seen->ifindex;
			log_warnx("capture %s: interface %s is back, but its "
			    "sockets cannot be built while the old workers "
			    "still drain: %s; tried again once they are gone",
			    cap->name, cap->interface, err);
			return;
		}
		lc->state = LINK_FAILED;
		lc->failed_ifindex = seen->ifindex;
		log_error("capture %s: interface %s is there, but its sockets "
		    "cannot be built: %s", cap->name, cap->interface, err);
		return;
	}
	lc->ifindex = seen->ifindex;
	lc->failed_ifindex = 0;
	lc->state = seen->running ? LINK_RUNNING : LINK_DOWN;
	if (lc->draining) {
		log_info("capture %s: interface %s is back while the old "
		    "workers still drain: %u new socket%s, fanout group %d, "
		    "hold its frames until they are done", cap->name,
		    cap->interface, cap->workers, cap->workers == 1 ? "" : "s",
		    capture_group(link_slots(&m->g, c, &end)->next_fd));
		return;
	}
	log_info("capture %s: interface %s is %s: %u worker%s, fanout "
	    "group %d", cap->name, cap->interface, lc->ever ? "back" : "there",
	    cap->workers, cap->workers == 1 ? "" : "s", (int)m->g.groups[c]);
	lc->ever = true;
	link_start(m, c);
}

/* Capture c's interface is seen so: act, and log each change once. */
static void
link_apply(struct master *m, unsigned c, const struct link_seen *seen)
{
	const struct cfg_capture *cap = &m->g.cfg->captures[c];
	struct link_cap *lc = &m->g.links[c];
	enum link_state was = lc->state;

	link_clear_errors(&m->g, c);
	/*
	 * Once stopping, a capture without sockets stays as it is: sockets
	 * built now would take frames after the stop closed every ring to
	 * them, and workers started now would never hear of the stop.
	 */
	if (m->stopping && lc->ifindex == 0)
		return;
	switch (link_decide(lc, seen)) {
	case LINK_PARK:
		if (seen->renamed != NULL)
			log_warnx("capture %s: interface %s is gone (its device "
			    "is named %s now); waiting for it", cap->name,
			    cap->interface, seen->renamed);
		else
			log_warnx("capture %s: interface %s is gone; waiting "
			    "for it", cap->name, cap->interface);
		link_park(m, c);
		return;
	case LINK_BUILD:
		link_rebuild(m, c, seen);
		return;
	case LINK_NONE:
		break;
	}
	if (was == lc->state)
		return;
	if (lc->state == LINK_DOWN)
		log_warnx("capture %s: interface %s is down", cap->name,
		    cap->interface);
	else if (lc->state == LINK_RUNNING)
		log_info("capture %s: interface %s is up again", cap->name,
		    cap->interface);
}

/*
 * Whether capture c's newest sockets are still bound to interface
 * `ifindex`: the kernel unbinds them for good when their interface goes,
 * also when it comes back with the same index (moved to another network
 * namespace and back, or made again with `index`).
 */
static bool
link_bound(struct gen *g, unsigned c, unsigned ifindex)
{
	struct slot *end, *s = link_slots(g, c, &end);
	int fd = s->next_fd != -1 ? s->next_fd : s->wk.fd;

	return s == end || fd == -1 || link_socket_ifindex(fd) == ifindex;
}

/*
 * The MTU of capture c's interface, as seen once seen is applied: a change
 * on the interface its sockets were already on is warned of as the start
 * warns (frames a block cuts), given the interface's hardware type (-1:
 * not known, the MTU only kept); sockets just built there warned already.
 */
static void
link_mtu_seen(struct master *m, unsigned c, const struct link_seen *seen,
    int hatype)
{
	struct link_cap *lc = &m->g.links[c];

	if (seen->mtu == 0 || seen->ifindex == 0 ||
	    seen->ifindex != lc->ifindex)
		return;
	if (hatype >= 0 && lc->mtu_ifindex == lc->ifindex &&
	    seen->mtu != lc->mtu)
		capture_warn_cut(&m->g.cfg->captures[c], seen->mtu,
		    (unsigned short)hatype);
	lc->mtu = seen->mtu;
	lc->mtu_ifindex = lc->ifindex;
}

static void
link_resync(struct master *m, unsigned c)
{
	struct link_seen seen, gone;

	if (!link_probe(m->g.cfg->captures[c].interface, &seen))
		return;
	/*
	 * The same index, but not the interface the sockets were on: its
	 * end and return were among the messages an overrun lost, so both
	 * are seen now, in that order.
	 */
	if (m->g.links[c].ifindex != 0 &&
	    seen.ifindex == m->g.links[c].ifindex &&
	    !link_bound(&m->g, c, seen.ifindex)) {
		memset(&gone, 0, sizeof(gone));
		link_apply(m, c, &gone);
	}
	link_apply(m, c, &seen);
	link_mtu_seen(m, c, &seen, -1);
}

/* The current generation's records, made on first use; false: none. */
static bool
link_records(struct master *m)
{
	struct gen *g = &m->g;
	struct link_cap *lc;
	int fd;

	if (g->links != NULL)
		return true;
	if (g->cfg == NULL || g->slots == NULL ||
	    (g->links = calloc(g->cfg->ncaptures ? g->cfg->ncaptures : 1,
	    sizeof(*g->links))) == NULL)
		return false;
	for (unsigned c = 0; c < g->cfg->ncaptures; c++) {
		lc = &g->links[c];
		fd = g->slots[g->first_slot[c]].wk.fd;
		lc->ifindex = fd != -1 ? link_socket_ifindex(fd) : 0;
		lc->ever = lc->ifindex != 0;
		lc->state = lc->ifindex != 0 ? LINK_RUNNING : LINK_WAITING;
		if (lc->ifindex == 0)
			log_info("capture %s: waiting for interface %s",
			    g->cfg->captures[c].name,
			    g->cfg->captures[c].interface);
		link_resync(m, c);
	}
	return true;
}

/*
 * Whether a link message names `ifname`: as its name, or as one of its
 * alternative names (`ip link property add ... altname`), which the
 * kernel resolves as it does the name, so a capture may be configured
 * with one.
 */
static bool
link_names(const char *name, const struct nlattr *props, const char *ifname)
{
	struct nlattr *alt;	/* the macro casts it to char * */

	if (name != NULL && strcmp(name, ifname) == 0)
		return true;
	if (props == NULL)
		return false;
	mnl_attr_for_each_nested(alt, props) {
		if (mnl_attr_get_type(alt) == IFLA_ALT_IFNAME &&
		    mnl_attr_validate(alt, MNL_TYPE_NUL_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(alt), ifname) == 0)
			return true;
	}
	return false;
}

/* One link message: the captures it concerns are seen anew. */
static int
link_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct master *m = arg;
	const struct ifinfomsg *ifi;
	struct nlattr *attr;	/* mnl_attr_for_each() casts it to char * */
	const struct nlattr *props = NULL;
	const char *name = NULL;
	struct link_seen seen;
	struct link_cap *lc;
	bool named, ours;
	int oper = -1;
	unsigned mtu = 0;

	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
	    || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	/*
	 * Only the device's own messages (AF_UNSPEC) say what became of it.
	 * A bridge tells of its ports in messages of family AF_BRIDGE, with
	 * the port's index and name: its RTM_DELLINK says the interface left
	 * the bridge, not that it is gone.
	 */
	if (ifi->ifi_family != AF_UNSPEC)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(attr);
		else if (mnl_attr_get_type(attr) == IFLA_PROP_LIST &&
		    mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			props = attr;
		else if (mnl_attr_get_type(attr) == IFLA_OPERSTATE &&
		    mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			oper = mnl_attr_get_u8(attr);
		else if (mnl_attr_get_type(attr) == IFLA_MTU &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			mtu = mnl_attr_get_u32(attr);
	}
	for (unsigned c = 0; c < m->g.cfg->ncaptures; c++) {
		lc = &m->g.links[c];
		named = link_names(name, props,
		    m->g.cfg->captures[c].interface);
		ours = lc->ifindex != 0 && ifi->ifi_index > 0 &&
		    (unsigned)ifi->ifi_index == lc->ifindex;
		if (!named && !ours)
			continue;
		memset(&seen, 0, sizeof(seen));
		/* Deleted, or renamed away from the capture's name. */
		if (nlh->nlmsg_type == RTM_NEWLINK && named) {
			seen.ifindex = (unsigned)ifi->ifi_index;
			seen.admin_up = (ifi->ifi_flags & IFF_UP) != 0;
			seen.running = seen.admin_up &&
			    (ifi->ifi_flags & IFF_RUNNING) != 0 &&
			    (oper == -1 || oper == IF_OPER_UP ||
			    oper == IF_OPER_UNKNOWN);
			seen.mtu = mtu;
		} else if (nlh->nlmsg_type == RTM_NEWLINK && ours)
			seen.renamed = name;
		link_apply(m, (unsigned)c, &seen);
		link_mtu_seen(m, c, &seen, ifi->ifi_type);
	}
	return MNL_CB_OK;
}

static void
linkwatch_on_event(struct master *m, struct ev_src *src, uint32_t events)
{
	struct linkwatch *lw = (struct linkwatch *)src;
	bool overrun = false;
	ssize_t n;

	(void)events;
	if (!link_records(m))
		return;
	for (;;) {
		n = mnl_socket_recvfrom(lw->nl, lw->buf, sizeof(lw->buf));
		/*
		 * Messages were lost.  The kernel reports that before the
		 * messages still queued, which are older than the loss: they
		 * are read first, and every interface is asked about after.
		 */
		if (n == -1 && errno == ENOBUFS) {
			overrun = true;
			continue;
		}
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("link watch: recv");
			break;
		}
		/* Multicast: no sequence number, no port id to match. */
		if (mnl_cb_run(lw->buf, (size_t)n, 0, 0, link_msg, m) ==
		    MNL_CB_ERROR)
			log_warn("link watch: a malformed message");
	}
	if (!overrun)
		return;
	log_warnx("link watch: netlink overrun; looking at every capture's "
	    "interface again");
	for (unsigned c = 0; c < m->g.cfg->ncaptures; c++)
		link_resync(m, c);
}

int
linkwatch_open(struct master *m)
{
	struct linkwatch *lw;
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	if ((lw = calloc(1, sizeof(*lw))) == NULL)
		return -ENOMEM;
	lw->src.fn = linkwatch_on_event;
	lw->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (lw->nl == NULL ||
	    mnl_socket_bind(lw->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	lw->src.fd = mnl_socket_get_fd(lw->nl);
	ev.data.ptr = &lw->src;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, lw->src.fd, &ev) == -1)
		goto fail;
	m->lw = lw;
	/* Whatever happened between the build and now is seen here. */
	link_records(m);
	return 0;
fail:
	rc = -errno;
	if (lw->nl != NULL)
		mnl_socket_close(lw->nl);
	free(lw);
	return rc;
}

void
linkwatch_close(struct master *m)
{
	if (m->lw == NULL)
		return;
	mnl_socket_close(m->lw->nl);
	free(m->lw);
	m->lw = NULL;
}

void
linkwatch_forget(struct master *m)
{
	if (m->lw != NULL)
		close(m->lw->src.fd);
}

/* Parked workers that did not drain in time are killed, as at a stop. */
static void
link_overdue(struct master *m, unsigned c)
{
	struct link_cap *lc = &m->g.links[c];
	struct slot *s, *end;
	char name[64];

	if (mono_ns() < lc->drain_end)
		return;
	for (s = link_slots(&m->g, c, &end); s < end; s++) {
		if (s->pid <= 0)
			continue;
		log_warnx("%s did not stop within %u ms of its interface's "
		    "end: SIGKILL", master_slot_name(s, name, sizeof(name)),
		    lc->drain_ms);
		s->stall.overdue = s->pid;
		kill(s->pid, SIGKILL);
	}
	lc->drain_end = UINT64_MAX;
}

void
linkwatch_step(struct master *m)
{
	struct slot *s, *end;
	bool gone;

	if (m->lw == NULL || !link_records(m))
		return;
	for (unsigned c = 0; c < m->g.cfg->ncaptures; c++) {
		if (!m->g.links[c].draining)
			continue;
		gone = true;
		for (s = link_slots(&m->g, c, &end); s < end; s++) {
			if (s->pid > 0) {
				gone = false;
				/*
				 * A reload's hand-over may have started one.
				 * A closer takes no frame: it hands over.
				 */
				if (!s->closer && STATS_LOAD(&s->wk.sw->stop) !=
				    WORKER_STOP_DRAIN) {
					STATS_STORE(&s->wk.sw->stop,
					    WORKER_STOP_DRAIN);
					kill(s->pid, SIGTERM);
				}
			} else if (STATS_LOAD(&s->wk.sw->state) ==
			    WORKER_BACKOFF) {
				/*
				 * It died while draining (a crash, a stall's
				 * kill): its ring still holds the frames, so
				 * a drainer starts now, up to the deadline.
				 */
				if (m->g.links[c].drain_end != UINT64_MAX &&
				    master_drain(m, s))
					gone = false;
				else
					STATS_STORE(&s->wk.sw->state,
					    WORKER_STOPPED);
			}
		}
		if (!gone) {
			link_overdue(m, c);
			continue;
		}
		if (link_close(m, c)) {
			log_info("capture %s: the old workers have drained: %u "
			    "start on interface %s, fanout group %d",
			    m->g.cfg->captures[c].name,
			    m->g.cfg->captures[c].workers,
			    m->g.cfg->captures[c].interface,
			    (int)m->g.groups[c]);
			link_start(m, c);
		}
		/* It may have come back while the workers drained. */
		link_resync(m, c);
	}
}

bool
linkwatch_overdue(const struct master *m, const struct slot *s)
{
	const struct link_cap *lc;

	if (m->g.links == NULL || s < m->g.slots ||
	    s >= m->g.slots + m->g.nslots)
		return false;
	lc = &m->g.links[s->capture];
	/* link_overdue() killed its workers: no drainer comes after. */
	return lc->draining && lc->drain_end == UINT64_MAX;
}

const char *
linkwatch_state(const struct master *m, unsigned c)
{
	if (m->g.links == NULL || m->g.cfg == NULL ||
	    c >= m->g.cfg->ncaptures || m->g.links[c].state == LINK_RUNNING)
		return NULL;
	return link_state_name(m->g.links[c].state);
}

const char *
linkwatch_capture_state(const void *arg, size_t c)
{
	const char *state;
	unsigned running;

	/*
	 * status's state but degraded, one of the four that stats names: a
	 * worker given up on in a crash loop makes its capture failed; one
	 * that restarts or drains does not (the workers' own states say it).
	 */
	state = master_capture_state(arg, (unsigned)c, &running);
	return strcmp(state, "degraded") == 0 ? "running" : state;
}

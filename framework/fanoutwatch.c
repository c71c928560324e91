/*
 * The watch over the fanout groups of the captures.  The kernel lets any
 * packet socket of the network namespace join a group whose id, mode,
 * flags, protocol and interface it shares: another program that joins a
 * capture's group after ringfan built it (a second sensor given the same
 * id, a test left running) takes a share of the interface's frames, which
 * no worker sees and no counter of ringfan counts.  capture_lock()
 * refuses a group in use as a capture starts; this looks at the groups
 * while they run.
 *
 * With its reads of the kernel's counters, but at most once a second
 * (MASTER_FANOUT_LOOK_NS), the master asks the kernel for the packet
 * sockets of its network namespace that are in a fanout group (sock_diag,
 * PACKET_SHOW_FANOUT, over a socket it keeps).  A member of a capture's
 * group that is not one of the master's sockets (those of its slots, which
 * it holds for as long as the slots exist) is another program's: the
 * capture's `others` count (stats, status, metrics), and a
 * warning naming the socket's inode when the count grows, which `ss -0 -e
 * -p` shows with its process.  The master does not look for the process
 * itself: that is a walk of every process's descriptors, seconds on a busy
 * machine, which the systemd unit's capabilities do not allow anyway.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fanoutwatch.h"
#include "log.h"
#include "master_int.h"

struct members {
	struct fanout_member	*v;
	size_t			 n, cap;
};

static int
fanout_member_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct packet_diag_msg *msg;
	struct members *ms = arg;
	struct fanout_member *v;
	struct nlattr *attr;	/* mnl_attr_for_each() casts it to char * */

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*msg)))
		return MNL_CB_OK;
	msg = mnl_nlmsg_get_payload(nlh);
	mnl_attr_for_each(attr, nlh, sizeof(*msg)) {
		if (mnl_attr_get_type(attr) != PACKET_DIAG_FANOUT ||
		    mnl_attr_validate(attr, MNL_TYPE_U32) != 0)
			continue;
		if (ms->n == ms->cap) {
			ms->cap = ms->cap != 0 ? 2 * ms->cap : 16;
			if ((v = reallocarray(ms->v, ms->cap,
			    sizeof(*v))) == NULL)
				return MNL_CB_ERROR;
			ms->v = v;
		}
		/* The group's id, then its mode (PACKET_FANOUT_*) at bit 16. */
		ms->v[ms->n].ino = msg->pdiag_ino;
		ms->v[ms->n++].group = (uint16_t)mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

struct mnl_socket *
fanout_open(void)
{
	struct mnl_socket *nl;
	int saved;

	if ((nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC)) == NULL)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		saved = errno;
		mnl_socket_close(nl);
		errno = saved;
		return NULL;
	}
	return nl;
}

int
fanout_members(struct mnl_socket *nl, unsigned seq,
    struct fanout_member **out, size_t *n)
{
	char buf[32768];	/* a dump's message may take 32 KiB */
	struct packet_diag_req *req;
	struct members ms = { NULL, 0, 0 };
	struct nlmsghdr *nlh;
	unsigned portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int rc = MNL_CB_OK, saved;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_PACKET;
	req->pdiag_show = PACKET_SHOW_FANOUT;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
		rc = MNL_CB_ERROR;
	while (rc > MNL_CB_STOP &&
	    (len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)len, seq, portid,
		    fanout_member_cb, &ms);
	saved = errno;
	if (rc != MNL_CB_STOP) {
		free(ms.v);
		return -(saved != 0 ? saved : EIO);
	}
	*out = ms.v;
	*n = ms.n;
	return 0;
}

/* The inode of socket fd, 0 for none. */
static uint32_t
fanout_inode(int fd)
{
	struct stat st;

	return fd != -1 && fstat(fd, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

/*
 * The inodes of the master's packet sockets: each slot's, and the one its
 * interface's return made beside it (linkwatch.c), of both generations;
 * -ENOMEM.
 */
static int
fanout_own(struct master *m, uint32_t **out, size_t *n)
{
	struct gen *gens[2];
	uint32_t *v;
	size_t cap = 0;

	for (unsigned k = 0; k < master_gens(m, gens); k++)
		cap += 2 * gens[k]->nslots;
	*n = 0;
	if ((*out = v = calloc(cap != 0 ? cap : 1, sizeof(*v))) == NULL)
		return -ENOMEM;
	FOREACH_SLOT(m, s) {
		if ((v[*n] = fanout_inode(s->wk.fd)) != 0)
			(*n)++;
		if ((v[*n] = fanout_inode(s->next_fd)) != 0)
			(*n)++;
	}
	return 0;
}

static bool
fanout_in(const uint32_t *v, size_t n, uint32_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == ino)
			return true;
	return false;
}

/* Capture c of g has a socket (its interface is there). */
static bool
fanout_has_socket(const struct gen *g, size_t c)
{
	for (unsigned i = 0; i < g->cfg->captures[c].workers; i++)
		if (g->slots[g->first_slot[c] + i].wk.fd != -1)
			return true;
	return false;
}

/*
 * The look at capture c of g found count sockets of other programs, ino
 * one that the look before did not (0 if none).
 */
static void
fanout_say(struct gen *g, size_t c, unsigned count, uint32_t ino)
{
	const struct cfg_capture *cap = &g->cfg->captures[c];

	if (count > g->others[c])
		log_warnx("capture %s: interface %s, fanout group %d: %u "
		    "packet socket%s of another program in the group (socket "
		    "inode %" PRIu32 ": `ss -0 -e -p` names its process): the "
		    "kernel gives %s a share of the capture's frames, which "
		    "ringfan does not see", cap->name, cap->interface,
		    (int)g->groups[c], count, count == 1 ? "" : "s", ino,
		    count == 1 ? "it" : "them");
	else if (count < g->others[c] && count != 0)
		log_info("capture %s: fanout group %d: %u packet socket%s of "
		    "another program left in the group", cap->name,
		    (int)g->groups[c], count, count == 1 ? "" : "s");
	else if (count < g->others[c])
		log_info("capture %s: fanout group %d: no other program's "
		    "socket in the group any more", cap->name,
		    (int)g->groups[c]);
	g->others[c] = count;
}

void
master_fanout_forget(struct master *m)
{
	if (m->fanout_nl != NULL)
		close(mnl_socket_get_fd(m->fanout_nl));
}

void
master_fanout_close(struct master *m)
{
	if (m->fanout_nl != NULL)
		mnl_socket_close(m->fanout_nl);
	m->fanout_nl = NULL;
	free(m->fanout_seen);
	m->fanout_seen = NULL;
	m->nfanout_seen = 0;
}

void
master_fanout_check(struct master *m)
{
	struct fanout_member *mv = NULL;
	struct gen *gens[2];
	uint32_t *own = NULL, *seen = NULL, ino;
	size_t n = 0, nown = 0, nseen = 0;
	unsigned count;
	int rc;

	/* A socket that failed may hold the rest of a dump: a new one. */
	if (m->fanout_nl == NULL && (m->fanout_nl = fanout_open()) == NULL)
		rc = -errno;
	else if ((rc = fanout_members(m->fanout_nl, ++m->fanout_seq, &mv,
	    &n)) != 0) {
		mnl_socket_close(m->fanout_nl);
		m->fanout_nl = NULL;
	}
	if (rc != 0 ||
	    (rc = fanout_own(m, &own, &nown)) != 0 ||
	    /* A member counts once per generation at most. */
	    (n != 0 && (seen = calloc(n * master_gens(m, gens),
	    sizeof(*seen))) == NULL &&
	    (rc = -ENOMEM) != 0)) {
		if (!m->fanout_said)
			log_warnx("master: cannot list the members of the "
			    "fanout groups (sock_diag): %s: another program "
			    "in a capture's group goes unseen", strerror(-rc));
		m->fanout_said = true;
		free(own);
		free(mv);
		return;
	}
	m->fanout_said = false;
	for (unsigned k = 0; k < master_gens(m, gens); k++)
		for (size_t c = 0; c < gens[k]->cfg->ncaptures; c++) {
			/* Without sockets the capture has no group. */
			if (!fanout_has_socket(gens[k], c)) {
				gens[k]->others[c] = 0;
				continue;
			}
			count = 0;
			ino = 0;
			for (size_t i = 0; i < n; i++) {
				if (mv[i].group != gens[k]->groups[c] ||
				    fanout_in(own, nown, mv[i].ino))
					continue;
				count++;
				seen[nseen++] = mv[i].ino;
				if (ino == 0 && !fanout_in(m->fanout_seen,
				    m->nfanout_seen, mv[i].ino))
					ino = mv[i].ino;
			}
			fanout_say(gens[k], c, count, ino);
		}
	free(m->fanout_seen);
	m->fanout_seen = seen;
	m->nfanout_seen = nseen;
	free(own);
	free(mv);
}

/*
 * inject: a hostile plugin, for test_sandbox.  On its first frame it tries
 * every way it knows to put a frame of its own on the capture link, and
 * counts what it tried and what the kernel accepted:
 *
 * - every descriptor 3..1023 that is a packet socket (the capture socket,
 *   if the worker left it reachable): sendto, write, and a copy of it
 *   passed to itself over a Unix socket (SCM_RIGHTS), which gets a
 *   number of its own;
 * - new sockets: AF_PACKET (raw and cooked) and the obsolete SOCK_PACKET.
 *
 * attempts counts the tries, successes the frames the kernel took (each
 * one reached the link), found the packet sockets it found, raw_opened the
 * raw IP sockets it managed to open (it sends nothing on them).  In a
 * validation (RINGFAN_CTX_CHECK) it fails when it can open a packet socket.
 *
 * Its frames go to the broadcast address with EtherType INJECT_ETHERTYPE
 * and the payload "RFINJECT", which the test looks for on the far side.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringfan/plugin.h>

#define INJECT_ETHERTYPE	0x88b6	/* IEEE 802 local experimental 2 */
#define INJECT_FRAME_LEN	60
#define INJECT_FD_MAX		1024

struct inject {
	struct ringfan_ctx	*ctx;
	int			 done;
	uint64_t		*attempts;
	uint64_t		*successes;
	uint64_t		*found;
	uint64_t		*raw_opened;
	uint8_t			 frame[INJECT_FRAME_LEN];
};

static void
inject_frame(uint8_t *f)
{
	static const uint8_t src[6] = { 0x02, 0x52, 0x46, 0x49, 0x4e, 0x4a };

	memset(f, 0, INJECT_FRAME_LEN);
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = INJECT_ETHERTYPE >> 8;
	f[13] = INJECT_ETHERTYPE & 0xff;
	memcpy(f + 14, "RFINJECT", 8);
}

/* One try: the result of a send-like call. */
static void
inject_count(struct inject *st, ssize_t n)
{
	++*st->attempts;
	if (n > 0)
		++*st->successes;
}

static ssize_t
inject_sendto(struct inject *st, int fd, int ifindex)
{
	struct sockaddr_ll to;

	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(INJECT_ETHERTYPE);
	to.sll_ifindex = ifindex;
	to.sll_halen = 6;
	memset(to.sll_addr, 0xff, 6);
	return sendto(fd, st->frame, sizeof(st->frame), 0,
	    (struct sockaddr *)&to, sizeof(to));
}

/* Pass fd to ourselves over a Unix socket: the copy has a new number. */
static int
inject_copy(int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 'x';
	int sv[2], copy = -1;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) == 1) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(sv[1], &msg, 0) == 1 &&
		    (cm = CMSG_FIRSTHDR(&msg)) != NULL &&
		    cm->cmsg_type == SCM_RIGHTS)
			memcpy(&copy, CMSG_DATA(cm), sizeof(int));
	}
	close(sv[0]);
	close(sv[1]);
	return copy;
}

/* Every descriptor that is a packet socket: send on it, and on a copy. */
static void
inject_inherited(struct inject *st)
{
	struct sockaddr_ll sll;
	socklen_t len;
	int copy;

	for (int fd = 3; fd < INJECT_FD_MAX; fd++) {
		len = sizeof(sll);
		memset(&sll, 0, sizeof(sll));
		if (getsockname(fd, (struct sockaddr *)&sll, &len) == -1 ||
		    sll.sll_family != AF_PACKET)
			continue;
		++*st->found;
		inject_count(st, inject_sendto(st, fd, sll.sll_ifindex));
		inject_count(st, write(fd, st->frame, sizeof(st->frame)));
		copy = inject_copy(fd);
		++*st->attempts;
		if (copy != -1) {
			if (inject_sendto(st, copy, sll.sll_ifindex) > 0)
				++*st->successes;
			close(copy);
		}
	}
}

/* New sockets of the kinds that can send frames. */
static void
inject_new(struct inject *st)
{
	static const int types[] = { SOCK_RAW, SOCK_DGRAM };
	int ifindex = (int)if_nametoindex(st->ctx->interface);
	int fd;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fd = socket(AF_PACKET, types[i], 0);
		++*st->attempts;
		if (fd == -1)
			continue;
		/* Cooked sockets build the header from the address. */
		if (inject_sendto(st, fd, ifindex) > 0)
			++*st->successes;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_PACKET, htons(INJECT_ETHERTYPE));
	++*st->attempts;
	if (fd != -1) {
		struct sockaddr_pkt to;

		memset(&to, 0, sizeof(to));
		to.spkt_family = AF_PACKET;
		strncpy((char *)to.spkt_device, st->ctx->interface,
		    sizeof(to.spkt_device) - 1);
		to.spkt_protocol = htons(INJECT_ETHERTYPE);
		if (sendto(fd, st->frame, sizeof(st->frame), 0,
		    (struct sockaddr *)&to, sizeof(to)) > 0)
			++*st->successes;
		close(fd);
	}
	for (int af = AF_INET; af != -1; af = af == AF_INET ? AF_INET6 : -1) {
		fd = socket(af, SOCK_RAW, IPPROTO_RAW);
		++*st->attempts;
		if (fd != -1) {
			++*st->raw_opened;
			close(fd);
		}
	}
}

static int
inject_open(struct ringfan_ctx *ctx, void **state)
{
	struct inject *st;
	int fd;

	if (ctx->flags & RINGFAN_CTX_CHECK) {
		/* Validation: plugin code runs here too, held the same way. */
		if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) != -1) {
			close(fd);
			ctx->error(ctx, "opened a packet socket while validating");
			return RINGFAN_FAIL;
		}
		return RINGFAN_OK;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	st->ctx = ctx;
	if ((st->attempts = ctx->counter(ctx, "attempts")) == NULL ||
	    (st->successes = ctx->counter(ctx, "successes")) == NULL ||
	    (st->found = ctx->counter(ctx, "found")) == NULL ||
	    (st->raw_opened = ctx->counter(ctx, "raw_opened")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	inject_frame(st->frame);
	*state = st;
	return RINGFAN_OK;
}

static int
inject_packet(void *state, const struct ringfan_packet *pkt)
{
	struct inject *st = state;

	(void)pkt;
	if (!st->done) {
		st->done = 1;
		inject_inherited(st);
		inject_new(st);
	}
	return RINGFAN_CONTINUE;
}

static void
inject_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "inject",
	.version = "1.0",
	.description = "test: tries to send on the capture link",
	.open = inject_open,
	.packet = inject_packet,
	.close = inject_close,
};

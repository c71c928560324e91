/*
 * Socket, ring and fanout setup.
 *
 * The order is fixed: socket, TPACKET_V3, the RX ring, a filter that drops
 * everything, bind, PACKET_FANOUT, and only then the capture's own filter.
 * A socket receives from the moment it is bound; without the interim
 * filter it would take frames before joining the group, outside the
 * distribution the user asked for.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "bpfcache.h"
#include "capture.h"
#include "log.h"
#include "util.h"

/* Older kernel headers lack it; the running kernel decides (since 4.20). */
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000
#endif

/* The largest frame the compiled filter is told it may see. */
#define CAPTURE_SNAPLEN	262144

static int capture_fail(int, char *, size_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static const int fanout_modes[] = {
	[CFG_FANOUT_HASH] = PACKET_FANOUT_HASH,
	[CFG_FANOUT_LB] = PACKET_FANOUT_LB,
	[CFG_FANOUT_CPU] = PACKET_FANOUT_CPU,
	[CFG_FANOUT_ROLLOVER] = PACKET_FANOUT_ROLLOVER,
	[CFG_FANOUT_RANDOM] = PACKET_FANOUT_RND,
	[CFG_FANOUT_QM] = PACKET_FANOUT_QM,
};

/*
 * A live libpcap handle on the capture's interface, when there is one of
 * the same link type, or NULL.  The kernel strips a VLAN tag before a
 * packet socket's filter runs; only code compiled on a live Linux handle
 * knows that and reads the tag where the kernel put it, so that `vlan 10`
 * matches as it does for tcpdump -i.  The handle's own socket lives for
 * the compile only, with the smallest buffer libpcap takes.
 */
static pcap_t *
capture_bpf_handle(const char *iface, int linktype)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	if (if_nametoindex(iface) == 0 ||
	    (p = pcap_create(iface, errbuf)) == NULL)
		return NULL;
	if (pcap_set_snaplen(p, CAPTURE_SNAPLEN) != 0 ||
	    pcap_set_buffer_size(p, 65536) != 0 || pcap_activate(p) < 0 ||
	    pcap_datalink(p) != linktype) {
		pcap_close(p);
		return NULL;
	}
	return p;
}

/*
 * Whether the kernel's BPF takes prog, asked of a throwaway socket: its
 * checker refuses what libpcap's own interpreter runs, a backward jump
 * above all, which libpcap makes of `protochain`.  Found here, -t and a
 * reload refuse the file instead of the start failing at SO_ATTACH_FILTER.
 * A socket that cannot be had leaves the attach to tell.  0, or -EINVAL
 * with the cause in msg.
 */
static int
capture_bpf_kernel(const struct sock_fprog *prog, char *msg, size_t msglen)
{
	bool loop = false;
	int fd, rc, err;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog,
	    sizeof(*prog));
	err = errno;
	close(fd);
	if (rc == 0 || err != EINVAL)
		return 0;
	/* A jump's offset is unsigned: one back wraps past the end. */
	for (unsigned i = 0; i < prog->len; i++)
		if (prog->filter[i].code == (BPF_JMP | BPF_JA) &&
		    prog->filter[i].k >= prog->len - i - 1)
			loop = true;
	snprintf(msg, msglen, "the kernel does not take the filter as "
	    "compiled: %s", loop ? "libpcap makes a loop of `protochain`, "
	    "and the kernel's BPF runs none" : strerror(err));
	return -EINVAL;
}

int
capture_bpf_build(const char *capture, const char *iface, const char *expr,
    int linktype, struct sock_fprog *prog, bool *live, char *msg,
    size_t msglen)
{
	struct bpf_program bp;
	pcap_t *p;
	size_t len;

	prog->len = 0;
	prog->filter = NULL;
	p = capture_bpf_handle(iface, linktype);
	if (live != NULL)
		*live = p != NULL;
	if (p == NULL)
		p = pcap_open_dead(linktype, CAPTURE_SNAPLEN);
	if (p == NULL) {
		strlcpy(msg, "pcap_open_dead failed", msglen);
		return -ENOMEM;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		strlcpy(msg, pcap_geterr(p), msglen);
		pcap_close(p);
		return -EINVAL;
	}
	pcap_close(p);
	/*
	 * The kernel refuses a longer program at SO_ATTACH_FILTER (EINVAL):
	 * found here, -t and a reload refuse the file instead of the start.
	 */
	if (bp.bf_len > BPF_MAXINSNS) {
		snprintf(msg, msglen, "the filter compiles to %u instructions, "
		    "more than the kernel's %d", bp.bf_len, BPF_MAXINSNS);
		pcap_freecode(&bp);
		return -EINVAL;
	}
	/* struct bpf_insn and struct sock_filter share their layout. */
	len = bp.bf_len * sizeof(struct sock_filter);
	if ((prog->filter = malloc(len ? len : 1)) == NULL) {
		pcap_freecode(&bp);
		strlcpy(msg, strerror(ENOMEM), msglen);
		return -ENOMEM;
	}
	memcpy(prog->filter, bp.bf_insns, len);
	prog->len = (unsigned short)bp.bf_len;
	pcap_freecode(&bp);
	if (capture_bpf_kernel(prog, msg, msglen) != 0) {
		capture_bpf_free(prog);
		return -EINVAL;
	}
	log_debug("capture %s: bpf compiled to %u instructions for link type "
	    "%d", capture, prog->len, linktype);
	return 0;
}

int
capture_bpf_compile(const struct cfg *cfg, const struct cfg_capture *cap,
    int linktype, struct sock_fprog *prog, char *err, size_t errlen)
{
	bool present = if_nametoindex(cap->interface) != 0, live;
	char msg[256];
	int rc;

	prog->len = 0;
	prog->filter = NULL;
	if (cap->bpf == NULL)
		return 0;
	rc = bpfcache_find(cap->interface, present, cap->bpf, linktype, prog,
	    msg, sizeof(msg));
	if (rc == 0) {
		rc = capture_bpf_build(cap->name, cap->interface, cap->bpf,
		    linktype, prog, &live, msg, sizeof(msg));
		/*
		 * Out of memory says nothing of the filter; nor does a
		 * compile the interface came or went during say what a
		 * handle of its presence compiles, nor one on a dead handle
		 * of an interface that is there (down: libpcap activates
		 * none), which a live one compiles once it is up.
		 */
		if (rc != -ENOMEM && live == present &&
		    (if_nametoindex(cap->interface) != 0) == present)
			bpfcache_put(cap->interface, present, cap->bpf,
			    linktype, rc, prog, msg);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s:%u:%u: bpf: %s", cfg->path,
		    cap->bpf_pos.line, cap->bpf_pos.col, msg);
		return rc;
	}
	return 0;
}

/*
 * What a SOCK_RAW packet socket reads on each hardware type, by its DLT_
 * name.  Loopback carries a zeroed Ethernet header; tun, ipip, sit and
 * ip6tnl carry bare IP (libpcap 1.10 names ip6tnl and raw IP Linux cooked
 * captures, read through a SOCK_DGRAM socket).
 */
static const struct {
	unsigned short	hatype;
	int		dlt;
} capture_links[] = {
	{ ARPHRD_ETHER, DLT_EN10MB },
	{ ARPHRD_LOOPBACK, DLT_EN10MB },
	{ ARPHRD_NONE, DLT_RAW },
	{ ARPHRD_RAWIP, DLT_RAW },
	{ ARPHRD_TUNNEL, DLT_RAW },
	{ ARPHRD_TUNNEL6, DLT_RAW },
	{ ARPHRD_SIT, DLT_RAW },
	{ ARPHRD_INFINIBAND, DLT_IPOIB },
	{ ARPHRD_IEEE80211_RADIOTAP, DLT_IEEE802_11_RADIO },
};

int
capture_linktype(const struct cfg_capture *cap, int *linktype, char *err,
    size_t errlen)
{
	struct ifreq ifr;
	int fd, rc;

	if (!ifreq_name(&ifr, cap->interface)) {
		snprintf(err, errlen, "capture %s: interface %s: name too long",
		    cap->name, cap->interface);
		return -ENAMETOOLONG;
	}
	/* capture_fail keeps errno: the cause is returned. */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		capture_fail(-1, err, errlen, "capture %s: socket", cap->name);
		return -errno;
	}
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	if (rc == -1) {
		capture_fail(fd, err, errlen, "capture %s: interface %s",
		    cap->name, cap->interface);
		return -errno;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(capture_links) /
	    sizeof(capture_links[0]); i++) {
		if (capture_links[i].hatype == ifr.ifr_hwaddr.sa_family) {
			*linktype = capture_links[i].dlt;
			return 0;
		}
	}
	snprintf(err, errlen, "capture %s: interface %s has hardware type %u "
	    "(ARPHRD_*), which ringfan cannot capture", cap->name,
	    cap->interface, (unsigned)ifr.ifr_hwaddr.sa_family);
	return -EPROTONOSUPPORT;
}

uint32_t
capture_snaplen(const struct cfg_capture *cap)
{
	/*
	 * A frame shares its block with the block's header and its own, and
	 * starts (tp_mac) where its network header lands on a 16-byte
	 * boundary, at least TPACKET3_HDRLEN in.  A link header longer than
	 * 16 bytes (an outgoing frame with its VLAN tag in it: 18 or 22
	 * bytes; radiotap; IPoIB) can bring it down to that, so the largest
	 * caplen is what is left of the block after these two, unpadded.
	 */
	return cap->ring.block_size - (uint32_t)(TPACKET_ALIGN(sizeof(
	    struct tpacket_block_desc)) + TPACKET3_HDRLEN);
}

/*
 * The length of the link header a SOCK_RAW packet socket reads before the
 * network header on hardware type hatype: 14 on Ethernet and loopback, 0
 * on the links of bare IP; -1 on the others, whose header varies.
 */
static int
capture_link_hlen(unsigned short hatype)
{
	switch (hatype) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return ETH_HLEN;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_SIT:
		return 0;
	default:
		return -1;
	}
}

/*
 * The longest frame (link header included) that a block of the capture's
 * ring holds whole on a link whose header takes hlen bytes (>= 0).
 */
static uint32_t
capture_block_holds(const struct cfg_capture *cap, int hlen)
{
	uint32_t mac;

	/*
	 * The kernel puts a frame's network header on a 16-byte boundary
	 * at least 16 bytes past the frame's own header, the link header
	 * (if any) just before it, and cuts what does not fit in the block
	 * after the block's header.
	 */
	mac = (uint32_t)TPACKET_ALIGN(TPACKET3_HDRLEN + 16) - (uint32_t)hlen;
	return cap->ring.block_size - (uint32_t)TPACKET_ALIGN(sizeof(
	    struct tpacket_block_desc)) - mac;
}

void
capture_warn_cut(const struct cfg_capture *cap, unsigned mtu,
    unsigned short hatype)
{
	uint32_t whole;
	int hlen;

	if ((hlen = capture_link_hlen(hatype)) < 0 || mtu == 0)
		return;
	whole = capture_block_holds(cap, hlen);
	if (mtu + (uint32_t)hlen > whole)
		log_warnx("capture %s: interface %s has MTU %u, but a block "
		    "of %u bytes holds a frame of at most %u: longer frames "
		    "are cut to that (raise block_size)", cap->name,
		    cap->interface, mtu, cap->ring.block_size, whole);
}

void
capture_bpf_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

static int
capture_fail(int fd, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (n < errlen)
		snprintf(err + n, errlen - n, ": %s", strerror(saved));
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

static int
capture_drop_all(int fd)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/* Whether the interface named in ifr is a loopback device. */
static bool
capture_loopback(int fd, const struct ifreq *ifr)
{
	struct ifreq hw;

	memcpy(hw.ifr_name, ifr->ifr_name, sizeof(hw.ifr_name));
	return ioctl(fd, SIOCGIFHWADDR, &hw) == 0 &&
	    hw.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK;
}

bool
capture_ignore_outgoing_works(const char *release)
{
	unsigned long major, minor;
	char *end;

	if (*release < '0' || *release > '9')
		return true;
	major = strtoul(release, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return true;
	minor = strtoul(end + 1, NULL, 10);
	return major > 6 || (major == 6 && minor >= 2);
}

/*
 * Warns when the capture asks the kernel to skip the frames its host sends
 * (fanout.ignore_outgoing, or an interface of hardware type hatype that is
 * a loopback device) and the running kernel ignores that: those frames
 * are captured, on loopback each packet twice.
 */
static void
capture_warn_outgoing(const struct cfg_capture *cap, unsigned short hatype)
{
	struct utsname u;

	if (uname(&u) == -1 || capture_ignore_outgoing_works(u.release))
		return;
	if (hatype == ARPHRD_LOOPBACK)
		log_warnx("capture %s: Linux %s does not keep the frames this "
		    "host sends out of a fanout group (6.2 does): on loopback "
		    "device %s each packet is captured twice, as sent and as "
		    "received", cap->name, u.release, cap->interface);
	else if (cap->fanout.ignore_outgoing)
		log_warnx("capture %s: Linux %s does not keep the frames this "
		    "host sends out of a fanout group (6.2 does): "
		    "ignore_outgoing has no effect, those sent on %s are "
		    "captured too", cap->name, u.release, cap->interface);
}

/*
 * The receive offloads on interface ifr that merge the packets of a flow
 * into one of up to 64 KiB (more with BIG TCP): *what "GRO", "LRO" or "GRO
 * and LRO", *off the ethtool -K words that turn them off; false for none
 * (or none the driver tells of).  Hardware GRO is on only with GRO.
 */
static bool
capture_merging(int fd, struct ifreq *ifr, const char **what,
    const char **off)
{
	struct ethtool_value ev;
	bool gro = false, lro = false;

	ifr->ifr_data = (void *)&ev;
	ev.cmd = ETHTOOL_GGRO;
	if (ioctl(fd, SIOCETHTOOL, ifr) == 0)
		gro = ev.data != 0;
	ev.cmd = ETHTOOL_GFLAGS;
	if (ioctl(fd, SIOCETHTOOL, ifr) == 0)
		lro = (ev.data & ETH_FLAG_LRO) != 0;
	*what = gro && lro ? "GRO and LRO" : gro ? "GRO" : "LRO";
	*off = gro && lro ? "gro off lro off" : gro ? "gro off" : "lro off";
	return gro || lro;
}

/*
 * Frames merged on receive that a block of the capture's ring cannot hold
 * whole, on a link of header length hlen: said once, as the sockets are
 * built (a change of the offloads later is not watched).
 */
static void
capture_warn_merged(const struct cfg_capture *cap, int fd, int hlen)
{
	struct ifreq ifr;
	const char *what, *off;
	uint32_t whole;

	if (hlen < 0 || !ifreq_name(&ifr, cap->interface))
		return;
	whole = capture_block_holds(cap, hlen);
	if (65535u + (uint32_t)hlen <= whole ||
	    !capture_merging(fd, &ifr, &what, &off))
		return;
	log_warnx("capture %s: interface %s merges the packets it receives "
	    "(%s) into frames of up to 64 KiB, but a block of %u bytes holds "
	    "a frame of at most %u: longer ones are cut to that (raise "
	    "block_size to 128KiB, or turn it off: ethtool -K %s %s)",
	    cap->name, cap->interface, what, cap->ring.block_size, whole,
	    cap->interface, off);
}

void
capture_warn(const struct cfg_capture *cap, int fd)
{
	struct ifreq ifr;
	unsigned short hatype = ARPHRD_VOID;	/* unknown: no cut to tell */

	if (ifreq_name(&ifr, cap->interface)) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
			hatype = ifr.ifr_hwaddr.sa_family;
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			capture_warn_cut(cap, (unsigned)ifr.ifr_mtu, hatype);
	}
	capture_warn_merged(cap, fd, capture_link_hlen(hatype));
	capture_warn_outgoing(cap, hatype);
}

int
capture_open(const struct cfg_capture *cap, const struct sock_fprog *prog,
    int group, char *err, size_t errlen)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	struct ifreq ifr;
	uint32_t type, fanout;
	int fd, saved, ver = TPACKET_V3;
	const char *name = cap->name;
	size_t n;

	/* Protocol 0: nothing arrives before bind. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return capture_fail(-1, err, errlen,
		    "capture %s: socket(AF_PACKET)", name);
	/*
	 * The index asked of this socket: if_nametoindex() opens one of its
	 * own, and out of descriptors it reports the cause of its last try
	 * (ENOENT), not EMFILE.
	 */
	if (!ifreq_name(&ifr, cap->interface)) {
		errno = ENODEV;		/* no interface has that name */
		return capture_fail(fd, err, errlen,
		    "capture %s: interface %s", name, cap->interface);
	}
	if (ioctl(fd, SIOCGIFINDEX, &ifr) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: interface %s", name, cap->interface);
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(PACKET_VERSION, TPACKET_V3)", name);

	memset(&req, 0, sizeof(req));
	req.tp_block_size = cap->ring.block_size;
	req.tp_block_nr = cap->ring.block_count;
	/* V3 frames are variable; the frame size only has to divide blocks. */
	req.tp_frame_size = TPACKET_ALIGNMENT << 7;
	req.tp_frame_nr = (cap->ring.block_size / req.tp_frame_size) *
	    cap->ring.block_count;
	req.tp_retire_blk_tov = cap->ring.block_timeout_ms;
	req.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(PACKET_RX_RING, %u blocks of %u bytes)",
		    name, req.tp_block_nr, req.tp_block_size);

	if (capture_drop_all(fd) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(SO_ATTACH_FILTER)", name);
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 },
	    sizeof(int)) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(SO_TIMESTAMPNS)", name);

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		return capture_fail(fd, err, errlen,
		    "capture %s: bind(%s)", name, cap->interface);

	if (cap->promiscuous) {
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = ifr.ifr_ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		    sizeof(mr)) == -1)
			return capture_fail(fd, err, errlen,
			    "capture %s: setsockopt(PACKET_ADD_MEMBERSHIP, "
			    "promiscuous %s)", name, cap->interface);
	}

	type = (uint32_t)fanout_modes[cap->fanout.mode];
	if (cap->fanout.defrag)
		type |= PACKET_FANOUT_FLAG_DEFRAG;
	/* The kernel refuses the flag on the mode it adds nothing to. */
	if (cap->fanout.rollover && cap->fanout.mode != CFG_FANOUT_ROLLOVER)
		type |= PACKET_FANOUT_FLAG_ROLLOVER;
	/*
	 * A loopback device hands each packet over twice, as it is sent and
	 * as it comes back in: libpcap drops the first, and so does ringfan,
	 * so that every count, flow and file holds each packet once.
	 */
	if (cap->fanout.ignore_outgoing || capture_loopback(fd, &ifr))
		type |= PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
	if (group < 0)
		type |= PACKET_FANOUT_FLAG_UNIQUEID;
	/* The kernel reads an int: group id low, type and flags high. */
	fanout = (uint32_t)(group < 0 ? 0 : group) | type << 16;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout,
	    sizeof(fanout)) == -1) {
		capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(PACKET_FANOUT, %s group %d)", name,
		    cfg_fanout_mode_name(cap->fanout.mode), group);
		/*
		 * The kernel answers EINVAL alone when the id is taken in this
		 * network namespace by sockets (another program's: ringfan's
		 * own are locked out) of another mode, with other flags or on
		 * another interface.
		 */
		saved = errno;
		n = strlen(err);
		if (saved == EINVAL && group >= 0 && n < errlen)
			snprintf(err + n, errlen - n, " (other sockets hold "
			    "fanout group %d with another mode, other flags or "
			    "on another interface: give fanout.group a free "
			    "id)", group);
		errno = saved;
		return -1;
	}

	if (prog->len > 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog,
		    sizeof(*prog)) == -1)
			return capture_fail(fd, err, errlen,
			    "capture %s: setsockopt(SO_ATTACH_FILTER, bpf)",
			    name);
	} else if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &(int){ 0 },
	    sizeof(int)) == -1)	/* the kernel wants an int, though unused */
		return capture_fail(fd, err, errlen,
		    "capture %s: setsockopt(SO_DETACH_FILTER)", name);
	return fd;
}

static void
capture_lock_path(int group, char *path, size_t len)
{
	struct stat st;

	/* The kernel knows a group by its id in a network namespace. */
	if (stat("/proc/self/ns/net", &st) == -1)
		st.st_ino = 0;
	snprintf(path, len, "%s/fanout-net%llu-%d.lock", CAPTURE_LOCK_DIR,
	    (unsigned long long)st.st_ino, group);
}

/*
 * Whether the file fd locked is still the one at path: 1 yes, 0 no (its
 * holder let it go, unlinking it, between our open and our flock), -1
 * error.
 */
static int
capture_lock_current(int fd, const char *path)
{
	struct stat held, at;

	if (fstat(fd, &held) == -1)
		return -1;
	if (stat(path, &at) == -1)
		return errno == ENOENT ? 0 : -1;
	return held.st_dev == at.st_dev && held.st_ino == at.st_ino;
}

/*
 * Whether sockets hold fanout group `group` in this network namespace: 1
 * yes, 0 no, -1 error.  The kernel refuses (EINVAL) to join a socket to a
 * group of another mode, so two throwaway sockets try to join it in turn,
 * one in mode hash, one in lb, the first closed (and a group it made gone
 * with it) before the second tries: when the group exists, one of the two
 * modes is not its own.  They listen for a local experimental EtherType
 * only, and on no interface of the group's (a group is never theirs).
 */
static int
capture_group_used(int group)
{
	static const uint32_t modes[] = { PACKET_FANOUT_HASH,
	    PACKET_FANOUT_LB };
	uint32_t fanout;
	int fd, rc = 0, saved = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(modes) / sizeof(modes[0]);
	    i++) {
		/* A protocol at socket() makes it take frames: it may join. */
		if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
		    htons(ETH_P_802_EX1))) == -1)
			return -1;
		fanout = (uint32_t)group | modes[i] << 16;
		if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout,
		    sizeof(fanout)) == -1)
			rc = (saved = errno) == EINVAL ? 1 : -1;
		close(fd);
	}
	errno = saved;
	return rc;
}

/*
 * How many times a claim tries a lock file that is held, a millisecond
 * apart, before it takes it for another master's.
 */
#define CAPTURE_LOCK_TRIES	20

/*
 * capture_lock(), and capture_lock_made() without the probe: the group is
 * the capture's own sockets'.
 */
static int
capture_claim(const struct cfg_capture *cap, int group, bool probe,
    char *err, size_t errlen)
{
	char path[256], pid[32], alive[64] = "";
	ssize_t n;
	long other;
	int fd, rc, tries = 0;

	capture_lock_path(group, path, sizeof(path));
	(void)mkdirs_for(path);
again:
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1)
		return capture_fail(-1, err, errlen, "capture %s: lock %s",
		    cap->name, path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			return capture_fail(fd, err, errlen, "capture %s: "
			    "flock(%s)", cap->name, path);
		/*
		 * Held for a moment only, perhaps: by a master's sweep of
		 * files no one holds (capture_lock_sweep), or by a holder
		 * letting go.  A claim lasts.
		 */
		if (++tries < CAPTURE_LOCK_TRIES) {
			close(fd);
			(void)nanosleep(&(struct timespec){ .tv_nsec =
			    1000000 }, NULL);
			goto again;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		other = strtol(pid, NULL, 10);
		/*
		 * Only a master holds it (workers do not inherit it): one
		 * this process cannot see, of another pid namespace.
		 */
		if (other > 0 && kill((pid_t)other, 0) == -1 && errno == ESRCH)
			snprintf(alive, sizeof(alive), ", not a process of "
			    "this pid namespace");
		if (other == (long)getpid())
			snprintf(err, errlen, "capture %s: interface %s, "
			    "fanout group %d: already used by another capture "
			    "of this ringfan (lock %s)", cap->name,
			    cap->interface, group, path);
		else
			snprintf(err, errlen, "capture %s: interface %s, "
			    "fanout group %d: already used by another ringfan "
			    "in this network namespace (pid %ld%s; lock %s)",
			    cap->name, cap->interface, group, other, alive,
			    path);
		close(fd);
		return -1;
	}
	/*
	 * A lock on a file no longer at the path is no claim: the next
	 * master would create a new one and join the group too.  The file at
	 * the path, then.
	 */
	if ((rc = capture_lock_current(fd, path)) == -1)
		return capture_fail(fd, err, errlen, "capture %s: lock %s",
		    cap->name, path);
	if (rc == 0) {
		close(fd);
		goto again;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		return capture_fail(fd, err, errlen, "capture %s: writing %s",
		    cap->name, path);
	/*
	 * The lock keeps out another ringfan only: the kernel would let our
	 * sockets join another program's group of the same mode, flags and
	 * interface, and the two would split the frames silently.
	 */
	if (probe && (rc = capture_group_used(group)) != 0) {
		if (rc == -1)
			capture_fail(-1, err, errlen, "capture %s: probe of "
			    "fanout group %d", cap->name, group);
		else
			snprintf(err, errlen, "capture %s: interface %s, "
			    "fanout group %d: already used by another "
			    "program's sockets in this network namespace (or "
			    "by the workers of a ringfan killed just now): "
			    "give fanout.group a free id", cap->name,
			    cap->interface, group);
		capture_unlock(fd, group);
		return -1;
	}
	return fd;
}

int
capture_lock(const struct cfg_capture *cap, int group, char *err,
    size_t errlen)
{
	return capture_claim(cap, group, true, err, errlen);
}

int
capture_lock_made(const struct cfg_capture *cap, int group, char *err,
    size_t errlen)
{
	return capture_claim(cap, group, false, err, errlen);
}

unsigned
capture_lock_sweep(void)
{
	char path[256];
	struct stat at;
	struct dirent *de;
	unsigned n = 0;
	size_t len;
	DIR *d;
	int fd;

	/* Where it cannot unlink, a sweep would only hold others up. */
	if (access(CAPTURE_LOCK_DIR, W_OK) != 0 ||
	    (d = opendir(CAPTURE_LOCK_DIR)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "fanout-net", 10) != 0 || len < 15 ||
		    strcmp(de->d_name + len - 5, ".lock") != 0)
			continue;
		/* A lock file is a regular file: nothing else is opened. */
		if (fstatat(dirfd(d), de->d_name, &at, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(at.st_mode))
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW | O_NONBLOCK)) == -1)
			continue;
		/*
		 * Held: a master's claim.  Not held, and still the file at
		 * the name: let go of as a holder does, by unlinking it with
		 * the lock held (a master that opened it meanwhile finds it
		 * gone once it locks it, and makes another).
		 */
		snprintf(path, sizeof(path), "%s/%s", CAPTURE_LOCK_DIR,
		    de->d_name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    capture_lock_current(fd, path) == 1 && unlink(path) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

void
capture_unlock(int fd, int group)
{
	char path[256];

	if (fd < 0)
		return;
	capture_lock_path(group, path, sizeof(path));
	(void)unlink(path);	/* ours while we hold it */
	close(fd);
}

int
capture_group(int fd)
{
	uint32_t v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, &len) == -1)
		return -1;
	return (int)(v & 0xffff);
}

int
capture_read_stats(int fd, struct tpacket_stats_v3 *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st, &len) == -1)
		return -errno;
	return 0;
}

bool
capture_read_rollover(const struct cfg_capture *cap, int fd,
    struct tpacket_rollover_stats *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	/* The kernel keeps these only for a socket that may roll over. */
	if (!cap->fanout.rollover && cap->fanout.mode != CFG_FANOUT_ROLLOVER)
		return false;
	if (getsockopt(fd, SOL_PACKET, PACKET_ROLLOVER_STATS, st, &len) ==
	    -1) {
		memset(st, 0, sizeof(*st));
		return false;
	}
	return true;
}

int
capture_shut(int fd)
{
	return capture_drop_all(fd) == -1 ? -errno : 0;
}

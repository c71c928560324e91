/*
 * rfsend: the traffic generator of the tests, the demo and the benchmark.
 *
 * It writes whole Ethernet frames through an AF_PACKET socket bound to one
 * interface, or with -w into a pcap file.  Every field of every frame
 * follows from the frame type, the flow index and the direction, so a test
 * can predict exactly what a capture on the other end of the link must see.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <linux/if_packet.h>
#include <net/if.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define ETH_HLEN_	14
#define VLAN_HLEN_	4
#define IP4_HLEN	20
#define IP6_HLEN	40
#define UDP_HLEN	8
#define TCP_HLEN	20
#define ICMP_HLEN	8
#define ARP_LEN		28

#define ETHERTYPE_IP4	0x0800
#define ETHERTYPE_ARP_	0x0806
#define ETHERTYPE_VLAN_	0x8100
#define ETHERTYPE_IP6	0x86dd
#define ETHERTYPE_OTHER	0x88b5

#define MAX_FRAME	1514
#define MAX_FLOWS	(100U << 16)	/* 10.1.x.y to 109.1.x.y */
#define VLAN_ID		100
#define DPORT		9
#define SPORT_BASE	10000
#define SPORT_SPAN	50000

/* Frames written with -w are stamped 1 us apart from this fixed time. */
#define PCAP_START_SEC	1700000000

/* How long a frame may keep failing with ENOBUFS before we give up. */
#define STALL_LIMIT_NS	(10 * 1000000000ULL)

#define EXIT_USAGE	1
#define EXIT_RUNTIME	2

enum frame_type {
	T_UDP,
	T_TCP,
	T_ICMP,
	T_ARP,
	T_UDP6,
	T_VLAN,
	T_OTHER
};

static const struct {
	const char	*name;
	size_t		 min_size;
} frame_types[] = {
	[T_UDP] =	{ "udp",	ETH_HLEN_ + IP4_HLEN + UDP_HLEN },
	[T_TCP] =	{ "tcp",	ETH_HLEN_ + IP4_HLEN + TCP_HLEN },
	[T_ICMP] =	{ "icmp",	ETH_HLEN_ + IP4_HLEN + ICMP_HLEN },
	[T_ARP] =	{ "arp",	ETH_HLEN_ + ARP_LEN },
	[T_UDP6] =	{ "udp6",	ETH_HLEN_ + IP6_HLEN + UDP_HLEN },
	[T_VLAN] =	{ "vlan",	ETH_HLEN_ + VLAN_HLEN_ + IP4_HLEN +
			    UDP_HLEN },
	[T_OTHER] =	{ "other",	ETH_HLEN_ },
};

static const uint8_t src_mac[6] = { 0x02, 0x52, 0x46, 0x00, 0x00, 0x01 };

/* The two endpoints of one direction of a flow. */
struct endpoints {
	uint8_t		 src6[16];
	uint8_t		 dst6[16];
	uint32_t	 src4;
	uint32_t	 dst4;
	uint16_t	 sport;
	uint16_t	 dport;
};

static volatile sig_atomic_t stopping;

static _Noreturn void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: rfsend -i IFACE [-n COUNT] [-f FLOWS] [-r PPS] [-c CPU] "
	    "[-t TYPE] [-b] [-s SIZE] [-q]\n"
	    "       rfsend -w FILE [-n COUNT] [-f FLOWS] [-t TYPE] [-b] "
	    "[-s SIZE] [-q]\n"
	    "  -w FILE  write the frames to a pcap file instead of sending\n"
	    "  TYPE: udp tcp icmp arp udp6 vlan other\n");
	exit(status);
}

static _Noreturn void
usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "rfsend: %s: %s\n", msg, arg);
	usage(EXIT_USAGE);
}

static _Noreturn void
fail(const char *call)
{
	fprintf(stderr, "rfsend: %s: %s\n", call, strerror(errno));
	exit(EXIT_RUNTIME);
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t
parse_number(const char *arg, const char *what, uint64_t max)
{
	unsigned long long v;
	char *end;

	/* strtoull takes "-1" happily; a count never starts with a sign. */
	if (arg[0] < '0' || arg[0] > '9')
		usage_error(what, arg);
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		usage_error(what, arg);
	return v;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t
sum_bytes(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len > 0)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t
sum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
flow_endpoints(struct endpoints *ep, uint32_t flow, int reverse)
{
	uint8_t a6[16], b6[16];
	uint32_t a4, b4;
	uint16_t aport, bport;

	/* 10.1.(i>>8).(i&255); past 65535, 11.1..., 12.1... */
	a4 = (0x0aU + (flow >> 16)) << 24 | 0x010000U | (flow & 0xffffU);
	b4 = 0x0a020001U;			/* 10.2.0.1 */
	memset(a6, 0, sizeof(a6));
	memset(b6, 0, sizeof(b6));
	put16(a6, 0xfd00);
	put16(a6 + 2, 1);
	put16(a6 + 12, (uint16_t)(flow >> 16));
	put16(a6 + 14, (uint16_t)flow);		/* fd00:1::i */
	put16(b6, 0xfd00);
	put16(b6 + 2, 2);
	put16(b6 + 14, 1);			/* fd00:2::1 */
	aport = (uint16_t)(SPORT_BASE + flow % SPORT_SPAN);
	bport = DPORT;

	if (!reverse) {
		ep->src4 = a4;
		ep->dst4 = b4;
		memcpy(ep->src6, a6, 16);
		memcpy(ep->dst6, b6, 16);
		ep->sport = aport;
		ep->dport = bport;
	} else {
		ep->src4 = b4;
		ep->dst4 = a4;
		memcpy(ep->src6, b6, 16);
		memcpy(ep->dst6, a6, 16);
		ep->sport = bport;
		ep->dport = aport;
	}
}

static size_t
put_eth(uint8_t *p, uint16_t ethertype)
{
	memset(p, 0xff, 6);
	memcpy(p + 6, src_mac, 6);
	put16(p + 12, ethertype);
	return ETH_HLEN_;
}

static void
put_ip4(uint8_t *p, const struct endpoints *ep, uint8_t proto, size_t len,
    uint16_t id)
{
	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, (uint16_t)len);
	put16(p + 4, id);
	put16(p + 6, 0);
	p[8] = 64;
	p[9] = proto;
	put16(p + 10, 0);
	put32(p + 12, ep->src4);
	put32(p + 16, ep->dst4);
	put16(p + 10, sum_fold(sum_bytes(0, p, IP4_HLEN)));
}

static uint64_t
pseudo4(const struct endpoints *ep, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	put32(ph, ep->src4);
	put32(ph + 4, ep->dst4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return sum_bytes(0, ph, sizeof(ph));
}

static uint64_t
pseudo6(const struct endpoints *ep, uint8_t proto, size_t len)
{
	uint8_t ph[40];

	memcpy(ph, ep->src6, 16);
	memcpy(ph + 16, ep->dst6, 16);
	put32(ph + 32, (uint32_t)len);
	memset(ph + 36, 0, 3);
	ph[39] = proto;
	return sum_bytes(0, ph, sizeof(ph));
}

/* UDP header and checksum over the len bytes at p (header and payload). */
static void
put_udp(uint8_t *p, const struct endpoints *ep, size_t len, uint64_t pseudo)
{
	uint16_t sum;

	put16(p, ep->sport);
	put16(p + 2, ep->dport);
	put16(p + 4, (uint16_t)len);
	put16(p + 6, 0);
	sum = sum_fold(sum_bytes(pseudo, p, len));
	/* A computed 0 is sent as all ones: 0 means "no checksum". */
	put16(p + 6, sum == 0 ? 0xffff : sum);
}

static void
put_tcp_syn(uint8_t *p, const struct endpoints *ep, size_t len,
    uint32_t flow)
{
	put16(p, ep->sport);
	put16(p + 2, ep->dport);
	put32(p + 4, 0x52460000U + flow);	/* seq */
	put32(p + 8, 0);			/* ack */
	p[12] = (TCP_HLEN / 4) << 4;
	p[13] = 0x02;				/* SYN */
	put16(p + 14, 65535);			/* window */
	put16(p + 16, 0);
	put16(p + 18, 0);			/* urgent pointer */
	put16(p + 16, sum_fold(sum_bytes(pseudo4(ep, 6, len), p, len)));
}

static void
put_icmp_echo(uint8_t *p, int reply, size_t len, uint32_t flow, uint16_t seq)
{
	p[0] = reply ? 0 : 8;
	p[1] = 0;
	put16(p + 2, 0);
	put16(p + 4, (uint16_t)flow);
	put16(p + 6, seq);
	put16(p + 2, sum_fold(sum_bytes(0, p, len)));
}

static void
put_arp(uint8_t *p, const struct endpoints *ep)
{
	put16(p, 1);				/* Ethernet */
	put16(p + 2, ETHERTYPE_IP4);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, 1);			/* request */
	memcpy(p + 8, src_mac, 6);
	put32(p + 14, ep->src4);
	memset(p + 18, 0, 6);
	put32(p + 24, ep->dst4);
}

/*
 * Writes frame number seq (flow, direction) of the given type and size into
 * buf, which holds MAX_FRAME bytes and is zero beyond what earlier calls
 * wrote for the same type and size.
 */
static void
build_frame(uint8_t *buf, enum frame_type type, size_t size, uint32_t flow,
    int reverse, uint16_t seq)
{
	struct endpoints ep;
	uint8_t *p;
	size_t l3len;

	flow_endpoints(&ep, flow, reverse);
	p = buf;
	switch (type) {
	case T_UDP:
		p += put_eth(p, ETHERTYPE_IP4);
		l3len = size - ETH_HLEN_;
		put_ip4(p, &ep, 17, l3len, seq);
		put_udp(p + IP4_HLEN, &ep, l3len - IP4_HLEN,
		    pseudo4(&ep, 17, l3len - IP4_HLEN));
		break;
	case T_VLAN:
		p += put_eth(p, ETHERTYPE_VLAN_);
		put16(p, VLAN_ID);
		put16(p + 2, ETHERTYPE_IP4);
		p += VLAN_HLEN_;
		l3len = size - ETH_HLEN_ - VLAN_HLEN_;
		put_ip4(p, &ep, 17, l3len, seq);
		put_udp(p + IP4_HLEN, &ep, l3len - IP4_HLEN,
		    pseudo4(&ep, 17, l3len - IP4_HLEN));
		break;
	case T_TCP:
		p += put_eth(p, ETHERTYPE_IP4);
		l3len = size - ETH_HLEN_;
		put_ip4(p, &ep, 6, l3len, seq);
		put_tcp_syn(p + IP4_HLEN, &ep, l3len - IP4_HLEN, flow);
		break;
	case T_ICMP:
		p += put_eth(p, ETHERTYPE_IP4);
		l3len = size - ETH_HLEN_;
		put_ip4(p, &ep, 1, l3len, seq);
		put_icmp_echo(p + IP4_HLEN, reverse, l3len - IP4_HLEN, flow,
		    seq);
		break;
	case T_ARP:
		p += put_eth(p, ETHERTYPE_ARP_);
		put_arp(p, &ep);
		break;
	case T_UDP6:
		p += put_eth(p, ETHERTYPE_IP6);
		l3len = size - ETH_HLEN_;
		put32(p, 6U << 28);		/* version, class, label */
		put16(p + 4, (uint16_t)(l3len - IP6_HLEN));
		p[6] = 17;
		p[7] = 64;
		memcpy(p + 8, ep.src6, 16);
		memcpy(p + 24, ep.dst6, 16);
		put_udp(p + IP6_HLEN, &ep, l3len - IP6_HLEN,
		    pseudo6(&ep, 17, l3len - IP6_HLEN));
		break;
	case T_OTHER:
		p += put_eth(p, ETHERTYPE_OTHER);
		/* The flow index, so that frames of flows differ. */
		if (size >= ETH_HLEN_ + 4)
			put32(p, flow);
		break;
	}
}

/*
 * Sends one frame, retrying while the kernel has no room for it: a frame
 * refused with ENOBUFS (veth drops when the peer's backlog is full) or
 * EAGAIN has not left, and every frame of the count must.  Returns 0, 1
 * when a signal asked us to stop before the frame left, or -1.
 */
static int
send_frame(int fd, const uint8_t *buf, size_t len)
{
	struct pollfd pfd;
	struct timespec pause;
	uint64_t stalled_since;
	ssize_t n;

	stalled_since = 0;
	for (;;) {
		n = send(fd, buf, len, 0);
		if (n >= 0)
			return 0;
		if (stopping)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS && errno != EAGAIN)
			return -1;
		if (stalled_since == 0)
			stalled_since = now_ns();
		else if (now_ns() - stalled_since > STALL_LIMIT_NS)
			return -1;
		if (errno == EAGAIN) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			(void)poll(&pfd, 1, 10);
		} else {
			/* POLLOUT is already true: give the receiver time. */
			pause.tv_sec = 0;
			pause.tv_nsec = 20000;
			(void)nanosleep(&pause, NULL);
		}
	}
}

/* Sleeps until frame number seq is due at the paced rate. */
static void
pace(uint64_t start, uint64_t seq, uint64_t pps)
{
	struct timespec ts;
	uint64_t due;

	due = start + (uint64_t)((double)seq * 1e9 / (double)pps);
	if (now_ns() >= due)
		return;
	ts.tv_sec = (time_t)(due / 1000000000ULL);
	ts.tv_nsec = (long)(due % 1000000000ULL);
	while (!stopping && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
	    &ts, NULL) == EINTR)
		;
}

static int
open_socket(const char *ifname)
{
	struct sockaddr_ll sll;
	unsigned int ifindex;
	int fd, one;

	ifindex = if_nametoindex(ifname);
	if (ifindex == 0) {
		fprintf(stderr, "rfsend: if_nametoindex %s: %s\n", ifname,
		    strerror(errno));
		exit(EXIT_RUNTIME);
	}
	/* Protocol 0: the socket only sends, it never queues received frames. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd == -1)
		fail("socket");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		fail("bind");
	/*
	 * Skipping the qdisc saves a lock per frame; veth has none anyway.
	 * Kernels without the option simply take the slower path.
	 */
	one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
	    sizeof(one));
	return fd;
}

/*
 * Writes the frames that a send of the same options would send into a
 * classic pcap file, so that tests and the benchmark can replay or read
 * known frames without a link.
 */
static int
write_pcap(const char *path, enum frame_type type, size_t size,
    uint64_t count, uint64_t flows, int both)
{
	static uint8_t frame[MAX_FRAME];
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	pcap_t *p;
	uint64_t n;
	uint32_t flow;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (p == NULL) {
		fprintf(stderr, "rfsend: pcap_open_dead failed\n");
		return EXIT_RUNTIME;
	}
	d = pcap_dump_open(p, path);
	if (d == NULL) {
		fprintf(stderr, "rfsend: %s\n", pcap_geterr(p));
		pcap_close(p);
		return EXIT_RUNTIME;
	}
	memset(frame, 0, sizeof(frame));
	for (n = 0; n < count; n++) {
		flow = (uint32_t)((both ? n / 2 : n) % flows);
		build_frame(frame, type, size, flow, both && (n & 1),
		    (uint16_t)n);
		h.ts.tv_sec = (time_t)(PCAP_START_SEC + n / 1000000);
		h.ts.tv_usec = (suseconds_t)(n % 1000000);
		h.caplen = (bpf_u_int32)size;
		h.len = (bpf_u_int32)size;
		pcap_dump((u_char *)d, &h, frame);
	}
	if (pcap_dump_flush(d) == -1 || ferror(pcap_dump_file(d))) {
		fprintf(stderr, "rfsend: %s: write error\n", path);
		pcap_dump_close(d);
		pcap_close(p);
		return EXIT_RUNTIME;
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static enum frame_type
parse_type(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(frame_types) / sizeof(frame_types[0]); i++)
		if (strcmp(arg, frame_types[i].name) == 0)
			return (enum frame_type)i;
	usage_error("unknown frame type", arg);
	return T_UDP;
}

int
main(int argc, char *argv[])
{
	static uint8_t frame[MAX_FRAME];
	struct sigaction sa;
	cpu_set_t cpus;
	enum frame_type type;
	const char *ifname, *wfile;
	uint64_t count, pps, sent, start, elapsed, flows, cpu;
	size_t size;
	double secs;
	int ch, both, quiet, pin, fd, rc;
	uint32_t flow;

	ifname = NULL;
	wfile = NULL;
	count = 1000;
	flows = 1;
	pps = 0;
	cpu = 0;
	pin = 0;
	type = T_UDP;
	both = 0;
	size = 64;
	quiet = 0;
	while ((ch = getopt(argc, argv, "i:n:f:r:c:t:bs:qw:h")) != -1) {
		switch (ch) {
		case 'i':
			ifname = optarg;
			break;
		case 'n':
			count = parse_number(optarg, "bad count", UINT64_MAX);
			break;
		case 'f':
			flows = parse_number(optarg, "bad number of flows",
			    MAX_FLOWS);
			if (flows == 0)
				usage_error("bad number of flows", optarg);
			break;
		case 'r':
			pps = parse_number(optarg, "bad rate", 1000000000);
			break;
		case 'c':
			cpu = parse_number(optarg, "bad cpu",
			    CPU_SETSIZE - 1);
			pin = 1;
			break;
		case 't':
			type = parse_type(optarg);
			break;
		case 'b':
			both = 1;
			break;
		case 's':
			size = (size_t)parse_number(optarg, "bad size",
			    MAX_FRAME);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'w':
			wfile = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rfsend: unexpected argument: %s\n",
		    argv[optind]);
		usage(EXIT_USAGE);
	}
	if ((ifname == NULL) == (wfile == NULL)) {
		fprintf(stderr, "rfsend: give one of -i IFACE and -w FILE\n");
		usage(EXIT_USAGE);
	}
	if (size < frame_types[type].min_size) {
		fprintf(stderr, "rfsend: a %s frame needs at least %zu bytes\n",
		    frame_types[type].name, frame_types[type].min_size);
		usage(EXIT_USAGE);
	}
	if (wfile != NULL) {
		/* A file has no "until stopped", and no pace to keep. */
		if (count == 0 || pps != 0) {
			fprintf(stderr, "rfsend: -w takes a COUNT above 0 "
			    "and no -r\n");
			usage(EXIT_USAGE);
		}
		rc = write_pcap(wfile, type, size, count, flows, both);
		if (rc == 0 && !quiet)
			fprintf(stderr, "rfsend: wrote %" PRIu64 " frames to "
			    "%s\n", count, wfile);
		return rc;
	}

	if (pin) {
		CPU_ZERO(&cpus);
		CPU_SET((int)cpu, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus) == -1)
			fail("sched_setaffinity");
	}
	fd = open_socket(ifname);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut a sleep or a retry short. */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		fail("sigaction");
	/* The default 50 us of timer slack would blur paced rates. */
	if (pps != 0)
		(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	memset(frame, 0, sizeof(frame));
	start = now_ns();
	for (sent = 0; (count == 0 || sent < count) && !stopping; sent++) {
		if (pps != 0) {
			pace(start, sent, pps);
			if (stopping)
				break;
		}
		if (both)
			flow = (uint32_t)((sent / 2) % flows);
		else
			flow = (uint32_t)(sent % flows);
		build_frame(frame, type, size, flow, both && (sent & 1),
		    (uint16_t)sent);
		rc = send_frame(fd, frame, size);
		if (rc == 1)
			break;
		if (rc == -1)
			fail("send");
	}
	elapsed = now_ns() - start;
	close(fd);

	if (!quiet) {
		secs = (double)elapsed / 1e9;
		fprintf(stderr, "rfsend: sent %" PRIu64 " frames in %.3f s "
		    "(%.0f pps)\n", sent, secs,
		    secs > 0 ? (double)sent / secs : 0.0);
	}
	return 0;
}

/*
 * bench_ref: the reference reader of tools/bench.
 *
 * The least a fanout capture can do: N TPACKET_V3 sockets in one fanout
 * group, set up in the same order and with the same ring as ringfan's, one
 * process per socket that maps its ring, walks every frame header of every
 * block the kernel retires, counts frames and bytes, and hands the block
 * back.  Nothing else: no pipeline, no per-frame bookkeeping.  Its CPU time
 * per frame is the floor against which the benchmark measures every other
 * contender in the same run.
 *
 * On SIGTERM (or SIGINT) it shuts every socket, lets the workers drain
 * their rings and prints, as one JSON document on stdout, the frames each
 * worker counted and the kernel's counters of its socket.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define MAX_WORKERS	64
#define POLL_MS		100
#define FRAME_SIZE	2048	/* only a hint to the kernel in TPACKET_V3 */

#define EXIT_USAGE	1
#define EXIT_RUNTIME	2

/* One worker's counts, on a cache line of its own; the worker writes. */
struct ref_slot {
	_Alignas(64) uint64_t	packets;
	uint64_t		bytes;
	uint64_t		blocks;
	uint32_t		ready;
};

struct ref_opts {
	const char	*ifname;
	const char	*bpf;
	unsigned	 workers;
	unsigned	 group;
	uint32_t	 block_size;
	uint32_t	 block_count;
	uint32_t	 timeout_ms;
};

static volatile sig_atomic_t stop_flag;

static _Noreturn void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: bench_ref -i IFACE [-w WORKERS] [-g GROUP] [-b BLOCK_SIZE] "
	    "[-n BLOCK_COUNT] [-t TIMEOUT_MS] [-f BPF]\n");
	exit(status);
}

static _Noreturn void
fail(const char *what)
{
	fprintf(stderr, "bench_ref: %s: %s\n", what, strerror(errno));
	exit(EXIT_RUNTIME);
}

static void
on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static unsigned long
number(const char *arg, const char *what, unsigned long min,
    unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || errno != 0 || *end != '\0' ||
	    v < min || v > max) {
		fprintf(stderr, "bench_ref: bad %s: %s\n", what, arg);
		usage(EXIT_USAGE);
	}
	return v;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
set_filter(int fd, const struct sock_fprog *prog)
{
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog,
	    sizeof(*prog));
}

static int
drop_all(int fd)
{
	struct sock_filter ret0 = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &ret0 };

	return set_filter(fd, &prog);
}

/* The user's filter, compiled by libpcap for Ethernet; len 0 if none. */
static void
compile_bpf(const char *expr, struct sock_fprog *prog)
{
	struct bpf_program bp;
	pcap_t *p;

	prog->len = 0;
	prog->filter = NULL;
	if (expr == NULL)
		return;
	if ((p = pcap_open_dead(DLT_EN10MB, 262144)) == NULL) {
		fprintf(stderr, "bench_ref: pcap_open_dead failed\n");
		exit(EXIT_RUNTIME);
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		fprintf(stderr, "bench_ref: bpf: %s\n", pcap_geterr(p));
		exit(EXIT_USAGE);
	}
	/* struct bpf_insn and struct sock_filter share their layout. */
	prog->filter = calloc(bp.bf_len, sizeof(struct sock_filter));
	if (prog->filter == NULL)
		fail("calloc");
	memcpy(prog->filter, bp.bf_insns,
	    bp.bf_len * sizeof(struct sock_filter));
	prog->len = (unsigned short)bp.bf_len;
	pcap_freecode(&bp);
	pcap_close(p);
}

/* ringfan's order: ring, drop-all, bind, fanout, then the real filter. */
static int
open_member(const struct ref_opts *o, unsigned ifindex,
    const struct sock_fprog *prog)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	int fd, v = TPACKET_V3, fanout;

	if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1)
		fail("socket(AF_PACKET)");
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) == -1)
		fail("setsockopt(PACKET_VERSION)");
	memset(&req, 0, sizeof(req));
	req.tp_block_size = o->block_size;
	req.tp_block_nr = o->block_count;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = (unsigned)((uint64_t)o->block_size *
	    o->block_count / FRAME_SIZE);
	req.tp_retire_blk_tov = o->timeout_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req,
	    sizeof(req)) == -1)
		fail("setsockopt(PACKET_RX_RING)");
	if (drop_all(fd) == -1)
		fail("setsockopt(SO_ATTACH_FILTER)");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		fail("bind");
	fanout = (int)(o->group | (unsigned)PACKET_FANOUT_HASH << 16);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout,
	    sizeof(fanout)) == -1)
		fail("setsockopt(PACKET_FANOUT)");
	if (prog->len > 0) {
		if (set_filter(fd, prog) == -1)
			fail("setsockopt(SO_ATTACH_FILTER)");
	} else if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, NULL,
	    0) == -1)
		fail("setsockopt(SO_DETACH_FILTER)");
	return fd;
}

/* The worker: count the frames of every retired block, nothing more. */
static _Noreturn void
reader(const struct ref_opts *o, int fd, struct ref_slot *slot)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLERR };
	struct tpacket_block_desc *bd;
	const struct tpacket3_hdr *h;
	const uint8_t *block;
	uint8_t *map;
	uint64_t packets = 0, bytes = 0, blocks = 0, drain_until = 0;
	uint32_t idx = 0, n, off;
	size_t len = (size_t)o->block_size * o->block_count;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap(ring)");
	__atomic_store_n(&slot->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		bd = (struct tpacket_block_desc *)(map +
		    (size_t)idx * o->block_size);
		if (__atomic_load_n(&bd->hdr.bh1.block_status,
		    __ATOMIC_ACQUIRE) & TP_STATUS_USER) {
			block = (const uint8_t *)bd;
			n = bd->hdr.bh1.num_pkts;
			off = bd->hdr.bh1.offset_to_first_pkt;
			for (uint32_t k = 0; k < n && off < o->block_size;
			    k++) {
				h = (const struct tpacket3_hdr *)(block + off);
				bytes += h->tp_len;
				packets++;
				off += h->tp_next_offset;
			}
			__atomic_store_n(&bd->hdr.bh1.block_status,
			    TP_STATUS_KERNEL, __ATOMIC_RELEASE);
			idx = (idx + 1) % o->block_count;
			blocks++;
			__atomic_store_n(&slot->packets, packets,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&slot->bytes, bytes,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&slot->blocks, blocks,
			    __ATOMIC_RELAXED);
			continue;
		}
		if (stop_flag && drain_until == 0)
			drain_until = mono_ns() +
			    (uint64_t)(o->timeout_ms + 200) * 1000000u;
		if (drain_until != 0 && mono_ns() >= drain_until)
			break;
		poll(&pfd, 1, POLL_MS);
	}
	munmap(map, len);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct ref_opts o = {
		.workers = 2,
		.block_size = 1u << 20,
		.block_count = 16,
		.timeout_ms = 10,
	};
	struct sock_fprog prog;
	struct tpacket_stats_v3 st;
	struct ref_slot *slots;
	struct sigaction sa;
	sigset_t set, old;
	socklen_t sl;
	pid_t pids[MAX_WORKERS];
	int fds[MAX_WORKERS], ch, status, failed = 0;
	uint64_t kp = 0, kd = 0, kf = 0, tp = 0, tb = 0;
	unsigned ifindex, i, j;

	o.group = (unsigned)getpid() % 50000 + 10000;
	while ((ch = getopt(argc, argv, "i:w:g:b:n:t:f:h")) != -1) {
		switch (ch) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'w':
			o.workers = (unsigned)number(optarg, "worker count", 1,
			    MAX_WORKERS);
			break;
		case 'g':
			o.group = (unsigned)number(optarg, "group", 0, 65535);
			break;
		case 'b':
			o.block_size = (uint32_t)number(optarg, "block size",
			    4096, 1u << 30);
			break;
		case 'n':
			o.block_count = (uint32_t)number(optarg, "block count",
			    1, 1u << 20);
			break;
		case 't':
			o.timeout_ms = (uint32_t)number(optarg, "timeout", 1,
			    60000);
			break;
		case 'f':
			o.bpf = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc || o.ifname == NULL)
		usage(EXIT_USAGE);
	if ((ifindex = if_nametoindex(o.ifname)) == 0) {
		fprintf(stderr, "bench_ref: %s: %s\n", o.ifname,
		    strerror(errno));
		return EXIT_RUNTIME;
	}
	compile_bpf(o.bpf, &prog);

	slots = mmap(NULL, sizeof(*slots) * o.workers, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED)
		fail("mmap(slots)");
	for (i = 0; i < o.workers; i++)
		fds[i] = open_member(&o, ifindex, &prog);
	free(prog.filter);	/* the kernel has its copy */

	/* Signals wait in the mask until sigwait; the workers unblock them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	for (i = 0; i < o.workers; i++) {
		if ((pids[i] = fork()) == -1)
			fail("fork");
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sa.sa_handler = SIG_IGN;
			sigaction(SIGINT, &sa, NULL);
			sa.sa_handler = on_term;
			sigaction(SIGTERM, &sa, NULL);
			for (j = 0; j < o.workers; j++)
				if (j != i)
					close(fds[j]);
			sigprocmask(SIG_SETMASK, &old, NULL);
			reader(&o, fds[i], &slots[i]);
		}
	}
	for (i = 0; i < o.workers; i++)
		while (!__atomic_load_n(&slots[i].ready, __ATOMIC_ACQUIRE))
			usleep(1000);
	fprintf(stderr, "bench_ref: ready: %u workers on %s, fanout group "
	    "%u\n", o.workers, o.ifname, o.group);

	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGCHLD && waitpid(-1, &status, WNOHANG) > 0) {
			fprintf(stderr, "bench_ref: a worker exited early\n");
			failed = 1;
			break;
		}
	}
	/* From here no frame enters a ring: the counts can settle. */
	for (i = 0; i < o.workers; i++)
		drop_all(fds[i]);
	for (i = 0; i < o.workers; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < o.workers; i++) {
		if (waitpid(pids[i], &status, 0) == pids[i] &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			failed = 1;
	}

	printf("{\"workers\": [");
	for (i = 0; i < o.workers; i++) {
		memset(&st, 0, sizeof(st));
		sl = sizeof(st);
		if (getsockopt(fds[i], SOL_PACKET, PACKET_STATISTICS, &st,
		    &sl) == -1)
			fail("getsockopt(PACKET_STATISTICS)");
		printf("%s{\"id\": %u, \"packets\": %" PRIu64 ", \"bytes\": %"
		    PRIu64 ", \"blocks\": %" PRIu64 ", \"kernel_packets\": %u, "
		    "\"kernel_drops\": %u, \"kernel_freeze_q\": %u}",
		    i ? ", " : "", i, slots[i].packets, slots[i].bytes,
		    slots[i].blocks, st.tp_packets, st.tp_drops,
		    st.tp_freeze_q_cnt);
		tp += slots[i].packets;
		tb += slots[i].bytes;
		kp += st.tp_packets;
		kd += st.tp_drops;
		kf += st.tp_freeze_q_cnt;
	}
	printf("],\n \"totals\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
	    ", \"kernel_packets\": %" PRIu64 ", \"kernel_drops\": %" PRIu64
	    ", \"kernel_freeze_q\": %" PRIu64 "}}\n", tp, tb, kp, kd, kf);
	fflush(stdout);
	return failed ? EXIT_RUNTIME : 0;
}

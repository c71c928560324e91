/*
 * sbprobe: tries, in its open, each system call the workers' seccomp filter
 * refuses (docs/architecture.md, "Sandbox"), with arguments that would fail
 * harmlessly, or do nothing, were it allowed, and an errno other than EPERM
 * for a process that may make it (root's, outside the filter).  Counter
 * e_<call> holds the errno each try got: 0 for a success, which the filter
 * should have refused.  The tries on the capture socket's number are made
 * on the worker's epoll instance, which holds that number (worker.c);
 * those named with _hi pass an int argument with its high half set, which
 * the kernel ignores and the filter must ignore too.
 *
 * Its constructor notes whether the process was already under a seccomp
 * filter when dlopen ran it: counter ctor_seccomp is /proc/self/status's
 * Seccomp field as the constructor read it (2: filter), and a check that
 * finds it was not fails.  In a check it also tries unshare(0), which
 * succeeds outside the filter, and fails when it is not refused; and it
 * fails when it can reach a region of host memory (a shared writable
 * mapping that starts with the host's header, plugin_int.h), or a
 * writable mapping of the workers' counters (one that starts with the
 * stats region's magic, stats.h): the validating process runs no worker,
 * so no worker's region or counters are its to write.  Its option `generation` is read and otherwise unused: a reload
 * that changes it validates the pipeline anew.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringfan/plugin.h>

#include "plugin_int.h"

#define SBPROBE_HI	(1ULL << 32)

static int sbprobe_ctor_seccomp = -1;

/* The Seccomp field of /proc/self/status, -1 when unread. */
static int
sbprobe_seccomp_mode(void)
{
	char line[256];
	FILE *f;
	int mode = -1;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

__attribute__((constructor)) static void
sbprobe_ctor(void)
{
	sbprobe_ctor_seccomp = sbprobe_seccomp_mode();
}

/* The lowest descriptor that is an epoll instance, -1 if none. */
static int
sbprobe_epoll_fd(void)
{
	char path[64], link[64];
	ssize_t n;

	for (int fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventpoll]") == 0)
			return fd;
	}
	return -1;
}

/* The errno of a call's result r (-1 on error), 0 on success. */
static long
sbprobe_errno(long r)
{
	return r == -1 ? errno : 0;
}

/*
 * A descriptor made by a call that should have been refused is closed
 * again, a process made by one ends at once.
 */
static long
sbprobe_newfd(long r)
{
	long e = sbprobe_errno(r);

	if (r >= 0)
		close((int)r);
	return e;
}

static long
sbprobe_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return sbprobe_errno(r);
}

struct sbprobe_try {
	const char	*name;
	long		 err;
};

/* Every try, in the order of the docs' list. */
static size_t
sbprobe_run(struct sbprobe_try *t, int cap)
{
	static char buf[1];
	char out[1];
	struct iovec liov = { out, 1 }, riov = { buf, 1 };
	struct iovec iov = { buf, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mmsg = { .msg_hdr = msg };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	int one = 1, pidfd, pipefd[2];
	socklen_t len = sizeof(one);
	size_t n = 0;

#define TRY(nm, expr)	do {						\
	t[n].name = (nm);						\
	errno = 0;							\
	t[n].err = (expr);						\
	n++;								\
} while (0)
	TRY("process_vm_readv", sbprobe_errno(syscall(SYS_process_vm_readv,
	    getpid(), &liov, 1, &riov, 1, 0)));
	TRY("process_vm_writev", sbprobe_errno(syscall(SYS_process_vm_writev,
	    getpid(), &riov, 1, &liov, 1, 0)));
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	TRY("pidfd_getfd", sbprobe_newfd(syscall(SYS_pidfd_getfd, pidfd, 0,
	    0)));
	if (pidfd >= 0)
		close(pidfd);
	TRY("ptrace", sbprobe_errno(syscall(SYS_ptrace, PTRACE_PEEKDATA,
	    getpid(), NULL, NULL)));
	TRY("mount", sbprobe_errno(syscall(SYS_mount, "", "", "", 0, NULL)));
	TRY("umount2", sbprobe_errno(syscall(SYS_umount2, "", 0)));
	TRY("pivot_root", sbprobe_errno(syscall(SYS_pivot_root, "", "")));
	TRY("chroot", sbprobe_errno(syscall(SYS_chroot, "")));
	TRY("open_by_handle_at", sbprobe_newfd(syscall(SYS_open_by_handle_at,
	    -1, NULL, 0)));
	TRY("fsopen", sbprobe_newfd(syscall(SYS_fsopen, "sbprobe_none", 0)));
	TRY("fsconfig", sbprobe_errno(syscall(SYS_fsconfig, -1, 0, NULL, NULL,
	    0)));
	TRY("fsmount", sbprobe_newfd(syscall(SYS_fsmount, -1, 0, 0)));
	TRY("fspick", sbprobe_newfd(syscall(SYS_fspick, -1, "", 0)));
	TRY("move_mount", sbprobe_errno(syscall(SYS_move_mount, -1, "", -1, "",
	    0)));
	TRY("open_tree", sbprobe_newfd(syscall(SYS_open_tree, -1, "", 0)));
	TRY("mount_setattr", sbprobe_errno(syscall(SYS_mount_setattr, -1, "",
	    0, NULL, 0)));
	TRY("kexec_load", sbprobe_errno(syscall(SYS_kexec_load, 0, 0, NULL,
	    0xffff0000UL)));
	TRY("kexec_file_load", sbprobe_errno(syscall(SYS_kexec_file_load, -1,
	    -1, 0, NULL, 0xffff0000UL)));
	TRY("init_module", sbprobe_errno(syscall(SYS_init_module, NULL, 0,
	    "")));
	TRY("finit_module", sbprobe_errno(syscall(SYS_finit_module, -1, "",
	    0)));
	TRY("delete_module", sbprobe_errno(syscall(SYS_delete_module,
	    "sbprobe_none", O_NONBLOCK)));
	TRY("reboot", sbprobe_errno(syscall(SYS_reboot, 0, 0, 0, NULL)));
	TRY("swapon", sbprobe_errno(syscall(SYS_swapon, "", 0)));
	TRY("swapoff", sbprobe_errno(syscall(SYS_swapoff, "")));
	TRY("setns", sbprobe_errno(syscall(SYS_setns, -1, 0)));
	TRY("unshare", sbprobe_errno(syscall(SYS_unshare, 0)));
	TRY("clone_newnet", sbprobe_clone(CLONE_NEWNET));
	TRY("clone_newuser", sbprobe_clone(CLONE_NEWUSER));
	TRY("clone_newns_hi", sbprobe_clone(CLONE_NEWNS | SBPROBE_HI));
	TRY("clone3", sbprobe_errno(syscall(SYS_clone3, NULL, 0)));
	TRY("bpf", sbprobe_newfd(syscall(SYS_bpf, -1, NULL, 0)));
	TRY("perf_event_open", sbprobe_newfd(syscall(SYS_perf_event_open,
	    NULL, 0, -1, -1, 0)));
	TRY("io_uring_setup", sbprobe_newfd(syscall(SYS_io_uring_setup, 0,
	    NULL)));
	TRY("io_uring_enter", sbprobe_errno(syscall(SYS_io_uring_enter, -1, 0,
	    0, 0, NULL, 0)));
	TRY("io_uring_register", sbprobe_errno(syscall(SYS_io_uring_register,
	    -1, 0, NULL, 0)));
	TRY("io_setup", sbprobe_errno(syscall(SYS_io_setup, 0, NULL)));

	/* New sockets that could send frames. */
	TRY("socket_packet", sbprobe_newfd(socket(AF_PACKET, SOCK_RAW, 0)));
	TRY("socket_packet_dgram", sbprobe_newfd(socket(AF_PACKET,
	    SOCK_DGRAM | SOCK_CLOEXEC, 0)));
	TRY("socket_packet_hi", sbprobe_newfd(syscall(SYS_socket,
	    AF_PACKET | SBPROBE_HI, SOCK_RAW, 0)));
	TRY("socket_inet_raw", sbprobe_newfd(socket(AF_INET, SOCK_RAW,
	    IPPROTO_UDP)));
	TRY("socket_inet6_raw", sbprobe_newfd(socket(AF_INET6,
	    SOCK_RAW | SOCK_NONBLOCK, IPPROTO_RAW)));
	TRY("socket_inet_raw_hi", sbprobe_newfd(syscall(SYS_socket,
	    AF_INET | SBPROBE_HI, SOCK_RAW | SBPROBE_HI, IPPROTO_UDP)));
	TRY("socket_sock_packet", sbprobe_newfd(socket(AF_INET, SOCK_PACKET,
	    0)));

	if (cap < 0)
		return n;
	/* The capture socket's number. */
	TRY("sendto", sbprobe_errno(sendto(cap, buf, 1, 0, NULL, 0)));
	TRY("sendmsg", sbprobe_errno(sendmsg(cap, &msg, 0)));
	TRY("sendmmsg", sbprobe_errno(sendmmsg(cap, &mmsg, 1, 0)));
	TRY("write", sbprobe_errno(write(cap, buf, 1)));
	TRY("write_hi", sbprobe_errno(syscall(SYS_write, cap | SBPROBE_HI, buf,
	    1)));
	TRY("writev", sbprobe_errno(writev(cap, &iov, 1)));
	TRY("pwrite64", sbprobe_errno(pwrite(cap, buf, 1, 0)));
	TRY("pwritev", sbprobe_errno(pwritev(cap, &iov, 1, 0)));
	TRY("pwritev2", sbprobe_errno(pwritev2(cap, &iov, 1, -1, 0)));
	TRY("sendfile", sbprobe_errno(syscall(SYS_sendfile, cap, 0, NULL,
	    1)));
	if (pipe(pipefd) == 0) {
		if (write(pipefd[1], buf, 1) == 1)
			TRY("splice", sbprobe_errno(splice(pipefd[0], NULL,
			    cap, NULL, 1, 0)));
		close(pipefd[0]);
		close(pipefd[1]);
	}
	TRY("setsockopt", sbprobe_errno(setsockopt(cap, SOL_SOCKET,
	    SO_RCVBUF, &one, sizeof(one))));
	TRY("getsockopt", sbprobe_errno(getsockopt(cap, SOL_SOCKET, SO_TYPE,
	    &one, &len)));
	TRY("bind", sbprobe_errno(bind(cap, &sa, sizeof(sa))));
	TRY("connect", sbprobe_errno(connect(cap, &sa, sizeof(sa))));
	TRY("ioctl", sbprobe_errno(syscall(SYS_ioctl, cap, 0x541b /* FIONREAD */,
	    &one)));
	TRY("dup", sbprobe_newfd(dup(cap)));
	TRY("dup_hi", sbprobe_newfd(syscall(SYS_dup, cap | SBPROBE_HI)));
	TRY("dup2", sbprobe_newfd(syscall(SYS_dup2, cap, 1000)));
	TRY("dup3", sbprobe_newfd(dup3(cap, 1000, O_CLOEXEC)));
	TRY("fcntl_dupfd", sbprobe_newfd(fcntl(cap, F_DUPFD, 0)));
	TRY("fcntl_dupfd_cloexec", sbprobe_newfd(fcntl(cap, F_DUPFD_CLOEXEC,
	    0)));
	TRY("fcntl_dupfd_hi", sbprobe_newfd(syscall(SYS_fcntl,
	    cap | SBPROBE_HI, F_DUPFD | SBPROBE_HI, 0)));
#undef TRY
	return n;
}

/* stats.h's STATS_MAGIC, "ringfan1": the stats region's first word. */
#define SBPROBE_STATS_MAGIC	0x31666e69676e6972ULL

/*
 * How many regions of host memory this process has mapped; in *stats, how
 * many writable mappings of a stats region.
 */
static int
sbprobe_hostmem(int *stats)
{
	char line[512], perm[8];
	unsigned long lo, hi;
	uint64_t magic;
	FILE *f;
	int n = 0;

	*stats = 0;
	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 ||
		    strcmp(perm, "rw-s") != 0 ||
		    hi - lo < sizeof(struct plugin_mem_hdr))
			continue;
		memcpy(&magic, (const void *)lo, sizeof(magic));
		if (magic == PLUGIN_MEM_MAGIC)
			n++;
		else if (magic == SBPROBE_STATS_MAGIC)
			(*stats)++;
	}
	fclose(f);
	return n;
}

static int
sbprobe_check(struct ringfan_ctx *ctx)
{
	uint64_t gen;
	int n, stats;

	if (ctx->opt_uint(ctx, "generation", 0, &gen) != 0)
		return RINGFAN_FAIL;
	if (sbprobe_ctor_seccomp != 2) {
		ctx->error(ctx, "constructor ran outside the filter");
		return RINGFAN_FAIL;
	}
	if (syscall(SYS_unshare, 0) == 0) {
		ctx->error(ctx, "unshare(0) was not refused");
		return RINGFAN_FAIL;
	}
	if ((n = sbprobe_hostmem(&stats)) != 0) {
		ctx->error(ctx, "%d regions of host memory reachable", n);
		return RINGFAN_FAIL;
	}
	if (stats != 0) {
		ctx->error(ctx, "%d stats regions writable", stats);
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

static int
sbprobe_open(struct ringfan_ctx *ctx, void **state)
{
	struct sbprobe_try t[96];
	char name[48];
	uint64_t *c;
	size_t n;

	if (ctx->flags & RINGFAN_CTX_CHECK)
		return RINGFAN_OK;
	if ((c = ctx->counter(ctx, "ctor_seccomp")) == NULL)
		return RINGFAN_FAIL;
	*c = (uint64_t)sbprobe_ctor_seccomp;
	n = sbprobe_run(t, sbprobe_epoll_fd());
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "e_%s", t[i].name);
		if ((c = ctx->counter(ctx, name)) == NULL)
			return RINGFAN_FAIL;
		*c = (uint64_t)t[i].err;
	}
	if ((c = ctx->counter(ctx, "tries")) == NULL)
		return RINGFAN_FAIL;
	*c = n;
	*state = NULL;
	return RINGFAN_OK;
}

static int
sbprobe_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "sbprobe",
	.version = "1.0",
	.description = "test: tries each call the sandbox refuses",
	.check = sbprobe_check,
	.open = sbprobe_open,
	.packet = sbprobe_packet,
};

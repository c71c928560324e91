/*
 * The seccomp filter of the processes that run plugin code.
 *
 * A denylist: plugins open files, sockets to collectors, write logs, make
 * threads, and an allowlist of everything third-party code may need would
 * break them one libc update at a time.  What a passive sensor never does is
 * a short, stable list, and that is what is refused.  docs/architecture.md
 * ("Sandbox") explains each entry; keep the two in step.
 *
 * Refused calls fail with EPERM instead of killing the process: a plugin
 * that tries something it may not gets an error it must handle anyway
 * (EPERM is what an unprivileged process gets for most of these), and one
 * careless call in a library does not turn into a crash, a quarantined
 * frame and a crash loop.  A hostile plugin gains nothing from surviving:
 * the refusal stands.
 *
 * Integer arguments are compared on their low 32 bits only: the kernel
 * reads an int argument from the low half of its register, so a caller
 * could set the high half to slip past a 64-bit comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "sandbox.h"

/* The low half: what the kernel reads of an int argument. */
#define SANDBOX_INT	0xffffffffULL
/* What socket(2) takes as the type, without SOCK_NONBLOCK, SOCK_CLOEXEC. */
#define SANDBOX_TYPE	0xfULL

/* Refused whatever their arguments. */
static const char *const sandbox_never[] = {
	/* Other processes' memory and descriptors. */
	"process_vm_readv", "process_vm_writev", "pidfd_getfd",
	/* The system: filesystems, kernel code, power, swap. */
	"mount", "umount2", "pivot_root", "chroot", "open_by_handle_at",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr",
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff",
	/* Namespaces (clone's flags are below). */
	"setns", "unshare",
	/* Kernel programs and performance counters. */
	"bpf", "perf_event_open",
	/* Submission queues: the kernel runs what they hold unfiltered. */
	"io_uring_setup", "io_uring_enter", "io_uring_register", "io_setup",
};

/*
 * Refused on the capture socket's number: sending on it, changing or
 * reading its options (PACKET_STATISTICS resets the master's counters, a
 * filter could blind the sensor), and copying it to another number where
 * the rest would not apply.  The index is that of the fd argument.
 */
static const struct {
	const char	*name;
	unsigned	 arg;
} sandbox_capture[] = {
	{ "sendto", 0 }, { "sendmsg", 0 }, { "sendmmsg", 0 },
	{ "write", 0 }, { "writev", 0 }, { "pwrite64", 0 }, { "pwritev", 0 },
	{ "pwritev2", 0 }, { "sendfile", 0 }, { "splice", 2 },
	{ "setsockopt", 0 }, { "getsockopt", 0 }, { "bind", 0 },
	{ "connect", 0 }, { "ioctl", 0 },
	{ "dup", 0 }, { "dup2", 0 }, { "dup3", 0 },
};

/* clone(2) flags that make a namespace, refused like unshare(2). */
static const unsigned long sandbox_newns[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET, CLONE_NEWCGROUP,
};

static int
sandbox_fail(char *err, size_t errlen, const char *what, const char *call,
    int rc)
{
	snprintf(err, errlen, "seccomp filter: %s(%s): %s", what, call,
	    strerror(-rc));
	return -1;
}

/* One rule on the system call `call`, refusing it with errno `e`. */
static int
sandbox_rule(scmp_filter_ctx f, const char *call, int e, unsigned n,
    const struct scmp_arg_cmp *cmp, char *err, size_t errlen)
{
	int nr, rc;

	if ((nr = seccomp_syscall_resolve_name(call)) == __NR_SCMP_ERROR)
		return sandbox_fail(err, errlen, "seccomp_syscall_resolve_name",
		    call, -EINVAL);
	if ((rc = seccomp_rule_add_array(f, SCMP_ACT_ERRNO(e), nr, n, cmp)) < 0)
		return sandbox_fail(err, errlen, "seccomp_rule_add", call, rc);
	return 0;
}

static int
sandbox_rules(scmp_filter_ctx f, int fd, char *err, size_t errlen)
{
	struct scmp_arg_cmp cmp[2];
	size_t i;

	for (i = 0; i < sizeof(sandbox_never) / sizeof(sandbox_never[0]); i++)
		if (sandbox_rule(f, sandbox_never[i], EPERM, 0, NULL, err,
		    errlen) == -1)
			return -1;
#ifndef RINGFAN_SANITIZED
	/*
	 * LeakSanitizer stops the process at exit with a tracer that
	 * ptraces every thread: the sanitizer build keeps ptrace (and
	 * tests everything else).  docs/architecture.md says so.
	 */
	if (sandbox_rule(f, "ptrace", EPERM, 0, NULL, err, errlen) == -1)
		return -1;
#endif

	/*
	 * New packet sockets, raw IP sockets and the obsolete SOCK_PACKET
	 * type of any family: each can put a frame on any link.  Netlink
	 * is spared: its SOCK_RAW is the same as its SOCK_DGRAM, and libc
	 * uses it (getaddrinfo with AI_ADDRCONFIG, getifaddrs).
	 */
	cmp[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, SANDBOX_INT, AF_PACKET);
	if (sandbox_rule(f, "socket", EPERM, 1, cmp, err, errlen) == -1)
		return -1;
	cmp[0] = SCMP_A0(SCMP_CMP_NE, AF_NETLINK, 0);	/* datum_b unused */
	cmp[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_TYPE, SOCK_RAW);
	if (sandbox_rule(f, "socket", EPERM, 2, cmp, err, errlen) == -1)
		return -1;
	cmp[0] = SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_TYPE, SOCK_PACKET);
	if (sandbox_rule(f, "socket", EPERM, 1, cmp, err, errlen) == -1)
		return -1;

	for (i = 0; i < sizeof(sandbox_newns) / sizeof(sandbox_newns[0]); i++) {
		cmp[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, sandbox_newns[i],
		    sandbox_newns[i]);
		if (sandbox_rule(f, "clone", EPERM, 1, cmp, err, errlen) == -1)
			return -1;
	}
	/*
	 * clone3 passes its flags in memory, which a filter cannot read.
	 * ENOSYS, not EPERM: libc then falls back to clone, checked above.
	 */
	if (sandbox_rule(f, "clone3", ENOSYS, 0, NULL, err, errlen) == -1)
		return -1;

	if (fd < 0)
		return 0;
	for (i = 0; i < sizeof(sandbox_capture) / sizeof(sandbox_capture[0]);
	    i++) {
		cmp[0] = SCMP_CMP(sandbox_capture[i].arg, SCMP_CMP_MASKED_EQ,
		    SANDBOX_INT, (scmp_datum_t)fd);
		if (sandbox_rule(f, sandbox_capture[i].name, EPERM, 1, cmp, err,
		    errlen) == -1)
			return -1;
	}
	cmp[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, SANDBOX_INT, (scmp_datum_t)fd);
	cmp[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_INT, F_DUPFD);
	if (sandbox_rule(f, "fcntl", EPERM, 2, cmp, err, errlen) == -1)
		return -1;
	cmp[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_INT, F_DUPFD_CLOEXEC);
	return sandbox_rule(f, "fcntl", EPERM, 2, cmp, err, errlen);
}

int
sandbox_install(int capture_fd, char *err, size_t errlen)
{
	scmp_filter_ctx f;
	int rc;

	if ((f = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errlen, "seccomp filter: seccomp_init: %s",
		    strerror(ENOMEM));
		return -1;
	}
	/* Every thread, should a library have started one already. */
	if ((rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
		seccomp_release(f);
		return sandbox_fail(err, errlen, "seccomp_attr_set", "TSYNC",
		    rc);
	}
	/*
	 * Calls of another architecture (int 0x80 on x86-64) kill the
	 * process, since the names above were resolved for this one only.
	 * The whole process: libseccomp's default kills the calling thread
	 * alone, and a worker whose main thread died so, beside a thread a
	 * plugin started, would live on without a loop until the stall
	 * watch came (a validating child: until its time ran out).
	 */
	if ((rc = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0) {
		seccomp_release(f);
		return sandbox_fail(err, errlen, "seccomp_attr_set", "BADARCH",
		    rc);
	}
	/*
	 * The filter keeps plugin code off the link; it is no boundary
	 * against the code itself, which runs in the process.  Where a
	 * kernel's spec_store_bypass_disable or spectre_v2_user is
	 * `seccomp` (x86's default before Linux 5.16), a filter without this
	 * flag would turn on Speculative Store Bypass Disable and the
	 * indirect branch protections in every worker, slowing its per-frame
	 * code for nothing.  A kernel without the flag (before 4.17): as
	 * before.  A filter loaded before ringfan started (systemd's, a
	 * container runtime's) may have turned them on already, for good
	 * (docs/architecture.md, "Sandbox").
	 */
	if ((rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_SSB, 1)) < 0 &&
	    rc != -EOPNOTSUPP) {
		seccomp_release(f);
		return sandbox_fail(err, errlen, "seccomp_attr_set", "SSB",
		    rc);
	}
	if (sandbox_rules(f, capture_fd, err, errlen) == -1) {
		seccomp_release(f);
		return -1;
	}
	rc = seccomp_load(f);
	seccomp_release(f);
	if (rc < 0)
		return sandbox_fail(err, errlen, "seccomp_load", "", rc);
	return 0;
}

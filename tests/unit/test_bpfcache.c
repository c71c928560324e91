/*
 * The master's kept filters (bpfcache.c): what is kept under which key,
 * failures of the filter kept and others told once, pruning to the
 * captures of two configurations, and the child that compiles a reload's
 * filters, finished or killed.  Interfaces that do not exist only: the
 * filters compile on libpcap's dead handle, no socket is opened.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <pcap/dlt.h>

#include "bpfcache.h"
#include "capture.h"
#include "config.h"

#define NOIF	"rf-no-such-if"

static struct sock_filter insns[3] = {
	{ 0x28, 0, 0, 12 }, { 0x06, 0, 0, 262144 }, { 0x06, 0, 0, 0 },
};

static int
teardown(void **state)
{
	(void)state;
	bpfcache_clear();
	return 0;
}

/* A program is found under its own key only, as an equal copy. */
static void
test_keys(void **state)
{
	struct sock_fprog in = { 3, insns }, out;
	char msg[64];

	(void)state;
	bpfcache_put("eth0", true, "udp", DLT_EN10MB, 0, &in, NULL);
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 1);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.filter, insns, sizeof(insns));
	capture_bpf_free(&out);
	assert_int_equal(bpfcache_find("eth0", false, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth1", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth0", true, "tcp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_RAW, &out,
	    msg, sizeof(msg)), 0);
	assert_null(out.filter);
	/* Put again: replaced, not added. */
	in.len = 2;
	bpfcache_put("eth0", true, "udp", DLT_EN10MB, 0, &in, NULL);
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 1);
	assert_int_equal(out.len, 2);
	capture_bpf_free(&out);
}

/* The filter's own failure stays; another is told once. */
static void
test_failures(void **state)
{
	struct sock_fprog out;
	char msg[64];

	(void)state;
	bpfcache_put("eth0", true, "hots", DLT_EN10MB, -EINVAL, NULL,
	    "syntax error");
	bpfcache_put("eth0", true, "udp", DLT_EN10MB, -ECHILD, NULL, "died");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bpfcache_find("eth0", true, "hots",
		    DLT_EN10MB, &out, msg, sizeof(msg)), -EINVAL);
		assert_string_equal(msg, "syntax error");
		assert_null(out.filter);
	}
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), -ECHILD);
	assert_string_equal(msg, "died");
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
}

/* What a reload did not report of the once-told goes with that reload. */
static void
test_forget_once(void **state)
{
	struct sock_fprog in = { 3, insns }, out;
	char msg[64];

	(void)state;
	bpfcache_put("eth0", true, "udp", DLT_EN10MB, 0, &in, NULL);
	bpfcache_put("eth0", true, "hots", DLT_EN10MB, -EINVAL, NULL,
	    "syntax error");
	bpfcache_put("eth0", true, "tcp", DLT_EN10MB, -ECHILD, NULL, "died");
	bpfcache_forget_once();
	assert_int_equal(bpfcache_find("eth0", true, "tcp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth0", true, "hots", DLT_EN10MB, &out,
	    msg, sizeof(msg)), -EINVAL);
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 1);
	capture_bpf_free(&out);
}

static struct cfg_capture *
captures(char *iface1, char *bpf1, char *iface2, char *bpf2)
{
	static struct cfg_capture c[2];

	memset(c, 0, sizeof(c));
	c[0].name = "a";
	c[0].interface = iface1;
	c[0].bpf = bpf1;
	c[1].name = "b";
	c[1].interface = iface2;
	c[1].bpf = bpf2;
	return c;
}

/* What no capture of either configuration has is forgotten. */
static void
test_prune(void **state)
{
	struct sock_fprog in = { 3, insns }, out;
	struct cfg_capture ca[1] = { { .interface = "eth0", .bpf = "udp" } };
	struct cfg_capture cb[1] = { { .interface = "eth1", .bpf = "tcp" } };
	struct cfg a = { .captures = ca, .ncaptures = 1 };
	struct cfg b = { .captures = cb, .ncaptures = 1 };
	char msg[64];

	(void)state;
	bpfcache_put("eth0", true, "udp", DLT_EN10MB, 0, &in, NULL);
	bpfcache_put("eth1", true, "tcp", DLT_EN10MB, 0, &in, NULL);
	bpfcache_put("eth0", true, "tcp", DLT_EN10MB, 0, &in, NULL);
	bpfcache_prune(&a, &b);
	assert_int_equal(bpfcache_find("eth0", true, "tcp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth1", true, "tcp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 1);
	capture_bpf_free(&out);
	bpfcache_prune(&a, NULL);
	assert_int_equal(bpfcache_find("eth1", true, "tcp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find("eth0", true, "udp", DLT_EN10MB, &out,
	    msg, sizeof(msg)), 1);
	capture_bpf_free(&out);
}

static void
job_wait(struct bpfjob *j)
{
	int status;

	assert_true(j->pid > 0);
	assert_int_equal(waitpid(j->pid, &status, 0), j->pid);
	bpfjob_reaped(j, status);
	assert_int_equal(j->pid, 0);
}

/*
 * The child compiles each missing filter once, as capture_bpf_build
 * does here; a filter it refuses is kept refused; then nothing is left.
 */
static void
test_job(void **state)
{
	struct cfg c = { .path = "t.yaml", .ncaptures = 2 };
	struct sock_fprog want, got;
	struct bpfjob j = { 0 };
	int lt[2] = { DLT_EN10MB, DLT_EN10MB };
	char msg[256];

	(void)state;
	c.captures = captures(NOIF, "udp port 53", NOIF, "udp port 53");
	assert_int_equal(bpfjob_start(&j, &c, lt), 1);
	assert_int_equal(j.n, 1);
	job_wait(&j);
	assert_int_equal(capture_bpf_build("a", NOIF, "udp port 53",
	    DLT_EN10MB, &want, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(bpfcache_find(NOIF, false, "udp port 53", DLT_EN10MB,
	    &got, msg, sizeof(msg)), 1);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.filter, want.filter,
	    want.len * sizeof(*want.filter));
	capture_bpf_free(&got);
	capture_bpf_free(&want);
	/* Kept: nothing to do. */
	assert_int_equal(bpfjob_start(&j, &c, lt), 0);
	assert_int_equal(j.pid, 0);

	c.captures = captures(NOIF, "udp port 53", NOIF, "port 70000");
	assert_int_equal(bpfjob_start(&j, &c, lt), 1);
	job_wait(&j);
	assert_int_equal(bpfcache_find(NOIF, false, "port 70000", DLT_EN10MB,
	    &got, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "illegal port number 70000 > 65535");
	/* capture_bpf_compile finds it, with the capture's position. */
	c.captures[1].bpf_pos.line = 9;
	c.captures[1].bpf_pos.col = 10;
	assert_int_equal(capture_bpf_compile(&c, &c.captures[1], DLT_EN10MB,
	    &got, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg,
	    "t.yaml:9:10: bpf: illegal port number 70000 > 65535");
}

/* 600 host terms: seconds of libpcap's optimiser. */
static char *
long_filter(void)
{
	char *expr = calloc(600, 32);
	size_t len = 0;

	assert_non_null(expr);
	for (int i = 0; i < 600; i++)
		len += (size_t)sprintf(expr + len, "%shost 10.9.%d.%d",
		    i ? " or " : "", i / 256, i % 256);
	return expr;
}

/*
 * A job on a long filter ended by `end` long before it is done: the
 * reload that waits is told `want`, once.
 */
static void
job_cut(void (*end)(struct bpfjob *), const char *want)
{
	struct cfg c = { .path = "t.yaml", .ncaptures = 1 };
	struct sock_fprog got;
	struct bpfjob j = { 0 };
	int lt[1] = { DLT_EN10MB };
	char *expr = long_filter(), msg[256];

	c.captures = captures(NOIF, expr, NULL, NULL);
	assert_int_equal(bpfjob_start(&j, &c, lt), 1);
	end(&j);
	job_wait(&j);
	assert_int_equal(bpfcache_find(NOIF, false, expr, DLT_EN10MB, &got,
	    msg, sizeof(msg)), -ECHILD);
	assert_string_equal(msg, want);
	assert_int_equal(bpfcache_find(NOIF, false, expr, DLT_EN10MB, &got,
	    msg, sizeof(msg)), 0);
	free(expr);
}

static void
sigkill(struct bpfjob *j)
{
	assert_int_equal(kill(j->pid, SIGKILL), 0);
}

/*
 * The watch at its limit, not a nanosecond before, nor at a time older
 * than the start (the master's timer reads the clock once a turn, and a
 * job may start later in it).
 */
static void
overdue(struct bpfjob *j)
{
	assert_false(bpfjob_watch(j, j->started - 1));
	assert_false(bpfjob_watch(j, j->started + BPFJOB_LIMIT_NS - 1));
	assert_int_equal(kill(j->pid, 0), 0);
	assert_true(bpfjob_watch(j, j->started + BPFJOB_LIMIT_NS));
	assert_false(bpfjob_watch(j, j->started + 2 * BPFJOB_LIMIT_NS));
}

/* Killed before it is done, by a signal or for its time. */
static void
test_job_killed(void **state)
{
	(void)state;
	job_cut(sigkill,
	    "the process compiling it was killed by signal 9 (Killed)");
	job_cut(overdue, "the process compiling it took more than 600 s and "
	    "was killed");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_keys, teardown),
		cmocka_unit_test_teardown(test_failures, teardown),
		cmocka_unit_test_teardown(test_forget_once, teardown),
		cmocka_unit_test_teardown(test_prune, teardown),
		cmocka_unit_test_teardown(test_job, teardown),
		cmocka_unit_test_teardown(test_job_killed, teardown),
	};

	/* The child names itself, as in the daemon. */
	setproctitle_init(argc, argv, environ);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

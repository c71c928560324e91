/*
 * The control commands without root: the dispatch of a request line to the
 * table's handlers (unknown commands, empty lines, arguments, help), and
 * the transport over a socket in a directory of the test's own (framing,
 * the 4 KiB limit, a last line without newline, a silent client, a reload
 * reply that waits).  The handlers that need the master get a made-up one
 * with no worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "log.h"
#include "master_int.h"
#include "util.h"

#define COMMANDS	"status, stats, workers, plugins, reload, restart, " \
	"stop, metrics, help"

/* A master with two captures and no worker: enough for the handlers. */
struct fixture {
	struct cfg_capture	 caps[2];
	struct cfg		 cfg;
	struct master		 m;
	char			 dir[64];
	char			 path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->caps[0].name = "uplink";
	f->caps[0].workers = 4;
	f->caps[1].name = "dmz";
	f->caps[1].workers = 1;
	f->cfg.captures = f->caps;
	f->cfg.ncaptures = 2;
	f->m.g.cfg = &f->cfg;
	f->m.handing = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ctl_close(f->m.ctl);
	if (f->dir[0] != '\0')
		rmdir(f->dir);
	free(f);
	return 0;
}

/* The reply to `line` from the dispatch alone, as a string. */
static char *
dispatch(struct fixture *f, const char *line)
{
	struct ctl_req rq = { 0 };
	char *buf = strdup(line);

	assert_non_null(buf);
	ctl_dispatch(&f->m, &rq, buf);
	free(buf);
	assert_int_equal(rq.wait, 0);
	assert_non_null(rq.reply);
	assert_int_equal(rq.reply_len, strlen(rq.reply));
	return rq.reply;
}

static void
expect_reply(struct fixture *f, const char *line, const char *want)
{
	char *got = dispatch(f, line);

	assert_string_equal(got, want);
	free(got);
}

static void
test_unknown(void **state)
{
	struct fixture *f = *state;
	char line[200], want[300];

	expect_reply(f, "bogus", "{\"error\":\"unknown command \\\"bogus\\\" "
	    "(commands: " COMMANDS ")\"}\n");
	/* Only the command word is echoed, control bytes as '?'. */
	expect_reply(f, "\x01sta\x7fus now", "{\"error\":\"unknown command "
	    "\\\"?sta?us\\\" (commands: " COMMANDS ")\"}\n");
	/* At most 64 characters of it. */
	memset(line, 'x', 100);
	line[100] = '\0';
	snprintf(want, sizeof(want), "{\"error\":\"unknown command \\\"%.64s"
	    "\\\" (commands: " COMMANDS ")\"}\n", line);
	expect_reply(f, line, want);
	/* Case matters. */
	expect_reply(f, "STATUS", "{\"error\":\"unknown command \\\"STATUS"
	    "\\\" (commands: " COMMANDS ")\"}\n");
}

static void
test_empty(void **state)
{
	struct fixture *f = *state;

	expect_reply(f, "", "{\"error\":\"empty request\"}\n");
	expect_reply(f, " \t \r", "{\"error\":\"empty request\"}\n");
}

static void
test_help(void **state)
{
	static const char *const names[] = { "status", "stats", "workers",
	    "plugins", "reload", "restart", "stop", "metrics", "help" };
	struct fixture *f = *state;
	char *reply = dispatch(f, " help\r");
	json_t *doc, *arr, *cmd;
	json_error_t jerr;
	size_t i;

	doc = json_loads(reply, 0, &jerr);
	free(reply);
	assert_non_null(doc);
	arr = json_object_get(doc, "commands");
	assert_int_equal(json_array_size(arr), ctl_ncommands);
	assert_int_equal(ctl_ncommands, sizeof(names) / sizeof(names[0]));
	json_array_foreach(arr, i, cmd) {
		assert_string_equal(json_string_value(json_object_get(cmd,
		    "name")), names[i]);
		assert_string_equal(json_string_value(json_object_get(cmd,
		    "name")), ctl_commands[i].name);
		assert_string_equal(json_string_value(json_object_get(cmd,
		    "help")), ctl_commands[i].help);
		assert_int_equal(json_object_size(cmd), 2);
	}
	json_decref(doc);
	expect_reply(f, "help me", "{\"error\":\"help takes no argument\"}\n");
}

static void
test_arguments(void **state)
{
	struct fixture *f = *state;

	expect_reply(f, "stop now", "{\"error\":\"stop takes no argument\"}\n");
	expect_reply(f, "status x", "{\"error\":\"status takes no argument\"}\n");
	expect_reply(f, "restart", "{\"error\":\"restart: needs an argument "
	    "(restart CAPTURE[/WORKER]: failed or waiting workers start at "
	    "once, running ones restart one at a time)\"}\n");
	expect_reply(f, "restart  \t", "{\"error\":\"restart: needs an "
	    "argument (restart CAPTURE[/WORKER]: failed or waiting workers "
	    "start at once, running ones restart one at a time)\"}\n");
}

/*
 * The debug log line of a request shows its argument as one line: a
 * client's carriage return or escape would rewrite what a terminal shows
 * of the log, or start a forged line in it.
 */
static void
test_debug_line(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/ringfan-test-control.XXXXXX", text[512];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_init(LOG_LVL_DEBUG, 0);
	free(dispatch(f, "restart up\x1b[2Klink\rring\x7fx\xc2\x9b" "1m"));
	log_set_level(LOG_LVL_INFO);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	log_init(LOG_LVL_INFO, 0);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, "control: restart up?[2Klink?ring?x??1m\n"));
}

static void
test_restart_target(void **state)
{
	struct fixture *f = *state;

	expect_reply(f, "restart nope", "{\"error\":\"restart nope: no such "
	    "capture\"}\n");
	/* Blanks around the argument are not part of it. */
	expect_reply(f, "  restart \t nope \r", "{\"error\":\"restart nope: "
	    "no such capture\"}\n");
	expect_reply(f, "restart /1", "{\"error\":\"restart /1: no such "
	    "capture\"}\n");
	expect_reply(f, "restart uplin", "{\"error\":\"restart uplin: no such "
	    "capture\"}\n");
	expect_reply(f, "restart uplink/4", "{\"error\":\"restart uplink/4: "
	    "capture uplink has workers 0 to 3\"}\n");
	expect_reply(f, "restart uplink/99999999999999999999", "{\"error\":"
	    "\"restart uplink/99999999999999999999: capture uplink has workers "
	    "0 to 3\"}\n");
	expect_reply(f, "restart uplink/-1", "{\"error\":\"restart uplink/-1: "
	    "not a worker id (capture uplink has workers 0 to 3)\"}\n");
	expect_reply(f, "restart uplink/x", "{\"error\":\"restart uplink/x: "
	    "not a worker id (capture uplink has workers 0 to 3)\"}\n");
	expect_reply(f, "restart uplink/", "{\"error\":\"restart uplink/: "
	    "not a worker id (capture uplink has workers 0 to 3)\"}\n");
	expect_reply(f, "restart uplink/01", "{\"error\":\"restart uplink/01: "
	    "not a worker id (capture uplink has workers 0 to 3)\"}\n");
	expect_reply(f, "restart dmz/1", "{\"error\":\"restart dmz/1: capture "
	    "dmz has workers 0 to 0\"}\n");
	/* A good target: none of the (no) workers is running. */
	expect_reply(f, "restart dmz", "{\"ok\":true,\"restarted\":[]}\n");
	expect_reply(f, "restart uplink/3", "{\"ok\":true,\"restarted\":[]}\n");
	/* The last one's hand-over under way, named; then a capture reload's. */
	f->m.handing = 0;
	expect_reply(f, "restart dmz", "{\"error\":\"restart dmz: the restart "
	    "of uplink/3 is in progress (its workers are handed over one at a "
	    "time)\"}\n");
	f->m.handing = -1;
	f->m.swap = SWAP_CUTTING;
	expect_reply(f, "restart dmz", "{\"error\":\"restart dmz: a reload is "
	    "in progress\"}\n");
	f->m.swap = SWAP_NONE;
	f->m.stopping = true;
	expect_reply(f, "restart dmz", "{\"error\":\"restart dmz: the daemon is "
	    "stopping\"}\n");
}

/* The transport: a socket in a directory of the test's own. */
static void
open_server(struct fixture *f)
{
	char err[256];
	int rc;

	strlcpy(f->dir, "/tmp/rf-test-control.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	f->cfg.control.socket = f->path;
	f->cfg.control.mode = 0600;
	rc = ctl_open(&f->m.ctl, &f->cfg, &f->m, err, sizeof(err));
	if (rc != 0)
		fail_msg("ctl_open: %s", err);
}

static int
client(struct fixture *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strlcpy(sun.sun_path, f->path, sizeof(sun.sun_path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
send_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		assert_true(w > 0);
		buf += w;
		len -= (size_t)w;
	}
}

/* Serve until fd's reply has come whole (the server closed); or NULL. */
static char *
collect(struct fixture *f, int fd, int turns)
{
	struct pollfd pfd = { .fd = ctl_fd(f->m.ctl), .events = POLLIN };
	char *buf = calloc(1, 65536);
	size_t n = 0;
	ssize_t r;

	assert_non_null(buf);
	for (int i = 0; i < turns; i++) {
		ctl_serve(f->m.ctl);
		r = recv(fd, buf + n, 65535 - n, MSG_DONTWAIT);
		/*
		 * The end of the reply; a server closing with some of a too
		 * long request unread resets the connection after it.
		 */
		if (r == 0 || (r == -1 && errno == ECONNRESET)) {
			close(fd);
			ctl_sweep(f->m.ctl, mono_ns());
			return buf;
		}
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		(void)poll(&pfd, 1, 10);
	}
	free(buf);
	return NULL;
}

/* fd's whole reply, served now, is want. */
static void
expect_reply_on(struct fixture *f, int fd, const char *want)
{
	char *got = collect(f, fd, 500);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
expect_wire(struct fixture *f, const char *req, size_t len, bool shut,
    const char *want)
{
	int fd = client(f);

	send_all(fd, req, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	expect_reply_on(f, fd, want);
}

static void
test_wire(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(5000);
	char want[300];

	assert_non_null(big);
	open_server(f);
	expect_wire(f, "stop x\n", 7, false,
	    "{\"error\":\"stop takes no argument\"}\n");
	expect_wire(f, "\n", 1, false, "{\"error\":\"empty request\"}\n");
	/* A last line without a newline counts once the client shuts. */
	expect_wire(f, "restart dmz/7", 13, true, "{\"error\":\"restart dmz/7: "
	    "capture dmz has workers 0 to 0\"}\n");
	expect_wire(f, "re\0load\n", 8, false,
	    "{\"error\":\"malformed request: NUL byte\"}\n");
	/* 4096 bytes and the newline are a line; one more is not. */
	memset(big, 'a', 5000);
	big[4096] = '\n';
	/* Echoed as its first 64 characters. */
	snprintf(want, sizeof(want), "{\"error\":\"unknown command \\\"%.64s"
	    "\\\" (commands: " COMMANDS ")\"}\n", big);
	expect_wire(f, big, 4097, false, want);
	big[4096] = 'a';
	big[4097] = '\n';
	expect_wire(f, big, 4098, false,
	    "{\"error\":\"request line longer than 4096 bytes\"}\n");
	big[4097] = 'a';
	big[4999] = '\n';
	expect_wire(f, big, 5000, false,
	    "{\"error\":\"request line longer than 4096 bytes\"}\n");
	free(big);
}

static void
test_silent_client(void **state)
{
	struct fixture *f = *state;
	int fd;

	open_server(f);
	fd = client(f);
	send_all(fd, "sta", 3);
	assert_null(collect(f, fd, 5));
	/* Past the 5 s deadline: told why, then closed. */
	ctl_sweep(f->m.ctl, mono_ns() + 6000000000ull);
	expect_reply_on(f, fd, "{\"error\":\"timeout: no complete request "
	    "line within 5 s\"}\n");
}

/*
 * A client that sends more than a line may hold and then nothing, not
 * even the newline: at the deadline it is told the line is too long, the
 * cause, rather than that no line came.
 */
static void
test_overlong_silent(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(5000);
	int fd;

	assert_non_null(big);
	memset(big, 'a', 5000);
	open_server(f);
	fd = client(f);
	send_all(fd, big, 5000);
	free(big);
	assert_null(collect(f, fd, 5));
	ctl_sweep(f->m.ctl, mono_ns() + 6000000000ull);
	expect_reply_on(f, fd, "{\"error\":\"request line longer than 4096 "
	    "bytes\"}\n");
}

/* A reload asked for during another waits; its outcome answers it. */
static void
test_reload_waits(void **state)
{
	struct fixture *f = *state;
	int fd, fd2;

	open_server(f);
	f->m.handing = 0;		/* a reload's hand-over under way */
	fd = client(f);
	send_all(fd, "reload\n", 7);
	assert_null(collect(f, fd, 20));
	assert_true(f->m.reload_again);
	fd2 = client(f);
	send_all(fd2, "reload\n", 7);
	assert_null(collect(f, fd2, 20));
	master_queued_answer(&f->m, "reload: stopping before it could run");
	expect_reply_on(f, fd, "{\"error\":\"reload: stopping before it "
	    "could run\"}\n");
	expect_reply_on(f, fd2, "{\"error\":\"reload: stopping before it "
	    "could run\"}\n");

	/* Nobody answers: the deadline does. */
	fd = client(f);
	send_all(fd, "reload\n", 7);
	assert_null(collect(f, fd, 20));
	ctl_sweep(f->m.ctl, mono_ns() + 119000000000ull);
	assert_null(collect(f, fd, 5));	/* 2 minutes behind the one under way */
	ctl_sweep(f->m.ctl, mono_ns() + 121000000000ull);
	expect_reply_on(f, fd, "{\"error\":\"reload: the reload under way "
	    "had no outcome within 120 s; see status\"}\n");
}

/* ctl_open on f's path fails with rc and "control socket PATH: why". */
static void
expect_refused(struct fixture *f, int rc, const char *why)
{
	struct ctl_server *srv = NULL;
	char err[256], want[256];

	assert_int_equal(ctl_open(&srv, &f->cfg, NULL, err, sizeof(err)), rc);
	snprintf(want, sizeof(want), "control socket %s: %s", f->path, why);
	assert_string_equal(err, want);
	ctl_close(srv);
}

/*
 * A second server on a live socket is refused, and so is a path that is
 * not a socket; a socket file left by a dead server is replaced.
 */
static void
test_open(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char err[256];
	int fd;

	open_server(f);
	expect_refused(f, -EADDRINUSE, "another ringfan is listening on it");
	assert_int_equal(access(f->path, F_OK), 0);
	ctl_close(f->m.ctl);
	f->m.ctl = NULL;
	assert_int_equal(access(f->path, F_OK), -1);

	fd = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	expect_refused(f, -EEXIST, "exists and is a regular file, not a "
	    "socket; refusing to replace it");
	assert_int_equal(unlink(f->path), 0);

	/* Bound, never listening, closed: what a killed server leaves. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	strlcpy(sun.sun_path, f->path, sizeof(sun.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(ctl_open(&f->m.ctl, &f->cfg, &f->m, err, sizeof(err)),
	    0);
	expect_wire(f, "stop x\n", 7, false,
	    "{\"error\":\"stop takes no argument\"}\n");
}

/*
 * The kernel's PACKET_STATISTICS counts are 32 bits and start again at
 * each read: the master reads them often enough, whatever stats_interval
 * says, that a socket taking a 100 Gbit/s link's every frame, at the
 * smallest (148,809,524 a second), does not reach 2^32 between two reads.
 */
static void
test_kernel_read_period(void **state)
{
	struct fixture *f = *state;
	const uint64_t line_rate = 148809524;
	uint64_t before, period;

	f->cfg.log.level = LOG_LVL_INFO;
	f->cfg.stats_interval_ns = 3600ull * 1000000000u;
	f->m.next_stats_ns = UINT64_MAX;
	before = mono_ns();
	master_apply_live(&f->m);
	period = f->m.next_stats_ns - before;
	assert_true(period / 1000000 * line_rate / 1000 < (UINT64_C(1) << 32));
}

/*
 * A plugin may ask for a tick period that network time never reaches
 * (tick_period(ctx, UINT64_MAX): no tick before the end).  The plugins
 * reply shows it as the other unsigned values are, held at 2^63 - 1,
 * never as a negative number of nanoseconds.
 */
static void
test_plugins_tick_huge(void **state)
{
	struct fixture *f = *state;
	struct plugin_info in[2], *infos[2] = { &in[0], &in[1] };
	char *got;

	memset(in, 0, sizeof(in));
	strlcpy(in[0].name, "ticker", sizeof(in[0].name));
	strlcpy(in[0].step, "ticker", sizeof(in[0].step));
	in[0].abi = 2u << 16;
	in[0].tick_ns = UINT64_MAX;
	in[1] = in[0];
	in[1].tick_ns = (UINT64_C(1) << 63) + 1;
	f->caps[0].npipeline = 1;
	f->caps[1].npipeline = 1;
	f->m.g.infos = infos;
	got = dispatch(f, "plugins");
	assert_non_null(strstr(got, "\"tick_ns\":9223372036854775807,"));
	assert_null(strstr(got, "\"tick_ns\":-"));
	free(got);
}

/* status: a count of reloads past 2^31 is a count, not a negative int. */
static void
test_status_reloads_huge(void **state)
{
	struct fixture *f = *state;
	uint16_t groups[2] = { 42, 43 };
	unsigned others[2] = { 0, 3 };
	char *got;

	f->caps[0].interface = "eth0";
	f->caps[1].interface = "eth1";
	f->cfg.path = "ringfan.yaml";
	f->m.g.groups = groups;
	f->m.g.others = others;
	f->m.reloads = UINT32_MAX;
	got = dispatch(f, "status");
	assert_non_null(strstr(got, "\"reloads\":4294967295,"));
	/* Other programs' sockets in each capture's group. */
	assert_non_null(strstr(got, "\"group\":42,\"others\":0}"));
	assert_non_null(strstr(got, "\"group\":43,\"others\":3}"));
	free(got);
}

/*
 * Before the cut-over every frame of a new ring is a copy of one the old
 * generation takes: those a ring closed with when its interface went away
 * (carry.kernel_drops) are forgotten with the ring's own drops, out of its
 * kernel_packets too, not counted as lost.
 */
static void
test_forget_stranded(void **state)
{
	struct fixture *f = *state;
	struct stats_shm *shm = stats_create(1);
	struct stats_worker *w;
	struct slot slot;

	assert_non_null(shm);
	w = &shm->workers[0];
	memset(&slot, 0, sizeof(slot));
	slot.wk.sw = w;
	slot.wk.fd = -1;
	slot.next_fd = -1;
	slot.wk.cap = &f->caps[0];
	f->m.g.slots = &slot;
	f->m.g.nslots = 1;
	/* 120 put in its rings: 5 dropped, 20 left in a closed ring. */
	w->kernel_packets = 120;
	w->kernel_drops = 5;
	w->carry.kernel_drops = 20;
	master_swap_forget_drops(&f->m);
	assert_int_equal(w->kernel_packets, 95);
	assert_int_equal(w->kernel_drops, 0);
	assert_int_equal(w->carry.kernel_drops, 0);
	/* Only its strays: the same. */
	w->kernel_packets = 30;
	w->carry.kernel_drops = 30;
	master_swap_forget_drops(&f->m);
	assert_int_equal(w->kernel_packets, 0);
	assert_int_equal(w->carry.kernel_drops, 0);
	f->m.g.slots = NULL;
	f->m.g.nslots = 0;
	stats_destroy(shm, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arguments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_debug_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart_target, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overlong_silent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugins_tick_huge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kernel_read_period, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_reloads_huge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forget_stranded, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

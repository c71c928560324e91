/*
 * The metrics endpoint without root: the address forms metrics_listen
 * takes and the exact messages of those it refuses; the answers over
 * loopback (the page and its type, 404, 405 with Allow, HEAD, a request
 * with a body, a handler that makes no page, keep-alive, a client that
 * half-closes after its requests, the limit of 16 connections from one
 * address); the errors of a
 * start (an address in use); IPv6 where loopback has it; and a process
 * forked from the server, which must hold none of its TCP sockets while
 * the server goes on.  A made-up handler stands in for the metrics
 * command; the event loop is the test's own poll().
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpd.h"
#include "private_net.h"
#include "util.h"

#define PAGE	"ringfan_test_total{capture=\"a\",worker=\"0\"} 7\n"
#define TYPE	"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"

/* What the made-up handler answers. */
enum { PAGE_OK, PAGE_NONE };

static void
page(void *ctx, struct ctl_req *rq, const char *arg)
{
	assert_string_equal(arg, "");
	if (*(int *)ctx == PAGE_NONE)
		return;
	ctl_reply_text(rq, strdup(PAGE), strlen(PAGE));
}

static const struct {
	const char	*in;
	int		 family;	/* 0: refused */
	unsigned	 port;
	const char	*err;
} addrs[] = {
	{ "127.0.0.1:9108", AF_INET, 9108, NULL },
	{ "0.0.0.0:1", AF_INET, 1, NULL },
	{ "[::1]:65535", AF_INET6, 65535, NULL },
	{ "[::]:80", AF_INET6, 80, NULL },
	{ "[fe80::1]:80", AF_INET6, 80, NULL },
	{ "localhost:9108", 0, 0, "\"localhost:9108\": \"localhost\" is not "
	    "a literal IPv4 address (host names are not looked up)" },
	{ "::1:9108", 0, 0, "\"::1:9108\": \"::1\" is not a literal IPv4 "
	    "address (host names are not looked up); an IPv6 address goes "
	    "in brackets: [ADDRESS]:PORT" },
	{ "[127.0.0.1]:80", 0, 0, "\"[127.0.0.1]:80\": \"127.0.0.1\" is not "
	    "a literal IPv6 address (host names are not looked up)" },
	{ "1.2.3:80", 0, 0, "\"1.2.3:80\": \"1.2.3\" is not a literal IPv4 "
	    "address (host names are not looked up)" },
	{ "127.0.0.1:0", 0, 0, "\"127.0.0.1:0\": bad port \"0\" (1..65535)" },
	{ "127.0.0.1:65536", 0, 0,
	    "\"127.0.0.1:65536\": bad port \"65536\" (1..65535)" },
	{ "127.0.0.1:+80", 0, 0,
	    "\"127.0.0.1:+80\": bad port \"+80\" (1..65535)" },
	{ "127.0.0.1:", 0, 0, "\"127.0.0.1:\": bad port \"\" (1..65535)" },
	{ "127.0.0.1", 0, 0, "\"127.0.0.1\" is not ADDRESS:PORT (a literal "
	    "IPv4 address, or an IPv6 address in brackets such as "
	    "[::1]:9108)" },
	{ ":80", 0, 0, "\":80\" is not ADDRESS:PORT (a literal IPv4 address, "
	    "or an IPv6 address in brackets such as [::1]:9108)" },
	{ "[::1]9108", 0, 0, "\"[::1]9108\" is not ADDRESS:PORT (a literal "
	    "IPv4 address, or an IPv6 address in brackets such as "
	    "[::1]:9108)" },
	{ "[::1", 0, 0, "\"[::1\" is not ADDRESS:PORT (a literal IPv4 "
	    "address, or an IPv6 address in brackets such as [::1]:9108)" },
};

static void
test_parse(void **state)
{
	struct sockaddr_storage ss;
	char err[256];
	socklen_t len;
	unsigned port;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		err[0] = '\0';
		rc = httpd_parse_addr(addrs[i].in, &ss, &len, err, sizeof(err));
		if (addrs[i].family == 0) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, addrs[i].err);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", addrs[i].in, err);
		assert_int_equal(ss.ss_family, addrs[i].family);
		port = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
		assert_int_equal(port, addrs[i].port);
		assert_int_equal(len, ss.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}
}

/* A port of the family's loopback that nothing listens on now. */
static unsigned
free_port(int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	unsigned port;
	int fd;

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if ((fd = socket(family, SOCK_STREAM, 0)) == -1)
		return 0;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return port;
}

/* Run the server until fd is readable, at most 5 s; false on timeout. */
static bool
serve_until(struct httpd *h, int fd)
{
	struct pollfd p[2] = { { httpd_fd(h), POLLIN, 0 },
	    { fd, POLLIN, 0 } };
	uint64_t end = mono_ns() + 5000000000ull;

	while (mono_ns() < end) {
		if (poll(p, 2, 100) == -1)
			return false;
		if (p[0].revents != 0)
			httpd_serve(h);
		if (p[1].revents != 0)
			return true;
	}
	return false;
}

static int
client(const char *addr)
{
	struct sockaddr_storage ss;
	char err[256];
	socklen_t len;
	int fd;

	assert_int_equal(httpd_parse_addr(addr, &ss, &len, err, sizeof(err)),
	    0);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/*
 * Send req on fd and read what comes back, serving meanwhile: until the
 * server closes when `until_close`, else until `want` bytes came.
 */
static void
exchange(struct httpd *h, int fd, const char *req, char *out, size_t outlen,
    bool until_close, size_t want)
{
	size_t n = 0, off = 0, len = strlen(req);
	ssize_t r;

	while (off < len) {
		struct pollfd p = { fd, POLLOUT, 0 };

		assert_true(poll(&p, 1, 5000) == 1);
		r = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (r == -1 && errno == EAGAIN)
			continue;
		assert_true(r > 0);
		off += (size_t)r;
	}
	for (;;) {
		if (!serve_until(h, fd))
			fail_msg("no answer to: %s (so far: %.*s)", req, (int)n,
			    out);
		r = recv(fd, out + n, outlen - 1 - n, 0);
		if (r == -1 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (!until_close && n >= want)
			break;
		assert_true(n < outlen - 1);
	}
	out[n] = '\0';
	if (until_close)
		assert_true(r == 0);
}

/* One request on a connection of its own, the whole answer. */
static void
ask(struct httpd *h, const char *addr, const char *req, char *out,
    size_t outlen)
{
	int fd = client(addr);

	exchange(h, fd, req, out, outlen, true, 0);
	close(fd);
}

static void
test_serve(void **state)
{
	int mode = PAGE_OK;
	char addr[64], err[512], out[4096], again[4096];
	struct httpd *h;
	const char *body;
	int fd;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port(AF_INET));
	if (httpd_open(&h, addr, page, &mode, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	ask(h, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	assert_non_null(strstr(out, TYPE));
	assert_non_null(body = strstr(out, "\r\n\r\n"));
	assert_string_equal(body + 4, PAGE);

	/*
	 * A query string is no other page.  The library answers in
	 * HTTP/1.1 whatever version the request names.
	 */
	ask(h, addr, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);

	/*
	 * A target in absolute form: its scheme and authority are not
	 * looked at, whichever the scheme (control.md), and the path after
	 * them is the page.
	 */
	ask(h, addr, "GET http://x:1/metrics HTTP/1.0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	ask(h, addr, "GET https://x/metrics HTTP/1.0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	ask(h, addr, "GET svn+ssh://x/metrics HTTP/1.0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	ask(h, addr, "GET https://x/other HTTP/1.0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 404 Not Found\r\n", 24);

	ask(h, addr, "GET /other HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 404 Not Found\r\n", 24);

	/*
	 * An escaped byte is the byte, but an escaped NUL would cut the
	 * path short: /metrics%00x is no more the page than /metrics_x.
	 */
	ask(h, addr, "GET /%6detrics HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	ask(h, addr, "GET /metrics%00x HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 404 Not Found\r\n", 24);
	ask(h, addr, "GET /metrics%00 HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 404 Not Found\r\n", 24);
	ask(h, addr, "GET http://x/metrics%00/x HTTP/1.0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 404 Not Found\r\n", 24);
	assert_string_equal(strstr(out, "\r\n\r\n") + 4,
	    "not found: the metrics are at /metrics\n");

	ask(h, addr, "POST /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1000000\r\n\r\nabc", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33);
	assert_non_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));

	ask(h, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 413 Content Too Large\r\n", 32);

	ask(h, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", out,
	    sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 413 Content Too Large\r\n", 32);

	ask(h, addr, "HEAD /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	assert_string_equal(strstr(out, "\r\n\r\n") + 4, "");

	/* A request line that is not HTTP: an error, not a page. */
	ask(h, addr, "\x01\x02 nonsense\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 400 ", 13);

	mode = PAGE_NONE;
	ask(h, addr, "GET /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 500 Internal Server Error\r\n", 36);
	mode = PAGE_OK;

	/* Keep-alive: two pages over one connection. */
	fd = client(addr);
	exchange(h, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", out,
	    sizeof(out), false, 0);
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	while (strstr(out, PAGE) == NULL)
		exchange(h, fd, "", out + strlen(out), sizeof(out) -
		    strlen(out), false, 1);
	exchange(h, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", again, sizeof(again), true, 0);
	assert_memory_equal(again, "HTTP/1.1 200 OK\r\n", 17);
	close(fd);

	httpd_close(h);
}

/* How many times needle is in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/*
 * A client that sends its requests and shuts its sending side at once
 * (printf ... | nc -N): every request is answered, and the server then
 * closes at once, as it can read no other request; the end of the answer
 * does not wait for the 5 s without a byte.
 */
static void
test_half_close(void **state)
{
	static const char *const reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
		    "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	struct pollfd p = { .events = POLLOUT };
	int mode = PAGE_OK, fd;
	char addr[64], err[512], out[8192];
	struct httpd *h;
	uint64_t end;
	size_t n;
	ssize_t r;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port(AF_INET));
	if (httpd_open(&h, addr, page, &mode, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fd = client(addr);
		p.fd = fd;
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(send(fd, reqs[i], strlen(reqs[i]),
		    MSG_NOSIGNAL), (ssize_t)strlen(reqs[i]));
		assert_int_equal(shutdown(fd, SHUT_WR), 0);
		end = mono_ns() + 1000000000ull;
		n = 0;
		for (;;) {
			if (mono_ns() >= end)
				fail_msg("request %zu: no end within 1 s of "
				    "the half-close (so far: %.*s)", i,
				    (int)n, out);
			if (!serve_until(h, fd))
				continue;
			r = recv(fd, out + n, sizeof(out) - 1 - n, 0);
			if (r == -1 && errno == EAGAIN)
				continue;
			assert_true(r >= 0);
			if (r == 0)
				break;
			n += (size_t)r;
			assert_true(n < sizeof(out) - 1);
		}
		out[n] = '\0';
		assert_int_equal(count(out, "HTTP/1.1 200 OK\r\n"),
		    count(reqs[i], "HTTP/1.1\r\n"));
		assert_int_equal(count(out, PAGE),
		    count(reqs[i], "GET /metrics"));
		close(fd);
	}
	httpd_close(h);
}

/*
 * 16 connections from one address at most: a 17th is closed at once,
 * unanswered; but one its client has closed no longer counts, even while
 * the server has yet to read its end: 16 closed and a new one made before
 * the server's next turn, the new one is answered.
 */
static void
test_per_ip(void **state)
{
	static const char head[] = "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	int mode = PAGE_OK, fds[16], fd;
	char addr[64], err[512], out[4096];
	struct httpd *h;
	ssize_t r;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port(AF_INET));
	if (httpd_open(&h, addr, page, &mode, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < 16; i++) {
		fds[i] = client(addr);
		exchange(h, fds[i], head, out, sizeof(out), false,
		    strlen("HTTP/1.1 200 OK\r\n"));
		assert_memory_equal(out, "HTTP/1.1 200 OK\r\n",
		    strlen("HTTP/1.1 200 OK\r\n"));
	}
	fd = client(addr);
	assert_true(serve_until(h, fd));
	r = recv(fd, out, sizeof(out), 0);
	assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
	close(fd);
	/* Closed, and a new connection made, before the server's next turn. */
	for (size_t i = 0; i < 16; i++)
		close(fds[i]);
	ask(h, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, PAGE));
	httpd_close(h);
}

static void
test_open_errors(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int mode = PAGE_OK, fd;
	char addr[64], want[128], err[512];
	struct httpd *h = (struct httpd *)(uintptr_t)1;
	unsigned port = free_port(AF_INET);

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(httpd_open(&h, addr, page, &mode, err, sizeof(err)),
	    -EADDRINUSE);
	assert_null(h);
	snprintf(want, sizeof(want), "metrics_listen %s: bind: Address "
	    "already in use", addr);
	assert_string_equal(err, want);
	close(fd);

	assert_int_equal(httpd_open(&h, "localhost:80", page, &mode, err,
	    sizeof(err)), -EINVAL);
	assert_string_equal(err, "metrics_listen: \"localhost:80\": "
	    "\"localhost\" is not a literal IPv4 address (host names are not "
	    "looked up)");
	httpd_close(NULL);
}

static bool ipv6_skipped;

static void
test_ipv6(void **state)
{
	int mode = PAGE_OK;
	char addr[64], err[512], out[4096];
	struct httpd *h;
	unsigned port = free_port(AF_INET6);

	(void)state;
	if (port == 0) {
		/* No IPv6 loopback here: the program then exits 77, not 0. */
		ipv6_skipped = true;
		skip();
	}
	snprintf(addr, sizeof(addr), "[::1]:%u", port);
	if (httpd_open(&h, addr, page, &mode, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	ask(h, addr, "GET /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	assert_string_equal(strstr(out, "\r\n\r\n") + 4, PAGE);
	httpd_close(h);
}

/* The TCP sockets among this process's descriptors. */
static int
tcp_sockets(void)
{
	struct dirent *de;
	int n = 0, fd, type, domain;
	socklen_t len;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (fd = atoi(de->d_name)) == dirfd(d))
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
		    type == SOCK_STREAM && (domain == AF_INET ||
		    domain == AF_INET6))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A worker forked while a client is connected: it keeps no TCP socket of
 * the server's, and closing its copies ends nothing of the server's.
 */
static void
test_fork(void **state)
{
	int mode = PAGE_OK, status, fd;
	char addr[64], err[512], out[4096];
	struct httpd *h;
	pid_t pid;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port(AF_INET));
	if (httpd_open(&h, addr, page, &mode, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* A first request on fd: the server has accepted it. */
	fd = client(addr);
	exchange(h, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", out,
	    sizeof(out), false, 0);
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	while (strstr(out, PAGE) == NULL)
		exchange(h, fd, "", out + strlen(out), sizeof(out) -
		    strlen(out), false, 1);
	/* The listening socket, the server's end of fd, and fd. */
	assert_int_equal(tcp_sockets(), 3);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(fd);
		httpd_close(h);
		_exit(tcp_sockets() == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The connection the child had a copy of still works. */
	exchange(h, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", out, sizeof(out), true, 0);
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	close(fd);
	httpd_close(h);
	assert_int_equal(tcp_sockets(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_per_ip),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_fork),
	};
	int failed;

	private_net();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed != 0 ? failed : ipv6_skipped ? 77 : 0;
}

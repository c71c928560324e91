/*
 * The metrics endpoint over HTTP.  libmicrohttpd parses the requests; it
 * runs in its external-poll epoll mode, without a thread of its own: the
 * master's loop watches one descriptor of ours (an epoll instance holding
 * the library's epoll descriptor and a timer) and calls httpd_serve(),
 * which runs the library, hands it the clients waiting, runs it again,
 * cuts off clients past their deadline and sets the timer to the
 * library's next timeout.  The page is made by the
 * control handler of the `metrics` command, so HTTP and the control
 * socket never disagree.
 *
 * Clients are untrusted, and the master must never wait on one:
 *   - at most HTTPD_MAX_CONN connections (the kernel's backlog holds the
 *     next ones), HTTPD_PER_IP from one address (the library closes the
 *     next one at once);
 *   - the listening socket is ours, not the library's: we accept and hand
 *     each connection over (MHD_add_connection).  At the open file limit
 *     the library would either poll its listener in a busy loop (no
 *     connection open) or stop accepting until one of its connections
 *     closes, and then not look again until something else woke it: with
 *     nothing left open, never.  Here a connection that comes at the limit
 *     is closed at once by way of a spare descriptor, as on the control
 *     socket, and the limit is logged once;
 *   - a connection silent for HTTPD_IDLE_S seconds is closed (the
 *     library's timeout);
 *   - a request must arrive whole and its answer go out within
 *     HTTPD_REQUEST_NS of the connection's start or of the previous
 *     answer, so a client trickling one byte at a time, or reading its
 *     answer so (which the idle timeout alone never catches), is cut off
 *     too;
 *   - a request may use at most HTTPD_MEMORY bytes: longer headers get an
 *     error status; a request that announces a body is refused before the
 *     body is read, and the library then closes the connection.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "log.h"
#include "util.h"

#define HTTPD_MAX_CONN		64
#define HTTPD_PER_IP		16
#define HTTPD_IDLE_S		5
#define HTTPD_REQUEST_NS	(5ull * 1000000000u)
#define HTTPD_MEMORY		(32u * 1024)
#define HTTPD_BACKLOG		128
/* How long the listener rests at the open file limit without a spare. */
#define HTTPD_PAUSE_NS		(100ull * 1000000u)
/* The 0.0.4 text format, as Prometheus asks for it. */
#define HTTPD_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* A connection the library has open. */
struct httpd_conn {
	struct MHD_Connection	*c;		/* NULL: a free entry */
	int			 fd;
	uint64_t		 since;		/* start, or the last answer */
	bool			 cut;		/* shut: past its deadline */
};

struct httpd {
	struct MHD_Daemon	*d;
	int			 lfd;		/* listening; ours */
	int			 mhd_fd;	/* the library's epoll */
	int			 epfd;		/* mhd_fd, tfd and lfd */
	int			 tfd;		/* the next timeout */
	/*
	 * lfd is in epfd while there is room for a connection; out of it at
	 * HTTPD_MAX_CONN (the kernel's backlog then holds the next ones),
	 * and for HTTPD_PAUSE_NS at the open file limit without a spare.
	 */
	bool			 listening;
	uint64_t		 paused_until;	/* monotonic; 0: not paused */
	int			 spare;		/* /dev/null, given up at the
						   open file limit */
	bool			 at_limit;	/* logged; until an accept */
	unsigned		 nconns;	/* the library has open */
	pid_t			 owner;
	ctl_handler		*fn;
	void			*ctx;
	char			 addr[64];
	struct httpd_conn	 conns[HTTPD_MAX_CONN];
};

/* One fixed page per error status. */
static const struct httpd_page {
	unsigned	 status;
	const char	*text;
} httpd_pages[] = {
	{ MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n" },
	{ MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n" },
	{ MHD_HTTP_CONTENT_TOO_LARGE, "a request for /metrics has no body\n" },
	{ MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error: no metrics\n" },
};

int
httpd_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *h, *colon, *end;
	bool v6 = s[0] == '[';
	uint64_t port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		h = s + 1;
		end = strchr(h, ']');
		colon = end != NULL && end[1] == ':' ? end + 1 : NULL;
	} else {
		h = s;
		end = colon = strrchr(s, ':');
	}
	n = end != NULL ? (size_t)(end - h) : 0;
	if (colon == NULL || n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen, "\"%s\" is not ADDRESS:PORT (a literal "
		    "IPv4 address, or an IPv6 address in brackets such as "
		    "[::1]:9108)", s);
		return -EINVAL;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (parse_uint(colon + 1, &port) != 0 || port < 1 || port > 65535) {
		snprintf(err, errlen, "\"%s\": bad port \"%s\" (1..65535)", s,
		    colon + 1);
		return -EINVAL;
	}
	if (v6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	if (!v6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	snprintf(err, errlen, "\"%s\": \"%s\" is not a literal %s address "
	    "(host names are not looked up)%s", s, host, v6 ? "IPv6" : "IPv4",
	    !v6 && strchr(host, ':') != NULL ? "; an IPv6 address goes in "
	    "brackets: [ADDRESS]:PORT" : "");
	return -EINVAL;
}

static enum MHD_Result
httpd_error(struct MHD_Connection *c, unsigned status)
{
	const struct httpd_page *p = NULL;
	struct MHD_Response *r;
	enum MHD_Result rc;

	for (size_t i = 0; i < sizeof(httpd_pages) / sizeof(httpd_pages[0]);
	    i++)
		if (httpd_pages[i].status == status)
			p = &httpd_pages[i];
	if (p == NULL || (r = MHD_create_response_from_buffer(strlen(p->text),
	    (void *)(uintptr_t)p->text, MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * Each header of a request: whether it may announce a body.  Every
 * Content-Length counts, not the first alone: the library frames the
 * request by one of them, and two (even both 0 and another) are one body
 * too many.
 */
static enum MHD_Result
httpd_body_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	unsigned *lengths = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		*lengths += 2;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		*lengths += value != NULL && value[0] != '\0' &&
		    value[strspn(value, "0")] == '\0' ? 1 : 2;
	return MHD_YES;
}

/*
 * A request that announces a body: a GET of /metrics has none.  At most
 * one Content-Length, of zero (in any number of digits), and no
 * Transfer-Encoding.
 */
static bool
httpd_has_body(struct MHD_Connection *c)
{
	unsigned lengths = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND, httpd_body_header,
	    &lengths);
	return lengths > 1;
}

/*
 * The path of a request's target: as it is (origin form), or after the
 * scheme and the authority of an absolute form ("http://host:port/x"),
 * which a server must take as well.  The scheme is not looked at, so an
 * "https://" in front of a plain connection names the same page: a
 * scheme is a letter, then letters, digits, '+', '-' and '.'.
 */
static const char *
httpd_path(const char *url)
{
	const char *p;
	size_t n;

	n = isalpha((unsigned char)url[0]) ? strspn(url, "abcdefghijklmnopq"
	    "rstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") : 0;
	if (n == 0 || strncmp(url + n, "://", 3) != 0)
		return url;
	p = strchr(url + n + 3, '/');
	return p != NULL ? p : "/";
}

/*
 * The %XX escapes of a target, decoded as the library does, except in one
 * that holds a %00: decoded, its NUL would end the path early, and
 * "/metrics%00x" would name the page.  Left as it came, it names none.
 */
static size_t
httpd_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	if (strstr(s, "%00") != NULL)
		return strlen(s);
	return MHD_http_unescape(s);
}

/*
 * The library calls this once the headers are in, then again once the
 * body is.  Whatever is refused is refused on the first call: the library
 * then reads no body and closes the connection after the answer.  A GET
 * or HEAD of /metrics without a body is answered on the second call, so
 * that the connection stays open for the next scrape.
 */
static enum MHD_Result
httpd_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct ctl_req rq = { .reply = NULL };
	struct MHD_Response *r;
	enum MHD_Result rc;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return httpd_error(c, MHD_HTTP_METHOD_NOT_ALLOWED);
		if (strcmp(httpd_path(url), "/metrics") != 0)
			return httpd_error(c, MHD_HTTP_NOT_FOUND);
		if (httpd_has_body(c))
			return httpd_error(c, MHD_HTTP_CONTENT_TOO_LARGE);
		*con_cls = h;
		return MHD_YES;
	}
	/* Announced as none; whatever comes anyway is not looked at. */
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	h->fn(h->ctx, &rq, "");
	/* The metrics handler answers at once; a parked reply is a bug. */
	if (rq.reply == NULL || rq.wait != 0) {
		free(rq.reply);
		return httpd_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	/* The library frees the text with the response. */
	r = MHD_create_response_from_buffer(rq.reply_len, rq.reply,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(rq.reply);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    HTTPD_CONTENT_TYPE);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * The library's connections, kept to cut slow ones off and for a fork.
 * The table has room for the library's connection limit, so every one
 * has its entry.
 */
static void
httpd_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct httpd_conn *e = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (e != NULL)
			e->c = NULL;
		*socket_context = NULL;
		if (h->nconns > 0)
			h->nconns--;
		return;
	}
	h->nconns++;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (size_t i = 0; i < HTTPD_MAX_CONN && ci != NULL; i++) {
		e = &h->conns[i];
		if (e->c != NULL)
			continue;
		*e = (struct httpd_conn){ .c = c, .fd = ci->connect_fd,
		    .since = mono_ns() };
		*socket_context = e;
		return;
	}
}

/*
 * A reply went out: the next request has its own deadline.  A client that
 * shut its sending side with its request (printf ... | nc -N) can send no
 * other: once the kernel holds nothing more from it, its socket's reading
 * side is shut too.  The library, having read the request with that end
 * behind it, does not read the socket again until something new comes,
 * so it would close only at the idle timeout; the shutdown wakes it to
 * read the end and close.  Requests it has already read are answered
 * first, as after any end it reads.
 */
static void
httpd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd_conn *e;
	char b;

	(void)cls;
	(void)con_cls;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (e = ci->socket_context) == NULL)
		return;
	e->since = mono_ns();
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && !e->cut &&
	    recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		shutdown(e->fd, SHUT_RD);
}

/* What the library says is about clients: debug, never louder. */
__attribute__((format(printf, 2, 0)))
static void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\n");
	log_debug("metrics_listen %s: %.*s", h->addr, (int)n, line);
}

/*
 * A request that has not arrived whole by its deadline: shut the socket,
 * so that the library reads its end and closes the connection itself.
 * Returns the time until the next deadline.
 */
static uint64_t
httpd_cut(struct httpd *h, uint64_t now)
{
	uint64_t next = UINT64_MAX, due;
	struct httpd_conn *e;

	for (size_t i = 0; i < HTTPD_MAX_CONN; i++) {
		e = &h->conns[i];
		if (e->c == NULL || e->cut)
			continue;
		due = e->since + HTTPD_REQUEST_NS;
		if (now >= due) {
			shutdown(e->fd, SHUT_RDWR);
			e->cut = true;
			log_debug("metrics_listen %s: a request took longer "
			    "than %llu s: connection closed", h->addr,
			    HTTPD_REQUEST_NS / 1000000000ull);
			continue;
		}
		if (due - now < next)
			next = due - now;
	}
	return next;
}

/* The timer, to the library's next timeout or a client's deadline. */
static void
httpd_arm(struct httpd *h, uint64_t next)
{
	struct itimerspec its = { .it_value = { 0, 0 } };
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->d, &ms) == MHD_YES && ms < next / 1000000u)
		next = (uint64_t)ms * 1000000u;
	if (next != UINT64_MAX) {
		/* 0 would disarm it: "at once" is the next turn of the loop. */
		if (next == 0)
			next = 1000;
		its.it_value.tv_sec = (time_t)(next / 1000000000u);
		its.it_value.tv_nsec = (long)(next % 1000000000u);
	}
	if (timerfd_settime(h->tfd, 0, &its, NULL) == -1)
		log_warn("metrics_listen %s: timerfd_settime", h->addr);
}

/* The listener in epfd (on) or out of it, as room for clients says. */
static void
httpd_listen(struct httpd *h, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (on == h->listening)
		return;
	if (epoll_ctl(h->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, h->lfd,
	    on ? &ev : NULL) == 0)
		h->listening = on;
	else
		log_warn("metrics_listen %s: epoll_ctl", h->addr);
}

/*
 * accept() failed for want of a descriptor (err): the client waiting is
 * closed at once by way of the spare, true when there may be more to
 * take.  Without a spare, the listener rests for HTTPD_PAUSE_NS rather
 * than wake the loop at once again.
 */
static bool
httpd_at_limit(struct httpd *h, int err)
{
	int shed;

	if (!h->at_limit)
		log_warnx("metrics_listen %s: accept: %s with %u connections: "
		    "new connections are closed at once", h->addr,
		    strerror(err), h->nconns);
	h->at_limit = true;
	if ((shed = spare_shed(&h->spare, h->lfd)) >= 0)
		return shed == 1;
	httpd_listen(h, false);
	h->paused_until = mono_ns() + HTTPD_PAUSE_NS;
	return false;
}

/* The clients waiting, handed to the library while it has room. */
static void
httpd_accept(struct httpd *h)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	while (h->listening) {
		if (h->nconns >= HTTPD_MAX_CONN) {
			httpd_listen(h, false);
			return;
		}
		len = sizeof(ss);
		fd = accept4(h->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) &&
			    httpd_at_limit(h, errno))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EMFILE && errno != ENFILE &&
			    errno != ENOBUFS && errno != ENOMEM)
				log_debug("metrics_listen %s: accept: %s",
				    h->addr, strerror(errno));
			return;
		}
		h->at_limit = false;
		/*
		 * The ends of connections that came before this one, read
		 * first: a client that closed its 16 and then connected must
		 * get the place also when its closes came after this turn's
		 * first run of the library.
		 */
		MHD_run(h->d);
		/*
		 * The library closes fd when it refuses it (a 17th from one
		 * address); what it says about that is in its log.
		 */
		(void)MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, len);
	}
}

void
httpd_serve(struct httpd *h)
{
	uint64_t expirations, now, next;

	/* Nothing to read when another descriptor woke us. */
	if (read(h->tfd, &expirations, sizeof(expirations)) == -1 &&
	    errno != EAGAIN)
		log_warn("metrics_listen %s: read(timerfd)", h->addr);
	if (h->spare == -1)
		h->spare = spare_open();
	/*
	 * The library first, then the listener: a connection its client has
	 * closed counts against the client's address until the library has
	 * read the end, and a client that closed its 16 and at once opened
	 * another, all seen in this one turn, must get the place.
	 */
	MHD_run(h->d);
	now = mono_ns();
	if (!h->listening && now >= h->paused_until &&
	    h->nconns < HTTPD_MAX_CONN) {
		h->paused_until = 0;
		httpd_listen(h, true);
	}
	httpd_accept(h);
	MHD_run(h->d);
	/* A place freed in the run: the kernel's backlog may be waiting. */
	if (!h->listening && h->paused_until == 0 &&
	    h->nconns < HTTPD_MAX_CONN)
		httpd_listen(h, true);
	now = mono_ns();
	next = httpd_cut(h, now);
	if (h->paused_until != 0)
		next = h->paused_until <= now ? 0 :
		    MIN(next, h->paused_until - now);
	httpd_arm(h, next);
}

int
httpd_fd(const struct httpd *h)
{
	return h->epfd;
}

static int
httpd_fail(struct httpd *h, char *err, size_t errlen, const char *call)
{
	int e = errno;

	snprintf(err, errlen, "metrics_listen %s: %s: %s", h->addr, call,
	    strerror(e));
	httpd_close(h);
	return -e;
}

int
httpd_open(struct httpd **out, const char *addr, ctl_handler *fn, void *ctx,
    char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *di;
	struct sockaddr_storage ss;
	char why[256];
	struct httpd *h;
	socklen_t len;
	int one = 1, rc;

	*out = NULL;
	if ((rc = httpd_parse_addr(addr, &ss, &len, why, sizeof(why))) != 0) {
		snprintf(err, errlen, "metrics_listen: %s", why);
		return rc;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "metrics_listen %s: %s", addr,
		    strerror(errno));
		return -ENOMEM;
	}
	h->lfd = h->mhd_fd = h->epfd = h->tfd = -1;
	h->spare = spare_open();
	h->owner = getpid();
	h->fn = fn;
	h->ctx = ctx;
	strlcpy(h->addr, addr, sizeof(h->addr));
	h->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (h->lfd == -1)
		return httpd_fail(h, err, errlen, "socket");
	/* A restart need not wait for the last run's connections to age. */
	if (setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1)
		return httpd_fail(h, err, errlen, "setsockopt(SO_REUSEADDR)");
	/* [::] means IPv6 only: IPv4 is listened on only where configured. */
	if (ss.ss_family == AF_INET6 && setsockopt(h->lfd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1)
		return httpd_fail(h, err, errlen, "setsockopt(IPV6_V6ONLY)");
	if (bind(h->lfd, (struct sockaddr *)&ss, len) == -1)
		return httpd_fail(h, err, errlen, "bind");
	if (listen(h->lfd, HTTPD_BACKLOG) == -1)
		return httpd_fail(h, err, errlen, "listen");
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return httpd_fail(h, err, errlen, "epoll_create1");
	if ((h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1)
		return httpd_fail(h, err, errlen, "timerfd_create");
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
	    httpd_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONN,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_notify, h,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, httpd_unescape, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		if (errno == 0)
			errno = EIO;
		return httpd_fail(h, err, errlen, "MHD_start_daemon");
	}
	if ((di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL) {
		errno = ENOTSUP;
		return httpd_fail(h, err, errlen, "MHD_get_daemon_info");
	}
	h->mhd_fd = di->epoll_fd;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->mhd_fd, &ev) == -1 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->tfd, &ev) == -1 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev) == -1)
		return httpd_fail(h, err, errlen, "epoll_ctl");
	h->listening = true;
	httpd_arm(h, UINT64_MAX);
	log_info("metrics on http://%s/metrics", addr);
	*out = h;
	return 0;
}

void
httpd_close(struct httpd *h)
{
	if (h == NULL)
		return;
	if (getpid() != h->owner) {
		/*
		 * A worker: its copies of the descriptors go, nothing else.
		 * Stopping the library here would shut the owner's
		 * connections; the memory goes with the process.
		 */
		for (size_t i = 0; i < HTTPD_MAX_CONN; i++)
			if (h->conns[i].c != NULL)
				close(h->conns[i].fd);
		if (h->d != NULL)
			close(h->mhd_fd);
		close(h->lfd);
		close(h->epfd);
		close(h->tfd);
		if (h->spare != -1)
			close(h->spare);
		return;
	}
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	if (h->lfd != -1)
		close(h->lfd);
	if (h->spare != -1)
		close(h->spare);
	if (h->epfd != -1)
		close(h->epfd);
	if (h->tfd != -1)
		close(h->tfd);
	free(h);
}

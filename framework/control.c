/*
 * The control socket: a Unix stream socket served from the master's event
 * loop.  A client sends one command line and gets one reply, then the
 * connection is closed.  Everything is non-blocking and every client has a
 * deadline, so a silent or slow client costs a file descriptor for at most
 * CTL_TIMEOUT and never stalls the master.
 *
 * Commands live in one table (control_cmds.c); it also makes the help reply
 * and the unknown-command error.  The metrics command's text is metrics.c's.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_int.h"
#include "log.h"
#include "util.h"

#define CTL_LINE_MAX	4096
#define CTL_TIMEOUT_NS	(5ull * 1000000000u)
/* How long a reload's client may wait for the workers to take it. */
#define CTL_RELOAD_TIMEOUT_NS	(90ull * 1000000000u)
#define CTL_MAX_CLIENTS	1024

struct ctl_client {
	struct ev_src		 src;		/* first: the loop hands it back */
	struct ctl_client	*next;
	uint64_t		 deadline;
	bool			 dead;
	size_t			 len;
	char			 line[CTL_LINE_MAX + 1];
	char			*reply;
	size_t			 reply_len;
	size_t			 reply_off;
	/* A reload under way: the reply waits for its outcome. */
	const char		*awaiting;	/* its result, or NULL */
	bool			 queued;	/* asked during another: next */
};

struct ctl_server {
	struct ev_src		 src;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client	*clients;
	unsigned		 nclients;
};

static void ctl_reply(struct master *, struct ctl_client *, char *, size_t);
static void ctl_drop(struct master *, struct ctl_client *);
static void ctl_reply_error(struct master *, struct ctl_client *,
    const char *);

/* A JSON document and a newline, as the reply's bytes. */
char *
ctl_json(json_t *doc, size_t *len)
{
	char *text, *out;
	size_t n;

	if (doc == NULL)
		return NULL;
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((out = realloc(text, n + 2)) == NULL) {
		free(text);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

char *
ctl_error(const char *msg, size_t *len)
{
	return ctl_json(json_pack("{s:s}", "error", msg), len);
}

/*
 * reload answers once it has taken effect or failed: a file that does not
 * validate at once, a pipeline or capture change when every worker runs it
 * or has been put back (ctl_reload_done).
 */
/*
 * Hold c's reply until a reload's outcome is known.  Nothing more is to be
 * read from it: it wakes the loop for a hang-up only.
 */
static void
ctl_park(struct master *m, struct ctl_client *c, uint64_t timeout_ns)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &c->src };

	c->deadline = mono_ns() + timeout_ns;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
		ctl_drop(m, c);
}

/* {"ok": true, "result": res}: the reload has taken effect. */
static void
ctl_reply_reloaded(struct master *m, struct ctl_client *c, const char *res)
{
	size_t len = 0;
	char *reply;

	reply = ctl_json(json_pack("{s:b,s:s}", "ok", 1, "result", res), &len);
	ctl_reply(m, c, reply, len);
}

/* Answer c for a reload that returned res (NULL: failed with err). */
static void
ctl_reload_answer(struct master *m, struct ctl_client *c, const char *res,
    const char *err)
{
	c->queued = false;
	if (res == NULL)
		ctl_reply_error(m, c, err);
	else if (master_reload_pending(m)) {
		c->awaiting = res;
		ctl_park(m, c, CTL_RELOAD_TIMEOUT_NS);
	} else
		ctl_reply_reloaded(m, c, res);
}

/*
 * reload answers once it has taken effect or failed: a file that does not
 * validate at once, a pipeline or capture change when every worker runs it
 * or has been put back (ctl_reload_done).  Asked while another reload is
 * under way, it waits for that one to end and then reads the file: the
 * latest file always wins, and every client asking meanwhile gets that
 * one reload's outcome.
 */
static void
ctl_reload(struct master *m, struct ctl_client *c)
{
	char err[512];
	const char *res;

	if (master_reload_busy(m)) {
		c->queued = true;
		m->reload_again = true;
		ctl_park(m, c, 2 * CTL_RELOAD_TIMEOUT_NS);
		return;
	}
	if ((res = master_reload(m, err, sizeof(err))) == NULL)
		log_error("reload failed, configuration unchanged: %s", err);
	ctl_reload_answer(m, c, res, err);
}

void
ctl_reload_queued(struct master *m, const char *res, const char *err)
{
	struct ctl_client *c;

	for (c = m->ctl != NULL ? m->ctl->clients : NULL; c != NULL;
	    c = c->next)
		if (!c->dead && c->queued)
			ctl_reload_answer(m, c, res, err);
}

void
ctl_reload_done(struct master *m, const char *err)
{
	struct ctl_client *c;
	const char *result;

	for (c = m->ctl != NULL ? m->ctl->clients : NULL; c != NULL;
	    c = c->next) {
		if (c->dead || c->awaiting == NULL)
			continue;
		result = c->awaiting;
		c->awaiting = NULL;
		if (err != NULL)
			ctl_reply_error(m, c, err);
		else
			ctl_reply_reloaded(m, c, result);
	}
}

static void
ctl_drop(struct master *m, struct ctl_client *c)
{
	if (c->dead)
		return;
	master_unwatch(m, &c->src);
	close(c->src.fd);
	c->dead = true;
}

static void
ctl_on_client(struct master *m, struct ev_src *src, uint32_t events);

/* Start sending `reply` (owned by the client from now on). */
static void
ctl_reply(struct master *m, struct ctl_client *c, char *reply, size_t len)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &c->src };

	if (reply == NULL)
		reply = ctl_error("internal error: cannot build the reply",
		    &len);
	if (reply == NULL) {
		ctl_drop(m, c);
		return;
	}
	c->reply = reply;
	c->reply_len = len;
	c->reply_off = 0;
	c->deadline = mono_ns() + CTL_TIMEOUT_NS;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
		ctl_drop(m, c);
}

static void
ctl_reply_error(struct master *m, struct ctl_client *c, const char *msg)
{
	size_t len = 0;
	char *reply = ctl_error(msg, &len);

	ctl_reply(m, c, reply, len);
}

static void
ctl_request(struct master *m, struct ctl_client *c)
{
	const struct ctl_command *cmd;
	char msg[CTL_LINE_MAX + 256], echo[65], *line = c->line, *reply, *arg;
	size_t n, len = 0;

	/* Tolerate a \r\n line end and surrounding blanks. */
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		line[--n] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0') {
		ctl_reply_error(m, c, "empty request");
		return;
	}
	/* "restart uplink/1": the command, then its argument. */
	arg = line + strcspn(line, " \t");
	if (*arg != '\0') {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	if ((cmd = ctl_find(line)) == NULL) {
		/* The echo must be valid in JSON whatever the client sent. */
		for (n = 0; n < 64 && line[n] != '\0'; n++)
			echo[n] = line[n] >= 0x20 && line[n] < 0x7f ?
			    line[n] : '?';
		echo[n] = '\0';
		ctl_unknown(echo, msg, sizeof(msg));
		ctl_reply_error(m, c, msg);
		return;
	}
	log_debug("control: %s%s%s", cmd->name, *arg != '\0' ? " " : "", arg);
	if ((*arg != '\0') != (cmd->fn_arg != NULL)) {
		snprintf(msg, sizeof(msg), cmd->fn_arg != NULL ?
		    "%s: needs an argument (%s)" : "%s takes no argument%s",
		    cmd->name, cmd->fn_arg != NULL ? cmd->help : "");
		ctl_reply_error(m, c, msg);
		return;
	}
	if (cmd->fn_arg != NULL) {
		reply = cmd->fn_arg(m, arg, &len);
	} else if (cmd->fn == NULL) {	/* reload, answered later */
		ctl_reload(m, c);
		return;
	} else
		reply = cmd->fn(m, &len);
	ctl_reply(m, c, reply, len);
}

static void
ctl_read(struct master *m, struct ctl_client *c)
{
	char *nl;
	ssize_t r;

	for (;;) {
		r = read(c->src.fd, c->line + c->len, CTL_LINE_MAX + 1 - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0)
			break;		/* EOF or error */
		c->len += (size_t)r;
		c->line[c->len < CTL_LINE_MAX ? c->len : CTL_LINE_MAX] = '\0';
		if ((nl = memchr(c->line, '\n', c->len)) != NULL) {
			*nl = '\0';
			if (memchr(c->line, '\0', (size_t)(nl - c->line)) !=
			    NULL) {
				ctl_reply_error(m, c, "malformed request: "
				    "NUL byte");
				return;
			}
			ctl_request(m, c);
			return;
		}
		if (c->len > CTL_LINE_MAX) {
			ctl_reply_error(m, c, "request line longer than "
			    "4096 bytes");
			return;
		}
	}
	/* The client closed its side: a last line without \n still counts. */
	if (r == 0 && c->len > 0) {
		c->line[c->len] = '\0';
		ctl_request(m, c);
		return;
	}
	ctl_drop(m, c);
}

static void
ctl_write(struct master *m, struct ctl_client *c)
{
	ssize_t w;

	while (c->reply_off < c->reply_len) {
		w = send(c->src.fd, c->reply + c->reply_off,
		    c->reply_len - c->reply_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			ctl_drop(m, c);
			return;
		}
		c->reply_off += (size_t)w;
	}
	shutdown(c->src.fd, SHUT_WR);
	ctl_drop(m, c);
}

static void
ctl_on_client(struct master *m, struct ev_src *src, uint32_t events)
{
	struct ctl_client *c = (struct ctl_client *)src;

	if (c->dead)
		return;
	if (c->awaiting != NULL || c->queued)
		ctl_drop(m, c);		/* it hung up before the outcome */
	else if (c->reply != NULL)
		ctl_write(m, c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		ctl_read(m, c);
}

static void
ctl_on_accept(struct master *m, struct ev_src *src, uint32_t events)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client *c;
	int fd;

	(void)src;
	(void)events;
	for (;;) {
		fd = accept4(srv->src.fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("control: accept");
			return;
		}
		if (srv->nclients >= CTL_MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			/* Refuse rather than queue: the next sweep frees. */
			close(fd);
			continue;
		}
		c->src.fd = fd;
		c->src.fn = ctl_on_client;
		c->deadline = mono_ns() + CTL_TIMEOUT_NS;
		if (master_watch(m, &c->src, EPOLLIN) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->clients;
		srv->clients = c;
		srv->nclients++;
	}
}

void
ctl_sweep(struct master *m, uint64_t now)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client **pp, *c;

	if (srv == NULL)
		return;
	for (pp = &srv->clients; (c = *pp) != NULL;) {
		if (!c->dead && now >= c->deadline) {
			if (c->awaiting != NULL || c->queued) {
				c->awaiting = NULL;
				c->queued = false;
				ctl_reply_error(m, c, "reload: not taken by "
				    "every worker within 90 s; see status");
				if (!c->dead)
					ctl_write(m, c);
			} else if (c->reply == NULL) {
				/* Silent client: tell it why, if it listens. */
				ctl_reply_error(m, c, "timeout: no complete "
				    "request line within 5 s");
				if (!c->dead)
					ctl_write(m, c);
			}
			ctl_drop(m, c);
		}
		if (c->dead) {
			*pp = c->next;
			free(c->reply);
			free(c);
			srv->nclients--;
		} else
			pp = &c->next;
	}
}

static int
ctl_fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "control socket %s: %s: %s", path, what,
	    strerror(errno));
	return -1;
}

int
ctl_open(struct master *m, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	const char *path = m->g.cfg->control.socket;
	struct group *gr;
	struct stat st;
	int fd, probe, rc, saved;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return ctl_fail(err, errlen, "calloc", path);
	srv->src.fd = -1;
	m->ctl = srv;
	m->ctl_owner = getpid();
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return ctl_fail(err, errlen, "path", path);
	}
	if ((errno = -mkdirs_for(path)) != 0)
		return ctl_fail(err, errlen, "mkdir", path);
	/*
	 * Only a socket file left by a dead instance is removed.  A live one
	 * is another ringfan's, and anything else at the path (a mistyped
	 * path naming a file, a directory, a symbolic link) is not ours.
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is "
			    "%s, not a socket; refusing to replace it", path,
			    file_kind(st.st_mode));
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (probe == -1)
			return ctl_fail(err, errlen, "socket", path);
		rc = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		saved = errno;
		close(probe);
		/* A full backlog (EAGAIN) is a listener too. */
		if (rc == 0 || saved == EAGAIN) {
			snprintf(err, errlen, "control socket %s: another "
			    "ringfan is listening on it", path);
			return -1;
		}
		errno = saved;
		if (errno != ECONNREFUSED)
			return ctl_fail(err, errlen, "connect", path);
		if (unlink(path) == -1 && errno != ENOENT)
			return ctl_fail(err, errlen, "unlink", path);
	} else if (errno != ENOENT)
		return ctl_fail(err, errlen, "lstat", path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return ctl_fail(err, errlen, "socket", path);
	srv->src.fd = fd;
	srv->src.fn = ctl_on_accept;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return ctl_fail(err, errlen, "bind", path);
	strlcpy(srv->path, path, sizeof(srv->path));
	if (chmod(path, m->g.cfg->control.mode) == -1)
		return ctl_fail(err, errlen, "chmod", path);
	if (m->g.cfg->control.group != NULL) {
		if ((gr = getgrnam(m->g.cfg->control.group)) == NULL) {
			snprintf(err, errlen, "control socket %s: group \"%s\" "
			    "not found", path, m->g.cfg->control.group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
			return ctl_fail(err, errlen, "chown", path);
	}
	if (listen(fd, 512) == -1)
		return ctl_fail(err, errlen, "listen", path);
	if (master_watch(m, &srv->src, EPOLLIN) == -1)
		return ctl_fail(err, errlen, "epoll_ctl", path);
	log_info("control socket %s", path);
	return 0;
}

void
ctl_close(struct master *m)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client *c, *next;

	if (srv == NULL)
		return;
	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		/* A reply made in the last turn of the loop: one try. */
		if (!c->dead && c->reply != NULL && getpid() == m->ctl_owner)
			(void)send(c->src.fd, c->reply + c->reply_off,
			    c->reply_len - c->reply_off, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
		if (!c->dead)
			close(c->src.fd);
		free(c->reply);
		free(c);
	}
	if (srv->src.fd != -1) {
		close(srv->src.fd);
		/* Only the master that made it removes it, not a worker. */
		if (srv->path[0] != '\0' && getpid() == m->ctl_owner)
			unlink(srv->path);
	}
	free(srv);
	m->ctl = NULL;
}

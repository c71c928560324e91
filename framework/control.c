/*
 * The control socket's transport: a Unix stream socket with an epoll
 * instance of its own, which the master's loop watches as one descriptor.
 * A client sends one command line and gets one reply, then the connection
 * is closed.  Everything is non-blocking and every client has a deadline,
 * so a silent or slow client costs a file descriptor for at most
 * CTL_TIMEOUT_NS and never stalls the master.
 *
 * What a line means is control_cmds.c's (the table and the dispatch); a
 * reply that waits for an outcome (a reload taking effect) is parked here
 * until its owner calls ctl_resume().
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "util.h"

#define CTL_TIMEOUT_NS	(5ull * 1000000000u)
#define CTL_MAX_CLIENTS	1024

struct ctl_client {
	int			 fd;
	struct ctl_client	*next;
	uint64_t		 deadline;
	bool			 dead;
	bool			 overlong;	/* read on to its newline */
	size_t			 len;
	/* A line of CTL_LINE_MAX, its newline and a NUL. */
	char			 line[CTL_LINE_MAX + 2];
	struct ctl_req		 rq;
	size_t			 reply_off;
};

struct ctl_server {
	int			 fd;		/* the listening socket */
	int			 epfd;		/* it and the clients */
	void			*ctx;		/* for the handlers */
	pid_t			 owner;		/* who opened it */
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client	*clients;
	unsigned		 nclients;
	/*
	 * At the open file limit: the spare descriptor (/dev/null) is given
	 * up to accept and close a client at once; without it, the listener
	 * leaves the epoll set for CTL_PAUSE_NS.  Logged once a time.
	 */
	int			 spare;
	bool			 paused;
	uint64_t		 paused_until;	/* monotonic */
	bool			 at_limit;
};

/* How long the listener rests at the limit without a spare. */
#define CTL_PAUSE_NS	(100ull * 1000000u)

static void
ctl_drop(struct ctl_server *srv, struct ctl_client *c)
{
	if (c->dead)
		return;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
}

/* Wait for c to be writable (events EPOLLOUT) or for its hang-up (0). */
static void
ctl_arm(struct ctl_server *srv, struct ctl_client *c, uint32_t events,
    uint64_t timeout_ns)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	c->deadline = mono_ns() + timeout_ns;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		ctl_drop(srv, c);
}

/*
 * The handler is done with c's request: send its reply, or hold c until
 * its owner has the outcome; nothing more is read from c then, it wakes
 * the loop for a hang-up only.
 */
static void
ctl_answered(struct ctl_server *srv, struct ctl_client *c)
{
	if (c->rq.wait != 0) {
		ctl_arm(srv, c, 0, c->rq.timeout_ns);
		return;
	}
	if (c->rq.reply == NULL)
		ctl_reply_error(&c->rq, "internal error: cannot build the "
		    "reply");
	if (c->rq.reply == NULL) {
		ctl_drop(srv, c);
		return;
	}
	c->reply_off = 0;
	ctl_arm(srv, c, EPOLLOUT, CTL_TIMEOUT_NS);
}

void
ctl_resume(struct ctl_server *srv, int wait, ctl_resume_fn *fn, void *arg)
{
	struct ctl_client *c;

	for (c = srv != NULL ? srv->clients : NULL; c != NULL; c = c->next) {
		if (c->dead || c->rq.wait != wait)
			continue;
		c->rq.wait = 0;
		fn(arg, &c->rq, c->rq.note);
		ctl_answered(srv, c);
	}
}

/* The request line of n bytes (a NUL among them refused), answered. */
static void
ctl_line(struct ctl_server *srv, struct ctl_client *c, size_t n)
{
	if (memchr(c->line, '\0', n) != NULL)
		ctl_reply_error(&c->rq, "malformed request: NUL byte");
	else
		ctl_dispatch(srv->ctx, &c->rq, c->line);
	ctl_answered(srv, c);
}

static void
ctl_read(struct ctl_server *srv, struct ctl_client *c)
{
	char *nl = NULL;
	ssize_t r;

	for (;;) {
		r = read(c->fd, c->line + c->len, CTL_LINE_MAX + 1 - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0)
			break;		/* EOF or error */
		c->len += (size_t)r;
		c->line[c->len] = '\0';
		nl = memchr(c->line, '\n', c->len);
		/*
		 * A line too long is read to its end before the error goes
		 * out: a client still sending it would get a reset instead.
		 */
		if (c->overlong) {
			c->len = 0;
			if (nl != NULL)
				break;
			continue;
		}
		if (nl != NULL) {
			*nl = '\0';
			ctl_line(srv, c, (size_t)(nl - c->line));
			return;
		}
		if (c->len > CTL_LINE_MAX) {
			c->overlong = true;
			c->len = 0;
		}
	}
	if (c->overlong && (r >= 0 || nl != NULL)) {
		ctl_reply_error(&c->rq, "request line longer than %d bytes",
		    CTL_LINE_MAX);
		ctl_answered(srv, c);
		return;
	}
	/* The client closed its side: a last line without \n still counts. */
	if (r == 0 && c->len > 0) {
		c->line[c->len] = '\0';
		ctl_line(srv, c, c->len);
		return;
	}
	ctl_drop(srv, c);
}

static void
ctl_write(struct ctl_server *srv, struct ctl_client *c)
{
	ssize_t w;

	while (c->reply_off < c->rq.reply_len) {
		w = send(c->fd, c->rq.reply + c->reply_off,
		    c->rq.reply_len - c->reply_off, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			ctl_drop(srv, c);
			return;
		}
		c->reply_off += (size_t)w;
	}
	shutdown(c->fd, SHUT_WR);
	ctl_drop(srv, c);
}

static void
ctl_on_client(struct ctl_server *srv, struct ctl_client *c, uint32_t events)
{
	if (c->dead)
		return;
	if (c->rq.wait != 0)
		ctl_drop(srv, c);	/* it hung up before the outcome */
	else if (c->rq.reply != NULL)
		ctl_write(srv, c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		ctl_read(srv, c);
}

/*
 * accept() failed for want of a descriptor.  A client waiting is closed at
 * once by way of the spare: true when there may be more to take.  Without
 * a spare, the listener rests for CTL_PAUSE_NS (ctl_sweep) rather than
 * wake the loop at once again.
 */
static bool
ctl_at_limit(struct ctl_server *srv, int err)
{
	int shed;

	if (!srv->at_limit)
		log_warnx("control: accept: %s with %u clients: new clients "
		    "are closed at once", strerror(err), srv->nclients);
	srv->at_limit = true;
	if ((shed = spare_shed(&srv->spare, srv->fd)) >= 0)
		return shed == 1;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->fd, NULL) == 0) {
		srv->paused = true;
		srv->paused_until = mono_ns() + CTL_PAUSE_NS;
	}
	return false;
}

static void
ctl_on_accept(struct ctl_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_client *c;
	int fd;

	for (;;) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    ctl_at_limit(srv, errno))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED &&
			    errno != EMFILE && errno != ENFILE)
				log_warn("control: accept");
			return;
		}
		srv->at_limit = false;
		if (srv->nclients >= CTL_MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			/* Refuse rather than queue: the next sweep frees. */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = mono_ns() + CTL_TIMEOUT_NS;
		ev.data.ptr = c;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->clients;
		srv->clients = c;
		srv->nclients++;
	}
}

int
ctl_fd(const struct ctl_server *srv)
{
	return srv->epfd;
}

/*
 * One batch of the clients' events.  A client dropped in it stays in the
 * list until ctl_sweep(), so no event of the batch can name freed memory.
 */
void
ctl_serve(struct ctl_server *srv)
{
	struct epoll_event ev[32];
	int n;

	n = epoll_wait(srv->epfd, ev, 32, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL)
			ctl_on_accept(srv);
		else
			ctl_on_client(srv, ev[i].data.ptr, ev[i].events);
	}
}

void
ctl_sweep(struct ctl_server *srv, uint64_t now)
{
	struct ctl_client **pp, *c;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	bool silent;

	if (srv == NULL)
		return;
	if (srv->paused && now >= srv->paused_until &&
	    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->fd, &ev) == 0)
		srv->paused = false;
	if (srv->spare == -1)
		srv->spare = spare_open();
	for (pp = &srv->clients; (c = *pp) != NULL;) {
		if (!c->dead && now >= c->deadline &&
		    (c->rq.wait != 0 || c->rq.reply == NULL)) {
			/* Parked, or silent: tell it why, if it listens. */
			silent = c->rq.wait == 0;
			/* Too long already: that is the cause, not the time. */
			if (silent && c->overlong)
				ctl_reply_error(&c->rq, "request line longer "
				    "than %d bytes", CTL_LINE_MAX);
			else if (silent)
				ctl_reply_error(&c->rq, "timeout: no complete "
				    "request line within 5 s");
			else
				ctl_reply_error(&c->rq, "%s",
				    c->rq.timeout_msg);
			c->reply_off = 0;
			if (c->rq.reply != NULL)
				ctl_write(srv, c);
		}
		if (!c->dead && now >= c->deadline)
			ctl_drop(srv, c);
		if (c->dead) {
			*pp = c->next;
			free(c->rq.reply);
			free(c);
			srv->nclients--;
		} else
			pp = &c->next;
	}
}

/* The cause of a failed call in err; -errno. */
static int
ctl_fail(char *err, size_t errlen, const char *what, const char *path)
{
	int e = errno != 0 ? errno : EIO;

	snprintf(err, errlen, "control socket %s: %s: %s", path, what,
	    strerror(e));
	return -e;
}

/*
 * Only a socket file left by a dead instance is removed.  A live one is
 * another ringfan's, and anything else at the path (a mistyped path naming
 * a file, a directory, a symbolic link) is not ours.  0 or -errno, err.
 */
static int
ctl_clear_path(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	struct stat st;
	int probe, rc, saved;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : ctl_fail(err, errlen, "lstat",
		    path);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is %s, "
		    "not a socket; refusing to replace it", path,
		    file_kind(st.st_mode));
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe == -1)
		return ctl_fail(err, errlen, "socket", path);
	rc = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(probe);
	/* A full backlog (EAGAIN) is a listener too. */
	if (rc == 0 || saved == EAGAIN) {
		snprintf(err, errlen, "control socket %s: another ringfan is "
		    "listening on it", path);
		return -EADDRINUSE;
	}
	errno = saved;
	if (errno != ECONNREFUSED)
		return ctl_fail(err, errlen, "connect", path);
	if (unlink(path) == -1 && errno != ENOENT)
		return ctl_fail(err, errlen, "unlink", path);
	return 0;
}

/*
 * Mode and group of the socket file that fd (O_PATH, the path's last part
 * not followed) holds, through fd and not the path: anyone who may write
 * to the directory can put a symbolic link at the path, whose target
 * (any file root reaches) would then get the socket's mode and group.
 * The mode is already right unless a default ACL of the directory chose
 * it in place of the umask.  0 or -errno, err.
 */
static int
ctl_set_perms(int fd, const struct stat *st, const struct cfg *cfg,
    char *err, size_t errlen)
{
	const char *path = cfg->control.socket;
	char self[64];
	struct group *gr;

	if ((st->st_mode & 07777) != cfg->control.mode) {
		/* The file fd holds: /proc resolves it, follows no link. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		if (chmod(self, cfg->control.mode) == -1)
			return ctl_fail(err, errlen, "chmod", path);
	}
	if (cfg->control.group == NULL)
		return 0;
	if ((gr = getgrnam(cfg->control.group)) == NULL) {
		snprintf(err, errlen, "control socket %s: group \"%s\" not "
		    "found", path, cfg->control.group);
		return -ENOENT;
	}
	if (fchownat(fd, "", (uid_t)-1, gr->gr_gid, AT_EMPTY_PATH) == -1)
		return ctl_fail(err, errlen, "chown", path);
	return 0;
}

int
ctl_open(struct ctl_server **out, const struct cfg *cfg, void *ctx,
    char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct ctl_server *srv;
	const char *path = cfg->control.socket;
	struct stat st;
	mode_t mask;
	int fd, rc, saved;

	if ((*out = srv = calloc(1, sizeof(*srv))) == NULL)
		return ctl_fail(err, errlen, "calloc", path);
	srv->fd = srv->epfd = -1;
	srv->spare = spare_open();
	srv->ctx = ctx;
	srv->owner = getpid();
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return ctl_fail(err, errlen, "path", path);
	}
	if ((errno = -mkdirs_for(path)) != 0)
		return ctl_fail(err, errlen, "mkdir", path);
	if ((rc = ctl_clear_path(&sun, err, errlen)) != 0)
		return rc;
	if ((srv->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return ctl_fail(err, errlen, "epoll_create1", path);
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (srv->fd == -1)
		return ctl_fail(err, errlen, "socket", path);
	/* Made with its mode: no chmod of the path after. */
	mask = umask(~cfg->control.mode & 0777);
	rc = bind(srv->fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	(void)umask(mask);
	errno = saved;
	if (rc == -1)
		return ctl_fail(err, errlen, "bind", path);
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return ctl_fail(err, errlen, "open", path);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return ctl_fail(err, errlen, "fstat", path);
	}
	if (!S_ISSOCK(st.st_mode)) {
		/*
		 * Replaced since the bind by whoever else may write to the
		 * directory: not ours to change, nor to remove at exit.
		 */
		snprintf(err, errlen, "control socket %s: %s now, not the "
		    "socket bound; refusing to follow it or change it", path,
		    file_kind(st.st_mode));
		close(fd);
		return S_ISLNK(st.st_mode) ? -ELOOP : -EEXIST;
	}
	strlcpy(srv->path, path, sizeof(srv->path));
	rc = ctl_set_perms(fd, &st, cfg, err, errlen);
	close(fd);
	if (rc != 0)
		return rc;
	if (listen(srv->fd, 512) == -1)
		return ctl_fail(err, errlen, "listen", path);
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->fd, &ev) == -1)
		return ctl_fail(err, errlen, "epoll_ctl", path);
	log_info("control socket %s", path);
	return 0;
}

void
ctl_close(struct ctl_server *srv)
{
	struct ctl_client *c, *next;
	bool owner;

	if (srv == NULL)
		return;
	owner = getpid() == srv->owner;
	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		/* A reply made in the last turn of the loop: one try. */
		if (!c->dead && c->rq.reply != NULL && owner)
			(void)send(c->fd, c->rq.reply + c->reply_off,
			    c->rq.reply_len - c->reply_off, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
		if (!c->dead)
			close(c->fd);
		free(c->rq.reply);
		free(c);
	}
	if (srv->epfd != -1)
		close(srv->epfd);
	if (srv->fd != -1)
		close(srv->fd);
	if (srv->spare != -1)
		close(srv->spare);
	/* Only the master that made it removes it, not a worker. */
	if (srv->path[0] != '\0' && owner)
		unlink(srv->path);
	free(srv);
}

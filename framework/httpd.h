/*
 * The metrics endpoint: GET /metrics over HTTP (`metrics_listen`), served
 * from the master's event loop with libmicrohttpd in its external-poll
 * mode, so that no thread ever touches the master's state.  Like the
 * control socket it keeps an epoll instance of its own, which the master
 * watches as one descriptor; it knows nothing of the master beyond the
 * handler that renders the page.
 */
#ifndef RINGFAN_HTTPD_H
#define RINGFAN_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

#include "control.h"

/*
 * "ADDRESS:PORT" with a literal address, IPv4 ("127.0.0.1:9108") or IPv6
 * in brackets ("[::1]:9108"), and a port 1..65535, into *ss and *len.
 * 0, or -EINVAL with the cause in err.
 */
int	httpd_parse_addr(const char *s, struct sockaddr_storage *ss,
	    socklen_t *len, char *err, size_t errlen);

struct httpd;
/*
 * Listen on `addr` (as httpd_parse_addr reads it) and answer GET /metrics
 * with the text that fn(ctx, ...) makes (a control handler's text reply).
 * 0, or -errno with "metrics_listen ADDR: CALL: cause" in err (then
 * nothing is left open).
 */
int	httpd_open(struct httpd **out, const char *addr, ctl_handler *fn,
	    void *ctx, char *err, size_t errlen);
/* What the event loop watches; httpd_serve() when it is readable. */
int	httpd_fd(const struct httpd *h);
void	httpd_serve(struct httpd *h);
/*
 * Stop serving and free everything.  In a process forked from the owner
 * (a worker) it only closes the inherited descriptors, since the
 * connections are the owner's to end.  NULL is fine.
 */
void	httpd_close(struct httpd *h);

#endif

/*
 * The control socket, seen from the rest of the framework.
 *
 * control.c is the transport: the socket, its clients, framing, deadlines
 * and replies that wait.  control_cmds.c holds the one table of commands
 * and the dispatch of a request line.  Each command's handler lives beside
 * the state it reads and is declared below: it gets the context pointer
 * the master registered at ctl_open(), opaque here, and answers a struct
 * ctl_req, which knows nothing of sockets (tests/unit/test_control.c
 * answers one without any).
 */
#ifndef RINGFAN_CONTROL_H
#define RINGFAN_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

/* A request line is at most this long, its newline not counted. */
#define CTL_LINE_MAX	4096

/*
 * One request being answered: a handler either makes its reply or parks
 * it (ctl_defer) until its owner has the outcome (ctl_resume).
 */
struct ctl_req {
	char		*reply;		/* the reply's bytes, once made */
	size_t		 reply_len;
	int		 wait;		/* parked: the owner's reason, not 0 */
	const char	*note;		/* the owner's, handed back to it */
	uint64_t	 timeout_ns;	/* how long it may stay parked */
	const char	*timeout_msg;	/* the error it then gets */
};

/* ctx: what the master registered; arg: "" for a command without one. */
typedef void	ctl_handler(void *ctx, struct ctl_req *rq, const char *arg);

struct ctl_command {
	const char	*name;
	ctl_handler	*fn;
	const char	*help;
	bool		 needs_arg;	/* else it takes none */
};

/* control_cmds.c: the table, in the order of help and of the error. */
extern const struct ctl_command ctl_commands[];
extern const size_t ctl_ncommands;
/*
 * Answer one request line (no newline; it is cut up in place): parse it,
 * find its command and call the handler, or make the error reply.
 */
void	ctl_dispatch(void *ctx, struct ctl_req *rq, char *line);

/* The replies a handler makes; each frees a reply made before. */
/* doc as one line of JSON; doc is consumed, NULL is an internal error. */
void	ctl_reply_json(struct ctl_req *rq, json_t *doc);
/* {"error": "..."}. */
void	ctl_reply_error(struct ctl_req *rq, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* text of len bytes, taken over (malloc'ed); NULL is an internal error. */
void	ctl_reply_text(struct ctl_req *rq, char *text, size_t len);
/*
 * No reply yet: rq waits for its owner's ctl_resume(wait), for at most
 * timeout_ns, then gets {"error": timeout_msg}.  note goes back to the
 * owner with it.  A client that hangs up meanwhile is dropped.
 */
void	ctl_defer(struct ctl_req *rq, int wait, const char *note,
	    uint64_t timeout_ns, const char *timeout_msg);

/* control.c: the transport. */
struct ctl_server;
/*
 * Listen on cfg's control socket and answer with ctx handed to every
 * handler.  The master watches ctl_fd() and calls ctl_serve() when it is
 * readable.  0, or -errno with the cause in err (then ctl_close it).
 */
int	ctl_open(struct ctl_server **out, const struct cfg *cfg, void *ctx,
	    char *err, size_t errlen);
int	ctl_fd(const struct ctl_server *srv);
void	ctl_serve(struct ctl_server *srv);
/* Drop clients past their deadline and free the dropped ones. */
void	ctl_sweep(struct ctl_server *srv, uint64_t now);
/*
 * Close everything; only the process that opened it removes the socket
 * file (a worker closes its inherited copy).  NULL is fine.
 */
void	ctl_close(struct ctl_server *srv);
/*
 * Every request parked with `wait`: fn answers it (or parks it again).
 * srv may be NULL.
 */
typedef void	ctl_resume_fn(void *arg, struct ctl_req *rq, const char *note);
void	ctl_resume(struct ctl_server *srv, int wait, ctl_resume_fn *fn,
	    void *arg);

/*
 * The handlers, each in the file of the state it reads.  ctx is the
 * master.
 */
ctl_handler	ctl_cmd_help;		/* control_cmds.c */
ctl_handler	ctl_cmd_status;		/* stats_json.c */
ctl_handler	ctl_cmd_stats;		/* stats_json.c */
ctl_handler	ctl_cmd_workers;	/* stats_json.c */
ctl_handler	ctl_cmd_plugins;	/* stats_json.c */
ctl_handler	ctl_cmd_metrics;	/* metrics.c */
ctl_handler	ctl_cmd_reload;		/* reload.c */
ctl_handler	ctl_cmd_restart;	/* reload.c */
ctl_handler	ctl_cmd_stop;		/* master.c */

#endif

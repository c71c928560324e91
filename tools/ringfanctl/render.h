/*
 * Text renderings of the control socket's JSON replies (docs/control.md).
 * Every function only writes to the FILE * it is given, so that the tests
 * can compare its output with fixed text.  Each returns 0, or -1 when memory
 * ran out or the stream reported an error.  Fields a document lacks print
 * as "-": a newer or older daemon still gets a readable table.
 */
#ifndef RINGFANCTL_RENDER_H
#define RINGFANCTL_RENDER_H

#include <stdio.h>

#include <jansson.h>

/*
 * Text of the daemon's (an error, a name) as it is, but for its control
 * characters, which print as '?': C0, DEL and C1.
 */
int	render_put(FILE *, const char *);

/*
 * A reply of len bytes from the control socket at `from`, which may be any
 * bytes at all (a daemon of another version, a socket that is not
 * ringfan's): 0 with the document in *docp, which the caller releases;
 * RENDER_REFUSED when it is the daemon's {"error": TEXT}, TEXT printed to
 * err; RENDER_MALFORMED when it is no JSON object, or its "error" no
 * string, which err is told.
 */
#define RENDER_REFUSED		1
#define RENDER_MALFORMED	2
int	render_reply(FILE *err, const char *from, const char *buf, size_t len,
	    json_t **docp);
int	render_status(FILE *, const json_t *);
int	render_stats(FILE *, const json_t *);
int	render_workers(FILE *, const json_t *);
int	render_plugins(FILE *, const json_t *);
int	render_reload(FILE *, const json_t *);
int	render_restart(FILE *, const json_t *);
int	render_stop(FILE *, const json_t *);
int	render_help(FILE *, const json_t *);

/* Per second, between two `stats` samples. */
struct rates {
	double	packets;	/* frames handed to the pipeline */
	double	bytes;		/* their wire length */
	double	drops;		/* kernel drops */
};

/*
 * The rates of worker `id` of capture `capture` (or of the capture's totals
 * when id is -1) between the stats documents prev and cur taken dt seconds
 * apart.  Returns 0, or -1 with every rate 0 when there is nothing to
 * compare: no previous sample, dt not positive, the worker or capture
 * missing from either document, the daemon restarted in between, or, for
 * a worker, its capture has fewer workers than before (a reload gave the
 * removed ones' counts to those that remain).  A counter that went
 * backwards (new sockets after a reload) counts as 0.
 */
int	top_rates(const json_t *prev, const json_t *cur, double dt,
	    const char *capture, long long id, struct rates *);

/*
 * One screen of `ringfanctl top` for the sample cur; prev is the sample
 * before it (NULL for the first screen) and dt the monotonic time between
 * them.  when is the wall-clock time to show, given by the caller so that
 * this stays a pure function.
 */
int	render_top(FILE *, const json_t *prev, const json_t *cur, double dt,
	    const char *when);

/*
 * The last line of a top screen: how to reach the daemon (the control
 * socket, as ringfanctl -s takes it) and how to quit (q only when keys,
 * the terminal, can be read).
 */
int	render_top_footer(FILE *, const char *socket, int keys);

#endif

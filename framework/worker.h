/*
 * A worker: one process per capture socket.  It maps the socket's ring,
 * opens its pipeline and hands every frame to it, in place.
 */
#ifndef RINGFAN_WORKER_H
#define RINGFAN_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "plugin_host.h"
#include "ring.h"
#include "stats.h"

/* Exit codes of a worker process; the master reads them. */
#define WORKER_EXIT_OK		0	/* stopped on request */
#define WORKER_EXIT_SETUP	3	/* setup failed: do not respawn */
#define WORKER_EXIT_RETRY	4	/* a plugin lacks a resource: retry */
/* Its wait for blocks failed (plugin code closed it): a crash, err says. */
#define WORKER_EXIT_WAIT	5

/*
 * Network time for plugins' tick: the receive time of the latest frame,
 * advanced by the monotonic clock while no frame waits in the ring (the
 * block the kernel fills included), never backwards but when the
 * real-time clock is stepped back by more than a second.
 */
struct worker_clock {
	uint64_t	 frame_ns;	/* latest frame's receive time */
	uint64_t	 frame_mono;	/* when it was seen */
	uint64_t	 last;		/* the latest time handed out */
};

struct worker {
	const struct cfg	*cfg;
	bool			 drop_privileges;	/* to uid/gid */
	uid_t			 uid;
	gid_t			 gid;
	const struct cfg_capture *cap;
	unsigned		 id;		/* within the capture */
	int			 fd;		/* the capture socket; after setup
						   an epoll that watches it */
	int			 cpu;		/* -1: not pinned */
	pid_t			 master_pid;
	int			 linktype;	/* DLT_ of the interface */
	uint32_t		 snaplen;
	struct stats_worker	*sw;
	/* The pipeline as the master validated it; host memory per stage. */
	struct plugin_info *info;
	struct plugin_mem	*mem;
	struct pipeline		*pl;		/* loaded by the worker */
	struct ring		 ring;
	struct ringfan_packet	*batch;		/* views of one block */
	const struct ringfan_packet **ptrs;	/* what passed to the batch */
	size_t			 batch_max;
	struct worker_clock	 clock;
	/* Blocks known user-owned from the one in hand on (ring health). */
	uint32_t		 owned;
};

/* The body of a worker process after fork; returns its exit code. */
int	worker_main(struct worker *wk);
/*
 * Ends the worker's process with code, worker_main()'s: stored first
 * (stats.h, exiting), so that the master tells the worker's own word from
 * an exit() of plugin code with the same number.
 */
_Noreturn void worker_exit(struct stats_worker *sw, int code);

/*
 * Walk the frames of one block through the pipeline, keeping the crash-
 * consistent position in sw (see docs/architecture.md), and the ring's
 * health as it is taken and its backlog as it is done with; the first
 * `skip` frames were handled by a predecessor.  Returns the frames handed
 * over.
 */
unsigned worker_block(struct worker *wk,
	    const struct tpacket_block_desc *bd, uint32_t index, uint32_t skip);

/*
 * Where a (re)spawned worker starts, from the position its predecessor left
 * in sw: the block index, and how many of its frames to skip in *skip
 * (resume_ring() of resume.c, which settles its death first); logs
 * where it resumes.
 */
uint32_t worker_resume(const struct ring *r, struct stats_worker *sw,
	    uint32_t *skip);

/*
 * Network time at monotonic time mono (see struct worker_clock); 0 while
 * there is none yet: frames wait before the worker has seen one.
 */
uint64_t worker_clock_now(struct worker_clock *c, uint64_t mono,
	    bool waiting);
/*
 * True, and network time set back to frame_ns, seen at mono, when a frame
 * stamped then is more than a second before it: the real-time clock was
 * stepped back.
 */
bool	worker_clock_back(struct worker_clock *c, uint64_t frame_ns,
	    uint64_t mono);

#endif

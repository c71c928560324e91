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

struct worker {
	const struct cfg	*cfg;
	bool			 drop_privileges;	/* to uid/gid */
	uid_t			 uid;
	gid_t			 gid;
	const struct cfg_capture *cap;
	unsigned		 id;		/* within the capture */
	int			 fd;		/* the capture socket */
	int			 cpu;		/* -1: not pinned */
	struct stats_worker	*sw;
	struct pipeline		*pl;
	struct ring		 ring;
	struct ringfan_packet	*batch;		/* views of one block */
	size_t			 batch_max;
};

/* The body of a worker process after fork; returns its exit code. */
int	worker_main(struct worker *wk);

/*
 * Walk the frames of one block through the pipeline, keeping the crash-
 * consistent position in sw (see docs/architecture.md); the first `skip`
 * frames were handled by a predecessor.  Returns the frames handed over.
 */
unsigned worker_block(struct worker *wk, struct tpacket_block_desc *bd,
	    uint32_t index, uint32_t skip);

/*
 * Where a (re)spawned worker starts, from the position its predecessor left
 * in sw: the block index, and how many of its frames to skip (UINT32_MAX
 * when the block is not to be resumed).  Settles a quarantine first.
 */
uint32_t worker_resume(const struct ring *r, struct stats_worker *sw,
	    uint32_t *skip);

#endif

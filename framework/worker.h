/*
 * A worker: one process per capture socket.  It maps the socket's ring,
 * opens its pipeline and hands every frame to it, in place.
 */
#ifndef RINGFAN_WORKER_H
#define RINGFAN_WORKER_H

#include "config.h"
#include "plugin_host.h"
#include "ring.h"
#include "stats.h"

/* Exit codes of a worker process; the master reads them. */
#define WORKER_EXIT_OK		0	/* stopped on request */
#define WORKER_EXIT_SETUP	3	/* setup failed: do not respawn */

struct worker {
	const struct cfg	*cfg;
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
 * consistent position in sw (see docs/architecture.md).  Returns the number
 * of frames handed over.
 */
unsigned worker_block(struct worker *wk, struct tpacket_block_desc *bd,
	    uint32_t index);

#endif

/*
 * The crash-consistent position of a worker in its ring.
 *
 * SIGKILL can land between any two instructions, so the position is kept
 * in the worker's stats slot by its one writer, one single-word store at a
 * time, in this order:
 *
 *   taking block b:	base = consumed; at = b | seq_num << 32
 *   per frame:		inflight = consumed + 1; bytes_next = bytes + len;
 *			the pipeline; packets += 1; bytes = bytes_next
 *   a frame left to the other generation at a reload:	handed_off += 1
 *   after releasing b:	at = b + 1 (seq 0)
 *
 * where consumed = packets + handed_off.  The invariant, true between any
 * two stores: when the block `at` names is user-owned with the saved
 * seq_num, its first consumed - base frames are done with, and the next
 * one was in the pipeline exactly when inflight == consumed + 1; any other
 * state of that block means the writer had released it.  seq_num never
 * repeats, so a refilled block is not mistaken for the one taken; index and
 * seq share one word because two words would let a kill between them skip
 * or replay a whole block.  packets is the commit of a frame, so a frame is
 * counted once or, dying in the pipeline (inflight == consumed + 1),
 * quarantined.  Its bytes follow it: bytes_next == bytes but from the
 * frame's second store to its last, and a successor that finds
 * inflight == consumed and bytes_next != bytes completes the commit (bytes
 * = bytes_next), one that quarantines sets bytes_next back to bytes; so
 * bytes is always the wire length of the frames in packets, a kill
 * between the two counters notwithstanding (tests/unit/test_resume_kill.c
 * found that window).
 *
 * The per-frame steps are inline: they are the hot path.  The resume
 * decision and the quarantine commit run once per start, in resume.c.
 */
#ifndef RINGFAN_RESUME_H
#define RINGFAN_RESUME_H

#include <stdint.h>

#include "ring.h"
#include "stats.h"

/* Block `index` taken, with `consumed` frames consumed before it. */
static inline void
resume_take(struct stats_worker *sw, uint32_t index, uint32_t seq,
    uint64_t consumed)
{
	STATS_STORE(&sw->base, consumed);
	STATS_STORE(&sw->at, (uint64_t)index | (uint64_t)seq << 32);
}

/*
 * The next frame goes into the pipeline; `consumed` frames before it, and
 * bytes_next the worker's bytes once it is through.
 */
static inline void
resume_frame_begin(struct stats_worker *sw, uint64_t consumed,
    uint64_t bytes_next)
{
	STATS_STORE(&sw->inflight, consumed + 1);
	STATS_STORE(&sw->bytes_next, bytes_next);
}

/*
 * The frame is through: packets first, since it commits, then bytes, the
 * bytes_next of resume_frame_begin().
 */
static inline void
resume_frame_done(struct stats_worker *sw, uint64_t packets, uint64_t bytes)
{
	STATS_STORE(&sw->packets, packets);
	STATS_STORE(&sw->bytes, bytes);
}

/* A frame consumed without the pipeline: the other generation's. */
static inline void
resume_frame_handed_off(struct stats_worker *sw, uint64_t handed_off)
{
	STATS_STORE(&sw->handed_off, handed_off);
}

/* After the release of the block before `next`: nothing of it is ours. */
static inline void
resume_released(struct stats_worker *sw, uint32_t next)
{
	STATS_STORE(&sw->at, (uint64_t)next);
}

/*
 * Settle a predecessor's death: the bytes of a frame it had committed
 * (packets) are added if they were not yet; the frame it held in the
 * pipeline is counted as quarantined and `base` lowered by one, so that it
 * is skipped now and again if this worker dies before its next frame.
 * Crash-consistent itself; a no-op when there is nothing to settle.
 */
void	resume_quarantine(struct stats_worker *sw);

/*
 * Where a (re)spawned worker starts in ring r, from the position its
 * predecessor left in sw: the block index, and in *skip how many of that
 * block's frames are done with.  Settles a quarantine first.
 */
uint32_t resume_ring(const struct ring *r, struct stats_worker *sw,
	    uint32_t *skip);

#endif

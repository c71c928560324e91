/*
 * The crash-consistent position of a worker in its ring.
 *
 * SIGKILL can land between any two instructions, so the position is kept
 * in the worker's stats slot by its one writer, one single-word store at a
 * time.  Per frame there is one word, `pos`: what the worker did in block
 * `at` since its counters were last committed,
 *
 *	pos = bytes << POS_BYTES_SHIFT | 2 * frames + in_hand
 *
 * frames done with (through the pipeline) and their wire length, and
 * in_hand 1 while the next frame is in the pipeline.  The counters,
 * packets and bytes, move once per block, when `pos` is committed:
 *
 *   taking block b:	base = consumed; at = b | seq << 32
 *   per frame:		pos += 1; the pipeline; pos += len << SHIFT | 1
 *   a frame left to the other generation at a reload:	handed_off += 1
 *   the block done:	commit pos (below)
 *   after releasing b:	at = b + 1 (seq 0)
 *
 * where consumed = packets + handed_off and seq is ring_block_seq(), 32
 * bits of the block's seq_num that are never 0.  A commit moves four
 * counters (packets, bytes, quarantined, base) and clears pos: it stores
 * their targets, then `commit = 1`, then the counters and pos = 0, then
 * `commit = 0`; whoever finds `commit` set applies the same targets again,
 * so a commit cut anywhere is done exactly once.  Where the order of two
 * stores matters (base before at, the steps of a commit, a frame's
 * handed_off before the next frame's pos, a block's release to the kernel
 * before at), STATS_ORDER() keeps the compiler from swapping them.
 *
 * The invariant, true between any two stores: once a successor has
 * settled (resume_settle(): a commit cut short is finished, and a pos left
 * over is committed, its frame in hand quarantined and `base` lowered by
 * one so that it is skipped now and after a second death in the same
 * block), the first consumed - base frames of block `at` are done with,
 * when it is user-owned with the saved seq_num; any other state of that
 * block means the writer had released it.  A refilled block's seq is
 * never the one taken (ring_block_seq()), so it is not mistaken for it;
 * index and seq share one word because two words would let a kill
 * between them skip or replay a whole block.  A frame is counted once, as
 * handled or (dying in the pipeline) as quarantined, and bytes is always
 * the wire length of the frames in packets (tests/unit/test_resume.c
 * walks every prefix of the stores, tests/unit/test_resume_kill.c kills a
 * real worker at random).
 *
 * The counters of a worker lag by the frames of the block in hand; its
 * plugins' counters do not.  pos holds 2^23 frames and 2^39 bytes: a
 * block with more frames is walked committing each frame, and a block
 * whose bytes come near the limit commits as they get there.
 */
#ifndef RINGFAN_RESUME_H
#define RINGFAN_RESUME_H

#include <stdint.h>

#include "ring.h"
#include "stats.h"

#define POS_BYTES_SHIFT	24
/* Frames a block may hold for one commit at its end. */
#define POS_MAX_FRAMES	(UINT32_C(1) << 22)
/* A pos at or past this holds bytes enough to commit now. */
#define POS_COMMIT_AT	(UINT64_C(1) << 63)

static inline uint64_t
pos_frames(uint64_t pos)
{
	return (pos & ((UINT64_C(1) << POS_BYTES_SHIFT) - 1)) >> 1;
}

static inline uint64_t
pos_bytes(uint64_t pos)
{
	return pos >> POS_BYTES_SHIFT;
}

/* 1 while a frame is in the pipeline, else 0. */
static inline unsigned
pos_in_hand(uint64_t pos)
{
	return (unsigned)(pos & 1);
}

/* Block `index` taken, with `consumed` frames consumed before it. */
static inline void
resume_take(struct stats_worker *sw, uint32_t index, uint32_t seq,
    uint64_t consumed)
{
	STATS_STORE(&sw->base, consumed);
	STATS_ORDER();
	STATS_STORE(&sw->at, (uint64_t)index | (uint64_t)seq << 32);
}

/* The next frame goes into the pipeline, pos what the block did so far. */
static inline void
resume_frame_begin(struct stats_worker *sw, uint64_t pos)
{
	STATS_STORE(&sw->pos, pos | 1);
}

/* The frame of wire length len is through: the new pos. */
static inline uint64_t
resume_frame_done(struct stats_worker *sw, uint64_t pos, uint64_t len)
{
	pos += (len << POS_BYTES_SHIFT) + 2;
	STATS_STORE(&sw->pos, pos);
	return pos;
}

/* A frame consumed without the pipeline: the other generation's. */
static inline void
resume_frame_handed_off(struct stats_worker *sw, uint64_t handed_off)
{
	STATS_STORE(&sw->handed_off, handed_off);
	STATS_ORDER();		/* before the next frame's pos */
}

/* After the release of the block before `next`: nothing of it is ours. */
static inline void
resume_released(struct stats_worker *sw, uint32_t next)
{
	STATS_ORDER();		/* after the block's release to the kernel */
	STATS_STORE(&sw->at, (uint64_t)next);
}

/*
 * Commit `frames` frames of `bytes` done with, and `in_hand` (0 or 1) frame
 * quarantined, into the counters, clearing pos.  Crash-consistent: see
 * above.  The worker's own commits have in_hand 0; pos must say the same
 * as the arguments or be 0.
 */
void	resume_commit(struct stats_worker *sw, uint64_t frames, uint64_t bytes,
	    unsigned in_hand);

/* resume_commit() of what pos holds; a no-op when it holds nothing. */
void	resume_commit_pos(struct stats_worker *sw);

/*
 * Settle a predecessor's death: finish its commit if one was cut short,
 * then commit what pos holds, the frame it held in the pipeline counted as
 * quarantined and `base` lowered by one, so that it is skipped now and
 * again if this worker dies before its next commit.  Crash-consistent
 * itself; a no-op when there is nothing to settle.  The master settles a
 * worker it gives up on the same way.
 */
void	resume_settle(struct stats_worker *sw);

/*
 * Where a (re)spawned worker starts in ring r, from the position its
 * predecessor left in sw: the block index, and in *skip how many of that
 * block's frames are done with.  Settles first.
 */
uint32_t resume_ring(const struct ring *r, struct stats_worker *sw,
	    uint32_t *skip);

#endif

/*
 * The once-per-block half of the position protocol (see resume.h): the
 * commit of a block's frames, and what a successor makes of the position
 * its predecessor left.
 */
#include "resume.h"

/* The targets of a commit, once `commit` is set: idempotent. */
static void
resume_apply(struct stats_worker *sw)
{
	STATS_STORE(&sw->packets, sw->t_packets);
	STATS_STORE(&sw->bytes, sw->t_bytes);
	STATS_STORE(&sw->quarantined, sw->t_quarantined);
	STATS_STORE(&sw->base, sw->t_base);
	/*
	 * The counters before pos, to a reader that runs beside the worker
	 * too (the stall watch: stall_progress()), on any CPU; on x86 no
	 * instruction.
	 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(&sw->pos, 0);
	STATS_ORDER();
	STATS_STORE(&sw->commit, 0);
}

void
resume_commit(struct stats_worker *sw, uint64_t frames, uint64_t bytes,
    unsigned in_hand)
{
	/*
	 * Until `commit` is set nothing but the targets has changed, so a
	 * successor computes the same ones again from pos.
	 */
	STATS_STORE(&sw->t_packets, sw->packets + frames);
	STATS_STORE(&sw->t_bytes, sw->bytes + bytes);
	STATS_STORE(&sw->t_quarantined, sw->quarantined + in_hand);
	STATS_STORE(&sw->t_base, sw->base - in_hand);
	STATS_ORDER();
	STATS_STORE(&sw->commit, 1);
	STATS_ORDER();
	resume_apply(sw);
}

void
resume_commit_pos(struct stats_worker *sw)
{
	uint64_t pos = sw->pos;

	if (pos != 0)
		resume_commit(sw, pos_frames(pos), pos_bytes(pos),
		    pos_in_hand(pos));
}

void
resume_settle(struct stats_worker *sw)
{
	if (sw->commit != 0)
		resume_apply(sw);
	resume_commit_pos(sw);
}

uint32_t
resume_ring(const struct ring *r, struct stats_worker *sw, uint32_t *skip)
{
	uint64_t at = sw->at;
	uint32_t idx = (uint32_t)at, seq = (uint32_t)(at >> 32);
	const struct tpacket_block_desc *bd;

	resume_settle(sw);
	*skip = 0;
	if (idx >= r->block_count)		/* not a position we wrote */
		return 0;
	if (seq == 0)				/* between blocks */
		return idx;
	bd = ring_block(r, idx);
	if (ring_block_ready(bd) && ring_block_seq(bd) == seq) {
		*skip = (uint32_t)(stats_consumed(sw) - sw->base);
		return idx;
	}
	/* Released already, perhaps refilled: it is not ours any more. */
	return (idx + 1) % r->block_count;
}

/*
 * The once-per-start half of the position protocol (see resume.h): what a
 * successor makes of the position its predecessor left.
 */
#include "resume.h"

void
resume_quarantine(struct stats_worker *sw)
{
	uint64_t consumed = stats_consumed(sw);

	/* Killed between a frame's two counters: its bytes, as it meant. */
	if (sw->inflight == consumed && sw->bytes_next != sw->bytes)
		STATS_STORE(&sw->bytes, sw->bytes_next);
	/*
	 * quarantined and base are two words, so they cannot be moved in one
	 * store: their targets are stored first and inflight == consumed + 2
	 * commits them.  A successor of a worker that died after the commit
	 * redoes the two idempotent stores, so the frame is neither counted
	 * twice nor another frame skipped.
	 */
	if (sw->inflight == consumed + 1) {
		STATS_STORE(&sw->q_target, sw->quarantined + 1);
		STATS_STORE(&sw->b_target, sw->base - 1);
		STATS_STORE(&sw->inflight, consumed + 2);
	}
	if (sw->inflight == consumed + 2) {
		STATS_STORE(&sw->quarantined, sw->q_target);
		STATS_STORE(&sw->base, sw->b_target);
		/* Its bytes were never counted, perhaps meant already. */
		STATS_STORE(&sw->bytes_next, sw->bytes);
		STATS_STORE(&sw->inflight, consumed);
	}
}

uint32_t
resume_ring(const struct ring *r, struct stats_worker *sw, uint32_t *skip)
{
	uint64_t at = sw->at;
	uint32_t idx = (uint32_t)at, seq = (uint32_t)(at >> 32);
	const struct tpacket_block_desc *bd;

	resume_quarantine(sw);
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

/*
 * The position protocol of resume.h: the resume decision, the commit and
 * the settling of a death over rings of synthetic block headers, and a
 * writer killed after every single-word store of its sequence.  The
 * stores are counted here (STATS_STORE) and resume.c is built into this
 * file, so that a death can land inside a commit as well.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_death.h"

#include "../../framework/resume.c"

/* A block only needs its header here: the frames are counted, not read. */
#define BLOCK_SIZE	128
#define RING_BLOCKS	3

static alignas(64) uint8_t blocks[RING_BLOCKS * BLOCK_SIZE];

/* One buffer for both views: the test writes what the kernel would. */
static struct ring test_ring = {
	.map = blocks, .wmap = blocks, .block_size = BLOCK_SIZE,
	.block_count = RING_BLOCKS,
};

/* Block `i` retired by the kernel to user space with sequence number seq. */
static void
fill(uint32_t i, uint32_t seq)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(void *)
	    (blocks + (size_t)i * BLOCK_SIZE);

	memset(bd, 0, BLOCK_SIZE);
	bd->version = TPACKET_V3;
	bd->hdr.bh1.seq_num = seq;
	bd->hdr.bh1.block_status = TP_STATUS_USER;
}

static int
setup_ring(void **state)
{
	(void)state;
	store_budget = -1;
	for (uint32_t i = 0; i < RING_BLOCKS; i++)
		fill(i, 77 + i);
	return 0;
}

/* pos of `frames` frames of `bytes` done, and `in_hand` in the pipeline. */
static uint64_t
pos_of(uint64_t frames, uint64_t bytes, unsigned in_hand)
{
	return bytes << POS_BYTES_SHIFT | 2 * frames | in_hand;
}

static void
test_resume_between_blocks(void **state)
{
	struct stats_worker sw = { .packets = 5, .base = 2, .at = 1 };
	uint32_t skip = 99;

	(void)state;
	/* seq 0: the predecessor had released its block; start at `at`. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);
	assert_int_equal(sw.quarantined, 0);
	assert_int_equal(sw.packets, 5);
}

static void
test_resume_not_ours(void **state)
{
	struct stats_worker sw = { .at = RING_BLOCKS | 77ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* An index past the ring is no position this ring's worker wrote. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
	assert_int_equal(skip, 0);
}

static void
test_resume_in_block(void **state)
{
	/* 2 frames committed in block 0 (a block that commits each), 3 not. */
	struct stats_worker sw = { .packets = 12, .bytes = 1000, .base = 10,
	    .pos = pos_of(3, 600, 0), .at = 0 | 77ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* Block 0 is still user-owned with the saved seq: skip all five. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
	assert_int_equal(skip, 5);
	assert_int_equal(sw.packets, 15);
	assert_int_equal(sw.bytes, 1600);
	assert_int_equal(sw.pos, 0);
	assert_int_equal(sw.quarantined, 0);
	assert_int_equal(sw.base, 10);
}

static void
test_resume_counts_handed_off(void **state)
{
	struct stats_worker sw = { .packets = 12, .handed_off = 3, .base = 10,
	    .pos = pos_of(1, 64, 0), .at = 2 | 79ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* Frames left to the other generation were consumed all the same. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 2);
	assert_int_equal(skip, 6);
}

/*
 * Resume after a death in the pipeline on frame 3 of block 0, 2 frames of
 * it done before: those are counted, that one quarantined and skipped
 * with them, its bytes never counted.
 */
static void
resume_settled(struct stats_worker *sw)
{
	uint32_t skip = 99;

	assert_int_equal(resume_ring(&test_ring, sw, &skip), 0);
	assert_int_equal(skip, 3);
	assert_int_equal(sw->packets, 12);
	assert_int_equal(sw->bytes, 900 + 150);
	assert_int_equal(sw->quarantined, 5);
	assert_int_equal(sw->base, 9);
	assert_int_equal(sw->pos, 0);
	assert_int_equal(sw->commit, 0);
}

static void
test_resume_quarantine(void **state)
{
	struct stats_worker sw = { .packets = 10, .bytes = 900, .base = 10,
	    .pos = pos_of(2, 150, 1), .at = 0 | 77ull << 32,
	    .quarantined = 4 };

	(void)state;
	resume_settled(&sw);
	/* Dying again before the next frame: the same frames skipped again. */
	resume_settled(&sw);
}

/*
 * The settling cut short after each of its stores: the next successor
 * finishes it, once.
 */
static void
test_resume_settle_interrupted(void **state)
{
	const struct stats_worker dead = { .packets = 10, .bytes = 900,
	    .base = 10, .pos = pos_of(2, 150, 1), .at = 0 | 77ull << 32,
	    .quarantined = 4 };
	struct stats_worker sw;
	uint32_t skip;
	static long k;

	(void)state;
	for (k = 0;; k++) {
		sw = dead;
		store_budget = k;
		if (setjmp(store_death) == 0) {
			resume_ring(&test_ring, &sw, &skip);
			break;			/* it got through: k stores */
		}
		store_budget = -1;
		resume_settled(&sw);
	}
	store_budget = -1;
	/* Four targets, the commit, four counters, pos, the commit again. */
	assert_int_equal(k, 11);
}

static void
test_resume_released_block(void **state)
{
	struct stats_worker sw = { .packets = 12, .base = 10,
	    .at = 0 | 76ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* The block holds another seq: it was released and refilled. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);

	/* Or it is back with the kernel. */
	sw.at = 0 | 77ull << 32;
	ring_block_return(&test_ring, ring_block(&test_ring, 0));
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);

	/* The last block's successor is the first. */
	sw.at = 2 | 78ull << 32;
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
}

/*
 * The kernel's seq_num is 64-bit, the position keeps 32 bits of it: the
 * 2^32nd block a socket opens (and every multiple) has 0 there, which the
 * position reserves for "between blocks".  A worker that dies in such a
 * block must still be resumed in it after the frames it did, and a block
 * refilled after it must still be told from it.
 */
static void
test_resume_seq_wraps(void **state)
{
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(void *)
	    (blocks + BLOCK_SIZE);
	struct stats_worker sw;
	uint32_t skip = 99;

	(void)state;
	for (uint64_t hi = 1; hi <= 3; hi++) {
		memset(&sw, 0, sizeof(sw));
		sw.packets = 40;
		/* Block 1 taken with seq_num hi << 32, 3 frames done. */
		bd->hdr.bh1.seq_num = hi << 32;
		bd->hdr.bh1.block_status = TP_STATUS_USER;
		resume_take(&sw, 1, ring_block_seq(bd), stats_consumed(&sw));
		sw.pos = pos_of(3, 180, 0);
		assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
		assert_int_equal(skip, 3);
		assert_int_equal(sw.packets, 43);

		/* Released and refilled RING_BLOCKS blocks later: not ours. */
		bd->hdr.bh1.seq_num = (hi << 32) + RING_BLOCKS;
		assert_int_equal(resume_ring(&test_ring, &sw, &skip), 2);
		assert_int_equal(skip, 0);
	}
}

static void
test_frame_helpers(void **state)
{
	struct stats_worker sw;
	uint64_t pos;

	(void)state;
	memset(&sw, 0, sizeof(sw));
	resume_take(&sw, 2, 79, 10);
	assert_int_equal(sw.base, 10);
	assert_int_equal(sw.at, 2 | 79ull << 32);
	resume_frame_begin(&sw, 0);
	assert_int_equal(sw.pos, 1);
	pos = resume_frame_done(&sw, 0, 1500);
	assert_int_equal(sw.pos, pos);
	assert_int_equal(pos_frames(pos), 1);
	assert_int_equal(pos_bytes(pos), 1500);
	resume_frame_begin(&sw, pos);
	pos = resume_frame_done(&sw, pos, UINT32_MAX);
	assert_int_equal(pos_frames(pos), 2);
	assert_int_equal(pos_bytes(pos), 1500 + (uint64_t)UINT32_MAX);
	resume_commit_pos(&sw);
	assert_int_equal(sw.packets, 2);
	assert_int_equal(sw.bytes, 1500 + (uint64_t)UINT32_MAX);
	assert_int_equal(sw.pos, 0);
	resume_frame_handed_off(&sw, 1);
	assert_int_equal(stats_consumed(&sw), 3);
	resume_released(&sw, 0);
	assert_int_equal(sw.at, 0);
	/* The most frames and bytes pos holds before a commit is due. */
	pos = pos_of(POS_MAX_FRAMES, (UINT64_C(1) << 39) - 1, 1);
	assert_true(pos < POS_COMMIT_AT);
	assert_int_equal(pos_frames(pos), POS_MAX_FRAMES);
	pos = resume_frame_done(&sw, pos - 1, UINT32_MAX);
	assert_true(pos >= POS_COMMIT_AT);
	assert_int_equal(pos_frames(pos), POS_MAX_FRAMES + 1);
	assert_int_equal(pos_bytes(pos), (UINT64_C(1) << 39) - 1 +
	    (uint64_t)UINT32_MAX);
	/* The longest wire length, a stripped tag's 4 bytes past 32 bits. */
	pos = pos_of(POS_MAX_FRAMES, (UINT64_C(1) << 39) - 1, 1);
	pos = resume_frame_done(&sw, pos - 1,
	    ring_wire_len(UINT32_MAX, RINGFAN_PKT_VLAN_VALID));
	assert_int_equal(pos_frames(pos), POS_MAX_FRAMES + 1);
	assert_int_equal(pos_bytes(pos), (UINT64_C(1) << 39) - 1 +
	    (uint64_t)UINT32_MAX + 4);
}

/*
 * The randomized test: a kernel that fills the ring's blocks in turn with a
 * stream of SIM_BLOCKS blocks of 0 to 4 frames, and a writer, made of
 * resume.h's own steps, that is killed after any number of stores (or
 * pipeline runs, or kernel moves): in a frame, in a commit, in its
 * successor's settling.  Its successors resume with resume_ring().
 */
#define SIM_BLOCKS	6
#define SIM_FRAMES_MAX	4
#define SIM_NONE	UINT32_MAX
/* A frame's wire length: each its own, so that bytes tell which counted. */
#define SIM_LEN(f)	(60u + 7u * (f))

struct sim {
	struct stats_worker	 sw;
	uint32_t		 nframes[SIM_BLOCKS];	/* per block of the stream */
	uint32_t		 first[SIM_BLOCKS];	/* its first frame's id */
	bool			 each[SIM_BLOCKS];	/* commits every frame */
	uint32_t		 total;			/* frames in the stream */
	bool			 handoff[SIM_BLOCKS * SIM_FRAMES_MAX];
	unsigned		 seen[SIM_BLOCKS * SIM_FRAMES_MAX];
	unsigned		 gone[SIM_BLOCKS * SIM_FRAMES_MAX]; /* handed */
	uint32_t		 slot_block[RING_BLOCKS];	/* stream index */
	uint32_t		 next_fill;	/* next block of the stream */
	uint32_t		 kernel_slot;	/* where it goes */
	uint32_t		 inflight;	/* frame id in hand, or SIM_NONE */
};

/* A small generator of our own, so that every run sees the same streams. */
static uint32_t
sim_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
sim_init(struct sim *s, uint32_t seed)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t g = 0; g < SIM_BLOCKS; g++) {
		s->nframes[g] = sim_rand(&seed) % (SIM_FRAMES_MAX + 1);
		s->first[g] = s->total;
		s->each[g] = sim_rand(&seed) % 4 == 0;
		for (uint32_t k = 0; k < s->nframes[g]; k++)
			s->handoff[s->total + k] = sim_rand(&seed) % 4 == 0;
		s->total += s->nframes[g];
	}
	for (uint32_t i = 0; i < RING_BLOCKS; i++) {
		fill(i, i + 1);		/* seq_num: the stream index + 1 */
		s->slot_block[i] = i;
	}
	s->next_fill = RING_BLOCKS;
	s->inflight = SIM_NONE;
}

/*
 * The kernel retires the next block of the stream, if any, into the slot
 * it fills next, in ring order, once user space has released it.
 */
static void
sim_fill(struct sim *s)
{
	uint32_t slot = s->kernel_slot;

	if (s->next_fill < SIM_BLOCKS &&
	    !ring_block_ready(ring_block(&test_ring, slot))) {
		fill(slot, s->next_fill + 1);	/* another seq_num */
		s->slot_block[slot] = s->next_fill++;
		s->kernel_slot = (slot + 1) % RING_BLOCKS;
	}
}

/* The frames of block g from `skip` on, as worker_block() takes them. */
static void
sim_block(struct sim *s, uint32_t g, uint32_t skip)
{
	struct stats_worker *sw = &s->sw;
	uint64_t pos = 0;
	uint32_t f;

	for (uint32_t k = skip; k < s->nframes[g]; k++) {
		f = s->first[g] + k;
		if (s->handoff[f]) {
			resume_frame_handed_off(sw, sw->handed_off + 1);
			s->gone[f]++;
			continue;
		}
		resume_frame_begin(sw, pos);
		s->inflight = f;
		store_step();			/* the pipeline */
		s->seen[f]++;
		pos = resume_frame_done(sw, pos, SIM_LEN(f));
		s->inflight = SIM_NONE;
		if (s->each[g]) {
			resume_commit(sw, pos_frames(pos), pos_bytes(pos), 0);
			pos = 0;
		}
	}
	if (pos != 0)
		resume_commit(sw, pos_frames(pos), pos_bytes(pos), 0);
}

/* A worker from where its predecessor left, to the end of the stream. */
static void
sim_run(struct sim *s)
{
	struct stats_worker *sw = &s->sw;
	const struct tpacket_block_desc *bd;
	uint32_t slot, skip;

	slot = resume_ring(&test_ring, sw, &skip);
	/*
	 * A block released by a worker killed before the refill step is
	 * refilled while its successor waits for it.
	 */
	for (sim_fill(s); ring_block_ready(bd = ring_block(&test_ring, slot));
	    sim_fill(s)) {
		if (skip == 0)
			resume_take(sw, slot, s->slot_block[slot] + 1,
			    stats_consumed(sw));
		sim_block(s, s->slot_block[slot], skip);
		skip = 0;
		store_step();
		ring_block_return(&test_ring, bd);
		if (s->next_fill < SIM_BLOCKS) {
			/* At once, before the writer's next store, or later. */
			store_step();
			sim_fill(s);
		}
		slot = (slot + 1) % RING_BLOCKS;
		resume_released(sw, slot);
	}
}

/* sim_run() with `budget` steps (-1: any); true when it died. */
static bool
sim_life(struct sim *s, long budget)
{
	store_budget = budget;
	if (setjmp(store_death) != 0) {
		store_budget = -1;
		return true;
	}
	sim_run(s);
	store_budget = -1;
	return false;
}

/*
 * Workers killed after budgets[0], budgets[1], ... steps, then one that
 * runs to the end of the stream; every frame is accounted for exactly.
 */
static void
sim_check(uint32_t seed, const long *budgets, size_t nbudgets)
{
	static struct sim s;
	uint32_t deaths_in_frame = 0;
	bool may_miss[SIM_BLOCKS * SIM_FRAMES_MAX] = { false };
	uint64_t bytes = 0;

	sim_init(&s, seed);
	for (size_t d = 0; d <= nbudgets; d++) {
		if (sim_life(&s, d < nbudgets ? budgets[d] : -1) &&
		    s.inflight != SIM_NONE) {
			/* Killed with a frame in hand: that one is quarantined. */
			may_miss[s.inflight] = true;
			deaths_in_frame++;
			s.inflight = SIM_NONE;
		}
	}
	assert_int_equal(s.sw.quarantined, deaths_in_frame);
	assert_int_equal(s.sw.packets + s.sw.handed_off + s.sw.quarantined,
	    s.total);
	for (uint32_t f = 0; f < s.total; f++) {
		assert_true(s.seen[f] + s.gone[f] <= 1);	/* never twice */
		if (!may_miss[f])
			assert_int_equal(s.seen[f] + s.gone[f], 1);
		/* The frames in packets, and they alone, in bytes. */
		if (!may_miss[f] && !s.handoff[f])
			bytes += SIM_LEN(f);
	}
	assert_int_equal(s.sw.bytes, bytes);
	assert_int_equal(s.sw.pos, 0);
	assert_int_equal(s.sw.commit, 0);
}

/* Steps of an uninterrupted run of seed's stream. */
static long
sim_steps(uint32_t seed)
{
	static struct sim s;
	const long big = 1L << 30;
	long n;

	sim_init(&s, seed);
	store_budget = big;
	if (setjmp(store_death) != 0)
		fail_msg("a run of %ld steps", big);
	sim_run(&s);
	n = big - store_budget;
	store_budget = -1;
	return n;
}

static void
test_resume_every_prefix(void **state)
{
	uint32_t x = 2463534242u;
	long n, b[2];

	(void)state;
	for (uint32_t seed = 1; seed <= 40; seed++) {
		n = sim_steps(seed);
		for (b[0] = 0; b[0] <= n; b[0]++) {
			/* One death after each prefix of the store sequence. */
			sim_check(seed, b, 1);
			/* And its successor killed too, at a few places. */
			for (int r = 0; r < 6; r++) {
				b[1] = (long)(sim_rand(&x) % (uint32_t)(n + 1));
				sim_check(seed, b, 2);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_resume_between_blocks, setup_ring),
		cmocka_unit_test_setup(test_resume_not_ours, setup_ring),
		cmocka_unit_test_setup(test_resume_in_block, setup_ring),
		cmocka_unit_test_setup(test_resume_counts_handed_off,
		    setup_ring),
		cmocka_unit_test_setup(test_resume_quarantine, setup_ring),
		cmocka_unit_test_setup(test_resume_settle_interrupted,
		    setup_ring),
		cmocka_unit_test_setup(test_resume_released_block, setup_ring),
		cmocka_unit_test_setup(test_resume_seq_wraps, setup_ring),
		cmocka_unit_test(test_frame_helpers),
		cmocka_unit_test(test_resume_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

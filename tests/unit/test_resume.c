/*
 * The position protocol of resume.h: the resume decision and the quarantine
 * commit over rings of synthetic block headers, and a writer killed after
 * every single-word store of its sequence.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resume.h"

/* A block only needs its header here: the frames are counted, not read. */
#define BLOCK_SIZE	128
#define RING_BLOCKS	3

static alignas(64) uint8_t blocks[RING_BLOCKS * BLOCK_SIZE];

static struct ring test_ring = {
	.map = blocks, .block_size = BLOCK_SIZE, .block_count = RING_BLOCKS,
};

/* Block `i` retired by the kernel to user space with sequence number seq. */
static void
fill(uint32_t i, uint32_t seq)
{
	struct tpacket_block_desc *bd = ring_block(&test_ring, i);

	memset(bd, 0, BLOCK_SIZE);
	bd->version = TPACKET_V3;
	bd->hdr.bh1.seq_num = seq;
	bd->hdr.bh1.block_status = TP_STATUS_USER;
}

static int
setup_ring(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < RING_BLOCKS; i++)
		fill(i, 77 + i);
	return 0;
}

static void
test_resume_between_blocks(void **state)
{
	struct stats_worker sw = { .packets = 5, .base = 2, .inflight = 5,
	    .at = 1 };
	uint32_t skip = 99;

	(void)state;
	/* seq 0: the predecessor had released its block; start at `at`. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);
	assert_int_equal(sw.quarantined, 0);
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
	struct stats_worker sw = { .packets = 12, .base = 10, .inflight = 12,
	    .at = 0 | 77ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* Block 0 is still user-owned with the saved seq: skip 2 handled. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
	assert_int_equal(skip, 2);
	assert_int_equal(sw.quarantined, 0);
	assert_int_equal(sw.base, 10);
}

static void
test_resume_counts_handed_off(void **state)
{
	struct stats_worker sw = { .packets = 12, .handed_off = 3, .base = 10,
	    .inflight = 15, .at = 2 | 79ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* Frames left to the other generation were consumed all the same. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 2);
	assert_int_equal(skip, 5);
}

/*
 * Resume after a death in the pipeline on frame 3 of block 0, 2 frames of
 * it handled before: that frame is quarantined and skipped with them.
 */
static void
resume_settled(struct stats_worker *sw)
{
	uint32_t skip = 99;

	assert_int_equal(resume_ring(&test_ring, sw, &skip), 0);
	assert_int_equal(skip, 3);
	assert_int_equal(sw->quarantined, 5);
	assert_int_equal(sw->base, 9);
	assert_int_equal(sw->inflight, 12);
}

static void
test_resume_quarantine(void **state)
{
	struct stats_worker sw = { .packets = 12, .base = 10, .inflight = 13,
	    .at = 0 | 77ull << 32, .quarantined = 4 };

	(void)state;
	resume_settled(&sw);
	/* Dying again before the next frame: the same frames skipped again. */
	resume_settled(&sw);
}

/*
 * The bytes of a death in the pipeline were never counted, though the
 * frame's bytes_next was stored: quarantining it sets bytes_next back.
 */
static void
test_resume_quarantine_bytes(void **state)
{
	struct stats_worker sw = { .packets = 12, .bytes = 900,
	    .bytes_next = 960, .base = 10, .inflight = 13,
	    .at = 0 | 77ull << 32, .quarantined = 4 };

	(void)state;
	resume_settled(&sw);
	assert_int_equal(sw.bytes, 900);
	assert_int_equal(sw.bytes_next, 900);
	resume_settled(&sw);
	assert_int_equal(sw.bytes, 900);
}

/*
 * A death between a frame's packets and its bytes: the frame is counted,
 * not quarantined, and its bytes are added, once.
 */
static void
test_resume_bytes_committed(void **state)
{
	struct stats_worker sw = { .packets = 13, .bytes = 900,
	    .bytes_next = 960, .base = 10, .inflight = 13,
	    .at = 0 | 77ull << 32, .quarantined = 4 };
	uint32_t skip = 99;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
		assert_int_equal(skip, 3);
		assert_int_equal(sw.packets, 13);
		assert_int_equal(sw.bytes, 960);
		assert_int_equal(sw.bytes_next, 960);
		assert_int_equal(sw.quarantined, 4);
		assert_int_equal(sw.base, 10);
	}
}

static void
test_resume_quarantine_interrupted(void **state)
{
	/*
	 * The quarantine commit as a successor dying after each of its
	 * stores leaves it: its own successor finishes it, once.
	 */
	const struct stats_worker states[] = {
		/* q_target stored */
		{ .inflight = 13, .quarantined = 4, .base = 10,
		    .q_target = 5 },
		/* b_target stored */
		{ .inflight = 13, .quarantined = 4, .base = 10,
		    .q_target = 5, .b_target = 9 },
		/* committed */
		{ .inflight = 14, .quarantined = 4, .base = 10,
		    .q_target = 5, .b_target = 9 },
		/* quarantined stored */
		{ .inflight = 14, .quarantined = 5, .base = 10,
		    .q_target = 5, .b_target = 9 },
		/* base stored */
		{ .inflight = 14, .quarantined = 5, .base = 9,
		    .q_target = 5, .b_target = 9 },
	};
	struct stats_worker sw;

	(void)state;
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		sw = states[k];
		sw.packets = 12;
		sw.at = 0 | 77ull << 32;
		resume_settled(&sw);
	}
}

static void
test_resume_released_block(void **state)
{
	struct stats_worker sw = { .packets = 12, .base = 10, .inflight = 12,
	    .at = 0 | 76ull << 32 };
	uint32_t skip = 99;

	(void)state;
	/* The block holds another seq: it was released and refilled. */
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);

	/* Or it is back with the kernel. */
	sw.at = 0 | 77ull << 32;
	ring_block_release(ring_block(&test_ring, 0));
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 1);
	assert_int_equal(skip, 0);

	/* The last block's successor is the first. */
	sw.at = 2 | 78ull << 32;
	assert_int_equal(resume_ring(&test_ring, &sw, &skip), 0);
}

static void
test_frame_helpers(void **state)
{
	struct stats_worker sw;

	(void)state;
	memset(&sw, 0, sizeof(sw));
	resume_take(&sw, 2, 79, 10);
	assert_int_equal(sw.base, 10);
	assert_int_equal(sw.at, 2 | 79ull << 32);
	resume_frame_begin(&sw, 10, 1500);
	assert_int_equal(sw.inflight, 11);
	assert_int_equal(sw.bytes_next, 1500);
	resume_frame_done(&sw, 11, 1500);
	assert_int_equal(sw.packets, 11);
	assert_int_equal(sw.bytes, 1500);
	resume_frame_handed_off(&sw, 1);
	assert_int_equal(stats_consumed(&sw), 12);
	resume_released(&sw, 0);
	assert_int_equal(sw.at, 0);
}

/*
 * The randomized test: a kernel that fills the ring's blocks in turn with a
 * stream of SIM_BLOCKS blocks of 0 to 4 frames, and a writer that follows
 * the store sequence of resume.h one word at a time and is killed after
 * any number of steps.  Its successors resume with resume_ring().
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
	uint32_t		 total;			/* frames in the stream */
	bool			 handoff[SIM_BLOCKS * SIM_FRAMES_MAX];
	unsigned		 seen[SIM_BLOCKS * SIM_FRAMES_MAX];
	unsigned		 gone[SIM_BLOCKS * SIM_FRAMES_MAX]; /* handed */
	uint32_t		 slot_block[RING_BLOCKS];	/* stream index */
	uint32_t		 next_fill;	/* next block of the stream */
	uint32_t		 kernel_slot;	/* where it goes */
	uint32_t		 inflight;	/* frame id in hand, or SIM_NONE */
	long			 budget;	/* steps left before the kill */
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

/* One step of the writer (a store, the pipeline, a kernel move), or death. */
#define STEP(s)	do { if ((s)->budget-- == 0) return true; } while (0)

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

/* A worker from block `slot`, `skip` frames in; true when it was killed. */
static bool
sim_run(struct sim *s, uint32_t slot, uint32_t skip)
{
	struct stats_worker *sw = &s->sw;
	struct tpacket_block_desc *bd;
	uint32_t g, f;

	/*
	 * A block released by a worker killed before the refill step is
	 * refilled while its successor waits for it.
	 */
	for (sim_fill(s); ring_block_ready(bd = ring_block(&test_ring, slot));
	    sim_fill(s)) {
		g = s->slot_block[slot];
		if (skip == 0) {
			STEP(s);
			STATS_STORE(&sw->base, stats_consumed(sw));
			STEP(s);
			STATS_STORE(&sw->at, slot | (uint64_t)(g + 1) << 32);
		}
		for (uint32_t k = skip; k < s->nframes[g]; k++) {
			f = s->first[g] + k;
			if (s->handoff[f]) {
				STEP(s);
				s->gone[f]++;
				STATS_STORE(&sw->handed_off, sw->handed_off + 1);
				continue;
			}
			STEP(s);
			STATS_STORE(&sw->inflight, stats_consumed(sw) + 1);
			s->inflight = f;
			STEP(s);
			STATS_STORE(&sw->bytes_next, sw->bytes + SIM_LEN(f));
			STEP(s);
			s->seen[f]++;			/* the pipeline */
			STEP(s);
			STATS_STORE(&sw->packets, sw->packets + 1);
			s->inflight = SIM_NONE;
			STEP(s);
			STATS_STORE(&sw->bytes, sw->bytes_next);
		}
		skip = 0;
		STEP(s);
		ring_block_release(bd);
		if (s->next_fill < SIM_BLOCKS) {
			/* At once, before the writer's next store, or later. */
			STEP(s);
			sim_fill(s);
		}
		slot = (slot + 1) % RING_BLOCKS;
		STEP(s);
		STATS_STORE(&sw->at, slot);
	}
	return false;
}

/*
 * Workers killed after budgets[0], budgets[1], ... steps, then one that
 * runs to the end of the stream; every frame is accounted for exactly.
 */
static void
sim_check(uint32_t seed, const long *budgets, size_t nbudgets)
{
	struct sim s;
	uint32_t idx, skip, deaths_in_frame = 0;
	bool may_miss[SIM_BLOCKS * SIM_FRAMES_MAX] = { false };
	uint64_t bytes = 0;
	bool died;

	sim_init(&s, seed);
	for (size_t d = 0; d <= nbudgets; d++) {
		s.budget = d < nbudgets ? budgets[d] : -1;
		idx = resume_ring(&test_ring, &s.sw, &skip);
		died = sim_run(&s, idx, skip);
		if (died && s.inflight != SIM_NONE) {
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
	assert_int_equal(s.sw.bytes_next, s.sw.bytes);
}

/* Steps of an uninterrupted run of seed's stream. */
static long
sim_steps(uint32_t seed)
{
	struct sim s;
	uint32_t skip;

	sim_init(&s, seed);
	s.budget = 1L << 30;
	assert_false(sim_run(&s, resume_ring(&test_ring, &s.sw, &skip), skip));
	return (1L << 30) - s.budget;
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
		cmocka_unit_test_setup(test_resume_quarantine_bytes,
		    setup_ring),
		cmocka_unit_test_setup(test_resume_bytes_committed, setup_ring),
		cmocka_unit_test_setup(test_resume_quarantine_interrupted,
		    setup_ring),
		cmocka_unit_test_setup(test_resume_released_block, setup_ring),
		cmocka_unit_test(test_frame_helpers),
		cmocka_unit_test(test_resume_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The block walker and the worker's per-block step over synthetic TPACKET_V3
 * blocks built in memory, laid out as the kernel lays them out.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin_host.h"
#include "resume.h"
#include "ring.h"
#include "stats.h"
#include "worker.h"

#define BLOCK_SIZE	4096
#define FIRST_OFF	48	/* offset_to_first_pkt: past the block header */
#define MAC_OFF		(RING_SLL_OFF + TPACKET_ALIGN(sizeof(struct sockaddr_ll)))

static alignas(64) uint8_t block[BLOCK_SIZE];

static struct tpacket_block_desc *
blk(void)
{
	return (struct tpacket_block_desc *)block;
}

/* Append one frame of `caplen` bytes filled with `fill`; returns its offset. */
static uint32_t
add_frame(uint32_t *off, uint32_t *prev, uint32_t caplen, uint32_t len,
    uint8_t fill, uint32_t status)
{
	struct tpacket3_hdr *h = (struct tpacket3_hdr *)(block + *off);
	struct sockaddr_ll *sll = (struct sockaddr_ll *)((uint8_t *)h +
	    RING_SLL_OFF);
	uint32_t at = *off;

	memset(h, 0, sizeof(*h));
	h->tp_mac = MAC_OFF;
	h->tp_net = MAC_OFF + 14;
	h->tp_snaplen = caplen;
	h->tp_len = len;
	h->tp_sec = 1700000000;
	h->tp_nsec = 123456789 + at;
	h->tp_status = TP_STATUS_USER | status;
	h->hv1.tp_rxhash = 0xabcd0000u + at;
	h->hv1.tp_vlan_tci = 100;
	h->hv1.tp_vlan_tpid = 0x8100;
	sll->sll_pkttype = PACKET_BROADCAST;
	memset((uint8_t *)h + MAC_OFF, fill, caplen);
	if (*prev != 0)
		((struct tpacket3_hdr *)(block + *prev))->tp_next_offset =
		    at - *prev;
	*prev = at;
	*off = at + TPACKET_ALIGN(MAC_OFF + caplen);
	blk()->hdr.bh1.num_pkts++;
	return at;
}

static int
setup_block(void **state)
{
	(void)state;
	memset(block, 0, sizeof(block));
	blk()->version = TPACKET_V3;
	blk()->offset_to_priv = 0;
	blk()->hdr.bh1.block_status = TP_STATUS_USER;
	blk()->hdr.bh1.seq_num = 77;
	blk()->hdr.bh1.offset_to_first_pkt = FIRST_OFF;
	return 0;
}

static void
test_walk_frames(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	uint32_t off = FIRST_OFF, prev = 0, at[3];

	(void)state;
	at[0] = add_frame(&off, &prev, 60, 60, 0x11, 0);
	at[1] = add_frame(&off, &prev, 100, 1500, 0x22,
	    TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID);
	at[2] = add_frame(&off, &prev, 42, 42, 0x33, TP_STATUS_VLAN_VALID);

	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_true(ring_walk_next(&w, &pkt));
	/* The view points into the block: no copy. */
	assert_ptr_equal(pkt.data, block + at[0] + MAC_OFF);
	assert_int_equal(pkt.caplen, 60);
	assert_int_equal(pkt.len, 60);
	assert_int_equal(pkt.data[0], 0x11);
	assert_int_equal(pkt.ts_ns, 1700000000ull * 1000000000ull + 123456789 +
	    at[0]);
	assert_int_equal(pkt.rxhash, 0xabcd0000u + at[0]);
	assert_int_equal(pkt.flags, 0);
	assert_int_equal(pkt.vlan_tci, 0);
	assert_int_equal(pkt.pkttype, PACKET_BROADCAST);

	assert_true(ring_walk_next(&w, &pkt));
	assert_ptr_equal(pkt.data, block + at[1] + MAC_OFF);
	assert_int_equal(pkt.caplen, 100);
	assert_int_equal(pkt.len, 1500);
	assert_int_equal(pkt.flags, RINGFAN_PKT_VLAN_VALID |
	    RINGFAN_PKT_TPID_VALID | RINGFAN_PKT_TRUNCATED);
	assert_int_equal(pkt.vlan_tci, 100);
	assert_int_equal(pkt.vlan_tpid, 0x8100);

	assert_true(ring_walk_next(&w, &pkt));
	assert_ptr_equal(pkt.data, block + at[2] + MAC_OFF);
	assert_int_equal(pkt.flags, RINGFAN_PKT_VLAN_VALID);
	assert_int_equal(pkt.vlan_tpid, 0);

	assert_false(ring_walk_next(&w, &pkt));
	assert_false(w.bad);
}

static void
test_walk_empty(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;

	(void)state;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_false(ring_walk_next(&w, &pkt));
	assert_false(w.bad);
}

static void
test_walk_bad_first_offset(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	uint32_t off = FIRST_OFF, prev = 0;

	(void)state;
	add_frame(&off, &prev, 60, 60, 0x11, 0);
	blk()->hdr.bh1.offset_to_first_pkt = BLOCK_SIZE;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);

	blk()->hdr.bh1.offset_to_first_pkt = 8;	/* inside the block header */
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);
}

static void
test_walk_snaplen_past_block(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	uint32_t off = FIRST_OFF, prev = 0, at;

	(void)state;
	add_frame(&off, &prev, 60, 60, 0x11, 0);
	at = add_frame(&off, &prev, 60, 60, 0x22, 0);
	((struct tpacket3_hdr *)(block + at))->tp_snaplen = BLOCK_SIZE;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_true(ring_walk_next(&w, &pkt));
	assert_int_equal(pkt.data[0], 0x11);
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);
}

static void
test_walk_next_offset_zero(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	uint32_t off = FIRST_OFF, prev = 0, at;

	(void)state;
	at = add_frame(&off, &prev, 60, 60, 0x11, 0);
	add_frame(&off, &prev, 60, 60, 0x22, 0);
	((struct tpacket3_hdr *)(block + at))->tp_next_offset = 0;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	/* The frame itself is sound; only the way to the next is not. */
	assert_true(ring_walk_next(&w, &pkt));
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);
}

static void
test_walk_misaligned(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	uint32_t off = FIRST_OFF, prev = 0, at;

	(void)state;
	at = add_frame(&off, &prev, 60, 60, 0x11, 0);
	add_frame(&off, &prev, 60, 60, 0x22, 0);
	/* The kernel aligns frames to 8 bytes; 1 past is not a frame. */
	((struct tpacket3_hdr *)(block + at))->tp_next_offset += 1;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_true(ring_walk_next(&w, &pkt));
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);

	blk()->hdr.bh1.offset_to_first_pkt = FIRST_OFF + 4;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);
}

static void
test_walk_header_cut(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;

	(void)state;
	blk()->hdr.bh1.num_pkts = 1;
	blk()->hdr.bh1.offset_to_first_pkt = BLOCK_SIZE - 16;
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	assert_false(ring_walk_next(&w, &pkt));
	assert_true(w.bad);
}

static void
test_ready_release(void **state)
{
	(void)state;
	assert_true(ring_block_ready(blk()));
	ring_block_release(blk());
	assert_false(ring_block_ready(blk()));
	assert_int_equal(blk()->hdr.bh1.block_status, TP_STATUS_KERNEL);
}

/* A one-stage pipeline that checks the position the worker publishes. */
static struct stats_worker *seen_sw;
static uint64_t seen_bytes[8];
static unsigned seen;
/* What pos holds before each frame, in a block that commits at its end. */
static uint64_t seen_pos_frames, seen_pos_bytes;
static uint64_t seen_packets;	/* the counters, unmoved in the block */

static int
record_packet(void *state, const struct ringfan_packet *pkt)
{
	uint64_t pos = seen_sw->pos;

	(void)state;
	/* While a frame is in hand, pos is odd ... */
	assert_int_equal(pos & 1, 1);
	/* ... and holds the frames before it in this block, and their bytes. */
	assert_int_equal(pos_frames(pos), seen_pos_frames);
	assert_int_equal(pos_bytes(pos), seen_pos_bytes);
	assert_int_equal(seen_sw->packets, seen_packets);
	assert_int_equal(seen_sw->commit, 0);
	assert_int_equal(seen_sw->at, 5u | 77ull << 32);
	seen_pos_frames++;
	seen_pos_bytes += pkt->len;
	seen_bytes[seen++] = pkt->len;
	return RINGFAN_CONTINUE;
}

/*
 * A worker over the synthetic block with pipeline pl (record_pl records
 * every frame), its slot in a fresh stats region, and the block's three
 * frames of 60, 90 and 64 bytes on the wire.  Returns the frames' offsets
 * in at[].
 */
static struct plugin_stage record_stage = { .packet = record_packet };
static struct pipeline record_pl = { .stages = &record_stage, .nstages = 1,
    .first_batch = 1 };

static struct stats_shm *
worker_fixture(struct worker *wk, uint32_t at[3], struct pipeline *pl)
{
	struct stats_shm *shm;
	uint32_t off = FIRST_OFF, prev = 0;

	shm = stats_create(1);
	assert_non_null(shm);
	seen_sw = &shm->workers[0];
	seen = 0;
	seen_pos_frames = 0;
	seen_pos_bytes = 0;
	seen_packets = 0;
	at[0] = add_frame(&off, &prev, 60, 60, 0x11, 0);
	at[1] = add_frame(&off, &prev, 80, 90, 0x22, 0);
	at[2] = add_frame(&off, &prev, 64, 64, 0x33, 0);
	memset(wk, 0, sizeof(*wk));
	wk->sw = seen_sw;
	wk->pl = pl;
	pl->w = seen_sw;	/* as pipeline_open() sets it */
	wk->ring.block_size = BLOCK_SIZE;
	return shm;
}

static void
test_worker_block(void **state)
{
	struct stats_worker *sw;
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &record_pl);
	sw = &shm->workers[0];
	sw->packets = 10;
	sw->bytes = 1000;
	seen_packets = 10;
	assert_int_equal(worker_block(&wk, blk(), 5, 0), 3);
	assert_int_equal(seen, 3);
	assert_int_equal(seen_bytes[1], 90);
	/* Committed at the block's end, pos cleared. */
	assert_int_equal(sw->packets, 13);
	assert_int_equal(sw->bytes, 1000 + 60 + 90 + 64);
	assert_int_equal(sw->pos, 0);
	assert_int_equal(sw->commit, 0);
	assert_int_equal(sw->base, 10);
	assert_int_equal(sw->quarantined, 0);
	assert_int_equal(sw->ring_errors, 0);
	stats_destroy(shm, 1);
}

/*
 * A block of more frames than pos can hold commits every frame: before
 * each, pos holds nothing and the counters everything before it.
 */
static int
record_each(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	assert_int_equal(seen_sw->pos, 1);
	assert_int_equal(seen_sw->packets, seen);
	seen_bytes[seen++] = pkt->len;
	return RINGFAN_CONTINUE;
}

static void
test_worker_block_huge(void **state)
{
	struct plugin_stage stage = { .packet = record_each };
	struct pipeline pl = { .stages = &stage, .nstages = 1,
	    .first_batch = 1 };
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &pl);
	/*
	 * The block claims more frames than it has: the walk ends bad.  Its
	 * size, as the worker takes it, is one of 256 MiB, which may hold
	 * that many (RING_FRAMES_MAX); the walk reads the three frames only.
	 */
	wk.ring.block_size = 256u << 20;
	_Static_assert(RING_FRAMES_MAX(256u << 20) > POS_MAX_FRAMES,
	    "a 256 MiB block may hold more frames than pos");
	blk()->hdr.bh1.num_pkts = POS_MAX_FRAMES + 1;
	assert_int_equal(worker_block(&wk, blk(), 5, 0), 3);
	assert_int_equal(seen, 3);
	assert_int_equal(seen_sw->packets, 3);
	assert_int_equal(seen_sw->bytes, 60 + 90 + 64);
	assert_int_equal(seen_sw->pos, 0);
	assert_int_equal(seen_sw->ring_errors, 1);
	stats_destroy(shm, 1);
}

/* No stage: the frames are counted without a view, as many as walk. */
static void
test_worker_block_empty(void **state)
{
	struct pipeline pl = { .nstages = 0 };
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &pl);
	seen_sw->packets = 7;
	seen_sw->bytes = 70;
	assert_int_equal(worker_block(&wk, blk(), 5, 0), 3);
	assert_int_equal(seen_sw->packets, 10);
	assert_int_equal(seen_sw->bytes, 70 + 60 + 90 + 64);
	assert_int_equal(seen_sw->base, 7);
	assert_int_equal(seen_sw->pos, 0);
	assert_int_equal(seen_sw->ring_errors, 0);
	assert_int_equal(wk.clock.frame_ns, 1700000000ull * 1000000000ull +
	    123456789 + at[2]);

	/* Resumed after two frames; then a block whose second frame is cut. */
	assert_int_equal(worker_block(&wk, blk(), 5, 2), 1);
	assert_int_equal(seen_sw->packets, 11);
	((struct tpacket3_hdr *)(block + at[1]))->tp_snaplen = BLOCK_SIZE;
	assert_int_equal(worker_block(&wk, blk(), 6, 0), 1);
	assert_int_equal(seen_sw->packets, 12);
	assert_int_equal(seen_sw->bytes, 70 + (60 + 90 + 64) + 64 + 60);
	assert_int_equal(seen_sw->ring_errors, 1);
	stats_destroy(shm, 1);
}

static size_t batch_n;
static uint32_t batch_len0;

static void
record_batch(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	(void)state;
	batch_n = n;
	batch_len0 = n > 0 ? pkts[0]->len : 0;
	/* The batch comes after every frame went through the earlier stages. */
	assert_int_equal(seen, 2);
}

/* A filter stage: frames of 64 bytes on the wire go no further. */
static int
drop_64(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	return pkt->len == 64 ? RINGFAN_STOP : RINGFAN_CONTINUE;
}

static void
test_worker_block_batch(void **state)
{
	struct plugin plain = { 0 }, batcher = { .calls.batch = record_batch };
	struct plugin_stage stages[3] = {
		{ .packet = record_packet, .plugin = &plain },
		{ .packet = drop_64, .plugin = &plain },
		{ .plugin = &batcher },
	};
	struct pipeline pl = { .stages = stages, .nstages = 3,
	    .first_batch = 2, .has_batch = true };
	struct ringfan_packet views[8];
	const struct ringfan_packet *ptrs[8];
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &pl);
	wk.batch = views;
	wk.ptrs = ptrs;
	wk.batch_max = 8;
	/*
	 * Resumed after the first frame: the second and third go through the
	 * filter, and the batch stage gets what it passed.
	 */
	seen_sw->packets = 1;
	seen_sw->at = 5 | 77ull << 32;
	seen_packets = 1;
	assert_int_equal(worker_block(&wk, blk(), 5, 1), 2);
	assert_int_equal(seen, 2);
	assert_int_equal(batch_n, 1);
	assert_int_equal(batch_len0, 90);
	stats_destroy(shm, 1);
}

/*
 * A hostile block whose frames overlap: every 8-byte word of it says "the
 * next frame is 8 bytes on", so each header read there is a frame of no
 * bytes whose next frame is 8 bytes on, and its header says it holds
 * `frames` of them.  The worker's batch array holds RING_FRAMES_MAX()
 * (worker_pipeline()): a block that says it holds more is not walked,
 * one that says it holds as many is walked to its count.
 */
static void
overlapping_block(uint32_t frames)
{
	uint32_t word[2] = { 8, 0 };

	for (size_t o = FIRST_OFF; o + sizeof(word) <= BLOCK_SIZE;
	    o += sizeof(word))
		memcpy(block + o, word, sizeof(word));
	blk()->hdr.bh1.num_pkts = frames;
}

static void
test_walk_overlapping(void **state)
{
	struct ringfan_packet pkt = { 0 };
	struct ring_walk w;
	unsigned n = 0;

	(void)state;
	overlapping_block(RING_FRAMES_MAX(BLOCK_SIZE) + 1);
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	while (ring_walk_next(&w, &pkt))
		n++;
	assert_true(w.bad);
	assert_int_equal(n, 0);
	overlapping_block(RING_FRAMES_MAX(BLOCK_SIZE));
	ring_walk_init(&w, blk(), BLOCK_SIZE);
	while (ring_walk_next(&w, &pkt))
		n++;
	assert_false(w.bad);
	assert_int_equal(n, RING_FRAMES_MAX(BLOCK_SIZE));
}

static unsigned batch_total;

static void
count_batch(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	(void)state;
	(void)pkts;
	batch_total += (unsigned)n;
}

static void
test_worker_block_batch_overlapping(void **state)
{
	struct plugin batcher = { .calls.batch = count_batch };
	struct plugin_stage stage = { .plugin = &batcher };
	struct pipeline pl = { .stages = &stage, .nstages = 1,
	    .first_batch = 0, .has_batch = true };
	/* As worker_pipeline() sizes them, and a guard after each. */
	enum { MAX = RING_FRAMES_MAX(BLOCK_SIZE), GUARD = 1024 };
	static struct ringfan_packet views[MAX + GUARD];
	static const struct ringfan_packet *ptrs[MAX + GUARD];
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &pl);
	overlapping_block(BLOCK_SIZE);
	memset(views, 0, sizeof(views));
	memset(ptrs, 0, sizeof(ptrs));
	wk.batch = views;
	wk.ptrs = ptrs;
	wk.batch_max = MAX;
	batch_total = 0;
	worker_block(&wk, blk(), 5, 0);
	for (size_t i = MAX; i < MAX + GUARD; i++) {
		assert_null(views[i].data);
		assert_null(ptrs[i]);
	}
	assert_true(batch_total <= MAX);
	assert_int_equal(seen_sw->ring_errors, 1);
	stats_destroy(shm, 1);
}

/*
 * A VLAN tag the kernel stripped was on the wire: `bytes` counts it, as
 * it counts the same frame read from a file (where the tag is in len), as
 * flowtable and pcapwriter do.  Both paths: a stage, and no stage at all.
 */
static int
pass_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	seen_bytes[seen++] = pkt->len;
	return RINGFAN_CONTINUE;
}

static void
test_worker_block_vlan_bytes(void **state)
{
	struct plugin_stage stage = { .packet = pass_packet };
	struct pipeline one = { .stages = &stage, .nstages = 1,
	    .first_batch = 1 }, none = { .nstages = 0 };
	struct pipeline *pls[] = { &one, &none };
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	for (size_t i = 0; i < sizeof(pls) / sizeof(pls[0]); i++) {
		setup_block(NULL);
		shm = worker_fixture(&wk, at, pls[i]);
		((struct tpacket3_hdr *)(block + at[1]))->tp_status |=
		    TP_STATUS_VLAN_VALID;
		((struct tpacket3_hdr *)(block + at[2]))->tp_status |=
		    TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
		assert_int_equal(worker_block(&wk, blk(), 5, 0), 3);
		assert_int_equal(seen_sw->packets, 3);
		assert_int_equal(seen_sw->bytes, 60 + (90 + 4) + (64 + 4));
		if (pls[i] == &one) {
			/* The plugins' view keeps the kernel's len. */
			assert_int_equal(seen, 3);
			assert_int_equal(seen_bytes[1], 90);
			assert_int_equal(seen_bytes[2], 64);
		}
		stats_destroy(shm, 1);
	}
}

static void
test_worker_block_skip(void **state)
{
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];

	(void)state;
	shm = worker_fixture(&wk, at, &record_pl);
	/* As resume_ring leaves it: 2 of the block's frames handled. */
	seen_sw->packets = 12;
	seen_sw->base = 10;
	seen_sw->at = 5 | 77ull << 32;
	seen_packets = 12;
	assert_int_equal(worker_block(&wk, blk(), 5, 2), 1);
	assert_int_equal(seen, 1);
	assert_int_equal(seen_bytes[0], 64);
	assert_int_equal(seen_sw->packets, 13);
	assert_int_equal(seen_sw->base, 10);
	stats_destroy(shm, 1);
}

static void
test_worker_block_cut(void **state)
{
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[3];
	uint64_t t0 = 1700000000ull * 1000000000ull + 123456789;

	(void)state;
	shm = worker_fixture(&wk, at, &record_pl);
	seen_sw->packets = 4;
	seen_sw->handed_off = 3;
	seen_packets = 4;
	/* Only the middle frame was received inside [cut_from, cut_until). */
	seen_sw->cut_from = t0 + at[1];
	seen_sw->cut_until = t0 + at[2];
	assert_int_equal(worker_block(&wk, blk(), 5, 0), 1);
	assert_int_equal(seen, 1);
	assert_int_equal(seen_bytes[0], 90);
	assert_int_equal(seen_sw->packets, 5);
	assert_int_equal(seen_sw->handed_off, 5);
	/* The position counts frames consumed either way. */
	assert_int_equal(seen_sw->base, 7);
	assert_int_equal(stats_consumed(seen_sw), 10);
	stats_destroy(shm, 1);
}

/*
 * A stage with a prefetch callback, over a block of 20 frames (more than
 * RINGFAN_PREFETCH_AHEAD): the calls in the order they come, 'P' or 'K'
 * (packet) and the frame's number, its length on the wire less 100.  The
 * worker's stage word names the callback running, for the stall watch:
 * the stage's prefetch, then the stage itself.
 */
static char calls[64][8];
static unsigned ncalls;

static void
log_prefetch(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	assert_true(ncalls < 64);
	assert_int_equal(seen_sw->stage, STATS_STAGE_PREFETCH);
	snprintf(calls[ncalls++], sizeof(calls[0]), "P%u", pkt->len - 100);
}

static int
log_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	assert_true(ncalls < 64);
	assert_int_equal(seen_sw->stage, 0);
	snprintf(calls[ncalls++], sizeof(calls[0]), "K%u", pkt->len - 100);
	return RINGFAN_CONTINUE;
}

/*
 * The calls expected for frames first..end - 1, those in [from, until)
 * handed, with prefetch calls or (ahead false) without.
 */
static void
expect_calls(unsigned first, unsigned end, unsigned from, unsigned until,
    bool ahead)
{
	char want[64][16];
	unsigned n = 0, next = ahead ? first : end;

	for (; next < end && next < first + RINGFAN_PREFETCH_AHEAD - 1; next++)
		snprintf(want[n++], sizeof(want[0]), "P%u", next);
	for (unsigned i = first; i < end; i++) {
		if (next < end)
			snprintf(want[n++], sizeof(want[0]), "P%u", next++);
		if (i >= from && i < until)
			snprintf(want[n++], sizeof(want[0]), "K%u", i);
	}
	assert_int_equal(ncalls, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(calls[i], want[i]);
	ncalls = 0;
}

static void
test_worker_block_prefetch(void **state)
{
	struct plugin_stage stage = { .packet = log_packet,
	    .prefetch = log_prefetch };
	struct pipeline pl = { .stages = &stage, .nstages = 1,
	    .first_batch = 1, .has_prefetch = true };
	struct stats_shm *shm;
	struct worker wk;
	uint32_t at[20], off = FIRST_OFF, prev = 0;
	uint64_t t0 = 1700000000ull * 1000000000ull + 123456789, errors;

	(void)state;
	shm = worker_fixture(&wk, at, &pl);
	blk()->hdr.bh1.num_pkts = 0;
	for (uint32_t i = 0; i < 20; i++)
		at[i] = add_frame(&off, &prev, 60, 100 + i, (uint8_t)i, 0);
	ncalls = 0;
	assert_int_equal(worker_block(&wk, blk(), 5, 0), 20);
	expect_calls(0, 20, 0, 20, true);

	/* A reload's cut: prefetch calls for all, packet for frames 3..11. */
	seen_sw->cut_from = t0 + at[3];
	seen_sw->cut_until = t0 + at[12];
	assert_int_equal(worker_block(&wk, blk(), 6, 0), 9);
	expect_calls(0, 20, 3, 12, true);
	seen_sw->cut_from = 0;
	seen_sw->cut_until = UINT64_MAX;

	/*
	 * A block taken over from a worker that died in it, after 5 frames
	 * or before any: no prefetch calls, which may be what killed it.
	 */
	assert_int_equal(worker_block(&wk, blk(), 5, 5), 15);
	expect_calls(5, 20, 5, 20, false);
	seen_sw->at = 7 | 77ull << 32;
	assert_int_equal(worker_block(&wk, blk(), 7, 0), 20);
	expect_calls(0, 20, 0, 20, false);

	/*
	 * A frame names a next frame off the 8-byte grid: the walk ahead
	 * stops there, and the frames it passed still come, each once, in
	 * order, with one ring error.  Frame 17, where the walk is ahead of
	 * frame 2, and frame 10, where it has not yet caught up its lead.
	 */
	for (unsigned bad = 17, index = 8; bad >= 10; bad -= 7, index++) {
		errors = seen_sw->ring_errors;
		((struct tpacket3_hdr *)(block + at[bad]))->tp_next_offset +=
		    4;
		assert_int_equal(worker_block(&wk, blk(), index, 0), bad + 1);
		expect_calls(0, bad + 1, 0, bad + 1, true);
		assert_int_equal(seen_sw->ring_errors, errors + 1);
	}
	stats_destroy(shm, 1);
}

/* A ring of four empty blocks in memory, for the ring's health. */
static alignas(64) uint8_t ring4[4 * BLOCK_SIZE];

static void
ring4_status(uint32_t i, uint32_t status)
{
	struct tpacket_block_desc *bd;

	bd = (struct tpacket_block_desc *)(ring4 + (size_t)i * BLOCK_SIZE);
	bd->version = TPACKET_V3;
	bd->hdr.bh1.block_status = status;
	bd->hdr.bh1.seq_num = i + 1;
	bd->hdr.bh1.offset_to_first_pkt = FIRST_OFF;
	bd->hdr.bh1.num_pkts = 0;
}

/*
 * Taking a block counts it (and whether the kernel retired it at the
 * timeout); being done with it, the blocks handed over and not released
 * from it on: the backlog, and its peak.  Releasing one is worker_main's,
 * emulated here: the block goes back to the kernel and wk.owned goes down
 * by one.
 */
static void
test_worker_ring_health(void **state)
{
	struct stats_worker *sw;
	struct stats_shm *shm;
	struct worker wk;

	(void)state;
	assert_non_null(shm = stats_create(1));
	sw = &shm->workers[0];
	memset(&wk, 0, sizeof(wk));
	wk.sw = sw;
	wk.pl = &record_pl;
	wk.ring.map = ring4;
	wk.ring.block_size = BLOCK_SIZE;
	wk.ring.block_count = 4;
	seen_sw = sw;
	/* 0 retired at the timeout, 1 and 2 full, 3 the kernel's. */
	ring4_status(0, TP_STATUS_USER | TP_STATUS_BLK_TMO);
	ring4_status(1, TP_STATUS_USER);
	ring4_status(2, TP_STATUS_USER);
	ring4_status(3, TP_STATUS_KERNEL);
	assert_int_equal(worker_block(&wk, ring_block(&wk.ring, 0), 0, 0), 0);
	assert_int_equal(sw->blocks, 1);
	assert_int_equal(sw->blocks_timeout, 1);
	assert_int_equal(sw->backlog, 3);
	assert_int_equal(sw->backlog_max, 3);
	/*
	 * A successor of a worker killed in that block before it had done
	 * with a frame of it takes it again: counted once.
	 */
	((struct tpacket_block_desc *)(void *)ring4)->hdr.bh1.seq_num = 5;
	sw->at = 0 | 5ull << 32;
	wk.owned = 0;
	worker_block(&wk, ring_block(&wk.ring, 0), 0, 0);
	assert_int_equal(sw->blocks, 1);
	assert_int_equal(sw->blocks_timeout, 1);
	/* Once released, the next take of it is a new block. */
	resume_released(sw, 1);
	resume_released(sw, 0);
	wk.owned = 0;
	worker_block(&wk, ring_block(&wk.ring, 0), 0, 0);
	assert_int_equal(sw->blocks, 2);
	assert_int_equal(sw->blocks_timeout, 2);
	sw->blocks = 1;
	sw->blocks_timeout = 1;
	wk.owned = 3;
	ring4_status(0, TP_STATUS_KERNEL);
	wk.owned--;
	/* Known owned: nothing new, block 3 still the kernel's. */
	worker_block(&wk, ring_block(&wk.ring, 1), 1, 0);
	assert_int_equal(sw->blocks, 2);
	assert_int_equal(sw->blocks_timeout, 1);
	assert_int_equal(sw->backlog, 2);
	assert_int_equal(sw->backlog_max, 3);
	ring4_status(1, TP_STATUS_KERNEL);
	wk.owned--;
	/* The kernel went on into 3 and 0, round the ring: all but 1. */
	ring4_status(3, TP_STATUS_USER);
	ring4_status(0, TP_STATUS_USER | TP_STATUS_BLK_TMO);
	worker_block(&wk, ring_block(&wk.ring, 2), 2, 0);
	assert_int_equal(sw->backlog, 3);
	/* And into 1: the ring is full, and no block is counted twice. */
	ring4_status(1, TP_STATUS_USER);
	ring4_status(2, TP_STATUS_KERNEL);
	wk.owned--;
	ring4_status(2, TP_STATUS_USER);
	worker_block(&wk, ring_block(&wk.ring, 3), 3, 0);
	assert_int_equal(sw->backlog, 4);
	assert_int_equal(sw->backlog_max, 4);
	assert_int_equal(sw->blocks, 4);
	assert_int_equal(sw->blocks_timeout, 1);
	/* A block resumed in (skip > 0) was counted by its first taker. */
	worker_block(&wk, ring_block(&wk.ring, 3), 3, 1);
	assert_int_equal(sw->blocks, 4);
	stats_destroy(shm, 1);
}

/*
 * Network time: while frames wait it stands at the latest frame's time, or
 * before the first frame at the last time given: none (0, not ticked at)
 * when there was none, so that the first tick is due a period after the
 * worker's start, not at 1970, and never past a frame that waits (a
 * respawned worker's flowtable holds the flows of the one it replaces).
 * Before the first frame and with none waiting, it is the real time.  With
 * a frame, the clock moves it on while nothing waits, and it never goes
 * back.
 */
static void
test_clock(void **state)
{
	struct worker_clock c = { 0 };
	uint64_t t;

	(void)state;
	assert_int_equal(worker_clock_now(&c, 500, true), 0);
	t = worker_clock_now(&c, 1000, false);
	assert_true(t > UINT64_C(1600000000) * 1000000000u);
	/* Frames wait, none seen yet: the time stays. */
	assert_int_equal(worker_clock_now(&c, 900000000000, true), t);
	c.frame_ns = t + 5;
	c.frame_mono = 1000;
	assert_int_equal(worker_clock_now(&c, 2000, true), t + 5);
	assert_int_equal(worker_clock_now(&c, 3000, false), t + 5 + 2000);
	c.frame_ns = t + 10;	/* a frame stamped before the time given */
	assert_int_equal(worker_clock_now(&c, 3000, true), t + 5 + 2000);
	/* A frame a second before it, or later: the clock was not stepped. */
	assert_false(worker_clock_back(&c, t + 2005 - 1000000000, 3000));
	assert_false(worker_clock_back(&c, t + 9000, 3000));
	assert_false(worker_clock_back(&c, 0, 3000));
	/*
	 * More than a second before: stepped back, and time goes back, moved
	 * on from when the step was seen (3500), not from the frame before.
	 */
	assert_true(worker_clock_back(&c, t - 3600000000000, 3500));
	assert_int_equal(worker_clock_now(&c, 3600, true), t - 3600000000000);
	assert_int_equal(worker_clock_now(&c, 4000, false),
	    t - 3600000000000 + 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_walk_frames, setup_block),
		cmocka_unit_test_setup(test_walk_empty, setup_block),
		cmocka_unit_test_setup(test_walk_bad_first_offset, setup_block),
		cmocka_unit_test_setup(test_walk_snaplen_past_block, setup_block),
		cmocka_unit_test_setup(test_walk_next_offset_zero, setup_block),
		cmocka_unit_test_setup(test_walk_misaligned, setup_block),
		cmocka_unit_test_setup(test_walk_header_cut, setup_block),
		cmocka_unit_test_setup(test_walk_overlapping, setup_block),
		cmocka_unit_test_setup(test_ready_release, setup_block),
		cmocka_unit_test_setup(test_worker_block, setup_block),
		cmocka_unit_test_setup(test_worker_block_huge, setup_block),
		cmocka_unit_test_setup(test_worker_block_empty, setup_block),
		cmocka_unit_test_setup(test_worker_block_skip, setup_block),
		cmocka_unit_test_setup(test_worker_block_vlan_bytes, setup_block),
		cmocka_unit_test_setup(test_worker_block_cut, setup_block),
		cmocka_unit_test_setup(test_worker_block_batch, setup_block),
		cmocka_unit_test(test_clock),
		cmocka_unit_test_setup(test_worker_block_batch_overlapping,
		    setup_block),
		cmocka_unit_test_setup(test_worker_block_prefetch, setup_block),
		cmocka_unit_test(test_worker_ring_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

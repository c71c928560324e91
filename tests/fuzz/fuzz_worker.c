/*
 * worker_block() over arbitrary blocks, against the block walker: in
 * every shape of pipeline the worker has a loop for (one per-frame stage,
 * with and without a prefetch callback; two, the second prefetching
 * behind a filter; a prefetching stage before a batch stage; a block
 * resumed after a crash; a block taken again; a reload's cut), each
 * stage's packet callback gets exactly the frames ring_walk_next()
 * yields, in order, as far as the stages before it (and the cut) passed
 * them, and the batch stage the same.  With a prefetch callback and a
 * block taken afresh, every frame walked goes to prefetch once, in ring
 * order, and before its packet with fewer than RINGFAN_PREFETCH_AHEAD
 * other frames' prefetch calls between the two (plugin.h); a block
 * resumed or taken again gets none.  The stage word names the callback
 * running, and none after the block; the counters move by the frames and
 * wire bytes taken (the frames left to the other generation by those),
 * the ring errors by one for a malformed block; the position is committed
 * at the end.  Any difference aborts, naming the check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "plugin_host.h"
#include "ring.h"
#include "stats.h"
#include "worker.h"

#define BLOCK	4096
#define MAXF	RING_FRAMES_MAX(BLOCK)
#define NEV	(4 * MAXF + 8)

enum { EV_PREFETCH, EV_PACKET, EV_BATCH };

/* The check that failed, by its line, then the abort the fuzzer sees. */
#define FZ_FAIL()	fz_fail(__LINE__)

static _Noreturn void
fz_fail(int line)
{
	fprintf(stderr, "fuzz_worker: the check at line %d failed\n", line);
	abort();
}

struct ev {
	int			 kind;
	int			 stage;
	uint32_t		 word;	/* sw->stage as the callback ran */
	struct ringfan_packet	 pkt;
};

static struct stats_worker *sw;
static struct ev evs[NEV];
static unsigned nev;
/*
 * What ring_walk_next() yields, as the worker's views hold it, and room
 * for the one more that it must not.
 */
static struct ringfan_packet ref[MAXF + 1];
static unsigned nref;
static int ref_bad;
/*
 * A reload's cut, as the master sets it (none: 0 and UINT64_MAX): frames
 * stamped outside [cut_from, cut_until) are the other generation's,
 * walked, prefetched and left.
 */
static uint64_t cut_from, cut_until = UINT64_MAX;

static int
fz_cut(const struct ringfan_packet *pkt)
{
	return pkt->ts_ns >= cut_from && pkt->ts_ns < cut_until;
}

static void
fz_log(int kind, int stage, const struct ringfan_packet *pkt)
{
	if (nev == NEV)
		FZ_FAIL();
	evs[nev].kind = kind;
	evs[nev].stage = stage;
	evs[nev].word = STATS_LOAD(&sw->stage);
	evs[nev].pkt = *pkt;
	nev++;
}

/* Stage 0 of two stops a frame of odd length: stage 1 sees the rest. */
static int
fz_passes(const struct ringfan_packet *pkt)
{
	return !(pkt->len & 1);
}

static int
fz_packet0(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	fz_log(EV_PACKET, 0, pkt);
	return RINGFAN_CONTINUE;
}

static int
fz_filter0(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	fz_log(EV_PACKET, 0, pkt);
	return fz_passes(pkt) ? RINGFAN_CONTINUE : RINGFAN_STOP;
}

static int
fz_packet1(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	fz_log(EV_PACKET, 1, pkt);
	return RINGFAN_CONTINUE;
}

static void
fz_prefetch0(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	fz_log(EV_PREFETCH, 0, pkt);
}

static void
fz_prefetch1(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	fz_log(EV_PREFETCH, 1, pkt);
}

static void
fz_batch(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	(void)state;
	for (size_t i = 0; i < n; i++)
		fz_log(EV_BATCH, 1, pkts[i]);
}

static int
fz_same(const struct ringfan_packet *a, const struct ringfan_packet *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Whether event kind is owed for frame r, stage 0's filter passed or not. */
static int
fz_owed(int kind, unsigned r, int filtered)
{
	if (kind == EV_PREFETCH)
		return 1;
	return fz_cut(&ref[r]) && (!filtered || fz_passes(&ref[r]));
}

/*
 * The events of kind and stage, against the frames of ref from `from` on
 * that are owed one, in order and none else; and the stage word each of
 * them saw.
 */
static void
fz_expect(int kind, int stage, unsigned from, int filtered, uint32_t word)
{
	unsigned r = from, e;

	for (e = 0; e < nev; e++) {
		if (evs[e].kind != kind || evs[e].stage != stage)
			continue;
		while (r < nref && !fz_owed(kind, r, filtered))
			r++;
		if (r == nref || !fz_same(&evs[e].pkt, &ref[r]) ||
		    evs[e].word != word)
			FZ_FAIL();
		r++;
	}
	while (r < nref && !fz_owed(kind, r, filtered))
		r++;
	if (r != nref)
		FZ_FAIL();
}

/*
 * Each packet event of the stage comes after the prefetch event of its
 * frame, with fewer than RINGFAN_PREFETCH_AHEAD prefetch events of the
 * stage between the two; prefetch and packet events of a frame pair up in
 * order (fz_expect() has checked both lists against ref).
 */
static void
fz_expect_ahead(int stage)
{
	unsigned p = 0, e, k, between;

	for (e = 0; e < nev; e++) {
		if (evs[e].kind != EV_PACKET || evs[e].stage != stage)
			continue;
		for (; p < e; p++)
			if (evs[p].kind == EV_PREFETCH &&
			    evs[p].stage == stage &&
			    fz_same(&evs[p].pkt, &evs[e].pkt))
				break;
		if (p == e)
			FZ_FAIL();	/* no prefetch before the packet */
		between = 0;
		for (k = p + 1; k < e; k++)
			between += evs[k].kind == EV_PREFETCH &&
			    evs[k].stage == stage;
		if (between >= RINGFAN_PREFETCH_AHEAD)
			FZ_FAIL();
		p++;
	}
}

static unsigned
fz_count(int kind)
{
	unsigned n = 0;

	for (unsigned e = 0; e < nev; e++)
		n += evs[e].kind == kind;
	return n;
}

/*
 * worker_block() of wk over bd as block `index`, `skip` frames done by a
 * predecessor, `again` when the block was taken already; the counters
 * checked against ref.
 */
static void
fz_run(struct worker *wk, const struct tpacket_block_desc *bd,
    uint32_t index, uint32_t skip, int again)
{
	uint64_t packets = sw->packets, bytes = sw->bytes;
	uint64_t errors = sw->ring_errors, left = sw->handed_off;
	uint64_t want_bytes = 0, want_left = 0;
	uint32_t stage;
	unsigned n, want = 0;

	nev = 0;
	sw->cut_from = cut_from;
	sw->cut_until = cut_until;
	sw->at = again ? (uint64_t)index | (uint64_t)ring_block_seq(bd) << 32 :
	    0;
	n = worker_block(wk, bd, index, skip);
	for (unsigned i = skip; i < nref; i++) {
		if (!fz_cut(&ref[i])) {
			want_left++;
			continue;
		}
		want++;
		want_bytes += ring_wire_len(ref[i].len, ref[i].flags);
	}
	if (n != want || sw->packets - packets != n ||
	    sw->bytes - bytes != want_bytes ||
	    sw->handed_off - left != want_left ||
	    sw->ring_errors - errors != (uint64_t)ref_bad ||
	    sw->pos != 0 || sw->commit != 0)
		FZ_FAIL();
	/*
	 * Out of the block no callback runs: the stage word names none, or
	 * the last per-frame stage of several that ran, with no frame in hand
	 * (stall.c: then in none).
	 */
	stage = STATS_LOAD(&sw->stage);
	if (stage != STATS_STAGE_NONE && stage >= wk->pl->first_batch)
		FZ_FAIL();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stats_shm *shm;
	static struct ringfan_packet views[MAXF];
	static const struct ringfan_packet *ptrs[MAXF];
	static uint32_t index;
	struct plugin plain = { 0 }, batcher = { .calls.batch = fz_batch };
	struct plugin_stage one = { .packet = fz_packet0, .plugin = &plain };
	struct plugin_stage onepf = { .packet = fz_packet0,
	    .prefetch = fz_prefetch0, .plugin = &plain };
	struct plugin_stage two[2] = {
		{ .packet = fz_filter0, .plugin = &plain },
		{ .packet = fz_packet1, .prefetch = fz_prefetch1,
		    .plugin = &plain },
	};
	struct plugin_stage batch[2] = {
		{ .packet = fz_filter0, .prefetch = fz_prefetch0,
		    .plugin = &plain },
		{ .plugin = &batcher },
	};
	struct pipeline pl;
	struct ring_walk w;
	struct worker wk;
	const struct tpacket_block_desc *bd;
	uint8_t *block;
	uint32_t skip;

	if (shm == NULL && (shm = stats_create(1)) == NULL)
		FZ_FAIL();
	sw = &shm->workers[0];
	if ((block = aligned_alloc(64, BLOCK)) == NULL)
		FZ_FAIL();
	memset(block, 0, BLOCK);
	memcpy(block, data, size < BLOCK ? size : BLOCK);
	bd = (const struct tpacket_block_desc *)block;

	memset(&wk, 0, sizeof(wk));
	wk.sw = sw;
	wk.pl = &pl;
	wk.linktype = 1;
	wk.ring.block_size = BLOCK;
	wk.batch = views;
	wk.ptrs = ptrs;
	wk.batch_max = MAXF;

	nref = 0;
	ring_walk_init(&w, bd, BLOCK);
	for (;;) {
		ref[nref].linktype = (uint16_t)wk.linktype;
		ref[nref].reserved = 0;
		if (!ring_walk_next(&w, &ref[nref]))
			break;
		if (++nref > MAXF)
			FZ_FAIL();
	}
	ref_bad = w.bad != 0;
	/*
	 * A resumed block: a predecessor did 1 to all of its frames, as many
	 * as the input says past the block, or half.
	 */
	skip = nref == 0 ? 0 :
	    1 + (size > BLOCK ? data[BLOCK] : nref / 2) % nref;

	/* One stage, no prefetch: straight through. */
	pl = (struct pipeline){ .stages = &one, .nstages = 1,
	    .first_batch = 1, .w = sw };
	fz_run(&wk, bd, ++index, 0, 0);
	fz_expect(EV_PACKET, 0, 0, 0, 0);
	if (fz_count(EV_PREFETCH) != 0)
		FZ_FAIL();

	/* One stage with prefetch: called straight, named, then stage 0. */
	pl.stages = &onepf;
	pl.has_prefetch = true;
	fz_run(&wk, bd, ++index, 0, 0);
	fz_expect(EV_PACKET, 0, 0, 0, 0);
	fz_expect(EV_PREFETCH, 0, 0, 0, STATS_STAGE_PREFETCH);
	fz_expect_ahead(0);
	/* Taken again, or resumed: no prefetch call. */
	fz_run(&wk, bd, ++index, 0, 1);
	fz_expect(EV_PACKET, 0, 0, 0, 0);
	if (fz_count(EV_PREFETCH) != 0)
		FZ_FAIL();
	fz_run(&wk, bd, ++index, skip, 0);
	fz_expect(EV_PACKET, 0, skip, 0, 0);
	if (fz_count(EV_PREFETCH) != 0)
		FZ_FAIL();

	/* Two stages, the second prefetching behind a filter. */
	pl = (struct pipeline){ .stages = two, .nstages = 2,
	    .first_batch = 2, .has_prefetch = true, .w = sw };
	fz_run(&wk, bd, ++index, 0, 0);
	fz_expect(EV_PACKET, 0, 0, 0, 0);
	fz_expect(EV_PACKET, 1, 0, 1, 1);
	fz_expect(EV_PREFETCH, 1, 0, 0, STATS_STAGE_PREFETCH + 1);
	fz_expect_ahead(1);

	/* A prefetching filter, then a batch stage with what it passed. */
	pl = (struct pipeline){ .stages = batch, .nstages = 2,
	    .first_batch = 1, .has_batch = true, .has_prefetch = true,
	    .w = sw };
	fz_run(&wk, bd, ++index, 0, 0);
	fz_expect(EV_PACKET, 0, 0, 0, 0);
	fz_expect(EV_PREFETCH, 0, 0, 0, STATS_STAGE_PREFETCH);
	fz_expect_ahead(0);
	fz_expect(EV_BATCH, 1, 0, 1, STATS_STAGE_REST + 1);

	/*
	 * A reload's cut, from the stamp of a frame a quarter in to that of
	 * one three quarters in (whatever order the input's stamps are in).
	 */
	if (nref > 0) {
		cut_from = ref[nref / 4].ts_ns;
		cut_until = ref[3 * nref / 4].ts_ns;
		pl = (struct pipeline){ .stages = &onepf, .nstages = 1,
		    .first_batch = 1, .has_prefetch = true, .w = sw };
		fz_run(&wk, bd, ++index, 0, 0);
		fz_expect(EV_PACKET, 0, 0, 0, 0);
		fz_expect(EV_PREFETCH, 0, 0, 0, STATS_STAGE_PREFETCH);
		fz_expect_ahead(0);
		cut_from = 0;
		cut_until = UINT64_MAX;
	}
	free(block);
	return 0;
}

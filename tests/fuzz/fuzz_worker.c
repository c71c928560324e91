/*
 * worker_block() over arbitrary blocks, held to the block walker.  Seven
 * pipelines (no stage; one per-frame stage, with and without a prefetch
 * callback; a filter and a second stage, the second with and without
 * prefetch; a filter, with and without prefetch, and a batch stage), each
 * over the block taken afresh, taken again, resumed after a crash, under a
 * reload's cut, and under a cut lifted after some frames: worker_block()'s
 * every loop.  In each run:
 *
 * - the first stage's packet callback gets exactly the frames that
 *   ring_walk_next() yields from the resumed position on, in order, but
 *   those the cut leaves to the other generation; the second stage and the
 *   batch stage those of them that the filter passed;
 * - a prefetch callback, in a block taken afresh, gets every frame walked,
 *   once, in ring order, and before its packet with fewer than
 *   RINGFAN_PREFETCH_AHEAD other frames' prefetch calls between the two
 *   (plugin.h); in a block taken again or resumed, none;
 * - the stage word names the callback that runs; after the block it names
 *   none or, in a pipeline of several per-frame stages, the last one a
 *   frame reached, with no frame in hand (stall.c reads that as none);
 * - packets and bytes move by the frames taken and their wire bytes,
 *   handed_off by the frames left, ring_errors by one for a malformed
 *   block; the position is committed (pos and commit 0); `at` names the
 *   block and `base` is where it started, so that the frames consumed
 *   since are all the block's; the worker's clock holds the last frame
 *   taken.
 *
 * A 4096-byte block holds fewer frames than pos counts, so the commit of
 * every frame of a block of more (test_ring.c) is not reached here.  Any
 * difference aborts, naming the check.
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

/* How a run takes the block. */
enum { M_FRESH, M_AGAIN, M_RESUMED, M_CUT, M_LIFTED, M_MAX };

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
 * Of the run: the frames a predecessor did; a reload's cut as the master
 * sets it (none: 0 and UINT64_MAX), the first `held` frames taken from
 * the walk's start held to cut_from (a lifted cut), the rest to cut_until
 * alone.
 */
static uint32_t skip, held;
static uint64_t cut_from, cut_until;

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

/* Stage 0 of two stops a frame of odd length: the next one sees the rest. */
static int
fz_passes(const struct ringfan_packet *pkt)
{
	return !(pkt->len & 1);
}

/* Whether frame r is the pipeline's, not left by the cut or a predecessor. */
static int
fz_taken(unsigned r)
{
	if (r < skip)
		return 0;
	if (r - skip < held && ref[r].ts_ns < cut_from)
		return 0;
	return ref[r].ts_ns < cut_until;
}

/* A stage's state: its index in the pipeline, which its events carry. */
static int fz_stage[2] = { 0, 1 };

static int
fz_packet(void *state, const struct ringfan_packet *pkt)
{
	fz_log(EV_PACKET, *(const int *)state, pkt);
	return RINGFAN_CONTINUE;
}

/* Stage 0 of two: the frames fz_passes() passes, on. */
static int
fz_filter(void *state, const struct ringfan_packet *pkt)
{
	fz_packet(state, pkt);
	return fz_passes(pkt) ? RINGFAN_CONTINUE : RINGFAN_STOP;
}

static void
fz_prefetch(void *state, const struct ringfan_packet *pkt)
{
	fz_log(EV_PREFETCH, *(const int *)state, pkt);
}

static void
fz_batch(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fz_log(EV_BATCH, *(const int *)state, pkts[i]);
}

#define FZ_STAGE(k, packet_fn, prefetch_fn) { .packet = (packet_fn), \
	.prefetch = (prefetch_fn), .state = &fz_stage[k], .plugin = &fz_plain }
#define FZ_BATCH(k)	{ .state = &fz_stage[k], .plugin = &fz_batcher }

static struct plugin fz_plain, fz_batcher = { .calls.batch = fz_batch };
static struct plugin_stage st_one[] = {
	FZ_STAGE(0, fz_packet, NULL),
};
static struct plugin_stage st_onepf[] = {
	FZ_STAGE(0, fz_packet, fz_prefetch),
};
static struct plugin_stage st_two[] = {
	FZ_STAGE(0, fz_filter, NULL),
	FZ_STAGE(1, fz_packet, NULL),
};
static struct plugin_stage st_twopf[] = {
	FZ_STAGE(0, fz_filter, NULL),
	FZ_STAGE(1, fz_packet, fz_prefetch),
};
static struct plugin_stage st_batch[] = {
	FZ_STAGE(0, fz_filter, NULL),
	FZ_BATCH(1),
};
static struct plugin_stage st_batchpf[] = {
	FZ_STAGE(0, fz_filter, fz_prefetch),
	FZ_BATCH(1),
};

/* The pipelines, and which of their stages has a prefetch callback. */
static const struct fz_shape {
	struct plugin_stage	*stages;
	size_t			 nstages, first_batch;
	int			 prefetch;	/* the stage's, or -1 */
} fz_shapes[] = {
	{ NULL, 0, 0, -1 },
	{ st_one, 1, 1, -1 },
	{ st_onepf, 1, 1, 0 },
	{ st_two, 2, 2, -1 },
	{ st_twopf, 2, 2, 1 },
	{ st_batch, 2, 1, -1 },
	{ st_batchpf, 2, 1, 0 },
};

static int
fz_same(const struct ringfan_packet *a, const struct ringfan_packet *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Whether event kind of stage is owed for frame r. */
static int
fz_owed(int kind, int stage, unsigned r)
{
	if (kind == EV_PREFETCH)
		return 1;
	return fz_taken(r) && (stage == 0 || fz_passes(&ref[r]));
}

/*
 * The events of kind and stage against the frames of ref owed one, in
 * order and none else (none at all unless `any`), and the stage word each
 * of them saw.
 */
static void
fz_expect(int kind, int stage, int any, uint32_t word)
{
	unsigned r = 0, e;

	for (e = 0; e < nev; e++) {
		if (evs[e].kind != kind || evs[e].stage != stage)
			continue;
		while (r < nref && !fz_owed(kind, stage, r))
			r++;
		if (!any || r == nref || !fz_same(&evs[e].pkt, &ref[r]) ||
		    evs[e].word != word)
			FZ_FAIL();
		r++;
	}
	while (any && r < nref && !fz_owed(kind, stage, r))
		r++;
	if (any && r != nref)
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

/*
 * worker_block() of wk with pipeline sh over bd as block `index`, taken
 * as mode says (lift: the frames a lifted cut holds), checked against ref.
 */
static void
fz_run(struct worker *wk, const struct tpacket_block_desc *bd,
    const struct fz_shape *sh, uint32_t index, int mode, uint32_t resume,
    uint32_t lift)
{
	uint64_t at = (uint64_t)index | (uint64_t)ring_block_seq(bd) << 32;
	uint64_t packets = sw->packets, bytes = sw->bytes;
	uint64_t errors = sw->ring_errors, left = sw->handed_off;
	uint64_t want_bytes = 0, want_left = 0, last_ts = 0;
	struct pipeline pl = { .stages = sh->stages, .nstages = sh->nstages,
	    .first_batch = sh->first_batch, .has_batch = sh->first_batch <
	    sh->nstages, .has_prefetch = sh->prefetch >= 0, .w = sw };
	int prefetching = sh->prefetch >= 0 && mode != M_AGAIN &&
	    mode != M_RESUMED;
	uint32_t stage;
	unsigned n, want = 0;

	skip = mode == M_RESUMED ? resume : 0;
	held = mode == M_LIFTED ? lift : UINT32_MAX;
	cut_from = 0;
	cut_until = UINT64_MAX;
	if ((mode == M_CUT || mode == M_LIFTED) && nref > 0) {
		/* From a quarter in to three quarters, whatever the order. */
		cut_from = ref[nref / 4].ts_ns;
		cut_until = ref[3 * nref / 4].ts_ns;
	}
	sw->cut_from = cut_from;
	sw->cut_until = cut_until;
	/* A lifted cut: held for the next `lift` frames walked. */
	sw->cut_lift = mode == M_LIFTED ? stats_walked(sw) + 1 + lift : 0;
	/* Again or resumed: the block as the predecessor's take left it. */
	sw->at = mode == M_AGAIN || mode == M_RESUMED ? at : 0;
	sw->base = stats_consumed(sw) - skip;
	wk->pl = &pl;
	wk->clock.frame_ns = 0;
	nev = 0;

	n = worker_block(wk, bd, index, skip);

	for (unsigned i = skip; i < nref; i++) {
		if (!fz_taken(i)) {
			want_left++;
			continue;
		}
		want++;
		want_bytes += ring_wire_len(ref[i].len, ref[i].flags);
		last_ts = ref[i].ts_ns;
	}
	if (n != want || sw->packets - packets != n ||
	    sw->bytes - bytes != want_bytes ||
	    sw->handed_off - left != want_left ||
	    sw->ring_errors - errors != (uint64_t)ref_bad ||
	    sw->pos != 0 || sw->commit != 0 || sw->at != at ||
	    stats_consumed(sw) - sw->base != nref ||
	    wk->clock.frame_ns != last_ts)
		FZ_FAIL();
	stage = STATS_LOAD(&sw->stage);
	if (stage != STATS_STAGE_NONE && stage >= sh->first_batch)
		FZ_FAIL();

	if (sh->nstages > 0)
		fz_expect(EV_PACKET, 0, 1, 0);
	fz_expect(EV_PACKET, 1, sh->first_batch == 2, 1);
	fz_expect(EV_BATCH, 1, sh->first_batch < sh->nstages,
	    STATS_STAGE_REST + 1);
	for (int s = 0; s < 2; s++)
		fz_expect(EV_PREFETCH, s, prefetching && s == sh->prefetch,
		    STATS_STAGE_PREFETCH + (uint32_t)s);
	if (prefetching)
		fz_expect_ahead(sh->prefetch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stats_shm *shm;
	static struct ringfan_packet views[MAXF];
	static const struct ringfan_packet *ptrs[MAXF];
	static uint32_t index;
	struct ring_walk w;
	struct worker wk;
	const struct tpacket_block_desc *bd;
	uint8_t *block;
	uint32_t resume = 0, lift = 0;

	if (shm == NULL && (shm = stats_create(1)) == NULL)
		FZ_FAIL();
	sw = &shm->workers[0];
	sw->stage = STATS_STAGE_NONE;
	if ((block = aligned_alloc(64, BLOCK)) == NULL)
		FZ_FAIL();
	memset(block, 0, BLOCK);
	memcpy(block, data, size < BLOCK ? size : BLOCK);
	bd = (const struct tpacket_block_desc *)block;

	memset(&wk, 0, sizeof(wk));
	wk.sw = sw;
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
	 * The input past the block picks how many frames a predecessor did
	 * (1 to all) and how many a lifted cut holds (0 to all); without,
	 * half and a third.
	 */
	if (nref > 0) {
		resume = 1 + (size > BLOCK ? data[BLOCK] : nref / 2) % nref;
		lift = (size > BLOCK + 1 ? data[BLOCK + 1] : nref / 3) %
		    (nref + 1);
	}
	for (size_t k = 0; k < sizeof(fz_shapes) / sizeof(fz_shapes[0]); k++)
		for (int mode = 0; mode < M_MAX; mode++)
			fz_run(&wk, bd, &fz_shapes[k], ++index, mode, resume,
			    lift);
	free(block);
	return 0;
}

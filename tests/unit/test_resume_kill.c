/*
 * The position protocol of resume.h against real deaths: a worker process
 * runs worker_block() over a ring in shared memory, as worker_main() does,
 * and is killed with SIGKILL at random instants, or kills itself on
 * "poison" frames as a crashing plugin would; each successor resumes with
 * resume_ring().  When a worker at last gets through the ring, every frame
 * must be accounted for exactly:
 *   - no frame reaches a plugin twice, nor the batch stage twice;
 *   - packets + handed_off + quarantined = the frames of the ring;
 *   - quarantined = the frames the dead workers' slots named as in hand
 *     (read by this test after each death), and every poison frame is one;
 *   - bytes = the wire lengths of every frame neither handed off nor
 *     quarantined; handed_off = the frames outside the cut;
 *   - every such frame went through the plugins once.
 * Five pipelines, for the four loops of worker_block(): none (frames
 * counted, not viewed), one per-frame stage, two, and, in the general
 * loop, one with a cut (a reload's hand-over) and one with a batch stage
 * and the cut; each over the ring PASSES times, filled afresh.  The seed is printed; RESUME_KILL_SEED
 * repeats a run.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin_host.h"
#include "resume.h"
#include "ring.h"
#include "stats.h"
#include "worker.h"

#define BLOCKS		1024
#define BLOCK_SIZE	8192
#define FPB		20		/* frames per block */
#define NFRAMES		(BLOCKS * FPB)
#define MAC_OFF		(RING_SLL_OFF + TPACKET_ALIGN(sizeof(struct sockaddr_ll)))
#define PASSES		6		/* over the ring, per pipeline */
#define KILLS		120		/* random kills per pass */
#define KILL_US		60		/* within this long of its resume */
/*
 * A plugin's work per frame: about as long as the host's own, so that
 * kills land in both.
 */
#define SPIN		40

/* What the plugins saw, in memory the test shares with its workers. */
struct seen {
	uint32_t	 started[NFRAMES];	/* entered stage 0 */
	uint32_t	 second[NFRAMES];	/* entered stage 1 */
	uint32_t	 batched[NFRAMES];	/* reached the batch stage */
	uint32_t	 resuming;		/* a worker is about to resume */
};

static uint8_t *ring_mem;
static struct seen *seen;
static struct stats_shm *shm;

/* A frame's wire length, receive time and fate, from its id. */
static uint32_t
frame_caplen(unsigned id)
{
	return 60 + (id * 37) % 140;
}

static uint32_t
frame_len(unsigned id)
{
	/* Every seventh frame truncated: the wire length counts. */
	return frame_caplen(id) + (id % 7 == 3 ? 1000 + id : 0);
}

static uint64_t
frame_ts(unsigned id)
{
	/* Out of order, so that the cut takes frames from every block. */
	return (1000 + (uint64_t)(id * 7919u % NFRAMES)) * 1000000000u;
}

/* The cut of the pipelines that have one: the middle 60% of the times. */
#define CUT_FROM	((1000 + (uint64_t)NFRAMES / 5) * 1000000000u)
#define CUT_UNTIL	((1000 + (uint64_t)NFRAMES * 4 / 5) * 1000000000u)

static bool
frame_cut(unsigned id, bool cutting)
{
	return cutting && (frame_ts(id) < CUT_FROM || frame_ts(id) >= CUT_UNTIL);
}

static bool
frame_poison(unsigned id)
{
	return id % 1009 == 7;
}

static unsigned
frame_id(const struct ringfan_packet *pkt)
{
	return (unsigned)pkt->rxhash;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The ring's blocks, user-owned, numbered on from the last pass's. */
static void
fill_ring(unsigned pass)
{
	struct tpacket_block_desc *bd;
	struct tpacket3_hdr *h = NULL;
	uint32_t off;
	unsigned id;

	memset(ring_mem, 0, (size_t)BLOCKS * BLOCK_SIZE);
	for (unsigned b = 0; b < BLOCKS; b++) {
		bd = (struct tpacket_block_desc *)(ring_mem +
		    (size_t)b * BLOCK_SIZE);
		bd->version = TPACKET_V3;
		bd->hdr.bh1.block_status = TP_STATUS_USER;
		bd->hdr.bh1.seq_num = pass * BLOCKS + b + 1;
		bd->hdr.bh1.offset_to_first_pkt = 48;
		bd->hdr.bh1.num_pkts = FPB;
		off = 48;
		for (unsigned k = 0; k < FPB; k++) {
			id = b * FPB + k;
			h = (struct tpacket3_hdr *)((uint8_t *)bd + off);
			h->tp_mac = MAC_OFF;
			h->tp_net = MAC_OFF + 14;
			h->tp_snaplen = frame_caplen(id);
			h->tp_len = frame_len(id);
			h->tp_sec = (uint32_t)(frame_ts(id) / 1000000000u);
			h->tp_status = TP_STATUS_USER;
			h->hv1.tp_rxhash = id;
			h->tp_next_offset = k + 1 < FPB ?
			    TPACKET_ALIGN(MAC_OFF + frame_caplen(id)) : 0;
			off += h->tp_next_offset;
		}
		assert_true(off + TPACKET_ALIGN(MAC_OFF + 200) <= BLOCK_SIZE);
	}
}

/* Some work, so that a kill lands in a plugin as often as outside. */
static void
spin(void)
{
	for (volatile unsigned i = 0; i < SPIN; i++)
		;
}

static int
stage0(void *state, const struct ringfan_packet *pkt)
{
	unsigned id = frame_id(pkt);

	(void)state;
	__atomic_add_fetch(&seen->started[id], 1, __ATOMIC_RELAXED);
	if (frame_poison(id))
		raise(SIGKILL);			/* a plugin crashing on it */
	spin();
	return RINGFAN_CONTINUE;
}

static int
stage1(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	__atomic_add_fetch(&seen->second[frame_id(pkt)], 1, __ATOMIC_RELAXED);
	spin();
	return RINGFAN_CONTINUE;
}

static void
batch_stage(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	(void)state;
	for (size_t i = 0; i < n; i++) {
		__atomic_add_fetch(&seen->batched[frame_id(pkts[i])], 1,
		    __ATOMIC_RELAXED);
		spin();
	}
}

static void
populate(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	for (size_t i = 0; i < len; i += 4096)
		__atomic_fetch_add((uint8_t *)p + i, 0, __ATOMIC_RELAXED);
}

/* One of the pipelines under test. */
struct variant {
	const char	*name;
	size_t		 nstages;	/* per-frame ones */
	bool		 batch;
	bool		 cut;
};

static struct plugin batch_plugin = { .calls.batch = batch_stage };

/*
 * The body of a worker: worker_main()'s loop over the ring without the
 * wait, from where the predecessor left off, until no block is ready.
 */
static void
worker_child(const struct variant *v)
{
	struct plugin_stage stages[3] = {
		{ .packet = stage0 },
		{ .packet = stage1 },
		{ .plugin = &batch_plugin },
	};
	struct pipeline pl = { .stages = stages };
	const struct tpacket_block_desc *bd;
	struct worker wk;
	uint32_t idx, skip;

	memset(&wk, 0, sizeof(wk));
	wk.sw = &shm->workers[0];
	wk.pl = &pl;
	/* As pipeline_open() sets it: the rest names its stages there. */
	pl.w = wk.sw;
	wk.linktype = 1;
	wk.ring.map = wk.ring.wmap = ring_mem;
	wk.ring.block_size = BLOCK_SIZE;
	wk.ring.block_count = BLOCKS;
	pl.first_batch = v->nstages;
	pl.nstages = v->nstages;
	if (v->batch) {
		stages[v->nstages] = stages[2];
		pl.nstages++;
		pl.has_batch = true;
		wk.batch_max = FPB + 1;
		wk.batch = calloc(wk.batch_max, sizeof(*wk.batch));
		wk.ptrs = calloc(wk.batch_max, sizeof(*wk.ptrs));
		if (wk.batch == NULL || wk.ptrs == NULL)
			_exit(3);
	}
	/*
	 * A child maps shared memory page by page as it touches it: done
	 * here at once, so that the kills land in the worker's own steps
	 * rather than in page faults.
	 */
	populate(ring_mem, (size_t)BLOCKS * BLOCK_SIZE);
	populate(seen, sizeof(*seen));
	populate(shm, shm->size);
	__atomic_store_n(&seen->resuming, 1, __ATOMIC_RELEASE);
	idx = resume_ring(&wk.ring, wk.sw, &skip);
	for (;;) {
		bd = ring_block(&wk.ring, idx);
		if (!ring_block_ready(bd))
			break;
		worker_block(&wk, bd, idx, skip);
		skip = 0;
		ring_block_return(&wk.ring, bd);
		idx = (idx + 1) % BLOCKS;
		resume_released(wk.sw, idx);
		if (wk.owned > 0)
			wk.owned--;
	}
	_exit(0);
}

/*
 * The frame a dead worker's slot names as in hand, or -1: while the block
 * `at` names is still the one taken and no commit was under way, the one
 * after the frames its counters and pos say are done with.  (A commit cut
 * short with a frame in hand is a successor's settling: the frame was
 * named at the death before.)
 */
static int
in_hand(const struct stats_worker *sw)
{
	uint32_t idx = (uint32_t)sw->at, seq = (uint32_t)(sw->at >> 32);
	const struct tpacket_block_desc *bd;
	uint64_t done;

	if (!pos_in_hand(sw->pos) || sw->commit != 0 || seq == 0)
		return -1;
	assert_true(idx < BLOCKS);
	bd = (const struct tpacket_block_desc *)(ring_mem +
	    (size_t)idx * BLOCK_SIZE);
	assert_true(ring_block_ready(bd));
	assert_int_equal(ring_block_seq(bd), seq);
	done = stats_consumed(sw) - sw->base + pos_frames(sw->pos);
	assert_true(done < FPB);
	return (int)(idx * FPB + done);
}

/* One pass of a worker and its successors over a ring filled afresh. */
static void
run_pass(const struct variant *v, unsigned pass)
{
	struct stats_worker *sw = &shm->workers[0];
	struct stats_worker before = *sw;
	static bool quarantined[NFRAMES];
	unsigned kills = 0, deaths = 0, nq = 0, cut = 0, in_pipeline = 0;
	uint64_t bytes = 0;
	int status, id;
	bool reaped;
	pid_t pid;

	fill_ring(pass);
	memset(seen, 0, sizeof(*seen));
	memset(quarantined, 0, sizeof(quarantined));
	for (;;) {
		assert_true(deaths < 20 * KILLS);
		fflush(NULL);
		reaped = false;
		__atomic_store_n(&seen->resuming, 0, __ATOMIC_RELAXED);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			worker_child(v);
		if (kills < KILLS) {
			/*
			 * Anywhere from its resume on (fork() takes longer
			 * than the rest): a busy wait, finer than a sleep.
			 */
			uint64_t until, wait = (uint64_t)(rand() %
			    (KILL_US * 1000));

			while (!__atomic_load_n(&seen->resuming,
			    __ATOMIC_ACQUIRE) && !reaped)
				reaped = waitpid(pid, &status, WNOHANG) == pid;
			until = now_ns() + wait;
			while (now_ns() < until)
				;
			kill(pid, SIGKILL);
			kills++;
		}
		while (!reaped && waitpid(pid, &status, 0) == -1)
			assert_int_equal(errno, EINTR);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		assert_true(WIFSIGNALED(status));
		deaths++;
		if ((id = in_hand(sw)) >= 0) {
			in_pipeline++;
			if (!quarantined[id])
				nq++;
			quarantined[id] = true;
		}
	}

	for (unsigned i = 0; i < NFRAMES; i++) {
		if (frame_cut(i, v->cut)) {
			cut++;
			assert_int_equal(seen->started[i], 0);
			assert_false(quarantined[i]);
			continue;
		}
		/* Never twice, whatever instant a worker died at. */
		assert_true(seen->started[i] <= 1);
		assert_true(seen->second[i] <= 1);
		assert_true(seen->batched[i] <= 1);
		if (frame_poison(i) && v->nstages > 0)
			assert_true(quarantined[i]);
		if (quarantined[i]) {
			assert_int_equal(seen->batched[i], 0);
			continue;
		}
		/* Counted: it went through every per-frame stage, once. */
		assert_int_equal(seen->started[i], v->nstages > 0 ? 1 : 0);
		if (v->nstages > 1)
			assert_int_equal(seen->second[i], 1);
		bytes += frame_len(i);
	}
	print_message("%s, pass %u: %u deaths (%u kills sent), %u with a "
	    "frame in hand, %u quarantined, %u handed off\n", v->name, pass,
	    deaths, kills, in_pipeline, nq, cut);
	assert_int_equal(sw->quarantined - before.quarantined, nq);
	assert_int_equal(sw->handed_off - before.handed_off, cut);
	assert_int_equal(sw->packets - before.packets, NFRAMES - nq - cut);
	assert_int_equal(sw->bytes - before.bytes, bytes);
	assert_int_equal(sw->pos, 0);
	assert_int_equal(sw->commit, 0);
	assert_int_equal(sw->at, 0);		/* round the ring, between */
}

static void
run_variant(const struct variant *v, unsigned seed)
{
	struct stats_worker *sw = &shm->workers[0];

	srand(seed);
	memset(sw, 0, sizeof(*sw));
	sw->cpu = -1;
	sw->cut_from = v->cut ? CUT_FROM : 0;
	sw->cut_until = v->cut ? CUT_UNTIL : UINT64_MAX;
	for (unsigned pass = 0; pass < PASSES; pass++)
		run_pass(v, pass);
}

static unsigned
test_seed(void)
{
	const char *s = getenv("RESUME_KILL_SEED");
	static unsigned seed;

	if (seed == 0) {
		seed = s != NULL ? (unsigned)strtoul(s, NULL, 0) :
		    (unsigned)time(NULL) ^ (unsigned)getpid();
		if (seed == 0)
			seed = 1;
		print_message("RESUME_KILL_SEED=%u\n", seed);
	}
	return seed;
}

static void
test_one_stage(void **state)
{
	static const struct variant v = { "one stage", 1, false, false };

	(void)state;
	run_variant(&v, test_seed());
}

static void
test_two_stages(void **state)
{
	static const struct variant v = { "two stages", 2, false, false };

	(void)state;
	run_variant(&v, test_seed() + 1);
}

static void
test_cut(void **state)
{
	static const struct variant v = { "one stage, cut", 1, false, true };

	(void)state;
	run_variant(&v, test_seed() + 2);
}

static void
test_batch_cut(void **state)
{
	static const struct variant v = { "one stage, batch, cut", 1, true,
	    true };

	(void)state;
	run_variant(&v, test_seed() + 3);
}

/* No stage: the frames are only counted, a block in one commit. */
static void
test_no_stage(void **state)
{
	static const struct variant v = { "no stage", 0, false, false };

	(void)state;
	run_variant(&v, test_seed() + 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_stage),
		cmocka_unit_test(test_one_stage),
		cmocka_unit_test(test_two_stages),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_batch_cut),
	};
	int rc;

	ring_mem = mmap(NULL, (size_t)BLOCKS * BLOCK_SIZE, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ring_mem == MAP_FAILED || seen == MAP_FAILED ||
	    (shm = stats_create(1)) == NULL) {
		perror("mmap");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	stats_destroy(shm, 1);
	return rc;
}

/*
 * The worker loop.
 *
 * The worker owns its slot in shared memory and keeps its position there as
 * it goes, one single-word store at a time, so that whatever instant it dies
 * at, a successor can tell which frames were handled: on taking a block,
 * base = packets, then at = index | seq << 32; per frame, inflight =
 * packets + 1, the pipeline, packets += 1; after releasing the block,
 * at = next index.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

/* How long an idle worker sleeps in poll() before it looks at its clocks. */
#define WORKER_POLL_MS	100

static volatile sig_atomic_t worker_stop_flag;

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_stop_flag = 1;
}

static uint64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

unsigned
worker_block(struct worker *wk, struct tpacket_block_desc *bd, uint32_t index)
{
	struct stats_worker *sw = wk->sw;
	struct ringfan_packet pkt;
	struct ring_walk walk;
	uint64_t handled = sw->packets, bytes = sw->bytes;
	unsigned n = 0;

	STATS_STORE(&sw->base, handled);
	STATS_STORE(&sw->at, (uint64_t)index |
	    (uint64_t)ring_block_seq(bd) << 32);

	if (wk->pl->has_batch) {
		size_t nb = 0;

		ring_walk_init(&walk, bd, wk->ring.block_size);
		while (nb < wk->batch_max && ring_walk_next(&walk, &wk->batch[nb]))
			nb++;
		pipeline_batch(wk->pl, wk->batch, nb);
	}

	ring_walk_init(&walk, bd, wk->ring.block_size);
	while (ring_walk_next(&walk, &pkt)) {
		STATS_STORE(&sw->inflight, handled + 1);
		pipeline_run(wk->pl, &pkt);
		bytes += pkt.len;
		STATS_STORE(&sw->bytes, bytes);
		STATS_STORE(&sw->packets, ++handled);
		n++;
	}
	if (walk.bad)
		STATS_ADD(&sw->ring_errors, 1);
	return n;
}

static int
worker_setup(struct worker *wk)
{
	struct sigaction sa;
	sigset_t none;
	cpu_set_t set;
	char err[PLUGIN_ERR_MAX];
	int rc;

	log_set_tag("%s/%u", wk->cap->name, wk->id);
	/* The master coordinates stops; a terminal's ^C is for it alone. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = worker_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A worker never outlives its master. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	if (wk->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(wk->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1) {
			snprintf(wk->sw->err, sizeof(wk->sw->err),
			    "sched_setaffinity(CPU %d): %s", wk->cpu,
			    strerror(errno));
			return -1;
		}
	}
	STATS_STORE(&wk->sw->cpu, wk->cpu);
	rc = ring_map(&wk->ring, wk->fd, wk->cap->ring.block_size,
	    wk->cap->ring.block_count);
	if (rc != 0) {
		snprintf(wk->sw->err, sizeof(wk->sw->err),
		    "mmap(ring of %u x %u bytes): %s", wk->cap->ring.block_count,
		    wk->cap->ring.block_size, strerror(-rc));
		return -1;
	}
	if (wk->pl->has_batch) {
		/* A frame takes at least its header in a block. */
		wk->batch_max = wk->cap->ring.block_size / TPACKET_ALIGN(
		    sizeof(struct tpacket3_hdr)) + 1;
		wk->batch = calloc(wk->batch_max, sizeof(*wk->batch));
		if (wk->batch == NULL) {
			snprintf(wk->sw->err, sizeof(wk->sw->err),
			    "batch array: %s", strerror(errno));
			return -1;
		}
	}
	if (pipeline_open(wk->pl, wk->cfg, wk->cap, wk->id, wk->sw, err,
	    sizeof(err)) == -1) {
		strlcpy(wk->sw->err, err, sizeof(wk->sw->err));
		return -1;
	}
	return 0;
}

int
worker_main(struct worker *wk)
{
	struct stats_worker *sw = wk->sw;
	struct tpacket_block_desc *bd;
	struct pollfd pfd = { .fd = wk->fd, .events = POLLIN | POLLERR };
	uint64_t tick_every = wk->cfg->stats_interval_ns, next_tick, now;
	uint64_t drain_until = 0;
	uint32_t idx = (uint32_t)STATS_LOAD(&sw->at);

	if (worker_setup(wk) == -1) {
		log_error("%s", sw->err);
		STATS_STORE(&sw->state, WORKER_FAILED);
		return WORKER_EXIT_SETUP;
	}
	STATS_STORE(&sw->state, WORKER_RUNNING);
	log_debug("running on %s, ring %u x %u bytes", wk->cap->interface,
	    wk->ring.block_count, wk->ring.block_size);

	next_tick = now_ns(CLOCK_MONOTONIC) + tick_every;
	for (;;) {
		bd = ring_block(&wk->ring, idx);
		if (ring_block_ready(bd)) {
			worker_block(wk, bd, idx);
			ring_block_release(bd);
			idx = (idx + 1) % wk->ring.block_count;
			STATS_STORE(&sw->at, (uint64_t)idx);
		} else if (drain_until == 0 || now_ns(CLOCK_MONOTONIC) <
		    drain_until)
			poll(&pfd, 1, WORKER_POLL_MS);
		else
			break;		/* stopping, drained */

		now = now_ns(CLOCK_MONOTONIC);
		if (now >= next_tick) {
			pipeline_tick(wk->pl, now_ns(CLOCK_REALTIME));
			next_tick = now + tick_every;
		}
		if ((worker_stop_flag || STATS_LOAD(&sw->stop)) &&
		    drain_until == 0) {
			/*
			 * The master has shut the socket: no frame enters the
			 * ring any more, and the block the kernel holds is
			 * retired within block_timeout.  Take what is left.
			 */
			STATS_STORE(&sw->state, WORKER_STOPPING);
			drain_until = now + (uint64_t)(wk->cap->ring.block_timeout_ms
			    + 2 * WORKER_POLL_MS) * 1000000u;
		}
	}
	pipeline_close(wk->pl);
	ring_unmap(&wk->ring);
	free(wk->batch);
	log_debug("stopped after %llu frames",
	    (unsigned long long)STATS_LOAD(&sw->packets));
	return WORKER_EXIT_OK;
}

/*
 * Offline mode's frames: read from the file (or its in-memory copy), each
 * handed to one worker's pipeline, as worker_block() hands a ring's frames.
 *
 * With several workers a frame goes to the worker its symmetric flow hash
 * picks (flowhash.h), with a fixed seed: both directions of a flow and
 * every fragment of a datagram reach the same worker, the same one on
 * every run.  Each worker sees its frames in file order.
 *
 * Time is the file's: the network clock of every worker is the time of the
 * latest frame read, whichever worker it went to, so that a worker whose
 * flows fell quiet still ticks and times out as a live one would on the
 * wall clock.  Plugins' tick gets the timestamp of the frame that crossed
 * a period, so a run is the same however fast it goes.
 */
#include <linux/if_packet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "flowhash.h"
#include "log.h"
#include "master.h"
#include "offline_int.h"
#include "stats.h"
#include "util.h"

/*
 * A frame's view.  A record longer than its length on the wire (a file
 * written wrong) had at least the bytes it holds: plugins get caplen <= len.
 * The packet type is a Linux cooked header's (at, ol->pkttype_at, which
 * a loop may keep at hand), PACKET_HOST on other links and from a header
 * cut before it.
 */
static inline void
offline_view(const struct offline *ol, struct ringfan_packet *pkt,
    const uint8_t *data, uint32_t caplen, uint32_t len, uint64_t ts_ns,
    unsigned at)
{
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len < caplen ? caplen : len;
	pkt->ts_ns = ts_ns;
	pkt->rxhash = 0;
	pkt->vlan_tci = 0;
	pkt->vlan_tpid = 0;
	pkt->pkttype = PACKET_HOST;
	pkt->flags = caplen < len ? RINGFAN_PKT_TRUNCATED : 0;
	pkt->linktype = ol->linktype;
	pkt->reserved = 0;
	if (__builtin_expect(at != 0, 0) && caplen > at)
		pkt->pkttype = data[at];
}

/* The worker of a frame. */
static inline struct offline_worker *
offline_worker_of(const struct offline *ol, const struct ringfan_packet *pkt)
{
	if (ol->nworkers == 1)
		return &ol->w[0];
	return &ol->w[flowhash_pick(flowhash(pkt, FLOWHASH_SEED, ol->frags),
	    ol->nworkers)];
}

/* Log lines from here on are worker w's. */
static inline void
offline_tag(struct offline *ol, const struct offline_worker *w)
{
	unsigned k = (unsigned)(w - ol->w);

	if (ol->nworkers > 1 && k != ol->tagged) {
		log_use_tag(ol->w[k].tag);
		ol->tagged = k;
	}
}

/*
 * A frame read: to the end of the queue, and, if it stays where it lies
 * (`stays`), to its worker's prefetch callbacks.  One that libpcap read
 * into its buffer gets none: the next frame libpcap reads lies there too,
 * and a plugin knows a frame by where it lies (plugin.h).
 */
static inline void
offline_ahead_put(struct offline *ol, struct offline_ahead *q,
    const uint8_t *data, uint32_t caplen, uint32_t len, uint64_t ts_ns,
    bool stays)
{
	unsigned i = (q->head + q->n++) % RINGFAN_PREFETCH_AHEAD;
	struct ringfan_packet *v = &q->view[i];

	offline_view(ol, v, data, caplen, len, ts_ns, ol->pkttype_at);
	q->w[i] = offline_worker_of(ol, v);
	if (ol->has_prefetch && stays) {
		offline_tag(ol, q->w[i]);
		pipeline_prefetch(&q->w[i]->pl, v);
	}
}

/* The oldest frame of the queue, and its worker, whose log lines follow. */
static inline struct ringfan_packet *
offline_ahead_take(struct offline *ol, struct offline_ahead *q,
    struct offline_worker **w)
{
	unsigned i = q->head;

	q->head = (q->head + 1) % RINGFAN_PREFETCH_AHEAD;
	q->n--;
	*w = q->w[i];
	offline_tag(ol, *w);
	return &q->view[i];
}

static inline void
offline_ahead_init(const struct offline *ol, struct offline_ahead *q)
{
	q->head = 0;
	q->n = 0;
	/* The frame in hand and those a prefetch call is ahead of it. */
	q->depth = ol->has_prefetch ? RINGFAN_PREFETCH_AHEAD : 1;
}

/* Every worker's pipeline whose tick is due at now_ns. */
static void
offline_tick(struct offline *ol, uint64_t now_ns)
{
	struct offline_worker *w;
	uint64_t next = UINT64_MAX;

	for (unsigned k = 0; k < ol->nworkers; k++) {
		w = &ol->w[k];
		if (now_ns >= w->pl.next_tick) {
			offline_tag(ol, w);
			pipeline_tick(&w->pl, now_ns);
		}
		if (w->pl.next_tick < next)
			next = w->pl.next_tick;
	}
	ol->next_tick = next;
}

void
offline_tick_all(struct offline *ol, uint64_t now_ns)
{
	for (unsigned k = 0; k < ol->nworkers; k++) {
		if (ol->nworkers > 1)
			log_use_tag(ol->w[k].tag);
		pipeline_tick_all(&ol->w[k].pl, now_ns);
	}
}

/*
 * The frame through pl's per-frame stages until one stops it, each named
 * in the stage word while it runs, for offline_guard.c.
 */
static inline bool
offline_stages(const struct pipeline *pl, struct stats_worker *sw,
    const struct ringfan_packet *pkt)
{
	bool passed;

	if (pl->first_batch == 0)
		return true;
	passed = pipeline_run_staged(pl, sw, pkt, true);
	STATS_STORE(&sw->stage, STATS_STAGE_NONE);
	return passed;
}

/*
 * A frame through worker w's per-frame stages, counted.  Offline there is
 * no successor to resume, so the counters move with every frame.  True
 * when the frame got through to w's first batch stage.
 */
static inline bool
offline_frame(struct offline *ol, struct offline_worker *w,
    const struct ringfan_packet *pkt)
{
	bool passed;

	passed = offline_stages(&w->pl, w->sw, pkt);
	w->bytes += pkt->len;
	STATS_STORE(&w->sw->packets, ++w->handled);
	STATS_STORE(&w->sw->bytes, w->bytes);
	/* Network time never goes back, even in a file out of order. */
	if (pkt->ts_ns > ol->last_ts)
		ol->last_ts = pkt->ts_ns;
	if (pkt->ts_ns >= ol->next_tick)
		offline_tick(ol, pkt->ts_ns);
	return passed;
}

/* Frames through w's batch stages, each named in the stage word. */
static void
offline_rest(struct offline_worker *w, const struct ringfan_packet **pkts,
    size_t n)
{
	pipeline_rest(&w->pl, pkts, n);
	STATS_STORE(&w->sw->stage, STATS_STAGE_NONE);
}

uint64_t
offline_handled(const struct offline *ol)
{
	uint64_t n = 0;

	for (unsigned k = 0; ol->w != NULL && k < ol->nworkers; k++)
		n += ol->w[k].handled;
	return n;
}

/*
 * The file's error, with the frames handed to the pipelines before it
 * (those the capture's filter passed; none when the file is read into
 * memory first, RINGFAN_OFFLINE_LOOPS).
 */
static void
offline_read_error(const struct offline *ol)
{
	uint64_t n = offline_handled(ol);

	fprintf(stderr, "ringfan: %s: %s (%llu frame%s handed to the pipeline "
	    "before it)\n", ol->path, ol->map.err, (unsigned long long)n,
	    n == 1 ? "" : "s");
}

/* Without a prefetch callback: the frame read is the frame handed over. */
static int
offline_stream_plain(struct offline *ol)
{
	struct pcap_rec r;
	struct ringfan_packet one;
	const struct ringfan_packet *pkt = &one;
	struct offline_worker *w;
	int rc;

	while ((rc = pcap_map_next(&ol->map, &r)) == 1) {
		offline_view(ol, &one, r.data, r.caplen, r.len, r.ts_ns,
		    ol->pkttype_at);
		w = offline_worker_of(ol, &one);
		offline_tag(ol, w);
		/* A batch is this one frame: it may be in libpcap's buffer. */
		if (offline_frame(ol, w, &one) && w->pl.has_batch)
			offline_rest(w, &pkt, 1);
	}
	return rc;
}

/*
 * With one: frames are read ahead only while they stay where they were
 * read; one that libpcap read (into its own buffer, which its next read
 * reuses) is handed over before the next is read.
 */
static int
offline_stream_ahead(struct offline *ol)
{
	struct offline_ahead q;
	struct pcap_rec r;
	const struct ringfan_packet *pkt;
	struct offline_worker *w;
	bool held = false;
	int rc = 1;

	offline_ahead_init(ol, &q);
	for (;;) {
		while (rc == 1 && !held && q.n < q.depth) {
			if ((rc = pcap_map_next(&ol->map, &r)) != 1)
				break;
			held = !pcap_map_in_place(&ol->map, &r);
			offline_ahead_put(ol, &q, r.data, r.caplen, r.len,
			    r.ts_ns, !held);
		}
		if (q.n == 0)
			return rc;
		pkt = offline_ahead_take(ol, &q, &w);
		if (q.n == 0)
			held = false;
		if (offline_frame(ol, w, pkt) && w->pl.has_batch)
			offline_rest(w, &pkt, 1);
	}
}

int
offline_stream(struct offline *ol)
{
	int rc = ol->has_prefetch ? offline_stream_ahead(ol) :
	    offline_stream_plain(ol);

	if (rc < 0) {
		offline_read_error(ol);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* p with room for need elements (doubling), or NULL with p untouched. */
static void *
offline_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return p;
	if ((q = reallocarray(p, n, size)) == NULL)
		return NULL;
	*cap = n;
	return q;
}

/*
 * The whole file into ol->recs and ol->buf, for `loops` passes.  0, or
 * EXIT_RUNTIME, or EXIT_CONFIG when the last pass would take the time past
 * what 64 bits of nanoseconds hold.
 */
static int
offline_load(struct offline *ol, uint64_t loops)
{
	struct pcap_rec r;
	size_t reccap = 0, bufcap = 0;
	uint64_t first = 0, last = 0, ts, most;
	void *p;
	int rc;

	while ((rc = pcap_map_next(&ol->map, &r)) == 1) {
		p = offline_grow(ol->recs, &reccap, ol->nrecs + 1,
		    sizeof(*ol->recs));
		if (p != NULL) {
			ol->recs = p;
			p = offline_grow(ol->buf, &bufcap,
			    ol->buflen + r.caplen, 1);
		}
		if (p == NULL) {
			fprintf(stderr, "ringfan: %s: loading %zu frames into "
			    "memory: %s\n", ol->path, ol->nrecs + 1,
			    strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
		ol->buf = p;
		ts = r.ts_ns;
		if (ol->nrecs == 0 || ts < first)
			first = ts;
		if (ol->nrecs == 0 || ts > last)
			last = ts;
		ol->recs[ol->nrecs].ts_ns = ts;
		ol->recs[ol->nrecs].caplen = r.caplen;
		ol->recs[ol->nrecs].len = r.len;
		memcpy(ol->buf + ol->buflen, r.data, r.caplen);
		ol->buflen += r.caplen;
		ol->nrecs++;
	}
	if (rc < 0) {
		offline_read_error(ol);
		return EXIT_RUNTIME;
	}
	/*
	 * A pass starts 1 us after the previous one's last frame.  Time that
	 * wrapped would go back to 1970: `most` passes fit in 64 bits, one
	 * when the shift itself does not (a pcapng file's times may span
	 * nearly all of them).
	 */
	if (last - first > UINT64_MAX - 1000) {
		ol->span_ns = UINT64_MAX;
		most = 1;
	} else {
		ol->span_ns = last - first + 1000;
		most = (UINT64_MAX - last) / ol->span_ns + 1;
	}
	if (ol->nrecs > 0 && loops > most) {
		fprintf(stderr, "ringfan: %s: RINGFAN_OFFLINE_LOOPS=%llu: each "
		    "pass is shifted %llu ns past the one before, so the last "
		    "would run past 2554-07-21T23:34:33Z, the last time that "
		    "ringfan's 64-bit nanosecond times hold; this file takes "
		    "at most %llu pass%s\n", ol->path,
		    (unsigned long long)loops,
		    (unsigned long long)ol->span_ns,
		    (unsigned long long)most, most == 1 ? "" : "es");
		return EXIT_CONFIG;
	}
	for (unsigned k = 0; ol->has_batch && k < ol->nworkers; k++) {
		ol->w[k].views = calloc(OFFLINE_BATCH, sizeof(*ol->w[k].views));
		ol->w[k].ptrs = calloc(OFFLINE_BATCH, sizeof(*ol->w[k].ptrs));
		if (ol->w[k].views == NULL || ol->w[k].ptrs == NULL) {
			fprintf(stderr, "ringfan: %s\n", strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/* Worker w's waiting frames through its batch stages. */
static void
offline_flush(struct offline_worker *w)
{
	offline_rest(w, w->ptrs, w->nptrs);
	w->nviews = 0;
	w->nptrs = 0;
}

/*
 * One pass over the in-memory copy, its time shifted by `shift`.  With
 * batch stages each worker gathers its frames into blocks of
 * OFFLINE_BATCH, as a ring would give them.
 */
static void
offline_pass(struct offline *ol, uint64_t shift)
{
	const struct offline_rec *r;
	const uint8_t *p = ol->buf;
	struct ringfan_packet pkt, *v;
	struct offline_worker *w = &ol->w[0];
	struct offline_ahead q;
	size_t next = 0;

	/* The measured case: one worker, no batch stage, nothing to pick. */
	if (ol->nworkers == 1 && !ol->has_batch && !ol->has_prefetch) {
		const unsigned at = ol->pkttype_at;

		for (size_t i = 0; i < ol->nrecs; i++) {
			r = &ol->recs[i];
			offline_view(ol, &pkt, p, r->caplen, r->len,
			    r->ts_ns + shift, at);
			p += r->caplen;
			offline_frame(ol, w, &pkt);
		}
		return;
	}
	offline_ahead_init(ol, &q);
	for (;;) {
		for (; next < ol->nrecs && q.n < q.depth; next++) {
			r = &ol->recs[next];
			offline_ahead_put(ol, &q, p, r->caplen, r->len,
			    r->ts_ns + shift, true);
			p += r->caplen;
		}
		if (q.n == 0)
			break;
		v = offline_ahead_take(ol, &q, &w);
		if (!w->pl.has_batch) {
			offline_frame(ol, w, v);
			continue;
		}
		/* A batch stage needs the views to outlive the queue. */
		w->views[w->nviews] = *v;
		v = &w->views[w->nviews++];
		if (offline_frame(ol, w, v))
			w->ptrs[w->nptrs++] = v;
		if (w->nviews == OFFLINE_BATCH)
			offline_flush(w);
	}
	for (unsigned k = 0; ol->has_batch && k < ol->nworkers; k++)
		offline_flush(&ol->w[k]);
}

int
offline_loops(struct offline *ol, uint64_t loops)
{
	uint64_t start, elapsed, handled;
	double secs;
	int rc;

	if ((rc = offline_load(ol, loops)) != 0)
		return rc;
	start = clock_ns(CLOCK_MONOTONIC);
	for (uint64_t k = 0; k < loops; k++)
		offline_pass(ol, k * ol->span_ns);
	elapsed = clock_ns(CLOCK_MONOTONIC) - start;
	handled = offline_handled(ol);
	secs = (double)elapsed / 1e9;
	fprintf(stderr, "offline: %llu packets in %.3f s: %.0f pps\n",
	    (unsigned long long)handled, secs,
	    secs > 0 ? (double)handled / secs : 0.0);
	return 0;
}

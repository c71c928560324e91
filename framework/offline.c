/*
 * Offline mode: the first capture's pipeline over a pcap or pcapng file.
 *
 * The pipeline runs in this process as worker 0 of a one-worker capture,
 * with a stats region of its own, and counts exactly as a live worker does,
 * so that its statistics document can be compared with a live run's.  The
 * frames are handed over in place, pointing into libpcap's buffer.
 *
 * Time is the file's: plugins' tick gets the timestamp of the frame that
 * crossed a stats_interval, so timeouts behave as they did on the wire and
 * a run is the same however fast it goes.
 *
 * RINGFAN_OFFLINE_LOOPS=N measures the host: the file is read into one
 * buffer first, and the pipeline runs over it N times without disk I/O or
 * libpcap in the way.  Each pass is shifted in time past the previous one,
 * so plugins never see time go backwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "log.h"
#include "master.h"
#include "offline.h"
#include "plugin_host.h"
#include "resume.h"
#include "stats.h"
#include "util.h"

/* Frames handed to a plugin's batch callback at once, like a ring block. */
#define OFFLINE_BATCH		256
/* Upper bound of RINGFAN_OFFLINE_LOOPS: a typo should not run for days. */
#define OFFLINE_LOOPS_MAX	1000000

/* One frame of the in-memory copy; its bytes follow the previous frame's. */
struct offline_rec {
	uint64_t	ts_ns;
	uint32_t	caplen;
	uint32_t	len;
};

struct offline {
	const char		*path;
	pcap_t			*pcap;
	struct pipeline		 pl;
	struct stats_shm	*shm;
	struct stats_worker	*sw;		/* &shm->workers[0] */
	uint64_t		 handled;
	uint64_t		 bytes;
	uint64_t		 last_ts;
	uint16_t		 linktype;
	struct plugin_mem	*mem;		/* per stage */

	/* RINGFAN_OFFLINE_LOOPS only. */
	struct offline_rec	*recs;
	size_t			 nrecs;
	uint8_t			*buf;
	size_t			 buflen;
	uint64_t		 span_ns;	/* ts shift of each pass */
	struct ringfan_packet	*views;		/* OFFLINE_BATCH of them */
	const struct ringfan_packet **ptrs;	/* those that reach a batch */
};

/*
 * The per-frame bookkeeping of worker_block(), by resume.h.  Network
 * time is the frames' own here: ticks come when a frame's time reaches the
 * next one due.  True when the frame got through to the first batch stage.
 */
static inline bool
offline_frame(struct offline *ol, struct ringfan_packet *pkt)
{
	struct stats_worker *sw = ol->sw;
	bool passed;

	pkt->linktype = ol->linktype;
	resume_frame_begin(sw, ol->handled);
	passed = pipeline_run(&ol->pl, pkt);
	ol->bytes += pkt->len;
	resume_frame_done(sw, ++ol->handled, ol->bytes);
	ol->last_ts = pkt->ts_ns;
	if (pkt->ts_ns >= ol->pl.next_tick)
		pipeline_tick(&ol->pl, pkt->ts_ns);
	return passed;
}

static inline void
offline_view(struct ringfan_packet *pkt, const uint8_t *data,
    uint32_t caplen, uint32_t len, uint64_t ts_ns)
{
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->ts_ns = ts_ns;
	pkt->rxhash = 0;
	pkt->vlan_tci = 0;
	pkt->vlan_tpid = 0;
	pkt->pkttype = 0;		/* PACKET_HOST */
	pkt->flags = caplen < len ? RINGFAN_PKT_TRUNCATED : 0;
	pkt->linktype = 0;
}

static uint64_t
header_ns(const struct pcap_pkthdr *h)
{
	/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
	return (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
}

static void
offline_read_error(const struct offline *ol)
{
	fprintf(stderr, "ringfan: %s: %s\n", ol->path, pcap_geterr(ol->pcap));
}

/* Straight from the file.  0, or EXIT_RUNTIME after a read error. */
static int
offline_stream(struct offline *ol)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	struct ringfan_packet pkt;
	const struct ringfan_packet *one = &pkt;
	int rc;

	while ((rc = pcap_next_ex(ol->pcap, &h, &data)) == 1) {
		offline_view(&pkt, data, h->caplen, h->len, header_ns(h));
		/* libpcap reuses its buffer: a batch is this one frame. */
		if (offline_frame(ol, &pkt) && ol->pl.has_batch)
			pipeline_rest(&ol->pl, &one, 1);
	}
	if (rc == PCAP_ERROR) {
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

/* The whole file into ol->recs and ol->buf.  0 or EXIT_RUNTIME. */
static int
offline_load(struct offline *ol)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t reccap = 0, bufcap = 0;
	uint64_t first = 0, last = 0, ts;
	void *p;
	int rc;

	while ((rc = pcap_next_ex(ol->pcap, &h, &data)) == 1) {
		p = offline_grow(ol->recs, &reccap, ol->nrecs + 1,
		    sizeof(*ol->recs));
		if (p != NULL) {
			ol->recs = p;
			p = offline_grow(ol->buf, &bufcap,
			    ol->buflen + h->caplen, 1);
		}
		if (p == NULL) {
			fprintf(stderr, "ringfan: %s: loading %zu frames into "
			    "memory: %s\n", ol->path, ol->nrecs + 1,
			    strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
		ol->buf = p;
		ts = header_ns(h);
		if (ol->nrecs == 0 || ts < first)
			first = ts;
		if (ol->nrecs == 0 || ts > last)
			last = ts;
		ol->recs[ol->nrecs].ts_ns = ts;
		ol->recs[ol->nrecs].caplen = h->caplen;
		ol->recs[ol->nrecs].len = h->len;
		memcpy(ol->buf + ol->buflen, data, h->caplen);
		ol->buflen += h->caplen;
		ol->nrecs++;
	}
	if (rc == PCAP_ERROR) {
		offline_read_error(ol);
		return EXIT_RUNTIME;
	}
	/* A pass starts 1 us after the previous one's last frame. */
	ol->span_ns = last - first + 1000;
	ol->views = calloc(OFFLINE_BATCH, sizeof(*ol->views));
	ol->ptrs = calloc(OFFLINE_BATCH, sizeof(*ol->ptrs));
	if (ol->views == NULL || ol->ptrs == NULL) {
		fprintf(stderr, "ringfan: %s\n", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* One pass over the in-memory copy, its time shifted by `shift`. */
static void
offline_pass(struct offline *ol, uint64_t shift)
{
	const struct offline_rec *r;
	const uint8_t *p = ol->buf;
	struct ringfan_packet pkt;
	size_t i, j, n, nb;

	if (!ol->pl.has_batch) {
		for (i = 0; i < ol->nrecs; i++) {
			r = &ol->recs[i];
			offline_view(&pkt, p, r->caplen, r->len,
			    r->ts_ns + shift);
			p += r->caplen;
			offline_frame(ol, &pkt);
		}
		return;
	}
	for (i = 0; i < ol->nrecs; i += n) {
		n = ol->nrecs - i < OFFLINE_BATCH ? ol->nrecs - i :
		    OFFLINE_BATCH;
		nb = 0;
		for (j = 0; j < n; j++) {
			r = &ol->recs[i + j];
			offline_view(&ol->views[j], p, r->caplen, r->len,
			    r->ts_ns + shift);
			p += r->caplen;
			if (offline_frame(ol, &ol->views[j]))
				ol->ptrs[nb++] = &ol->views[j];
		}
		pipeline_rest(&ol->pl, ol->ptrs, nb);
	}
}

static int
offline_loops(struct offline *ol, uint64_t loops)
{
	uint64_t start, elapsed;
	double secs;
	int rc;

	if ((rc = offline_load(ol)) != 0)
		return rc;
	start = clock_ns(CLOCK_MONOTONIC);
	for (uint64_t k = 0; k < loops; k++)
		offline_pass(ol, k * ol->span_ns);
	elapsed = clock_ns(CLOCK_MONOTONIC) - start;
	secs = (double)elapsed / 1e9;
	fprintf(stderr, "offline: %llu packets in %.3f s: %.0f pps\n",
	    (unsigned long long)ol->handled, secs,
	    secs > 0 ? (double)ol->handled / secs : 0.0);
	return 0;
}

/* RINGFAN_OFFLINE_LOOPS: 0 when unset, -1 when malformed. */
static int64_t
offline_loops_env(void)
{
	const char *s = getenv("RINGFAN_OFFLINE_LOOPS");
	uint64_t n;

	if (s == NULL || *s == '\0')
		return 0;
	if (parse_uint(s, &n) != 0 || n == 0 || n > OFFLINE_LOOPS_MAX) {
		fprintf(stderr, "ringfan: RINGFAN_OFFLINE_LOOPS=%s: not a "
		    "number of passes from 1 to %d\n", s, OFFLINE_LOOPS_MAX);
		return -1;
	}
	return (int64_t)n;
}

static int
offline_open(struct offline *ol, const struct cfg *cfg,
    const struct cfg_capture *cap)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	int dlt;

	errbuf[0] = '\0';
	ol->pcap = pcap_open_offline_with_tstamp_precision(ol->path,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (ol->pcap == NULL) {
		/* libpcap names the file itself when fopen() failed. */
		if (strstr(errbuf, ol->path) != NULL)
			fprintf(stderr, "ringfan: %s\n", errbuf);
		else
			fprintf(stderr, "ringfan: %s: %s\n", ol->path, errbuf);
		return EXIT_RUNTIME;
	}
	/*
	 * Any link type libpcap reads.  It reads a pcapng file whose
	 * interfaces share one link type, so every frame has the file's.
	 */
	dlt = pcap_datalink(ol->pcap);
	if (dlt < 0 || dlt > UINT16_MAX) {
		fprintf(stderr, "ringfan: %s: link type %d out of range\n",
		    ol->path, dlt);
		return EXIT_RUNTIME;
	}
	ol->linktype = (uint16_t)dlt;
	/* The pipeline sees what the capture's filter would have let in. */
	if (cap->bpf != NULL) {
		if (pcap_compile(ol->pcap, &prog, cap->bpf, 1,
		    PCAP_NETMASK_UNKNOWN) != 0) {
			fprintf(stderr, "ringfan: %s:%u:%u: bpf: %s\n",
			    cfg->path, cap->bpf_pos.line, cap->bpf_pos.col,
			    pcap_geterr(ol->pcap));
			return EXIT_CONFIG;
		}
		if (pcap_setfilter(ol->pcap, &prog) != 0) {
			fprintf(stderr, "ringfan: %s: bpf: %s\n", ol->path,
			    pcap_geterr(ol->pcap));
			pcap_freecode(&prog);
			return EXIT_RUNTIME;
		}
		pcap_freecode(&prog);
	}
	return 0;
}

/*
 * Check and open the pipeline as a worker would, with fresh host memory.
 * 0 or an exit code, the cause printed.
 */
static int
offline_pipeline(struct offline *ol, const struct cfg *cfg,
    const struct cfg_capture *cap)
{
	struct plugin_env env = {
		.cfg = cfg,
		.cap = cap,
		.worker_count = 1,
		.interface = ol->path,
		.linktype = ol->linktype,
		.snaplen = (uint32_t)pcap_snapshot(ol->pcap),
		.flags = RINGFAN_CTX_OFFLINE,
	};
	char err[PLUGIN_ERR_MAX];
	int rc;

	if ((rc = pipeline_check(&ol->pl, &env, err, sizeof(err))) !=
	    RINGFAN_OK)
		goto fail;
	if ((ol->mem = calloc(ol->pl.nstages + 1, sizeof(*ol->mem))) == NULL) {
		fprintf(stderr, "ringfan: %s\n", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t k = 0; k < ol->pl.nstages; k++) {
		if ((rc = plugin_mem_map(&ol->mem[k],
		    &ol->pl.stages[k].info)) != 0) {
			fprintf(stderr, "ringfan: plugin %s: mmap(%llu bytes of "
			    "host memory): %s\n", ol->pl.stages[k].info.name,
			    (unsigned long long)
			    ol->pl.stages[k].info.memory_size, strerror(-rc));
			return EXIT_RUNTIME;
		}
	}
	if ((rc = pipeline_open(&ol->pl, &env, ol->sw, ol->mem, err,
	    sizeof(err))) == RINGFAN_OK)
		return 0;
fail:
	fprintf(stderr, "ringfan: %s\n", err);
	/* A configuration error is the user's; a missing resource is not. */
	return rc == RINGFAN_RETRY ? EXIT_RUNTIME : EXIT_CONFIG;
}

static int
offline_print(const struct offline *ol, const struct cfg *cfg, FILE *out,
    uint64_t started, uint64_t loops)
{
	const char *const *names[1] = { ol->pl.names };
	struct stats_view view = {
		.cfg = cfg,
		.shm = ol->shm,
		.plugin_names = names,
	};
	json_t *doc;
	int rc = 0;

	view.uptime_s = (double)(clock_ns(CLOCK_MONOTONIC) - started) / 1e9;
	doc = stats_json(&view);
	if (doc != NULL)
		json_object_set_new(doc, "offline", json_pack("{s:s,s:I}",
		    "file", ol->path, "loops", (json_int_t)(loops ? loops : 1)));
	if (doc == NULL || json_dumpf(doc, out, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) == -1 || fputc('\n', out) == EOF ||
	    fflush(out) == EOF) {
		fprintf(stderr, "ringfan: cannot write the statistics "
		    "document\n");
		rc = EXIT_RUNTIME;
	}
	json_decref(doc);
	return rc;
}

int
offline_run(const struct cfg *cfg, const char *pcap_path, FILE *out)
{
	struct offline ol;
	struct cfg one;
	struct cfg_capture cap;
	char err[PLUGIN_ERR_MAX];
	uint64_t started = clock_ns(CLOCK_MONOTONIC);
	int64_t loops;
	int rc, prc;

	if (cfg->ncaptures == 0) {
		fprintf(stderr, "ringfan: %s: no capture to run offline\n",
		    cfg->path);
		return EXIT_CONFIG;
	}
	if ((loops = offline_loops_env()) < 0)
		return EXIT_CONFIG;

	/*
	 * A one-worker copy of the first capture: plugins are told they are
	 * worker 0 of 1, and the stats document lists the one worker.
	 */
	cap = cfg->captures[0];
	cap.workers = 1;
	one = *cfg;
	one.captures = &cap;
	one.ncaptures = 1;

	memset(&ol, 0, sizeof(ol));
	ol.path = pcap_path;
	log_set_tag("%s/0", cap.name);
	if ((rc = offline_open(&ol, &one, &cap)) != 0)
		goto out;
	if (pipeline_load(&ol.pl, &one, &cap, err, sizeof(err)) == -1) {
		fprintf(stderr, "ringfan: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	if ((ol.shm = stats_create(1)) == NULL) {
		fprintf(stderr, "ringfan: mmap(stats of 1 worker): %s\n",
		    strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	ol.sw = &ol.shm->workers[0];
	STATS_STORE(&ol.sw->pid, (int32_t)getpid());
	if ((rc = offline_pipeline(&ol, &one, &cap)) != 0) {
		STATS_STORE(&ol.sw->state, WORKER_FAILED);
		goto out;
	}
	STATS_STORE(&ol.sw->state, WORKER_RUNNING);

	if (loops > 0)
		rc = offline_loops(&ol, (uint64_t)loops);
	else
		rc = offline_stream(&ol);

	/* Every plugin ticks at least once, at the time of the last frame. */
	pipeline_tick_all(&ol.pl, ol.handled > 0 ? ol.last_ts :
	    clock_ns(CLOCK_REALTIME));
	pipeline_close(&ol.pl);
	STATS_STORE(&ol.sw->state, WORKER_STOPPED);
	prc = offline_print(&ol, &one, out, started, (uint64_t)loops);
	if (rc == 0)
		rc = prc;
out:
	pipeline_unload(&ol.pl);
	stats_destroy(ol.shm);
	if (ol.pcap != NULL)
		pcap_close(ol.pcap);
	free(ol.recs);
	free(ol.buf);
	free(ol.views);
	free(ol.ptrs);
	for (size_t k = 0; ol.mem != NULL && k < cap.npipeline; k++)
		plugin_mem_unmap(&ol.mem[k]);
	free(ol.mem);
	return rc;
}

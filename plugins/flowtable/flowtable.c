/*
 * flowtable: bidirectional flow records, one JSON object per line, per
 * worker, from a table in host memory that survives a crash of the worker.
 *
 *	- plugin: flowtable
 *	  config: { output: /var/lib/ringfan/flows-{worker}.json,
 *	            max_flows: 65536, idle_timeout: 30s,
 *	            active_timeout: 300s, linger: 1s,
 *	            ipfix: "udp://192.0.2.10:4739" }
 *
 * This file: options, the ABI's callbacks, and frames to flow keys.
 * flowtable_table.c holds the table, flowtable_record.c the records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#include "flowtable.h"

#define FT_MS		1000000ULL
#define FT_SEC		(1000 * FT_MS)
#define FT_IPFIX_DRAIN	(2 * FT_SEC)

static const char *const ft_counter_names[FC_MAX] = {
	[FC_CREATED] = "created",
	[FC_IDLE] = "expired_idle",
	[FC_ACTIVE] = "expired_active",
	[FC_END] = "expired_end",
	[FC_EVICTED] = "evicted",
	[FC_SHUTDOWN] = "shutdown",
	[FC_RECORDS] = "records",
	[FC_LOST] = "records_lost",
	[FC_WRITE_ERRORS] = "write_errors",
	[FC_NOT_IP] = "not_ip",
	[FC_BAD_IP] = "bad_ip",
	[FC_FRAG_ORPHANS] = "frag_orphans",
	[FC_RECOVERIES] = "recoveries",
	[FC_CLOCK] = "clock",
};

/* The durations, with the bounds that keep time sums from overflowing. */
static const struct {
	const char	*name;
	size_t		 off;
	uint64_t	 def_ns;
	uint64_t	 min_ns;
} ft_durations[] = {
	{ "idle_timeout", offsetof(struct ft_opts, idle_ns), 30 * FT_SEC,
	    FT_MS },
	{ "active_timeout", offsetof(struct ft_opts, active_ns), 300 * FT_SEC,
	    FT_MS },
	{ "linger", offsetof(struct ft_opts, linger_ns), FT_SEC, 0 },
};

/* The output template: {worker} is the one placeholder there is. */
static int
ft_output_form(struct ringfan_ctx *ctx, const char *s)
{
	const char *p;
	size_t grow = 0;

	if (s == NULL || *s == '\0') {
		ctx->error(ctx, "output: required without ipfix: the file the "
		    "records go to");
		return -1;
	}
	for (p = s; (p = strchr(p, '{')) != NULL; p += 8, grow += 2) {
		if (strncmp(p, "{worker}", 8) != 0) {
			ctx->error(ctx, "output: \"%s\": unknown placeholder "
			    "at \"%.16s\", only {worker} is known", s, p);
			return -1;
		}
	}
	/* A worker id has 10 digits at most: 2 more than "{worker}". */
	if (strlen(s) + grow >= PATH_MAX) {
		ctx->error(ctx, "output: too long for a path");
		return -1;
	}
	return 0;
}

/* check and open both read every option. */
static int
ft_options(struct ringfan_ctx *ctx, struct ft_opts *o)
{
	uint64_t *v, other;

	if (ctx->opt_uint(ctx, "max_flows", 65536, &o->max_flows) != 0)
		return RINGFAN_FAIL;
	for (size_t i = 0; i < sizeof(ft_durations) / sizeof(ft_durations[0]);
	    i++) {
		v = (uint64_t *)(void *)((char *)o + ft_durations[i].off);
		if (ctx->opt_duration(ctx, ft_durations[i].name,
		    ft_durations[i].def_ns, v) != 0)
			return RINGFAN_FAIL;
		if (*v < ft_durations[i].min_ns || *v > FT_MAX_DURATION) {
			ctx->error(ctx, "%s: %llu ms is not %llu ms to 8760h",
			    ft_durations[i].name,
			    (unsigned long long)(*v / FT_MS),
			    (unsigned long long)(ft_durations[i].min_ns /
			    FT_MS));
			return RINGFAN_FAIL;
		}
	}
	if (ctx->opt_string(ctx, "output", NULL, &o->output) != 0)
		return RINGFAN_FAIL;
	if (o->max_flows < 1 || o->max_flows > FT_MAX_FLOWS) {
		ctx->error(ctx, "max_flows: %llu is not 1 to %u",
		    (unsigned long long)o->max_flows, FT_MAX_FLOWS);
		return RINGFAN_FAIL;
	}
	if (o->linger_ns > o->idle_ns) {
		/* Absent, linger is never longer than idle_timeout. */
		if (ctx->opt_duration(ctx, "linger", 0, &other) == 0 &&
		    other == 0 && o->linger_ns == FT_SEC)
			o->linger_ns = o->idle_ns;
		else {
			ctx->error(ctx, "linger: %llu ms is longer than "
			    "idle_timeout (%llu ms)",
			    (unsigned long long)(o->linger_ns / FT_MS),
			    (unsigned long long)(o->idle_ns / FT_MS));
			return RINGFAN_FAIL;
		}
	}
	if (ix_options(ctx, &o->ix) != 0)
		return RINGFAN_FAIL;
	if (o->output != NULL && *o->output == '\0')
		o->output = NULL;
	/* With ipfix the file is optional; both may be given. */
	if ((o->output != NULL || o->ix.url == NULL) &&
	    ft_output_form(ctx, o->output) != 0)
		return RINGFAN_FAIL;
	return RINGFAN_OK;
}

/* Half the shortest timeout, from 10 ms to 1 s. */
static uint64_t
ft_tick_ns(const struct ft_opts *o)
{
	uint64_t t = o->idle_ns;

	if (o->active_ns < t)
		t = o->active_ns;
	if (o->linger_ns < t)
		t = o->linger_ns;
	t /= 2;
	return t < 10 * FT_MS ? 10 * FT_MS : t > FT_SEC ? FT_SEC : t;
}

static int
ft_linktype(struct ringfan_ctx *ctx)
{
	if (ringfan_decode_supports(ctx->linktype))
		return 0;
	ctx->error(ctx, "link type %d is not one flowtable decodes",
	    ctx->linktype);
	return -1;
}

static int
ft_check(struct ringfan_ctx *ctx)
{
	struct ft_opts o;

	if (ft_linktype(ctx) != 0 || ft_options(ctx, &o) != RINGFAN_OK)
		return RINGFAN_FAIL;
	if (ctx->memory_request(ctx, ft_region_size(o.max_flows),
	    FT_LAYOUT) != 0)
		return RINGFAN_FAIL;
	ctx->tick_period(ctx, ft_tick_ns(&o));
	return RINGFAN_OK;
}

/* The template with each {worker} replaced by this worker's id. */
static void
ft_path(struct ft *ft)
{
	const char *s = ft->o.output, *p;
	size_t n = 0;

	if (s == NULL)
		return;		/* no file: ipfix only */
	/* The options' check made sure that the result fits. */
	while ((p = strstr(s, "{worker}")) != NULL && n < sizeof(ft->path)) {
		n += (size_t)snprintf(ft->path + n, sizeof(ft->path) - n,
		    "%.*s%u", (int)(p - s), s, ft->worker);
		s = p + 8;
		ft->per_worker = 1;
	}
	if (n < sizeof(ft->path))
		snprintf(ft->path + n, sizeof(ft->path) - n, "%s", s);
}

static void
ft_free(struct ft *ft)
{
	if (ft->fd != -1)
		close(ft->fd);
	ix_free(ft->ix);
	ft_table_free(ft);
	free(ft);
}

static int
ft_open(struct ringfan_ctx *ctx, void **state)
{
	struct ft *ft;

	if (ft_linktype(ctx) != 0)
		return RINGFAN_FAIL;
	if ((ft = calloc(1, sizeof(*ft))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_RETRY;
	}
	ft->ctx = ctx;
	ft->fd = -1;
	ft->worker = ctx->worker_id;
	if (ft_options(ctx, &ft->o) != RINGFAN_OK)
		goto fail;
	ft_path(ft);
	for (int i = 0; i < FC_MAX; i++)
		if ((ft->c[i] = ctx->counter(ctx, ft_counter_names[i])) == NULL)
			goto fail;
	if ((ft->g_active = ctx->gauge(ctx, "active")) == NULL ||
	    (ft->g_fill = ctx->gauge(ctx, "fill")) == NULL)
		goto fail;
	if (ft->o.ix.url != NULL &&
	    (ft->ix = ix_open(ctx, &ft->o.ix)) == NULL)
		goto fail;
	if (ctx->memory == NULL ||
	    ctx->memory_size < ft_region_size(ft->o.max_flows)) {
		ctx->error(ctx, "no host memory of %llu bytes for the table",
		    (unsigned long long)ft_region_size(ft->o.max_flows));
		goto fail;
	}
	if (ft_table_open(ft, ctx->memory, ctx->memory_size,
	    ctx->memory_state, ctx->memory_layout) != 0) {
		ctx->error(ctx, "table of %llu flows: %s",
		    (unsigned long long)ft->o.max_flows, strerror(errno));
		ft_free(ft);
		return RINGFAN_RETRY;
	}
	if (ft->ix != NULL)
		ix_attach(ft->ix, &ft->rg->ix_waiting);
	ft_output_open(ft);
	ft_flush(ft);
	ft_gauges(ft);
	ctx->tick_period(ctx, ft_tick_ns(&ft->o));
	if ((ctx->flags & RINGFAN_CTX_FLOW_SPLIT) && ctx->worker_id == 0)
		ctx->log(ctx, RINGFAN_LOG_WARN, "capture %s: its fanout can "
		    "send the frames of one flow to several workers, each of "
		    "which then writes records of its part: use fanout mode "
		    "hash with defrag", ctx->capture);
	*state = ft;
	return RINGFAN_OK;
fail:
	ft_free(ft);
	return RINGFAN_FAIL;
}

/*
 * The protocol that tells a datagram's fragments apart, with the
 * addresses and the id: IPv4's own.  IPv6 has none: a later fragment's
 * Next Header is that of what follows the Fragment header in the first
 * (AH, Destination Options, or the upper layer), which the decoder walks
 * through there.  Its protocol is the first fragment's, kept in the slot.
 */
static uint8_t
ft_frag_proto(const struct ft_key *k)
{
	return k->ipver == 4 ? k->proto : 0;
}

/* Where the ports of a fragment's datagram are kept. */
static struct ft_frag *
ft_frag_slot(struct ft *ft, const struct ft_key *k, uint32_t id)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const uint8_t *p;

	for (p = k->src; p < k->src + 16; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	for (p = k->dst; p < k->dst + 16; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = (h ^ (id | (uint64_t)ft_frag_proto(k) << 32 |
	    (uint64_t)k->vlan << 40)) * 0x100000001b3ULL;
	return &ft->frag[(h ^ h >> 32) & (FT_NFRAG - 1)];
}

static int
ft_frag_match(const struct ft_frag *s, const struct ft_key *k, uint32_t id,
    uint64_t ts)
{
	uint64_t age = ts > s->ts_ns ? ts - s->ts_ns : s->ts_ns - ts;

	return s->valid && s->id == id && s->ipver == k->ipver &&
	    (k->ipver == 6 || s->proto == k->proto) &&
	    s->has_vlan == k->has_vlan && s->vlan == k->vlan &&
	    memcmp(s->src, k->src, 16) == 0 &&
	    memcmp(s->dst, k->dst, 16) == 0 && age <= FT_FRAG_TTL;
}

/*
 * Address a (4 bytes for IPv4, else 16) into the key at to, as two 8-byte
 * stores: ft_key_hash() loads those words right after, and a load the
 * store buffer forwards must find all its bytes in one earlier store.
 * Copied as 16 bytes, an IPv4 address, a 4-byte store into the zeroes of
 * ringfan_decode(), stalled each frame until the stores retired.
 */
static inline void
ft_key_addr(uint8_t *to, const uint8_t *a, uint8_t ipver)
{
	uint64_t lo, hi = 0;
	uint32_t v4;

	if (ipver == 4) {
		memcpy(&v4, a, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = (uint64_t)v4 << 32;
#else
		lo = v4;
#endif
	} else {
		lo = ft_load64(a);
		hi = ft_load64(a + 8);
	}
	memcpy(to, &lo, 8);
	memcpy(to + 8, &hi, 8);
}

/*
 * Frame pkt decoded into fr; its key as far as the frame itself tells it: a
 * later fragment's ports are the first fragment's (ft_packet).
 */
static void
ft_frame_of(const struct ringfan_packet *pkt, struct ft_frame *fr)
{
	struct ringfan_decoded d;
	struct ft_key *k = &fr->k;

	ringfan_decode(pkt, &d);
	fr->flags = d.flags;
	fr->frag_id = d.frag_id;
	fr->ethertype = d.ethertype;
	fr->tcp_flags = 0;
	fr->pad = 0;
	memset(k, 0, sizeof(*k));
	if (d.ip_version == 0 || !(d.flags & RINGFAN_DEC_PROTO))
		return;			/* not a flow: k->ipver 0 */
	k->ipver = d.ip_version;
	k->proto = d.proto;
	if (d.nvlan > 0) {
		k->has_vlan = 1;
		k->vlan = d.vlan[0];
	}
	ft_key_addr(k->src, d.src, d.ip_version);
	ft_key_addr(k->dst, d.dst, d.ip_version);
	if ((d.flags & RINGFAN_DEC_LATER_FRAGMENT) ||
	    !(d.flags & RINGFAN_DEC_L4))
		return;
	/* ICMP: type and code in dport, as IPFIX has them. */
	if (d.proto == 1 || d.proto == 58)
		k->dport = (uint16_t)(d.sport << 8 | d.dport);
	else {
		k->sport = d.sport;
		k->dport = d.dport;
	}
	if (d.proto == 6)
		fr->tcp_flags = d.tcp_flags;
}

/*
 * Prefetch calls between the one that asks for a frame's hash bucket and
 * the one that reads it to ask for the flow (3 and 8 measure the same).
 */
#define FT_FLOW_LAG	4

/*
 * The frame decoded, its key hashed, and the flow's memory asked for: its
 * hash bucket now, and the first flow the bucket names (the one a frame of
 * many flows finds) FT_FLOW_LAG prefetch calls later, by when the
 * bucket's line is there.  What packet needs is kept for it.
 *
 * The prefetches are written here, not in a helper: GCC 12.2 dropped
 * those of a static inline helper that loaded the bucket and prefetched
 * the flow, as code without effect (docs/performance.md).
 */
static void
ft_prefetch(void *state, const struct ringfan_packet *pkt)
{
	struct ft *ft = state;
	struct ft_ahead *a = &ft->ahead[ft->put % RINGFAN_PREFETCH_AHEAD];
	const struct ft_ahead *b;
	uint32_t i;

	a->data = pkt->data;
	a->ts_ns = pkt->ts_ns;
	a->caplen = pkt->caplen;
	a->len = pkt->len;
	ft_frame_of(pkt, &a->fr);
	a->hashed = a->fr.k.ipver != 0 &&
	    !(a->fr.flags & RINGFAN_DEC_LATER_FRAGMENT);
	if (a->hashed) {
		a->hash = ft_key_hash(ft, &a->fr.k);
		__builtin_prefetch(&ft->hhead[a->hash & ft->hmask]);
	}
	if (ft->put - ft->taken >= RINGFAN_PREFETCH_AHEAD)
		ft->taken = ft->put - RINGFAN_PREFETCH_AHEAD + 1;
	ft->put++;
	b = &ft->ahead[(ft->put - 1 - FT_FLOW_LAG) % RINGFAN_PREFETCH_AHEAD];
	if (ft->put - ft->taken > FT_FLOW_LAG && b->hashed &&
	    (i = ft->hhead[b->hash & ft->hmask]) != FT_NONE) {
		__builtin_prefetch(&ft->slot[i]);
		__builtin_prefetch((const char *)&ft->slot[i] + 64);
		__builtin_prefetch(&ft->link[i]);
	}
}

/*
 * What prefetch kept of this frame, or NULL.  The host calls prefetch in
 * ring order and packet gets the frames in that order, so the entries
 * before the frame's own are of frames that never came (stopped by an
 * earlier plugin): they are dropped.  A frame is known by its data
 * pointer, time and lengths: a frame that never came and lay where this
 * one lies (a ring of very few frames, or the passes over a file in
 * memory) had another time, unless the clock was stepped back to the
 * nanosecond.
 */
static const struct ft_ahead *
ft_ahead_find(struct ft *ft, const struct ringfan_packet *pkt)
{
	const struct ft_ahead *a;

	while (ft->taken != ft->put) {
		a = &ft->ahead[ft->taken++ % RINGFAN_PREFETCH_AHEAD];
		if (a->data == pkt->data && a->ts_ns == pkt->ts_ns &&
		    a->caplen == pkt->caplen && a->len == pkt->len)
			return a;
	}
	return NULL;
}

static int
ft_packet(void *state, const struct ringfan_packet *pkt)
{
	struct ft *ft = state;
	const struct ft_ahead *a = ft_ahead_find(ft, pkt);
	struct ft_frame own;
	const struct ft_frame *fr = &own;
	const struct ft_key *k;
	struct ft_key later;
	struct ft_frag fimg, *fslot = NULL;
	uint32_t wire, hash;
	uint64_t ts;
	uint8_t tag[4];

	if (a != NULL)
		fr = &a->fr;
	else
		ft_frame_of(pkt, &own);
	k = &fr->k;
	if (k->ipver == 0) {
		++*ft->c[fr->ethertype == RINGFAN_ETH_IPV4 ||
		    fr->ethertype == RINGFAN_ETH_IPV6 ? FC_BAD_IP : FC_NOT_IP];
		return RINGFAN_CONTINUE;
	}
	if ((ts = ft_clock(pkt->ts_ns)) > ft->now)
		ft->now = ts;
	ft_expire(ft, ft->now);
	if (fr->flags & RINGFAN_DEC_LATER_FRAGMENT) {
		later = *k;
		k = &later;
		fslot = ft_frag_slot(ft, k, fr->frag_id);
		if (ft_frag_match(fslot, k, fr->frag_id, ts)) {
			later.proto = fslot->proto;
			later.sport = fslot->sport;
			later.dport = fslot->dport;
		} else
			++*ft->c[FC_FRAG_ORPHANS];
		fslot = NULL;
	} else if (fr->flags & RINGFAN_DEC_FRAGMENT) {
		/*
		 * A first fragment: its ports for the later ones.  One
		 * without a whole transport header has none to give, and
		 * clears those that an earlier datagram of the same id left
		 * (a slot of another datagram stays as it is).
		 */
		fslot = ft_frag_slot(ft, k, fr->frag_id);
		memset(&fimg, 0, sizeof(fimg));
		if (fr->flags & RINGFAN_DEC_L4) {
			fimg.valid = 1;
			fimg.ipver = k->ipver;
			fimg.proto = k->proto;
			fimg.has_vlan = k->has_vlan;
			fimg.vlan = k->vlan;
			fimg.sport = k->sport;
			fimg.dport = k->dport;
			fimg.id = fr->frag_id;
			memcpy(fimg.src, k->src, 16);
			memcpy(fimg.dst, k->dst, 16);
			fimg.ts_ns = ts;
		} else if (!ft_frag_match(fslot, k, fr->frag_id, ts))
			fslot = NULL;
	}
	hash = a != NULL && a->hashed ? a->hash : ft_key_hash(ft, k);
	/*
	 * A tag the kernel stripped was on the wire, and in the file that
	 * libpcap (or pcapwriter) writes and `-r` reads: its 4 bytes count
	 * where it goes back into the frame, as they do offline.
	 */
	wire = pkt->len + (ringfan_stripped_tag(pkt, tag) >= 0 ? 4 : 0);
	ft_account(ft, k, hash, ts, wire, fr->tcp_flags, fslot,
	    fslot != NULL ? &fimg : NULL);
	if (ft->npend >= FT_NPEND / 2 && !ft->failing)
		ft_flush(ft);
	if (*ft->g_active != ft->live)
		ft_gauges(ft);
	return RINGFAN_CONTINUE;
}

static void
ft_tick(void *state, uint64_t now_ns)
{
	struct ft *ft = state;

	if ((now_ns = ft_clock(now_ns)) > ft->now)
		ft->now = now_ns;
	else if (ft->now - now_ns > ft->o.idle_ns)
		ft_clock_back(ft, now_ns);
	ft_expire(ft, ft->now);
	ft_output_check(ft, ft->now);
	ft_flush(ft);
	if (ft->ix != NULL)
		ix_tick(ft->ix);
	ft_gauges(ft);
}

static void
ft_close(void *state)
{
	struct ft *ft = state;

	ft_shutdown(ft);
	/* A stop waits this long at most for the collector. */
	if (ft->ix != NULL)
		ix_drain(ft->ix, FT_IPFIX_DRAIN);
	/* What is left are restarted flows without a frame: gone too. */
	*ft->g_active = 0;
	*ft->g_fill = 0;
	ft_free(ft);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "flowtable",
	.version = "1.0",
	.description = "bidirectional flow records as JSON lines, from a "
	    "table that survives a crash of the worker",
	.check = ft_check,
	.open = ft_open,
	.packet = ft_packet,
	.tick = ft_tick,
	.close = ft_close,
	.prefetch = ft_prefetch,
};

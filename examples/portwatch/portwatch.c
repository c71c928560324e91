/*
 * portwatch: an example ringfan plugin.  It counts the TCP and UDP frames
 * sent to one port, keeps a gauge of their bytes on the wire over the last
 * complete period, and shows a status while that is over a budget.
 *
 *	- plugin: portwatch
 *	  config: { port: 443, period: 10s, budget: 50MiB }
 */
#include <stdlib.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

struct pw {
	struct ringfan_ctx	*ctx;	/* valid until close returns */
	uint64_t		 port, period_ns, budget;	/* options */
	uint64_t		*tcp, *udp;	/* counters */
	uint64_t		*last;	/* gauge: bytes of the last period */
	uint64_t		 next_ns; /* where the current period ends */
	uint64_t		 sum;	/* its bytes so far */
};

/* check and open both read every option: a key nobody reads is an error. */
static int
pw_options(struct ringfan_ctx *ctx, struct pw *pw)
{
	if (ctx->opt_uint(ctx, "port", 0, &pw->port) != 0 ||
	    ctx->opt_duration(ctx, "period", 1000000000, &pw->period_ns) != 0 ||
	    ctx->opt_size(ctx, "budget", 0, &pw->budget) != 0)
		return RINGFAN_FAIL;	/* the getter has said why */
	if (pw->port == 0 || pw->port > 65535) {
		ctx->error(ctx, "port: %llu is not 1 to 65535",
		    (unsigned long long)pw->port);
		return RINGFAN_FAIL;
	}
	if (pw->period_ns < 1000000) {
		ctx->error(ctx, "period: less than 1ms");
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

static int
pw_check(struct ringfan_ctx *ctx)
{
	struct pw pw;

	if (pw_options(ctx, &pw) != RINGFAN_OK)
		return RINGFAN_FAIL;
	/* Else every frame would decode to -1, and nothing be counted. */
	if (!ringfan_decode_supports(ctx->linktype)) {
		ctx->error(ctx, "link type %d is not one portwatch decodes",
		    ctx->linktype);
		return RINGFAN_FAIL;
	}
	ctx->tick_period(ctx, pw.period_ns);
	return RINGFAN_OK;
}

static int
pw_open(struct ringfan_ctx *ctx, void **state)
{
	struct pw *pw;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_RETRY;	/* it may be there later */
	}
	pw->ctx = ctx;
	if (pw_options(ctx, pw) != RINGFAN_OK ||
	    (pw->tcp = ctx->counter(ctx, "tcp")) == NULL ||
	    (pw->udp = ctx->counter(ctx, "udp")) == NULL ||
	    (pw->last = ctx->gauge(ctx, "last_period_bytes")) == NULL) {
		free(pw);
		return RINGFAN_FAIL;
	}
	*state = pw;
	return RINGFAN_OK;
}

/*
 * Also the tick callback.  Periods are multiples of period_ns in network
 * time, so the result does not depend on when, or how often, tick comes;
 * and a frame costs one comparison here.
 */
static void
pw_roll(void *state, uint64_t now_ns)
{
	struct pw *pw = state;

	if (now_ns < pw->next_ns)
		return;
	/* now beyond the following period: the last whole one saw no frame. */
	*pw->last = now_ns - pw->next_ns < pw->period_ns ? pw->sum : 0;
	pw->next_ns = (now_ns / pw->period_ns + 1) * pw->period_ns;
	pw->sum = 0;
	if (pw->budget != 0 && *pw->last > pw->budget)
		pw->ctx->status(pw->ctx, "port %llu: over budget",
		    (unsigned long long)pw->port);
	else
		pw->ctx->status(pw->ctx, NULL);
}

static int
pw_packet(void *state, const struct ringfan_packet *pkt)
{
	struct pw *pw = state;
	struct ringfan_decoded d;

	pw_roll(pw, pkt->ts_ns);
	/* A later fragment or a broken header has no port to trust. */
	if (ringfan_decode(pkt, &d) != 0 || d.dport != pw->port ||
	    (d.proto != 6 && d.proto != 17) ||
	    (d.flags & (RINGFAN_DEC_LATER_FRAGMENT | RINGFAN_DEC_MALFORMED)))
		return RINGFAN_CONTINUE;
	++*(d.proto == 6 ? pw->tcp : pw->udp);
	pw->sum += pkt->len;
	return RINGFAN_CONTINUE;
}

static void
pw_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "portwatch",
	.version = "1.0",
	.description = "counts TCP and UDP frames to one port",
	.check = pw_check,
	.open = pw_open,
	.packet = pw_packet,
	.tick = pw_roll,
	.close = pw_close,
};

/*
 * ticker: asks in check for a tick every `period_ns` (default: none, so
 * every stats_interval) and counts its ticks; the gauge `last_tick` holds
 * the network time of the latest.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ringfan/plugin.h>

struct ticker {
	uint64_t	*ticks;
	uint64_t	*last_tick;
};

static int
ticker_check(struct ringfan_ctx *ctx)
{
	uint64_t period;

	if (ctx->opt_uint(ctx, "period_ns", 0, &period) != 0)
		return RINGFAN_FAIL;
	if (period != 0)
		ctx->tick_period(ctx, period);
	return RINGFAN_OK;
}

static int
ticker_open(struct ringfan_ctx *ctx, void **state)
{
	struct ticker *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	if ((st->ticks = ctx->counter(ctx, "ticks")) == NULL ||
	    (st->last_tick = ctx->gauge(ctx, "last_tick")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

static int
ticker_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

static void
ticker_tick(void *state, uint64_t now_ns)
{
	struct ticker *st = state;

	++*st->ticks;
	*st->last_tick = now_ns;
}

static void
ticker_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "ticker",
	.version = "1.0",
	.description = "test: counts its ticks",
	.check = ticker_check,
	.open = ticker_open,
	.packet = ticker_packet,
	.tick = ticker_tick,
	.close = ticker_close,
};

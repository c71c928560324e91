/*
 * slow: spends `delay` (default 1ms) on every frame, so that a small ring
 * overflows and the kernel drops frames on purpose.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <ringfan/plugin.h>

static int
slow_open(struct ringfan_ctx *ctx, void **state)
{
	uint64_t *delay;

	if ((delay = malloc(sizeof(*delay))) == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	if (ctx->opt_duration(ctx, "delay", 1000000, delay) != 0) {
		free(delay);
		return -1;
	}
	*state = delay;
	return 0;
}

static int
slow_packet(void *state, const struct ringfan_packet *pkt)
{
	const uint64_t *delay = state;
	struct timespec ts = {
		.tv_sec = (time_t)(*delay / 1000000000u),
		.tv_nsec = (long)(*delay % 1000000000u),
	};

	(void)pkt;
	nanosleep(&ts, NULL);
	return RINGFAN_CONTINUE;
}

static void
slow_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "slow",
	.version = "1.0",
	.description = "test: takes its time over every frame",
	.open = slow_open,
	.packet = slow_packet,
	.close = slow_close,
};

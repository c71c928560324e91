/*
 * checkslot: the mistake of keeping a counter that `check` took, which is
 * valid only until `check` returns, and counting into it from `packet`.
 * The host makes that write fault rather than land in freed memory.
 */
#include <stddef.h>
#include <stdint.h>

#include <ringfan/plugin.h>

static uint64_t *frames;	/* taken in check: wrong on purpose */

static int
checkslot_check(struct ringfan_ctx *ctx)
{
	return (frames = ctx->counter(ctx, "frames")) == NULL ?
	    RINGFAN_FAIL : RINGFAN_OK;
}

static int
checkslot_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	++*frames;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "checkslot",
	.version = "1.0",
	.description = "test: counts into a counter its check took",
	.check = checkslot_check,
	.packet = checkslot_packet,
};

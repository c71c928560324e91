/*
 * origindep: a plugin that needs a library of its own, librfdep.so, which
 * it finds beside itself ($ORIGIN in its RUNPATH), as many third-party
 * plugins do.  Every frame counts in "frames", through the library.
 */
#include <stdint.h>

#include <ringfan/plugin.h>

#include "rfdep.h"

static int
origindep_open(struct ringfan_ctx *ctx, void **state)
{
	uint64_t *frames;

	if ((frames = ctx->counter(ctx, "frames")) == NULL)
		return -1;
	*state = frames;
	return 0;
}

static int
origindep_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)pkt;
	rfdep_count(state);
	return RINGFAN_CONTINUE;
}

static void
origindep_close(void *state)
{
	(void)state;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "origindep",
	.version = "1.0",
	.description = "counts frames through a library found by $ORIGIN",
	.open = origindep_open,
	.packet = origindep_packet,
	.close = origindep_close,
};

/*
 * openfail: a plugin whose open always fails the way a real one fails on a
 * missing file, so that tests can check the host reports the reason with
 * the plugin's name and stops.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

extern const struct ringfan_plugin ringfan_plugin;

static int
openfail_open(struct ringfan_ctx *ctx, void **state)
{
	*state = NULL;
	ctx->error(ctx, "cannot open /nonexistent: No such file or directory");
	return -1;
}

static int
openfail_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "openfail",
	.version = "1.0",
	.description = "test: open fails with an error",
	.open = openfail_open,
	.packet = openfail_packet,
};

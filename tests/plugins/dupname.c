/*
 * dupname: a valid plugin that calls itself "counter", as the bundled
 * counter plugin does.  Loading both must fail with a name clash.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

extern const struct ringfan_plugin ringfan_plugin;

static int
dupname_open(struct ringfan_ctx *ctx, void **state)
{
	(void)ctx;
	*state = NULL;
	return 0;
}

static int
dupname_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "counter",
	.version = "1.0",
	.description = "test: takes the name of the bundled counter plugin",
	.open = dupname_open,
	.packet = dupname_packet,
};

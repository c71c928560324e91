/*
 * badabi: a plugin built for ABI major 1, which this host is not.  The
 * loader must refuse it, naming the file and both versions, before it calls
 * anything in it.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

extern const struct ringfan_plugin ringfan_plugin;

static int
badabi_open(struct ringfan_ctx *ctx, void **state)
{
	(void)ctx;
	*state = NULL;
	return 0;
}

static int
badabi_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
#ifdef BADABI_MAJOR_ONLY
	.abi = RINGFAN_PLUGIN_ABI_MAJOR,	/* the major alone: ABI 0.2 */
#else
	.abi = (1U << 16) | 0,
#endif
	.size = sizeof(struct ringfan_plugin),
	.name = "badabi",
	.version = "1.0",
	.description = "test: declares an ABI major this host does not have",
	.open = badabi_open,
	.packet = badabi_packet,
};

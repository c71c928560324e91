/*
 * badstruct: a plugin whose exported struct is wrong in one way, chosen
 * when it is built: BADSTRUCT_NAME is its name (an invalid one), or
 * BADSTRUCT_NULL_NAME leaves the name out, or BADSTRUCT_SIZE is the size it
 * declares (with BADSTRUCT_ABI, the ABI).  The loader must refuse each,
 * saying which.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

extern const struct ringfan_plugin ringfan_plugin;

static int
badstruct_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
#ifdef BADSTRUCT_ABI
	.abi = BADSTRUCT_ABI,
#else
	.abi = RINGFAN_PLUGIN_ABI,
#endif
#ifdef BADSTRUCT_SIZE
	.size = BADSTRUCT_SIZE,
#else
	.size = sizeof(struct ringfan_plugin),
#endif
#if defined(BADSTRUCT_NULL_NAME)
	.name = NULL,
#elif defined(BADSTRUCT_NAME)
	.name = BADSTRUCT_NAME,
#else
	.name = "badstruct",
#endif
	.version = "1.0",
	.description = "test: an exported struct the loader refuses",
	.packet = badstruct_packet,
};

/*
 * newminor: a plugin built against a later minor of ABI 2 (2.3), whose
 * struct ringfan_plugin has grown a field that this host lacks, and sets
 * it.  The loader must refuse it: the plugin relies on a feature the host
 * would silently ignore.  newminor0.c builds the same plugin with the new
 * field left zero, which the host may load.
 */
#include <stddef.h>
#include <stdint.h>

#include <ringfan/plugin.h>

#ifndef NEWMINOR_NAME
#define NEWMINOR_NAME		"newminor"
#define NEWMINOR_BATCH_MAX	64
#endif

/* struct ringfan_plugin as ABI 2.3 might have it: one field appended. */
struct newminor_plugin {
	struct ringfan_plugin	 base;
	uint64_t		 batch_max;	/* new in 2.3 */
};

static int
newminor_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct newminor_plugin ringfan_plugin = {
	.base = {
		.abi = (RINGFAN_PLUGIN_ABI_MAJOR << 16) | 3,
		.size = sizeof(struct newminor_plugin),
		.name = NEWMINOR_NAME,
		.version = "2.3",
		.description = "test: built for ABI 2.3",
		.packet = newminor_packet,
	},
	.batch_max = NEWMINOR_BATCH_MAX,
};

/*
 * bothcb: sets both packet and batch, which ABI 2 forbids: the loader must
 * refuse it before it calls anything in it.  Built with BOTHCB_PREFETCH as
 * batchprefetch: batch and prefetch, which go with different callbacks.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

#ifndef BOTHCB_PREFETCH
static int
bothcb_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}
#endif

static void
bothcb_batch(void *state, const struct ringfan_packet *const *pkts, size_t n)
{
	(void)state;
	(void)pkts;
	(void)n;
}

#ifdef BOTHCB_PREFETCH
static void
bothcb_prefetch(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "batchprefetch",
	.version = "1.0",
	.description = "test: has a batch and a prefetch callback",
	.batch = bothcb_batch,
	.prefetch = bothcb_prefetch,
};
#else
RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "bothcb",
	.version = "1.0",
	.description = "test: has both a packet and a batch callback",
	.packet = bothcb_packet,
	.batch = bothcb_batch,
};
#endif

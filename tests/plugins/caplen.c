/*
 * caplen: publishes ctx->snaplen as the counter `snaplen` and the largest
 * caplen it was handed as `max_caplen`, so that a test can check that the
 * host never hands over more than ctx->snaplen says.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ringfan/plugin.h>

struct caplen {
	uint64_t	*max_caplen;
};

static int
caplen_open(struct ringfan_ctx *ctx, void **state)
{
	struct caplen *st;
	uint64_t *snaplen;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	if ((snaplen = ctx->counter(ctx, "snaplen")) == NULL ||
	    (st->max_caplen = ctx->counter(ctx, "max_caplen")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	*snaplen = ctx->snaplen;
	*state = st;
	return RINGFAN_OK;
}

static int
caplen_packet(void *state, const struct ringfan_packet *pkt)
{
	struct caplen *st = state;

	if (pkt->caplen > *st->max_caplen)
		*st->max_caplen = pkt->caplen;
	return RINGFAN_CONTINUE;
}

static void
caplen_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "caplen",
	.version = "1.0",
	.description = "the largest caplen handed over, beside ctx->snaplen",
	.open = caplen_open,
	.packet = caplen_packet,
	.close = caplen_close,
};

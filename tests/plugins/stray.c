/*
 * stray: a plugin with a wild pointer.  On its first frame it stores into
 * its counter `mark` as the other worker of two has it, one worker slot
 * (framework/stats.h) away from its own, as a plugin writing past its
 * memory would: the host must keep that out of the worker's reach.  It
 * counts the frames it sees in `seen`, and in `strayed` that it did so
 * once (a counter: a respawned worker does not do it again).
 */
#include <stdlib.h>

#include <ringfan/plugin.h>

#include "stats.h"

struct stray {
	unsigned	 worker;
	uint64_t	*mark;
	uint64_t	*seen;
	uint64_t	*strayed;
};

static int
stray_open(struct ringfan_ctx *ctx, void **state)
{
	struct stray *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	st->worker = ctx->worker_id;
	if ((st->mark = ctx->counter(ctx, "mark")) == NULL ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL ||
	    (st->strayed = ctx->counter(ctx, "strayed")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

static int
stray_packet(void *state, const struct ringfan_packet *pkt)
{
	struct stray *st = state;
	char *other = (char *)st->mark;

	(void)pkt;
	++*st->seen;
	if (*st->strayed == 0) {
		*st->strayed = 1;
		if (st->worker == 0)
			other += sizeof(struct stats_worker);
		else
			other -= sizeof(struct stats_worker);
		*(volatile uint64_t *)(void *)other = 999;
	}
	return RINGFAN_CONTINUE;
}

static void
stray_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "stray",
	.version = "1.0",
	.description = "stores past its own memory into another worker's",
	.open = stray_open,
	.packet = stray_packet,
	.close = stray_close,
};

/*
 * crash: dies inside `packet`, as a buggy plugin would, to exercise the
 * supervision: on the frames whose wire length is `len` (default 0: none),
 * or on every frame with `always: true`.  Built with CRASH_PREFETCH as
 * crashahead: dies inside `prefetch` instead, and `packet` only counts.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include <ringfan/plugin.h>

struct crash {
	uint64_t	len;
	int		always;
	uint64_t	*seen;
};

static int
crash_open(struct ringfan_ctx *ctx, void **state)
{
	struct crash *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	if (ctx->opt_uint(ctx, "len", 0, &st->len) != 0 ||
	    ctx->opt_bool(ctx, "always", 0, &st->always) != 0 ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL) {
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static void
crash_maybe(const struct crash *st, const struct ringfan_packet *pkt)
{
	if (st->always || (st->len != 0 && pkt->len == st->len))
		raise(SIGSEGV);
}

static int
crash_packet(void *state, const struct ringfan_packet *pkt)
{
	struct crash *st = state;

#ifdef CRASH_PREFETCH
	(void)pkt;
#else
	crash_maybe(st, pkt);
#endif
	++*st->seen;
	return RINGFAN_CONTINUE;
}

#ifdef CRASH_PREFETCH
static void
crash_prefetch(void *state, const struct ringfan_packet *pkt)
{
	crash_maybe(state, pkt);
}
#endif

static void
crash_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
#ifdef CRASH_PREFETCH
	.name = "crashahead",
	.description = "test: dies in prefetch on marked frames",
	.prefetch = crash_prefetch,
#else
	.name = "crash",
	.description = "test: dies on marked frames",
#endif
	.version = "1.0",
	.open = crash_open,
	.packet = crash_packet,
	.close = crash_close,
};

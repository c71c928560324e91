/*
 * spin: never returns from `packet` on a marked frame, as a plugin stuck in
 * an endless loop would, to exercise the master's stall watch: on the
 * frames whose wire length is `len` (default 0: none) it spins on the CPU
 * forever, or with `block: true` waits forever in a system call.  Built
 * with SPIN_PREFETCH as spinahead: never returns from `prefetch` instead;
 * with SPIN_TICK as spintick: a tick every millisecond, which never returns
 * once a marked frame has been seen.  With `close: true` it never returns
 * from a `close` after frames came to its own process (spins on the CPU, or
 * waits with `block: true`): validation's trial open and close pass, and so
 * does the close of a process that took no frame.  Its counter `held` counts
 * the marked frames it is stuck on, bumped as it gets stuck: once it is 1,
 * the worker is in spin's `packet` for good.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct spin {
	uint64_t	len;
	int		block;
	int		close;		/* never return from close */
	uint64_t	frames;		/* this process's own */
	int		armed;		/* spintick: a marked frame seen */
	uint64_t	*seen;
	uint64_t	*held;
};

static int
spin_open(struct ringfan_ctx *ctx, void **state)
{
	struct spin *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	if (ctx->opt_uint(ctx, "len", 0, &st->len) != 0 ||
	    ctx->opt_bool(ctx, "block", 0, &st->block) != 0 ||
	    ctx->opt_bool(ctx, "close", 0, &st->close) != 0 ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL ||
	    (st->held = ctx->counter(ctx, "held")) == NULL) {
		free(st);
		return -1;
	}
#ifdef SPIN_TICK
	ctx->tick_period(ctx, 1000000);
#endif
	*state = st;
	return 0;
}

static void
spin_maybe(const struct spin *st, const struct ringfan_packet *pkt)
{
	volatile uint64_t turns = 0;

	if (st->len != 0 && pkt->len == st->len) {
		__atomic_add_fetch(st->held, 1, __ATOMIC_RELEASE);
		for (;;) {
			if (st->block)
				pause();
			turns++;	/* a loop the compiler must keep */
		}
	}
}

static int
spin_packet(void *state, const struct ringfan_packet *pkt)
{
	struct spin *st = state;

#if defined(SPIN_PREFETCH)
	(void)pkt;
#elif defined(SPIN_TICK)
	if (st->len != 0 && pkt->len == st->len)
		st->armed = 1;
#else
	spin_maybe(st, pkt);
#endif
	++*st->seen;
	st->frames++;
	return RINGFAN_CONTINUE;
}

#ifdef SPIN_PREFETCH
static void
spin_prefetch(void *state, const struct ringfan_packet *pkt)
{
	spin_maybe(state, pkt);
}
#endif

#ifdef SPIN_TICK
static void
spin_tick(void *state, uint64_t now_ns)
{
	struct spin *st = state;
	struct ringfan_packet marked = { .len = (uint32_t)st->len };

	(void)now_ns;
	if (st->armed)
		spin_maybe(st, &marked);
}
#endif

static void
spin_close(void *state)
{
	struct spin *st = state;
	volatile uint64_t turns = 0;

	while (st->close && st->frames > 0) {
		if (st->block)
			pause();
		turns++;	/* a loop the compiler must keep */
	}
	free(st);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
#if defined(SPIN_PREFETCH)
	.name = "spinahead",
	.description = "test: never returns from prefetch on marked frames",
	.prefetch = spin_prefetch,
#elif defined(SPIN_TICK)
	.name = "spintick",
	.description = "test: never returns from tick after a marked frame",
	.tick = spin_tick,
#else
	.name = "spin",
	.description = "test: never returns on marked frames",
#endif
	.version = "1.0",
	.open = spin_open,
	.packet = spin_packet,
	.close = spin_close,
};

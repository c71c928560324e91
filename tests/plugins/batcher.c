/*
 * batcher: a plugin with a batch callback and no packet callback, counting
 * the calls and the frames it was handed; with `crash` N, it dies in the
 * batch that holds a frame of wire length N (test_batch_crash); with `hang`
 * N, it spins forever in that batch instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>

#include <ringfan/plugin.h>

struct batcher {
	uint64_t	*calls;
	uint64_t	*frames;
	uint64_t	*bytes;
	uint64_t	 crash;		/* a frame's len to die on; 0: none */
	uint64_t	 hang;		/* a frame's len to spin on; 0: none */
};

static int
batcher_open(struct ringfan_ctx *ctx, void **state)
{
	struct batcher *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	if (ctx->opt_uint(ctx, "crash", 0, &st->crash) != 0 ||
	    ctx->opt_uint(ctx, "hang", 0, &st->hang) != 0 ||
	    (st->calls = ctx->counter(ctx, "calls")) == NULL ||
	    (st->frames = ctx->counter(ctx, "frames")) == NULL ||
	    (st->bytes = ctx->counter(ctx, "bytes")) == NULL) {
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static void
batcher_batch(void *state, const struct ringfan_packet *const *pkts,
    size_t n)
{
	struct batcher *st = state;
	volatile uint64_t spins = 0;

	++*st->calls;
	*st->frames += n;
	for (size_t i = 0; i < n; i++) {
		if (st->crash != 0 && pkts[i]->len == st->crash)
			raise(SIGSEGV);
		while (st->hang != 0 && pkts[i]->len == st->hang)
			spins++;	/* a loop the compiler must keep */
		*st->bytes += pkts[i]->len;
	}
}

static void
batcher_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "batcher",
	.version = "2.0",
	.description = "test: counts what its batch callback is handed",
	.open = batcher_open,
	.batch = batcher_batch,
	.close = batcher_close,
};

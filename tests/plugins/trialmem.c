/*
 * trialmem: a plugin without check that asks for host memory in open.
 * memory_request is for check only, and a trial open stands in for a check
 * that does not exist: the host must refuse the request in both opens, so
 * that a validation does not pass a pipeline that no worker can open.
 *
 * Built with TRIALMEM_CLOSE_ERROR (trialclose) it asks for nothing, and its
 * close calls error and tick_period: after open has returned nothing
 * fails, in a trial open as in a worker.
 */
#include <stddef.h>

#include <ringfan/plugin.h>

/* A batch stage: a trial open is the same for either kind. */
static void
trialmem_batch(void *state, const struct ringfan_packet *const *pkts,
    size_t n)
{
	(void)state;
	(void)pkts;
	(void)n;
}

#ifdef TRIALMEM_CLOSE_ERROR
static int
trialmem_open(struct ringfan_ctx *ctx, void **state)
{
	*state = ctx;
	return RINGFAN_OK;
}

static void
trialmem_close(void *state)
{
	struct ringfan_ctx *ctx = state;

	ctx->error(ctx, "close: could not flush");
	ctx->tick_period(ctx, 5000000);
}
#else
static int
trialmem_open(struct ringfan_ctx *ctx, void **state)
{
	*state = NULL;
	return ctx->memory_request(ctx, 4096, 1) == 0 ? RINGFAN_OK :
	    RINGFAN_FAIL;
}
#endif

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "trialmem",
	.version = "1.0",
	.description = "test: asks for host memory outside check",
	.open = trialmem_open,
#ifdef TRIALMEM_CLOSE_ERROR
	.close = trialmem_close,
#endif
	.batch = trialmem_batch,
};

/*
 * options: reads one option of each type and publishes what it got as
 * counters, so that tests can check the host's option getters.  With
 * `level: yes` it keeps `count` as a gauge instead, as a later version of
 * the plugin that made that name a level would.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ringfan/plugin.h>

static int
options_open(struct ringfan_ctx *ctx, void **state)
{
	const char *s;
	uint64_t u, size, dur;
	uint64_t *count;
	int b, level;

	*state = NULL;
	if (ctx->opt_uint(ctx, "count", 7, &u) != 0 ||
	    ctx->opt_size(ctx, "size", 4096, &size) != 0 ||
	    ctx->opt_duration(ctx, "timeout", 1000000, &dur) != 0 ||
	    ctx->opt_bool(ctx, "enabled", 0, &b) != 0 ||
	    ctx->opt_string(ctx, "label", "none", &s) != 0 ||
	    ctx->opt_bool(ctx, "level", 0, &level) != 0)
		return -1;
	count = level ? ctx->gauge(ctx, "count") : ctx->counter(ctx, "count");
	if (count == NULL)
		return -1;
	*count = u;
	*ctx->counter(ctx, "size") = size;
	*ctx->counter(ctx, "timeout_ms") = dur / 1000000;
	*ctx->counter(ctx, "enabled") = (uint64_t)b;
	*ctx->counter(ctx, "label_len") = strlen(s);
	return 0;
}

static int
options_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "options",
	.version = "1.0",
	.description = "test: echoes its options as counters",
	.open = options_open,
	.packet = options_packet,
};

/*
 * brokenpipe: a plugin that writes one byte per frame to a pipe whose
 * reading end it closed in open, as a plugin does that feeds a helper or a
 * socket whose peer went away.  A worker ignores SIGPIPE, so each write
 * fails with EPIPE, which the plugin counts (`epipe`); any other outcome
 * counts in `other`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct brokenpipe {
	int		 fd;
	uint64_t	*epipe;
	uint64_t	*other;
};

static int
brokenpipe_open(struct ringfan_ctx *ctx, void **state)
{
	struct brokenpipe *st;
	int fds[2];

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	if ((st->epipe = ctx->counter(ctx, "epipe")) == NULL ||
	    (st->other = ctx->counter(ctx, "other")) == NULL ||
	    pipe2(fds, O_CLOEXEC) == -1) {
		ctx->error(ctx, "cannot set up its pipe");
		free(st);
		return RINGFAN_FAIL;
	}
	close(fds[0]);
	st->fd = fds[1];
	*state = st;
	return RINGFAN_OK;
}

static int
brokenpipe_packet(void *state, const struct ringfan_packet *pkt)
{
	struct brokenpipe *st = state;

	(void)pkt;
	if (write(st->fd, "x", 1) == -1 && errno == EPIPE)
		++*st->epipe;
	else
		++*st->other;
	return RINGFAN_CONTINUE;
}

static void
brokenpipe_close(void *state)
{
	struct brokenpipe *st = state;

	close(st->fd);
	free(st);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "brokenpipe",
	.version = "1.0",
	.description = "test: writes to a pipe that has no reader",
	.open = brokenpipe_open,
	.packet = brokenpipe_packet,
	.close = brokenpipe_close,
};

/*
 * crash: dies inside `packet`, as a buggy plugin would, to exercise the
 * supervision: on the frames whose wire length is `len` (default 0: none),
 * or on every frame with `always: true`, by raising `signal` (default 11,
 * SIGSEGV); with `exit: true` it calls exit(`code`) there instead (default
 * 0; 3 and 4 are the codes a worker itself ends with when its setup fails
 * and when a plugin asks for a retry), _exit(`code`) with `bare: true` as
 * well, with `write: true` it writes into the frame (which the host
 * hands over read-only), or in `close` with `in_close: true` (there too
 * exit(`code`) with `exit: true`, and in a worker only, not in a check's
 * trial, with `worker_close: true`), or in `open` in a worker (not in a
 * check's trial) with `worker_open: true`.  `packet`
 * returns `verdict` (default 0, RINGFAN_CONTINUE).  Built with
 * CRASH_PREFETCH as crashahead: dies inside `prefetch` instead, and
 * `packet` only counts.  With RINGFAN_TEST_CRASH_CTOR=N in the
 * environment, its constructor calls _exit(N) as the plugin is loaded.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct crash {
	uint64_t	len;
	int		always;
	int		exit;
	int		bare;
	uint64_t	code;
	uint64_t	sig;
	int		write;
	int		in_close;
	int		worker_close;
	int		worker_open;
	uint64_t	verdict;
	uint64_t	*seen;
};

__attribute__((constructor)) static void
crash_loaded(void)
{
	const char *code = getenv("RINGFAN_TEST_CRASH_CTOR");

	if (code != NULL)
		_exit(atoi(code));
}

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
	    ctx->opt_bool(ctx, "exit", 0, &st->exit) != 0 ||
	    ctx->opt_bool(ctx, "bare", 0, &st->bare) != 0 ||
	    ctx->opt_uint(ctx, "code", 0, &st->code) != 0 ||
	    ctx->opt_uint(ctx, "signal", SIGSEGV, &st->sig) != 0 ||
	    ctx->opt_bool(ctx, "write", 0, &st->write) != 0 ||
	    ctx->opt_bool(ctx, "in_close", 0, &st->in_close) != 0 ||
	    ctx->opt_bool(ctx, "worker_close", 0, &st->worker_close) != 0 ||
	    ctx->opt_bool(ctx, "worker_open", 0, &st->worker_open) != 0 ||
	    ctx->opt_uint(ctx, "verdict", 0, &st->verdict) != 0 ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL) {
		free(st);
		return -1;
	}
	if (st->worker_close && !(ctx->flags & RINGFAN_CTX_CHECK))
		st->in_close = 1;
	if (st->worker_open && !(ctx->flags & RINGFAN_CTX_CHECK))
		raise(SIGSEGV);
	*state = st;
	return 0;
}

/* With `exit: true`: exit(`code`), or _exit() with `bare: true`. */
static void
crash_exit(const struct crash *st)
{
	if (!st->exit)
		return;
	if (st->bare)
		_exit((int)(st->code & 0xff));
	exit((int)(st->code & 0xff));
}

static void
crash_maybe(const struct crash *st, const struct ringfan_packet *pkt)
{
	if (!st->always && (st->len == 0 || pkt->len != st->len))
		return;
	crash_exit(st);
	if (st->write && pkt->caplen > 0) {
		/* The same byte again: only the write itself can fail. */
		*(volatile uint8_t *)(uintptr_t)pkt->data = pkt->data[0];
		return;
	}
	raise((int)st->sig);
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
	return (int)st->verdict;
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
	struct crash *st = state;

	if (st->in_close) {
		crash_exit(st);
		raise(SIGSEGV);
	}
	free(st);
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

/*
 * foreign: makes a system call of another architecture, for
 * test_sandbox_foreign.  On x86-64, `int $0x80` enters the kernel as i386,
 * which the workers' seccomp filter does not allow: the process must die
 * of it (SIGSYS), all of it, even with a thread of its own running.  The
 * call is made on the frames whose wire length is `len` (default 0: none),
 * or in `check` with `in_check: true`; with `thread: true` (the default)
 * a thread that only sleeps is started first, in `open` or in `check`.
 * `seen` counts the frames that reached `packet`.  Elsewhere than on
 * x86-64 it makes no such call.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct foreign {
	uint64_t	 len;
	uint64_t	*seen;
	pthread_t	 thread;
	int		 has_thread;
};

static void *
foreign_sleep(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/*
 * Start the sleeping thread when `thread` asks for it, into *t: 1 when
 * started, 0 when not asked, -1 on error.  It takes no signal, which are
 * the worker's main thread's.
 */
static int
foreign_thread(struct ringfan_ctx *ctx, pthread_t *t)
{
	sigset_t all, was;
	int on, rc;

	if (ctx->opt_bool(ctx, "thread", 1, &on) != 0)
		return -1;
	if (!on)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	rc = pthread_create(t, NULL, foreign_sleep, NULL);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (rc != 0) {
		ctx->error(ctx, "pthread_create failed");
		return -1;
	}
	return 1;
}

/* getpid(2) under the i386 numbering, through the i386 entry. */
static void
foreign_call(void)
{
#if defined(__x86_64__)
	long r = 20;

	__asm__ volatile ("int $0x80" : "+a"(r) : : "memory");
#endif
}

static int
foreign_check(struct ringfan_ctx *ctx)
{
	uint64_t len;
	int in_check;

	if (ctx->opt_uint(ctx, "len", 0, &len) != 0 ||
	    ctx->opt_bool(ctx, "in_check", 0, &in_check) != 0)
		return RINGFAN_FAIL;
	if (in_check) {
		pthread_t t;

		if (foreign_thread(ctx, &t) == -1)
			return RINGFAN_FAIL;
		foreign_call();
	}
	return RINGFAN_OK;
}

static int
foreign_open(struct ringfan_ctx *ctx, void **state)
{
	struct foreign *st;
	int in_check;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_RETRY;
	}
	if (ctx->opt_uint(ctx, "len", 0, &st->len) != 0 ||
	    ctx->opt_bool(ctx, "in_check", 0, &in_check) != 0 ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL ||
	    (st->has_thread = foreign_thread(ctx, &st->thread)) == -1) {
		free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

static int
foreign_packet(void *state, const struct ringfan_packet *pkt)
{
	struct foreign *st = state;

	if (st->len != 0 && pkt->len == st->len)
		foreign_call();
	++*st->seen;
	return RINGFAN_CONTINUE;
}

static void
foreign_close(void *state)
{
	struct foreign *st = state;

	/* Before the host unloads the code it runs. */
	if (st->has_thread == 1) {
		pthread_cancel(st->thread);
		pthread_join(st->thread, NULL);
	}
	free(st);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "foreign",
	.version = "1.0",
	.description = "test: a system call of another architecture",
	.check = foreign_check,
	.open = foreign_open,
	.packet = foreign_packet,
	.close = foreign_close,
};

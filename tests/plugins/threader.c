/*
 * threader: a plugin with a thread of its own, for test_offline_thread,
 * test_plugin_thread and test_plugin_thread_fault.  Its `open` starts a
 * thread that waits until `packet` has seen `after` frames (default 1) and,
 * with `go` set, until the file that names exists, then acts by `act`: exit
 * (calls exit(`code`)), segv (dies of SIGSEGV), abort (calls abort()), none
 * (nothing).  With `act: fork` no thread starts, and `packet` of the
 * `after`th frame forks a child that calls exit(`code`), waits for it, and
 * sets the gauge `child` to its exit status (256 + the signal if killed).
 * `close` ends and joins the thread.  A trial open (RINGFAN_CTX_CHECK)
 * starts nothing.  Counts its frames in `seen`.
 */
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct threader {
	pthread_t	 thread;
	const char	*act;
	const char	*go;		/* a file to wait for, or "" */
	uint64_t	 after;
	uint64_t	 code;
	uint64_t	*seen;
	uint64_t	*child;
	uint64_t	 frames;	/* atomic: packet writes, the thread reads */
	int		 quit;		/* atomic: close tells the thread */
	int		 started;
};

static void *
threader_run(void *arg)
{
	struct threader *t = arg;
	struct timespec ms = { 0, 1000000 };

	while (!__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE) &&
	    (__atomic_load_n(&t->frames, __ATOMIC_ACQUIRE) < t->after ||
	    (t->go[0] != '\0' && access(t->go, F_OK) != 0)))
		nanosleep(&ms, NULL);
	if (__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE))
		return NULL;
	if (strcmp(t->act, "exit") == 0)
		exit((int)t->code);
	if (strcmp(t->act, "segv") == 0)
		raise(SIGSEGV);
	if (strcmp(t->act, "abort") == 0)
		abort();
	return NULL;
}

static int
threader_open(struct ringfan_ctx *ctx, void **state)
{
	struct threader *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return RINGFAN_FAIL;
	*state = t;
	if (ctx->opt_string(ctx, "act", "none", &t->act) == -1 ||
	    ctx->opt_string(ctx, "go", "", &t->go) == -1 ||
	    ctx->opt_uint(ctx, "after", 1, &t->after) == -1 ||
	    ctx->opt_uint(ctx, "code", 0, &t->code) == -1)
		return RINGFAN_FAIL;
	t->seen = ctx->counter(ctx, "seen");
	t->child = ctx->gauge(ctx, "child");
	/* A fork of one thread: LeakSanitizer's exit in the child works. */
	if ((ctx->flags & RINGFAN_CTX_CHECK) || strcmp(t->act, "fork") == 0)
		return RINGFAN_OK;
	if (pthread_create(&t->thread, NULL, threader_run, t) != 0) {
		ctx->error(ctx, "pthread_create failed");
		return RINGFAN_FAIL;
	}
	t->started = 1;
	return RINGFAN_OK;
}

static void
threader_fork(struct threader *t)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		exit((int)t->code);
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return;
	*t->child = WIFEXITED(status) ? (uint64_t)WEXITSTATUS(status) :
	    256u + (uint64_t)WTERMSIG(status);
}

static int
threader_packet(void *state, const struct ringfan_packet *pkt)
{
	struct threader *t = state;

	(void)pkt;
	(*t->seen)++;
	if (strcmp(t->act, "fork") == 0 && *t->seen == t->after)
		threader_fork(t);
	__atomic_store_n(&t->frames, t->frames + 1, __ATOMIC_RELEASE);
	return RINGFAN_CONTINUE;
}

static void
threader_close(void *state)
{
	struct threader *t = state;

	if (t == NULL)
		return;
	__atomic_store_n(&t->quit, 1, __ATOMIC_RELEASE);
	if (t->started)
		pthread_join(t->thread, NULL);
	free(t);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "threader",
	.version = "1.0",
	.description = "test: a thread of its own that exits or crashes",
	.open = threader_open,
	.packet = threader_packet,
	.close = threader_close,
};

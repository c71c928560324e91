/*
 * forker: a plugin that keeps a helper process, for test_sandbox_fork.  In
 * each worker's `open` it forks a child that outlives the worker and the
 * master, as a helper nobody told to stop would: the child writes its pid
 * to DIR/helper.PID (`dir`, required) and sleeps until DIR/stop exists,
 * DIR is gone or a minute has passed, then removes its file and exits.  A
 * trial open (RINGFAN_CTX_CHECK) forks nothing.  The counter `helpers`
 * counts the children forked.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <ringfan/plugin.h>

#define FORKER_MAX_S	60

static void
forker_helper(const char *dir)
{
	struct timespec tick = { 0, 100000000 };
	char file[4096], stop[4096];
	int fd;

	snprintf(file, sizeof(file), "%s/helper.%ld", dir, (long)getpid());
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1)
		_exit(1);
	close(fd);
	for (int i = 0; i < FORKER_MAX_S * 10; i++) {
		if (access(stop, F_OK) == 0 || access(dir, F_OK) != 0)
			break;
		nanosleep(&tick, NULL);
	}
	unlink(file);
	_exit(0);
}

static int
forker_open(struct ringfan_ctx *ctx, void **state)
{
	const char *dir;
	uint64_t *helpers;
	pid_t pid;

	*state = NULL;
	if (ctx->opt_string(ctx, "dir", NULL, &dir) != 0)
		return RINGFAN_FAIL;
	if (dir == NULL) {
		ctx->error(ctx, "dir: required");
		return RINGFAN_FAIL;
	}
	if (ctx->flags & RINGFAN_CTX_CHECK)
		return RINGFAN_OK;
	if ((helpers = ctx->counter(ctx, "helpers")) == NULL)
		return RINGFAN_FAIL;
	if ((pid = fork()) == -1) {
		ctx->error(ctx, "fork failed");
		return RINGFAN_FAIL;
	}
	if (pid == 0)
		forker_helper(dir);
	++*helpers;
	return RINGFAN_OK;
}

static int
forker_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "forker",
	.version = "1.0",
	.description = "test: forks a helper that outlives the worker",
	.open = forker_open,
	.packet = forker_packet,
};

/*
 * hostile: misbehaves as a buggy or hostile plugin would, once, in the
 * callback `where` (open, packet, tick or close; batch in the build
 * hostilebatch; trial: the validating process's trial open), after `after`
 * frames in packet or batch.  `act` says how: exit (exit(0)), _exit (_exit(3)),
 * stdio (closes 0-2), stdout (writes `lines` lines to stdout), stderr (the
 * same to stderr), stop (raise(SIGSTOP)), tstp (raise(SIGTSTP)), ignterm
 * (SIGTERM ignored and every signal blocked), alarm (alarm(1)), nofile
 * (RLIMIT_NOFILE 3), cpu (RLIMIT_CPU 1 s, then spins), recurse (until the
 * stack overflows), closeall (closes every descriptor), late_counter (asks for
 * a counter outside check and open), late_log (logs from close with the ctx of
 * open).  Counts its frames in `seen`.  A trial open (RINGFAN_CTX_CHECK) acts
 * only with `where: trial`.
 */
#include <sys/resource.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct hostile {
	struct ringfan_ctx	*ctx;
	const char		*act;
	const char		*where;
	uint64_t		 after;
	uint64_t		 lines;
	uint64_t		 frames;
	uint64_t		*seen;
	int			 done;
};

static volatile uint64_t hostile_depth;

static uint64_t
hostile_recurse(uint64_t n)
{
	volatile char pad[4096];

	pad[0] = (char)n;
	hostile_depth = n;
	if (hostile_depth == UINT64_MAX)
		return 0;
	return hostile_recurse(n + 1) + (uint64_t)pad[0];
}

static void
hostile_act(struct hostile *st, const char *where)
{
	struct rlimit rl;
	sigset_t all;
	char line[128];
	int fd;

	if (st->done || strcmp(st->where, where) != 0)
		return;
	st->done = 1;
	if (strcmp(st->act, "exit") == 0)
		exit(0);
	else if (strcmp(st->act, "_exit") == 0)
		_exit(3);
	else if (strcmp(st->act, "stdio") == 0) {
		close(0);
		close(1);
		close(2);
	} else if (strcmp(st->act, "stdout") == 0 ||
	    strcmp(st->act, "stderr") == 0) {
		fd = strcmp(st->act, "stdout") == 0 ? 1 : 2;
		for (uint64_t i = 0; i < st->lines; i++) {
			snprintf(line, sizeof(line), "hostile line %ju\n",
			    (uintmax_t)i);
			if (write(fd, line, strlen(line)) < 0)
				break;
		}
	} else if (strcmp(st->act, "stop") == 0)
		raise(SIGSTOP);
	else if (strcmp(st->act, "tstp") == 0)
		raise(SIGTSTP);
	else if (strcmp(st->act, "ignterm") == 0) {
		signal(SIGTERM, SIG_IGN);
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
	} else if (strcmp(st->act, "alarm") == 0)
		alarm(1);
	else if (strcmp(st->act, "nofile") == 0) {
		rl.rlim_cur = rl.rlim_max = 3;
		setrlimit(RLIMIT_NOFILE, &rl);
	} else if (strcmp(st->act, "cpu") == 0) {
		rl.rlim_cur = rl.rlim_max = 1;
		setrlimit(RLIMIT_CPU, &rl);
		for (;;)
			;
	} else if (strcmp(st->act, "recurse") == 0)
		hostile_recurse(0);
	else if (strcmp(st->act, "closeall") == 0) {
		for (fd = 0; fd < 1024; fd++)
			close(fd);
	} else if (strcmp(st->act, "late_counter") == 0) {
		if (st->ctx->counter(st->ctx, "late") == NULL)
			st->ctx->log(st->ctx, RINGFAN_LOG_WARN,
			    "late counter refused");
	} else if (strcmp(st->act, "late_log") == 0)
		st->ctx->log(st->ctx, RINGFAN_LOG_WARN, "late log line");
}

static int
hostile_open(struct ringfan_ctx *ctx, void **state)
{
	struct hostile *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	st->ctx = ctx;
	if (ctx->opt_string(ctx, "act", "", &st->act) != 0 ||
	    ctx->opt_string(ctx, "where", "packet", &st->where) != 0 ||
	    ctx->opt_uint(ctx, "after", 0, &st->after) != 0 ||
	    ctx->opt_uint(ctx, "lines", 1000, &st->lines) != 0 ||
	    (st->seen = ctx->counter(ctx, "seen")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	if (strcmp(st->where, "tick") == 0)
		ctx->tick_period(ctx, 10000000);
	*state = st;
	if (!(ctx->flags & RINGFAN_CTX_CHECK))
		hostile_act(st, "open");
	else {
		hostile_act(st, "trial");
		st->done = 1;
	}
	return RINGFAN_OK;
}

#ifdef HOSTILE_BATCH
static void
hostile_batch(void *state, const struct ringfan_packet *const *pkts,
    size_t n)
{
	struct hostile *st = state;

	(void)pkts;
	if (st->frames + n > st->after)
		hostile_act(st, "batch");
	st->frames += n;
	*st->seen += n;
}
#else
static int
hostile_packet(void *state, const struct ringfan_packet *pkt)
{
	struct hostile *st = state;

	(void)pkt;
	if (st->frames >= st->after)
		hostile_act(st, "packet");
	st->frames++;
	++*st->seen;
	return RINGFAN_CONTINUE;
}
#endif

static void
hostile_tick(void *state, uint64_t now_ns)
{
	(void)now_ns;
	hostile_act(state, "tick");
}

static void
hostile_close(void *state)
{
	hostile_act(state, "close");
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
#ifdef HOSTILE_BATCH
	.name = "hostilebatch",
	.batch = hostile_batch,
#else
	.name = "hostile",
	.packet = hostile_packet,
#endif
	.version = "1.0",
	.description = "test: misbehaves once, as asked",
	.open = hostile_open,
	.tick = hostile_tick,
	.close = hostile_close,
};

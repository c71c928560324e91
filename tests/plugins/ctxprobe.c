/*
 * ctxprobe: shows a test what the host hands a plugin, and does on request
 * what a real plugin may do, so that every service of struct ringfan_ctx
 * can be checked with exact values.
 *
 * open publishes the ctx fields as counters (abi, ctx_size, linktype,
 * snaplen, worker_id, worker_count, open_flags) with the flags that the
 * latest check saw (check_flags: a process loads the object once, so a
 * static carries them from check to open).  Per frame it counts `frames`
 * (and `outgoing`, those of pkttype PACKET_OUTGOING, and `reserved`, those
 * whose `reserved` is not 0),
 * sets the gauge `last_len`, reports "disk full: ..." through ctx->status on
 * a frame of wire length 1 and clears it on one of length 2, reports one
 * that is not UTF-8 on frames of length `bad_len`, and stops the frames of
 * length `stop_len`.  check logs option `say` as a warning.  Options `check` and `open` say how those
 * answer: ok, retry, fail, silent (fail without a message), ok_with_error,
 * crash (SIGSEGV) or hang (waits in pause() forever); `open_delay` makes
 * open sleep that long first, `check_delay` check; with `open_worker: N` only worker N's open
 * does either.  `clash: counter` asks for a counter
 * under the gauge's name, `clash: gauge` for a gauge under a counter's.
 * check renames the file `rename_from` to `rename_to` when both are set
 * (a file swapped between a check and the master's hold of it).
 * `log_each: LEVEL` (error, warn, info or debug) logs a line per frame,
 * `frame N len L`, or with `log_nasty` one that has a newline, a tab, an
 * escape, a C1 control and a byte that is not UTF-8, then 10 KB of `é`.
 */
#include <linux/if_packet.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ringfan/plugin.h>

#define CTXPROBE_FULL_LEN	1	/* report a problem */
#define CTXPROBE_CLEAR_LEN	2	/* the problem is over */

struct ctxprobe {
	struct ringfan_ctx	*ctx;	/* valid until close returns */
	uint64_t		 stop_len;
	uint64_t		 bad_len;
	uint64_t		*frames;
	uint64_t		*outgoing;
	uint64_t		*reserved;	/* frames whose reserved is not 0 */
	uint64_t		*ticks;
	uint64_t		*closes;
	uint64_t		*last_len;	/* a gauge */
	int			 log_each;	/* -1: no line per frame */
	int			 log_nasty;
};

static uint32_t ctxprobe_check_flags;

/* Sleep `key`'s duration, whatever signal comes meanwhile. */
static int
ctxprobe_delay(struct ringfan_ctx *ctx, const char *key)
{
	struct timespec ts;
	uint64_t d;

	if (ctx->opt_duration(ctx, key, 0, &d) != 0)
		return -1;
	ts.tv_sec = (time_t)(d / 1000000000u);
	ts.tv_nsec = (long)(d % 1000000000u);
	while (d > 0 && nanosleep(&ts, &ts) != 0)
		;
	return 0;
}

/* The answer that option `key` asks for, with its message recorded. */
static int
ctxprobe_answer(struct ringfan_ctx *ctx, const char *key)
{
	const char *how;

	if (ctx->opt_string(ctx, key, "ok", &how) != 0)
		return RINGFAN_FAIL;
	if (strcmp(how, "ok") == 0)
		return RINGFAN_OK;
	if (strcmp(how, "silent") == 0)
		return RINGFAN_FAIL;
	if (strcmp(how, "crash") == 0)
		raise(SIGSEGV);
	while (strcmp(how, "hang") == 0)
		pause();
	ctx->error(ctx, "%s says %s", key, how);
	if (strcmp(how, "retry") == 0)
		return RINGFAN_RETRY;
	return strcmp(how, "ok_with_error") == 0 ? RINGFAN_OK : RINGFAN_FAIL;
}

/* `log_each` and `log_nasty`. */
static int
ctxprobe_log_options(struct ringfan_ctx *ctx, struct ctxprobe *st)
{
	static const char *const levels[] = {
		[RINGFAN_LOG_ERROR] = "error", [RINGFAN_LOG_WARN] = "warn",
		[RINGFAN_LOG_INFO] = "info", [RINGFAN_LOG_DEBUG] = "debug",
	};
	const char *s;

	if (ctx->opt_string(ctx, "log_each", "", &s) != 0 ||
	    ctx->opt_bool(ctx, "log_nasty", 0, &st->log_nasty) != 0)
		return -1;
	st->log_each = -1;
	for (int i = 0; i < (int)(sizeof(levels) / sizeof(levels[0])); i++)
		if (levels[i] != NULL && strcmp(s, levels[i]) == 0)
			st->log_each = i;
	if (*s != '\0' && st->log_each == -1) {
		ctx->error(ctx, "log_each: \"%s\" is no level", s);
		return -1;
	}
	return 0;
}

static int
ctxprobe_check(struct ringfan_ctx *ctx)
{
	const char *s, *to;
	uint64_t u;

	ctxprobe_check_flags = ctx->flags;
	if (ctxprobe_delay(ctx, "check_delay") != 0)
		return RINGFAN_FAIL;
	/* `say`: a line for the log, from check. */
	if (ctx->opt_string(ctx, "say", "", &s) != 0)
		return RINGFAN_FAIL;
	if (*s != '\0')
		ctx->log(ctx, RINGFAN_LOG_WARN, "%s", s);
	if (ctx->opt_string(ctx, "rename_from", "", &s) != 0 ||
	    ctx->opt_string(ctx, "rename_to", "", &to) != 0)
		return RINGFAN_FAIL;
	if (*s != '\0' && *to != '\0' && rename(s, to) == -1) {
		ctx->error(ctx, "rename %s: failed", s);
		return RINGFAN_FAIL;
	}
	/* Every option, those that only open uses too. */
	if (ctx->opt_string(ctx, "open", "ok", &s) != 0 ||
	    ctx->opt_string(ctx, "clash", "", &s) != 0 ||
	    ctx->opt_uint(ctx, "stop_len", 0, &u) != 0 ||
	    ctx->opt_uint(ctx, "bad_len", 0, &u) != 0 ||
	    ctx->opt_uint(ctx, "open_worker", UINT64_MAX, &u) != 0 ||
	    ctx->opt_duration(ctx, "open_delay", 0, &u) != 0 ||
	    ctxprobe_log_options(ctx, &(struct ctxprobe){ 0 }) != 0)
		return RINGFAN_FAIL;
	return ctxprobe_answer(ctx, "check");
}

/* The ctx as open sees it, as counters. */
static int
ctxprobe_publish(struct ringfan_ctx *ctx)
{
	const struct {
		const char	*name;
		uint64_t	 value;
	} seen[] = {
		{ "abi", ctx->abi },
		{ "ctx_size", ctx->size },
		{ "linktype", (uint64_t)ctx->linktype },
		{ "snaplen", ctx->snaplen },
		{ "worker_id", ctx->worker_id },
		{ "worker_count", ctx->worker_count },
		{ "open_flags", ctx->flags },
		{ "check_flags", ctxprobe_check_flags },
	};
	uint64_t *slot;

	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		if ((slot = ctx->counter(ctx, seen[i].name)) == NULL)
			return -1;
		*slot = seen[i].value;
	}
	return 0;
}

/* What `clash` asks for: a slot of the other kind under a taken name. */
static int
ctxprobe_clash(struct ringfan_ctx *ctx)
{
	const char *clash;

	if (ctx->opt_string(ctx, "clash", "", &clash) != 0)
		return -1;
	if (strcmp(clash, "counter") == 0)
		return ctx->counter(ctx, "last_len") == NULL ? -1 : 0;
	if (strcmp(clash, "gauge") == 0)
		return ctx->gauge(ctx, "frames") == NULL ? -1 : 0;
	return 0;
}

static int
ctxprobe_open(struct ringfan_ctx *ctx, void **state)
{
	struct ctxprobe *st;
	uint64_t only, delay;
	int rc;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	st->ctx = ctx;
	if (ctx->opt_uint(ctx, "stop_len", 0, &st->stop_len) != 0 ||
	    ctx->opt_uint(ctx, "bad_len", 0, &st->bad_len) != 0 ||
	    ctxprobe_publish(ctx) != 0 ||
	    (st->frames = ctx->counter(ctx, "frames")) == NULL ||
	    (st->outgoing = ctx->counter(ctx, "outgoing")) == NULL ||
	    (st->reserved = ctx->counter(ctx, "reserved")) == NULL ||
	    (st->ticks = ctx->counter(ctx, "ticks")) == NULL ||
	    (st->closes = ctx->counter(ctx, "closes")) == NULL ||
	    (st->last_len = ctx->gauge(ctx, "last_len")) == NULL ||
	    ctxprobe_log_options(ctx, st) != 0 ||
	    ctxprobe_clash(ctx) != 0) {
		free(st);
		return RINGFAN_FAIL;
	}
	/* open_worker: only that worker answers as `open` says. */
	if (ctx->opt_uint(ctx, "open_worker", UINT64_MAX, &only) != 0) {
		free(st);
		return RINGFAN_FAIL;
	}
	if (ctx->opt_duration(ctx, "open_delay", 0, &delay) != 0) {
		free(st);
		return RINGFAN_FAIL;
	}
	if (delay > 0 && (only == UINT64_MAX || only == ctx->worker_id)) {
		struct timespec ts = { (time_t)(delay / 1000000000u),
		    (long)(delay % 1000000000u) };

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	/* ok_with_error keeps its state: the host must close it. */
	if ((only == UINT64_MAX || only == ctx->worker_id) &&
	    (rc = ctxprobe_answer(ctx, "open")) != RINGFAN_OK) {
		free(st);
		return rc;
	}
	*state = st;
	return RINGFAN_OK;
}

/* Not UTF-8: a stray byte, and 100 two-byte characters, to be cut. */
static void
ctxprobe_bad_status(struct ringfan_ctx *ctx)
{
	char text[256] = "bad \xff byte, ";
	size_t n = strlen(text);

	for (int i = 0; i < 100; i++, n += 2)
		memcpy(text + n, "\xc3\xa9", 3);
	ctx->status(ctx, "%s", text);
}

static void
ctxprobe_log(struct ctxprobe *st, const struct ringfan_packet *pkt)
{
	static char nasty[10 * 1024 + 64];
	size_t n;

	if (!st->log_nasty) {
		st->ctx->log(st->ctx, st->log_each, "frame %llu len %u",
		    (unsigned long long)*st->frames, (unsigned)pkt->len);
		return;
	}
	n = (size_t)snprintf(nasty, sizeof(nasty),
	    "nl\ntab\tesc\x1b[31mc1\xc2\x9b bad\xff ok\xc3\xa9 ");
	for (int i = 0; i < 5 * 1024; i++, n += 2)
		memcpy(nasty + n, "\xc3\xa9", 3);
	st->ctx->log(st->ctx, st->log_each, "%s", nasty);
}

static int
ctxprobe_packet(void *state, const struct ringfan_packet *pkt)
{
	struct ctxprobe *st = state;

	++*st->frames;
	if (st->log_each >= 0)
		ctxprobe_log(st, pkt);
	*st->outgoing += pkt->pkttype == PACKET_OUTGOING;
	*st->reserved += pkt->reserved != 0;
	*st->last_len = pkt->len;
	if (pkt->len == CTXPROBE_FULL_LEN)
		st->ctx->status(st->ctx, "disk full: %s",
		    "/var/spool/ctxprobe");
	else if (pkt->len == CTXPROBE_CLEAR_LEN)
		st->ctx->status(st->ctx, NULL);
	else if (pkt->len == st->bad_len)
		ctxprobe_bad_status(st->ctx);
	return pkt->len == st->stop_len ? RINGFAN_STOP : RINGFAN_CONTINUE;
}

static void
ctxprobe_tick(void *state, uint64_t now_ns)
{
	struct ctxprobe *st = state;

	(void)now_ns;
	++*st->ticks;
}

static void
ctxprobe_close(void *state)
{
	struct ctxprobe *st = state;

	++*st->closes;
	free(st);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "ctxprobe",
	.version = "1.0",
	.description = "test: publishes what the host hands it",
	.check = ctxprobe_check,
	.open = ctxprobe_open,
	.packet = ctxprobe_packet,
	.tick = ctxprobe_tick,
	.close = ctxprobe_close,
};

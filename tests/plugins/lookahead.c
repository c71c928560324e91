/*
 * lookahead: a plugin with a prefetch callback that checks what the host
 * promises about it (plugin.h) and counts:
 *
 *	prefetched	prefetch calls
 *	packets		packet calls
 *	announced	packet calls whose frame had its prefetch call, with
 *			fewer than RINGFAN_PREFETCH_AHEAD others between
 *	late		packet calls whose frame had its prefetch call with
 *			RINGFAN_PREFETCH_AHEAD or more others between
 *	disorder	prefetch calls for a frame already prefetched or
 *			handed to packet; packet calls for a frame prefetched
 *			before one an earlier packet call had
 *	stopped		frames this step stopped (option stop_every: N stops
 *			every Nth frame it gets, counting from the first)
 *
 * A frame is known by its data pointer, time and lengths.  The last
 * LA_KEEP prefetch calls are kept, more than the host may be ahead, so
 * that a late one is seen as late rather than as missing.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ringfan/plugin.h>

#define LA_KEEP	(4 * RINGFAN_PREFETCH_AHEAD)

/*
 * lookahead20 is this plugin declaring the oldest minor it needs, 2.0:
 * prefetch is a hint, which a 2.0 or 2.1 host ignores and a 2.2 host calls.
 */
#ifndef LA_NAME
#define LA_NAME	"lookahead"
#define LA_ABI	RINGFAN_PLUGIN_ABI
#endif

enum { C_PREFETCHED, C_PACKETS, C_ANNOUNCED, C_LATE, C_DISORDER, C_STOPPED,
    C_MAX };

static const char *const la_names[C_MAX] = {
	"prefetched", "packets", "announced", "late", "disorder", "stopped"
};

struct la_frame {
	const uint8_t	*data;
	uint64_t	 ts_ns;
	uint32_t	 caplen;
	uint32_t	 len;
	int		 handed;	/* packet had it */
};

struct la {
	uint64_t	*c[C_MAX];
	uint64_t	 stop_every;
	uint64_t	 got;		/* packet calls, for stop_every */
	struct la_frame	 kept[LA_KEEP];	/* prefetch call i at i % LA_KEEP */
	uint64_t	 calls;		/* prefetch calls */
	uint64_t	 last;		/* call number + 1 of the last handed */
};

static int
la_same(const struct la_frame *f, const struct ringfan_packet *pkt)
{
	return f->data == pkt->data && f->ts_ns == pkt->ts_ns &&
	    f->caplen == pkt->caplen && f->len == pkt->len;
}

/* The call number + 1 of pkt's prefetch among those kept, or 0. */
static uint64_t
la_find(struct la *st, const struct ringfan_packet *pkt)
{
	uint64_t n = st->calls < LA_KEEP ? st->calls : LA_KEEP;

	/* The newest first: a frame that lay there before is older. */
	for (uint64_t k = 1; k <= n; k++)
		if (la_same(&st->kept[(st->calls - k) % LA_KEEP], pkt))
			return st->calls - k + 1;
	return 0;
}

static int
la_open(struct ringfan_ctx *ctx, void **state)
{
	struct la *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	for (int i = 0; i < C_MAX; i++)
		if ((st->c[i] = ctx->counter(ctx, la_names[i])) == NULL) {
			free(st);
			return RINGFAN_FAIL;
		}
	if (ctx->opt_uint(ctx, "stop_every", 0, &st->stop_every) != 0) {
		free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

static void
la_prefetch(void *state, const struct ringfan_packet *pkt)
{
	struct la *st = state;
	uint64_t at = la_find(st, pkt);
	struct la_frame *f;

	++*st->c[C_PREFETCHED];
	/* Once per frame; a frame at the same place has another time. */
	if (at != 0)
		++*st->c[C_DISORDER];
	f = &st->kept[st->calls++ % LA_KEEP];
	f->data = pkt->data;
	f->ts_ns = pkt->ts_ns;
	f->caplen = pkt->caplen;
	f->len = pkt->len;
	f->handed = 0;
}

static int
la_packet(void *state, const struct ringfan_packet *pkt)
{
	struct la *st = state;
	uint64_t at = la_find(st, pkt);

	++*st->c[C_PACKETS];
	if (at != 0) {
		if (st->kept[(at - 1) % LA_KEEP].handed || at <= st->last)
			++*st->c[C_DISORDER];
		else if (st->calls - at < RINGFAN_PREFETCH_AHEAD)
			++*st->c[C_ANNOUNCED];
		else
			++*st->c[C_LATE];
		st->kept[(at - 1) % LA_KEEP].handed = 1;
		st->last = at;
	}
	if (st->stop_every != 0 && ++st->got % st->stop_every == 0) {
		++*st->c[C_STOPPED];
		return RINGFAN_STOP;
	}
	return RINGFAN_CONTINUE;
}

static void
la_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = LA_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = LA_NAME,
	.version = "2.2",
	.description = "test: checks the host's prefetch calls",
	.open = la_open,
	.packet = la_packet,
	.close = la_close,
	.prefetch = la_prefetch,
};

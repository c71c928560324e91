/*
 * hostmem: keeps a frame count in host memory.  check asks for `size` bytes
 * (default 64) of layout `layout` (default 7); with `in_open: yes` it asks
 * in open instead, which the host must refuse.  open publishes what it was
 * handed as counters: state, layout, size, at_open (the count it found) and
 * dirty (how many 64-bit words of the region were not zero).  Every frame
 * adds one to the count, which is the region's first word, copies it to
 * the last word (so that a region of more than one word has two in use),
 * and sets the gauge `count` to it; the counter `frames` counts too.  With
 * `on_recover: PATH`, an open that recovers a region with a count in it
 * does what the file says, read then: `crash` dies (SIGSEGV), as a plugin
 * whose recovery is broken would; `sleep N` takes N seconds, as a large
 * table would; `fail` fails the open, as one that refuses what it found
 * would; anything else, or no file, nothing.  With `overrun: true`
 * every frame also stores the count just past the page that holds the
 * region's last byte, as a plugin that indexes past its table would.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include <ringfan/plugin.h>

struct hostmem {
	uint64_t	*mem;		/* the count, in host memory */
	size_t		 nwords;
	uint64_t	*count;		/* a gauge */
	uint64_t	*frames;
	uint64_t	*past;		/* overrun: NULL, or where it stores */
};

static int
hostmem_request(struct ringfan_ctx *ctx)
{
	uint64_t size, layout;

	if (ctx->opt_size(ctx, "size", 64, &size) != 0 ||
	    ctx->opt_uint(ctx, "layout", 7, &layout) != 0 ||
	    ctx->memory_request(ctx, size, (uint32_t)layout) != 0)
		return RINGFAN_FAIL;
	return RINGFAN_OK;
}

static int
hostmem_check(struct ringfan_ctx *ctx)
{
	const char *on_recover;
	int in_open, overrun;

	if (ctx->opt_bool(ctx, "in_open", 0, &in_open) != 0 ||
	    ctx->opt_string(ctx, "on_recover", "", &on_recover) != 0 ||
	    ctx->opt_bool(ctx, "overrun", 0, &overrun) != 0)
		return RINGFAN_FAIL;
	return in_open ? RINGFAN_OK : hostmem_request(ctx);
}

/* What the file at path says to do at a recovery (see above): -1 to fail. */
static int
hostmem_on_recover(const char *path)
{
	char word[16] = "";
	unsigned n = 0;
	FILE *f;

	if (*path == '\0' || (f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%15s %u", word, &n) < 1)
		word[0] = '\0';
	fclose(f);
	if (strcmp(word, "crash") == 0)
		raise(SIGSEGV);
	if (strcmp(word, "sleep") == 0) {
		struct timespec ts = { (time_t)n, 0 };

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return strcmp(word, "fail") == 0 ? -1 : 0;
}

static int
hostmem_open(struct ringfan_ctx *ctx, void **state)
{
	static const char *const names[] = { "state", "layout", "size",
	    "at_open", "dirty" };
	const uint64_t *mem;
	struct hostmem *st;
	uint64_t seen[5], *slot;
	size_t nwords;
	const char *on_recover;
	int in_open, overrun;
	uintptr_t end, page = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (ctx->opt_bool(ctx, "in_open", 0, &in_open) != 0 ||
	    ctx->opt_string(ctx, "on_recover", "", &on_recover) != 0 ||
	    ctx->opt_bool(ctx, "overrun", 0, &overrun) != 0 ||
	    (in_open && hostmem_request(ctx) != RINGFAN_OK))
		return RINGFAN_FAIL;
	if (ctx->memory == NULL || ctx->memory_size < sizeof(uint64_t)) {
		ctx->error(ctx, "no host memory");
		return RINGFAN_FAIL;
	}
	mem = ctx->memory;
	nwords = ctx->memory_size / sizeof(uint64_t);
	if (ctx->memory_state == RINGFAN_MEMORY_RECOVERED && mem[0] != 0 &&
	    hostmem_on_recover(on_recover) != 0) {
		ctx->error(ctx, "the count recovered is refused");
		return RINGFAN_FAIL;
	}
	seen[0] = (uint64_t)ctx->memory_state;
	seen[1] = ctx->memory_layout;
	seen[2] = ctx->memory_size;
	seen[3] = mem[0];
	seen[4] = 0;
	for (size_t i = 0; i < nwords; i++)
		seen[4] += mem[i] != 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((slot = ctx->counter(ctx, names[i])) == NULL)
			return RINGFAN_FAIL;
		*slot = seen[i];
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	st->mem = ctx->memory;
	st->nwords = nwords;
	if (overrun) {
		end = (uintptr_t)ctx->memory + ctx->memory_size;
		st->past = (uint64_t *)((end + page - 1) / page * page);
	}
	if ((st->count = ctx->gauge(ctx, "count")) == NULL ||
	    (st->frames = ctx->counter(ctx, "frames")) == NULL) {
		free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

static int
hostmem_packet(void *state, const struct ringfan_packet *pkt)
{
	struct hostmem *st = state;

	(void)pkt;
	*st->count = st->mem[st->nwords - 1] = ++st->mem[0];
	if (st->past != NULL)
		*(volatile uint64_t *)st->past = st->mem[0];
	++*st->frames;
	return RINGFAN_CONTINUE;
}

static void
hostmem_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "hostmem",
	.version = "1.0",
	.description = "test: counts frames in host memory",
	.check = hostmem_check,
	.open = hostmem_open,
	.packet = hostmem_packet,
	.close = hostmem_close,
};

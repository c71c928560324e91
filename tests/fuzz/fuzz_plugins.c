/*
 * Plugins' packet paths over arbitrary frames.  Each plugin named on the
 * command line is loaded with dlopen(), as the host loads it, and opened on
 * the stand-in context of plugins/testing once per link type that
 * fuzz_decode knows (check, host memory, open, as a worker does; a plugin
 * may refuse a link type, not all of them).  Every input then goes, as one
 * frame, to each plugin opened for its link type: prefetch() if the plugin
 * has one, then packet(); or batch() with that one frame.  tick() runs every FP_TICK_EVERY inputs and after any
 * input that asks for it; close() at the end.
 *
 *	fuzz_plugins RUNS SEED... --plugin PATH.so... [--opt NAME.KEY=VALUE]...
 *
 * --opt gives option KEY to the plugin whose name is NAME (one that none
 * of the plugins has is ignored, with a warning); "%TMPDIR%" in a
 * value becomes a directory made for the run and removed after it, for
 * plugins that write files.  Options may also be written --plugin=PATH and
 * --opt=NAME.KEY=VALUE, the form libFuzzer leaves alone: under libFuzzer
 * write them so (they stay in the command line its -jobs children get).
 *
 * Inputs are fuzz_decode's (so its seeds serve here too): the first byte's
 * low 4 bits pick the link type, 0x10 a tag the kernel stripped (its TCI in
 * the next two bytes), 0x20 a frame longer on the wire than captured, 0x40
 * a wire length of 0; and here 0x80 a tick after the frame, network time
 * first jumping ahead by as many seconds as the last byte says, so that
 * timeouts fire.  Frames are 1 ms apart otherwise.  Each frame is copied to
 * the heap at its exact size, so that ASan catches a read past caplen.
 *
 * Every plugin sees every frame, as if it came first in its pipeline: in a
 * real pipeline a filter ahead would hide from the later plugins the frames
 * the fuzzer means them to see.  What must hold: packet() answers CONTINUE
 * or STOP, counters never go down, and nothing crashes or leaks.
 *
 * Plugins are loaded rather than linked in: each exports the same symbol,
 * they run as built (flags, visibility) and as the host runs them, and any
 * plugin, third-party ones too, can be fuzzed without a rebuild.  Under
 * libFuzzer (clang -fsanitize=fuzzer,address -DFUZZ_LIBFUZZER) build the
 * plugins with -fsanitize=fuzzer-no-link,address for coverage feedback.
 */
#include <dlfcn.h>
#include <err.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#include "fake_ctx.h"
#include "fuzz_tmp.h"
#include "fuzz_view.h"

/* The driver's main() runs inside ours, once the plugins are open. */
#define FUZZ_OWN_MAIN
#include "fuzz_driver.h"

#define FP_MAX_PLUGINS	16
#define FP_MAX_OPTS	64
#define FP_STEP_NS	1000000ULL	/* between frames */
#define FP_TICK_EVERY	256
#define FP_TMPDIR	"%TMPDIR%"

/* One plugin opened for one link type. */
struct fp_inst {
	struct fake_ctx	 f;
	void		*state;
	void		*mem;
	int		 up;
	uint64_t	 seen[FAKE_SLOTS];	/* counters, last values */
};

struct fp_plugin {
	const char			*path;
	void				*dl;
	const struct ringfan_plugin	*p;
	const char			*opts[FAKE_OPTS + 1];
	size_t				 nopts;
	struct fp_inst			 inst[16];	/* by fp_slot[] */
	unsigned			 nup;
	uint64_t			 frames, stopped, ticks;
};

static struct fp_plugin fp_plugins[FP_MAX_PLUGINS];
static size_t fp_nplugins;
static char *fp_opts[FP_MAX_OPTS];		/* "NAME.KEY=VALUE" */
static int fp_opt_used[FP_MAX_OPTS];
static size_t fp_nopts;
static uint64_t fp_now = 1700000000ULL * 1000000000ULL;
static uint64_t fp_inputs;
/* The instance each decode_linktypes[] entry uses: one per link type. */
static unsigned fp_slot[16];

/* value with %TMPDIR% replaced, the directory made on first use. */
static char *
fp_expand(const char *value)
{
	const char *at = strstr(value, FP_TMPDIR);
	char *out;

	if (at == NULL)
		return strdup(value);
	if (asprintf(&out, "%.*s%s%s", (int)(at - value), value,
	    fuzz_tmp_dir("fuzz_plugins"), at + strlen(FP_TMPDIR)) == -1)
		err(2, "asprintf");
	return out;
}

static void
fp_load(struct fp_plugin *pl)
{
	const struct ringfan_plugin *p;

	if ((pl->dl = dlopen(pl->path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		errx(2, "%s", dlerror());
	if ((p = dlsym(pl->dl, RINGFAN_PLUGIN_SYMBOL)) == NULL)
		errx(2, "%s: no symbol %s", pl->path, RINGFAN_PLUGIN_SYMBOL);
	if (p->abi >> 16 != RINGFAN_PLUGIN_ABI_MAJOR || p->name == NULL ||
	    p->open == NULL || (p->packet == NULL) == (p->batch == NULL))
		errx(2, "%s: not a plugin of ABI %d with open and one of "
		    "packet and batch", pl->path, RINGFAN_PLUGIN_ABI_MAJOR);
	pl->p = p;
	for (size_t i = 0; i < fp_nplugins; i++)
		if (&fp_plugins[i] != pl && fp_plugins[i].p != NULL &&
		    strcmp(fp_plugins[i].p->name, p->name) == 0)
			errx(2, "%s: a second plugin named %s", pl->path,
			    p->name);
	/* Its options, "KEY=VALUE", in the order given. */
	for (size_t i = 0; i < fp_nopts; i++) {
		size_t n = strlen(p->name);

		if (strncmp(fp_opts[i], p->name, n) != 0 ||
		    fp_opts[i][n] != '.')
			continue;
		if (pl->nopts == FAKE_OPTS)
			errx(2, "%s: more than %d options", p->name,
			    FAKE_OPTS);
		pl->opts[pl->nopts++] = fp_expand(fp_opts[i] + n + 1);
		fp_opt_used[i] = 1;
	}
}

/* check, host memory and open, as a worker; 0 if the plugin refused. */
static int
fp_open(struct fp_plugin *pl, struct fp_inst *in, int linktype)
{
	const struct ringfan_plugin *p = pl->p;
	const char *unknown;

	fake_ctx_init(&in->f, pl->opts);
	in->f.pub.capture = "fuzz";
	in->f.pub.linktype = linktype;
	if (p->check != NULL && p->check(&in->f.pub) != RINGFAN_OK)
		goto refused;
	if (in->f.mem_size != 0) {
		if ((in->mem = calloc(1, (size_t)in->f.mem_size)) == NULL)
			err(2, "%s: %llu bytes of host memory", p->name,
			    (unsigned long long)in->f.mem_size);
		fake_ctx_memory(&in->f, in->mem, RINGFAN_MEMORY_FRESH);
	}
	if (p->open(&in->f.pub, &in->state) != RINGFAN_OK)
		goto refused;
	if ((unknown = fake_ctx_unasked(&in->f)) != NULL)
		errx(2, "%s: unknown option \"%s\"", p->name, unknown);
	in->up = 1;
	return 1;
refused:
	fprintf(stderr, "%s: link type %d refused: %s\n", p->name, linktype,
	    in->f.error);
	free(in->mem);
	in->mem = NULL;
	return 0;
}

/* Counters are totals: none may go down.  Gauges may. */
static void
fp_counters(struct fp_plugin *pl, struct fp_inst *in, const char *when)
{
	for (size_t i = 0; i < in->f.nslots; i++) {
		if (in->f.slots[i].gauge)
			continue;
		if (in->f.slots[i].value < in->seen[i]) {
			fprintf(stderr, "%s, link type %d: counter %s went "
			    "from %llu to %llu in %s\n", pl->p->name,
			    in->f.pub.linktype, in->f.slots[i].name,
			    (unsigned long long)in->seen[i],
			    (unsigned long long)in->f.slots[i].value, when);
			abort();
		}
		in->seen[i] = in->f.slots[i].value;
	}
}

static void
fp_tick(void)
{
	for (size_t i = 0; i < fp_nplugins; i++) {
		struct fp_plugin *pl = &fp_plugins[i];

		if (pl->p->tick == NULL)
			continue;
		for (size_t s = 0; s < 16; s++) {
			if (!pl->inst[s].up)
				continue;
			pl->p->tick(pl->inst[s].state, fp_now);
			fp_counters(pl, &pl->inst[s], "tick");
		}
		pl->ticks++;
	}
}

static void
fp_start(void)
{
	if (fp_nplugins == 0)
		errx(2, "no --plugin given");
	for (size_t i = 0; i < 16; i++) {
		fp_slot[i] = (unsigned)i;
		for (size_t j = 0; j < i; j++) {
			if (decode_linktypes[j] == decode_linktypes[i]) {
				fp_slot[i] = (unsigned)j;
				break;
			}
		}
	}
	for (size_t i = 0; i < fp_nplugins; i++)
		fp_load(&fp_plugins[i]);
	/*
	 * The plugin list may come from the build, which may lack one: its
	 * options are not an error.  A wrong key of a plugin that is there
	 * is (fake_ctx_unasked()).
	 */
	for (size_t i = 0; i < fp_nopts; i++)
		if (!fp_opt_used[i])
			warnx("--opt %s: no plugin of that name, ignored",
			    fp_opts[i]);
	for (size_t i = 0; i < fp_nplugins; i++) {
		struct fp_plugin *pl = &fp_plugins[i];

		for (size_t s = 0; s < 16; s++)
			if (fp_slot[s] == s)
				pl->nup += (unsigned)fp_open(pl, &pl->inst[s],
				    decode_linktypes[s]);
		if (pl->nup == 0)
			errx(2, "%s refused every link type", pl->p->name);
	}
}

static void
fp_stop(void)
{
	for (size_t i = 0; i < fp_nplugins; i++) {
		struct fp_plugin *pl = &fp_plugins[i];

		for (size_t s = 0; s < 16; s++) {
			struct fp_inst *in = &pl->inst[s];

			if (!in->up)
				continue;
			if (pl->p->close != NULL)
				pl->p->close(in->state);
			fp_counters(pl, in, "close");
			free(in->mem);
			in->up = 0;
		}
		printf("%s: %u link types, %llu frames, %llu stopped, %llu "
		    "ticks\n", pl->p->name, pl->nup,
		    (unsigned long long)pl->frames,
		    (unsigned long long)pl->stopped,
		    (unsigned long long)pl->ticks);
		for (size_t o = 0; o < pl->nopts; o++)
			free((void *)(uintptr_t)pl->opts[o]);
		dlclose(pl->dl);
	}
	fp_nplugins = 0;
	fuzz_tmp_remove();
	for (size_t i = 0; i < fp_nopts; i++)
		free(fp_opts[i]);
}

/*
 * Takes --plugin and --opt out of argv, keeping the rest in order;
 * returns the new argc.
 */
static int
fp_args(int argc, char **argv)
{
	int out = 1;

	for (int a = 1; a < argc; a++) {
		const char *v = NULL;
		int plugin;

		if ((plugin = strcmp(argv[a], "--plugin") == 0) ||
		    strcmp(argv[a], "--opt") == 0) {
			if (a + 1 == argc)
				errx(2, "%s: a value must follow", argv[a]);
			v = argv[++a];
		} else if ((plugin = strncmp(argv[a], "--plugin=", 9) == 0))
			v = argv[a] + 9;
		else if (strncmp(argv[a], "--opt=", 6) == 0)
			v = argv[a] + 6;
		if (v == NULL) {
			argv[out++] = argv[a];
			continue;
		}
		if (plugin) {
			if (fp_nplugins == FP_MAX_PLUGINS)
				errx(2, "more than %d plugins",
				    FP_MAX_PLUGINS);
			fp_plugins[fp_nplugins++].path = v;
		} else {
			if (fp_nopts == FP_MAX_OPTS)
				errx(2, "more than %d options", FP_MAX_OPTS);
			if (strchr(v, '.') == NULL || strchr(v, '=') == NULL ||
			    strchr(v, '.') > strchr(v, '='))
				errx(2, "--opt %s: not NAME.KEY=VALUE", v);
			if ((fp_opts[fp_nopts++] = strdup(v)) == NULL)
				err(2, "strdup");
		}
	}
	argv[out] = NULL;
	return out;
}

static uint32_t
fp_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringfan_packet pkt;
	const struct ringfan_packet *one = &pkt;
	size_t skip;
	unsigned slot;
	uint8_t *frame;

	if ((skip = fuzz_view(data, size, &pkt)) == 0)
		return 0;
	slot = fp_slot[data[0] & 0x0f];
	if (pkt.caplen < pkt.len)
		pkt.flags |= RINGFAN_PKT_TRUNCATED;
	if ((frame = malloc(pkt.caplen != 0 ? pkt.caplen : 1)) == NULL)
		abort();
	memcpy(frame, data + skip, pkt.caplen);
	pkt.data = frame;
	fp_now += FP_STEP_NS;
	pkt.ts_ns = fp_now;
	pkt.rxhash = fp_hash(frame, pkt.caplen);

	for (size_t i = 0; i < fp_nplugins; i++) {
		struct fp_plugin *pl = &fp_plugins[i];
		struct fp_inst *in = &pl->inst[slot];

		if (!in->up)
			continue;
		if (pl->p->packet != NULL) {
			int rc;

			/* A 2.0 or 2.1 struct ends before prefetch. */
			if (pl->p->size >= offsetof(struct ringfan_plugin,
			    prefetch) + sizeof(pl->p->prefetch) &&
			    pl->p->prefetch != NULL)
				pl->p->prefetch(in->state, &pkt);
			rc = pl->p->packet(in->state, &pkt);

			if (rc != RINGFAN_CONTINUE && rc != RINGFAN_STOP) {
				fprintf(stderr, "%s: packet() returned %d\n",
				    pl->p->name, rc);
				abort();
			}
			pl->stopped += rc == RINGFAN_STOP;
		} else
			pl->p->batch(in->state, &one, 1);
		pl->frames++;
		fp_counters(pl, in, "packet");
	}
	free(frame);

	if (data[0] & 0x80) {
		fp_now += (uint64_t)data[size - 1] * 1000000000ULL;
		fp_tick();
	} else if (++fp_inputs % FP_TICK_EVERY == 0)
		fp_tick();
	return 0;
}

#ifdef FUZZ_LIBFUZZER
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char **copy;

	/*
	 * libFuzzer ignores --plugin=PATH and --opt=..., and with -jobs or
	 * -fork starts its children with the argv left here: taken out of
	 * it, they would reach no child, which would then load no plugin.
	 * They are read from a copy; argv stays as it was given.
	 */
	if ((copy = calloc((size_t)*argc + 1, sizeof(*copy))) == NULL)
		err(2, "calloc");
	memcpy(copy, *argv, (size_t)*argc * sizeof(*copy));
	fp_args(*argc, copy);
	free(copy);
	fp_start();
	atexit(fp_stop);
	return 0;
}
#else
int
main(int argc, char **argv)
{
	int rc;

	argc = fp_args(argc, argv);
	fp_start();
	rc = fuzz_driver_main(argc, argv);
	fp_stop();
	return rc;
}
#endif

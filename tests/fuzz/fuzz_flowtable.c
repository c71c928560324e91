/*
 * flowtable's recovery over host memory a predecessor left, then mangled.
 *
 *	fuzz_flowtable RUNS
 *
 * At the start the target runs flowtable as a worker does, fresh, on the
 * stand-in context of plugins/testing, and copies its region (and its
 * output file) at chosen instants: between frames, and, by the test hooks
 * of FT_TESTING, with a journal or a touch committed but not applied, half
 * applied, a touch record half filled, and pending records before and after
 * their write(2).  Those copies are the bases.  Each input then picks a
 * base, edits its bytes (fuzz_region.h), and opens flowtable on it as
 * RINGFAN_MEMORY_RECOVERED: a few frames, a tick, a tick past every
 * timeout, close.  What must hold: no crash, no hang, nothing ASan or UBSan
 * sees.  A region refused (and the table started afresh) is fine.
 *
 * Input: byte 0 picks the base; byte 1 keeps the region's header (magic,
 * layout, sizes) as the base has it unless its low three bits are 0, and
 * declares another layout when its high five bits are all set; byte 2
 * gives the frames after the recovery (how many, and how far network time
 * jumps first); the rest are fuzz_region.h's edits.  The seeds, one or two
 * per base, are made at the start, in the run's directory.
 *
 * Built with clang -fsanitize=fuzzer,address -DFUZZ_LIBFUZZER it runs
 * under libFuzzer, with the bases made in LLVMFuzzerInitialize.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ctx.h"
#include "flowtable.h"
#include "fuzz_region.h"
#include "fuzz_tmp.h"

#define FUZZ_OWN_MAIN
#include "fuzz_driver.h"

extern const struct ringfan_plugin ringfan_plugin;

#define FF_T0		(1700000000ULL * 1000000000ULL)
#define FF_MS		1000000ULL
#define FF_SEC		1000000000ULL
#define FF_FLOWS	24		/* more than max_flows: evictions */
#define FF_NFRAMES	64
#define FF_NBASE	8
#define FF_FRAME	160

struct ff_frame {
	uint8_t		 b[FF_FRAME];
	uint32_t	 n;
};

struct ff_base {
	const char	*what;
	uint8_t		*mem;
	char		*out;		/* the output file then */
	size_t		 outlen;
};

static const char *ff_dir;
static char ff_path[128];		/* the output file, worker 0 */
static char ff_outopt[160];
static const char *ff_opts[] = {
	"max_flows=16", "idle_timeout=10s", "active_timeout=60s",
	"linger=1s", ff_outopt, NULL
};
static struct ff_frame ff_frames[FF_NFRAMES];
static struct ff_base ff_base[FF_NBASE];
static size_t ff_nbase;
static uint64_t ff_size;
static uint8_t *ff_mem;
static struct fr_area ff_areas[8];
static size_t ff_nareas;
static uint64_t ff_opens, ff_fresh;

/* The hook points copied, and at which passage of each. */
static const struct {
	int		 point;
	int		 nth;
	const char	*what;
} ff_points[] = {
	{ FT_HOOK_COMMITTED, 2, "journal committed" },
	{ FT_HOOK_APPLIED_ONE, 3, "one image applied" },
	{ FT_HOOK_BEFORE_WRITE, 1, "pending, not written" },
	{ FT_HOOK_AFTER_WRITE, 1, "written, still pending" },
	{ FT_HOOK_TOUCH_FILL, 3, "touch half filled" },
	{ FT_HOOK_TOUCH_STORE, 4, "touch half stored" },
};
static int ff_seen[8], ff_taken[8], ff_armed;

static void
ff_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A frame of flow i (IPv4 or IPv6, TCP or UDP, some with a VLAN tag), in
 * direction rev, with TCP flags; frag 1 and 2 make the first and the
 * second fragment of an IPv4 datagram instead.
 */
static void
ff_mkframe(struct ff_frame *fr, unsigned i, int rev, uint8_t flags, int frag)
{
	uint8_t *p = fr->b, *ip, *l4;
	int v6 = i % 3 == 2 && frag == 0, tcp = i % 2 == 0 && frag == 0;
	uint16_t sport = (uint16_t)(1000 + i), dport = 80, t;
	unsigned l4len = tcp ? 20 : 8, pay = 16 + i, hl = v6 ? 40 : 20;

	memset(fr, 0, sizeof(*fr));
	if (rev)
		t = sport, sport = dport, dport = t;
	memset(p, 0x02, 12);
	p += 12;
	if (i % 5 == 4) {
		ff_put16(p, 0x8100);
		ff_put16(p + 2, (uint16_t)(100 + i));
		p += 4;
	}
	ff_put16(p, v6 ? 0x86dd : 0x0800);
	ip = p + 2;
	if (v6) {
		ip[0] = 0x60;
		ff_put16(ip + 4, (uint16_t)(l4len + pay));
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = (uint8_t)(rev ? 2 : 1);
		ip[24] = 0xfd;
		ip[39] = (uint8_t)(rev ? 1 : 2);
		ip[38] = (uint8_t)i;
	} else {
		ip[0] = 0x45;
		ff_put16(ip + 2, (uint16_t)(hl + (frag == 2 ? 8 : l4len + pay)));
		ff_put16(ip + 4, (uint16_t)(0x100 + i));
		if (frag == 1)
			ff_put16(ip + 6, 0x2000);		/* MF */
		else if (frag == 2)
			ff_put16(ip + 6, (uint16_t)((l4len + pay) / 8));
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		ip[12] = 10;
		ip[15] = (uint8_t)(rev ? 2 : 1);
		ip[16] = 10;
		ip[18] = (uint8_t)i;
		ip[19] = (uint8_t)(rev ? 1 : 2);
	}
	l4 = ip + hl;
	if (frag == 2) {
		memset(l4, 0xcd, 8);
		fr->n = (uint32_t)(l4 + 8 - fr->b);
		return;
	}
	ff_put16(l4, sport);
	ff_put16(l4 + 2, dport);
	if (tcp) {
		l4[12] = 0x50;
		l4[13] = flags;
	} else
		ff_put16(l4 + 4, (uint16_t)(8 + pay));
	memset(l4 + l4len, 0xab, pay);
	fr->n = (uint32_t)(l4 + l4len + pay - fr->b);
}

static void
ff_mkframes(void)
{
	for (unsigned k = 0; k < FF_NFRAMES; k++) {
		/* Every flow once, then a few again and again: touches. */
		unsigned i = k < FF_FLOWS ? (k * 7) % FF_FLOWS : k % 10;
		uint8_t flags = k < FF_FLOWS ? 0x02 : 0x10;	/* SYN, ACK */

		if (k > 40 && i % 5 == 0)
			flags = 0x11;				/* FIN */
		if (k > 56 && i % 7 == 3)
			flags = 0x04;				/* RST */
		if (k % 16 == 9)
			ff_mkframe(&ff_frames[k], 21, 0, 0, 1 + (k % 32 > 16));
		else
			ff_mkframe(&ff_frames[k], i, (k / FF_FLOWS) % 2, flags,
			    0);
	}
}

static void
ff_feed(void *st, unsigned k, uint64_t ts)
{
	const struct ff_frame *fr = &ff_frames[k % FF_NFRAMES];
	struct ringfan_packet p;
	uint8_t *copy;

	/* At its exact size, so that ASan sees a read past caplen. */
	if ((copy = malloc(fr->n)) == NULL)
		abort();
	memcpy(copy, fr->b, fr->n);
	memset(&p, 0, sizeof(p));
	p.data = copy;
	p.caplen = p.len = fr->n;
	p.ts_ns = ts;
	p.linktype = 1;
	if (ringfan_plugin.prefetch != NULL && k % 3 == 0)
		ringfan_plugin.prefetch(st, &p);
	if (ringfan_plugin.packet(st, &p) != RINGFAN_CONTINUE)
		abort();
	free(copy);
}

/* The output file's content, for a base; the caller frees. */
static char *
ff_read_out(size_t *len)
{
	FILE *f = fopen(ff_path, "rb");
	char *buf;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		errx(2, "read %s", ff_path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
ff_take(const char *what, const uint8_t *mem)
{
	struct ff_base *b = &ff_base[ff_nbase++];

	if ((b->mem = malloc(ff_size)) == NULL)
		err(2, "malloc");
	memcpy(b->mem, mem, ff_size);
	b->out = ff_read_out(&b->outlen);
	b->what = what;
}

static void
ff_hook(struct ft *ft, int point)
{
	if (!ff_armed)
		return;
	for (size_t i = 0; i < sizeof(ff_points) / sizeof(ff_points[0]); i++)
		if (ff_points[i].point == point && !ff_taken[i] &&
		    ++ff_seen[i] == ff_points[i].nth) {
			ff_taken[i] = 1;
			ff_take(ff_points[i].what, ft->base);
		}
}

static void
ff_ctx(struct fake_ctx *f)
{
	fake_ctx_init(f, ff_opts);
	if (ringfan_plugin.check(&f->pub) != RINGFAN_OK)
		errx(2, "check: %s", f->error);
}

/* The bases: flowtable run fresh, copied at chosen instants. */
static void
ff_bases(void)
{
	struct fake_ctx f;
	void *st;
	uint8_t *mem;

	ff_ctx(&f);
	ff_size = f.mem_size;
	if ((mem = calloc(1, ff_size)) == NULL ||
	    (ff_mem = malloc(ff_size)) == NULL)
		err(2, "calloc");
	fake_ctx_memory(&f, mem, RINGFAN_MEMORY_FRESH);
	if (ringfan_plugin.open(&f.pub, &st) != RINGFAN_OK)
		errx(2, "open: %s", f.error);
	ft_test_hook = ff_hook;
	for (unsigned k = 0; k < FF_NFRAMES; k++) {
		ff_armed = k >= 20;
		ff_feed(st, k, FF_T0 + k * 100 * FF_MS);
		if (k == 40)
			ringfan_plugin.tick(st, FF_T0 + k * 100 * FF_MS);
	}
	ff_take("between frames", mem);
	ringfan_plugin.tick(st, FF_T0 + 8 * FF_SEC);
	ringfan_plugin.tick(st, FF_T0 + 20 * FF_SEC);
	ff_take("after the idle timeout", mem);
	ft_test_hook = NULL;
	ff_armed = 0;
	ringfan_plugin.close(st);
	free(mem);
	for (size_t i = 0; i < sizeof(ff_points) / sizeof(ff_points[0]); i++)
		if (!ff_taken[i])
			errx(2, "the run never reached hook point %s",
			    ff_points[i].what);

	/* Where edits go: the header, the records, slots in use. */
	ff_areas[ff_nareas++] = (struct fr_area){ 0, ff_size };
	ff_areas[ff_nareas++] = (struct fr_area){ 0,
	    offsetof(struct ft_region, j) };
	ff_areas[ff_nareas++] = (struct fr_area){
	    offsetof(struct ft_region, j), sizeof(struct ft_journal) };
	ff_areas[ff_nareas++] = (struct fr_area){
	    offsetof(struct ft_region, t), sizeof(struct ft_touch) };
	ff_areas[ff_nareas++] = (struct fr_area){ FT_SLOTS_OFF,
	    16 * sizeof(struct ft_flow) };
	ff_areas[ff_nareas++] = (struct fr_area){ FT_SLOTS_OFF +
	    16 * sizeof(struct ft_flow), 8 * sizeof(struct ft_flow) };
	ff_areas[ff_nareas++] = (struct fr_area){ FT_SLOTS_OFF +
	    (16 + FT_NPEND) * sizeof(struct ft_flow),
	    FT_NFRAG * sizeof(struct ft_frag) };
}

static void
ff_put_out(const struct ff_base *b)
{
	int fd = open(ff_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);

	if (fd == -1 || (b->outlen > 0 &&
	    write(fd, b->out, b->outlen) != (ssize_t)b->outlen))
		err(2, "%s", ff_path);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ff_base *b;
	struct fake_ctx f;
	uint64_t now;
	unsigned nframes;
	void *st;

	if (size < 3)
		return 0;
	b = &ff_base[data[0] % ff_nbase];
	memcpy(ff_mem, b->mem, ff_size);
	fr_apply(ff_mem, ff_size, ff_areas, ff_nareas, data + 3, size - 3);
	if ((data[1] & 7) != 0)
		memcpy(ff_mem, b->mem, offsetof(struct ft_region,
		    export_from));
	ff_put_out(b);

	ff_ctx(&f);
	fake_ctx_memory(&f, ff_mem, RINGFAN_MEMORY_RECOVERED);
	if ((data[1] & 0xf8) == 0xf8)
		f.pub.memory_layout = FT_LAYOUT + 1;
	if (ringfan_plugin.open(&f.pub, &st) != RINGFAN_OK) {
		fprintf(stderr, "open refused the region: %s\n", f.error);
		abort();
	}
	ff_opens++;
	ff_fresh += fake_ctx_value(&f, "recoveries") == 0;
	now = FF_T0 + 21 * FF_SEC + (uint64_t)(data[2] >> 2) * 4 * FF_SEC;
	nframes = 1 + (data[2] & 3);
	for (unsigned k = 0; k < nframes; k++)
		ff_feed(st, data[2] + k * 5, now + k * FF_MS);
	ringfan_plugin.tick(st, now + nframes * FF_MS);
	ringfan_plugin.tick(st, now + 400 * FF_SEC);
	ringfan_plugin.close(st);
	return 0;
}

static void
ff_stop(void)
{
	for (size_t i = 0; i < ff_nbase; i++) {
		free(ff_base[i].mem);
		free(ff_base[i].out);
	}
	ff_nbase = 0;
	free(ff_mem);
	ff_mem = NULL;
}

static void
ff_start(void)
{
	ff_dir = fuzz_tmp_dir("fuzz_flowtable");
	atexit(ff_stop);
	snprintf(ff_path, sizeof(ff_path), "%s/flows-0.json", ff_dir);
	snprintf(ff_outopt, sizeof(ff_outopt), "output=%s/flows-{worker}.json",
	    ff_dir);
	ff_mkframes();
	ff_bases();
}

#ifdef FUZZ_LIBFUZZER
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ff_start();
	return 0;
}
#else
/*
 * The seeds: each base as it is, and each with a committed journal or
 * touch record made to point at a slot of its own choosing.
 */
static size_t
ff_seed(uint8_t *s, size_t i)
{
	size_t n = 0;

	s[n++] = (uint8_t)(i % ff_nbase);
	s[n++] = i % 8 == 7 ? 0x00 : 0x01;	/* one keeps no header */
	s[n++] = (uint8_t)(i * 37);
	if (i >= ff_nbase) {
		n += fr_put_word(s + n, 2, 0, 1);		/* j.commit */
		n += fr_put_word(s + n, 2, 8, 1);		/* j.n */
		n += fr_put_word(s + n, 2, 16, 14);		/* rec[0].off */
		n += fr_put_word(s + n, 3, 0, 1);		/* t.commit */
		n += fr_put_word(s + n, 4, (unsigned)(i * 128 + 104), 12);
	}
	return n;
}

int
main(int argc, char **argv)
{
	int rc;

	ff_start();
	rc = fr_run(fuzz_driver_main, argc, argv, ff_dir, 2 * ff_nbase,
	    ff_seed);
	printf("%zu bases, %llu opens, %llu of them started afresh\n",
	    ff_nbase, (unsigned long long)ff_opens,
	    (unsigned long long)ff_fresh);
	return rc;
}
#endif

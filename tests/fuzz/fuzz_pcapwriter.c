/*
 * pcapwriter's recovery over host memory a predecessor left, then mangled.
 *
 *	fuzz_pcapwriter RUNS
 *
 * At the start the target runs pcapwriter fresh, on the stand-in context
 * of plugins/testing, and copies its region and the files of its
 * directory at chosen instants: frames in the buffer not yet written,
 * everything written, the buffer moved on past its first MiB (start > 0),
 * and the file closed.  Those copies are the bases.  Each input then picks
 * a base, puts its files back, edits its region (fuzz_region.h), and opens
 * pcapwriter on it as RINGFAN_MEMORY_RECOVERED: a few frames, a tick, a
 * tick past the rotation, close.  What must hold: no crash, no hang,
 * nothing ASan or UBSan sees, no file touched outside the directory, and
 * every file in it one of the worker's by name (pw_name_seq), so that a
 * successor and max_disk count it; the open file numbered as its name.
 * A region refused (and a new file started) is fine.
 *
 * Input: byte 0 picks the base; byte 1 keeps the region's magic and buffer
 * size as the base has them unless its low three bits are 0, and declares
 * another layout when its high five bits are all set; byte 2 gives the
 * frames after the recovery (how many, how long, how far network time
 * jumps first); the rest are fuzz_region.h's edits.  The seeds are made at
 * the start, in the run's directory (beside the plugin's).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ctx.h"
#include "pcapwriter.h"
#include "fuzz_region.h"
#include "fuzz_tmp.h"

#define FUZZ_OWN_MAIN
#include "fuzz_driver.h"

extern const struct ringfan_plugin ringfan_plugin;

#define FP_T0		(1700000000ULL * 1000000000ULL)
#define FP_SEC		1000000000ULL
#define FP_NBASE	4
#define FP_NFILES	8
#define FP_JUMBO	9000

struct fp_file {
	char		 name[PW_NAME + 1];
	uint8_t		*data;
	size_t		 len;
};

struct fp_base {
	const char	*what;
	uint8_t		*mem;
	struct fp_file	 files[FP_NFILES];
	size_t		 nfiles;
};

static const char *fp_top;			/* the run's: seeds, and dir */
static char fp_dir[96];			/* the plugin's directory */
static char fp_diropt[160];
static const char *fp_opts[] = {
	fp_diropt, "rotate_size=2MiB", "rotate_interval=60s",
	"max_disk=16MiB", NULL
};
static struct fp_base fp_base[FP_NBASE];
static size_t fp_nbase;
static uint64_t fp_size;
static uint8_t *fp_mem;
static struct fr_area fp_areas[6];
static size_t fp_nareas;
static uint64_t fp_opens, fp_carried;
static uint8_t fp_frame[FP_JUMBO];

static void
fp_send(void *st, uint32_t id, uint32_t len, uint64_t ts)
{
	struct ringfan_packet p;
	uint8_t *copy;

	for (uint32_t j = 0; j < len; j++)
		fp_frame[j] = (uint8_t)(id * 7 + j * 13);
	if ((copy = malloc(len != 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, fp_frame, len);
	memset(&p, 0, sizeof(p));
	p.data = copy;
	p.caplen = p.len = len;
	p.ts_ns = ts;
	p.linktype = 1;
	if (id % 5 == 3) {
		p.flags = RINGFAN_PKT_VLAN_VALID;
		p.vlan_tci = (uint16_t)id;
	}
	if (ringfan_plugin.packet(st, &p) != RINGFAN_CONTINUE)
		abort();
	free(copy);
}

static void
fp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", fp_dir, name);
}

static void
fp_take(const char *what, const uint8_t *mem)
{
	struct fp_base *b = &fp_base[fp_nbase++];
	struct dirent *e;
	char path[512];
	struct stat st;
	DIR *d;
	FILE *f;

	if ((b->mem = malloc(fp_size)) == NULL)
		err(2, "malloc");
	memcpy(b->mem, mem, fp_size);
	b->what = what;
	if ((d = opendir(fp_dir)) == NULL)
		err(2, "%s", fp_dir);
	while ((e = readdir(d)) != NULL) {
		struct fp_file *fl = &b->files[b->nfiles];

		if (e->d_name[0] == '.')
			continue;
		if (b->nfiles == FP_NFILES)
			errx(2, "more than %d files", FP_NFILES);
		fp_path(path, sizeof(path), e->d_name);
		if (stat(path, &st) == -1 ||
		    (fl->data = malloc((size_t)st.st_size + 1)) == NULL ||
		    (f = fopen(path, "rb")) == NULL ||
		    fread(fl->data, 1, (size_t)st.st_size, f) !=
		    (size_t)st.st_size)
			err(2, "%s", path);
		fclose(f);
		fl->len = (size_t)st.st_size;
		snprintf(fl->name, sizeof(fl->name), "%s", e->d_name);
		b->nfiles++;
	}
	closedir(d);
}

/* The directory as base b had it: its files, and no other. */
static void
fp_put_files(const struct fp_base *b)
{
	struct dirent *e;
	char path[512];
	DIR *d;
	int fd;

	if ((d = opendir(fp_dir)) == NULL)
		err(2, "%s", fp_dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fp_path(path, sizeof(path), e->d_name);
		if (unlink(path) == -1)
			err(2, "unlink %s", path);
	}
	closedir(d);
	for (size_t i = 0; i < b->nfiles; i++) {
		fp_path(path, sizeof(path), b->files[i].name);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600)) == -1 || write(fd, b->files[i].data,
		    b->files[i].len) != (ssize_t)b->files[i].len)
			err(2, "%s", path);
		close(fd);
	}
}

/*
 * Every file of the directory is one the worker knows as its own
 * (pw_name_seq), and the open file's number is that of its name: what
 * pcapwriter makes it must find again after the next crash, and remove in
 * its turn under max_disk.
 */
static void
fp_names(const struct pw *pw)
{
	struct dirent *e;
	uint64_t seq;
	DIR *d;

	if ((d = opendir(fp_dir)) == NULL)
		err(2, "%s", fp_dir);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && !pw_name_seq(pw, e->d_name, &seq)) {
			fprintf(stderr, "a file not of the worker's names: "
			    "%s\n", e->d_name);
			abort();
		}
	closedir(d);
	if (pw->s != NULL && (!pw_name_seq(pw, strrchr(pw->s->path, '/') + 1,
	    &seq) || seq != pw->s->seq)) {
		fprintf(stderr, "the open file %s is numbered %llu\n",
		    pw->s->path, (unsigned long long)pw->s->seq);
		abort();
	}
}

static void
fp_ctx(struct fake_ctx *f)
{
	fake_ctx_init(f, fp_opts);
	if (ringfan_plugin.check(&f->pub) != RINGFAN_OK)
		errx(2, "check: %s", f->error);
}

/* The bases: pcapwriter run fresh, copied at chosen instants. */
static void
fp_bases(void)
{
	struct fake_ctx f;
	uint64_t ts = FP_T0;
	uint32_t id = 0;
	uint8_t *mem;
	void *st;

	fp_ctx(&f);
	fp_size = f.mem_size;
	if ((mem = calloc(1, fp_size)) == NULL ||
	    (fp_mem = malloc(fp_size)) == NULL)
		err(2, "calloc");
	fake_ctx_memory(&f, mem, RINGFAN_MEMORY_FRESH);
	if (ringfan_plugin.open(&f.pub, &st) != RINGFAN_OK)
		errx(2, "open: %s", f.error);
	for (; id < 10; id++)
		fp_send(st, id, 60 + id * 10, ts += 1000);
	ringfan_plugin.tick(st, ts);
	for (; id < 15; id++)
		fp_send(st, id, 60 + id * 10, ts += 1000);
	fp_take("frames buffered", mem);
	ringfan_plugin.tick(st, ts);
	fp_take("all written", mem);
	/* Past the buffer's first MiB: it starts further on in the file. */
	for (; id < 140; id++)
		fp_send(st, id, FP_JUMBO, ts += 1000);
	fp_take("the buffer moved on", mem);
	ringfan_plugin.close(st);
	fp_take("closed", mem);
	free(mem);

	fp_areas[fp_nareas++] = (struct fr_area){ 0,
	    offsetof(struct pw_mem, slot) };
	fp_areas[fp_nareas++] = (struct fr_area){
	    offsetof(struct pw_mem, slot.path), 160 };
	fp_areas[fp_nareas++] = (struct fr_area){
	    offsetof(struct pw_mem, slot.seq), sizeof(struct pw_slot) -
	    offsetof(struct pw_slot, seq) };
	fp_areas[fp_nareas++] = (struct fr_area){
	    offsetof(struct pw_mem, buf), 4096 };
	fp_areas[fp_nareas++] = (struct fr_area){
	    offsetof(struct pw_mem, buf), 65536 };
	fp_areas[fp_nareas++] = (struct fr_area){ 0, 65536 };
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fp_base *b;
	struct fake_ctx f;
	uint64_t now;
	unsigned nframes;
	void *st;

	if (size < 3)
		return 0;
	b = &fp_base[data[0] % fp_nbase];
	memcpy(fp_mem, b->mem, fp_size);
	fr_apply(fp_mem, fp_size, fp_areas, fp_nareas, data + 3, size - 3);
	if ((data[1] & 7) != 0)
		memcpy(fp_mem, b->mem, offsetof(struct pw_mem, seq));
	fp_put_files(b);

	fp_ctx(&f);
	fake_ctx_memory(&f, fp_mem, RINGFAN_MEMORY_RECOVERED);
	if ((data[1] & 0xf8) == 0xf8)
		f.pub.memory_layout = PW_LAYOUT + 1;
	if (ringfan_plugin.open(&f.pub, &st) != RINGFAN_OK) {
		fprintf(stderr, "open refused the region: %s\n", f.error);
		abort();
	}
	fp_opens++;
	fp_names(st);
	fp_carried += strstr(f.log, "carried on") != NULL;
	now = FP_T0 + (uint64_t)(data[2] >> 3) * 10 * FP_SEC;
	nframes = 1 + (data[2] & 3);
	for (unsigned k = 0; k < nframes; k++)
		fp_send(st, 200 + k, (data[2] & 4) ? FP_JUMBO : 70 + k,
		    now + k);
	ringfan_plugin.tick(st, now + nframes);
	ringfan_plugin.tick(st, now + 120 * FP_SEC);
	fp_names(st);
	ringfan_plugin.close(st);
	return 0;
}

static void
fp_stop(void)
{
	for (size_t i = 0; i < fp_nbase; i++) {
		free(fp_base[i].mem);
		for (size_t k = 0; k < fp_base[i].nfiles; k++)
			free(fp_base[i].files[k].data);
	}
	fp_nbase = 0;
	free(fp_mem);
	fp_mem = NULL;
}

static void
fp_start(void)
{
	fp_top = fuzz_tmp_dir("fuzz_pcapwriter");
	atexit(fp_stop);
	snprintf(fp_dir, sizeof(fp_dir), "%s/pcap", fp_top);
	if (mkdir(fp_dir, 0700) == -1)
		err(2, "mkdir %s", fp_dir);
	snprintf(fp_diropt, sizeof(fp_diropt), "directory=%s", fp_dir);
	fp_bases();
}

#ifdef FUZZ_LIBFUZZER
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fp_start();
	return 0;
}
#else
/*
 * The seeds: each base as it is, and each with its numbers moved to the
 * edges (base, end, the sequence number, live).
 */
static size_t
fp_seed(uint8_t *s, size_t i)
{
	size_t n = 0;

	s[n++] = (uint8_t)(i % fp_nbase);
	s[n++] = i % 8 == 7 ? 0x00 : 0x01;	/* one keeps no header */
	s[n++] = (uint8_t)(i * 37);
	if (i >= fp_nbase) {
		n += fr_put_word(s + n, 2, 24, (unsigned)(14 - i % 2)); /* base */
		n += fr_put_word(s + n, 2, 32, (unsigned)(i % 3));	/* end */
		n += fr_put_word(s + n, 0, 16, 12);		/* seq */
		n += fr_put_word(s + n, 0, 24, 2);		/* live */
	}
	return n;
}

int
main(int argc, char **argv)
{
	int rc;

	fp_start();
	rc = fr_run(fuzz_driver_main, argc, argv, fp_top, 3 * fp_nbase,
	    fp_seed);
	printf("%zu bases, %llu opens, %llu of them carried on a file\n",
	    fp_nbase, (unsigned long long)fp_opens,
	    (unsigned long long)fp_carried);
	return rc;
}
#endif

/*
 * pcapwriter's reading of the names in its directory, which anyone who can
 * write there chooses: pw_name_seq on any bytes, and pw_scan over a
 * directory of the names the input makes.  The input's first byte picks
 * one of a few patterns (a pcapwriter opened on the stand-in context of
 * plugins/testing, each on a directory of its own); the rest, cut at '/',
 * are the names, at most NAME_MAX bytes each, up to MAXNAMES of them.
 * The whole input, a NUL ending it, goes to pw_name_seq as one name
 * besides.
 *
 * What pw_scan made of the directory is held to pw_name_seq: every file it
 * lists is one of the worker's, oldest first, with its size counted once;
 * and the sequence number goes on past the highest found.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_ctx.h"
#include "pcapwriter.h"

#include "fuzz_driver.h"
#include "fuzz_tmp.h"

extern const struct ringfan_plugin ringfan_plugin;

#define MAXNAMES	80

static const char *const patterns[] = {
	"{capture}-{worker}-{time}.pcap",	/* the default */
	"{worker}{time}",			/* nothing after the time */
	"w{worker}.{time}.cap",
};
#define NPAT	(sizeof(patterns) / sizeof(patterns[0]))

static struct inst {
	char		 dir[sizeof(fuzz_tmp) + 24];
	int		 dfd;
	char		 opt[4][128];
	const char	*opts[5];
	struct fake_ctx	 f;
	void		*mem;
	struct pw	*pw;
} inst[NPAT];

static void
cleanup(void)
{
	for (size_t i = 0; i < NPAT; i++) {
		if (inst[i].pw == NULL)
			continue;
		ringfan_plugin.close(inst[i].pw);
		free(inst[i].mem);
		close(inst[i].dfd);
	}
}

static void
setup(void)
{
	void *st;

	for (size_t i = 0; i < NPAT; i++) {
		struct inst *in = &inst[i];

		snprintf(in->dir, sizeof(in->dir), "%s/%zu",
		    fuzz_tmp_dir("fuzz_pcapnames"), i);
		if (mkdir(in->dir, 0700) == -1)
			abort();
		snprintf(in->opt[0], sizeof(in->opt[0]), "directory=%.100s",
		    in->dir);
		snprintf(in->opt[1], sizeof(in->opt[1]), "pattern=%s",
		    patterns[i]);
		/* With max_disk, pw_scan lists the files, not only counts. */
		snprintf(in->opt[2], sizeof(in->opt[2]), "max_disk=1073741824");
		snprintf(in->opt[3], sizeof(in->opt[3]), "rotate_size=1048576");
		for (size_t j = 0; j < 4; j++)
			in->opts[j] = in->opt[j];
		fake_ctx_init(&in->f, in->opts);
		if ((in->dfd = open(in->dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			abort();
		if (ringfan_plugin.check(&in->f.pub) != RINGFAN_OK) {
			fprintf(stderr, "check: %s\n", in->f.error);
			abort();
		}
		if ((in->mem = calloc(1, in->f.mem_size)) == NULL)
			abort();
		fake_ctx_memory(&in->f, in->mem, RINGFAN_MEMORY_FRESH);
		if (ringfan_plugin.open(&in->f.pub, &st) != RINGFAN_OK) {
			fprintf(stderr, "open: %s\n", in->f.error);
			abort();
		}
		in->pw = st;
	}
	atexit(cleanup);
}

static void
fail(const char *what, const char *name)
{
	fprintf(stderr, "%s: \"%s\"\n", what, name);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char whole[FUZZ_MAX_INPUT + 1];
	static unsigned long calls;
	char names[MAXNAMES][PW_NAME + 1];
	uint64_t seqs[MAXNAMES], sizes[MAXNAMES], seq, max = 0, bytes = 0;
	uint64_t hash = 0xcbf29ce484222325ull;
	bool ours[MAXNAMES], made[MAXNAMES];
	const uint8_t *p, *end = data + size, *cut;
	struct inst *in;
	struct pw *pw;
	size_t n, k = 0, listed = 0;
	int fd;

	if (inst[0].pw == NULL)
		setup();
	if (size == 0)
		return 0;
	in = &inst[data[0] % NPAT];
	pw = in->pw;

	n = size - 1 < FUZZ_MAX_INPUT ? size - 1 : FUZZ_MAX_INPUT;
	memcpy(whole, data + 1, n);
	whole[n] = '\0';
	(void)pw_name_seq(pw, whole, &seq);

	for (p = data + 1; p < end && k < MAXNAMES; p = cut + 1) {
		if ((cut = memchr(p, '/', (size_t)(end - p))) == NULL)
			cut = end;
		n = (size_t)(cut - p);
		if (n > PW_NAME)
			n = PW_NAME;
		memcpy(names[k], p, n);
		names[k][n] = '\0';
		if (names[k][0] != '\0' && strcmp(names[k], ".") != 0 &&
		    strcmp(names[k], "..") != 0)
			k++;
		if (cut == end)
			break;
	}
	for (size_t i = 0; i < k; i++)
		ours[i] = pw_name_seq(pw, names[i], &seqs[i]);
	/*
	 * Files cost a journal's time on most file systems: one input in
	 * eight (by a hash of its bytes) makes them, and the seeds, which
	 * come first; the others stop here.
	 */
	for (size_t i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 0x100000001b3ull;
	if (hash % 8 != 0 && ++calls > 16)
		return 0;
	for (size_t i = 0; i < k; i++) {
		/* Names cut at a NUL may repeat: the first file stands. */
		fd = openat(in->dfd, names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		made[i] = fd != -1;
		sizes[i] = i * 3;
		if (fd != -1) {
			if (ftruncate(fd, (off_t)sizes[i]) == -1)
				abort();
			close(fd);
		} else if (errno != EEXIST)
			fail(strerror(errno), names[i]);
		if (made[i] && ours[i]) {
			listed++;
			bytes += sizes[i];
			if (seqs[i] > max)
				max = seqs[i];
		}
	}

	pw_scan(pw);
	if (pw->nold != listed || pw->old_bytes != bytes)
		fail("scan: files or bytes differ", names[0]);
	for (size_t i = 0; i < pw->nold; i++) {
		const struct pw_old *o = &pw->old[pw->head + i];

		if (!pw_name_seq(pw, o->name, &seq) || seq != o->seq ||
		    (i > 0 && o->seq < o[-1].seq))
			fail("scan: listed out of order or not ours", o->name);
	}
	if (pw->m->seq < max)
		fail("scan: the sequence number is behind a file's", names[0]);

	for (size_t i = 0; i < k; i++)
		if (made[i]) {
			if (unlinkat(in->dfd, names[i], 0) == -1)
				fail(strerror(errno), names[i]);
		}
	/* The next input starts from an empty directory, the count at 0. */
	pw->m->seq = 0;
	return 0;
}

/*
 * Mutations of a plugin's host memory region, for the targets that open a
 * plugin on a region a predecessor left (fuzz_flowtable, fuzz_pcapwriter).
 *
 * An input is a list of edits, each a head of four bytes and, for some,
 * bytes to store:
 *
 *	byte 0	bits 0-1: what to store: 0 the bytes that follow, 1 zeros,
 *		2 0xff bytes, 3 a 64-bit word from fr_words[] (the index in
 *		bits 2-5), at an offset rounded down to 8;
 *		bits 2-5, plus one: how many bytes (kinds 0 to 2)
 *	byte 1	the area (the target's table of offsets, modulo its length)
 *	byte 2-3 the offset in the area, big-endian, modulo the area's size
 *
 * Areas are places in the region worth aiming at (a header, a record, a
 * slot in use), so that a short input reaches them.  An edit is cut at the
 * end of the region; an input that ends within an edit ends there.
 */
#ifndef RINGFAN_FUZZ_REGION_H
#define RINGFAN_FUZZ_REGION_H

#include <err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct fr_area {
	size_t	 off;
	size_t	 size;
};

/* Values that sit on the edges of counts, offsets and sequence numbers. */
static const uint64_t fr_words[16] = {
	0, 1, 2, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x100000000ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX - 1,
	UINT64_MAX, UINT64_MAX - 63, 24, 1u << 20,
};

/* Applies the edits in[0 .. n) to region[0 .. size); how many there were. */
static size_t
fr_apply(uint8_t *region, size_t size, const struct fr_area *areas,
    size_t nareas, const uint8_t *in, size_t n)
{
	size_t edits = 0;

	while (n >= 4) {
		const struct fr_area *a = &areas[in[1] % nareas];
		size_t off = a->off + (((size_t)in[2] << 8 | in[3]) %
		    (a->size != 0 ? a->size : 1));
		size_t len = 1 + ((in[0] >> 2) & 15);
		int kind = in[0] & 3;
		uint64_t w;

		in += 4;
		n -= 4;
		if (off >= size)
			off %= size;
		switch (kind) {
		case 0:
			if (len > n)
				len = n;
			if (len > size - off)
				len = size - off;
			memcpy(region + off, in, len);
			in += len;
			n -= len;
			break;
		case 1:
		case 2:
			if (len > size - off)
				len = size - off;
			memset(region + off, kind == 1 ? 0 : 0xff, len);
			break;
		default:
			off &= ~(size_t)7;
			if (size - off < 8)
				break;
			w = fr_words[(in[-4] >> 2) & 15];
			memcpy(region + off, &w, sizeof(w));
			break;
		}
		edits++;
	}
	return edits;
}

#ifndef FUZZ_LIBFUZZER
/*
 * Appends an edit that stores word w at offset off of area to out; only
 * the driver's seeds use it (libFuzzer starts from the corpus given).
 */
static size_t
fr_put_word(uint8_t *out, unsigned area, unsigned off, unsigned word)
{
	out[0] = (uint8_t)(3 | (word & 15) << 2);
	out[1] = (uint8_t)area;
	out[2] = (uint8_t)(off >> 8);
	out[3] = (uint8_t)off;
	return 4;
}

/*
 * The driver (fuzz_driver.h's main, renamed) over n seeds made by seed(buf,
 * i), written into dir first as the files it reads, then the seed files
 * argv names after RUNS (inputs the fuzzer found, kept in seeds/): argv is
 * the target's, RUNS [SEED...].  16 seeds are made at most; the driver
 * mutates the first 16 and runs the others once.
 */
#define FR_MAX_FILES	16
static int
fr_run(int (*driver)(int, char **), int argc, char **argv, const char *dir,
    size_t n, size_t (*seed)(uint8_t *, size_t))
{
	char *args[2 + 16 + FR_MAX_FILES + 1], paths[16][128];
	uint8_t buf[64];
	int k = 0;

	if (argc < 2 || argc > 2 + FR_MAX_FILES)
		errx(2, "usage: %s RUNS [SEED...] (%d at most)", argv[0],
		    FR_MAX_FILES);
	args[k++] = argv[0];
	args[k++] = argv[1];
	for (size_t i = 0; i < n && i < 16; i++) {
		size_t len = seed(buf, i);
		FILE *f;

		snprintf(paths[i], sizeof(paths[i]), "%s/seed-%zu", dir, i);
		if ((f = fopen(paths[i], "wb")) == NULL ||
		    fwrite(buf, 1, len, f) != len || fclose(f) != 0)
			err(2, "%s", paths[i]);
		args[k++] = paths[i];
	}
	for (int a = 2; a < argc; a++)
		args[k++] = argv[a];
	args[k] = NULL;
	return driver(k, args);
}
#endif

#endif

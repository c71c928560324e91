/*
 * A driver for the fuzz targets when they are not built with libFuzzer:
 * it runs the target over every seed file given, then over a fixed number
 * of deterministic mutations of them (bit flips, byte changes, cuts and
 * splices), so that the fuzz suite is a repeatable regression test under
 * ASan and UBSan.  Built with clang -fsanitize=fuzzer -DFUZZ_LIBFUZZER, the
 * same target file runs under libFuzzer instead.
 */
#ifndef RINGFAN_FUZZ_DRIVER_H
#define RINGFAN_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A target that defines FUZZ_OWN_MAIN before this header sets itself up
 * first: under libFuzzer in LLVMFuzzerInitialize, and otherwise in a main
 * of its own, which calls the driver's, named fuzz_driver_main.
 */
#ifdef FUZZ_OWN_MAIN
#ifdef FUZZ_LIBFUZZER
int	LLVMFuzzerInitialize(int *argc, char ***argv);
#else
int	fuzz_driver_main(int argc, char **argv);
#define FUZZ_DRIVER_MAIN	fuzz_driver_main
#endif
#else
#define FUZZ_DRIVER_MAIN	main
#endif

/*
 * The longest input the driver reads; a target that copies its input into
 * a buffer of its own sizes it by this, and cuts what libFuzzer hands it
 * longer.
 */
#define FUZZ_MAX_INPUT	65536

#ifndef FUZZ_LIBFUZZER
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fuzz_state = 0x9e3779b97f4a7c15ull;

static uint64_t
fuzz_rand(void)
{
	/* xorshift64*: the same sequence on every run. */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1dull;
}

static size_t
fuzz_read(const char *path, uint8_t *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		err(2, "%s", path);
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

/* One mutation of in[0..n) into out; returns its length. */
static size_t
fuzz_mutate(const uint8_t *in, size_t n, const uint8_t *other, size_t on,
    uint8_t *out)
{
	size_t len = n, i, k, cut;

	memcpy(out, in, n);
	for (k = 1 + fuzz_rand() % 4; k > 0; k--) {
		switch (fuzz_rand() % 5) {
		case 0:		/* flip a bit */
			if (len > 0)
				out[fuzz_rand() % len] ^= (uint8_t)(1u <<
				    (fuzz_rand() % 8));
			break;
		case 1:		/* an interesting byte */
			if (len > 0) {
				static const uint8_t b[] = { 0, 0xff, 0x7f,
				    0x80, ':', '\n', '-', '"', '{', '[', ' ',
				    '9', '&', '*', '!' };
				out[fuzz_rand() % len] = b[fuzz_rand() %
				    sizeof(b)];
			}
			break;
		case 2:		/* cut the tail */
			if (len > 0)
				len = fuzz_rand() % len;
			break;
		case 3:		/* splice in a piece of another seed */
			if (on > 0 && len < FUZZ_MAX_INPUT) {
				i = fuzz_rand() % (len + 1);
				cut = fuzz_rand() % on;
				k = on - cut;
				if (len + k > FUZZ_MAX_INPUT)
					k = FUZZ_MAX_INPUT - len;
				memmove(out + i + k, out + i, len - i);
				memcpy(out + i, other + cut, k);
				len += k;
				k = 1;
			}
			break;
		default:	/* duplicate a run */
			if (len > 1 && len * 2 <= FUZZ_MAX_INPUT) {
				i = fuzz_rand() % len;
				cut = 1 + fuzz_rand() % (len - i);
				memmove(out + i + cut, out + i, len - i);
				len += cut;
			}
			break;
		}
	}
	return len;
}

int
FUZZ_DRIVER_MAIN(int argc, char **argv)
{
	/*
	 * Every seed runs; the first 16 are kept for the mutations, and
	 * each one after them is read into a 17th slot and runs once.
	 */
	static uint8_t seeds[17][FUZZ_MAX_INPUT], buf[2 * FUZZ_MAX_INPUT];
	size_t lens[17], nseeds = 0, slot;
	unsigned long runs;
	char *end;

	if (argc < 3)
		errx(2, "usage: %s RUNS SEED...", argv[0]);
	runs = strtoul(argv[1], &end, 10);
	if (*end != '\0')
		errx(2, "RUNS: not a number: %s", argv[1]);
	for (int a = 2; a < argc; a++) {
		slot = nseeds < 16 ? nseeds++ : 16;
		lens[slot] = fuzz_read(argv[a], seeds[slot], FUZZ_MAX_INPUT);
		LLVMFuzzerTestOneInput(seeds[slot], lens[slot]);
	}
	for (unsigned long r = 0; r < runs; r++) {
		size_t s = fuzz_rand() % nseeds, o = fuzz_rand() % nseeds;
		size_t n = fuzz_mutate(seeds[s], lens[s], seeds[o], lens[o],
		    buf);

		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%lu inputs from %d seeds: no crash\n",
	    runs + (unsigned long)(argc - 2), argc - 2);
	return 0;
}
#endif

#endif

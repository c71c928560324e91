/*
 * A fuzz target's temporary directory: made under $TMPDIR (or /tmp) once,
 * and removed with all it holds at exit, so that a run that ends in an
 * error (errx) leaves nothing behind either.  A target includes <ftw.h>
 * and <err.h> before this header.
 */
#ifndef RINGFAN_FUZZ_TMP_H
#define RINGFAN_FUZZ_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fuzz_tmp[64];

static int
fuzz_tmp_rm(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) == -1)
		warn("remove %s", path);
	return 0;
}

/* Removes the directory; at exit, or earlier once the run is over. */
static void
fuzz_tmp_remove(void)
{
	if (fuzz_tmp[0] != '\0')
		nftw(fuzz_tmp, fuzz_tmp_rm, 8, FTW_DEPTH | FTW_PHYS);
	fuzz_tmp[0] = '\0';
}

/* The directory, named after the target, made at the first call. */
static const char *
fuzz_tmp_dir(const char *name)
{
	const char *t = getenv("TMPDIR");

	if (fuzz_tmp[0] != '\0')
		return fuzz_tmp;
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/%s.XXXXXX",
	    t != NULL && strlen(t) < 32 ? t : "/tmp", name);
	if (mkdtemp(fuzz_tmp) == NULL)
		err(2, "mkdtemp %s", fuzz_tmp);
	atexit(fuzz_tmp_remove);
	return fuzz_tmp;
}

#endif

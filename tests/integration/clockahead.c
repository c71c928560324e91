/*
 * Preloaded into ringfan by rf_start_ahead (lib.sh), for the tests of a
 * step of the clock: the process that loads it reads its real-time
 * clock CLOCKAHEAD_SECONDS ahead while the file CLOCKAHEAD_FILE exists,
 * and as it is once the file is gone: to the master, a step back of the
 * clock, while the kernel stamps frames on the clock as it is all along.
 * The processes it forks read the clock as it is, unless
 * CLOCKAHEAD_CHILDREN is 1: then they read it ahead as well.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int (*real_gettime)(clockid_t, struct timespec *);
static pid_t owner;
static const char *file;
static long ahead;
static int children;

__attribute__((constructor)) static void
clockahead_init(void)
{
	const char *s;

	owner = getpid();
	/* A copy: setproctitle(3) writes its title over the environment. */
	if ((s = getenv("CLOCKAHEAD_FILE")) != NULL)
		file = strdup(s);
	s = getenv("CLOCKAHEAD_SECONDS");
	ahead = s != NULL ? strtol(s, NULL, 10) : 0;
	s = getenv("CLOCKAHEAD_CHILDREN");
	children = s != NULL && strcmp(s, "1") == 0;
}

__attribute__((visibility("default"))) int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	int rc;

	/*
	 * Another library's constructor may read the clock before ours runs.
	 * POSIX's way to a function from dlsym's object pointer.
	 */
	if (real_gettime == NULL)
		*(void **)&real_gettime = dlsym(RTLD_NEXT, "clock_gettime");
	rc = real_gettime(clk, ts);
	if (rc == 0 && clk == CLOCK_REALTIME && file != NULL &&
	    (children || getpid() == owner) && access(file, F_OK) == 0)
		ts->tv_sec += ahead;
	return rc;
}

/*
 * loadprobe: shows which processes run a plugin's code, and which build
 * of it runs.
 *
 * When the environment names a file in RINGFAN_PROBE_FILE, the constructor
 * appends "PID UID" to it as the object is loaded, in whatever process
 * loads it; when it names one in RINGFAN_PROBE_OPENS, open appends "PID UID
 * FLAGS WORKER" (ctx->flags in hex); and RINGFAN_PROBE_FDS gets "PID" and
 * what every descriptor above 2 of the loading process points to
 * (readlink of /proc/self/fd/N: "socket:[123]", a path, ...), and
 * RINGFAN_PROBE_READS "PID" and the targets of those it can read a byte
 * of (pread at offset 0); RINGFAN_PROBE_NAME "PID NAME", the name the
 * process loaded it under (dladdr).  When RINGFAN_PROBE_CRASH names a file that
 * exists, the constructor removes it and crashes (SIGSEGV), as a plugin's
 * that fails as it loads: one process crashes, however many load it
 * meanwhile; RINGFAN_PROBE_HANG the same, but it waits in pause() forever,
 * as a constructor that hangs.  Each line
 * goes out in one write(2) to a file opened with O_APPEND, so that lines of
 * concurrent processes never mix.  Every frame counts in "frames" and in
 * the build's own counter.
 *
 * A build is chosen with -DPROBE_VERSION='"a"' -DPROBE_COUNTER='"frames_a"'
 * (the tests build variants a and b to replace one with the other).
 */
#include <dirent.h>
#include <dlfcn.h>		/* dladdr: _GNU_SOURCE, from meson */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringfan/plugin.h>

#ifndef PROBE_VERSION
#define PROBE_VERSION	"1.0"
#endif
#ifndef PROBE_COUNTER
#define PROBE_COUNTER	"frames_1"
#endif

struct loadprobe {
	uint64_t	*frames;
	uint64_t	*build;
};

/* One line to the file named by $env, if any; errors are ignored. */
static void RINGFAN_PRINTF(2, 3)
loadprobe_note(const char *env, const char *fmt, ...)
{
	const char *path = getenv(env);
	char line[4096];
	va_list ap;
	int fd, n;

	if (path == NULL || *path == '\0')
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		return;
	if (write(fd, line, (size_t)n) == -1) {
		/* Nothing to tell: the test finds the line missing. */
	}
	close(fd);
}

/* "PID target..." of the descriptors above 2, this listing's own left out. */
static void
loadprobe_fds(void)
{
	char list[3072], reads[3072], link[64], target[256], c;
	struct dirent *e;
	size_t at = 0, rat = 0;
	ssize_t n;
	DIR *d;
	int fd;

	if ((getenv("RINGFAN_PROBE_FDS") == NULL &&
	    getenv("RINGFAN_PROBE_READS") == NULL) ||
	    (d = opendir("/proc/self/fd")) == NULL)
		return;
	list[0] = reads[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (at + (size_t)n + 2 >= sizeof(list))
			break;
		list[at++] = ' ';
		memcpy(list + at, target, (size_t)n + 1);
		at += (size_t)n;
		if (pread(fd, &c, 1, 0) != 1 ||
		    rat + (size_t)n + 2 >= sizeof(reads))
			continue;
		reads[rat++] = ' ';
		memcpy(reads + rat, target, (size_t)n + 1);
		rat += (size_t)n;
	}
	closedir(d);
	loadprobe_note("RINGFAN_PROBE_FDS", "%ld%s\n", (long)getpid(), list);
	loadprobe_note("RINGFAN_PROBE_READS", "%ld%s\n", (long)getpid(), reads);
}

__attribute__((constructor)) static void
loadprobe_loaded(void)
{
	const char *crash = getenv("RINGFAN_PROBE_CRASH");
	const char *hang = getenv("RINGFAN_PROBE_HANG");
	Dl_info self;

	loadprobe_note("RINGFAN_PROBE_FILE", "%ld %ld\n", (long)getpid(),
	    (long)getuid());
	if (dladdr((void *)(uintptr_t)loadprobe_note, &self) != 0)
		loadprobe_note("RINGFAN_PROBE_NAME", "%ld %s\n", (long)getpid(),
		    self.dli_fname);
	loadprobe_fds();
	if (crash != NULL && unlink(crash) == 0)
		raise(SIGSEGV);
	if (hang != NULL && unlink(hang) == 0)
		for (;;)
			pause();
}

static int
loadprobe_open(struct ringfan_ctx *ctx, void **state)
{
	struct loadprobe *p;

	*state = NULL;
	loadprobe_note("RINGFAN_PROBE_OPENS", "%ld %ld %x %u\n",
	    (long)getpid(), (long)getuid(), ctx->flags, ctx->worker_id);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	p->frames = ctx->counter(ctx, "frames");
	p->build = ctx->counter(ctx, PROBE_COUNTER);
	if (p->frames == NULL || p->build == NULL) {
		free(p);
		return RINGFAN_FAIL;
	}
	*state = p;
	return RINGFAN_OK;
}

static int
loadprobe_packet(void *state, const struct ringfan_packet *pkt)
{
	struct loadprobe *p = state;

	(void)pkt;
	(*p->frames)++;
	(*p->build)++;
	return RINGFAN_CONTINUE;
}

static void
loadprobe_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "loadprobe",
	.version = PROBE_VERSION,
	.description = "test: notes the processes that load it",
	.open = loadprobe_open,
	.packet = loadprobe_packet,
	.close = loadprobe_close,
};

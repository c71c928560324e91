/*
 * Validating pipelines in a throwaway child that runs as the workers' user,
 * what the master keeps of it, and host memory of the stages.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "plugin_int.h"
#include "sandbox.h"
#include "util.h"

/* How long a validation may take before its child is killed. */
#define PLUGIN_VALIDATE_MS	10000

/*
 * The length of a region's mapping: the header and the plugin's bytes,
 * rounded up to whole pages, then one page without access.  A plugin that
 * writes past the page that holds its last byte (or a region mapped just
 * above it, before its header) is killed there by SIGSEGV, in its
 * callback, where it would have changed another plugin's region, which the
 * kernel tends to map right beside it, or what that plugin recovers.
 */
static size_t
plugin_mem_len(uint64_t size, size_t *guard)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = sizeof(struct plugin_mem_hdr) + (size_t)size;

	*guard = (len + page - 1) / page * page;
	return *guard + page;
}

int
plugin_mem_map(struct plugin_mem *m, const struct plugin_info *info,
    bool shared)
{
	size_t guard, len = plugin_mem_len(info->memory_size, &guard);
	void *p;
	int err;

	memset(m, 0, sizeof(*m));
	if (info->memory_size == 0)
		return 0;
	/*
	 * Pages are committed as the plugin touches them (2 MiB at a time
	 * in huge pages, below).
	 */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mprotect((char *)p + guard, len - guard, PROT_NONE) != 0) {
		err = errno;
		munmap(p, len);
		return -err;
	}
	/*
	 * Private memory may take huge pages where the system gives them
	 * on request (transparent_hugepage "madvise", Debian's default):
	 * a table spread over tens of MiB then costs a fault and a TLB
	 * entry per 2 MiB rather than per 4 KiB.
	 */
	if (!shared)
		(void)madvise(p, guard, MADV_HUGEPAGE);
	m->map = p;
	m->size = info->memory_size;
	return 0;
}

void
plugin_mem_unmap(struct plugin_mem *m)
{
	size_t guard;

	if (m->map != NULL)
		munmap(m->map, plugin_mem_len(m->size, &guard));
	memset(m, 0, sizeof(*m));
}

bool
plugin_mem_left_open(const struct plugin_mem *m)
{
	const struct plugin_mem_hdr *h = m->map;

	return h != NULL && h->magic == PLUGIN_MEM_MAGIC &&
	    __atomic_load_n(&h->opened, __ATOMIC_ACQUIRE) == 1;
}

bool
plugin_file_same(const struct plugin_info *a, const struct plugin_info *b)
{
	return strcmp(a->path, b->path) == 0 &&
	    memcmp(&a->file, &b->file, sizeof(a->file)) == 0;
}

bool
plugin_info_same(const struct plugin_info *a, const struct plugin_info *b,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!plugin_file_same(&a[i], &b[i]) ||
		    strcmp(a[i].name, b[i].name) != 0 ||
		    strcmp(a[i].step, b[i].step) != 0 ||
		    a[i].memory_size != b[i].memory_size ||
		    a[i].memory_layout != b[i].memory_layout ||
		    a[i].tick_ns != b[i].tick_ns)
			return false;
	return true;
}

void
plugin_info_close(struct plugin_info *in)
{
	for (size_t k = 0; in != NULL && in[k].fd != PLUGIN_INFO_END; k++)
		if (in[k].fd != -1) {
			close(in[k].fd);
			in[k].fd = -1;
		}
}

void
plugin_info_free(struct plugin_info *in)
{
	plugin_info_close(in);
	free(in);
}

void
pipeline_info_free(struct plugin_info **info, size_t ncaptures)
{
	for (size_t c = 0; info != NULL && c < ncaptures; c++)
		plugin_info_free(info[c]);
	free(info);
}

/*
 * Hold the file in as validated, for the workers to load (-1 when it has
 * gone or been replaced since: they load its path then, and say so).  The
 * path is the validator's word, and the master root: O_PATH opens no FIFO
 * (which would block) or device, and gives the workers' plugin code no
 * descriptor to read through; a worker's dlopen of /proc/self/fd/N opens
 * the file anew, with its own rights.
 */
static int
validate_hold(const struct plugin_info *in)
{
	struct plugin_file now;
	struct stat st;
	int fd;

	if ((fd = open(in->path, O_PATH | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		plugin_file_of(&now, &st);
		if (memcmp(&now, &in->file, sizeof(now)) == 0)
			return fd;
	}
	close(fd);
	return -1;
}

/*
 * Who besides root may write to st, a plugin's file or its directory:
 * "anyone", a group's name, or NULL.  A directory with the sticky bit lets
 * no one else replace a file in it.
 */
static const char *
validate_writer(const struct stat *st, bool dir, char *buf, size_t len)
{
	struct group *gr;

	if (dir && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "anyone";
	if (!(st->st_mode & S_IWGRP) || st->st_gid == 0)
		return NULL;
	if ((gr = getgrgid(st->st_gid)) != NULL)
		snprintf(buf, len, "group %s", gr->gr_name);
	else
		snprintf(buf, len, "group %u", (unsigned)st->st_gid);
	return buf;
}

/*
 * Whoever else may write to a plugin's file, or replace it in its
 * directory, chooses the code that workers run (as root without `user`):
 * a warning, as the file is validated.
 */
static void
validate_warn_writers(const struct plugin_info *in)
{
	char dir[sizeof(in->path)], grp[64], *slash;
	const char *who;
	struct stat st;

	if (in->fd >= 0 && fstat(in->fd, &st) == 0 &&
	    (who = validate_writer(&st, false, grp, sizeof(grp))) != NULL)
		log_warnx("plugin %s: %s can be written by %s (mode %04o): "
		    "they choose the code ringfan runs", in->step, in->path,
		    who, (unsigned)(st.st_mode & 07777));
	strlcpy(dir, in->path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir] = '\0';
	if (stat(dir, &st) == 0 &&
	    (who = validate_writer(&st, true, grp, sizeof(grp))) != NULL)
		log_warnx("plugin %s: its directory %s can be written by %s "
		    "(mode %04o): they can put other code in its place",
		    in->step, dir, who, (unsigned)(st.st_mode & 07777));
}

/* Whether a stage before stage k of capture c loads the same file. */
static bool
validate_seen(struct plugin_info *const *out, size_t c, size_t k)
{
	for (size_t i = 0; i <= c; i++)
		for (size_t j = 0; out[i][j].fd != PLUGIN_INFO_END &&
		    (i < c || j < k); j++)
			if (strcmp(out[i][j].path, out[c][k].path) == 0)
				return true;
	return false;
}

/* What a validating child hands back, in memory shared with the master. */
struct validation {
	int			rc;
	bool			refused;	/* by the system, not a plugin */
	char			err[PLUGIN_ERR_MAX];
	char			at[128];	/* pipeline_track() */
	struct cfg_pos		at_pos;		/* pipeline_track_pos() */
	struct plugin_info	info[];		/* every stage of every capture */
};

/* pipeline_validate_hook() */
static void	(*validate_hook)(void *);
static void	*validate_hook_arg;

void
pipeline_validate_hook(void (*fn)(void *), void *arg)
{
	validate_hook = fn;
	validate_hook_arg = arg;
}

static int
validate_drop(bool drop, uid_t uid, gid_t gid)
{
	if (!drop)
		return 0;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 || caps_clear() != 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* The child: load and check everything, report into v, exit. */
static void
validate_child(const struct cfg *cfg, const struct plugin_env *envs, bool drop,
    uid_t uid, gid_t gid, pid_t parent, struct validation *v)
{
	struct pipeline pl;
	struct plugin_env env;
	size_t at = 0;

	/*
	 * As in a worker: a stop, a reload or a terminal's ^C sent to the
	 * whole process group is the master's, which acts on it once this
	 * check is over; it is no plugin failing its check.
	 */
	child_signals(true);
	signal(SIGALRM, SIG_DFL);
	/*
	 * Plugin code gets none of the master's descriptors: not the
	 * capture sockets of every worker, the control socket and its
	 * clients, the pidfile or the event loop's.  The log's own stays,
	 * as in a worker: what a plugin logs in its check goes where the
	 * master's lines go.
	 */
	log_close_others();
	/*
	 * What plugin code prints goes to stderr, beside the log: stdout
	 * is for ringfan's own output (the statistics document).
	 */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	/* Its lines are plugin code's, never the master's. */
	log_use_tag("check");
	/* Nor the workers' host memory, mapped in the master. */
	if (validate_hook != NULL)
		validate_hook(validate_hook_arg);
	if (validate_drop(drop, uid, gid) == -1) {
		int e = errno;

		/* Which a master short of capabilities, or uids, gets. */
		snprintf(v->err, sizeof(v->err), "plugin validation: dropping "
		    "to uid %u: %s%s", (unsigned)uid, strerror(e), e == EPERM ?
		    " (becoming `user` takes CAP_SETUID and CAP_SETGID, and "
		    "a uid the user namespace maps)" : "");
		v->refused = true;
		_exit(1);
	}
	/*
	 * After the drop, which clears it; a parent already gone is seen by
	 * the new one (it ignores the group's signals, so nothing else would
	 * end it, hung in a plugin's check).
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Plugin code is held to what it may do in a worker: no socket here. */
	if (sandbox_install(-1, v->err, sizeof(v->err)) == -1) {
		v->refused = true;
		_exit(1);
	}
	pipeline_track(v->at, sizeof(v->at));
	pipeline_track_pos(&v->at_pos);
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];

		if (pipeline_load(&pl, cfg, cap, NULL, v->err,
		    sizeof(v->err)) == -1)
			_exit(1);
		env = envs[c];
		env.flags |= RINGFAN_CTX_CHECK;
		if (pipeline_check(&pl, &env, v->err, sizeof(v->err)) ==
		    RINGFAN_FAIL)
			_exit(1);
		v->err[0] = '\0';	/* a temporary failure is no error */
		for (size_t k = 0; k < pl.nstages; k++)
			v->info[at++] = pl.stages[k].info;
		pipeline_unload(&pl);
	}
	v->rc = 0;
	_exit(0);
}

/*
 * Wait for the validating child, at most PLUGIN_VALIDATE_MS: plugin code
 * could block or ignore any alarm of its own.  0, 1 when it was killed for
 * taking longer, or -1 with errno.
 */
static int
validate_wait(pid_t pid, int *status)
{
	struct timespec pause = { 0, 2000000 };
	pid_t r;

	for (int ms = 0; ms < PLUGIN_VALIDATE_MS; ms += 2) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	while ((r = waitpid(pid, status, 0)) == -1 && errno == EINTR)
		;
	return r == pid ? 1 : -1;
}

/*
 * What the child wrote runs plugin code's risk: strings are ended and
 * numbers bounded before the master uses them.
 */
static void
validate_sanitize(struct plugin_info *in)
{
	in->path[sizeof(in->path) - 1] = '\0';
	in->name[sizeof(in->name) - 1] = '\0';
	in->step[sizeof(in->step) - 1] = '\0';
	in->version[sizeof(in->version) - 1] = '\0';
	in->description[sizeof(in->description) - 1] = '\0';
	if (in->memory_size > PLUGIN_MEMORY_MAX)
		in->memory_size = PLUGIN_MEMORY_MAX;
	if (in->tick_ns != 0 && in->tick_ns < PLUGIN_TICK_MIN_NS)
		in->tick_ns = PLUGIN_TICK_MIN_NS;
	in->batch = in->batch != 0;
	in->fd = validate_hold(in);
}

int
pipeline_validate(const struct cfg *cfg, const struct plugin_env *envs,
    bool drop,
    uid_t uid, gid_t gid, struct plugin_info ***info, char *err,
    size_t errlen)
{
	struct plugin_info **out;
	struct validation *v;
	char place[PATH_MAX + 32];
	size_t nstages = 0, len, at = 0;
	pid_t pid, parent;
	int status, late, rc;

	*info = NULL;
	for (size_t c = 0; c < cfg->ncaptures; c++)
		nstages += cfg->captures[c].npipeline;
	len = sizeof(*v) + nstages * sizeof(v->info[0]);
	v = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (v == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "plugin validation: mmap: %s",
		    strerror(errno));
		return rc == -EINVAL ? -ENOMEM : rc;
	}
	v->rc = -1;
	fflush(NULL);
	parent = getpid();
	if ((pid = fork()) == -1) {
		rc = -errno;
		snprintf(err, errlen, "plugin validation: fork: %s",
		    strerror(errno));
		munmap(v, len);
		return rc;
	}
	if (pid == 0)
		validate_child(cfg, envs, drop, uid, gid, parent, v);
	if ((late = validate_wait(pid, &status)) == -1) {
		rc = errno == EINVAL ? -ECHILD : -errno;
		snprintf(err, errlen, "plugin validation: waitpid: %s",
		    strerror(errno));
		munmap(v, len);
		return rc;
	}
	v->at[sizeof(v->at) - 1] = '\0';
	utf8_scrub(v->at);
	if (WIFSIGNALED(status) || v->rc != 0) {
		/* In plugin code: its step's place in the file first. */
		place[0] = '\0';
		if (v->at[0] != '\0' && v->at_pos.line != 0)
			snprintf(place, sizeof(place), "%s:%u:%u: ", cfg->path,
			    v->at_pos.line, v->at_pos.col);
		if (late == 1)
			snprintf(err, errlen, "%splugin validation: no answer "
			    "within %d s, %s", place, PLUGIN_VALIDATE_MS / 1000,
			    v->at[0] != '\0' ? v->at : "outside the plugins");
		else if (v->err[0] != '\0')
			strlcpy(err, v->err, errlen);
		else if (WIFSIGNALED(status))
			snprintf(err, errlen, "%splugin validation: the "
			    "checking process was killed by signal %d (%s)%s%s",
			    place, WTERMSIG(status),
			    strsignal(WTERMSIG(status)),
			    v->at[0] != '\0' ? " " : "", v->at);
		else
			snprintf(err, errlen, "%splugin validation: the "
			    "checking process exited with code %d%s%s", place,
			    WEXITSTATUS(status), v->at[0] != '\0' ? " " : "",
			    v->at);
		rc = late != 1 && v->refused ? -EPERM : -EINVAL;
		munmap(v, len);
		return rc;
	}
	if ((out = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*out))) == NULL)
		goto nomem;
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		size_t n = cfg->captures[c].npipeline;

		if ((out[c] = calloc(n + 1, sizeof(*out[c]))) == NULL) {
			pipeline_info_free(out, c);
			goto nomem;
		}
		out[c][n].fd = PLUGIN_INFO_END;	/* plugin_info_close() */
		memcpy(out[c], &v->info[at], n * sizeof(*out[c]));
		at += n;
		for (size_t k = 0; k < n; k++)
			validate_sanitize(&out[c][k]);
	}
	munmap(v, len);
	/* Once a file, the first stage that loads it. */
	for (size_t c = 0; c < cfg->ncaptures; c++)
		for (size_t k = 0; k < cfg->captures[c].npipeline; k++)
			if (!validate_seen(out, c, k))
				validate_warn_writers(&out[c][k]);
	*info = out;
	return 0;
nomem:
	munmap(v, len);
	snprintf(err, errlen, "plugin validation: %s", strerror(ENOMEM));
	return -ENOMEM;
}

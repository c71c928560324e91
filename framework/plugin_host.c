/*
 * Loading, checking and calling plugins.
 *
 * Everything about a plugin is checked when it is loaded: the file, the
 * symbol, the ABI, the size, the callbacks and the name.  Missing optional
 * callbacks are then filled with no-ops once, so the per-frame loop never
 * tests for NULL.  The master never loads a plugin: pipeline_validate()
 * (plugin_validate.c) does it in a child, and each worker does it after
 * dropping privileges.  The services plugins get through their ctx are in
 * plugin_ctx.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin_int.h"
#include "ringfan_build.h"
#include "util.h"

/* The ABI 2.0 struct ends with `close`: a smaller one cannot be 2.x. */
#define PLUGIN_MIN_SIZE \
	(offsetof(struct ringfan_plugin, close) + sizeof(void (*)(void *)))
/* No minor will grow the struct this far: a bigger size is a bad plugin. */
#define PLUGIN_MAX_SIZE		4096


/*
 * Where a candidate could not be looked at (a directory this process may
 * not search, as the workers' user say) and why: told when the plugin is
 * found nowhere else.  An absent file is no reason.
 */
struct plugin_miss {
	char	dir[1024];
	int	err;
};

/* Try DIR/NAME.so, then DIR/NAME/NAME.so (the layout of a build tree). */
static bool
plugin_find_in(const char *dir, const char *name, char *out, size_t outlen,
    char *searched, size_t slen, struct plugin_miss *miss)
{
	if (*searched != '\0')
		strlcat(searched, ":", slen);
	strlcat(searched, dir, slen);
	for (int nested = 0; nested < 2; nested++) {
		int n = nested ?
		    snprintf(out, outlen, "%s/%s/%s.so", dir, name, name) :
		    snprintf(out, outlen, "%s/%s.so", dir, name);

		/* A name cut short could be another file's. */
		if (n < 0 || (size_t)n >= outlen)
			errno = ENAMETOOLONG;
		else if (access(out, F_OK) == 0)
			return true;
		if (errno != ENOENT && errno != ENOTDIR && miss->err == 0) {
			miss->err = errno;
			strlcpy(miss->dir, dir, sizeof(miss->dir));
		}
	}
	return false;
}

/*
 * RINGFAN_PLUGIN_PATH first, then plugin_path, then the installed plugin
 * directory: plugin_path adds directories, the bundled plugins stay found.
 */
static bool
plugin_find(const char *name, char *const *path, size_t npath, char *out,
    size_t outlen, char *searched, size_t slen, struct plugin_miss *miss)
{
	const char *env = getenv("RINGFAN_PLUGIN_PATH");
	char *dirs, *dir, *save = NULL;
	bool found = false;

	searched[0] = '\0';
	miss->err = 0;
	if (env != NULL && *env != '\0') {
		if ((dirs = strdup(env)) == NULL)
			return false;
		for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
		    dir = strtok_r(NULL, ":", &save))
			found = plugin_find_in(dir, name, out, outlen,
			    searched, slen, miss);
		free(dirs);
	}
	for (size_t i = 0; i < npath && !found; i++)
		found = plugin_find_in(path[i], name, out, outlen, searched,
		    slen, miss);
	for (size_t i = 0; i < npath; i++)
		if (strcmp(path[i], RINGFAN_PLUGIN_DIR) == 0)
			return found;	/* searched already */
	if (!found)
		found = plugin_find_in(RINGFAN_PLUGIN_DIR, name, out, outlen,
		    searched, slen, miss);
	return found;
}

static int
plugin_noop_packet(void *state, const struct ringfan_packet *pkt)
{
	(void)state;
	(void)pkt;
	return RINGFAN_CONTINUE;
}

static void
plugin_noop_tick(void *state, uint64_t now_ns)
{
	(void)state;
	(void)now_ns;
}

static void
plugin_noop_close(void *state)
{
	(void)state;
}

/* Where the process is in plugin code, for pipeline_track(); or NULL. */
static char *track_buf;
static size_t track_len;
static struct cfg_pos *track_pos;	/* pipeline_track_pos() */

void
pipeline_track(char *buf, size_t len)
{
	track_buf = buf;
	track_len = len;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

void
pipeline_track_pos(struct cfg_pos *pos)
{
	track_pos = pos;
	if (pos != NULL)
		*pos = (struct cfg_pos){ 0, 0 };
}

/* The step whose plugin code runs next, for pipeline_track_pos(). */
static void
pipeline_at_step(const struct cfg_plugin *cp)
{
	if (track_pos != NULL)
		*track_pos = cp->pos;
}

/*
 * "WHAT plugin NAME[SUFFIX]" into the tracking buffer, if any; NULL what:
 * out of plugin code again.
 */
static void
pipeline_at(const char *what, const char *name, const char *suffix)
{
	if (track_buf != NULL && what != NULL)
		snprintf(track_buf, track_len, "%s plugin %s%s", what, name,
		    suffix);
	else if (track_buf != NULL)
		track_buf[0] = '\0';
}

static int LOG_PRINTF(4, 5)
plugin_refuse(struct plugin *p, char *err, size_t errlen, const char *fmt,
    ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(err, errlen, "%s: ", p->path);
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	plugin_unload(p);
	return -1;
}

/*
 * The sizes of the struct in the minors this host knows, ABI 2.0 and 2.1
 * (which added no field) first.  A smaller size than the host's must be
 * one of them: any other ends within a field, which the host would copy
 * in part (half a pointer, for prefetch).
 */
#define PLUGIN_2_2_SIZE \
	(offsetof(struct ringfan_plugin, prefetch) + \
	    sizeof(void (*)(void *, const struct ringfan_packet *)))
static const size_t plugin_minor_sizes[] = {
	PLUGIN_MIN_SIZE,
	PLUGIN_2_2_SIZE,
};
/* A field appended in a new minor: list the size of the one before. */
_Static_assert(PLUGIN_2_2_SIZE == sizeof(struct ringfan_plugin),
    "struct ringfan_plugin grew: add its last size to plugin_minor_sizes");

static bool
plugin_size_known(uint32_t size)
{
	if (size >= sizeof(struct ringfan_plugin))
		return true;	/* a newer minor: checked apart */
	for (size_t i = 0; i < sizeof(plugin_minor_sizes) /
	    sizeof(plugin_minor_sizes[0]); i++)
		if (size == plugin_minor_sizes[i])
			return true;
	return false;
}

/*
 * The size of the object d, from its symbol; 0 when the symbol tells none
 * (one defined in assembly without .size).
 */
static size_t
plugin_object_size(const struct ringfan_plugin *d)
{
	const ElfW(Sym) *sym;
	Dl_info info;
	void *extra = NULL;

	if (dladdr1(d, &info, &extra, RTLD_DL_SYMENT) == 0 || extra == NULL ||
	    info.dli_saddr != d)
		return 0;
	sym = extra;
	return (size_t)sym->st_size;
}

/*
 * False when d's size runs past the object: the bytes after it, which the
 * host would take for a later minor's fields, are not the plugin's.
 */
static bool
plugin_size_fits(const struct ringfan_plugin *d)
{
	size_t n = plugin_object_size(d);

	return n == 0 || d->size <= n;
}

/* A newer minor's struct: true when a field this host lacks is set. */
static bool
plugin_sets_unknown(const struct ringfan_plugin *d)
{
	const unsigned char *b = (const unsigned char *)d;

	for (size_t i = sizeof(*d); i < d->size; i++)
		if (b[i] != 0)
			return true;
	return false;
}

/*
 * 1 when path names the file fd holds: loaded by its path then, the
 * plugin keeps its name (which debuggers, symbolizers and $ORIGIN in its
 * RUNPATH go by).  The inode alone: held, its number is not reused, and
 * one changed in place since its check is the same through either name
 * (plugin_describe() tells the caller it changed).  0 when it names
 * another file; -errno when it names none the worker can see (removed).
 */
static int
plugin_path_holds(const char *path, int fd)
{
	struct stat a, b;

	if (stat(path, &a) == -1)
		return -errno;
	return fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
}

int
plugin_load(struct plugin *p, const char *name, char *const *path,
    size_t npath, const struct plugin_info *held, char *err, size_t errlen)
{
	const struct ringfan_plugin *d;
	struct plugin_miss miss;
	char file[4096], searched[2048], name_shown[48], by_fd[32], why[96];
	int holds;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (!name_valid(name, STATS_PLUGIN_NAME)) {
		snprintf(err, errlen, "plugin \"%s\": invalid name "
		    "(1 to %d of a-z, 0-9, _)", name, STATS_PLUGIN_NAME - 1);
		return -1;
	}
	if (held != NULL && held->fd != -1) {
		/*
		 * The build validated, through the held descriptor when the
		 * path names another file now; without /proc, the path's file
		 * (plugin_describe() tells the caller it changed).
		 */
		strlcpy(file, held->path, sizeof(file));
		snprintf(by_fd, sizeof(by_fd), "/proc/self/fd/%d", held->fd);
		if ((holds = plugin_path_holds(file, held->fd)) != 1 &&
		    access(by_fd, F_OK) == 0) {
			p->fd = held->fd;
			if (holds == 0 || holds == -ENOENT ||
			    holds == -ENOTDIR)
				snprintf(why, sizeof(why), " was %s since it "
				    "was validated", holds == 0 ? "replaced" :
				    "removed");
			else
				snprintf(why, sizeof(why), ": %s, as uid %u",
				    strerror(-holds), (unsigned)geteuid());
			log_warnx("plugin %s: %s%s: running the build "
			    "validated, as %s, until a reload", name, file,
			    why, by_fd);
		}
	} else if (!plugin_find(name, path, npath, file, sizeof(file),
	    searched, sizeof(searched), &miss)) {
		if (miss.err != 0)
			/* As the workers' user, in the validator and workers. */
			snprintf(err, errlen, "plugin %s: %s.so not found in %s "
			    "(%s: %s, as uid %u)", name, name, searched,
			    miss.dir, strerror(miss.err), (unsigned)geteuid());
		else
			snprintf(err, errlen, "plugin %s: %s.so not found in %s "
			    "(plugin_path and RINGFAN_PLUGIN_PATH add "
			    "directories)", name, name, searched);
		return -1;
	}
	if ((p->path = strdup(file)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", name, strerror(errno));
		return -1;
	}
	/* Its constructors run in there. */
	pipeline_at("while loading", name, "");
	p->dl = dlopen(p->fd != -1 ? by_fd : file, RTLD_NOW | RTLD_LOCAL);
	pipeline_at(NULL, NULL, NULL);
	if (p->dl == NULL && p->fd != -1)
		/* A common cause there: its libraries beside it, by $ORIGIN. */
		return plugin_refuse(p, err, errlen, "dlopen: %s (as %s, "
		    "the build validated; $ORIGIN is /proc/self/fd there)",
		    dlerror(), by_fd);
	if (p->dl == NULL)
		return plugin_refuse(p, err, errlen, "dlopen: %s", dlerror());
	d = dlsym(p->dl, RINGFAN_PLUGIN_SYMBOL);
	/*
	 * Most often a plugin of one's own whose object is hidden: built
	 * with -fvisibility=hidden without RINGFAN_EXPORT, or, in C++,
	 * const without extern (internal linkage), or in a named namespace
	 * outside extern "C" (a mangled name).  Say what to look for.
	 */
	if (d == NULL)
		return plugin_refuse(p, err, errlen,
		    "no symbol %s: not a ringfan plugin, or one that does not "
		    "export it (define it with RINGFAN_EXPORT; in C++, extern "
		    "and in extern \"C\")", RINGFAN_PLUGIN_SYMBOL);
	if (d->abi >> 16 != RINGFAN_PLUGIN_ABI_MAJOR)
		return plugin_refuse(p, err, errlen,
		    "plugin ABI %u.%u, ringfan supports %u.x%s", d->abi >> 16,
		    d->abi & 0xffff, RINGFAN_PLUGIN_ABI_MAJOR, d->abi >> 16 ==
		    0 ? " (.abi is RINGFAN_PLUGIN_ABI, the major shifted 16 "
		    "bits left and the minor)" : "");
	if (d->size < PLUGIN_MIN_SIZE)
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes, ABI %u.0 needs %zu", d->size,
		    RINGFAN_PLUGIN_ABI_MAJOR, PLUGIN_MIN_SIZE);
	if (d->size > PLUGIN_MAX_SIZE)
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes: more than any ABI 2 needs (%d)",
		    d->size, PLUGIN_MAX_SIZE);
	if (!plugin_size_fits(d))
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes, but its object %s has %zu",
		    d->size, RINGFAN_PLUGIN_SYMBOL, plugin_object_size(d));
	if (!plugin_size_known(d->size))
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes ends within a field (ABI %u.0 "
		    "has %zu, %u.%u has %zu)", d->size,
		    RINGFAN_PLUGIN_ABI_MAJOR, PLUGIN_MIN_SIZE,
		    RINGFAN_PLUGIN_ABI_MAJOR, RINGFAN_PLUGIN_ABI_MINOR,
		    sizeof(struct ringfan_plugin));
	if ((d->abi & 0xffff) > RINGFAN_PLUGIN_ABI_MINOR &&
	    plugin_sets_unknown(d))
		return plugin_refuse(p, err, errlen,
		    "plugin ABI %u.%u uses features that ringfan (ABI %u.%u) "
		    "lacks", d->abi >> 16, d->abi & 0xffff,
		    RINGFAN_PLUGIN_ABI_MAJOR, RINGFAN_PLUGIN_ABI_MINOR);
	if (d->name == NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin name missing (NULL)");
	if (!name_valid(d->name, STATS_PLUGIN_NAME)) {
		/* Shown in part, and scrubbed: it is the plugin's text. */
		snprintf(name_shown, sizeof(name_shown), "%s", d->name);
		line_scrub(name_shown);
		return plugin_refuse(p, err, errlen,
		    "plugin name \"%s%s\" invalid (1 to %d of a-z, 0-9, _)",
		    name_shown, strlen(d->name) >= sizeof(name_shown) ? "..." :
		    "", STATS_PLUGIN_NAME - 1);
	}
	if (d->packet == NULL && d->batch == NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has neither a packet nor a batch callback",
		    d->name);
	if (d->packet != NULL && d->batch != NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has both a packet and a batch callback", d->name);
	p->desc = d;
	/*
	 * A newer minor appends fields we do not know: copy what we do.  An
	 * older one ends before some we know: they stay zero.
	 */
	memcpy(&p->calls, d, d->size < sizeof(p->calls) ? d->size :
	    sizeof(p->calls));
	if (p->calls.prefetch != NULL && p->calls.batch != NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has a prefetch and a batch callback: prefetch "
		    "goes with packet",
		    d->name);
	if (p->calls.packet == NULL)
		p->calls.packet = plugin_noop_packet;
	if (p->calls.tick == NULL)
		p->calls.tick = plugin_noop_tick;
	if (p->calls.close == NULL)
		p->calls.close = plugin_noop_close;
	return 0;
}

void
plugin_unload(struct plugin *p)
{
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p->path);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

void
plugin_file_of(struct plugin_file *f, const struct stat *st)
{
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u +
	    (uint64_t)st->st_mtim.tv_nsec;
}

/* What the master keeps of a loaded plugin in step cp, before its check. */
static void
plugin_describe(const struct plugin *p, const struct cfg_plugin *cp,
    struct plugin_info *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	strlcpy(in->path, p->path, sizeof(in->path));
	strlcpy(in->name, p->calls.name, sizeof(in->name));
	strlcpy(in->step, cfg_step_name(cp), sizeof(in->step));
	strlcpy(in->version, p->calls.version != NULL ? p->calls.version : "",
	    sizeof(in->version));
	strlcpy(in->description, p->calls.description != NULL ?
	    p->calls.description : "", sizeof(in->description));
	in->abi = p->calls.abi;
	in->batch = p->calls.batch != NULL;
	if ((p->fd != -1 ? fstat(p->fd, &st) : stat(p->path, &st)) == 0)
		plugin_file_of(&in->file, &st);
}

int
pipeline_load(struct pipeline *pl, const struct cfg *cfg,
    const struct cfg_capture *cap, const struct plugin_info *held, char *err,
    size_t errlen)
{
	const struct cfg_plugin *cp;
	char msg[PLUGIN_ERR_MAX];
	size_t n = cap->npipeline;

	memset(pl, 0, sizeof(*pl));
	pl->plugins = calloc(n ? n : 1, sizeof(*pl->plugins));
	pl->stages = calloc(n ? n : 1, sizeof(*pl->stages));
	pl->names = calloc(n ? 2 * n : 1, sizeof(*pl->names));
	if (pl->plugins == NULL || pl->stages == NULL || pl->names == NULL) {
		snprintf(err, errlen, "pipeline: %s", strerror(ENOMEM));
		pipeline_unload(pl);
		return -1;
	}
	pl->first_batch = n;
	for (size_t i = 0; i < n; i++) {
		cp = &cap->pipeline[i];
		pipeline_at_step(cp);
		if (plugin_load(&pl->plugins[i], cp->name, cfg->plugin_path,
		    cfg->nplugin_path, held != NULL ? &held[i] : NULL, msg,
		    sizeof(msg)) == -1) {
			/* The built-in configuration has no places. */
			if (cp->pos.line == 0)
				snprintf(err, errlen, "%s: %s", cfg->path, msg);
			else
				snprintf(err, errlen, "%s:%u:%u: %s",
				    cfg->path, cp->pos.line, cp->pos.col, msg);
			pipeline_unload(pl);
			return -1;
		}
		pl->nstages = i + 1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(pl->plugins[j].calls.name,
			    pl->plugins[i].calls.name) != 0 ||
			    strcmp(pl->plugins[j].path,
			    pl->plugins[i].path) == 0)
				continue;
			snprintf(err, errlen, "%s:%u:%u: %s: plugin name \"%s\" "
			    "is already used by %s", cfg->path, cp->pos.line,
			    cp->pos.col, pl->plugins[i].path,
			    pl->plugins[i].calls.name, pl->plugins[j].path);
			pipeline_unload(pl);
			return -1;
		}
		pl->names[i] = cfg_step_name(cp);
		pl->stages[i].plugin = &pl->plugins[i];
		pl->stages[i].conf = cp;
		pl->stages[i].packet = pl->plugins[i].calls.packet;
		plugin_describe(&pl->plugins[i], cp, &pl->stages[i].info);
		pl->names[n + i] = pl->stages[i].info.name;
		if (pl->plugins[i].calls.batch != NULL) {
			pl->has_batch = true;
			if (pl->first_batch == n)
				pl->first_batch = i;
		}
	}
	/* After a batch stage, a frame reaches packet a block later. */
	for (size_t i = 0; i < pl->first_batch; i++) {
		pl->stages[i].prefetch = pl->plugins[i].calls.prefetch;
		if (pl->stages[i].prefetch != NULL)
			pl->has_prefetch = true;
	}
	return 0;
}

static int
pipeline_check_stage(struct pipeline *pl, size_t i,
    const struct plugin_env *env, struct stats_worker *scratch, char *err,
    size_t errlen)
{
	struct plugin_stage *s = &pl->stages[i];
	const struct ringfan_plugin *c = &s->plugin->calls;
	struct plugin_ctx *ctx;
	void *state = NULL;
	int rc;

	s->info.memory_size = 0;
	s->info.memory_layout = 0;
	s->info.tick_ns = 0;
	if ((ctx = plugin_ctx_new(pl, i, env, scratch, true)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", cfg_step_name(s->conf),
		    strerror(ENOMEM));
		return RINGFAN_FAIL;
	}
	pipeline_at_step(s->conf);
	if (c->check != NULL) {
		pipeline_at("in", cfg_step_name(s->conf), "'s check");
		/* A check needs no resource: nothing to wait for. */
		rc = c->check(&ctx->pub);
		pipeline_at(NULL, NULL, NULL);
		if (rc == RINGFAN_RETRY && ctx->err[0] == '\0')
			plugin_ctx_error(&ctx->pub, "check returned "
			    "RINGFAN_RETRY, which only open may");
		rc = plugin_ctx_result(ctx, "check", rc == RINGFAN_RETRY ?
		    RINGFAN_FAIL : rc, err, errlen);
	} else if (c->open != NULL && (env->flags & RINGFAN_CTX_CHECK)) {
		/* A trial: nothing is captured, the state is closed at once. */
		pipeline_at("in", cfg_step_name(s->conf), "'s trial open");
		rc = c->open(&ctx->pub, &state);
		if (rc == RINGFAN_OK) {
			/*
			 * Open has returned: as in a worker, what close
			 * records fails nothing (plugin_ctx_error() logs it).
			 * An error open recorded still fails the trial.
			 */
			ctx->opened = ctx->err[0] == '\0';
			pipeline_at("in", cfg_step_name(s->conf),
			    "'s trial close");
			c->close(state);
		}
		pipeline_at(NULL, NULL, NULL);
		rc = plugin_ctx_result(ctx, "open", rc, err, errlen);
	} else {
		/* In a worker, open reads the options and is checked. */
		plugin_ctx_free(ctx);
		return RINGFAN_OK;
	}
	if (rc == RINGFAN_OK)
		rc = plugin_ctx_unknown_options(ctx, err, errlen);
	plugin_ctx_free(ctx);
	return rc;
}

/* Let the counters of an earlier check go. */
static void
pipeline_check_slots_drop(struct pipeline *pl)
{
	if (pl->check_slots != NULL)
		munmap(pl->check_slots, sizeof(struct stats_worker));
	pl->check_slots = NULL;
}

int
pipeline_check(struct pipeline *pl, const struct plugin_env *env, char *err,
    size_t errlen)
{
	struct stats_worker *scratch;
	char msg[PLUGIN_ERR_MAX];
	int rc = RINGFAN_OK, src;
	void *p;

	/*
	 * Counters a check asks for go nowhere, and are valid only until it
	 * returns.  A plugin that keeps one for later (in a static, say)
	 * would write into whatever the heap put there next, without a
	 * word: the slots are a mapping of their own instead, which no
	 * access is allowed to once the checks are over, so such a write
	 * kills the worker in the plugin's callback, which is then named.
	 */
	pipeline_check_slots_drop(pl);
	p = mmap(NULL, sizeof(*scratch), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "pipeline: mmap(%zu bytes of check "
		    "counters): %s", sizeof(*scratch), strerror(errno));
		return RINGFAN_FAIL;
	}
	scratch = p;
	/* Past a temporary failure, for what the later stages ask. */
	for (size_t i = 0; i < pl->nstages && rc != RINGFAN_FAIL; i++) {
		src = pipeline_check_stage(pl, i, env, scratch, msg,
		    sizeof(msg));
		if (src == RINGFAN_OK || (src == RINGFAN_RETRY &&
		    rc == RINGFAN_RETRY))
			continue;
		rc = src;
		strlcpy(err, msg, errlen);
	}
	/* Same place, no access, nothing committed; unmapped at unload. */
	if (mmap(p, sizeof(*scratch), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		(void)mprotect(p, sizeof(*scratch), PROT_NONE);
	pl->check_slots = p;
	return rc;
}

static void
pipeline_close_stages(struct pipeline *pl)
{
	struct plugin_stage *s;
	struct plugin_mem_hdr *h;

	for (size_t i = 0; i < pl->nstages; i++) {
		s = &pl->stages[i];
		if (s->opened) {
			pipeline_at("in", cfg_step_name(s->conf), "'s close");
			/*
			 * Named for the master too: a plugin that ends the
			 * process in its close crashed there, whatever its
			 * exit code (master_reaped).
			 */
			if (pl->w != NULL)
				STATS_STORE(&pl->w->stage,
				    STATS_STAGE_CLOSE + (uint32_t)i);
			s->plugin->calls.close(s->state);
			if (pl->w != NULL)
				STATS_STORE(&pl->w->stage, STATS_STAGE_NONE);
			pipeline_at(NULL, NULL, NULL);
			/* Closed cleanly: nothing in it is to be recovered. */
			if (s->mem != NULL && (h = s->mem->map) != NULL)
				__atomic_store_n(&h->opened, 0,
				    __ATOMIC_RELEASE);
		}
		s->opened = false;
		s->state = NULL;
		s->mem = NULL;
		plugin_ctx_free(s->ctx);
		s->ctx = NULL;
	}
}

/*
 * Zero a used region's bytes.  Whole pages are handed back to the kernel
 * (they read as zero again), so a fresh start commits no memory.
 */
static void
plugin_mem_zero(struct plugin_mem *m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = sizeof(struct plugin_mem_hdr) + m->size;
	uint8_t *base = m->map;

	if (len <= page || madvise(base + page, len - page, MADV_REMOVE) != 0) {
		memset(base + sizeof(struct plugin_mem_hdr), 0, m->size);
		return;
	}
	memset(base + sizeof(struct plugin_mem_hdr), 0,
	    page - sizeof(struct plugin_mem_hdr));
}

/* Hand stage s its host memory through ctx, fresh or recovered. */
static int
pipeline_give_memory(struct plugin_stage *s, struct plugin_ctx *ctx,
    struct plugin_mem *mem, char *err, size_t errlen)
{
	struct plugin_mem_hdr *h;
	uint64_t want = s->info.memory_size;

	if (want == 0)
		return RINGFAN_OK;
	if (mem == NULL || mem->map == NULL || mem->size != want) {
		snprintf(err, errlen, "plugin %s: asks for %llu bytes of host "
		    "memory, %llu were set up when it was validated (replaced "
		    "since?): reload to apply", plugin_ctx_name(ctx),
		    (unsigned long long)want, (unsigned long long)(mem != NULL ?
		    mem->size : 0));
		return RINGFAN_FAIL;
	}
	h = mem->map;
	if (h->magic == PLUGIN_MEM_MAGIC && h->size == want &&
	    __atomic_load_n(&h->opened, __ATOMIC_ACQUIRE) == 1) {
		ctx->pub.memory_state = RINGFAN_MEMORY_RECOVERED;
		ctx->pub.memory_layout = h->layout;
	} else {
		if (h->magic == PLUGIN_MEM_MAGIC)	/* used before */
			plugin_mem_zero(mem);
		h->magic = PLUGIN_MEM_MAGIC;
		h->size = want;
		ctx->pub.memory_state = RINGFAN_MEMORY_FRESH;
		ctx->pub.memory_layout = s->info.memory_layout;
	}
	/* 64 bytes into a mapping: aligned to 64, as the ABI promises. */
	ctx->pub.memory = h + 1;
	ctx->pub.memory_size = want;
	s->mem = mem;
	return RINGFAN_OK;
}

static int
pipeline_open_stage(struct pipeline *pl, size_t i,
    const struct plugin_env *env, struct stats_worker *w,
    struct plugin_mem *mem, char *err, size_t errlen)
{
	struct plugin_stage *s = &pl->stages[i];
	const struct ringfan_plugin *c = &s->plugin->calls;
	struct plugin_mem_hdr *h;
	struct plugin_ctx *ctx;
	int rc = RINGFAN_OK;

	if ((ctx = plugin_ctx_new(pl, i, env, w, false)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", cfg_step_name(s->conf),
		    strerror(ENOMEM));
		return RINGFAN_FAIL;
	}
	s->ctx = ctx;
	if (i < STATS_MAX_STAGES)
		stats_status_init(w, i, plugin_ctx_name(ctx));
	if ((rc = pipeline_give_memory(s, ctx, mem, err, errlen)) != RINGFAN_OK)
		return rc;
	/* Named in the stage while it runs, for the master (stall.c). */
	STATS_STORE(&w->stage, STATS_STAGE_OPEN + (uint32_t)i);
	if (c->open != NULL)
		rc = c->open(&ctx->pub, &s->state);
	STATS_STORE(&w->stage, STATS_STAGE_NONE);
	/* An open that recorded an error but said 0 still holds its state. */
	s->opened = rc == RINGFAN_OK;
	if ((rc = plugin_ctx_result(ctx, "open", rc, err, errlen)) !=
	    RINGFAN_OK)
		return rc;
	/* With a check, what it did not read is unknown: it said so. */
	if (c->check == NULL &&
	    (rc = plugin_ctx_unknown_options(ctx, err, errlen)) != RINGFAN_OK)
		return rc;
	if (s->mem != NULL) {
		h = s->mem->map;
		h->layout = s->info.memory_layout;
		__atomic_store_n(&h->opened, 1, __ATOMIC_RELEASE);
	}
	ctx->opened = true;
	s->tick_ns = s->info.tick_ns != 0 ? s->info.tick_ns :
	    env->cfg->stats_interval_ns;
	s->next_tick = 0;
	return RINGFAN_OK;
}

int
pipeline_open(struct pipeline *pl, const struct plugin_env *env,
    struct stats_worker *w, struct plugin_mem *mem, char *err, size_t errlen)
{
	int rc;

	pl->w = w;
	pl->next_tick = 0;
	for (size_t i = 0; i < pl->nstages; i++) {
		rc = pipeline_open_stage(pl, i, env, w, mem != NULL ? &mem[i] :
		    NULL, err, errlen);
		if (rc != RINGFAN_OK) {
			pipeline_close_stages(pl);
			return rc;
		}
	}
	return RINGFAN_OK;
}

void
pipeline_bad_verdict(struct plugin_stage *s, int v)
{
	if (s->bad_verdict)
		return;
	s->bad_verdict = true;
	log_warnx("plugin %s: packet returned %d, neither RINGFAN_CONTINUE "
	    "nor RINGFAN_STOP: taken as RINGFAN_STOP (said once)",
	    cfg_step_name(s->conf), v);
}

void
pipeline_rest(struct pipeline *pl, const struct ringfan_packet **pkts,
    size_t n)
{
	struct plugin_stage *s;
	size_t kept;

	for (size_t i = pl->first_batch; i < pl->nstages && n > 0; i++) {
		s = &pl->stages[i];
		if (pl->w != NULL)
			STATS_STORE(&pl->w->stage, STATS_STAGE_REST + (uint32_t)i);
		if (s->plugin->calls.batch != NULL) {
			s->plugin->calls.batch(s->state, pkts, n);
			continue;
		}
		kept = 0;
		for (size_t k = 0; k < n; k++)
			if (pipeline_passes(s, s->packet(s->state, pkts[k])))
				pkts[kept++] = pkts[k];
		n = kept;
	}
}

/*
 * Stage i's tick, named in pl->w->stage while it runs (STATS_STAGE_TICK +
 * i, for the stall watch); the stage is put back as it was.
 */
static void
pipeline_tick_one(struct pipeline *pl, size_t i, uint64_t now_ns)
{
	struct plugin_stage *s = &pl->stages[i];
	uint32_t was = STATS_LOAD(&pl->w->stage);

	STATS_STORE(&pl->w->stage, STATS_STAGE_TICK + (uint32_t)i);
	s->plugin->calls.tick(s->state, now_ns);
	STATS_STORE(&pl->w->stage, was);
}

/*
 * When a period that starts at now_ns ends: UINT64_MAX (never) for one
 * that network time cannot reach, which would wrap to the past and tick
 * at every call.
 */
static uint64_t
pipeline_due(uint64_t now_ns, uint64_t period_ns)
{
	return period_ns > UINT64_MAX - now_ns ? UINT64_MAX :
	    now_ns + period_ns;
}

void
pipeline_tick(struct pipeline *pl, uint64_t now_ns)
{
	struct plugin_stage *s;
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < pl->nstages; i++) {
		s = &pl->stages[i];
		if (s->next_tick == 0)		/* the first time: arm it */
			s->next_tick = pipeline_due(now_ns, s->tick_ns);
		else if (now_ns >= s->next_tick) {
			pipeline_tick_one(pl, i, now_ns);
			s->next_tick = pipeline_due(now_ns, s->tick_ns);
		}
		if (s->next_tick < next)
			next = s->next_tick;
	}
	pl->next_tick = next;
}

void
pipeline_tick_all(struct pipeline *pl, uint64_t now_ns)
{
	for (size_t i = 0; i < pl->nstages; i++)
		pl->stages[i].next_tick = 1;
	pipeline_tick(pl, now_ns);
}

void
pipeline_close(struct pipeline *pl)
{
	pipeline_close_stages(pl);
}

void
pipeline_unload(struct pipeline *pl)
{
	pipeline_close_stages(pl);
	for (size_t i = 0; i < pl->nstages; i++)
		plugin_unload(&pl->plugins[i]);
	free(pl->plugins);
	free(pl->stages);
	free(pl->names);
	pipeline_check_slots_drop(pl);
	memset(pl, 0, sizeof(*pl));
}

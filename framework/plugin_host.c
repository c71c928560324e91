/*
 * Loading, checking and calling plugins.
 *
 * Everything about a plugin is checked when it is loaded: the file, the
 * symbol, the ABI, the size, the callbacks and the name.  Missing optional
 * callbacks are then filled with no-ops once, so the per-frame loop never
 * tests for NULL.  The master never loads a plugin: pipeline_validate()
 * does it in a child, and each worker does it after dropping privileges.
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "plugin_host.h"
#include "ringfan_build.h"
#include "sandbox.h"
#include "util.h"

/* The ABI 2.0 struct ends with `close`: a smaller one cannot be 2.x. */
#define PLUGIN_MIN_SIZE \
	(offsetof(struct ringfan_plugin, close) + sizeof(void (*)(void *)))
/* No minor will grow the struct this far: a bigger size is a bad plugin. */
#define PLUGIN_MAX_SIZE		4096
/* How long a validation may take before its child is killed. */
#define PLUGIN_VALIDATE_MS	10000
/* "ringfan1" + "mem": the header of a host memory region. */
#define PLUGIN_MEM_MAGIC	0x6d656d316e66726eULL

/* The header of a host memory region; the plugin's bytes follow. */
struct plugin_mem_hdr {
	uint64_t	magic;
	uint64_t	size;
	uint32_t	layout;		/* as the last opener declared it */
	uint32_t	opened;		/* 1 from open until a clean close */
	uint8_t		pad[40];
};
_Static_assert(sizeof(struct plugin_mem_hdr) == 64, "memory header size");

struct plugin_ctx {
	struct ringfan_ctx	 pub;
	const struct plugin_env	*env;
	struct plugin_stage	*stage;
	size_t			 index;		/* of the stage */
	struct stats_worker	*w;
	bool			 checking;	/* in check or a trial open */
	bool			*used;		/* per option: asked for */
	char			 err[PLUGIN_ERR_MAX];
};

/* Try DIR/NAME.so, then DIR/NAME/NAME.so (the layout of a build tree). */
static bool
plugin_find_in(const char *dir, const char *name, char *out, size_t outlen,
    char *searched, size_t slen)
{
	if (*searched != '\0')
		strlcat(searched, ":", slen);
	strlcat(searched, dir, slen);
	snprintf(out, outlen, "%s/%s.so", dir, name);
	if (access(out, F_OK) == 0)
		return true;
	snprintf(out, outlen, "%s/%s/%s.so", dir, name, name);
	return access(out, F_OK) == 0;
}

/*
 * RINGFAN_PLUGIN_PATH first, then plugin_path, then the installed plugin
 * directory: plugin_path adds directories, the bundled plugins stay found.
 */
static bool
plugin_find(const char *name, char *const *path, size_t npath, char *out,
    size_t outlen, char *searched, size_t slen)
{
	const char *env = getenv("RINGFAN_PLUGIN_PATH");
	char *dirs, *dir, *save = NULL;
	bool found = false;

	searched[0] = '\0';
	if (env != NULL && *env != '\0') {
		if ((dirs = strdup(env)) == NULL)
			return false;
		for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
		    dir = strtok_r(NULL, ":", &save))
			found = plugin_find_in(dir, name, out, outlen,
			    searched, slen);
		free(dirs);
	}
	for (size_t i = 0; i < npath && !found; i++)
		found = plugin_find_in(path[i], name, out, outlen, searched,
		    slen);
	for (size_t i = 0; i < npath; i++)
		if (strcmp(path[i], RINGFAN_PLUGIN_DIR) == 0)
			return found;	/* searched already */
	if (!found)
		found = plugin_find_in(RINGFAN_PLUGIN_DIR, name, out, outlen,
		    searched, slen);
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

static int
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

int
plugin_load(struct plugin *p, const char *name, char *const *path,
    size_t npath, char *err, size_t errlen)
{
	const struct ringfan_plugin *d;
	char file[4096], searched[2048];

	memset(p, 0, sizeof(*p));
	if (!name_valid(name, STATS_PLUGIN_NAME)) {
		snprintf(err, errlen, "plugin \"%s\": invalid name "
		    "(1 to %d of a-z, 0-9, _)", name, STATS_PLUGIN_NAME - 1);
		return -1;
	}
	if (!plugin_find(name, path, npath, file, sizeof(file), searched,
	    sizeof(searched))) {
		snprintf(err, errlen, "plugin %s: %s.so not found in %s", name,
		    name, searched);
		return -1;
	}
	if ((p->path = strdup(file)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", name, strerror(errno));
		return -1;
	}
	p->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL)
		return plugin_refuse(p, err, errlen, "dlopen: %s", dlerror());
	d = dlsym(p->dl, RINGFAN_PLUGIN_SYMBOL);
	if (d == NULL)
		return plugin_refuse(p, err, errlen,
		    "no symbol %s: not a ringfan plugin", RINGFAN_PLUGIN_SYMBOL);
	if (d->abi >> 16 != RINGFAN_PLUGIN_ABI_MAJOR)
		return plugin_refuse(p, err, errlen,
		    "plugin ABI %u.%u, ringfan supports %u.x", d->abi >> 16,
		    d->abi & 0xffff, RINGFAN_PLUGIN_ABI_MAJOR);
	if (d->size < PLUGIN_MIN_SIZE)
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes, ABI %u.%u needs %zu", d->size,
		    d->abi >> 16, d->abi & 0xffff, PLUGIN_MIN_SIZE);
	if (d->size > PLUGIN_MAX_SIZE)
		return plugin_refuse(p, err, errlen,
		    "plugin struct of %u bytes: more than any ABI 2 needs (%d)",
		    d->size, PLUGIN_MAX_SIZE);
	if ((d->abi & 0xffff) > RINGFAN_PLUGIN_ABI_MINOR &&
	    plugin_sets_unknown(d))
		return plugin_refuse(p, err, errlen,
		    "plugin ABI %u.%u uses features that ringfan (ABI %u.%u) "
		    "lacks", d->abi >> 16, d->abi & 0xffff,
		    RINGFAN_PLUGIN_ABI_MAJOR, RINGFAN_PLUGIN_ABI_MINOR);
	if (d->name == NULL || !name_valid(d->name, STATS_PLUGIN_NAME))
		return plugin_refuse(p, err, errlen,
		    "plugin name missing or invalid");
	if (d->packet == NULL && d->batch == NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has neither a packet nor a batch callback",
		    d->name);
	if (d->packet != NULL && d->batch != NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has both a packet and a batch callback", d->name);
	p->desc = d;
	/* A newer minor appends fields we do not know: copy what we do. */
	memcpy(&p->calls, d, d->size < sizeof(p->calls) ? d->size :
	    sizeof(p->calls));
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
}

/* What the master keeps of a loaded plugin, before its check. */
static void
plugin_describe(const struct plugin *p, struct plugin_info *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	strlcpy(in->path, p->path, sizeof(in->path));
	strlcpy(in->name, p->calls.name, sizeof(in->name));
	strlcpy(in->version, p->calls.version != NULL ? p->calls.version : "",
	    sizeof(in->version));
	strlcpy(in->description, p->calls.description != NULL ?
	    p->calls.description : "", sizeof(in->description));
	in->abi = p->calls.abi;
	if (stat(p->path, &st) == 0) {
		in->dev = (uint64_t)st.st_dev;
		in->ino = (uint64_t)st.st_ino;
		in->fsize = (uint64_t)st.st_size;
		in->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
		    (uint64_t)st.st_mtim.tv_nsec;
	}
}

int
pipeline_load(struct pipeline *pl, const struct cfg *cfg,
    const struct cfg_capture *cap, char *err, size_t errlen)
{
	const struct cfg_plugin *cp;
	char msg[PLUGIN_ERR_MAX];
	size_t n = cap->npipeline;

	memset(pl, 0, sizeof(*pl));
	pl->plugins = calloc(n ? n : 1, sizeof(*pl->plugins));
	pl->stages = calloc(n ? n : 1, sizeof(*pl->stages));
	pl->names = calloc(n ? n : 1, sizeof(*pl->names));
	if (pl->plugins == NULL || pl->stages == NULL || pl->names == NULL) {
		snprintf(err, errlen, "pipeline: %s", strerror(ENOMEM));
		pipeline_unload(pl);
		return -1;
	}
	pl->first_batch = n;
	for (size_t i = 0; i < n; i++) {
		cp = &cap->pipeline[i];
		if (plugin_load(&pl->plugins[i], cp->name, cfg->plugin_path,
		    cfg->nplugin_path, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%u:%u: %s", cfg->path,
			    cp->pos.line, cp->pos.col, msg);
			pipeline_unload(pl);
			return -1;
		}
		pl->nstages = i + 1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(pl->plugins[j].calls.name,
			    pl->plugins[i].calls.name) != 0)
				continue;
			snprintf(err, errlen, "%s:%u:%u: %s: plugin name \"%s\" "
			    "is already used by %s", cfg->path, cp->pos.line,
			    cp->pos.col, pl->plugins[i].path,
			    pl->plugins[i].calls.name, pl->plugins[j].path);
			pipeline_unload(pl);
			return -1;
		}
		pl->names[i] = pl->plugins[i].calls.name;
		pl->stages[i].plugin = &pl->plugins[i];
		pl->stages[i].conf = cp;
		pl->stages[i].packet = pl->plugins[i].calls.packet;
		plugin_describe(&pl->plugins[i], &pl->stages[i].info);
		if (pl->plugins[i].calls.batch != NULL) {
			pl->has_batch = true;
			if (pl->first_batch == n)
				pl->first_batch = i;
		}
	}
	return 0;
}

/* Services offered to plugins through struct ringfan_ctx. */

static struct plugin_ctx *
ctx_of(struct ringfan_ctx *pub)
{
	return (struct plugin_ctx *)pub;
}

static const char *
ctx_name(const struct plugin_ctx *ctx)
{
	return ctx->stage->plugin->calls.name;
}

static void
ctx_error(struct ringfan_ctx *pub, const char *fmt, ...)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	va_list ap;

	if (ctx->err[0] != '\0')
		return;		/* the first cause is the one to report */
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

static void
ctx_log(struct ringfan_ctx *pub, int level, const char *fmt, ...)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (level <= RINGFAN_LOG_ERROR)
		log_error("plugin %s: %s", ctx_name(ctx), buf);
	else if (level == RINGFAN_LOG_WARN)
		log_warnx("plugin %s: %s", ctx_name(ctx), buf);
	else if (level == RINGFAN_LOG_INFO)
		log_info("plugin %s: %s", ctx_name(ctx), buf);
	else
		log_debug("plugin %s: %s", ctx_name(ctx), buf);
}

static void
ctx_status(struct ringfan_ctx *pub, const char *fmt, ...)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	char buf[STATS_STATUS_MAX];
	va_list ap;

	if (ctx->w == NULL || ctx->index >= STATS_MAX_STAGES)
		return;
	buf[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	stats_status_set(ctx->w, ctx->index, buf);
}

/* The option `key`, marked as asked for; NULL when absent. */
static const struct cfg_option *
ctx_option(struct plugin_ctx *ctx, const char *key)
{
	const struct cfg_plugin *cp = ctx->stage->conf;

	for (size_t i = 0; i < cp->noptions; i++) {
		if (strcmp(cp->options[i].key, key) == 0) {
			ctx->used[i] = true;
			return &cp->options[i];
		}
	}
	return NULL;
}

static int
ctx_bad_option(struct plugin_ctx *ctx, const struct cfg_option *o,
    const char *what)
{
	ctx_error(&ctx->pub, "%s:%u:%u: option %s: %s \"%s\"",
	    ctx->env->cfg->path, o->pos.line, o->pos.col, o->key, what,
	    o->value);
	return -1;
}

static int
ctx_opt_string(struct ringfan_ctx *pub, const char *key, const char *def,
    const char **out)
{
	const struct cfg_option *o = ctx_option(ctx_of(pub), key);

	*out = o != NULL ? o->value : def;
	return 0;
}

/* One getter per parser of util.h, all with the same shape. */
#define CTX_OPT_NUM(fn, type, parse, what)				\
static int								\
fn(struct ringfan_ctx *pub, const char *key, type def, type *out)	\
{									\
	struct plugin_ctx *ctx = ctx_of(pub);				\
	const struct cfg_option *o = ctx_option(ctx, key);		\
									\
	*out = def;							\
	if (o == NULL)							\
		return 0;						\
	if (parse(o->value, out) != 0) {				\
		*out = def;						\
		return ctx_bad_option(ctx, o, what);			\
	}								\
	return 0;							\
}

CTX_OPT_NUM(ctx_opt_uint, uint64_t, parse_uint, "not an unsigned integer")
CTX_OPT_NUM(ctx_opt_size, uint64_t, parse_size, "not a size")
CTX_OPT_NUM(ctx_opt_duration, uint64_t, parse_duration, "not a duration")

static int
ctx_opt_bool(struct ringfan_ctx *pub, const char *key, int def, int *out)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	const struct cfg_option *o = ctx_option(ctx, key);
	bool b;

	*out = def;
	if (o == NULL)
		return 0;
	if (parse_bool(o->value, &b) != 0)
		return ctx_bad_option(ctx, o, "not a boolean");
	*out = b;
	return 0;
}

static uint64_t *
ctx_slot(struct ringfan_ctx *pub, const char *name, enum stats_kind kind)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	const char *what = kind == STATS_GAUGE ? "gauge" : "counter";
	uint64_t *slot;

	if (!name_valid(name, STATS_COUNTER_NAME)) {
		ctx_error(pub, "%s name \"%s\" invalid (1 to %d of a-z, "
		    "0-9, _)", what, name, STATS_COUNTER_NAME - 1);
		return NULL;
	}
	switch (stats_counter(ctx->w, ctx_name(ctx), name, kind, &slot)) {
	case 0:
		return slot;
	case -EEXIST:
		ctx_error(pub, "%s %s: the name is taken by a %s", what, name,
		    kind == STATS_GAUGE ? "counter" : "gauge");
		return NULL;
	default:
		ctx_error(pub, "%s %s: all %d counter and gauge slots of the "
		    "worker are in use", what, name, STATS_MAX_COUNTERS);
		return NULL;
	}
}

static uint64_t *
ctx_counter(struct ringfan_ctx *pub, const char *name)
{
	return ctx_slot(pub, name, STATS_COUNTER);
}

static uint64_t *
ctx_gauge(struct ringfan_ctx *pub, const char *name)
{
	return ctx_slot(pub, name, STATS_GAUGE);
}

static int
ctx_memory_request(struct ringfan_ctx *pub, uint64_t size, uint32_t layout)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	struct plugin_info *in = &ctx->stage->info;

	/*
	 * A trial open stands in for a missing check but is an open: the
	 * worker's open would be refused, so the validation must be too.
	 */
	if (!ctx->checking || ctx->stage->opened ||
	    ctx->stage->plugin->calls.check == NULL) {
		ctx_error(pub, "memory_request: only in check");
		return -1;
	}
	if (size == 0 || size > PLUGIN_MEMORY_MAX || layout == 0) {
		ctx_error(pub, "memory_request: %llu bytes of layout %u: size "
		    "must be 1 B to %llu MiB and the layout not 0",
		    (unsigned long long)size, layout,
		    PLUGIN_MEMORY_MAX >> 20);
		return -1;
	}
	in->memory_size = size;
	in->memory_layout = layout;
	return 0;
}

static void
ctx_tick_period(struct ringfan_ctx *pub, uint64_t period_ns)
{
	struct plugin_ctx *ctx = ctx_of(pub);

	ctx->stage->info.tick_ns = period_ns < PLUGIN_TICK_MIN_NS ?
	    PLUGIN_TICK_MIN_NS : period_ns;
}

static void
ctx_free(struct plugin_ctx *ctx)
{
	if (ctx != NULL)
		free(ctx->used);
	free(ctx);
}

static struct plugin_ctx *
ctx_new(struct plugin_stage *s, size_t index, const struct plugin_env *env,
    struct stats_worker *w, bool checking)
{
	struct plugin_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (ctx->used = calloc(s->conf->noptions + 1, sizeof(bool))) == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->env = env;
	ctx->stage = s;
	ctx->index = index;
	ctx->w = w;
	ctx->checking = checking;
	ctx->pub.abi = RINGFAN_PLUGIN_ABI;
	ctx->pub.size = sizeof(ctx->pub);
	ctx->pub.flags = env->flags;
	ctx->pub.worker_id = env->worker_id;
	ctx->pub.worker_count = env->worker_count;
	ctx->pub.capture = env->cap->name;
	ctx->pub.interface = env->interface;
	ctx->pub.linktype = env->linktype;
	ctx->pub.snaplen = env->snaplen;
	ctx->pub.opt_string = ctx_opt_string;
	ctx->pub.opt_uint = ctx_opt_uint;
	ctx->pub.opt_bool = ctx_opt_bool;
	ctx->pub.opt_size = ctx_opt_size;
	ctx->pub.opt_duration = ctx_opt_duration;
	ctx->pub.counter = ctx_counter;
	ctx->pub.gauge = ctx_gauge;
	ctx->pub.memory_request = ctx_memory_request;
	ctx->pub.tick_period = ctx_tick_period;
	ctx->pub.log = ctx_log;
	ctx->pub.error = ctx_error;
	ctx->pub.status = ctx_status;
	ctx->pub.host = ctx;
	return ctx;
}

/* RINGFAN_OK unless the plugin left an option unread. */
static int
ctx_unknown_options(const struct plugin_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg_plugin *cp = ctx->stage->conf;

	for (size_t k = 0; k < cp->noptions; k++) {
		if (ctx->used[k])
			continue;
		snprintf(err, errlen, "%s:%u:%u: plugin %s: unknown option "
		    "\"%s\"", ctx->env->cfg->path, cp->options[k].pos.line,
		    cp->options[k].pos.col, ctx_name(ctx), cp->options[k].key);
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

/* A plugin's answer as an enum ringfan_result, its message in err. */
static int
ctx_result(const struct plugin_ctx *ctx, int rc, char *err, size_t errlen)
{
	if (rc == RINGFAN_OK && ctx->err[0] == '\0')
		return RINGFAN_OK;
	snprintf(err, errlen, "plugin %s: ", ctx_name(ctx));
	strlcat(err, ctx->err[0] != '\0' ? ctx->err :
	    "failed without a message", errlen);
	return rc == RINGFAN_RETRY ? RINGFAN_RETRY : RINGFAN_FAIL;
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
	if ((ctx = ctx_new(s, i, env, scratch, true)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", c->name,
		    strerror(ENOMEM));
		return RINGFAN_FAIL;
	}
	if (c->check != NULL) {
		/* A check needs no resource: nothing to wait for. */
		if ((rc = c->check(&ctx->pub)) == RINGFAN_RETRY && ctx->err[0] ==
		    '\0')
			ctx_error(&ctx->pub, "check returned RINGFAN_RETRY, which "
			    "only open may");
		rc = ctx_result(ctx, rc == RINGFAN_RETRY ? RINGFAN_FAIL : rc,
		    err, errlen);
	} else if (c->open != NULL && (env->flags & RINGFAN_CTX_CHECK)) {
		/* A trial: nothing is captured, the state is closed at once. */
		rc = c->open(&ctx->pub, &state);
		if (rc == RINGFAN_OK)
			c->close(state);
		rc = ctx_result(ctx, rc, err, errlen);
	} else {
		/* In a worker, open reads the options and is checked. */
		ctx_free(ctx);
		return RINGFAN_OK;
	}
	if (rc == RINGFAN_OK)
		rc = ctx_unknown_options(ctx, err, errlen);
	ctx_free(ctx);
	return rc;
}

int
pipeline_check(struct pipeline *pl, const struct plugin_env *env, char *err,
    size_t errlen)
{
	struct stats_worker *scratch;
	char msg[PLUGIN_ERR_MAX];
	int rc = RINGFAN_OK, src;

	/* Counters a check asks for go nowhere. */
	if ((scratch = calloc(1, sizeof(*scratch))) == NULL) {
		snprintf(err, errlen, "pipeline: %s", strerror(ENOMEM));
		return RINGFAN_FAIL;
	}
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
	free(scratch);
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
			s->plugin->calls.close(s->state);
			/* Closed cleanly: nothing in it is to be recovered. */
			if (s->mem != NULL && (h = s->mem->map) != NULL)
				__atomic_store_n(&h->opened, 0,
				    __ATOMIC_RELEASE);
		}
		s->opened = false;
		s->state = NULL;
		s->mem = NULL;
		ctx_free(s->ctx);
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
		    "since?): reload to apply", ctx_name(ctx),
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

	if ((ctx = ctx_new(s, i, env, w, false)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", c->name,
		    strerror(ENOMEM));
		return RINGFAN_FAIL;
	}
	s->ctx = ctx;
	if (i < STATS_MAX_STAGES)
		stats_status_init(w, i, c->name);
	if ((rc = pipeline_give_memory(s, ctx, mem, err, errlen)) != RINGFAN_OK)
		return rc;
	if (c->open != NULL)
		rc = c->open(&ctx->pub, &s->state);
	/* An open that recorded an error but said 0 still holds its state. */
	s->opened = rc == RINGFAN_OK;
	if ((rc = ctx_result(ctx, rc, err, errlen)) != RINGFAN_OK)
		return rc;
	if (c->check == NULL &&
	    (rc = ctx_unknown_options(ctx, err, errlen)) != RINGFAN_OK)
		return rc;
	if (s->mem != NULL) {
		h = s->mem->map;
		h->layout = s->info.memory_layout;
		__atomic_store_n(&h->opened, 1, __ATOMIC_RELEASE);
	}
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
pipeline_rest(struct pipeline *pl, const struct ringfan_packet **pkts,
    size_t n)
{
	struct plugin_stage *s;
	size_t kept;

	for (size_t i = pl->first_batch; i < pl->nstages && n > 0; i++) {
		s = &pl->stages[i];
		if (s->plugin->calls.batch != NULL) {
			s->plugin->calls.batch(s->state, pkts, n);
			continue;
		}
		kept = 0;
		for (size_t k = 0; k < n; k++)
			if (s->packet(s->state, pkts[k]) == RINGFAN_CONTINUE)
				pkts[kept++] = pkts[k];
		n = kept;
	}
}

void
pipeline_tick(struct pipeline *pl, uint64_t now_ns)
{
	struct plugin_stage *s;
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < pl->nstages; i++) {
		s = &pl->stages[i];
		if (s->next_tick == 0)		/* the first time: arm it */
			s->next_tick = now_ns + s->tick_ns;
		else if (now_ns >= s->next_tick) {
			s->plugin->calls.tick(s->state, now_ns);
			s->next_tick = now_ns + s->tick_ns;
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
	memset(pl, 0, sizeof(*pl));
}

int
plugin_mem_map(struct plugin_mem *m, const struct plugin_info *info)
{
	size_t len = sizeof(struct plugin_mem_hdr) + info->memory_size;
	void *p;

	memset(m, 0, sizeof(*m));
	if (info->memory_size == 0)
		return 0;
	/* Pages are committed as the plugin touches them. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->map = p;
	m->size = info->memory_size;
	return 0;
}

void
plugin_mem_unmap(struct plugin_mem *m)
{
	if (m->map != NULL)
		munmap(m->map, sizeof(struct plugin_mem_hdr) + m->size);
	memset(m, 0, sizeof(*m));
}

bool
plugin_file_same(const struct plugin_info *a, const struct plugin_info *b)
{
	return strcmp(a->path, b->path) == 0 && a->dev == b->dev &&
	    a->ino == b->ino && a->fsize == b->fsize &&
	    a->mtime_ns == b->mtime_ns;
}

bool
plugin_info_same(const struct plugin_info *a, const struct plugin_info *b,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!plugin_file_same(&a[i], &b[i]) ||
		    strcmp(a[i].name, b[i].name) != 0 ||
		    a[i].memory_size != b[i].memory_size ||
		    a[i].memory_layout != b[i].memory_layout ||
		    a[i].tick_ns != b[i].tick_ns)
			return false;
	return true;
}

void
pipeline_info_free(struct plugin_info **info, size_t ncaptures)
{
	for (size_t c = 0; info != NULL && c < ncaptures; c++)
		free(info[c]);
	free(info);
}

/* What a validating child hands back, in memory shared with the master. */
struct validation {
	int			rc;
	char			err[PLUGIN_ERR_MAX];
	struct plugin_info	info[];		/* every stage of every capture */
};

static int
validate_drop(bool drop, uid_t uid, gid_t gid)
{
	if (!drop)
		return 0;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/*
 * Plugin code gets none of the master's descriptors: not the capture
 * sockets of every worker, the control socket and its clients, the pidfile
 * or the event loop's.  syslog's socket goes too, closed first so that
 * syslog(3) reconnects rather than write to a descriptor reused since.
 */
static void
validate_close_fds(void)
{
	long max;

	closelog();
	if (close_range(3, ~0u, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

/* The child: load and check everything, report into v, exit. */
static void
validate_child(const struct cfg *cfg, const struct plugin_env *envs, bool drop,
    uid_t uid, gid_t gid, struct validation *v)
{
	struct pipeline pl;
	struct plugin_env env;
	sigset_t none;
	size_t at = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGALRM, SIG_DFL);
	validate_close_fds();
	if (validate_drop(drop, uid, gid) == -1) {
		snprintf(v->err, sizeof(v->err), "plugin validation: dropping "
		    "to uid %u: %s", (unsigned)uid, strerror(errno));
		_exit(1);
	}
	/* After the drop, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Plugin code is held to what it may do in a worker: no socket here. */
	if (sandbox_install(-1, v->err, sizeof(v->err)) == -1)
		_exit(1);
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];

		if (pipeline_load(&pl, cfg, cap, v->err, sizeof(v->err)) == -1)
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
 * could block or ignore any alarm of its own.  0, or -1 with errno.
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
	return r == pid ? 0 : -1;
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
	in->version[sizeof(in->version) - 1] = '\0';
	in->description[sizeof(in->description) - 1] = '\0';
	if (in->memory_size > PLUGIN_MEMORY_MAX)
		in->memory_size = PLUGIN_MEMORY_MAX;
	if (in->tick_ns != 0 && in->tick_ns < PLUGIN_TICK_MIN_NS)
		in->tick_ns = PLUGIN_TICK_MIN_NS;
}

int
pipeline_validate(const struct cfg *cfg, const struct plugin_env *envs,
    bool drop,
    uid_t uid, gid_t gid, struct plugin_info ***info, char *err,
    size_t errlen)
{
	struct plugin_info **out;
	struct validation *v;
	size_t nstages = 0, len, at = 0;
	pid_t pid;
	int status;

	*info = NULL;
	for (size_t c = 0; c < cfg->ncaptures; c++)
		nstages += cfg->captures[c].npipeline;
	len = sizeof(*v) + nstages * sizeof(v->info[0]);
	v = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (v == MAP_FAILED) {
		snprintf(err, errlen, "plugin validation: mmap: %s",
		    strerror(errno));
		return -1;
	}
	v->rc = -1;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "plugin validation: fork: %s",
		    strerror(errno));
		munmap(v, len);
		return -1;
	}
	if (pid == 0)
		validate_child(cfg, envs, drop, uid, gid, v);
	if (validate_wait(pid, &status) == -1) {
		snprintf(err, errlen, "plugin validation: waitpid: %s",
		    strerror(errno));
		munmap(v, len);
		return -1;
	}
	if (WIFSIGNALED(status) || v->rc != 0) {
		if (v->err[0] != '\0')
			strlcpy(err, v->err, errlen);
		else if (WIFSIGNALED(status))
			snprintf(err, errlen, "plugin validation: the checking "
			    "process was killed by signal %d (%s)%s",
			    WTERMSIG(status), strsignal(WTERMSIG(status)),
			    WTERMSIG(status) == SIGKILL ? ": a plugin's check "
			    "took more than 10 s?" : "");
		else
			snprintf(err, errlen, "plugin validation: the checking "
			    "process exited with code %d", WEXITSTATUS(status));
		munmap(v, len);
		return -1;
	}
	if ((out = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*out))) == NULL)
		goto nomem;
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		size_t n = cfg->captures[c].npipeline;

		if ((out[c] = calloc(n ? n : 1, sizeof(*out[c]))) == NULL) {
			pipeline_info_free(out, c);
			goto nomem;
		}
		memcpy(out[c], &v->info[at], n * sizeof(*out[c]));
		at += n;
		for (size_t k = 0; k < n; k++)
			validate_sanitize(&out[c][k]);
	}
	munmap(v, len);
	*info = out;
	return 0;
nomem:
	munmap(v, len);
	snprintf(err, errlen, "plugin validation: %s", strerror(ENOMEM));
	return -1;
}

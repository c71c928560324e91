/*
 * Loading, checking and calling plugins.
 *
 * Everything about a plugin is checked when it is loaded, in the master,
 * before any worker exists: the file, the symbol, the ABI, the size, the
 * callbacks and the name.  Missing optional callbacks are then filled with
 * no-ops once, so the per-frame loop never tests for NULL.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "plugin_host.h"
#include "util.h"

/* The ABI 1.0 struct ends with `close`: a smaller one cannot be v1. */
#define PLUGIN_MIN_SIZE \
	(offsetof(struct ringfan_plugin, close) + sizeof(void (*)(void *)))

struct plugin_ctx {
	struct ringfan_ctx	 pub;
	const struct cfg	*cfg;
	struct plugin_stage	*stage;
	struct stats_worker	*w;
	bool			*used;		/* per option: asked for */
	char			 err[PLUGIN_ERR_MAX];
};

static bool
plugin_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* Try DIR/NAME.so, then DIR/NAME/NAME.so (the layout of a build tree). */
static bool
plugin_find_in(const char *dir, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.so", dir, name);
	if (access(out, F_OK) == 0)
		return true;
	snprintf(out, outlen, "%s/%s/%s.so", dir, name, name);
	return access(out, F_OK) == 0;
}

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
		    dir = strtok_r(NULL, ":", &save)) {
			found = plugin_find_in(dir, name, out, outlen);
			if (*searched != '\0')
				strlcat(searched, ":", slen);
			strlcat(searched, dir, slen);
		}
		free(dirs);
	}
	for (size_t i = 0; i < npath && !found; i++) {
		found = plugin_find_in(path[i], name, out, outlen);
		if (*searched != '\0')
			strlcat(searched, ":", slen);
		strlcat(searched, path[i], slen);
	}
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

int
plugin_load(struct plugin *p, const char *name, char *const *path,
    size_t npath, char *err, size_t errlen)
{
	const struct ringfan_plugin *d;
	char file[4096], searched[2048];

	memset(p, 0, sizeof(*p));
	if (!plugin_name_valid(name)) {
		snprintf(err, errlen, "plugin \"%s\": invalid name "
		    "(1 to 31 of a-z, 0-9, _)", name);
		return -1;
	}
	if (!plugin_find(name, path, npath, file, sizeof(file), searched,
	    sizeof(searched))) {
		snprintf(err, errlen, "plugin %s: %s.so not found in %s", name,
		    name, *searched != '\0' ? searched : "an empty plugin_path");
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
	if (d->name == NULL || !plugin_name_valid(d->name))
		return plugin_refuse(p, err, errlen,
		    "plugin name missing or invalid");
	if (d->packet == NULL && d->batch == NULL)
		return plugin_refuse(p, err, errlen,
		    "plugin %s has neither a packet nor a batch callback",
		    d->name);
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
		if (pl->plugins[i].calls.batch != NULL)
			pl->has_batch = true;
	}
	return 0;
}

/* Services offered to plugins through struct ringfan_ctx. */

static struct plugin_ctx *
ctx_of(struct ringfan_ctx *pub)
{
	return (struct plugin_ctx *)pub;
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

	if (level < RINGFAN_LOG_ERROR)
		level = RINGFAN_LOG_ERROR;
	if (level > RINGFAN_LOG_DEBUG)
		level = RINGFAN_LOG_DEBUG;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	switch (level) {
	case RINGFAN_LOG_ERROR:
		log_error("plugin %s: %s", ctx->stage->plugin->calls.name, buf);
		break;
	case RINGFAN_LOG_WARN:
		log_warnx("plugin %s: %s", ctx->stage->plugin->calls.name, buf);
		break;
	case RINGFAN_LOG_INFO:
		log_info("plugin %s: %s", ctx->stage->plugin->calls.name, buf);
		break;
	default:
		log_debug("plugin %s: %s", ctx->stage->plugin->calls.name, buf);
		break;
	}
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
	ctx_error(&ctx->pub, "%s:%u:%u: option %s: %s \"%s\"", ctx->cfg->path,
	    o->pos.line, o->pos.col, o->key, what, o->value);
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
ctx_counter(struct ringfan_ctx *pub, const char *name)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	uint64_t *slot;
	size_t n = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_') {
			n = 0;
			break;
		}
	}
	if (n == 0 || n >= STATS_COUNTER_NAME) {
		ctx_error(pub, "counter name \"%s\" invalid (1 to %d of a-z, "
		    "0-9, _)", name, STATS_COUNTER_NAME - 1);
		return NULL;
	}
	slot = stats_counter(ctx->w, ctx->stage->plugin->calls.name, name);
	if (slot == NULL)
		ctx_error(pub, "counter %s: all %d counter slots of the worker "
		    "are in use", name, STATS_MAX_COUNTERS);
	return slot;
}

static void
pipeline_close_stages(struct pipeline *pl)
{
	struct plugin_stage *s;

	for (size_t i = 0; i < pl->nstages; i++) {
		s = &pl->stages[i];
		if (s->opened)
			s->plugin->calls.close(s->state);
		s->opened = false;
		s->state = NULL;
		if (s->ctx != NULL) {
			free(s->ctx->used);
			free(s->ctx);
			s->ctx = NULL;
		}
	}
}

static int
pipeline_open_stage(struct pipeline *pl, size_t i, const struct cfg *cfg,
    const struct cfg_capture *cap, unsigned worker_id, struct stats_worker *w,
    char *err, size_t errlen)
{
	struct plugin_stage *s = &pl->stages[i];
	const struct cfg_plugin *cp = s->conf;
	const char *name = s->plugin->calls.name;
	struct plugin_ctx *ctx;
	int rc = 0;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL || (ctx->used = calloc(cp->noptions + 1,
	    sizeof(bool))) == NULL) {
		free(ctx);
		snprintf(err, errlen, "plugin %s: %s", name, strerror(ENOMEM));
		return -1;
	}
	s->ctx = ctx;
	ctx->cfg = cfg;
	ctx->stage = s;
	ctx->w = w;
	ctx->pub.size = sizeof(ctx->pub);
	ctx->pub.worker_id = worker_id;
	ctx->pub.worker_count = cap->workers;
	ctx->pub.capture = cap->name;
	ctx->pub.interface = cap->interface;
	ctx->pub.opt_string = ctx_opt_string;
	ctx->pub.opt_uint = ctx_opt_uint;
	ctx->pub.opt_bool = ctx_opt_bool;
	ctx->pub.opt_size = ctx_opt_size;
	ctx->pub.opt_duration = ctx_opt_duration;
	ctx->pub.counter = ctx_counter;
	ctx->pub.log = ctx_log;
	ctx->pub.error = ctx_error;
	ctx->pub.host = ctx;

	if (s->plugin->calls.open != NULL)
		rc = s->plugin->calls.open(&ctx->pub, &s->state);
	if (rc == 0 && ctx->err[0] == '\0') {
		s->opened = true;
		for (size_t k = 0; k < cp->noptions; k++) {
			if (ctx->used[k])
				continue;
			snprintf(err, errlen, "%s:%u:%u: plugin %s: unknown "
			    "option \"%s\"", cfg->path, cp->options[k].pos.line,
			    cp->options[k].pos.col, name, cp->options[k].key);
			return -1;
		}
		return 0;
	}
	/* An open that recorded an error but said 0 still holds its state. */
	s->opened = rc == 0;
	snprintf(err, errlen, "plugin %s: %s", name,
	    ctx->err[0] != '\0' ? ctx->err : "open failed");
	return -1;
}

int
pipeline_open(struct pipeline *pl, const struct cfg *cfg,
    const struct cfg_capture *cap, unsigned worker_id, struct stats_worker *w,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < pl->nstages; i++) {
		if (pipeline_open_stage(pl, i, cfg, cap, worker_id, w, err,
		    errlen) == -1) {
			pipeline_close_stages(pl);
			return -1;
		}
	}
	return 0;
}

void
pipeline_batch(struct pipeline *pl, const struct ringfan_packet *pkts,
    size_t n)
{
	for (size_t i = 0; i < pl->nstages; i++)
		if (pl->plugins[i].calls.batch != NULL)
			pl->plugins[i].calls.batch(pl->stages[i].state, pkts, n);
}

void
pipeline_tick(struct pipeline *pl, uint64_t now_ns)
{
	for (size_t i = 0; i < pl->nstages; i++)
		pl->plugins[i].calls.tick(pl->stages[i].state, now_ns);
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

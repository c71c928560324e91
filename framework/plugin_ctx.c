/*
 * The services offered to plugins through struct ringfan_ctx: option
 * getters, counters and gauges, status, memory_request, tick_period, log
 * and error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plugin_int.h"
#include "util.h"

static struct plugin_ctx *
ctx_of(struct ringfan_ctx *pub)
{
	return (struct plugin_ctx *)pub;
}

const char *
plugin_ctx_name(const struct plugin_ctx *ctx)
{
	return cfg_step_name(ctx->stage->conf);
}

void
plugin_ctx_error(struct ringfan_ctx *pub, const char *fmt, ...)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	char late[PLUGIN_ERR_MAX];
	va_list ap;

	/*
	 * Once open has succeeded nothing reads an error: say it in the log,
	 * once, rather than drop it (a refusal of a service included).
	 */
	if (ctx->opened) {
		if (ctx->late_said)
			return;
		ctx->late_said = true;
		if (fmt == NULL)
			strlcpy(late, "(a NULL format)", sizeof(late));
		else {
			va_start(ap, fmt);
			vsnprintf(late, sizeof(late), fmt, ap);
			va_end(ap);
		}
		line_scrub(late);
		log_warnx("plugin %s: %s (an error after open fails nothing: "
		    "report it with status or log; said once)",
		    plugin_ctx_name(ctx), late);
		return;
	}
	if (ctx->err[0] != '\0')
		return;		/* the first cause is the one to report */
	if (fmt == NULL) {
		strlcpy(ctx->err, "error with a NULL format", sizeof(ctx->err));
		return;
	}
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	line_scrub(ctx->err);
}

static void LOG_PRINTF(3, 4)
ctx_log(struct ringfan_ctx *pub, int level, const char *fmt, ...)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	enum log_level lv = level <= RINGFAN_LOG_ERROR ? LOG_LVL_ERROR :
	    level == RINGFAN_LOG_WARN ? LOG_LVL_WARN :
	    level == RINGFAN_LOG_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	char buf[1024];
	va_list ap;

	/* A line below the level costs its caller no formatting. */
	if (!log_wants(lv))
		return;
	if (fmt == NULL)
		fmt = "(a NULL format)";
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	line_scrub(buf);
	if (lv == LOG_LVL_ERROR)
		log_error("plugin %s: %s", plugin_ctx_name(ctx), buf);
	else if (lv == LOG_LVL_WARN)
		log_warnx("plugin %s: %s", plugin_ctx_name(ctx), buf);
	else if (lv == LOG_LVL_INFO)
		log_info("plugin %s: %s", plugin_ctx_name(ctx), buf);
	else
		log_debug("plugin %s: %s", plugin_ctx_name(ctx), buf);
}

static void LOG_PRINTF(2, 3)
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

	if (key == NULL)
		return NULL;
	for (size_t i = 0; i < cp->noptions; i++) {
		if (strcmp(cp->options[i].key, key) == 0) {
			ctx->used[i] = true;
			return &cp->options[i];
		}
	}
	return NULL;
}

/*
 * The value of o refused by a getter, and the form it takes (NULL: none
 * worth saying); plugin_ctx_result() says where.
 */
static int
ctx_bad_option(struct plugin_ctx *ctx, const struct cfg_option *o,
    const char *what, const char *form)
{
	if (form == NULL)
		plugin_ctx_error(&ctx->pub, "option %s: %s \"%s\"", o->key,
		    what, o->value);
	else
		plugin_ctx_error(&ctx->pub, "option %s: %s \"%s\" (%s)",
		    o->key, what, o->value, form);
	return -1;
}

/* A getter asked for no key: refused, so that the plugin learns of it. */
static int
ctx_no_key(struct plugin_ctx *ctx, const char *getter)
{
	plugin_ctx_error(&ctx->pub, "%s: the key is NULL", getter);
	return -1;
}

static int
ctx_opt_string(struct ringfan_ctx *pub, const char *key, const char *def,
    const char **out)
{
	const struct cfg_option *o = ctx_option(ctx_of(pub), key);

	*out = o != NULL ? o->value : def;
	return key == NULL ? ctx_no_key(ctx_of(pub), "opt_string") : 0;
}

/* One getter per parser of util.h, all with the same shape. */
#define CTX_OPT_NUM(fn, getter, type, parse, what, form)		\
static int								\
fn(struct ringfan_ctx *pub, const char *key, type def, type *out)	\
{									\
	struct plugin_ctx *ctx = ctx_of(pub);				\
	const struct cfg_option *o = ctx_option(ctx, key);		\
									\
	int rc;								\
									\
	*out = def;							\
	if (key == NULL)						\
		return ctx_no_key(ctx, getter);				\
	if (o == NULL)							\
		return 0;						\
	if ((rc = parse(o->value, out)) != 0) {				\
		*out = def;						\
		return rc == -ERANGE ?					\
		    ctx_bad_option(ctx, o, "too large", NULL) :		\
		    ctx_bad_option(ctx, o, what, form);			\
	}								\
	return 0;							\
}

CTX_OPT_NUM(ctx_opt_uint, "opt_uint", uint64_t, parse_uint,
    "not an unsigned integer", UINT_FORM)
CTX_OPT_NUM(ctx_opt_size, "opt_size", uint64_t, parse_size, "not a size",
    SIZE_FORM)
CTX_OPT_NUM(ctx_opt_duration, "opt_duration", uint64_t, parse_duration,
    "not a duration", DURATION_FORM)

static int
ctx_opt_bool(struct ringfan_ctx *pub, const char *key, int def, int *out)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	const struct cfg_option *o = ctx_option(ctx, key);
	bool b;

	*out = def;
	if (key == NULL)
		return ctx_no_key(ctx, "opt_bool");
	if (o == NULL)
		return 0;
	if (parse_bool(o->value, &b) != 0)
		return ctx_bad_option(ctx, o, "not a boolean", BOOL_FORM);
	*out = b;
	return 0;
}

static uint64_t *
ctx_slot(struct ringfan_ctx *pub, const char *name, enum stats_kind kind)
{
	struct plugin_ctx *ctx = ctx_of(pub);
	const char *what = kind == STATS_GAUGE ? "gauge" : "counter";
	uint64_t *slot;
	size_t i = 0;
	int rc;

	if (name == NULL) {
		plugin_ctx_error(pub, "%s name missing (NULL)", what);
		return NULL;
	}
	if (!name_valid(name, STATS_COUNTER_NAME)) {
		plugin_ctx_error(pub, "%s name \"%s\" invalid (1 to %d of a-z, "
		    "0-9, _)", what, name, STATS_COUNTER_NAME - 1);
		return NULL;
	}
	rc = stats_counter(ctx->w, (const char *const *)ctx->pl->names,
	    ctx->pl->nstages, ctx->index, name, kind, &slot);
	if (rc == 0 || rc == -EEXIST)
		i = stats_counter_index(ctx->w, slot);
	/*
	 * The other kind in a slot this plugin did not take in this process:
	 * the plugin the step ran before a reload (an older version, say)
	 * kept the name so.  This one takes it over, as a fresh start would.
	 */
	if (rc == -EEXIST && (ctx->took[i / 64] & (UINT64_C(1) << i % 64)) ==
	    0) {
		stats_counter_rekind(slot, kind);
		rc = 0;
	}
	switch (rc) {
	case 0:
		ctx->took[i / 64] |= UINT64_C(1) << i % 64;
		return slot;
	case -EEXIST:
		plugin_ctx_error(pub, "%s %s: the name is taken by a %s", what,
		    name, kind == STATS_GAUGE ? "counter" : "gauge");
		return NULL;
	default:
		plugin_ctx_error(pub, "%s %s: all %d counter and gauge slots "
		    "of the worker are in use", what, name, STATS_MAX_COUNTERS);
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
		plugin_ctx_error(pub, "memory_request: only in check");
		return -1;
	}
	if (size == 0 || size > PLUGIN_MEMORY_MAX || layout == 0) {
		plugin_ctx_error(pub, "memory_request: %llu bytes of layout "
		    "%u: size must be 1 B to %llu MiB and the layout not 0",
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

	/* The period is fixed once open has returned. */
	if (ctx->opened) {
		plugin_ctx_error(pub, "tick_period: only in check or open");
		return;
	}
	ctx->stage->info.tick_ns = period_ns < PLUGIN_TICK_MIN_NS ?
	    PLUGIN_TICK_MIN_NS : period_ns;
}

/*
 * Fanout modes that hand one flow's frames to any worker: by turn, at
 * random, by the CPU or queue that received them, or to a worker with
 * room.  Only hash keeps a flow together.
 */
static const bool fanout_splits[] = {
	[CFG_FANOUT_HASH] = false,
	[CFG_FANOUT_LB] = true,
	[CFG_FANOUT_CPU] = true,
	[CFG_FANOUT_ROLLOVER] = true,
	[CFG_FANOUT_RANDOM] = true,
	[CFG_FANOUT_QM] = true,
};

uint32_t
plugin_env_flags(const struct plugin_env *env)
{
	const struct cfg_capture *cap = env->cap;
	bool split;

	/* Offline frames are split by flowhash.c; one worker has them all. */
	if ((env->flags & RINGFAN_CTX_OFFLINE) || env->worker_count < 2)
		return env->flags;
	/*
	 * The rollover flag moves frames off a full worker, flow or not;
	 * hash without defrag hashes an IPv4 fragment without its ports.
	 */
	split = (size_t)cap->fanout.mode < sizeof(fanout_splits) /
	    sizeof(fanout_splits[0]) ? fanout_splits[cap->fanout.mode] : true;
	split = split || cap->fanout.rollover || !cap->fanout.defrag;
	return split ? env->flags | RINGFAN_CTX_FLOW_SPLIT : env->flags;
}

void
plugin_ctx_free(struct plugin_ctx *ctx)
{
	if (ctx != NULL)
		free(ctx->used);
	free(ctx);
}

struct plugin_ctx *
plugin_ctx_new(const struct pipeline *pl, size_t index,
    const struct plugin_env *env, struct stats_worker *w, bool checking)
{
	struct plugin_stage *s = &pl->stages[index];
	struct plugin_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (ctx->used = calloc(s->conf->noptions + 1, sizeof(bool))) == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->env = env;
	ctx->pl = pl;
	ctx->stage = s;
	ctx->index = index;
	ctx->w = w;
	ctx->checking = checking;
	ctx->pub.abi = RINGFAN_PLUGIN_ABI;
	ctx->pub.size = sizeof(ctx->pub);
	ctx->pub.flags = plugin_env_flags(env);
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
	ctx->pub.error = plugin_ctx_error;
	ctx->pub.status = ctx_status;
	ctx->pub.host = ctx;
	return ctx;
}

/*
 * RINGFAN_OK unless the plugin left an option unread.  A plugin's check
 * is where every option is read: one its open reads alone is unknown
 * there, which the message says for the plugin's author.  A key without a
 * value in `{ }` most likely followed a comma its user meant as part of
 * the value before.
 */
int
plugin_ctx_unknown_options(const struct plugin_ctx *ctx, char *err,
    size_t errlen)
{
	const struct cfg_plugin *cp = ctx->stage->conf;
	const struct cfg_option *o;
	bool by_check = ctx->checking &&
	    ctx->stage->plugin->calls.check != NULL;

	for (size_t k = 0; k < cp->noptions; k++) {
		if (ctx->used[k])
			continue;
		o = &cp->options[k];
		snprintf(err, errlen, "%s:%u:%u: plugin %s: unknown option "
		    "\"%s\"%s", ctx->env->cfg->path, o->pos.line, o->pos.col,
		    plugin_ctx_name(ctx), o->key, o->bare ? " (a key without "
		    "a value: in { } a comma ends the value before it, so "
		    "quote a value that has commas)" : by_check ? " (its check "
		    "did not read it)" : "");
		/* The key as the file has it: one line, as perr() makes. */
		line_scrub(err);
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

/*
 * The option a message is about: the one of the step's configuration
 * whose key it starts with, as "KEY: ...", "KEY \"...\"..." or "option
 * KEY: ..." (a getter's); NULL for any other message.
 */
static const struct cfg_option *
ctx_message_option(const struct plugin_ctx *ctx, const char *msg)
{
	const struct cfg_plugin *cp = ctx->stage->conf;
	size_t n;

	if (strncmp(msg, "option ", 7) == 0)
		msg += 7;
	for (size_t k = 0; k < cp->noptions; k++) {
		n = strlen(cp->options[k].key);
		if (strncmp(msg, cp->options[k].key, n) == 0 &&
		    (msg[n] == ':' || (msg[n] == ' ' && msg[n + 1] == '"')))
			return &cp->options[k];
	}
	return NULL;
}

/*
 * Whether a message is about an option the step does not set: "KEY: ..."
 * (a required one missing, say), KEY of a-z, 0-9 and _.
 */
static bool
ctx_message_absent(const char *msg)
{
	size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && msg[n] == ':';
}

/*
 * The first of the step's options the plugin has not read, NULL when it
 * read them all.
 */
static const struct cfg_option *
ctx_unread_option(const struct plugin_ctx *ctx)
{
	const struct cfg_plugin *cp = ctx->stage->conf;

	for (size_t k = 0; k < cp->noptions; k++)
		if (!ctx->used[k])
			return &cp->options[k];
	return NULL;
}

/*
 * A plugin's answer as an enum ringfan_result, its message in err: "plugin
 * STEP: MESSAGE", led by "FILE:LINE:COLUMN: " of the option's value when
 * the message is about one of the step's options, or of the step's plugin
 * name when it is about one the step does not set; then, an option the
 * step sets that the plugin has not read may be that one misspelt, and is
 * named after the message.
 */
int
plugin_ctx_result(const struct plugin_ctx *ctx, const char *what, int rc,
    char *err, size_t errlen)
{
	const struct cfg_option *o, *unread = NULL;
	const struct cfg_pos *at = NULL;
	char odd[128], hint[128] = "";

	if (rc == RINGFAN_OK && ctx->err[0] == '\0')
		return RINGFAN_OK;
	/* Not a ringfan_result at all: a failure, and said so. */
	if (rc == RINGFAN_FAIL)
		snprintf(odd, sizeof(odd), "%s failed without a message", what);
	else if (rc == RINGFAN_RETRY)
		snprintf(odd, sizeof(odd), "%s returned RINGFAN_RETRY without "
		    "a message", what);
	else
		snprintf(odd, sizeof(odd), "%s returned %d, which is none of "
		    "RINGFAN_OK, RINGFAN_FAIL and RINGFAN_RETRY", what, rc);
	if ((o = ctx_message_option(ctx, ctx->err)) != NULL)
		at = &o->pos;
	else if (ctx_message_absent(ctx->err) &&
	    ctx->stage->conf->pos.line > 0) {
		at = &ctx->stage->conf->pos;
		unread = ctx_unread_option(ctx);
	}
	if (unread != NULL)
		snprintf(hint, sizeof(hint), " (option \"%.40s\" at %u:%u, "
		    "which it has not read: misspelt?)", unread->key,
		    unread->pos.line, unread->pos.col);
	if (at != NULL)
		snprintf(err, errlen, "%s:%u:%u: plugin %s: %s%s",
		    ctx->env->cfg->path, at->line, at->col,
		    plugin_ctx_name(ctx), ctx->err, hint);
	else
		snprintf(err, errlen, "plugin %s: %s", plugin_ctx_name(ctx),
		    ctx->err[0] != '\0' ? ctx->err : odd);
	return rc == RINGFAN_RETRY ? RINGFAN_RETRY : RINGFAN_FAIL;
}

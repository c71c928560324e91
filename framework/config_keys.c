/*
 * The keys of the file outside a capture: control, log, the pipeline's
 * entries' keys, plugin_path, stats_interval and the list of captures, with the
 * handlers of the rows that the generic parsers of config_parse.c do not
 * cover.  A capture's own keys are in config_capture.c.
 */
#include <sys/un.h>

#include <net/if.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "ringfan_build.h"
#include "config.h"
#include "config_int.h"
#include "httpd.h"
#include "log.h"
#include "util.h"

/* log.h's table of level names, as an enum of the file. */
#define LOG_LEVEL_ENUM(name, level)	{ (name), (level) },
static const struct cfg_enum log_levels[] = {
	LOG_LEVELS(LOG_LEVEL_ENUM)
	{ NULL,		0 },
};
#undef LOG_LEVEL_ENUM

/* control */

static int
h_socket(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	struct sockaddr_un sun;

	if (parse_value(c, k, base, v) == -1)
		return -1;
	if (strlen(*(char **)field(base, k)) >= sizeof(sun.sun_path))
		return perr(c, v->start_mark,
		    "%s: path is too long (at most %zu bytes)", k->name,
		    sizeof(sun.sun_path) - 1);
	return 0;
}

static int
h_mode(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	const char *s, *p;
	unsigned mode;

	if (get_scalar(c, k->name, v, "an octal string such as \"0660\"",
	    &s) == -1)
		return -1;
	mode = 0;
	for (p = s; *p >= '0' && *p <= '7'; p++) {
		mode = mode * 8 + (unsigned)(*p - '0');
		if (mode > 0777)
			break;
	}
	if (p == s || *p != '\0' || mode > 0777)
		return perr(c, v->start_mark,
		    "%s: bad mode \"%s\" (octal, at most 0777)", k->name, s);
	store_uint(field(base, k), k->size, mode);
	return 0;
}

/*
 * The socket and the pidfile are set up once, before the workers: a new
 * path, mode or group waits for the next start.
 */
/* user and control.group: their places too, for the lookups at start. */
static int
h_account(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg *cfg = base;
	struct cfg_pos *pos = strcmp(k->name, "user") == 0 ? &cfg->user_pos :
	    &cfg->control.group_pos;

	if (parse_value(c, k, base, v) == -1)
		return -1;
	pos->line = (unsigned)v->start_mark.line + 1;
	pos->col = (unsigned)v->start_mark.column + 1;
	return 0;
}

static const struct cfg_key control_keys[] = {
	{ ROW("socket", KT_STRING, CFG_RELOAD_RESTART),
	  AT(cfg, control.socket), .fn = h_socket, .sdef = DEFAULT_SOCKET,
	  .sample = "/tmp/rf.sock" },
	{ ROW("mode", KT_UINT, CFG_RELOAD_RESTART), AT(cfg, control.mode),
	  .fn = h_mode, DEF(DEFAULT_MODE), .sample = "\"0600\"" },
	{ ROW("group", KT_STRING, CFG_RELOAD_RESTART), AT(cfg, control.group),
	  .fn = h_account, .optional = true, .sample = "wheel" },
	{ ROW("pidfile", KT_STRING, CFG_RELOAD_RESTART),
	  AT(cfg, control.pidfile), .sdef = DEFAULT_PIDFILE,
	  .sample = "/tmp/rf.pid" },
	{ .name = NULL },
};

/* log: the level is set again by every reload, the target only at start. */
static const struct cfg_key log_keys[] = {
	{ ROW("level", KT_ENUM, CFG_RELOAD_LIVE), AT(cfg, log.level),
	  .names = log_levels, .what = "log level", DEF(LOG_LVL_INFO),
	  .sample = "debug" },
	{ ROW("syslog", KT_BOOL, CFG_RELOAD_RESTART), AT(cfg, log.syslog),
	  DEF(false), .sample = "true" },
	{ .name = NULL },
};

/* pipeline */

static int
h_plugin(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	struct cfg_plugin *pl = base;
	const char *s;

	if (get_text(c, k->name, v, &s) == -1)
		return -1;
	if (!name_valid(s, MAX_PLUGIN_NAME + 1))
		return perr(c, v->start_mark, "%s: bad plugin name \"%s\" "
		    "(1..31 of a-z, 0-9 and _)", k->name, s);
	if ((pl->name = dup_or_err(c, v, s)) == NULL)
		return -1;
	pl->pos.line = (unsigned)v->start_mark.line + 1;
	pl->pos.col = (unsigned)v->start_mark.column + 1;
	return 0;
}

/* Option i's key of a struct cfg_plugin, for names_sorted(). */
static const char *
option_key(const void *pl, size_t i)
{
	return ((const struct cfg_plugin *)pl)->options[i].key;
}

/*
 * A plugin's keys are free-form, so unlike the fixed tables a mapping here
 * can be arbitrarily long: duplicates are found by sorting, not by the
 * pairwise search of walk_mapping.  The earliest second occurrence in the
 * file is the one reported, as a pairwise search would.
 */
static int
check_option_dups(struct ctx *c, const yaml_node_t *map,
    const struct cfg_plugin *pl)
{
	size_t dup, dupfirst;
	yaml_node_t *k, *fk;

	if (names_first_dup(pl, pl->noptions, option_key, &dup,
	    &dupfirst) == -1)
		return perr(c, map->start_mark, "out of memory");
	if (dup == SIZE_MAX)
		return 0;
	k = node_at(c, map->data.mapping.pairs.start[dup].key);
	fk = node_at(c, map->data.mapping.pairs.start[dupfirst].key);
	return perr(c, k->start_mark, "duplicate key \"%s\" (first at line %zu)",
	    pl->options[dup].key, fk->start_mark.line + 1);
}

static int
h_plugin_config(struct ctx *c, const struct cfg_key *key, void *base,
    yaml_node_t *v)
{
	struct cfg_plugin *pl = base;
	struct cfg_option *o;
	yaml_node_pair_t *p;
	yaml_node_t *k, *val;
	size_t n;
	/* The value before was plain text, which a comma could have ended. */
	bool after_plain = false;
	/* "plugin NAME: ", or nothing while `plugin` is still to come. */
	char who[64];

	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return perr(c, v->start_mark, "%s must be a mapping",
		    key->name);
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	if (n == 0)
		return 0;
	if ((pl->options = calloc(n, sizeof(*pl->options))) == NULL)
		return perr(c, v->start_mark, "out of memory");
	who[0] = '\0';
	if (pl->name != NULL)
		snprintf(who, sizeof(who), "plugin %s: ", pl->name);
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	    p++) {
		k = node_at(c, p->key);
		val = node_at(c, p->value);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k->start_mark, "keys must be strings");
		if (check_key_nul(c, who, k) == -1)
			return -1;
		if (val->type != YAML_SCALAR_NODE)
			return perr(c, val->start_mark,
			    "%soption %s: a %s, but plugin options are "
			    "scalars (a string, number or boolean)", who,
			    sval(k), val->type == YAML_SEQUENCE_NODE ? "list" :
			    "mapping");
		if (strlen(sval(val)) != val->data.scalar.length)
			return perr(c, val->start_mark,
			    "%soption %s: NUL character in value", who,
			    sval(k));
		o = &pl->options[pl->noptions++];
		/* A plain null (`~`, `null`) is no value, as `key:` is. */
		if ((o->key = dup_or_err(c, k, sval(k))) == NULL ||
		    (o->value = dup_or_err(c, val, is_null(val) ? "" :
		    sval(val))) == NULL)
			return -1;
		o->bare = after_plain &&
		    v->data.mapping.style == YAML_FLOW_MAPPING_STYLE &&
		    val->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    val->data.scalar.length == 0;
		after_plain = val->data.scalar.style ==
		    YAML_PLAIN_SCALAR_STYLE &&
		    (val->data.scalar.length > 0 || o->bare);
		/* Where the value is; a bare key's own place. */
		val = o->bare ? k : val;
		o->pos.line = (unsigned)val->start_mark.line + 1;
		o->pos.col = (unsigned)val->start_mark.column + 1;
	}
	return check_option_dups(c, v, pl);
}

/*
 * The same keys with the same values, in whatever order the file gives
 * them: a mapping has none, and a reload that only reorders a step's
 * options restarts nothing.  Without memory, a change: a restart is safe.
 */
static bool
options_same(const void *a, const void *b)
{
	const struct cfg_plugin *pa = a, *pb = b;
	const struct cfg_option *oa, *ob;
	struct name_at *sa, *sb;
	bool same;

	if (pa->noptions != pb->noptions)
		return false;
	if (pa->noptions == 0)
		return true;
	/* By key: check_option_dups made them unique. */
	sa = names_sorted(pa, pa->noptions, option_key);
	sb = names_sorted(pb, pb->noptions, option_key);
	same = sa != NULL && sb != NULL;
	for (size_t i = 0; same && i < pa->noptions; i++) {
		oa = &pa->options[sa[i].index];
		ob = &pb->options[sb[i].index];
		same = str_eq(oa->key, ob->key) && str_eq(oa->value, ob->value);
	}
	free(sa);
	free(sb);
	return same;
}

static void
options_drop(void *base)
{
	struct cfg_plugin *pl = base;
	size_t i;

	for (i = 0; i < pl->noptions; i++) {
		free(pl->options[i].key);
		free(pl->options[i].value);
	}
	free(pl->options);
	pl->options = NULL;
	pl->noptions = 0;
}

const struct cfg_key cfg_plugin_keys[] = {
	{ ROW("plugin", KT_STRING, CFG_RELOAD_PIPELINE),
	  AT(cfg_plugin, name), .fn = h_plugin, .sample = "flowtable" },
	{ ROW("name", KT_STRING, CFG_RELOAD_PIPELINE),
	  AT(cfg_plugin, step), .fn = h_step_name, .sample = "first" },
	{ ROW("config", KT_CUSTOM, CFG_RELOAD_PIPELINE), .fn = h_plugin_config,
	  .same = options_same, .drop = options_drop,
	  .sample = "{ max_flows: 10 }" },
	{ .name = NULL },
};

/* top level */

/*
 * 0 turns the stall watch off.  Else at least a second: a healthy worker
 * shows progress every 100 ms, but a plugin's tick may take a while.
 */
#define STALL_TIMEOUT_MIN	NS_PER_S

static int
h_stall_timeout(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	uint64_t ns;

	if (parse_value(c, k, base, v) == -1)
		return -1;
	ns = *(uint64_t *)field(base, k);
	if (ns != 0 && ns < STALL_TIMEOUT_MIN)
		return perr(c, v->start_mark, "%s: \"%s\" is out of range %s",
		    k->name, sval(v), k->range);
	return 0;
}

/* Checked as the HTTP server will read it, so a start cannot refuse it. */
static int
h_listen(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	struct sockaddr_storage ss;
	const char *s;
	char why[256];
	socklen_t len;

	if (parse_value(c, k, base, v) == -1)
		return -1;
	s = *(char **)field(base, k);
	if (s != NULL && httpd_parse_addr(s, &ss, &len, why, sizeof(why)) != 0)
		return perr(c, v->start_mark, "%s: %s", k->name, why);
	return 0;
}

static uint64_t
mib_up(uint64_t bytes)
{
	return bytes / MIB + (bytes % MIB != 0);
}

/*
 * The kernel allocates every ring in full when the socket is set up and
 * never swaps it out: rings larger than the memory of the machine cannot
 * work, and the failure would come only at start-up or in the middle of a
 * reload.  Counted over all captures, since all run at once.
 */
static int
check_ring_memory(struct ctx *c, const struct capctx *cc,
    const yaml_node_t *item, size_t index)
{
	const struct cfg_capture *cap = cc->cap;
	yaml_mark_t m;
	uint64_t phys, need;
	long pages, pagesize;

	pages = sysconf(_SC_PHYS_PAGES);
	pagesize = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || pagesize <= 0)
		return 0;
	phys = (uint64_t)pages * (uint64_t)pagesize;
	/* At most 256 x 2^16 x 2^30 = 2^54: no overflow, even summed. */
	need = (uint64_t)cap->workers * cap->ring.block_count *
	    cap->ring.block_size;
	c->ring_total += need;
	m = cc->ring_node != NULL ? cc->ring_node->start_mark :
	    item->start_mark;
	if (need > phys)
		return perr(c, m, "ring: %u worker%s x %u block%s x %u bytes "
		    "need %ju MiB, more than the physical memory (%ju MiB)",
		    cap->workers, cap->workers == 1 ? "" : "s",
		    cap->ring.block_count, cap->ring.block_count == 1 ? "" : "s",
		    cap->ring.block_size,
		    (uintmax_t)mib_up(need), (uintmax_t)(phys / MIB));
	if (c->ring_total > phys)
		return perr(c, m, "ring: the rings of captures 1..%zu need "
		    "%ju MiB, more than the physical memory (%ju MiB)",
		    index + 1, (uintmax_t)mib_up(c->ring_total),
		    (uintmax_t)(phys / MIB));
	return 0;
}

static const char defrag_once_why[] = "fanout.defrag, on by default): "
    "the kernel gives each datagram sent in fragments to one of them only; "
    "set fanout.defrag: false in all but one";

bool
cfg_same_interface(const char *a, const char *b)
{
	unsigned ia, ib;

	if (strcmp(a, b) == 0)
		return true;
	ia = if_nametoindex(a);
	ib = if_nametoindex(b);
	return ia != 0 && ia == ib;
}

/*
 * Fanout groups that reassemble fragments (PACKET_FANOUT_FLAG_DEFRAG) share
 * the kernel's one reassembly queue per datagram: each fragment goes into
 * it for the group that met it first, the others' copies are dropped as
 * duplicates, and the datagram comes out whole to that group only.  Of two
 * such captures on one interface, the one whose sockets joined last would
 * get every datagram sent in fragments, and the other none, uncounted.
 */
static int
check_defrag_once(struct ctx *c, const struct cfg *cfg,
    const yaml_mark_t *names, size_t i)
{
	const struct cfg_capture *cap = &cfg->captures[i], *o;

	if (!cap->fanout.defrag)
		return 0;
	for (size_t j = 0; j < i; j++) {
		o = &cfg->captures[j];
		if (!o->fanout.defrag || !cfg_same_interface(o->interface,
		    cap->interface))
			continue;
		if (strcmp(o->interface, cap->interface) == 0)
			return perr(c, c->cc->name_mark, "captures \"%s\" "
			    "(line %zu) and \"%s\" both reassemble IP "
			    "fragments on %s (%s", o->name,
			    names[j].line + 1, cap->name, cap->interface,
			    defrag_once_why);
		return perr(c, c->cc->name_mark, "captures \"%s\" (line %zu) "
		    "on %s and \"%s\" on %s, one interface, both reassemble "
		    "IP fragments (%s", o->name, names[j].line + 1,
		    o->interface, cap->name, cap->interface, defrag_once_why);
	}
	return 0;
}

static int
h_captures(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg *cfg = base;
	yaml_mark_t names[MAX_CAPTURES];
	struct capctx cc;
	yaml_node_item_t *items;
	yaml_node_t *item;
	size_t i, j, n;

	if (is_null(v))
		return perr(c, v->start_mark,
		    "%s must have at least one entry", k->name);
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v->start_mark, "%s must be a list", k->name);
	items = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - items);
	if (n == 0)
		return perr(c, v->start_mark,
		    "%s must have at least one entry", k->name);
	if (n > MAX_CAPTURES)
		return perr(c, node_at(c, items[MAX_CAPTURES])->start_mark,
		    "too many captures (at most %d)", MAX_CAPTURES);
	if ((cfg->captures = calloc(n, sizeof(*cfg->captures))) == NULL)
		return perr(c, v->start_mark, "out of memory");
	cfg->ncaptures = n;
	for (i = 0; i < n; i++) {
		item = node_at(c, items[i]);
		memset(&cc, 0, sizeof(cc));
		cc.cap = &cfg->captures[i];
		c->cc = &cc;
		if (capture_defaults(cc.cap) == -1)
			return perr(c, item->start_mark, "out of memory");
		cc.cap->pos.line = (unsigned)item->start_mark.line + 1;
		cc.cap->pos.col = (unsigned)item->start_mark.column + 1;
		/* walk_mapping takes null as empty, but an entry must exist. */
		if (is_null(item))
			return perr(c, item->start_mark,
			    "a capture must be a mapping");
		if (walk_mapping(c, item, "a capture", k->sub, cc.cap) == -1)
			return -1;
		if (cc.cap->name == NULL)
			return perr(c, item->start_mark,
			    "missing required key \"name\"");
		if (cc.cap->interface == NULL)
			return perr(c, item->start_mark,
			    "missing required key \"interface\"");
		if (check_ring_memory(c, &cc, item, i) == -1)
			return -1;
		if (!cc.group_set)
			cc.cap->fanout.group = cfg_default_group(cc.cap->name);
		names[i] = cc.name_mark;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->captures[j].name, cc.cap->name) == 0)
				return perr(c, cc.name_mark,
				    "duplicate capture name \"%s\" "
				    "(first at line %zu)", cc.cap->name,
				    names[j].line + 1);
		/*
		 * The kernel knows a fanout group by its id alone (in a
		 * network namespace): a second capture in it would share
		 * the first one's frames, or fail to join on another
		 * interface.
		 */
		for (j = 0; j < i; j++)
			if (cfg->captures[j].fanout.group ==
			    cc.cap->fanout.group)
				return perr(c, cc.group_set ? cc.group_mark :
				    cc.name_mark, "fanout group %d is capture "
				    "\"%s\"'s too (line %zu): each capture "
				    "needs a group of its own%s",
				    cc.cap->fanout.group,
				    cfg->captures[j].name, names[j].line + 1,
				    cc.group_set ? "" : " (this one comes from "
				    "its name: set fanout.group)");
		if (check_defrag_once(c, cfg, names, i) == -1)
			return -1;
	}
	return 0;
}

/* Each capture's keys are compared apart: see cfg_diff. */
static bool
captures_same(const void *a, const void *b)
{
	return ((const struct cfg *)a)->ncaptures ==
	    ((const struct cfg *)b)->ncaptures;
}

static void
captures_drop(void *base)
{
	struct cfg *cfg = base;

	free_entries(cfg_capture_keys, cfg->captures, sizeof(*cfg->captures),
	    cfg->ncaptures);
	cfg->captures = NULL;
	cfg->ncaptures = 0;
}

static void
free_plugin_path(void *base)
{
	struct cfg *cfg = base;
	size_t i;

	for (i = 0; i < cfg->nplugin_path; i++)
		free(cfg->plugin_path[i]);
	free(cfg->plugin_path);
	cfg->plugin_path = NULL;
	cfg->nplugin_path = 0;
}

static bool
plugin_path_same(const void *a, const void *b)
{
	const struct cfg *ca = a, *cb = b;
	size_t i;

	if (ca->nplugin_path != cb->nplugin_path)
		return false;
	for (i = 0; i < ca->nplugin_path; i++)
		if (!str_eq(ca->plugin_path[i], cb->plugin_path[i]))
			return false;
	return true;
}

static int
h_plugin_path(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg *cfg = base;
	yaml_node_item_t *items;
	yaml_node_t *item;
	size_t i, n;

	if (v->type == YAML_MAPPING_NODE)
		return perr(c, v->start_mark,
		    "%s must be a list of strings or a string", k->name);
	if (is_null(v))
		return perr(c, v->start_mark, "%s must not be empty", k->name);
	free_plugin_path(cfg);
	if (v->type == YAML_SCALAR_NODE) {
		if ((cfg->plugin_path = calloc(1, sizeof(char *))) == NULL)
			return perr(c, v->start_mark, "out of memory");
		cfg->nplugin_path = 1;
		return get_string(c, k->name, v, false, &cfg->plugin_path[0]);
	}
	items = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - items);
	if (n == 0)
		return perr(c, v->start_mark, "%s must not be empty", k->name);
	if ((cfg->plugin_path = calloc(n, sizeof(char *))) == NULL)
		return perr(c, v->start_mark, "out of memory");
	cfg->nplugin_path = n;
	for (i = 0; i < n; i++) {
		item = node_at(c, items[i]);
		if (item->type != YAML_SCALAR_NODE)
			return perr(c, item->start_mark,
			    "%s entries must be strings", k->name);
		/* Its own message, not the one of an empty list. */
		if (get_string(c, "a plugin_path entry", item, false,
		    &cfg->plugin_path[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * A new user or plugin path concerns every worker; the master reads the
 * statistics at the interval of the configuration in force.
 */
const struct cfg_key cfg_top_keys[] = {
	{ ROW("control", KT_SECTION, CFG_RELOAD_NONE), .sub = control_keys },
	{ ROW("user", KT_STRING, CFG_RELOAD_PIPELINE), AT(cfg, user),
	  .fn = h_account, .optional = true, .sample = "nobody" },
	{ ROW("log", KT_SECTION, CFG_RELOAD_NONE), .sub = log_keys },
	{ ROW("plugin_path", KT_CUSTOM, CFG_RELOAD_PIPELINE),
	  .fn = h_plugin_path, .same = plugin_path_same,
	  .drop = free_plugin_path, .sample = "[/tmp, /usr/lib]" },
	{ ROW("stats_interval", KT_DURATION, CFG_RELOAD_LIVE),
	  AT(cfg, stats_interval_ns), .min = 10 * NS_PER_MS,
	  .max = 3600 * NS_PER_S, .unit = 1, .range = "10ms..1h",
	  DEF(NS_PER_S), .sample = "2s" },
	/* The master's timer reads it at every turn. */
	{ ROW("stall_timeout", KT_DURATION, CFG_RELOAD_LIVE),
	  AT(cfg, stall_timeout_ns), .fn = h_stall_timeout, .min = 0,
	  .max = 3600 * NS_PER_S, .unit = 1, .range = "0 (off) or 1s..1h",
	  DEF(5 * NS_PER_S), .sample = "1s" },
	/* Bound once at start, like the control socket. */
	{ ROW("metrics_listen", KT_STRING, CFG_RELOAD_RESTART),
	  AT(cfg, metrics_listen), .fn = h_listen, .optional = true,
	  .sample = "127.0.0.1:9108" },
	{ ROW("captures", KT_CUSTOM, CFG_RELOAD_CAPTURE), .sub = cfg_capture_keys,
	  .fn = h_captures, .same = captures_same, .drop = captures_drop,
	  .sample = "[{ name: a, interface: lo, workers: 1 }, "
	  "{ name: b, interface: eth1, workers: 1 }]" },
	{ .name = NULL },
};

/* Everything but the captures, which have no default in a file. */
int
global_defaults(struct cfg *cfg, const char *path)
{
	if ((cfg->path = strdup(path)) == NULL ||
	    set_defaults(cfg_top_keys, cfg) == -1 ||
	    (cfg->plugin_path = calloc(1, sizeof(char *))) == NULL)
		return -1;
	cfg->nplugin_path = 1;
	if ((cfg->plugin_path[0] = strdup(RINGFAN_PLUGIN_DIR)) == NULL)
		return -1;
	return 0;
}

const char *
cfg_log_level_name(int level)
{
	return enum_name(log_levels, level);
}

/*
 * The config loader.  The whole file is read into memory and composed with
 * libyaml's document API, whose nodes carry their positions, then walked
 * against tables of keys.  Every check happens here, before the daemon acts
 * on anything, so that `ringfan -t` and a reload can refuse a bad file with
 * one FILE:LINE:COLUMN message and nothing half applied.
 *
 * The walker only ever descends as far as the schema does, so a hostile
 * file cannot drive it into deep recursion, and aliases cost nothing since
 * the document API shares nodes instead of copying them.  What libyaml
 * itself spends is bounded before the document is composed: the file's
 * size first, then its nesting depth in one streaming pass (check_depth),
 * so that a reload cannot hold the master's loop for long whatever the
 * file holds.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "ringfan_build.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define DEFAULT_MODE		0660
#define MAX_CAPTURES		64
#define MAX_WORKERS		256
#define MAX_CAPTURE_NAME	32
#define MAX_PLUGIN_NAME		31
#define MAX_IFNAME		15	/* IFNAMSIZ less the NUL */
#define MAX_BLOCK_SIZE		(UINT64_C(1) << 30)
#define MAX_BLOCK_COUNT		65536
/*
 * A real config is a few KiB and at most 7 levels deep (top level,
 * captures, a capture, pipeline, an entry, config, a value): both limits
 * leave ample room and keep the cost of any file to milliseconds.
 */
#define MAX_FILE_SIZE		((size_t)1 << 20)
#define MAX_DEPTH		64
#define MIB			(UINT64_C(1) << 20)
#define CPU_ONLINE_FILE		"/sys/devices/system/cpu/online"
#define NS_PER_MS		UINT64_C(1000000)
#define NS_PER_S		UINT64_C(1000000000)

struct ctx {
	const char	*name;
	const char	*text;
	size_t		 len;
	yaml_document_t	*doc;
	char		*err;
	size_t		 errlen;
	struct capctx	*cc;		/* the capture being walked */
	uint64_t	 ring_total;	/* bytes of ring of the captures so far */
	int		 online_state;	/* 0 unread, 1 read, -1 unknown */
	cpu_set_t	 online;
	char		 online_list[256];
};

/* What the capture-level handlers share beyond the capture itself. */
struct capctx {
	struct cfg_capture	*cap;
	bool			 group_set;
	yaml_mark_t		 name_mark;
	const yaml_node_t	*ring_node;	/* NULL: ring not set */
};

/*
 * How a key's value is stored, which decides how it is parsed (unless the
 * row has its own handler), defaulted, compared by cfg_diff and freed.
 */
enum key_type {
	KT_SECTION,	/* a mapping of the keys of sub, in the same struct */
	KT_BOOL,
	KT_UINT,	/* an integer min..max, of `size` bytes */
	KT_DURATION,	/* min..max ns, stored in units of `unit` ns */
	KT_STRING,	/* never empty; null unsets an optional one */
	KT_ENUM,	/* one of names, stored as an integer */
	KT_CUSTOM,	/* fn parses, same compares, drop frees */
};

struct cfg_key;
typedef int	key_fn(struct ctx *, const struct cfg_key *, void *,
		    yaml_node_t *);

/*
 * One key of the file, as nginx's ngx_command_t: offsets are into the
 * struct its table describes (struct cfg, cfg_capture or cfg_plugin).
 * Every row has a reload class, so that cfg_diff compares every key and a
 * new one cannot be forgotten there.
 */
struct cfg_key {
	const char		*name;
	enum key_type		 type;
	unsigned		 reload;	/* enum cfg_reload */
	size_t			 off;
	size_t			 size;
	uint64_t		 min, max;	/* KT_UINT; KT_DURATION in ns */
	uint64_t		 unit;		/* KT_DURATION */
	const char		*range;		/* KT_DURATION, for messages */
	bool			 optional;	/* KT_STRING */
	const struct cfg_enum	*names;		/* KT_ENUM */
	const char		*what;		/* KT_ENUM, for messages */
	bool			 has_def;
	uint64_t		 def;		/* as stored */
	const char		*sdef;		/* KT_STRING */
	const struct cfg_key	*sub;		/* keys of a section or entry */
	key_fn			*fn;		/* NULL: the type's parser */
	bool			(*same)(const void *, const void *);
	void			(*drop)(void *);
	const char		*sample;	/* for tests: not the default */
};

#define ROW(n, t, r)	.name = (n), .type = (t), .reload = (r)
#define AT(s, m)	.off = offsetof(struct s, m), \
			.size = sizeof(((struct s *)0)->m)
#define DEF(v)		.has_def = true, .def = (v)

/* Each enum's names, for parsing and for naming. */
struct cfg_enum {
	const char	*name;
	int		 value;
};

static const struct cfg_enum fanout_modes[] = {
	{ "hash",	CFG_FANOUT_HASH },
	{ "lb",		CFG_FANOUT_LB },
	{ "cpu",	CFG_FANOUT_CPU },
	{ "rollover",	CFG_FANOUT_ROLLOVER },
	{ "random",	CFG_FANOUT_RANDOM },
	{ "qm",		CFG_FANOUT_QM },
	{ NULL,		0 },
};

static const struct cfg_enum log_levels[] = {
	{ "error",	LOG_LVL_ERROR },
	{ "warn",	LOG_LVL_WARN },
	{ "info",	LOG_LVL_INFO },
	{ "debug",	LOG_LVL_DEBUG },
	{ NULL,		0 },
};

/* "list" is a name for messages only: a list is written as one. */
static const struct cfg_enum affinities[] = {
	{ "none",	CFG_AFFINITY_NONE },
	{ "auto",	CFG_AFFINITY_AUTO },
	{ "list",	CFG_AFFINITY_LIST },
	{ NULL,		0 },
};

static int	perr(struct ctx *, yaml_mark_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
perr(struct ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name,
	    mark.line + 1, mark.column + 1);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A message with no place in a file: built-in config, unreadable file. */
static int	plain_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
plain_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static yaml_node_t *
node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/*
 * An empty value (`key:`, `~`, `null`) written in plain style; a quoted ""
 * is a string and deliberately not null.
 */
static bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = sval(n);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/*
 * A scalar that C can treat as a string: "\0" escapes would otherwise make
 * "eth0\0junk" compare equal to "eth0" everywhere after this point.
 */
static int
check_nul(struct ctx *c, const char *key, const yaml_node_t *n)
{
	if (strlen(sval(n)) != n->data.scalar.length)
		return perr(c, n->start_mark, "%s: NUL character in value",
		    key);
	return 0;
}

static int
get_scalar(struct ctx *c, const char *key, const yaml_node_t *n,
    const char *type, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n->start_mark, "%s must be %s", key, type);
	if (check_nul(c, key, n) == -1)
		return -1;
	*out = sval(n);
	return 0;
}

static char *
dup_or_err(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		perr(c, n->start_mark, "out of memory");
	return d;
}

/* Replaces *dst; an optional string may be null, which unsets it. */
static int
get_string(struct ctx *c, const char *key, const yaml_node_t *n,
    bool optional, char **dst)
{
	const char *s;
	char *d;

	if (optional && is_null(n)) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (get_scalar(c, key, n, "a string", &s) == -1)
		return -1;
	if (*s == '\0')
		return perr(c, n->start_mark, "%s must not be empty", key);
	if ((d = dup_or_err(c, n, s)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

static int
get_bool(struct ctx *c, const char *key, const yaml_node_t *n, bool *out)
{
	const char *s;

	if (get_scalar(c, key, n, "a boolean", &s) == -1)
		return -1;
	if (parse_bool(s, out) != 0)
		return perr(c, n->start_mark, "%s: bad boolean \"%s\"", key, s);
	return 0;
}

static int
get_uint(struct ctx *c, const char *key, const yaml_node_t *n, uint64_t min,
    uint64_t max, uint64_t *out)
{
	const char *s;
	uint64_t v;
	int rc;

	if (get_scalar(c, key, n, "an integer", &s) == -1)
		return -1;
	rc = parse_uint(s, &v);
	if (rc == -EINVAL)
		return perr(c, n->start_mark, "%s: bad integer \"%s\"", key, s);
	if (rc != 0 || v < min || v > max)
		return perr(c, n->start_mark, "%s: %s is out of range %ju..%ju",
		    key, s, (uintmax_t)min, (uintmax_t)max);
	*out = v;
	return 0;
}

static int
get_duration(struct ctx *c, const char *key, const yaml_node_t *n,
    uint64_t min, uint64_t max, const char *range, uint64_t *out)
{
	const char *s;
	uint64_t v;
	int rc;

	if (get_scalar(c, key, n, "a duration", &s) == -1)
		return -1;
	rc = parse_duration(s, &v);
	if (rc == -EINVAL)
		return perr(c, n->start_mark, "%s: bad duration \"%s\"", key,
		    s);
	if (rc != 0 || v < min || v > max)
		return perr(c, n->start_mark,
		    "%s: \"%s\" is out of range %s", key, s, range);
	*out = v;
	return 0;
}


#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void *
field(void *base, const struct cfg_key *k)
{
	return (char *)base + k->off;
}

static const void *
cfield(const void *base, const struct cfg_key *k)
{
	return (const char *)base + k->off;
}

/* The integer fields are of 1, 2, 4 or 8 bytes: enums, mode_t, uint16_t. */
static void
store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t
load_uint(const void *p, size_t size)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v;

	switch (size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v, p, 8);
		return v;
	}
}

static const struct cfg_enum *
enum_find(const struct cfg_enum *e, const char *s)
{
	for (; e->name != NULL; e++)
		if (strcmp(e->name, s) == 0)
			return e;
	return NULL;
}

static const char *
enum_name(const struct cfg_enum *e, int value)
{
	for (; e->name != NULL; e++)
		if (e->value == value)
			return e->name;
	return "unknown";
}

/* "hash, lb, cpu", for messages. */
static void
enum_list(const struct cfg_enum *e, char *buf, size_t len)
{
	size_t off;

	buf[0] = '\0';
	for (off = 0; e->name != NULL && off < len; e++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off > 0 ? ", " : "", e->name);
}

static int	walk_mapping(struct ctx *, yaml_node_t *, const char *,
		    const struct cfg_key *, void *);
static void	free_keys(const struct cfg_key *, void *);
static unsigned	diff_keys(const struct cfg_key *, const char *, const void *,
		    const void *, void (*)(const char *));

/* The parser of a row's type: what a row without a handler gets. */
static int
parse_value(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	const struct cfg_enum *e;
	const char *s;
	char valid[128];
	uint64_t n;

	n = 0;
	switch (k->type) {
	case KT_SECTION:
		return walk_mapping(c, v, k->name, k->sub, base);
	case KT_BOOL:
		return get_bool(c, k->name, v, field(base, k));
	case KT_UINT:
		if (get_uint(c, k->name, v, k->min, k->max, &n) == -1)
			return -1;
		break;
	case KT_DURATION:
		if (get_duration(c, k->name, v, k->min, k->max, k->range,
		    &n) == -1)
			return -1;
		/* Only milliseconds are stored coarser than read. */
		if (n % k->unit != 0)
			return perr(c, v->start_mark, "%s: \"%s\" is not a "
			    "whole number of milliseconds", k->name, sval(v));
		n /= k->unit;
		break;
	case KT_STRING:
		return get_string(c, k->name, v, k->optional, field(base, k));
	case KT_ENUM:
		if (get_scalar(c, k->name, v, "a string", &s) == -1)
			return -1;
		if ((e = enum_find(k->names, s)) == NULL) {
			enum_list(k->names, valid, sizeof(valid));
			return perr(c, v->start_mark,
			    "unknown %s \"%s\" (valid: %s)", k->what, s, valid);
		}
		n = (uint64_t)e->value;
		break;
	default:
		return perr(c, v->start_mark, "%s: no parser", k->name);
	}
	store_uint(field(base, k), k->size, n);
	return 0;
}

/*
 * Walks a mapping against its table of keys.  Duplicates are looked for only
 * among keys already known to be in the table, so the quadratic search is
 * bounded by the table's size whatever the file holds.
 */
static int
walk_mapping(struct ctx *c, yaml_node_t *node, const char *what,
    const struct cfg_key *keys, void *base)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *k, *qk, *v;
	const struct cfg_key *e;
	const char *name;

	if (is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return perr(c, node->start_mark, "%s must be a mapping", what);
	for (p = node->data.mapping.pairs.start;
	    p < node->data.mapping.pairs.top; p++) {
		k = node_at(c, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k->start_mark, "keys must be strings");
		if (check_nul(c, "key", k) == -1)
			return -1;
		name = sval(k);
		for (e = keys; e->name != NULL; e++)
			if (strcmp(e->name, name) == 0)
				break;
		if (e->name == NULL)
			return perr(c, k->start_mark, "unknown key \"%s\"",
			    name);
		for (q = node->data.mapping.pairs.start; q < p; q++) {
			qk = node_at(c, q->key);
			if (strcmp(sval(qk), name) == 0)
				return perr(c, k->start_mark,
				    "duplicate key \"%s\" (first at line %zu)",
				    name, qk->start_mark.line + 1);
		}
		v = node_at(c, p->value);
		if ((e->fn != NULL ? e->fn(c, e, base, v) :
		    parse_value(c, e, base, v)) == -1)
			return -1;
	}
	return 0;
}

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
static const struct cfg_key control_keys[] = {
	{ ROW("socket", KT_STRING, CFG_RELOAD_RESTART),
	  AT(cfg, control.socket), .fn = h_socket, .sdef = DEFAULT_SOCKET,
	  .sample = "/tmp/rf.sock" },
	{ ROW("mode", KT_UINT, CFG_RELOAD_RESTART), AT(cfg, control.mode),
	  .fn = h_mode, DEF(DEFAULT_MODE), .sample = "\"0600\"" },
	{ ROW("group", KT_STRING, CFG_RELOAD_RESTART), AT(cfg, control.group),
	  .optional = true, .sample = "wheel" },
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

/* fanout */

static int
h_fanout_group(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	if (parse_value(c, k, base, v) == -1)
		return -1;
	c->cc->group_set = true;
	return 0;
}

static const struct cfg_key fanout_keys[] = {
	{ ROW("mode", KT_ENUM, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, fanout.mode), .names = fanout_modes,
	  .what = "fanout mode", DEF(CFG_FANOUT_HASH), .sample = "lb" },
	{ ROW("group", KT_UINT, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, fanout.group), .max = UINT16_MAX,
	  .fn = h_fanout_group, .sample = "7" },
	{ ROW("defrag", KT_BOOL, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, fanout.defrag), DEF(true), .sample = "false" },
	{ ROW("rollover", KT_BOOL, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, fanout.rollover), DEF(false), .sample = "true" },
	{ ROW("ignore_outgoing", KT_BOOL, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, fanout.ignore_outgoing), DEF(false),
	  .sample = "true" },
	{ .name = NULL },
};

/* ring */

static int
h_block_size(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	const char *s;
	uint64_t size;
	long page;
	int rc;

	if (get_scalar(c, k->name, v, "a size", &s) == -1)
		return -1;
	rc = parse_size(s, &size);
	if (rc == -EINVAL)
		return perr(c, v->start_mark, "%s: bad size \"%s\"", k->name,
		    s);
	if (rc == 0 && (size == 0 || (size & (size - 1)) != 0))
		return perr(c, v->start_mark,
		    "%s: \"%s\" is not a power of two", k->name, s);
	if (rc != 0 || size > MAX_BLOCK_SIZE)
		return perr(c, v->start_mark,
		    "%s: \"%s\" is larger than 1GiB", k->name, s);
	page = sysconf(_SC_PAGESIZE);
	if (page > 0 && size % (uint64_t)page != 0)
		return perr(c, v->start_mark,
		    "%s: \"%s\" is not a multiple of the page size (%ld)",
		    k->name, s, page);
	store_uint(field(base, k), k->size, size);
	return 0;
}

static const struct cfg_key ring_keys[] = {
	{ ROW("block_size", KT_UINT, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, ring.block_size), .fn = h_block_size,
	  DEF(1 << 20), .sample = "2MiB" },
	{ ROW("block_count", KT_UINT, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, ring.block_count), .min = 1,
	  .max = MAX_BLOCK_COUNT, DEF(64), .sample = "8" },
	/* The kernel takes milliseconds; no unit today yields less. */
	{ ROW("block_timeout", KT_DURATION, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, ring.block_timeout_ms), .min = NS_PER_MS,
	  .max = 10 * NS_PER_S, .unit = NS_PER_MS, .range = "1ms..10s",
	  DEF(50), .sample = "10ms" },
	{ .name = NULL },
};

/* pipeline */

static int
h_plugin(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	struct cfg_plugin *pl = base;
	const char *s;

	if (get_scalar(c, k->name, v, "a string", &s) == -1)
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

struct optsort {
	const char	*key;
	size_t		 index;
};

static int
optsort_cmp(const void *a, const void *b)
{
	const struct optsort *x = a, *y = b;
	int r;

	if ((r = strcmp(x->key, y->key)) != 0)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
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
	struct optsort *s;
	size_t i, first, dup, dupfirst;
	yaml_node_t *k;

	if (pl->noptions < 2)
		return 0;
	if ((s = calloc(pl->noptions, sizeof(*s))) == NULL)
		return perr(c, map->start_mark, "out of memory");
	for (i = 0; i < pl->noptions; i++) {
		s[i].key = pl->options[i].key;
		s[i].index = i;
	}
	qsort(s, pl->noptions, sizeof(*s), optsort_cmp);
	dup = dupfirst = SIZE_MAX;
	first = 0;
	for (i = 1; i < pl->noptions; i++) {
		if (strcmp(s[i].key, s[first].key) != 0) {
			first = i;
			continue;
		}
		if (s[i].index < dup) {
			dup = s[i].index;
			dupfirst = s[first].index;
		}
	}
	free(s);
	if (dup == SIZE_MAX)
		return 0;
	k = node_at(c, map->data.mapping.pairs.start[dup].key);
	return perr(c, k->start_mark, "duplicate key \"%s\" (first at line %u)",
	    pl->options[dup].key, pl->options[dupfirst].pos.line);
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
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	    p++) {
		k = node_at(c, p->key);
		val = node_at(c, p->value);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k->start_mark, "keys must be strings");
		if (check_nul(c, "key", k) == -1)
			return -1;
		if (val->type != YAML_SCALAR_NODE)
			return perr(c, val->start_mark,
			    "plugin config values must be scalars");
		if (check_nul(c, sval(k), val) == -1)
			return -1;
		o = &pl->options[pl->noptions++];
		if ((o->key = dup_or_err(c, k, sval(k))) == NULL ||
		    (o->value = dup_or_err(c, val, sval(val))) == NULL)
			return -1;
		o->pos.line = (unsigned)val->start_mark.line + 1;
		o->pos.col = (unsigned)val->start_mark.column + 1;
	}
	return check_option_dups(c, v, pl);
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
options_same(const void *a, const void *b)
{
	const struct cfg_plugin *pa = a, *pb = b;
	size_t i;

	if (pa->noptions != pb->noptions)
		return false;
	for (i = 0; i < pa->noptions; i++)
		if (!str_eq(pa->options[i].key, pb->options[i].key) ||
		    !str_eq(pa->options[i].value, pb->options[i].value))
			return false;
	return true;
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

static const struct cfg_key plugin_keys[] = {
	{ ROW("plugin", KT_STRING, CFG_RELOAD_PIPELINE),
	  AT(cfg_plugin, name), .fn = h_plugin, .sample = "flowtable" },
	{ ROW("config", KT_CUSTOM, CFG_RELOAD_PIPELINE), .fn = h_plugin_config,
	  .same = options_same, .drop = options_drop,
	  .sample = "{ max_flows: 10 }" },
	{ .name = NULL },
};

static bool
pipeline_same(const void *a, const void *b)
{
	const struct cfg_capture *ca = a, *cb = b;
	size_t i;

	if (ca->npipeline != cb->npipeline)
		return false;
	for (i = 0; i < ca->npipeline; i++)
		if (diff_keys(plugin_keys, "", &ca->pipeline[i],
		    &cb->pipeline[i], NULL) != 0)
			return false;
	return true;
}

/* Frees a list of n entries of `size` bytes, each described by keys. */
static void
free_entries(const struct cfg_key *keys, void *entries, size_t size,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_keys(keys, (char *)entries + i * size);
	free(entries);
}

static void
pipeline_drop(void *base)
{
	struct cfg_capture *cap = base;

	free_entries(plugin_keys, cap->pipeline, sizeof(*cap->pipeline),
	    cap->npipeline);
	cap->pipeline = NULL;
	cap->npipeline = 0;
}

static int
h_pipeline(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg_capture *cap = base;
	yaml_node_item_t *it;
	yaml_node_t *item;
	size_t n;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v->start_mark, "%s must be a list", k->name);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return 0;
	if ((cap->pipeline = calloc(n, sizeof(*cap->pipeline))) == NULL)
		return perr(c, v->start_mark, "out of memory");
	cap->npipeline = n;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		item = node_at(c, *it);
		if (walk_mapping(c, item, "a pipeline entry", k->sub,
		    &cap->pipeline[it - v->data.sequence.items.start]) == -1)
			return -1;
		if (cap->pipeline[it - v->data.sequence.items.start].name ==
		    NULL)
			return perr(c, item->start_mark,
			    "missing required key \"plugin\"");
	}
	return 0;
}

/* capture */

static unsigned
online_cpus(void)
{
	long n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	if (n > MAX_WORKERS)
		return MAX_WORKERS;
	return (unsigned)n;
}

static bool
valid_capture_name(const char *s)
{
	size_t n;

	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-");
	return n > 0 && n <= MAX_CAPTURE_NAME && s[n] == '\0';
}

/* What the kernel's dev_valid_name() accepts. */
static bool
valid_ifname(const char *s)
{
	size_t n;

	n = strlen(s);
	if (n == 0 || n > MAX_IFNAME)
		return false;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strpbrk(s, "/: \t\n\v\f\r") == NULL;
}


static int
h_name(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	const char *s;

	if (get_scalar(c, k->name, v, "a string", &s) == -1)
		return -1;
	if (!valid_capture_name(s))
		return perr(c, v->start_mark, "%s: bad capture name \"%s\" "
		    "(1..32 of A-Z, a-z, 0-9, _, . and -)", k->name, s);
	if ((*(char **)field(base, k) = dup_or_err(c, v, s)) == NULL)
		return -1;
	c->cc->name_mark = v->start_mark;
	return 0;
}

static int
h_interface(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	const char *s;

	if (get_scalar(c, k->name, v, "a string", &s) == -1)
		return -1;
	if (!valid_ifname(s))
		return perr(c, v->start_mark, "%s: bad interface name \"%s\" "
		    "(1..15 characters, no '/', ':' or spaces)", k->name, s);
	if ((*(char **)field(base, k) = dup_or_err(c, v, s)) == NULL)
		return -1;
	return 0;
}

static int
h_workers(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	const char *s;
	uint64_t n;
	int rc;

	if (v->type != YAML_SCALAR_NODE)
		return perr(c, v->start_mark,
		    "%s must be an integer or \"auto\"", k->name);
	if (check_nul(c, k->name, v) == -1)
		return -1;
	s = sval(v);
	if (strcmp(s, "auto") == 0) {
		store_uint(field(base, k), k->size, online_cpus());
		return 0;
	}
	rc = parse_uint(s, &n);
	if (rc == -EINVAL)
		return perr(c, v->start_mark,
		    "%s must be an integer or \"auto\"", k->name);
	if (rc != 0 || n < 1 || n > MAX_WORKERS)
		return perr(c, v->start_mark, "%s: %s is out of range 1..%d",
		    k->name, s, MAX_WORKERS);
	store_uint(field(base, k), k->size, n);
	return 0;
}

/* Reads a list in the kernel's form, "0-3,6\n", into *set. */
static int
parse_cpu_list(const char *s, cpu_set_t *set)
{
	unsigned long a, b;
	char *end;

	CPU_ZERO(set);
	for (;;) {
		if (!isdigit((unsigned char)*s))
			return -1;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -1;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > b || b >= CPU_SETSIZE)
			return -1;
		for (; a <= b; a++)
			CPU_SET(a, set);
		if (*end == '\n' || *end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* The same form back, for messages; a list too long ends in "...". */
static void
format_cpu_list(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off;
	int a, b, n;

	buf[0] = '\0';
	off = 0;
	for (a = 0; a < CPU_SETSIZE; a = b + 1) {
		if (!CPU_ISSET(a, set)) {
			b = a;
			continue;
		}
		for (b = a; b + 1 < CPU_SETSIZE && CPU_ISSET(b + 1, set); b++)
			;
		n = a == b ? snprintf(buf + off, len - off, "%s%d",
		    off > 0 ? "," : "", a) : snprintf(buf + off, len - off,
		    "%s%d-%d", off > 0 ? "," : "", a, b);
		if (n < 0 || (size_t)n >= len - off) {
			snprintf(buf + (off < len - 4 ? off : len - 4),
			    4, "...");
			return;
		}
		off += (size_t)n;
	}
}

/*
 * A CPU that is offline or absent would make the worker's
 * sched_setaffinity(2) fail only once it starts; checked here it is a
 * config error that -t and a reload report.  The set is the kernel's
 * online list, not this process's affinity mask, so that a master started
 * under taskset(1) can still place workers elsewhere; without sysfs it is
 * the mask, and when neither is known the workers find out.
 */
static bool
cpu_online(struct ctx *c, unsigned cpu)
{
	char line[4096];
	FILE *fp;

	if (c->online_state == 0) {
		c->online_state = -1;
		if ((fp = fopen(CPU_ONLINE_FILE, "re")) != NULL) {
			if (fgets(line, sizeof(line), fp) != NULL &&
			    parse_cpu_list(line, &c->online) == 0)
				c->online_state = 1;
			fclose(fp);
		}
		if (c->online_state == -1 &&
		    sched_getaffinity(0, sizeof(c->online), &c->online) == 0)
			c->online_state = 1;
		if (c->online_state == 1)
			format_cpu_list(&c->online, c->online_list,
			    sizeof(c->online_list));
	}
	return c->online_state != 1 || CPU_ISSET(cpu, &c->online);
}


static int
h_cpu_affinity(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg_capture *cap = base;
	const struct cfg_enum *e;
	yaml_node_item_t *it;
	yaml_node_t *item;
	uint64_t cpu;
	size_t n;

	if (v->type == YAML_SCALAR_NODE &&
	    (e = enum_find(affinities, sval(v))) != NULL &&
	    e->value != CFG_AFFINITY_LIST) {
		cap->affinity = (enum cfg_affinity)e->value;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v->start_mark,
		    "%s must be auto, none or a list of CPU numbers", k->name);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return perr(c, v->start_mark, "%s: the list is empty", k->name);
	if ((cap->cpus = calloc(n, sizeof(*cap->cpus))) == NULL)
		return perr(c, v->start_mark, "out of memory");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		item = node_at(c, *it);
		if (get_uint(c, k->name, item, 0, CPU_SETSIZE - 1, &cpu) == -1)
			return -1;
		if (!cpu_online(c, (unsigned)cpu))
			return perr(c, item->start_mark,
			    "%s: CPU %ju is not online (online: %s)", k->name,
			    (uintmax_t)cpu, c->online_list);
		cap->cpus[cap->ncpus++] = (int)cpu;
	}
	cap->affinity = CFG_AFFINITY_LIST;
	return 0;
}

static bool
affinity_same(const void *a, const void *b)
{
	const struct cfg_capture *ca = a, *cb = b;

	return ca->affinity == cb->affinity && ca->ncpus == cb->ncpus &&
	    (ca->ncpus == 0 ||
	    memcmp(ca->cpus, cb->cpus, ca->ncpus * sizeof(*ca->cpus)) == 0);
}

static void
affinity_drop(void *base)
{
	struct cfg_capture *cap = base;

	free(cap->cpus);
	cap->cpus = NULL;
	cap->ncpus = 0;
}

static int
h_bpf(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	struct cfg_capture *cap = base;
	const char *s;

	if (is_null(v))
		return 0;
	if (get_scalar(c, k->name, v, "a string", &s) == -1)
		return -1;
	/* An empty expression matches everything: same as no filter. */
	if (*s == '\0')
		return 0;
	if ((cap->bpf = dup_or_err(c, v, s)) == NULL)
		return -1;
	cap->bpf_pos.line = (unsigned)v->start_mark.line + 1;
	cap->bpf_pos.col = (unsigned)v->start_mark.column + 1;
	return 0;
}

static int
h_ring(struct ctx *c, const struct cfg_key *k, void *base, yaml_node_t *v)
{
	c->cc->ring_node = v;
	return parse_value(c, k, base, v);
}

/*
 * Everything a socket is set up with rebuilds the capture's sockets; its
 * plugins only restart its workers, one at a time.
 */
static const struct cfg_key capture_keys[] = {
	{ ROW("name", KT_STRING, CFG_RELOAD_CAPTURE), AT(cfg_capture, name),
	  .fn = h_name, .sample = "other" },
	{ ROW("interface", KT_STRING, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, interface), .fn = h_interface, .sample = "eth9" },
	{ ROW("workers", KT_UINT, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, workers), .fn = h_workers, .sample = "2" },
	{ ROW("cpu_affinity", KT_CUSTOM, CFG_RELOAD_CAPTURE),
	  .fn = h_cpu_affinity, .same = affinity_same, .drop = affinity_drop,
	  .sample = "auto" },
	{ ROW("promiscuous", KT_BOOL, CFG_RELOAD_CAPTURE),
	  AT(cfg_capture, promiscuous), DEF(true), .sample = "false" },
	{ ROW("bpf", KT_STRING, CFG_RELOAD_CAPTURE), AT(cfg_capture, bpf),
	  .fn = h_bpf, .sample = "tcp" },
	{ ROW("fanout", KT_SECTION, CFG_RELOAD_NONE), .sub = fanout_keys },
	{ ROW("ring", KT_SECTION, CFG_RELOAD_NONE), .sub = ring_keys,
	  .fn = h_ring },
	{ ROW("pipeline", KT_CUSTOM, CFG_RELOAD_PIPELINE), .sub = plugin_keys,
	  .fn = h_pipeline, .same = pipeline_same, .drop = pipeline_drop,
	  .sample = "[]" },
	{ .name = NULL },
};

/* The defaults of the rows that have one, and of their sections. */
static int
set_defaults(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	char **s;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == KT_SECTION) {
			if (set_defaults(k->sub, base) == -1)
				return -1;
		} else if (k->sdef != NULL) {
			s = field(base, k);
			free(*s);
			if ((*s = strdup(k->sdef)) == NULL)
				return -1;
		} else if (k->has_def && k->type == KT_BOOL)
			*(bool *)field(base, k) = k->def != 0;
		else if (k->has_def)
			store_uint(field(base, k), k->size, k->def);
	}
	return 0;
}

static void
free_keys(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	char **s;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == KT_SECTION)
			free_keys(k->sub, base);
		else if (k->type == KT_STRING) {
			s = field(base, k);
			free(*s);
			*s = NULL;
		} else if (k->drop != NULL)
			k->drop(base);
	}
}

/* workers has no fixed default: "auto" is counted when the file is read. */
static int
capture_defaults(struct cfg_capture *cap)
{
	cap->workers = online_cpus();
	return set_defaults(capture_keys, cap);
}

/* top level */

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
		return perr(c, m, "ring: %u workers x %u blocks x %u bytes "
		    "need %ju MiB, more than the physical memory (%ju MiB)",
		    cap->workers, cap->ring.block_count, cap->ring.block_size,
		    (uintmax_t)mib_up(need), (uintmax_t)(phys / MIB));
	if (c->ring_total > phys)
		return perr(c, m, "ring: the rings of captures 1..%zu need "
		    "%ju MiB, more than the physical memory (%ju MiB)",
		    index + 1, (uintmax_t)mib_up(c->ring_total),
		    (uintmax_t)(phys / MIB));
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

	free_entries(capture_keys, cfg->captures, sizeof(*cfg->captures),
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

	if (v->type == YAML_MAPPING_NODE || is_null(v))
		return perr(c, v->start_mark,
		    "%s must be a list of strings or a string", k->name);
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
		if (get_string(c, k->name, item, false,
		    &cfg->plugin_path[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * A new user or plugin path concerns every worker; the master reads the
 * statistics at the interval of the configuration in force.
 */
static const struct cfg_key top_keys[] = {
	{ ROW("control", KT_SECTION, CFG_RELOAD_NONE), .sub = control_keys },
	{ ROW("user", KT_STRING, CFG_RELOAD_PIPELINE), AT(cfg, user),
	  .optional = true, .sample = "nobody" },
	{ ROW("log", KT_SECTION, CFG_RELOAD_NONE), .sub = log_keys },
	{ ROW("plugin_path", KT_CUSTOM, CFG_RELOAD_PIPELINE),
	  .fn = h_plugin_path, .same = plugin_path_same,
	  .drop = free_plugin_path, .sample = "[/tmp, /usr/lib]" },
	{ ROW("stats_interval", KT_DURATION, CFG_RELOAD_LIVE),
	  AT(cfg, stats_interval_ns), .min = 10 * NS_PER_MS,
	  .max = 3600 * NS_PER_S, .unit = 1, .range = "10ms..1h",
	  DEF(NS_PER_S), .sample = "2s" },
	{ ROW("captures", KT_CUSTOM, CFG_RELOAD_CAPTURE), .sub = capture_keys,
	  .fn = h_captures, .same = captures_same, .drop = captures_drop,
	  .sample = "[{ name: a, interface: lo, workers: 1 }, "
	  "{ name: b, interface: lo, workers: 1 }]" },
	{ .name = NULL },
};

/* Everything but the captures, which have no default in a file. */
static int
global_defaults(struct cfg *cfg, const char *path)
{
	if ((cfg->path = strdup(path)) == NULL ||
	    set_defaults(top_keys, cfg) == -1 ||
	    (cfg->plugin_path = calloc(1, sizeof(char *))) == NULL)
		return -1;
	cfg->nplugin_path = 1;
	if ((cfg->plugin_path[0] = strdup(RINGFAN_PLUGIN_DIR)) == NULL)
		return -1;
	return 0;
}

static bool
key_same(const struct cfg_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case KT_SECTION:
		return diff_keys(k->sub, "", a, b, NULL) == 0;
	case KT_BOOL:
		return *(const bool *)cfield(a, k) == *(const bool *)cfield(b, k);
	case KT_UINT:
	case KT_DURATION:
	case KT_ENUM:
		return load_uint(cfield(a, k), k->size) ==
		    load_uint(cfield(b, k), k->size);
	case KT_STRING:
		return str_eq(*(char *const *)cfield(a, k),
		    *(char *const *)cfield(b, k));
	case KT_CUSTOM:
		return k->same(a, b);
	}
	return false;
}

static unsigned
diff_keys(const struct cfg_key *keys, const char *prefix, const void *a,
    const void *b, void (*restart)(const char *))
{
	const struct cfg_key *k;
	char path[64];
	unsigned m;

	m = 0;
	for (k = keys; k->name != NULL; k++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", k->name);
		if (k->type == KT_SECTION)
			m |= diff_keys(k->sub, path, a, b, restart);
		else if (!key_same(k, a, b)) {
			m |= k->reload;
			if (k->reload == CFG_RELOAD_RESTART && restart != NULL)
				restart(path);
		}
	}
	return m;
}

unsigned
cfg_diff(const struct cfg *old, const struct cfg *new, size_t capture,
    void (*restart)(const char *key))
{
	if (capture == CFG_DIFF_GLOBAL)
		return diff_keys(top_keys, "", old, new, restart);
	return diff_keys(capture_keys, "captures", &old->captures[capture],
	    &new->captures[capture], restart);
}

static const struct cfg_key *
key_at(const struct cfg_key *keys, const char *prefix, size_t *i,
    char *path, size_t len)
{
	const struct cfg_key *k, *r;
	char buf[64];

	for (k = keys; k->name != NULL; k++) {
		snprintf(buf, sizeof(buf), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", k->name);
		if ((*i)-- == 0) {
			snprintf(path, len, "%s", buf);
			return k;
		}
		if (k->sub != NULL &&
		    (r = key_at(k->sub, buf, i, path, len)) != NULL)
			return r;
	}
	return NULL;
}

int
cfg_key_info(size_t i, char *path, size_t len, unsigned *reload,
    const char **sample)
{
	const struct cfg_key *k;

	if ((k = key_at(top_keys, "", &i, path, len)) == NULL)
		return -1;
	*reload = k->reload;
	*sample = k->sample;
	return 0;
}

/*
 * libyaml reports reader errors (bad UTF-8, control characters) by byte
 * offset only; turn that into a line and a column counted in characters,
 * as its other marks are.
 */
static yaml_mark_t
mark_of_offset(const struct ctx *c, size_t off)
{
	yaml_mark_t m;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < off && i < c->len; i++) {
		if (c->text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)c->text[i] & 0xc0) != 0x80)
			m.column++;
	}
	m.index = off;
	return m;
}

static int
syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	yaml_mark_t m;

	if (p->error == YAML_MEMORY_ERROR)
		return perr(c, p->mark, "out of memory");
	if (p->error == YAML_READER_ERROR)
		m = mark_of_offset(c, p->problem_offset);
	else
		m = p->problem_mark;
	if (p->context != NULL)
		return perr(c, m, "syntax error: %s (%s at line %zu)",
		    p->problem != NULL ? p->problem : "unknown", p->context,
		    p->context_mark.line + 1);
	return perr(c, m, "syntax error: %s",
	    p->problem != NULL ? p->problem : "unknown");
}

/*
 * libyaml's scanner keeps a possible simple key per flow level and looks
 * at all of them for every token, so a deeply nested file costs time
 * quadratic in its depth: 120 KB of "[" takes seconds to compose.  Its
 * event parser runs the scanner no further than the event it returns (a
 * simple key looks ahead at most one line of 1024 characters), so this
 * streaming pass, which stops at the first collection deeper than
 * MAX_DEPTH, costs at most MAX_DEPTH per token, and the document load that
 * follows only ever sees shallow files.  Syntax errors are left to that
 * load, which reports them as it always has.
 */
static int
check_depth(struct ctx *c)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned depth;
	int rc;
	bool done;

	if (!yaml_parser_initialize(&parser))
		return perr(c, parser.mark, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->text,
	    c->len);
	depth = 0;
	rc = 0;
	for (done = false; !done;) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH) {
				rc = perr(c, ev.start_mark, "nested deeper "
				    "than %d levels", MAX_DEPTH);
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/*
 * Loads the one document of the text.  A second document is refused rather
 * than ignored, since a stray "---" usually means two files were pasted
 * together.
 */
static int
load_document(struct ctx *c, yaml_document_t *doc)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int rc;

	if (check_depth(c) == -1)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return perr(c, parser.mark, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->text,
	    c->len);
	if (!yaml_parser_load(&parser, doc)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	if (yaml_document_get_root_node(doc) == NULL) {
		yaml_parser_delete(&parser);
		return 0;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		yaml_document_delete(doc);
		return rc;
	}
	rc = 0;
	if ((root = yaml_document_get_root_node(&extra)) != NULL) {
		rc = perr(c, root->start_mark,
		    "only one YAML document is allowed");
		yaml_document_delete(doc);
	}
	yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
	return rc;
}

static int
parse(struct ctx *c, struct cfg *cfg)
{
	yaml_mark_t start;
	yaml_node_t *root;

	memset(&start, 0, sizeof(start));
	root = yaml_document_get_root_node(c->doc);
	if (root == NULL || is_null(root))
		return perr(c, start, "empty configuration file");
	if (walk_mapping(c, root, "the top level", top_keys, cfg) == -1)
		return -1;
	if (cfg->captures == NULL)
		return perr(c, root->start_mark,
		    "missing required key \"captures\"");
	return 0;
}

int
cfg_load_string(struct cfg *cfg, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct cfg tmp;
	struct ctx c;
	yaml_document_t doc;
	yaml_mark_t start;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (len > MAX_FILE_SIZE)
		return plain_err(err, errlen, "%s: file is larger than %zu MiB",
		    name, MAX_FILE_SIZE >> 20);
	memset(&tmp, 0, sizeof(tmp));
	memset(&start, 0, sizeof(start));
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.text = text;
	c.len = len;
	c.doc = &doc;
	c.err = err;
	c.errlen = errlen;
	if (global_defaults(&tmp, name) == -1) {
		cfg_free(&tmp);
		return perr(&c, start, "out of memory");
	}
	if (load_document(&c, &doc) == -1) {
		cfg_free(&tmp);
		return -1;
	}
	rc = parse(&c, &tmp);
	yaml_document_delete(&doc);
	if (rc == -1) {
		cfg_free(&tmp);
		return -1;
	}
	*cfg = tmp;
	return 0;
}

/*
 * Only a regular file, opened without blocking and sized before it is read:
 * a FIFO or a device named in place of the config would otherwise hold the
 * master, which reloads in its own loop, for as long as it pleases.
 */
int
cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	ssize_t n;
	int fd, rc, saved;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return plain_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return plain_err(err, errlen, "%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (S_ISDIR(st.st_mode))
			return plain_err(err, errlen, "%s: %s", path,
			    strerror(EISDIR));
		return plain_err(err, errlen, "%s: not a regular file", path);
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	if ((uintmax_t)st.st_size > MAX_FILE_SIZE ||
	    (buf = malloc(MAX_FILE_SIZE + 1)) == NULL) {
		close(fd);
		if ((uintmax_t)st.st_size > MAX_FILE_SIZE)
			return plain_err(err, errlen,
			    "%s: file is larger than %zu MiB", path,
			    MAX_FILE_SIZE >> 20);
		return plain_err(err, errlen, "%s: out of memory", path);
	}
	len = 0;
	while (len <= MAX_FILE_SIZE) {
		n = read(fd, buf + len, MAX_FILE_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			return plain_err(err, errlen, "%s: %s", path,
			    strerror(saved));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = cfg_load_string(cfg, path, buf, len, err, errlen);
	free(buf);
	return rc;
}


int
cfg_default(struct cfg *cfg, const char *iface, char *err, size_t errlen)
{
	struct cfg tmp;
	struct cfg_capture *cap;

	memset(cfg, 0, sizeof(*cfg));
	if (iface == NULL || !valid_ifname(iface))
		return plain_err(err, errlen, "bad interface name \"%s\" "
		    "(1..15 characters, no '/', ':' or spaces)",
		    iface != NULL ? iface : "");
	memset(&tmp, 0, sizeof(tmp));
	if (global_defaults(&tmp, "<default>") == -1)
		goto nomem;
	if ((tmp.captures = calloc(1, sizeof(*tmp.captures))) == NULL)
		goto nomem;
	tmp.ncaptures = 1;
	cap = &tmp.captures[0];
	if (capture_defaults(cap) == -1 ||
	    (cap->name = strdup("default")) == NULL ||
	    (cap->interface = strdup(iface)) == NULL)
		goto nomem;
	cap->fanout.group = cfg_default_group(cap->name);
	if ((cap->pipeline = calloc(1, sizeof(*cap->pipeline))) == NULL)
		goto nomem;
	cap->npipeline = 1;
	if ((cap->pipeline[0].name = strdup("counter")) == NULL)
		goto nomem;
	*cfg = tmp;
	return 0;
nomem:
	cfg_free(&tmp);
	return plain_err(err, errlen, "out of memory");
}

void
cfg_free(struct cfg *cfg)
{
	free(cfg->path);
	free_keys(top_keys, cfg);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
cfg_fanout_mode_name(enum cfg_fanout_mode mode)
{
	return enum_name(fanout_modes, (int)mode);
}

const char *
cfg_affinity_name(enum cfg_affinity affinity)
{
	return enum_name(affinities, (int)affinity);
}

const char *
cfg_log_level_name(int level)
{
	return enum_name(log_levels, level);
}

/*
 * FNV-1a folded to 16 bits: stable across runs and builds, so a restarted
 * daemon joins the same fanout group, and different names rarely collide.
 */
uint16_t
cfg_default_group(const char *capture_name)
{
	const unsigned char *p;
	uint32_t h;

	h = UINT32_C(2166136261);
	for (p = (const unsigned char *)capture_name; *p != '\0'; p++) {
		h ^= *p;
		h *= UINT32_C(16777619);
	}
	return (uint16_t)((h >> 16) ^ (h & 0xffff));
}

unsigned
cfg_total_workers(const struct cfg *cfg)
{
	unsigned total;
	size_t i;

	total = 0;
	for (i = 0; i < cfg->ncaptures; i++)
		total += cfg->captures[i].workers;
	return total;
}

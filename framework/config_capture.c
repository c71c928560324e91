/*
 * The keys of one capture: its name, interface, workers, CPU affinity and
 * filter, its fanout and ring sections, its pipeline (whose entries' keys
 * are in config_keys.c; their step names are checked and defaulted here,
 * where the whole pipeline is known), and the defaults a capture starts
 * from.  The list of captures itself is read in config_keys.c.
 */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "config_int.h"
#include "ring.h"
#include "util.h"

static const struct cfg_enum fanout_modes[] = {
	{ "hash",	CFG_FANOUT_HASH },
	{ "lb",		CFG_FANOUT_LB },
	{ "cpu",	CFG_FANOUT_CPU },
	{ "rollover",	CFG_FANOUT_ROLLOVER },
	{ "random",	CFG_FANOUT_RANDOM },
	{ "qm",		CFG_FANOUT_QM },
	{ NULL,		0 },
};

/* "list" is a name for messages only: a list is written as one. */
static const struct cfg_enum affinities[] = {
	{ "none",	CFG_AFFINITY_NONE },
	{ "auto",	CFG_AFFINITY_AUTO },
	{ "list",	CFG_AFFINITY_LIST },
	{ NULL,		0 },
};

/* fanout */

static int
h_fanout_group(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	if (parse_value(c, k, base, v) == -1)
		return -1;
	c->cc->group_set = true;
	c->cc->group_mark = v->start_mark;
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
		return perr(c, v->start_mark, "%s: bad size \"%s\" (" SIZE_FORM ")", k->name, s);
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

/* ring_block_seq(): a block comes back block_count seq_nums later. */
_Static_assert(MAX_BLOCK_COUNT < RING_SEQ_WRAPPED,
    "a block's seq_num would come back as RING_SEQ_WRAPPED");

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

static bool
pipeline_same(const void *a, const void *b)
{
	const struct cfg_capture *ca = a, *cb = b;
	size_t i;

	if (ca->npipeline != cb->npipeline)
		return false;
	for (i = 0; i < ca->npipeline; i++)
		if (diff_keys(cfg_plugin_keys, "", &ca->pipeline[i],
		    &cb->pipeline[i], NULL) != 0)
			return false;
	return true;
}
static void
pipeline_drop(void *base)
{
	struct cfg_capture *cap = base;

	free_entries(cfg_plugin_keys, cap->pipeline, sizeof(*cap->pipeline),
	    cap->npipeline);
	cap->pipeline = NULL;
	cap->npipeline = 0;
}

int
h_step_name(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	struct cfg_plugin *pl = base;
	const char *s;

	if (get_text(c, k->name, v, &s) == -1)
		return -1;
	if (!name_valid(s, MAX_PLUGIN_NAME + 1))
		return perr(c, v->start_mark, "%s: bad step name \"%s\" "
		    "(1..31 of a-z, 0-9 and _)", k->name, s);
	if ((pl->step = dup_or_err(c, v, s)) == NULL)
		return -1;
	pl->step_pos.line = (unsigned)v->start_mark.line + 1;
	pl->step_pos.col = (unsigned)v->start_mark.column + 1;
	return 0;
}

/* Where entry p's step name comes from: its `name`, or its `plugin`. */
static struct cfg_pos
step_where(const struct cfg_plugin *p)
{
	return p->step_pos.line != 0 ? p->step_pos : p->pos;
}

static yaml_mark_t
step_mark(const struct cfg_plugin *p)
{
	struct cfg_pos pos = step_where(p);
	yaml_mark_t m = { 0 };

	m.line = pos.line - 1;
	m.column = pos.col - 1;
	return m;
}

/* Entry i's plugin name, and its step name, for names_sorted(). */
static const char *
entry_plugin(const void *cap, size_t i)
{
	return ((const struct cfg_capture *)cap)->pipeline[i].name;
}

static const char *
entry_step(const void *cap, size_t i)
{
	return ((const struct cfg_capture *)cap)->pipeline[i].step;
}

/*
 * Name the steps that have no `name`: the plugin's name for its first
 * entry, NAME_2, NAME_3, ... for the later ones (counted over every entry
 * of the plugin), then refuse two steps of one name, at the later one
 * (the earliest such in the file, naming the first step of that name).
 */
static int
step_names(struct ctx *c, struct cfg_capture *cap)
{
	struct cfg_plugin *p, *q;
	struct name_at *s;
	char name[MAX_PLUGIN_NAME + 2];
	struct cfg_pos at;
	unsigned *nths;
	size_t dup, first;
	int n;

	if (cap->npipeline == 0)
		return 0;
	if ((s = names_sorted(cap, cap->npipeline, entry_plugin)) == NULL ||
	    (nths = calloc(cap->npipeline, sizeof(*nths))) == NULL) {
		free(s);
		return perr(c, step_mark(&cap->pipeline[0]), "out of memory");
	}
	for (size_t i = 0, nth = 1; i < cap->npipeline; i++) {
		if (i > 0 && strcmp(s[i].name, s[i - 1].name) == 0)
			nth++;
		else
			nth = 1;
		nths[s[i].index] = (unsigned)nth;
	}
	free(s);
	for (size_t i = 0; i < cap->npipeline; i++) {
		p = &cap->pipeline[i];
		if (p->step != NULL)
			continue;
		n = nths[i] == 1 ? snprintf(name, sizeof(name), "%s", p->name) :
		    snprintf(name, sizeof(name), "%s_%u", p->name, nths[i]);
		if (n < 0 || (size_t)n > MAX_PLUGIN_NAME) {
			perr(c, step_mark(p), "step %u of plugin %s would be "
			    "named %s_%u, longer than %d characters: give it "
			    "a name", nths[i], p->name, p->name, nths[i],
			    MAX_PLUGIN_NAME);
			free(nths);
			return -1;
		}
		if ((p->step = strdup(name)) == NULL) {
			free(nths);
			return perr(c, step_mark(p), "out of memory");
		}
	}
	free(nths);
	if (names_first_dup(cap, cap->npipeline, entry_step, &dup,
	    &first) == -1)
		return perr(c, step_mark(&cap->pipeline[0]), "out of memory");
	if (dup == SIZE_MAX)
		return 0;
	p = &cap->pipeline[dup];
	q = &cap->pipeline[first];
	at = step_where(q);
	/* An explicit name clashes; else its default does. */
	if (p->step_pos.line != 0)
		return perr(c, step_mark(p), "duplicate step name \"%s\" "
		    "(first at line %u, column %u)", p->step, at.line, at.col);
	return perr(c, step_mark(p), "plugin %s: its step name \"%s\" is "
	    "taken by the step at line %u, column %u: give it a name",
	    p->name, p->step, at.line, at.col);
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
	return step_names(c, cap);
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
bool
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

	if (get_text(c, k->name, v, &s) == -1)
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

	if (get_text(c, k->name, v, &s) == -1)
		return -1;
	if (!valid_ifname(s))
		return perr(c, v->start_mark, "%s: bad interface name \"%s\" "
		    IFNAME_RULE, k->name, s);
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
 * The online CPUs into set: the kernel's list, or this process's affinity
 * mask without sysfs.  0, or -1 when neither is known.
 */
static int
online_set(cpu_set_t *set)
{
	char line[4096];
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(CPU_ONLINE_FILE, "re")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL)
			rc = parse_cpu_list(line, set);
		fclose(fp);
	}
	if (rc != 0 && sched_getaffinity(0, sizeof(*set), set) == 0)
		rc = 0;
	return rc;
}

bool
cfg_cpu_online(int cpu)
{
	cpu_set_t set;

	return cpu >= 0 && cpu < CPU_SETSIZE &&
	    (online_set(&set) != 0 || CPU_ISSET(cpu, &set));
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
	if (c->online_state == 0) {
		c->online_state = online_set(&c->online) == 0 ? 1 : -1;
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
const struct cfg_key cfg_capture_keys[] = {
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
	/* Read only while the interface is missing: nothing to rebuild. */
	{ ROW("wait_for_interface", KT_BOOL, CFG_RELOAD_LIVE),
	  AT(cfg_capture, wait_for_interface), DEF(false), .sample = "true" },
	{ ROW("fanout", KT_SECTION, CFG_RELOAD_NONE), .sub = fanout_keys },
	{ ROW("ring", KT_SECTION, CFG_RELOAD_NONE), .sub = ring_keys,
	  .fn = h_ring },
	{ ROW("pipeline", KT_CUSTOM, CFG_RELOAD_PIPELINE), .sub = cfg_plugin_keys,
	  .fn = h_pipeline, .same = pipeline_same, .drop = pipeline_drop,
	  .sample = "[]" },
	{ .name = NULL },
};

/*
 * The set of online CPUs is read when the worker's slot is built, as the
 * count of `workers: auto` is when the file is read: a CPU that goes
 * offline later is the worker's sched_setaffinity(2) error.
 */
int
cfg_worker_cpu(const struct cfg_capture *cap, unsigned i, const char *online)
{
	cpu_set_t set;
	int n, k;

	switch (cap->affinity) {
	case CFG_AFFINITY_AUTO:
		break;
	case CFG_AFFINITY_LIST:
		return cap->cpus[i % cap->ncpus];
	case CFG_AFFINITY_NONE:
	default:
		return -1;
	}
	if ((online != NULL ? parse_cpu_list(online, &set) :
	    online_set(&set)) != 0 || (n = CPU_COUNT(&set)) == 0)
		return (int)(i % online_cpus());
	i %= (unsigned)n;
	for (k = 0; k < CPU_SETSIZE; k++)
		if (CPU_ISSET(k, &set) && i-- == 0)
			return k;
	return -1;
}

/* workers has no fixed default: "auto" is counted when the file is read. */
int
capture_defaults(struct cfg_capture *cap)
{
	cap->workers = online_cpus();
	return set_defaults(cfg_capture_keys, cap);
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

/*
 * The shared-memory region of the workers' counters, and the `stats`
 * document built from it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ringfan_build.h"
#include "stats.h"

struct stats_shm *
stats_create(unsigned nworkers)
{
	struct stats_shm *shm;
	size_t size;

	size = sizeof(*shm) + (size_t)nworkers * sizeof(struct stats_worker);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return NULL;
	shm->magic = STATS_MAGIC;
	shm->layout = STATS_LAYOUT;
	shm->nworkers = nworkers;
	shm->size = size;
	for (unsigned i = 0; i < nworkers; i++) {
		shm->workers[i].cpu = -1;
		shm->workers[i].cut_until = UINT64_MAX;
	}
	return shm;
}

void
stats_destroy(struct stats_shm *shm)
{
	if (shm != NULL)
		munmap(shm, shm->size);
}

const char *
stats_state_name(enum worker_state state)
{
	static const char *const names[] = {
		[WORKER_STARTING] = "starting",
		[WORKER_RUNNING] = "running",
		[WORKER_STOPPING] = "stopping",
		[WORKER_STOPPED] = "stopped",
		[WORKER_FAILED] = "failed",
		[WORKER_BACKOFF] = "backoff",
		[WORKER_RESTARTING] = "restarting",
	};

	if ((size_t)state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[state];
}

int
stats_counter(struct stats_worker *w, const char *plugin, const char *name,
    enum stats_kind kind, uint64_t **slot)
{
	struct stats_counter *c;
	uint32_t used;

	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		c = &w->counters[i];
		if ((used = STATS_LOAD(&c->used)) == 0) {
			strlcpy(c->plugin, plugin, sizeof(c->plugin));
			strlcpy(c->name, name, sizeof(c->name));
			c->value = 0;
			/* The master may read the slot from now on. */
			__atomic_store_n(&c->used, (uint32_t)kind,
			    __ATOMIC_RELEASE);
			*slot = &c->value;
			return 0;
		}
		if (strcmp(c->plugin, plugin) == 0 &&
		    strcmp(c->name, name) == 0) {
			if (used != (uint32_t)kind)
				return -EEXIST;
			*slot = &c->value;
			return 0;
		}
	}
	return -ENOSPC;
}

void
stats_status_init(struct stats_worker *w, size_t i, const char *plugin)
{
	struct stats_status *st = &w->status[i];
	uint32_t seq = STATS_LOAD(&st->seq);

	/* A predecessor killed inside a write left it odd: even it again. */
	if (seq & 1)
		__atomic_store_n(&st->seq, seq + 1, __ATOMIC_RELEASE);
	stats_status_set(w, i, "");
	if (plugin != st->plugin)
		strlcpy(st->plugin, plugin, sizeof(st->plugin));
}

void
stats_worker_gone(struct stats_worker *w)
{
	struct stats_counter *c;

	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		c = &w->counters[i];
		if (STATS_LOAD(&c->used) == STATS_GAUGE)
			STATS_STORE(&c->value, 0);
	}
	for (size_t i = 0; i < STATS_MAX_STAGES; i++)
		stats_status_init(w, i, w->status[i].plugin);
}

void
stats_status_set(struct stats_worker *w, size_t i, const char *text)
{
	struct stats_status *st = &w->status[i];
	uint32_t seq = STATS_LOAD(&st->seq);
	char cut[sizeof(st->text)];

	/* Compared as it would be stored: a long text is cut alike. */
	strlcpy(cut, text, sizeof(cut));
	if (*cut == '\0' ? STATS_LOAD(&st->set) == 0 :
	    STATS_LOAD(&st->set) == 1 && strcmp(st->text, cut) == 0)
		return;
	__atomic_store_n(&st->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(st->text, cut, sizeof(cut));
	STATS_STORE(&st->set, *text != '\0');
	__atomic_store_n(&st->seq, seq + 2, __ATOMIC_RELEASE);
}

bool
stats_status_get(const struct stats_worker *w, size_t i, const char *plugin,
    char *buf, size_t len)
{
	const struct stats_status *st = &w->status[i];
	uint32_t before, after;
	bool set;

	for (int tries = 0; tries < 100; tries++) {
		before = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		if (before & 1)
			continue;
		set = STATS_LOAD(&st->set) == 1 &&
		    strncmp(st->plugin, plugin, sizeof(st->plugin)) == 0;
		if (set) {
			for (size_t k = 0; k + 1 < len && k < sizeof(st->text);
			    k++) {
				buf[k] = __atomic_load_n(&st->text[k],
				    __ATOMIC_RELAXED);
				buf[k + 1] = '\0';
				if (buf[k] == '\0')
					break;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&st->seq, __ATOMIC_RELAXED);
		if (before == after)
			return set;
	}
	return false;
}

/* Add v to the carried counter `name` of `plugin`, making its slot. */
static void
stats_carry_counter(struct stats_carry *c, const char *plugin,
    const char *name, uint64_t v)
{
	uint32_t k;

	for (k = 0; k < c->ncounters; k++)
		if (strcmp(c->counters[k].plugin, plugin) == 0 &&
		    strcmp(c->counters[k].name, name) == 0)
			break;
	if (k == c->ncounters) {
		if (k == STATS_MAX_COUNTERS)
			return;
		strlcpy(c->counters[k].plugin, plugin,
		    sizeof(c->counters[k].plugin));
		strlcpy(c->counters[k].name, name, sizeof(c->counters[k].name));
		c->counters[k].value = 0;
		c->ncounters++;
	}
	c->counters[k].value += v;
}

void
stats_carry(struct stats_worker *to, const struct stats_worker *from)
{
	struct stats_carry *c = &to->carry;
	const struct stats_counter *fc;

	/* Everything as `stats` shows it, its own carry included. */
	for (size_t i = 0; i < STATS_NFIELDS; i++)
		*(uint64_t *)((char *)c + stats_fields[i].carry) +=
		    stats_field_value(from, &stats_fields[i]);
	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		fc = &from->counters[i];
		if (STATS_LOAD(&fc->used) == 0)
			break;
		if (STATS_LOAD(&fc->used) != STATS_COUNTER)
			continue;	/* a level belongs to its generation */
		stats_carry_counter(c, fc->plugin, fc->name,
		    STATS_LOAD(&fc->value));
	}
	for (uint32_t j = 0; j < from->carry.ncounters; j++)
		stats_carry_counter(c, from->carry.counters[j].plugin,
		    from->carry.counters[j].name,
		    from->carry.counters[j].value);
}

/* Add v to counter `name` of plugin object obj (creating it). */
static void
stats_counter_add(json_t *obj, const char *name, uint64_t v)
{
	json_t *cur = json_object_get(obj, name);

	json_object_set_new(obj, name, json_integer((json_int_t)(v +
	    (cur != NULL ? (uint64_t)json_integer_value(cur) : 0))));
}

/* The counters (or gauges) of every plugin of w's pipeline. */
static json_t *
stats_counters_json(const struct stats_worker *w, const char *const *names,
    size_t nplugins, enum stats_kind kind)
{
	const struct stats_counter *c;
	json_t *plugins, *obj;

	plugins = json_object();
	/* Every plugin of the pipeline is listed, with counters or not. */
	for (size_t k = 0; k < nplugins; k++)
		json_object_set_new(plugins, names[k], json_object());
	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		c = &w->counters[i];
		if (__atomic_load_n(&c->used, __ATOMIC_ACQUIRE) == 0)
			break;
		/* Counters of a plugin that a reload removed are not shown. */
		if (STATS_LOAD(&c->used) != (uint32_t)kind ||
		    (obj = json_object_get(plugins, c->plugin)) == NULL)
			continue;
		stats_counter_add(obj, c->name, STATS_LOAD(&c->value));
	}
	for (uint32_t k = 0; kind == STATS_COUNTER &&
	    k < w->carry.ncounters; k++) {
		obj = json_object_get(plugins, w->carry.counters[k].plugin);
		if (obj != NULL)
			stats_counter_add(obj, w->carry.counters[k].name,
			    w->carry.counters[k].value);
	}
	return plugins;
}

json_t *
stats_errors_json(const struct stats_worker *w, const char *const *names,
    size_t nplugins)
{
	json_t *errors = json_object();
	char text[STATS_STATUS_MAX];

	for (size_t k = 0; k < nplugins && k < STATS_MAX_STAGES; k++)
		if (stats_status_get(w, k, names[k], text, sizeof(text)))
			json_object_set_new(errors, names[k],
			    json_string(text));
	return errors;
}

#define FIELD(f)	.name = #f, .own = offsetof(struct stats_worker, f), \
	.width = sizeof(((struct stats_worker *)0)->f),		\
	.carry = offsetof(struct stats_carry, f)

const struct stats_field stats_fields[STATS_NFIELDS] = {
	{ FIELD(packets), .metric = "ringfan_packets_total",
	  .type = "counter", .help = "Frames handed to the pipeline.",
	  .label = "packets", .summed = true },
	{ FIELD(bytes), .metric = "ringfan_bytes_total", .type = "counter",
	  .help = "Wire length of the frames handed to the pipeline.",
	  .label = "bytes", .summed = true },
	/* Frames handed off at a reload were counted by the other side. */
	{ FIELD(kernel_packets), .metric = "ringfan_kernel_packets_total",
	  .type = "counter",
	  .help = "Frames the kernel accepted for the socket, drops included.",
	  .label = "kernel packets", .summed = true, .less_handed_off = true },
	{ FIELD(kernel_drops), .metric = "ringfan_kernel_drops_total",
	  .type = "counter",
	  .help = "Frames the kernel dropped because the ring was full.",
	  .label = "kernel drops", .share_of = "kernel_packets",
	  .summed = true },
	{ FIELD(kernel_freeze_q), .metric = "ringfan_kernel_freeze_q_total",
	  .type = "counter",
	  .help = "Times the kernel found the ring full (queue frozen).",
	  .summed = true },
	{ FIELD(quarantined), .metric = "ringfan_quarantined_total",
	  .type = "counter",
	  .help = "Frames skipped because a worker died handling them.",
	  .label = "quarantined", .summed = true },
	/* A count of the worker, not of its frames: no capture total. */
	{ FIELD(restarts), .metric = "ringfan_worker_restarts_total",
	  .type = "counter",
	  .help = "Times the worker was respawned after a crash.",
	  .label = "restarts" },
};

#undef FIELD

uint64_t
stats_field_value(const struct stats_worker *w, const struct stats_field *f)
{
	const char *p = (const char *)w + f->own;
	uint64_t v;

	/* Every field is an aligned word of one writer (see stats.h). */
	if (f->width == sizeof(uint32_t))
		v = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	else
		v = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	v += *(const uint64_t *)((const char *)&w->carry + f->carry);
	/* The kernel's count may lag the hand-off it includes: never wrap. */
	if (f->less_handed_off)
		v = v > STATS_LOAD(&w->handed_off) ? v -
		    STATS_LOAD(&w->handed_off) : 0;
	return v;
}

uint64_t
stats_value(const struct stats_worker *w, const char *field)
{
	for (size_t i = 0; i < STATS_NFIELDS; i++)
		if (strcmp(stats_fields[i].name, field) == 0)
			return stats_field_value(w, &stats_fields[i]);
	return 0;
}

uint64_t
stats_backlog(const struct stats_worker *w)
{
	uint64_t in = stats_value(w, "kernel_packets");
	uint64_t out = stats_value(w, "packets") +
	    stats_value(w, "kernel_drops") + stats_value(w, "quarantined");

	return in > out ? in - out : 0;
}

/*
 * The counters of worker w into its object jw, adding the summed ones to
 * sum.  The fields that have no capture total come first, as the document
 * has always had them (docs/control.md).
 */
static void
stats_fields_json(json_t *jw, const struct stats_worker *w,
    uint64_t sum[STATS_NFIELDS])
{
	const struct stats_field *f;
	uint64_t v;

	for (int summed = 0; summed <= 1; summed++)
		for (size_t k = 0; k < STATS_NFIELDS; k++) {
			f = &stats_fields[k];
			if (f->summed != summed)
				continue;
			v = stats_field_value(w, f);
			if (f->summed)
				sum[k] += v;
			json_object_set_new(jw, f->name,
			    json_integer((json_int_t)v));
		}
}

json_t *
stats_json(const struct stats_view *view)
{
	const struct cfg *cfg = view->cfg;
	const struct cfg_capture *cap;
	const struct stats_worker *w;
	json_t *doc, *caps, *jc, *jw, *workers, *totals;
	uint64_t sum[STATS_NFIELDS];
	unsigned gw, gw0 = 0;

	doc = json_object();
	json_object_set_new(doc, "version", json_string(RINGFAN_VERSION));
	json_object_set_new(doc, "uptime_s", json_real(view->uptime_s));
	caps = json_array();
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		cap = &cfg->captures[c];
		gw = view->first_slot != NULL ? view->first_slot[c] : gw0;
		gw0 += cap->workers;
		memset(sum, 0, sizeof(sum));
		workers = json_array();
		for (unsigned i = 0; i < cap->workers; i++, gw++) {
			w = &view->shm->workers[gw];
			jw = json_object();
			json_object_set_new(jw, "id", json_integer(i));
			json_object_set_new(jw, "pid",
			    json_integer(STATS_LOAD(&w->pid)));
			json_object_set_new(jw, "cpu",
			    json_integer(STATS_LOAD(&w->cpu)));
			json_object_set_new(jw, "state", json_string(
			    stats_state_name(STATS_LOAD(&w->state))));
			stats_fields_json(jw, w, sum);
			json_object_set_new(jw, "plugins",
			    stats_counters_json(w, view->plugin_names[c],
			    cap->npipeline, STATS_COUNTER));
			json_object_set_new(jw, "gauges",
			    stats_counters_json(w, view->plugin_names[c],
			    cap->npipeline, STATS_GAUGE));
			json_object_set_new(jw, "errors",
			    stats_errors_json(w, view->plugin_names[c],
			    cap->npipeline));
			json_array_append_new(workers, jw);
		}
		totals = json_object();
		for (size_t k = 0; k < STATS_NFIELDS; k++)
			if (stats_fields[k].summed)
				json_object_set_new(totals,
				    stats_fields[k].name,
				    json_integer((json_int_t)sum[k]));
		jc = json_object();
		json_object_set_new(jc, "name", json_string(cap->name));
		json_object_set_new(jc, "interface",
		    json_string(cap->interface));
		json_object_set_new(jc, "fanout", json_pack("{s:s,s:i}",
		    "mode", cfg_fanout_mode_name(cap->fanout.mode),
		    "group", (int)(view->groups != NULL ? view->groups[c] :
		    cap->fanout.group)));
		json_object_set_new(jc, "totals", totals);
		json_object_set_new(jc, "workers", workers);
		json_array_append_new(caps, jc);
	}
	json_object_set_new(doc, "captures", caps);
	return doc;
}

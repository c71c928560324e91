/*
 * The shared-memory region of the workers' counters: its slots, the table
 * of their fields, plugin counters and problems, the carry over a capture
 * reload.  The documents made from it are stats_json.c's.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stats.h"

static size_t
stats_size(unsigned nworkers)
{
	return sizeof(struct stats_shm) +
	    (size_t)nworkers * sizeof(struct stats_worker);
}

struct stats_shm *
stats_create(unsigned nworkers)
{
	struct stats_shm *shm;
	size_t size;

	size = stats_size(nworkers);
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

struct stats_worker *
stats_worker_new(void)
{
	struct stats_worker *w = aligned_alloc(alignof(struct stats_worker),
	    sizeof(*w));

	if (w != NULL)
		memset(w, 0, sizeof(*w));
	return w;
}

void
stats_isolate(struct stats_shm *shm, unsigned nworkers,
    const struct stats_worker *own)
{
	if (shm == NULL || sysconf(_SC_PAGESIZE) != STATS_PAGE)
		return;
	(void)mprotect(shm, offsetof(struct stats_shm, workers), PROT_READ);
	for (unsigned i = 0; i < nworkers; i++)
		if (&shm->workers[i] != own)
			(void)mprotect(&shm->workers[i],
			    sizeof(shm->workers[i]), PROT_NONE);
}

void
stats_destroy(struct stats_shm *shm, unsigned nworkers)
{
	if (shm != NULL)
		munmap(shm, stats_size(nworkers));
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

size_t
stats_stage_of(const char *const *ids, size_t n, const char *step,
    const char *own)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strcmp(ids[k], step) == 0 && strcmp(ids[n + k], own) == 0)
			break;
	return k;
}

/* Worker-written names, compared within their arrays. */
static bool
stats_counter_is(const struct stats_counter *c, const char *step,
    const char *own, const char *name)
{
	return strncmp(c->plugin, step, sizeof(c->plugin)) == 0 &&
	    strncmp(c->own, own, sizeof(c->own)) == 0 &&
	    strncmp(c->name, name, sizeof(c->name)) == 0;
}

/*
 * A predecessor killed while it renamed slot c left seq odd, and the slot
 * hidden from readers: its names whole or not, the slot is even again.
 */
static void
stats_counter_even(struct stats_counter *c)
{
	uint32_t seq = STATS_LOAD(&c->seq);

	if (seq & 1)
		__atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELEASE);
}

/* A rename's first half: seq odd, then the value cleared and the kind set. */
static uint32_t
stats_counter_reset(struct stats_counter *c, enum stats_kind kind)
{
	uint32_t seq = STATS_LOAD(&c->seq) | 1;

	STATS_STORE(&c->seq, seq);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(&c->value, 0);
	STATS_STORE(&c->used, (uint32_t)kind);
	return seq;
}

/* Its second half: seq even again, after what the rename stored. */
static void
stats_counter_settle(struct stats_counter *c, uint32_t seq)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(&c->seq, seq + 1);
}

/*
 * Names slot c, with seq odd meanwhile if it had a name.  A slot renamed
 * is cleared and given its kind before its names: a writer killed
 * part-way leaves the old names or torn ones (a slot of no stage, taken
 * again) or the new ones, never the new names with the old slot's value
 * or kind, which the master would show once it evens the slot and the
 * successor would count on from (or find "taken by the other kind").  A
 * new slot is named first: readers stop at the first unused one.
 */
static void
stats_counter_name(struct stats_counter *c, const char *step,
    const char *own, const char *name, enum stats_kind kind)
{
	bool renamed = STATS_LOAD(&c->used) != 0;
	uint32_t seq = renamed ? stats_counter_reset(c, kind) : 0;

	strlcpy(c->plugin, step, sizeof(c->plugin));
	strlcpy(c->own, own, sizeof(c->own));
	strlcpy(c->name, name, sizeof(c->name));
	if (renamed) {
		stats_counter_settle(c, seq);
		return;
	}
	STATS_STORE(&c->value, 0);
	/* The master may read the slot from now on. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(&c->used, (uint32_t)kind);
}

int
stats_counter(struct stats_worker *w, const char *const *ids, size_t n,
    size_t k, const char *name, enum stats_kind kind, uint64_t **slot)
{
	const char *step = ids[k], *own = ids[n + k];
	struct stats_counter *c, *stale = NULL;
	char cstep[STATS_PLUGIN_NAME], cown[STATS_PLUGIN_NAME];
	uint32_t used;

	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		c = &w->counters[i];
		if ((used = STATS_LOAD(&c->used)) == 0) {
			stale = c;
			break;
		}
		if (stats_counter_is(c, step, own, name)) {
			if (used != (uint32_t)kind) {
				*slot = &c->value;
				return -EEXIST;
			}
			stats_counter_even(c);
			*slot = &c->value;
			return 0;
		}
		stats_text(cstep, c->plugin, sizeof(cstep));
		stats_text(cown, c->own, sizeof(cown));
		if (stale == NULL && stats_stage_of(ids, n, cstep, cown) == n)
			stale = c;
	}
	if (stale == NULL)
		return -ENOSPC;
	stats_counter_name(stale, step, own, name, kind);
	*slot = &stale->value;
	return 0;
}

static struct stats_counter *
stats_counter_of(uint64_t *slot)
{
	return (struct stats_counter *)(void *)((char *)slot -
	    offsetof(struct stats_counter, value));
}

size_t
stats_counter_index(const struct stats_worker *w, uint64_t *slot)
{
	return (size_t)(stats_counter_of(slot) - w->counters);
}

void
stats_counter_rekind(uint64_t *slot, enum stats_kind kind)
{
	struct stats_counter *c = stats_counter_of(slot);

	/* As a rename: no reader pairs the new kind with the old value. */
	stats_counter_settle(c, stats_counter_reset(c, kind));
}

uint32_t
stats_counter_read(const struct stats_counter *c, char *step, char *own,
    char *name, uint64_t *value)
{
	uint32_t seq, used;

	seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	if ((used = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE)) == 0)
		return 0;
	if (seq & 1)
		return UINT32_MAX;
	/* Written by the worker: terminated here. */
	stats_text(step, c->plugin, STATS_PLUGIN_NAME);
	stats_text(own, c->own, STATS_PLUGIN_NAME);
	stats_text(name, c->name, STATS_COUNTER_NAME);
	*value = STATS_LOAD(&c->value);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (STATS_LOAD(&c->seq) != seq || STATS_LOAD(&c->used) != used)
		return UINT32_MAX;
	return used;
}

/* Byte by byte, for a reader that may load meanwhile (see below). */
static void
stats_store_racy(char *dst, const char *src, size_t len)
{
	for (size_t k = 0; k < len; k++)
		STATS_STORE(&dst[k], src[k]);
}

/*
 * One write of stage st's problem under its count, odd while it lasts:
 * its text (set if not empty) and, unless NULL, its plugin's name.
 */
static void
stats_status_write(struct stats_status *st, const char *name,
    const char *text)
{
	uint32_t seq = STATS_LOAD(&st->seq);

	__atomic_store_n(&st->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (name != NULL)
		stats_store_racy(st->plugin, name, sizeof(st->plugin));
	stats_store_racy(st->text, text, sizeof(st->text));
	STATS_STORE(&st->set, *text != '\0');
	__atomic_store_n(&st->seq, seq + 2, __ATOMIC_RELEASE);
}

void
stats_status_init(struct stats_worker *w, size_t i, const char *plugin)
{
	struct stats_status *st = &w->status[i];
	uint32_t seq = STATS_LOAD(&st->seq);
	char name[sizeof(st->plugin)] = "", none[sizeof(st->text)] = "";

	/* plugin may be st->plugin itself (stats_worker_gone). */
	strlcpy(name, plugin, sizeof(name));
	/* A predecessor killed inside a write left it odd: even it again. */
	if (seq & 1)
		__atomic_store_n(&st->seq, seq + 1, __ATOMIC_RELEASE);
	/*
	 * A reader takes the name only with a problem shown (set) and the
	 * count unchanged around it.  So with none shown the name changes
	 * as it is; with one, the name, the flag and the text change in one
	 * write under the count: no reader pairs a torn or new name with the
	 * old problem.
	 */
	if (STATS_LOAD(&st->set) == 0)
		stats_store_racy(st->plugin, name, sizeof(name));
	else
		stats_status_write(st, name, none);
}

void
stats_worker_gone(struct stats_worker *w)
{
	struct stats_counter *c;

	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		c = &w->counters[i];
		if (STATS_LOAD(&c->used) == STATS_GAUGE)
			STATS_STORE(&c->value, 0);
		stats_counter_even(c);
	}
	for (size_t i = 0; i < STATS_MAX_STAGES; i++)
		stats_status_init(w, i, w->status[i].plugin);
}

void
stats_status_set(struct stats_worker *w, size_t i, const char *text)
{
	struct stats_status *st = &w->status[i];
	char cut[sizeof(st->text)] = "";

	/* Compared as it would be stored: a long text is cut alike. */
	strlcpy(cut, text, sizeof(cut));
	if (*cut == '\0' ? STATS_LOAD(&st->set) == 0 :
	    STATS_LOAD(&st->set) == 1 && strcmp(st->text, cut) == 0)
		return;
	stats_status_write(st, NULL, cut);
}

/* Byte by byte: the writer may store meanwhile (the count says so). */
static void
stats_copy_racy(char *dst, const char *src, size_t len)
{
	for (size_t k = 0; k < len; k++)
		dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
}

bool
stats_status_get(const struct stats_worker *w, size_t i, const char *plugin,
    char *buf, size_t len)
{
	const struct stats_status *st = &w->status[i];
	char name[sizeof(st->plugin)], text[sizeof(st->text)];
	uint32_t before, after;
	bool set;

	for (int tries = 0; tries < 100; tries++) {
		before = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		if (before & 1)
			continue;
		stats_copy_racy(name, st->plugin, sizeof(name));
		set = STATS_LOAD(&st->set) == 1;
		if (set)
			stats_copy_racy(text, st->text, sizeof(text));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&st->seq, __ATOMIC_RELAXED);
		if (before != after)
			continue;
		/* A consistent copy: only now is it looked at. */
		name[sizeof(name) - 1] = '\0';
		text[sizeof(text) - 1] = '\0';
		if (!set || strncmp(name, plugin, sizeof(name)) != 0)
			return false;
		strlcpy(buf, text, len);
		return true;
	}
	return false;
}

uint32_t
stats_carry_count(const struct stats_carry *c)
{
	uint32_t n = STATS_LOAD(&c->ncounters);

	return n < STATS_MAX_COUNTERS ? n : STATS_MAX_COUNTERS;
}

void
stats_text(char *dst, const char *src, size_t n)
{
	if (n == 0)
		return;
	for (size_t k = 0; k < n; k++)
		dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	dst[n - 1] = '\0';
}

/*
 * Add v to the carried counter `name` of `plugin`, making its slot; false
 * when every slot is taken by another (then it is counted as dropped).
 */
static bool
stats_carry_counter(struct stats_carry *c, const char *plugin,
    const char *own, const char *name, uint64_t v)
{
	/* c may be a slot of shm, whose count a worker could have set. */
	uint32_t k, n = stats_carry_count(c);

	c->ncounters = n;
	for (k = 0; k < n; k++)
		if (strncmp(c->counters[k].plugin, plugin,
		    sizeof(c->counters[k].plugin)) == 0 &&
		    strncmp(c->counters[k].own, own,
		    sizeof(c->counters[k].own)) == 0 &&
		    strncmp(c->counters[k].name, name,
		    sizeof(c->counters[k].name)) == 0)
			break;
	if (k == n) {
		if (k == STATS_MAX_COUNTERS) {
			c->dropped++;
			return false;
		}
		strlcpy(c->counters[k].plugin, plugin,
		    sizeof(c->counters[k].plugin));
		strlcpy(c->counters[k].own, own, sizeof(c->counters[k].own));
		strlcpy(c->counters[k].name, name, sizeof(c->counters[k].name));
		c->counters[k].value = 0;
		c->ncounters++;
	}
	c->counters[k].value += v;
	return true;
}

bool
stats_carried_gauge(const struct stats_worker *w, const char *plugin,
    const char *own, const char *name)
{
	char cplugin[STATS_PLUGIN_NAME], cown[STATS_PLUGIN_NAME];
	char cname[STATS_COUNTER_NAME];
	uint32_t used;
	uint64_t v;

	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		used = stats_counter_read(&w->counters[i], cplugin, cown, cname,
		    &v);
		if (used == 0)
			break;
		if (used == STATS_GAUGE && strcmp(cplugin, plugin) == 0 &&
		    strcmp(cown, own) == 0 && strcmp(cname, name) == 0)
			return true;
	}
	return false;
}

void
stats_carry_prune(struct stats_worker *w)
{
	struct stats_carry *c = &w->carry;
	char plugin[STATS_PLUGIN_NAME], own[STATS_PLUGIN_NAME];
	char name[STATS_COUNTER_NAME];
	uint32_t j = 0, n = stats_carry_count(c);

	if (n == 0)
		return;
	while (j < n) {
		stats_text(plugin, c->counters[j].plugin, sizeof(plugin));
		stats_text(own, c->counters[j].own, sizeof(own));
		stats_text(name, c->counters[j].name, sizeof(name));
		if (!stats_carried_gauge(w, plugin, own, name)) {
			j++;
			continue;
		}
		memmove(&c->counters[j], &c->counters[j + 1],
		    (n - j - 1) * sizeof(c->counters[0]));
		n--;
	}
	c->ncounters = n;
}

unsigned
stats_carry(struct stats_worker *to, const struct stats_worker *from)
{
	struct stats_carry *c = &to->carry;
	char plugin[STATS_PLUGIN_NAME], own[STATS_PLUGIN_NAME];
	char name[STATS_COUNTER_NAME];
	unsigned dropped = 0;
	uint32_t used;
	uint64_t v;

	/*
	 * Those whose name `to` keeps as a gauge go first, and none such is
	 * folded in: a total that is not carried on takes no slot another
	 * counter needs.
	 */
	stats_carry_prune(to);
	/* Everything as `stats` shows it, its own carry included. */
	for (size_t i = 0; i < STATS_NFIELDS; i++)
		if (!stats_fields[i].level)
			*(uint64_t *)((char *)c + stats_fields[i].carry) +=
			    stats_field_value(from, &stats_fields[i]);
	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		used = stats_counter_read(&from->counters[i], plugin, own,
		    name, &v);
		if (used == 0)
			break;
		if (used != STATS_COUNTER)
			continue;	/* a level belongs to its generation */
		if (stats_carried_gauge(to, plugin, own, name))
			continue;
		dropped += !stats_carry_counter(c, plugin, own, name, v);
	}
	for (uint32_t j = 0, n = stats_carry_count(&from->carry); j < n;
	    j++) {
		stats_text(plugin, from->carry.counters[j].plugin,
		    sizeof(plugin));
		stats_text(own, from->carry.counters[j].own, sizeof(own));
		stats_text(name, from->carry.counters[j].name, sizeof(name));
		/* Gone with the name, which `from` or `to` keeps as a gauge. */
		if (stats_carried_gauge(from, plugin, own, name) ||
		    stats_carried_gauge(to, plugin, own, name))
			continue;
		dropped += !stats_carry_counter(c, plugin, own, name,
		    from->carry.counters[j].value);
	}
	c->dropped += from->carry.dropped;
	return dropped;
}

void
stats_merged(struct stats_worker *out, const struct stats_worker *w,
    unsigned gw, bool own, const struct stats_worker *const *old,
    const unsigned *old_to, size_t n, uint64_t kp_floor)
{
	struct stats_carry *c = &out->carry;

	memset(out, 0, sizeof(*out));
	if (own)
		(void)stats_carry(out, w);
	for (size_t i = 0; i < n; i++)
		if (old_to[i] == gw)
			(void)stats_carry(out, old[i]);
	c->kernel_packets = c->packets + c->kernel_drops + c->quarantined;
	if (c->kernel_packets < kp_floor)
		c->kernel_packets = kp_floor;
}

#define FIELD(f)	.name = #f, .own = offsetof(struct stats_worker, f), \
	.width = sizeof(((struct stats_worker *)0)->f),		\
	.carry = offsetof(struct stats_carry, f)
#define LEVEL(f)	.name = #f, .own = offsetof(struct stats_worker, f), \
	.width = sizeof(((struct stats_worker *)0)->f), .level = true

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
	  .help = "Times the worker died unbidden before a stop: crashes and "
	    "kills for a stall.",
	  .label = "restarts" },
	{ FIELD(stalls), .metric = "ringfan_worker_stalls_total",
	  .type = "counter",
	  .help = "Times the worker was killed for making no progress with "
	  "frames waiting (counted in the restarts too).",
	  .label = "stalls" },
	/* The ring's own: a new generation has a new ring. */
	{ LEVEL(ring_blocks), .metric = "ringfan_ring_blocks", .type = "gauge",
	  .help = "Blocks in the worker's ring." },
	{ LEVEL(backlog), .metric = "ringfan_ring_backlog_blocks",
	  .type = "gauge",
	  .help = "Blocks the kernel had handed over and the worker not yet "
	  "released when it was last done with one, that one included." },
	{ LEVEL(backlog_max), .metric = "ringfan_ring_backlog_max_blocks",
	  .type = "gauge",
	  .help = "The largest backlog of the worker's ring so far." },
	{ FIELD(blocks), .metric = "ringfan_ring_blocks_retired_total",
	  .type = "counter",
	  .help = "Blocks of the ring the worker took, full or timed out.",
	  .summed = true },
	{ FIELD(blocks_timeout), .metric = "ringfan_ring_blocks_timeout_total",
	  .type = "counter",
	  .help = "Blocks the kernel retired at the block timeout, before "
	  "they were full.", .summed = true },
	{ FIELD(rollover_packets), .metric = "ringfan_rollover_packets_total",
	  .type = "counter",
	  .help = "Frames fanout rolled over from this socket (mode "
	  "rollover: every frame, on the first socket).", .summed = true },
	{ FIELD(rollover_huge), .metric = "ringfan_rollover_huge_total",
	  .type = "counter",
	  .help = "Of those, frames of a flow moved because it was huge.",
	  .summed = true },
	{ FIELD(rollover_failed), .metric = "ringfan_rollover_failed_total",
	  .type = "counter",
	  .help = "Frames rollover found no socket with room for.",
	  .summed = true },
};

#undef LEVEL
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
	if (f->level)
		return v;
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
 * The frames the kernel put in the worker's rings less those counted as
 * dropped, live or in the carry: frames a ring closed with (an interface
 * gone, its workers parked; linkwatch.c) are dropped there, and no worker
 * walks them.  Only words the master writes: the worker's own counts move
 * while it runs, and two reads of them would part a block it commits in
 * between.  Where the worker has walked more (the kernel's count read
 * before its latest frames), the lift holds nothing, as it should.
 */
uint64_t
stats_lift_count(const struct stats_worker *w)
{
	uint64_t in = STATS_LOAD(&w->kernel_packets);
	uint64_t out = STATS_LOAD(&w->kernel_drops) + w->carry.kernel_drops;

	return 1 + (in > out ? in - out : 0);
}

/*
 * Once a ring is closed, every frame it took before the lift was walked or
 * is counted as dropped; the worker's next ring takes only later frames.
 */
void
stats_lift_strand(struct stats_worker *w)
{
	uint64_t at = STATS_LOAD(&w->cut_lift), walked = 1 + stats_walked(w);

	if (at != 0 && at > walked)
		STATS_STORE(&w->cut_lift, walked);
}

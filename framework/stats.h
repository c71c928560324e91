/*
 * The shared-memory region: one slot per worker, mapped by the master before
 * fork so that a worker's counters and ring position outlive the worker.
 *
 * Most fields have one writer; state, err, pid and cut_from have two (see
 * each).  The worker writes its hot line (per packet) and its plugin
 * counters; the master writes the kernel line and most of the control
 * line.  Fields are read by the other side without locks: each is a
 * single aligned 64-bit (or 32-bit) word, stored and loaded atomically.
 */
#ifndef RINGFAN_STATS_H
#define RINGFAN_STATS_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"

#define STATS_MAGIC		0x31666e69676e6972ULL	/* "ringfan1" */
#define STATS_LAYOUT		9
#define STATS_MAX_COUNTERS	256
#define STATS_COUNTER_NAME	40
#define STATS_PLUGIN_NAME	32
#define STATS_ERR_MAX		256
/* Stages whose error status a worker shows; later ones have none. */
#define STATS_MAX_STAGES	16
#define STATS_STATUS_MAX	192

/* What a plugin slot holds. */
enum stats_kind {
	STATS_COUNTER = 1,	/* a monotonic total, summed over generations */
	STATS_GAUGE = 2,	/* a level, the current generation's only */
};

enum worker_state {
	WORKER_STARTING,	/* forked, setting up */
	WORKER_RUNNING,		/* in its loop */
	WORKER_STOPPING,	/* draining after a stop request */
	WORKER_STOPPED,		/* exited after a stop */
	WORKER_FAILED,		/* could not start, or crashed too often */
	WORKER_BACKOFF,		/* crashed; respawned after a delay */
	WORKER_RESTARTING,	/* finishing its block for a reload */
};

/*
 * Values of stats_worker.stage besides a stage's index: a worker in none
 * (its own code); STATS_STAGE_REST plus a stage's index, in that stage
 * from the first batch stage on (pipeline_rest: the block's frames
 * counted as handled already, none in hand); STATS_STAGE_PREFETCH plus a
 * stage's index, in that stage's prefetch; STATS_STAGE_TICK plus a stage's
 * index, in that stage's tick; STATS_STAGE_OPEN plus a stage's index, in
 * that stage's open; STATS_STAGE_CLOSE plus a stage's index, in that
 * stage's close.
 */
#define STATS_STAGE_NONE	0xffffffffu
#define STATS_STAGE_PREFETCH	0x40000000u
#define STATS_STAGE_TICK	0x20000000u
#define STATS_STAGE_OPEN	0x10000000u
#define STATS_STAGE_CLOSE	0x08000000u
#define STATS_STAGE_REST	0x04000000u

/*
 * The call a stage word names, for the messages that say where a worker
 * is (stall.c, offline_guard.c): stats_stage_call() returns one of these
 * and stores the stage's index, below n, in *k; STATS_CALL_OTHER for
 * STATS_STAGE_NONE and an index not below n.
 */
enum stats_call {
	STATS_CALL_OTHER,
	STATS_CALL_PACKET,
	STATS_CALL_PREFETCH,
	STATS_CALL_TICK,
	STATS_CALL_OPEN,
	STATS_CALL_CLOSE,
	STATS_CALL_REST,
};

static inline enum stats_call
stats_stage_call(uint32_t stage, uint32_t n, uint32_t *k)
{
	static const uint32_t base[] = { 0, STATS_STAGE_PREFETCH,
	    STATS_STAGE_TICK, STATS_STAGE_OPEN, STATS_STAGE_CLOSE,
	    STATS_STAGE_REST };

	for (unsigned i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (stage >= base[i] && stage - base[i] < n) {
			*k = stage - base[i];
			return (enum stats_call)(STATS_CALL_PACKET + i);
		}
	return STATS_CALL_OTHER;
}

/* Values of stats_worker.stop, set by the master. */
#define WORKER_STOP_NONE	0
#define WORKER_STOP_DRAIN	1	/* the socket is shut: drain, exit */
#define WORKER_STOP_HANDOVER	2	/* exit after the block in hand */

/*
 * One plugin counter, keyed by the step's name, the plugin's own name and
 * the counter's name, so that it survives the worker and a reload that
 * keeps the plugin at that step, wherever the step then stands in the
 * pipeline; a step that runs another plugin starts afresh.  A slot whose
 * step and plugin no pipeline stage has any more is taken again when no
 * slot is free: it is renamed with seq odd (stats_counter_read).
 */
struct stats_counter {
	alignas(64) char	 plugin[STATS_PLUGIN_NAME];	/* the step */
	char			 own[STATS_PLUGIN_NAME];	/* its plugin */
	char			 name[STATS_COUNTER_NAME];
	uint32_t		 used;		/* enum stats_kind, once named */
	uint32_t		 seq;		/* odd while renamed */
	uint64_t		 value;
};

/*
 * The current problem a plugin reports (ctx->status), one per stage.  The
 * worker writes it under a sequence count (odd while writing), so that the
 * master never shows half a message.
 */
struct stats_status {
	char			 plugin[STATS_PLUGIN_NAME];
	uint32_t		 seq;
	uint32_t		 set;		/* 1 while there is a problem */
	char			 text[STATS_STATUS_MAX];
};

/*
 * A worker's slot takes whole pages, so that a worker's process can keep
 * the other slots out of its reach (stats_isolate).
 */
#define STATS_PAGE		4096

struct stats_worker {
	/*
	 * Written by the worker: pos for every frame, the rest once a block
	 * (resume.h).
	 */
	alignas(STATS_PAGE) uint64_t packets;	/* frames through the pipeline */
	uint64_t		 bytes;		/* their wire length */
	uint64_t		 pos;		/* the block in hand, uncommitted */
	uint64_t		 base;		/* consumed when block `at` was taken */
	uint64_t		 at;		/* block index | seq << 32
						   (ring_block_seq()) */
	uint64_t		 handed_off;	/* frames left to the other
						   generation at a reload */
	uint64_t		 commit;	/* 1 while the t_ targets apply */
	/*
	 * Where the worker is, for the master's stall watch (stall.c): the
	 * stage a frame is in (STATS_STAGE_*), and a count bumped every turn
	 * of its loop, a block or an idle wake-up.
	 */
	uint32_t		 stage;
	uint32_t		 beat;

	/* Written by the master: accumulated PACKET_STATISTICS. */
	alignas(64) uint64_t	 kernel_packets;
	uint64_t		 kernel_drops;
	uint64_t		 kernel_freeze_q;
	/* PACKET_ROLLOVER_STATS, with rollover on: the kernel's totals. */
	uint64_t		 rollover_packets;
	uint64_t		 rollover_huge;
	uint64_t		 rollover_failed;

	/* Written by the worker for every block: the ring's health. */
	alignas(64) uint64_t	 blocks;	/* blocks taken */
	uint64_t		 blocks_timeout; /* of them retired by timeout */
	uint64_t		 ring_blocks;	/* the ring's size, in blocks */
	uint64_t		 backlog;	/* blocks user-owned as the last
						   one taken was done with,
						   that one included */
	uint64_t		 backlog_max;	/* the most of them at once */

	/*
	 * Control: mostly the master; state, err and pid also the worker,
	 * and cpu, exiting, thread_fault, quarantined, ring_errors and
	 * starting_in the worker alone.
	 */
	alignas(64) int32_t	 pid;
	int32_t			 cpu;		/* -1: not pinned */
	uint32_t		 state;		/* enum worker_state */
	uint32_t		 restarts;
	uint32_t		 stop;		/* WORKER_STOP_*, by the master */
	uint32_t		 stalls;	/* kills after a stall (stall.c) */
	/*
	 * 1 + the code the worker exits with, stored by the worker as it
	 * exits; 0 (master_fork()) before.  An exit code without it is plugin
	 * code's exit() (a thread's, or outside the callbacks), never the
	 * worker's word (WORKER_EXIT_*).
	 */
	uint32_t		 exiting;
	/*
	 * The fatal signal a thread that plugin code started got, stored by
	 * that thread as it dies (worker.c, worker_on_fault); 0
	 * (master_fork()) before.  Matching the signal the worker died of,
	 * it names the thread, not the callback the stage word names.
	 */
	uint32_t		 thread_fault;
	uint64_t		 ring_errors;	/* malformed blocks or frames */
	uint64_t		 quarantined;	/* frames skipped after a crash */
	/* Targets of a commit in progress, see resume_commit(). */
	uint64_t		 t_packets;
	uint64_t		 t_bytes;
	uint64_t		 t_quarantined;
	uint64_t		 t_base;
	/*
	 * The frames this worker takes, by receive time: [cut_from,
	 * cut_until).  Everything, but while a capture reload hands over.
	 * cut_lift: 0 while the old sockets of a capture reload are open;
	 * as the master shuts them, 1 + the frames this worker had taken
	 * and had waiting in its ring (stats_lift_count()): those are held
	 * to cut_from, every later one is taken whatever its stamp
	 * (worker_cut_lift()).
	 */
	uint64_t		 cut_from;
	uint64_t		 cut_until;
	uint64_t		 cut_lift;
	char			 err[STATS_ERR_MAX];
	/*
	 * Where the worker is in plugin code the stage word does not name,
	 * as it starts: "while loading plugin NAME", "in plugin NAME's
	 * check" (pipeline_track()); "" elsewhere.
	 */
	char			 starting_in[64];

	/*
	 * What the worker slot carried over from the generation before a
	 * capture reload; the master's alone, added in the stats.
	 */
	struct stats_carry {
		uint64_t	packets;
		uint64_t	bytes;
		uint64_t	kernel_packets;
		uint64_t	kernel_drops;
		uint64_t	kernel_freeze_q;
		uint64_t	quarantined;
		uint64_t	restarts;
		uint64_t	stalls;
		uint64_t	blocks;
		uint64_t	blocks_timeout;
		uint64_t	rollover_packets;
		uint64_t	rollover_huge;
		uint64_t	rollover_failed;
		uint32_t	ncounters;
		/* Plugin counters that found no free slot here, ever. */
		uint32_t	dropped;
		struct {
			char	 plugin[STATS_PLUGIN_NAME];
			char	 own[STATS_PLUGIN_NAME];
			char	 name[STATS_COUNTER_NAME];
			uint64_t value;
		}		counters[STATS_MAX_COUNTERS];
	}			 carry;

	struct stats_counter	 counters[STATS_MAX_COUNTERS];
	struct stats_status	 status[STATS_MAX_STAGES];
};

struct stats_shm {
	uint64_t		 magic;
	uint32_t		 layout;
	uint32_t		 nworkers;
	uint64_t		 size;
	struct stats_worker	 workers[];	/* from the second page on */
};

_Static_assert(sizeof(struct stats_counter) == 128, "counter slot size");
_Static_assert(offsetof(struct stats_worker, kernel_packets) == 64,
    "the per-frame fields fill exactly one line");
_Static_assert(offsetof(struct stats_worker, kernel_packets) % 64 == 0,
    "kernel counters on their own line");
_Static_assert(sizeof(struct stats_worker) % STATS_PAGE == 0,
    "worker slots of whole pages");

/*
 * Frames a worker has done with: handed to the pipeline, or left to the
 * other generation.  Its position in a block counts these.
 */
static inline uint64_t
stats_consumed(const struct stats_worker *w)
{
	return __atomic_load_n(&w->packets, __ATOMIC_RELAXED) +
	    __atomic_load_n(&w->handed_off, __ATOMIC_RELAXED);
}

/*
 * The frames the worker took from its rings: consumed, or quarantined
 * after a crash.
 */
static inline uint64_t
stats_walked(const struct stats_worker *w)
{
	return stats_consumed(w) + __atomic_load_n(&w->quarantined,
	    __ATOMIC_RELAXED);
}

/*
 * The counters of each worker, in one table that the stats document and
 * its totals, the metrics, the log summary and the carry over a capture
 * reload are all made from: a new counter is one line in stats.c, and no
 * two of them can disagree on its name.  In the order of the metrics.
 */
struct stats_field {
	const char	*name;		/* member of the stats document */
	const char	*metric;	/* its Prometheus family */
	const char	*type;		/* of the family: "counter" */
	const char	*help;		/* of the family */
	const char	*label;		/* in the log summary; NULL: not there */
	const char	*share_of;	/* logged as a share of that field too */
	bool		 summed;	/* into the capture's totals */
	bool		 less_handed_off; /* the other generation counted some */
	bool		 level;		/* a level of this ring, not carried */
	size_t		 own;		/* offset in struct stats_worker */
	size_t		 width;		/* of the field there: 4 or 8 bytes */
	size_t		 carry;		/* offset in struct stats_carry */
};

#define STATS_NFIELDS	16
extern const struct stats_field stats_fields[STATS_NFIELDS];

/*
 * Counter f of worker w as shown: the worker's own plus what its slot
 * carried over a capture reload, without the frames handed off to the
 * other generation.
 */
uint64_t stats_field_value(const struct stats_worker *w,
	    const struct stats_field *f);
/* The same by the name of the stats document ("packets", ...); 0 if none. */
uint64_t stats_value(const struct stats_worker *w, const char *field);

/*
 * Frames the kernel took for w's socket that are neither handed to the
 * pipeline, dropped nor quarantined: they wait in its ring.
 */
uint64_t stats_backlog(const struct stats_worker *w);

/*
 * The cut_lift a capture reload stores in w as it shuts the old sockets
 * (cut_lift above): 1 + the frames the kernel put in its rings less those
 * counted as dropped (those taken so far and those waiting), so that the
 * frames a closed ring left are not among them (stats_lift_strand()).
 */
uint64_t stats_lift_count(const struct stats_worker *w);
/*
 * The frames left in w's closed ring were counted as dropped: a lift
 * stored holds for none of them (the next ring's are all later).
 */
void	stats_lift_strand(struct stats_worker *w);

/*
 * Fold everything of `from` (a retired worker) into the carry of `to`, but the
 * plugin counters whose name `to` keeps as a gauge (stats_carried_gauge),
 * which leave its carry before the fold.  Plugin counters beyond
 * STATS_MAX_COUNTERS distinct ones have no slot: returns how many of this fold
 * were dropped (carry.dropped sums them).
 */
unsigned stats_carry(struct stats_worker *to, const struct stats_worker *from);
/*
 * Whether w's live slots keep `name` of step `plugin` (plugin `own`) as a
 * gauge: a counter of that name carried from earlier generations is not
 * the plugin's any more (a reload made the name a gauge), and is not
 * shown; stats_carry_prune() drops those from w's carry, so that they do
 * not come back should a later reload make the name a counter again.
 */
bool	stats_carried_gauge(const struct stats_worker *w, const char *plugin,
	    const char *own, const char *name);
void	stats_carry_prune(struct stats_worker *w);

/*
 * During a capture reload: into out (its counts in its carry, the rest
 * zero), what worker w (slot gw) of the new generation shows: its counts
 * (unless `own` is false: while the reload may still be given up) and
 * those of the retiring workers old[i] whose old_to[i] is gw, i < n, that
 * master_retire() will fold into it, so that no count of the capture goes
 * back, then or at the fold.  Both
 * generations' sockets count each frame of the overlap, and the side that
 * leaves it to the other says so only when it comes to it: the kernel's
 * count is meanwhile the frames settled (handed to the pipeline, dropped
 * or quarantined), without those waiting in the rings, and never less
 * than kp_floor, what the old workers showed as the reload began.
 */
void	stats_merged(struct stats_worker *out, const struct stats_worker *w,
	    unsigned gw, bool own, const struct stats_worker *const *old,
	    const unsigned *old_to, size_t n, uint64_t kp_floor);

/* Map the region for n workers, zeroed.  NULL with errno on failure. */
struct stats_shm *stats_create(unsigned nworkers);
/*
 * Unmap it: nworkers is what it was created with.  The header's size and
 * nworkers are not used: every worker can write them.
 */
void	stats_destroy(struct stats_shm *shm, unsigned nworkers);

/*
 * The region is written by workers, which run plugin code: the master
 * reads what they write as untrusted.  A carry's ncounters, at most
 * STATS_MAX_COUNTERS; a copy of a string field of n bytes into dst (n
 * bytes), cut at its last byte should it have no NUL.
 */
uint32_t stats_carry_count(const struct stats_carry *c);
void	stats_text(char *dst, const char *src, size_t n);

const char *stats_state_name(enum worker_state state);

/*
 * The stages of a pipeline as its counters know them, in one array of 2n
 * names: ids[k] is stage k's step name, ids[n + k] its plugin's own name.
 * The pipeline's names (plugin_host.h) and a stats_view's are laid out so.
 */

/*
 * The slot of counter or gauge `name` of stage k of the pipeline ids (n
 * stages) in worker w, allocated on first use, in *slot; when no slot is
 * free, one of a step and plugin that the pipeline has not is taken.  0,
 * -EEXIST when the name is taken by the other kind (that slot in *slot),
 * -ENOSPC when the slots are used up.
 */
int	stats_counter(struct stats_worker *w, const char *const *ids, size_t n,
	    size_t k, const char *name, enum stats_kind kind, uint64_t **slot);
/*
 * The slot of the other kind that stats_counter() found (-EEXIST) taken
 * over as a `kind` from 0, under its names: a plugin that a pipeline
 * reload left at its step keeps the name as the other kind now.
 */
void	stats_counter_rekind(uint64_t *slot, enum stats_kind kind);
/* The index in w->counters of a slot stats_counter() gave. */
size_t	stats_counter_index(const struct stats_worker *w, uint64_t *slot);
/*
 * Slot c of a worker, read as its writer may change it: its kind (0:
 * unused, and so are the slots after it; UINT32_MAX: being renamed), and
 * unless 0 or UINT32_MAX its step, plugin (STATS_PLUGIN_NAME each), name
 * (STATS_COUNTER_NAME) and value.
 */
uint32_t stats_counter_read(const struct stats_counter *c, char *step,
	    char *own, char *name, uint64_t *value);
/* The stage of ids (n stages) with this step and plugin, or n. */
size_t	stats_stage_of(const char *const *ids, size_t n, const char *step,
	    const char *own);

/* A zeroed slot of the heap (a scratch, a merged view); free() frees it. */
struct stats_worker *stats_worker_new(void);
/*
 * In a worker's process: the slots of shm other than own become
 * unreachable and the header read-only, so that a plugin's stray store
 * kills its own worker rather than change another's counts.  Nothing is
 * done where pages are larger than STATS_PAGE.
 */
void	stats_isolate(struct stats_shm *shm, unsigned nworkers,
	    const struct stats_worker *own);

/*
 * The worker of w has exited: its gauges go to 0 and its problems are
 * cleared (they were the levels and state of a process that is gone).
 * Only when no worker writes w.
 */
void	stats_worker_gone(struct stats_worker *w);
/* Stage i of w's pipeline is plugin `plugin`, with no problem. */
void	stats_status_init(struct stats_worker *w, size_t i, const char *plugin);
/* Its current problem; "" clears it.  Cheap when nothing changes. */
void	stats_status_set(struct stats_worker *w, size_t i, const char *text);
/*
 * A consistent copy of stage i's problem into buf; false when it has none
 * (or the stage is not `plugin`).
 */
bool	stats_status_get(const struct stats_worker *w, size_t i,
	    const char *plugin, char *buf, size_t len);

#define STATS_LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
/* A test may count the stores (tests/unit/test_resume.c kills after each). */
#ifndef STATS_STORE
#define STATS_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#endif
#define STATS_ADD(p, v)		STATS_STORE((p), STATS_LOAD(p) + (v))
/*
 * The words stored before it are stored before those after it: relaxed
 * stores of different words that the compiler may not move across it.  No
 * instruction: a process killed between two stores leaves the ones it made
 * (resume.h), so the order the compiler keeps is the order a successor
 * finds.
 */
#define STATS_ORDER()		__atomic_signal_fence(__ATOMIC_SEQ_CST)

/* The names the stats of each worker's plugins are shown under. */
struct stats_view {
	const struct cfg	*cfg;
	const struct stats_shm	*shm;
	/*
	 * plugin_names[c]: the names of capture c's pipeline (stats_counter's
	 * ids: the step names, then the plugins' own names).
	 */
	const char *const *const *plugin_names;
	/* First slot of each capture in shm (NULL: captures in order). */
	const unsigned		*first_slot;
	/* The fanout group in use per capture (NULL: as configured). */
	const uint16_t		*groups;
	/*
	 * Per capture, the sockets of other programs in that group (NULL:
	 * none shown, as offline).
	 */
	const unsigned		*others;
	/*
	 * During a capture reload, the retiring generation's workers and,
	 * for each, the slot of shm whose counts take theirs (UINT_MAX:
	 * none, its capture removed); nold 0 otherwise.
	 */
	const struct stats_worker *const *old;
	const unsigned		*old_to;
	size_t			 nold;
	bool			 own;		/* stats_merged()'s */
	const uint64_t		*kp_floor;	/* per slot of shm, or NULL */
	/* Capture c's "state", from state_arg (NULL: none shown). */
	const char		*(*state)(const void *state_arg, size_t c);
	const void		*state_arg;
	double			 uptime_s;
};

/*
 * A JSON string of text, which a plugin, a file or a cut may have left as
 * invalid UTF-8: its bad bytes as '?' (utf8_scrub()) rather than no string.
 */
json_t	*stats_text_json(const char *text);

/* {"<plugin>": "its current problem"} of w's pipeline `names`. */
json_t	*stats_errors_json(const struct stats_worker *w,
	    const char *const *names, size_t nplugins);

/* The `stats` document of the control protocol (docs/control.md). */
json_t	*stats_json(const struct stats_view *view);

#endif

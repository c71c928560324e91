/*
 * The plugin host: finds plugins on plugin_path, loads and checks them, opens
 * them per worker and runs the pipeline.
 *
 * Plugin code never runs in the master.  The master learns what it needs of
 * a pipeline (names, versions, host memory, tick periods, the files'
 * identity) from pipeline_validate(), which loads and checks every plugin in
 * a throwaway child running as the workers' user.  Each worker then loads
 * its pipeline itself, after dropping its privileges.
 */
#ifndef RINGFAN_PLUGIN_HOST_H
#define RINGFAN_PLUGIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ringfan/plugin.h>

#include "config.h"
#include "stats.h"

#define PLUGIN_ERR_MAX		512
/* Host memory a plugin may ask for, per worker. */
#define PLUGIN_MEMORY_MAX	(1ull << 30)
/* Shortest tick period a plugin may ask for. */
#define PLUGIN_TICK_MIN_NS	1000000ull

/* Which file, as stat(2) tells: a new build differs in one of these. */
struct plugin_file {
	uint64_t	 dev, ino, size, mtime_ns;
};

/* What a validation learned of one stage; all the master keeps of it. */
struct plugin_info {
	char		 path[256];
	char		 name[STATS_PLUGIN_NAME];	/* the plugin's own */
	/* The step's: what its stats, status and log lines are shown under. */
	char		 step[STATS_PLUGIN_NAME];
	char		 version[32];
	char		 description[128];
	uint32_t	 abi;
	uint32_t	 memory_layout;
	uint64_t	 memory_size;	/* 0: none asked for */
	uint64_t	 tick_ns;	/* 0: every stats_interval */
	uint8_t		 batch;		/* 1: a batch stage (master_slot_where) */
	/* The file as validated: a reload notices a replaced build. */
	struct plugin_file	 file;
	/*
	 * The master's descriptor of that file (O_PATH: it reads nothing),
	 * which its workers load (-1: none, they load path): a file
	 * replaced after the check, by a new build or a broken one, runs
	 * nowhere before a reload has checked it.  An array of these ends
	 * in one whose fd is PLUGIN_INFO_END (the master's word, not the
	 * validator's, whose plugin code could write any path).
	 */
	int		 fd;
};
#define PLUGIN_INFO_END	(-2)

/*
 * Host memory of one stage of one worker: MAP_SHARED, mapped by the master
 * before fork so that it outlives the worker (offline: private, mapped by
 * the one process).  A header precedes the plugin's bytes.
 */
struct plugin_mem {
	void		*map;		/* the mapping, header first */
	uint64_t	 size;		/* the plugin's bytes */
};

/* The capture a pipeline runs for, as plugins see it through their ctx. */
struct plugin_env {
	const struct cfg	*cfg;
	const struct cfg_capture *cap;
	unsigned		 worker_id;
	unsigned		 worker_count;
	const char		*interface;	/* offline: the file */
	int			 linktype;	/* DLT_ */
	uint32_t		 snaplen;
	uint32_t		 flags;		/* RINGFAN_CTX_* */
};

/*
 * The ctx->flags plugins get for env: env->flags, with
 * RINGFAN_CTX_FLOW_SPLIT added when the capture's fanout may hand the
 * frames of one flow to different workers (a mode other than hash, the
 * rollover flag, or hash without defrag), never offline nor with one
 * worker.
 */
uint32_t plugin_env_flags(const struct plugin_env *env);

/* One loaded shared object. */
struct plugin {
	char			*path;
	int			 fd;	/* loaded through: plugin_info.fd, or -1 */
	void			*dl;
	const struct ringfan_plugin *desc;	/* as exported */
	struct ringfan_plugin	 calls;		/* optional callbacks filled */
};

/* Per-worker state of one pipeline stage. */
struct plugin_stage {
	int		(*packet)(void *, const struct ringfan_packet *);
	void		*state;
	/* NULL: none, or the stage comes after a batch stage. */
	void		(*prefetch)(void *, const struct ringfan_packet *);
	struct plugin	*plugin;
	const struct cfg_plugin *conf;
	bool		 opened;
	struct plugin_ctx *ctx;
	struct plugin_info info;
	uint64_t	 tick_ns;	/* period */
	uint64_t	 next_tick;	/* network time; 0: not yet */
	struct plugin_mem *mem;		/* NULL: none */
	bool		 bad_verdict;	/* said: pipeline_bad_verdict() */
};

struct pipeline {
	struct plugin	*plugins;	/* nstages, in pipeline order */
	struct plugin_stage *stages;
	size_t		 nstages;
	size_t		 first_batch;	/* the first batch stage, or nstages */
	bool		 has_batch;
	bool		 has_prefetch;	/* a stage's prefetch is set */
	uint64_t	 next_tick;	/* earliest of the stages' */
	/* Step names, then the plugins' own: stats_counter's ids. */
	const char	**names;
	struct stats_worker *w;		/* where status and counters go */
	/*
	 * Where the counters a check asked for went: no access once the
	 * check is over, until the pipeline is unloaded (pipeline_check).
	 */
	void		*check_slots;
};

/*
 * Find NAME.so (or NAME/NAME.so) in the directories of RINGFAN_PLUGIN_PATH
 * (colon-separated, searched first when set), of path, and then the
 * installed plugin directory; load it and check it.  With held (its fd
 * not -1), load the file validated as held instead: by its path while the
 * path names it, else through the descriptor (warned: replaced, removed,
 * or the path's error).  0, or -1 with a
 * message naming the file in err.
 */
int	plugin_load(struct plugin *p, const char *name,
	    char *const *path, size_t npath, const struct plugin_info *held,
	    char *err, size_t errlen);
void	plugin_unload(struct plugin *p);

/*
 * Load every plugin of the capture's pipeline and check that no two files
 * claim one plugin name (a plugin may run in several steps, one file may
 * not pass for another).  held: the pipeline as validated (its files held
 * by descriptor), or NULL to search plugin_path.  0, or -1 with
 * "FILE:LINE:COL: ..." in err.
 */
int	pipeline_load(struct pipeline *pl, const struct cfg *cfg,
	    const struct cfg_capture *cap, const struct plugin_info *held,
	    char *err, size_t errlen);
/*
 * From now on, write where this process is in plugin code into buf, as
 * "while loading plugin X", "in plugin X's check" or "in plugin X's trial
 * open", before it goes there; NULL stops it.  For a validating child,
 * whose parent says where it hung or died.
 */
void	pipeline_track(char *buf, size_t len);
/*
 * And the place in the configuration of the step whose plugin code that
 * is (where its plugin is named) into *pos; NULL stops it.
 */
void	pipeline_track_pos(struct cfg_pos *pos);
/*
 * Run every stage's check (or, without one, a trial open and close) and
 * record what it asked for in the stages' info.  enum ringfan_result, with
 * "plugin NAME: ..." in err.
 */
int	pipeline_check(struct pipeline *pl, const struct plugin_env *env,
	    char *err, size_t errlen);
/*
 * Open every stage for one worker, giving plugins counters and status in
 * w and host memory in mem[stage] (NULL: none mapped, offline).
 * enum ringfan_result, with "plugin NAME: <its message>" in err; stages
 * already opened are closed again.
 */
int	pipeline_open(struct pipeline *pl, const struct plugin_env *env,
	    struct stats_worker *w, struct plugin_mem *mem, char *err,
	    size_t errlen);
/*
 * Frame pkt to the prefetch callback of every stage that has one: the host
 * calls it for a frame RINGFAN_PREFETCH_AHEAD - 1 frames before that
 * frame's pipeline_run() (plugin.h).  Each callback is named in
 * pl->w->stage while it runs (STATS_STAGE_PREFETCH + its index, for the
 * stall watch: no frame is in hand then); the stage is put back as it was.
 */
static inline void
pipeline_prefetch(const struct pipeline *pl, const struct ringfan_packet *pkt)
{
	uint32_t was = STATS_LOAD(&pl->w->stage);

	for (size_t i = 0; i < pl->first_batch; i++) {
		if (pl->stages[i].prefetch == NULL)
			continue;
		STATS_STORE(&pl->w->stage, STATS_STAGE_PREFETCH + (uint32_t)i);
		pl->stages[i].prefetch(pl->stages[i].state, pkt);
	}
	STATS_STORE(&pl->w->stage, was);
}

/*
 * The stages from the first batch stage on, over the frames that got so
 * far; with a worker's stats (pl->w), STATS_STAGE_REST plus each stage's
 * index in pl->w->stage while it runs, so that the master (stall.c) or
 * offline_guard.c can name the plugin a worker died in.  The caller puts
 * the stage back.
 */
void	pipeline_rest(struct pipeline *pl, const struct ringfan_packet **pkts,
	    size_t n);
/* Tick every stage whose period has passed at network time now_ns. */
void	pipeline_tick(struct pipeline *pl, uint64_t now_ns);
/* Tick every stage now, due or not. */
void	pipeline_tick_all(struct pipeline *pl, uint64_t now_ns);
void	pipeline_close(struct pipeline *pl);
void	pipeline_unload(struct pipeline *pl);

/*
 * Validate the pipelines of every capture in a child process that runs as
 * uid/gid (when drop), and fill info[c][k] for stage k of capture c
 * (arrays the caller frees with pipeline_info_free).  envs[c] is what
 * capture c's plugins are told (as worker 0).  0; -EINVAL when a plugin
 * is refused, or the checking child fails in the plugins' code; or the
 * -errno of the call that kept the check from running (fork's -EAGAIN at
 * a process limit, -ENOMEM), -EPERM when the child could not become
 * uid/gid or install its seccomp filter: each with the error in err.
 */
int	pipeline_validate(const struct cfg *cfg, const struct plugin_env *envs,
	    bool drop, uid_t uid, gid_t gid, struct plugin_info ***info,
	    char *err, size_t errlen);
/*
 * fn(arg) is called in every later validating child, before any plugin
 * code runs, to let go of what of the caller's is not the plugins' to
 * reach (the workers' host memory); NULL: nothing.
 */
void	pipeline_validate_hook(void (*fn)(void *), void *arg);
void	pipeline_info_free(struct plugin_info **info, size_t ncaptures);
/* One capture's: close its files' descriptors; and free it too. */
void	plugin_info_close(struct plugin_info *in);
void	plugin_info_free(struct plugin_info *in);
/* The identity of the file st describes. */
void	plugin_file_of(struct plugin_file *f, const struct stat *st);
/* The same file, unchanged since it was described. */
bool	plugin_file_same(const struct plugin_info *a,
	    const struct plugin_info *b);
/* The same plugins in the same files, validated alike. */
bool	plugin_info_same(const struct plugin_info *a,
	    const struct plugin_info *b, size_t n);

/*
 * Map host memory for a stage as validated; 0 or -errno.  shared: to
 * outlive the worker that uses it (live); else private to this process
 * (offline, where no successor takes it over).
 */
int	plugin_mem_map(struct plugin_mem *m, const struct plugin_info *info,
	    bool shared);
void	plugin_mem_unmap(struct plugin_mem *m);
/*
 * The last process that opened m's stage did not close it: what the
 * plugin held there (open flows, a write buffer) is still to be closed.
 */
bool	plugin_mem_left_open(const struct plugin_mem *m);

/*
 * A value that a packet callback returned that is neither RINGFAN_CONTINUE
 * nor RINGFAN_STOP: said once per stage, taken as RINGFAN_STOP.
 */
void	pipeline_bad_verdict(struct plugin_stage *s, int v);

/* Whether stage s's packet callback, which returned v, passes the frame on. */
static inline bool
pipeline_passes(struct plugin_stage *s, int v)
{
	if (__builtin_expect(v == RINGFAN_CONTINUE, 1))
		return true;
	if (v != RINGFAN_STOP)
		pipeline_bad_verdict(s, v);
	return false;
}

/*
 * One frame through every stage before the first batch stage, until one
 * says stop.  True when it got through them.  With `staged` each stage's
 * index goes into sw->stage before it runs, so that a worker stuck or
 * killed in a plugin is named (stall.c, offline_guard.c); the flag is a
 * constant at each call, and the loop is inlined for it.
 */
static inline __attribute__((always_inline)) bool
pipeline_run_staged(const struct pipeline *pl, struct stats_worker *sw,
    const struct ringfan_packet *pkt, const bool staged)
{
	struct plugin_stage *s;

	for (size_t i = 0; i < pl->first_batch; i++) {
		if (staged)
			STATS_STORE(&sw->stage, (uint32_t)i);
		s = &pl->stages[i];
		if (!pipeline_passes(s, s->packet(s->state, pkt)))
			return false;
	}
	return true;
}

/* pipeline_run_staged() naming no stage. */
static inline bool
pipeline_run(const struct pipeline *pl, const struct ringfan_packet *pkt)
{
	return pipeline_run_staged(pl, NULL, pkt, false);
}

#endif

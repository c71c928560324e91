/*
 * The master's state, shared by master.c (event loop, signals, timer,
 * stop), gen.c (building a generation), children.c (the process table),
 * reload.c (pipeline reload), swap.c (capture reload), linkwatch.c (link
 * states), stall.c (the stall watch), fanoutwatch.c (the fanout groups'
 * members), and the files of the control
 * commands that read it (stats_json.c, metrics.c).  control.c
 * and control_cmds.c never see it: they get the master as an opaque
 * context pointer (control.h).  Nothing else sees it.
 */
#ifndef RINGFAN_MASTER_INT_H
#define RINGFAN_MASTER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfcache.h"
#include "master.h"
#include "plugin_host.h"
#include "stats.h"
#include "supervise.h"
#include "worker.h"

struct mnl_socket;
struct sock_fprog;

/* Capture reload: how long new workers get to start; T's distance. */
#define MASTER_SWAP_START_NS	(10ull * 1000000000u)
#define MASTER_SWAP_CUT_NS	(100ull * 1000000u)
/*
 * A step back of the real-time clock during a hand-over smaller than this
 * is none: the master's own reads of the two clocks, and its timer, move
 * the cut-over's due time by microseconds, well within T's distance.
 */
#define MASTER_SWAP_CLOCK_SLACK_NS	(10ull * 1000000u)
/*
 * How long a worker told to exit for a reload (a hand-over, or the drain
 * of a retiring generation) may go without progress before it is killed:
 * one stuck where no frame waits (a plugin's close, stopped) is no stall.
 */
#define MASTER_EXIT_GRACE_NS	(5ull * 1000000000u)
/*
 * How long a closer started at a stop (master_spawn_closer) has to open
 * its plugins on the memory it recovers and close them, before SIGKILL.
 */
#define MASTER_CLOSE_GRACE_NS	(5ull * 1000000000u)

struct master;

/* Something the event loop waits on; `fn` handles its readiness. */
struct ev_src {
	int	 fd;
	void	(*fn)(struct master *, struct ev_src *, uint32_t events);
};

/* One slot of the process table per worker; a respawn reuses its slot. */
struct slot {
	struct worker		 wk;
	/*
	 * Its interface came back while the workers of the one gone still
	 * drained: the new socket, -1 if none.  It takes frames into its
	 * ring, and becomes wk.fd once they are gone (linkwatch.c).
	 */
	int			 next_fd;
	unsigned		 capture;	/* index in cfg->captures */
	pid_t			 pid;		/* 0: not running */
	uint64_t		 respawn_at;	/* WORKER_BACKOFF: when */
	uint64_t		 crashes[SUPERVISE_CRASH_LIMIT];	/* times */
	unsigned		 ncrashes;	/* ever; crashes[n % LIMIT] */
	unsigned		 nretries;	/* temporary failures in a row */
	unsigned		 nfailed;	/* crash loops, for the cool-down */
	uint64_t		 cooled;	/* the last cool-down's end */
	/*
	 * How it last ended, "" until it exits once: a status, or the
	 * reason its setup failed or a plugin asked for a retry.
	 */
	char			 last_exit[STATS_ERR_MAX + 16];
	/*
	 * Where its last process died, as the log line says it
	 * (master_slot_where): "" outside the plugins, or when last_exit
	 * says it already (a stall).
	 */
	char			 died_in[64];
	/*
	 * Its process was started on the new pipeline of the reload under
	 * way (or last under way): cleared for every slot as a reload begins.
	 */
	bool			 on_new;
	bool			 late;		/* killed: opened too slowly */
	/* Told to hand over while still starting: watched as starting. */
	bool			 handed_starting;
	/* Started to drain while past the crash-loop limit (master_drain). */
	bool			 drain_failed;
	/*
	 * Started on its pipeline at a reload that changes it, to close
	 * what it left in host memory (master_close_down), and not yet gone.
	 */
	bool			 closer;
	/*
	 * Started at a stop to close what its predecessor, killed or dead
	 * there, left in host memory (master_spawn_closer): its end is the
	 * slot's last.  close_killed: it was killed at its own deadline.
	 */
	bool			 stop_closer;
	bool			 close_killed;
	/*
	 * Its process runs the new pipeline of a reload rolled back
	 * (master_rollback), whose host memory the master no longer maps:
	 * should it die without closing its plugins, what they held is lost,
	 * and no closer can start on it.
	 */
	bool			 mem_gone;
	uint64_t		 spawned_ns;	/* its start, monotonic */
	/*
	 * The pipeline its process runs, as at its spawn: its stages, and
	 * the step names of the first STATS_MAX_STAGES and whether each is a
	 * batch stage (master_slot_where).
	 * A worker on a reload's previous pipeline (a closer among them)
	 * runs another than the one wk names from the reload's commit on,
	 * and one on the new pipeline another after a rollback.
	 */
	uint32_t		 nstages;
	char			 steps[STATS_MAX_STAGES][STATS_PLUGIN_NAME];
	bool			 batch[STATS_MAX_STAGES];
	/* The stall watch of stall.c: the progress last seen, since when. */
	struct {
		pid_t		 pid;		/* the worker it was seen in */
		uint64_t	 progress;
		uint64_t	 since;
		bool		 idle;		/* still, and nothing waited */
		bool		 killed;	/* for a stall; not reaped yet */
		char		 where[54];	/* where it was stuck */
		/* Killed at its interface's drain deadline: no stall. */
		pid_t		 overdue;
	}			 stall;
	/* The socket's rollover totals as last read (all, huge, failed). */
	uint64_t		 rollover[3];
	/* Told to exit for a reload: its progress last seen, since when. */
	struct {
		pid_t		 pid;		/* the worker it was seen in */
		uint64_t	 progress;
		uint64_t	 since;
		bool		 killed;	/* for no progress; not respawned */
	}			 exit;
};

struct ctl_server;
struct httpd;

/*
 * A generation: a configuration with everything built from it.  A capture
 * reload builds a new one beside the current and retires the old.
 */
struct gen {
	struct cfg		*cfg;
	struct stats_shm	*shm;
	/* Per capture: its link type, and its pipeline as validated. */
	int			*linktypes;
	struct plugin_info	**infos;
	/* Per capture, from validation until the sockets are built. */
	struct sock_fprog	*progs;
	const char		***plugin_names;
	/* Per slot: host memory, one region per stage. */
	struct plugin_mem	**mems;
	unsigned		*first_slot;	/* per capture */
	uint16_t		*groups;	/* fanout group in use */
	/* Other programs' sockets in it, as fanoutwatch.c last saw. */
	unsigned		*others;
	/* capture_lock() fds, -1, or GEN_GROUP_LATER */
	int			*locks;
	struct link_cap		*links;		/* per capture: linkwatch.c */
	struct slot		*slots;
	unsigned		 nslots;
};

/*
 * locks[c] of a capture that has no group yet: built without a socket (its
 * interface not there) while the retiring generation held the configured
 * id.  groups[c] is the configured id, which link_build() claims when the
 * interface comes, or else takes an id the kernel makes.
 */
#define GEN_GROUP_LATER	(-2)

/* Steps of a capture reload. */
enum swap_phase {
	SWAP_NONE,
	SWAP_STARTING,	/* new workers starting; they take no frame yet */
	SWAP_CUTTING,	/* cut-over time set; waiting until it has passed */
	SWAP_RETIRING,	/* old sockets shut, old workers draining */
};

/*
 * What a pipeline reload replaced, kept until every worker runs the new
 * pipeline, so that a worker failing on it puts them all back.
 */
struct reload_prev {
	struct cfg		*cfg;		/* NULL: no reload under way */
	bool			*changed;	/* per capture */
	struct plugin_info	**infos;	/* per capture, changed only */
	struct plugin_mem	**mems;		/* per slot, changed only */
};

struct master {
	/*
	 * While master_close_down() forks: the host memory a reload mapped
	 * for the new pipeline, per slot (its capture's npipeline in
	 * staged_cfg), which no child of the old pipeline is to keep.
	 */
	struct plugin_mem	**staged;
	/* The plugin files held for it, per capture (NULL: unchanged). */
	struct plugin_info	**staged_infos;
	const struct cfg	*staged_cfg;
	struct gen		 g;		/* current */
	struct gen		 old;		/* retiring, during a swap */
	enum swap_phase		 swap;
	uint64_t		 swap_at;	/* monotonic: next step due */
	/*
	 * The highest the real-time clock stood above the monotonic one
	 * since the swap began (a step back lowers it), the cut-over time
	 * T and the old rings' longest block timeout, in ns.
	 */
	int64_t			 swap_off;
	uint64_t		 swap_built;	/* monotonic: new sockets made */
	uint64_t		 swap_cut;
	uint64_t		 swap_tov;
	bool			 swap_clock_said;
	/*
	 * During a swap, per slot of g: the kernel_packets the old slots
	 * it takes over from showed as it began, the least `stats` shows
	 * for it until they are folded in (NULL: none kept).
	 */
	uint64_t		*kp_floor;
	struct master_opts	 opts;
	int			 epfd;
	struct ev_src		 sig;
	struct ev_src		 timer;
	uint64_t		 timer_period;	/* ns, as armed */
	struct ctl_server	*ctl;
	struct ev_src		 ctl_src;	/* its epoll descriptor */
	struct httpd		*httpd;		/* metrics_listen, or NULL */
	struct linkwatch	*lw;		/* link states, or NULL */
	struct ev_src		 httpd_src;	/* its epoll descriptor */
	uint64_t		 started_ns;
	uint64_t		 next_stats_ns;
	uint64_t		 stop_deadline_ns;
	unsigned		 stop_grace_ms;	/* its distance from the stop */
	bool			 ready;
	bool			 stopping;
	int			 exit_code;
	/* Rolling restart of a reload: slots still to hand over. */
	unsigned		*handover;	/* sized for g.nslots */
	unsigned		 nhandover;
	int			 handing;	/* slot being handed over, -1 */
	pid_t			 handing_pid;	/* its process told to exit, 0 */
	char			 restarting[72];	/* the last restart's target */
	/*
	 * The slot being handed over was started at once, with a clean crash
	 * record, already (master_handover_step): a death of that process is
	 * a crash as any, with its backoff and the crash-loop limit.
	 */
	bool			 handing_revived;
	struct reload_prev	 prev;
	bool			 rolling_back;	/* back to prev, then answer */
	bool			 reload_again;	/* asked for during a reload */
	/* A capture reload's new filters compiling; it runs when done. */
	struct bpfjob		 bpf;
	unsigned		 reloads;
	char			 last_reload_error[512];
	/*
	 * fanoutwatch.c: its sock_diag socket (NULL: none open), the last
	 * request's number, the other programs' sockets in the captures'
	 * groups at the last look (inodes), a failure to look logged.
	 */
	struct mnl_socket	*fanout_nl;
	unsigned		 fanout_seq;
	uint64_t		 fanout_next_ns;	/* the next look, at the earliest */
	uint32_t		*fanout_seen;
	size_t			 nfanout_seen;
	bool			 fanout_said;
};

/* Read every socket's PACKET_STATISTICS into the shared totals. */
void	master_read_kernel(struct master *m);
/*
 * The live keys of m->g.cfg in force, as a reload commits or goes back:
 * log.level, and a shorter stats_interval's next read.
 */
void	master_apply_live(struct master *m);
void	master_stop(struct master *m, const char *why);
/*
 * Re-read the configuration file and apply it: 0 with *what "unchanged",
 * "pipeline" or "captures", or -errno with the cause in err (then nothing
 * changed).
 */
int	master_reload(struct master *m, const char **what, char *err,
	    size_t errlen);
/* "running", "degraded", "failed", or the link's "down" or "waiting". */
const char *master_capture_state(const struct master *m, unsigned c,
	    unsigned *running);

/* A reload has been applied but not yet taken by every worker. */
bool	master_reload_pending(const struct master *m);
/* A reload or its rolling restart is under way: another has to wait. */
bool	master_reload_busy(const struct master *m);

/* gen.c */
/* What master_check_keep() validated of cfg. */
struct master_checked {
	const struct cfg	*cfg;		/* the caller's, for identity */
	int			*linktypes;	/* as validated with */
	struct sock_fprog	*progs;		/* filters, per capture */
	struct plugin_info	**infos;
};
/* The workers' user from cfg, if any; 0, or -errno with err. */
int	master_user(const struct cfg *cfg, uid_t *uid, gid_t *gid, char *err,
	    size_t errlen);
/*
 * Have the filters of cfg that are not kept compiled in a child for a
 * capture reload (j): true when one was started, false when they are all
 * kept, or cannot be (then gen_build compiles, and reports, them).
 */
bool	gen_compile_ahead(struct bpfjob *j, const struct cfg *cfg);
/*
 * Everything about a configuration that can be known without opening a
 * socket; 0 or an exit code, the cause in err.
 */
int	master_validate(const struct cfg *cfg, bool need_iface, int **linktypes,
	    struct sock_fprog **progs, struct plugin_info ***infos, char *err,
	    size_t errlen);
void	master_progs_free(struct sock_fprog *progs, size_t n);
/* "worker CAPTURE/ID" in buf. */
const char *master_slot_name(const struct slot *s, char *buf, size_t len);
void	gen_bind_slots(struct gen *g, uid_t uid, gid_t gid);
void	gen_mems_free(struct plugin_mem *mems, size_t n);
struct plugin_mem *gen_mems_map(const struct plugin_info *info, size_t n,
	    char *err, size_t errlen);
/* Capture c's plugin names of g->infos; 0 or -ENOMEM. */
int	gen_names(struct gen *g, size_t c);
void	gen_free(struct gen *g);
/*
 * The fanout group id a new socket of capture `skip` of g, configured with
 * want, may claim beside busy (or NULL) and g's first n captures: want, or
 * -1 when their sockets hold it.
 */
int	gen_group(const struct gen *busy, const struct gen *g, size_t n,
	    size_t skip, uint16_t want);
/*
 * Build g from g->cfg beside busy (or NULL), with the pipelines validated
 * in `checked` (taken over; NULL: validate them); 0 or an exit code, err.
 */
int	gen_build(struct gen *g, const struct gen *busy,
	    struct master_checked *checked, char *err, size_t errlen);
bool	gen_all_exited(const struct gen *g);

/* children.c */
/* The generations with workers: the current, and one retiring. */
unsigned master_gens(struct master *m, struct gen **gens);
/*
 * Every slot of those generations.  A generation with no slots has none
 * allocated either: its end is not computed from a null pointer (NULL + 0
 * is undefined in C, and UBSan's pointer-overflow check says so).
 */
#define FOREACH_SLOT(m, s)						\
	for (struct gen *gens_[2], **gp_ = gens_,			\
	    **ge_ = gens_ + master_gens((m), gens_); gp_ < ge_; gp_++)	\
		for (struct slot *s = (*gp_)->slots, *se_ = s == NULL ?	\
		    NULL : s + (*gp_)->nslots; s != se_; s++)
/*
 * In a validating child (pipeline_validate_hook, arg m): no worker's host
 * memory or counters are its plugins' to write, as no other worker's are a
 * worker's.  Unmapped in the child.
 */
void	master_validator_unmap(void *arg);
/* Fork s's worker; 0, or -errno (logged). */
int	master_spawn(struct master *m, struct slot *s);
/*
 * At a stop: fork s's worker told to hand over before it starts, on the
 * pipeline whose host memory its predecessor left open.  Its plugins take
 * that memory over in their open and close it; it takes no frame from
 * the ring.  0, or -errno (logged).
 */
int	master_spawn_closer(struct master *m, struct slot *s);
/*
 * s has no process, after a crash: waiting out its backoff, or the
 * cool-down of the crash-loop limit (a setup failure has none: it would
 * fail again), its socket there.  Started again, it takes over what its
 * predecessor left in the ring and in host memory.
 */
bool	master_down_after_crash(const struct slot *s);
/*
 * Slot s's ring stops filling (a stop, its interface gone, a capture
 * reload's cut-over): its stop word says DRAIN, and its worker drains the
 * ring and exits.  A running one is told (SIGTERM); one waiting out a
 * crash's backoff is started at once, rather than leave its frames to be
 * counted as dropped.  True when a process drains it.
 */
bool	master_drain(struct master *m, struct slot *s);
/*
 * No frame enters s's ring after this, nor the socket built for its
 * interface's return: its worker can drain it.  A socket that cannot be
 * shut is said.
 */
void	master_shut(struct slot *s);
/*
 * At a stop, s has no process and none drains its ring (killed at the
 * drain deadline of its interface's end, or its drainer could not start):
 * what its plugins left in host memory is closed by a closer (which needs
 * no socket), or, should none start, said lost as an error.
 */
void	master_close_unclosed(struct master *m, struct slot *s);
/*
 * s has no process and no socket (its interface is gone, or its worker
 * was killed at the drain deadline of that end), and a reload replaces
 * its pipeline: what its plugins left in host memory is closed
 * by a closer, which needs no ring (or, should none start, said lost).
 */
void	master_close_gone(struct master *m, struct slot *s);
/*
 * s, of a generation a capture reload retires, left host memory that no
 * process closed: said lost, as an error (swap.c, master_retire).
 */
void	master_retire_lost(const struct master *m, const struct slot *s);
/* A crash: respawn after a doubling delay, or give up on a crash loop. */
void	master_crashed(struct slot *s, const char *name);
/*
 * A spawn the system refused (its fork, at a process limit): no crash, so
 * none counted toward the crash-loop limit; tried again after a doubling
 * delay, as a plugin's retry is.
 */
void	master_spawn_refused(struct slot *s, const char *name);
/* Start a worker that has no process now, with a clean crash record. */
void	master_revive(struct master *m, struct slot *s);
void	master_reap(struct master *m);
bool	master_all_exited(const struct master *m);

/* reload.c */
/*
 * How long a worker started on a reload's new pipeline has to open it:
 * one still opening it then is killed, and every worker goes back.
 */
#define RELOAD_TAKE_NS	(90ull * 1000000000u)
/* The reload's rolling restart: one worker at a time, each once running. */
void	master_handover_step(struct master *m);
/*
 * On the timer: kill a worker still opening a reload's new pipeline
 * RELOAD_TAKE_NS after its start (its reap rolls every worker back).
 */
void	master_reload_watch(struct master *m, uint64_t now);
/* Free what a reload replaced: every worker runs the new pipeline. */
void	master_prev_free(struct master *m);
/* A worker failed on a reload's pipeline: every worker goes back. */
void	master_rollback(struct master *m, struct slot *failed);
/*
 * A worker still on the pipeline a reload replaces died: started on it
 * again to close what it left in host memory.  Whether it was.
 */
bool	master_close_prev(struct master *m, struct slot *s);
/*
 * s's process ran the previous pipeline of the reload under way, whose
 * host memory for s the master still holds: what it left is there.
 */
bool	master_on_prev(const struct master *m, const struct slot *s);
/*
 * Fork s's worker on the previous pipeline of the reload under way, with
 * its host memory (master_on_prev() true); closer: as master_spawn_closer
 * does.  0, or -errno.
 */
int	master_spawn_prev(struct master *m, struct slot *s, bool closer);
/* Run the reload asked for while another was under way, once it is over. */
void	master_reload_queued(struct master *m);
/*
 * The reload has taken effect on every worker (err NULL) or failed: answer
 * the clients waiting for it.
 */
void	master_reload_answer(struct master *m, const char *err);
/* No queued reload will run (stopping): answer its clients with err. */
void	master_queued_answer(struct master *m, const char *err);

/* fanoutwatch.c */
/*
 * Count, in each capture's `others`, the packet sockets in its fanout group
 * that are another program's, and log a change.  On the timer.
 */
void	master_fanout_check(struct master *m);
/* In a child: close the master's sock_diag socket (not its memory). */
void	master_fanout_forget(struct master *m);
void	master_fanout_close(struct master *m);

/* stall.c */
/*
 * Kill every worker that made no progress for stall_timeout with frames
 * waiting (supervise_stall()); the crash path respawns it.  On the timer.
 */
void	master_stall_check(struct master *m, uint64_t now);
/*
 * A reaped worker: last_exit says so if it was killed for a stall; true
 * then.
 */
bool	master_stall_reaped(struct slot *s, int status);
/*
 * Where the worker of s is, or was when it died, as the stage it publishes
 * says: "in plugin X" (a frame, or a per-frame stage after a batch
 * stage), "in plugin X's prefetch", "... tick", "... open", "... close",
 * "... batch"; or, as it starts, its starting_in text: "while loading
 * plugin X", "in plugin X's check"; false, with "outside the plugins", in
 * none of them.
 */
bool	master_slot_where(const struct slot *s, char *buf, size_t len);
/*
 * The worker of s is inside plugin code as it starts: loading a plugin
 * (its constructors), in its check, or in its open.
 */
bool	master_slot_opening(const struct slot *s);
/*
 * The worker of s, told to exit for a reload, has made no progress (no
 * frame, no turn of its loop) for MASTER_EXIT_GRACE_NS: true once, and
 * s->exit.killed is set, for the caller to kill it.  On the timer.
 */
bool	master_exit_overdue(struct slot *s, uint64_t now);
/* Add what fanout rolled over from s's socket since the last read. */
void	master_read_rollover(struct slot *s);

/* swap.c */
/* Start a capture reload to nc (taken over); 0, or -errno with err. */
int	master_swap_begin(struct master *m, struct cfg *nc, char *err,
	    size_t errlen);
/* The retiring generation has exited: its counters go to the new slots. */
void	master_retire(struct master *m);
/*
 * The slot of the current generation that retiring slot o's counts go
 * to, as master_retire() folds them; UINT_MAX when its capture is gone.
 */
unsigned master_retire_to(const struct master *m, const struct slot *o);
void	master_swap_step(struct master *m, uint64_t now);
/* Before the cut-over: the new sockets' drops were of copies; forgotten. */
void	master_swap_forget_drops(struct master *m);

/* stats_json.c */
/* The `stats` document, the kernel's counters read just before. */
json_t	*master_stats_json(struct master *m);
/*
 * Each worker's state and counts in the log, as `stats` shows them; asked
 * (SIGUSR1): whatever log.level says, else as info lines.
 */
void	master_log_summary(struct master *m, bool asked);

#endif

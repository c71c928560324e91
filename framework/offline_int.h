/*
 * What the two halves of offline mode share: offline.c (the file, the
 * pipelines, the statistics document) and offline_split.c (the frames:
 * read, split over the workers by flow, handed to the pipelines, ticks).
 */
#ifndef RINGFAN_OFFLINE_INT_H
#define RINGFAN_OFFLINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <pcap/pcap.h>

#include "config.h"
#include "flowhash.h"
#include "pcapmap.h"
#include "plugin_host.h"
#include "stats.h"

/*
 * At most this many frames to a plugin's batch callback at once in the
 * RINGFAN_OFFLINE_LOOPS passes; read from the file, one at a time.
 */
#define OFFLINE_BATCH		256

/* One frame of the in-memory copy; its bytes follow the previous frame's. */
struct offline_rec {
	uint64_t	ts_ns;
	uint32_t	caplen;
	uint32_t	len;
};

/* One worker of the run: its pipeline, as a live worker's. */
struct offline_worker {
	struct pipeline		 pl;
	struct plugin_env	 env;		/* its plugins keep a pointer */
	struct stats_worker	*sw;
	uint64_t		 handled;
	uint64_t		 bytes;
	struct plugin_mem	*mem;		/* per stage */
	char			 tag[64];	/* its log lines', "CAPTURE/K" */

	/* RINGFAN_OFFLINE_LOOPS with batch stages: frames not yet batched. */
	struct ringfan_packet	*views;		/* OFFLINE_BATCH of them */
	const struct ringfan_packet **ptrs;	/* those that reach a batch */
	size_t			 nviews;
	size_t			 nptrs;
};

/*
 * Frames read ahead of the pipelines for the prefetch callbacks
 * (plugin.h): view[(head + i) % RINGFAN_PREFETCH_AHEAD] for i < n, in file
 * order, each with the worker it goes to.
 */
struct offline_ahead {
	struct ringfan_packet	 view[RINGFAN_PREFETCH_AHEAD];
	struct offline_worker	*w[RINGFAN_PREFETCH_AHEAD];
	unsigned		 head;
	unsigned		 n;
	unsigned		 depth;		/* 1 without a prefetch stage */
};

/*
 * The run, in memory shared with the process that watches it
 * (offline_guard_watch()): the workers, their counts and tags, and where
 * the run is in plugin code outlive a run that ends without a word.
 */
struct offline {
	const char		*path;
	const char		*capture;	/* its name, for log lines */
	const struct cfg_capture *cap;		/* the steps' names */
	/* Whether step k's plugin has a batch callback: cap->npipeline. */
	uint8_t			*batch;
	char			 at[160];	/* pipeline_track()'s */
	/*
	 * The run said how it ended: it returned (its statistics document
	 * or the cause on stderr), exit() was called, or the guard wrote
	 * its line.
	 */
	uint32_t		 said;
	uint32_t		 printed;	/* its statistics document */
	pcap_t			*pcap;
	struct bpf_program	 prog;		/* the capture's filter */
	bool			 has_prog;
	struct pcap_map		 map;		/* pcap, read in place */
	struct stats_shm	*shm;
	struct offline_worker	*w;		/* nworkers of them */
	unsigned		 nworkers;
	/* Several workers of a capture with `defrag`: IPv4 datagrams. */
	struct flowhash_frags	*frags;
	unsigned		 tagged;	/* the worker log lines name */
	bool			 has_batch;
	bool			 has_prefetch;
	uint16_t		 linktype;
	/*
	 * Where a frame's packet type lies (a Linux cooked header's, the
	 * PACKET_* a live socket gives): byte 1 (v1, 16 bits big-endian),
	 * byte 10 (v2); 0: none, on other links.
	 */
	uint8_t			 pkttype_at;
	uint64_t		 last_ts;
	uint64_t		 next_tick;	/* earliest of the workers' */

	/* RINGFAN_OFFLINE_LOOPS only. */
	struct offline_rec	*recs;
	size_t			 nrecs;
	uint8_t			*buf;
	size_t			 buflen;
	uint64_t		 span_ns;	/* ts shift of each pass */
};

/* offline_split.c */
/* Every frame of the file through the pipelines.  0 or EXIT_RUNTIME. */
int	offline_stream(struct offline *ol);
/*
 * The file into memory, then `loops` passes over it, with the rate on
 * stderr.  0, EXIT_RUNTIME, or EXIT_CONFIG for more passes than the
 * file's times leave room for.
 */
int	offline_loops(struct offline *ol, uint64_t loops);
/* Tick every worker's pipeline at now_ns, due or not. */
void	offline_tick_all(struct offline *ol, uint64_t now_ns);
/*
 * Frames handed to the pipelines so far, all workers (0 before ol->w is;
 * plain reads only, so offline_guard.c's handler may ask too).
 */
uint64_t offline_handled(const struct offline *ol);

/* offline_guard.c */
/*
 * Block the signals that the watching process passes on to the run (the
 * mask before in *was, if not NULL): before the fork, so that none comes
 * before the one is ready to pass it or the other to take it.
 */
void	offline_guard_block(sigset_t *was);
/*
 * In the process that forked the run (pid), the signals blocked: they are
 * passed on to the run (mask, the one before the block, is set again while
 * it runs), its end awaited.  A run that ended without saying so (_exit()
 * in plugin code, SIGKILL) is named as the guard names a crash, from ol,
 * which the run shares, and was, a copy taken before the fork.  Returns
 * the run's exit status; a run killed by a signal is this process's end,
 * by the same signal.
 */
int	offline_guard_watch(struct offline *ol, const struct offline *was,
	    pid_t pid, const sigset_t *mask);
/*
 * From now on, a plugin that crashes, calls exit() or is interrupted is
 * named on stderr, with the callback it was in: before the file is opened
 * (its SIGBUS handler comes after and hands on what is not its own), each
 * worker's sw set before its pipeline is loaded.
 */
void	offline_guard_arm(struct offline *ol);
/* No more: before ol is unmapped. */
void	offline_guard_disarm(void);

#endif

/*
 * ringfan plugin ABI 2.
 *
 * This header and <ringfan/decode.h> are all a plugin includes.  A plugin is
 * a shared object that exports one const object, `ringfan_plugin`, of type
 * struct ringfan_plugin.  The struct starts with the ABI version and its own
 * size so that it can grow by appending fields: appending a field, a flag
 * bit or an enumeration's value bumps the minor version (a plugin ignores
 * bits it does not know and has a default for values), any other change
 * bumps the major version.  The host refuses a
 * plugin whose major version differs from its own, and one built for a
 * newer minor that sets fields this host does not know.
 *
 * Plugin code never runs in the privileged master.  The host validates a
 * pipeline in a short-lived child that runs as the workers' user (`check`,
 * or a trial open and close), and each worker loads the plugins itself,
 * after it has dropped its privileges.  A plugin's `open` is called once per
 * worker, and the state it returns is handed back to every later call of
 * that worker; no state is shared between workers.
 */
#ifndef RINGFAN_PLUGIN_H
#define RINGFAN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RINGFAN_PLUGIN_ABI_MAJOR 2
#define RINGFAN_PLUGIN_ABI_MINOR 2
/*
 * MAJOR << 16 | MINOR, an unsigned int (uint32_t).  Written without a cast,
 * as it expands in the plugin's own code: C++ style warnings
 * (-Wold-style-cast) find nothing there, and #if can test it.
 */
#define RINGFAN_PLUGIN_ABI \
	(RINGFAN_PLUGIN_ABI_MAJOR * 0x10000u + RINGFAN_PLUGIN_ABI_MINOR)

/* The name a plugin exports; the host looks it up with dlsym(). */
#define RINGFAN_PLUGIN_SYMBOL "ringfan_plugin"

#if defined(__GNUC__)
#define RINGFAN_EXPORT __attribute__((visibility("default")))
#define RINGFAN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RINGFAN_EXPORT
#define RINGFAN_PRINTF(f, a)
#endif

/* Bits of ringfan_packet.flags. */
#define RINGFAN_PKT_VLAN_VALID	0x01	/* vlan_tci holds a stripped tag */
#define RINGFAN_PKT_TPID_VALID	0x02	/* vlan_tpid holds its TPID */
#define RINGFAN_PKT_TRUNCATED	0x04	/* caplen < len */

/*
 * One frame, read-only, pointing into the capture ring (or, offline, into
 * the mapped file or libpcap's buffer).  The ring and the file are mapped
 * read-only: a write into a frame there kills the process (SIGSEGV).  The
 * memory is valid only until the callback returns: copy what must outlive
 * it.  The host owns the struct and may append
 * fields in a later minor version: a field added in minor N is there when
 * (ctx->abi & 0xffff) >= N.
 */
struct ringfan_packet {
	const uint8_t	*data;		/* link-layer header onwards */
	uint32_t	 caplen;	/* bytes at data */
	/*
	 * Length on the wire, >= caplen.  Live, a VLAN tag the kernel
	 * stripped (RINGFAN_PKT_VLAN_VALID) is in neither data nor len nor
	 * caplen, although it was on the wire and tcpdump shows it: add 4
	 * when ringfan_stripped_tag() puts one back.  Offline the file holds
	 * the tag, in data and in both lengths.
	 */
	uint32_t	 len;
	uint64_t	 ts_ns;		/* receive time, ns since the epoch */
	uint32_t	 rxhash;	/* kernel flow hash, 0 if none */
	uint16_t	 vlan_tci;	/* if RINGFAN_PKT_VLAN_VALID */
	uint16_t	 vlan_tpid;	/* if RINGFAN_PKT_TPID_VALID */
	uint8_t		 pkttype;	/* PACKET_HOST, PACKET_BROADCAST, ... */
	uint8_t		 flags;		/* RINGFAN_PKT_* */
	/*
	 * The DLT_ link type of data: the capture's (ctx->linktype).  Meant
	 * for files whose interfaces differ, which libpcap 1.10 refuses to
	 * read, so today it always equals ctx->linktype.
	 */
	uint16_t	 linktype;
	/*
	 * 0: the struct's padding, named so that every host fills it.  A
	 * later minor may put fields here; they read 0 on hosts before it
	 * (and a plugin checks ctx->abi before it relies on one).
	 */
	uint32_t	 reserved;
};

/*
 * Since minor 2: a frame's `prefetch` comes before its `packet` with fewer
 * than this many other frames' `prefetch` calls between the two (see
 * struct ringfan_plugin).
 */
#define RINGFAN_PREFETCH_AHEAD	16

/* What `packet` returns. */
enum ringfan_verdict {
	RINGFAN_CONTINUE = 0,	/* hand the frame to the next plugin */
	RINGFAN_STOP = 1	/* the later plugins do not see it */
};

/* What `check` and `open` return. */
enum ringfan_result {
	RINGFAN_OK = 0,
	/*
	 * Permanent: the configuration is wrong (an option, the link type).
	 * The worker is not respawned; the message given to ctx->error says
	 * why.
	 */
	RINGFAN_FAIL = -1,
	/*
	 * Temporary: a resource is missing for now (a collector, a mount).
	 * The worker is retried with the host's doubling backoff.
	 */
	RINGFAN_RETRY = -2
};

enum ringfan_log_level {
	RINGFAN_LOG_ERROR = 0,
	RINGFAN_LOG_WARN = 1,
	RINGFAN_LOG_INFO = 2,
	RINGFAN_LOG_DEBUG = 3
};

/* ringfan_ctx.memory_state */
enum ringfan_memory_state {
	RINGFAN_MEMORY_NONE = 0,	/* no memory was asked for */
	RINGFAN_MEMORY_FRESH = 1,	/* zeroed: first open, or after close */
	RINGFAN_MEMORY_RECOVERED = 2	/* left by a predecessor that died */
};

/* Bits of ringfan_ctx.flags. */
#define RINGFAN_CTX_OFFLINE	0x01	/* reading a file (`ringfan -r`) */
#define RINGFAN_CTX_CHECK	0x02	/* validating: nothing will be captured */
/*
 * Since minor 1: the frames of one flow may reach different workers of the
 * capture (more than one worker, and fanout lb, random, rollover, cpu or
 * qm, the rollover flag, or hash without defrag, which sends IPv4
 * fragments apart from the rest of their flow).  A plugin that keeps
 * per-flow state warns about it.  Never set offline: `ringfan -r
 * --workers N` splits by the flow hash.
 */
#define RINGFAN_CTX_FLOW_SPLIT	0x04

/*
 * What the host offers a plugin.  Handed to `check` and `open`; the pointer
 * handed to `open` stays valid until `close` returns, so a plugin may keep it
 * to call `status`, `log` and the like from its other callbacks.  The one
 * handed to `check` is valid until `check` returns, and so are the counters
 * and gauges taken there.  The strings it holds (capture, interface) and
 * those opt_string() returns live as long as the context.
 *
 * Call its services from the callbacks alone, on the thread that runs
 * them: they are not safe from a thread the plugin made, which hands what
 * it has to a callback (tick, say) instead.
 *
 * Option getters read the plugin's `config` subtree: a key that is absent
 * yields the default and returns 0; a value of the wrong form returns -1 and
 * records an error naming the key and its place in the file.  Keys that the
 * plugin never asked for are reported as unknown and fail: those `check` did
 * not ask for, or, for a plugin without `check`, those `open` did not.
 */
struct ringfan_ctx {
	uint32_t	 abi;		/* RINGFAN_PLUGIN_ABI of the host */
	uint32_t	 size;		/* sizeof(struct ringfan_ctx) of the host */
	uint32_t	 flags;		/* RINGFAN_CTX_* */
	unsigned	 worker_id;	/* 0 .. worker_count - 1, within the capture */
	unsigned	 worker_count;
	const char	*capture;	/* capture name */
	const char	*interface;	/* capture interface; offline: the file */
	int		 linktype;	/* DLT_ value of the capture's frames */
	uint32_t	 snaplen;	/* largest caplen the host hands over */

	/*
	 * Host memory, in `open`: the region asked for with
	 * memory_request(), in shared memory that outlives the worker
	 * (offline: private to the one process, in huge pages where the
	 * system gives them).  A worker respawned after a crash (or a kill)
	 * finds what its predecessor left (state RINGFAN_MEMORY_RECOVERED,
	 * with the layout version that predecessor declared); the plugin
	 * checks the version and starts afresh when it does not know it.
	 * The frame the predecessor died on is quarantined, not handed over
	 * again, though the region may hold what the predecessor made of it.
	 * Aligned to 64 bytes.  NULL and RINGFAN_MEMORY_NONE when none was
	 * asked for.  Offline, and
	 * once close has returned (a stop, `ringfanctl restart`, any reload
	 * that starts the workers again), the region is fresh.
	 */
	void		*memory;
	uint64_t	 memory_size;
	int		 memory_state;	/* enum ringfan_memory_state */
	uint32_t	 memory_layout;

	int	(*opt_string)(struct ringfan_ctx *, const char *key,
		    const char *def, const char **out);
	int	(*opt_uint)(struct ringfan_ctx *, const char *key,
		    uint64_t def, uint64_t *out);
	int	(*opt_bool)(struct ringfan_ctx *, const char *key,
		    int def, int *out);
	int	(*opt_size)(struct ringfan_ctx *, const char *key,
		    uint64_t def, uint64_t *out);	/* "100MiB" */
	int	(*opt_duration)(struct ringfan_ctx *, const char *key,
		    uint64_t def_ns, uint64_t *out_ns);	/* "30s" */

	/*
	 * A monotonic 64-bit total in shared memory, shown by `stats` as
	 * plugins.<plugin>.<name> and by `metrics` as
	 * ringfan_plugin_events_total{capture,worker,plugin,name}.  It
	 * survives a worker crash and is summed across generations at a
	 * capture reload.  The same name returns the same slot.  NULL (with
	 * an error recorded) when the name is invalid, is one this plugin
	 * took as a gauge (in this check, or since this open), or the worker's
	 * slots are used up (a name the plugin at this step kept as a gauge
	 * before a reload is taken over, from 0).  Names: 1 to 39 of a-z,
	 * 0-9, _.
	 */
	uint64_t *(*counter)(struct ringfan_ctx *, const char *name);
	/*
	 * A level (active flows, open files, bytes buffered), shown by
	 * `stats` as gauges.<plugin>.<name> and by `metrics` as
	 * ringfan_plugin_level{capture,worker,plugin,name}.  Never summed
	 * across generations, and 0 again in a worker respawned after a
	 * crash: its open sets it anew (from host memory, say).  Same rules
	 * as counter().
	 */
	uint64_t *(*gauge)(struct ringfan_ctx *, const char *name);

	/*
	 * In `check` only: ask for `size` bytes of host memory (at most 1 GiB
	 * per plugin and worker), whose content has layout version `layout`
	 * (the plugin's own numbering, not 0).  0, or -1 with an error
	 * recorded.  A later call replaces an earlier one.
	 */
	int	(*memory_request)(struct ringfan_ctx *, uint64_t size,
		    uint32_t layout);
	/*
	 * In `check` or `open`: call tick every `period_ns` (at least 1 ms:
	 * a shorter period, 0 included, is taken as 1 ms) instead of every
	 * stats_interval.
	 */
	void	(*tick_period)(struct ringfan_ctx *, uint64_t period_ns);

	/*
	 * A line in the host's log.  <tgmath.h> defines a macro log(x): a
	 * plugin that includes it calls (ctx->log)(ctx, ...).
	 */
	void	(*log)(struct ringfan_ctx *, int level, const char *fmt, ...)
		    RINGFAN_PRINTF(3, 4);
	/*
	 * The reason `check` or `open` fails; the host prints it with the
	 * plugin's name.  The first one recorded is kept.  After `open` has
	 * returned, nothing fails: the host logs the first one.  A reason
	 * about an option starts with its key ("port: 0 is not 1 to 65535",
	 * or "expression \"...\": ..."): the host then leads it with the
	 * place of the value in the file.
	 */
	void	(*error)(struct ringfan_ctx *, const char *fmt, ...)
		    RINGFAN_PRINTF(2, 3);
	/*
	 * A current problem, at any time after `open` (disk full, collector
	 * unreachable): shown per worker by `workers`, `plugins` and `stats`
	 * (errors.<plugin>) and as ringfan_plugin_error{capture,worker,
	 * plugin} 1 in `metrics`.  status(ctx, NULL) clears it once the
	 * plugin has recovered.  Cheap when the text does not change.  UTF-8,
	 * up to 191 bytes: a byte outside a whole character shows as '?'.
	 */
	void	(*status)(struct ringfan_ctx *, const char *fmt, ...)
		    RINGFAN_PRINTF(2, 3);

	void	*host;		/* the host's, do not touch */
};

struct ringfan_plugin {
	uint32_t	 abi;		/* RINGFAN_PLUGIN_ABI */
	uint32_t	 size;		/* sizeof(struct ringfan_plugin) */
	const char	*name;	/* unique in a pipeline, 1 to 31 of a-z, 0-9, _ */
	const char	*version;
	const char	*description;

	/*
	 * Optional: read and validate every option, ask for host memory and a
	 * tick period; no other side effect (no files, no sockets).  The host
	 * calls it at `ringfan -t`, before a start or a reload (in a throwaway
	 * process running as the workers' user), and in each worker before
	 * `open`.  What it asks for must follow from the options alone.  It
	 * returns RINGFAN_OK or RINGFAN_FAIL (a RETRY counts as FAIL: a check
	 * has no resource to wait for).  A plugin
	 * without `check` is validated by a trial `open` and `close` instead,
	 * with RINGFAN_CTX_CHECK set in ctx->flags.
	 * Returns enum ringfan_result.
	 */
	int	(*check)(struct ringfan_ctx *ctx);
	/*
	 * Optional: once per worker before the first frame; without it the
	 * state is NULL.  enum ringfan_result.
	 */
	int	(*open)(struct ringfan_ctx *ctx, void **state);
	/*
	 * Every frame the earlier plugins passed, in ring order.  Returns
	 * enum ringfan_verdict.  A plugin sets packet or batch, not both.
	 */
	int	(*packet)(void *state, const struct ringfan_packet *pkt);
	/*
	 * Instead of packet: once per ring block that holds any frame every
	 * earlier plugin passed (n >= 1; offline, reading a file with -r:
	 * once per frame, up to 256 in the RINGFAN_OFFLINE_LOOPS benchmark),
	 * those frames, in ring order.  All of them go on to the later
	 * plugins: a batch plugin gives no verdict.
	 */
	void	(*batch)(void *state, const struct ringfan_packet *const *pkts,
		    size_t n);
	/*
	 * Optional: periodically (every stats_interval, or instead the period
	 * asked for with tick_period), idle or not.  now_ns is network time:
	 * the receive time of the latest frame, advanced by the clock while no
	 * frame waits in the ring (live, frames reach the worker up to
	 * block_timeout after they arrived: the clock stands still while the
	 * kernel's block holds any, also before the worker's first frame: then
	 * it has none and does not tick), and it never goes past a frame
	 * still to come, nor backwards but when, live, the real-time clock is
	 * stepped back by more than a second: every plugin then ticks at once
	 * at the earlier time, and periods start again from it
	 * (docs/plugins.md, "tick and network time"); offline it is the
	 * frames' own time.  Ticks are not on a grid: the first is due a
	 * period after the network time the worker started at (offline, the
	 * first frame's), each next one a period after the tick before, so
	 * they are a period apart or more but after such a step.  The plugin
	 * is not told stats_interval: one that reports per period asks for
	 * its own with tick_period and aligns its periods to network time
	 * itself.
	 */
	void	(*tick)(void *state, uint64_t now_ns);
	/* Optional: on stop; flush and free. */
	void	(*close)(void *state);

	/*
	 * Optional, since minor 2, beside packet (not batch): a frame that
	 * packet is about to get, handed over a few frames early so that the
	 * plugin can start loading the memory packet will read (a flow's
	 * hash bucket and entry, with __builtin_prefetch): a lookup that
	 * misses the cache then costs a fraction of its latency.  A hint
	 * only: packet must do the same with it or without it.
	 *
	 * The host calls it in ring order, once at most per frame, before
	 * that frame's packet and with fewer than RINGFAN_PREFETCH_AHEAD other
	 * frames' prefetch calls between the two.  Not every frame gets one
	 * (live, the rest of a block that a worker takes over from one that
	 * died in it; offline, the frames libpcap reads itself, which are
	 * all those of a pcapng file; none for a
	 * plugin after a batch stage: docs/plugins.md), and a frame that got
	 * one may never reach packet (an earlier plugin stops it, the worker
	 * stops).
	 * pkt is valid until the callback returns; packet gets a view of the
	 * same frame with the same data pointer, ts_ns, caplen and len, which
	 * is how a plugin that keeps work done here for packet (the decoded
	 * frame, a hash) finds it again.
	 */
	void	(*prefetch)(void *state, const struct ringfan_packet *pkt);
};

#ifdef __cplusplus
}
#endif

#endif /* RINGFAN_PLUGIN_H */

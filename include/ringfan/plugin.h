/*
 * ringfan plugin ABI.
 *
 * This is the only header a plugin includes.  A plugin is a shared object
 * that exports one const object, `ringfan_plugin`, of type
 * struct ringfan_plugin.  The struct starts with the ABI version and its own
 * size so that it can grow by appending fields: appending bumps the minor
 * version, any other change bumps the major version.  The host refuses a
 * plugin whose major version differs from its own.
 *
 * Every callback runs inside one worker process.  A plugin's `open` is
 * called once per worker, and the state it returns is handed back to every
 * later call of that worker; no state is shared between workers.
 */
#ifndef RINGFAN_PLUGIN_H
#define RINGFAN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define RINGFAN_PLUGIN_ABI_MAJOR 1
#define RINGFAN_PLUGIN_ABI_MINOR 0
#define RINGFAN_PLUGIN_ABI \
	((uint32_t)((RINGFAN_PLUGIN_ABI_MAJOR << 16) | RINGFAN_PLUGIN_ABI_MINOR))

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
 * One frame, read-only, pointing into the capture ring.  The memory is valid
 * only until the callback returns: copy what must outlive it.
 */
struct ringfan_packet {
	const uint8_t	*data;		/* link-layer header onwards */
	uint32_t	 caplen;	/* bytes at data */
	uint32_t	 len;		/* length on the wire */
	uint64_t	 ts_ns;		/* receive time, ns since the epoch */
	uint32_t	 rxhash;	/* kernel flow hash, 0 if none */
	uint16_t	 vlan_tci;	/* if RINGFAN_PKT_VLAN_VALID */
	uint16_t	 vlan_tpid;	/* if RINGFAN_PKT_TPID_VALID */
	uint8_t		 pkttype;	/* PACKET_HOST, PACKET_BROADCAST, ... */
	uint8_t		 flags;		/* RINGFAN_PKT_* */
	uint16_t	 reserved;
};

/* What `packet` returns. */
enum ringfan_verdict {
	RINGFAN_CONTINUE = 0,	/* hand the frame to the next plugin */
	RINGFAN_STOP = 1	/* the later plugins do not see it */
};

enum ringfan_log_level {
	RINGFAN_LOG_ERROR = 0,
	RINGFAN_LOG_WARN = 1,
	RINGFAN_LOG_INFO = 2,
	RINGFAN_LOG_DEBUG = 3
};

/*
 * What the host offers a plugin.  Handed to `open`; valid until `close`
 * returns.  Option getters read the plugin's `config` subtree: a key that is
 * absent yields the default and returns 0; a value of the wrong form returns
 * -1 and records an error naming the key and its place in the file.  Keys
 * that `open` never asked for are reported as unknown and fail the open.
 */
struct ringfan_ctx {
	uint32_t	 size;		/* sizeof(struct ringfan_ctx) of the host */
	unsigned	 worker_id;	/* 0 .. worker_count - 1, within the capture */
	unsigned	 worker_count;
	const char	*capture;	/* capture name */
	const char	*interface;	/* capture interface */

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
	 * A 64-bit counter in shared memory, shown by `stats` and `metrics`
	 * as plugins.<plugin>.<name>.  The same name returns the same slot.
	 * NULL (with an error recorded) when the name is invalid or the
	 * worker's slots are used up.
	 */
	uint64_t *(*counter)(struct ringfan_ctx *, const char *name);

	void	(*log)(struct ringfan_ctx *, int level, const char *fmt, ...)
		    RINGFAN_PRINTF(3, 4);
	/* The reason `open` fails; the host prints it with the plugin's name. */
	void	(*error)(struct ringfan_ctx *, const char *fmt, ...)
		    RINGFAN_PRINTF(2, 3);

	void	*host;		/* the host's, do not touch */
};

struct ringfan_plugin {
	uint32_t	 abi;		/* RINGFAN_PLUGIN_ABI */
	uint32_t	 size;		/* sizeof(struct ringfan_plugin) */
	const char	*name;		/* unique in a pipeline, [a-z0-9_]+ */
	const char	*version;
	const char	*description;

	/* Once per worker before the first frame.  0, or -1 after ctx->error. */
	int	(*open)(struct ringfan_ctx *ctx, void **state);
	/* Every frame, in ring order.  Returns enum ringfan_verdict. */
	int	(*packet)(void *state, const struct ringfan_packet *pkt);
	/*
	 * Optional: every frame of one ring block at once, before the frames
	 * go one by one through `packet` of the pipeline.  Verdicts do not
	 * apply to it.  A plugin may set batch and leave packet NULL.
	 */
	void	(*batch)(void *state, const struct ringfan_packet *pkts,
		    size_t n);
	/* Optional: periodically, at least every stats_interval, idle or not. */
	void	(*tick)(void *state, uint64_t now_ns);
	/* Optional: on stop; flush and free. */
	void	(*close)(void *state);
};

#endif /* RINGFAN_PLUGIN_H */

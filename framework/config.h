/*
 * The configuration: the YAML file of docs/configuration.md parsed with
 * libyaml into plain structs and validated completely.  Nothing outside
 * config*.c and config_int.h sees YAML.
 */
#ifndef RINGFAN_CONFIG_H
#define RINGFAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CFG_ERR_MAX	512

/* A place in the config file, 1-based (0 when built in). */
struct cfg_pos {
	unsigned	line;
	unsigned	col;
};

enum cfg_fanout_mode {
	CFG_FANOUT_HASH,
	CFG_FANOUT_LB,
	CFG_FANOUT_CPU,
	CFG_FANOUT_ROLLOVER,
	CFG_FANOUT_RANDOM,
	CFG_FANOUT_QM,
};

enum cfg_affinity {
	CFG_AFFINITY_NONE,	/* the scheduler decides */
	CFG_AFFINITY_AUTO,	/* worker i on the (i mod n)th online CPU */
	CFG_AFFINITY_LIST,	/* worker i on cpus[i mod ncpus] */
};

/*
 * What a reload must do for a changed key, one class per key of the tables
 * in config_keys.c and config_capture.c.  Bits, so that one diff can
 * report several at once.
 */
enum cfg_reload {
	CFG_RELOAD_NONE = 0,
	CFG_RELOAD_LIVE = 1 << 0,	/* applied as the reload commits */
	CFG_RELOAD_PIPELINE = 1 << 1,	/* the capture's workers restart */
	CFG_RELOAD_CAPTURE = 1 << 2,	/* the sockets are built anew */
	CFG_RELOAD_RESTART = 1 << 3,	/* only a restart of ringfan applies it */
};

/* cfg_diff's capture for the keys outside the captures. */
#define CFG_DIFF_GLOBAL	SIZE_MAX

/* One option of a plugin's `config` subtree: a scalar. */
struct cfg_option {
	char		*key;
	char		*value;
	struct cfg_pos	 pos;	/* of the value (bare: of the key) */
	/*
	 * No value, in a flow mapping, after a plain value (or another
	 * bare key): perhaps what followed an unquoted comma, `{ ports:
	 * 22,80 }` being ports "22" and a key "80".  Not the first key,
	 * nor one after a quoted value: no comma split a value there.
	 */
	bool		 bare;
};

struct cfg_plugin {
	char			*name;
	struct cfg_pos		 pos;	/* of the name */
	/*
	 * The step's name, unique in the pipeline: what its counters,
	 * gauges, status and log lines are shown under.  `name` in the
	 * file, else the plugin's name for its first step and NAME_2,
	 * NAME_3, ... for the later ones.  NULL in a pipeline not read
	 * from a file: the plugin's name then.
	 */
	char			*step;
	struct cfg_pos		 step_pos;	/* of `name`; 0 when defaulted */
	struct cfg_option	*options;
	size_t			 noptions;
};

/* The name step p is shown under. */
static inline const char *
cfg_step_name(const struct cfg_plugin *p)
{
	return p->step != NULL ? p->step : p->name;
}

struct cfg_capture {
	char			*name;
	struct cfg_pos		 pos;		/* of the list item */
	char			*interface;
	unsigned		 workers;	/* resolved: "auto" = online CPUs */
	enum cfg_affinity	 affinity;
	int			*cpus;		/* CFG_AFFINITY_LIST */
	size_t			 ncpus;
	bool			 promiscuous;
	bool			 wait_for_interface;	/* absent: wait */
	/*
	 * Not a key: set by a capture reload on a capture it leaves as it
	 * is, whose interface is gone: it waits, as it did, whatever
	 * wait_for_interface says.
	 */
	bool			 keeps_waiting;
	char			*bpf;		/* NULL: no filter */
	struct cfg_pos		 bpf_pos;
	struct {
		enum cfg_fanout_mode	mode;
		uint16_t		group;
		bool			defrag;
		bool			rollover;
		bool			ignore_outgoing;
	} fanout;
	struct {
		uint32_t	block_size;
		uint32_t	block_count;
		uint32_t	block_timeout_ms;
	} ring;
	struct cfg_plugin	*pipeline;
	size_t			 npipeline;
};

struct cfg {
	char			*path;		/* "<default>" when built in */
	struct {
		char	*socket;
		mode_t	 mode;
		char	*group;		/* NULL: keep the default group */
		struct cfg_pos group_pos;	/* of its value */
		char	*pidfile;
	} control;
	char			*user;		/* NULL: workers keep the master's */
	struct cfg_pos		 user_pos;	/* of its value */
	struct {
		int	 level;		/* enum log_level */
		bool	 syslog;
	} log;
	char			**plugin_path;
	size_t			 nplugin_path;
	uint64_t		 stats_interval_ns;
	uint64_t		 stall_timeout_ns;	/* 0: no stall watch */
	char			*metrics_listen;	/* NULL: no HTTP */
	struct cfg_capture	*captures;
	size_t			 ncaptures;
};

/*
 * Parse and validate FILE into *cfg.  0, or -1 with "FILE:LINE:COL: message"
 * in err.  On failure *cfg holds nothing to free.
 */
int	cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen);
/* Parse from memory; `name` is used in messages in place of a file name. */
int	cfg_load_string(struct cfg *cfg, const char *name, const char *text,
	    size_t len, char *err, size_t errlen);
/* The built-in config of `ringfan -i IFACE`. */
int	cfg_default(struct cfg *cfg, const char *iface, char *err,
	    size_t errlen);
void	cfg_free(struct cfg *cfg);

/*
 * The classes of the keys that differ between old and new: the keys outside
 * the captures (and the number of captures) for CFG_DIFF_GLOBAL, else those
 * of capture number `capture`, which both must have.  restart, if not
 * NULL, is called with the dotted name of each differing key of class
 * CFG_RELOAD_RESTART.
 */
unsigned cfg_diff(const struct cfg *old, const struct cfg *new,
	    size_t capture, void (*restart)(const char *key));
/* Whether a and b differ in a key of class CFG_RELOAD_CAPTURE. */
bool	cfg_capture_rebuilt(const struct cfg_capture *a,
	    const struct cfg_capture *b);
/*
 * Gives the keys of class CFG_RELOAD_RESTART of cfg the values of running,
 * the configuration in force: a reload adopts the rest of a new file, but
 * these stay as ringfan started until it starts again, and the next
 * reload compares with what is in force.  A string that cannot be copied
 * keeps cfg's value.
 */
void	cfg_keep_restart(struct cfg *cfg, const struct cfg *running);
/*
 * Key number i of the table, depth first: its dotted name ("control.mode",
 * "captures.fanout.group") in path, its class (0 for a mapping, whose keys
 * carry theirs) and a valid value other than its default, as YAML (NULL
 * for a mapping).  -1 past the last key.
 */
int	cfg_key_info(size_t i, char *path, size_t len, unsigned *reload,
	    const char **sample);

/*
 * Whether interface names a and b are one interface: the same name, or,
 * where both are there, the same index (one of them an alternative name,
 * which the kernel resolves as it does the name).
 */
bool	cfg_same_interface(const char *a, const char *b);

const char *cfg_fanout_mode_name(enum cfg_fanout_mode mode);
const char *cfg_affinity_name(enum cfg_affinity affinity);
const char *cfg_log_level_name(int level);
/*
 * The CPU worker i of a capture is pinned to, or -1 (cpu_affinity none).
 * auto: the (i mod n)th of the n online CPUs, from `online` in the
 * kernel's form ("0,2-3\n"), or, NULL, from /sys/devices/system/cpu/online
 * (this process's mask without sysfs), so that an offline CPU is skipped.
 */
int cfg_worker_cpu(const struct cfg_capture *cap, unsigned i,
    const char *online);
/*
 * Whether CPU cpu is online, by the kernel's list (or this process's mask
 * without sysfs); true when neither is known.
 */
bool	cfg_cpu_online(int cpu);
/* The fanout group derived from a capture name when `group` is not set. */
uint16_t cfg_default_group(const char *capture_name);
/* Total workers over all captures. */
unsigned cfg_total_workers(const struct cfg *cfg);

#endif

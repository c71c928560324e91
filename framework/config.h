/*
 * The configuration: the YAML file of docs/configuration.md parsed with
 * libyaml into plain structs and validated completely.  Nothing outside
 * config.c sees YAML.
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
	CFG_AFFINITY_AUTO,	/* worker i on online CPU i mod ncpu */
	CFG_AFFINITY_LIST,	/* worker i on cpus[i mod ncpus] */
};

/* One option of a plugin's `config` subtree: a scalar. */
struct cfg_option {
	char		*key;
	char		*value;
	struct cfg_pos	 pos;	/* of the value */
};

struct cfg_plugin {
	char			*name;
	struct cfg_pos		 pos;	/* of the name */
	struct cfg_option	*options;
	size_t			 noptions;
};

struct cfg_capture {
	char			*name;
	struct cfg_pos		 pos;		/* of the list item */
	char			*interface;
	unsigned		 workers;	/* resolved: "auto" = online CPUs */
	enum cfg_affinity	 affinity;
	int			*cpus;		/* CFG_AFFINITY_LIST */
	size_t			 ncpus;
	bool			 promiscuous;
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
		char	*pidfile;
	} control;
	char			*user;		/* NULL: workers keep the master's */
	struct {
		int	 level;		/* enum log_level */
		bool	 syslog;
	} log;
	char			**plugin_path;
	size_t			 nplugin_path;
	uint64_t		 stats_interval_ns;
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

const char *cfg_fanout_mode_name(enum cfg_fanout_mode mode);
/* The fanout group derived from a capture name when `group` is not set. */
uint16_t cfg_default_group(const char *capture_name);
/* Total workers over all captures. */
unsigned cfg_total_workers(const struct cfg *cfg);

#endif

/*
 * The plugin host: finds plugins on plugin_path, loads and checks them
 * (in the master, before fork), opens them per worker and runs the pipeline.
 */
#ifndef RINGFAN_PLUGIN_HOST_H
#define RINGFAN_PLUGIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ringfan/plugin.h>

#include "config.h"
#include "stats.h"

#define PLUGIN_ERR_MAX	512

/* One loaded shared object. */
struct plugin {
	char			*path;
	void			*dl;
	const struct ringfan_plugin *desc;	/* as exported */
	struct ringfan_plugin	 calls;		/* optional callbacks filled */
};

/* Per-worker state of one pipeline stage. */
struct plugin_stage {
	int		(*packet)(void *, const struct ringfan_packet *);
	void		*state;
	struct plugin	*plugin;
	const struct cfg_plugin *conf;
	bool		 opened;
	struct plugin_ctx *ctx;
};

struct pipeline {
	struct plugin	*plugins;	/* nstages, in pipeline order */
	struct plugin_stage *stages;
	size_t		 nstages;
	bool		 has_batch;
	const char	**names;	/* plugin names, for stats */
};

/*
 * Find NAME.so (or NAME/NAME.so) in the directories of RINGFAN_PLUGIN_PATH
 * (colon-separated, searched first when set) and then of path, load it and
 * check it.  0, or -1 with a message naming the file in err.
 */
int	plugin_load(struct plugin *p, const char *name,
	    char *const *path, size_t npath, char *err, size_t errlen);
void	plugin_unload(struct plugin *p);

/*
 * Load every plugin of the capture's pipeline and check that their names
 * are unique.  0, or -1 with "FILE:LINE:COL: ..." in err.
 */
int	pipeline_load(struct pipeline *pl, const struct cfg *cfg,
	    const struct cfg_capture *cap, char *err, size_t errlen);
/*
 * Open every stage for one worker, giving plugins counters in w.  0, or -1
 * with "plugin NAME: <its message>" in err; stages already opened are
 * closed again.
 */
int	pipeline_open(struct pipeline *pl, const struct cfg *cfg,
	    const struct cfg_capture *cap, unsigned worker_id,
	    struct stats_worker *w, char *err, size_t errlen);
void	pipeline_batch(struct pipeline *pl, const struct ringfan_packet *pkts,
	    size_t n);
void	pipeline_tick(struct pipeline *pl, uint64_t now_ns);
void	pipeline_close(struct pipeline *pl);
void	pipeline_unload(struct pipeline *pl);

/* One frame through every stage until one says stop. */
static inline void
pipeline_run(const struct pipeline *pl, const struct ringfan_packet *pkt)
{
	for (size_t i = 0; i < pl->nstages; i++)
		if (pl->stages[i].packet(pl->stages[i].state, pkt) !=
		    RINGFAN_CONTINUE)
			break;
}

#endif

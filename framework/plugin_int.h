/*
 * The plugin host's internals, shared by plugin_host.c (loading, checking
 * and calling plugins), plugin_ctx.c (the services of struct ringfan_ctx)
 * and plugin_validate.c (validation in a child, host memory).  Nothing
 * else sees them.
 */
#ifndef RINGFAN_PLUGIN_INT_H
#define RINGFAN_PLUGIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_host.h"

/* "ringfan1" + "mem": the header of a host memory region. */
#define PLUGIN_MEM_MAGIC	0x6d656d316e66726eULL

/* The header of a host memory region; the plugin's bytes follow. */
struct plugin_mem_hdr {
	uint64_t	magic;
	uint64_t	size;
	uint32_t	layout;		/* as the last opener declared it */
	uint32_t	opened;		/* 1 from open until a clean close */
	uint8_t		pad[40];
};
_Static_assert(sizeof(struct plugin_mem_hdr) == 64, "memory header size");

struct plugin_ctx {
	struct ringfan_ctx	 pub;
	const struct plugin_env	*env;
	const struct pipeline	*pl;		/* the stage's */
	struct plugin_stage	*stage;
	size_t			 index;		/* of the stage */
	struct stats_worker	*w;
	bool			 checking;	/* in check or a trial open */
	bool			 opened;	/* open has succeeded */
	bool			 late_said;	/* an error after it, logged */
	bool			*used;		/* per option: asked for */
	/* The counter and gauge slots of w this context took, by index. */
	uint64_t		 took[STATS_MAX_COUNTERS / 64];
	char			 err[PLUGIN_ERR_MAX];
};

/* plugin_ctx.c */
/* A context for stage `index` of pipeline pl; NULL: no memory. */
struct plugin_ctx *plugin_ctx_new(const struct pipeline *pl, size_t index,
	    const struct plugin_env *env, struct stats_worker *w,
	    bool checking);
void	plugin_ctx_free(struct plugin_ctx *ctx);
/* The step's name: for messages, counters and status. */
const char *plugin_ctx_name(const struct plugin_ctx *ctx);
/* Record the plugin's error; the first one stays. */
void	plugin_ctx_error(struct ringfan_ctx *pub, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* RINGFAN_OK unless the plugin left an option unread. */
int	plugin_ctx_unknown_options(const struct plugin_ctx *ctx, char *err,
	    size_t errlen);
/*
 * A plugin's answer as an enum ringfan_result, its message in err; `what`
 * is the callback that answered ("check", "open").
 */
int	plugin_ctx_result(const struct plugin_ctx *ctx, const char *what,
	    int rc, char *err, size_t errlen);

#endif

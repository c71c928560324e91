/*
 * The control socket's internals, shared by control.c (the socket, its
 * clients and replies), control_cmds.c (the command table and handlers)
 * and metrics.c (the Prometheus text).  Nothing else sees them.
 */
#ifndef RINGFAN_CONTROL_INT_H
#define RINGFAN_CONTROL_INT_H

#include <stddef.h>

#include <jansson.h>

#include "master_int.h"

typedef char *(*ctl_handler)(struct master *, size_t *);

struct ctl_command {
	const char	*name;
	ctl_handler	 fn;
	const char	*help;
	/* Instead of fn, for a command with an argument. */
	char		*(*fn_arg)(struct master *, const char *, size_t *);
};

/* control.c */
/* A JSON document and a newline, as the reply's bytes; doc is consumed. */
char	*ctl_json(json_t *doc, size_t *len);
/* {"error": msg} as the reply's bytes. */
char	*ctl_error(const char *msg, size_t *len);

/* control_cmds.c */
/* The command called name, or NULL. */
const struct ctl_command *ctl_find(const char *name);
/* The unknown-command reply's text for echo: it lists the commands. */
void	ctl_unknown(const char *echo, char *msg, size_t msglen);

/* metrics.c */
/* The metrics command: the stats document in Prometheus text format. */
char	*cmd_metrics(struct master *m, size_t *len);

#endif

/*
 * The control commands: one table of {name, handler, help} that also makes
 * the help reply and the unknown-command error, and the handlers of status,
 * stats, workers, plugins, restart and stop.  The metrics command is
 * metrics.c's, reload is answered by control.c once it has taken effect.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control_int.h"
#include "log.h"
#include "ringfan_build.h"
#include "util.h"

static char *
cmd_stats(struct master *m, size_t *len)
{
	return ctl_json(master_stats_json(m), len);
}

static char *
cmd_status(struct master *m, size_t *len)
{
	const struct cfg_capture *cap;
	json_t *doc, *caps;
	unsigned running;
	const char *state;

	caps = json_array();
	for (size_t c = 0; c < m->g.cfg->ncaptures; c++) {
		cap = &m->g.cfg->captures[c];
		state = master_capture_state(m, (unsigned)c, &running);
		json_array_append_new(caps, json_pack(
		    "{s:s,s:s,s:s,s:i,s:i,s:{s:s,s:i}}",
		    "name", cap->name, "interface", cap->interface,
		    "state", state, "workers", (int)cap->workers,
		    "running", (int)running, "fanout",
		    "mode", cfg_fanout_mode_name(cap->fanout.mode),
		    "group", (int)m->g.groups[c]));
	}
	doc = json_pack("{s:s,s:i,s:f,s:s,s:s,s:i,s:o,s:I,s:o}",
	    "version", RINGFAN_VERSION, "pid", (int)getpid(),
	    "uptime_s", (double)(mono_ns() - m->started_ns) / 1e9,
	    "config", m->g.cfg->path,
	    "state", m->stopping ? "stopping" : "running",
	    "reloads", (int)m->reloads,
	    "last_reload_error", m->last_reload_error[0] != '\0' ?
	    json_string(m->last_reload_error) : json_null(),
	    "log_dropped", (json_int_t)log_dropped(),
	    "captures", caps);
	return ctl_json(doc, len);
}

static char *
cmd_workers(struct master *m, size_t *len)
{
	const struct slot *s;
	const struct stats_worker *sw;
	json_t *arr = json_array();

	for (unsigned i = 0; i < m->g.nslots; i++) {
		s = &m->g.slots[i];
		sw = s->wk.sw;
		json_array_append_new(arr, json_pack(
		    "{s:s,s:i,s:i,s:i,s:s,s:i,s:o,s:o}",
		    "capture", m->g.cfg->captures[s->capture].name,
		    "id", (int)s->wk.id, "pid", (int)STATS_LOAD(&sw->pid),
		    "cpu", (int)STATS_LOAD(&sw->cpu),
		    "state", stats_state_name(STATS_LOAD(&sw->state)),
		    "restarts", (int)stats_value(sw, "restarts"),
		    "last_exit", s->last_exit[0] != '\0' ?
		    json_string(s->last_exit) : json_null(),
		    "errors", stats_errors_json(sw,
		    (const char *const *)m->g.plugin_names[s->capture],
		    m->g.cfg->captures[s->capture].npipeline)));
	}
	return ctl_json(json_pack("{s:o}", "workers", arr), len);
}

/* [{"worker": ID, "error": TEXT}] of stage k of capture c. */
static json_t *
plugin_errors(struct master *m, size_t c, size_t k)
{
	const struct plugin_info *in = &m->g.infos[c][k];
	const struct slot *s;
	json_t *arr = json_array();
	char text[STATS_STATUS_MAX];

	for (unsigned i = 0; i < m->g.nslots && k < STATS_MAX_STAGES; i++) {
		s = &m->g.slots[i];
		if (s->capture == c && stats_status_get(s->wk.sw, k, in->name,
		    text, sizeof(text)))
			json_array_append_new(arr, json_pack("{s:i,s:s}",
			    "worker", (int)s->wk.id, "error", text));
	}
	return arr;
}

static char *
cmd_plugins(struct master *m, size_t *len)
{
	const struct plugin_info *in;
	json_t *caps = json_array(), *arr;
	char abi[16];

	for (size_t c = 0; c < m->g.cfg->ncaptures; c++) {
		arr = json_array();
		for (size_t k = 0; k < m->g.cfg->captures[c].npipeline; k++) {
			in = &m->g.infos[c][k];
			snprintf(abi, sizeof(abi), "%u.%u", in->abi >> 16,
			    in->abi & 0xffff);
			json_array_append_new(arr, json_pack(
			    "{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o}",
			    "name", in->name, "version", in->version,
			    "description", in->description, "path", in->path,
			    "abi", abi, "memory", (json_int_t)in->memory_size,
			    "tick_ns", (json_int_t)(in->tick_ns != 0 ?
			    in->tick_ns : m->g.cfg->stats_interval_ns),
			    "errors", plugin_errors(m, c, k)));
		}
		json_array_append_new(caps, json_pack("{s:s,s:o}", "name",
		    m->g.cfg->captures[c].name, "plugins", arr));
	}
	return ctl_json(json_pack("{s:o}", "captures", caps), len);
}

static char *
cmd_restart(struct master *m, const char *target, size_t *len)
{
	json_t *names = json_array();
	char err[256];

	if (master_restart(m, target, names, err, sizeof(err)) == -1) {
		json_decref(names);
		return ctl_error(err, len);
	}
	return ctl_json(json_pack("{s:b,s:o}", "ok", 1, "restarted", names),
	    len);
}

static char *
cmd_stop(struct master *m, size_t *len)
{
	master_stop(m, "stop command");
	return ctl_json(json_pack("{s:b}", "ok", 1), len);
}

static char *cmd_help(struct master *, size_t *);

static const struct ctl_command commands[] = {
	{ "status", cmd_status, "the daemon and each capture's health", NULL },
	{ "stats", cmd_stats, "counters of every worker and capture", NULL },
	{ "workers", cmd_workers, "the process table", NULL },
	{ "plugins", cmd_plugins, "the plugins of each pipeline", NULL },
	{ "reload", NULL, "re-read the configuration file; answers once "
	    "every worker runs it or all are back on the previous one", NULL },
	{ "restart", NULL, "restart CAPTURE[/WORKER]: failed or waiting "
	    "workers start at once, running ones restart one at a time",
	    cmd_restart },
	{ "stop", cmd_stop, "stop gracefully", NULL },
	{ "metrics", cmd_metrics, "everything, in Prometheus text format",
	    NULL },
	{ "help", cmd_help, "this list", NULL },
};

static char *
cmd_help(struct master *m, size_t *len)
{
	json_t *arr = json_array();

	(void)m;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "name",
		    commands[i].name, "help", commands[i].help));
	return ctl_json(json_pack("{s:o}", "commands", arr), len);
}

const struct ctl_command *
ctl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
ctl_unknown(const char *echo, char *msg, size_t msglen)
{
	size_t n;

	n = (size_t)snprintf(msg, msglen,
	    "unknown command \"%s\" (commands:", echo);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		n += (size_t)snprintf(msg + n, msglen - n, "%s %s",
		    i == 0 ? "" : ",", commands[i].name);
	snprintf(msg + n, msglen - n, ")");
}

/*
 * The control socket: a Unix stream socket served from the master's event
 * loop.  A client sends one command line and gets one reply, then the
 * connection is closed.  Everything is non-blocking and every client has a
 * deadline, so a silent or slow client costs a file descriptor for at most
 * CTL_TIMEOUT and never stalls the master.
 *
 * Commands live in one table; it also makes the help reply and the
 * unknown-command error.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master_int.h"
#include "ringfan_build.h"
#include "util.h"

#define CTL_LINE_MAX	4096
#define CTL_TIMEOUT_NS	(5ull * 1000000000u)
/* How long a reload's client may wait for the workers to take it. */
#define CTL_RELOAD_TIMEOUT_NS	(90ull * 1000000000u)
#define CTL_MAX_CLIENTS	1024

struct ctl_client {
	struct ev_src		 src;		/* first: the loop hands it back */
	struct ctl_client	*next;
	uint64_t		 deadline;
	bool			 dead;
	size_t			 len;
	char			 line[CTL_LINE_MAX + 1];
	char			*reply;
	size_t			 reply_len;
	size_t			 reply_off;
	/* A reload under way: the reply waits for its outcome. */
	const char		*awaiting;	/* its result, or NULL */
	bool			 queued;	/* asked during another: next */
};

struct ctl_server {
	struct ev_src		 src;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client	*clients;
	unsigned		 nclients;
};

typedef char *(*ctl_handler)(struct master *, size_t *);

struct ctl_command {
	const char	*name;
	ctl_handler	 fn;
	const char	*help;
	/* Instead of fn, for a command with an argument. */
	char		*(*fn_arg)(struct master *, const char *, size_t *);
};

static void ctl_reply(struct master *, struct ctl_client *, char *, size_t);
static void ctl_drop(struct master *, struct ctl_client *);
static void ctl_reply_error(struct master *, struct ctl_client *,
    const char *);

static const struct ctl_command *ctl_find(const char *name);

/* A JSON document and a newline, as the reply's bytes. */
static char *
ctl_json(json_t *doc, size_t *len)
{
	char *text, *out;
	size_t n;

	if (doc == NULL)
		return NULL;
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((out = realloc(text, n + 2)) == NULL) {
		free(text);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

static char *
ctl_error(const char *msg, size_t *len)
{
	return ctl_json(json_pack("{s:s}", "error", msg), len);
}

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

/*
 * reload answers once it has taken effect or failed: a file that does not
 * validate at once, a pipeline or capture change when every worker runs it
 * or has been put back (ctl_reload_done).
 */
/* Answer c for a reload that returned res (NULL: failed with err). */
static void
ctl_reload_answer(struct master *m, struct ctl_client *c, const char *res,
    const char *err)
{
	char *reply;
	size_t len = 0;

	c->queued = false;
	if (res == NULL) {
		ctl_reply_error(m, c, err);
		return;
	}
	if (master_reload_pending(m)) {
		struct epoll_event ev = { .events = 0, .data.ptr = &c->src };

		/* Nothing more to read: wake for a hang-up only. */
		c->awaiting = res;
		c->deadline = mono_ns() + CTL_RELOAD_TIMEOUT_NS;
		if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
			ctl_drop(m, c);
		return;
	}
	reply = ctl_json(json_pack("{s:b,s:s}", "ok", 1, "result", res), &len);
	ctl_reply(m, c, reply, len);
}

/*
 * reload answers once it has taken effect or failed: a file that does not
 * validate at once, a pipeline or capture change when every worker runs it
 * or has been put back (ctl_reload_done).  Asked while another reload is
 * under way, it waits for that one to end and then reads the file: the
 * latest file always wins, and every client asking meanwhile gets that
 * one reload's outcome.
 */
static void
ctl_reload(struct master *m, struct ctl_client *c)
{
	char err[512];
	const char *res;

	if (master_reload_busy(m)) {
		struct epoll_event ev = { .events = 0, .data.ptr = &c->src };

		c->queued = true;
		c->deadline = mono_ns() + 2 * CTL_RELOAD_TIMEOUT_NS;
		m->reload_again = true;
		if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
			ctl_drop(m, c);
		return;
	}
	if ((res = master_reload(m, err, sizeof(err))) == NULL)
		log_error("reload failed, configuration unchanged: %s", err);
	ctl_reload_answer(m, c, res, err);
}

void
ctl_reload_queued(struct master *m, const char *res, const char *err)
{
	struct ctl_client *c;

	for (c = m->ctl != NULL ? m->ctl->clients : NULL; c != NULL;
	    c = c->next)
		if (!c->dead && c->queued)
			ctl_reload_answer(m, c, res, err);
}

void
ctl_reload_done(struct master *m, const char *err)
{
	struct ctl_client *c;
	const char *result;
	char *reply;
	size_t len = 0;

	for (c = m->ctl != NULL ? m->ctl->clients : NULL; c != NULL;
	    c = c->next) {
		if (c->dead || c->awaiting == NULL)
			continue;
		result = c->awaiting;
		c->awaiting = NULL;
		if (err != NULL) {
			ctl_reply_error(m, c, err);
			continue;
		}
		reply = ctl_json(json_pack("{s:b,s:s}", "ok", 1, "result",
		    result), &len);
		ctl_reply(m, c, reply, len);
	}
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

/*
 * Prometheus text exposition format (0.0.4), built from the stats document
 * so that `metrics` never disagrees with `stats`.  The format wants each
 * family once, HELP and TYPE first and every sample of it below, so the
 * loops run family by family, each over all the workers.
 */
enum metric_kind {
	METRIC_DAEMON,		/* field: a number of the document */
	METRIC_WORKER,		/* field: a number of each worker */
	METRIC_FIELDS,		/* a METRIC_WORKER family per stats_fields */
	METRIC_UP,		/* field: the worker's state; 1 if running */
	METRIC_PLUGIN,		/* field: {plugin: {name: N}} of each worker */
	METRIC_PLUGIN_ERROR	/* field: {plugin: text}; 1 if listed */
};

struct metric {
	const char		*name;
	enum metric_kind	 kind;
	const char		*field;
	const char		*type;
	const char		*help;
};

static const struct metric metrics[] = {
	{ "ringfan_uptime_seconds", METRIC_DAEMON, "uptime_s", "gauge",
	    "Seconds since ringfan started." },
	/* Names, help and types of the worker counters are stats.c's. */
	{ NULL, METRIC_FIELDS, NULL, NULL, NULL },
	{ "ringfan_worker_up", METRIC_UP, "state", "gauge",
	    "1 while the worker runs." },
	{ "ringfan_plugin_events_total", METRIC_PLUGIN, "plugins", "counter",
	    "Events counted by the plugins, by plugin and counter name." },
	{ "ringfan_plugin_level", METRIC_PLUGIN, "gauges", "gauge",
	    "Levels reported by the plugins, by plugin and gauge name." },
	{ "ringfan_plugin_error", METRIC_PLUGIN_ERROR, "errors", "gauge",
	    "1 while the plugin reports a problem, else 0." },
};

/*
 * The members of a worker that name plugins.  "plugins" and "gauges" list
 * the whole pipeline, but an alert on ringfan_plugin_error must not go
 * quiet because one of them is missing, so each is read, and "errors" too.
 */
static const char *const metric_plugin_lists[] = {
	"plugins", "gauges", "errors",
};

/* A label value: the format escapes backslash, double quote and newline. */
static void
metric_escape(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* A sample of worker w; plugin and name NULL where they do not apply. */
static void
metric_sample(FILE *f, const struct metric *mt, const char *cap,
    const json_t *w, const char *plugin, const char *name, json_int_t v)
{
	fprintf(f, "%s{capture=\"", mt->name);
	metric_escape(f, cap);
	fprintf(f, "\",worker=\"%lld\"",
	    (long long)json_integer_value(json_object_get(w, "id")));
	if (plugin != NULL) {
		fputs(",plugin=\"", f);
		metric_escape(f, plugin);
		fputc('"', f);
	}
	if (name != NULL) {
		fputs(",name=\"", f);
		metric_escape(f, name);
		fputc('"', f);
	}
	fprintf(f, "} %lld\n", (long long)v);
}

/* Whether a list before metric_plugin_lists[k] names the plugin. */
static bool
metric_plugin_seen(const json_t *w, size_t k, const char *plugin)
{
	for (size_t j = 0; j < k; j++)
		if (json_object_get(json_object_get(w,
		    metric_plugin_lists[j]), plugin) != NULL)
			return true;
	return false;
}

/* The samples of family mt for worker w of capture cap. */
static void
metric_worker(FILE *f, const struct metric *mt, const char *cap,
    const json_t *w)
{
	json_t *values, *v, *errors, *text;
	const char *plugin, *name, *state;

	switch (mt->kind) {
	case METRIC_DAEMON:
	case METRIC_FIELDS:
		break;
	case METRIC_WORKER:
		metric_sample(f, mt, cap, w, NULL, NULL,
		    json_integer_value(json_object_get(w, mt->field)));
		break;
	case METRIC_UP:
		state = json_string_value(json_object_get(w, mt->field));
		metric_sample(f, mt, cap, w, NULL, NULL,
		    state != NULL && strcmp(state, "running") == 0);
		break;
	case METRIC_PLUGIN:
		json_object_foreach(json_object_get(w, mt->field), plugin,
		    values)
			json_object_foreach(values, name, v)
				metric_sample(f, mt, cap, w, plugin, name,
				    json_integer_value(v));
		break;
	case METRIC_PLUGIN_ERROR:
		errors = json_object_get(w, mt->field);
		for (size_t k = 0; k < sizeof(metric_plugin_lists) /
		    sizeof(metric_plugin_lists[0]); k++) {
			values = json_object_get(w, metric_plugin_lists[k]);
			json_object_foreach(values, plugin, v) {
				if (metric_plugin_seen(w, k, plugin))
					continue;
				text = json_object_get(errors, plugin);
				metric_sample(f, mt, cap, w, plugin, NULL,
				    json_is_string(text));
			}
		}
		break;
	}
}

/* Family mt: its HELP, its TYPE and every sample of it in doc. */
static void
metric_family(FILE *f, const struct metric *mt, const json_t *doc)
{
	const json_t *cap, *w;
	const char *capname;
	size_t ci, wi;

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", mt->name, mt->help,
	    mt->name, mt->type);
	if (mt->kind == METRIC_DAEMON) {
		fprintf(f, "%s %.3f\n", mt->name, json_number_value(
		    json_object_get(doc, mt->field)));
		return;
	}
	json_array_foreach(json_object_get(doc, "captures"), ci, cap) {
		capname = json_string_value(json_object_get(cap, "name"));
		json_array_foreach(json_object_get(cap, "workers"), wi, w)
			metric_worker(f, mt, capname, w);
	}
}

static char *
cmd_metrics(struct master *m, size_t *len)
{
	json_t *doc = master_stats_json(m);
	const struct stats_field *sf;
	struct metric fm;
	char *buf = NULL;
	FILE *f;

	if (doc == NULL || (f = open_memstream(&buf, len)) == NULL) {
		json_decref(doc);
		return NULL;
	}
	for (size_t k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++) {
		if (metrics[k].kind != METRIC_FIELDS) {
			metric_family(f, &metrics[k], doc);
			continue;
		}
		for (size_t i = 0; i < STATS_NFIELDS; i++) {
			sf = &stats_fields[i];
			fm = (struct metric){ sf->metric, METRIC_WORKER,
			    sf->name, sf->type, sf->help };
			metric_family(f, &fm, doc);
		}
	}
	json_decref(doc);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
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

static const struct ctl_command *
ctl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
ctl_drop(struct master *m, struct ctl_client *c)
{
	if (c->dead)
		return;
	master_unwatch(m, &c->src);
	close(c->src.fd);
	c->dead = true;
}

static void
ctl_on_client(struct master *m, struct ev_src *src, uint32_t events);

/* Start sending `reply` (owned by the client from now on). */
static void
ctl_reply(struct master *m, struct ctl_client *c, char *reply, size_t len)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &c->src };

	if (reply == NULL)
		reply = ctl_error("internal error: cannot build the reply",
		    &len);
	if (reply == NULL) {
		ctl_drop(m, c);
		return;
	}
	c->reply = reply;
	c->reply_len = len;
	c->reply_off = 0;
	c->deadline = mono_ns() + CTL_TIMEOUT_NS;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->src.fd, &ev) == -1)
		ctl_drop(m, c);
}

static void
ctl_reply_error(struct master *m, struct ctl_client *c, const char *msg)
{
	size_t len = 0;
	char *reply = ctl_error(msg, &len);

	ctl_reply(m, c, reply, len);
}

static void
ctl_request(struct master *m, struct ctl_client *c)
{
	const struct ctl_command *cmd;
	char msg[CTL_LINE_MAX + 256], echo[65], *line = c->line, *reply, *arg;
	size_t n, len = 0;

	/* Tolerate a \r\n line end and surrounding blanks. */
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		line[--n] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0') {
		ctl_reply_error(m, c, "empty request");
		return;
	}
	/* "restart uplink/1": the command, then its argument. */
	arg = line + strcspn(line, " \t");
	if (*arg != '\0') {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	if ((cmd = ctl_find(line)) == NULL) {
		/* The echo must be valid in JSON whatever the client sent. */
		for (n = 0; n < 64 && line[n] != '\0'; n++)
			echo[n] = line[n] >= 0x20 && line[n] < 0x7f ?
			    line[n] : '?';
		echo[n] = '\0';
		n = (size_t)snprintf(msg, sizeof(msg),
		    "unknown command \"%s\" (commands:", echo);
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]);
		    i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s",
			    i == 0 ? "" : ",", commands[i].name);
		snprintf(msg + n, sizeof(msg) - n, ")");
		ctl_reply_error(m, c, msg);
		return;
	}
	log_debug("control: %s%s%s", cmd->name, *arg != '\0' ? " " : "", arg);
	if ((*arg != '\0') != (cmd->fn_arg != NULL)) {
		snprintf(msg, sizeof(msg), cmd->fn_arg != NULL ?
		    "%s: needs an argument (%s)" : "%s takes no argument%s",
		    cmd->name, cmd->fn_arg != NULL ? cmd->help : "");
		ctl_reply_error(m, c, msg);
		return;
	}
	if (cmd->fn_arg != NULL) {
		reply = cmd->fn_arg(m, arg, &len);
	} else if (cmd->fn == NULL) {	/* reload, answered later */
		ctl_reload(m, c);
		return;
	} else
		reply = cmd->fn(m, &len);
	ctl_reply(m, c, reply, len);
}

static void
ctl_read(struct master *m, struct ctl_client *c)
{
	char *nl;
	ssize_t r;

	for (;;) {
		r = read(c->src.fd, c->line + c->len, CTL_LINE_MAX + 1 - c->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0)
			break;		/* EOF or error */
		c->len += (size_t)r;
		c->line[c->len < CTL_LINE_MAX ? c->len : CTL_LINE_MAX] = '\0';
		if ((nl = memchr(c->line, '\n', c->len)) != NULL) {
			*nl = '\0';
			if (memchr(c->line, '\0', (size_t)(nl - c->line)) !=
			    NULL) {
				ctl_reply_error(m, c, "malformed request: "
				    "NUL byte");
				return;
			}
			ctl_request(m, c);
			return;
		}
		if (c->len > CTL_LINE_MAX) {
			ctl_reply_error(m, c, "request line longer than "
			    "4096 bytes");
			return;
		}
	}
	/* The client closed its side: a last line without \n still counts. */
	if (r == 0 && c->len > 0) {
		c->line[c->len] = '\0';
		ctl_request(m, c);
		return;
	}
	ctl_drop(m, c);
}

static void
ctl_write(struct master *m, struct ctl_client *c)
{
	ssize_t w;

	while (c->reply_off < c->reply_len) {
		w = send(c->src.fd, c->reply + c->reply_off,
		    c->reply_len - c->reply_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			ctl_drop(m, c);
			return;
		}
		c->reply_off += (size_t)w;
	}
	shutdown(c->src.fd, SHUT_WR);
	ctl_drop(m, c);
}

static void
ctl_on_client(struct master *m, struct ev_src *src, uint32_t events)
{
	struct ctl_client *c = (struct ctl_client *)src;

	if (c->dead)
		return;
	if (c->awaiting != NULL || c->queued)
		ctl_drop(m, c);		/* it hung up before the outcome */
	else if (c->reply != NULL)
		ctl_write(m, c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		ctl_read(m, c);
}

static void
ctl_on_accept(struct master *m, struct ev_src *src, uint32_t events)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client *c;
	int fd;

	(void)src;
	(void)events;
	for (;;) {
		fd = accept4(srv->src.fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("control: accept");
			return;
		}
		if (srv->nclients >= CTL_MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			/* Refuse rather than queue: the next sweep frees. */
			close(fd);
			continue;
		}
		c->src.fd = fd;
		c->src.fn = ctl_on_client;
		c->deadline = mono_ns() + CTL_TIMEOUT_NS;
		if (master_watch(m, &c->src, EPOLLIN) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->clients;
		srv->clients = c;
		srv->nclients++;
	}
}

void
ctl_sweep(struct master *m, uint64_t now)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client **pp, *c;

	if (srv == NULL)
		return;
	for (pp = &srv->clients; (c = *pp) != NULL;) {
		if (!c->dead && now >= c->deadline) {
			if (c->awaiting != NULL || c->queued) {
				c->awaiting = NULL;
				c->queued = false;
				ctl_reply_error(m, c, "reload: not taken by "
				    "every worker within 90 s; see status");
				if (!c->dead)
					ctl_write(m, c);
			} else if (c->reply == NULL) {
				/* Silent client: tell it why, if it listens. */
				ctl_reply_error(m, c, "timeout: no complete "
				    "request line within 5 s");
				if (!c->dead)
					ctl_write(m, c);
			}
			ctl_drop(m, c);
		}
		if (c->dead) {
			*pp = c->next;
			free(c->reply);
			free(c);
			srv->nclients--;
		} else
			pp = &c->next;
	}
}

static int
ctl_fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "control socket %s: %s: %s", path, what,
	    strerror(errno));
	return -1;
}

int
ctl_open(struct master *m, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	const char *path = m->g.cfg->control.socket;
	struct group *gr;
	struct stat st;
	int fd, probe, rc, saved;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return ctl_fail(err, errlen, "calloc", path);
	srv->src.fd = -1;
	m->ctl = srv;
	m->ctl_owner = getpid();
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return ctl_fail(err, errlen, "path", path);
	}
	if ((errno = -mkdirs_for(path)) != 0)
		return ctl_fail(err, errlen, "mkdir", path);
	/*
	 * Only a socket file left by a dead instance is removed.  A live one
	 * is another ringfan's, and anything else at the path (a mistyped
	 * path naming a file, a directory, a symbolic link) is not ours.
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is "
			    "%s, not a socket; refusing to replace it", path,
			    file_kind(st.st_mode));
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (probe == -1)
			return ctl_fail(err, errlen, "socket", path);
		rc = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		saved = errno;
		close(probe);
		/* A full backlog (EAGAIN) is a listener too. */
		if (rc == 0 || saved == EAGAIN) {
			snprintf(err, errlen, "control socket %s: another "
			    "ringfan is listening on it", path);
			return -1;
		}
		errno = saved;
		if (errno != ECONNREFUSED)
			return ctl_fail(err, errlen, "connect", path);
		if (unlink(path) == -1 && errno != ENOENT)
			return ctl_fail(err, errlen, "unlink", path);
	} else if (errno != ENOENT)
		return ctl_fail(err, errlen, "lstat", path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return ctl_fail(err, errlen, "socket", path);
	srv->src.fd = fd;
	srv->src.fn = ctl_on_accept;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return ctl_fail(err, errlen, "bind", path);
	strlcpy(srv->path, path, sizeof(srv->path));
	if (chmod(path, m->g.cfg->control.mode) == -1)
		return ctl_fail(err, errlen, "chmod", path);
	if (m->g.cfg->control.group != NULL) {
		if ((gr = getgrnam(m->g.cfg->control.group)) == NULL) {
			snprintf(err, errlen, "control socket %s: group \"%s\" "
			    "not found", path, m->g.cfg->control.group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
			return ctl_fail(err, errlen, "chown", path);
	}
	if (listen(fd, 512) == -1)
		return ctl_fail(err, errlen, "listen", path);
	if (master_watch(m, &srv->src, EPOLLIN) == -1)
		return ctl_fail(err, errlen, "epoll_ctl", path);
	log_info("control socket %s", path);
	return 0;
}

void
ctl_close(struct master *m)
{
	struct ctl_server *srv = m->ctl;
	struct ctl_client *c, *next;

	if (srv == NULL)
		return;
	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		/* A reply made in the last turn of the loop: one try. */
		if (!c->dead && c->reply != NULL && getpid() == m->ctl_owner)
			(void)send(c->src.fd, c->reply + c->reply_off,
			    c->reply_len - c->reply_off, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
		if (!c->dead)
			close(c->src.fd);
		free(c->reply);
		free(c);
	}
	if (srv->src.fd != -1) {
		close(srv->src.fd);
		/* Only the master that made it removes it, not a worker. */
		if (srv->path[0] != '\0' && getpid() == m->ctl_owner)
			unlink(srv->path);
	}
	free(srv);
	m->ctl = NULL;
}

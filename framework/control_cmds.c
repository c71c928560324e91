/*
 * The control commands: one table of {name, handler, help, needs_arg} that
 * also makes the help reply and the unknown-command error, the dispatch of
 * a request line to its handler, and the replies a handler makes.  Nothing
 * here knows a socket or the master: a handler lives beside the state it reads
 * (see control.h) and gets the master's context pointer as it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "util.h"

const struct ctl_command ctl_commands[] = {
	{ "status", ctl_cmd_status, "the daemon and each capture's health",
	    false },
	{ "stats", ctl_cmd_stats, "counters of every worker and capture",
	    false },
	{ "workers", ctl_cmd_workers, "the process table", false },
	{ "plugins", ctl_cmd_plugins, "the plugins of each pipeline", false },
	{ "reload", ctl_cmd_reload, "re-read the configuration file; answers "
	    "once every worker runs it or all are back on the previous one",
	    false },
	{ "restart", ctl_cmd_restart, "restart CAPTURE[/WORKER]: failed or "
	    "waiting workers start at once, running ones restart one at a "
	    "time", true },
	{ "stop", ctl_cmd_stop, "stop gracefully", false },
	{ "metrics", ctl_cmd_metrics, "everything, in Prometheus text format",
	    false },
	{ "help", ctl_cmd_help, "this list", false },
};

const size_t ctl_ncommands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

static void
ctl_reply_clear(struct ctl_req *rq)
{
	free(rq->reply);
	rq->reply = NULL;
	rq->reply_len = 0;
	rq->wait = 0;
}

void
ctl_reply_text(struct ctl_req *rq, char *text, size_t len)
{
	ctl_reply_clear(rq);
	rq->reply = text;
	rq->reply_len = len;
}

void
ctl_reply_json(struct ctl_req *rq, json_t *doc)
{
	char *text, *out;
	size_t n;

	ctl_reply_clear(rq);
	if (doc == NULL)
		return;
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15));
	json_decref(doc);
	if (text == NULL)
		return;
	n = strlen(text);
	if ((out = realloc(text, n + 2)) == NULL) {
		free(text);
		return;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	ctl_reply_text(rq, out, n + 1);
}

void
ctl_reply_error(struct ctl_req *rq, const char *fmt, ...)
{
	char msg[CTL_LINE_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* It may quote a request, a plugin or a cut: JSON takes UTF-8. */
	utf8_scrub(msg);
	ctl_reply_json(rq, json_pack("{s:s}", "error", msg));
}

void
ctl_defer(struct ctl_req *rq, int wait, const char *note,
    uint64_t timeout_ns, const char *timeout_msg)
{
	ctl_reply_clear(rq);
	rq->wait = wait;
	rq->note = note;
	rq->timeout_ns = timeout_ns;
	rq->timeout_msg = timeout_msg;
}

void
ctl_cmd_help(void *ctx, struct ctl_req *rq, const char *arg)
{
	json_t *arr = json_array();

	(void)ctx;
	(void)arg;
	for (size_t i = 0; i < ctl_ncommands; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "name",
		    ctl_commands[i].name, "help", ctl_commands[i].help));
	ctl_reply_json(rq, json_pack("{s:o}", "commands", arr));
}

static const struct ctl_command *
ctl_find(const char *name)
{
	for (size_t i = 0; i < ctl_ncommands; i++)
		if (strcmp(ctl_commands[i].name, name) == 0)
			return &ctl_commands[i];
	return NULL;
}

/* The unknown-command error: it echoes the line's start and lists all. */
static void
ctl_unknown(struct ctl_req *rq, const char *line)
{
	char echo[65], msg[512];
	size_t n;

	/* The echo must be valid in JSON whatever the client sent. */
	for (n = 0; n < sizeof(echo) - 1 && line[n] != '\0'; n++)
		echo[n] = line[n] >= 0x20 && line[n] < 0x7f ? line[n] : '?';
	echo[n] = '\0';
	n = (size_t)snprintf(msg, sizeof(msg),
	    "unknown command \"%s\" (commands:", echo);
	for (size_t i = 0; i < ctl_ncommands && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s",
		    i == 0 ? "" : ",", ctl_commands[i].name);
	if (n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ")");
	ctl_reply_error(rq, "%s", msg);
}

void
ctl_dispatch(void *ctx, struct ctl_req *rq, char *line)
{
	const struct ctl_command *cmd;
	char *arg, shown[CTL_LINE_MAX + 1];
	size_t n;

	/* Tolerate a \r\n line end and surrounding blanks. */
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		line[--n] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0') {
		ctl_reply_error(rq, "empty request");
		return;
	}
	/* "restart uplink/1": the command, then its argument. */
	arg = line + strcspn(line, " \t");
	if (*arg != '\0') {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	if ((cmd = ctl_find(line)) == NULL) {
		ctl_unknown(rq, line);
		return;
	}
	/* The client's text, one line of the log whatever it holds. */
	strlcpy(shown, arg, sizeof(shown));
	line_scrub(shown);
	log_debug("control: %s%s%s", cmd->name, *arg != '\0' ? " " : "",
	    shown);
	if ((*arg != '\0') != cmd->needs_arg) {
		if (cmd->needs_arg)
			ctl_reply_error(rq, "%s: needs an argument (%s)",
			    cmd->name, cmd->help);
		else
			ctl_reply_error(rq, "%s takes no argument", cmd->name);
		return;
	}
	cmd->fn(ctx, rq, arg);
}

/*
 * The metrics command: the stats document as Prometheus text, family by
 * family from one table of metrics.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "linkwatch.h"
#include "master_int.h"

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
	METRIC_PLUGIN_ERROR,	/* field: {plugin: text}; 1 if listed */
	METRIC_CAPTURE_STATE,	/* field: each capture's state; a sample a
				   state, 1 for the current one */
	METRIC_FANOUT		/* field: a number of each capture's fanout */
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
	{ "ringfan_capture_state", METRIC_CAPTURE_STATE, "state", "gauge",
	    "1 for the capture's current state, 0 for the others." },
	{ "ringfan_fanout_other_sockets", METRIC_FANOUT, "others", "gauge",
	    "Packet sockets of other programs in the capture's fanout group, "
	    "which take a share of its frames." },
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
	case METRIC_CAPTURE_STATE:
	case METRIC_FANOUT:
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

/* The start of a sample of capture cap: `NAME{capture="CAP"`. */
static void
metric_capture_label(FILE *f, const struct metric *mt, const json_t *cap)
{
	fprintf(f, "%s{capture=\"", mt->name);
	metric_escape(f, json_string_value(json_object_get(cap, "name")));
	fputc('"', f);
}

/*
 * One sample per capture and state, as a state set is written: an alert
 * on `ringfan_capture_state{state="waiting"} == 1` needs every state there.
 */
static void
metric_capture_states(FILE *f, const struct metric *mt, const json_t *doc)
{
	const json_t *cap;
	const char *now;
	size_t ci;

	json_array_foreach(json_object_get(doc, "captures"), ci, cap) {
		now = json_string_value(json_object_get(cap, mt->field));
		for (size_t k = 0; linkwatch_states[k] != NULL; k++) {
			metric_capture_label(f, mt, cap);
			fprintf(f, ",state=\"%s\"} %d\n", linkwatch_states[k],
			    now != NULL && strcmp(now, linkwatch_states[k]) == 0);
		}
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
	if (mt->kind == METRIC_CAPTURE_STATE) {
		metric_capture_states(f, mt, doc);
		return;
	}
	if (mt->kind == METRIC_FANOUT) {
		json_array_foreach(json_object_get(doc, "captures"), ci, cap) {
			metric_capture_label(f, mt, cap);
			fprintf(f, "} %lld\n", (long long)json_integer_value(
			    json_object_get(json_object_get(cap, "fanout"),
			    mt->field)));
		}
		return;
	}
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

/* The state set follows status, degraded included, which stats leaves out. */
static void
metric_status_states(const struct master *m, json_t *doc)
{
	json_t *cap;
	unsigned running;
	size_t c;

	json_array_foreach(json_object_get(doc, "captures"), c, cap)
		json_object_set_new(cap, "state", json_string(
		    master_capture_state(m, (unsigned)c, &running)));
}

void
ctl_cmd_metrics(void *ctx, struct ctl_req *rq, const char *arg)
{
	json_t *doc = master_stats_json(ctx);
	const struct stats_field *sf;
	struct metric fm;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)arg;
	if (doc == NULL || (f = open_memstream(&buf, &len)) == NULL) {
		json_decref(doc);
		ctl_reply_text(rq, NULL, 0);
		return;
	}
	metric_status_states(ctx, doc);
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
		buf = NULL;
	}
	ctl_reply_text(rq, buf, len);
}

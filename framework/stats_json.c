/*
 * The documents of the statistics: `stats` (every worker's counters from
 * the shared memory), and the control commands that read the master's
 * generation beside it: status, workers and plugins; and the summary of
 * the workers that SIGUSR1 and the stop log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "ringfan_build.h"
#include "stats.h"
#include "util.h"

/*
 * Seconds to the millisecond: finer is noise of the clock reads, and a
 * value of three decimals prints as such (JSON_REAL_PRECISION(15)).
 */
static json_t *
stats_seconds_json(double s)
{
	return json_real(s > 0 ? (double)(uint64_t)(s * 1e3 + 0.5) / 1e3 : 0);
}

json_t *
stats_text_json(const char *text)
{
	char *copy;
	json_t *j;

	if ((j = json_string(text)) != NULL || (copy = strdup(text)) == NULL)
		return j;
	utf8_scrub(copy);
	j = json_string(copy);
	free(copy);
	return j;
}

/*
 * A count or level as a JSON integer: jansson's are signed 64-bit, so one
 * past INT64_MAX (a gauge a plugin took below 0, say) shows as INT64_MAX,
 * not as a negative number.
 */
static json_t *
stats_uint_json(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Add v to counter `name` of plugin object obj (creating it). */
static void
stats_counter_add(json_t *obj, const char *name, uint64_t v)
{
	json_t *cur = json_object_get(obj, name);
	uint64_t was = cur != NULL ? (uint64_t)json_integer_value(cur) : 0;

	json_object_set_new(obj, name, stats_uint_json(v > UINT64_MAX - was ?
	    UINT64_MAX : v + was));
}

/*
 * The counters (or gauges) of every plugin of w's pipeline, whose names
 * are ids (stats_counter's, n stages): those of a step that now runs
 * another plugin, or of a step removed, are not shown, nor a counter
 * carried whose name the worker's live slots (live) keep as a gauge.
 */
static json_t *
stats_counters_json(const struct stats_worker *w,
    const struct stats_worker *live, const char *const *ids, size_t n,
    enum stats_kind kind)
{
	char plugin[STATS_PLUGIN_NAME], own[STATS_PLUGIN_NAME];
	char name[STATS_COUNTER_NAME];
	json_t *plugins;
	uint32_t used;
	uint64_t v;
	size_t k;

	plugins = json_object();
	/* Every plugin of the pipeline is listed, with counters or not. */
	for (k = 0; k < n; k++)
		json_object_set_new(plugins, ids[k], json_object());
	for (size_t i = 0; i < STATS_MAX_COUNTERS; i++) {
		used = stats_counter_read(&w->counters[i], plugin, own, name,
		    &v);
		if (used == 0)
			break;
		if (used != (uint32_t)kind ||
		    (k = stats_stage_of(ids, n, plugin, own)) == n)
			continue;
		stats_counter_add(json_object_get(plugins, ids[k]), name, v);
	}
	for (uint32_t j = 0, nc = stats_carry_count(&w->carry);
	    kind == STATS_COUNTER && j < nc; j++) {
		stats_text(plugin, w->carry.counters[j].plugin,
		    sizeof(plugin));
		stats_text(own, w->carry.counters[j].own, sizeof(own));
		stats_text(name, w->carry.counters[j].name, sizeof(name));
		if ((k = stats_stage_of(ids, n, plugin, own)) < n &&
		    !stats_carried_gauge(live, plugin, own, name))
			stats_counter_add(json_object_get(plugins, ids[k]),
			    name, w->carry.counters[j].value);
	}
	return plugins;
}

json_t *
stats_errors_json(const struct stats_worker *w, const char *const *names,
    size_t nplugins)
{
	json_t *errors = json_object();
	char text[STATS_STATUS_MAX];

	for (size_t k = 0; k < nplugins && k < STATS_MAX_STAGES; k++)
		if (stats_status_get(w, k, names[k], text, sizeof(text)))
			json_object_set_new(errors, names[k],
			    stats_text_json(text));
	return errors;
}

/*
 * The counters of worker w into its object jw (its counts from `counts`:
 * w itself, or what stats_merged() made of it), adding the summed ones to
 * sum.  The fields that have no capture total come first, as the document
 * has always had them (docs/control.md).
 */
static void
stats_fields_json(json_t *jw, const struct stats_worker *w,
    const struct stats_worker *counts, uint64_t sum[STATS_NFIELDS])
{
	const struct stats_field *f;
	uint64_t v;

	for (int summed = 0; summed <= 1; summed++)
		for (size_t k = 0; k < STATS_NFIELDS; k++) {
			f = &stats_fields[k];
			if (f->summed != summed)
				continue;
			v = stats_field_value(f->level ? w : counts, f);
			if (f->summed)	/* held at the top, not wrapped */
				sum[k] = v > UINT64_MAX - sum[k] ? UINT64_MAX :
				    sum[k] + v;
			json_object_set_new(jw, f->name, stats_uint_json(v));
		}
}

/*
 * What worker gw shows: itself, or during a capture reload itself with the
 * retiring workers it takes over from, made in *merged.
 */
static const struct stats_worker *
stats_counts(const struct stats_view *view, unsigned gw,
    struct stats_worker **merged)
{
	const struct stats_worker *w = &view->shm->workers[gw];

	if (view->nold == 0)
		return w;
	/* Every slot, one that takes over from none too. */
	if (*merged != NULL || (*merged = stats_worker_new()) != NULL) {
		stats_merged(*merged, w, gw, view->own, view->old,
		    view->old_to, view->nold,
		    view->kp_floor != NULL ? view->kp_floor[gw] : 0);
		w = *merged;
	}
	return w;
}

json_t *
stats_json(const struct stats_view *view)
{
	const struct cfg *cfg = view->cfg;
	const struct cfg_capture *cap;
	const struct stats_worker *w, *counts;
	struct stats_worker *merged = NULL;
	json_t *doc, *caps, *jc, *jw, *workers, *totals, *fanout;
	uint64_t sum[STATS_NFIELDS];
	unsigned gw, gw0 = 0;

	doc = json_object();
	json_object_set_new(doc, "version", json_string(RINGFAN_VERSION));
	json_object_set_new(doc, "uptime_s",
	    stats_seconds_json(view->uptime_s));
	caps = json_array();
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		cap = &cfg->captures[c];
		gw = view->first_slot != NULL ? view->first_slot[c] : gw0;
		gw0 += cap->workers;
		memset(sum, 0, sizeof(sum));
		workers = json_array();
		for (unsigned i = 0; i < cap->workers; i++, gw++) {
			w = &view->shm->workers[gw];
			counts = stats_counts(view, gw, &merged);
			jw = json_object();
			json_object_set_new(jw, "id", json_integer(i));
			json_object_set_new(jw, "pid",
			    json_integer(STATS_LOAD(&w->pid)));
			json_object_set_new(jw, "cpu",
			    json_integer(STATS_LOAD(&w->cpu)));
			json_object_set_new(jw, "state", json_string(
			    stats_state_name(STATS_LOAD(&w->state))));
			stats_fields_json(jw, w, counts, sum);
			json_object_set_new(jw, "plugins",
			    stats_counters_json(counts, w,
			    view->plugin_names[c], cap->npipeline,
			    STATS_COUNTER));
			json_object_set_new(jw, "gauges",
			    stats_counters_json(w, w, view->plugin_names[c],
			    cap->npipeline, STATS_GAUGE));
			json_object_set_new(jw, "errors",
			    stats_errors_json(w, view->plugin_names[c],
			    cap->npipeline));
			json_array_append_new(workers, jw);
		}
		totals = json_object();
		for (size_t k = 0; k < STATS_NFIELDS; k++)
			if (stats_fields[k].summed)
				json_object_set_new(totals,
				    stats_fields[k].name,
				    stats_uint_json(sum[k]));
		jc = json_object();
		json_object_set_new(jc, "name", json_string(cap->name));
		json_object_set_new(jc, "interface",
		    json_string(cap->interface));
		if (view->state != NULL)
			json_object_set_new(jc, "state", json_string(
			    view->state(view->state_arg, c)));
		fanout = json_pack("{s:s,s:i}",
		    "mode", cfg_fanout_mode_name(cap->fanout.mode),
		    "group", (int)(view->groups != NULL ? view->groups[c] :
		    cap->fanout.group));
		if (view->others != NULL)
			json_object_set_new(fanout, "others",
			    json_integer(view->others[c]));
		json_object_set_new(jc, "fanout", fanout);
		json_object_set_new(jc, "totals", totals);
		json_object_set_new(jc, "workers", workers);
		json_array_append_new(caps, jc);
	}
	json_object_set_new(doc, "captures", caps);
	free(merged);
	return doc;
}

/*
 * The view of m's current generation; during a capture reload with the
 * retiring one's workers, in *old and *old_to, which the caller frees.
 */
static void
master_stats_view(struct master *m, struct stats_view *view,
    const struct stats_worker ***old, unsigned **old_to)
{
	*view = (struct stats_view){
		.cfg = m->g.cfg,
		.shm = m->g.shm,
		.plugin_names = (const char *const *const *)m->g.plugin_names,
		.first_slot = m->g.first_slot,
		.groups = m->g.groups,
		.others = m->g.others,
		.state = linkwatch_capture_state,
		.state_arg = m,
		.uptime_s = (double)(mono_ns() - m->started_ns) / 1e9,
	};
	*old = NULL;
	*old_to = NULL;
	/* A capture reload: the retiring workers' counts are not folded yet. */
	if (m->old.cfg == NULL || m->old.nslots == 0 ||
	    (*old = calloc(m->old.nslots, sizeof(**old))) == NULL ||
	    (*old_to = calloc(m->old.nslots, sizeof(**old_to))) == NULL)
		return;
	for (unsigned i = 0; i < m->old.nslots; i++) {
		(*old)[i] = m->old.slots[i].wk.sw;
		(*old_to)[i] = master_retire_to(m, &m->old.slots[i]);
	}
	view->old = *old;
	view->old_to = *old_to;
	view->nold = m->old.nslots;
	/* Until the cut, the swap may be given up: the old alone. */
	view->own = m->swap != SWAP_STARTING;
	view->kp_floor = m->kp_floor;
}

json_t *
master_stats_json(struct master *m)
{
	struct stats_view view;
	const struct stats_worker **old;
	unsigned *old_to;
	json_t *doc;

	master_read_kernel(m);
	master_stats_view(m, &view, &old, &old_to);
	doc = stats_json(&view);
	free(old);
	free(old_to);
	return doc;
}

/*
 * One line a worker, its counts as `stats` shows them: during a capture
 * reload with those of the retiring workers it takes over from (the
 * kernel's counters read before, by the caller).
 */
void
master_log_summary(struct master *m, bool asked)
{
	struct stats_view view;
	const struct stats_worker **old, *sw, *counts;
	const struct stats_field *f;
	struct stats_worker *merged = NULL;
	unsigned *old_to;
	uint64_t v, whole;
	char name[64], line[512];
	size_t n;

	master_stats_view(m, &view, &old, &old_to);
	for (unsigned i = 0; i < m->g.nslots; i++) {
		sw = m->g.slots[i].wk.sw;
		counts = stats_counts(&view, i, &merged);
		n = 0;
		line[0] = '\0';
		/* The fields of stats.c that have a label, in its order. */
		for (size_t k = 0; k < STATS_NFIELDS && n < sizeof(line); k++) {
			f = &stats_fields[k];
			if (f->label == NULL)
				continue;
			v = stats_field_value(f->level ? sw : counts, f);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    ", %s %llu", f->label, (unsigned long long)v);
			if (f->share_of == NULL || n >= sizeof(line))
				continue;
			whole = stats_value(counts, f->share_of);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " (%.2f%%)", whole > 0 ?
			    100.0 * (double)v / (double)whole : 0.0);
		}
		master_slot_name(&m->g.slots[i], name, sizeof(name));
		if (asked)
			log_asked("%s: %s%s", name,
			    stats_state_name(STATS_LOAD(&sw->state)), line);
		else
			log_info("%s: %s%s", name,
			    stats_state_name(STATS_LOAD(&sw->state)), line);
	}
	free(merged);
	free(old);
	free(old_to);
}

void
ctl_cmd_stats(void *ctx, struct ctl_req *rq, const char *arg)
{
	(void)arg;
	ctl_reply_json(rq, master_stats_json(ctx));
}

void
ctl_cmd_status(void *ctx, struct ctl_req *rq, const char *arg)
{
	struct master *m = ctx;
	const struct cfg_capture *cap;
	json_t *caps;
	unsigned running;
	const char *state;

	(void)arg;
	caps = json_array();
	for (size_t c = 0; c < m->g.cfg->ncaptures; c++) {
		cap = &m->g.cfg->captures[c];
		state = master_capture_state(m, (unsigned)c, &running);
		json_array_append_new(caps, json_pack(
		    "{s:s,s:s,s:s,s:i,s:i,s:{s:s,s:i,s:i}}",
		    "name", cap->name, "interface", cap->interface,
		    "state", state, "workers", (int)cap->workers,
		    "running", (int)running, "fanout",
		    "mode", cfg_fanout_mode_name(cap->fanout.mode),
		    "group", (int)m->g.groups[c],
		    "others", (int)m->g.others[c]));
	}
	ctl_reply_json(rq, json_pack("{s:s,s:i,s:o,s:o,s:s,s:o,s:o,s:I,s:o}",
	    "version", RINGFAN_VERSION, "pid", (int)getpid(),
	    "uptime_s", stats_seconds_json((double)(mono_ns() -
	    m->started_ns) / 1e9),
	    "config", stats_text_json(m->g.cfg->path),
	    "state", m->stopping ? "stopping" : "running",
	    "reloads", stats_uint_json(m->reloads),
	    "last_reload_error", m->last_reload_error[0] != '\0' ?
	    stats_text_json(m->last_reload_error) : json_null(),
	    "log_dropped", (json_int_t)log_dropped(),
	    "captures", caps));
}

void
ctl_cmd_workers(void *ctx, struct ctl_req *rq, const char *arg)
{
	struct master *m = ctx;
	const struct slot *s;
	const struct stats_worker *sw, *counts, **old;
	struct stats_worker *merged = NULL;
	struct stats_view view;
	unsigned *old_to;
	json_t *arr = json_array();

	(void)arg;
	master_stats_view(m, &view, &old, &old_to);
	for (unsigned i = 0; i < m->g.nslots; i++) {
		s = &m->g.slots[i];
		sw = s->wk.sw;
		counts = stats_counts(&view, i, &merged);
		json_array_append_new(arr, json_pack(
		    "{s:s,s:i,s:i,s:i,s:s,s:o,s:o,s:o,s:o}",
		    "capture", m->g.cfg->captures[s->capture].name,
		    "id", (int)s->wk.id, "pid", (int)STATS_LOAD(&sw->pid),
		    "cpu", (int)STATS_LOAD(&sw->cpu),
		    "state", stats_state_name(STATS_LOAD(&sw->state)),
		    "restarts", stats_uint_json(stats_value(counts,
		    "restarts")),
		    "stalls", stats_uint_json(stats_value(counts, "stalls")),
		    "last_exit", s->last_exit[0] != '\0' ?
		    stats_text_json(s->last_exit) : json_null(),
		    "errors", stats_errors_json(sw,
		    (const char *const *)m->g.plugin_names[s->capture],
		    m->g.cfg->captures[s->capture].npipeline)));
	}
	free(merged);
	free(old);
	free(old_to);
	ctl_reply_json(rq, json_pack("{s:o}", "workers", arr));
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
		if (s->capture == c && stats_status_get(s->wk.sw, k, in->step,
		    text, sizeof(text)))
			json_array_append_new(arr, json_pack("{s:i,s:o}",
			    "worker", (int)s->wk.id, "error",
			    stats_text_json(text)));
	}
	return arr;
}

void
ctl_cmd_plugins(void *ctx, struct ctl_req *rq, const char *arg)
{
	struct master *m = ctx;
	const struct plugin_info *in;
	json_t *caps = json_array(), *arr;
	char abi[16];

	(void)arg;
	for (size_t c = 0; c < m->g.cfg->ncaptures; c++) {
		arr = json_array();
		for (size_t k = 0; k < m->g.cfg->captures[c].npipeline; k++) {
			in = &m->g.infos[c][k];
			snprintf(abi, sizeof(abi), "%u.%u", in->abi >> 16,
			    in->abi & 0xffff);
			json_array_append_new(arr, json_pack(
			    "{s:s,s:s,s:o,s:o,s:o,s:s,s:I,s:o,s:o}",
			    "name", in->name, "step", in->step,
			    "version", stats_text_json(in->version),
			    "description", stats_text_json(in->description),
			    "path", stats_text_json(in->path),
			    "abi", abi, "memory", (json_int_t)in->memory_size,
			    "tick_ns", stats_uint_json(in->tick_ns != 0 ?
			    in->tick_ns : m->g.cfg->stats_interval_ns),
			    "errors", plugin_errors(m, c, k)));
		}
		json_array_append_new(caps, json_pack("{s:s,s:o}", "name",
		    m->g.cfg->captures[c].name, "plugins", arr));
	}
	ctl_reply_json(rq, json_pack("{s:o}", "captures", caps));
}

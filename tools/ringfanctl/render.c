/*
 * Tables for people, from the documents of docs/control.md.  Counters are
 * printed in full, never abbreviated to k or M, so that a script reading a
 * table gets the same number as one reading --json.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render.h"

/*
 * Cells are appended row by row; the table is printed once every width is
 * known.  A failed allocation is remembered and reported by table_print,
 * so that the renderers need not check every cell.
 */
struct table {
	size_t		  ncols;
	const char	 *align; /* 'l'/'r' per column, last repeats */
	char		**cells;
	size_t		  ncells;
	size_t		  cap;
	int		  failed;
};

static void	table_add(struct table *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Text in a cell may come from a plugin (its description, its error): a
 * control character in it would break the row or, worse, drive the
 * terminal.  C0 controls, DEL and the C1 controls (U+0080 to U+009F, two
 * bytes in UTF-8) become '?'.  control_len: the bytes of the one at p,
 * or 0.
 */
static size_t
control_len(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	return *p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f ? 2 : 0;
}

static void
cell_sanitize(char *s)
{
	unsigned char *r, *w;
	size_t n;

	for (r = w = (unsigned char *)s; *r != '\0';) {
		if ((n = control_len(r)) > 0) {
			*w++ = '?';
			r += n;
		} else
			*w++ = *r++;
	}
	*w = '\0';
}

static void
table_init(struct table *t, size_t ncols, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->align = align;
}

/*
 * Starts a table and adds its header row, the column names separated by
 * single spaces in one string, which also gives the number of columns.
 */
static void
table_start(struct table *t, const char *align, const char *header)
{
	const char *p;
	size_t n, len;

	n = 1;
	for (p = header; *p != '\0'; p++)
		if (*p == ' ')
			n++;
	table_init(t, n, align);
	for (p = header; *p != '\0'; p += len + (p[len] == ' ')) {
		len = strcspn(p, " ");
		table_add(t, "%.*s", (int)len, p);
	}
}

static void
table_add(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char **cells, *s;
	size_t cap;
	int rc;

	if (t->failed)
		return;
	if (t->ncells == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		if ((cells = realloc(t->cells, cap * sizeof(*cells))) == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		t->failed = 1;
		return;
	}
	cell_sanitize(s);
	t->cells[t->ncells++] = s;
}

/* Columns are counted in characters, so a UTF-8 description stays aligned. */
static size_t
text_width(const char *s)
{
	size_t n;

	for (n = 0; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
right_aligned(const struct table *t, size_t col)
{
	size_t n;

	n = strlen(t->align);
	return t->align[col < n ? col : n - 1] == 'r';
}

static int
table_print(struct table *t, FILE *fp)
{
	size_t *width, i, col, w, pad;

	if (t->failed)
		return -1;
	if ((width = calloc(t->ncols, sizeof(*width))) == NULL)
		return -1;
	for (i = 0; i < t->ncells; i++) {
		w = text_width(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (i = 0; i < t->ncells; i++) {
		col = i % t->ncols;
		pad = width[col] - text_width(t->cells[i]);
		if (col > 0)
			fputs("  ", fp);
		if (right_aligned(t, col))
			fprintf(fp, "%*s%s", (int)pad, "", t->cells[i]);
		else if (col + 1 < t->ncols)
			fprintf(fp, "%s%*s", t->cells[i], (int)pad, "");
		else
			fputs(t->cells[i], fp);
		if (col + 1 == t->ncols || i + 1 == t->ncells)
			fputc('\n', fp);
	}
	free(width);
	return 0;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Prints and frees the table; -1 if it could not be built. */
static int
table_flush(struct table *t, FILE *fp)
{
	int rc;

	rc = table_print(t, fp);
	table_free(t);
	return rc;
}

/*
 * A table that follows another, after a blank line, and only when it has
 * rows: without anything to report a reply looks as it did before the
 * table existed, which keeps scripts that read the first table working.
 */
static int
table_flush_section(struct table *t, FILE *fp)
{
	if (!t->failed && t->ncells <= t->ncols) {
		table_free(t);
		return 0;
	}
	fputc('\n', fp);
	return table_flush(t, fp);
}

/* A table and the section that follows it; both are freed. */
static int
tables_flush(struct table *t, struct table *section, FILE *fp)
{
	if (table_flush(t, fp) != 0) {
		table_free(section);
		return -1;
	}
	return table_flush_section(section, fp);
}

/*
 * The text of one value: absent and null are "-", so that a field this
 * client does not know yet, or one the daemon has no value for, still
 * leaves the columns intact.
 */
static void
cell(struct table *t, const json_t *v)
{
	double d;

	if (json_is_string(v))
		table_add(t, "%s", json_string_value(v));
	else if (json_is_integer(v))
		table_add(t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v)) {
		d = json_real_value(v);
		if (d > -9e18 && d < 9e18 && d == (double)(long long)d)
			table_add(t, "%lld", (long long)d);
		else
			table_add(t, "%g", d);
	} else if (json_is_true(v))
		table_add(t, "yes");
	else if (json_is_false(v))
		table_add(t, "no");
	else
		table_add(t, "-");
}

static const char *
str(const json_t *obj, const char *key)
{
	const char *s;

	s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : "-";
}

/*
 * str() for a line of text: its control characters as '?'
 * (cell_sanitize), a copy in one of TEXT_RING buffers that later calls
 * reuse, enough for one line.  Never kept, never compared: str() is.
 */
#define TEXT_RING	8
static const char *
text(const json_t *obj, const char *key)
{
	static char ring[TEXT_RING][4096];
	static unsigned next;
	char *out = ring[next++ % TEXT_RING];

	snprintf(out, sizeof(ring[0]), "%s", str(obj, key));
	cell_sanitize(out);
	return out;
}

int
render_put(FILE *fp, const char *s)
{
	size_t n;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
		if ((n = control_len(p)) > 0) {
			fputc('?', fp);
			p += n;
		} else
			fputc(*p++, fp);
	}
	return ferror(fp) ? -1 : 0;
}

int
render_reply(FILE *err, const char *from, const char *buf, size_t len,
    json_t **docp)
{
	json_error_t error;
	json_t *doc, *e;
	int rc;

	*docp = NULL;
	if ((doc = json_loadb(buf, len, 0, &error)) == NULL) {
		/* jansson quotes the bytes it stopped at, whatever they are. */
		fprintf(err, "ringfanctl: malformed reply from %s: ", from);
		render_put(err, error.text);
		fputc('\n', err);
		return RENDER_MALFORMED;
	}
	if (!json_is_object(doc)) {
		fprintf(err, "ringfanctl: malformed reply from %s: not a "
		    "JSON object\n", from);
		json_decref(doc);
		return RENDER_MALFORMED;
	}
	if ((e = json_object_get(doc, "error")) != NULL) {
		if (json_is_string(e)) {
			fputs("ringfanctl: ", err);
			render_put(err, json_string_value(e));
			fputc('\n', err);
			rc = RENDER_REFUSED;
		} else {
			fprintf(err, "ringfanctl: malformed reply from %s: "
			    "error is not a string\n", from);
			rc = RENDER_MALFORMED;
		}
		json_decref(doc);
		return rc;
	}
	*docp = doc;
	return 0;
}

/*
 * a + b, held at the bounds of a long long: a sum of numbers from a
 * document, which may be any.
 */
static long long
sum_sat(long long a, long long b)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

/*
 * a + b in 64 unsigned bits, held at the top, b counted when above 0: the
 * sum of a value over captures or workers, as the TOTAL column makes it.
 */
static uint64_t
add_held(uint64_t a, long long b)
{
	if (b <= 0)
		return a;
	return (uint64_t)b > UINT64_MAX - a ? UINT64_MAX : a + (uint64_t)b;
}

static long long
num(const json_t *obj, const char *key)
{
	const json_t *v;

	v = json_object_get(obj, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	/* Converting a double out of range is undefined: those count as 0. */
	if (json_is_real(v) && json_real_value(v) > -9e18 &&
	    json_real_value(v) < 9e18)
		return (long long)json_real_value(v);
	return 0;
}

/* Kernel drops as a share of what the kernel received, "0.00" on no traffic. */
static void
drop_pct(struct table *t, long long drops, long long packets)
{
	table_add(t, "%.2f",
	    packets > 0 ? (double)drops * 100.0 / (double)packets : 0.0);
}

static void
format_uptime(char *buf, size_t len, double seconds)
{
	long long s;

	s = seconds > 0 && seconds < 1e15 ? (long long)seconds : 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", s / 86400,
		    s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600,
		    s / 60 % 60, s % 60);
}

static double
uptime(const json_t *doc)
{
	return json_number_value(json_object_get(doc, "uptime_s"));
}

static void
capture_line(FILE *fp, const json_t *cap)
{
	const json_t *fanout;
	long long others;

	fanout = json_object_get(cap, "fanout");
	others = num(fanout, "others");
	fprintf(fp, "capture %s on %s (fanout %s group ", text(cap, "name"),
	    text(cap, "interface"), text(fanout, "mode"));
	if (json_is_integer(json_object_get(fanout, "group")))
		fprintf(fp, "%lld", num(fanout, "group"));
	else
		fputs("-", fp);
	/* Other programs' sockets take a share of the group's frames. */
	if (others > 0)
		fprintf(fp, ", %lld socket%s of another program in it",
		    others, others == 1 ? "" : "s");
	fputc(')', fp);
	/* A capture that does not run in full says so: down, waiting... */
	if (json_is_string(json_object_get(cap, "state")) &&
	    strcmp(str(cap, "state"), "running") != 0)
		fprintf(fp, ": %s", text(cap, "state"));
	fputc('\n', fp);
}

static int
finish(FILE *fp, int rc)
{
	if (rc != 0 || ferror(fp))
		return -1;
	return 0;
}

int
render_status(FILE *fp, const json_t *doc)
{
	const json_t *caps, *cap, *fanout, *err;
	struct table t;
	char up[64];
	size_t i;

	format_uptime(up, sizeof(up), uptime(doc));
	fprintf(fp, "ringfan %s: %s, pid ", text(doc, "version"),
	    text(doc, "state"));
	if (json_is_integer(json_object_get(doc, "pid")))
		fprintf(fp, "%lld", num(doc, "pid"));
	else
		fputs("-", fp);
	fprintf(fp, ", up %s, config %s, reloads %lld\n", up,
	    text(doc, "config"), num(doc, "reloads"));
	err = json_object_get(doc, "last_reload_error");
	if (json_is_string(err))
		fprintf(fp, "last reload error: %s\n", text(doc,
		    "last_reload_error"));
	fputc('\n', fp);

	table_start(&t, "lllrrlrr",
	    "CAPTURE IFACE STATE WORKERS RUNNING MODE GROUP OTHERS");
	caps = json_object_get(doc, "captures");
	for (i = 0; i < json_array_size(caps); i++) {
		cap = json_array_get(caps, i);
		fanout = json_object_get(cap, "fanout");
		cell(&t, json_object_get(cap, "name"));
		cell(&t, json_object_get(cap, "interface"));
		cell(&t, json_object_get(cap, "state"));
		cell(&t, json_object_get(cap, "workers"));
		cell(&t, json_object_get(cap, "running"));
		cell(&t, json_object_get(fanout, "mode"));
		cell(&t, json_object_get(fanout, "group"));
		cell(&t, json_object_get(fanout, "others"));
	}
	return finish(fp, table_flush(&t, fp));
}

/* Negative means "none", as cpu -1 for an unpinned worker. */
static void
cell_or_none(struct table *t, const json_t *v)
{
	if (json_is_integer(v) && json_integer_value(v) < 0)
		table_add(t, "-");
	else
		cell(t, v);
}

static const char *const counter_keys[] = {
	"packets", "bytes", "kernel_drops",
};

static int
stats_workers(FILE *fp, const json_t *cap)
{
	const json_t *workers, *w, *totals;
	struct table t;
	long long restarts;
	size_t i, k;

	table_start(&t, "lrrlr",
	    "WORKER PID CPU STATE RESTARTS PACKETS BYTES KDROPS DROP% QUAR");
	workers = json_object_get(cap, "workers");
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		cell(&t, json_object_get(w, "id"));
		cell_or_none(&t, json_object_get(w, "pid"));
		cell_or_none(&t, json_object_get(w, "cpu"));
		cell(&t, json_object_get(w, "state"));
		cell(&t, json_object_get(w, "restarts"));
		for (k = 0; k < sizeof(counter_keys) / sizeof(counter_keys[0]);
		    k++)
			cell(&t, json_object_get(w, counter_keys[k]));
		drop_pct(&t, num(w, "kernel_drops"), num(w, "kernel_packets"));
		cell(&t, json_object_get(w, "quarantined"));
	}

	/* The totals object has no restarts: they are summed here. */
	totals = json_object_get(cap, "totals");
	table_add(&t, "total");
	table_add(&t, "-");
	table_add(&t, "-");
	table_add(&t, "-");
	restarts = 0;
	for (i = 0; i < json_array_size(workers); i++)
		restarts = sum_sat(restarts, num(json_array_get(workers, i),
		    "restarts"));
	table_add(&t, "%lld", restarts);
	for (k = 0; k < sizeof(counter_keys) / sizeof(counter_keys[0]); k++)
		cell(&t, json_object_get(totals, counter_keys[k]));
	drop_pct(&t, num(totals, "kernel_drops"),
	    num(totals, "kernel_packets"));
	cell(&t, json_object_get(totals, "quarantined"));
	return table_flush(&t, fp);
}

struct value_name {
	const char	*plugin;
	const char	*name;
};

/*
 * The plugin values of a capture, member "plugins" (counters) or "gauges",
 * one row per (plugin, name) in the order they first appear, one column
 * per worker and a total: the sum of the workers' levels is the capture's
 * level.  Workers of one pipeline normally have the same names, but one
 * that has not opened its plugins yet has none: its cells are "-".  No
 * table when no plugin has a value of that kind.
 */
static int
stats_values(FILE *fp, const json_t *cap, const char *member,
    const char *heading)
{
	const json_t *workers, *v;
	json_t *plugins, *values, *val;
	struct value_name *names, *grown;
	struct table t;
	const char *plugin, *name;
	size_t i, j, n, cap_names;
	uint64_t total;
	int rc;

	workers = json_object_get(cap, "workers");
	names = NULL;
	n = cap_names = 0;
	for (i = 0; i < json_array_size(workers); i++) {
		plugins = json_object_get(json_array_get(workers, i), member);
		if (!json_is_object(plugins))
			continue;
		json_object_foreach(plugins, plugin, values) {
			if (!json_is_object(values))
				continue;
			json_object_foreach(values, name, val) {
				for (j = 0; j < n; j++)
					if (strcmp(names[j].plugin, plugin) ==
					    0 && strcmp(names[j].name, name) ==
					    0)
						break;
				if (j < n)
					continue;
				if (n == cap_names) {
					cap_names = cap_names == 0 ? 16 :
					    cap_names * 2;
					grown = realloc(names, cap_names *
					    sizeof(*names));
					if (grown == NULL) {
						free(names);
						return -1;
					}
					names = grown;
				}
				names[n].plugin = plugin;
				names[n].name = name;
				n++;
			}
		}
	}
	if (n == 0) {
		free(names);
		return 0;
	}

	fputc('\n', fp);
	table_init(&t, 2 + json_array_size(workers) + 1, "llr");
	table_add(&t, "PLUGIN");
	table_add(&t, "%s", heading);
	for (i = 0; i < json_array_size(workers); i++)
		cell(&t, json_object_get(json_array_get(workers, i), "id"));
	table_add(&t, "TOTAL");
	for (j = 0; j < n; j++) {
		table_add(&t, "%s", names[j].plugin);
		table_add(&t, "%s", names[j].name);
		total = 0;
		for (i = 0; i < json_array_size(workers); i++) {
			v = json_object_get(json_object_get(json_object_get(
			    json_array_get(workers, i), member),
			    names[j].plugin), names[j].name);
			cell(&t, v);
			/* Held at the largest sum rather than wrapped. */
			if (json_is_integer(v))
				total = add_held(total, json_integer_value(v));
		}
		table_add(&t, "%" PRIu64, total);
	}
	rc = table_flush(&t, fp);
	free(names);
	return rc;
}

/*
 * The rows of an errors table for one worker: one per plugin with a
 * current problem, in the order of the worker's "errors" object, led by
 * the capture's name (unless NULL) and the worker's id.  A value that is
 * not a string is not an error.
 */
static void
error_rows(struct table *t, const json_t *capture, const json_t *w)
{
	const char *plugin;
	json_t *errors, *text;

	errors = json_object_get(w, "errors");
	json_object_foreach(errors, plugin, text) {
		if (!json_is_string(text))
			continue;
		if (capture != NULL)
			cell(t, capture);
		cell(t, json_object_get(w, "id"));
		table_add(t, "%s", plugin);
		table_add(t, "%s", json_string_value(text));
	}
}

/* WORKER PLUGIN ERROR for the workers of a capture that report one. */
static int
stats_errors(FILE *fp, const json_t *cap)
{
	const json_t *workers;
	struct table t;
	size_t i;

	table_start(&t, "l", "WORKER PLUGIN ERROR");
	workers = json_object_get(cap, "workers");
	for (i = 0; i < json_array_size(workers); i++)
		error_rows(&t, NULL, json_array_get(workers, i));
	return table_flush_section(&t, fp);
}

int
render_stats(FILE *fp, const json_t *doc)
{
	const json_t *caps, *cap;
	size_t i;

	caps = json_object_get(doc, "captures");
	for (i = 0; i < json_array_size(caps); i++) {
		cap = json_array_get(caps, i);
		if (i > 0)
			fputc('\n', fp);
		capture_line(fp, cap);
		if (stats_workers(fp, cap) != 0 ||
		    stats_values(fp, cap, "plugins", "COUNTER") != 0 ||
		    stats_values(fp, cap, "gauges", "GAUGE") != 0 ||
		    stats_errors(fp, cap) != 0)
			return -1;
	}
	return finish(fp, 0);
}

/* The process table, then the plugins' problems when there are any. */
int
render_workers(FILE *fp, const json_t *doc)
{
	const json_t *workers, *w;
	struct table t, te;
	size_t i;

	table_start(&t, "lrrrlrrl",
	    "CAPTURE ID PID CPU STATE RESTARTS STALLS LAST-EXIT");
	table_start(&te, "lrl", "CAPTURE ID PLUGIN ERROR");
	workers = json_object_get(doc, "workers");
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		cell(&t, json_object_get(w, "capture"));
		cell(&t, json_object_get(w, "id"));
		cell_or_none(&t, json_object_get(w, "pid"));
		cell_or_none(&t, json_object_get(w, "cpu"));
		cell(&t, json_object_get(w, "state"));
		cell(&t, json_object_get(w, "restarts"));
		cell_or_none(&t, json_object_get(w, "stalls"));
		cell(&t, json_object_get(w, "last_exit"));
		error_rows(&te, json_object_get(w, "capture"), w);
	}
	return finish(fp, tables_flush(&t, &te, fp));
}

/*
 * A pipeline step: its plugin's name, or "STEP (PLUGIN)" when the step has
 * a name of its own (a plugin in two steps, or the `name` key).
 */
static void
cell_step(struct table *t, const json_t *p)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *step = json_string_value(json_object_get(p, "step"));

	if (name != NULL && step != NULL && strcmp(name, step) != 0)
		table_add(t, "%s (%s)", step, name);
	else
		cell(t, json_object_get(p, "name"));
}

/*
 * The pipelines, then, when a plugin reports a problem, the same problems
 * as `workers` shows, seen from the plugin.  One pass fills both tables.
 */
int
render_plugins(FILE *fp, const json_t *doc)
{
	const json_t *caps, *cap, *plugins, *p, *errors, *e;
	struct table t, te;
	size_t i, j, k;

	table_start(&t, "l", "CAPTURE PLUGIN VERSION ABI PATH DESCRIPTION");
	table_start(&te, "llrl", "CAPTURE PLUGIN WORKER ERROR");
	caps = json_object_get(doc, "captures");
	for (i = 0; i < json_array_size(caps); i++) {
		cap = json_array_get(caps, i);
		plugins = json_object_get(cap, "plugins");
		for (j = 0; j < json_array_size(plugins); j++) {
			p = json_array_get(plugins, j);
			cell(&t, json_object_get(cap, "name"));
			cell_step(&t, p);
			cell(&t, json_object_get(p, "version"));
			cell(&t, json_object_get(p, "abi"));
			cell(&t, json_object_get(p, "path"));
			cell(&t, json_object_get(p, "description"));
			errors = json_object_get(p, "errors");
			for (k = 0; k < json_array_size(errors); k++) {
				e = json_array_get(errors, k);
				if (!json_is_string(json_object_get(e,
				    "error")))
					continue;
				cell(&te, json_object_get(cap, "name"));
				cell_step(&te, p);
				cell(&te, json_object_get(e, "worker"));
				cell(&te, json_object_get(e, "error"));
			}
		}
	}
	return finish(fp, tables_flush(&t, &te, fp));
}

int
render_reload(FILE *fp, const json_t *doc)
{
	const char *result;

	result = json_string_value(json_object_get(doc, "result"));
	if (result != NULL)
		fprintf(fp, "reload: ok (%s)\n", text(doc, "result"));
	else
		fputs("reload: ok\n", fp);
	return finish(fp, 0);
}

int
render_restart(FILE *fp, const json_t *doc)
{
	const json_t *names = json_object_get(doc, "restarted"), *n;
	size_t i;

	fputs("restart: ok (", fp);
	json_array_foreach(names, i, n) {
		if (i > 0)
			fputc(' ', fp);
		if (json_is_string(n))
			render_put(fp, json_string_value(n));
	}
	fputs(")\n", fp);
	return finish(fp, 0);
}

int
render_stop(FILE *fp, const json_t *doc)
{
	(void)doc;
	fputs("stopping\n", fp);
	return finish(fp, 0);
}

int
render_help(FILE *fp, const json_t *doc)
{
	const json_t *cmds, *c;
	struct table t;
	size_t i;

	table_init(&t, 2, "l");
	cmds = json_object_get(doc, "commands");
	for (i = 0; i < json_array_size(cmds); i++) {
		c = json_array_get(cmds, i);
		cell(&t, json_object_get(c, "name"));
		cell(&t, json_object_get(c, "help"));
	}
	return finish(fp, table_flush(&t, fp));
}

static const json_t *
find_capture(const json_t *doc, const char *name)
{
	const json_t *caps, *cap;
	size_t i;

	caps = json_object_get(doc, "captures");
	for (i = 0; i < json_array_size(caps); i++) {
		cap = json_array_get(caps, i);
		if (strcmp(str(cap, "name"), name) == 0)
			return cap;
	}
	return NULL;
}

/* The counters of worker id of a capture, or its totals for id -1. */
static const json_t *
find_counters(const json_t *doc, const char *capture, long long id)
{
	const json_t *cap, *workers, *w;
	size_t i;

	if ((cap = find_capture(doc, capture)) == NULL)
		return NULL;
	if (id < 0)
		return json_object_get(cap, "totals");
	workers = json_object_get(cap, "workers");
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		if (json_is_integer(json_object_get(w, "id")) &&
		    num(w, "id") == id)
			return w;
	}
	return NULL;
}

static double
per_second(const json_t *prev, const json_t *cur, const char *key, double dt)
{
	long long a = num(prev, key), b = num(cur, key);

	/*
	 * Any two values of a document are apart by less than 2^64: the
	 * difference fits in an unsigned long long, not in a long long.
	 */
	return b > a ? (double)((unsigned long long)b -
	    (unsigned long long)a) / dt : 0.0;
}

int
top_rates(const json_t *prev, const json_t *cur, double dt,
    const char *capture, long long id, struct rates *r)
{
	const json_t *a, *b;

	memset(r, 0, sizeof(*r));
	if (prev == NULL || cur == NULL || !(dt > 0))
		return -1;
	/* Counters start again from 0 in a restarted daemon. */
	if (uptime(cur) < uptime(prev))
		return -1;
	if ((a = find_counters(prev, capture, id)) == NULL ||
	    (b = find_counters(cur, capture, id)) == NULL)
		return -1;
	/*
	 * A reload that lowered the worker count: the ids that remain took
	 * over the counts of those removed, a jump that is no rate of theirs.
	 * The totals carry on.
	 */
	if (id >= 0 && json_array_size(json_object_get(find_capture(cur,
	    capture), "workers")) < json_array_size(json_object_get(
	    find_capture(prev, capture), "workers")))
		return -1;
	r->packets = per_second(a, b, "packets", dt);
	r->bytes = per_second(a, b, "bytes", dt);
	r->drops = per_second(a, b, "kernel_drops", dt);
	return 0;
}

static void
top_row(struct table *t, const json_t *counters, const struct rates *r)
{
	table_add(t, "%.0f", r->packets);
	table_add(t, "%.2f", r->bytes * 8 / 1e6);
	table_add(t, "%.0f", r->drops);
	cell(t, json_object_get(counters, "packets"));
	cell(t, json_object_get(counters, "kernel_drops"));
	drop_pct(t, num(counters, "kernel_drops"),
	    num(counters, "kernel_packets"));
}

/* Width of top's ring fill bar, in tenths of the ring. */
#define RING_BAR	10

/*
 * A worker's ring as a bar, "[###.......]": its backlog (blocks the kernel
 * handed over that the worker has not released) of the ring's blocks, in
 * whole tenths, but one for any backlog and ten only for a full ring.
 */
static void
ring_bar(char bar[RING_BAR + 3], long long backlog, long long blocks)
{
	long long n, k;

	n = 0;
	if (blocks > 0 && backlog > 0) {
		/*
		 * Tenths of backlog < blocks, in doubles where the product
		 * would overflow (figures near 2^63 of a reply that may be
		 * any), and below ten, which only a full ring shows.
		 */
		if (backlog >= blocks)
			n = RING_BAR;
		else {
			if (__builtin_mul_overflow(backlog, RING_BAR, &n))
				n = (long long)((double)backlog /
				    (double)blocks * RING_BAR);
			else
				n /= blocks;
			n = n < 1 ? 1 : n > RING_BAR - 1 ? RING_BAR - 1 : n;
		}
	}
	bar[0] = '[';
	for (k = 0; k < RING_BAR; k++)
		bar[1 + k] = k < n ? '#' : '.';
	bar[RING_BAR + 1] = ']';
	bar[RING_BAR + 2] = '\0';
}

/* Three quarters of the ring wait: the kernel drops frames soon. */
static int
ring_near_full(long long backlog, long long blocks)
{
	/* backlog * 4 >= blocks * 3, without a product to overflow. */
	return blocks > 0 && backlog >= blocks - blocks / 4;
}

/*
 * The rings of a capture's workers: the fill bar, the backlog now and at
 * its peak, the blocks taken and the share of them the kernel retired at
 * the block timeout (a quiet link) rather than full, the kernel's freezes
 * of a full ring, rollover and stalls; then a warning for each worker whose
 * ring runs near full.  Nothing from a daemon that reports no rings.
 */
static int
top_rings(FILE *fp, const json_t *cap)
{
	const json_t *workers, *w;
	struct table t;
	char bar[RING_BAR + 3];
	long long backlog, blocks, taken;
	size_t i;

	workers = json_object_get(cap, "workers");
	for (i = 0; i < json_array_size(workers); i++)
		if (json_object_get(json_array_get(workers, i),
		    "ring_blocks") != NULL)
			break;
	if (i == json_array_size(workers))
		return 0;
	fputc('\n', fp);
	table_start(&t, "llr", "WORKER RING BACKLOG PEAK BLOCKS TIMEOUT% "
	    "FREEZES ROLLOVER STALLS");
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		backlog = num(w, "backlog");
		blocks = num(w, "ring_blocks");
		taken = num(w, "blocks");
		ring_bar(bar, backlog, blocks);
		cell(&t, json_object_get(w, "id"));
		table_add(&t, "%s", bar);
		table_add(&t, "%lld/%lld", backlog, blocks);
		cell(&t, json_object_get(w, "backlog_max"));
		cell(&t, json_object_get(w, "blocks"));
		table_add(&t, "%.2f", taken > 0 ?
		    (double)num(w, "blocks_timeout") * 100.0 / (double)taken :
		    0.0);
		cell(&t, json_object_get(w, "kernel_freeze_q"));
		cell(&t, json_object_get(w, "rollover_packets"));
		cell(&t, json_object_get(w, "stalls"));
	}
	if (table_flush(&t, fp) != 0)
		return -1;
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		backlog = num(w, "backlog");
		blocks = num(w, "ring_blocks");
		if (ring_near_full(backlog, blocks))
			fprintf(fp, "warning: worker %lld runs near full: %lld "
			    "of %lld ring blocks wait; the kernel drops frames "
			    "once all do\n", num(w, "id"), backlog, blocks);
	}
	return 0;
}

int
render_top_footer(FILE *fp, const char *socket, int keys)
{
	fprintf(fp, "\nringfanctl -s %s COMMAND reaches this ringfan "
	    "(help lists them); %s quits\n", socket, keys ? "q or ^C" : "^C");
	return finish(fp, 0);
}

static int
top_capture(FILE *fp, const json_t *prev, const json_t *cur, double dt,
    const json_t *cap)
{
	const json_t *workers, *w, *totals;
	struct rates r;
	struct table t;
	const char *name;
	long long restarts;
	size_t i;

	name = str(cap, "name");
	capture_line(fp, cap);
	table_start(&t, "llr",
	    "WORKER STATE PKT/S MBIT/S DROPS/S PACKETS KDROPS DROP% RESTARTS");
	workers = json_object_get(cap, "workers");
	restarts = 0;
	for (i = 0; i < json_array_size(workers); i++) {
		w = json_array_get(workers, i);
		cell(&t, json_object_get(w, "id"));
		cell(&t, json_object_get(w, "state"));
		top_rates(prev, cur, dt, name, num(w, "id"), &r);
		top_row(&t, w, &r);
		cell(&t, json_object_get(w, "restarts"));
		restarts = sum_sat(restarts, num(w, "restarts"));
	}
	totals = json_object_get(cap, "totals");
	table_add(&t, "total");
	table_add(&t, "-");
	top_rates(prev, cur, dt, name, -1, &r);
	top_row(&t, totals, &r);
	table_add(&t, "%lld", restarts);
	/* Levels are live values, worth a screen; counters are in the rates. */
	if (table_flush(&t, fp) != 0 || top_rings(fp, cap) != 0 ||
	    stats_values(fp, cap, "gauges", "GAUGE") != 0)
		return -1;
	return stats_errors(fp, cap);
}

int
render_top(FILE *fp, const json_t *prev, const json_t *cur, double dt,
    const char *when)
{
	const json_t *caps, *cap, *totals;
	struct rates r, sum;
	uint64_t packets, drops, kpackets;
	char up[64];
	size_t i;

	caps = json_object_get(cur, "captures");
	memset(&sum, 0, sizeof(sum));
	packets = drops = kpackets = 0;
	for (i = 0; i < json_array_size(caps); i++) {
		cap = json_array_get(caps, i);
		totals = json_object_get(cap, "totals");
		packets = add_held(packets, num(totals, "packets"));
		drops = add_held(drops, num(totals, "kernel_drops"));
		kpackets = add_held(kpackets, num(totals, "kernel_packets"));
		top_rates(prev, cur, dt, str(cap, "name"), -1, &r);
		sum.packets += r.packets;
		sum.bytes += r.bytes;
		sum.drops += r.drops;
	}
	format_uptime(up, sizeof(up), uptime(cur));
	fprintf(fp, "ringfan %s at %s, up %s: %.0f pkt/s, %.2f Mbit/s, "
	    "%.0f drops/s; packets %" PRIu64 ", kdrops %" PRIu64
	    " (%.2f%%)\n",
	    text(cur, "version"), when, up, sum.packets, sum.bytes * 8 / 1e6,
	    sum.drops, packets, drops,
	    kpackets > 0 ? (double)drops * 100.0 / (double)kpackets : 0.0);
	for (i = 0; i < json_array_size(caps); i++) {
		fputc('\n', fp);
		if (top_capture(fp, prev, cur, dt, json_array_get(caps, i)) !=
		    0)
			return -1;
	}
	return finish(fp, 0);
}

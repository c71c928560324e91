/*
 * The config loader.  The whole file is read into memory and composed with
 * libyaml's document API, whose nodes carry their positions, then walked
 * against tables of keys.  Every check happens here, before the daemon acts
 * on anything, so that `ringfan -t` and a reload can refuse a bad file with
 * one FILE:LINE:COLUMN message and nothing half applied.
 *
 * The walker only ever descends as far as the schema does, so a hostile
 * file cannot drive it into deep recursion.  The document API shares an
 * alias's node instead of copying it, but the walker reads it again at
 * every alias.  What libyaml and the walker spend is bounded before the
 * document is composed: the file's size first, then in one streaming pass
 * (check_depth) its nesting depth, its anchors and the nodes its aliases
 * stand for, so that a reload cannot hold the master's loop for long, nor
 * take much memory, whatever the file holds.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "config_int.h"
#include "util.h"

/*
 * A real config is a few KiB and at most 7 levels deep (top level,
 * captures, a capture, pipeline, an entry, config, a value): both limits
 * leave ample room and keep the cost of any file to milliseconds.
 */
#define MAX_FILE_SIZE		((size_t)1 << 20)
#define MAX_DEPTH		64
/*
 * libyaml's document loader looks up every anchor it registers, and every
 * alias, in the list of the anchors before it: 90000 anchors (740 KB)
 * took ten seconds.  A real file has a handful; 1000 with the most
 * aliases that fit in the file still compose in half a second.
 */
#define MAX_ANCHORS		1000

/*
 * The error quotes what the file says (a key, a value), which may hold a
 * newline or an escape: each control character shows as '?', so that the
 * error stays one line in the log, on stderr and in a reload's reply.  A
 * quote too long for the message gives up its middle to " ... ", on
 * character boundaries, rather than the end of the message, which says
 * what is wrong.
 */
#define ERR_TAIL		160

int
perr(struct ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	size_t n, len, head, tail;
	int m;

	n = (size_t)snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name,
	    mark.line + 1, mark.column + 1);
	if (n >= c->errlen)
		goto out;
	va_start(ap, fmt);
	m = vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	if (m < 0 || n + (size_t)m < c->errlen ||
	    c->errlen - n <= ERR_TAIL + 6 ||
	    (msg = malloc((size_t)m + 1)) == NULL)
		goto out;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)m + 1, fmt, ap);
	va_end(ap);
	len = (size_t)m;
	head = c->errlen - n - ERR_TAIL - 6;
	tail = len - ERR_TAIL;
	while (head > 0 && (msg[head] & 0xc0) == 0x80)
		head--;
	while ((msg[tail] & 0xc0) == 0x80)
		tail++;
	snprintf(c->err + n, c->errlen - n, "%.*s ... %s", (int)head, msg,
	    msg + tail);
	free(msg);
out:
	line_scrub(c->err);
	return -1;
}

/* A message with no place in a file: built-in config, unreadable file. */
static int	plain_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
plain_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * libyaml reports reader errors (bad UTF-8, control characters) by byte
 * offset only; turn that into a line and a column counted in characters,
 * as its other marks are: a byte order mark takes no column, and a line
 * ends at "\r\n", "\n" or a lone "\r".
 */
static yaml_mark_t
mark_of_offset(const struct ctx *c, size_t off)
{
	yaml_mark_t m;
	size_t i;

	memset(&m, 0, sizeof(m));
	i = 0;
	if (c->len >= 3 && memcmp(c->text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; i < off && i < c->len; i++) {
		if (c->text[i] == '\r' && i + 1 < c->len &&
		    c->text[i + 1] == '\n')
			continue;
		if (c->text[i] == '\n' || c->text[i] == '\r') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)c->text[i] & 0xc0) != 0x80)
			m.column++;
	}
	m.index = off;
	return m;
}

static int
syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	yaml_mark_t m;

	if (p->error == YAML_MEMORY_ERROR)
		return perr(c, p->mark, "out of memory");
	if (p->error == YAML_READER_ERROR)
		m = mark_of_offset(c, p->problem_offset);
	else
		m = p->problem_mark;
	if (p->context != NULL)
		return perr(c, m, "syntax error: %s (%s at line %zu)",
		    p->problem != NULL ? p->problem : "unknown", p->context,
		    p->context_mark.line + 1);
	return perr(c, m, "syntax error: %s",
	    p->problem != NULL ? p->problem : "unknown");
}

/*
 * An alias stands for its anchor's whole node each time it is used, and
 * the walk reads it each time: 500 aliases of a pipeline step of 1000
 * options are half a million options, and a file of such aliases up to
 * the size limit took gigabytes and minutes to load.  What the aliases
 * stand for in all is bounded instead; a file without them stays under
 * this by its size alone.
 */
#define MAX_ALIAS_NODES		(1 << 20)

/* An anchor of the streaming pass and the nodes its node stands for. */
struct scan_anchor {
	char		*name;
	uint64_t	 nodes;		/* 0 while its collection is open */
	size_t		 line;		/* 0-based, as in a mark */
};

/* A power of two past twice MAX_ANCHORS: a probe ends soon at a free one. */
#define ANCHOR_SLOTS		2048

/*
 * The streaming pass's state.  Nodes are scalars, lists and mappings,
 * each alias counted as the nodes of its anchor.  The anchors are found
 * by name through a hash table of their indexes plus one (0: free), so
 * that a file of aliases costs no more than their number.
 */
struct scan {
	struct scan_anchor	 anchors[MAX_ANCHORS];
	size_t			 nanchors;
	size_t			 slots[ANCHOR_SLOTS];
	struct {
		size_t		 anchor;	/* SIZE_MAX: none */
		uint64_t	 start;		/* nodes before it */
	}			 open[MAX_DEPTH];
	unsigned		 depth;
	uint64_t		 nodes;
	uint64_t		 aliased;	/* what the aliases stand for */
};

static const char *
event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* The slot of the anchor `name`, or the free one where it would go. */
static size_t *
anchor_slot(struct scan *s, const char *name)
{
	size_t *slot;
	uint32_t h;

	h = cfg_default_group(name);	/* FNV-1a, folded */
	for (;; h++) {
		slot = &s->slots[h % ANCHOR_SLOTS];
		if (*slot == 0 || strcmp(s->anchors[*slot - 1].name,
		    name) == 0)
			return slot;
	}
}

/*
 * Registers the event's anchor: its index in s->anchors, or SIZE_MAX.  A
 * name used twice is refused here, as libyaml's load would (YAML 1.2 lets
 * the later one win), with a message that says what is wrong.
 */
static int
scan_anchor(struct ctx *c, struct scan *s, const yaml_event_t *ev,
    size_t *slot)
{
	const char *name;
	size_t *at;

	*slot = SIZE_MAX;
	if ((name = event_anchor(ev)) == NULL)
		return 0;
	if (s->nanchors == MAX_ANCHORS)
		return perr(c, ev->start_mark, "more than %d anchors",
		    MAX_ANCHORS);
	if (*(at = anchor_slot(s, name)) != 0)
		return perr(c, ev->start_mark, "anchor &%s is defined twice "
		    "(first at line %zu): give each its own name", name,
		    s->anchors[*at - 1].line + 1);
	if ((s->anchors[s->nanchors].name = strdup(name)) == NULL)
		return perr(c, ev->start_mark, "out of memory");
	s->anchors[s->nanchors].nodes = ev->type == YAML_SCALAR_EVENT;
	s->anchors[s->nanchors].line = ev->start_mark.line;
	*slot = s->nanchors++;
	*at = s->nanchors;
	return 0;
}

/*
 * The nodes an alias stands for: its anchor's.  An alias inside its own
 * anchor's collection, a cycle the walk never follows further than its
 * keys go, counts as one.  An undefined one is left to the load, which
 * refuses it.
 */
static uint64_t
alias_nodes(struct scan *s, const char *name)
{
	size_t i;

	if ((i = *anchor_slot(s, name)) == 0 || s->anchors[i - 1].nodes == 0)
		return 1;
	return s->anchors[i - 1].nodes;
}

/* One event: 1 at the end of the stream, -1 at a limit, else 0. */
static int
scan_event(struct ctx *c, struct scan *s, const yaml_event_t *ev)
{
	uint64_t n;
	size_t slot;

	if (scan_anchor(c, s, ev, &slot) == -1)
		return -1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		s->nodes++;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (s->depth == MAX_DEPTH)
			return perr(c, ev->start_mark, "nested deeper than %d "
			    "levels", MAX_DEPTH);
		s->open[s->depth].anchor = slot;
		s->open[s->depth].start = s->nodes++;
		s->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		s->depth--;
		if ((slot = s->open[s->depth].anchor) != SIZE_MAX)
			s->anchors[slot].nodes = s->nodes -
			    s->open[s->depth].start;
		break;
	case YAML_ALIAS_EVENT:
		n = alias_nodes(s, (const char *)ev->data.alias.anchor);
		s->nodes += n;
		s->aliased += n;
		if (s->aliased > MAX_ALIAS_NODES)
			return perr(c, ev->start_mark, "aliases stand for "
			    "more than %d nodes", MAX_ALIAS_NODES);
		break;
	case YAML_DOCUMENT_END_EVENT:
		/* Anchors are the document's; their number the file's. */
		memset(s->slots, 0, sizeof(s->slots));
		break;
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		break;
	}
	return 0;
}

/*
 * libyaml's scanner keeps a possible simple key per flow level and looks
 * at all of them for every token, so a deeply nested file costs time
 * quadratic in its depth: 120 KB of "[" takes seconds to compose.  Its
 * event parser runs the scanner no further than the event it returns (a
 * simple key looks ahead at most one line of 1024 characters), so this
 * streaming pass, which stops at the first collection deeper than
 * MAX_DEPTH, costs at most MAX_DEPTH per token, and the document load that
 * follows only ever sees shallow files.  The same pass stops at the
 * anchor past MAX_ANCHORS and at the alias past MAX_ALIAS_NODES.  Syntax
 * errors are left to that load, which reports them as it always has.
 */
static int
check_depth(struct ctx *c)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_mark_t start;
	struct scan *s;
	size_t i;
	int rc;

	memset(&start, 0, sizeof(start));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return perr(c, start, "out of memory");
	if (!yaml_parser_initialize(&parser)) {
		free(s);
		return perr(c, parser.mark, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->text,
	    c->len);
	for (rc = 0; rc == 0;) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		rc = scan_event(c, s, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (i = 0; i < s->nanchors; i++)
		free(s->anchors[i].name);
	free(s);
	return rc == -1 ? -1 : 0;
}

/*
 * Loads the one document of the text.  A second document is refused rather
 * than ignored, since a stray "---" usually means two files were pasted
 * together.
 */
static int
load_document(struct ctx *c, yaml_document_t *doc)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int rc;

	if (check_depth(c) == -1)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return perr(c, parser.mark, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->text,
	    c->len);
	if (!yaml_parser_load(&parser, doc)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	if (yaml_document_get_root_node(doc) == NULL) {
		yaml_parser_delete(&parser);
		return 0;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		yaml_document_delete(doc);
		return rc;
	}
	rc = 0;
	if ((root = yaml_document_get_root_node(&extra)) != NULL) {
		rc = perr(c, root->start_mark,
		    "only one YAML document is allowed");
		yaml_document_delete(doc);
	}
	yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
	return rc;
}

static int
parse(struct ctx *c, struct cfg *cfg)
{
	yaml_mark_t start;
	yaml_node_t *root;

	memset(&start, 0, sizeof(start));
	root = yaml_document_get_root_node(c->doc);
	if (root == NULL || is_null(root))
		return perr(c, start, "empty configuration file");
	if (walk_mapping(c, root, "the top level", cfg_top_keys, cfg) == -1)
		return -1;
	if (cfg->captures == NULL)
		return perr(c, root->start_mark,
		    "missing required key \"captures\"");
	return 0;
}

int
cfg_load_string(struct cfg *cfg, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct cfg tmp;
	struct ctx c;
	yaml_document_t doc;
	yaml_mark_t start;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (len > MAX_FILE_SIZE)
		return plain_err(err, errlen, "%s: file is larger than %zu MiB",
		    name, MAX_FILE_SIZE >> 20);
	memset(&tmp, 0, sizeof(tmp));
	memset(&start, 0, sizeof(start));
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.text = text;
	c.len = len;
	c.doc = &doc;
	c.err = err;
	c.errlen = errlen;
	if (global_defaults(&tmp, name) == -1) {
		cfg_free(&tmp);
		return perr(&c, start, "out of memory");
	}
	if (load_document(&c, &doc) == -1) {
		cfg_free(&tmp);
		return -1;
	}
	rc = parse(&c, &tmp);
	yaml_document_delete(&doc);
	if (rc == -1) {
		cfg_free(&tmp);
		return -1;
	}
	*cfg = tmp;
	return 0;
}

/*
 * Only a regular file, opened without blocking and sized before it is read:
 * a FIFO or a device named in place of the config would otherwise hold the
 * master, which reloads in its own loop, for as long as it pleases.  A
 * terminal must not become the controlling one of the daemon's master, a
 * session leader without one (O_NOCTTY).
 */
int
cfg_load(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	ssize_t n;
	int fd, rc, saved;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1)
		return plain_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return plain_err(err, errlen, "%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (S_ISDIR(st.st_mode))
			return plain_err(err, errlen, "%s: %s", path,
			    strerror(EISDIR));
		return plain_err(err, errlen, "%s: not a regular file", path);
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	if ((uintmax_t)st.st_size > MAX_FILE_SIZE ||
	    (buf = malloc(MAX_FILE_SIZE + 1)) == NULL) {
		close(fd);
		if ((uintmax_t)st.st_size > MAX_FILE_SIZE)
			return plain_err(err, errlen,
			    "%s: file is larger than %zu MiB", path,
			    MAX_FILE_SIZE >> 20);
		return plain_err(err, errlen, "%s: out of memory", path);
	}
	len = 0;
	while (len <= MAX_FILE_SIZE) {
		n = read(fd, buf + len, MAX_FILE_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			return plain_err(err, errlen, "%s: %s", path,
			    strerror(saved));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = cfg_load_string(cfg, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

int
cfg_default(struct cfg *cfg, const char *iface, char *err, size_t errlen)
{
	struct cfg tmp;
	struct cfg_capture *cap;

	memset(cfg, 0, sizeof(*cfg));
	if (iface == NULL || !valid_ifname(iface))
		return plain_err(err, errlen, "bad interface name \"%s\" "
		    IFNAME_RULE, iface != NULL ? iface : "");
	memset(&tmp, 0, sizeof(tmp));
	if (global_defaults(&tmp, "<default>") == -1)
		goto nomem;
	if ((tmp.captures = calloc(1, sizeof(*tmp.captures))) == NULL)
		goto nomem;
	tmp.ncaptures = 1;
	cap = &tmp.captures[0];
	if (capture_defaults(cap) == -1 ||
	    (cap->name = strdup("default")) == NULL ||
	    (cap->interface = strdup(iface)) == NULL)
		goto nomem;
	cap->fanout.group = cfg_default_group(cap->name);
	if ((cap->pipeline = calloc(1, sizeof(*cap->pipeline))) == NULL)
		goto nomem;
	cap->npipeline = 1;
	if ((cap->pipeline[0].name = strdup("counter")) == NULL)
		goto nomem;
	*cfg = tmp;
	return 0;
nomem:
	cfg_free(&tmp);
	return plain_err(err, errlen, "out of memory");
}

void
cfg_free(struct cfg *cfg)
{
	free(cfg->path);
	free_keys(cfg_top_keys, cfg);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * FNV-1a folded to 16 bits: stable across runs and builds, so a restarted
 * daemon joins the same fanout group, and different names rarely collide.
 */
uint16_t
cfg_default_group(const char *capture_name)
{
	const unsigned char *p;
	uint32_t h;

	h = UINT32_C(2166136261);
	for (p = (const unsigned char *)capture_name; *p != '\0'; p++) {
		h ^= *p;
		h *= UINT32_C(16777619);
	}
	return (uint16_t)((h >> 16) ^ (h & 0xffff));
}

unsigned
cfg_total_workers(const struct cfg *cfg)
{
	unsigned total;
	size_t i;

	total = 0;
	for (i = 0; i < cfg->ncaptures; i++)
		total += cfg->captures[i].workers;
	return total;
}

/*
 * The config loader's generic half: reading scalars of each type out of
 * libyaml's nodes with a FILE:LINE:COLUMN message for each refusal, storing
 * them at a row's offset, walking a mapping against a table of keys, and
 * setting or freeing what a table describes.  The tables themselves are in
 * config_keys.c and config_capture.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "config_int.h"
#include "util.h"

yaml_node_t *
node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/*
 * An empty value (`key:`, `~`, `null`) written in plain style; a quoted ""
 * is a string and deliberately not null.
 */
bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = sval(n);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/*
 * A scalar that C can treat as a string: "\0" escapes would otherwise make
 * "eth0\0junk" compare equal to "eth0" everywhere after this point.
 */
int
check_nul(struct ctx *c, const char *key, const yaml_node_t *n)
{
	if (strlen(sval(n)) != n->data.scalar.length)
		return perr(c, n->start_mark, "%s: NUL character in value",
		    key);
	return 0;
}

/*
 * The same for a key, which the message quotes with each NUL shown as `?`
 * (as control characters are): "key: NUL character in value" would name
 * neither the key nor where the NUL is.  `prefix` leads the message, the
 * plugin of an option ("plugin NAME: ") or "".
 */
int
check_key_nul(struct ctx *c, const char *prefix, const yaml_node_t *k)
{
	size_t i, len = k->data.scalar.length;
	char *shown;
	int rc;

	if (strlen(sval(k)) == len)
		return 0;
	if ((shown = malloc(len + 1)) == NULL)
		return perr(c, k->start_mark, "out of memory");
	for (i = 0; i < len; i++)
		shown[i] = sval(k)[i] == '\0' ? '?' : sval(k)[i];
	shown[len] = '\0';
	rc = perr(c, k->start_mark, "%skey \"%s\": NUL character in key",
	    prefix, shown);
	free(shown);
	return rc;
}

int
get_scalar(struct ctx *c, const char *key, const yaml_node_t *n,
    const char *type, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n->start_mark, "%s must be %s", key, type);
	if (check_nul(c, key, n) == -1)
		return -1;
	*out = sval(n);
	return 0;
}

char *
dup_or_err(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		perr(c, n->start_mark, "out of memory");
	return d;
}

/*
 * A string that must have a value: a plain null (`key:`, `~`, `null`) is
 * refused like an empty string, never taken as the text "~" or "null".
 */
int
get_text(struct ctx *c, const char *key, const yaml_node_t *n,
    const char **out)
{
	if (get_scalar(c, key, n, "a string", out) == -1)
		return -1;
	if (**out == '\0' || is_null(n))
		return perr(c, n->start_mark, "%s must not be empty", key);
	return 0;
}

/* Replaces *dst; an optional string may be null, which unsets it. */
int
get_string(struct ctx *c, const char *key, const yaml_node_t *n,
    bool optional, char **dst)
{
	const char *s;
	char *d;

	if (optional && is_null(n)) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (get_text(c, key, n, &s) == -1)
		return -1;
	if ((d = dup_or_err(c, n, s)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

static int
get_bool(struct ctx *c, const char *key, const yaml_node_t *n, bool *out)
{
	const char *s;

	if (get_scalar(c, key, n, "a boolean", &s) == -1)
		return -1;
	if (parse_bool(s, out) != 0)
		return perr(c, n->start_mark, "%s: bad boolean \"%s\" ("
		    BOOL_FORM ")", key, s);
	return 0;
}

int
get_uint(struct ctx *c, const char *key, const yaml_node_t *n, uint64_t min,
    uint64_t max, uint64_t *out)
{
	const char *s;
	uint64_t v;
	int rc;

	if (get_scalar(c, key, n, "an integer", &s) == -1)
		return -1;
	rc = parse_uint(s, &v);
	if (rc == -EINVAL)
		return perr(c, n->start_mark, "%s: bad integer \"%s\"", key, s);
	if (rc != 0 || v < min || v > max)
		return perr(c, n->start_mark, "%s: %s is out of range %ju..%ju",
		    key, s, (uintmax_t)min, (uintmax_t)max);
	*out = v;
	return 0;
}

static int
get_duration(struct ctx *c, const char *key, const yaml_node_t *n,
    uint64_t min, uint64_t max, const char *range, uint64_t *out)
{
	const char *s;
	uint64_t v;
	int rc;

	if (get_scalar(c, key, n, "a duration", &s) == -1)
		return -1;
	rc = parse_duration(s, &v);
	if (rc == -EINVAL)
		return perr(c, n->start_mark, "%s: bad duration \"%s\" "
		    "(" DURATION_FORM ")", key, s);
	if (rc != 0 || v < min || v > max)
		return perr(c, n->start_mark,
		    "%s: \"%s\" is out of range %s", key, s, range);
	*out = v;
	return 0;
}

void *
field(void *base, const struct cfg_key *k)
{
	return (char *)base + k->off;
}

const void *
cfield(const void *base, const struct cfg_key *k)
{
	return (const char *)base + k->off;
}

/* The integer fields are of 1, 2, 4 or 8 bytes: enums, mode_t, uint16_t. */
void
store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

uint64_t
load_uint(const void *p, size_t size)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v;

	switch (size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v, p, 8);
		return v;
	}
}

const struct cfg_enum *
enum_find(const struct cfg_enum *e, const char *s)
{
	for (; e->name != NULL; e++)
		if (strcmp(e->name, s) == 0)
			return e;
	return NULL;
}

const char *
enum_name(const struct cfg_enum *e, int value)
{
	for (; e->name != NULL; e++)
		if (e->value == value)
			return e->name;
	return "unknown";
}

/* "hash, lb, cpu", for messages. */
static void
enum_list(const struct cfg_enum *e, char *buf, size_t len)
{
	size_t off;

	buf[0] = '\0';
	for (off = 0; e->name != NULL && off < len; e++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off > 0 ? ", " : "", e->name);
}

/* The parser of a row's type: what a row without a handler gets. */
int
parse_value(struct ctx *c, const struct cfg_key *k, void *base,
    yaml_node_t *v)
{
	const struct cfg_enum *e;
	const char *s;
	char valid[128];
	uint64_t n;

	n = 0;
	switch (k->type) {
	case KT_SECTION:
		return walk_mapping(c, v, k->name, k->sub, base);
	case KT_BOOL:
		return get_bool(c, k->name, v, field(base, k));
	case KT_UINT:
		if (get_uint(c, k->name, v, k->min, k->max, &n) == -1)
			return -1;
		break;
	case KT_DURATION:
		if (get_duration(c, k->name, v, k->min, k->max, k->range,
		    &n) == -1)
			return -1;
		/* Only milliseconds are stored coarser than read. */
		if (n % k->unit != 0)
			return perr(c, v->start_mark, "%s: \"%s\" is not a "
			    "whole number of milliseconds", k->name, sval(v));
		n /= k->unit;
		break;
	case KT_STRING:
		return get_string(c, k->name, v, k->optional, field(base, k));
	case KT_ENUM:
		if (get_scalar(c, k->name, v, "a string", &s) == -1)
			return -1;
		if ((e = enum_find(k->names, s)) == NULL) {
			enum_list(k->names, valid, sizeof(valid));
			return perr(c, v->start_mark,
			    "unknown %s \"%s\" (valid: %s)", k->what, s, valid);
		}
		n = (uint64_t)e->value;
		break;
	default:
		return perr(c, v->start_mark, "%s: no parser", k->name);
	}
	store_uint(field(base, k), k->size, n);
	return 0;
}

/*
 * Walks a mapping against its table of keys.  Duplicates are looked for only
 * among keys already known to be in the table, so the quadratic search is
 * bounded by the table's size whatever the file holds.
 */
int
walk_mapping(struct ctx *c, yaml_node_t *node, const char *what,
    const struct cfg_key *keys, void *base)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *k, *qk, *v;
	const struct cfg_key *e;
	const char *name;

	if (is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return perr(c, node->start_mark, "%s must be a mapping", what);
	for (p = node->data.mapping.pairs.start;
	    p < node->data.mapping.pairs.top; p++) {
		k = node_at(c, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k->start_mark, "keys must be strings");
		if (check_key_nul(c, "", k) == -1)
			return -1;
		name = sval(k);
		for (e = keys; e->name != NULL; e++)
			if (strcmp(e->name, name) == 0)
				break;
		if (e->name == NULL)
			return perr(c, k->start_mark, "unknown key \"%s\"",
			    name);
		for (q = node->data.mapping.pairs.start; q < p; q++) {
			qk = node_at(c, q->key);
			if (strcmp(sval(qk), name) == 0)
				return perr(c, k->start_mark,
				    "duplicate key \"%s\" (first at line %zu)",
				    name, qk->start_mark.line + 1);
		}
		v = node_at(c, p->value);
		if ((e->fn != NULL ? e->fn(c, e, base, v) :
		    parse_value(c, e, base, v)) == -1)
			return -1;
	}
	return 0;
}

/* The defaults of the rows that have one, and of their sections. */
int
set_defaults(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	char **s;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == KT_SECTION) {
			if (set_defaults(k->sub, base) == -1)
				return -1;
		} else if (k->sdef != NULL) {
			s = field(base, k);
			free(*s);
			if ((*s = strdup(k->sdef)) == NULL)
				return -1;
		} else if (k->has_def && k->type == KT_BOOL)
			*(bool *)field(base, k) = k->def != 0;
		else if (k->has_def)
			store_uint(field(base, k), k->size, k->def);
	}
	return 0;
}

void
free_keys(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	char **s;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == KT_SECTION)
			free_keys(k->sub, base);
		else if (k->type == KT_STRING) {
			s = field(base, k);
			free(*s);
			*s = NULL;
		} else if (k->drop != NULL)
			k->drop(base);
	}
}

/* Frees a list of n entries of `size` bytes, each described by keys. */
void
free_entries(const struct cfg_key *keys, void *entries, size_t size,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_keys(keys, (char *)entries + i * size);
	free(entries);
}

bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
name_at_cmp(const void *a, const void *b)
{
	const struct name_at *x = a, *y = b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct name_at *
names_sorted(const void *list, size_t n,
    const char *(*name)(const void *, size_t))
{
	struct name_at *s;

	if ((s = calloc(n, sizeof(*s))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[i].name = name(list, i);
		s[i].index = i;
	}
	qsort(s, n, sizeof(*s), name_at_cmp);
	return s;
}

int
names_first_dup(const void *list, size_t n,
    const char *(*name)(const void *, size_t), size_t *dup, size_t *first)
{
	struct name_at *s;

	*dup = *first = SIZE_MAX;
	if (n < 2)
		return 0;
	if ((s = names_sorted(list, n, name)) == NULL)
		return -1;
	/* j: the first of the name of i, its lowest index. */
	for (size_t i = 1, j = 0; i < n; i++) {
		if (strcmp(s[i].name, s[j].name) != 0) {
			j = i;
			continue;
		}
		if (s[i].index < *dup) {
			*dup = s[i].index;
			*first = s[j].index;
		}
	}
	free(s);
	return 0;
}

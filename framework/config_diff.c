/*
 * What a reload must do, found by comparing two configs key by key through
 * the same tables that read them, and the list of keys for tests and docs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"

static bool
key_same(const struct cfg_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case KT_SECTION:
		return diff_keys(k->sub, "", a, b, NULL) == 0;
	case KT_BOOL:
		return *(const bool *)cfield(a, k) == *(const bool *)cfield(b, k);
	case KT_UINT:
	case KT_DURATION:
	case KT_ENUM:
		return load_uint(cfield(a, k), k->size) ==
		    load_uint(cfield(b, k), k->size);
	case KT_STRING:
		return str_eq(*(char *const *)cfield(a, k),
		    *(char *const *)cfield(b, k));
	case KT_CUSTOM:
		return k->same(a, b);
	}
	return false;
}

unsigned
diff_keys(const struct cfg_key *keys, const char *prefix, const void *a,
    const void *b, void (*restart)(const char *))
{
	const struct cfg_key *k;
	char path[64];
	unsigned m;

	m = 0;
	for (k = keys; k->name != NULL; k++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", k->name);
		if (k->type == KT_SECTION)
			m |= diff_keys(k->sub, path, a, b, restart);
		else if (!key_same(k, a, b)) {
			m |= k->reload;
			if (k->reload == CFG_RELOAD_RESTART && restart != NULL)
				restart(path);
		}
	}
	return m;
}

unsigned
cfg_diff(const struct cfg *old, const struct cfg *new, size_t capture,
    void (*restart)(const char *key))
{
	if (capture == CFG_DIFF_GLOBAL)
		return diff_keys(cfg_top_keys, "", old, new, restart);
	return diff_keys(cfg_capture_keys, "captures", &old->captures[capture],
	    &new->captures[capture], restart);
}

bool
cfg_capture_rebuilt(const struct cfg_capture *a, const struct cfg_capture *b)
{
	return (diff_keys(cfg_capture_keys, "captures", a, b, NULL) &
	    CFG_RELOAD_CAPTURE) != 0;
}

static void
keep_keys(const struct cfg_key *keys, void *to, const void *from)
{
	const struct cfg_key *k;
	char *const *src;
	char **dst, *d;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == KT_SECTION) {
			keep_keys(k->sub, to, from);
			continue;
		}
		if (k->reload != CFG_RELOAD_RESTART || key_same(k, to, from))
			continue;
		switch (k->type) {
		case KT_STRING:
			src = cfield(from, k);
			dst = field(to, k);
			d = NULL;
			if (*src != NULL && (d = strdup(*src)) == NULL)
				break;
			free(*dst);
			*dst = d;
			break;
		case KT_BOOL:
			*(bool *)field(to, k) = *(const bool *)cfield(from, k);
			break;
		case KT_UINT:
		case KT_DURATION:
		case KT_ENUM:
			store_uint(field(to, k), k->size,
			    load_uint(cfield(from, k), k->size));
			break;
		default:
			break;
		}
	}
}

void
cfg_keep_restart(struct cfg *cfg, const struct cfg *running)
{
	keep_keys(cfg_top_keys, cfg, running);
}

static const struct cfg_key *
key_at(const struct cfg_key *keys, const char *prefix, size_t *i,
    char *path, size_t len)
{
	const struct cfg_key *k, *r;
	char buf[64];

	for (k = keys; k->name != NULL; k++) {
		snprintf(buf, sizeof(buf), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", k->name);
		if ((*i)-- == 0) {
			snprintf(path, len, "%s", buf);
			return k;
		}
		if (k->sub != NULL &&
		    (r = key_at(k->sub, buf, i, path, len)) != NULL)
			return r;
	}
	return NULL;
}

int
cfg_key_info(size_t i, char *path, size_t len, unsigned *reload,
    const char **sample)
{
	const struct cfg_key *k;

	if ((k = key_at(cfg_top_keys, "", &i, path, len)) == NULL)
		return -1;
	*reload = k->reload;
	*sample = k->sample;
	return 0;
}

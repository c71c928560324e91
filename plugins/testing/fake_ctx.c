#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_ctx.h"

static struct fake_ctx *
fake(struct ringfan_ctx *pub)
{
	return (struct fake_ctx *)pub;
}

/* The value of key, or NULL when it is not among the options. */
static const char *
fake_opt(struct ringfan_ctx *pub, const char *key)
{
	struct fake_ctx *f = fake(pub);
	size_t klen = strlen(key);

	for (int i = 0; i < FAKE_OPTS && f->opts[i] != NULL; i++) {
		if (strncmp(f->opts[i], key, klen) == 0 &&
		    f->opts[i][klen] == '=') {
			f->asked[i] = 1;
			return f->opts[i] + klen + 1;
		}
	}
	return NULL;
}

static void RINGFAN_PRINTF(2, 3)
fake_error(struct ringfan_ctx *pub, const char *fmt, ...)
{
	struct fake_ctx *f = fake(pub);
	va_list ap;

	if (f->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(f->error, sizeof(f->error), fmt, ap);
	va_end(ap);
}

static void RINGFAN_PRINTF(2, 3)
fake_status(struct ringfan_ctx *pub, const char *fmt, ...)
{
	struct fake_ctx *f = fake(pub);
	va_list ap;

	if (fmt == NULL) {
		f->status[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(f->status, sizeof(f->status), fmt, ap);
	va_end(ap);
}

static void RINGFAN_PRINTF(3, 4)
fake_log(struct ringfan_ctx *pub, int level, const char *fmt, ...)
{
	struct fake_ctx *f = fake(pub);
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(f->log, sizeof(f->log), fmt, ap);
	va_end(ap);
	f->nlog++;
}

static int
fake_opt_string(struct ringfan_ctx *pub, const char *key, const char *def,
    const char **out)
{
	const char *v = fake_opt(pub, key);

	*out = v != NULL ? v : def;
	return 0;
}

/*
 * A decimal number followed by one of units[] ("" for none), times the
 * matching mult[]; -1 if malformed.
 */
static int
fake_number(const char *s, const char *const *units, const uint64_t *mult,
    uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	n = strtoull(s, &end, 10);
	for (int i = 0; units[i] != NULL; i++) {
		if (strcmp(end, units[i]) == 0) {
			*out = n * mult[i];
			return 0;
		}
	}
	return -1;
}

static int
fake_opt_uint(struct ringfan_ctx *pub, const char *key, uint64_t def,
    uint64_t *out)
{
	static const char *const none[] = { "", NULL };
	static const uint64_t one[] = { 1 };
	const char *v = fake_opt(pub, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (fake_number(v, none, one, out) == -1) {
		fake_error(pub, "%s: not an unsigned integer: \"%s\"", key, v);
		return -1;
	}
	return 0;
}

static int
fake_opt_bool(struct ringfan_ctx *pub, const char *key, int def, int *out)
{
	const char *v = fake_opt(pub, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else {
		fake_error(pub, "%s: not a boolean: \"%s\"", key, v);
		return -1;
	}
	return 0;
}

static int
fake_opt_size(struct ringfan_ctx *pub, const char *key, uint64_t def,
    uint64_t *out)
{
	static const char *const units[] = { "", "B", "KiB", "MiB", "GiB",
	    NULL };
	static const uint64_t mult[] = { 1, 1, 1 << 10, 1 << 20, 1 << 30 };
	const char *v = fake_opt(pub, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (fake_number(v, units, mult, out) == -1) {
		fake_error(pub, "%s: not a size: \"%s\"", key, v);
		return -1;
	}
	return 0;
}

static int
fake_opt_duration(struct ringfan_ctx *pub, const char *key, uint64_t def,
    uint64_t *out)
{
	static const char *const units[] = { "ms", "s", "m", "h", NULL };
	static const uint64_t mult[] = { 1000000ULL, 1000000000ULL,
	    60000000000ULL, 3600000000000ULL };
	const char *v = fake_opt(pub, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (fake_number(v, units, mult, out) == -1) {
		fake_error(pub, "%s: not a duration: \"%s\"", key, v);
		return -1;
	}
	return 0;
}

static uint64_t *
fake_slot(struct ringfan_ctx *pub, const char *name, int gauge)
{
	struct fake_ctx *f = fake(pub);

	for (size_t i = 0; i < f->nslots; i++) {
		if (strcmp(f->slots[i].name, name) == 0) {
			if (f->slots[i].gauge != gauge) {
				fake_error(pub, "%s: kind differs", name);
				return NULL;
			}
			return &f->slots[i].value;
		}
	}
	if (f->nslots == FAKE_SLOTS || strlen(name) >= 40) {
		fake_error(pub, "%s: no slot", name);
		return NULL;
	}
	snprintf(f->slots[f->nslots].name, 40, "%s", name);
	f->slots[f->nslots].gauge = gauge;
	return &f->slots[f->nslots++].value;
}

static uint64_t *
fake_counter(struct ringfan_ctx *pub, const char *name)
{
	return fake_slot(pub, name, 0);
}

static uint64_t *
fake_gauge(struct ringfan_ctx *pub, const char *name)
{
	return fake_slot(pub, name, 1);
}

static int
fake_memory_request(struct ringfan_ctx *pub, uint64_t size, uint32_t layout)
{
	struct fake_ctx *f = fake(pub);

	if (size == 0 || size > (1ULL << 30) || layout == 0) {
		fake_error(pub, "memory_request(%llu, %u) refused",
		    (unsigned long long)size, (unsigned)layout);
		return -1;
	}
	f->mem_size = size;
	f->mem_layout = layout;
	return 0;
}

static void
fake_tick_period(struct ringfan_ctx *pub, uint64_t period_ns)
{
	fake(pub)->tick_ns = period_ns;
}

void
fake_ctx_init(struct fake_ctx *f, const char *const *opts)
{
	memset(f, 0, sizeof(*f));
	f->pub.abi = RINGFAN_PLUGIN_ABI;
	f->pub.size = sizeof(f->pub);
	f->pub.worker_id = 0;
	f->pub.worker_count = 1;
	f->pub.capture = "test";
	f->pub.interface = "test0";
	f->pub.linktype = 1;		/* DLT_EN10MB */
	f->pub.snaplen = 262144;
	f->pub.opt_string = fake_opt_string;
	f->pub.opt_uint = fake_opt_uint;
	f->pub.opt_bool = fake_opt_bool;
	f->pub.opt_size = fake_opt_size;
	f->pub.opt_duration = fake_opt_duration;
	f->pub.counter = fake_counter;
	f->pub.gauge = fake_gauge;
	f->pub.memory_request = fake_memory_request;
	f->pub.tick_period = fake_tick_period;
	f->pub.log = fake_log;
	f->pub.error = fake_error;
	f->pub.status = fake_status;
	for (int i = 0; opts != NULL && opts[i] != NULL && i < FAKE_OPTS; i++)
		f->opts[i] = opts[i];
}

void
fake_ctx_memory(struct fake_ctx *f, void *mem, int state)
{
	f->pub.memory = mem;
	f->pub.memory_size = mem != NULL ? f->mem_size : 0;
	f->pub.memory_state = state;
	f->pub.memory_layout = state == RINGFAN_MEMORY_RECOVERED ?
	    f->mem_layout : 0;
}

uint64_t
fake_ctx_value(const struct fake_ctx *f, const char *name)
{
	for (size_t i = 0; i < f->nslots; i++)
		if (strcmp(f->slots[i].name, name) == 0)
			return f->slots[i].value;
	return UINT64_MAX;
}

const char *
fake_ctx_unasked(const struct fake_ctx *f)
{
	for (int i = 0; i < FAKE_OPTS && f->opts[i] != NULL; i++)
		if (!f->asked[i])
			return f->opts[i];
	return NULL;
}

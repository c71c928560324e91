/*
 * ringfanctl's reading of replies: any bytes from the control socket (a
 * daemon of another version, a socket that is not ringfan's) through
 * render_reply, and a document it accepts through every screen: status,
 * stats, workers, plugins, reload, restart, stop, help, and top both as a
 * first screen and against the document before it.  Output goes to
 * /dev/null; no crash and no undefined behaviour is the test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "render.h"

#include "fuzz_driver.h"

static int (*const screens[])(FILE *, const json_t *) = {
	render_status, render_stats, render_workers, render_plugins,
	render_reload, render_restart, render_stop, render_help,
};

/* A value of the wrong kind or range, for what a document holds. */
static json_t *
odd_value(unsigned k)
{
	static const char long_text[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	switch (k % 16) {
	case 0:		return json_integer(INT64_MAX);
	case 1:		return json_integer(INT64_MIN);
	case 2:		return json_integer(-1);
	case 3:		return json_integer(0);
	case 4:		return json_real(1e308);
	case 5:		return json_real(-1e308);
	case 6:		return json_real(4.9e-324);
	case 7:		return json_real(-0.5);
	case 8:		return json_string("");
	case 9:		return json_string("\x1b[2J\xc2\x85\t\r\n\x7f");
	case 10:	return json_string(long_text);
	case 11:	return json_null();
	case 12:	return json_true();
	case 13:	return json_array();
	case 14:	return json_object();
	default:	return json_integer(4294967296LL);
	}
}

/*
 * Replaces about one value in four of doc, chosen from *state, with an odd
 * one: the documents that byte mutations seldom make (a number of another
 * kind or range, a table where a number was) though any JSON may come.
 */
static void
twist(json_t *doc, uint64_t *state, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	void *tmp;

	if (depth > 8)
		return;
	if (json_is_object(doc)) {
		json_object_foreach_safe(doc, tmp, key, v) {
			*state = *state * 6364136223846793005ull +
			    1442695040888963407ull;
			if ((*state >> 60) < 4)
				json_object_set_new(doc, key,
				    odd_value((unsigned)(*state >> 33)));
			else
				twist(v, state, depth + 1);
		}
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, v) {
			*state = *state * 6364136223846793005ull +
			    1442695040888963407ull;
			if ((*state >> 60) < 4)
				json_array_set_new(doc, i,
				    odd_value((unsigned)(*state >> 33)));
			else
				twist(v, state, depth + 1);
		}
	}
}

static void
render_all(FILE *out, const json_t *prev, const json_t *doc, size_t size)
{
	for (size_t i = 0; i < sizeof(screens) / sizeof(screens[0]); i++)
		(void)screens[i](out, doc);
	(void)render_top(out, NULL, doc, 0, "12:00:00");
	if (prev != NULL) {
		/* Two seconds apart, and an interval that is no interval. */
		(void)render_top(out, prev, doc, 2.0, "12:00:02");
		(void)render_top(out, doc, prev, -1.0, "12:00:04");
	}
	(void)render_top_footer(out, "/run/ringfan.sock", size & 1);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out, *msg;
	static char msgbuf[8192];
	long n;
	static json_t *prev;	/* the last document accepted */
	json_t *doc, *odd;
	uint64_t state = 0xcbf29ce484222325ull;
	int rc;

	if (out == NULL && (out = fopen("/dev/null", "w")) == NULL)
		abort();
	if (msg == NULL && (msg = fmemopen(msgbuf, sizeof(msgbuf), "w")) ==
	    NULL)
		abort();
	rewind(msg);
	rc = render_reply(msg, "/run/ringfan.sock", (const char *)data, size,
	    &doc);
	if ((rc == 0) != (doc != NULL) || (rc != 0 && rc != RENDER_REFUSED &&
	    rc != RENDER_MALFORMED))
		abort();
	/* What it told: no byte of the reply that drives a terminal. */
	if (fflush(msg) != 0 || (n = ftell(msg)) < 0)
		abort();
	for (long i = 0; i < n; i++)
		if ((((unsigned char)msgbuf[i] < 0x20 && msgbuf[i] != '\n') ||
		    msgbuf[i] == 0x7f || ((unsigned char)msgbuf[i] == 0xc2 &&
		    i + 1 < n && (unsigned char)msgbuf[i + 1] >= 0x80 &&
		    (unsigned char)msgbuf[i + 1] <= 0x9f))) {
			fprintf(stderr, "a control byte in: %.*s\n", (int)n,
			    msgbuf);
			abort();
		}
	if (doc == NULL)
		return 0;
	render_all(out, prev, doc, size);
	/* The same document with odd values, against itself as it came. */
	for (size_t i = 0; i < size; i++)
		state = (state ^ data[i]) * 0x100000001b3ull;
	if ((odd = json_deep_copy(doc)) != NULL) {
		twist(odd, &state, 0);
		render_all(out, doc, odd, size);
		json_decref(odd);
	}
	json_decref(prev);
	prev = doc;
	return 0;
}

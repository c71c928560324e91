/*
 * The control socket's request lines, from the dispatch on: the command
 * word, its argument and each handler's parsing of it (restart's
 * CAPTURE[/WORKER]).  The input is cut into lines at '\n' as the transport
 * cuts a client's bytes (control.c); a line with a NUL byte stops at it, as
 * a C string does, and one longer than CTL_LINE_MAX is cut to it.  Every
 * line must get a reply: JSON that jansson reads back as an object, an
 * "error" in it a string; metrics answers in Prometheus text instead.
 *
 * The master is made up as in tests/unit/test_control.c: its captures and
 * their statistics region, and no worker, so that nothing is started,
 * signalled or restarted.  It is made anew for every input.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "master_int.h"
#include "stats.h"

#include "fuzz_driver.h"

#define NCAPS	3
#define NWORKERS 6	/* 4 + 1 + 1 */

static struct cfg_capture caps[NCAPS];
static struct cfg cfg;
static struct stats_shm *shm;
static unsigned first_slot[NCAPS] = { 0, 4, 5 };
static uint16_t groups[NCAPS] = { 7, 8, 9 };
static unsigned others[NCAPS] = { 0, 1, 0 };
static const char *no_names[1];
static const char **plugin_names[NCAPS] = { no_names, no_names,
    no_names };

static void
setup(void)
{
	int null, saved;

	caps[0] = (struct cfg_capture){ .name = "uplink", .interface = "eth0",
	    .workers = 4 };
	caps[1] = (struct cfg_capture){ .name = "dmz", .interface = "eth1",
	    .workers = 1 };
	/* A name of UTF-8 beyond ASCII, as a capture's name may be. */
	caps[2] = (struct cfg_capture){ .name = "r\xc3\xa9seau",
	    .interface = "eth2", .workers = 1 };
	cfg.captures = caps;
	cfg.ncaptures = NCAPS;
	cfg.path = "/etc/ringfan/ringfan.yaml";
	if ((shm = stats_create(NWORKERS)) == NULL)
		abort();
	/*
	 * The log's lines (a reload without a file, a stop) are not what is
	 * tested: it opens its own descriptor on the stderr it finds, here
	 * /dev/null; the sanitizers' reports still go to the real stderr.
	 */
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1 ||
	    dup2(null, STDERR_FILENO) == -1)
		abort();
	log_init(LOG_LVL_ERROR, 0);
	if (dup2(saved, STDERR_FILENO) == -1)
		abort();
	close(saved);
	close(null);
}

static void
check_reply(const struct ctl_req *rq, const char *line)
{
	json_error_t jerr;
	json_t *doc, *e;

	if (rq->wait != 0 || rq->reply == NULL || rq->reply_len == 0 ||
	    rq->reply_len != strlen(rq->reply) ||
	    rq->reply[rq->reply_len - 1] != '\n') {
		fprintf(stderr, "no reply to \"%s\"\n", line);
		abort();
	}
	if (strcmp(line, "metrics") == 0)
		return;
	if ((doc = json_loads(rq->reply, 0, &jerr)) == NULL ||
	    !json_is_object(doc) || ((e = json_object_get(doc, "error")) !=
	    NULL && !json_is_string(e))) {
		fprintf(stderr, "reply to \"%s\" is no JSON object: %s (%s)\n",
		    line, rq->reply, jerr.text);
		abort();
	}
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[CTL_LINE_MAX + 1], shown[CTL_LINE_MAX + 1];
	struct master m;
	struct ctl_req rq;
	const uint8_t *p = data, *end = data + size, *nl;
	size_t n;

	if (shm == NULL)
		setup();
	memset(&m, 0, sizeof(m));
	m.g.cfg = &cfg;
	m.g.shm = shm;
	m.g.first_slot = first_slot;
	m.g.groups = groups;
	m.g.others = others;
	m.g.plugin_names = plugin_names;
	m.handing = -1;
	/* Each line of the input, the last one without its newline too. */
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > CTL_LINE_MAX)
			n = CTL_LINE_MAX;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl < end ? nl + 1 : end;
		/* The dispatch cuts the line up: its command, for the check. */
		n = strcspn(line + strspn(line, " \t"), " \t\r");
		snprintf(shown, sizeof(shown), "%.*s", (int)n,
		    line + strspn(line, " \t"));
		memset(&rq, 0, sizeof(rq));
		ctl_dispatch(&m, &rq, line);
		check_reply(&rq, shown);
		free(rq.reply);
	}
	return 0;
}

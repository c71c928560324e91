/*
 * ringfanctl's tables, from fixed documents shaped as in docs/control.md.
 * The expected text is spelled out in full: scripts read these tables, so
 * a changed column or spacing is a change of interface.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "render.h"

/* Two workers, one with drops, each with plugin counters. */
static const char stats_doc[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 12.5,\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\",\n"
    "   \"fanout\": {\"mode\": \"hash\", \"group\": 42},\n"
    "   \"totals\": {\"packets\": 3000, \"bytes\": 456000,"
    " \"kernel_packets\": 3200, \"kernel_drops\": 200,\n"
    "              \"kernel_freeze_q\": 0, \"quarantined\": 1},\n"
    "   \"workers\": [{\"id\": 0, \"pid\": 1234, \"cpu\": 0,"
    " \"state\": \"running\", \"restarts\": 0,\n"
    "                \"packets\": 1000, \"bytes\": 64000,"
    " \"kernel_packets\": 1000, \"kernel_drops\": 0,\n"
    "                \"kernel_freeze_q\": 0, \"quarantined\": 0,\n"
    "                \"plugins\": {\"counter\": {\"ipv4\": 900,"
    " \"ipv6\": 100, \"tcp\": 700, \"udp\": 300}}},\n"
    "               {\"id\": 1, \"pid\": 1235, \"cpu\": -1,"
    " \"state\": \"starting\", \"restarts\": 2,\n"
    "                \"packets\": 2000, \"bytes\": 392000,"
    " \"kernel_packets\": 2200, \"kernel_drops\": 200,\n"
    "                \"kernel_freeze_q\": 1, \"quarantined\": 1,\n"
    "                \"plugins\": {\"counter\": {\"ipv4\": 2000,"
    " \"ipv6\": 0, \"tcp\": 1500, \"udp\": 500}}}]}]}\n";

/*
 * Drop% of worker 1: 200 / 2200 = 9.0909...%; of the total: 200 / 3200 =
 * 6.25%.  Worker 1 is unpinned (cpu -1): "-".
 */
static const char stats_text[] =
    "capture uplink on eth0 (fanout hash group 42)\n"
    "WORKER   PID  CPU  STATE     RESTARTS  PACKETS   BYTES  KDROPS  DROP%  QUAR\n"
    "0       1234    0  running          0     1000   64000       0   0.00     0\n"
    "1       1235    -  starting         2     2000  392000     200   9.09     1\n"
    "total      -    -  -                2     3000  456000     200   6.25     1\n"
    "\n"
    "PLUGIN   COUNTER    0     1  TOTAL\n"
    "counter  ipv4     900  2000   2900\n"
    "counter  ipv6     100     0    100\n"
    "counter  tcp      700  1500   2200\n"
    "counter  udp      300   500    800\n";

static const char status_doc[] =
    "{\"version\": \"0.1.0\", \"pid\": 4242, \"uptime_s\": 93784.5,"
    " \"config\": \"/etc/ringfan.yaml\",\n"
    " \"state\": \"running\", \"reloads\": 1,"
    " \"last_reload_error\": \"ringfan.yaml:12:5: unknown key \\\"rign\\\"\",\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"state\": \"running\",\n"
    "               \"workers\": 4, \"running\": 4,\n"
    "               \"fanout\": {\"mode\": \"hash\", \"group\": 42}},\n"
    "              {\"name\": \"dmz\", \"interface\": \"enp3s0f1\","
    " \"state\": \"degraded\",\n"
    "               \"workers\": 16, \"running\": 15,\n"
    "               \"fanout\": {\"mode\": \"cpu\", \"group\": 7}}]}\n";

/* 93784.5 s is 1 day, 2 h, 3 min and 4 s. */
static const char status_text[] =
    "ringfan 0.1.0: running, pid 4242, up 1d 02:03:04,"
    " config /etc/ringfan.yaml, reloads 1\n"
    "last reload error: ringfan.yaml:12:5: unknown key \"rign\"\n"
    "\n"
    "CAPTURE  IFACE     STATE     WORKERS  RUNNING  MODE  GROUP\n"
    "uplink   eth0      running         4        4  hash     42\n"
    "dmz      enp3s0f1  degraded       16       15  cpu       7\n";

static const char workers_doc[] =
    "{\"workers\": [{\"capture\": \"uplink\", \"id\": 0, \"pid\": 4243,"
    " \"cpu\": 0,\n"
    "              \"state\": \"running\", \"restarts\": 1,\n"
    "              \"last_exit\": \"killed by signal 9 (Killed)\"},\n"
    "             {\"capture\": \"uplink\", \"id\": 1, \"pid\": 4244,"
    " \"cpu\": 1,\n"
    "              \"state\": \"running\", \"restarts\": 0,\n"
    "              \"last_exit\": null}]}\n";

static const char workers_text[] =
    "CAPTURE  ID   PID  CPU  STATE    RESTARTS  LAST-EXIT\n"
    "uplink    0  4243    0  running         1  killed by signal 9 (Killed)\n"
    "uplink    1  4244    1  running         0  -\n";

static const char plugins_doc[] =
    "{\"captures\": [{\"name\": \"uplink\", \"plugins\": [\n"
    "   {\"name\": \"counter\", \"version\": \"1.0\","
    " \"description\": \"counts frames by protocol\",\n"
    "    \"path\": \"/usr/local/lib/ringfan/plugins/counter.so\","
    " \"abi\": \"1.0\"},\n"
    "   {\"name\": \"flowtable\", \"version\": \"0.9.2\","
    " \"description\": \"bidirectional flow records\",\n"
    "    \"path\": \"/usr/local/lib/ringfan/plugins/flowtable.so\","
    " \"abi\": \"1.0\"}]}]}\n";

static const char plugins_text[] =
    "CAPTURE  PLUGIN     VERSION  ABI  PATH"
    "                                         DESCRIPTION\n"
    "uplink   counter    1.0      1.0  /usr/local/lib/ringfan/plugins/counter.so"
    "    counts frames by protocol\n"
    "uplink   flowtable  0.9.2    1.0  /usr/local/lib/ringfan/plugins/flowtable.so"
    "  bidirectional flow records\n";

/*
 * Two samples 2 s apart: worker 0 handled 2000 more frames (1,000,000
 * more bytes) and lost 10 more; worker 1's counters did not move.
 */
static const char top_prev[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 100.0,\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"fanout\": {\"mode\": \"lb\", \"group\": 3},\n"
    "   \"totals\": {\"packets\": 5000, \"bytes\": 3000000,"
    " \"kernel_packets\": 5000, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0},\n"
    "   \"workers\": [{\"id\": 0, \"pid\": 10, \"cpu\": 0,"
    " \"state\": \"running\", \"restarts\": 0, \"packets\": 3000,"
    " \"bytes\": 2000000, \"kernel_packets\": 3000, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0, \"plugins\": {}},\n"
    "                {\"id\": 1, \"pid\": 11, \"cpu\": 1,"
    " \"state\": \"running\", \"restarts\": 0, \"packets\": 2000,"
    " \"bytes\": 1000000, \"kernel_packets\": 2000, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0, \"plugins\": {}}]}]}\n";

static const char top_cur[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 102.0,\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"fanout\": {\"mode\": \"lb\", \"group\": 3},\n"
    "   \"totals\": {\"packets\": 7000, \"bytes\": 4000000,"
    " \"kernel_packets\": 7010, \"kernel_drops\": 10,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0},\n"
    "   \"workers\": [{\"id\": 0, \"pid\": 10, \"cpu\": 0,"
    " \"state\": \"running\", \"restarts\": 0, \"packets\": 5000,"
    " \"bytes\": 3000000, \"kernel_packets\": 5010, \"kernel_drops\": 10,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0, \"plugins\": {}},\n"
    "                {\"id\": 1, \"pid\": 12, \"cpu\": 1,"
    " \"state\": \"running\", \"restarts\": 1, \"packets\": 2000,"
    " \"bytes\": 1000000, \"kernel_packets\": 2000, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0, \"plugins\": {}}]}]}\n";

/*
 * Worker 0: 2000 frames / 2 s = 1000/s; 1,000,000 bytes / 2 s = 500,000 B/s
 * = 4.00 Mbit/s; 10 drops / 2 s = 5/s; drop% 10 / 5010 = 0.1996% -> 0.20.
 * Total drop% 10 / 7010 = 0.1427% -> 0.14.
 */
static const char top_text[] =
    "ringfan 0.1.0 at 12:34:56, up 0:01:42: 1000 pkt/s, 4.00 Mbit/s,"
    " 5 drops/s; packets 7000, kdrops 10 (0.14%)\n"
    "\n"
    "capture uplink on eth0 (fanout lb group 3)\n"
    "WORKER  STATE    PKT/S  MBIT/S  DROPS/S  PACKETS  KDROPS  DROP%  RESTARTS\n"
    "0       running   1000    4.00        5     5000      10   0.20         0\n"
    "1       running      0    0.00        0     2000       0   0.00         1\n"
    "total   -         1000    4.00        5     7000      10   0.14         1\n";

static const char top_first_text[] =
    "ringfan 0.1.0 at 12:34:55, up 0:01:40: 0 pkt/s, 0.00 Mbit/s,"
    " 0 drops/s; packets 5000, kdrops 0 (0.00%)\n"
    "\n"
    "capture uplink on eth0 (fanout lb group 3)\n"
    "WORKER  STATE    PKT/S  MBIT/S  DROPS/S  PACKETS  KDROPS  DROP%  RESTARTS\n"
    "0       running      0    0.00        0     3000       0   0.00         0\n"
    "1       running      0    0.00        0     2000       0   0.00         0\n"
    "total   -            0    0.00        0     5000       0   0.00         0\n";

static json_t *
load(const char *text)
{
	json_error_t error;
	json_t *doc;

	doc = json_loads(text, 0, &error);
	if (doc == NULL)
		fail_msg("fixture: %s at line %d column %d", error.text,
		    error.line, error.column);
	return doc;
}

/* Runs one renderer into memory and compares the whole text. */
static void
check_render(int (*render)(FILE *, const json_t *), const char *doc_text,
    const char *expect)
{
	json_t *doc;
	char *out;
	size_t len;
	FILE *fp;

	doc = load(doc_text);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render(fp, doc), 0);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(out, expect);
	free(out);
	json_decref(doc);
}

static void
test_stats(void **state)
{
	(void)state;
	check_render(render_stats, stats_doc, stats_text);
}

/* Without plugin counters there is no plugin table; no traffic is 0.00%. */
static void
test_stats_no_plugins(void **state)
{
	static const char doc[] =
	    "{\"version\": \"0.1.0\", \"uptime_s\": 1,"
	    " \"captures\": [{\"name\": \"a\", \"interface\": \"lo\","
	    " \"fanout\": {\"mode\": \"cpu\", \"group\": 65535},"
	    " \"totals\": {\"packets\": 0, \"bytes\": 0,"
	    " \"kernel_packets\": 0, \"kernel_drops\": 0,"
	    " \"kernel_freeze_q\": 0, \"quarantined\": 0},"
	    " \"workers\": [{\"id\": 0, \"pid\": 7, \"cpu\": 3,"
	    " \"state\": \"stopped\", \"restarts\": 0, \"packets\": 0,"
	    " \"bytes\": 0, \"kernel_packets\": 0, \"kernel_drops\": 0,"
	    " \"kernel_freeze_q\": 0, \"quarantined\": 0,"
	    " \"plugins\": {}}]},"
	    " {\"name\": \"b\", \"interface\": \"eth1\","
	    " \"fanout\": {\"mode\": \"hash\", \"group\": 1},"
	    " \"totals\": {\"packets\": 0, \"bytes\": 0,"
	    " \"kernel_packets\": 0, \"kernel_drops\": 0,"
	    " \"kernel_freeze_q\": 0, \"quarantined\": 0},"
	    " \"workers\": []}]}";
	static const char text[] =
	    "capture a on lo (fanout cpu group 65535)\n"
	    "WORKER  PID  CPU  STATE    RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
	    "0         7    3  stopped         0        0      0       0   0.00     0\n"
	    "total     -    -  -               0        0      0       0   0.00     0\n"
	    "\n"
	    "capture b on eth1 (fanout hash group 1)\n"
	    "WORKER  PID  CPU  STATE  RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
	    "total     -    -  -             0        0      0       0   0.00     0\n";

	(void)state;
	check_render(render_stats, doc, text);
}

static void
test_status(void **state)
{
	(void)state;
	check_render(render_status, status_doc, status_text);
}

/* No reload error: no line for it. */
static void
test_status_clean(void **state)
{
	static const char doc[] =
	    "{\"version\": \"0.1.0\", \"pid\": 1, \"uptime_s\": 12.5,"
	    " \"config\": \"/etc/ringfan.yaml\", \"state\": \"stopping\","
	    " \"reloads\": 0, \"last_reload_error\": null,"
	    " \"captures\": []}";
	static const char text[] =
	    "ringfan 0.1.0: stopping, pid 1, up 0:00:12,"
	    " config /etc/ringfan.yaml, reloads 0\n"
	    "\n"
	    "CAPTURE  IFACE  STATE  WORKERS  RUNNING  MODE  GROUP\n";

	(void)state;
	check_render(render_status, doc, text);
}

static void
test_workers(void **state)
{
	(void)state;
	check_render(render_workers, workers_doc, workers_text);
}

static void
test_plugins(void **state)
{
	(void)state;
	check_render(render_plugins, plugins_doc, plugins_text);
}

static void
test_small_replies(void **state)
{
	(void)state;
	check_render(render_reload, "{\"ok\": true, \"result\": \"pipeline\"}",
	    "reload: ok (pipeline)\n");
	check_render(render_reload, "{\"ok\": true, \"result\": \"unchanged\"}",
	    "reload: ok (unchanged)\n");
	check_render(render_stop, "{\"ok\": true}", "stopping\n");
	check_render(render_help,
	    "{\"commands\": [{\"name\": \"status\", \"help\": \"health\"},"
	    " {\"name\": \"metrics\", \"help\": \"Prometheus text\"}]}",
	    "status   health\n"
	    "metrics  Prometheus text\n");
}

static void
test_top_rates(void **state)
{
	struct rates r;
	json_t *prev, *cur;

	(void)state;
	prev = load(top_prev);
	cur = load(top_cur);

	assert_int_equal(top_rates(prev, cur, 2.0, "uplink", 0, &r), 0);
	assert_true(r.packets == 1000.0);
	assert_true(r.bytes == 500000.0);
	assert_true(r.drops == 5.0);

	/* A respawned worker (new pid) keeps its counters: no rate. */
	assert_int_equal(top_rates(prev, cur, 2.0, "uplink", 1, &r), 0);
	assert_true(r.packets == 0 && r.bytes == 0 && r.drops == 0);

	/* The capture's totals. */
	assert_int_equal(top_rates(prev, cur, 0.5, "uplink", -1, &r), 0);
	assert_true(r.packets == 4000.0);
	assert_true(r.bytes == 2000000.0);
	assert_true(r.drops == 20.0);

	/* Nothing to compare: all rates 0. */
	assert_int_equal(top_rates(NULL, cur, 2.0, "uplink", 0, &r), -1);
	assert_true(r.packets == 0 && r.bytes == 0 && r.drops == 0);
	assert_int_equal(top_rates(prev, cur, 0.0, "uplink", 0, &r), -1);
	assert_int_equal(top_rates(prev, cur, 2.0, "uplink", 9, &r), -1);
	assert_int_equal(top_rates(prev, cur, 2.0, "nosuch", 0, &r), -1);

	/* Backwards in time: the daemon restarted in between. */
	assert_int_equal(top_rates(cur, prev, 2.0, "uplink", 0, &r), -1);
	assert_true(r.packets == 0 && r.bytes == 0 && r.drops == 0);

	json_decref(prev);
	json_decref(cur);
}

static void
test_top_screen(void **state)
{
	json_t *prev, *cur;
	char *out;
	size_t len;
	FILE *fp;

	(void)state;
	prev = load(top_prev);
	cur = load(top_cur);

	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top(fp, NULL, prev, 0, "12:34:55"), 0);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(out, top_first_text);
	free(out);

	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top(fp, prev, cur, 2.0, "12:34:56"), 0);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(out, top_text);
	free(out);

	json_decref(prev);
	json_decref(cur);
}

/* Fields a document lacks print as "-" and leave the columns in place. */
static void
test_missing_fields(void **state)
{
	static const char doc[] =
	    "{\"workers\": [{\"capture\": \"x\", \"id\": 0}]}";
	static const char text[] =
	    "CAPTURE  ID  PID  CPU  STATE  RESTARTS  LAST-EXIT\n"
	    "x         0    -    -  -             -  -\n";

	(void)state;
	check_render(render_workers, doc, text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_stats_no_plugins),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_clean),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_plugins),
		cmocka_unit_test(test_small_replies),
		cmocka_unit_test(test_top_rates),
		cmocka_unit_test(test_top_screen),
		cmocka_unit_test(test_missing_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

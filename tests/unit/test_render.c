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

/*
 * Plugin ABI 2: a flowtable beside the counter, with gauges, and an error
 * on worker 1.  The counter has no gauges (an empty object) and worker 0
 * no error (an empty errors object).
 */
static const char stats_abi2_doc[] =
    "{\"version\": \"0.2.0\", \"uptime_s\": 60,\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\",\n"
    "   \"fanout\": {\"mode\": \"hash\", \"group\": 42},\n"
    "   \"totals\": {\"packets\": 300, \"bytes\": 30000,"
    " \"kernel_packets\": 300, \"kernel_drops\": 0,\n"
    "              \"kernel_freeze_q\": 0, \"quarantined\": 0},\n"
    "   \"workers\": [{\"id\": 0, \"pid\": 501, \"cpu\": 0,"
    " \"state\": \"running\", \"restarts\": 0,\n"
    "                \"packets\": 100, \"bytes\": 10000,"
    " \"kernel_packets\": 100, \"kernel_drops\": 0,\n"
    "                \"kernel_freeze_q\": 0, \"quarantined\": 0,\n"
    "                \"plugins\": {\"counter\": {\"udp\": 100},"
    " \"flowtable\": {\"flows_ended\": 7}},\n"
    "                \"gauges\": {\"counter\": {},"
    " \"flowtable\": {\"active_flows\": 12, \"open_files\": 1}},\n"
    "                \"errors\": {}},\n"
    "               {\"id\": 1, \"pid\": 502, \"cpu\": 1,"
    " \"state\": \"running\", \"restarts\": 0,\n"
    "                \"packets\": 200, \"bytes\": 20000,"
    " \"kernel_packets\": 200, \"kernel_drops\": 0,\n"
    "                \"kernel_freeze_q\": 0, \"quarantined\": 0,\n"
    "                \"plugins\": {\"counter\": {\"udp\": 200},"
    " \"flowtable\": {\"flows_ended\": 3}},\n"
    "                \"gauges\": {\"counter\": {},"
    " \"flowtable\": {\"active_flows\": 30, \"open_files\": 0}},\n"
    "                \"errors\": {\"flowtable\":"
    " \"ipfix udp://192.0.2.1:4739: Connection refused\"}}]}]}\n";

/*
 * The levels and the problems of stats_abi2_doc, the same under `stats` and
 * `top`.  Gauges are summed too: the capture holds 42 flows in all.
 */
#define ABI2_SECTIONS							\
    "\n"								\
    "PLUGIN     GAUGE          0   1  TOTAL\n"				\
    "flowtable  active_flows  12  30     42\n"				\
    "flowtable  open_files     1   0      1\n"				\
    "\n"								\
    "WORKER  PLUGIN     ERROR\n"					\
    "1       flowtable  ipfix udp://192.0.2.1:4739: Connection refused\n"

static const char stats_abi2_text[] =
    "capture uplink on eth0 (fanout hash group 42)\n"
    "WORKER  PID  CPU  STATE    RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "0       501    0  running         0      100  10000       0   0.00     0\n"
    "1       502    1  running         0      200  20000       0   0.00     0\n"
    "total     -    -  -               0      300  30000       0   0.00     0\n"
    "\n"
    "PLUGIN     COUNTER        0    1  TOTAL\n"
    "counter    udp          100  200    300\n"
    "flowtable  flows_ended    7    3     10\n"
    ABI2_SECTIONS;

static const char status_doc[] =
    "{\"version\": \"0.1.0\", \"pid\": 4242, \"uptime_s\": 93784.5,"
    " \"config\": \"/etc/ringfan.yaml\",\n"
    " \"state\": \"running\", \"reloads\": 1,"
    " \"last_reload_error\": \"ringfan.yaml:12:5: unknown key \\\"rign\\\"\",\n"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"state\": \"running\",\n"
    "               \"workers\": 4, \"running\": 4,\n"
    "               \"fanout\": {\"mode\": \"hash\", \"group\": 42,"
    " \"others\": 0}},\n"
    "              {\"name\": \"dmz\", \"interface\": \"enp3s0f1\","
    " \"state\": \"degraded\",\n"
    "               \"workers\": 16, \"running\": 15,\n"
    "               \"fanout\": {\"mode\": \"cpu\", \"group\": 7,"
    " \"others\": 2}}]}\n";

/* 93784.5 s is 1 day, 2 h, 3 min and 4 s. */
static const char status_text[] =
    "ringfan 0.1.0: running, pid 4242, up 1d 02:03:04,"
    " config /etc/ringfan.yaml, reloads 1\n"
    "last reload error: ringfan.yaml:12:5: unknown key \"rign\"\n"
    "\n"
    "CAPTURE  IFACE     STATE     WORKERS  RUNNING  MODE  GROUP  OTHERS\n"
    "uplink   eth0      running         4        4  hash     42       0\n"
    "dmz      enp3s0f1  degraded       16       15  cpu       7       2\n";

static const char workers_doc[] =
    "{\"workers\": [{\"capture\": \"uplink\", \"id\": 0, \"pid\": 4243,"
    " \"cpu\": 0,\n"
    "              \"state\": \"running\", \"restarts\": 1,"
    " \"stalls\": 1,\n"
    "              \"last_exit\": \"killed after a stall in plugin spin\"},\n"
    "             {\"capture\": \"uplink\", \"id\": 1, \"pid\": 4244,"
    " \"cpu\": 1,\n"
    "              \"state\": \"running\", \"restarts\": 0,"
    " \"stalls\": 0,\n"
    "              \"last_exit\": null}]}\n";

static const char workers_text[] =
    "CAPTURE  ID   PID  CPU  STATE    RESTARTS  STALLS  LAST-EXIT\n"
    "uplink    0  4243    0  running         1       1  killed after a stall in plugin spin\n"
    "uplink    1  4244    1  running         0       0  -\n";

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
 * Plugin errors follow the process table, in a table of their own; a
 * worker with two problems has two rows.
 */
static const char workers_abi2_doc[] =
    "{\"workers\": [{\"capture\": \"uplink\", \"id\": 0, \"pid\": 4243,"
    " \"cpu\": 0,\n"
    "              \"state\": \"running\", \"restarts\": 0,"
    " \"last_exit\": null, \"errors\": {}},\n"
    "             {\"capture\": \"uplink\", \"id\": 1, \"pid\": 4244,"
    " \"cpu\": 1,\n"
    "              \"state\": \"running\", \"restarts\": 0,"
    " \"last_exit\": null,\n"
    "              \"errors\": {\"flowtable\": \"ipfix: collector"
    " unreachable\",\n"
    "                         \"pcapwriter\": \"/var/lib/ringfan/pcap:"
    " No space left on device\"}},\n"
    "             {\"capture\": \"dmz\", \"id\": 12, \"pid\": 4300,"
    " \"cpu\": 12,\n"
    "              \"state\": \"running\", \"restarts\": 0,"
    " \"last_exit\": null,\n"
    "              \"errors\": {\"flowtable\": \"out of flow slots\"}}]}\n";

static const char workers_abi2_text[] =
    "CAPTURE  ID   PID  CPU  STATE    RESTARTS  STALLS  LAST-EXIT\n"
    "uplink    0  4243    0  running         0       -  -\n"
    "uplink    1  4244    1  running         0       -  -\n"
    "dmz      12  4300   12  running         0       -  -\n"
    "\n"
    "CAPTURE  ID  PLUGIN      ERROR\n"
    "uplink    1  flowtable   ipfix: collector unreachable\n"
    "uplink    1  pcapwriter  /var/lib/ringfan/pcap: No space left on device\n"
    "dmz      12  flowtable   out of flow slots\n";

static const char plugins_abi2_doc[] =
    "{\"captures\": [{\"name\": \"uplink\", \"plugins\": [\n"
    "   {\"name\": \"counter\", \"version\": \"1.1\","
    " \"description\": \"counts frames by protocol\",\n"
    "    \"path\": \"/usr/lib/ringfan/counter.so\", \"abi\": \"2.0\","
    " \"errors\": []},\n"
    "   {\"name\": \"flowtable\", \"version\": \"1.0\","
    " \"description\": \"bidirectional flow records\",\n"
    "    \"path\": \"/usr/lib/ringfan/flowtable.so\", \"abi\": \"2.0\",\n"
    "    \"errors\": [{\"worker\": 1, \"error\": \"ipfix: collector"
    " unreachable\"},\n"
    "               {\"worker\": 3, \"error\": \"ipfix: collector"
    " unreachable\"}]}]}]}\n";

static const char plugins_abi2_text[] =
    "CAPTURE  PLUGIN     VERSION  ABI  PATH"
    "                           DESCRIPTION\n"
    "uplink   counter    1.1      2.0  /usr/lib/ringfan/counter.so"
    "    counts frames by protocol\n"
    "uplink   flowtable  1.0      2.0  /usr/lib/ringfan/flowtable.so"
    "  bidirectional flow records\n"
    "\n"
    "CAPTURE  PLUGIN     WORKER  ERROR\n"
    "uplink   flowtable       1  ipfix: collector unreachable\n"
    "uplink   flowtable       3  ipfix: collector unreachable\n";

/* Steps: a plugin in two steps shows each step's name beside its own. */
static const char plugins_steps_doc[] =
    "{\"captures\": [{\"name\": \"uplink\", \"plugins\": [\n"
    "   {\"name\": \"filter\", \"step\": \"filter\", \"version\": \"1.0\","
    " \"description\": \"d\", \"path\": \"/p/filter.so\", \"abi\": \"2.1\","
    " \"errors\": []},\n"
    "   {\"name\": \"filter\", \"step\": \"web\", \"version\": \"1.0\","
    " \"description\": \"d\", \"path\": \"/p/filter.so\", \"abi\": \"2.1\","
    " \"errors\": [{\"worker\": 0, \"error\": \"e\"}]}]}]}\n";

static const char plugins_steps_text[] =
    "CAPTURE  PLUGIN        VERSION  ABI  PATH          DESCRIPTION\n"
    "uplink   filter        1.0      2.1  /p/filter.so  d\n"
    "uplink   web (filter)  1.0      2.1  /p/filter.so  d\n"
    "\n"
    "CAPTURE  PLUGIN        WORKER  ERROR\n"
    "uplink   web (filter)       0  e\n";

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

/* The document of stats_abi2_doc on a first screen of top. */
static const char top_abi2_text[] =
    "ringfan 0.2.0 at 10:00:00, up 0:01:00: 0 pkt/s, 0.00 Mbit/s,"
    " 0 drops/s; packets 300, kdrops 0 (0.00%)\n"
    "\n"
    "capture uplink on eth0 (fanout hash group 42)\n"
    "WORKER  STATE    PKT/S  MBIT/S  DROPS/S  PACKETS  KDROPS  DROP%  RESTARTS\n"
    "0       running      0    0.00        0      100       0   0.00         0\n"
    "1       running      0    0.00        0      200       0   0.00         0\n"
    "total   -            0    0.00        0      300       0   0.00         0\n"
    ABI2_SECTIONS;

/*
 * Without plugin values there is no plugin table; no traffic is 0.00%.
 * Another program's socket in b's group is said on its line.
 */
static const char stats_empty_doc[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 1,"
    " \"captures\": [{\"name\": \"a\", \"interface\": \"lo\","
    " \"fanout\": {\"mode\": \"cpu\", \"group\": 65535, \"others\": 0},"
    " \"totals\": {\"packets\": 0, \"bytes\": 0,"
    " \"kernel_packets\": 0, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0},"
    " \"workers\": [{\"id\": 0, \"pid\": 7, \"cpu\": 3,"
    " \"state\": \"stopped\", \"restarts\": 0, \"packets\": 0,"
    " \"bytes\": 0, \"kernel_packets\": 0, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0,"
    " \"plugins\": {}}]},"
    " {\"name\": \"b\", \"interface\": \"eth1\","
    " \"fanout\": {\"mode\": \"hash\", \"group\": 1, \"others\": 1},"
    " \"totals\": {\"packets\": 0, \"bytes\": 0,"
    " \"kernel_packets\": 0, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0},"
    " \"workers\": []}]}";
static const char stats_empty_text[] =
    "capture a on lo (fanout cpu group 65535)\n"
    "WORKER  PID  CPU  STATE    RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "0         7    3  stopped         0        0      0       0   0.00     0\n"
    "total     -    -  -               0        0      0       0   0.00     0\n"
    "\n"
    "capture b on eth1 (fanout hash group 1, 1 socket of another program"
    " in it)\n"
    "WORKER  PID  CPU  STATE  RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "total     -    -  -             0        0      0       0   0.00     0\n";

/*
 * A capture's state is on its line when it does not run in full (its
 * interface is down or gone); a running one's line is as it always was.
 */
static const char stats_state_doc[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 1,"
    " \"captures\": [{\"name\": \"a\", \"interface\": \"eth0\","
    " \"state\": \"running\","
    " \"fanout\": {\"mode\": \"hash\", \"group\": 7},"
    " \"totals\": {}, \"workers\": []},"
    " {\"name\": \"b\", \"interface\": \"eth1\", \"state\": \"waiting\","
    " \"fanout\": {\"mode\": \"hash\", \"group\": 8},"
    " \"totals\": {}, \"workers\": [{\"id\": 0, \"pid\": 0, \"cpu\": -1,"
    " \"state\": \"stopped\", \"restarts\": 0, \"packets\": 5,"
    " \"bytes\": 300, \"kernel_packets\": 5, \"kernel_drops\": 0,"
    " \"kernel_freeze_q\": 0, \"quarantined\": 0}]}]}";
static const char stats_state_text[] =
    "capture a on eth0 (fanout hash group 7)\n"
    "WORKER  PID  CPU  STATE  RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "total     -    -  -             0        -      -       -   0.00     -\n"
    "\n"
    "capture b on eth1 (fanout hash group 8): waiting\n"
    "WORKER  PID  CPU  STATE    RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "0         0    -  stopped         0        5    300       0   0.00     0\n"
    "total     -    -  -               0        -      -       -   0.00     -\n";

/* No reload error: no line for it. */
static const char status_clean_doc[] =
    "{\"version\": \"0.1.0\", \"pid\": 1, \"uptime_s\": 12.5,"
    " \"config\": \"/etc/ringfan.yaml\", \"state\": \"stopping\","
    " \"reloads\": 0, \"last_reload_error\": null,"
    " \"captures\": []}";
static const char status_clean_text[] =
    "ringfan 0.1.0: stopping, pid 1, up 0:00:12,"
    " config /etc/ringfan.yaml, reloads 0\n"
    "\n"
    "CAPTURE  IFACE  STATE  WORKERS  RUNNING  MODE  GROUP  OTHERS\n";

/*
 * A plugin's error text is the plugin's to choose: control characters in
 * it (an escape sequence, a newline, a C1 CSI) print as '?', and an error
 * that is not a string is no error.
 */
static const char error_text_doc[] =
    "{\"workers\": [{\"capture\": \"a\", \"id\": 0,"
    " \"errors\": {\"x\": \"bad\\u001b[2Jthing\\nnext\\tcol"
    "\\u009bend \\u00e9t\\u00e9\", \"y\": null}}]}";
static const char error_text_text[] =
    "CAPTURE  ID  PID  CPU  STATE  RESTARTS  STALLS  LAST-EXIT\n"
    "a         0    -    -  -             -       -  -\n"
    "\n"
    "CAPTURE  ID  PLUGIN  ERROR\n"
    "a         0  x       bad?[2Jthing?next?col?end \u00e9t\u00e9\n";

/*
 * The same outside the tables: the status line's path and the last
 * reload's error (a plugin's text), a restart's names.
 */
static const char status_ctl_doc[] =
    "{\"version\": \"0.1.0\", \"pid\": 1, \"uptime_s\": 1,"
    " \"config\": \"/etc/r\\ning.yaml\", \"state\": \"running\","
    " \"reloads\": 1, \"last_reload_error\":"
    " \"reload: plugin x: \\u001b[2Jgone\\u009b\","
    " \"captures\": []}";
static const char status_ctl_text[] =
    "ringfan 0.1.0: running, pid 1, up 0:00:01,"
    " config /etc/r?ing.yaml, reloads 1\n"
    "last reload error: reload: plugin x: ?[2Jgone?\n"
    "\n"
    "CAPTURE  IFACE  STATE  WORKERS  RUNNING  MODE  GROUP  OTHERS\n";

/* Fields a document lacks print as "-" and leave the columns in place. */
static const char missing_doc[] =
    "{\"workers\": [{\"capture\": \"x\", \"id\": 0}]}";
static const char missing_text[] =
    "CAPTURE  ID  PID  CPU  STATE  RESTARTS  STALLS  LAST-EXIT\n"
    "x         0    -    -  -             -       -  -\n";

/*
 * Levels at the largest JSON integer, as the host shows any above it:
 * their total is held in 64 unsigned bits, not wrapped negative.
 */
static const char stats_top_doc[] =
    "{\"version\": \"0.2.0\", \"uptime_s\": 1,\n"
    " \"captures\": [{\"name\": \"up\", \"interface\": \"eth0\",\n"
    "   \"fanout\": {\"mode\": \"hash\", \"group\": 1},\n"
    "   \"totals\": {\"packets\": 0, \"bytes\": 0,"
    " \"kernel_packets\": 0, \"kernel_drops\": 0,\n"
    "              \"kernel_freeze_q\": 0, \"quarantined\": 0},\n"
    "   \"workers\": [{\"id\": 0, \"pid\": 1, \"cpu\": 0,"
    " \"state\": \"running\", \"restarts\": 0,\n"
    "                \"packets\": 0, \"bytes\": 0,"
    " \"kernel_packets\": 0, \"kernel_drops\": 0,\n"
    "                \"kernel_freeze_q\": 0, \"quarantined\": 0,\n"
    "                \"plugins\": {\"p\": {}},"
    " \"gauges\": {\"p\": {\"level\": 9223372036854775807}}},\n"
    "               {\"id\": 1, \"pid\": 2, \"cpu\": 1,"
    " \"state\": \"running\", \"restarts\": 0,\n"
    "                \"packets\": 0, \"bytes\": 0,"
    " \"kernel_packets\": 0, \"kernel_drops\": 0,\n"
    "                \"kernel_freeze_q\": 0, \"quarantined\": 0,\n"
    "                \"plugins\": {\"p\": {}},"
    " \"gauges\": {\"p\": {\"level\": 9223372036854775807}}}]}]}\n";

static const char stats_top_text[] =
    "capture up on eth0 (fanout hash group 1)\n"
    "WORKER  PID  CPU  STATE    RESTARTS  PACKETS  BYTES  KDROPS  DROP%  QUAR\n"
    "0         1    0  running         0        0      0       0   0.00     0\n"
    "1         2    1  running         0        0      0       0   0.00     0\n"
    "total     -    -  -               0        0      0       0   0.00     0\n"
    "\n"
    "PLUGIN  GAUGE                    0                    1                 TOTAL\n"
    "p       level  9223372036854775807  9223372036854775807  18446744073709551614\n";

/* Every document above with its renderer and the text it must give. */
static const struct render_case {
	const char	*name;
	int		(*render)(FILE *, const json_t *);
	const char	*doc;
	const char	*text;
} render_cases[] = {
	{ "stats", render_stats, stats_doc, stats_text },
	{ "stats, ABI 2", render_stats, stats_abi2_doc, stats_abi2_text },
	{ "stats, levels at the top", render_stats, stats_top_doc,
	    stats_top_text },
	{ "stats, no plugins", render_stats, stats_empty_doc,
	    stats_empty_text },
	{ "stats, capture states", render_stats, stats_state_doc,
	    stats_state_text },
	{ "status", render_status, status_doc, status_text },
	{ "status, clean", render_status, status_clean_doc,
	    status_clean_text },
	{ "workers", render_workers, workers_doc, workers_text },
	{ "workers, ABI 2", render_workers, workers_abi2_doc,
	    workers_abi2_text },
	{ "workers, error text", render_workers, error_text_doc,
	    error_text_text },
	{ "workers, missing fields", render_workers, missing_doc,
	    missing_text },
	{ "plugins", render_plugins, plugins_doc, plugins_text },
	{ "plugins, ABI 2", render_plugins, plugins_abi2_doc,
	    plugins_abi2_text },
	{ "plugins, steps", render_plugins, plugins_steps_doc,
	    plugins_steps_text },
	{ "reload", render_reload, "{\"ok\": true, \"result\": \"pipeline\"}",
	    "reload: ok (pipeline)\n" },
	{ "reload, unchanged", render_reload,
	    "{\"ok\": true, \"result\": \"unchanged\"}",
	    "reload: ok (unchanged)\n" },
	{ "status, control characters", render_status, status_ctl_doc,
	    status_ctl_text },
	{ "restart", render_restart,
	    "{\"ok\": true, \"restarted\": [\"a/0\", \"b\\u001b/1\"]}",
	    "restart: ok (a/0 b?/1)\n" },
	{ "stop", render_stop, "{\"ok\": true}", "stopping\n" },
	{ "help", render_help,
	    "{\"commands\": [{\"name\": \"status\", \"help\": \"health\"},"
	    " {\"name\": \"metrics\", \"help\": \"Prometheus text\"}]}",
	    "status   health\n"
	    "metrics  Prometheus text\n" },
};

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

/* Compares what a renderer printed with the text it must print. */
static void
check_text(const char *what, char *out, const char *expect)
{
	if (strcmp(out, expect) != 0)
		fail_msg("%s: the text differs\n--- printed:\n%s"
		    "--- expected:\n%s", what, out, expect);
	free(out);
}

static void
test_documents(void **state)
{
	const struct render_case *c;
	json_t *doc;
	char *out;
	size_t i, len;
	FILE *fp;

	(void)state;
	for (i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++) {
		c = &render_cases[i];
		doc = load(c->doc);
		assert_non_null(fp = open_memstream(&out, &len));
		assert_int_equal(c->render(fp, doc), 0);
		assert_int_equal(fclose(fp), 0);
		check_text(c->name, out, c->text);
		json_decref(doc);
	}
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

/*
 * A capture reload that lowers the worker count: each remaining worker id
 * takes over the counts of the ids removed (docs/control.md, stats), 2 and
 * 3 into 0 and 1 here.  Their jump is no rate of theirs: 0 for the
 * workers, while the totals, which never jump, keep theirs.
 */
static const char fewer_prev[] =
    "{\"uptime_s\": 10, \"captures\": [{\"name\": \"uplink\",\n"
    " \"totals\": {\"packets\": 4000},\n"
    " \"workers\": [{\"id\": 0, \"packets\": 1000},\n"
    "  {\"id\": 1, \"packets\": 1000}, {\"id\": 2, \"packets\": 1000},\n"
    "  {\"id\": 3, \"packets\": 1000}]}]}";
static const char fewer_cur[] =
    "{\"uptime_s\": 11, \"captures\": [{\"name\": \"uplink\",\n"
    " \"totals\": {\"packets\": 4100},\n"
    " \"workers\": [{\"id\": 0, \"packets\": 2050},\n"
    "  {\"id\": 1, \"packets\": 2050}]}]}";
static const char fewer_more[] =
    "{\"uptime_s\": 12, \"captures\": [{\"name\": \"uplink\",\n"
    " \"totals\": {\"packets\": 4200},\n"
    " \"workers\": [{\"id\": 0, \"packets\": 2150},\n"
    "  {\"id\": 1, \"packets\": 2050}, {\"id\": 2, \"packets\": 0}]}]}";

static void
test_top_rates_fewer_workers(void **state)
{
	struct rates r;
	json_t *prev, *cur;

	(void)state;
	prev = load(fewer_prev);
	cur = load(fewer_cur);
	assert_int_equal(top_rates(prev, cur, 1.0, "uplink", 0, &r), -1);
	assert_true(r.packets == 0 && r.bytes == 0 && r.drops == 0);
	assert_int_equal(top_rates(prev, cur, 1.0, "uplink", 1, &r), -1);
	assert_true(r.packets == 0);
	assert_int_equal(top_rates(prev, cur, 1.0, "uplink", -1, &r), 0);
	assert_true(r.packets == 100.0);
	json_decref(prev);

	/* More workers: the ids there before carry only their own counts. */
	prev = load(fewer_more);
	assert_int_equal(top_rates(cur, prev, 1.0, "uplink", 0, &r), 0);
	assert_true(r.packets == 100.0);
	json_decref(prev);
	json_decref(cur);
}

/*
 * Numbers at the ends of a long long, as a daemon of another version or a
 * socket that is not ringfan's may send: restarts summed over the workers
 * stay at the largest, a rate between counters at opposite ends is their
 * whole distance, not a wrapped one (tests/fuzz/fuzz_render.c).
 */
static const char extreme_prev[] =
    "{\"uptime_s\": 1, \"captures\": [{\"name\": \"uplink\",\n"
    " \"totals\": {\"packets\": -9223372036854775808},\n"
    " \"workers\": [{\"id\": 0, \"restarts\": 9223372036854775807,\n"
    "   \"packets\": -9223372036854775808},\n"
    "  {\"id\": 1, \"restarts\": 2}]}]}";
static const char extreme_cur[] =
    "{\"uptime_s\": 3, \"captures\": [{\"name\": \"uplink\",\n"
    " \"totals\": {\"packets\": 9223372036854775807},\n"
    " \"workers\": [{\"id\": 0, \"restarts\": 9223372036854775807,\n"
    "   \"packets\": 10},\n"
    "  {\"id\": 1, \"restarts\": 2}]}]}";

static void
test_extremes(void **state)
{
	json_t *prev, *cur;
	struct rates r;
	char *out;
	size_t len;
	FILE *fp;

	(void)state;
	prev = load(extreme_prev);
	cur = load(extreme_cur);
	assert_int_equal(top_rates(prev, cur, 2.0, "uplink", 0, &r), 0);
	assert_true(r.packets == (10.0 + 9223372036854775808.0) / 2.0);
	assert_int_equal(top_rates(prev, cur, 1.0, "uplink", -1, &r), 0);
	assert_true(r.packets == 18446744073709551615.0);

	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_stats(fp, cur), 0);
	assert_int_equal(render_top(fp, prev, cur, 2.0, "12:00:00"), 0);
	assert_int_equal(fclose(fp), 0);
	/* The totals' restarts: the largest, never a wrapped negative. */
	assert_null(strstr(out, "-9223372036854775"));
	assert_non_null(strstr(out, "total"));
	free(out);
	json_decref(prev);
	json_decref(cur);
}

/*
 * top's head line adds the captures' totals as the TOTAL column adds
 * values: in 64 unsigned bits, held at 18446744073709551615.  Three
 * captures at the largest JSON integer each: never a wrapped negative.
 */
static void
test_top_head_held(void **state)
{
	static const char three[] =
	    "{\"uptime_s\": 3, \"captures\": ["
	    "{\"name\": \"a\", \"totals\": {\"packets\": 9223372036854775807,"
	    " \"kernel_drops\": 9223372036854775807,"
	    " \"kernel_packets\": 9223372036854775807}, \"workers\": []},"
	    "{\"name\": \"b\", \"totals\": {\"packets\": 9223372036854775807,"
	    " \"kernel_drops\": 9223372036854775807,"
	    " \"kernel_packets\": 9223372036854775807}, \"workers\": []},"
	    "{\"name\": \"c\", \"totals\": {\"packets\": 9223372036854775807,"
	    " \"kernel_drops\": 0, \"kernel_packets\": 9223372036854775807},"
	    " \"workers\": []}]}";
	json_t *cur = load(three);
	char *out;
	size_t len;
	FILE *fp;

	(void)state;
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top(fp, NULL, cur, 0, "12:00:00"), 0);
	assert_int_equal(fclose(fp), 0);
	if (strstr(out, "; packets 18446744073709551615, kdrops "
	    "18446744073709551614 (100.00%)\n") == NULL)
		fail_msg("head line: %.200s", out);
	free(out);
	json_decref(cur);
}

/* The message render_reply gives for reply, and its result. */
static int
reply_message(const char *reply, char **msg)
{
	json_t *doc;
	size_t len;
	FILE *fp;
	int rc;

	assert_non_null(fp = open_memstream(msg, &len));
	rc = render_reply(fp, "/run/ringfan.sock", reply, strlen(reply),
	    &doc);
	assert_int_equal(fclose(fp), 0);
	assert_true((rc == 0) == (doc != NULL));
	json_decref(doc);
	return rc;
}

/*
 * Replies a socket that is not ringfan's may send: the message never
 * passes on a byte that drives the terminal, not even the one jansson
 * quotes where it stopped (tests/fuzz/fuzz_render.c).
 */
static void
test_reply(void **state)
{
	char *msg;

	(void)state;
	assert_int_equal(reply_message("{\"ok\": true}", &msg), 0);
	assert_string_equal(msg, "");
	free(msg);
	assert_int_equal(reply_message("{\"error\": \"no\\u001b[2J\"}",
	    &msg), RENDER_REFUSED);
	assert_string_equal(msg, "ringfanctl: no?[2J\n");
	free(msg);
	assert_int_equal(reply_message("[1]", &msg), RENDER_MALFORMED);
	assert_string_equal(msg, "ringfanctl: malformed reply from "
	    "/run/ringfan.sock: not a JSON object\n");
	free(msg);
	assert_int_equal(reply_message("{\"error\": 1}", &msg),
	    RENDER_MALFORMED);
	free(msg);
	assert_int_equal(reply_message("\x1b]0;owned\x07", &msg),
	    RENDER_MALFORMED);
	assert_null(strchr(msg, '\x1b'));
	assert_non_null(strstr(msg, "near '?'"));
	free(msg);
}

/* One top screen of cur after prev (NULL: the first screen). */
static void
check_top(const char *prev_text, const char *cur_text, double dt,
    const char *when, const char *expect)
{
	json_t *prev, *cur;
	char *out;
	size_t len;
	FILE *fp;

	prev = prev_text != NULL ? load(prev_text) : NULL;
	cur = load(cur_text);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top(fp, prev, cur, dt, when), 0);
	assert_int_equal(fclose(fp), 0);
	check_text(when, out, expect);
	json_decref(prev);
	json_decref(cur);
}

/*
 * One of `n` captures of a top sample: capture k ("c1" ...) with two
 * workers, each at k * 100 frames after uptime t.
 */
static json_t *
top_sample(int n, double t)
{
	json_t *caps = json_array(), *workers;
	char name[8];
	json_int_t p;

	for (int k = 1; k <= n; k++) {
		p = (json_int_t)(t * 100) * k;
		snprintf(name, sizeof(name), "c%d", k);
		workers = json_array();
		for (int w = 0; w < 2; w++)
			json_array_append_new(workers, json_pack("{s:i,s:i,s:s,"
			    "s:i,s:I,s:I,s:I,s:i}", "id", w, "pid", 100 + w,
			    "state", "running", "restarts", 0, "packets", p,
			    "bytes", p, "kernel_packets", p, "kernel_drops",
			    0));
		json_array_append_new(caps, json_pack("{s:s,s:s,s:{s:s,s:i},"
		    "s:{s:I,s:I,s:I,s:i},s:o}", "name", name, "interface",
		    "eth0", "fanout", "mode", "hash", "group", k, "totals",
		    "packets", 2 * p, "bytes", 2 * p, "kernel_packets", 2 * p,
		    "kernel_drops", 0, "workers", workers));
	}
	return json_pack("{s:s,s:f,s:o}", "version", "0.1.0", "uptime_s", t,
	    "captures", caps);
}

/*
 * Five captures: each worker's rate and each capture's are its own (a
 * name looked up while the screen is drawn is never another's), and the
 * head line sums them: 2 * 100 * (1 + ... + 5) = 3000 frames a second.
 */
static void
test_top_captures(void **state)
{
	json_t *prev = top_sample(5, 10), *cur = top_sample(5, 11);
	char *out, *at;
	size_t len;
	FILE *fp;
	int rate;

	(void)state;
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top(fp, prev, cur, 1.0, "10:00:00"), 0);
	assert_int_equal(fclose(fp), 0);
	if (strstr(out, ": 3000 pkt/s,") == NULL)
		fail_msg("head line: %.120s", out);
	/* Each capture's total row, in order: its two workers' rates. */
	at = out;
	for (int k = 1; k <= 5; k++) {
		if ((at = strstr(at, "\ntotal ")) == NULL ||
		    sscanf(at, " total - %d", &rate) != 1 || rate != 200 * k)
			fail_msg("capture c%d: not a total of %d pkt/s in\n%s",
			    k, 200 * k, out);
		at++;
	}
	free(out);
	json_decref(prev);
	json_decref(cur);
}

static void
test_top_screen(void **state)
{
	(void)state;
	check_top(NULL, top_prev, 0, "12:34:55", top_first_text);
	check_top(top_prev, top_cur, 2.0, "12:34:56", top_text);
}

/*
 * The rings of a daemon that reports them.  Worker 0 is nearly idle: 1 of
 * 32 blocks waits (one tenth of the bar, for any backlog), 190 of its 200
 * blocks were retired at the timeout.  Worker 1 runs behind: 30 of 32
 * blocks wait (9 tenths: 10 only for a full ring), three quarters or more,
 * so a warning follows; it stalled once.  Worker 2 reports a full ring and
 * no blocks taken yet (TIMEOUT% 0.00, not a division by zero).
 */
static const char top_rings_doc[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 5,"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"fanout\": {\"mode\": \"hash\", \"group\": 42},"
    " \"totals\": {\"packets\": 30, \"kernel_packets\": 30,"
    " \"kernel_drops\": 0},"
    " \"workers\": ["
    "{\"id\": 0, \"state\": \"running\", \"restarts\": 0,"
    " \"stalls\": 0, \"ring_blocks\": 32, \"backlog\": 1,"
    " \"backlog_max\": 12, \"packets\": 10, \"kernel_packets\": 10,"
    " \"kernel_drops\": 0, \"kernel_freeze_q\": 0, \"blocks\": 200,"
    " \"blocks_timeout\": 190, \"rollover_packets\": 0},"
    "{\"id\": 1, \"state\": \"running\", \"restarts\": 1,"
    " \"stalls\": 1, \"ring_blocks\": 32, \"backlog\": 30,"
    " \"backlog_max\": 32, \"packets\": 20, \"kernel_packets\": 20,"
    " \"kernel_drops\": 0, \"kernel_freeze_q\": 3, \"blocks\": 1000,"
    " \"blocks_timeout\": 10, \"rollover_packets\": 7},"
    "{\"id\": 2, \"state\": \"starting\", \"restarts\": 0,"
    " \"stalls\": 0, \"ring_blocks\": 2, \"backlog\": 2,"
    " \"backlog_max\": 2, \"packets\": 0, \"kernel_packets\": 0,"
    " \"kernel_drops\": 0, \"kernel_freeze_q\": 0, \"blocks\": 0,"
    " \"blocks_timeout\": 0, \"rollover_packets\": 0}]}]}";

static const char top_rings_text[] =
    "ringfan 0.1.0 at 09:00:00, up 0:00:05: 0 pkt/s, 0.00 Mbit/s,"
    " 0 drops/s; packets 30, kdrops 0 (0.00%)\n"
    "\n"
    "capture uplink on eth0 (fanout hash group 42)\n"
    "WORKER  STATE     PKT/S  MBIT/S  DROPS/S  PACKETS  KDROPS  DROP%  RESTARTS\n"
    "0       running       0    0.00        0       10       0   0.00         0\n"
    "1       running       0    0.00        0       20       0   0.00         1\n"
    "2       starting      0    0.00        0        0       0   0.00         0\n"
    "total   -             0    0.00        0       30       0   0.00         1\n"
    "\n"
    "WORKER  RING          BACKLOG  PEAK  BLOCKS  TIMEOUT%  FREEZES  ROLLOVER  STALLS\n"
    "0       [#.........]     1/32    12     200     95.00        0         0       0\n"
    "1       [#########.]    30/32    32    1000      1.00        3         7       1\n"
    "2       [##########]      2/2     2       0      0.00        0         0       0\n"
    "warning: worker 1 runs near full: 30 of 32 ring blocks wait;"
    " the kernel drops frames once all do\n"
    "warning: worker 2 runs near full: 2 of 2 ring blocks wait;"
    " the kernel drops frames once all do\n";

/* Each worker's ring: its fill bar, health, and a warning near full. */
static void
test_top_rings(void **state)
{
	(void)state;
	check_top(NULL, top_rings_doc, 0, "09:00:00", top_rings_text);
}

/*
 * Ring figures near 2^63, from a reply that may be any JSON: worker 0 has
 * half its ring waiting (five tenths of the bar, no warning), worker 1 all
 * but one block (nine tenths, a warning); neither product overflows.
 */
static const char top_rings_huge_doc[] =
    "{\"version\": \"0.1.0\", \"uptime_s\": 5,"
    " \"captures\": [{\"name\": \"uplink\", \"interface\": \"eth0\","
    " \"fanout\": {\"mode\": \"hash\", \"group\": 42},"
    " \"totals\": {},"
    " \"workers\": ["
    "{\"id\": 0, \"ring_blocks\": 9223372036854775806,"
    " \"backlog\": 4611686018427387903},"
    "{\"id\": 1, \"ring_blocks\": 9223372036854775807,"
    " \"backlog\": 9223372036854775806}]}]}";

static const char top_rings_huge_text[] =
    "ringfan 0.1.0 at 09:00:00, up 0:00:05: 0 pkt/s, 0.00 Mbit/s,"
    " 0 drops/s; packets 0, kdrops 0 (0.00%)\n"
    "\n"
    "capture uplink on eth0 (fanout hash group 42)\n"
    "WORKER  STATE  PKT/S  MBIT/S  DROPS/S  PACKETS  KDROPS  DROP%  RESTARTS\n"
    "0       -          0    0.00        0        -       -   0.00         -\n"
    "1       -          0    0.00        0        -       -   0.00         -\n"
    "total   -          0    0.00        0        -       -   0.00         0\n"
    "\n"
    "WORKER  RING                                          BACKLOG  PEAK  BLOCKS"
    "  TIMEOUT%  FREEZES  ROLLOVER  STALLS\n"
    "0       [#####.....]  4611686018427387903/9223372036854775806     -"
    "       -      0.00        -         -       -\n"
    "1       [#########.]  9223372036854775806/9223372036854775807     -"
    "       -      0.00        -         -       -\n"
    "warning: worker 1 runs near full: 9223372036854775806 of"
    " 9223372036854775807 ring blocks wait; the kernel drops frames once"
    " all do\n";

static void
test_top_rings_huge(void **state)
{
	(void)state;
	check_top(NULL, top_rings_huge_doc, 0, "09:00:00",
	    top_rings_huge_text);
}

/* How to reach the daemon and how to quit, with q or without. */
static void
test_top_footer(void **state)
{
	char *out;
	size_t len;
	FILE *fp;

	(void)state;
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top_footer(fp, "/run/ringfan/control.sock", 1),
	    0);
	assert_int_equal(fclose(fp), 0);
	check_text("footer, keys", out, "\nringfanctl -s "
	    "/run/ringfan/control.sock COMMAND reaches this ringfan (help "
	    "lists them); q or ^C quits\n");
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(render_top_footer(fp, "/tmp/rf.sock", 0), 0);
	assert_int_equal(fclose(fp), 0);
	check_text("footer, no keys", out, "\nringfanctl -s /tmp/rf.sock "
	    "COMMAND reaches this ringfan (help lists them); ^C quits\n");
}

/* A top screen shows the levels and the errors under the rates. */
static void
test_top_abi2(void **state)
{
	(void)state;
	check_top(NULL, stats_abi2_doc, 0, "10:00:00", top_abi2_text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_top_rates),
		cmocka_unit_test(test_top_rates_fewer_workers),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_top_head_held),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_top_captures),
		cmocka_unit_test(test_top_screen),
		cmocka_unit_test(test_top_abi2),
		cmocka_unit_test(test_top_rings),
		cmocka_unit_test(test_top_rings_huge),
		cmocka_unit_test(test_top_footer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

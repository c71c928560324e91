/*
 * The config loader: every field of a full file, the defaults, the built-in
 * config, and each kind of error with its exact FILE:LINE:COLUMN message.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfan_build.h"
#include "config.h"
#include "log.h"

#define EXAMPLE_CONFIG	TEST_DATA_DIR "/../../../config/ringfan.yaml"
#define RINGFAN_EXE	BUILD_PLUGIN_DIR "/../framework/ringfan"
#define CPU_ONLINE	"/sys/devices/system/cpu/online"
#define MIB		(UINT64_C(1) << 20)
#define GIB		(UINT64_C(1) << 30)
#define LIMIT_SIZE	((size_t)1 << 20)

static unsigned
ncpu(void)
{
	long n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > 256 ? 256 : (unsigned)n;
}

static int
load(struct cfg *cfg, const char *text, char *err)
{
	return cfg_load_string(cfg, "t.yaml", text, strlen(text), err,
	    CFG_ERR_MAX);
}

static void
assert_zeroed(const struct cfg *cfg)
{
	struct cfg zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/* The load fails with exactly `msg`, and leaves nothing allocated. */
static void
expect_error(const char *text, const char *msg)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	memset(&cfg, 0xa5, sizeof(cfg));
	err[0] = '\0';
	assert_int_equal(load(&cfg, text, err), -1);
	assert_string_equal(err, msg);
	assert_zeroed(&cfg);
}

static void
test_full(void **state)
{
	static const char text[] =
	    "control:\n"				/* 1 */
	    "  socket: /tmp/rf.sock\n"
	    "  mode: \"0640\"\n"
	    "  group: wheel\n"
	    "  pidfile: /tmp/rf.pid\n"			/* 5 */
	    "user: nobody\n"
	    "log:\n"
	    "  level: warn\n"
	    "  syslog: yes\n"
	    "plugin_path: [/opt/a, /opt/b]\n"		/* 10 */
	    "stats_interval: 250ms\n"
	    "captures:\n"
	    "  - name: uplink\n"
	    "    interface: eth0\n"
	    "    workers: 4\n"				/* 15 */
	    "    cpu_affinity: [0, 0]\n"
	    "    promiscuous: off\n"
	    "    bpf: \"tcp port 80\"\n"
	    "    fanout:\n"
	    "      mode: cpu\n"				/* 20 */
	    "      group: 42\n"
	    "      defrag: false\n"
	    "      rollover: true\n"
	    "      ignore_outgoing: on\n"
	    "    ring:\n"				/* 25 */
	    "      block_size: 4MiB\n"
	    "      block_count: 128\n"
	    "      block_timeout: 2s\n"
	    "    pipeline:\n"
	    "      - plugin: counter\n"			/* 30 */
	    "      - plugin: flowtable\n"
	    "        config:\n"
	    "          max_flows: 1000\n"
	    "          output: \"/var/x.json\"\n"
	    "          quiet:\n"			/* 35 */
	    "  - name: dmz.2-b_C\n"
	    "    interface: eth1.100\n"
	    "    workers: auto\n"
	    "    cpu_affinity: auto\n"
	    "    fanout: { mode: qm }\n"		/* 40 */
	    "    pipeline: []\n";
	struct cfg cfg;
	struct cfg_capture *cap;
	struct cfg_plugin *pl;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg, text, err), 0);
	assert_string_equal(cfg.path, "t.yaml");
	assert_string_equal(cfg.control.socket, "/tmp/rf.sock");
	assert_int_equal(cfg.control.mode, 0640);
	assert_string_equal(cfg.control.group, "wheel");
	assert_string_equal(cfg.control.pidfile, "/tmp/rf.pid");
	assert_string_equal(cfg.user, "nobody");
	assert_int_equal(cfg.log.level, LOG_LVL_WARN);
	assert_true(cfg.log.syslog);
	assert_int_equal(cfg.nplugin_path, 2);
	assert_string_equal(cfg.plugin_path[0], "/opt/a");
	assert_string_equal(cfg.plugin_path[1], "/opt/b");
	assert_int_equal(cfg.stats_interval_ns, UINT64_C(250000000));
	assert_int_equal(cfg.ncaptures, 2);

	cap = &cfg.captures[0];
	assert_string_equal(cap->name, "uplink");
	assert_int_equal(cap->pos.line, 13);
	assert_int_equal(cap->pos.col, 5);
	assert_string_equal(cap->interface, "eth0");
	assert_int_equal(cap->workers, 4);
	assert_int_equal(cap->affinity, CFG_AFFINITY_LIST);
	assert_int_equal(cap->ncpus, 2);
	assert_int_equal(cap->cpus[0], 0);
	assert_int_equal(cap->cpus[1], 0);
	assert_false(cap->promiscuous);
	assert_string_equal(cap->bpf, "tcp port 80");
	assert_int_equal(cap->bpf_pos.line, 18);
	assert_int_equal(cap->bpf_pos.col, 10);
	assert_int_equal(cap->fanout.mode, CFG_FANOUT_CPU);
	assert_int_equal(cap->fanout.group, 42);
	assert_false(cap->fanout.defrag);
	assert_true(cap->fanout.rollover);
	assert_true(cap->fanout.ignore_outgoing);
	assert_int_equal(cap->ring.block_size, 4 << 20);
	assert_int_equal(cap->ring.block_count, 128);
	assert_int_equal(cap->ring.block_timeout_ms, 2000);
	assert_int_equal(cap->npipeline, 2);
	pl = &cap->pipeline[0];
	assert_string_equal(pl->name, "counter");
	assert_int_equal(pl->pos.line, 30);
	assert_int_equal(pl->pos.col, 17);
	assert_int_equal(pl->noptions, 0);
	assert_null(pl->options);
	pl = &cap->pipeline[1];
	assert_string_equal(pl->name, "flowtable");
	assert_int_equal(pl->pos.line, 31);
	assert_int_equal(pl->pos.col, 17);
	assert_int_equal(pl->noptions, 3);
	assert_string_equal(pl->options[0].key, "max_flows");
	assert_string_equal(pl->options[0].value, "1000");
	assert_int_equal(pl->options[0].pos.line, 33);
	assert_int_equal(pl->options[0].pos.col, 22);
	assert_string_equal(pl->options[1].key, "output");
	assert_string_equal(pl->options[1].value, "/var/x.json");
	assert_int_equal(pl->options[1].pos.line, 34);
	assert_int_equal(pl->options[1].pos.col, 19);
	/* An empty value is an empty string: the plugin decides. */
	assert_string_equal(pl->options[2].key, "quiet");
	assert_string_equal(pl->options[2].value, "");

	cap = &cfg.captures[1];
	assert_string_equal(cap->name, "dmz.2-b_C");
	assert_int_equal(cap->pos.line, 36);
	assert_int_equal(cap->pos.col, 5);
	assert_string_equal(cap->interface, "eth1.100");
	assert_int_equal(cap->workers, ncpu());
	assert_int_equal(cap->affinity, CFG_AFFINITY_AUTO);
	assert_null(cap->cpus);
	assert_int_equal(cap->fanout.mode, CFG_FANOUT_QM);
	assert_int_equal(cap->fanout.group, cfg_default_group("dmz.2-b_C"));
	assert_int_equal(cap->npipeline, 0);
	assert_null(cap->pipeline);

	assert_int_equal(cfg_total_workers(&cfg), 4 + ncpu());
	cfg_free(&cfg);
	assert_zeroed(&cfg);
}

static void
check_capture_defaults(const struct cfg_capture *cap)
{
	assert_int_equal(cap->workers, ncpu());
	assert_int_equal(cap->affinity, CFG_AFFINITY_NONE);
	assert_null(cap->cpus);
	assert_int_equal(cap->ncpus, 0);
	assert_true(cap->promiscuous);
	assert_null(cap->bpf);
	assert_int_equal(cap->bpf_pos.line, 0);
	assert_int_equal(cap->fanout.mode, CFG_FANOUT_HASH);
	assert_int_equal(cap->fanout.group, cfg_default_group(cap->name));
	assert_true(cap->fanout.defrag);
	assert_false(cap->fanout.rollover);
	assert_false(cap->fanout.ignore_outgoing);
	assert_int_equal(cap->ring.block_size, 1 << 20);
	assert_int_equal(cap->ring.block_count, 64);
	assert_int_equal(cap->ring.block_timeout_ms, 50);
}

static void
check_global_defaults(const struct cfg *cfg)
{
	assert_string_equal(cfg->control.socket, "/run/ringfan/control.sock");
	assert_int_equal(cfg->control.mode, 0660);
	assert_null(cfg->control.group);
	assert_string_equal(cfg->control.pidfile, "/run/ringfan/ringfan.pid");
	assert_null(cfg->user);
	assert_int_equal(cfg->log.level, LOG_LVL_INFO);
	assert_false(cfg->log.syslog);
	assert_int_equal(cfg->nplugin_path, 1);
	assert_string_equal(cfg->plugin_path[0], RINGFAN_PLUGIN_DIR);
	assert_int_equal(cfg->stats_interval_ns, UINT64_C(1000000000));
	assert_int_equal(cfg->stall_timeout_ns, UINT64_C(5000000000));
}

static void
test_minimal_defaults(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg,
	    "captures:\n"
	    "  - name: a\n"
	    "    interface: lo\n", err), 0);
	check_global_defaults(&cfg);
	assert_int_equal(cfg.ncaptures, 1);
	assert_string_equal(cfg.captures[0].name, "a");
	assert_string_equal(cfg.captures[0].interface, "lo");
	check_capture_defaults(&cfg.captures[0]);
	assert_int_equal(cfg.captures[0].npipeline, 0);
	cfg_free(&cfg);

	/* Empty sections and null optional strings mean "the default". */
	assert_int_equal(load(&cfg,
	    "control:\n"
	    "log: {}\n"
	    "user: ~\n"
	    "captures:\n"
	    "  - name: a\n"
	    "    interface: lo\n"
	    "    bpf: \"\"\n"
	    "    fanout:\n"
	    "    ring: {}\n"
	    "    pipeline:\n", err), 0);
	check_global_defaults(&cfg);
	check_capture_defaults(&cfg.captures[0]);
	cfg_free(&cfg);
}

static void
test_scalar_forms(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	/* Quoted numbers, unquoted mode, one plugin_path string. */
	assert_int_equal(load(&cfg,
	    "control: { mode: 600 }\n"
	    "plugin_path: /opt/p\n"
	    "stats_interval: \"1h\"\n"
	    "stall_timeout: 0\n"
	    "captures:\n"
	    "  - { name: a, interface: lo, workers: \"3\", promiscuous: "
	    "\"no\", cpu_affinity: none }\n", err), 0);
	assert_int_equal(cfg.control.mode, 0600);
	assert_int_equal(cfg.nplugin_path, 1);
	assert_string_equal(cfg.plugin_path[0], "/opt/p");
	assert_int_equal(cfg.stats_interval_ns, UINT64_C(3600000000000));
	assert_int_equal(cfg.stall_timeout_ns, 0);
	assert_int_equal(cfg.captures[0].workers, 3);
	assert_false(cfg.captures[0].promiscuous);
	assert_int_equal(cfg.captures[0].affinity, CFG_AFFINITY_NONE);
	cfg_free(&cfg);
	/*
	 * A plugin option that is a plain null is the empty string, as one
	 * without a value is; quoted, it is the text.
	 */
	assert_int_equal(load(&cfg,
	    "captures:\n"
	    "  - name: a\n"
	    "    interface: lo\n"
	    "    pipeline:\n"
	    "      - plugin: p\n"
	    "        config: { a: ~, b: null, c: NULL, d: \"~\", e: 'null', "
	    "f: }\n", err), 0);
	assert_int_equal(cfg.captures[0].pipeline[0].noptions, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(cfg.captures[0].pipeline[0].options[i].value,
		    i == 3 ? "~" : i == 4 ? "null" : "");
	cfg_free(&cfg);
	/* A tag changes nothing: each value is read as its key's type. */
	assert_int_equal(load(&cfg,
	    "captures:\n"
	    "  - { name: !!int 5, interface: !local lo, workers: !!float 4 }\n",
	    err), 0);
	assert_string_equal(cfg.captures[0].name, "5");
	assert_string_equal(cfg.captures[0].interface, "lo");
	assert_int_equal(cfg.captures[0].workers, 4);
	cfg_free(&cfg);
}

static void
test_several_captures(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg,
	    "captures:\n"
	    "  - { name: one, interface: eth0, workers: 1 }\n"
	    "  - { name: two, interface: eth1, workers: 2 }\n"
	    "  - { name: three, interface: eth0, workers: 3,"
	    " fanout: { group: 7, defrag: false } }\n", err), 0);
	assert_int_equal(cfg.ncaptures, 3);
	assert_string_equal(cfg.captures[0].name, "one");
	assert_string_equal(cfg.captures[1].name, "two");
	assert_string_equal(cfg.captures[2].name, "three");
	assert_int_equal(cfg.captures[1].pos.line, 3);
	assert_int_equal(cfg.captures[1].pos.col, 5);
	assert_int_equal(cfg.captures[0].fanout.group,
	    cfg_default_group("one"));
	assert_int_equal(cfg.captures[1].fanout.group,
	    cfg_default_group("two"));
	assert_int_equal(cfg.captures[2].fanout.group, 7);
	assert_int_equal(cfg_total_workers(&cfg), 6);
	cfg_free(&cfg);
}

static void
test_default_config(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(cfg_default(&cfg, "eth3", err, sizeof(err)), 0);
	assert_string_equal(cfg.path, "<default>");
	check_global_defaults(&cfg);
	assert_int_equal(cfg.ncaptures, 1);
	assert_string_equal(cfg.captures[0].name, "default");
	assert_string_equal(cfg.captures[0].interface, "eth3");
	assert_int_equal(cfg.captures[0].pos.line, 0);
	check_capture_defaults(&cfg.captures[0]);
	assert_int_equal(cfg.captures[0].npipeline, 1);
	assert_string_equal(cfg.captures[0].pipeline[0].name, "counter");
	assert_int_equal(cfg.captures[0].pipeline[0].noptions, 0);
	assert_int_equal(cfg_total_workers(&cfg), ncpu());
	cfg_free(&cfg);

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cfg_default(&cfg, "much-too-long-name", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad interface name \"much-too-long-name\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	assert_zeroed(&cfg);
	assert_int_equal(cfg_default(&cfg, "", err, sizeof(err)), -1);
	assert_zeroed(&cfg);
}

static void
test_helpers(void **state)
{
	struct cfg cfg;

	(void)state;
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_HASH), "hash");
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_LB), "lb");
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_CPU), "cpu");
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_ROLLOVER),
	    "rollover");
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_RANDOM),
	    "random");
	assert_string_equal(cfg_fanout_mode_name(CFG_FANOUT_QM), "qm");
	assert_string_equal(cfg_fanout_mode_name((enum cfg_fanout_mode)99),
	    "unknown");
	/* Stable across builds: a restarted daemon rejoins its group. */
	assert_int_equal(cfg_default_group("uplink"),
	    cfg_default_group("uplink"));
	assert_int_not_equal(cfg_default_group("uplink"),
	    cfg_default_group("uplink2"));
	/* FNV-1a of "" is 0x811c9dc5; folded: 0x811c ^ 0x9dc5. */
	assert_int_equal(cfg_default_group(""), 0x811c ^ 0x9dc5);
	memset(&cfg, 0, sizeof(cfg));
	cfg_free(&cfg);
	assert_int_equal(cfg_total_workers(&cfg), 0);
}

#define CAP	"captures:\n  - name: a\n    interface: eth0\n"

static void
test_err_syntax(void **state)
{
	(void)state;
	expect_error("captures: [a\n",
	    "t.yaml:2:1: syntax error: did not find expected ',' or ']' "
	    "(while parsing a flow sequence at line 1)");
	expect_error("user: a: b\n",
	    "t.yaml:1:8: syntax error: mapping values are not allowed in "
	    "this context");
	expect_error("user: *nope\n",
	    "t.yaml:1:7: syntax error: found undefined alias");
	expect_error("user: \"\xff\"\n",
	    "t.yaml:1:8: syntax error: invalid leading UTF-8 octet");
	expect_error(CAP "---\n" CAP,
	    "t.yaml:5:1: only one YAML document is allowed");
}

/*
 * A reader error (bad UTF-8) is placed as libyaml places every other
 * problem: after a byte order mark, which takes no column, and on lines
 * ended by "\r\n" or a lone "\r" as well as "\n".
 */
static void
test_err_reader_marks(void **state)
{
	(void)state;
	expect_error("\xef\xbb\xbfuser: \"\xff\"\n",
	    "t.yaml:1:8: syntax error: invalid leading UTF-8 octet");
	expect_error("\xef\xbb\xbf" "bad: 1\n",
	    "t.yaml:1:1: unknown key \"bad\"");
	expect_error("log:\r  level: info\ruser: \"\xff\"\r",
	    "t.yaml:3:8: syntax error: invalid leading UTF-8 octet");
	expect_error("log:\r  level: info\rbad: 1\r",
	    "t.yaml:3:1: unknown key \"bad\"");
	expect_error("log:\r\n  level: info\r\nuser: \"\xff\"\r\n",
	    "t.yaml:3:8: syntax error: invalid leading UTF-8 octet");
}

static void
test_err_empty(void **state)
{
	(void)state;
	expect_error("", "t.yaml:1:1: empty configuration file");
	expect_error("# nothing\n\n", "t.yaml:1:1: empty configuration file");
	expect_error("---\n", "t.yaml:1:1: empty configuration file");
	expect_error("- a\n", "t.yaml:1:1: the top level must be a mapping");
	expect_error("user: x\n",
	    "t.yaml:1:1: missing required key \"captures\"");
	expect_error("captures:\n",
	    "t.yaml:1:10: captures must have at least one entry");
	expect_error("captures: []\n",
	    "t.yaml:1:11: captures must have at least one entry");
}

static void
test_err_unknown_key(void **state)
{
	(void)state;
	expect_error(CAP "rign: 1\n", "t.yaml:4:1: unknown key \"rign\"");
	expect_error(CAP "    rign: { block_size: 1MiB }\n",
	    "t.yaml:4:5: unknown key \"rign\"");
	expect_error(CAP "    ring: { blok_size: 1MiB }\n",
	    "t.yaml:4:13: unknown key \"blok_size\"");
	expect_error("control:\n  sock: /x\n" CAP,
	    "t.yaml:2:3: unknown key \"sock\"");
	expect_error(CAP "    pipeline:\n      - plugin: counter\n"
	    "        conf: { a: 1 }\n",
	    "t.yaml:6:9: unknown key \"conf\"");
	expect_error("? [a]\n: 1\n" CAP, "t.yaml:1:3: keys must be strings");
}

/*
 * An error is one line whatever the file quotes in it: a newline, a tab
 * or an escape for the terminal in a key or a value shows as '?'.
 */
static void
test_err_one_line(void **state)
{
	(void)state;
	expect_error("\"a\\nb\": 1\n" CAP, "t.yaml:1:1: unknown key \"a?b\"");
	expect_error("log: { level: \"in\\tfo\\e[31m\" }\n" CAP,
	    "t.yaml:1:15: unknown log level \"in?fo?[31m\" (valid: error, "
	    "warn, info, debug)");
	expect_error("captures:\n  - name: \"a\\r\\nb\"\n    interface: eth0\n",
	    "t.yaml:2:11: name: bad capture name \"a??b\" (1..32 of A-Z, "
	    "a-z, 0-9, _, . and -)");
	expect_error(CAP "    ring: { block_size: \"1\\nMiB\" }\n",
	    "t.yaml:4:25: block_size: bad size \"1?MiB\" (a number and "
	    "optionally B, KiB, MiB, GiB or TiB)");
}

static void
test_err_duplicate_key(void **state)
{
	(void)state;
	expect_error(CAP "    workers: 2\n    workers: 3\n",
	    "t.yaml:5:5: duplicate key \"workers\" (first at line 4)");
	expect_error(CAP "user: a\n" CAP,
	    "t.yaml:5:1: duplicate key \"captures\" (first at line 1)");
	expect_error(CAP "    pipeline:\n      - plugin: p\n"
	    "        config: { a: 1, b: 2, b: 3, a: 4 }\n",
	    "t.yaml:6:31: duplicate key \"b\" (first at line 6)");
	/* The first is where its key is, not its value. */
	expect_error(CAP "    pipeline:\n      - plugin: p\n"
	    "        config:\n          a:\n            1\n          a: 2\n",
	    "t.yaml:9:11: duplicate key \"a\" (first at line 7)");
}

static void
test_err_type(void **state)
{
	(void)state;
	expect_error("captures: eth0\n",
	    "t.yaml:1:11: captures must be a list");
	expect_error("control: 5\n" CAP,
	    "t.yaml:1:10: control must be a mapping");
	expect_error("captures:\n  - eth0\n",
	    "t.yaml:2:5: a capture must be a mapping");
	expect_error("captures:\n  -\n",
	    "t.yaml:2:4: a capture must be a mapping");
	expect_error(CAP "    workers: [1]\n",
	    "t.yaml:4:14: workers must be an integer or \"auto\"");
	expect_error(CAP "    workers: many\n",
	    "t.yaml:4:14: workers must be an integer or \"auto\"");
	expect_error(CAP "    promiscuous: {a: 1}\n",
	    "t.yaml:4:18: promiscuous must be a boolean");
	expect_error(CAP "    promiscuous: maybe\n",
	    "t.yaml:4:18: promiscuous: bad boolean \"maybe\" (true, false, "
	    "yes, no, on or off)");
	expect_error("captures:\n  - name: a\n    interface: [eth0]\n",
	    "t.yaml:3:16: interface must be a string");
	expect_error(CAP "    pipeline: counter\n",
	    "t.yaml:4:15: pipeline must be a list");
	expect_error(CAP "    pipeline: [counter]\n",
	    "t.yaml:4:16: a pipeline entry must be a mapping");
	expect_error(CAP "    fanout: hash\n",
	    "t.yaml:4:13: fanout must be a mapping");
	expect_error(CAP "    cpu_affinity: some\n",
	    "t.yaml:4:19: cpu_affinity must be auto, none or a list of CPU "
	    "numbers");
	expect_error(CAP "    cpu_affinity: [0, x]\n",
	    "t.yaml:4:23: cpu_affinity: bad integer \"x\"");
	expect_error(CAP "    cpu_affinity: []\n",
	    "t.yaml:4:19: cpu_affinity: the list is empty");
	expect_error("plugin_path: { a: b }\n" CAP,
	    "t.yaml:1:14: plugin_path must be a list of strings or a string");
	expect_error("plugin_path: [/a, [/b]]\n" CAP,
	    "t.yaml:1:19: plugin_path entries must be strings");
	expect_error("plugin_path: []\n" CAP,
	    "t.yaml:1:14: plugin_path must not be empty");
	expect_error("user: \"\"\n" CAP, "t.yaml:1:7: user must not be empty");
	expect_error("user: \"a\\0b\"\n" CAP,
	    "t.yaml:1:7: user: NUL character in value");
	expect_error("control: { mode: \"0999\" }\n" CAP,
	    "t.yaml:1:18: mode: bad mode \"0999\" (octal, at most 0777)");
	expect_error("control: { mode: \"01777\" }\n" CAP,
	    "t.yaml:1:18: mode: bad mode \"01777\" (octal, at most 0777)");
	expect_error("log: { level: verbose }\n" CAP,
	    "t.yaml:1:15: unknown log level \"verbose\" "
	    "(valid: error, warn, info, debug)");
	expect_error("control: { socket: /" "0123456789012345678901234567890"
	    "123456789012345678901234567890123456789012345678901234567890"
	    "1234567890123456789 }\n" CAP,
	    "t.yaml:1:20: socket: path is too long (at most 107 bytes)");
	/*
	 * A plain null is no text: a required or defaulted string that is
	 * null is refused, not taken as a file or interface named "~".
	 */
	expect_error("control: { socket: ~ }\n" CAP,
	    "t.yaml:1:20: socket must not be empty");
	expect_error("control: { pidfile: null }\n" CAP,
	    "t.yaml:1:21: pidfile must not be empty");
	expect_error("plugin_path: [/a, NULL]\n" CAP,
	    "t.yaml:1:19: a plugin_path entry must not be empty");
	expect_error("plugin_path: [\"\"]\n" CAP,
	    "t.yaml:1:15: a plugin_path entry must not be empty");
	expect_error("plugin_path: ~\n" CAP,
	    "t.yaml:1:14: plugin_path must not be empty");
	expect_error("plugin_path:\n" CAP,
	    "t.yaml:1:13: plugin_path must not be empty");
	expect_error("captures:\n  - name: null\n    interface: eth0\n",
	    "t.yaml:2:11: name must not be empty");
	expect_error("captures:\n  - name: a\n    interface: ~\n",
	    "t.yaml:3:16: interface must not be empty");
	expect_error("captures:\n  - name: a\n    interface:\n",
	    "t.yaml:3:15: interface must not be empty");
	expect_error(CAP "    pipeline:\n      - plugin: Null\n",
	    "t.yaml:5:17: plugin must not be empty");
	expect_error(CAP "    pipeline:\n      - { plugin: a, name: null }\n",
	    "t.yaml:5:28: name must not be empty");
}

static void
test_err_size(void **state)
{
	char want[CFG_ERR_MAX];

	(void)state;
	expect_error(CAP "    ring:\n      block_size: 1MB\n",
	    "t.yaml:5:19: block_size: bad size \"1MB\" (a number and "
	    "optionally B, KiB, MiB, GiB or TiB)");
	expect_error(CAP "    ring:\n      block_size: 3MiB\n",
	    "t.yaml:5:19: block_size: \"3MiB\" is not a power of two");
	expect_error(CAP "    ring:\n      block_size: 0\n",
	    "t.yaml:5:19: block_size: \"0\" is not a power of two");
	expect_error(CAP "    ring:\n      block_size: 2GiB\n",
	    "t.yaml:5:19: block_size: \"2GiB\" is larger than 1GiB");
	expect_error(CAP "    ring:\n      block_size: 99999999999TiB\n",
	    "t.yaml:5:19: block_size: \"99999999999TiB\" is larger than 1GiB");
	snprintf(want, sizeof(want), "t.yaml:5:19: block_size: \"2KiB\" is "
	    "not a multiple of the page size (%ld)", sysconf(_SC_PAGESIZE));
	expect_error(CAP "    ring:\n      block_size: 2KiB\n", want);
	expect_error(CAP "    ring: { block_count: 0 }\n",
	    "t.yaml:4:26: block_count: 0 is out of range 1..65536");
	expect_error(CAP "    ring: { block_count: 65537 }\n",
	    "t.yaml:4:26: block_count: 65537 is out of range 1..65536");
}

static void
test_err_duration(void **state)
{
	(void)state;
	expect_error(CAP "    ring:\n      block_timeout: 10\n",
	    "t.yaml:5:22: block_timeout: bad duration \"10\" (a number and "
	    "a unit: ms, s, m or h)");
	expect_error(CAP "    ring:\n      block_timeout: 11s\n",
	    "t.yaml:5:22: block_timeout: \"11s\" is out of range 1ms..10s");
	expect_error(CAP "    ring:\n      block_timeout: 0ms\n",
	    "t.yaml:5:22: block_timeout: \"0ms\" is out of range 1ms..10s");
	expect_error("stats_interval: 5ms\n" CAP,
	    "t.yaml:1:17: stats_interval: \"5ms\" is out of range 10ms..1h");
	expect_error("stats_interval: 2h\n" CAP,
	    "t.yaml:1:17: stats_interval: \"2h\" is out of range 10ms..1h");
	expect_error("stats_interval: 1 s\n" CAP,
	    "t.yaml:1:17: stats_interval: bad duration \"1 s\" (a number and "
	    "a unit: ms, s, m or h)");
	/* 0 turns the stall watch off; else at least a second. */
	expect_error("stall_timeout: 500ms\n" CAP, "t.yaml:1:16: "
	    "stall_timeout: \"500ms\" is out of range 0 (off) or 1s..1h");
	expect_error("stall_timeout: 2h\n" CAP, "t.yaml:1:16: "
	    "stall_timeout: \"2h\" is out of range 0 (off) or 1s..1h");
	expect_error("stall_timeout: 00\n" CAP,
	    "t.yaml:1:16: stall_timeout: bad duration \"00\" (a number and "
	    "a unit: ms, s, m or h)");
}

static void
test_err_range(void **state)
{
	(void)state;
	expect_error(CAP "    workers: 0\n",
	    "t.yaml:4:14: workers: 0 is out of range 1..256");
	expect_error(CAP "    workers: 257\n",
	    "t.yaml:4:14: workers: 257 is out of range 1..256");
	expect_error(CAP "    workers: 99999999999999999999999\n",
	    "t.yaml:4:14: workers: 99999999999999999999999 is out of range "
	    "1..256");
	expect_error(CAP "    fanout: { group: 65536 }\n",
	    "t.yaml:4:22: group: 65536 is out of range 0..65535");
	expect_error(CAP "    cpu_affinity: [1024]\n",
	    "t.yaml:4:20: cpu_affinity: 1024 is out of range 0..1023");
}

static void
test_err_names(void **state)
{
	static char many[64 * 40 + 32];
	size_t i, off;

	(void)state;
	expect_error("captures:\n"
	    "  - name: uplink\n"
	    "    interface: eth0\n"
	    "  - name: lan\n"
	    "    interface: eth1\n"
	    "  - name: uplink\n"
	    "    interface: eth2\n",
	    "t.yaml:6:11: duplicate capture name \"uplink\" (first at line 2)");
	expect_error("captures:\n"
	    "  - name: a\n"
	    "    interface: eth0\n"
	    "    fanout: { group: 7 }\n"
	    "  - name: b\n"
	    "    interface: eth1\n"
	    "    fanout: { group: 7 }\n",
	    "t.yaml:7:22: fanout group 7 is capture \"a\"'s too (line 2): "
	    "each capture needs a group of its own");
	/* Two that reassemble fragments on one interface: the second. */
	expect_error("captures:\n"
	    "  - name: a\n"
	    "    interface: eth0\n"
	    "  - name: b\n"
	    "    interface: eth1\n"
	    "  - name: c\n"
	    "    interface: eth0\n"
	    "    fanout: { defrag: true }\n",
	    "t.yaml:6:11: captures \"a\" (line 2) and \"c\" both reassemble "
	    "IP fragments on eth0 (fanout.defrag, on by default): the "
	    "kernel gives each datagram sent in fragments to one of them "
	    "only; set fanout.defrag: false in all but one");
	{
		/* A name whose derived group is a's: the name is blamed. */
		char name[16], text[256], msg[256];
		unsigned n = 0;

		do
			snprintf(name, sizeof(name), "c%u", n++);
		while (cfg_default_group(name) != cfg_default_group("a"));
		snprintf(text, sizeof(text), "captures:\n"
		    "  - name: a\n    interface: eth0\n"
		    "  - name: %s\n    interface: eth0\n", name);
		snprintf(msg, sizeof(msg), "t.yaml:4:11: fanout group %d is "
		    "capture \"a\"'s too (line 2): each capture needs a group "
		    "of its own (this one comes from its name: set "
		    "fanout.group)", cfg_default_group("a"));
		expect_error(text, msg);
	}
	expect_error("captures:\n  - name: a b\n    interface: eth0\n",
	    "t.yaml:2:11: name: bad capture name \"a b\" "
	    "(1..32 of A-Z, a-z, 0-9, _, . and -)");
	expect_error("captures:\n"
	    "  - name: abcdefghijklmnopqrstuvwxyz0123456\n"
	    "    interface: eth0\n",
	    "t.yaml:2:11: name: bad capture name "
	    "\"abcdefghijklmnopqrstuvwxyz0123456\" "
	    "(1..32 of A-Z, a-z, 0-9, _, . and -)");
	expect_error("captures:\n  - name: a\n    interface: eth0/1\n",
	    "t.yaml:3:16: interface: bad interface name \"eth0/1\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	expect_error("captures:\n  - name: a\n"
	    "    interface: abcdefghijklmnop\n",
	    "t.yaml:3:16: interface: bad interface name \"abcdefghijklmnop\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	/* What else the kernel refuses: each named in the message. */
	expect_error("captures:\n  - name: a\n    interface: \"..\"\n",
	    "t.yaml:3:16: interface: bad interface name \"..\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	expect_error("captures:\n  - name: a\n    interface: \"a\\tb\"\n",
	    "t.yaml:3:16: interface: bad interface name \"a?b\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	/* 8 characters, 16 bytes: the limit counts bytes. */
	expect_error("captures:\n  - name: a\n"
	    "    interface: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\n",
	    "t.yaml:3:16: interface: bad interface name \"\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" "
	    "(1..15 bytes, no '/', ':' or whitespace, not . or ..)");
	expect_error(CAP "    pipeline:\n      - plugin: Counter\n",
	    "t.yaml:5:17: plugin: bad plugin name \"Counter\" "
	    "(1..31 of a-z, 0-9 and _)");
	expect_error(CAP "    pipeline:\n      - config: { a: 1 }\n",
	    "t.yaml:5:9: missing required key \"plugin\"");

	off = (size_t)snprintf(many, sizeof(many), "captures:\n");
	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "  - { name: c%zu, interface: eth%zu }\n", i, i);
	expect_error(many, "t.yaml:66:5: too many captures (at most 64)");
	/* 64 is still fine. */
	*strstr(many, "  - { name: c64") = '\0';
	{
		struct cfg cfg;
		char err[CFG_ERR_MAX];

		assert_int_equal(load(&cfg, many, err), 0);
		assert_int_equal(cfg.ncaptures, 64);
		cfg_free(&cfg);
	}
}

static void
test_err_missing(void **state)
{
	(void)state;
	expect_error("captures:\n  - name: a\n",
	    "t.yaml:2:5: missing required key \"interface\"");
	expect_error("captures:\n  - interface: eth0\n",
	    "t.yaml:2:5: missing required key \"name\"");
	expect_error("captures:\n  - {}\n",
	    "t.yaml:2:5: missing required key \"name\"");
}

static void
test_err_fanout_mode(void **state)
{
	(void)state;
	expect_error(CAP "    fanout:\n      mode: roundrobin\n",
	    "t.yaml:5:13: unknown fanout mode \"roundrobin\" "
	    "(valid: hash, lb, cpu, rollover, random, qm)");
}

static void
test_err_plugin_config(void **state)
{
	(void)state;
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: flowtable\n"
	    "        config:\n"
	    "          limits: { max: 1 }\n",
	    "t.yaml:7:19: plugin flowtable: option limits: a mapping, but plugin options are "
	    "scalars (a string, number or boolean)");
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: flowtable\n"
	    "        config: { ports: [1, 2] }\n",
	    "t.yaml:6:26: plugin flowtable: option ports: a list, but plugin options are "
	    "scalars (a string, number or boolean)");
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: flowtable\n"
	    "        config: [a]\n",
	    "t.yaml:6:17: config must be a mapping");
	/* config before plugin: the plugin is not named yet. */
	expect_error(CAP "    pipeline:\n"
	    "      - config: { ports: [1, 2] }\n"
	    "        plugin: flowtable\n",
	    "t.yaml:5:26: option ports: a list, but plugin options are "
	    "scalars (a string, number or boolean)");
	/* A NUL in an option's value or key: said of the option, the key. */
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: pcapwriter\n"
	    "        config: { directory: \"/tmp\\0x\" }\n",
	    "t.yaml:6:30: plugin pcapwriter: option directory: NUL character "
	    "in value");
	expect_error(CAP "    pipeline:\n"
	    "      - config: { dir: \"/tmp\\0x\" }\n",
	    "t.yaml:5:24: option dir: NUL character in value");
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: pcapwriter\n"
	    "        config: { \"dir\\0ectory\": /tmp }\n",
	    "t.yaml:6:19: plugin pcapwriter: key \"dir?ectory\": NUL "
	    "character in key");
	expect_error("control: { \"pid\\0file\": /tmp/x }\n" CAP,
	    "t.yaml:1:12: key \"pid?file\": NUL character in key");
}

static void
test_file(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(cfg_load(&cfg, TEST_DATA_DIR "/valid.yaml", err,
	    sizeof(err)), 0);
	assert_string_equal(cfg.path, TEST_DATA_DIR "/valid.yaml");
	assert_int_equal(cfg.log.level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.ncaptures, 1);
	assert_string_equal(cfg.captures[0].name, "lan");
	assert_int_equal(cfg.captures[0].workers, 2);
	assert_int_equal(cfg.captures[0].npipeline, 1);
	assert_string_equal(cfg.captures[0].pipeline[0].name, "counter");
	assert_int_equal(cfg.captures[0].pipeline[0].pos.line, 8);
	cfg_free(&cfg);

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cfg_load(&cfg, TEST_DATA_DIR "/bad_ring.yaml", err,
	    sizeof(err)), -1);
	assert_string_equal(err, TEST_DATA_DIR
	    "/bad_ring.yaml:6:19: block_size: bad size \"1MB\" (a number and "
	    "optionally B, KiB, MiB, GiB or TiB)");
	assert_zeroed(&cfg);
}

static void
test_file_errors(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX], want[CFG_ERR_MAX];

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cfg_load(&cfg, TEST_DATA_DIR "/nonexistent.yaml",
	    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s",
	    TEST_DATA_DIR "/nonexistent.yaml", strerror(ENOENT));
	assert_string_equal(err, want);
	assert_zeroed(&cfg);

	assert_int_equal(cfg_load(&cfg, TEST_DATA_DIR, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", TEST_DATA_DIR,
	    strerror(EISDIR));
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
}

static void
test_example_config(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	(void)state;
	err[0] = '\0';
	if (cfg_load(&cfg, EXAMPLE_CONFIG, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.ncaptures, 1);
	assert_string_equal(cfg.captures[0].name, "uplink");
	assert_int_equal(cfg.captures[0].npipeline, 1);
	assert_string_equal(cfg.captures[0].pipeline[0].name, "counter");
	cfg_free(&cfg);
}

/*
 * A check this machine cannot make (no list of online CPUs, too little
 * memory, CPUs past 1023): skipped, and the program then exits 77, not 0,
 * so that the check left out is not reported as passed.
 */
static bool skipped;
#define config_skip()	do { skipped = true; skip(); } while (0)

/* The kernel's list of online CPUs without its newline, or skip. */
static void
online_list(char *buf, size_t len)
{
	FILE *fp;
	bool ok;

	if ((fp = fopen(CPU_ONLINE, "r")) == NULL)
		config_skip();
	ok = fgets(buf, (int)len, fp) != NULL;
	fclose(fp);
	/* A list longer than messages quote ends in "...": not here. */
	if (!ok || strchr(buf, '\n') == NULL)
		config_skip();
	buf[strcspn(buf, "\n")] = '\0';
}

/* The highest online CPU: the last number of the list. */
static unsigned
last_online(const char *list)
{
	const char *p;

	p = list + strlen(list);
	while (p > list && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return (unsigned)strtoul(p, NULL, 10);
}

static void
test_cpu_list(void **state)
{
	struct cfg cfg;
	char list[200], text[256], err[CFG_ERR_MAX];
	unsigned last;

	(void)state;
	online_list(list, sizeof(list));
	last = last_online(list);
	snprintf(text, sizeof(text), CAP "    cpu_affinity: [%u, 0]\n",
	    last);
	if (load(&cfg, text, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.captures[0].affinity, CFG_AFFINITY_LIST);
	assert_int_equal(cfg.captures[0].ncpus, 2);
	assert_int_equal(cfg.captures[0].cpus[0], last);
	assert_int_equal(cfg.captures[0].cpus[1], 0);
	cfg_free(&cfg);
}

/* A CPU that is not online is refused where it is written. */
static void
test_err_cpu_offline(void **state)
{
	char list[200], want[CFG_ERR_MAX], text[256];
	unsigned absent;

	(void)state;
	online_list(list, sizeof(list));
	absent = last_online(list) + 1;
	if (absent > 1023)
		config_skip();
	snprintf(text, sizeof(text), CAP "    cpu_affinity: [0, %u]\n",
	    absent);
	snprintf(want, sizeof(want), "t.yaml:4:23: cpu_affinity: CPU %u is "
	    "not online (online: %s)", absent, list);
	expect_error(text, want);
	snprintf(want, sizeof(want), "t.yaml:4:20: cpu_affinity: CPU 1023 is "
	    "not online (online: %s)", list);
	expect_error(CAP "    cpu_affinity: [1023]\n", want);
}

static uint64_t
phys_mem(void)
{
	long pages, size;

	pages = sysconf(_SC_PHYS_PAGES);
	size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		config_skip();
	return (uint64_t)pages * (uint64_t)size;
}

/* Rings larger than the machine's memory, one capture's or all of them. */
static void
test_err_ring_memory(void **state)
{
	char want[CFG_ERR_MAX], text[512];
	uint64_t phys, half;

	(void)state;
	phys = phys_mem();
	snprintf(want, sizeof(want), "t.yaml:5:11: ring: 256 workers x "
	    "65536 blocks x 1073741824 bytes need 17179869184 MiB, more than "
	    "the physical memory (%ju MiB)", (uintmax_t)(phys / MIB));
	expect_error(CAP "    workers: 256\n"
	    "    ring: { block_size: 1GiB, block_count: 65536 }\n", want);
	snprintf(want, sizeof(want), "t.yaml:5:11: ring: 1 worker x "
	    "65536 blocks x 1073741824 bytes need 67108864 MiB, more than "
	    "the physical memory (%ju MiB)", (uintmax_t)(phys / MIB));
	expect_error(CAP "    workers: 1\n"
	    "    ring: { block_size: 1GiB, block_count: 65536 }\n", want);

	/* Each fits alone, both do not: just over half the memory each. */
	if (phys < 2 * GIB)
		config_skip();
	half = phys / GIB / 2 + 1;
	snprintf(text, sizeof(text), CAP "    workers: 1\n"
	    "    ring: { block_size: 1GiB, block_count: %ju }\n"
	    "  - name: b\n"
	    "    interface: eth1\n"
	    "    workers: 1\n"
	    "    ring: { block_size: 1GiB, block_count: %ju }\n",
	    (uintmax_t)half, (uintmax_t)half);
	snprintf(want, sizeof(want), "t.yaml:9:11: ring: the rings of "
	    "captures 1..2 need %ju MiB, more than the physical memory "
	    "(%ju MiB)", (uintmax_t)(2 * half * 1024),
	    (uintmax_t)(phys / MIB));
	expect_error(text, want);
}

/* n times c, then tail, in a string of the caller's to free. */
static char *
repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t hl, tl;
	char *s;

	hl = strlen(head);
	tl = strlen(tail);
	s = malloc(hl + n + tl + 1);
	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	return s;
}

/*
 * Nesting is refused at the first collection past 64 levels, before the
 * document is composed: the rest of the file is never looked at, so the
 * unclosed 60000 "[" of the second case, which a full parse would take
 * seconds to reject as a syntax error at its end, give the depth error.
 */
static void
test_err_nesting(void **state)
{
	char *s;

	(void)state;
	/* The top level is level 1: the 64th "[" is level 65. */
	s = repeat("user: ", '[', 63, "");
	expect_error(s, "t.yaml:2:1: syntax error: did not find expected "
	    "node content (while parsing a flow node at line 2)");
	free(s);
	s = repeat("user: ", '[', 60000, "");
	expect_error(s, "t.yaml:1:70: nested deeper than 64 levels");
	free(s);
	/* Block collections count alike, and so does any later document. */
	expect_error("a:\n - b:\n    - c: {d: [[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
	    "t.yaml:3:72: nested deeper than 64 levels");
	s = repeat(CAP "---\n", '[', 65, "");
	expect_error(s, "t.yaml:5:65: nested deeper than 64 levels");
	free(s);
}

/*
 * At most 1000 anchors, counted before the document is composed: 1001 are
 * refused at the last one, and so are 120000, which libyaml's loader took
 * seconds to register (each is looked up among those before it): the
 * streaming pass, which runs before the load, stops at the 1001st.
 */
static void
test_err_anchors(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX], want[64], *s;
	size_t n, off, at, cap = LIMIT_SIZE;

	(void)state;
	s = malloc(cap);
	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "plugin_path: [");
	for (n = 0; n < 1000; n++)
		off += (size_t)snprintf(s + off, cap - off, "&a%zu x,", n);
	at = off + 1;
	snprintf(s + off, cap - off, "*a999]\n" CAP);
	assert_int_equal(load(&cfg, s, err), 0);
	assert_int_equal(cfg.nplugin_path, 1001);
	cfg_free(&cfg);
	snprintf(s + off, cap - off, "&a1000 x]\n" CAP);
	snprintf(want, sizeof(want), "t.yaml:1:%zu: more than 1000 anchors",
	    at);
	expect_error(s, want);
	/* 120000 anchors, a file just under the size limit. */
	off = (size_t)snprintf(s, cap, "plugin_path: [");
	for (n = 0; n < 120000; n++) {
		if (n == 1000)
			at = off + 1;
		off += (size_t)snprintf(s + off, cap - off, "&%zx x,", n);
	}
	snprintf(s + off, cap - off, "x]\n" CAP);
	snprintf(want, sizeof(want), "t.yaml:1:%zu: more than 1000 anchors",
	    at);
	assert_true(strlen(s) < LIMIT_SIZE);
	expect_error(s, want);
	free(s);
}

/*
 * An alias stands for its anchor's whole node each time it is used, so a
 * small file can stand for a vast one: a step of 1000 options used 523
 * times is half a million options.  What aliases stand for is counted in
 * the streaming pass and refused at the alias past 2^20 nodes: here each
 * alias of the step is 2005 of them (the step's mapping, `plugin`,
 * `counter`, `config`, its mapping, a key and a value per option), so 522
 * fit and the 523rd does not, and a file of such aliases up to the size
 * limit, which took gigabytes and minutes to load, is refused there too.
 */
static void
test_err_alias_expansion(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX], want[80], *s;
	size_t n, off, line0, at, cap = LIMIT_SIZE;

	(void)state;
	s = malloc(cap);
	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "captures:\n  - name: a\n"
	    "    interface: eth0\n");
	line0 = off;
	off += (size_t)snprintf(s + off, cap - off, "    pipeline: "
	    "[&s {plugin: counter, config: {");
	for (n = 0; n < 1000; n++)
		off += (size_t)snprintf(s + off, cap - off, "k%zu: 1,", n);
	off += (size_t)snprintf(s + off, cap - off, "}}");
	for (n = 0; n < 522; n++)
		off += (size_t)snprintf(s + off, cap - off, ", *s");
	at = off + 2 - line0 + 1;
	snprintf(s + off, cap - off, "]\n");
	assert_int_equal(load(&cfg, s, err), 0);
	assert_int_equal(cfg.captures[0].npipeline, 523);
	assert_int_equal(cfg.captures[0].pipeline[522].noptions, 1000);
	cfg_free(&cfg);
	snprintf(want, sizeof(want), "t.yaml:4:%zu: aliases stand for more "
	    "than 1048576 nodes", at);
	snprintf(s + off, cap - off, ", *s]\n");
	expect_error(s, want);
	while (off + 8 < cap)
		off += (size_t)snprintf(s + off, cap - off, ", *s");
	snprintf(s + off, cap - off, "]\n");
	expect_error(s, want);
	free(s);
}

/*
 * Anchors inside anchors multiply: each level of ten aliases of the one
 * before is ten times larger, an alias of the fifth (e) 111111 nodes.
 * The aliases of b to e stand for 123440; the ninth alias of e crosses.
 */
static void
test_err_alias_nested(void **state)
{
	static const char ten[] = "x, x, x, x, x, x, x, x, x, x";
	char buf[1024], want[80];
	size_t off, at;
	int i, lvl;

	(void)state;
	off = (size_t)snprintf(buf, sizeof(buf), "plugin_path: [&a [%s]", ten);
	at = 0;
	for (lvl = 1; lvl <= 5; lvl++) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    ", &%c [", 'a' + lvl);
		for (i = 0; i < 10; i++) {
			if (lvl == 5 && i == 8)
				at = off + (i > 0 ? 2 : 0) + 1;
			off += (size_t)snprintf(buf + off, sizeof(buf) - off,
			    "%s*%c", i > 0 ? ", " : "", 'a' + lvl - 1);
		}
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "]");
	}
	snprintf(buf + off, sizeof(buf) - off, "]\n" CAP);
	snprintf(want, sizeof(want), "t.yaml:1:%zu: aliases stand for more "
	    "than 1048576 nodes", at);
	expect_error(buf, want);
}

/*
 * An anchor name used twice: YAML 1.2 lets the later one win, libyaml
 * refuses the file, so it is refused with a message that says so, where
 * libyaml's own read "second occurrence (found duplicate anchor; first
 * occurrence at line 1)".
 */
static void
test_err_anchor_twice(void **state)
{
	(void)state;
	expect_error("plugin_path: [&p /a,\n  &p /b]\n" CAP,
	    "t.yaml:2:3: anchor &p is defined twice (first at line 1): "
	    "give each its own name");
	expect_error(CAP "    ring: &r {block_count: 8}\n"
	    "    fanout: &r {mode: lb}\n",
	    "t.yaml:5:13: anchor &r is defined twice (first at line 4): "
	    "give each its own name");
	/* A document has anchors of its own: a second one is the error. */
	expect_error("plugin_path: [&p /a]\n" CAP "---\nplugin_path: [&p /a]\n"
	    CAP, "t.yaml:6:1: only one YAML document is allowed");
}

static void
test_err_too_large(void **state)
{
	char *s;

	(void)state;
	/* Exactly the limit gets as far as the schema. */
	s = repeat("user: ", 'x', LIMIT_SIZE - 7, "\n");
	assert_int_equal(strlen(s), LIMIT_SIZE);
	expect_error(s, "t.yaml:1:1: missing required key \"captures\"");
	free(s);
	s = repeat("user: ", 'x', LIMIT_SIZE - 6, "\n");
	expect_error(s, "t.yaml: file is larger than 1 MiB");
	free(s);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/*
 * Files: one over the limit is refused by its size before it is read, and
 * a FIFO without a writer, which would block open(2) and read(2), at once.
 */
static void
test_file_limits(void **state)
{
	struct cfg cfg;
	char dir[] = "/tmp/test_config.XXXXXX";
	char path[256], want[CFG_ERR_MAX], err[CFG_ERR_MAX];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	assert_int_equal(ftruncate(fd, (off_t)LIMIT_SIZE + 1), 0);
	close(fd);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
	unlink(path);

	snprintf(path, sizeof(path), "%s/fifo.yaml", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
	unlink(path);
	rmdir(dir);
}

/*
 * A terminal named in place of the file is refused without becoming the
 * controlling terminal of the daemon's master, a session leader without
 * one, whose Ctrl-C and hang-up would then be that terminal's.
 */
static void
test_file_tty(void **state)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX], want[CFG_ERR_MAX], *name;
	pid_t pid;
	int m, status;

	(void)state;
	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) != 0 ||
	    unlockpt(m) != 0 || (name = ptsname(m)) == NULL)
		config_skip();
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (setsid() == -1 ||
		    cfg_load(&cfg, name, err, sizeof(err)) != -1)
			_exit(1);
		snprintf(want, sizeof(want), "%s: not a regular file", name);
		if (strcmp(err, want) != 0)
			_exit(2);
		_exit(open("/dev/tty", O_RDONLY | O_NOCTTY) == -1 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(m);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * `ringfan -t` over the file that froze the master: 120 KB of nested
 * flow sequences, refused with the message and exit code of any config
 * error.
 */
static void
test_check_nested_file(void **state)
{
	struct cfg cfg;
	char dir[] = "/tmp/test_config.XXXXXX";
	char path[256], out[256], want[CFG_ERR_MAX], got[CFG_ERR_MAX + 64];
	char line[CFG_ERR_MAX + 64], err[CFG_ERR_MAX];
	char *s;
	ssize_t n;
	pid_t pid;
	int fd, status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nested.yaml", dir);
	snprintf(out, sizeof(out), "%s/stderr", dir);
	s = repeat("", '[', 60000, "");
	s = realloc(s, 120002);
	assert_non_null(s);
	memset(s + 60000, ']', 60000);
	memcpy(s + 120000, "\n", 2);
	write_file(path, s);
	free(s);

	snprintf(want, sizeof(want), "%s:1:65: nested deeper than 64 levels",
	    path);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);

	if (access(RINGFAN_EXE, X_OK) != 0)
		fail_msg("%s: %s", RINGFAN_EXE, strerror(errno));
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd == -1 || dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		execl(RINGFAN_EXE, "ringfan", "-c", path, "-t", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true((fd = open(out, O_RDONLY)) != -1);
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	assert_true(n >= 0);
	got[n] = '\0';
	snprintf(line, sizeof(line), "ringfan: %s\n", want);
	assert_string_equal(got, line);
	unlink(out);
	unlink(path);
	rmdir(dir);
}

/* A small error buffer truncates the message but never overflows. */
static void
test_small_buffer(void **state)
{
	struct cfg cfg;
	char err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(cfg_load_string(&cfg, "t.yaml", "rign: 1\n", 8, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "t.yaml:1:1:");
}

/*
 * The key table: every key has a reload class (or is a mapping of keys
 * that have theirs), and the enums name their values both ways.
 */
static void
test_key_classes(void **state)
{
	char path[64], next[64];
	const char *sample, *nsample;
	unsigned reload, nreload;
	size_t i, n;

	(void)state;
	for (i = 0; cfg_key_info(i, path, sizeof(path), &reload,
	    &sample) == 0; i++) {
		if (reload != CFG_RELOAD_NONE) {
			/* Exactly one class, and a value to change it to. */
			assert_int_equal(reload & (reload - 1), 0);
			assert_true(reload <= CFG_RELOAD_RESTART);
			assert_non_null(sample);
			continue;
		}
		/* A mapping: its keys follow it, with its name as prefix. */
		assert_null(sample);
		assert_int_equal(cfg_key_info(i + 1, next, sizeof(next),
		    &nreload, &nsample), 0);
		n = strlen(path);
		assert_memory_equal(next, path, n);
		assert_int_equal(next[n], '.');
	}
	assert_true(i > 20);
	assert_string_equal(cfg_affinity_name(CFG_AFFINITY_NONE), "none");
	assert_string_equal(cfg_affinity_name(CFG_AFFINITY_AUTO), "auto");
	assert_string_equal(cfg_affinity_name(CFG_AFFINITY_LIST), "list");
	assert_string_equal(cfg_log_level_name(LOG_LVL_WARN), "warn");
	assert_string_equal(cfg_log_level_name(LOG_LVL_DEBUG), "debug");
	assert_string_equal(cfg_log_level_name(99), "unknown");
}

/* The keys a capture of diff_base sets: replaced rather than repeated. */
static const char *const diff_base_keys[][2] = {
	{ "name",	"a" },
	{ "interface",	"lo" },
	{ "workers",	"1" },
	{ "pipeline",	"\n      - plugin: counter" },
};

/*
 * A config that sets the key `path` to `value`, and nothing else but what
 * a capture needs; with path NULL, the base it differs from.
 */
static void
diff_text(const char *path, const char *value, char *buf, size_t len)
{
	const char *rest, *dot, *v;
	char top[64], sub[64], extra[256];
	size_t off, i, n;

	off = 0;
	extra[0] = '\0';
	rest = NULL;
	if (path != NULL && strncmp(path, "captures.", 9) == 0)
		rest = path + 9;
	else if (path != NULL && strcmp(path, "captures") == 0) {
		snprintf(buf, len, "captures: %s\n", value);
		return;
	} else if (path != NULL && (dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		snprintf(top, sizeof(top), "%.*s", (int)n, path);
		off += (size_t)snprintf(buf + off, len - off,
		    "%s:\n  %s: %s\n", top, dot + 1, value);
	} else if (path != NULL)
		off += (size_t)snprintf(buf + off, len - off, "%s: %s\n",
		    path, value);
	sub[0] = '\0';
	if (rest != NULL && (dot = strchr(rest, '.')) != NULL) {
		snprintf(sub, sizeof(sub), "%s", dot + 1);
		snprintf(top, sizeof(top), "%.*s", (int)(dot - rest), rest);
		rest = top;
	}
	off += (size_t)snprintf(buf + off, len - off, "captures:\n  - ");
	for (i = 0; i < sizeof(diff_base_keys) / sizeof(diff_base_keys[0]);
	    i++) {
		v = diff_base_keys[i][1];
		if (rest != NULL && strcmp(rest, diff_base_keys[i][0]) == 0) {
			if (sub[0] == '\0')
				v = value;
			else if (strcmp(sub, "plugin") == 0) {
				snprintf(extra, sizeof(extra),
				    "\n      - plugin: %s", value);
				v = extra;
			} else {
				snprintf(extra, sizeof(extra), "%s\n"
				    "        %s: %s", v, sub, value);
				v = extra;
			}
			rest = NULL;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s%s: %s\n",
		    i > 0 ? "    " : "", diff_base_keys[i][0], v);
	}
	if (rest != NULL && sub[0] != '\0')
		snprintf(buf + off, len - off, "    %s:\n      %s: %s\n", rest,
		    sub, value);
	else if (rest != NULL)
		snprintf(buf + off, len - off, "    %s: %s\n", rest, value);
}

static char	restart_keys[256];

static void
note_restart(const char *key)
{
	size_t n = strlen(restart_keys);

	snprintf(restart_keys + n, sizeof(restart_keys) - n, "%s%s",
	    n > 0 ? " " : "", key);
}

/*
 * For every key of the table, two configs that differ in that key alone
 * differ by exactly its class in cfg_diff, which names the keys that need
 * a restart of ringfan.
 */
/*
 * A step's options are a mapping: the same keys and values in another
 * order are no change, a different value is a pipeline change.
 */
static void
test_key_diff_options(void **state)
{
	struct cfg a, b, c;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&a, CAP "    pipeline:\n      - plugin: p\n"
	    "        config: { x: 1, y: 2, z: 3 }\n", err), 0);
	assert_int_equal(load(&b, CAP "    pipeline:\n      - plugin: p\n"
	    "        config: { z: 3, x: 1, y: 2 }\n", err), 0);
	assert_int_equal(load(&c, CAP "    pipeline:\n      - plugin: p\n"
	    "        config: { z: 3, x: 2, y: 1 }\n", err), 0);
	assert_int_equal(cfg_diff(&a, &b, 0, NULL), 0);
	assert_int_equal(cfg_diff(&b, &a, 0, NULL), 0);
	assert_int_equal(cfg_diff(&a, &c, 0, NULL), CFG_RELOAD_PIPELINE);
	assert_int_equal(cfg_diff(&b, &c, 0, NULL), CFG_RELOAD_PIPELINE);
	cfg_free(&a);
	cfg_free(&b);
	cfg_free(&c);
}

static void
test_key_diff(void **state)
{
	struct cfg base, cfg;
	char err[CFG_ERR_MAX], text[1024], path[64];
	const char *sample;
	unsigned reload, global, capture;
	size_t i;

	(void)state;
	diff_text(NULL, NULL, text, sizeof(text));
	if (load(&base, text, err) != 0)
		fail_msg("base: %s\n%s", err, text);
	assert_int_equal(cfg_diff(&base, &base, CFG_DIFF_GLOBAL, NULL), 0);
	assert_int_equal(cfg_diff(&base, &base, 0, NULL), 0);
	for (i = 0; cfg_key_info(i, path, sizeof(path), &reload,
	    &sample) == 0; i++) {
		if (sample == NULL)
			continue;
		diff_text(path, sample, text, sizeof(text));
		if (load(&cfg, text, err) != 0)
			fail_msg("%s: %s\n%s", path, err, text);
		restart_keys[0] = '\0';
		global = cfg_diff(&base, &cfg, CFG_DIFF_GLOBAL, note_restart);
		capture = cfg.ncaptures == base.ncaptures ?
		    cfg_diff(&base, &cfg, 0, note_restart) : 0;
		if ((global | capture) != reload ||
		    (strncmp(path, "captures.", 9) == 0 ? global : capture) != 0)
			fail_msg("%s: class %#x, diff %#x (global) %#x "
			    "(capture)", path, reload, global, capture);
		/* The other way round is the same change. */
		assert_int_equal(cfg_diff(&cfg, &base, CFG_DIFF_GLOBAL, NULL) |
		    (cfg.ncaptures == base.ncaptures ?
		    cfg_diff(&cfg, &base, 0, NULL) : 0), reload);
		assert_string_equal(restart_keys,
		    reload == CFG_RELOAD_RESTART ? path : "");
		cfg_free(&cfg);
	}
	cfg_free(&base);
}

static bool
key_known(const char *want)
{
	char path[64];
	const char *sample;
	unsigned reload;
	size_t i;

	for (i = 0; cfg_key_info(i, path, sizeof(path), &reload,
	    &sample) == 0; i++)
		if (strcmp(path, want) == 0)
			return true;
	return false;
}

/*
 * The prefix of the keys documented under a heading: "" for the top level,
 * the mapping of the table whose last name is the heading's, or NULL for
 * a heading of no keys.
 */
static bool
heading_prefix(const char *heading, char *prefix, size_t len)
{
	char path[64];
	const char *sample, *last;
	unsigned reload;
	size_t i;

	if (strcmp(heading, "Top level") == 0) {
		prefix[0] = '\0';
		return true;
	}
	for (i = 0; cfg_key_info(i, path, sizeof(path), &reload,
	    &sample) == 0; i++) {
		last = strrchr(path, '.');
		last = last != NULL ? last + 1 : path;
		if (strcmp(last, heading) == 0 && (sample == NULL ||
		    strcmp(path, "captures") == 0 ||
		    strcmp(path, "captures.pipeline") == 0)) {
			snprintf(prefix, len, "%s", path);
			return true;
		}
	}
	return false;
}

/* docs/configuration.md documents every key of the table, and no other. */
static void
test_docs_keys(void **state)
{
	char line[4096], prefix[64], heading[64], path[128], key[32];
	char seen[128][128];
	const char *sample, *p, *end;
	unsigned reload;
	bool in_keys;
	size_t i, j, nseen;
	FILE *fp;

	(void)state;
	fp = fopen(TEST_DATA_DIR "/../../../docs/configuration.md", "r");
	assert_non_null(fp);
	in_keys = false;
	nseen = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#') {
			for (p = line; *p == '#' || *p == ' '; p++)
				;
			snprintf(heading, sizeof(heading), "%.*s",
			    (int)strcspn(p, "\n"), p);
			in_keys = heading_prefix(heading, prefix,
			    sizeof(prefix));
			continue;
		}
		if (!in_keys || strncmp(line, "| `", 3) != 0 ||
		    (end = strchr(line + 3, '`')) == NULL)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(end - line - 3),
		    line + 3);
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", key);
		if (!key_known(path))
			fail_msg("documented key %s is not in the table", path);
		assert_true(nseen < 128);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", path);
	}
	fclose(fp);
	for (i = 0; cfg_key_info(i, path, sizeof(path), &reload,
	    &sample) == 0; i++) {
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], path) == 0)
				break;
		if (j == nseen)
			fail_msg("key %s is not documented", path);
	}
}

/*
 * Step names: the plugin's for its first step, NAME_2, NAME_3 for the
 * later ones (counted over the plugin's named steps too), or `name`.
 */
static void
test_step_names(void **state)
{
	static const char text[] = CAP
	    "    pipeline:\n"
	    "      - plugin: filter\n"			/* 5 */
	    "      - plugin: counter\n"
	    "      - plugin: filter\n"
	    "        name: dns\n"
	    "      - name: tcp_only\n"
	    "        plugin: filter\n"			/* 10 */
	    "      - plugin: filter\n"
	    "      - plugin: counter\n";
	static const char *const want[] = { "filter", "counter", "dns",
	    "tcp_only", "filter_4", "counter_2" };
	static const unsigned want_line[] = { 0, 0, 8, 9, 0, 0 };
	struct cfg cfg, other;
	struct cfg_plugin *pl;
	char err[CFG_ERR_MAX];

	(void)state;
	if (load(&cfg, text, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.captures[0].npipeline, 6);
	for (size_t i = 0; i < 6; i++) {
		pl = &cfg.captures[0].pipeline[i];
		assert_string_equal(pl->step, want[i]);
		assert_string_equal(cfg_step_name(pl), want[i]);
		assert_int_equal(pl->step_pos.line, want_line[i]);
		assert_int_equal(pl->step_pos.col, want_line[i] ? 15 : 0);
	}
	assert_string_equal(cfg.captures[0].pipeline[3].name, "filter");

	/* A step named as its default is no change; another name is. */
	if (load(&other, CAP "    pipeline:\n      - plugin: counter\n"
	    "        name: counter\n", err) != 0)
		fail_msg("%s", err);
	cfg_free(&cfg);
	if (load(&cfg, CAP "    pipeline:\n      - plugin: counter\n", err) !=
	    0)
		fail_msg("%s", err);
	assert_int_equal(cfg_diff(&cfg, &other, 0, NULL), 0);
	cfg_free(&other);
	if (load(&other, CAP "    pipeline:\n      - plugin: counter\n"
	    "        name: all\n", err) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg_diff(&cfg, &other, 0, NULL), CFG_RELOAD_PIPELINE);
	cfg_free(&other);
	cfg_free(&cfg);

	/* The built-in config names its one step after its plugin. */
	assert_int_equal(cfg_default(&cfg, "eth0", err, sizeof(err)), 0);
	assert_string_equal(cfg_step_name(&cfg.captures[0].pipeline[0]),
	    "counter");
	cfg_free(&cfg);
}

/*
 * A pipeline is as long as the file has room for: 200000 aliases of one
 * entry, 800 KB, are named and checked for clashes (a pairwise search,
 * 40 billion comparisons, would run past the test's timeout), and the
 * clash reported is the one a pairwise search finds.
 */
static void
test_step_names_many(void **state)
{
	static const char head[] = CAP "    pipeline: [&p {plugin: c}";
	static const char tail[] = ", {plugin: c, name: c}]\n";
	size_t n = 200000, hl, len;
	char want[128], *s;

	(void)state;
	hl = strlen(head);
	len = hl + 4 * n + strlen(tail);
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + 4 * i, ", *p", 4);
	memcpy(s + hl + 4 * n, tail, strlen(tail) + 1);
	snprintf(want, sizeof(want), "t.yaml:4:%zu: duplicate step name \"c\" "
	    "(first at line 4, column 28)", hl - strlen(CAP) + 4 * n + 21);
	expect_error(s, want);
	free(s);
}

/*
 * A value longer than an error message quoted whole would cut the cause
 * off the end: the middle of the message gives way to " ... ", and what
 * the file says is wrong stays in it.
 */
static void
test_err_long_value(void **state)
{
	static const char head[] = "captures:\n  - name: a\n"
	    "    interface: eth0\n    workers: ";
	char text[sizeof(head) + 2000 + 2];
	struct cfg cfg;
	char err[CFG_ERR_MAX];
	size_t len;

	(void)state;
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, '9', 2000);
	strcpy(text + sizeof(head) - 1 + 2000, "\n");
	assert_int_equal(load(&cfg, text, err), -1);
	len = strlen(err);
	assert_true(len < CFG_ERR_MAX);
	assert_true(strncmp(err, "t.yaml:4:14: workers: 9999", 26) == 0);
	assert_non_null(strstr(err, "9 ... 9"));
	assert_string_equal(err + len - 23, " is out of range 1..256");
}

static void
test_err_step_names(void **state)
{
	(void)state;
	expect_error(CAP "    pipeline:\n      - plugin: counter\n"
	    "        name: Big\n",
	    "t.yaml:6:15: name: bad step name \"Big\" (1..31 of a-z, 0-9 and "
	    "_)");
	expect_error(CAP "    pipeline:\n      - plugin: counter\n"
	    "        name: a23456789012345678901234567890123\n",
	    "t.yaml:6:15: name: bad step name "
	    "\"a23456789012345678901234567890123\" (1..31 of a-z, 0-9 and _)");
	expect_error(CAP "    pipeline:\n      - plugin: counter\n"
	    "        name: [a]\n",
	    "t.yaml:6:15: name must be a string");
	/* Two names given alike. */
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: counter\n"
	    "        name: dns\n"
	    "      - plugin: filter\n"
	    "        name: dns\n",
	    "t.yaml:8:15: duplicate step name \"dns\" (first at line 6, "
	    "column 15)");
	/* A name given that is another step's default, before or after. */
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: counter\n"
	    "      - plugin: filter\n"
	    "        name: counter\n",
	    "t.yaml:7:15: duplicate step name \"counter\" (first at line 5, "
	    "column 17)");
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: filter\n"
	    "        name: filter_2\n"
	    "      - plugin: filter\n",
	    "t.yaml:7:17: plugin filter: its step name \"filter_2\" is taken "
	    "by the step at line 6, column 15: give it a name");
	/* Two defaults alike: a plugin called as another's second step. */
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: filter\n"
	    "      - plugin: filter\n"
	    "      - plugin: filter_2\n",
	    "t.yaml:7:17: plugin filter_2: its step name \"filter_2\" is "
	    "taken by the step at line 6, column 17: give it a name");
	/* A default that would not fit. */
	expect_error(CAP "    pipeline:\n"
	    "      - plugin: a234567890123456789012345678901\n"
	    "      - plugin: a234567890123456789012345678901\n",
	    "t.yaml:6:17: step 2 of plugin a234567890123456789012345678901 "
	    "would be named a234567890123456789012345678901_2, longer than 31 "
	    "characters: give it a name");
}

/*
 * cpu_affinity auto places worker i on the (i mod n)th online CPU: with
 * CPU 1 offline, worker 1 goes to CPU 2, not to the offline CPU 1 (where
 * its sched_setaffinity would fail and the worker never start).
 */
static void
test_worker_cpu(void **state)
{
	struct cfg_capture cap = { .affinity = CFG_AFFINITY_AUTO };
	int list[] = { 5, 7 };

	(void)state;
	assert_int_equal(cfg_worker_cpu(&cap, 0, "0,2-3\n"), 0);
	assert_int_equal(cfg_worker_cpu(&cap, 1, "0,2-3\n"), 2);
	assert_int_equal(cfg_worker_cpu(&cap, 2, "0,2-3\n"), 3);
	assert_int_equal(cfg_worker_cpu(&cap, 3, "0,2-3\n"), 0);
	assert_int_equal(cfg_worker_cpu(&cap, 1, "4-5,9"), 5);
	assert_int_equal(cfg_worker_cpu(&cap, 5, "4-5,9"), 9);
	cap.affinity = CFG_AFFINITY_LIST;
	cap.cpus = list;
	cap.ncpus = 2;
	assert_int_equal(cfg_worker_cpu(&cap, 3, "0,2-3\n"), 7);
	cap.affinity = CFG_AFFINITY_NONE;
	assert_int_equal(cfg_worker_cpu(&cap, 3, "0,2-3\n"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_scalar_forms),
		cmocka_unit_test(test_several_captures),
		cmocka_unit_test(test_default_config),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_reader_marks),
		cmocka_unit_test(test_err_empty),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_one_line),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_type),
		cmocka_unit_test(test_err_size),
		cmocka_unit_test(test_err_duration),
		cmocka_unit_test(test_err_range),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_fanout_mode),
		cmocka_unit_test(test_err_plugin_config),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_err_cpu_offline),
		cmocka_unit_test(test_err_ring_memory),
		cmocka_unit_test(test_err_nesting),
		cmocka_unit_test(test_err_anchors),
		cmocka_unit_test(test_err_alias_expansion),
		cmocka_unit_test(test_err_alias_nested),
		cmocka_unit_test(test_err_anchor_twice),
		cmocka_unit_test(test_err_too_large),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_file_tty),
		cmocka_unit_test(test_check_nested_file),
		cmocka_unit_test(test_key_classes),
		cmocka_unit_test(test_key_diff),
		cmocka_unit_test(test_key_diff_options),
		cmocka_unit_test(test_docs_keys),
		cmocka_unit_test(test_step_names),
		cmocka_unit_test(test_err_step_names),
		cmocka_unit_test(test_err_long_value),
		cmocka_unit_test(test_step_names_many),
		cmocka_unit_test(test_worker_cpu),
	};
	int failed;

	failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed != 0 ? failed : skipped ? 77 : 0;
}

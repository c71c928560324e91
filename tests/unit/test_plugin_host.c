/*
 * The plugin host: finding and checking plugins (each refusal with its exact
 * message), opening a pipeline per worker, option getters, counters and
 * gauges, error status, host memory across a killed worker, ticks, batches,
 * and the bundled counter plugin over hand-made frames.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ringfan_build.h"
#include "plugin_host.h"
#include "plugin_int.h"
#include "stats.h"

#define PATHS "plugin_path: [\"" BUILD_PLUGIN_DIR "\", \"" TEST_PLUGIN_DIR "\"]\n"

static struct cfg cfg;
static struct pipeline pl;
static struct pipeline pl2;		/* a second worker's */
static struct plugin one;		/* a plugin loaded alone */
static struct stats_shm *shm;
static struct stats_shm *shm2;		/* after a capture reload */
static struct stats_worker *wk;		/* where the plugins count */
static struct plugin_mem mem;		/* host memory of stage 0 */
static struct plugin_env env;		/* worker 0 of the capture */
static char err[PLUGIN_ERR_MAX];

/* A config with one capture whose pipeline is `pipeline` (YAML lines). */
static int
load_into(struct cfg *c, const char *pipeline, char *cerr, size_t cerrlen)
{
	char text[2048];

	snprintf(text, sizeof(text), PATHS
	    "captures:\n"
	    "  - name: t\n"
	    "    interface: lo\n"
	    "    workers: 1\n"
	    "    pipeline:\n%s", pipeline);
	return cfg_load_string(c, "test.yaml", text, strlen(text), cerr,
	    cerrlen);
}

static void
load(const char *pipeline)
{
	char cerr[CFG_ERR_MAX];

	if (load_into(&cfg, pipeline, cerr, sizeof(cerr)) != 0)
		fail_msg("config: %s", cerr);
}

/* The loaded config's pipeline: loaded, then opened as worker 0. */
static int
load_pipeline(void)
{
	return pipeline_load(&pl, &cfg, &cfg.captures[0], NULL, err,
	    sizeof(err));
}

/*
 * As a worker does: each stage's check, then its open, with host memory m
 * for stage 0 (mapped as the check asked, unless it already is).
 */
static int
check_open(struct pipeline *p, struct plugin_mem *m)
{
	int rc;

	env.cfg = &cfg;
	env.cap = &cfg.captures[0];
	if ((rc = pipeline_check(p, &env, err, sizeof(err))) != RINGFAN_OK)
		return rc;
	if (m != NULL && m->map == NULL &&
	    plugin_mem_map(m, &p->stages[0].info, true) != 0)
		fail_msg("plugin_mem_map failed");
	return pipeline_open(p, &env, wk, m, err, sizeof(err));
}

static int
open_pipeline(void)
{
	return check_open(&pl, NULL);
}

/* Load the config of `pipeline`, then the pipeline. */
static void
loaded(const char *pipeline)
{
	load(pipeline);
	if (load_pipeline() != 0)
		fail_msg("%s", err);
}

/* Load the config of `pipeline` and the pipeline, then open it. */
static int
start(const char *pipeline)
{
	loaded(pipeline);
	return open_pipeline();
}

/* Each stage's check, as the worker of env (or a validation) runs it. */
static int
check_pipeline(void)
{
	env.cfg = &cfg;
	env.cap = &cfg.captures[0];
	return pipeline_check(&pl, &env, err, sizeof(err));
}

/* Forget the pipeline and its config, for another in the same test. */
static void
unload(void)
{
	pipeline_unload(&pl);
	cfg_free(&cfg);
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("RINGFAN_PLUGIN_PATH");
	memset(&pl, 0, sizeof(pl));
	memset(&pl2, 0, sizeof(pl2));
	memset(&one, 0, sizeof(one));
	memset(&mem, 0, sizeof(mem));
	memset(&env, 0, sizeof(env));
	env.worker_count = 1;
	env.interface = "lo";
	env.linktype = 1;	/* DLT_EN10MB */
	env.snaplen = 65535;
	err[0] = '\0';
	shm2 = NULL;
	if ((shm = stats_create(1)) == NULL)
		return 1;
	wk = &shm->workers[0];
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pipeline_unload(&pl2);
	pipeline_unload(&pl);
	plugin_unload(&one);
	/* After the closes, which mark the memory closed cleanly. */
	plugin_mem_unmap(&mem);
	cfg_free(&cfg);
	stats_destroy(shm, 1);
	stats_destroy(shm2, 1);
	return 0;
}

static uint64_t
slot_value(const char *plugin, const char *name, enum stats_kind kind)
{
	/* Between pipelines: the step of that name, with the plugin so named. */
	const char *const alone[] = { plugin, plugin };
	const char *const *ids = alone;
	uint64_t *slot;
	size_t k = 0, n = 1;

	while (pl.names != NULL && k < pl.nstages &&
	    strcmp(pl.names[k], plugin) != 0)
		k++;
	if (pl.names != NULL && k < pl.nstages) {
		ids = (const char *const *)pl.names;
		n = pl.nstages;
	} else
		k = 0;
	if (stats_counter(wk, ids, n, k, name, kind, &slot) != 0)
		fail_msg("no %s %s.%s", kind == STATS_GAUGE ? "gauge" :
		    "counter", plugin, name);
	return *slot;
}

static uint64_t
counter_value(const char *plugin, const char *name)
{
	return slot_value(plugin, name, STATS_COUNTER);
}

static uint64_t
gauge_value(const char *plugin, const char *name)
{
	return slot_value(plugin, name, STATS_GAUGE);
}

/*
 * Worker 0's `path` ("gauges.ctxprobe", say) in the stats document built
 * from s for the pipeline pl, as compact JSON with sorted keys; "(none)"
 * when it is not there.
 */
static void
assert_stats(const struct stats_shm *s, const char *path, const char *want)
{
	const char *const *names[] = { pl.names };
	const struct stats_view view = {
		.cfg = &cfg,
		.shm = s,
		.plugin_names = names,
	};
	char key[128], got[1024], *k, *save = NULL, *text;
	json_t *doc, *j;

	doc = stats_json(&view);
	j = json_array_get(json_object_get(json_array_get(json_object_get(doc,
	    "captures"), 0), "workers"), 0);
	snprintf(key, sizeof(key), "%s", path);
	for (k = strtok_r(key, ".", &save); k != NULL && j != NULL;
	    k = strtok_r(NULL, ".", &save))
		j = json_object_get(j, k);
	text = j == NULL ? NULL : json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	snprintf(got, sizeof(got), "%s", text != NULL ? text : "(none)");
	free(text);
	json_decref(doc);
	if (strcmp(got, want) != 0)
		fail_msg("stats %s: %s, expected %s", path, got, want);
}

/*
 * n frames of wire length len through the stages before the first batch
 * stage of p; how many got through them all.
 */
static unsigned
run(const struct pipeline *p, unsigned n, uint32_t len)
{
	static const uint8_t zero[128];
	const struct ringfan_packet pkt = {
		.data = zero,
		.caplen = len < sizeof(zero) ? len : sizeof(zero),
		.len = len,
	};
	unsigned passed = 0;

	for (unsigned i = 0; i < n; i++)
		passed += pipeline_run(p, &pkt);
	return passed;
}

static void
test_load_counter(void **state)
{
	(void)state;
	load("      - plugin: counter\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(pl.nstages, 1);
	assert_string_equal(pl.names[0], "counter");
	assert_string_equal(pl.plugins[0].path, BUILD_PLUGIN_DIR
	    "/counter/counter.so");
	assert_false(pl.has_batch);
}

static void
test_not_found(void **state)
{
	(void)state;
	load("      - plugin: nosuch\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: plugin nosuch: nosuch.so "
	    "not found in " BUILD_PLUGIN_DIR ":" TEST_PLUGIN_DIR ":"
	    RINGFAN_PLUGIN_DIR " (plugin_path and RINGFAN_PLUGIN_PATH add "
	    "directories)");
}

static void
test_env_path_first(void **state)
{
	(void)state;
	setenv("RINGFAN_PLUGIN_PATH", "/nonexistent/a:/nonexistent/b", 1);
	load("      - plugin: nosuch\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: plugin nosuch: nosuch.so "
	    "not found in /nonexistent/a:/nonexistent/b:" BUILD_PLUGIN_DIR ":"
	    TEST_PLUGIN_DIR ":" RINGFAN_PLUGIN_DIR " (plugin_path and "
	    "RINGFAN_PLUGIN_PATH add directories)");
}

/*
 * A directory whose DIR/counter.so does not fit the host's 4096 bytes: cut
 * short, the name was "DIR/counter.s", which a file there may hold.  Such
 * a directory is passed over, and counter found where it is.
 */
static void
test_path_cut(void **state)
{
	char dir[4096], cut[4096], base[] = "/tmp/rfcutXXXXXX";
	char cmd[8300];
	size_t len;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(base));
	strlcpy(dir, base, sizeof(dir));
	/* 4085 bytes: DIR/counter.so is 4096 with its NUL, one too many. */
	while ((len = strlen(dir)) < 4085) {
		size_t add = 4085 - len - 1 < 200 ? 4085 - len - 1 : 200;

		strlcat(dir, "/", sizeof(dir));
		memset(dir + len + 1, 'd', add);
		dir[len + 1 + add] = '\0';
		assert_int_equal(mkdir(dir, 0755), 0);
	}
	assert_int_equal(strlen(dir), 4085);
	snprintf(cut, sizeof(cut), "%s/counter.s", dir);
	snprintf(cmd, sizeof(cmd), "cp %s/counter/counter.so %s",
	    BUILD_PLUGIN_DIR, cut);
	assert_int_equal(system(cmd), 0);
	setenv("RINGFAN_PLUGIN_PATH", dir, 1);
	load("      - plugin: counter\n");
	rc = load_pipeline();
	/* Removed first: a failure leaves nothing behind. */
	snprintf(cmd, sizeof(cmd), "rm -r %s", base);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rc, 0);
	assert_string_equal(pl.plugins[0].path, BUILD_PLUGIN_DIR
	    "/counter/counter.so");
}

static void
test_no_symbol(void **state)
{
	(void)state;
	load("      - plugin: nosymbol\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: " TEST_PLUGIN_DIR
	    "/nosymbol.so: no symbol ringfan_plugin: not a ringfan plugin, "
	    "or one that does not export it (define it with RINGFAN_EXPORT; "
	    "in C++, extern and in extern \"C\")");
}

static void
test_bad_abi(void **state)
{
	(void)state;
	load("      - plugin: badabi\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: " TEST_PLUGIN_DIR
	    "/badabi.so: plugin ABI 1.0, ringfan supports 2.x");
}

/* .abi set to the major alone: ABI 0.2, and what to write instead. */
static void
test_abi_major_only(void **state)
{
	(void)state;
	load("      - plugin: majoronly\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: " TEST_PLUGIN_DIR
	    "/majoronly.so: plugin ABI 0.2, ringfan supports 2.x (.abi is "
	    "RINGFAN_PLUGIN_ABI, the major shifted 16 bits left and the "
	    "minor)");
}

static void
test_duplicate_name(void **state)
{
	(void)state;
	/* One file in two steps is no clash; two files of one name are. */
	load("      - plugin: counter\n      - plugin: counter\n");
	assert_int_equal(load_pipeline(), 0);
	unload();
	load("      - plugin: counter\n      - plugin: dupname\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:8:17: " TEST_PLUGIN_DIR
	    "/dupname.so: plugin name \"counter\" is already used by "
	    BUILD_PLUGIN_DIR "/counter/counter.so");
}

static void
test_open_fails(void **state)
{
	(void)state;
	load("      - plugin: counter\n      - plugin: openfail\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), -1);
	assert_string_equal(err, "plugin openfail: cannot open /nonexistent: "
	    "No such file or directory");
	/* The stage opened before it was closed again. */
	assert_false(pl.stages[0].opened);
}

static void
test_options(void **state)
{
	(void)state;
	load("      - plugin: options\n"
	    "        config: { count: 42, size: 2MiB, timeout: 30s,\n"
	    "                  enabled: yes, label: abc }\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), 0);
	assert_int_equal(counter_value("options", "count"), 42);
	assert_int_equal(counter_value("options", "size"), 2 * 1024 * 1024);
	assert_int_equal(counter_value("options", "timeout_ms"), 30000);
	assert_int_equal(counter_value("options", "enabled"), 1);
	assert_int_equal(counter_value("options", "label_len"), 3);
}

static void
test_options_defaults(void **state)
{
	(void)state;
	load("      - plugin: options\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), 0);
	assert_int_equal(counter_value("options", "count"), 7);
	assert_int_equal(counter_value("options", "size"), 4096);
	assert_int_equal(counter_value("options", "timeout_ms"), 1);
	assert_int_equal(counter_value("options", "enabled"), 0);
	assert_int_equal(counter_value("options", "label_len"), 4);
}

/* A value of the wrong form, and a number past 2^64 - 1. */
static void
test_option_bad_value(void **state)
{
	static const struct {
		const char	*config;
		const char	*err;
	} cases[] = {
		{ "{ size: 2MB }", "test.yaml:8:25: plugin options: option "
		    "size: not a size \"2MB\" (a number and optionally B, KiB, "
		    "MiB, GiB or TiB)" },
		{ "{ size: 99999999TiB }", "test.yaml:8:25: plugin options: "
		    "option size: too large \"99999999TiB\"" },
		{ "{ count: 0x10 }", "test.yaml:8:26: plugin options: option "
		    "count: not an unsigned integer \"0x10\" (decimal digits, "
		    "without a sign or a unit)" },
	};
	char yaml[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "      - plugin: options\n"
		    "        config: %s\n", cases[i].config);
		load(yaml);
		assert_int_equal(load_pipeline(), 0);
		assert_int_equal(open_pipeline(), -1);
		assert_string_equal(err, cases[i].err);
		unload();
	}
}

/*
 * A plugin's own message about one of its options, "KEY: ..." or "KEY
 * \"...\"...", is led by the place of that option's value; one about a
 * key the step does not set ("KEY: ...") by the place of its plugin name.
 */
static void
test_option_message_place(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: flowtable\n"
	    "        config: { output: /dev/null, max_flows: 0 }\n"),
	    RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:8:49: plugin flowtable: "
	    "max_flows: 0 is not 1 to 4194304");
	unload();
	assert_int_equal(start("      - plugin: filter\n"
	    "        config: { expression: \"tcp prt 80\" }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:8:31: plugin filter: expression "
	    "\"tcp prt 80\": can't parse filter expression: syntax error");
	unload();
	assert_int_equal(start("      - plugin: pcapwriter\n"), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:7:17: plugin pcapwriter: "
	    "directory: required");
	unload();
	/* A required key misspelt: the option not read is named after it. */
	assert_int_equal(start("      - plugin: flowtable\n"
	    "        config: { max_flows: 100, outptu: /dev/null }\n"),
	    RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:7:17: plugin flowtable: output: "
	    "required without ipfix: the file the records go to (option "
	    "\"outptu\" at 8:43, which it has not read: misspelt?)");
}

/* The pipeline of `steps` fails to open with the error `want`. */
static void
open_fails_with(const char *steps, const char *want)
{
	load(steps);
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), -1);
	assert_string_equal(err, want);
	unload();
}

static void
test_option_unknown(void **state)
{
	(void)state;
	open_fails_with("      - plugin: counter\n"
	    "        config: { colour: blue }\n",
	    "test.yaml:8:27: plugin counter: unknown option \"colour\"");
	/* An unquoted comma in { }: the key after it has no value. */
	open_fails_with("      - plugin: options\n"
	    "        config: { label: a,b, size: 1, c: }\n",
	    "test.yaml:8:28: plugin options: unknown option \"b\" (a key "
	    "without a value: in { } a comma ends the value before it, so "
	    "quote a value that has commas)");
	/* No value before it for a comma to have ended: no such cause. */
	open_fails_with("      - plugin: counter\n"
	    "        config: { colour: }\n",
	    "test.yaml:8:27: plugin counter: unknown option \"colour\"");
	open_fails_with("      - plugin: options\n"
	    "        config: { label: \"a\", b }\n",
	    "test.yaml:8:33: plugin options: unknown option \"b\"");
	/* A key with a newline or an escape in it: still one line. */
	open_fails_with("      - plugin: counter\n"
	    "        config: { \"col\\nour\\e\": blue }\n",
	    "test.yaml:8:33: plugin counter: unknown option \"col?our?\"");
}

/* Frames for the counter plugin: Ethernet, optionally one 802.1Q tag. */
static size_t
frame(uint8_t *buf, unsigned ethertype, unsigned ipproto, bool inband_vlan)
{
	size_t off = 12;

	memset(buf, 0, 128);
	if (inband_vlan) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = 0x00;
		buf[off++] = 100;
	}
	buf[off++] = (uint8_t)(ethertype >> 8);
	buf[off++] = (uint8_t)ethertype;
	if (ethertype == 0x0800) {
		buf[off] = 0x45;
		buf[off + 9] = (uint8_t)ipproto;
	} else if (ethertype == 0x86dd) {
		buf[off] = 0x60;
		buf[off + 6] = (uint8_t)ipproto;
	}
	return 128;
}

static void
test_counter_plugin(void **state)
{
	static const struct {
		unsigned	ethertype, proto;
		bool		inband, stripped;
		unsigned	n;
	} mix[] = {
		{ 0x0800, 17, false, false, 5 },	/* udp */
		{ 0x0800, 6, false, false, 4 },		/* tcp */
		{ 0x0800, 1, false, false, 3 },		/* icmp */
		{ 0x86dd, 17, false, false, 2 },	/* udp6 */
		{ 0x86dd, 58, false, false, 1 },	/* icmp6 */
		{ 0x0806, 0, false, false, 6 },		/* arp */
		{ 0x0800, 17, true, false, 2 },		/* vlan in band */
		{ 0x0800, 6, false, true, 3 },		/* vlan stripped */
		{ 0x88b5, 0, false, false, 1 },		/* other */
	};
	struct ringfan_packet pkt;
	uint8_t buf[128];

	(void)state;
	load("      - plugin: counter\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), 0);
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.data = buf;
		pkt.linktype = 1;	/* DLT_EN10MB */
		pkt.caplen = pkt.len = (uint32_t)frame(buf, mix[i].ethertype,
		    mix[i].proto, mix[i].inband);
		if (mix[i].stripped) {
			pkt.flags = RINGFAN_PKT_VLAN_VALID;
			pkt.vlan_tci = 7;
		}
		for (unsigned k = 0; k < mix[i].n; k++)
			pipeline_run(&pl, &pkt);
	}
	/* A runt frame is still an ethernet frame, of no known type. */
	pkt.flags = 0;
	pkt.caplen = pkt.len = 10;
	pipeline_run(&pl, &pkt);

	assert_int_equal(counter_value("counter", "ethernet"), 28);
	assert_int_equal(counter_value("counter", "vlan"), 5);
	assert_int_equal(counter_value("counter", "arp"), 6);
	assert_int_equal(counter_value("counter", "ipv4"), 17);
	assert_int_equal(counter_value("counter", "ipv6"), 3);
	assert_int_equal(counter_value("counter", "tcp"), 7);
	assert_int_equal(counter_value("counter", "udp"), 9);
	assert_int_equal(counter_value("counter", "icmp"), 4);
	assert_int_equal(counter_value("counter", "other"), 2);
}

static void
test_batch_only_plugin(void **state)
{
	struct ringfan_packet pkts[3] = {
		{ .len = 60 }, { .len = 90 }, { .len = 64 },
	};

	(void)state;
	load("      - plugin: batcher\n      - plugin: counter\n");
	const struct ringfan_packet *ptrs[3] = { &pkts[0], &pkts[1], &pkts[2] };

	assert_int_equal(load_pipeline(), 0);
	assert_true(pl.has_batch);
	assert_int_equal(pl.first_batch, 0);
	assert_int_equal(open_pipeline(), 0);
	/* Nothing comes before the batch stage: every frame reaches it. */
	for (size_t i = 0; i < 3; i++) {
		pkts[i].data = (const uint8_t *)"";
		assert_true(pipeline_run(&pl, &pkts[i]));
	}
	pipeline_rest(&pl, ptrs, 3);
	assert_int_equal(counter_value("batcher", "calls"), 1);
	assert_int_equal(counter_value("batcher", "frames"), 3);
	assert_int_equal(counter_value("batcher", "bytes"), 214);
	/* A batch stage gives no verdict: the later stages see every frame. */
	assert_int_equal(counter_value("counter", "ethernet"), 3);
}

static void
test_counter_slots(void **state)
{
	struct stats_worker *w;
	uint64_t *slot;
	char name[16];

	/* Steps p and q, of plugins pp and qq. */
	static const char *const ids[] = { "p", "q", "pp", "qq" };

	(void)state;
	w = &shm->workers[0];
	for (unsigned i = 0; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_int_equal(stats_counter(w, ids, 2, 0, name, i % 2 ?
		    STATS_GAUGE : STATS_COUNTER, &slot), 0);
	}
	/* The same name finds its slot again; a new one finds none. */
	assert_int_equal(stats_counter(w, ids, 2, 0, "c3", STATS_GAUGE,
	    &slot), 0);
	assert_ptr_equal(slot, &w->counters[3].value);
	assert_int_equal(stats_counter(w, ids, 2, 0, "one_more",
	    STATS_COUNTER, &slot), -ENOSPC);
	/* Another plugin's counter of the same name is another slot. */
	assert_int_equal(stats_counter(w, ids, 2, 1, "c3", STATS_GAUGE,
	    &slot), -ENOSPC);
	/* A name is a counter or a gauge, never both. */
	assert_int_equal(stats_counter(w, ids, 2, 0, "c3", STATS_COUNTER,
	    &slot), -EEXIST);
}

/* Loader refusals of ABI 2, asked of plugin_load alone. */

static int
load_one(const char *name)
{
	static char dir[] = TEST_PLUGIN_DIR;
	char *const path[] = { dir };

	return plugin_load(&one, name, path, 1, NULL, err, sizeof(err));
}

static void
test_struct_refused(void **state)
{
	static const struct {
		const char	*file;
		const char	*err;
	} cases[] = {
		{ "nullname", "plugin name missing (NULL)" },
		{ "badname", "plugin name \"Bad-Name\" invalid (1 to 31 of "
		    "a-z, 0-9, _)" },
		{ "longname", "plugin name \"abcdefghijabcdefghijabcdefghij"
		    "abcdefghijabcdefg...\" invalid (1 to 31 of a-z, 0-9, _)" },
	};
	char want[PLUGIN_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load_one(cases[i].file), -1);
		snprintf(want, sizeof(want), "%s/%s.so: %s", TEST_PLUGIN_DIR,
		    cases[i].file, cases[i].err);
		assert_string_equal(err, want);
		assert_null(one.dl);
	}
	/* The least is ABI 2.0's struct, which ends with close. */
	assert_int_equal(load_one("smallstruct"), -1);
	snprintf(want, sizeof(want), "%s/smallstruct.so: plugin struct of 8 "
	    "bytes, ABI 2.0 needs %zu", TEST_PLUGIN_DIR,
	    offsetof(struct ringfan_plugin, close) + sizeof(void (*)(void *)));
	assert_string_equal(err, want);
	/*
	 * Between two minors' sizes: the host would take half of prefetch
	 * and call what that points to.
	 */
	assert_int_equal(load_one("cutstruct"), -1);
	snprintf(want, sizeof(want), "%s/cutstruct.so: plugin struct of 84 "
	    "bytes ends within a field (ABI 2.0 has 80, 2.2 has 88)",
	    TEST_PLUGIN_DIR);
	assert_string_equal(err, want);
	assert_null(one.dl);
	/*
	 * A size beyond the object: the host would judge, as fields of a
	 * later minor, bytes that are not the plugin's struct.
	 */
	assert_int_equal(load_one("longstruct"), -1);
	snprintf(want, sizeof(want), "%s/longstruct.so: plugin struct of 96 "
	    "bytes, but its object ringfan_plugin has %zu", TEST_PLUGIN_DIR,
	    sizeof(struct ringfan_plugin));
	assert_string_equal(err, want);
	assert_null(one.dl);
}

static void
test_newer_minor_refused(void **state)
{
	(void)state;
	assert_int_equal(load_one("newminor"), -1);
	assert_string_equal(err, TEST_PLUGIN_DIR "/newminor.so: plugin ABI "
	    "2.3 uses features that ringfan (ABI 2.2) lacks");
	/* Nothing of it stays loaded. */
	assert_null(one.dl);
	assert_null(one.path);
}

static void
test_newer_minor_unused_accepted(void **state)
{
	(void)state;
	assert_int_equal(load_one("newminor0"), 0);
	assert_int_equal(one.desc->abi, RINGFAN_PLUGIN_ABI + 1);
	assert_int_equal(one.desc->size, sizeof(struct ringfan_plugin) + 8);
	assert_string_equal(one.calls.name, "newminor0");
	/* The optional callbacks are filled even so. */
	assert_non_null(one.calls.tick);
	assert_non_null(one.calls.close);

	/* And it runs like any other. */
	loaded("      - plugin: newminor0\n");
	assert_int_equal(pl.stages[0].info.abi, RINGFAN_PLUGIN_ABI + 1);
	assert_string_equal(pl.stages[0].info.version, "2.3");
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(run(&pl, 2, 60), 2);
}

/*
 * A plugin that declares an older minor than its header's, the oldest it
 * needs, with a field of a later one set: loaded, and this host, which
 * knows the field, uses it.
 */
static void
test_older_minor_declared(void **state)
{
	(void)state;
	assert_int_equal(load_one("lookahead20"), 0);
	assert_int_equal(one.desc->abi, RINGFAN_PLUGIN_ABI_MAJOR << 16);
	assert_int_equal(one.desc->size, sizeof(struct ringfan_plugin));
	assert_non_null(one.calls.prefetch);
	plugin_unload(&one);
	loaded("      - plugin: lookahead20\n");
	assert_true(pl.has_prefetch);
	assert_ptr_equal(pl.stages[0].prefetch, pl.plugins[0].calls.prefetch);
	assert_string_equal(pl.stages[0].info.version, "2.2");
}

static void
test_packet_and_batch_refused(void **state)
{
	(void)state;
	assert_int_equal(load_one("bothcb"), -1);
	assert_string_equal(err, TEST_PLUGIN_DIR "/bothcb.so: plugin bothcb "
	    "has both a packet and a batch callback");
	assert_null(one.dl);
	assert_int_equal(load_one("batchprefetch"), -1);
	assert_string_equal(err, TEST_PLUGIN_DIR "/batchprefetch.so: plugin "
	    "batchprefetch has a prefetch and a batch callback: prefetch goes "
	    "with packet");
	assert_null(one.dl);
}

/*
 * Prefetch callbacks are called for the stages before the first batch
 * stage only: after it, a frame reaches packet a block later.
 */
static void
test_prefetch_stages(void **state)
{
	(void)state;
	loaded("      - plugin: counter\n"
	    "      - plugin: lookahead\n"
	    "      - plugin: batcher\n"
	    "      - plugin: lookahead\n");
	assert_true(pl.has_prefetch);
	assert_null(pl.stages[0].prefetch);
	assert_non_null(pl.stages[1].prefetch);
	assert_ptr_equal(pl.stages[1].prefetch,
	    pl.plugins[1].calls.prefetch);
	assert_null(pl.stages[3].prefetch);
	assert_non_null(pl.plugins[3].calls.prefetch);
	unload();
	loaded("      - plugin: batcher\n"
	    "      - plugin: lookahead\n");
	assert_false(pl.has_prefetch);
	unload();
	loaded("      - plugin: counter\n");
	assert_false(pl.has_prefetch);
}

/* What the ctx tells a plugin. */

static void
test_ctx_fields(void **state)
{
	(void)state;
	loaded("      - plugin: ctxprobe\n");
	env.worker_id = 2;
	env.worker_count = 3;
	env.linktype = 113;	/* DLT_LINUX_SLL */
	env.snaplen = 1518;
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "abi"), RINGFAN_PLUGIN_ABI);
	assert_int_equal(counter_value("ctxprobe", "ctx_size"),
	    sizeof(struct ringfan_ctx));
	assert_int_equal(counter_value("ctxprobe", "linktype"), 113);
	assert_int_equal(counter_value("ctxprobe", "snaplen"), 1518);
	assert_int_equal(counter_value("ctxprobe", "worker_id"), 2);
	assert_int_equal(counter_value("ctxprobe", "worker_count"), 3);
	/* A worker's check is no validation. */
	assert_int_equal(counter_value("ctxprobe", "check_flags"), 0);
	assert_int_equal(counter_value("ctxprobe", "open_flags"), 0);
}

static void
test_ctx_flags(void **state)
{
	(void)state;
	loaded("      - plugin: ctxprobe\n");
	/* Offline: the flag reaches check and open alike. */
	env.flags = RINGFAN_CTX_OFFLINE;
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"),
	    RINGFAN_CTX_OFFLINE);
	assert_int_equal(counter_value("ctxprobe", "open_flags"),
	    RINGFAN_CTX_OFFLINE);
	pipeline_close(&pl);

	/* A validation's check is told so, the open after it is not. */
	env.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	env.flags = 0;
	assert_int_equal(pipeline_open(&pl, &env, wk, NULL, err, sizeof(err)),
	    RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"),
	    RINGFAN_CTX_CHECK);
	assert_int_equal(counter_value("ctxprobe", "open_flags"), 0);
	pipeline_close(&pl);

	/* The worker's own check, without validation, is not. */
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"), 0);
}

/*
 * RINGFAN_CTX_FLOW_SPLIT for every fanout mode, rollover and defrag, live
 * and offline, with one worker and with several; the other flags kept.
 */
static void
test_flow_split_flags(void **state)
{
	static const enum cfg_fanout_mode modes[] = { CFG_FANOUT_HASH,
	    CFG_FANOUT_LB, CFG_FANOUT_CPU, CFG_FANOUT_ROLLOVER,
	    CFG_FANOUT_RANDOM, CFG_FANOUT_QM };
	static const uint32_t base[] = { 0, RINGFAN_CTX_CHECK,
	    RINGFAN_CTX_OFFLINE, RINGFAN_CTX_OFFLINE | RINGFAN_CTX_CHECK };
	struct cfg_capture cap;
	struct plugin_env e;
	bool split;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	memset(&e, 0, sizeof(e));
	e.cap = &cap;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
	for (int rollover = 0; rollover < 2; rollover++)
	for (int defrag = 0; defrag < 2; defrag++)
	for (size_t b = 0; b < sizeof(base) / sizeof(base[0]); b++)
	for (unsigned n = 1; n <= 3; n++) {
		cap.fanout.mode = modes[m];
		cap.fanout.rollover = rollover;
		cap.fanout.defrag = defrag;
		cap.workers = n;
		e.worker_count = n;
		e.flags = base[b];
		/* Only hash with defrag and no rollover keeps flows whole. */
		split = modes[m] != CFG_FANOUT_HASH || rollover || !defrag;
		split = split && n > 1 && !(base[b] & RINGFAN_CTX_OFFLINE);
		if (plugin_env_flags(&e) != (base[b] |
		    (split ? RINGFAN_CTX_FLOW_SPLIT : 0)))
			fail_msg("mode %s rollover %d defrag %d flags %#x "
			    "workers %u: %#x", cfg_fanout_mode_name(modes[m]),
			    rollover, defrag, base[b], n,
			    plugin_env_flags(&e));
	}
	/* The exact cases of the ABI's list. */
	cap.fanout.rollover = false;
	cap.fanout.defrag = true;
	e.flags = 0;
	e.worker_count = 2;
	cap.fanout.mode = CFG_FANOUT_HASH;
	assert_int_equal(plugin_env_flags(&e), 0);
	cap.fanout.defrag = false;
	assert_int_equal(plugin_env_flags(&e), RINGFAN_CTX_FLOW_SPLIT);
	cap.fanout.defrag = true;
	cap.fanout.rollover = true;
	assert_int_equal(plugin_env_flags(&e), RINGFAN_CTX_FLOW_SPLIT);
	cap.fanout.rollover = false;
	cap.fanout.mode = CFG_FANOUT_LB;
	assert_int_equal(plugin_env_flags(&e), RINGFAN_CTX_FLOW_SPLIT);
}

/* A config of one capture of 2 workers with the given fanout. */
static void
load_fanout(const char *fanout)
{
	char text[1024], cerr[CFG_ERR_MAX];

	snprintf(text, sizeof(text), PATHS
	    "captures:\n"
	    "  - name: t\n"
	    "    interface: lo\n"
	    "    workers: 2\n"
	    "    fanout: %s\n"
	    "    pipeline:\n"
	    "      - plugin: ctxprobe\n", fanout);
	if (cfg_load_string(&cfg, "test.yaml", text, strlen(text), cerr,
	    sizeof(cerr)) != 0)
		fail_msg("config: %s", cerr);
	if (load_pipeline() != 0)
		fail_msg("%s", err);
	env.worker_id = 1;
	env.worker_count = 2;
}

/* What check and open of a plugin see, from the capture's config. */
static void
test_flow_split_ctx(void **state)
{
	(void)state;
	/* lb: a validation's check and a worker's open are both told. */
	load_fanout("{ mode: lb }");
	env.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	env.flags = 0;
	assert_int_equal(pipeline_open(&pl, &env, wk, NULL, err, sizeof(err)),
	    RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"),
	    RINGFAN_CTX_CHECK | RINGFAN_CTX_FLOW_SPLIT);
	assert_int_equal(counter_value("ctxprobe", "open_flags"),
	    RINGFAN_CTX_FLOW_SPLIT);
	unload();

	/* hash without defrag: a worker's own check and open. */
	load_fanout("{ mode: hash, defrag: false }");
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"),
	    RINGFAN_CTX_FLOW_SPLIT);
	assert_int_equal(counter_value("ctxprobe", "open_flags"),
	    RINGFAN_CTX_FLOW_SPLIT);
	unload();

	/* hash with defrag, the default: flows stay whole. */
	load_fanout("{ mode: hash }");
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"), 0);
	assert_int_equal(counter_value("ctxprobe", "open_flags"), 0);
	unload();

	/* Offline (`-r --workers 2`) the frames are split by flow. */
	load_fanout("{ mode: random }");
	env.flags = RINGFAN_CTX_OFFLINE;
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(counter_value("ctxprobe", "check_flags"),
	    RINGFAN_CTX_OFFLINE);
	assert_int_equal(counter_value("ctxprobe", "open_flags"),
	    RINGFAN_CTX_OFFLINE);
}

/*
 * One plugin in several steps: each step counts, gauges and reports under
 * its own name, in the stats document too.
 */
static void
test_step_names(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { stop_len: 50 }\n"
	    "      - plugin: ctxprobe\n"
	    "      - plugin: ctxprobe\n"
	    "        name: last\n"
	    "        config: { stop_len: 60 }\n"
	    "      - plugin: counter\n"), RINGFAN_OK);
	assert_int_equal(pl.nstages, 4);
	assert_string_equal(pl.names[0], "ctxprobe");
	assert_string_equal(pl.names[1], "ctxprobe_2");
	assert_string_equal(pl.names[2], "last");
	assert_string_equal(pl.names[3], "counter");
	assert_string_equal(pl.stages[1].info.step, "ctxprobe_2");
	assert_string_equal(pl.stages[1].info.name, "ctxprobe");
	assert_string_equal(pl.stages[2].info.step, "last");
	assert_string_equal(pl.stages[2].info.name, "ctxprobe");

	/* 3 pass all, 2 stop at the first step, 4 at the third. */
	assert_int_equal(run(&pl, 3, 70), 3);
	assert_int_equal(run(&pl, 2, 50), 0);
	assert_int_equal(run(&pl, 4, 60), 0);
	assert_int_equal(counter_value("ctxprobe", "frames"), 9);
	assert_int_equal(counter_value("ctxprobe_2", "frames"), 7);
	assert_int_equal(counter_value("last", "frames"), 7);
	assert_int_equal(gauge_value("ctxprobe", "last_len"), 60);
	assert_int_equal(gauge_value("ctxprobe_2", "last_len"), 60);
	assert_stats(shm, "plugins.ctxprobe.frames", "9");
	assert_stats(shm, "plugins.ctxprobe_2.frames", "7");
	assert_stats(shm, "plugins.last.frames", "7");
	assert_stats(shm, "plugins.last.worker_id", "0");
	assert_stats(shm, "gauges.last", "{\"last_len\":60}");

	/* A problem is the step's that reports it. */
	assert_int_equal(run(&pl, 1, 1), 1);
	assert_stats(shm, "errors",
	    "{\"ctxprobe\":\"disk full: /var/spool/ctxprobe\","
	    "\"ctxprobe_2\":\"disk full: /var/spool/ctxprobe\","
	    "\"last\":\"disk full: /var/spool/ctxprobe\"}");
	assert_string_equal(wk->status[1].plugin, "ctxprobe_2");
}

/* Gauges */

static void
test_gauge_in_stats(void **state)
{
	uint64_t *slot;

	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "      - plugin: counter\n"), RINGFAN_OK);
	assert_int_equal(run(&pl, 1, 60), 1);
	assert_int_equal(run(&pl, 1, 90), 1);
	assert_int_equal(gauge_value("ctxprobe", "last_len"), 90);
	/* The slot is a gauge's: a counter of that name is refused. */
	assert_int_equal(stats_counter(wk, (const char *const *)pl.names,
	    pl.nstages, 0, "last_len", STATS_COUNTER, &slot), -EEXIST);
	assert_stats(shm, "gauges", "{\"counter\":{},"
	    "\"ctxprobe\":{\"last_len\":90}}");
	assert_stats(shm, "plugins.ctxprobe.last_len", "(none)");
	assert_stats(shm, "plugins.ctxprobe.frames", "2");
	assert_stats(shm, "gauges.ctxprobe.frames", "(none)");
}

static void
test_gauge_counter_clash(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { clash: counter }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "plugin ctxprobe: counter last_len: the name "
	    "is taken by a gauge");
	assert_false(pl.stages[0].opened);
	unload();

	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { clash: gauge }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "plugin ctxprobe: gauge frames: the name is "
	    "taken by a counter");
}

/*
 * The plugin options, reloaded in s to keep count as a gauge (its other
 * counters then reading others), then as a counter again, from the value
 * that open stores; with prune, the carry pruned as the master does when
 * the hand-over to the gauge's open ends.
 */
static void
gauge_and_back(struct stats_shm *s, const char *others, bool prune)
{
	assert_int_equal(start("      - plugin: options\n"
	    "        config: { count: 9, level: yes }\n"), RINGFAN_OK);
	assert_stats(s, "gauges.options.count", "9");
	assert_stats(s, "plugins.options", others);
	if (prune)
		stats_carry_prune(wk);
	pipeline_close(&pl);
	unload();

	assert_int_equal(start("      - plugin: options\n"
	    "        config: { count: 4 }\n"), RINGFAN_OK);
	assert_stats(s, "plugins.options.count", "4");
	assert_stats(s, "gauges.options", "{}");
}

/*
 * A pipeline reload whose plugin at a step now keeps a name as the other
 * kind (a new version made a counter a level) takes that slot over from 0,
 * as a fresh start would: only a name that this open took itself clashes.
 */
static void
test_gauge_kind_reload(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: options\n"
	    "        config: { count: 5 }\n"), RINGFAN_OK);
	assert_stats(shm, "plugins.options.count", "5");
	pipeline_close(&pl);
	unload();
	gauge_and_back(shm, "{\"enabled\":0,\"label_len\":4,\"size\":4096,"
	    "\"timeout_ms\":1}", false);
}

/*
 * The same after a capture reload: the counter's total carried into the
 * next generation's slot goes with the name, and does not come back when
 * a later reload makes the name a counter again.
 */
static void
test_gauge_kind_carried(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: options\n"
	    "        config: { count: 5 }\n"), RINGFAN_OK);
	assert_non_null(shm2 = stats_create(1));
	stats_carry(&shm2->workers[0], &shm->workers[0]);
	assert_stats(shm2, "plugins.options.count", "5");
	pipeline_close(&pl);
	unload();
	wk = &shm2->workers[0];

	/*
	 * A pipeline reload in the new generation: count is a gauge; back,
	 * from the value that open stores, nothing carried.
	 */
	gauge_and_back(shm2, "{\"enabled\":0,\"label_len\":8,\"size\":8192,"
	    "\"timeout_ms\":2}", true);
}

static void
test_gauge_not_carried(void **state)
{
	const struct stats_carry *c;

	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"), RINGFAN_OK);
	assert_int_equal(run(&pl, 3, 70), 3);

	/* A capture reload: the slot of the next generation carries ... */
	assert_non_null(shm2 = stats_create(1));
	stats_carry(&shm2->workers[0], &shm->workers[0]);
	c = &shm2->workers[0].carry;
	for (uint32_t k = 0; k < c->ncounters; k++)
		assert_string_not_equal(c->counters[k].name, "last_len");
	/* ... the counters, not the gauges. */
	assert_stats(shm2, "plugins.ctxprobe.frames", "3");
	assert_stats(shm2, "gauges", "{\"ctxprobe\":{}}");

	/* The next generation adds to the counters, sets its own gauges. */
	pipeline_close(&pl);
	wk = &shm2->workers[0];
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	assert_int_equal(run(&pl, 2, 80), 2);
	assert_stats(shm2, "plugins.ctxprobe.frames", "5");
	assert_stats(shm2, "gauges", "{\"ctxprobe\":{\"last_len\":80}}");
}

/* Error status */

static void
test_status(void **state)
{
	const struct stats_status *st;
	uint32_t seq;

	(void)state;
	/* Second in the pipeline: the status is the stage's, not slot 0's. */
	assert_int_equal(start("      - plugin: counter\n"
	    "      - plugin: ctxprobe\n"), RINGFAN_OK);
	st = &wk->status[1];
	seq = st->seq;
	assert_stats(shm, "errors", "{}");

	/* A frame of length 1 makes packet() report a problem. */
	run(&pl, 1, 1);
	assert_stats(shm, "errors",
	    "{\"ctxprobe\":\"disk full: /var/spool/ctxprobe\"}");
	assert_int_equal(st->seq, seq + 2);
	/* The same text again changes nothing, not even the count. */
	run(&pl, 3, 1);
	assert_int_equal(st->seq, seq + 2);
	assert_stats(shm, "errors",
	    "{\"ctxprobe\":\"disk full: /var/spool/ctxprobe\"}");

	/* One of length 2 clears it, once. */
	run(&pl, 1, 2);
	assert_stats(shm, "errors", "{}");
	assert_int_equal(st->seq, seq + 4);
	run(&pl, 2, 2);
	assert_int_equal(st->seq, seq + 4);
	assert_stats(shm, "errors", "{}");
}

/*
 * A status that is not UTF-8 (a stray byte, a character the size limit
 * cut in two) is shown with those bytes as '?', not left out.
 */
static void
test_status_not_utf8(void **state)
{
	char want[512] = "{\"ctxprobe\":\"bad ? byte, ";

	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { bad_len: 9 }\n"), RINGFAN_OK);
	run(&pl, 1, 9);
	/* 191 bytes kept: 12, then 89 whole characters and half of one. */
	for (int i = 0; i < 89; i++)
		strlcat(want, "\xc3\xa9", sizeof(want));
	strlcat(want, "?\"}", sizeof(want));
	assert_stats(shm, "errors", want);
}

/* What check and open return */

static void
test_open_results(void **state)
{
	static const struct {
		const char	*how;
		int		 rc;
		const char	*err;
		uint64_t	 closes;	/* of a state open returned */
	} cases[] = {
		{ "retry", RINGFAN_RETRY, "plugin ctxprobe: open says retry",
		    0 },
		{ "fail", RINGFAN_FAIL, "plugin ctxprobe: open says fail", 0 },
		{ "silent", RINGFAN_FAIL, "plugin ctxprobe: open failed without "
		    "a message", 0 },
		/* An error with RINGFAN_OK fails, and the state is closed. */
		{ "ok_with_error", RINGFAN_FAIL, "plugin ctxprobe: open says "
		    "ok_with_error", 1 },
	};
	char yaml[256];
	uint64_t closes;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "      - plugin: ctxprobe\n"
		    "        config: { open: %s }\n", cases[i].how);
		closes = counter_value("ctxprobe", "closes");
		assert_int_equal(start(yaml), cases[i].rc);
		assert_string_equal(err, cases[i].err);
		assert_false(pl.stages[0].opened);
		assert_int_equal(counter_value("ctxprobe", "closes") - closes,
		    cases[i].closes);
		unload();
	}
}

static void
test_check_results(void **state)
{
	(void)state;
	/* A check has no resource to wait for: RETRY from it is a failure. */
	loaded("      - plugin: ctxprobe\n"
	    "        config: { check: retry }\n"
	    "      - plugin: hostmem\n");
	assert_int_equal(check_pipeline(), RINGFAN_FAIL);
	assert_string_equal(err, "plugin ctxprobe: check says retry");
	unload();

	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { check: fail }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "plugin ctxprobe: check says fail");
}

static void
test_unknown_option_after_check(void **state)
{
	(void)state;
	/* A plugin with check: its own error comes first ... */
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { check: fail, colour: blue }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "plugin ctxprobe: check says fail");
	unload();

	/*
	 * ... then the unknown option, said to be unread by the check (where
	 * an option read in open alone is unknown too), and open is never
	 * called.
	 */
	assert_int_equal(start("      - plugin: ctxprobe\n"
	    "        config: { colour: blue }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:8:27: plugin ctxprobe: unknown "
	    "option \"colour\" (its check did not read it)");
	assert_false(pl.stages[0].opened);
	assert_stats(shm, "plugins.ctxprobe", "{}");
}

static void
test_unknown_option_after_open(void **state)
{
	(void)state;
	/* Without check: a validation finds it in its trial open ... */
	loaded("      - plugin: openfail\n"
	    "        config: { colour: blue }\n");
	env.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(open_pipeline(), RINGFAN_FAIL);
	/* ... after open, whose own error comes first, */
	assert_string_equal(err, "plugin openfail: cannot open /nonexistent: "
	    "No such file or directory");
	unload();

	loaded("      - plugin: counter\n"
	    "        config: { colour: blue }\n");
	assert_int_equal(check_pipeline(), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:8:27: plugin counter: unknown "
	    "option \"colour\"");

	/* ... and a worker after its open, which then ran and is closed. */
	env.flags = 0;
	err[0] = '\0';
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	assert_int_equal(pipeline_open(&pl, &env, wk, NULL, err, sizeof(err)),
	    RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:8:27: plugin counter: unknown "
	    "option \"colour\"");
	assert_stats(shm, "plugins.counter.ethernet", "0");
	assert_false(pl.stages[0].opened);
}

/* Host memory */

/* Counters of hostmem as its open found its memory. */
static void
assert_memory_seen(int mstate, uint32_t layout, uint64_t at_open,
    uint64_t dirty)
{
	assert_int_equal(counter_value("hostmem", "state"), mstate);
	assert_int_equal(counter_value("hostmem", "layout"), layout);
	assert_int_equal(counter_value("hostmem", "size"), 64);
	assert_int_equal(counter_value("hostmem", "at_open"), at_open);
	assert_int_equal(counter_value("hostmem", "dirty"), dirty);
}

/*
 * In a forked child (no cmocka there: an exit code says what went wrong),
 * the pipeline of yaml loaded, checked and opened in cpl, on host memory
 * hm; its configuration lives until the child exits.
 */
static void
child_pipeline(struct pipeline *cpl, const char *yaml, struct plugin_mem *hm)
{
	static struct cfg ccfg;
	static struct plugin_env cenv;
	char cerr[CFG_ERR_MAX];

	if (load_into(&ccfg, yaml, cerr, sizeof(cerr)) != 0)
		_exit(10);
	if (pipeline_load(cpl, &ccfg, &ccfg.captures[0], NULL, err,
	    sizeof(err)) != 0)
		_exit(11);
	cenv = env;
	cenv.cfg = &ccfg;
	cenv.cap = &ccfg.captures[0];
	if (pipeline_check(cpl, &cenv, err, sizeof(err)) != RINGFAN_OK ||
	    pipeline_open(cpl, &cenv, wk, hm, err, sizeof(err)) != RINGFAN_OK)
		_exit(12);
}

/*
 * A worker that dies: a child loads, checks and opens the pipeline of
 * `yaml` on the host memory mem, runs n frames and kills itself with
 * SIGKILL.  What its open saw is left in the shared counters.
 */
static void
run_and_kill(const char *yaml, unsigned n)
{
	struct pipeline cpl;
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		child_pipeline(&cpl, yaml, &mem);
		if (run(&cpl, n, 60) != n)
			_exit(13);
		raise(SIGKILL);
		_exit(14);
	}
	assert_int_not_equal(pid, -1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fail_msg("the child exited with %d", WEXITSTATUS(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/*
 * A counter that check took is valid until check returns: a plugin that
 * keeps it and counts into it from packet (checkslot) is killed by the
 * write, instead of writing into memory the heap has handed out again.
 */
static void
test_check_counter_kept(void **state)
{
	struct pipeline cpl;
	void *later;
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* cmocka's handler would catch the fault in the child. */
		signal(SIGSEGV, SIG_DFL);
		child_pipeline(&cpl, "      - plugin: checkslot\n", NULL);
		/* What the heap hands out next, as an open's calloc would. */
		later = calloc(1, sizeof(struct stats_worker));
		run(&cpl, 1, 60);
		free(later);
		_exit(0);
	}
	assert_int_not_equal(pid, -1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fail_msg("the child exited with %d: the write into the check's "
		    "counter went unnoticed", WEXITSTATUS(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	/* The pipeline's own counters are not the check's. */
	loaded("      - plugin: checkslot\n");
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	assert_non_null(pl.check_slots);
	pipeline_unload(&pl);
	assert_null(pl.check_slots);
}

/* The first worker on mem: hostmem opened, n frames, and left open. */
static void
first_worker(unsigned n)
{
	loaded("      - plugin: hostmem\n");
	assert_int_equal(check_open(&pl, &mem), RINGFAN_OK);
	assert_int_equal(run(&pl, n, 60), n);
}

/* A later worker of the same pipeline on mem, in pl2. */
static void
next_worker(void)
{
	assert_int_equal(pipeline_load(&pl2, &cfg, &cfg.captures[0], NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(check_open(&pl2, &mem), RINGFAN_OK);
}

static void
test_memory_fresh(void **state)
{
	(void)state;
	first_worker(0);
	assert_int_equal(pl.stages[0].info.memory_size, 64);
	assert_int_equal(pl.stages[0].info.memory_layout, 7);
	assert_int_equal(mem.size, 64);
	assert_memory_seen(RINGFAN_MEMORY_FRESH, 7, 0, 0);
	assert_int_equal(run(&pl, 5, 60), 5);
	assert_int_equal(gauge_value("hostmem", "count"), 5);
	assert_int_equal(counter_value("hostmem", "frames"), 5);
}

static void
test_memory_recovered_after_kill(void **state)
{
	(void)state;
	/* The first worker: 5 frames, and it stays open. */
	first_worker(5);

	/* The second finds those 5, adds 3 and is killed. */
	run_and_kill("      - plugin: hostmem\n", 3);
	assert_memory_seen(RINGFAN_MEMORY_RECOVERED, 7, 5, 2);
	assert_int_equal(gauge_value("hostmem", "count"), 8);

	/* The third finds 8, adds 2. */
	next_worker();
	assert_memory_seen(RINGFAN_MEMORY_RECOVERED, 7, 8, 2);
	assert_int_equal(run(&pl2, 2, 60), 2);
	assert_int_equal(gauge_value("hostmem", "count"), 10);
	/* The counters went through the crash too. */
	assert_int_equal(counter_value("hostmem", "frames"), 10);
}

static void
test_memory_layout_of_predecessor(void **state)
{
	(void)state;
	first_worker(2);

	/* A new build, of layout 9, is told its predecessor's: 7. */
	run_and_kill("      - plugin: hostmem\n"
	    "        config: { layout: 9 }\n", 1);
	assert_memory_seen(RINGFAN_MEMORY_RECOVERED, 7, 2, 2);

	/* And the one after it is told 9. */
	next_worker();
	assert_memory_seen(RINGFAN_MEMORY_RECOVERED, 9, 3, 2);
}

static void
test_memory_fresh_after_close(void **state)
{
	(void)state;
	first_worker(4);
	pipeline_close(&pl);

	/* Closed cleanly: nothing to recover, and the bytes are zero. */
	assert_int_equal(check_open(&pl, &mem), RINGFAN_OK);
	assert_memory_seen(RINGFAN_MEMORY_FRESH, 7, 0, 0);
	assert_int_equal(run(&pl, 1, 60), 1);
	assert_int_equal(gauge_value("hostmem", "count"), 1);
}

static void
test_memory_request_in_open(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: hostmem\n"
	    "        config: { in_open: yes }\n"), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:7:17: plugin hostmem: "
	    "memory_request: only in check");
}

static void
test_memory_request_in_trial_open(void **state)
{
	(void)state;
	loaded("      - plugin: trialmem\n");
	/*
	 * A trial open stands in for a missing check, but is an open: the
	 * validation must fail as the worker's open will.
	 */
	env.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(check_pipeline(), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:7:17: plugin trialmem: "
	    "memory_request: only in check");
	assert_int_equal(pl.stages[0].info.memory_size, 0);

	env.flags = 0;
	err[0] = '\0';
	assert_int_equal(open_pipeline(), RINGFAN_FAIL);
	assert_string_equal(err, "test.yaml:7:17: plugin trialmem: "
	    "memory_request: only in check");
}

/*
 * A trial open that succeeded has returned: its close's error fails
 * nothing (it is logged), as the worker's close does not fail either.
 */
static void
test_trial_close_error(void **state)
{
	(void)state;
	loaded("      - plugin: trialclose\n");
	env.flags = RINGFAN_CTX_CHECK;
	err[0] = '\0';
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	assert_string_equal(err, "");
	env.flags = 0;
}

static void
test_memory_request_bounds(void **state)
{
	static const struct {
		const char	*config;
		const char	*err;
	} cases[] = {
		{ "{ size: 0 }", "test.yaml:7:17: plugin hostmem: "
		    "memory_request: 0 bytes of "
		    "layout 7: size must be 1 B to 1024 MiB and the layout "
		    "not 0" },
		{ "{ size: 1073741825 }", "test.yaml:7:17: plugin hostmem: "
		    "memory_request: "
		    "1073741825 bytes of layout 7: size must be 1 B to 1024 "
		    "MiB and the layout not 0" },
		{ "{ layout: 0 }", "test.yaml:7:17: plugin hostmem: "
		    "memory_request: 64 bytes "
		    "of layout 0: size must be 1 B to 1024 MiB and the layout "
		    "not 0" },
		{ "{ size: 1GiB }", NULL },
		{ "{ size: 1 }", NULL },
	};
	char yaml[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "      - plugin: hostmem\n"
		    "        config: %s\n", cases[i].config);
		loaded(yaml);
		if (cases[i].err != NULL) {
			assert_int_equal(check_pipeline(), RINGFAN_FAIL);
			assert_string_equal(err, cases[i].err);
			assert_int_equal(pl.stages[0].info.memory_size, 0);
		} else {
			assert_int_equal(check_pipeline(), RINGFAN_OK);
			assert_int_equal(pl.stages[0].info.memory_layout, 7);
		}
		unload();
	}
}

static void
test_memory_replaced_build(void **state)
{
	(void)state;
	/* Validated, and mapped, for 64 bytes ... */
	loaded("      - plugin: hostmem\n");
	assert_int_equal(check_pipeline(), RINGFAN_OK);
	assert_int_equal(plugin_mem_map(&mem, &pl.stages[0].info, true), 0);
	unload();

	/* ... the worker's build asks for 128. */
	loaded("      - plugin: hostmem\n"
	    "        config: { size: 128 }\n");
	assert_int_equal(check_open(&pl, &mem), RINGFAN_FAIL);
	assert_string_equal(err, "plugin hostmem: asks for 128 bytes of host "
	    "memory, 64 were set up when it was validated (replaced since?): "
	    "reload to apply");
	assert_false(pl.stages[0].opened);
	assert_null(pl.stages[0].mem);
}

/* Ticks, in network time */

#define T0	UINT64_C(1700000000000000000)
#define MS	UINT64_C(1000000)

static void
test_tick_period(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: ticker\n"
	    "        config: { period_ns: 5000000 }\n"), RINGFAN_OK);
	assert_int_equal(pl.stages[0].info.tick_ns, 5 * MS);
	assert_int_equal(pl.stages[0].tick_ns, 5 * MS);

	/* The first call arms the period, ticks nothing. */
	pipeline_tick(&pl, T0);
	assert_int_equal(counter_value("ticker", "ticks"), 0);
	assert_int_equal(pl.next_tick, T0 + 5 * MS);
	pipeline_tick(&pl, T0 + 5 * MS - 1);
	assert_int_equal(counter_value("ticker", "ticks"), 0);
	pipeline_tick(&pl, T0 + 5 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 1);
	assert_int_equal(gauge_value("ticker", "last_tick"), T0 + 5 * MS);
	/* Late: one tick, and the next period counts from it. */
	pipeline_tick(&pl, T0 + 12 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 2);
	assert_int_equal(pl.next_tick, T0 + 17 * MS);
	pipeline_tick(&pl, T0 + 17 * MS - 1);
	assert_int_equal(counter_value("ticker", "ticks"), 2);
	pipeline_tick(&pl, T0 + 17 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 3);
	assert_int_equal(gauge_value("ticker", "last_tick"), T0 + 17 * MS);
}

static void
test_tick_period_bounds(void **state)
{
	(void)state;
	/* Shorter than 1 ms is 1 ms; none asked for is stats_interval. */
	assert_int_equal(start("      - plugin: ticker\n"
	    "        config: { period_ns: 10000 }\n"
	    "      - plugin: ctxprobe\n"), RINGFAN_OK);
	assert_int_equal(pl.stages[0].tick_ns, PLUGIN_TICK_MIN_NS);
	assert_int_equal(pl.stages[1].info.tick_ns, 0);
	assert_int_equal(pl.stages[1].tick_ns, cfg.stats_interval_ns);
}

static void
test_tick_period_huge(void **state)
{
	(void)state;
	/*
	 * A period that network time never reaches ticks only at the end,
	 * not at every call: the due time must not wrap past UINT64_MAX.
	 */
	assert_int_equal(start("      - plugin: ticker\n"
	    "        config: { period_ns: 18446744073709551615 }\n"),
	    RINGFAN_OK);
	assert_int_equal(pl.stages[0].tick_ns, UINT64_MAX);
	pipeline_tick(&pl, T0);
	pipeline_tick(&pl, T0 + MS);
	pipeline_tick(&pl, T0 + 3600000 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 0);
	assert_int_equal(pl.next_tick, UINT64_MAX);
	pipeline_tick_all(&pl, T0 + 3600001 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 1);
	pipeline_tick(&pl, T0 + 3600002 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 1);
}

static void
test_tick_all(void **state)
{
	(void)state;
	assert_int_equal(start("      - plugin: ticker\n"
	    "        config: { period_ns: 5000000 }\n"
	    "      - plugin: counter\n"
	    "      - plugin: ctxprobe\n"), RINGFAN_OK);
	pipeline_tick(&pl, T0);
	/* Every stage, due or not (a stop, say). */
	pipeline_tick_all(&pl, T0 + 1);
	assert_int_equal(counter_value("ticker", "ticks"), 1);
	assert_int_equal(counter_value("ctxprobe", "ticks"), 1);
	assert_int_equal(gauge_value("ticker", "last_tick"), T0 + 1);
	/* And each period starts again from there. */
	pipeline_tick(&pl, T0 + 5 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 1);
	pipeline_tick(&pl, T0 + 1 + 5 * MS);
	assert_int_equal(counter_value("ticker", "ticks"), 2);
	assert_int_equal(counter_value("ctxprobe", "ticks"), 1);
}

/* Batches and verdicts */

/*
 * Five Ethernet frames of IPv4 protocol proto, of wire lengths 60, 64, 90,
 * 64 and 70, through the stages before the first batch stage; those that
 * got through them in ptrs, as a worker collects a block's.
 */
static size_t
run_mix(unsigned proto, const struct ringfan_packet **ptrs)
{
	static const uint32_t lens[] = { 60, 64, 90, 64, 70 };
	static struct ringfan_packet pkts[5];
	static uint8_t buf[128];
	size_t n = 0;

	frame(buf, 0x0800, proto, false);
	for (size_t i = 0; i < 5; i++) {
		memset(&pkts[i], 0, sizeof(pkts[i]));
		pkts[i].data = buf;
		pkts[i].caplen = pkts[i].len = lens[i];
		pkts[i].linktype = 1;	/* DLT_EN10MB */
		if (pipeline_run(&pl, &pkts[i]))
			ptrs[n++] = &pkts[i];
	}
	return n;
}

static void
test_batch_after_filter(void **state)
{
	const struct ringfan_packet *ptrs[5];
	size_t n;

	(void)state;
	loaded("      - plugin: ctxprobe\n"
	    "        config: { stop_len: 64 }\n"
	    "      - plugin: batcher\n"
	    "      - plugin: counter\n");
	assert_int_equal(pl.first_batch, 1);
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	n = run_mix(17, ptrs);
	/* The filter saw every frame and stopped the two of length 64. */
	assert_int_equal(counter_value("ctxprobe", "frames"), 5);
	assert_int_equal(n, 3);
	pipeline_rest(&pl, ptrs, n);
	/* The batcher got what passed, and so did the stage after it. */
	assert_int_equal(counter_value("batcher", "calls"), 1);
	assert_int_equal(counter_value("batcher", "frames"), 3);
	assert_int_equal(counter_value("batcher", "bytes"), 60 + 90 + 70);
	assert_int_equal(counter_value("counter", "ethernet"), 3);
	assert_int_equal(counter_value("counter", "udp"), 3);
}

static void
test_filter_after_batch(void **state)
{
	const struct ringfan_packet *ptrs[5];

	(void)state;
	loaded("      - plugin: batcher\n"
	    "      - plugin: ctxprobe\n"
	    "        config: { stop_len: 64 }\n"
	    "      - plugin: counter\n");
	assert_int_equal(pl.first_batch, 0);
	assert_int_equal(open_pipeline(), RINGFAN_OK);
	/* Nothing before the batch stage: every frame gets to it. */
	assert_int_equal(run_mix(6, ptrs), 5);
	pipeline_rest(&pl, ptrs, 5);
	/* A verdict after the batch stage still holds for the later ones. */
	assert_int_equal(counter_value("batcher", "frames"), 5);
	assert_int_equal(counter_value("ctxprobe", "frames"), 5);
	assert_int_equal(counter_value("counter", "tcp"), 3);
}

/* A context of stage 0, as its check would get. */
static struct plugin_ctx *
stage_ctx(void)
{
	struct plugin_ctx *ctx;

	env.cfg = &cfg;
	env.cap = &cfg.captures[0];
	if ((ctx = plugin_ctx_new(&pl, 0, &env, wk, true)) == NULL)
		fail_msg("plugin_ctx_new failed");
	return ctx;
}

static void
test_ctx_null_arguments(void **state)
{
	struct plugin_ctx *ctx;
	struct ringfan_ctx *c;
	const char *s;
	uint64_t u;
	int b;

	(void)state;
	loaded("      - plugin: ctxprobe\n"
	    "        config: { stop_len: 3 }\n");
	ctx = stage_ctx();
	c = &ctx->pub;
	/* Refused with a reason, where strlen(NULL) would kill the worker. */
	assert_null(c->counter(c, NULL));
	assert_string_equal(ctx->err, "counter name missing (NULL)");
	ctx->err[0] = '\0';
	assert_null(c->gauge(c, NULL));
	assert_string_equal(ctx->err, "gauge name missing (NULL)");
	ctx->err[0] = '\0';
	assert_int_equal(c->opt_uint(c, NULL, 7, &u), -1);
	assert_int_equal(u, 7);
	assert_string_equal(ctx->err, "opt_uint: the key is NULL");
	ctx->err[0] = '\0';
	assert_int_equal(c->opt_duration(c, NULL, 9, &u), -1);
	assert_string_equal(ctx->err, "opt_duration: the key is NULL");
	ctx->err[0] = '\0';
	assert_int_equal(c->opt_bool(c, NULL, 1, &b), -1);
	assert_int_equal(b, 1);
	assert_string_equal(ctx->err, "opt_bool: the key is NULL");
	ctx->err[0] = '\0';
	assert_int_equal(c->opt_string(c, NULL, "d", &s), -1);
	assert_string_equal(s, "d");
	assert_string_equal(ctx->err, "opt_string: the key is NULL");
	/* A NULL key marks no option as read. */
	assert_false(ctx->used[0]);
	plugin_ctx_free(ctx);
}

/* What the services do when a plugin calls them twice in one check. */
static void
test_ctx_twice(void **state)
{
	struct plugin_ctx *ctx;
	struct ringfan_ctx *c;
	uint64_t *a, *b;

	(void)state;
	loaded("      - plugin: hostmem\n");
	ctx = stage_ctx();
	c = &ctx->pub;
	/* A second memory_request replaces the first, size and layout. */
	assert_int_equal(c->memory_request(c, 4096, 3), 0);
	assert_int_equal(c->memory_request(c, 8192, 4), 0);
	assert_int_equal(pl.stages[0].info.memory_size, 8192);
	assert_int_equal(pl.stages[0].info.memory_layout, 4);
	/* The same counter name is the same slot. */
	a = c->counter(c, "twice");
	b = c->counter(c, "twice");
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_string_equal(ctx->err, "");
	plugin_ctx_free(ctx);
}

/* What fn(c) writes to the log, stderr here, into out. */
static void
log_of(void (*fn)(struct ringfan_ctx *), struct ringfan_ctx *c, char *out,
    size_t outlen)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	fn(c);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
late_calls(struct ringfan_ctx *c)
{
	c->tick_period(c, 5000000);
	c->error(c, "disk %s", "full");
	(void)c->counter(c, "No");
}

static void
test_ctx_after_open(void **state)
{
	struct plugin_stage *s;
	char out[2048];
	uint64_t tick;

	(void)state;
	assert_int_equal(start("      - plugin: ctxprobe\n"), RINGFAN_OK);
	s = &pl.stages[0];
	tick = s->tick_ns;
	/*
	 * Nothing reads an error once open has returned: the first is
	 * logged, and tick_period, fixed by then, is refused.
	 */
	log_of(late_calls, &s->ctx->pub, out, sizeof(out));
	assert_non_null(strstr(out, "plugin ctxprobe: tick_period: only in "
	    "check or open (an error after open fails nothing: report it "
	    "with status or log; said once)\n"));
	assert_null(strstr(out, "disk full"));
	assert_null(strstr(out, "counter name"));
	assert_int_equal(s->tick_ns, tick);
	assert_int_equal(s->info.tick_ns, 0);
	assert_string_equal(s->ctx->err, "");
	/* The plugin goes on. */
	assert_int_equal(run(&pl, 2, 60), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_load_counter),
		T(test_not_found),
		T(test_env_path_first),
		T(test_path_cut),
		T(test_no_symbol),
		T(test_bad_abi),
		T(test_abi_major_only),
		T(test_duplicate_name),
		T(test_open_fails),
		T(test_options),
		T(test_options_defaults),
		T(test_option_bad_value),
		T(test_option_message_place),
		T(test_option_unknown),
		T(test_counter_plugin),
		T(test_batch_only_plugin),
		T(test_counter_slots),
		T(test_struct_refused),
		T(test_newer_minor_refused),
		T(test_newer_minor_unused_accepted),
		T(test_older_minor_declared),
		T(test_packet_and_batch_refused),
		T(test_prefetch_stages),
		T(test_ctx_fields),
		T(test_ctx_flags),
		T(test_flow_split_flags),
		T(test_flow_split_ctx),
		T(test_step_names),
		T(test_gauge_in_stats),
		T(test_gauge_counter_clash),
		T(test_gauge_kind_reload),
		T(test_gauge_kind_carried),
		T(test_gauge_not_carried),
		T(test_status),
		T(test_status_not_utf8),
		T(test_open_results),
		T(test_check_results),
		T(test_ctx_null_arguments),
		T(test_ctx_twice),
		T(test_ctx_after_open),
		T(test_unknown_option_after_check),
		T(test_unknown_option_after_open),
		T(test_memory_fresh),
		T(test_memory_recovered_after_kill),
		T(test_memory_layout_of_predecessor),
		T(test_memory_fresh_after_close),
		T(test_memory_request_in_open),
		T(test_memory_request_in_trial_open),
		T(test_trial_close_error),
		T(test_memory_request_bounds),
		T(test_memory_replaced_build),
		T(test_tick_period),
		T(test_tick_period_bounds),
		T(test_tick_period_huge),
		T(test_tick_all),
		T(test_batch_after_filter),
		T(test_filter_after_batch),
		T(test_check_counter_kept),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The plugin host: finding and checking plugins (each refusal with its exact
 * message), opening a pipeline per worker, option getters, counters, and the
 * bundled counter plugin over hand-made frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "ringfan_build.h"
#include "plugin_host.h"
#include "stats.h"

#define PATHS "plugin_path: [\"" BUILD_PLUGIN_DIR "\", \"" TEST_PLUGIN_DIR "\"]\n"

static struct cfg cfg;
static struct pipeline pl;
static struct stats_shm *shm;
static char err[PLUGIN_ERR_MAX];

/* A config with one capture whose pipeline is `pipeline` (YAML lines). */
static void
load(const char *pipeline)
{
	char text[2048], cerr[CFG_ERR_MAX];

	snprintf(text, sizeof(text), PATHS
	    "captures:\n"
	    "  - name: t\n"
	    "    interface: lo\n"
	    "    workers: 1\n"
	    "    pipeline:\n%s", pipeline);
	if (cfg_load_string(&cfg, "test.yaml", text, strlen(text), cerr,
	    sizeof(cerr)) != 0)
		fail_msg("config: %s", cerr);
}

/* The loaded config's pipeline: loaded, then opened as worker 0. */
static int
load_pipeline(void)
{
	return pipeline_load(&pl, &cfg, &cfg.captures[0], err, sizeof(err));
}

static struct plugin_env env;

/* As a worker does: each stage's check, then its open. */
static int
open_pipeline(void)
{
	int rc;

	env.cfg = &cfg;
	env.cap = &cfg.captures[0];
	env.worker_count = 1;
	env.interface = "lo";
	env.linktype = 1;	/* DLT_EN10MB */
	env.snaplen = 65535;
	if ((rc = pipeline_check(&pl, &env, err, sizeof(err))) != RINGFAN_OK)
		return rc;
	return pipeline_open(&pl, &env, &shm->workers[0], NULL, err,
	    sizeof(err));
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("RINGFAN_PLUGIN_PATH");
	memset(&pl, 0, sizeof(pl));
	err[0] = '\0';
	shm = stats_create(1);
	return shm == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	pipeline_unload(&pl);
	cfg_free(&cfg);
	stats_destroy(shm);
	return 0;
}

static uint64_t
counter_value(const char *plugin, const char *name)
{
	uint64_t *slot;

	if (stats_counter(&shm->workers[0], plugin, name, STATS_COUNTER,
	    &slot) != 0)
		fail_msg("no counter %s.%s", plugin, name);
	return *slot;
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
	    RINGFAN_PLUGIN_DIR);
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
	    TEST_PLUGIN_DIR ":" RINGFAN_PLUGIN_DIR);
}

static void
test_no_symbol(void **state)
{
	(void)state;
	load("      - plugin: nosymbol\n");
	assert_int_equal(load_pipeline(), -1);
	assert_string_equal(err, "test.yaml:7:17: " TEST_PLUGIN_DIR
	    "/nosymbol.so: no symbol ringfan_plugin: not a ringfan plugin");
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

static void
test_duplicate_name(void **state)
{
	(void)state;
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

static void
test_option_bad_value(void **state)
{
	(void)state;
	load("      - plugin: options\n"
	    "        config: { size: 2MB }\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), -1);
	assert_string_equal(err, "plugin options: test.yaml:8:25: option size: "
	    "not a size \"2MB\"");
}

static void
test_option_unknown(void **state)
{
	(void)state;
	load("      - plugin: counter\n"
	    "        config: { colour: blue }\n");
	assert_int_equal(load_pipeline(), 0);
	assert_int_equal(open_pipeline(), -1);
	assert_string_equal(err, "test.yaml:8:27: plugin counter: unknown "
	    "option \"colour\"");
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

	(void)state;
	w = &shm->workers[0];
	for (unsigned i = 0; i < STATS_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_int_equal(stats_counter(w, "p", name, i % 2 ?
		    STATS_GAUGE : STATS_COUNTER, &slot), 0);
	}
	/* The same name finds its slot again; a new one finds none. */
	assert_int_equal(stats_counter(w, "p", "c3", STATS_GAUGE, &slot), 0);
	assert_ptr_equal(slot, &w->counters[3].value);
	assert_int_equal(stats_counter(w, "p", "one_more", STATS_COUNTER,
	    &slot), -ENOSPC);
	/* Another plugin's counter of the same name is another slot. */
	assert_int_equal(stats_counter(w, "q", "c3", STATS_GAUGE, &slot),
	    -ENOSPC);
	/* A name is a counter or a gauge, never both. */
	assert_int_equal(stats_counter(w, "p", "c3", STATS_COUNTER, &slot),
	    -EEXIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_load_counter),
		T(test_not_found),
		T(test_env_path_first),
		T(test_no_symbol),
		T(test_bad_abi),
		T(test_duplicate_name),
		T(test_open_fails),
		T(test_options),
		T(test_options_defaults),
		T(test_option_bad_value),
		T(test_option_unknown),
		T(test_counter_plugin),
		T(test_batch_only_plugin),
		T(test_counter_slots),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * bench_walk: the per-frame path of a worker, over a ring built in memory,
 * for instruction counts under callgrind (tools/bench).
 *
 * The ring is laid out as the kernel lays out a TPACKET_V3 ring: 64-byte
 * Ethernet/IPv4/UDP frames, each after its tpacket3_hdr and sockaddr_ll, as
 * many as fit in each block.  Modes:
 *   ref      the reference reader's loop (tools/bench_ref.c): per frame,
 *            add tp_len and follow tp_next_offset; nothing else
 *   empty    ringfan's worker_block() with an empty pipeline
 *   PLUGIN   worker_block() with that one plugin, found in -p DIR, with
 *            the options of -o (the inside of a YAML flow mapping, such
 *            as `output: "/tmp/flows.json"`)
 * It walks the ring -n times and prints the frames it walked; two runs with
 * different -n, subtracted, give instructions per frame without start-up.
 *
 * usage: bench_walk [-b BLOCK_SIZE] [-c BLOCKS] [-n PASSES] [-p DIR]
 *     [-o OPTIONS] MODE
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "plugin_host.h"
#include "ring.h"
#include "stats.h"
#include "worker.h"

#define FRAME_LEN	64

/* Where the kernel puts the MAC header of a frame without VLAN reserve. */
#define MAC_OFF		82

static void
fill_ring(struct ring *r)
{
	struct tpacket_block_desc *bd;
	struct tpacket3_hdr *h = NULL;
	uint32_t off, step = TPACKET_ALIGN(MAC_OFF + FRAME_LEN), n;
	uint8_t *f;

	for (uint32_t b = 0; b < r->block_count; b++) {
		/* The ring is this program's memory: written to lay it out. */
		bd = (struct tpacket_block_desc *)(void *)(r->map +
		    (size_t)b * r->block_size);
		bd->version = TPACKET_V3;
		bd->hdr.bh1.block_status = TP_STATUS_USER;
		bd->hdr.bh1.seq_num = b + 1;
		bd->hdr.bh1.offset_to_first_pkt = 48;
		n = 0;
		for (off = 48; off + step <= r->block_size; off += step, n++) {
			h = (struct tpacket3_hdr *)((uint8_t *)bd + off);
			h->tp_next_offset = step;
			h->tp_sec = 1700000000;
			h->tp_nsec = off;
			h->tp_snaplen = FRAME_LEN;
			h->tp_len = FRAME_LEN;
			h->tp_status = TP_STATUS_USER;
			h->tp_mac = MAC_OFF;
			h->tp_net = MAC_OFF + 14;
			f = (uint8_t *)h + MAC_OFF;
			memset(f, 0xff, 6);			/* broadcast */
			f[12] = 0x08;				/* IPv4 */
			f[14] = 0x45;
			f[14 + 3] = FRAME_LEN - 14;		/* length */
			f[14 + 9] = 17;				/* UDP */
			f[34 + 5] = FRAME_LEN - 34;		/* length */
		}
		if (h != NULL)
			h->tp_next_offset = 0;
		bd->hdr.bh1.num_pkts = n;
	}
}

/* The reference reader's loop, as in tools/bench_ref.c. */
static uint64_t
walk_ref(const struct ring *r, uint64_t *bytes)
{
	const struct tpacket_block_desc *bd;
	const struct tpacket3_hdr *h;
	uint64_t packets = 0;
	uint32_t n, off;

	for (uint32_t b = 0; b < r->block_count; b++) {
		bd = ring_block(r, b);
		n = bd->hdr.bh1.num_pkts;
		off = bd->hdr.bh1.offset_to_first_pkt;
		for (uint32_t k = 0; k < n && off < r->block_size; k++) {
			h = (const struct tpacket3_hdr *)((const uint8_t *)bd +
			    off);
			*bytes += h->tp_len;
			packets++;
			off += h->tp_next_offset;
		}
	}
	return packets;
}

int
main(int argc, char **argv)
{
	struct ring r = { .fd = -1, .block_size = 1u << 20, .block_count = 4 };
	struct pipeline pl = { 0 };
	struct worker wk = { 0 };
	struct plugin_env env = { 0 };
	struct plugin_mem mem[8] = { 0 };
	struct stats_shm *shm;
	struct cfg cfg;
	const char *dir = ".", *mode, *opts = NULL;
	char text[2048], step[1024], errbuf[PLUGIN_ERR_MAX];
	unsigned long passes = 1;
	uint64_t frames = 0, bytes = 0;
	int ch;

	while ((ch = getopt(argc, argv, "b:c:n:o:p:")) != -1) {
		switch (ch) {
		case 'b':
			r.block_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			r.block_count = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			opts = optarg;
			break;
		case 'p':
			dir = optarg;
			break;
		default:
			errx(1, "usage: bench_walk [-b BLOCK_SIZE] [-c BLOCKS] "
			    "[-n PASSES] [-p DIR] [-o OPTIONS] ref|empty|PLUGIN");
		}
	}
	if (optind + 1 != argc || r.block_size < 4096 || r.block_count == 0)
		errx(1, "usage: bench_walk [-b BLOCK_SIZE] [-c BLOCKS] "
		    "[-n PASSES] [-p DIR] [-o OPTIONS] ref|empty|PLUGIN");
	mode = argv[optind];
	if ((r.map = aligned_alloc(4096, (size_t)r.block_size *
	    r.block_count)) == NULL)
		err(2, "ring");
	memset(r.map, 0, (size_t)r.block_size * r.block_count);
	fill_ring(&r);

	if (strcmp(mode, "ref") == 0) {
		for (unsigned long p = 0; p < passes; p++)
			frames += walk_ref(&r, &bytes);
		printf("%llu frames, %llu bytes\n", (unsigned long long)frames,
		    (unsigned long long)bytes);
		free(r.map);
		return 0;
	}

	if (strcmp(mode, "empty") == 0)
		snprintf(step, sizeof(step), "%s", "");
	else
		snprintf(step, sizeof(step), "{ plugin: %s%s%s%s }", mode,
		    opts != NULL ? ", config: { " : "", opts != NULL ? opts : "",
		    opts != NULL ? " }" : "");
	snprintf(text, sizeof(text), "plugin_path: [\"%s\"]\n"
	    "captures:\n  - name: bench\n    interface: none\n"
	    "    workers: 1\n    pipeline: [%s]\n", dir, step);
	if (cfg_load_string(&cfg, "bench_walk", text, strlen(text), errbuf,
	    sizeof(errbuf)) != 0)
		errx(1, "%s", errbuf);
	if ((shm = stats_create(1)) == NULL)
		err(2, "stats");
	env.cfg = &cfg;
	env.cap = &cfg.captures[0];
	env.worker_count = 1;
	env.interface = "none";
	env.linktype = 1;	/* DLT_EN10MB */
	env.snaplen = r.block_size;
	if (pipeline_load(&pl, &cfg, &cfg.captures[0], NULL, errbuf,
	    sizeof(errbuf)) != 0 || pipeline_check(&pl, &env, errbuf,
	    sizeof(errbuf)) != 0)
		errx(1, "%s", errbuf);
	/* Fresh host memory for each stage that asked, shared as live. */
	for (size_t k = 0; k < pl.nstages && k < 8; k++)
		if (plugin_mem_map(&mem[k], &pl.stages[k].info, true) != 0)
			errx(2, "host memory of %s", pl.stages[k].info.name);
	if (pipeline_open(&pl, &env, &shm->workers[0], mem, errbuf,
	    sizeof(errbuf)) != 0)
		errx(1, "%s", errbuf);
	wk.cfg = &cfg;
	wk.cap = &cfg.captures[0];
	wk.sw = &shm->workers[0];
	wk.pl = &pl;
	wk.ring = r;
	wk.linktype = env.linktype;
	for (unsigned long p = 0; p < passes; p++)
		for (uint32_t b = 0; b < r.block_count; b++)
			frames += worker_block(&wk, ring_block(&r, b), b, 0);
	printf("%llu frames, %llu bytes\n", (unsigned long long)frames,
	    (unsigned long long)shm->workers[0].bytes);
	pipeline_close(&pl);
	pipeline_unload(&pl);
	for (size_t k = 0; k < 8; k++)
		plugin_mem_unmap(&mem[k]);
	stats_destroy(shm, 1);
	cfg_free(&cfg);
	free(r.map);
	return 0;
}

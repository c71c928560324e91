/*
 * Writes the seeds of fuzz_ring and fuzz_worker: 4096-byte TPACKET_V3
 * blocks laid out as the kernel lays them out, their frames stamped a
 * microsecond apart, every third from the second with a VLAN tag the
 * kernel took off.  The first holds three well-formed frames; the second,
 * if a second file is named, 22 frames of 60 to 81 bytes (tp_len): more
 * than a worker's prefetch runs ahead (RINGFAN_PREFETCH_AHEAD).
 */
#include <err.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

#define BLOCK	4096
#define MAC_OFF	82

/* A block of n frames, the length of frame i from len(i). */
static void
seed(const char *path, unsigned n, unsigned (*len)(unsigned))
{
	static unsigned char block[BLOCK];
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
	struct tpacket3_hdr *h;
	unsigned off = 48;
	FILE *f;

	memset(block, 0, sizeof(block));
	bd->version = TPACKET_V3;
	bd->hdr.bh1.block_status = TP_STATUS_USER;
	bd->hdr.bh1.num_pkts = n;
	bd->hdr.bh1.offset_to_first_pkt = off;
	for (unsigned i = 0; i < n; i++) {
		unsigned cap = len(i) > 200 ? 200 : len(i);
		unsigned step = TPACKET_ALIGN(MAC_OFF + cap);
		int tagged = i % 3 == 1;

		if (off + step > BLOCK)
			errx(2, "%u frames do not fit a block", n);
		h = (struct tpacket3_hdr *)(block + off);
		h->tp_next_offset = i + 1 < n ? step : 0;
		h->tp_snaplen = cap;
		h->tp_len = len(i);
		h->tp_sec = 1700000000;
		h->tp_nsec = i * 1000;
		h->tp_mac = MAC_OFF;
		h->tp_net = MAC_OFF + 14;
		h->tp_status = TP_STATUS_USER |
		    (tagged ? TP_STATUS_VLAN_VALID : 0);
		h->hv1.tp_vlan_tci = tagged ? 100 : 0;
		memset(block + off + MAC_OFF, 0xff, 6);
		off += step;
	}
	bd->hdr.bh1.blk_len = off;
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(block, 1, sizeof(block), f) != sizeof(block) || fclose(f))
		err(2, "%s", path);
}

static unsigned
three(unsigned i)
{
	static const unsigned len[3] = { 60, 64, 1514 };

	return len[i];
}

static unsigned
many(unsigned i)
{
	return 60 + i;
}

int
main(int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		errx(2, "usage: seed_block FILE [FILE]");
	seed(argv[1], 3, three);
	if (argc == 3)
		seed(argv[2], 22, many);
	return 0;
}

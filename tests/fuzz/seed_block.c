/*
 * Writes the seed of fuzz_ring: one 4096-byte TPACKET_V3 block holding
 * three well-formed frames, laid out as the kernel lays them out, one with
 * a VLAN tag.
 */
#include <err.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

#define BLOCK	4096
#define MAC_OFF	82

int
main(int argc, char **argv)
{
	static unsigned char block[BLOCK];
	struct tpacket_block_desc *bd = (struct tpacket_block_desc *)block;
	struct tpacket3_hdr *h;
	unsigned off = 48, len[3] = { 60, 64, 1514 };
	FILE *f;

	if (argc != 2)
		errx(2, "usage: seed_block FILE");
	bd->version = TPACKET_V3;
	bd->hdr.bh1.block_status = TP_STATUS_USER;
	bd->hdr.bh1.num_pkts = 3;
	bd->hdr.bh1.offset_to_first_pkt = off;
	for (int i = 0; i < 3; i++) {
		unsigned cap = len[i] > 200 ? 200 : len[i];
		unsigned step = TPACKET_ALIGN(MAC_OFF + cap);

		h = (struct tpacket3_hdr *)(block + off);
		h->tp_next_offset = i < 2 ? step : 0;
		h->tp_snaplen = cap;
		h->tp_len = len[i];
		h->tp_mac = MAC_OFF;
		h->tp_net = MAC_OFF + 14;
		h->tp_status = TP_STATUS_USER |
		    (i == 1 ? TP_STATUS_VLAN_VALID : 0);
		h->hv1.tp_vlan_tci = i == 1 ? 100 : 0;
		memset(block + off + MAC_OFF, 0xff, 6);
		off += step;
	}
	bd->hdr.bh1.blk_len = off;
	if ((f = fopen(argv[1], "wb")) == NULL ||
	    fwrite(block, 1, sizeof(block), f) != sizeof(block) || fclose(f))
		err(2, "%s", argv[1]);
	return 0;
}

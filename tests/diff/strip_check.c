/*
 * strip_check FILE: for each Ethernet (1) or Linux cooked v1 (113) frame with
 * a tag at 12 / 14, decodes it as captured and again with that tag moved into
 * pkt->vlan_tci (RINGFAN_PKT_VLAN_VALID), as the kernel strips it; the two
 * must agree but for the offsets, and ringfan_stripped_tag() must give the
 * tag back at its offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <ringfan/plugin.h>
#include <ringfan/decode.h>
int main(int argc, char **argv) {
	char err[PCAP_ERRBUF_SIZE]; struct pcap_pkthdr *h; const u_char *b;
	pcap_t *pc = pcap_open_offline(argv[1], err); int lt = pcap_datalink(pc), n = 0, bad = 0, tested = 0;
	uint32_t off = lt == 1 ? 12 : 14;
	while (pcap_next_ex(pc, &h, &b) == 1) {
		n++;
		if (h->caplen < off + 4 + 2) continue;
		uint16_t tpid = b[off] << 8 | b[off+1];
		if (tpid != 0x8100 && tpid != 0x88a8 && tpid != 0x9100) continue;
		tested++;
		uint8_t *f = malloc(h->caplen), *s = malloc(h->caplen - 4);
		memcpy(f, b, h->caplen);
		memcpy(s, b, off); memcpy(s + off, b + off + 4, h->caplen - off - 4);
		struct ringfan_packet pf = {0}, ps = {0};
		pf.data = f; pf.caplen = h->caplen; pf.len = h->len; pf.linktype = lt;
		ps.data = s; ps.caplen = h->caplen - 4; ps.len = h->len - 4; ps.linktype = lt;
		ps.flags = RINGFAN_PKT_VLAN_VALID | RINGFAN_PKT_TPID_VALID;
		ps.vlan_tci = b[off+2] << 8 | b[off+3]; ps.vlan_tpid = tpid;
		struct ringfan_decoded df, ds;
		ringfan_decode(&pf, &df); ringfan_decode(&ps, &ds);
		uint8_t tag[4];
		int r = ringfan_stripped_tag(&ps, tag);
		if (r != (int)off || memcmp(tag, b + off, 4)) { printf("%d stripped_tag r=%d\n", n, r); bad++; }
		/* shift offsets */
		if (ds.l3_off) { ds.l3_off += 4; ds.l4_off += 4; ds.payload_off += 4; }
		if (df.ip_len != ds.ip_len && (df.ip_len == ds.ip_len + 4 || ds.ip_len == df.ip_len + 4)) ds.ip_len = df.ip_len; /* TSO len */
		if (memcmp(&df, &ds, sizeof df)) {
			bad++;
			printf("%d differ: flags %x/%x nvlan %u/%u v0 %u/%u v1 %u/%u et %x/%x l3 %u/%u\n", n, df.flags, ds.flags, df.nvlan, ds.nvlan, df.vlan[0], ds.vlan[0], df.vlan[1], ds.vlan[1], df.ethertype, ds.ethertype, df.l3_off, ds.l3_off);
		}
		free(f); free(s);
	}
	pcap_close(pc); printf("%s: %d frames, %d tested, %d bad\n", argv[1], n, tested, bad);
	return 0;
}

/*
 * decode_dump: prints, per frame of a pcap file, what ringfan_decode()
 * gives, for tests/diff/decode_diff.py to hold to tshark.  Each frame is
 * copied to a heap buffer of exactly caplen bytes, so that a sanitizer or
 * valgrind catches any read past it.  It also decodes the frame the long
 * way alone (ringfan_dec_general) and prints MISMATCH when the two differ.
 *
 *	decode_dump FILE [LINKTYPE]
 *
 * LINKTYPE overrides pcap_datalink() (libpcap maps LINKTYPE_RAW 101 to
 * DLT_RAW 12, so 101 is only reached this way).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

static void
addr(const struct ringfan_decoded *d, const uint8_t *a, const char *name)
{
	char buf[INET6_ADDRSTRLEN];

	if (d->ip_version == 4)
		inet_ntop(AF_INET, a, buf, sizeof(buf));
	else if (d->ip_version == 6)
		inet_ntop(AF_INET6, a, buf, sizeof(buf));
	else
		strcpy(buf, "-");
	printf(" %s=%s", name, buf);
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	pcap_t *pc;
	int lt, n = 0, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: decode_dump FILE [LINKTYPE]\n");
		return 2;
	}
	if ((pc = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	lt = argc > 2 ? atoi(argv[2]) : pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &bytes)) == 1) {
		struct ringfan_packet pkt;
		struct ringfan_decoded d, g;
		uint8_t *copy = malloc(h->caplen ? h->caplen : 1);
		int r;

		memcpy(copy, bytes, h->caplen);
		memset(&pkt, 0, sizeof(pkt));
		pkt.data = copy;
		pkt.caplen = h->caplen;
		pkt.len = h->len;
		pkt.linktype = (uint16_t)lt;
		if (h->caplen < h->len)
			pkt.flags |= RINGFAN_PKT_TRUNCATED;
		r = ringfan_decode(&pkt, &d);
		ringfan_dec_zero(&g);
		ringfan_dec_general(&pkt, &g);
		n++;
		printf("%d rc=%d flags=%s%s%s%s%s%s%s%s ethertype=0x%04x"
		    " nvlan=%u vlan0=%u vlan1=%u ipv=%u",
		    n, r,
		    d.flags & RINGFAN_DEC_TRUNCATED ? "T" : "",
		    d.flags & RINGFAN_DEC_MALFORMED ? "M" : "",
		    d.flags & RINGFAN_DEC_FRAGMENT ? "F" : "",
		    d.flags & RINGFAN_DEC_LATER_FRAGMENT ? "L" : "",
		    d.flags & RINGFAN_DEC_MORE_FRAGMENTS ? "m" : "",
		    d.flags & RINGFAN_DEC_UNKNOWN_LINK ? "U" : "",
		    d.flags & RINGFAN_DEC_PROTO ? "P" : "",
		    d.flags & RINGFAN_DEC_L4 ? "4" : "",
		    d.ethertype, d.nvlan, d.vlan[0], d.vlan[1], d.ip_version);
		addr(&d, d.src, "src");
		addr(&d, d.dst, "dst");
		printf(" proto=%u ip6_ext=0x%02x tos=%u ttl=%u ip_len=%" PRIu32
		    " flow=%" PRIu32 " frag_id=%" PRIu32 " frag_off=%u"
		    " sport=%u dport=%u tcp_flags=0x%02x l3=%" PRIu32
		    " l4=%" PRIu32 " pay=%" PRIu32 " caplen=%u len=%u%s\n",
		    d.proto, d.ip6_ext, d.tos, d.ttl, d.ip_len, d.flow_label,
		    d.frag_id, d.frag_off, d.sport, d.dport, d.tcp_flags,
		    d.l3_off, d.l4_off, d.payload_off, h->caplen, h->len,
		    memcmp(&d, &g, sizeof(d)) ? " MISMATCH" : "");
		if (!(d.l3_off <= d.l4_off && d.l4_off <= d.payload_off &&
		    d.payload_off <= h->caplen))
			printf("%d OFFSETS-BROKEN\n", n);
		free(copy);
	}
	pcap_close(pc);
	return rc == -2 ? 0 : 1;
}

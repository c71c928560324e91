/*
 * Unit tests of the filter plugin on the stand-in host context.
 *
 * Each sample frame is written down as it was on the wire (a tag the
 * kernel strips is still in it) and handed to the plugin as the host would
 * (the tag taken out into vlan_tci, the frame cut at caplen).  Every
 * verdict is held to a table written by hand, and to libpcap's own verdict
 * for the frame as libpcap would hand it to tcpdump: its tag back in place
 * when the frame reaches the EtherType, the lengths four bytes longer.  The
 * same frames, written to a pcap file, go through `tcpdump -r` too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include <ringfan/plugin.h>

#include "fake_ctx.h"

extern const struct ringfan_plugin ringfan_plugin;

#define MAXFRAME	160
#define NSAMPLES	16
#define NEXPRS		16

/* A frame under construction. */
struct fb {
	uint8_t		 b[MAXFRAME];
	size_t		 n;
};

static void
put8(struct fb *f, unsigned v)
{
	assert_true(f->n < MAXFRAME);
	f->b[f->n++] = (uint8_t)v;
}

static void
put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

/* Ethernet addresses; the EtherType (after any tags) is the caller's. */
static void
macs(struct fb *f)
{
	static const uint8_t m[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	for (size_t i = 0; i < sizeof(m); i++)
		put8(f, m[i]);
}

static void
ip4(struct fb *f, unsigned proto, uint32_t src, uint32_t dst, unsigned l4)
{
	size_t h = f->n;
	uint32_t sum = 0;

	put16(f, 0x4500);
	put16(f, 20 + l4);
	put32(f, 0x12344000);		/* id, DF */
	put16(f, 64 << 8 | proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	for (size_t i = h; i < h + 20; i += 2)
		sum += (uint32_t)(f->b[i] << 8 | f->b[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
	f->b[h + 10] = (uint8_t)(sum >> 8);
	f->b[h + 11] = (uint8_t)sum;
}

/* 2001:db8::s to 2001:db8::d */
static void
ip6(struct fb *f, unsigned nh, unsigned s, unsigned d, unsigned l4)
{
	put32(f, 0x60000000);
	put16(f, l4);
	put16(f, nh << 8 | 64);
	put32(f, 0x20010db8);
	put32(f, 0);
	put32(f, 0);
	put32(f, s);
	put32(f, 0x20010db8);
	put32(f, 0);
	put32(f, 0);
	put32(f, d);
}

static void
tcp(struct fb *f, unsigned sport, unsigned dport)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 0);
	put16(f, 5 << 12 | 0x02);	/* SYN */
	put16(f, 65535);
	put32(f, 0);
}

static void
udp(struct fb *f, unsigned sport, unsigned dport, unsigned payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + payload);
	put16(f, 0);
	while (payload-- > 0)
		put8(f, 0);
}

static void
pad60(struct fb *f)
{
	while (f->n < 60)
		put8(f, 0);
}

#define A(a, b, c, d)	((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void
b_tcp80(struct fb *f)
{
	macs(f);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
	pad60(f);
}

static void
b_udp53(struct fb *f)
{
	macs(f);
	put16(f, 0x0800);
	ip4(f, 17, A(10, 0, 0, 2), A(10, 0, 0, 9), 20);
	udp(f, 5353, 53, 12);
	pad60(f);
}

static void
b_v6tcp443(struct fb *f)
{
	macs(f);
	put16(f, 0x86dd);
	ip6(f, 6, 1, 2, 20);
	tcp(f, 50000, 443);
}

static void
b_v6udp53(struct fb *f)
{
	macs(f);
	put16(f, 0x86dd);
	ip6(f, 17, 1, 2, 20);
	udp(f, 5353, 53, 12);
}

static void
b_arp(struct fb *f)
{
	macs(f);
	put16(f, 0x0806);
	put16(f, 1);
	put16(f, 0x0800);
	put16(f, 6 << 8 | 4);
	put16(f, 1);			/* request */
	for (int i = 0; i < 6; i++)
		put8(f, i == 0 ? 2 : i == 5 ? 1 : 0);
	put32(f, A(10, 0, 0, 1));
	for (int i = 0; i < 6; i++)
		put8(f, 0);
	put32(f, A(10, 0, 0, 9));
	pad60(f);
}

static void
b_vlan10_tcp80(struct fb *f)
{
	macs(f);
	put16(f, 0x8100);
	put16(f, 10);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
	pad60(f);
}

static void
b_vlan10_tcp80_long(struct fb *f)
{
	macs(f);
	put16(f, 0x8100);
	put16(f, 10);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20 + 100);
	tcp(f, 40000, 80);
	for (int i = 0; i < 100; i++)
		put8(f, 0xab);
}

static void
b_vlan20_udp53(struct fb *f)
{
	macs(f);
	put16(f, 0x8100);
	put16(f, 0x2000 | 20);		/* priority 1 */
	put16(f, 0x0800);
	ip4(f, 17, A(10, 0, 0, 2), A(10, 0, 0, 9), 20);
	udp(f, 5353, 53, 12);
	pad60(f);
}

static void
b_qinq10_tcp80(struct fb *f)
{
	macs(f);
	put16(f, 0x88a8);
	put16(f, 10);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 3), A(10, 0, 1, 1), 20);
	tcp(f, 40001, 80);
	pad60(f);
}

static void
b_vlan30_40_tcp80(struct fb *f)
{
	macs(f);
	put16(f, 0x8100);
	put16(f, 30);
	put16(f, 0x8100);
	put16(f, 40);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
	pad60(f);
}

static void
b_vlan50_tcp80(struct fb *f)
{
	macs(f);
	put16(f, 0x8100);
	put16(f, 50);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
	pad60(f);
}

static void
b_raw_tcp80(struct fb *f)
{
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
}

static void
b_raw_v6udp53(struct fb *f)
{
	ip6(f, 17, 1, 2, 20);
	udp(f, 5353, 53, 12);
}

static void
b_raw_udp53(struct fb *f)
{
	ip4(f, 17, A(10, 0, 0, 2), A(10, 0, 0, 9), 20);
	udp(f, 5353, 53, 12);
}

/*
 * BSD loopback: the address family in the writer's order (NULL, here this
 * machine's) or in network order (LOOP).  IPv6 is 24, 28 or 30 by BSD, 10
 * on Linux, which no BSD loopback file holds for IPv6.
 */
static int loop_order;		/* 1: LOOP, network order */

static void
family(struct fb *f, uint32_t af)
{
	if (loop_order) {
		put32(f, af);
		return;
	}
	assert_true(f->n + sizeof(af) <= MAXFRAME);
	memcpy(f->b + f->n, &af, sizeof(af));
	f->n += sizeof(af);
}

static void
b_null_tcp80(struct fb *f)
{
	family(f, 2);
	b_raw_tcp80(f);
}

static void
b_null_v6udp53_24(struct fb *f)
{
	family(f, 24);
	b_raw_v6udp53(f);
}

static void
b_null_v6udp53_28(struct fb *f)
{
	family(f, 28);
	b_raw_v6udp53(f);
}

static void
b_null_v6tcp443_30(struct fb *f)
{
	family(f, 30);
	ip6(f, 6, 1, 2, 20);
	tcp(f, 40000, 443);
}

static void
b_null_v6udp53_10(struct fb *f)
{
	family(f, 10);
	b_raw_v6udp53(f);
}

/*
 * OpenBSD's IPsec encapsulation (DLT_ENC, 109), only ever from files: the
 * family in the writer's byte order, as on NULL, then the SPI and flags.
 */
static void
enc_head(struct fb *f, uint32_t af)
{
	family(f, af);
	put32(f, 0x1000);	/* SPI */
	put32(f, 0);		/* flags */
}

static void
b_enc_tcp80(struct fb *f)
{
	enc_head(f, 2);
	b_raw_tcp80(f);
}

static void
b_enc_v6udp53_24(struct fb *f)
{
	enc_head(f, 24);
	b_raw_v6udp53(f);
}

static void
b_enc_v6tcp443_30(struct fb *f)
{
	enc_head(f, 30);
	ip6(f, 6, 1, 2, 20);
	tcp(f, 40000, 443);
}

static void
b_enc_v6udp53_10(struct fb *f)
{
	enc_head(f, 10);
	b_raw_v6udp53(f);
}

/* Linux cooked v1: packet type, ARPHRD, address length and address. */
static void
sll_head(struct fb *f)
{
	put16(f, 0);			/* PACKET_HOST */
	put16(f, 1);			/* ARPHRD_ETHER */
	put16(f, 6);
	put32(f, 0x02000000);
	put32(f, 0x00010000);
}

static void
b_sll_tcp80(struct fb *f)
{
	sll_head(f);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
}

static void
b_sll_vlan10_tcp80(struct fb *f)
{
	sll_head(f);
	put16(f, 0x8100);
	put16(f, 10);
	put16(f, 0x0800);
	ip4(f, 6, A(10, 0, 0, 1), A(10, 0, 1, 1), 20);
	tcp(f, 40000, 80);
}

/*
 * A sample: the frame on the wire; `stripped` when the kernel took its
 * outermost tag out (at tag_off), `tpid` when it also named the TPID;
 * `cut` the caplen the plugin is handed (0: the whole frame).
 */
struct sample {
	const char	*name;
	void		(*build)(struct fb *);
	int		 stripped;
	int		 tpid;
	size_t		 cut;
};

/*
 * The samples of one link type and the expected verdict of each
 * expression, a '1' per sample that matches.
 */
struct group {
	const char	*name;
	int		 linktype;	/* handed to the plugin */
	int		 dlt;		/* libpcap's own name for it */
	int		 tag_off;	/* where libpcap puts a stripped tag */
	struct sample	 s[NSAMPLES];
	struct {
		const char	*expr;
		const char	*want;
	}		 x[NEXPRS];
};

static const struct group eth = {
	"Ethernet", 1, DLT_EN10MB, 12,
	{
		{ "ipv4 tcp 80", b_tcp80, 0, 0, 0 },
		{ "ipv4 udp 53", b_udp53, 0, 0, 0 },
		{ "ipv6 tcp 443", b_v6tcp443, 0, 0, 0 },
		{ "ipv6 udp 53", b_v6udp53, 0, 0, 0 },
		{ "arp", b_arp, 0, 0, 0 },
		{ "in-frame tag 10, tcp 80", b_vlan10_tcp80, 0, 0, 0 },
		{ "stripped tag 20, udp 53", b_vlan20_udp53, 1, 0, 0 },
		{ "stripped 88a8 tag 10, tcp 80", b_qinq10_tcp80, 1, 1, 0 },
		{ "tcp 80 cut after the IP header", b_tcp80, 0, 0, 34 },
		{ "stripped 30, in-frame 40, tcp 80", b_vlan30_40_tcp80, 1, 0,
		    0 },
		{ "stripped 50, cut at 10", b_vlan50_tcp80, 1, 0, 10 },
	},
	{
		{ "tcp port 80",			"10000000000" },
		{ "udp port 53",			"01010000000" },
		{ "tcp",				"10100000100" },
		{ "ip6",				"00110000000" },
		{ "arp",				"00001000000" },
		{ "vlan 10",				"00000101000" },
		{ "vlan 20 and udp port 53",		"00000010000" },
		{ "vlan and tcp port 80",		"00000101000" },
		{ "vlan 30 and vlan 40 and tcp port 80", "00000000010" },
		{ "not vlan",				"11111000100" },
		{ "ether dst 02:00:00:00:00:02",	"11111111111" },
		{ "vlan 50",				"00000000000" },
		{ "tcp[tcpflags] & tcp-syn != 0",	"10000000000" },
	},
};

static const struct group raw12 = {
	"raw IP (12)", 12, DLT_RAW, -1,
	{
		{ "ipv4 tcp 80", b_raw_tcp80, 0, 0, 0 },
		{ "ipv6 udp 53", b_raw_v6udp53, 0, 0, 0 },
		{ "ipv4 tcp cut after the IP header", b_raw_tcp80, 0, 0, 20 },
		/* No place for a tag: the filter leaves the frame alone. */
		{ "ipv4 udp 53 with a stripped tag", b_raw_udp53, 1, 0, 0 },
	},
	{
		{ "tcp port 80",	"1000" },
		{ "udp port 53",	"0101" },
		{ "tcp",		"1010" },
		{ "ip6",		"0100" },
		{ "ip",			"1011" },
	},
};

/* LINKTYPE_RAW of files: the same frames, the same verdicts. */
static struct group raw101;

static const struct group sll = {
	"Linux cooked v1", 113, DLT_LINUX_SLL, 14,
	{
		{ "ipv4 tcp 80", b_sll_tcp80, 0, 0, 0 },
		{ "stripped tag 10, tcp 80", b_sll_vlan10_tcp80, 1, 0, 0 },
	},
	{
		{ "tcp port 80",	"10" },
		{ "ip",			"10" },
		{ "ether[14:2] = 0x8100", "01" },
		/* The cooked header holds the direction: no kernel needed. */
		{ "inbound",		"11" },
		{ "outbound and tcp",	"00" },
	},
};

static const struct group null = {
	"BSD loopback (NULL)", 0, DLT_NULL, -1,
	{
		{ "ipv4 tcp 80", b_null_tcp80, 0, 0, 0 },
		{ "ipv6 (24) udp 53", b_null_v6udp53_24, 0, 0, 0 },
		{ "ipv6 (28) udp 53", b_null_v6udp53_28, 0, 0, 0 },
		{ "ipv6 (30) tcp 443", b_null_v6tcp443_30, 0, 0, 0 },
		{ "family 10, ipv6 udp 53", b_null_v6udp53_10, 0, 0, 0 },
		{ "ipv4 tcp cut after the family", b_null_tcp80, 0, 0, 4 },
	},
	{
		{ "tcp port 80",	"100000" },
		{ "udp port 53",	"011000" },
		{ "ip6",		"011100" },
		{ "ip",			"100001" },
		{ "tcp",		"100100" },
	},
};

/* LOOP: the same frames, the family in network order. */
static struct group loop;

/* ENC holds its family as NULL does: `ip6` is a BSD's, as in a file. */
static const struct group enc = {
	"IPsec encapsulation (ENC)", 109, DLT_ENC, -1,
	{
		{ "ipv4 tcp 80", b_enc_tcp80, 0, 0, 0 },
		{ "ipv6 (24) udp 53", b_enc_v6udp53_24, 0, 0, 0 },
		{ "ipv6 (30) tcp 443", b_enc_v6tcp443_30, 0, 0, 0 },
		{ "family 10, ipv6 udp 53", b_enc_v6udp53_10, 0, 0, 0 },
		{ "ipv4 tcp cut after the header", b_enc_tcp80, 0, 0, 12 },
	},
	{
		{ "tcp port 80",	"10000" },
		{ "udp port 53",	"01000" },
		{ "ip6",		"01100" },
		{ "ip",			"10001" },
		{ "tcp",		"10100" },
	},
};

/* A frame as handed to the plugin and as libpcap sees it. */
struct view {
	uint8_t		 wire[MAXFRAME];	/* libpcap's */
	uint32_t	 wire_caplen;
	uint32_t	 wire_len;
	uint8_t		 data[MAXFRAME];	/* the plugin's */
	struct ringfan_packet pkt;
};

static size_t
nsamples(const struct group *g)
{
	size_t n = 0;

	while (n < NSAMPLES && g->s[n].name != NULL)
		n++;
	return n;
}

static size_t
nexprs(const struct group *g)
{
	size_t n = 0;

	while (n < NEXPRS && g->x[n].expr != NULL)
		n++;
	return n;
}

/* The whole frame the plugin would get, and its length on the wire. */
static size_t
handed(const struct group *g, const struct sample *s, struct view *v)
{
	struct fb f = { .n = 0 };
	size_t off = (size_t)g->tag_off, n;

	loop_order = g->linktype == DLT_LOOP;
	s->build(&f);
	memset(&v->pkt, 0, sizeof(v->pkt));
	v->pkt.linktype = (uint16_t)g->linktype;
	if (s->stripped && g->tag_off >= 0) {
		v->pkt.flags = RINGFAN_PKT_VLAN_VALID;
		v->pkt.vlan_tci = (uint16_t)(f.b[off + 2] << 8 | f.b[off + 3]);
		if (s->tpid) {
			v->pkt.flags |= RINGFAN_PKT_TPID_VALID;
			v->pkt.vlan_tpid = (uint16_t)(f.b[off] << 8 |
			    f.b[off + 1]);
		}
		memcpy(v->data, f.b, off);
		memcpy(v->data + off, f.b + off + 4, f.n - off - 4);
		n = f.n - 4;
	} else {
		if (s->stripped) {
			/* A tag on a link without a place for it. */
			v->pkt.flags = RINGFAN_PKT_VLAN_VALID;
			v->pkt.vlan_tci = 10;
		}
		memcpy(v->data, f.b, f.n);
		n = f.n;
	}
	v->pkt.len = (uint32_t)n;
	return n;
}

/*
 * Sample s handed over cut at caplen `cut`, and the same frame as libpcap
 * gives it to tcpdump: with the tag back once the EtherType is there.
 */
static void
view(const struct group *g, const struct sample *s, size_t cut,
    struct view *v)
{
	size_t off = (size_t)g->tag_off;

	handed(g, s, v);
	v->pkt.data = v->data;
	v->pkt.caplen = (uint32_t)cut;
	if (cut < v->pkt.len)
		v->pkt.flags |= RINGFAN_PKT_TRUNCATED;
	if (v->pkt.flags & RINGFAN_PKT_VLAN_VALID && g->tag_off >= 0 &&
	    cut >= off) {
		uint16_t tpid = v->pkt.flags & RINGFAN_PKT_TPID_VALID ?
		    v->pkt.vlan_tpid : 0x8100;

		memcpy(v->wire, v->data, off);
		v->wire[off] = (uint8_t)(tpid >> 8);
		v->wire[off + 1] = (uint8_t)tpid;
		v->wire[off + 2] = (uint8_t)(v->pkt.vlan_tci >> 8);
		v->wire[off + 3] = (uint8_t)v->pkt.vlan_tci;
		memcpy(v->wire + off + 4, v->data + off, cut - off);
		v->wire_caplen = (uint32_t)cut + 4;
		v->wire_len = v->pkt.len + 4;
	} else {
		memcpy(v->wire, v->data, cut);
		v->wire_caplen = (uint32_t)cut;
		v->wire_len = v->pkt.len;
	}
}

static size_t
sample_cut(const struct group *g, const struct sample *s)
{
	struct view v;
	size_t n = handed(g, s, &v);

	return s->cut != 0 ? s->cut : n;
}

/* libpcap's verdict, from a program compiled apart from the plugin's. */
static int
oracle(const struct bpf_program *prog, const struct view *v)
{
	struct pcap_pkthdr h = { .caplen = v->wire_caplen,
	    .len = v->wire_len };

	return pcap_offline_filter(prog, &h, v->wire) != 0;
}

/*
 * The program as tcpdump -r compiles it: on a savefile of g's link type,
 * as libpcap writes one (on BSD loopback, `ip6` only matches there as in
 * a file).
 */
static void
oracle_compile(const struct group *g, const char *expr,
    struct bpf_program *prog)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *dead = pcap_open_dead(g->dlt, 262144), *p;
	pcap_dumper_t *d;
	FILE *f = tmpfile();

	assert_non_null(dead);
	assert_non_null(f);
	assert_non_null(d = pcap_dump_fopen(dead, f));
	assert_int_equal(pcap_dump_flush(d), 0);
	rewind(f);
	if ((p = pcap_fopen_offline(f, err)) == NULL)
		fail_msg("%s: libpcap does not read its own file: %s",
		    g->name, err);
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
		fail_msg("%s: libpcap does not compile \"%s\": %s", g->name,
		    expr, pcap_geterr(p));
	pcap_close(p);		/* closes f, which d only names */
	pcap_close(dead);
}

/*
 * A filter opened on a fresh context, with that snaplen unless 0; the
 * context stays for the test.
 */
static void *
filter_up_snap(struct fake_ctx *f, int linktype, uint32_t snaplen,
    const char *expr)
{
	const char *opts[] = { NULL, NULL };
	char *opt;
	void *st = NULL;

	/* fake_ctx keeps the pointer: freed by filter_down(). */
	assert_true(asprintf(&opt, "expression=%s", expr) > 0);
	opts[0] = opt;
	fake_ctx_init(f, opts);
	f->pub.linktype = linktype;
	if (snaplen != 0)
		f->pub.snaplen = snaplen;
	if (ringfan_plugin.check(&f->pub) != RINGFAN_OK)
		fail_msg("check \"%s\": %s", expr, f->error);
	if (ringfan_plugin.open(&f->pub, &st) != RINGFAN_OK)
		fail_msg("open \"%s\": %s", expr, f->error);
	assert_null(fake_ctx_unasked(f));
	return st;
}

static void *
filter_up(struct fake_ctx *f, int linktype, const char *expr)
{
	return filter_up_snap(f, linktype, 0, expr);
}

static void
filter_down(struct fake_ctx *f, void *st)
{
	ringfan_plugin.close(st);
	free((void *)(uintptr_t)f->opts[0]);
}

/* One verdict: the frame is given at its exact size, for ASan. */
static int
verdict(void *st, const struct view *v)
{
	struct ringfan_packet pkt = v->pkt;
	uint8_t *copy = malloc(pkt.caplen != 0 ? pkt.caplen : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, v->data, pkt.caplen);
	pkt.data = copy;
	rc = ringfan_plugin.packet(st, &pkt);
	free(copy);
	assert_true(rc == RINGFAN_CONTINUE || rc == RINGFAN_STOP);
	return rc == RINGFAN_CONTINUE;
}

static void
group_verdicts(const struct group *g)
{
	size_t ns = nsamples(g), nx = nexprs(g);

	for (size_t x = 0; x < nx; x++) {
		struct fake_ctx f;
		struct bpf_program prog;
		uint64_t want_match = 0;
		void *st = filter_up(&f, g->linktype, g->x[x].expr);

		assert_int_equal(strlen(g->x[x].want), ns);
		oracle_compile(g, g->x[x].expr, &prog);
		for (size_t i = 0; i < ns; i++) {
			struct view v;
			int want = g->x[x].want[i] == '1', got, lib;

			view(g, &g->s[i], sample_cut(g, &g->s[i]), &v);
			got = verdict(st, &v);
			lib = oracle(&prog, &v);
			if (got != want || lib != want)
				fail_msg("%s, \"%s\", %s: plugin %d, libpcap "
				    "%d, table %d", g->name, g->x[x].expr,
				    g->s[i].name, got, lib, want);
			want_match += (uint64_t)want;
		}
		assert_int_equal(fake_ctx_value(&f, "matched"), want_match);
		assert_int_equal(fake_ctx_value(&f, "rejected"),
		    ns - want_match);
		pcap_freecode(&prog);
		filter_down(&f, st);
	}
}

static void
test_verdicts_ethernet(void **unused)
{
	(void)unused;
	group_verdicts(&eth);
}

static void
test_verdicts_raw(void **unused)
{
	(void)unused;
	group_verdicts(&raw12);
	group_verdicts(&raw101);
}

static void
test_verdicts_sll(void **unused)
{
	(void)unused;
	group_verdicts(&sll);
}

static void
test_verdicts_loopback(void **unused)
{
	(void)unused;
	group_verdicts(&null);
	group_verdicts(&loop);
	group_verdicts(&enc);
}

/* Every cut of every sample: no crash, libpcap's verdict, counted. */
static void
group_cuts(const struct group *g)
{
	size_t ns = nsamples(g), nx = nexprs(g);

	for (size_t x = 0; x < nx; x++) {
		struct fake_ctx f;
		struct bpf_program prog;
		uint64_t frames = 0, matches = 0;
		void *st = filter_up(&f, g->linktype, g->x[x].expr);

		oracle_compile(g, g->x[x].expr, &prog);
		for (size_t i = 0; i < ns; i++) {
			struct view v;
			size_t whole = handed(g, &g->s[i], &v);

			for (size_t cut = 0; cut <= whole; cut++) {
				int got, lib;

				view(g, &g->s[i], cut, &v);
				got = verdict(st, &v);
				lib = oracle(&prog, &v);
				if (got != lib)
					fail_msg("%s, \"%s\", %s cut at %zu: "
					    "plugin %d, libpcap %d", g->name,
					    g->x[x].expr, g->s[i].name, cut,
					    got, lib);
				frames++;
				matches += (uint64_t)got;
			}
		}
		assert_int_equal(fake_ctx_value(&f, "matched"), matches);
		assert_int_equal(fake_ctx_value(&f, "rejected"),
		    frames - matches);
		pcap_freecode(&prog);
		filter_down(&f, st);
	}
}

static void
test_every_cut(void **unused)
{
	(void)unused;
	group_cuts(&eth);
	group_cuts(&raw12);
	group_cuts(&raw101);
	group_cuts(&sll);
	group_cuts(&null);
	group_cuts(&loop);
	group_cuts(&enc);
}

/*
 * The samples as tcpdump would have saved them, one second apart, and the
 * seconds of the frames `tcpdump -tt -nr FILE EXPR` prints.
 */
static void
tcpdump_file(const struct group *g, const char *path)
{
	pcap_t *p = pcap_open_dead(g->dlt, 262144);
	pcap_dumper_t *d;
	size_t ns = nsamples(g);

	assert_non_null(p);
	if ((d = pcap_dump_open(p, path)) == NULL)
		fail_msg("%s: %s", path, pcap_geterr(p));
	for (size_t i = 0; i < ns; i++) {
		struct view v;
		struct pcap_pkthdr h;

		view(g, &g->s[i], sample_cut(g, &g->s[i]), &v);
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(i + 1);
		h.caplen = v.wire_caplen;
		h.len = v.wire_len;
		pcap_dump((u_char *)d, &h, v.wire);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

static void
tcpdump_matches(const char *path, const char *expr, char *got, size_t ns)
{
	char line[1024];
	int fds[2], status;
	pid_t pid;
	FILE *in;

	memset(got, '0', ns);
	got[ns] = '\0';
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(TCPDUMP, "tcpdump", "-tt", "-n", "-r", path, expr,
		    (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	close(fds[1]);
	in = fdopen(fds[0], "r");
	assert_non_null(in);
	while (fgets(line, sizeof(line), in) != NULL) {
		char *end;
		unsigned long sec = strtoul(line, &end, 10);

		/* Continuation lines start with blanks. */
		if (end == line || *end != '.')
			continue;
		if (sec < 1 || sec > ns)
			fail_msg("tcpdump printed \"%s\"", line);
		got[sec - 1] = '1';
	}
	fclose(in);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s -r %s \"%s\": exit status %d", TCPDUMP, path,
		    expr, status);
}

static const struct group *const tcpdump_groups[] = { &eth, &raw12, &sll,
    &null, &loop, &enc };
#define NTCPDUMP	(sizeof(tcpdump_groups) / sizeof(tcpdump_groups[0]))

static char tcpdump_dir[] = "/tmp/test_filter.XXXXXX";
static int tcpdump_made;

static void
tcpdump_path(size_t k, char *path, size_t len)
{
	snprintf(path, len, "%s/%zu.pcap", tcpdump_dir, k);
}

/* A failed assertion leaves the test at once: the files go here. */
static int
tcpdump_teardown(void **unused)
{
	char path[64];

	(void)unused;
	if (!tcpdump_made)
		return 0;
	for (size_t k = 0; k < NTCPDUMP; k++) {
		tcpdump_path(k, path, sizeof(path));
		(void)unlink(path);
	}
	return rmdir(tcpdump_dir);
}

static void
test_tcpdump(void **unused)
{
	char path[64];

	(void)unused;
	/* The oracle missing is a broken setup (tools/deps installs it),
	 * not a check to skip: a skip would pass the test as a whole. */
	if (TCPDUMP[0] == '\0' || access(TCPDUMP, X_OK) != 0)
		fail_msg("tcpdump is not installed (tools/deps installs it): "
		    "the verdicts cannot be held to tcpdump -r");
	assert_non_null(mkdtemp(tcpdump_dir));
	tcpdump_made = 1;
	for (size_t k = 0; k < NTCPDUMP; k++) {
		const struct group *g = tcpdump_groups[k];
		size_t ns = nsamples(g), nx = nexprs(g);

		tcpdump_path(k, path, sizeof(path));
		tcpdump_file(g, path);
		for (size_t x = 0; x < nx; x++) {
			char got[NSAMPLES + 1];

			tcpdump_matches(path, g->x[x].expr, got, ns);
			if (strcmp(got, g->x[x].want) != 0)
				fail_msg("%s, tcpdump -r \"%s\": %s, table %s",
				    g->name, g->x[x].expr, got,
				    g->x[x].want);
		}
	}
}

/* check's message for expr on linktype, and that open gives the same. */
static void
refused(int linktype, const char *expr_opt, const char *want)
{
	const char *opts[] = { expr_opt, NULL };
	struct fake_ctx f;
	void *st = NULL;

	fake_ctx_init(&f, expr_opt != NULL ? opts : NULL);
	f.pub.linktype = linktype;
	f.pub.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_FAIL);
	assert_string_equal(f.error, want);
	/* No side effect in check: no counter, no log, no status. */
	assert_int_equal(f.nslots, 0);
	assert_int_equal(f.nlog, 0);
	assert_string_equal(f.status, "");

	fake_ctx_init(&f, expr_opt != NULL ? opts : NULL);
	f.pub.linktype = linktype;
	assert_int_equal(ringfan_plugin.open(&f.pub, &st), RINGFAN_FAIL);
	assert_string_equal(f.error, want);
	assert_null(st);
}

/* libpcap's own message for expr, in the plugin's words. */
static void
refused_by_libpcap(int linktype, int dlt, const char *expr)
{
	char opt[256], want[FAKE_TEXT];
	struct bpf_program prog;
	pcap_t *p = pcap_open_dead(dlt, 262144);

	assert_non_null(p);
	assert_int_not_equal(pcap_compile(p, &prog, expr, 1,
	    PCAP_NETMASK_UNKNOWN), 0);
	snprintf(want, sizeof(want), "expression \"%s\": %s", expr,
	    pcap_geterr(p));
	pcap_close(p);
	snprintf(opt, sizeof(opt), "expression=%s", expr);
	refused(linktype, opt, want);
}

static void
test_bad_expressions(void **unused)
{
	(void)unused;
	refused_by_libpcap(1, DLT_EN10MB, "tcp prt 80");
	refused_by_libpcap(1, DLT_EN10MB, "tcp and udp");
	refused_by_libpcap(1, DLT_EN10MB, "host");
	refused_by_libpcap(12, DLT_RAW, "vlan 10");
	refused_by_libpcap(101, DLT_RAW, "vlan 10");
	refused_by_libpcap(9999, 9999, "tcp");
	/* libpcap 1.10's words; another version may put them otherwise. */
	if (strncmp(pcap_lib_version(), "libpcap version 1.10.", 21) == 0)
		refused(1, "expression=tcp prt 80", "expression \"tcp prt "
		    "80\": can't parse filter expression: syntax error");
}

/*
 * A long expression that is refused: the message quotes its first 64
 * bytes, not cut inside a UTF-8 sequence, so that the reason, which comes
 * after the quote, still fits in what the host keeps of a message.
 */
static void
refused_long(int linktype, const char *expr, const char *reason)
{
	char opt[2048], want[FAKE_TEXT];
	size_t cut = 64;

	assert_true(strlen(expr) > 600);
	while (((unsigned char)expr[cut] & 0xc0) == 0x80)
		cut--;
	snprintf(opt, sizeof(opt), "expression=%s", expr);
	snprintf(want, sizeof(want), "expression \"%.*s...\"%s", (int)cut,
	    expr, reason);
	refused(linktype, opt, want);
}

/* ": " and libpcap's reason for refusing expr on Ethernet, in reason. */
static void
libpcap_reason(const char *expr, char *reason, size_t size)
{
	struct bpf_program prog;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);

	assert_non_null(p);
	assert_int_not_equal(pcap_compile(p, &prog, expr, 1,
	    PCAP_NETMASK_UNKNOWN), 0);
	snprintf(reason, size, ": %s", pcap_geterr(p));
	pcap_close(p);
}

static void
test_long_expressions(void **unused)
{
	char reason[PCAP_ERRBUF_SIZE + 2];
	char ports[1024], expr[1200];
	size_t n = 0;

	(void)unused;
	for (unsigned p = 1; n < 700; p++)
		n += (size_t)snprintf(ports + n, sizeof(ports) - n,
		    "%stcp port %u", p > 1 ? " or " : "", p);
	snprintf(expr, sizeof(expr), "%s or tcp prt 80", ports);
	libpcap_reason(expr, reason, sizeof(reason));
	refused_long(1, expr, reason);
	snprintf(expr, sizeof(expr), "%s or ip or not ip", ports);
	refused_long(1, expr, " passes every frame: to pass every frame, "
	    "leave the filter out");
	snprintf(expr, sizeof(expr), "%s or inbound", ports);
	refused_long(1, expr, ": inbound and outbound need the kernel's "
	    "view of the frame (its direction), which the filter plugin does "
	    "not have; the capture's bpf key, run by the kernel, can test it");
	/* A two-byte character across the 64th byte is left out whole. */
	snprintf(expr, sizeof(expr), "%.63s\xc3\xa9%s", "tcp port 1 or tcp "
	    "port 2 or tcp port 3 or tcp port 4 or tcp port 5 or tcp port",
	    ports);
	assert_int_equal((unsigned char)expr[63], 0xc3);
	libpcap_reason(expr, reason, sizeof(reason));
	refused_long(1, expr, reason);
}

static void
test_empty_and_missing(void **unused)
{
	static const char empty[] = "expression: empty; to pass every "
	    "frame, leave the filter out";

	(void)unused;
	refused(1, NULL, "expression: required (a tcpdump expression)");
	refused(1, "expression=", empty);
	refused(1, "expression= \t ", empty);
	refused(1, "expression=ip or not ip", "expression \"ip or not ip\" "
	    "passes every frame: to pass every frame, leave the filter out");
	refused(12, "expression=ip or ip6 or not (ip or ip6)",
	    "expression \"ip or ip6 or not (ip or ip6)\" passes every frame: "
	    "to pass every frame, leave the filter out");
}

/*
 * An expression libpcap compiles into a load of what the kernel keeps
 * beside the frame, refused with why; in a part of the expression too,
 * where the rest would run and hide it.
 */
static void
refused_kernel(int linktype, const char *expr, const char *needs,
    const char *what)
{
	char opt[256], want[FAKE_TEXT];

	snprintf(opt, sizeof(opt), "expression=%s", expr);
	snprintf(want, sizeof(want), "expression \"%s\": %s the kernel's "
	    "view of the frame (%s), which the filter plugin does not have; "
	    "the capture's bpf key, run by the kernel, can test it", expr,
	    needs, what);
	refused(linktype, opt, want);
}

static void
test_kernel_metadata(void **unused)
{
	static const char *const dir_exprs[] = { "inbound", "outbound",
	    "not inbound", "udp or inbound", "tcp port 80 and not outbound",
	    NULL };
	static const char dir[] = "inbound and outbound need";
	static const char dir_what[] = "its direction";
	static const char ifx[] = "ifindex needs";
	static const char ifx_what[] = "its interface";

	(void)unused;
	for (int i = 0; dir_exprs[i] != NULL; i++) {
		refused_kernel(1, dir_exprs[i], dir, dir_what);
		refused_kernel(12, dir_exprs[i], dir, dir_what);
	}
	refused_kernel(1, "ifindex 1", ifx, ifx_what);
	refused_kernel(1, "udp or ifindex 2", ifx, ifx_what);
	/* Cooked v1 holds the direction, not the interface. */
	refused_kernel(113, "ifindex 1", ifx, ifx_what);
	/* Past radiotap's variable header: an indexed load (LD IND). */
	refused_kernel(127, "inbound", dir, dir_what);
}

static void
test_unknown_option(void **unused)
{
	static const char *const opts[] = { "expression=tcp",
	    "expresion=udp", NULL };
	static const char *const misspelt[] = { "expresion=tcp", NULL };
	struct fake_ctx f;

	(void)unused;
	fake_ctx_init(&f, opts);
	f.pub.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	assert_string_equal(fake_ctx_unasked(&f), "expresion=udp");
	assert_string_equal(f.error, "");
	assert_int_equal(f.nslots, 0);

	fake_ctx_init(&f, misspelt);
	f.pub.flags = RINGFAN_CTX_CHECK;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_FAIL);
	assert_string_equal(f.error,
	    "expression: required (a tcpdump expression)");
	assert_string_equal(fake_ctx_unasked(&f), "expresion=tcp");
}

/*
 * Two filters one after the other, each with its own expression and
 * counters, as two steps of a pipeline: the second sees only what the
 * first passed.
 */
static void
test_two_steps(void **unused)
{
	struct fake_ctx f1, f2;
	void *ip, *port;
	size_t ns = nsamples(&eth);
	uint64_t second = 0;

	(void)unused;
	ip = filter_up(&f1, 1, "ip");
	port = filter_up(&f2, 1, "tcp port 80");
	for (size_t i = 0; i < ns; i++) {
		struct view v;

		view(&eth, &eth.s[i], sample_cut(&eth, &eth.s[i]), &v);
		if (verdict(ip, &v)) {
			second++;
			(void)verdict(port, &v);
		}
	}
	/* ip: the two untagged IPv4 frames and the cut one. */
	assert_int_equal(fake_ctx_value(&f1, "matched"), 3);
	assert_int_equal(fake_ctx_value(&f1, "rejected"), ns - 3);
	assert_int_equal(second, 3);
	assert_int_equal(fake_ctx_value(&f2, "matched"), 1);
	assert_int_equal(fake_ctx_value(&f2, "rejected"), 2);
	filter_down(&f1, ip);
	filter_down(&f2, port);
}

/* pcap_compile() calls, counted (the test links with --wrap). */
static unsigned compiles;

int	__real_pcap_compile(pcap_t *, struct bpf_program *, const char *, int,
	    bpf_u_int32);
int	__wrap_pcap_compile(pcap_t *, struct bpf_program *, const char *, int,
	    bpf_u_int32);

int
__wrap_pcap_compile(pcap_t *p, struct bpf_program *prog, const char *expr,
    int optimize, bpf_u_int32 netmask)
{
	compiles++;
	return __real_pcap_compile(p, prog, expr, optimize, netmask);
}

/*
 * Validation compiles the expression once, and so does a worker, whose
 * check leaves it to open: a long compile is open's, which the stall watch
 * sees, and is not made twice.  A bad expression in a worker fails its
 * open, with validation's message.
 */
static void
test_compiles_once(void **unused)
{
	static const char *const good[] = { "expression=udp port 53", NULL };
	static const char *const bad[] = { "expression=udp prt 53", NULL };
	struct fake_ctx f;
	void *st = NULL;

	(void)unused;
	fake_ctx_init(&f, good);
	f.pub.flags = RINGFAN_CTX_CHECK;
	compiles = 0;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	assert_int_equal(compiles, 1);

	fake_ctx_init(&f, good);
	compiles = 0;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	assert_null(fake_ctx_unasked(&f));
	assert_int_equal(ringfan_plugin.open(&f.pub, &st), RINGFAN_OK);
	assert_int_equal(compiles, 1);
	ringfan_plugin.close(st);

	fake_ctx_init(&f, bad);
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	st = NULL;
	assert_int_equal(ringfan_plugin.open(&f.pub, &st), RINGFAN_FAIL);
	assert_string_equal(f.error, "expression \"udp prt 53\": can't parse "
	    "filter expression: syntax error");
	assert_null(st);
}

/* A frame of a link type other than the one compiled for: rejected. */
static void
test_other_linktype(void **unused)
{
	struct fake_ctx f;
	struct view v;
	void *st = filter_up(&f, 1, "tcp port 80");

	(void)unused;
	view(&eth, &eth.s[0], sample_cut(&eth, &eth.s[0]), &v);
	assert_int_equal(verdict(st, &v), 1);
	v.pkt.linktype = 113;
	assert_int_equal(verdict(st, &v), 0);
	assert_int_equal(fake_ctx_value(&f, "matched"), 1);
	assert_int_equal(fake_ctx_value(&f, "rejected"), 1);
	filter_down(&f, st);
}

/* A tagged frame longer than the snaplens of the two tests below. */
static const struct sample long_frame = { "stripped tag 10, tcp 80, "
    "100 bytes", b_vlan10_tcp80_long, 1, 0, 0 };

/*
 * A frame longer than the snaplen, which the host never hands over: the
 * copy with the tag put back holds the first snaplen bytes, no more.
 */
static void
test_beyond_snaplen(void **unused)
{
	static const char *const exprs[] = { "vlan 10",
	    "vlan 10 and tcp port 80", "vlan 10 and ip[40] = 0xab",
	    "vlan 10 and ip[100] = 0xab", NULL };
	static const int want[] = { 1, 1, 1, 0 };
	const struct sample *s = &long_frame;

	(void)unused;
	for (int x = 0; exprs[x] != NULL; x++) {
		struct fake_ctx f;
		struct bpf_program prog;
		struct view v, cut;
		void *st = filter_up_snap(&f, eth.linktype, 40, exprs[x]);

		oracle_compile(&eth, exprs[x], &prog);
		view(&eth, s, sample_cut(&eth, s), &v);
		assert_true(v.pkt.caplen > 64);
		/* The plugin keeps 64 bytes at least, whatever the snaplen. */
		view(&eth, s, 64, &cut);
		assert_int_equal(oracle(&prog, &cut), want[x]);
		assert_int_equal(verdict(st, &v), want[x]);
		assert_int_equal(fake_ctx_value(&f, "matched"), want[x]);
		filter_down(&f, st);
		pcap_freecode(&prog);
	}
}

/*
 * A frame the ring cut at the snaplen, its tag stripped: the tag goes back
 * in and the copy is cut at the snaplen again, as libpcap cuts a live frame
 * to its snapshot after it puts the tag back, and as pcapwriter writes it.
 * The verdict is the one of the frame as written, replayed with -r.
 */
static void
test_tag_at_snaplen(void **unused)
{
	static const char *const exprs[] = { "vlan 10 and ether[99] = 0xab",
	    "vlan 10 and ether[100] = 0xab", "vlan 10 and ether[103] = 0xab",
	    "vlan 10 and len = 158", NULL };
	static const int want[] = { 1, 0, 0, 1 };
	const struct sample *s = &long_frame;

	(void)unused;
	for (int x = 0; exprs[x] != NULL; x++) {
		struct fake_ctx f;
		struct bpf_program prog;
		struct pcap_pkthdr h;
		struct view v;
		void *st = filter_up_snap(&f, eth.linktype, 100, exprs[x]);

		oracle_compile(&eth, exprs[x], &prog);
		view(&eth, s, 100, &v);
		assert_int_equal(v.pkt.len, 154);
		/* libpcap's frame: 104 bytes with the tag, cut to 100. */
		assert_int_equal(v.wire_caplen, 104);
		h.caplen = 100;
		h.len = v.wire_len;
		assert_int_equal(pcap_offline_filter(&prog, &h, v.wire) != 0,
		    want[x]);
		assert_int_equal(verdict(st, &v), want[x]);
		assert_int_equal(fake_ctx_value(&f, "matched"), want[x]);
		filter_down(&f, st);
		pcap_freecode(&prog);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_ethernet),
		cmocka_unit_test(test_verdicts_raw),
		cmocka_unit_test(test_verdicts_sll),
		cmocka_unit_test(test_verdicts_loopback),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test_teardown(test_tcpdump, tcpdump_teardown),
		cmocka_unit_test(test_bad_expressions),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_long_expressions),
		cmocka_unit_test(test_kernel_metadata),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_compiles_once),
		cmocka_unit_test(test_two_steps),
		cmocka_unit_test(test_other_linktype),
		cmocka_unit_test(test_beyond_snaplen),
		cmocka_unit_test(test_tag_at_snaplen),
	};

	raw101 = raw12;
	raw101.name = "raw IP (101)";
	raw101.linktype = 101;
	loop = null;
	loop.name = "BSD loopback (LOOP)";
	loop.linktype = DLT_LOOP;
	loop.dlt = DLT_LOOP;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

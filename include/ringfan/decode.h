/*
 * ringfan packet decoder.
 *
 * One pass over a frame's headers, from the link layer to the transport
 * ports, for plugins that want the usual fields without writing a parser of
 * their own.  It is header-only (static inline): a plugin includes it after
 * <ringfan/plugin.h> and links against nothing.
 *
 *	struct ringfan_decoded d;
 *
 *	if (ringfan_decode(pkt, &d) == 0 && (d.flags & RINGFAN_DEC_L4))
 *		use(d.src, d.dst, d.sport, d.dport);
 *
 * Frames are untrusted: the decoder reads nothing beyond pkt->caplen, reads
 * bytes one by one (no unaligned loads), bounds every loop, and reports what
 * it could not decode in d->flags instead of failing.  decode.md, installed
 * in PREFIX/share/doc/ringfan, has the same reference in prose.
 *
 * The interface is ringfan_decode(), ringfan_decode_supports(),
 * ringfan_stripped_tag(), struct ringfan_decoded and the RINGFAN_ macros.
 * The ringfan_dec_ functions are their parts, for tests: they may change
 * or go in any release, so a plugin does not call them.
 */
#ifndef RINGFAN_DECODE_H
#define RINGFAN_DECODE_H

#include <stdint.h>
#include <string.h>

#include <ringfan/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif
/*
 * The functions below are C, casts and NULL included, in a plugin built as
 * C++ too: the C++ style warnings (which GCC leaves out in extern "C"
 * already) are for the plugin's own code, not for them.
 */
#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wold-style-cast"
#pragma clang diagnostic ignored "-Wzero-as-null-pointer-constant"
#endif

/*
 * Link types the decoder knows: values of pkt->linktype and ctx->linktype,
 * which are libpcap's DLT_ numbers (pcap headers are not needed).
 */
#define RINGFAN_DLT_NULL	0	/* BSD loopback, 4-byte family */
#define RINGFAN_DLT_EN10MB	1	/* Ethernet */
#define RINGFAN_DLT_RAW		12	/* raw IP: DLT_RAW on most systems */
#define RINGFAN_DLT_RAW_14	14	/* raw IP: DLT_RAW on OpenBSD */
#define RINGFAN_DLT_RAW_101	101	/* raw IP: LINKTYPE_RAW, in files */
#define RINGFAN_DLT_LOOP	108	/* BSD loopback, as NULL */
#define RINGFAN_DLT_LINUX_SLL	113	/* Linux cooked capture v1 */
#define RINGFAN_DLT_IPV4	228	/* raw IPv4 only */
#define RINGFAN_DLT_IPV6	229	/* raw IPv6 only */
#define RINGFAN_DLT_LINUX_SLL2	276	/* Linux cooked capture v2 */

/* Values of ringfan_decoded.ethertype the decoder goes on from. */
#define RINGFAN_ETH_IPV4	0x0800
#define RINGFAN_ETH_ARP		0x0806
#define RINGFAN_ETH_IPV6	0x86dd

/* Bits of ringfan_decoded.flags. */
#define RINGFAN_DEC_TRUNCATED	0x0001	/* a header was cut by caplen */
#define RINGFAN_DEC_MALFORMED	0x0002	/* a header field is impossible */
#define RINGFAN_DEC_FRAGMENT	0x0004	/* an IP fragment */
#define RINGFAN_DEC_LATER_FRAGMENT 0x0008 /* fragment offset != 0 */
#define RINGFAN_DEC_MORE_FRAGMENTS 0x0010 /* the MF bit: not the last */
#define RINGFAN_DEC_UNKNOWN_LINK 0x0020	/* pkt->linktype not known */
#define RINGFAN_DEC_PROTO	0x0040	/* proto is valid */
#define RINGFAN_DEC_L4		0x0080	/* sport, dport (tcp_flags) valid */

/* Bits of ringfan_decoded.ip6_ext: the IPv6 extension headers passed. */
#define RINGFAN_DEC_EXT_HOPOPTS	0x01	/* hop-by-hop options (0) */
#define RINGFAN_DEC_EXT_ROUTING	0x02	/* routing (43) */
#define RINGFAN_DEC_EXT_FRAGMENT 0x04	/* fragment (44) */
#define RINGFAN_DEC_EXT_DSTOPTS	0x08	/* destination options (60) */
#define RINGFAN_DEC_EXT_AH	0x10	/* authentication header (51) */

/*
 * The longest chain of IPv6 extension headers walked.  No real packet has
 * more; on a longer chain the decoder gives up (proto stays unset) rather
 * than spend its time there.
 */
#define RINGFAN_DEC_MAX_EXT	8

/*
 * What ringfan_decode() found.  Every field is zero unless the header that
 * holds it was read, so a field is only meaningful with its flag or layer:
 * ports with RINGFAN_DEC_L4, proto with RINGFAN_DEC_PROTO, the IP fields
 * with ip_version != 0.  Multi-byte numbers are in host order; addresses
 * are left in network order.  The struct has no padding (80 bytes), so two
 * results compare with memcmp().
 */
struct ringfan_decoded {
	uint32_t	flags;		/* RINGFAN_DEC_* */
	/*
	 * The network-layer protocol after the link header and any VLAN
	 * tags, as found (0x0800, 0x86dd, 0x0806, or any other value,
	 * including an 802.3 length).  Links without an EtherType set it
	 * from what they do have: raw IP from the version nibble, NULL and
	 * LOOP from the address family, IPV4 and IPV6 from the link type.
	 * 0 when the link header was cut or names no protocol the decoder
	 * maps.  A tag cut short leaves its TPID (0x8100, ...) here.
	 */
	uint16_t	ethertype;
	/*
	 * VLAN ids (the 12 low bits of the TCI) of the first two tags,
	 * outermost first; nvlan below counts them all.  A tag the kernel
	 * stripped (pkt->flags & RINGFAN_PKT_VLAN_VALID, in pkt->vlan_tci)
	 * is the outermost; tags in the frame follow, with TPID 0x8100,
	 * 0x88a8 or 0x9100, after Ethernet and both cooked headers.  The
	 * stripped tag is counted only once the link header is whole.
	 */
	uint16_t	vlan[2];
	/*
	 * With RINGFAN_DEC_FRAGMENT: the fragment's offset in bytes, and
	 * frag_id below.
	 */
	uint16_t	frag_off;
	/*
	 * With RINGFAN_DEC_L4: TCP, UDP and SCTP ports; for ICMP (1) and
	 * ICMPv6 (58), sport is the type and dport the code.
	 */
	uint16_t	sport;
	uint16_t	dport;
	uint8_t		nvlan;		/* all the tags, up to 255 */
	uint8_t		ip_version;	/* 4 or 6: that fixed header read */
	/*
	 * With RINGFAN_DEC_PROTO: the upper-layer protocol number.  IPv4:
	 * the header's protocol field.  IPv6: the Next Header that ends the
	 * chain of extension headers (50 ESP and 59 no next header end it
	 * too); in a later fragment, the one the fragment header names.
	 * It is set as soon as it is read, before the length checks, so it
	 * can be valid with MALFORMED or TRUNCATED and no L4 header.
	 * Without the flag it is 0, which is not the hop-by-hop header:
	 * ip6_ext says which extension headers were there.
	 */
	uint8_t		proto;
	uint8_t		ip6_ext;	/* RINGFAN_DEC_EXT_* */
	uint8_t		tos;		/* IPv4 TOS, IPv6 traffic class */
	uint8_t		ttl;		/* IPv4 TTL, IPv6 hop limit */
	/*
	 * TCP byte 13, with RINGFAN_DEC_L4 and proto 6: CWR 0x80, ECE 0x40,
	 * URG 0x20, ACK 0x10, PSH 0x08, RST 0x04, SYN 0x02, FIN 0x01 (a SYN
	 * without ACK: (tcp_flags & 0x12) == 0x02).
	 */
	uint8_t		tcp_flags;
	uint8_t		reserved;	/* 0 */
	/*
	 * IPv4: the total length.  IPv6: 40 + the payload length.  A length
	 * field of 0 (IPv4 from a TSO sender; in IPv6 with any next header
	 * but 59, none: a jumbogram, or a GSO packet of more than 64 KiB,
	 * which Linux sends without the jumbo option) means the packet runs
	 * to the end of the frame: this is then max(len, caplen) - l3_off.
	 */
	uint32_t	ip_len;
	uint32_t	flow_label;	/* IPv6 only */
	/* With RINGFAN_DEC_FRAGMENT: 16 bits in IPv4, 32 in IPv6. */
	uint32_t	frag_id;
	/*
	 * Offsets into pkt->data.  l3_off: the network header, after the
	 * link header and tags.  l4_off: the upper-layer header, after the
	 * IP header, its options and IPv6 extension headers.  payload_off:
	 * the first byte after the last header decoded: after the TCP, UDP,
	 * SCTP or 8-byte ICMP header; where the decoder stopped otherwise
	 * (an unknown protocol, GRE, ESP, a later fragment, a cut header).
	 * An offset advances only past a whole header; one the decoder did
	 * not reach equals the one before it, so l3_off <= l4_off <=
	 * payload_off <= caplen always holds.  The payload the IP header
	 * declares is l3_off + ip_len - payload_off bytes (with L4); the
	 * part of it captured ends at caplen.
	 */
	uint32_t	l3_off;
	uint32_t	l4_off;
	uint32_t	payload_off;
	uint8_t		src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		dst[16];
};

static inline uint16_t
ringfan_dec_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
ringfan_dec_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Whether n bytes from off lie within caplen; off may already be past it. */
static inline int
ringfan_dec_has(uint32_t caplen, uint64_t off, uint32_t n)
{
	return off <= caplen && caplen - off >= n;
}

static inline void
ringfan_dec_vlan(struct ringfan_decoded *d, uint16_t tci)
{
	if (d->nvlan < 2)
		d->vlan[d->nvlan] = tci & 0x0fff;
	if (d->nvlan < 255)
		d->nvlan++;
}

/*
 * The header after IP at d->l4_off, which ends (by the IP lengths) at end.
 * The minimum sizes come first, so that a header that cannot fit in the IP
 * packet is MALFORMED even when the capture also cut it.
 */
static inline void
ringfan_dec_l4(const uint8_t *p, uint32_t caplen, uint64_t end,
    struct ringfan_decoded *d)
{
	const uint8_t *q;
	uint32_t hlen;

	switch (d->proto) {
	case 6:		/* TCP */
		hlen = 20;
		break;
	case 17:	/* UDP */
		hlen = 8;
		break;
	case 1:		/* ICMP */
	case 58:	/* ICMPv6 */
		hlen = 8;
		break;
	case 132:	/* SCTP: the common header */
		hlen = 12;
		break;
	default:	/* GRE (47) and the rest: not looked into */
		return;
	}
	if (d->l4_off + (uint64_t)hlen > end) {
		d->flags |= RINGFAN_DEC_MALFORMED;
		return;
	}
	if (!ringfan_dec_has(caplen, d->l4_off, hlen)) {
		d->flags |= RINGFAN_DEC_TRUNCATED;
		return;
	}
	q = p + d->l4_off;
	d->flags |= RINGFAN_DEC_L4;
	if (d->proto == 1 || d->proto == 58) {
		d->sport = q[0];
		d->dport = q[1];
	} else {
		d->sport = ringfan_dec_be16(q);
		d->dport = ringfan_dec_be16(q + 2);
	}
	if (d->proto == 6) {
		d->tcp_flags = q[13];
		hlen = (uint32_t)(q[12] >> 4) * 4;
		if (hlen < 20 || d->l4_off + (uint64_t)hlen > end) {
			d->flags |= RINGFAN_DEC_MALFORMED;
			return;
		}
		/* The ports are valid; the options are not all there. */
		if (!ringfan_dec_has(caplen, d->l4_off, hlen)) {
			d->flags |= RINGFAN_DEC_TRUNCATED;
			return;
		}
	}
	d->payload_off = d->l4_off + hlen;
}

/* The fixed IP header at d->l3_off, or NULL when it is cut or not IP. */
static inline const uint8_t *
ringfan_dec_ip(const uint8_t *p, uint32_t caplen, uint32_t len,
    uint8_t version, struct ringfan_decoded *d)
{
	if (!ringfan_dec_has(caplen, d->l3_off, len)) {
		d->flags |= RINGFAN_DEC_TRUNCATED;
		return NULL;
	}
	if (p[d->l3_off] >> 4 != version) {
		d->flags |= RINGFAN_DEC_MALFORMED;
		return NULL;
	}
	d->ip_version = version;
	return p + d->l3_off;
}

static inline void
ringfan_dec_ipv4(const uint8_t *p, uint32_t caplen, uint32_t wire,
    struct ringfan_decoded *d)
{
	const uint8_t *q;
	uint32_t hlen;
	uint16_t frag;

	if ((q = ringfan_dec_ip(p, caplen, 20, 4, d)) == NULL)
		return;
	d->tos = q[1];
	d->ip_len = ringfan_dec_be16(q + 2);
	if (d->ip_len == 0)
		d->ip_len = wire - d->l3_off;
	d->ttl = q[8];
	d->proto = q[9];
	d->flags |= RINGFAN_DEC_PROTO;
	memcpy(d->src, q + 12, 4);
	memcpy(d->dst, q + 16, 4);
	frag = ringfan_dec_be16(q + 6);
	if (frag & 0x3fff) {		/* MF or an offset; DF is not */
		d->flags |= RINGFAN_DEC_FRAGMENT;
		d->frag_id = ringfan_dec_be16(q + 4);
		d->frag_off = (uint16_t)((frag & 0x1fff) * 8);
		if (frag & 0x2000)
			d->flags |= RINGFAN_DEC_MORE_FRAGMENTS;
		if (d->frag_off != 0)
			d->flags |= RINGFAN_DEC_LATER_FRAGMENT;
	}
	hlen = (uint32_t)(q[0] & 0x0f) * 4;
	if (hlen < 20 || d->ip_len < hlen) {
		d->flags |= RINGFAN_DEC_MALFORMED;
		return;
	}
	if (!ringfan_dec_has(caplen, d->l3_off, hlen)) {
		d->flags |= RINGFAN_DEC_TRUNCATED;
		return;
	}
	d->l4_off = d->payload_off = d->l3_off + hlen;
	/* A later fragment starts with data, not with an L4 header. */
	if (!(d->flags & RINGFAN_DEC_LATER_FRAGMENT))
		ringfan_dec_l4(p, caplen, (uint64_t)d->l3_off + d->ip_len, d);
}

static inline void
ringfan_dec_ipv6(const uint8_t *p, uint32_t caplen, uint32_t wire,
    struct ringfan_decoded *d)
{
	const uint8_t *q;
	uint64_t off, end;
	uint32_t plen, need;
	uint16_t frag;
	uint8_t nh, ext;

	if ((q = ringfan_dec_ip(p, caplen, 40, 6, d)) == NULL)
		return;
	d->tos = (uint8_t)((q[0] & 0x0f) << 4 | q[1] >> 4);
	d->flow_label = (uint32_t)(q[1] & 0x0f) << 16 |
	    ringfan_dec_be16(q + 2);
	plen = ringfan_dec_be16(q + 4);
	nh = q[6];
	d->ttl = q[7];
	memcpy(d->src, q + 8, 16);
	memcpy(d->dst, q + 24, 16);
	/* 0 and a next header: a jumbogram, or a GSO packet past 64 KiB. */
	d->ip_len = plen == 0 && nh != 59 ? wire - d->l3_off : 40 + plen;
	end = (uint64_t)d->l3_off + d->ip_len;
	off = d->l3_off + 40;
	for (int n = 0;; n++) {
		switch (nh) {
		case 0:
			ext = RINGFAN_DEC_EXT_HOPOPTS;
			break;
		case 43:
			ext = RINGFAN_DEC_EXT_ROUTING;
			break;
		case 44:
			ext = RINGFAN_DEC_EXT_FRAGMENT;
			break;
		case 51:
			ext = RINGFAN_DEC_EXT_AH;
			break;
		case 60:
			ext = RINGFAN_DEC_EXT_DSTOPTS;
			break;
		default:	/* the upper layer, ESP (50), none (59) */
			goto upper;
		}
		if (n == RINGFAN_DEC_MAX_EXT)
			return;
		need = nh == 44 ? 8 : 2;
		if (off + need > end) {
			d->flags |= RINGFAN_DEC_MALFORMED;
			return;
		}
		if (!ringfan_dec_has(caplen, off, need)) {
			d->flags |= RINGFAN_DEC_TRUNCATED;
			return;
		}
		d->ip6_ext |= ext;
		q = p + off;
		nh = q[0];
		if (ext == RINGFAN_DEC_EXT_AH) {
			off += ((uint32_t)q[1] + 2) * 4;
			continue;
		}
		if (ext != RINGFAN_DEC_EXT_FRAGMENT) {
			off += ((uint32_t)q[1] + 1) * 8;
			continue;
		}
		off += 8;
		/* Offset in 8-byte units from bit 3, then M in bit 0. */
		frag = ringfan_dec_be16(q + 2);
		if ((frag & 0xfff9) == 0)
			continue;	/* an atomic fragment: whole */
		if (d->flags & RINGFAN_DEC_FRAGMENT) {
			/* A second one: the fields stay the first one's. */
			d->flags |= RINGFAN_DEC_MALFORMED;
			return;
		}
		d->flags |= RINGFAN_DEC_FRAGMENT;
		d->frag_id = ringfan_dec_be32(q + 4);
		d->frag_off = frag & 0xfff8;
		if (frag & 1)
			d->flags |= RINGFAN_DEC_MORE_FRAGMENTS;
		if (d->frag_off != 0) {
			/* What follows is data: nh names its protocol. */
			d->flags |= RINGFAN_DEC_LATER_FRAGMENT;
			break;
		}
	}
upper:
	d->proto = nh;
	d->flags |= RINGFAN_DEC_PROTO;
	if (off > end) {
		d->flags |= RINGFAN_DEC_MALFORMED;
		return;
	}
	if (off > caplen) {
		d->flags |= RINGFAN_DEC_TRUNCATED;
		return;
	}
	d->l4_off = d->payload_off = (uint32_t)off;
	if (!(d->flags & RINGFAN_DEC_LATER_FRAGMENT))
		ringfan_dec_l4(p, caplen, end, d);
}

/* A link header of hlen bytes with the EtherType at `at`. */
static inline int
ringfan_dec_type(const uint8_t *p, uint32_t caplen, uint32_t at,
    uint32_t hlen, struct ringfan_decoded *d, uint32_t *off)
{
	*off = hlen;
	if (caplen < hlen)
		return -1;
	d->ethertype = ringfan_dec_be16(p + at);
	return 1;
}

/*
 * A VLAN tag the kernel stripped (RINGFAN_PKT_VLAN_VALID), as libpcap puts
 * it back into a frame it hands to tcpdump or writes to a file: its four
 * bytes (the TPID, 0x8100 unless the kernel named another, then the TCI)
 * into tag[], and the offset in pkt->data where they go, before the
 * EtherType: 12 on Ethernet, 14 on Linux cooked v1.  -1 when nothing goes
 * back: no stripped tag, another link type, or a frame cut before that
 * offset.  A frame with the tag put back is four bytes longer, on the
 * wire as captured.
 */
static inline int
ringfan_stripped_tag(const struct ringfan_packet *pkt, uint8_t tag[4])
{
	uint32_t off;
	uint16_t tpid;

	if (!(pkt->flags & RINGFAN_PKT_VLAN_VALID))
		return -1;
	if (pkt->linktype == RINGFAN_DLT_EN10MB)
		off = 12;
	else if (pkt->linktype == RINGFAN_DLT_LINUX_SLL)
		off = 14;
	else
		return -1;
	if (pkt->caplen < off)
		return -1;
	tpid = pkt->flags & RINGFAN_PKT_TPID_VALID ? pkt->vlan_tpid : 0x8100;
	tag[0] = (uint8_t)(tpid >> 8);
	tag[1] = (uint8_t)tpid;
	tag[2] = (uint8_t)(pkt->vlan_tci >> 8);
	tag[3] = (uint8_t)pkt->vlan_tci;
	return (int)off;
}

/*
 * Whether ringfan_decode() knows this DLT_ link type: for a plugin's check
 * (or, without one, its open), to refuse another with RINGFAN_FAIL.
 */
static inline int
ringfan_decode_supports(int linktype)
{
	/*
	 * The cases of ringfan_dec_link() again: sharing that function
	 * would keep compilers from inlining it into ringfan_decode(), which
	 * then costs twice as much.  tests/unit/test_decode.c checks that
	 * the two lists agree.
	 */
	switch (linktype) {
	case RINGFAN_DLT_NULL:
	case RINGFAN_DLT_EN10MB:
	case RINGFAN_DLT_RAW:
	case RINGFAN_DLT_RAW_14:
	case RINGFAN_DLT_RAW_101:
	case RINGFAN_DLT_LOOP:
	case RINGFAN_DLT_LINUX_SLL:
	case RINGFAN_DLT_IPV4:
	case RINGFAN_DLT_IPV6:
	case RINGFAN_DLT_LINUX_SLL2:
		return 1;
	}
	return 0;
}

/*
 * The link header: where the network header starts, and its EtherType (or
 * what stands for one).  Returns 1 when VLAN tags may follow (Ethernet and
 * the cooked headers), 0 when they cannot, -1 when the link header is cut,
 * -2 when the link type is not one of the RINGFAN_DLT_ values.
 */
static inline int
ringfan_dec_link(const struct ringfan_packet *pkt, struct ringfan_decoded *d,
    uint32_t *off)
{
	const uint8_t *p = pkt->data;
	uint32_t caplen = pkt->caplen, family;

	switch (pkt->linktype) {
	/* The protocol is last in Ethernet and SLL, first in SLL2. */
	case RINGFAN_DLT_EN10MB:
		return ringfan_dec_type(p, caplen, 12, 14, d, off);
	case RINGFAN_DLT_LINUX_SLL:
		return ringfan_dec_type(p, caplen, 14, 16, d, off);
	case RINGFAN_DLT_LINUX_SLL2:
		return ringfan_dec_type(p, caplen, 0, 20, d, off);
	case RINGFAN_DLT_NULL:
	case RINGFAN_DLT_LOOP:
		/*
		 * NULL holds the family in the writer's byte order, LOOP in
		 * network order; families are small, so either order reads
		 * right whatever the link type says.
		 */
		*off = 4;
		if (caplen < 4)
			return -1;
		family = ringfan_dec_be32(p);
		if (family > 0xffff)
			family = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
			    (uint32_t)p[1] << 8 | p[0];
		/* AF_INET is 2 everywhere; AF_INET6 differs between BSDs. */
		if (family == 2)
			d->ethertype = RINGFAN_ETH_IPV4;
		else if (family == 24 || family == 28 || family == 30)
			d->ethertype = RINGFAN_ETH_IPV6;
		break;
	case RINGFAN_DLT_IPV4:
		*off = 0;
		d->ethertype = RINGFAN_ETH_IPV4;
		break;
	case RINGFAN_DLT_IPV6:
		*off = 0;
		d->ethertype = RINGFAN_ETH_IPV6;
		break;
	case RINGFAN_DLT_RAW:
	case RINGFAN_DLT_RAW_14:
	case RINGFAN_DLT_RAW_101:
		/* The version nibble decides. */
		*off = 0;
		if (caplen < 1)
			return -1;
		if (p[0] >> 4 == 4)
			d->ethertype = RINGFAN_ETH_IPV4;
		else if (p[0] >> 4 == 6)
			d->ethertype = RINGFAN_ETH_IPV6;
		else
			d->flags |= RINGFAN_DEC_MALFORMED;
		break;
	default:
		return -2;
	}
	return 0;
}

/*
 * The frame most links carry, in one straight pass: Ethernet with no tag
 * (in the frame or stripped), then IPv4 without options and not a
 * fragment, or IPv6 without extension headers, then a TCP or UDP header
 * that is whole in the capture and within the IP packet's length.  Returns
 * 1 with *d (zeroed by the caller) filled exactly as ringfan_dec_general()
 * fills it for the same frame, 0 for any other frame, *d untouched: every
 * test comes before the first store.  tests/unit/test_decode.c and
 * tests/fuzz/fuzz_decode.c hold the two to each other.
 */
static inline int
ringfan_dec_common(const struct ringfan_packet *pkt,
    struct ringfan_decoded *d)
{
	const uint8_t *p = pkt->data, *q, *t;
	uint32_t caplen = pkt->caplen, l4, hlen, ip_len;
	uint16_t et;
	uint8_t proto;

	/*
	 * A pointer is formed only into the frame: q once it holds an IPv4
	 * header and UDP, t once it holds the whole L4 header.
	 */
	if (pkt->linktype != RINGFAN_DLT_EN10MB || caplen < 14 + 20 + 8 ||
	    (pkt->flags & RINGFAN_PKT_VLAN_VALID))
		return 0;
	q = p + 14;
	et = ringfan_dec_be16(p + 12);
	if (et == RINGFAN_ETH_IPV4) {
		/* Version 4, 20 bytes; neither MF nor an offset. */
		if (q[0] != 0x45 || (ringfan_dec_be16(q + 6) & 0x3fff) != 0)
			return 0;
		ip_len = ringfan_dec_be16(q + 2);	/* 0 fails below */
		proto = q[9];
		l4 = 14 + 20;
	} else if (et == RINGFAN_ETH_IPV6) {
		if (q[0] >> 4 != 6)
			return 0;
		ip_len = 40 + (uint32_t)ringfan_dec_be16(q + 4);
		proto = q[6];
		l4 = 14 + 40;
	} else
		return 0;
	if (proto == 17)
		hlen = 8;
	else if (proto == 6 && caplen >= l4 + 20 && p[l4 + 12] >> 4 >= 5)
		hlen = (uint32_t)(p[l4 + 12] >> 4) * 4;
	else
		return 0;
	if (l4 + hlen > caplen || l4 - 14 + hlen > ip_len)
		return 0;
	t = p + l4;
	d->flags = RINGFAN_DEC_PROTO | RINGFAN_DEC_L4;
	d->ethertype = et;
	d->proto = proto;
	d->ip_len = ip_len;
	d->l3_off = 14;
	d->l4_off = l4;
	d->payload_off = l4 + hlen;
	d->sport = ringfan_dec_be16(t);
	d->dport = ringfan_dec_be16(t + 2);
	if (proto == 6)
		d->tcp_flags = t[13];
	if (et == RINGFAN_ETH_IPV4) {
		d->ip_version = 4;
		d->tos = q[1];
		d->ttl = q[8];
		memcpy(d->src, q + 12, 4);
		memcpy(d->dst, q + 16, 4);
	} else {
		d->ip_version = 6;
		d->tos = (uint8_t)((q[0] & 0x0f) << 4 | q[1] >> 4);
		d->flow_label = (uint32_t)(q[1] & 0x0f) << 16 |
		    ringfan_dec_be16(q + 2);
		d->ttl = q[7];
		memcpy(d->src, q + 8, 16);
		memcpy(d->dst, q + 24, 16);
	}
	return 1;
}

/*
 * ringfan_decode() without its straight pass: every frame the long way,
 * into a *d the caller zeroed.  Tests compare the two; a plugin calls
 * ringfan_decode().
 */
static inline int
ringfan_dec_general(const struct ringfan_packet *pkt,
    struct ringfan_decoded *d)
{
	const uint8_t *p = pkt->data;
	uint32_t caplen = pkt->caplen, off;
	uint32_t wire = pkt->len > caplen ? pkt->len : caplen;
	uint16_t et;
	int tags;

	if ((tags = ringfan_dec_link(pkt, d, &off)) == -2) {
		d->flags = RINGFAN_DEC_UNKNOWN_LINK;
		return -1;
	}
	if (tags == -1) {
		d->flags |= RINGFAN_DEC_TRUNCATED;
		return 0;
	}
	if (pkt->flags & RINGFAN_PKT_VLAN_VALID)
		ringfan_dec_vlan(d, pkt->vlan_tci);
	/* 802.1Q, 802.1ad and the older QinQ TPID, as many as there are. */
	for (et = d->ethertype; tags &&
	    (et == 0x8100 || et == 0x88a8 || et == 0x9100); off += 4) {
		if (!ringfan_dec_has(caplen, off, 4)) {
			d->flags |= RINGFAN_DEC_TRUNCATED;
			break;
		}
		ringfan_dec_vlan(d, ringfan_dec_be16(p + off));
		et = d->ethertype = ringfan_dec_be16(p + off + 2);
	}
	d->l3_off = d->l4_off = d->payload_off = off;
	if (d->flags & RINGFAN_DEC_TRUNCATED)
		return 0;
	if (et == RINGFAN_ETH_IPV4)
		ringfan_dec_ipv4(p, caplen, wire, d);
	else if (et == RINGFAN_ETH_IPV6)
		ringfan_dec_ipv6(p, caplen, wire, d);
	return 0;
}

/* A zeroed result, for ringfan_decode() and tests that call the parts. */
static inline void
ringfan_dec_zero(struct ringfan_decoded *d)
{
	/*
	 * Copied rather than memset: a compiler then keeps a caller's local
	 * struct in registers and drops the fields nobody reads, where a
	 * memset became a string store costing more than the decoding.
	 */
	static struct ringfan_decoded zero;	/* never written */

	*d = zero;
}

/*
 * Decodes pkt->data[0 .. pkt->caplen) as pkt->linktype says into *d, which
 * it clears first.  Returns 0, also when the frame is cut or malformed (see
 * d->flags); -1 with RINGFAN_DEC_UNKNOWN_LINK when the link type is not one
 * of the RINGFAN_DLT_ values above.
 */
static inline int
ringfan_decode(const struct ringfan_packet *pkt, struct ringfan_decoded *d)
{
	ringfan_dec_zero(d);
	if (ringfan_dec_common(pkt, d))
		return 0;
	return ringfan_dec_general(pkt, d);
}

#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic pop
#endif
#ifdef __cplusplus
}
#endif

#endif /* RINGFAN_DECODE_H */

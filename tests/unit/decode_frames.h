/*
 * The frames of the decoder's unit test (test_decode.c), which also seed its
 * fuzz target (tests/fuzz/seed_decode.c): every link type, tag and header
 * the decoder knows, each with the fields expected of it.
 */
#ifndef DECODE_FRAMES_H
#define DECODE_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

/*
 * The link types fuzz_decode picks from with the low 4 bits of an input's
 * first byte: every one the decoder knows, Ethernet more often, and one it
 * does not know.
 */
static const uint16_t decode_linktypes[16] = {
	RINGFAN_DLT_EN10MB, RINGFAN_DLT_LINUX_SLL, RINGFAN_DLT_LINUX_SLL2,
	RINGFAN_DLT_RAW, RINGFAN_DLT_RAW_14, RINGFAN_DLT_RAW_101,
	RINGFAN_DLT_IPV4, RINGFAN_DLT_IPV6, RINGFAN_DLT_NULL, RINGFAN_DLT_LOOP,
	147, RINGFAN_DLT_EN10MB, RINGFAN_DLT_EN10MB, RINGFAN_DLT_EN10MB,
	RINGFAN_DLT_LINUX_SLL, RINGFAN_DLT_LINUX_SLL2,
};

/*
 * A frame is a list of items, each one header (or filler) written after the
 * last.  Arguments a..d, per kind:
 */
enum item_kind {
	END,
	ETH,	/* a: EtherType (or TPID) after the MAC addresses */
	SLL,	/* a: protocol; cooked v1 */
	SLL2,	/* a: protocol; cooked v2 */
	FAM_LE,	/* a: NULL/LOOP family, little-endian */
	FAM_BE,	/* a: the same, big-endian */
	TAG,	/* a: TCI, b: the EtherType after it */
	IP4,	/* a: protocol, b: first byte (0: 0x45), c: flags and
		   offset, d: total length (0: the real one) */
	IP6,	/* a: next header, b: payload length (0: the real one) */
	EXT,	/* a: next header, b: length byte; hop/routing/dstopts */
	AH,	/* a: next header, b: length byte */
	FRAG6,	/* a: next header, b: offset and M, c: identification */
	TCP,	/* a, b: ports, c: flags, d: data offset (0: 5) */
	UDP,	/* a, b: ports */
	ICMP,	/* a: type, b: code; also ICMPv6 */
	SCTP,	/* a, b: ports */
	GRE,	/* a: protocol type */
	PAY,	/* a: bytes of payload, counted in the IP lengths */
	PAD	/* a: bytes of link padding, not counted */
};

#define ZERO	0x10000u	/* a length field of 0, not the real length */

struct item {
	int		 kind;
	uint32_t	 a, b, c, d;
};

struct row {
	const char	*name;
	int		 linktype;
	int		 stripped;	/* a tag in pkt->vlan_tci */
	uint16_t	 tci;
	struct item	 items[14];
	/*
	 * How far the decoder reads in the whole frame: payload_off unless
	 * it stopped at a field it had to read first (0 here).
	 */
	uint32_t	 need;
	struct ringfan_decoded want;	/* IP constants: see expect() */
};

#define V4	RINGFAN_DLT_IPV4
#define V6	RINGFAN_DLT_IPV6
#define ETHER	RINGFAN_DLT_EN10MB
#define PR	RINGFAN_DEC_PROTO
#define L4	RINGFAN_DEC_L4
#define FR	RINGFAN_DEC_FRAGMENT
#define LATER	RINGFAN_DEC_LATER_FRAGMENT
#define MF	RINGFAN_DEC_MORE_FRAGMENTS
#define BAD	RINGFAN_DEC_MALFORMED
#define X_HOP	RINGFAN_DEC_EXT_HOPOPTS
#define X_RT	RINGFAN_DEC_EXT_ROUTING
#define X_FR	RINGFAN_DEC_EXT_FRAGMENT
#define X_DST	RINGFAN_DEC_EXT_DSTOPTS
#define X_AH	RINGFAN_DEC_EXT_AH

static const struct row rows[] = {
	/* Ethernet, tags. */
	{ "ether ipv4 tcp", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6 }, { TCP, 40000, 80, 0x12 },
	      { PAY, 6 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 46, .l3_off = 14, .l4_off = 34,
	      .payload_off = 54, .sport = 40000, .dport = 80,
	      .tcp_flags = 0x12 } },
	{ "ether tcp options", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6 }, { TCP, 1, 2, 0x02, 8 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 52, .l3_off = 14, .l4_off = 34,
	      .payload_off = 66, .sport = 1, .dport = 2, .tcp_flags = 2 } },
	{ "ether ipv6 tcp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 6 }, { TCP, 443, 50000, 0x18, 6 },
	      { PAY, 5 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip_len = 69, .l3_off = 14, .l4_off = 54,
	      .payload_off = 78, .sport = 443, .dport = 50000,
	      .tcp_flags = 0x18 } },
	{ "ether ipv6 udp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 17 }, { UDP, 53, 3333 }, { PAY, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip_len = 50, .l3_off = 14, .l4_off = 54,
	      .payload_off = 62, .sport = 53, .dport = 3333 } },
	{ "ether 802.1q ipv4 udp", ETHER, 0, 0,
	    { { ETH, 0x8100 }, { TAG, 0x2064, 0x0800 }, { IP4, 17 },
	      { UDP, 1111, 2222 }, { PAY, 4 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .nvlan = 1,
	      .vlan = { 100 }, .ip_version = 4, .proto = 17, .ip_len = 32,
	      .l3_off = 18, .l4_off = 38, .payload_off = 46, .sport = 1111,
	      .dport = 2222 } },
	{ "ether qinq 88a8 ipv6 udp", ETHER, 0, 0,
	    { { ETH, 0x88a8 }, { TAG, 200, 0x8100 }, { TAG, 300, 0x86dd },
	      { IP6, 17 }, { UDP, 1111, 2222 }, { PAY, 3 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .nvlan = 2,
	      .vlan = { 200, 300 }, .ip_version = 6, .proto = 17,
	      .ip_len = 51, .l3_off = 22, .l4_off = 62, .payload_off = 70,
	      .sport = 1111, .dport = 2222 } },
	{ "ether three tags 9100 arp", ETHER, 0, 0,
	    { { ETH, 0x9100 }, { TAG, 10, 0x88a8 }, { TAG, 20, 0x8100 },
	      { TAG, 30, 0x0806 }, { PAY, 28 } }, 0,
	    { .ethertype = 0x0806, .nvlan = 3, .vlan = { 10, 20 },
	      .l3_off = 26, .l4_off = 26, .payload_off = 26 } },
	{ "ether stripped and in-frame tag icmp", ETHER, 1, 0xe005,
	    { { ETH, 0x8100 }, { TAG, 7, 0x0800 }, { IP4, 1 },
	      { ICMP, 8, 0 }, { PAY, 8 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .nvlan = 2,
	      .vlan = { 5, 7 }, .ip_version = 4, .proto = 1, .ip_len = 36,
	      .l3_off = 18, .l4_off = 38, .payload_off = 46, .sport = 8 } },
	{ "ether stripped tag tcp", ETHER, 1, 0x0fff,
	    { { ETH, 0x0800 }, { IP4, 6 }, { TCP, 22, 50000, 0x10 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .nvlan = 1,
	      .vlan = { 4095 }, .ip_version = 4, .proto = 6, .ip_len = 40,
	      .l3_off = 14, .l4_off = 34, .payload_off = 54, .sport = 22,
	      .dport = 50000, .tcp_flags = 0x10 } },
	{ "ether arp", ETHER, 0, 0,
	    { { ETH, 0x0806 }, { PAY, 28 } }, 0,
	    { .ethertype = 0x0806, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },
	{ "ether lldp", ETHER, 0, 0,
	    { { ETH, 0x88cc }, { PAY, 20 } }, 0,
	    { .ethertype = 0x88cc, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },
	{ "ether 802.3 length", ETHER, 0, 0,
	    { { ETH, 0x0026 }, { PAY, 38 } }, 0,
	    { .ethertype = 0x0026, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },
	{ "ether padding after ipv4 udp", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17 }, { UDP, 7, 9 }, { PAD, 18 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 28, .l3_off = 14, .l4_off = 34,
	      .payload_off = 42, .sport = 7, .dport = 9 } },
	{ "ether type ipv4 holding ipv6", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP6, 17 }, { UDP, 1, 2 } }, 34,
	    { .flags = BAD, .ethertype = 0x0800, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },

	/* Linux cooked captures. */
	{ "sll ipv4 udp", RINGFAN_DLT_LINUX_SLL, 0, 0,
	    { { SLL, 0x0800 }, { IP4, 17 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 28, .l3_off = 16, .l4_off = 36,
	      .payload_off = 44, .sport = 1, .dport = 2 } },
	{ "sll arp", RINGFAN_DLT_LINUX_SLL, 0, 0,
	    { { SLL, 0x0806 }, { PAY, 28 } }, 0,
	    { .ethertype = 0x0806, .l3_off = 16, .l4_off = 16,
	      .payload_off = 16 } },
	{ "sll tag ipv6 tcp", RINGFAN_DLT_LINUX_SLL, 0, 0,
	    { { SLL, 0x8100 }, { TAG, 42, 0x86dd }, { IP6, 6 },
	      { TCP, 443, 50001, 0x18 }, { PAY, 5 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .nvlan = 1,
	      .vlan = { 42 }, .ip_version = 6, .proto = 6, .ip_len = 65,
	      .l3_off = 20, .l4_off = 60, .payload_off = 80, .sport = 443,
	      .dport = 50001, .tcp_flags = 0x18 } },
	{ "sll2 ipv6 icmpv6", RINGFAN_DLT_LINUX_SLL2, 0, 0,
	    { { SLL2, 0x86dd }, { IP6, 58 }, { ICMP, 128, 0 }, { PAY, 4 } },
	    0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 58, .ip_len = 52, .l3_off = 20, .l4_off = 60,
	      .payload_off = 68, .sport = 128 } },
	{ "sll2 ipv4 sctp", RINGFAN_DLT_LINUX_SLL2, 0, 0,
	    { { SLL2, 0x0800 }, { IP4, 132 }, { SCTP, 36412, 2905 },
	      { PAY, 16 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 132, .ip_len = 48, .l3_off = 20, .l4_off = 40,
	      .payload_off = 52, .sport = 36412, .dport = 2905 } },
	{ "sll2 arp", RINGFAN_DLT_LINUX_SLL2, 0, 0,
	    { { SLL2, 0x0806 }, { PAY, 28 } }, 0,
	    { .ethertype = 0x0806, .l3_off = 20, .l4_off = 20,
	      .payload_off = 20 } },

	/* Raw IP, each number it goes by, and the IPv4/IPv6-only links. */
	{ "raw 12 ipv4 udp", RINGFAN_DLT_RAW, 0, 0,
	    { { IP4, 17 }, { UDP, 3000, 4000 }, { PAY, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 30, .l4_off = 20, .payload_off = 28,
	      .sport = 3000, .dport = 4000 } },
	{ "raw 14 ipv6 tcp", RINGFAN_DLT_RAW_14, 0, 0,
	    { { IP6, 6 }, { TCP, 1, 2, 0x01 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip_len = 60, .l4_off = 40, .payload_off = 60,
	      .sport = 1, .dport = 2, .tcp_flags = 1 } },
	{ "raw 101 ipv4 gre", RINGFAN_DLT_RAW_101, 0, 0,
	    { { IP4, 47 }, { GRE, 0x6558 }, { PAY, 10 } }, 0,
	    { .flags = PR, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 47, .ip_len = 34, .l4_off = 20, .payload_off = 20 } },
	{ "raw version 10", RINGFAN_DLT_RAW, 0, 0,
	    { { PAY, 20 } }, 1,
	    { .flags = BAD } },
	{ "ipv4 link icmp", V4, 0, 0,
	    { { IP4, 1 }, { ICMP, 0, 0 }, { PAY, 4 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 1, .ip_len = 32, .l4_off = 20, .payload_off = 28 } },
	{ "ipv6 link udp", V6, 0, 0,
	    { { IP6, 17 }, { UDP, 546, 547 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip_len = 48, .l4_off = 40, .payload_off = 48,
	      .sport = 546, .dport = 547 } },
	{ "ipv6 link holding ipv4", V6, 0, 0,
	    { { IP4, 17 }, { UDP, 1, 2 }, { PAY, 20 } }, 40,
	    { .flags = BAD, .ethertype = 0x86dd } },

	/* BSD loopback: the family in either byte order. */
	{ "null le ipv4 tcp", RINGFAN_DLT_NULL, 0, 0,
	    { { FAM_LE, 2 }, { IP4, 6 }, { TCP, 5, 6, 0x04 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 40, .l3_off = 4, .l4_off = 24,
	      .payload_off = 44, .sport = 5, .dport = 6, .tcp_flags = 4 } },
	{ "null be 24 ipv6 udp", RINGFAN_DLT_NULL, 0, 0,
	    { { FAM_BE, 24 }, { IP6, 17 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip_len = 48, .l3_off = 4, .l4_off = 44,
	      .payload_off = 52, .sport = 1, .dport = 2 } },
	{ "null le 28 ipv6 no next header", RINGFAN_DLT_NULL, 0, 0,
	    { { FAM_LE, 28 }, { IP6, 59 } }, 0,
	    { .flags = PR, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 59, .ip_len = 40, .l3_off = 4, .l4_off = 44,
	      .payload_off = 44 } },
	{ "null le 30 icmpv6", RINGFAN_DLT_NULL, 0, 0,
	    { { FAM_LE, 30 }, { IP6, 58 }, { ICMP, 135, 0 }, { PAY, 16 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 58, .ip_len = 64, .l3_off = 4, .l4_off = 44,
	      .payload_off = 52, .sport = 135 } },
	{ "null family 7", RINGFAN_DLT_NULL, 0, 0,
	    { { FAM_LE, 7 }, { PAY, 10 } }, 0,
	    { .l3_off = 4, .l4_off = 4, .payload_off = 4 } },
	{ "loop ipv4 udp", RINGFAN_DLT_LOOP, 0, 0,
	    { { FAM_BE, 2 }, { IP4, 17 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 28, .l3_off = 4, .l4_off = 24,
	      .payload_off = 32, .sport = 1, .dport = 2 } },
	{ "loop le 30 ipv6 tcp", RINGFAN_DLT_LOOP, 0, 0,
	    { { FAM_LE, 30 }, { IP6, 6 }, { TCP, 1, 2, 0x11 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip_len = 60, .l3_off = 4, .l4_off = 44,
	      .payload_off = 64, .sport = 1, .dport = 2, .tcp_flags = 0x11 } },

	/* IPv4: options, fragments, lengths. */
	{ "ipv4 options", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17, 0x47 }, { UDP, 1, 2 }, { PAY, 4 } },
	    0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 40, .l3_off = 14, .l4_off = 42,
	      .payload_off = 50, .sport = 1, .dport = 2 } },
	{ "ipv4 first fragment", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17, 0, 0x2000 }, { UDP, 1, 2 },
	      { PAY, 16 } }, 0,
	    { .flags = PR | L4 | FR | MF, .ethertype = 0x0800,
	      .ip_version = 4, .proto = 17, .ip_len = 44, .frag_id = 0x1234,
	      .l3_off = 14, .l4_off = 34, .payload_off = 42, .sport = 1,
	      .dport = 2 } },
	{ "ipv4 later fragment", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17, 0, 0x20b9 }, { PAY, 24 } }, 0,
	    { .flags = PR | FR | MF | LATER, .ethertype = 0x0800,
	      .ip_version = 4, .proto = 17, .ip_len = 44, .frag_id = 0x1234,
	      .frag_off = 1480, .l3_off = 14, .l4_off = 34,
	      .payload_off = 34 } },
	{ "ipv4 last fragment", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6, 0, 0x0010 }, { PAY, 8 } }, 0,
	    { .flags = PR | FR | LATER, .ethertype = 0x0800,
	      .ip_version = 4, .proto = 6, .ip_len = 28, .frag_id = 0x1234,
	      .frag_off = 128, .l3_off = 14, .l4_off = 34,
	      .payload_off = 34 } },
	{ "ipv4 don't fragment", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6, 0, 0x4000 }, { TCP, 1, 2, 0x10 } },
	    0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 40, .l3_off = 14, .l4_off = 34,
	      .payload_off = 54, .sport = 1, .dport = 2, .tcp_flags = 0x10 } },
	{ "ipv4 ihl 4", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17, 0x44 }, { UDP, 1, 2 } }, 34,
	    { .flags = PR | BAD, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 28, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },
	{ "ipv4 total length below ihl", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 17, 0x46, 0, 20 }, { UDP, 1, 2 } }, 34,
	    { .flags = PR | BAD, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 17, .ip_len = 20, .l3_off = 14, .l4_off = 14,
	      .payload_off = 14 } },
	{ "ipv4 total length 0 (tso)", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6, 0, 0, ZERO }, { TCP, 1, 2, 0x10 },
	      { PAY, 100 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 140, .l3_off = 14, .l4_off = 34,
	      .payload_off = 54, .sport = 1, .dport = 2, .tcp_flags = 0x10 } },
	{ "ipv4 tcp past total length", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6, 0, 0, 30 }, { TCP, 1, 2, 0x10 } }, 0,
	    { .flags = PR | BAD, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 30, .l3_off = 14, .l4_off = 34,
	      .payload_off = 34 } },
	{ "tcp data offset 4", ETHER, 0, 0,
	    { { ETH, 0x0800 }, { IP4, 6 }, { TCP, 1, 2, 0x10, 4 } }, 54,
	    { .flags = PR | L4 | BAD, .ethertype = 0x0800, .ip_version = 4,
	      .proto = 6, .ip_len = 40, .l3_off = 14, .l4_off = 34,
	      .payload_off = 34, .sport = 1, .dport = 2, .tcp_flags = 0x10 } },

	/* IPv6 extension headers, fragments, lengths. */
	{ "ipv6 hop-by-hop tcp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 0 }, { EXT, 6, 0 },
	      { TCP, 1, 2, 0x02 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip6_ext = X_HOP, .ip_len = 68, .l3_off = 14,
	      .l4_off = 62, .payload_off = 82, .sport = 1, .dport = 2,
	      .tcp_flags = 2 } },
	{ "ipv6 routing udp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 43 }, { EXT, 17, 2 }, { UDP, 1, 2 } },
	    0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip6_ext = X_RT, .ip_len = 72, .l3_off = 14,
	      .l4_off = 78, .payload_off = 86, .sport = 1, .dport = 2 } },
	{ "ipv6 destination options icmpv6", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 60 }, { EXT, 58, 1 }, { ICMP, 1, 4 } },
	    0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 58, .ip6_ext = X_DST, .ip_len = 64, .l3_off = 14,
	      .l4_off = 70, .payload_off = 78, .sport = 1, .dport = 4 } },
	{ "ipv6 ah tcp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 51 }, { AH, 6, 4 },
	      { TCP, 1, 2, 0x10 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip6_ext = X_AH, .ip_len = 84, .l3_off = 14,
	      .l4_off = 78, .payload_off = 98, .sport = 1, .dport = 2,
	      .tcp_flags = 0x10 } },
	{ "ipv6 first fragment udp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 44 }, { FRAG6, 17, 0x0001, 0xdeadbeef },
	      { UDP, 1, 2 }, { PAY, 8 } }, 0,
	    { .flags = PR | L4 | FR | MF, .ethertype = 0x86dd,
	      .ip_version = 6, .proto = 17, .ip6_ext = X_FR, .ip_len = 64,
	      .frag_id = 0xdeadbeef, .l3_off = 14, .l4_off = 62,
	      .payload_off = 70, .sport = 1, .dport = 2 } },
	{ "ipv6 later fragment", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 44 }, { FRAG6, 6, 0x05a8, 7 },
	      { PAY, 32 } }, 0,
	    { .flags = PR | FR | LATER, .ethertype = 0x86dd,
	      .ip_version = 6, .proto = 6, .ip6_ext = X_FR, .ip_len = 80,
	      .frag_id = 7, .frag_off = 1448, .l3_off = 14, .l4_off = 62,
	      .payload_off = 62 } },
	{ "ipv6 atomic fragment", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 44 }, { FRAG6, 17, 0, 9 },
	      { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip6_ext = X_FR, .ip_len = 56, .l3_off = 14,
	      .l4_off = 62, .payload_off = 70, .sport = 1, .dport = 2 } },
	{ "ipv6 chain of four", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 0 }, { EXT, 43, 0 }, { EXT, 44, 0 },
	      { FRAG6, 60, 0x0001, 1 }, { EXT, 17, 0 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4 | FR | MF, .ethertype = 0x86dd,
	      .ip_version = 6, .proto = 17,
	      .ip6_ext = X_HOP | X_RT | X_FR | X_DST, .ip_len = 80,
	      .frag_id = 1, .l3_off = 14, .l4_off = 86, .payload_off = 94,
	      .sport = 1, .dport = 2 } },
	{ "ipv6 esp", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 50 }, { PAY, 16 } }, 0,
	    { .flags = PR, .ethertype = 0x86dd, .ip_version = 6, .proto = 50,
	      .ip_len = 56, .l3_off = 14, .l4_off = 54, .payload_off = 54 } },
	{ "ipv6 eight extension headers", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 60 }, { EXT, 60 }, { EXT, 60 },
	      { EXT, 60 }, { EXT, 60 }, { EXT, 60 }, { EXT, 60 },
	      { EXT, 60 }, { EXT, 17 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip6_ext = X_DST, .ip_len = 112, .l3_off = 14,
	      .l4_off = 118, .payload_off = 126, .sport = 1, .dport = 2 } },
	{ "ipv6 nine extension headers", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 60 }, { EXT, 60 }, { EXT, 60 },
	      { EXT, 60 }, { EXT, 60 }, { EXT, 60 }, { EXT, 60 },
	      { EXT, 60 }, { EXT, 60 }, { EXT, 17 }, { UDP, 1, 2 } }, 112,
	    { .ethertype = 0x86dd, .ip_version = 6, .ip6_ext = X_DST,
	      .ip_len = 120, .l3_off = 14, .l4_off = 14, .payload_off = 14 } },
	{ "ipv6 header past payload length", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 60, 7 }, { EXT, 17, 0 }, { UDP, 1, 2 } },
	    56,
	    { .flags = PR | BAD, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip6_ext = X_DST, .ip_len = 47, .l3_off = 14,
	      .l4_off = 14, .payload_off = 14 } },
	{ "ipv6 udp past payload length", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 17, 4 }, { UDP, 1, 2 } }, 0,
	    { .flags = PR | BAD, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip_len = 44, .l3_off = 14, .l4_off = 54,
	      .payload_off = 54 } },
	{ "ipv6 payload length 0, padded", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 59, ZERO }, { PAD, 6 } }, 0,
	    { .flags = PR, .ethertype = 0x86dd, .ip_version = 6, .proto = 59,
	      .ip_len = 40, .l3_off = 14, .l4_off = 54, .payload_off = 54 } },
	{ "ipv6 payload length 0 (big tcp, no hop-by-hop)", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 6, ZERO }, { TCP, 1, 2, 0x10 },
	      { PAY, 100 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 6, .ip_len = 160, .l3_off = 14, .l4_off = 54,
	      .payload_off = 74, .sport = 1, .dport = 2, .tcp_flags = 0x10 } },
	{ "ipv6 jumbogram", ETHER, 0, 0,
	    { { ETH, 0x86dd }, { IP6, 0, ZERO }, { EXT, 17, 0 }, { UDP, 1, 2 },
	      { PAY, 10 } }, 0,
	    { .flags = PR | L4, .ethertype = 0x86dd, .ip_version = 6,
	      .proto = 17, .ip6_ext = X_HOP, .ip_len = 66, .l3_off = 14,
	      .l4_off = 62, .payload_off = 70, .sport = 1, .dport = 2 } },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

static const uint8_t src4[4] = { 192, 0, 2, 1 };
static const uint8_t dst4[4] = { 198, 51, 100, 2 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static inline size_t
put16(uint8_t *p, size_t n, uint32_t v)
{
	p[n] = (uint8_t)(v >> 8);
	p[n + 1] = (uint8_t)v;
	return n + 2;
}

static inline size_t
put32(uint8_t *p, size_t n, uint32_t v)
{
	return put16(p, put16(p, n, v >> 16), v & 0xffff);
}

/* A header of `len` bytes, zero but for what the caller writes after. */
static inline size_t
room(uint8_t *p, size_t n, size_t len)
{
	memset(p + n, 0, len);
	return n;
}

/* Writes the frame of r into p; returns its length. */
static inline size_t
build(const struct row *r, uint8_t *p)
{
	size_t n = 0, ip = 0, end = 0, k;
	const struct item *it, *ipi = NULL;

	for (it = r->items; it->kind != END; it++) {
		switch (it->kind) {
		case ETH:
			memset(p + n, 0x02, 12);
			n = put16(p, n + 12, it->a);
			break;
		case SLL:	/* to us, ARPHRD_ETHER, 6-byte address */
			n = room(p, n, 14);
			put16(p, put16(p, n + 2, 1), 6);
			n = put16(p, n + 14, it->a);
			break;
		case SLL2:
			n = room(p, n, 20);
			put16(p, n, it->a);
			put32(p, n + 4, 3);		/* ifindex */
			put16(p, n + 8, 1);
			p[n + 11] = 6;
			n += 20;
			break;
		case FAM_LE:
			for (k = 0; k < 4; k++)
				p[n++] = (uint8_t)(it->a >> (8 * k));
			break;
		case FAM_BE:
			n = put32(p, n, it->a);
			break;
		case TAG:
			n = put16(p, put16(p, n, it->a), it->b);
			break;
		case IP4:
			ip = n;
			ipi = it;
			p[n] = it->b != 0 ? (uint8_t)it->b : 0x45;
			k = (p[n] & 15u) * 4 > 20 ? (p[n] & 15u) * 4 : 20;
			memset(p + n + 1, 0, k - 1);
			memset(p + n + 20, 1, k - 20);	/* NOP options */
			p[n + 1] = 0xb8;
			put16(p, n + 4, 0x1234);
			put16(p, n + 6, it->c);
			p[n + 8] = 64;
			p[n + 9] = (uint8_t)it->a;
			memcpy(p + n + 12, src4, 4);
			memcpy(p + n + 16, dst4, 4);
			n += k;
			break;
		case IP6:
			ip = n;
			ipi = it;
			n = put32(p, n, 0x6b812345);	/* tc 0xb8, flow */
			p[n + 2] = (uint8_t)it->a;
			p[n + 3] = 63;
			memcpy(p + n + 4, src6, 16);
			memcpy(p + n + 20, dst6, 16);
			n += 36;
			break;
		case EXT:
		case AH:
			k = it->kind == EXT ? (it->b + 1) * 8 : (it->b + 2) * 4;
			n = room(p, n, k);
			p[n] = (uint8_t)it->a;
			p[n + 1] = (uint8_t)it->b;
			n += k;
			break;
		case FRAG6:
			n = room(p, n, 8);
			p[n] = (uint8_t)it->a;
			put32(p, put16(p, n + 2, it->b), it->c);
			n += 8;
			break;
		case TCP:
			k = it->d != 0 ? it->d : 5;
			n = room(p, n, k * 4 > 20 ? k * 4 : 20);
			put16(p, put16(p, n, it->a), it->b);
			p[n + 12] = (uint8_t)(k << 4);
			p[n + 13] = (uint8_t)it->c;
			memset(p + n + 20, 1, k * 4 > 20 ? k * 4 - 20 : 0);
			n += k * 4 > 20 ? k * 4 : 20;
			break;
		case UDP:
		case SCTP:
			k = it->kind == UDP ? 8 : 12;
			n = room(p, n, k);
			put16(p, put16(p, n, it->a), it->b);
			n += k;
			break;
		case ICMP:
			n = room(p, n, 8);
			p[n] = (uint8_t)it->a;
			p[n + 1] = (uint8_t)it->b;
			n += 8;
			break;
		case GRE:
			n = put16(p, put16(p, n, 0), it->a);
			break;
		case PAY:
			memset(p + n, 0xa5, it->a);
			n += it->a;
			break;
		case PAD:
			end = n;
			memset(p + n, 0, it->a);
			n += it->a;
			break;
		}
	}
	if (end == 0)
		end = n;
	/* The IP lengths, now that the packet is whole. */
	if (ipi != NULL && ipi->kind == IP4)
		put16(p, ip + 2, ipi->d != 0 ? ipi->d & 0xffff :
		    (uint32_t)(end - ip));
	else if (ipi != NULL)
		put16(p, ip + 4, ipi->b != 0 ? ipi->b & 0xffff :
		    (uint32_t)(end - ip - 40));
	return n;
}

#endif /* DECODE_FRAMES_H */

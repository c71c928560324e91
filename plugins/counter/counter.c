/*
 * counter: counts frames by protocol into shared-memory counters.
 *
 * ethernet  every frame
 * vlan      frames with an 802.1Q/802.1ad tag (stripped by the kernel or
 *           still in the frame)
 * arp, ipv4, ipv6, other (none of those three)
 * tcp, udp, icmp (ICMP and ICMPv6), over IPv4 or IPv6
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ringfan/plugin.h>

#define ETH_HLEN_	14
#define ET_IPV4		0x0800
#define ET_ARP		0x0806
#define ET_VLAN		0x8100
#define ET_QINQ		0x88a8
#define ET_IPV6		0x86dd

enum {
	C_ETHERNET, C_VLAN, C_ARP, C_IPV4, C_IPV6, C_TCP, C_UDP, C_ICMP,
	C_OTHER, C_MAX
};

static const char *const counter_names[C_MAX] = {
	"ethernet", "vlan", "arp", "ipv4", "ipv6", "tcp", "udp", "icmp",
	"other",
};

struct counter {
	uint64_t	*c[C_MAX];
};

static int
counter_open(struct ringfan_ctx *ctx, void **state)
{
	struct counter *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	for (int i = 0; i < C_MAX; i++) {
		if ((st->c[i] = ctx->counter(ctx, counter_names[i])) == NULL) {
			free(st);
			return -1;
		}
	}
	*state = st;
	return 0;
}

static inline unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
counter_l4(struct counter *st, unsigned proto)
{
	switch (proto) {
	case 6:
		++*st->c[C_TCP];
		break;
	case 17:
		++*st->c[C_UDP];
		break;
	case 1:
	case 58:
		++*st->c[C_ICMP];
		break;
	}
}

/* The upper-layer protocol of an IPv6 packet, past extension headers. */
static unsigned
counter_ipv6_proto(const uint8_t *p, uint32_t len)
{
	unsigned nh = p[6];
	uint32_t off = 40;

	for (int hops = 0; hops < 8; hops++) {
		switch (nh) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (off + 2 > len)
				return 256;
			nh = p[off];
			off += 8u * (p[off + 1] + 1u);
			break;
		case 44:	/* fragment */
			if (off + 8 > len)
				return 256;
			nh = p[off];
			off += 8;
			break;
		default:
			return nh;
		}
	}
	return 256;
}

static int
counter_packet(void *state, const struct ringfan_packet *pkt)
{
	struct counter *st = state;
	const uint8_t *p = pkt->data;
	uint32_t len = pkt->caplen, off = 12;
	unsigned et;
	bool tagged = (pkt->flags & RINGFAN_PKT_VLAN_VALID) != 0;

	++*st->c[C_ETHERNET];
	if (len < ETH_HLEN_) {
		++*st->c[C_OTHER];
		return RINGFAN_CONTINUE;
	}
	et = be16(p + off);
	while ((et == ET_VLAN || et == ET_QINQ) && off + 6 <= len) {
		tagged = true;
		off += 4;
		et = be16(p + off);
	}
	off += 2;
	if (tagged)
		++*st->c[C_VLAN];
	switch (et) {
	case ET_ARP:
		++*st->c[C_ARP];
		break;
	case ET_IPV4:
		++*st->c[C_IPV4];
		if (off + 20 <= len && (p[off] >> 4) == 4)
			counter_l4(st, p[off + 9]);
		break;
	case ET_IPV6:
		++*st->c[C_IPV6];
		if (off + 40 <= len && (p[off] >> 4) == 6)
			counter_l4(st, counter_ipv6_proto(p + off, len - off));
		break;
	default:
		++*st->c[C_OTHER];
		break;
	}
	return RINGFAN_CONTINUE;
}

static void
counter_close(void *state)
{
	free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "counter",
	.version = "1.0",
	.description = "counts frames by protocol",
	.open = counter_open,
	.packet = counter_packet,
	.close = counter_close,
};

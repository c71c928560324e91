/*
 * counter: counts frames by protocol into shared-memory counters, on the
 * decoder of <ringfan/decode.h>, for every link type that decoder knows.
 *
 * ethernet  every frame (the name is older than the other link types)
 * vlan      frames with a VLAN tag, stripped by the kernel or in the frame
 * arp, ipv4, ipv6
 *           by the network-layer protocol (ringfan_decoded.ethertype), even
 *           when its header is cut or malformed
 * other     none of those three
 * tcp, udp, icmp (ICMP and ICMPv6)
 *           by the protocol number of the IP header (past IPv6 extension
 *           headers) wherever the decoder could read it: also in a later
 *           fragment, and when the transport header itself is cut
 */
#include <stdlib.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

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

	if (!ringfan_decode_supports(ctx->linktype)) {
		ctx->error(ctx, "link type %d is not one counter decodes",
		    ctx->linktype);
		return RINGFAN_FAIL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	for (int i = 0; i < C_MAX; i++) {
		/* ctx->counter() has recorded why it failed. */
		if ((st->c[i] = ctx->counter(ctx, counter_names[i])) == NULL) {
			free(st);
			return RINGFAN_FAIL;
		}
	}
	*state = st;
	return RINGFAN_OK;
}

static void
counter_l3(struct counter *st, unsigned ethertype)
{
	switch (ethertype) {
	case RINGFAN_ETH_ARP:
		++*st->c[C_ARP];
		break;
	case RINGFAN_ETH_IPV4:
		++*st->c[C_IPV4];
		break;
	case RINGFAN_ETH_IPV6:
		++*st->c[C_IPV6];
		break;
	default:
		++*st->c[C_OTHER];
		break;
	}
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

/* The IPv6 extension headers the decoder walks past. */
static int
counter_ip6_ext(unsigned nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

/*
 * Ethernet without a tag in the frame (a tag the NIC stripped is common)
 * carrying IPv4, or IPv6 without extension headers, is most of any link,
 * and its counts need three bytes, not the decoder's whole pass (twice
 * the instructions).  The answer is what ringfan_decode() gives for the
 * same frame: one of at least 54 bytes holds the fixed IPv4 or IPv6
 * header whole, and with these next headers the IPv6 chain ends at once.
 * tests/unit/test_decode.c holds the two to each other frame by frame.
 * Returns 0 for any other frame.
 */
static int
counter_fast(const struct ringfan_packet *pkt, unsigned *et, unsigned *proto)
{
	const uint8_t *p = pkt->data;

	if (pkt->linktype != RINGFAN_DLT_EN10MB || pkt->caplen < 54)
		return 0;
	*et = (unsigned)p[12] << 8 | p[13];
	if (*et == RINGFAN_ETH_IPV4 && p[14] >> 4 == 4)
		*proto = p[23];
	else if (*et == RINGFAN_ETH_IPV6 && p[14] >> 4 == 6 &&
	    !counter_ip6_ext(p[20]))
		*proto = p[20];
	else
		return 0;
	return 1;
}

static int
counter_packet(void *state, const struct ringfan_packet *pkt)
{
	struct counter *st = state;
	struct ringfan_decoded d;
	unsigned et, proto;

	++*st->c[C_ETHERNET];
	if (counter_fast(pkt, &et, &proto)) {
		if (pkt->flags & RINGFAN_PKT_VLAN_VALID)
			++*st->c[C_VLAN];
	} else {
		/* An unknown link type (a pcapng interface) counts as other. */
		ringfan_decode(pkt, &d);
		if (d.nvlan != 0)
			++*st->c[C_VLAN];
		et = d.ethertype;
		proto = d.flags & RINGFAN_DEC_PROTO ? d.proto : 256;
	}
	counter_l3(st, et);
	counter_l4(st, proto);
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
	.version = "2.0",
	.description = "counts frames by protocol, on any link type the "
	    "decoder knows",
	.open = counter_open,
	.packet = counter_packet,
	.close = counter_close,
};

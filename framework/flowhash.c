/*
 * The symmetric flow hash of offline workers; what it covers and why is in
 * flowhash.h.  The frame is read by <ringfan/decode.h>, as plugins read it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <ringfan/decode.h>

#include "flowhash.h"

/* lookup3's starting value, before the length and the seed are added. */
#define FLOWHASH_INIT	0xdeadbeefu

#define ROT(x, k)	(((x) << (k)) | ((x) >> (32 - (k))))

/* lookup3's mixing of three words at a time. */
#define MIX(a, b, c) do {						\
	a -= c; a ^= ROT(c, 4); c += b;					\
	b -= a; b ^= ROT(a, 6); a += c;					\
	c -= b; c ^= ROT(b, 8); b += a;					\
	a -= c; a ^= ROT(c, 16); c += b;				\
	b -= a; b ^= ROT(a, 19); a += c;				\
	c -= b; c ^= ROT(b, 4); b += a;					\
} while (0)

/* lookup3's final mixing of the last words into c. */
#define FINAL(a, b, c) do {						\
	c ^= b; c -= ROT(b, 14);					\
	a ^= c; a -= ROT(c, 11);					\
	b ^= a; b -= ROT(a, 25);					\
	c ^= b; c -= ROT(b, 16);					\
	a ^= c; a -= ROT(c, 4);						\
	b ^= a; b -= ROT(a, 14);					\
	c ^= b; c -= ROT(b, 24);					\
} while (0)

/* Upper-layer protocols whose first four bytes are ports (ESP: its SPI). */
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_DCCP	33
#define PROTO_ESP	50
#define PROTO_SCTP	132
#define PROTO_UDPLITE	136

/* Most words a key has: the protocols, two IPv6 addresses, the ports. */
#define FLOWHASH_MAX_WORDS	10

uint32_t
flowhash_words(const uint32_t *k, unsigned n, uint32_t seed)
{
	uint32_t a, b, c;

	a = b = c = FLOWHASH_INIT + ((uint32_t)n << 2) + seed;
	for (; n > 3; n -= 3, k += 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		MIX(a, b, c);
	}
	if (n == 0)
		return c;
	if (n == 3)
		c += k[2];
	if (n >= 2)
		b += k[1];
	a += k[0];
	FINAL(a, b, c);
	return c;
}

/*
 * The ports of the upper-layer header at d->l4_off; false when the
 * protocol has none, they are cut or not there (a later fragment, or a
 * header before them cut or malformed).
 */
static bool
flowhash_l4(const struct ringfan_packet *pkt,
    const struct ringfan_decoded *d, uint16_t *sport, uint16_t *dport)
{
	const uint8_t *p;

	if (d->flags & RINGFAN_DEC_LATER_FRAGMENT)
		return false;
	switch (d->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		if (!(d->flags & RINGFAN_DEC_L4))
			return false;
		*sport = d->sport;
		*dport = d->dport;
		return true;
	case PROTO_DCCP:
	case PROTO_ESP:
	case PROTO_UDPLITE:
		/*
		 * A cut or malformed IP header or extension header chain
		 * leaves l4_off short of the upper-layer header (at the IP
		 * header): what is there is no ports.
		 */
		if (d->flags & (RINGFAN_DEC_TRUNCATED | RINGFAN_DEC_MALFORMED))
			return false;
		if ((uint64_t)d->l4_off + 4 > pkt->caplen)
			return false;
		p = pkt->data + d->l4_off;
		*sport = (uint16_t)(p[0] << 8 | p[1]);
		*dport = (uint16_t)(p[2] << 8 | p[3]);
		return true;
	default:
		return false;
	}
}

/* The ports of a frame, none for a fragment. */
static bool
flowhash_ports(const struct ringfan_packet *pkt,
    const struct ringfan_decoded *d, uint16_t *sport, uint16_t *dport)
{
	if (d->flags & RINGFAN_DEC_FRAGMENT)
		return false;	/* all fragments alike: none has ports */
	return flowhash_l4(pkt, d, sport, dport);
}

/* An address of alen bytes as words, in network order read big-endian. */
static unsigned
flowhash_addr(uint32_t *w, const uint8_t *a, size_t alen)
{
	for (size_t i = 0; i < alen; i += 4)
		*w++ = (uint32_t)a[i] << 24 | (uint32_t)a[i + 1] << 16 |
		    (uint32_t)a[i + 2] << 8 | a[i + 3];
	return (unsigned)(alen / 4);
}

/* Whether entry e is the datagram of fragment d. */
static bool
flowhash_frag_is(const struct flowhash_frag *e,
    const struct ringfan_decoded *d)
{
	return e->valid && e->id == d->frag_id && e->proto == d->proto &&
	    memcmp(e->src, d->src, 4) == 0 && memcmp(e->dst, d->dst, 4) == 0;
}

/*
 * The ports of an IPv4 fragment's datagram (struct flowhash_frags): the
 * first fragment's own, kept for the later ones, which take them if it
 * came.  A datagram has a set of FLOWHASH_WAYS places; a new one takes
 * its own again, else the oldest of the set.
 */
static bool
flowhash_datagram(struct flowhash_frags *frags,
    const struct ringfan_packet *pkt, const struct ringfan_decoded *d,
    uint16_t *sport, uint16_t *dport)
{
	uint32_t w[3];
	struct flowhash_frag *set, *e;

	flowhash_addr(&w[0], d->src, 4);
	flowhash_addr(&w[1], d->dst, 4);
	w[2] = d->frag_id << 8 | d->proto;
	set = &frags->e[flowhash_words(w, 3, 0) %
	    (FLOWHASH_NFRAG / FLOWHASH_WAYS) * FLOWHASH_WAYS];
	e = set;
	for (unsigned k = 0; k < FLOWHASH_WAYS; k++) {
		if (flowhash_frag_is(&set[k], d)) {
			e = &set[k];
			break;
		}
		if (!set[k].valid || (e->valid && (int32_t)(set[k].serial -
		    e->serial) < 0))
			e = &set[k];
	}
	if (!(d->flags & RINGFAN_DEC_LATER_FRAGMENT)) {
		if (!flowhash_l4(pkt, d, sport, dport))
			return false;
		memcpy(e->src, d->src, 4);
		memcpy(e->dst, d->dst, 4);
		e->id = (uint16_t)d->frag_id;
		e->proto = d->proto;
		e->sport = *sport;
		e->dport = *dport;
		e->serial = frags->serial++;
		e->valid = 1;
		return true;
	}
	if (!flowhash_frag_is(e, d))
		return false;
	*sport = e->sport;
	*dport = e->dport;
	return true;
}


uint32_t
flowhash(const struct ringfan_packet *pkt, uint32_t seed,
    struct flowhash_frags *frags)
{
	struct ringfan_decoded d;
	uint32_t w[FLOWHASH_MAX_WORDS], h;
	const uint8_t *lo, *hi;
	uint16_t sport = 0, dport = 0, plo, phi;
	uint8_t proto = 0;
	size_t alen;
	unsigned n = 1;
	bool ports = false;
	int cmp;

	(void)ringfan_decode(pkt, &d);
	alen = d.ip_version == 4 ? 4 : d.ip_version == 6 ? 16 : 0;
	if (alen != 0) {
		proto = (d.flags & RINGFAN_DEC_PROTO) ? d.proto : 0;
		/*
		 * The headers after an IPv6 Fragment header (AH, Destination
		 * Options, the upper layer) are in the first fragment only,
		 * which the decoder walks through: every fragment hashes
		 * with the Fragment header's number instead.
		 */
		if (d.ip_version == 6 && (d.flags & RINGFAN_DEC_FRAGMENT))
			proto = 44;
		if (frags != NULL && d.ip_version == 4 &&
		    (d.flags & RINGFAN_DEC_FRAGMENT) &&
		    (d.flags & RINGFAN_DEC_PROTO))
			ports = flowhash_datagram(frags, pkt, &d, &sport,
			    &dport);
		else
			ports = flowhash_ports(pkt, &d, &sport, &dport);
	}
	w[0] = (uint32_t)d.ethertype << 16 | (uint32_t)proto << 8 |
	    d.ip_version;
	if (alen != 0) {
		/* The lower end first: both directions give the same key. */
		cmp = memcmp(d.src, d.dst, alen);
		if (cmp < 0 || (cmp == 0 && sport <= dport)) {
			lo = d.src;
			hi = d.dst;
			plo = sport;
			phi = dport;
		} else {
			lo = d.dst;
			hi = d.src;
			plo = dport;
			phi = sport;
		}
		n += flowhash_addr(&w[n], lo, alen);
		n += flowhash_addr(&w[n], hi, alen);
		w[n++] = ports ? (uint32_t)plo << 16 | phi : 0;
	}
	h = flowhash_words(w, n, seed);
	return h != 0 ? h : 1;
}

/*
 * The symmetric flow hash of `ringfan -r --workers N`: both directions of a
 * flow on one worker (TCP, UDP, SCTP; IPv4 and IPv6), the fragments of a
 * datagram together, VLAN tags left out, non-IP frames placed the same way
 * every time, and a fair share of 1000 random flows for each of 4 workers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowhash.h"

#define WORKERS		4

/* What one hand-made frame is made of. */
struct frame {
	int		 version;	/* 4, 6, or 0: ARP */
	uint8_t		 proto;
	uint8_t		 src[16], dst[16];
	uint16_t	 sport, dport;
	int		 vlan;		/* 0: untagged, else the TCI */
	uint32_t	 flow_label;	/* IPv6 */
	int		 frag;		/* 0: none, 1: first, 2: a later one */
	uint32_t	 frag_id;
};

static uint8_t buf[256];
static struct ringfan_packet pkt;

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The frame f into buf and pkt, Ethernet with an optional 802.1Q tag. */
static const struct ringfan_packet *
build(const struct frame *f)
{
	uint8_t *p = buf;
	unsigned et = f->version == 4 ? 0x0800 : f->version == 6 ? 0x86dd :
	    0x0806;
	size_t l4 = 8;

	memset(buf, 0, sizeof(buf));
	memset(p, 0xff, 6);			/* destination MAC */
	p[6] = 0x02;				/* source MAC */
	p += 12;
	if (f->vlan != 0) {
		put16(p, 0x8100);
		put16(p + 2, (unsigned)f->vlan);
		p += 4;
	}
	put16(p, et);
	p += 2;
	if (f->version == 4) {
		p[0] = 0x45;
		put16(p + 2, (unsigned)(20 + l4 + 8));
		put16(p + 4, f->frag_id);
		/* First: MF, offset 0; later: offset 16 bytes, no MF. */
		put16(p + 6, f->frag == 1 ? 0x2000 : f->frag == 2 ? 2 : 0);
		p[8] = 64;
		p[9] = f->proto;
		memcpy(p + 12, f->src, 4);
		memcpy(p + 16, f->dst, 4);
		p += 20;
	} else if (f->version == 6) {
		p[0] = (uint8_t)(0x60 | (f->flow_label >> 16 & 0x0f));
		put16(p + 2, f->flow_label & 0xffff);
		put16(p + 4, (unsigned)((f->frag ? 8 : 0) + l4 + 8));
		p[6] = f->frag ? 44 : f->proto;
		p[7] = 64;
		memcpy(p + 8, f->src, 16);
		memcpy(p + 24, f->dst, 16);
		p += 40;
		if (f->frag) {
			p[0] = f->proto;
			put16(p + 2, f->frag == 1 ? 1 : 2 << 3);
			p[4] = (uint8_t)(f->frag_id >> 24);
			p[5] = (uint8_t)(f->frag_id >> 16);
			p[6] = (uint8_t)(f->frag_id >> 8);
			p[7] = (uint8_t)f->frag_id;
			p += 8;
		}
	} else {
		put16(p, 1);			/* ARP request */
		put16(p + 2, 0x0800);
		p[4] = 6;
		p[5] = 4;
		put16(p + 6, 1);
		memcpy(p + 14, f->src, 4);
		memcpy(p + 24, f->dst, 4);
		p += 28;
	}
	if (f->version != 0 && f->frag != 2) {
		put16(p, f->sport);
		put16(p + 2, f->dport);
		if (f->proto == 6) {
			p[12] = 0x50;
			l4 = 20;
		} else if (f->proto == 17) {
			put16(p + 4, (unsigned)(l4 + 8));
		} else if (f->proto == 132) {
			l4 = 12;
		}
		if (f->version == 4 && !f->frag)
			put16(buf + (f->vlan ? 18 : 14) + 2,
			    (unsigned)(20 + l4 + 8));
		if (f->version == 6 && !f->frag)
			put16(buf + (f->vlan ? 18 : 14) + 4,
			    (unsigned)(l4 + 8));
		p += l4 + 8;
	} else if (f->version != 0)
		p += 16;
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = buf;
	pkt.caplen = pkt.len = (uint32_t)(p - buf);
	pkt.linktype = 1;			/* Ethernet */
	return &pkt;
}

static uint32_t
hash_of(const struct frame *f)
{
	return flowhash(build(f), FLOWHASH_SEED, NULL);
}

/* The frame f the other way round. */
static struct frame
reversed(const struct frame *f)
{
	struct frame r = *f;

	memcpy(r.src, f->dst, sizeof(r.src));
	memcpy(r.dst, f->src, sizeof(r.dst));
	r.sport = f->dport;
	r.dport = f->sport;
	return r;
}

static struct frame
v4(uint8_t proto, unsigned a, unsigned b, uint16_t sport, uint16_t dport)
{
	struct frame f = { .version = 4, .proto = proto, .sport = sport,
	    .dport = dport };

	f.src[0] = 10, f.src[1] = (uint8_t)(a >> 16), f.src[2] =
	    (uint8_t)(a >> 8), f.src[3] = (uint8_t)a;
	f.dst[0] = 192, f.dst[1] = (uint8_t)(b >> 16), f.dst[2] =
	    (uint8_t)(b >> 8), f.dst[3] = (uint8_t)b;
	return f;
}

static struct frame
v6(uint8_t proto, unsigned a, unsigned b, uint16_t sport, uint16_t dport)
{
	struct frame f = { .version = 6, .proto = proto, .sport = sport,
	    .dport = dport };

	f.src[0] = 0x20, f.src[1] = 0x01, f.src[2] = 0x0d, f.src[3] = 0xb8;
	f.dst[0] = 0x20, f.dst[1] = 0x01, f.dst[2] = 0x0d, f.dst[3] = 0xb8;
	f.src[13] = (uint8_t)(a >> 16), f.src[14] = (uint8_t)(a >> 8);
	f.src[15] = (uint8_t)a;
	f.dst[12] = 1, f.dst[13] = (uint8_t)(b >> 16);
	f.dst[14] = (uint8_t)(b >> 8), f.dst[15] = (uint8_t)b;
	return f;
}

/* The lookup3 hash moves with every word, the length and the seed. */
static void
test_words(void **state)
{
	const uint32_t k[4] = { 1, 2, 3, 4 };
	uint32_t h;

	(void)state;
	h = flowhash_words(k, 4, 0);
	assert_int_equal(flowhash_words(k, 4, 0), h);
	assert_int_not_equal(flowhash_words(k, 4, 1), h);
	assert_int_not_equal(flowhash_words(k, 3, 0), h);
	assert_int_not_equal(flowhash_words(k + 1, 3, 0),
	    flowhash_words(k, 3, 0));
	/* No words: the starting value alone. */
	assert_int_equal(flowhash_words(k, 0, 0), 0xdeadbeefu);
}

static void
test_pick(void **state)
{
	(void)state;
	assert_int_equal(flowhash_pick(0, 4), 0);
	assert_int_equal(flowhash_pick(0x3fffffffu, 4), 0);
	assert_int_equal(flowhash_pick(0x40000000u, 4), 1);
	assert_int_equal(flowhash_pick(0xffffffffu, 4), 3);
	assert_int_equal(flowhash_pick(0xffffffffu, 1), 0);
	assert_int_equal(flowhash_pick(0xffffffffu, 1024), 1023);
}

/* Both directions of many flows hash alike, for every protocol. */
static void
test_directions(void **state)
{
	static const uint8_t protos[] = { 6, 17, 132 };
	struct frame f, r;

	(void)state;
	for (size_t p = 0; p < sizeof(protos); p++) {
		for (unsigned i = 0; i < 200; i++) {
			f = v4(protos[p], i, i * 7 + 1,
			    (uint16_t)(1024 + i), 80);
			r = reversed(&f);
			assert_int_equal(hash_of(&f), hash_of(&r));
			f = v6(protos[p], i, i * 7 + 1,
			    (uint16_t)(1024 + i), 443);
			r = reversed(&f);
			assert_int_equal(hash_of(&f), hash_of(&r));
		}
		/* The same addresses: the ports decide the order. */
		f = v4(protos[p], 5, 5, 1000, 2000);
		memcpy(f.dst, f.src, sizeof(f.dst));
		r = reversed(&f);
		assert_int_equal(hash_of(&f), hash_of(&r));
	}
}

/* What is hashed: the ports and the protocol matter, outside fragments. */
static void
test_keys(void **state)
{
	struct frame a = v4(17, 1, 2, 1000, 53), b = a;
	struct frame c = v6(6, 1, 2, 1000, 80), d = c;

	(void)state;
	b.sport = 1001;
	assert_int_not_equal(hash_of(&a), hash_of(&b));
	b = a;
	b.proto = 6;
	assert_int_not_equal(hash_of(&a), hash_of(&b));
	d.dport = 81;
	assert_int_not_equal(hash_of(&c), hash_of(&d));
	/*
	 * A flow label changes nothing: an IPv6 packet is hashed with its
	 * ports whatever its label, so a flow labelled one way only stays
	 * together, as the kernel's fanout hash keeps it.
	 */
	c.flow_label = 0x12345;
	d.flow_label = 0x54321;
	assert_int_not_equal(hash_of(&c), hash_of(&d));
	d = reversed(&c);
	d.flow_label = 0;
	assert_int_equal(hash_of(&c), hash_of(&d));
	/* A different seed moves the hash. */
	assert_int_not_equal(flowhash(build(&a), FLOWHASH_SEED, NULL),
	    flowhash(build(&a), FLOWHASH_SEED + 1, NULL));
}

/*
 * ESP (its SPI), DCCP and UDP-Lite are read at the decoder's l4_off, which
 * is the upper-layer header only when the decoder got there: an IPv4
 * header whose options the capture cut, or whose total length is below its
 * header length, leaves l4_off at the IP header.  Such a frame is hashed
 * without ports, both ways alike, as one with the SPI cut off is.
 */
static void
test_l4_not_reached(void **state)
{
	static const uint8_t protos[] = { 33, 50, 136 };
	struct frame f, r;
	uint32_t hf, hr, whole;

	(void)state;
	for (size_t i = 0; i < sizeof(protos); i++) {
		f = v4(protos[i], 1, 2, 0x1234, 0x5678);
		r = reversed(&f);
		/* The SPI cut off: the addresses and protocol alone. */
		build(&f);
		pkt.caplen = 14 + 20 + 2;
		whole = flowhash(&pkt, FLOWHASH_SEED, NULL);
		/* Options announced (IHL 6) and cut: TRUNCATED. */
		build(&f);
		buf[14] = 0x46;
		pkt.caplen = 14 + 22;
		hf = flowhash(&pkt, FLOWHASH_SEED, NULL);
		build(&r);
		buf[14] = 0x46;
		pkt.caplen = 14 + 22;
		hr = flowhash(&pkt, FLOWHASH_SEED, NULL);
		assert_int_equal(hf, hr);
		assert_int_equal(hf, whole);
		/* A total length below the header's: MALFORMED. */
		build(&f);
		put16(buf + 16, 19);
		hf = flowhash(&pkt, FLOWHASH_SEED, NULL);
		build(&r);
		put16(buf + 16, 19);
		hr = flowhash(&pkt, FLOWHASH_SEED, NULL);
		assert_int_equal(hf, hr);
		assert_int_equal(hf, whole);
	}
}

/* The first and the later fragments of a datagram, both ways. */
static void
test_fragments(void **state)
{
	struct frame first, later, r;

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		first = v4(17, i, 3, (uint16_t)(5000 + i), 9);
		first.frag = 1;
		first.frag_id = 77 + i;
		later = first;
		later.frag = 2;
		assert_int_equal(hash_of(&first), hash_of(&later));
		r = reversed(&later);
		assert_int_equal(hash_of(&first), hash_of(&r));

		first = v6(17, i, 3, (uint16_t)(5000 + i), 9);
		first.frag = 1;
		first.frag_id = 0x01020304u + i;
		later = first;
		later.frag = 2;
		assert_int_equal(hash_of(&first), hash_of(&later));
		/*
		 * Headers after the Fragment header (AH, Destination
		 * Options) are in the first fragment only: a later one's
		 * Next Header is theirs, not the upper layer's.
		 */
		later.proto = 51;
		assert_int_equal(hash_of(&first), hash_of(&later));
	}
}

/*
 * With `defrag`: an IPv4 fragment hashes as its whole datagram, ports
 * included, once the first fragment came; one before it, without them.
 * IPv6 fragments, which the kernel does not reassemble, as without.
 */
static void
test_fragments_defrag(void **state)
{
	static struct flowhash_frags frags;
	struct frame whole, first, later, r;
	uint32_t portless;

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		memset(&frags, 0, sizeof(frags));
		whole = v4(17, i, 3, (uint16_t)(5000 + i), 9);
		first = whole;
		first.frag = 1;
		first.frag_id = 77 + i;
		later = first;
		later.frag = 2;
		portless = hash_of(&later);
		assert_int_not_equal(portless, hash_of(&whole));
		/* A later fragment before its first: no ports yet. */
		assert_int_equal(flowhash(build(&later), FLOWHASH_SEED,
		    &frags), portless);
		assert_int_equal(flowhash(build(&first), FLOWHASH_SEED,
		    &frags), hash_of(&whole));
		assert_int_equal(flowhash(build(&later), FLOWHASH_SEED,
		    &frags), hash_of(&whole));
		/* Another datagram of the flow, the other way. */
		r = reversed(&first);
		r.frag_id = 1000 + i;
		assert_int_equal(flowhash(build(&r), FLOWHASH_SEED, &frags),
		    hash_of(&whole));
		r.frag = 2;
		assert_int_equal(flowhash(build(&r), FLOWHASH_SEED, &frags),
		    hash_of(&whole));
		/* Another id: not that datagram. */
		later.frag_id = 5000 + i;
		assert_int_equal(flowhash(build(&later), FLOWHASH_SEED,
		    &frags), hash_of(&later));

		first = v6(17, i, 3, (uint16_t)(5000 + i), 9);
		first.frag = 1;
		first.frag_id = 0x01020304u + i;
		assert_int_equal(flowhash(build(&first), FLOWHASH_SEED,
		    &frags), hash_of(&first));
	}
}

/*
 * Many datagrams under way at once, their first fragments all before any
 * later one (as an interleaved file has them): each later fragment still
 * finds its datagram's ports.
 */
static void
test_fragments_many(void **state)
{
	static struct flowhash_frags frags;
	struct frame first, later;
	unsigned n = 500;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		first = v4(17, i % 200, 3 + i / 200, (uint16_t)(5000 + i), 9);
		first.frag = 1;
		first.frag_id = 1000 + i;
		(void)flowhash(build(&first), FLOWHASH_SEED, &frags);
	}
	for (unsigned i = 0; i < n; i++) {
		first = v4(17, i % 200, 3 + i / 200, (uint16_t)(5000 + i), 9);
		later = first;
		later.frag = 2;
		later.frag_id = 1000 + i;
		first.frag = 0;
		assert_int_equal(flowhash(build(&later), FLOWHASH_SEED,
		    &frags), hash_of(&first));
	}
}

/* A VLAN tag changes nothing, whatever its id. */
static void
test_vlan(void **state)
{
	struct frame f = v4(6, 9, 10, 40000, 443), t;
	struct frame g = v6(17, 9, 10, 40000, 53), u;

	(void)state;
	for (int id = 1; id < 4095; id += 97) {
		t = f;
		t.vlan = id;
		assert_int_equal(hash_of(&f), hash_of(&t));
		u = g;
		u.vlan = id | 0x2000;	/* a priority too */
		assert_int_equal(hash_of(&g), hash_of(&u));
	}
}

/* ARP, a frame cut short and an unknown link: placed, the same each time. */
static void
test_not_ip(void **state)
{
	struct frame arp = { .version = 0 };
	uint32_t h;

	(void)state;
	arp.src[3] = 1;
	arp.dst[3] = 2;
	h = hash_of(&arp);
	assert_int_not_equal(h, 0);
	assert_int_equal(hash_of(&arp), h);
	assert_true(flowhash_pick(h, WORKERS) < WORKERS);
	/* Every ARP frame on the same worker: only the protocol is hashed. */
	arp.src[3] = 200;
	assert_int_equal(hash_of(&arp), h);

	build(&arp);
	pkt.caplen = 5;			/* not even the MAC addresses */
	h = flowhash(&pkt, FLOWHASH_SEED, NULL);
	assert_int_not_equal(h, 0);
	assert_int_equal(flowhash(&pkt, FLOWHASH_SEED, NULL), h);
	pkt.caplen = 0;
	assert_int_equal(flowhash(&pkt, FLOWHASH_SEED, NULL), h);
	pkt.linktype = 147;		/* a link type the decoder lacks */
	pkt.caplen = pkt.len;
	assert_int_equal(flowhash(&pkt, FLOWHASH_SEED, NULL), h);
}

/* 1000 random flows over 4 workers: each gets 150 to 350 of them. */
static void
test_fair(void **state)
{
	unsigned count[2][WORKERS] = { { 0 } };
	struct frame f;
	uint32_t h;

	(void)state;
	srandom(1);
	for (unsigned i = 0; i < 1000; i++) {
		f = v4(random() % 2 ? 6 : 17, (unsigned)random(),
		    (unsigned)random(), (uint16_t)random(),
		    (uint16_t)random());
		h = hash_of(&f);
		count[0][flowhash_pick(h, WORKERS)]++;
		f = v6(random() % 2 ? 6 : 17, (unsigned)random(),
		    (unsigned)random(), (uint16_t)random(),
		    (uint16_t)random());
		h = hash_of(&f);
		count[1][flowhash_pick(h, WORKERS)]++;
	}
	for (int v = 0; v < 2; v++) {
		for (int w = 0; w < WORKERS; w++) {
			print_message("IPv%d worker %d: %u flows\n", v ? 6 : 4,
			    w, count[v][w]);
			assert_in_range(count[v][w], 150, 350);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_l4_not_reached),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_fragments_defrag),
		cmocka_unit_test(test_fragments_many),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_fair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

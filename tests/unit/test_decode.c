/*
 * The packet decoder of <ringfan/decode.h> over synthetic frames (in
 * decode_frames.h): every link type, tag and header it knows, with the
 * exact fields expected.  Each frame
 * is then decoded again cut at every length from 0 to one byte short, from a
 * heap copy of exactly that size, so that the sanitizer build catches any
 * read past caplen; a cut frame must say TRUNCATED when it loses a header
 * the whole frame had, and decode as the whole frame otherwise.
 *
 * The bundled counter plugin, loaded as the host loads it, must count each
 * of these frames (and of many mutations of them) as its definition over
 * the decoder says: its fast path may not give another answer.  The same
 * holds for the decoder's own straight pass (ringfan_dec_common()): over
 * the frames and their mutations, ringfan_decode() gives exactly what the
 * long way (ringfan_dec_general()) gives.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#include "decode_frames.h"

/* The header promises no padding: results compare with memcmp(). */
_Static_assert(sizeof(struct ringfan_decoded) == 80, "padding");

/* The row's expectation, with the constants every IP header of build() has. */
static void
expect(const struct row *r, struct ringfan_decoded *w)
{
	*w = r->want;
	if (w->ip_version == 4) {
		w->tos = 0xb8;
		w->ttl = 64;
		memcpy(w->src, src4, 4);
		memcpy(w->dst, dst4, 4);
	} else if (w->ip_version == 6) {
		w->tos = 0xb8;
		w->flow_label = 0x12345;
		w->ttl = 63;
		memcpy(w->src, src6, 16);
		memcpy(w->dst, dst6, 16);
	}
}

#define SAME(f) do {							\
	if (got->f != want->f)						\
		fail_msg("%s, caplen %u: " #f " is %lu, expected %lu",	\
		    name, caplen, (unsigned long)got->f,		\
		    (unsigned long)want->f);				\
} while (0)

/* Every field of got equals want's. */
static void
same_all(const char *name, uint32_t caplen,
    const struct ringfan_decoded *got, const struct ringfan_decoded *want)
{
	SAME(flags);
	SAME(ethertype);
	SAME(nvlan);
	SAME(vlan[0]);
	SAME(vlan[1]);
	SAME(ip_version);
	SAME(proto);
	SAME(ip6_ext);
	SAME(tos);
	SAME(ttl);
	SAME(ip_len);
	SAME(flow_label);
	SAME(frag_id);
	SAME(frag_off);
	SAME(sport);
	SAME(dport);
	SAME(tcp_flags);
	SAME(l3_off);
	SAME(l4_off);
	SAME(payload_off);
	SAME(reserved);
	if (memcmp(got->src, want->src, 16) != 0 ||
	    memcmp(got->dst, want->dst, 16) != 0)
		fail_msg("%s, caplen %u: addresses differ", name, caplen);
}

/* Row r's whole frame, built into buf, as the host hands it over. */
static void
row_packet(const struct row *r, uint8_t *buf, struct ringfan_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = buf;
	pkt->len = (uint32_t)build(r, buf);
	pkt->linktype = (uint16_t)r->linktype;
	pkt->flags = r->stripped ? RINGFAN_PKT_VLAN_VALID : 0;
	pkt->vlan_tci = r->tci;
}

/*
 * whole's first caplen bytes as pkt, from a heap copy of exactly that size
 * (ASan sees one byte more), which the caller frees.
 */
static uint8_t *
heap_packet(const struct ringfan_packet *whole, uint32_t caplen,
    struct ringfan_packet *pkt)
{
	uint8_t *copy;

	if ((copy = malloc(caplen)) == NULL && caplen != 0)
		fail_msg("out of memory");
	if (caplen != 0)
		memcpy(copy, whole->data, caplen);
	*pkt = *whole;
	pkt->data = copy;
	pkt->caplen = caplen;
	return copy;
}

/* A frame cut to caplen: checked against the whole frame's decoding. */
static void
check_cut(const struct row *r, const struct ringfan_packet *whole,
    const struct ringfan_decoded *want, uint32_t need, uint32_t caplen)
{
	struct ringfan_packet pkt;
	struct ringfan_decoded d, *got = &d;
	const char *name = r->name;
	uint8_t *copy = heap_packet(whole, caplen, &pkt);

	assert_int_equal(ringfan_decode(&pkt, &d), 0);
	free(copy);
	if (d.l3_off > d.l4_off || d.l4_off > d.payload_off ||
	    d.payload_off > caplen)
		fail_msg("%s, caplen %u: offsets %u %u %u out of order", name,
		    caplen, d.l3_off, d.l4_off, d.payload_off);
	if (caplen >= need) {
		same_all(name, caplen, &d, want);
		return;
	}
	if (!(d.flags & RINGFAN_DEC_TRUNCATED))
		fail_msg("%s, caplen %u: a header is cut but TRUNCATED is "
		    "not set", name, caplen);
	/*
	 * What lies wholly before the cut decodes as in the whole frame; raw
	 * IP takes its EtherType from the version nibble, just after.
	 */
	if (caplen >= want->l3_off + (r->linktype == RINGFAN_DLT_RAW ||
	    r->linktype == RINGFAN_DLT_RAW_14 ||
	    r->linktype == RINGFAN_DLT_RAW_101)) {
		SAME(ethertype);
		SAME(nvlan);
		SAME(vlan[0]);
		SAME(vlan[1]);
		SAME(l3_off);
	}
	if (want->l4_off > want->l3_off && caplen >= want->l4_off) {
		SAME(ip_version);
		SAME(proto);
		SAME(ip6_ext);
		SAME(l4_off);
		if (memcmp(d.src, want->src, 16) != 0)
			fail_msg("%s, caplen %u: addresses differ", name,
			    caplen);
	}
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	static uint8_t buf[512];
	struct ringfan_packet pkt;
	struct ringfan_decoded want, d;
	uint32_t caplen, need;

	row_packet(r, buf, &pkt);
	pkt.caplen = caplen = pkt.len;
	expect(r, &want);
	assert_int_equal(ringfan_decode(&pkt, &d), 0);
	same_all(r->name, caplen, &d, &want);

	need = r->need != 0 ? r->need : want.payload_off;
	assert_true(need <= caplen);
	for (uint32_t k = 0; k < caplen; k++)
		check_cut(r, &pkt, &want, need, k);
}

static void
test_unknown_link(void **state)
{
	static const uint8_t frame[64];
	struct ringfan_packet pkt = { .data = frame, .caplen = 64, .len = 64,
	    .linktype = 147 };
	struct ringfan_decoded d;

	(void)state;
	memset(&d, 0xff, sizeof(d));
	assert_int_equal(ringfan_decode(&pkt, &d), -1);
	assert_int_equal(d.flags, RINGFAN_DEC_UNKNOWN_LINK);
	assert_int_equal(d.ethertype, 0);
	assert_int_equal(d.payload_off, 0);
	assert_false(ringfan_decode_supports(147));
	assert_false(ringfan_decode_supports(-1));
	assert_false(ringfan_decode_supports(65536 + RINGFAN_DLT_EN10MB));
	for (size_t i = 0; i < NROWS; i++)
		assert_true(ringfan_decode_supports(rows[i].linktype));
	/* Its list is the decoder's: an empty frame is cut, or refused. */
	pkt.caplen = 0;
	for (long lt = 0; lt <= 65535; lt++) {
		pkt.linktype = (uint16_t)lt;
		if (ringfan_decode_supports((int)lt) !=
		    (ringfan_decode(&pkt, &d) == 0))
			fail_msg("link type %ld: ringfan_decode_supports() and "
			    "ringfan_decode() disagree", lt);
	}
}

/*
 * The stripped tag belongs to the link header: a runt without a whole
 * Ethernet header has no tag either (counter's vlan relies on it).
 */
static void
test_runt_with_stripped_tag(void **state)
{
	static const uint8_t frame[13];
	struct ringfan_packet pkt = { .data = frame, .caplen = 13, .len = 13,
	    .vlan_tci = 5, .flags = RINGFAN_PKT_VLAN_VALID,
	    .linktype = RINGFAN_DLT_EN10MB };
	struct ringfan_decoded d;

	(void)state;
	assert_int_equal(ringfan_decode(&pkt, &d), 0);
	assert_int_equal(d.flags, RINGFAN_DEC_TRUNCATED);
	assert_int_equal(d.nvlan, 0);
	pkt.linktype = RINGFAN_DLT_RAW;		/* no link header at all */
	assert_int_equal(ringfan_decode(&pkt, &d), 0);
	assert_int_equal(d.nvlan, 1);
	assert_int_equal(d.vlan[0], 5);
}

/* More tags than vlan[] holds, and more than nvlan counts. */
static void
test_many_tags(void **state)
{
	static uint8_t frame[14 + 4 * 300];
	struct ringfan_packet pkt = { .data = frame, .caplen = sizeof(frame),
	    .len = sizeof(frame), .linktype = RINGFAN_DLT_EN10MB };
	struct ringfan_decoded d;
	size_t n = 12;

	(void)state;
	for (unsigned i = 0; i < 300; i++)
		n = put16(frame, put16(frame, n, 0x8100), i + 1);
	put16(frame, n, 0x88cc);
	assert_int_equal(ringfan_decode(&pkt, &d), 0);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.nvlan, 255);
	assert_int_equal(d.vlan[0], 1);
	assert_int_equal(d.vlan[1], 2);
	assert_int_equal(d.ethertype, 0x88cc);
	assert_int_equal(d.l3_off, sizeof(frame));
}

/* A host of our own for the counter plugin: its counters and its error. */
#define NSLOTS	9

static const char *slot_names[NSLOTS];
static uint64_t slots[NSLOTS];
static char counter_err[256];
static void *counter_dl;

static uint64_t *
host_counter(struct ringfan_ctx *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = 0; i < NSLOTS; i++) {
		if (slot_names[i] == NULL)
			slot_names[i] = name;
		if (strcmp(slot_names[i], name) == 0)
			return &slots[i];
	}
	return NULL;
}

static void RINGFAN_PRINTF(2, 3)
host_error(struct ringfan_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(counter_err, sizeof(counter_err), fmt, ap);
	va_end(ap);
}

/* counter.so of this build, opened on a capture of that link type. */
static int
counter_open(int linktype, const struct ringfan_plugin **pl, void **st)
{
	static struct ringfan_ctx ctx;

	if (counter_dl == NULL && (counter_dl = dlopen(BUILD_PLUGIN_DIR
	    "/counter/counter.so", RTLD_NOW | RTLD_LOCAL)) == NULL)
		fail_msg("dlopen: %s", dlerror());
	*pl = dlsym(counter_dl, RINGFAN_PLUGIN_SYMBOL);
	assert_non_null(*pl);
	assert_int_equal((*pl)->abi, RINGFAN_PLUGIN_ABI);
	memset(&ctx, 0, sizeof(ctx));
	ctx.abi = RINGFAN_PLUGIN_ABI;
	ctx.size = sizeof(ctx);
	ctx.linktype = linktype;
	ctx.counter = host_counter;
	ctx.error = host_error;
	counter_err[0] = '\0';
	return (*pl)->open(&ctx, st);
}

/* One frame through counter: its counts are the decoder's. */
static void
counter_check(const struct ringfan_plugin *pl, void *st,
    const struct ringfan_packet *pkt, const char *what)
{
	struct ringfan_decoded d;
	const char *l3, *l4 = NULL;

	memset(slots, 0, sizeof(slots));
	assert_int_equal(pl->packet(st, pkt), RINGFAN_CONTINUE);
	ringfan_decode(pkt, &d);
	l3 = d.ethertype == 0x0800 ? "ipv4" : d.ethertype == 0x86dd ? "ipv6" :
	    d.ethertype == 0x0806 ? "arp" : "other";
	if (d.flags & RINGFAN_DEC_PROTO)
		l4 = d.proto == 6 ? "tcp" : d.proto == 17 ? "udp" :
		    d.proto == 1 || d.proto == 58 ? "icmp" : NULL;
	for (size_t i = 0; i < NSLOTS; i++) {
		const char *n = slot_names[i];
		uint64_t want = strcmp(n, "ethernet") == 0 ||
		    (strcmp(n, "vlan") == 0 && d.nvlan != 0) ||
		    strcmp(n, l3) == 0 || (l4 != NULL && strcmp(n, l4) == 0);

		if (slots[i] != want)
			fail_msg("%s, caplen %u: counter.%s is %lu, expected "
			    "%lu", what, pkt->caplen, n,
			    (unsigned long)slots[i], (unsigned long)want);
	}
}

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t below)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 32) % below;
}

/*
 * Row r's frame, mutated: mostly on Ethernet, sometimes with a stripped
 * tag, up to three of the n bytes at hot[] set at random, sometimes cut.
 */
static void
row_mutant(const struct row *r, uint8_t *buf, struct ringfan_packet *pkt,
    const uint8_t *hot, size_t n)
{
	row_packet(r, buf, pkt);
	pkt->vlan_tci = 0;
	if (rnd(4) != 0)
		pkt->linktype = RINGFAN_DLT_EN10MB;
	pkt->flags = rnd(4) == 0 ? RINGFAN_PKT_VLAN_VALID : 0;
	for (unsigned k = rnd(4); k > 0; k--)
		buf[hot[rnd((uint32_t)n)]] = (uint8_t)rnd(256);
	pkt->caplen = rnd(8) == 0 ? rnd(pkt->len + 1) : pkt->len;
}

static void
test_counter_agrees(void **state)
{
	const struct ringfan_plugin *pl;
	struct ringfan_packet pkt;
	static uint8_t buf[512];
	void *st;

	(void)state;
	assert_int_equal(counter_open(RINGFAN_DLT_EN10MB, &pl, &st),
	    RINGFAN_OK);
	for (size_t i = 0; i < NROWS; i++) {
		row_packet(&rows[i], buf, &pkt);
		for (pkt.caplen = 0; pkt.caplen <= pkt.len; pkt.caplen++)
			counter_check(pl, st, &pkt, rows[i].name);
	}
	/*
	 * Mutations around the bytes the fast path reads: the EtherType,
	 * the version, the protocol and next header, and the length.
	 */
	for (unsigned n = 0; n < 200000; n++) {
		static const uint8_t hot[] = { 12, 13, 14, 16, 20, 23, 54 };

		row_mutant(&rows[rnd(NROWS)], buf, &pkt, hot, sizeof(hot));
		counter_check(pl, st, &pkt, "mutation");
	}
	pl->close(st);
}

/*
 * pkt decoded by ringfan_decode() and the long way only, from a heap copy
 * of exactly caplen bytes (the sanitizer build catches a read past it):
 * the same result, byte for byte.  A frame the straight pass does not take
 * leaves its result as it was.  Counts the frames it took in *took.
 */
static void
common_check(const struct ringfan_packet *whole, const char *what,
    unsigned *took)
{
	struct ringfan_packet pkt;
	struct ringfan_decoded got, want, mark;
	uint8_t *copy = heap_packet(whole, whole->caplen, &pkt);

	assert_int_equal(ringfan_decode(&pkt, &got), 0);
	ringfan_dec_zero(&want);
	assert_int_equal(ringfan_dec_general(&pkt, &want), 0);
	if (memcmp(&got, &want, sizeof(got)) != 0)
		fail_msg("%s, caplen %u, len %u: the straight pass differs",
		    what, pkt.caplen, pkt.len);
	memset(&got, 0xa5, sizeof(got));
	mark = got;
	if (ringfan_dec_common(&pkt, &got))
		++*took;
	else if (memcmp(&got, &mark, sizeof(got)) != 0)
		fail_msg("%s, caplen %u: the straight pass wrote a frame it "
		    "did not take", what, pkt.caplen);
	free(copy);
}

static void
test_common_agrees(void **state)
{
	/*
	 * The bytes the straight pass reads: EtherType, version and IHL,
	 * lengths, flags and offset, protocol and next header, TCP's data
	 * offset after IPv4 and after IPv6.
	 */
	static const uint8_t hot[] = { 12, 13, 14, 16, 17, 18, 19, 20, 21,
	    23, 46, 66 };
	struct ringfan_packet pkt;
	static uint8_t buf[512];
	const struct row *straight[NROWS], *r;
	unsigned took = 0, was, ns = 0, n;

	(void)state;
	for (size_t i = 0; i < NROWS; i++) {
		row_packet(&rows[i], buf, &pkt);
		for (pkt.caplen = 0; pkt.caplen <= pkt.len; pkt.caplen++) {
			was = took;
			common_check(&pkt, rows[i].name, &took);
			if (pkt.caplen == pkt.len && took > was)
				straight[ns++] = &rows[i];
		}
	}
	/*
	 * Whole TCP and UDP over untagged Ethernet, IPv4 and IPv6: the
	 * straight pass takes "ether ipv4 tcp", "ether tcp options", "ether
	 * ipv6 tcp", "ether ipv6 udp", the two with padding or DF, and no
	 * other row.
	 */
	assert_int_equal(ns, 6);
	/* Mutations of any row, and twice as often of those six. */
	for (took = 0, n = 0; n < 300000; n++) {
		r = rnd(3) == 0 ? &rows[rnd(NROWS)] : straight[rnd(ns)];
		row_mutant(r, buf, &pkt, hot, sizeof(hot));
		/* A wire length of 0, or longer than the capture. */
		if (rnd(8) == 0)
			pkt.len = rnd(2) ? 0 : pkt.caplen + rnd(64);
		common_check(&pkt, "mutation", &took);
	}
	/* Both ways taken often: the comparison is not empty either way. */
	assert_true(took > n / 20);
	assert_true(took < n - n / 20);
}

static void
test_counter_unknown_link(void **state)
{
	const struct ringfan_plugin *pl;
	void *st;

	(void)state;
	assert_int_equal(counter_open(147, &pl, &st), RINGFAN_FAIL);
	assert_string_equal(counter_err,
	    "link type 147 is not one counter decodes");
	assert_int_equal(counter_open(RINGFAN_DLT_LINUX_SLL2, &pl, &st),
	    RINGFAN_OK);
	assert_string_equal(counter_err, "");
	assert_non_null(st);
	pl->close(st);
}

/* Where and what a stripped tag is, per link type, TPID and frame length. */
static void
test_stripped_tag(void **state)
{
	static const uint8_t frame[64];
	struct ringfan_packet p = {
		.data = frame, .caplen = 64, .len = 64, .vlan_tci = 0xa00b,
		.linktype = RINGFAN_DLT_EN10MB,
	};
	uint8_t tag[4] = { 0 };
	static const uint8_t q[4] = { 0x81, 0x00, 0xa0, 0x0b };
	static const uint8_t ad[4] = { 0x88, 0xa8, 0xa0, 0x0b };

	(void)state;
	assert_int_equal(ringfan_stripped_tag(&p, tag), -1);	/* no tag */
	p.flags = RINGFAN_PKT_VLAN_VALID;
	assert_int_equal(ringfan_stripped_tag(&p, tag), 12);
	assert_memory_equal(tag, q, 4);
	p.flags |= RINGFAN_PKT_TPID_VALID;
	p.vlan_tpid = 0x88a8;
	assert_int_equal(ringfan_stripped_tag(&p, tag), 12);
	assert_memory_equal(tag, ad, 4);
	p.linktype = RINGFAN_DLT_LINUX_SLL;
	assert_int_equal(ringfan_stripped_tag(&p, tag), 14);
	p.caplen = 13;
	assert_int_equal(ringfan_stripped_tag(&p, tag), -1);	/* cut */
	p.caplen = 14;
	assert_int_equal(ringfan_stripped_tag(&p, tag), 14);
	for (size_t i = 0; i < 5; i++) {
		static const int others[] = { RINGFAN_DLT_RAW,
		    RINGFAN_DLT_LINUX_SLL2, RINGFAN_DLT_NULL, RINGFAN_DLT_IPV4,
		    RINGFAN_DLT_LOOP };

		p.linktype = (uint16_t)others[i];
		assert_int_equal(ringfan_stripped_tag(&p, tag), -1);
	}
}

int
main(void)
{
	static struct CMUnitTest tests[NROWS + 7];

	for (size_t i = 0; i < NROWS; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = test_row;
		tests[i].initial_state = (void *)(uintptr_t)&rows[i];
	}
	tests[NROWS] = (struct CMUnitTest)cmocka_unit_test(test_unknown_link);
	tests[NROWS + 1] = (struct CMUnitTest)
	    cmocka_unit_test(test_runt_with_stripped_tag);
	tests[NROWS + 2] = (struct CMUnitTest)cmocka_unit_test(test_many_tags);
	tests[NROWS + 3] = (struct CMUnitTest)
	    cmocka_unit_test(test_counter_agrees);
	tests[NROWS + 4] = (struct CMUnitTest)
	    cmocka_unit_test(test_counter_unknown_link);
	tests[NROWS + 5] = (struct CMUnitTest)cmocka_unit_test(test_stripped_tag);
	tests[NROWS + 6] = (struct CMUnitTest)
	    cmocka_unit_test(test_common_agrees);
	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}

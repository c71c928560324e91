/*
 * The packet decoder of <ringfan/decode.h> over arbitrary frames of every
 * link type.  An input's first byte says how to hand the rest over: its low
 * 4 bits pick the link type (decode_linktypes), 0x10 a tag the kernel
 * stripped (its TCI in the next two bytes), 0x20 a frame longer on the
 * wire than captured, 0x40 a wire length of 0.  The frame is copied to the
 * heap at its exact size, so that ASan catches a read past caplen.
 *
 * Whatever the bytes, the result must hold together, must be what the
 * decoder's long way alone gives (ringfan_dec_general(), without the
 * straight pass for common frames), and a frame the decoder did not find
 * cut must decode the same with more bytes after it: the decoder never
 * stops at caplen without saying TRUNCATED.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "fuzz_view.h"

#define MORE	64	/* bytes appended for the second decoding */

/* What any result must satisfy. */
static void
fuzz_check(const struct ringfan_packet *pkt, const struct ringfan_decoded *d,
    int rc)
{
	uint32_t f = d->flags;

	if (!ringfan_decode_supports(pkt->linktype)) {
		if (rc != -1 || f != RINGFAN_DEC_UNKNOWN_LINK)
			abort();
		return;
	}
	if (rc != 0 || f & RINGFAN_DEC_UNKNOWN_LINK)
		abort();
	if (d->l3_off > d->l4_off || d->l4_off > d->payload_off ||
	    d->payload_off > pkt->caplen)
		abort();
	if (d->ip_version != 0 && d->ip_version != 4 && d->ip_version != 6)
		abort();
	if ((f & RINGFAN_DEC_L4 && !(f & RINGFAN_DEC_PROTO)) ||
	    (f & RINGFAN_DEC_PROTO && d->ip_version == 0) ||
	    (d->ip6_ext != 0 && d->ip_version != 6))
		abort();
	if (f & (RINGFAN_DEC_LATER_FRAGMENT | RINGFAN_DEC_MORE_FRAGMENTS) &&
	    !(f & RINGFAN_DEC_FRAGMENT))
		abort();
	if ((f & RINGFAN_DEC_LATER_FRAGMENT) != 0 && d->frag_off == 0)
		abort();
	if (d->vlan[0] > 0xfff || d->vlan[1] > 0xfff ||
	    (d->nvlan < 2 && d->vlan[1] != 0) || d->reserved != 0)
		abort();
	/* A whole TCP, UDP, SCTP or ICMP header lies before the payload. */
	if (f & RINGFAN_DEC_L4 &&
	    !(f & (RINGFAN_DEC_TRUNCATED | RINGFAN_DEC_MALFORMED)) &&
	    d->payload_off - d->l4_off < 8)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringfan_packet pkt;
	struct ringfan_decoded d, again;
	size_t skip;
	uint8_t *frame;
	int rc;

	if ((skip = fuzz_view(data, size, &pkt)) == 0)
		return 0;
	if ((frame = malloc(pkt.caplen)) == NULL && pkt.caplen != 0)
		abort();
	if (pkt.caplen != 0)
		memcpy(frame, data + skip, pkt.caplen);
	pkt.data = frame;
	rc = ringfan_decode(&pkt, &d);
	/* The straight pass gives what the long way gives. */
	ringfan_dec_zero(&again);
	if (ringfan_dec_general(&pkt, &again) != rc ||
	    memcmp(&d, &again, sizeof(d)) != 0)
		abort();
	free(frame);
	fuzz_check(&pkt, &d, rc);

	/*
	 * The same frame with bytes after it (the input again: varied bytes
	 * that would change the result if read).  Only with a wire length
	 * past both, which the lengths of IP may refer to: an IP length of 0
	 * runs to max(len, caplen), so a frame of 1000 bytes or more with len
	 * equal to caplen would end further on when caplen grew past len,
	 * which no kernel hands over.
	 */
	if (rc != 0 || d.flags & RINGFAN_DEC_TRUNCATED ||
	    pkt.len < (uint64_t)pkt.caplen + MORE)
		return 0;
	if ((frame = malloc(pkt.caplen + MORE)) == NULL)
		abort();
	memcpy(frame, data + skip, pkt.caplen);
	for (size_t i = 0; i < MORE; i++)
		frame[pkt.caplen + i] = data[i % size];
	pkt.data = frame;
	pkt.caplen += MORE;
	rc = ringfan_decode(&pkt, &again);
	free(frame);
	fuzz_check(&pkt, &again, rc);
	if (memcmp(&d, &again, sizeof(d)) != 0)
		abort();
	return 0;
}

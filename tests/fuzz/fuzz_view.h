/*
 * How fuzz_decode and fuzz_plugins turn an input into a frame's view: the
 * first byte's low 4 bits pick the link type (decode_linktypes), 0x10 a
 * tag the kernel stripped (its TCI in the next two bytes), 0x20 a frame
 * FUZZ_WIRE bytes longer on the wire than captured, 0x40 a wire length of
 * 0; the rest is the frame.  One reading of the byte for both, so that
 * their seeds mean the same to each.
 */
#ifndef FUZZ_VIEW_H
#define FUZZ_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode_frames.h"

#define FUZZ_WIRE	1000

/*
 * Fills *pkt but its data; returns where the frame starts in data (its
 * caplen bytes follow), or 0 when the input is too short to say.
 */
static inline size_t
fuzz_view(const uint8_t *data, size_t size, struct ringfan_packet *pkt)
{
	size_t skip = 1;

	if (size < 1)
		return 0;
	memset(pkt, 0, sizeof(*pkt));
	pkt->linktype = decode_linktypes[data[0] & 0x0f];
	if (data[0] & 0x10) {
		if (size < 3)
			return 0;
		pkt->flags = RINGFAN_PKT_VLAN_VALID;
		pkt->vlan_tci = (uint16_t)(data[1] << 8 | data[2]);
		skip = 3;
	}
	pkt->caplen = (uint32_t)(size - skip);
	pkt->len = data[0] & 0x20 ? pkt->caplen + FUZZ_WIRE :
	    data[0] & 0x40 ? 0 : pkt->caplen;
	return skip;
}

#endif

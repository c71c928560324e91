/*
 * Compiled alone with -std=c11 -pedantic: the decoder header needs nothing
 * but the plugin header, and its inline code builds as it stands.
 */
#include <ringfan/decode.h>

int	decode_alone(const struct ringfan_packet *);

int
decode_alone(const struct ringfan_packet *pkt)
{
	struct ringfan_decoded d;

	return ringfan_decode(pkt, &d) == 0 ? d.proto : -1;
}

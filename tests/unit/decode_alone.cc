// Compiled as C++11 with -pedantic: a plugin in C++ can use the decoder.
#include <ringfan/decode.h>

int	decode_alone_cpp(const struct ringfan_packet *);

int
decode_alone_cpp(const struct ringfan_packet *pkt)
{
	struct ringfan_decoded d;

	return ringfan_decode(pkt, &d) == 0 ? d.proto : -1;
}

/*
 * The block walker over arbitrary blocks: every frame it returns must lie
 * inside the block, and it must stop, whatever the headers say.  The block
 * is allocated at its exact size, so ASan catches any read beyond it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "ring.h"

#define BLOCK	4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringfan_packet pkt;
	struct ring_walk w;
	uint8_t *block;
	unsigned n = 0;

	if ((block = aligned_alloc(64, BLOCK)) == NULL)
		abort();
	memset(block, 0, BLOCK);
	memcpy(block, data, size < BLOCK ? size : BLOCK);
	ring_walk_init(&w, (const struct tpacket_block_desc *)block, BLOCK);
	while (ring_walk_next(&w, &pkt)) {
		if (pkt.data < block || pkt.data + pkt.caplen > block + BLOCK)
			abort();
		/* No more than a worker's batch array holds (ring.h). */
		if (++n > RING_FRAMES_MAX(BLOCK))
			abort();
	}
	free(block);
	return 0;
}

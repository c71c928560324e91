/*
 * The block walker over arbitrary blocks: every frame it returns must lie
 * inside the block, and it must stop, whatever the headers say.  The block
 * is allocated at its exact size, so ASan catches any read beyond it.
 * ring_walk_count(), the walk of a pipeline with no stage, must then agree
 * with ring_walk_next() on the same block: as many frames, the same wire
 * bytes (a stripped tag's 4 included), the same last time, and a
 * malformed end alike.
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
	struct ring_walk w, wc;
	uint8_t *block;
	unsigned n = 0;
	uint64_t bytes = 0, cbytes = ~0ull, last_ns = 0, clast_ns = 0;

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
		bytes += (uint64_t)pkt.len +
		    (pkt.flags & RINGFAN_PKT_VLAN_VALID ? 4 : 0);
		last_ns = pkt.ts_ns;
	}
	ring_walk_init(&wc, (const struct tpacket_block_desc *)block, BLOCK);
	if (ring_walk_count(&wc, &cbytes, &clast_ns) != n || cbytes != bytes ||
	    clast_ns != last_ns || wc.bad != w.bad || wc.left != 0)
		abort();
	free(block);
	return 0;
}

/* Mapping a TPACKET_V3 receive ring into the worker. */
#include <errno.h>
#include <sys/mman.h>

#include "ring.h"

int
ring_map(struct ring *r, int fd, uint32_t block_size, uint32_t block_count)
{
	size_t len = (size_t)block_size * block_count;
	void *map, *wmap;
	int rc;

	/*
	 * MAP_POPULATE: fault the whole ring in now rather than on the
	 * first frames, where it would cost drops.  A packet socket's ring
	 * may be mapped more than once, each mapping the same pages.
	 */
	map = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	wmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (wmap == MAP_FAILED) {
		rc = -errno;
		munmap(map, len);
		return rc;
	}
	/*
	 * Not inherited across fork: a mapping holds the socket, and a
	 * process a plugin forks, which the worker's death signal does not
	 * reach, would otherwise keep the socket, its ring and its fanout
	 * membership alive after the worker and the master.  A later
	 * ringfan in the same group would share its frames with that
	 * orphan's ring, which no one reads or counts.
	 */
	if (madvise(map, len, MADV_DONTFORK) == -1 ||
	    madvise(wmap, len, MADV_DONTFORK) == -1) {
		rc = -errno;
		munmap(map, len);
		munmap(wmap, len);
		return rc;
	}
	r->fd = fd;
	r->map = map;
	r->wmap = wmap;
	r->map_len = len;
	r->block_size = block_size;
	r->block_count = block_count;
	return 0;
}

void
ring_unmap(struct ring *r)
{
	if (r->map != NULL)
		munmap(r->map, r->map_len);
	if (r->wmap != NULL)
		munmap(r->wmap, r->map_len);
	r->map = NULL;
	r->wmap = NULL;
	r->map_len = 0;
}

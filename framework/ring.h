/*
 * A TPACKET_V3 receive ring: its mapping and the walk over one block.
 *
 * The walker is inline because it is the per-frame path.  It checks every
 * offset it follows against the block, so a malformed block (which only a
 * kernel bug or a test can produce) ends the walk instead of reading out of
 * bounds.
 */
#ifndef RINGFAN_RING_H
#define RINGFAN_RING_H

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ringfan/plugin.h>

/*
 * The ring is mapped twice: `map` read-only, which the walk and the plugins
 * read (a plugin that writes into a frame, casting away the const of
 * ringfan_packet.data, is killed by SIGSEGV and its frame quarantined,
 * instead of changing the frame for the later plugins), and `wmap`, which
 * only hands blocks back to the kernel.  Neither is inherited across fork
 * (MADV_DONTFORK): a mapping holds the socket alive.
 */
struct ring {
	int		 fd;
	uint8_t		*map;
	uint8_t		*wmap;
	size_t		 map_len;
	uint32_t	 block_size;
	uint32_t	 block_count;
};

/*
 * mmap the ring of fd, set up with PACKET_RX_RING, twice (above).  0 or
 * -errno.
 */
int	ring_map(struct ring *r, int fd, uint32_t block_size,
	    uint32_t block_count);
void	ring_unmap(struct ring *r);

/* Block i, in the read-only view: ring_block_return() hands it back. */
static inline const struct tpacket_block_desc *
ring_block(const struct ring *r, uint32_t i)
{
	return (const struct tpacket_block_desc *)(const void *)(r->map +
	    (size_t)i * r->block_size);
}

/* The block belongs to user space: the kernel has retired it. */
static inline bool
ring_block_ready(const struct tpacket_block_desc *bd)
{
	return (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
	    TP_STATUS_USER) != 0;
}

/*
 * Frames wait in the block: it is ready, or it is the one the kernel fills
 * (the kernel counts its frames as they come, and hands it over only when
 * it is full or at block_timeout).  A block handed back keeps its old count
 * until the kernel opens it again, at the next frame or, after an overrun,
 * within block_timeout: it counts as waiting until then.
 */
static inline bool
ring_block_waiting(const struct tpacket_block_desc *bd)
{
	return ring_block_ready(bd) ||
	    __atomic_load_n(&bd->hdr.bh1.num_pkts, __ATOMIC_RELAXED) != 0;
}

/* Hand the block back; nothing of it may be read afterwards. */
static inline void
ring_block_release(struct tpacket_block_desc *bd)
{
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
	    __ATOMIC_RELEASE);
}

/*
 * Hand block bd of r's read-only view back, through the writable one; nothing
 * of it may be read afterwards.
 */
static inline void
ring_block_return(const struct ring *r, const struct tpacket_block_desc *bd)
{
	ring_block_release((struct tpacket_block_desc *)(void *)(r->wmap +
	    ((const uint8_t *)bd - r->map)));
}

/*
 * The block's seq_num as a worker's position keeps it, in 32 bits that are
 * never 0 (0 there says the worker is between blocks): its low 32 bits,
 * RING_SEQ_WRAPPED where those are 0, as they are in the 2^32nd block a
 * socket opens and every multiple (within weeks at a few thousand blocks a
 * second).  The kernel opens the blocks in turn, so a block is filled
 * again block_count seq_nums later; a position names a block while its
 * worker holds it, or across the one refill a kill after its release
 * allows (resume.h), and block_count (at most 65536) is no multiple of
 * 2^31: the refill's value is never the one kept.
 */
#define RING_SEQ_WRAPPED	(UINT32_C(1) << 31)

static inline uint32_t
ring_block_seq(const struct tpacket_block_desc *bd)
{
	uint32_t seq = (uint32_t)bd->hdr.bh1.seq_num;

	return seq != 0 ? seq : RING_SEQ_WRAPPED;
}

struct ring_walk {
	const uint8_t	*hdr;		/* of the next frame */
	uint32_t	 room;		/* bytes from there to the block's end */
	uint32_t	 left;		/* frames not yet returned */
	bool		 bad;		/* the walk stopped at a malformed frame */
};

/*
 * The kernel starts every TPACKET_V3 frame on an 8-byte boundary (its
 * V3_ALIGNMENT); an offset that is not is not a frame, and would make the
 * header reads misaligned.
 */
#define RING_FRAME_ALIGN	8

/*
 * How far ahead of the frame in hand a walk that reads the frames
 * prefetches: the kernel wrote them from another CPU, and a few frames'
 * worth of lines on their way hide more of that than the next frame's
 * alone (docs/performance.md: the next frame, 512, 1024 and 2048 bytes;
 * one line a frame and two, three).
 */
#define RING_PREFETCH_AHEAD	1024
/* Offset of the sockaddr_ll the kernel writes after each frame header. */
#define RING_SLL_OFF	TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
/* What a frame's headers take: room a frame offset must leave. */
#define RING_HDR_ROOM	(RING_SLL_OFF + sizeof(struct sockaddr_ll))

/*
 * The most frames a block of block_size bytes may say it holds: one a
 * tpacket3_hdr, less than a frame's headers take.  The walk returns no
 * more than a block says it holds, and the worker's batch array is sized
 * for this many; the kernel's frames are farther apart (their headers and
 * their data).  Checked once a block, as ring_walk_init() reads the count:
 * a next frame's offset is only checked for what the walk reads.
 */
#define RING_FRAMES_MAX(block_size) \
	((block_size) / TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + 1)
_Static_assert(RING_HDR_ROOM > TPACKET_ALIGN(sizeof(struct tpacket3_hdr)),
    "a frame's headers take more than its tpacket3_hdr");

/*
 * The view copies the frame's two lengths in one 8-byte move: they are
 * neighbours in both structures.
 */
_Static_assert(offsetof(struct tpacket3_hdr, tp_len) ==
    offsetof(struct tpacket3_hdr, tp_snaplen) + 4, "tp_snaplen, tp_len");
_Static_assert(offsetof(struct ringfan_packet, len) ==
    offsetof(struct ringfan_packet, caplen) + 4, "caplen, len");
/* The view's layout is the ABI's: `reserved` filled what was padding. */
_Static_assert(offsetof(struct ringfan_packet, reserved) ==
    offsetof(struct ringfan_packet, linktype) + 2 &&
    sizeof(struct ringfan_packet) ==
    offsetof(struct ringfan_packet, reserved) + 4,
    "struct ringfan_packet has padding again");

/*
 * Every offset is checked where it is followed: the first one here, each
 * next one as the walk moves to it, so that the frame the walk stands on
 * always has its headers inside the block.  A block that says it holds
 * more frames than RING_FRAMES_MAX() is not walked at all.
 */
static inline void
ring_walk_init(struct ring_walk *w, const struct tpacket_block_desc *bd,
    uint32_t block_size)
{
	const struct tpacket_hdr_v1 *h = &bd->hdr.bh1;
	uint32_t off = h->offset_to_first_pkt;

	w->hdr = (const uint8_t *)bd;
	w->room = block_size;
	w->left = h->num_pkts;
	w->bad = false;
	if (w->left == 0)
		return;
	if (off < sizeof(*bd) || off >= block_size ||
	    (off & (RING_FRAME_ALIGN - 1)) != 0 ||
	    block_size - off < RING_HDR_ROOM ||
	    w->left > RING_FRAMES_MAX(block_size)) {
		w->left = 0;
		w->bad = true;
		return;
	}
	w->hdr += off;
	w->room -= off;
}

/* The frame the walk stands on has its headers and its data in the block. */
static inline bool
ring_walk_fits(struct ring_walk *w, const struct tpacket3_hdr *h)
{
	if (__builtin_expect((uint64_t)h->tp_mac + h->tp_snaplen > w->room,
	    0)) {
		w->left = 0;
		w->bad = true;
		return false;
	}
	return true;
}

/*
 * From frame h, which fits, to the next one, if the block has one,
 * prefetching.  `ahead`, for a walk that reads the frames' data as well as
 * their headers: the line RING_PREFETCH_AHEAD bytes on and the two after
 * it (a 64-byte frame takes 152 bytes of the ring: 2.4 lines).  Else, for
 * a walk that reads the headers alone: the line 8 times h's stride on
 * (h->tp_next_offset), which is a header's when frames of one size follow
 * each other.  A fixed distance hits a header's line only where the sizes
 * let it: 3 frames in 8 for 64-byte frames (docs/performance.md).
 */
static inline void
ring_walk_advance(struct ring_walk *w, const struct tpacket3_hdr *h,
    const bool ahead)
{
	uint32_t next;

	if (--w->left == 0)
		return;
	/*
	 * A next frame must lie after this one, aligned, with room for its
	 * headers: 0 < next <= room - RING_HDR_ROOM.
	 */
	next = h->tp_next_offset;
	if (__builtin_expect(next - 1 >= w->room - RING_HDR_ROOM ||
	    (next & (RING_FRAME_ALIGN - 1)) != 0, 0)) {
		w->left = 0;
		w->bad = true;
	} else {
		w->hdr += next;
		w->room -= next;
		if (ahead) {
			__builtin_prefetch(w->hdr + RING_PREFETCH_AHEAD);
			__builtin_prefetch(w->hdr + RING_PREFETCH_AHEAD + 64);
			__builtin_prefetch(w->hdr + RING_PREFETCH_AHEAD + 128);
		} else
			__builtin_prefetch(w->hdr + (size_t)next * 8);
	}
}

static inline uint64_t
ring_frame_ns(const struct tpacket3_hdr *h)
{
	return (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
}

/*
 * A frame's length on the wire, as `bytes` counts it: the kernel's tp_len
 * (a view's len) plus the 4 bytes of a VLAN tag it stripped on receive,
 * which was on the wire and which a file of the same traffic holds.  In
 * 64 bits, as ring_walk_count() adds them: a tp_len within 4 of 2^32 (no
 * kernel's, but the walk takes it) counts the same whichever counts it.
 */
static inline uint64_t
ring_wire_len(uint32_t len, uint32_t pkt_flags)
{
	_Static_assert(RINGFAN_PKT_VLAN_VALID == 1, "one bit, times 4");
	return (uint64_t)len +
	    (uint64_t)(pkt_flags & RINGFAN_PKT_VLAN_VALID) * 4;
}

/*
 * The next frame of the block as a view into the ring, or false at the end
 * of the block (w->bad tells whether the end was a malformed frame).  The
 * view's linktype is the caller's: it never changes in a ring.
 */
static inline bool
ring_walk_next(struct ring_walk *w, struct ringfan_packet *pkt)
{
	const struct tpacket3_hdr *h;
	const struct sockaddr_ll *sll;
	uint32_t status;
	uint8_t flags;

	if (w->left == 0)
		return false;
	h = (const struct tpacket3_hdr *)w->hdr;
	if (!ring_walk_fits(w, h))
		return false;
	sll = (const struct sockaddr_ll *)(w->hdr + RING_SLL_OFF);

	pkt->data = w->hdr + h->tp_mac;
	memcpy(&pkt->caplen, &h->tp_snaplen, 8);	/* and len */
	pkt->ts_ns = ring_frame_ns(h);
	pkt->rxhash = h->hv1.tp_rxhash;
	flags = h->tp_snaplen < h->tp_len ? RINGFAN_PKT_TRUNCATED : 0;
	status = h->tp_status;
	if (__builtin_expect(status & TP_STATUS_VLAN_VALID, 0)) {
		flags |= RINGFAN_PKT_VLAN_VALID;
		pkt->vlan_tci = (uint16_t)h->hv1.tp_vlan_tci;
		pkt->vlan_tpid = 0;
		if (status & TP_STATUS_VLAN_TPID_VALID) {
			flags |= RINGFAN_PKT_TPID_VALID;
			pkt->vlan_tpid = (uint16_t)h->hv1.tp_vlan_tpid;
		}
	} else {
		pkt->vlan_tci = 0;
		pkt->vlan_tpid = 0;
	}
	pkt->flags = flags;
	pkt->pkttype = sll->sll_pkttype;
	ring_walk_advance(w, h, true);
	return true;
}

/*
 * The frames from `first` on, n of them, that ring_walk_count() walked:
 * how many came with a VLAN tag the kernel stripped.  Every offset it
 * follows was checked by that walk.
 */
static inline uint32_t
ring_walk_tags(const uint8_t *first, uint32_t n)
{
	const struct tpacket3_hdr *h;
	uint32_t tags = 0;

	for (; n > 0; n--) {
		h = (const struct tpacket3_hdr *)first;
		tags += (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
		first += h->tp_next_offset;
	}
	return tags;
}

/*
 * The rest of the block as ring_walk_next() would walk it, counted and
 * not viewed: for a pipeline with no stage.  Returns the frames, their
 * wire length in *bytes (ring_wire_len()) and the receive time of the
 * last in *last_ns (untouched when there is none).  The frames' status
 * words are or'ed, one instruction a frame, and a block where one of
 * them says a tag was stripped is walked again to count those tags.
 */
static inline uint32_t
ring_walk_count(struct ring_walk *w, uint64_t *bytes, uint64_t *last_ns)
{
	const struct tpacket3_hdr *h, *last = NULL;
	const uint8_t *first = w->hdr;
	uint64_t sum = 0;
	uint32_t n = 0, status = 0;

	while (w->left > 0) {
		h = (const struct tpacket3_hdr *)w->hdr;
		if (!ring_walk_fits(w, h))
			break;
		sum += h->tp_len;
		status |= h->tp_status;
		n++;
		last = h;
		ring_walk_advance(w, h, false);
	}
	if (__builtin_expect(status & TP_STATUS_VLAN_VALID, 0))
		sum += 4 * (uint64_t)ring_walk_tags(first, n);
	if (last != NULL)
		*last_ns = ring_frame_ns(last);
	*bytes = sum;
	return n;
}

#endif

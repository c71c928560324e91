/*
 * flowtable: the parts shared by its four files.
 *
 *	flowtable.c		ABI glue, options, frames to flow keys
 *	flowtable_table.c	the table in host memory: journal, indexes,
 *				expiry, recovery
 *	flowtable_record.c	JSON records, the output file, and the check
 *				of that file after a crash
 *	flowtable_ipfix.c	the same records as IPFIX to a collector
 */
#ifndef FLOWTABLE_H
#define FLOWTABLE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ringfan/plugin.h>

#include "flowtable_ipfix.h"

#define FT_LAYOUT	4		/* host memory layout version */
#define FT_MAGIC	0x4c425446	/* "FTBL" */
#define FT_MAX_FLOWS	(1u << 22)	/* 512 MiB of entries at most */
#define FT_NPEND	256		/* records between export and write */
#define FT_NFRAG	1024		/* fragment table slots */
#define FT_FRAG_TTL	(30ULL * 1000000000ULL)	/* as Linux's ipfrag_time */
#define FT_LINE_MAX	512		/* longest record, newline included */
#define FT_JREC		2		/* images in one journal transaction */
#define FT_IMAGE	128		/* largest image: one flow entry */
#define FT_NONE		UINT32_MAX

enum ft_reason {
	FT_IDLE = 1, FT_ACTIVE, FT_END, FT_EVICTED, FT_SHUTDOWN, FT_CLOCK,
	FT_NREASON
};

/* ft_flow.state */
enum { FT_FREE = 0, FT_LIVE = 1, FT_PENDING = 2 };

/*
 * One flow, in host memory.  Slots [0, max_flows) hold the table; slots
 * [max_flows, max_flows + FT_NPEND) hold frozen copies of records that are
 * exported but not yet known to be in the output file (FT_PENDING).  The
 * endpoint that sent the first frame is src, direction 0.
 */
struct ft_flow {
	uint8_t		 state;		/* FT_FREE, FT_LIVE, FT_PENDING */
	uint8_t		 reason;	/* enum ft_reason, when pending */
	uint8_t		 ipver;		/* 4 or 6 */
	uint8_t		 proto;
	uint8_t		 ended;		/* FIN or RST seen */
	uint8_t		 has_vlan;
	uint16_t	 vlan;
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 tcp_flags[2];
	uint16_t	 pad0;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	/*
	 * The earliest and the latest stamp of the frames this record
	 * counts, in whatever order they came; both 0 in a restarted flow
	 * with no frame.
	 */
	uint64_t	 first_ns;
	uint64_t	 last_ns;
	uint64_t	 packets[2];
	uint64_t	 bytes[2];
	/*
	 * Orders that the indexes keep, saved so that they can be rebuilt
	 * after a crash exactly as they were: the flow's start (first frame
	 * since it was created or restarted), its latest frame, and the
	 * order of pending records.
	 */
	uint64_t	 start_seq;
	uint64_t	 touch_seq;
	uint64_t	 pend_seq;
	/*
	 * The latest stamp of the frames that the flow's earlier records
	 * counted (0 before its first restart): its idle clock runs from
	 * the later of this and last_ns (flowtable_table.c).
	 */
	uint64_t	 prev_ns;
};
_Static_assert(sizeof(struct ft_flow) == FT_IMAGE, "ft_flow is 128 bytes");

/* A first fragment's ports, for the later fragments of its datagram. */
struct ft_frag {
	uint8_t		 valid;
	uint8_t		 ipver;
	uint8_t		 proto;
	uint8_t		 has_vlan;
	uint16_t	 vlan;
	uint16_t	 sport;
	uint16_t	 dport;
	uint16_t	 pad0;
	uint32_t	 id;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint64_t	 ts_ns;
	uint64_t	 pad1;
};
_Static_assert(sizeof(struct ft_frag) == 64, "ft_frag is 64 bytes");

/* One image of a transaction: len bytes for offset off of the region. */
struct ft_jrec {
	uint64_t	 off;
	uint32_t	 len;
	uint32_t	 pad;
	uint8_t		 data[FT_IMAGE];
};

/*
 * The redo journal: every change of the region but a touch (below) is one
 * transaction of at most FT_JREC images, applied by ft_txn_commit() as
 * journal, commit, copy, uncommit.  See the invariant in flowtable_table.c.
 */
struct ft_journal {
	uint64_t	 commit;	/* 1: the images are to be applied */
	uint32_t	 n;
	uint32_t	 pad;
	struct ft_jrec	 rec[FT_JREC];
};

/*
 * The other kind of transaction: a frame of a flow that has begun, which
 * changes only these of its fields.  The record holds their new values
 * rather than an image of the entry; ft_touch() fills it, sets `commit`,
 * stores the values into the flow and clears `commit`, as ft_txn_commit()
 * does with images.
 */
struct ft_touch {
	uint64_t	 commit;	/* 1: the values are to be stored */
	uint32_t	 slot;
	uint8_t		 dir;
	uint8_t		 tcp_flags;	/* the direction's, the frame's or'ed */
	uint8_t		 ended;
	uint8_t		 pad;
	uint64_t	 last_ns;
	uint64_t	 packets;	/* the direction's, the frame counted */
	uint64_t	 bytes;
	uint64_t	 touch_seq;
};

/* The start of the host memory; the slots and the fragments follow. */
struct ft_region {
	uint32_t	 magic;
	uint32_t	 layout;
	uint32_t	 max_flows;
	uint32_t	 nslots;
	uint32_t	 nfrag;
	uint32_t	 flow_size;
	/*
	 * The output file's size before the write that began the pending
	 * records: any of them that reached the file lies after it.
	 */
	uint64_t	 export_from;
	/*
	 * IPFIX records waiting in the worker's heap (flowtable_ipfix.c),
	 * stored as their number changes: a successor counts what a worker
	 * that died left here as dropped.  The high 32 bits: the sequence
	 * number the successor's records go on from.
	 */
	uint64_t	 ix_waiting;
	struct ft_journal j;
	struct ft_touch	 t;
};

#define FT_SLOTS_OFF \
	((sizeof(struct ft_region) + 63) & ~(size_t)63)

struct ft_opts {
	uint64_t	 max_flows;
	uint64_t	 idle_ns;
	uint64_t	 active_ns;
	uint64_t	 linger_ns;
	const char	*output;	/* the template, with {worker}; or NULL */
	struct ix_opts	 ix;
};

/* A flow's key, oriented as the frame in hand has it. */
struct ft_key {
	uint8_t		 ipver;
	uint8_t		 proto;
	uint8_t		 has_vlan;
	uint16_t	 vlan;
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 src[16];
	uint8_t		 dst[16];
};

enum {
	FC_CREATED, FC_IDLE, FC_ACTIVE, FC_END, FC_EVICTED, FC_SHUTDOWN,
	FC_RECORDS, FC_LOST, FC_WRITE_ERRORS, FC_NOT_IP, FC_BAD_IP,
	FC_FRAG_ORPHANS, FC_RECOVERIES, FC_CLOCK, FC_MAX
};

/*
 * A table slot's links in the hash chain and its LRU list, side by side:
 * a frame that moves its flow reads and writes one line of them.
 */
struct ft_link {
	uint32_t		 hnext;
	uint32_t		 lprev, lnext;	/* LRU lists */
	uint32_t		 pad;
};

/*
 * What packet needs of a frame's decoding, built from a decoder's result
 * kept on the stack, so that the compiler drops the fields nobody reads.
 */
struct ft_frame {
	uint32_t		 flags;		/* RINGFAN_DEC_* */
	uint32_t		 frag_id;
	uint16_t		 ethertype;
	uint8_t			 tcp_flags;	/* TCP with L4, else 0 */
	uint8_t			 pad;
	struct ft_key		 k;		/* k.ipver 0: not a flow */
};

/*
 * A frame decoded by the prefetch callback, kept for its packet call, which
 * finds it by the frame's data pointer, time and lengths (flowtable.c).
 */
struct ft_ahead {
	const uint8_t		*data;
	uint64_t		 ts_ns;
	uint32_t		 caplen;
	uint32_t		 len;
	int			 hashed;	/* the key is known: not a later
						   fragment, an IP frame */
	uint32_t		 hash;		/* if hashed: fr.k's ft_key_hash() */
	struct ft_frame		 fr;
};

struct ft {
	struct ringfan_ctx	*ctx;
	struct ft_opts		 o;
	unsigned		 worker;
	int			 per_worker;	/* {worker} in the path */
	char			 path[PATH_MAX];
	int			 fd;		/* -1 until it opens */
	int			 failing;	/* status shown; 2: lost */
	uint64_t		 checked_ns;	/* path last compared with fd */
	int			 closing;	/* in close: retry anyway */
	struct ix		*ix;		/* NULL without ipfix */

	/* Host memory. */
	uint8_t			*base;
	struct ft_region	*rg;
	struct ft_flow		*slot;
	struct ft_frag		*frag;
	uint32_t		 max_flows;
	uint32_t		 nslots;

	/* Indexes, in private memory, rebuilt from the slots. */
	uint64_t		 hseed;
	uint32_t		 hmask;
	uint32_t		*hhead;
	struct ft_link		*link;		/* per slot */
	uint32_t		 lhead[2], ltail[2]; /* 0 open, 1 ended */
	uint32_t		*fprev, *fnext;	/* by start, for active */
	uint32_t		 fhead, ftail;
	uint32_t		*tfree;		/* free table slots */
	uint32_t		 ntfree;
	uint32_t		 pfree[FT_NPEND]; /* free pending slots */
	uint32_t		 npfree;
	uint32_t		 live;		/* table slots in use */
	uint64_t		 seq;
	uint64_t		 now;
	/*
	 * No timeout is due before this network time: at most the earliest
	 * deadline of the two LRU tails and the oldest start (ft_expire).
	 */
	uint64_t		 due;

	/*
	 * Records on their way out: the pending slots pend[0 .. npend),
	 * oldest first; their lines fill buf up to buflen, line i ending at
	 * pend_end[i].
	 */
	uint32_t		 pend[FT_NPEND];
	size_t			 pend_end[FT_NPEND];
	uint32_t		 npend;
	char			*buf;
	size_t			 buflen;

	/*
	 * Frames decoded ahead: ahead[i % RINGFAN_PREFETCH_AHEAD] for
	 * taken <= i < put.
	 */
	struct ft_ahead		 ahead[RINGFAN_PREFETCH_AHEAD];
	uint32_t		 put;
	uint32_t		 taken;

	uint64_t		*c[FC_MAX];
	uint64_t		*g_active;
	uint64_t		*g_fill;
};

/* flowtable_table.c */
uint64_t	 ft_region_size(uint64_t max_flows);
int		 ft_table_open(struct ft *ft, void *mem, uint64_t size,
		    int state, uint32_t layout);
void		 ft_table_free(struct ft *ft);
void		 ft_txn_begin(struct ft *ft);
void		*ft_txn_add(struct ft *ft, void *target, size_t len);
void		 ft_txn_commit(struct ft *ft);
void		 ft_expire(struct ft *ft, uint64_t now);
void		 ft_account(struct ft *ft, const struct ft_key *k,
		    uint32_t hash, uint64_t ts, uint32_t len,
		    uint8_t tcp_flags, struct ft_frag *fslot,
		    const struct ft_frag *fimg);
void		 ft_shutdown(struct ft *ft);
void		 ft_clock_back(struct ft *ft, uint64_t ts);
void		 ft_gauges(struct ft *ft);
void		 ft_free_pending(struct ft *ft, uint32_t i);

/*
 * The per-frame helpers that flowtable.c calls on every prefetch: here,
 * so that they are inlined there.
 */
static inline uint64_t
ft_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
}

static inline uint64_t
ft_rot(uint64_t v, unsigned n)
{
	return v << n | v >> (-n & 63);
}

static inline uint64_t
ft_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The same for both directions: the endpoints in a fixed order.  Any total
 * order does, as the hash is private and rebuilt with the indexes: that of
 * the addresses' two native words, then the ports, costs no call.  Each
 * word is multiplied on its own (the seed, turned a different way for
 * each, in every product) and the products folded with one last mix: the
 * longest chain of dependent steps is two products, where one mix after
 * another was five, and the bucket's prefetch goes out that much sooner
 * (docs/performance.md).  The products are turned each by its own amount
 * before they are folded: the top bit of a product flips with the top bit
 * of its word whatever the seed, and two words' top bits flipped together
 * would otherwise cancel, giving two keys the same hash under every seed.
 */
static inline uint32_t
ft_hash(const struct ft *ft, uint64_t head, const uint8_t *a, uint16_t ap,
    const uint8_t *b, uint16_t bp)
{
	uint64_t a0 = ft_load64(a), a1 = ft_load64(a + 8);
	uint64_t b0 = ft_load64(b), b1 = ft_load64(b + 8);
	uint64_t h, t, s = ft->hseed;
	uint16_t tp;

	if (a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && ap > bp)))) {
		t = a0, a0 = b0, b0 = t;
		t = a1, a1 = b1, b1 = t;
		tp = ap, ap = bp, bp = tp;
	}
	h = (head ^ ((uint64_t)ap << 48 | (uint64_t)bp << 32) ^ s) *
	    0x9e3779b97f4a7c15ULL;
	h ^= ft_rot((a0 ^ ft_rot(s, 13)) * 0xc2b2ae3d27d4eb4fULL, 9);
	h ^= ft_rot((a1 ^ ft_rot(s, 29)) * 0x165667b19e3779f9ULL, 17);
	h ^= ft_rot((b0 ^ ft_rot(s, 43)) * 0xd6e8feb86659fd93ULL, 31);
	h ^= ft_rot((b1 ^ ft_rot(s, 53)) * 0xff51afd7ed558ccdULL, 47);
	h = ft_mix(h, h >> 32);
	return (uint32_t)(h ^ h >> 32);
}

static inline uint64_t
ft_head(uint8_t ipver, uint8_t proto, uint8_t has_vlan, uint16_t vlan)
{
	/* Bits 32 to 63 are left for the ports (ft_hash). */
	return (uint64_t)ipver | (uint64_t)has_vlan << 4 |
	    (uint64_t)proto << 8 | (uint64_t)vlan << 16;
}

/*
 * A frame's time, and the network time, as the table keeps them: at most
 * FT_TIME_MAX (2553-07-21T23:34:33Z), a year of the longest timeout short
 * of the last time 64-bit nanoseconds hold, so that no deadline (a time
 * plus a timeout or the fragments' TTL) wraps back to 1970.  Frames of a
 * file stamped later count as stamped then.
 */
#define FT_MAX_DURATION	(8760ULL * 3600ULL * 1000000000ULL)	/* a year */
#define FT_TIME_MAX	(UINT64_MAX - FT_MAX_DURATION)

static inline uint64_t
ft_clock(uint64_t ts)
{
	return ts < FT_TIME_MAX ? ts : FT_TIME_MAX;
}

static inline uint32_t
ft_key_hash(const struct ft *ft, const struct ft_key *k)
{
	return ft_hash(ft, ft_head(k->ipver, k->proto, k->has_vlan, k->vlan),
	    k->src, k->sport, k->dst, k->dport);
}

/* flowtable_record.c */
size_t		 ft_format(const struct ft_flow *f, unsigned worker, char *out,
		    size_t cap);
void		 ft_queue(struct ft *ft, uint32_t pslot);
int		 ft_flush(struct ft *ft);
void		 ft_output_open(struct ft *ft);
void		 ft_output_lost(struct ft *ft);
/* Reopens the output when its path names another file (log rotation). */
void		 ft_output_check(struct ft *ft, uint64_t now_ns);
void		 ft_recover_pending(struct ft *ft, const uint32_t *idx,
		    uint32_t n);

#ifdef FT_TESTING
/* Points where a unit test copies the region, as a crash would leave it. */
enum {
	FT_HOOK_COMMITTED,	/* journal or touch committed, not applied */
	FT_HOOK_APPLIED_ONE,	/* the first image applied, not the rest; or
				   a touch's packets stored, not its bytes */
	FT_HOOK_BEFORE_WRITE,	/* records pending, write(2) not yet called */
	FT_HOOK_AFTER_WRITE,	/* written, pending slots not yet freed */
	FT_HOOK_TOUCH_FILL,	/* a touch record half filled, not committed */
	FT_HOOK_TOUCH_STORE,	/* after each store of a committed touch */
	FT_HOOK_QUEUED		/* an IPFIX record queued, the flow's end
				   not yet committed */
};
extern void	(*ft_test_hook)(struct ft *ft, int point);
#define FT_HOOK(ft, p) \
	do { if (ft_test_hook != NULL) ft_test_hook((ft), (p)); } while (0)
#else
#define FT_HOOK(ft, p) do { } while (0)
#endif

#endif

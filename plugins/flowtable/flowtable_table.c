/*
 * flowtable: the table.
 *
 * The flows live in host memory so that a worker killed at any instruction
 * loses none of them.  The rule that makes that work:
 *
 *	Every change of the region is a transaction of the redo journal in
 *	its header.  ft_txn_add() copies the target's bytes into the journal
 *	and the caller edits that copy; ft_txn_commit() sets `commit`, copies
 *	the images over their targets, and clears `commit`, with a compiler
 *	barrier between each step.  A kill before `commit` is set leaves the
 *	targets as they were; a kill after it leaves a journal that the
 *	successor applies again, and applying whole images twice is the same
 *	as once.  So every transaction happens entirely or not at all, and a
 *	frame is counted wholly in its flow or not at all.
 *
 *	A frame of a flow that has begun (the common case) changes a few
 *	fields only: it is a transaction of the touch record (ft_touch(),
 *	struct ft_touch), which holds their new values instead of images and
 *	follows the same steps: fill, commit, store, uncommit.  Storing the
 *	same values twice is the same as once, so a successor that finds it
 *	committed stores them again.  At most one of the two is committed at
 *	any time: each clears `commit` before the next transaction begins.
 *
 *	A record leaves the table through a pending slot: one transaction
 *	copies the flow into a pending slot (state FT_PENDING, with its
 *	reason) and frees or restarts the flow; the slot is freed by another
 *	only once write(2) has put the record's line in the output file.
 *	Before the write that begins a group of pending lines, the file's
 *	size goes to export_from.  A successor finds each pending slot's line
 *	after export_from in the file, or writes it: no record is lost or
 *	written twice (flowtable_record.c).
 *
 *	The indexes (hash chains, the two LRU lists, the list by start) are
 *	private and rebuilt from the slots when the region is recovered: the
 *	slots keep the sequence numbers that order the lists.
 *
 * Kill and reread happen in the same machine, so stores need no ordering
 * towards other CPUs: the successor runs after the process is gone, and
 * sees every store the dead one made in program order.  Only the compiler
 * must keep them in that order, which atomic_signal_fence() does.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "flowtable.h"

#define FT_BARRIER()	atomic_signal_fence(memory_order_seq_cst)

#ifdef FT_TESTING
void	(*ft_test_hook)(struct ft *, int);
#endif

/* The counter each reason adds to. */
static const int ft_reason_counter[FT_NREASON] = {
	[FT_IDLE] = FC_IDLE,
	[FT_ACTIVE] = FC_ACTIVE,
	[FT_END] = FC_END,
	[FT_EVICTED] = FC_EVICTED,
	[FT_SHUTDOWN] = FC_SHUTDOWN,
	[FT_CLOCK] = FC_CLOCK,
};

uint64_t
ft_region_size(uint64_t max_flows)
{
	return FT_SLOTS_OFF + (max_flows + FT_NPEND) * sizeof(struct ft_flow) +
	    FT_NFRAG * sizeof(struct ft_frag);
}

void
ft_txn_begin(struct ft *ft)
{
	ft->rg->j.n = 0;
}

void *
ft_txn_add(struct ft *ft, void *target, size_t len)
{
	struct ft_journal *j = &ft->rg->j;
	struct ft_jrec *r = &j->rec[j->n];

	r->off = (uint64_t)((uint8_t *)target - ft->base);
	r->len = (uint32_t)len;
	memcpy(r->data, target, len);
	j->n++;
	return r->data;
}

/* Copies the committed images over their targets. */
static void
ft_txn_apply(struct ft *ft)
{
	struct ft_journal *j = &ft->rg->j;

	for (uint32_t i = 0; i < j->n; i++) {
		memcpy(ft->base + j->rec[i].off, j->rec[i].data,
		    j->rec[i].len);
		if (i == 0)
			FT_HOOK(ft, FT_HOOK_APPLIED_ONE);
	}
}

void
ft_txn_commit(struct ft *ft)
{
	volatile uint64_t *commit = &ft->rg->j.commit;

	FT_BARRIER();
	*commit = 1;
	FT_BARRIER();
	FT_HOOK(ft, FT_HOOK_COMMITTED);
	ft_txn_apply(ft);
	FT_BARRIER();
	*commit = 0;
	FT_BARRIER();
}

/* A journal left committed by a predecessor: checked, then applied. */
static void
ft_txn_replay(struct ft *ft, uint64_t size)
{
	struct ft_journal *j = &ft->rg->j;

	if (j->commit != 1)
		return;
	if (j->n > FT_JREC)
		goto out;
	/* off + len could wrap: both compared with what lies before size. */
	for (uint32_t i = 0; i < j->n; i++)
		if (j->rec[i].len > FT_IMAGE || j->rec[i].off < FT_SLOTS_OFF ||
		    j->rec[i].off > size || j->rec[i].len > size - j->rec[i].off)
			goto out;
	ft_txn_apply(ft);
out:
	FT_BARRIER();
	j->commit = 0;
	FT_BARRIER();
}

/* Stores a committed touch record's values into its flow. */
static void
ft_touch_apply(struct ft *ft)
{
	const struct ft_touch *t = &ft->rg->t;
	struct ft_flow *f = &ft->slot[t->slot];

	f->packets[t->dir] = t->packets;
	FT_HOOK(ft, FT_HOOK_APPLIED_ONE);
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
	f->bytes[t->dir] = t->bytes;
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
	f->tcp_flags[t->dir] = t->tcp_flags;
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
	f->ended = t->ended;
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
	f->last_ns = t->last_ns;
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
	f->touch_seq = t->touch_seq;
	FT_HOOK(ft, FT_HOOK_TOUCH_STORE);
}

/* The touch record, filled: committed, applied, uncommitted. */
static void
ft_touch_commit(struct ft *ft)
{
	volatile uint64_t *commit = &ft->rg->t.commit;

	FT_BARRIER();
	*commit = 1;
	FT_BARRIER();
	FT_HOOK(ft, FT_HOOK_COMMITTED);
	ft_touch_apply(ft);
	FT_BARRIER();
	*commit = 0;
	FT_BARRIER();
}

/* A touch record left committed: applied when it names a live flow. */
static void
ft_touch_replay(struct ft *ft)
{
	struct ft_touch *t = &ft->rg->t;

	if (t->commit != 1)
		return;
	if (t->slot < ft->max_flows && t->dir <= 1 && t->ended <= 1 &&
	    ft->slot[t->slot].state == FT_LIVE)
		ft_touch_apply(ft);
	FT_BARRIER();
	t->commit = 0;
	FT_BARRIER();
}

static uint32_t
ft_hash_flow(const struct ft *ft, const struct ft_flow *f)
{
	return ft_hash(ft, ft_head(f->ipver, f->proto, f->has_vlan, f->vlan),
	    f->src, f->sport, f->dst, f->dport);
}

/* Two 16-byte addresses, as two words each rather than a call. */
static int
ft_addr_eq(const uint8_t *a, const uint8_t *b)
{
	return ((ft_load64(a) ^ ft_load64(b)) |
	    (ft_load64(a + 8) ^ ft_load64(b + 8))) == 0;
}

/* 0: the key is the flow's direction 0; 1: its reverse; -1: not it. */
static int
ft_match(const struct ft_flow *f, const struct ft_key *k)
{
	if (f->ipver != k->ipver || f->proto != k->proto ||
	    f->has_vlan != k->has_vlan || f->vlan != k->vlan)
		return -1;
	if (f->sport == k->sport && f->dport == k->dport &&
	    ft_addr_eq(f->src, k->src) && ft_addr_eq(f->dst, k->dst))
		return 0;
	if (f->sport == k->dport && f->dport == k->sport &&
	    ft_addr_eq(f->src, k->dst) && ft_addr_eq(f->dst, k->src))
		return 1;
	return -1;
}

static void
ft_hash_insert(struct ft *ft, uint32_t i)
{
	uint32_t b = ft_hash_flow(ft, &ft->slot[i]) & ft->hmask;

	ft->link[i].hnext = ft->hhead[b];
	ft->hhead[b] = i;
}

static void
ft_hash_remove(struct ft *ft, uint32_t i)
{
	uint32_t *p = &ft->hhead[ft_hash_flow(ft, &ft->slot[i]) & ft->hmask];

	while (*p != FT_NONE && *p != i)
		p = &ft->link[*p].hnext;
	if (*p == i)
		*p = ft->link[i].hnext;
}

/*
 * When the timeouts are due.  ft_expire() looks at the tails of the two
 * LRU lists (idle, then linger for flows that ended) and the head of the
 * list by start (active), and does nothing before ft->due, which is never
 * after any of their deadlines.  A deadline of those three only grows but
 * when another flow takes the place, or a flow's first frame moves back
 * (a file out of order): each of those lowers ft->due to the new one, and
 * ft_expire() sets it exactly once it has run.
 */
static uint64_t
ft_lru_deadline(const struct ft *ft, uint32_t i, int l)
{
	const struct ft_flow *f = &ft->slot[i];
	uint64_t seen = f->last_ns > f->prev_ns ? f->last_ns : f->prev_ns;

	return seen + (l ? ft->o.linger_ns : ft->o.idle_ns);
}

static uint64_t
ft_fifo_deadline(const struct ft *ft, uint32_t i)
{
	return ft->slot[i].first_ns + ft->o.active_ns;
}

static void
ft_due_by(struct ft *ft, uint64_t deadline)
{
	if (deadline < ft->due)
		ft->due = deadline;
}

/* The earliest of the three deadlines, UINT64_MAX without flows. */
static uint64_t
ft_next_due(const struct ft *ft)
{
	uint64_t due = UINT64_MAX, d;

	for (int l = 0; l < 2; l++)
		if (ft->ltail[l] != FT_NONE &&
		    (d = ft_lru_deadline(ft, ft->ltail[l], l)) < due)
			due = d;
	if (ft->fhead != FT_NONE &&
	    (d = ft_fifo_deadline(ft, ft->fhead)) < due)
		due = d;
	return due;
}

/* LRU lists: head the latest seen, tail the least recently seen. */
static void
ft_lru_push(struct ft *ft, uint32_t i, int l)
{
	ft->link[i].lprev = FT_NONE;
	ft->link[i].lnext = ft->lhead[l];
	if (ft->lhead[l] != FT_NONE)
		ft->link[ft->lhead[l]].lprev = i;
	else {
		ft->ltail[l] = i;
		ft_due_by(ft, ft_lru_deadline(ft, i, l));
	}
	ft->lhead[l] = i;
}

static void
ft_lru_unlink(struct ft *ft, uint32_t i, int l)
{
	if (ft->link[i].lprev != FT_NONE)
		ft->link[ft->link[i].lprev].lnext = ft->link[i].lnext;
	else
		ft->lhead[l] = ft->link[i].lnext;
	if (ft->link[i].lnext != FT_NONE)
		ft->link[ft->link[i].lnext].lprev = ft->link[i].lprev;
	else if ((ft->ltail[l] = ft->link[i].lprev) != FT_NONE)
		ft_due_by(ft, ft_lru_deadline(ft, ft->ltail[l], l));
}

/* The list by start: head the oldest, for the active timeout. */
static void
ft_fifo_push(struct ft *ft, uint32_t i)
{
	ft->fnext[i] = FT_NONE;
	ft->fprev[i] = ft->ftail;
	if (ft->ftail != FT_NONE)
		ft->fnext[ft->ftail] = i;
	else {
		ft->fhead = i;
		ft_due_by(ft, ft_fifo_deadline(ft, i));
	}
	ft->ftail = i;
}

static void
ft_fifo_unlink(struct ft *ft, uint32_t i)
{
	if (ft->fprev[i] != FT_NONE)
		ft->fnext[ft->fprev[i]] = ft->fnext[i];
	else if ((ft->fhead = ft->fnext[i]) != FT_NONE)
		ft_due_by(ft, ft_fifo_deadline(ft, ft->fhead));
	if (ft->fnext[i] != FT_NONE)
		ft->fprev[ft->fnext[i]] = ft->fprev[i];
	else
		ft->ftail = ft->fprev[i];
}

void
ft_gauges(struct ft *ft)
{
	*ft->g_active = ft->live;
	*ft->g_fill = (uint64_t)ft->live * 100 / ft->max_flows;
}

void
ft_free_pending(struct ft *ft, uint32_t i)
{
	struct ft_flow *img;

	ft_txn_begin(ft);
	img = ft_txn_add(ft, &ft->slot[i], sizeof(*img));
	memset(img, 0, sizeof(*img));
	ft_txn_commit(ft);
	ft->pfree[ft->npfree++] = i;
}

/*
 * Writes flow i with `reason`: into a pending slot, in one transaction with
 * the flow's end (or, for the active timeout, its restart with zero counts,
 * same key, same src).  A flow without frames (restarted, then quiet) ends
 * without a record.  With every pending slot taken and the output failing,
 * the record is lost, and counted.
 *
 * A restart zeroes the record's counts, flags and both its times: frames
 * out of time order can give the next record only frames older than the
 * latest of this one.  That latest goes to prev_ns, from which the flow's
 * idle clock goes on, so the restart moves no deadline of the LRU lists.
 */
static void
ft_export(struct ft *ft, uint32_t i, int reason)
{
	struct ft_flow *f = &ft->slot[i], *img;
	uint32_t p = FT_NONE;
	int had = f->packets[0] + f->packets[1] != 0;
	int keep = reason == FT_ACTIVE;
	int ended = f->ended;
	uint64_t started = f->start_seq;

	if (had && ft->npfree == 0 && (!ft->failing || ft->closing))
		ft_flush(ft);
	/* The IPFIX record, from the flow before its end is committed. */
	if (had && ft->ix != NULL)
		ix_add(ft->ix, f, reason);
	FT_HOOK(ft, FT_HOOK_QUEUED);
	ft_txn_begin(ft);
	if (had && ft->npfree > 0) {
		p = ft->pfree[--ft->npfree];
		img = ft_txn_add(ft, &ft->slot[p], sizeof(*img));
		*img = *f;
		img->state = FT_PENDING;
		img->reason = (uint8_t)reason;
		img->pend_seq = ++ft->seq;
	}
	img = ft_txn_add(ft, f, sizeof(*img));
	if (keep) {
		if (img->last_ns > img->prev_ns)
			img->prev_ns = img->last_ns;
		img->first_ns = 0;
		img->last_ns = 0;
		img->start_seq = 0;
		memset(img->packets, 0, sizeof(img->packets));
		memset(img->bytes, 0, sizeof(img->bytes));
		memset(img->tcp_flags, 0, sizeof(img->tcp_flags));
	} else {
		/*
		 * At close the hash and the LRU lists are freed with the
		 * table, unread: they are not kept up (the list by start
		 * drives ft_shutdown()).
		 */
		if (!ft->closing)
			ft_hash_remove(ft, i);	/* needs the key: before commit */
		memset(img, 0, sizeof(*img));
	}
	ft_txn_commit(ft);
	if (had && ft->ix != NULL)
		ix_added(ft->ix);
	if (started != 0)
		ft_fifo_unlink(ft, i);
	if (!keep) {
		if (!ft->closing)
			ft_lru_unlink(ft, i, ended);
		ft->tfree[ft->ntfree++] = i;
		ft->live--;
	}
	if (p != FT_NONE) {
		++*ft->c[ft_reason_counter[reason]];
		ft_queue(ft, p);
	} else if (had)
		ft_output_lost(ft);
}

/*
 * Why flow i, whose idle timeout (l 0) or linger (l 1) has run out, ends:
 * by its active timeout when that ran out first.  The record is the same
 * whether or not a frame or a tick came between the two (frames of other
 * flows do, or do not, and so does a tick of another worker).  Written
 * `active`, the flow restarts with no frame; the next look at the list
 * ends it without a record.
 */
static int
ft_lru_reason(const struct ft *ft, uint32_t i, int l)
{
	if (ft->slot[i].start_seq != 0 &&
	    ft_fifo_deadline(ft, i) < ft_lru_deadline(ft, i, l))
		return FT_ACTIVE;
	return l ? FT_END : FT_IDLE;
}

void
ft_expire(struct ft *ft, uint64_t now)
{
	uint32_t i;

#ifdef FT_TESTING
	/* The rule that lets a frame skip the lists below. */
	if (ft->due > ft_next_due(ft))
		abort();
#endif
	if (now < ft->due)
		return;
	while ((i = ft->ltail[0]) != FT_NONE &&
	    ft_lru_deadline(ft, i, 0) <= now)
		ft_export(ft, i, ft_lru_reason(ft, i, 0));
	while ((i = ft->ltail[1]) != FT_NONE &&
	    ft_lru_deadline(ft, i, 1) <= now)
		ft_export(ft, i, ft_lru_reason(ft, i, 1));
	while ((i = ft->fhead) != FT_NONE && ft_fifo_deadline(ft, i) <= now)
		ft_export(ft, i, FT_ACTIVE);
	ft->due = ft_next_due(ft);
}

/* The least recently seen flow makes room. */
static void
ft_evict(struct ft *ft)
{
	uint32_t a = ft->ltail[0], b = ft->ltail[1];

	if (a == FT_NONE ||
	    (b != FT_NONE && ft->slot[b].touch_seq < ft->slot[a].touch_seq))
		a = b;
	if (a != FT_NONE)
		ft_export(ft, a, FT_EVICTED);
}

static uint32_t
ft_lookup(struct ft *ft, const struct ft_key *k, uint32_t hash, int *dir)
{
	uint32_t i = ft->hhead[hash & ft->hmask];

	for (; i != FT_NONE; i = ft->link[i].hnext)
		if ((*dir = ft_match(&ft->slot[i], k)) >= 0)
			return i;
	return FT_NONE;
}

/*
 * A frame of flow i, begun and found in direction dir, that changes no
 * more than the touch record holds: counted by one touch transaction.
 */
static void
ft_touch(struct ft *ft, uint32_t i, int dir, uint64_t ts, uint32_t len,
    uint8_t tcp_flags)
{
	struct ft_flow *f = &ft->slot[i];
	struct ft_touch *t = &ft->rg->t;
	int ended = f->ended;

	t->slot = i;
	t->dir = (uint8_t)dir;
	t->tcp_flags = f->tcp_flags[dir] | tcp_flags;
	t->ended = (uint8_t)(ended | ((tcp_flags & 0x05) != 0)); /* FIN, RST */
	t->last_ns = ts > f->last_ns ? ts : f->last_ns;
	t->packets = f->packets[dir] + 1;
	FT_HOOK(ft, FT_HOOK_TOUCH_FILL);
	t->bytes = f->bytes[dir] + len;
	t->touch_seq = ++ft->seq;
	ft_touch_commit(ft);
	/* The latest seen already heads its list: nothing moves. */
	if (f->ended == ended && ft->lhead[ended] == i)
		return;
	ft_lru_unlink(ft, i, ended);
	ft_lru_push(ft, i, f->ended);
}

/*
 * Flow i, found by a frame that ends it: idle (or lingered) out, though
 * not at the tail of its list (stamps that went back), or ended and met
 * by a new SYN.  Written with the timeout that ran out first, as a look at
 * the lists does (ft_lru_reason()), else `end`; one written `active`
 * restarts, and ends then without a record.  Out of line: ft_account()'s
 * frames that count stay as short as they were.
 */
static void __attribute__((noinline))
ft_end_found(struct ft *ft, uint32_t i)
{
	const struct ft_flow *f = &ft->slot[i];
	int reason;

	if (ft_lru_deadline(ft, i, f->ended) <= ft->now)
		reason = ft_lru_reason(ft, i, f->ended);
	else if (f->start_seq != 0 && ft_fifo_deadline(ft, i) <= ft->now)
		reason = FT_ACTIVE;
	else
		reason = FT_END;
	ft_export(ft, i, reason);
	if (reason == FT_ACTIVE)
		ft_export(ft, i, f->ended ? FT_END : FT_IDLE);
}

/*
 * One frame of len bytes at ts, of the flow k, whose ft_key_hash() is
 * hash.  fimg, when not NULL, is the new content of fragment slot fslot,
 * written in the same transaction as the count, so that the later
 * fragments follow the first exactly.
 */
void
ft_account(struct ft *ft, const struct ft_key *k, uint32_t hash, uint64_t ts,
    uint32_t len, uint8_t tcp_flags, struct ft_frag *fslot,
    const struct ft_frag *fimg)
{
	struct ft_flow *f, *img;
	struct ft_frag *fr;
	uint32_t i;
	uint64_t started;
	int dir = 0, ended, fresh = 0;

	if ((i = ft_lookup(ft, k, hash, &dir)) != FT_NONE) {
		f = &ft->slot[i];
		/*
		 * Timed out, or ended and met by a SYN without ACK, a new
		 * connection on the same ports: written (ft_end_found()).
		 */
		if (ft_lru_deadline(ft, i, f->ended) <= ft->now ||
		    (f->ended && (tcp_flags & 0x12) == 0x02)) {
			ft_end_found(ft, i);
			i = FT_NONE;
		} else if (f->start_seq != 0 &&
		    ft_fifo_deadline(ft, i) <= ft->now)
			ft_export(ft, i, FT_ACTIVE);
		/*
		 * Begun (start_seq), in order (first_ns stays), and no
		 * fragment slot to write: the touch record is enough.
		 */
		else if (f->start_seq != 0 && ts >= f->first_ns &&
		    fimg == NULL) {
			ft_touch(ft, i, dir, ts, len, tcp_flags);
			return;
		}
	}
	if (i == FT_NONE) {
		if (ft->ntfree == 0)
			ft_evict(ft);
		i = ft->tfree[ft->ntfree - 1];
		dir = 0;
		fresh = 1;
	}
	f = &ft->slot[i];
	/*
	 * A free slot is all zeroes as this table leaves it, but one that a
	 * recovered region holds may not be (a stray store): what it held
	 * goes, and a fresh flow is not on the list by start, whatever its
	 * start_seq said (else it was never pushed there, and unlinked from
	 * it at its end, breaking the list).
	 */
	ended = fresh ? 0 : f->ended;
	started = fresh ? 0 : f->start_seq;
	ft_txn_begin(ft);
	img = ft_txn_add(ft, f, sizeof(*img));
	if (fresh) {
		memset(img, 0, sizeof(*img));
		img->state = FT_LIVE;
		img->ipver = k->ipver;
		img->proto = k->proto;
		img->has_vlan = k->has_vlan;
		img->vlan = k->vlan;
		img->sport = k->sport;
		img->dport = k->dport;
		memcpy(img->src, k->src, 16);
		memcpy(img->dst, k->dst, 16);
	}
	if (img->start_seq == 0) {	/* created or restarted */
		img->first_ns = img->last_ns = ts;
		img->start_seq = ++ft->seq;
	}
	if (ts < img->first_ns)
		img->first_ns = ts;
	if (ts > img->last_ns)
		img->last_ns = ts;
	img->packets[dir]++;
	img->bytes[dir] += len;
	img->tcp_flags[dir] |= tcp_flags;
	if (tcp_flags & 0x05)		/* FIN, RST */
		img->ended = 1;
	img->touch_seq = ++ft->seq;
	if (fimg != NULL) {
		fr = ft_txn_add(ft, fslot, sizeof(*fr));
		*fr = *fimg;
	}
	ft_txn_commit(ft);
	if (fresh) {
		ft->ntfree--;
		ft->live++;
		ft_hash_insert(ft, i);
		++*ft->c[FC_CREATED];
	} else
		ft_lru_unlink(ft, i, ended);
	ft_lru_push(ft, i, f->ended);
	if (started == 0)
		ft_fifo_push(ft, i);
	else			/* its first frame may have moved back */
		ft_due_by(ft, ft_fifo_deadline(ft, i));
}

/*
 * A tick at ts, more than idle_timeout before the table's clock: the
 * clock was stepped back, and network time with it (live only: a file's
 * time never goes back).  Against the clock before the step every flow
 * after it would time out at each of its frames, one record a frame; the
 * flows open across the step are written now (reason active, counted as
 * clock: cut, and going on in new records, as by active_timeout), each a
 * complete record of the frames before the step (one restarted by its
 * active timeout, without a frame since, ends without one), and the
 * clock goes on from ts.
 */
void
ft_clock_back(struct ft *ft, uint64_t ts)
{
	uint32_t i;

	while (ft->fhead != FT_NONE)
		ft_export(ft, ft->fhead, FT_CLOCK);
	/* Flows restarted by an active timeout, without a frame since. */
	for (int l = 0; l < 2; l++)
		while ((i = ft->ltail[l]) != FT_NONE)
			ft_export(ft, i, FT_CLOCK);
	ft->now = ts;
	ft->due = ft_next_due(ft);
	ft->checked_ns = 0;	/* the output file looked at next tick */
}

/* At close: every flow with frames, oldest first, as shutdown. */
void
ft_shutdown(struct ft *ft)
{
	ft->closing = 1;
	while (ft->fhead != FT_NONE)
		ft_export(ft, ft->fhead, FT_SHUTDOWN);
	ft_flush(ft);
	if (ft->npend > 0) {
		*ft->c[FC_LOST] += ft->npend;
		ft->ctx->log(ft->ctx, RINGFAN_LOG_ERROR, "output %s: %u records "
		    "lost at close, %llu in all", ft->path, ft->npend,
		    (unsigned long long)*ft->c[FC_LOST]);
	}
}

struct ft_order {
	uint64_t	 key;
	uint32_t	 i;
};

static int
ft_order_cmp(const void *a, const void *b)
{
	const struct ft_order *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Sequence numbers grow by a few a frame: no table reaches this one.  A
 * slot that holds one as large was written over, and kept it would make
 * ft->seq wrap to 0, the start_seq of a flow not begun (its export would
 * then leave it on the list by start, and ft_expire() run for ever).
 */
#define FT_SEQ_LIMIT	(1ULL << 62)

static int
ft_flow_sane(const struct ft_flow *f)
{
	return (f->ipver == 4 || f->ipver == 6) && f->ended <= 1 &&
	    f->has_vlan <= 1 && f->vlan < 4096 &&
	    f->start_seq < FT_SEQ_LIMIT && f->touch_seq < FT_SEQ_LIMIT &&
	    f->pend_seq < FT_SEQ_LIMIT;
}

/*
 * Rebuilds the indexes from a region its predecessor left: the journal
 * first, then the lists in the order of the saved sequence numbers, then
 * the pending records against the output file.  -1 (errno) when memory
 * for the sort runs out.
 */
static int
ft_recover(struct ft *ft, uint64_t size)
{
	struct ft_order *ord;
	struct ft_flow *f;
	uint32_t n = 0, np = 0, *pidx = NULL;

	ft_txn_replay(ft, size);
	ft_touch_replay(ft);
	if ((ord = calloc(ft->nslots, sizeof(*ord))) == NULL)
		return -1;
	for (uint32_t i = 0; i < ft->nslots; i++) {
		f = &ft->slot[i];
		if (f->state == FT_FREE)
			continue;
		/* A slot in the wrong range or state is freed. */
		if ((f->state != (i < ft->max_flows ? FT_LIVE : FT_PENDING)) ||
		    !ft_flow_sane(f) || (f->state == FT_PENDING &&
		    (f->reason == 0 || f->reason >= FT_NREASON))) {
			ft_txn_begin(ft);
			memset(ft_txn_add(ft, f, sizeof(*f)), 0, sizeof(*f));
			ft_txn_commit(ft);
			continue;
		}
		if (f->start_seq > ft->seq)
			ft->seq = f->start_seq;
		if (f->touch_seq > ft->seq)
			ft->seq = f->touch_seq;
		if (f->pend_seq > ft->seq)
			ft->seq = f->pend_seq;
	}
	/* Free lists from the top, so that slot 0 is taken first again. */
	ft->ntfree = ft->npfree = 0;
	for (uint32_t i = ft->nslots; i-- > 0;) {
		if (ft->slot[i].state != FT_FREE)
			continue;
		if (i < ft->max_flows)
			ft->tfree[ft->ntfree++] = i;
		else
			ft->pfree[ft->npfree++] = i;
	}
	/* LRU: pushed oldest first, so that the latest ends at the head. */
	for (uint32_t i = 0; i < ft->max_flows; i++)
		if (ft->slot[i].state == FT_LIVE)
			ord[n++] = (struct ft_order){ ft->slot[i].touch_seq, i };
	qsort(ord, n, sizeof(*ord), ft_order_cmp);
	for (uint32_t k = 0; k < n; k++) {
		ft_hash_insert(ft, ord[k].i);
		ft_lru_push(ft, ord[k].i, ft->slot[ord[k].i].ended);
	}
	ft->live = n;
	n = 0;
	for (uint32_t i = 0; i < ft->max_flows; i++)
		if (ft->slot[i].state == FT_LIVE && ft->slot[i].start_seq != 0)
			ord[n++] = (struct ft_order){ ft->slot[i].start_seq, i };
	qsort(ord, n, sizeof(*ord), ft_order_cmp);
	for (uint32_t k = 0; k < n; k++)
		ft_fifo_push(ft, ord[k].i);
	n = 0;
	for (uint32_t i = ft->max_flows; i < ft->nslots; i++)
		if (ft->slot[i].state == FT_PENDING)
			ord[n++] = (struct ft_order){ ft->slot[i].pend_seq, i };
	qsort(ord, n, sizeof(*ord), ft_order_cmp);
	if (n > 0 && (pidx = calloc(n, sizeof(*pidx))) == NULL) {
		free(ord);
		return -1;
	}
	for (uint32_t k = 0; k < n; k++)
		pidx[np++] = ord[k].i;
	free(ord);
	ft_recover_pending(ft, pidx, np);
	free(pidx);
	return 0;
}

/*
 * A fresh region is zeroed already, and left so: the host hands back its
 * pages, and the table commits a page only once a flow lands in it.
 */
static void
ft_region_init(struct ft *ft, uint64_t size, int zero)
{
	if (zero)
		memset(ft->base, 0, size);
	ft->rg->layout = FT_LAYOUT;
	ft->rg->max_flows = ft->max_flows;
	ft->rg->nslots = ft->nslots;
	ft->rg->nfrag = FT_NFRAG;
	ft->rg->flow_size = sizeof(struct ft_flow);
	FT_BARRIER();
	ft->rg->magic = FT_MAGIC;
	FT_BARRIER();
	ft->ntfree = ft->npfree = 0;
	for (uint32_t i = ft->max_flows; i-- > 0;)
		ft->tfree[ft->ntfree++] = i;
	for (uint32_t i = ft->nslots; i-- > ft->max_flows;)
		ft->pfree[ft->npfree++] = i;
}

static int
ft_region_known(const struct ft *ft, uint32_t layout)
{
	const struct ft_region *rg = ft->rg;

	return layout == FT_LAYOUT && rg->magic == FT_MAGIC &&
	    rg->layout == FT_LAYOUT && rg->max_flows == ft->max_flows &&
	    rg->nslots == ft->nslots && rg->nfrag == FT_NFRAG &&
	    rg->flow_size == sizeof(struct ft_flow);
}

#define FT_HUGE	(2u << 20)	/* a transparent huge page */

/*
 * An index array, zeroed.  One of a MiB or more is looked up at random on
 * every frame: in huge pages where the kernel has them, so that the look
 * up costs no TLB miss.  A huge page needs the whole of its 2 MiB, so the
 * array is rounded up to them.  A hint only: without them it is the same
 * memory.
 */
static void *
ft_index_alloc(size_t n, size_t size)
{
	size_t len = n * size, whole;
	void *p;
	int err;

	if (len < FT_HUGE / 2)
		return calloc(n, size);
	whole = (len + FT_HUGE - 1) & ~(size_t)(FT_HUGE - 1);
	if ((err = posix_memalign(&p, FT_HUGE, whole)) != 0) {
		errno = err;
		return NULL;
	}
	(void)madvise(p, whole, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

/*
 * The table on the host memory mem: fresh, or recovered when state says
 * so and the layout is this one.  0, or -1 with errno.
 */
int
ft_table_open(struct ft *ft, void *mem, uint64_t size, int state,
    uint32_t layout)
{
	uint32_t nb = 16;
	size_t n;

	ft->max_flows = (uint32_t)ft->o.max_flows;
	ft->nslots = ft->max_flows + FT_NPEND;
	if (size < ft_region_size(ft->max_flows)) {
		errno = EINVAL;
		return -1;
	}
	ft->base = mem;
	ft->rg = mem;
	ft->slot = (struct ft_flow *)(ft->base + FT_SLOTS_OFF);
	ft->frag = (struct ft_frag *)(ft->slot + ft->nslots);
	while (nb < ft->max_flows)
		nb <<= 1;
	ft->hmask = nb - 1;
	n = ft->max_flows;
	if ((ft->hhead = ft_index_alloc(nb, sizeof(uint32_t))) == NULL ||
	    (ft->link = ft_index_alloc(n, sizeof(*ft->link))) == NULL ||
	    (ft->fprev = calloc(n, sizeof(uint32_t))) == NULL ||
	    (ft->fnext = calloc(n, sizeof(uint32_t))) == NULL ||
	    (ft->tfree = calloc(n, sizeof(uint32_t))) == NULL ||
	    (ft->buf = malloc((size_t)FT_NPEND * FT_LINE_MAX)) == NULL)
		return -1;
	memset(ft->hhead, 0xff, nb * sizeof(uint32_t));
	ft->lhead[0] = ft->lhead[1] = ft->ltail[0] = ft->ltail[1] = FT_NONE;
	ft->fhead = ft->ftail = FT_NONE;
	if (getrandom(&ft->hseed, sizeof(ft->hseed), GRND_NONBLOCK) !=
	    sizeof(ft->hseed))
		ft->hseed = 0x6a09e667f3bcc908ULL ^ (uintptr_t)ft;
	if (state == RINGFAN_MEMORY_RECOVERED && ft_region_known(ft, layout)) {
		++*ft->c[FC_RECOVERIES];
		return ft_recover(ft, size);
	}
	if (state == RINGFAN_MEMORY_RECOVERED)
		ft->ctx->log(ft->ctx, RINGFAN_LOG_WARN, "host memory of layout "
		    "%u, not %u, or of other options: starting afresh",
		    (unsigned)layout, FT_LAYOUT);
	ft_region_init(ft, size, state != RINGFAN_MEMORY_FRESH);
	return 0;
}

void
ft_table_free(struct ft *ft)
{
	free(ft->hhead);
	free(ft->link);
	free(ft->fprev);
	free(ft->fnext);
	free(ft->tfree);
	free(ft->buf);
}

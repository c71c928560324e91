/*
 * A pcap file read in place.
 *
 * libpcap reads a savefile record by record through stdio into one buffer
 * of its own: two fread() calls and a copy per frame, most of the cost of
 * `ringfan -r` with a light pipeline.  A classic pcap file (version 2.4,
 * microsecond or nanosecond, either byte order) that is a regular file,
 * its header at its start, is mapped instead, and its plain records are
 * handed over where they lie in the mapping: a 16-byte header, then caplen
 * bytes, caplen no more than the file's snapshot length and libpcap's
 * 262144, the fraction of its time in range.  Any other record (cut short,
 * longer than that, a fraction out of range, beyond the size the file had
 * when it was mapped) is read by libpcap itself: its stream is moved to
 * the record, and where libpcap leaves it is where the mapped walk goes
 * on.  So every frame, every error and the end of the file are libpcap's,
 * whichever reads them (tested against pcap_next_ex() in
 * tests/unit/test_pcapmap.c and tests/fuzz/fuzz_pcapmap.c); only a pcapng
 * section in the other byte order, which libpcap does not read and finds
 * fault with its length, is named for what it is (pcapmap.c).  Only link
 * types whose records libpcap hands over as they are in the file are
 * mapped (pcapmap.c); a pcapng file, a pipe, or stdin not at the start of
 * a file, is read by libpcap throughout.
 *
 * A frame read in place stays valid until pcap_map_close(); one read by
 * libpcap only until the next pcap_map_next().  A file cut shorter while
 * it is mapped reads as zeros to the end of the page of the cut and raises
 * SIGBUS beyond, where pcap_map_open()'s handler maps zeros over the rest
 * of the mapping: it reads as zeros to its end.  A cut at a record's start
 * ends the walk there (a header of zeros goes to libpcap, which finds the
 * end); a record cut anywhere else has gone over with zeros past the cut,
 * and the walk, at the header of zeros after it, finds the file shorter
 * than what it handed over: an error.
 */
#ifndef RINGFAN_PCAPMAP_H
#define RINGFAN_PCAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pcap/pcap.h>

/* How far ahead of the walk the mapping is prefetched. */
#define PCAP_MAP_AHEAD	4096

struct pcap_map {
	pcap_t			*pcap;	/* opened with nanosecond precision */
	const struct bpf_program *filter;	/* the pcap_t's, or NULL */
	const uint8_t		*base;	/* the mapping, or NULL */
	size_t			 size;	/* of the mapping */
	size_t			 off;	/* of the next record */
	uint32_t		 snaplen;
	bool			 swapped;
	bool			 nano;
	uint64_t		 slow;	/* records asked of libpcap */
	char			 err[PCAP_ERRBUF_SIZE];	/* of the last -1 */
};

/* One frame of the file. */
struct pcap_rec {
	const uint8_t	*data;
	uint64_t	 ts_ns;
	uint32_t	 caplen;
	uint32_t	 len;
};
_Static_assert(offsetof(struct pcap_rec, len) ==
    offsetof(struct pcap_rec, caplen) + 4, "caplen and len are one word");

/*
 * Reading of p (a savefile opened with PCAP_TSTAMP_PRECISION_NANO, its
 * stream at the first record) with the filter set on it, if any.  Maps it
 * when it can; when it cannot, libpcap reads it all.  Never fails.  While
 * it is mapped, a SIGBUS in the mapping (the file cut shorter under the
 * reader) turns the rest of it into zeros, or, when that fails, prints
 * that the file was cut, naming path, and exits with EXIT_RUNTIME.
 */
void	pcap_map_open(struct pcap_map *m, pcap_t *p,
	    const struct bpf_program *filter, const char *path);
void	pcap_map_close(struct pcap_map *m);

/* Whether r was read in place: valid until pcap_map_close(). */
static inline bool
pcap_map_in_place(const struct pcap_map *m, const struct pcap_rec *r)
{
	return m->base != NULL && r->data >= m->base &&
	    r->data < m->base + m->size;
}

/* The record at m->off through libpcap: 1, 0 at the end, -1 (m->err). */
int	pcap_map_slow(struct pcap_map *m, struct pcap_rec *r);

static inline uint32_t
pcap_map_u32(const uint8_t *p, bool swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

/*
 * The record header's caplen and len (8 bytes at p) into r by one 8-byte
 * store: the caller loads the two as one word, and a load the store
 * buffer forwards must find all its bytes in one earlier store.
 */
static inline void
pcap_map_lens(struct pcap_rec *r, const uint8_t *p, bool swapped)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	/* Each 4-byte half reversed in place: on either byte order. */
	if (swapped) {
		v = __builtin_bswap64(v);
		v = v >> 32 | v << 32;
	}
	memcpy((uint8_t *)r + offsetof(struct pcap_rec, caplen), &v,
	    sizeof(v));
}

/*
 * A time of libpcap's (opened with nanosecond precision, tv_usec holds
 * nanoseconds) in nanoseconds into *ns; false when it does not fit 64 bits
 * (a pcapng time after 2554-07-21T23:34:33Z, or before 1970, or a negative
 * fraction of a classic file's second 0).  classic: the file is a classic
 * pcap file (pcap_major_version() 2), whose seconds libpcap reads as
 * signed 32 bits, but the field is unsigned: a time after 2038 is put
 * back.  A pcapng file's seconds are 64 bits (with if_tsoffset, which is
 * signed): negative, they are before 1970, not after 2038.
 */
static inline bool
pcap_map_ts(const struct pcap_pkthdr *h, bool classic, uint64_t *ns)
{
	uint64_t sec = (uint64_t)h->ts.tv_sec;

	if (h->ts.tv_sec < 0) {
		if (!classic)
			return false;
		sec += 1ULL << 32;
	}
	if (sec > UINT64_MAX / 1000000000u)
		return false;
	/* A fraction out of range is libpcap's, signed: added as it is. */
	*ns = sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	if (h->ts.tv_usec < 0)
		return *ns < sec * 1000000000u;	/* not below 1970 */
	return *ns >= sec * 1000000000u;
}

/*
 * The next frame that passes the filter: 1, 0 at the end of the file, or
 * -1 on an error of the file, which m->err names.
 */
static inline int
pcap_map_next(struct pcap_map *m, struct pcap_rec *r)
{
	struct pcap_pkthdr h = { .caplen = 0 };
	const uint8_t *rec;
	uint32_t sec, frac;

	/*
	 * libpcap may leave off past the mapping, in a file that grew.  A
	 * fraction of a second out of range is libpcap's to read, and so is
	 * a header of zeros: what a file cut shorter under the mapping reads
	 * as up to the end of its page, where libpcap finds the end.
	 */
	while (m->base != NULL && m->off + 16 <= m->size) {
		rec = m->base + m->off;
		/*
		 * The processor's prefetcher stops at the end of a page, so
		 * the walk stalls on every new one: it asks for the bytes a
		 * page ahead itself (docs/performance.md).
		 */
		if (m->size - m->off > PCAP_MAP_AHEAD)
			__builtin_prefetch(rec + PCAP_MAP_AHEAD);
		sec = pcap_map_u32(rec, m->swapped);
		frac = pcap_map_u32(rec + 4, m->swapped);
		pcap_map_lens(r, rec + 8, m->swapped);
		if (r->caplen > m->snaplen ||
		    r->caplen > m->size - m->off - 16 ||
		    frac >= (m->nano ? 1000000000u : 1000000u) ||
		    (r->len | sec) == 0)
			break;
		r->ts_ns = (uint64_t)sec * 1000000000u +
		    (uint64_t)frac * (m->nano ? 1u : 1000u);
		r->data = rec + 16;
		m->off += 16 + (size_t)r->caplen;
		if (m->filter == NULL)
			return 1;
		h.caplen = r->caplen;
		h.len = r->len;
		if (pcap_offline_filter(m->filter, &h, r->data))
			return 1;
	}
	return pcap_map_slow(m, r);
}

#endif

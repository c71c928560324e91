/*
 * A pcap file read in place: the mapping, and the records that libpcap
 * reads (pcapmap.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master.h"
#include "pcapmap.h"

/* The classic file header: magic, version, zone, sigfigs, snaplen, link. */
#define PCAP_FILE_HDR	24
#define MAGIC_USEC	0xa1b2c3d4u
#define MAGIC_NSEC	0xa1b23c4du
/* A pcapng section header's block type and byte-order magic. */
#define PCAPNG_SHB	0x0a0d0d0au
#define PCAPNG_BOM	0x1a2b3c4du
/* libpcap's largest record for the link types below (MAXIMUM_SNAPLEN). */
#define PCAP_MAX_CAPLEN	262144u

/*
 * Link types whose records libpcap hands over as they are in the file:
 * from a file in the other byte order it rewrites the headers of USB,
 * NFLOG and cooked CAN frames into this machine's order, and it mends
 * the lengths of some USB records, so those stay with it.  Ethernet, raw
 * IP and cooked captures; BSD loopback's family only in this machine's
 * order.
 */
static bool
pcap_map_link(int dlt, bool swapped)
{
	switch (dlt) {
	case 1:				/* Ethernet */
	case 12: case 14: case 101:	/* raw IP */
	case 228: case 229:		/* raw IPv4, IPv6 */
		return true;
	case 0: case 108:		/* BSD loopback */
	case 113: case 276:		/* Linux cooked v1, v2 */
		return !swapped;
	default:
		return false;
	}
}

/*
 * A mapped file cut shorter while it is read raises SIGBUS on the first
 * page past its new end.  That page and the rest of the mapping become
 * pages of zeros, and the access is made again: the walk goes on as over a
 * cut in its own page, to a header of zeros, where it finds the file
 * shorter than what it handed over (or, cut at a record's start, its end):
 * the run ends as on any error of the file, with its statistics.  When the
 * zeros cannot be mapped, the cut is named and the run ends at once.  Any
 * other SIGBUS goes to the handler that was there before
 * (offline_guard.c names the plugin it came from), or kills the process.
 */
static struct sigaction bus_was;
static const uint8_t *bus_base;
static size_t bus_size;
static uintptr_t bus_page;
static char bus_msg[256];
static size_t bus_len;

static void
pcap_map_bus(int sig, siginfo_t *si, void *uc)
{
	const uint8_t *a = si->si_addr;
	uintptr_t from, end;

	(void)uc;
	if (bus_base != NULL && a >= bus_base && a < bus_base + bus_size) {
		from = (uintptr_t)a & ~(bus_page - 1);
		end = (uintptr_t)(bus_base + bus_size);
		if (mmap((void *)from, end - from, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
			return;
		(void)!write(STDERR_FILENO, bus_msg, bus_len);
		_exit(EXIT_RUNTIME);
	}
	if ((bus_was.sa_flags & SA_SIGINFO) && bus_was.sa_sigaction != NULL)
		bus_was.sa_sigaction(sig, si, uc);
	else if (!(bus_was.sa_flags & SA_SIGINFO) &&
	    bus_was.sa_handler != SIG_DFL && bus_was.sa_handler != SIG_IGN)
		bus_was.sa_handler(sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
pcap_map_guard(const uint8_t *base, size_t size, const char *path)
{
	struct sigaction sa, was;
	int n;

	n = snprintf(bus_msg, sizeof(bus_msg), "ringfan: %s: the file was "
	    "cut shorter while it was read\n", path);
	bus_len = n < 0 ? 0 : (size_t)n < sizeof(bus_msg) ? (size_t)n :
	    sizeof(bus_msg) - 1;
	bus_base = base;
	bus_size = size;
	bus_page = (uintptr_t)sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	/*
	 * What it hands on to runs as it would have: with its mask and on
	 * its stack.  A map opened again keeps the first one's predecessor,
	 * not itself.
	 */
	if (sigaction(SIGBUS, NULL, &was) == 0 &&
	    (!(was.sa_flags & SA_SIGINFO) || was.sa_sigaction != pcap_map_bus))
		bus_was = was;
	sa = bus_was;
	sa.sa_sigaction = pcap_map_bus;
	sa.sa_flags = SA_SIGINFO | (bus_was.sa_flags & SA_ONSTACK);
	sigaction(SIGBUS, &sa, NULL);
}

void
pcap_map_open(struct pcap_map *m, pcap_t *p, const struct bpf_program *filter,
    const char *path)
{
	FILE *f = pcap_file(p);
	struct stat st;
	uint32_t magic;
	void *base;
	int snap = pcap_snapshot(p);

	memset(m, 0, sizeof(*m));
	m->pcap = p;
	m->filter = filter;
	m->off = PCAP_FILE_HDR;
	/*
	 * Version 2.4 only: libpcap mends the lengths of older ones.  The
	 * file's header at its start (not stdin part-way through a file).
	 */
	if (f == NULL || snap <= 0 || pcap_major_version(p) != 2 ||
	    pcap_minor_version(p) != 4 || ftello(f) != PCAP_FILE_HDR ||
	    fstat(fileno(f), &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < PCAP_FILE_HDR ||
	    (uint64_t)st.st_size > SIZE_MAX)
		return;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
	    fileno(f), 0);
	if (base == MAP_FAILED)
		return;
	/* 0xa1b2cd34, a format of 24-byte record headers, is libpcap's. */
	magic = pcap_map_u32(base, pcap_is_swapped(p));
	if ((magic != MAGIC_USEC && magic != MAGIC_NSEC) ||
	    !pcap_map_link(pcap_datalink(p), pcap_is_swapped(p))) {
		munmap(base, (size_t)st.st_size);
		return;
	}
	(void)madvise(base, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->swapped = pcap_is_swapped(p);
	m->nano = magic == MAGIC_NSEC;
	m->base = base;
	m->size = (size_t)st.st_size;
	/* libpcap keeps a header's snaplen up to INT_MAX, not its records. */
	m->snaplen = (uint32_t)snap < PCAP_MAX_CAPLEN ? (uint32_t)snap :
	    PCAP_MAX_CAPLEN;
	pcap_map_guard(m->base, m->size, path);
}

void
pcap_map_close(struct pcap_map *m)
{
	if (m->base != NULL) {
		bus_base = NULL;
		munmap((void *)(uintptr_t)m->base, m->size);
	}
	m->base = NULL;
}

/*
 * Whether the file is now shorter than what the walk handed over: a cut
 * in the page of the walk reads as zeros, no SIGBUS, and a record whose
 * header was cut after its lengths went over with zeros for its bytes.
 * The walk comes here at the end of what it reads in place, a header of
 * zeros included.  0, or -1 with m->err set.
 */
static int
pcap_map_was_cut(struct pcap_map *m)
{
	struct stat st;

	if (fstat(fileno(pcap_file(m->pcap)), &st) != 0) {
		snprintf(m->err, sizeof(m->err), "fstat: %s", strerror(errno));
		return -1;
	}
	if ((uint64_t)st.st_size >= m->off)
		return 0;
	snprintf(m->err, sizeof(m->err), "the file was cut shorter while it "
	    "was read");
	return -1;
}

/*
 * Whether libpcap's error is a pcapng section in the other byte order,
 * which it reads in the first section's order: then the section's header
 * is 8 bytes (the block's type and length, which it found too long) before
 * where it stopped, and m->err says so, with its offset.  A file only: a
 * pipe's bytes are gone.
 */
static bool
pcap_map_other_order(struct pcap_map *m)
{
	FILE *f = pcap_file(m->pcap);
	uint8_t b[12];
	off_t at;

	if (f == NULL || pcap_major_version(m->pcap) != 1 ||
	    (at = ftello(f)) < 8 ||
	    pread(fileno(f), b, sizeof(b), at - 8) != (ssize_t)sizeof(b) ||
	    pcap_map_u32(b, false) != PCAPNG_SHB ||
	    pcap_map_u32(b + 8, !pcap_is_swapped(m->pcap)) != PCAPNG_BOM)
		return false;
	snprintf(m->err, sizeof(m->err), "the section at byte %lld is in a "
	    "byte order other than the first section's, which libpcap does "
	    "not read", (long long)(at - 8));
	return true;
}

int
pcap_map_slow(struct pcap_map *m, struct pcap_rec *r)
{
	FILE *f = pcap_file(m->pcap);
	struct pcap_pkthdr *h;
	const u_char *data;
	off_t at;
	bool classic;
	int rc;

	m->slow++;
	if (m->base != NULL && pcap_map_was_cut(m) != 0)
		return -1;
	if (m->base != NULL && fseeko(f, (off_t)m->off, SEEK_SET) != 0) {
		snprintf(m->err, sizeof(m->err), "fseek: %s", strerror(errno));
		return -1;
	}
	rc = pcap_next_ex(m->pcap, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		if (!pcap_map_other_order(m))
			snprintf(m->err, sizeof(m->err), "%s",
			    pcap_geterr(m->pcap));
		return -1;
	}
	if (m->base != NULL) {
		if ((at = ftello(f)) < 0) {
			snprintf(m->err, sizeof(m->err), "ftell: %s",
			    strerror(errno));
			return -1;
		}
		m->off = (size_t)at;
	}
	classic = pcap_major_version(m->pcap) == 2;
	if (!pcap_map_ts(h, classic, &r->ts_ns)) {
		/*
		 * Below 1970 by a fraction out of range that libpcap reads
		 * as negative, or by a pcapng time (pcap_map_ts()); any
		 * other refusal is a time too far ahead.
		 */
		if (!classic && h->ts.tv_sec < 0)
			snprintf(m->err, sizeof(m->err), "a frame's time, "
			    "%lld s from 1970, is before 1970, which "
			    "ringfan's nanosecond times do not hold",
			    (long long)h->ts.tv_sec);
		else if (h->ts.tv_usec < 0)
			snprintf(m->err, sizeof(m->err), "a frame's time, "
			    "second %lld with a fraction of %lld ns (out of "
			    "range), is before 1970, which ringfan's "
			    "nanosecond times do not hold",
			    (long long)h->ts.tv_sec, (long long)h->ts.tv_usec);
		else
			snprintf(m->err, sizeof(m->err), "a frame's time, "
			    "%lld s after 1970, is past 2554-07-21T23:34:33Z, "
			    "the last that ringfan's 64-bit nanosecond times "
			    "hold", (long long)h->ts.tv_sec);
		return -1;
	}
	r->data = data;
	r->caplen = h->caplen;
	r->len = h->len;
	return 1;
}

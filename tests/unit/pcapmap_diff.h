/*
 * One pcap file read twice, by pcapmap (in place where it can) and by
 * pcap_next_ex() alone, and the two readings compared: the same frames
 * (time, lengths, bytes), the same end, the same error.  Used by
 * tests/unit/test_pcapmap.c and tests/fuzz/fuzz_pcapmap.c.
 */
#ifndef PCAPMAP_DIFF_H
#define PCAPMAP_DIFF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pcapmap.h"

struct pcap_diff {
	int		 opened;	/* 1: libpcap opened the file */
	int		 mapped;	/* 1: pcapmap mapped it */
	uint64_t	 frames;	/* read alike by both */
	uint64_t	 in_place;	/* of them, read in place */
	uint64_t	 slow;		/* records pcapmap asked libpcap for */
	/* 0: end of file, -1: an error, -2: a time pcapmap cannot hold */
	int		 end;
	char		 err[PCAP_ERRBUF_SIZE + 64];	/* pcapmap's, at -2 */
	char		 why[1024];	/* the first difference, or "" */
};

/* A stream of the file at byte `skip`, with an offset of its own. */
static FILE *
pcap_diff_stream(int fd, long skip)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, skip, SEEK_SET) != 0)
		abort();
	return f;
}

static pcap_t *
pcap_diff_open(int fd, long skip, char *errbuf)
{
	FILE *f = pcap_diff_stream(fd, skip);
	pcap_t *p;

	/* libpcap closes the stream with the pcap_t, not when it fails. */
	p = pcap_fopen_offline_with_tstamp_precision(f,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL)
		fclose(f);
	return p;
}

/*
 * The filter compiled into *prog and set on p, as offline.c does: 0, or -1
 * when it cannot be compiled for p's link type.
 */
static int
pcap_diff_filter(pcap_t *p, const char *filter, struct bpf_program *prog)
{
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return -1;
	if (pcap_setfilter(p, prog) != 0)
		abort();
	return 0;
}

/*
 * The file's bytes, read from byte `skip` (stdin part-way through a file),
 * then `more` appended once pcapmap has mapped it (a file that grows while
 * it is read).
 */
static void
pcap_diff_run(const uint8_t *file, size_t n, long skip, const uint8_t *more,
    size_t nmore, const char *filter, struct pcap_diff *d)
{
	char e1[PCAP_ERRBUF_SIZE], e2[PCAP_ERRBUF_SIZE];
	struct bpf_program prog, bprog;
	struct pcap_map m;
	struct pcap_rec r;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *a, *b;
	int fd, ra, rb;
	uint64_t ts;

	memset(d, 0, sizeof(*d));
	if ((fd = memfd_create("pcapmap_diff", 0)) < 0 ||
	    write(fd, file, n) != (ssize_t)n)
		abort();
	e1[0] = e2[0] = '\0';
	a = pcap_diff_open(fd, skip, e1);
	b = pcap_diff_open(fd, skip, e2);
	if ((a == NULL) != (b == NULL))
		abort();
	if (a == NULL) {
		close(fd);
		return;
	}
	d->opened = 1;
	/*
	 * pcapmap's filter is kept, as offline.c keeps it.  A link type the
	 * filter cannot be compiled for is read without it.
	 */
	if (filter != NULL && pcap_diff_filter(a, filter, &prog) != 0)
		filter = NULL;
	if (filter != NULL) {
		if (pcap_diff_filter(b, filter, &bprog) != 0)
			abort();
		pcap_freecode(&bprog);
	}
	pcap_map_open(&m, a, filter != NULL ? &prog : NULL, "pcapmap_diff");
	d->mapped = m.base != NULL;
	if (nmore > 0 && pwrite(fd, more, nmore, (off_t)n) != (ssize_t)nmore)
		abort();
	for (;;) {
		ra = pcap_map_next(&m, &r);
		rb = pcap_next_ex(b, &h, &data);
		if (rb == PCAP_ERROR_BREAK)
			rb = 0;
		/*
		 * A time past what 64-bit nanoseconds hold, or before 1970
		 * (pcapng): pcapmap refuses the frame, libpcap reads it.
		 */
		if (ra == -1 && rb == 1 && !pcap_map_ts(h,
		    pcap_major_version(b) == 2, &ts)) {
			d->end = -2;
			snprintf(d->err, sizeof(d->err), "%s", m.err);
			break;
		}
		if (ra != rb) {
			snprintf(d->why, sizeof(d->why), "frame %llu: pcapmap "
			    "%d, libpcap %d (%s / %s)",
			    (unsigned long long)d->frames, ra, rb,
			    ra < 0 ? m.err : "", rb < 0 ? pcap_geterr(b) : "");
			break;
		}
		if (ra == 0)
			break;
		if (ra < 0) {
			d->end = -1;
			/*
			 * A pcapng section in the other byte order: libpcap
			 * finds fault with its length, read in the first
			 * section's order; pcapmap names the cause.
			 */
			if (strcmp(m.err, pcap_geterr(b)) != 0 &&
			    strstr(m.err, "in a byte order other than") ==
			    NULL)
				snprintf(d->why, sizeof(d->why), "error: "
				    "pcapmap \"%s\", libpcap \"%s\"", m.err,
				    pcap_geterr(b));
			break;
		}
		if (!pcap_map_ts(h, pcap_major_version(b) == 2, &ts))
			abort();	/* refused above */
		if (r.ts_ns != ts || r.caplen != h->caplen || r.len != h->len ||
		    memcmp(r.data, data, r.caplen) != 0) {
			snprintf(d->why, sizeof(d->why), "frame %llu: pcapmap "
			    "%llu %u %u, libpcap %llu %u %u%s",
			    (unsigned long long)d->frames,
			    (unsigned long long)r.ts_ns, r.caplen, r.len,
			    (unsigned long long)ts, h->caplen, h->len,
			    r.ts_ns == ts && r.caplen == h->caplen &&
			    r.len == h->len ? " (bytes differ)" : "");
			break;
		}
		d->frames++;
		d->in_place += pcap_map_in_place(&m, &r);
	}
	d->slow = m.slow;
	pcap_map_close(&m);
	if (filter != NULL)
		pcap_freecode(&prog);
	pcap_close(a);
	pcap_close(b);
	close(fd);
}

#endif

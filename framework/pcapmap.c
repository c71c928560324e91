/*
 * A pcap file read in place: the mapping, and the records that libpcap
 * reads (pcapmap.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "pcapmap.h"

/* The classic file header: magic, version, zone, sigfigs, snaplen, link. */
#define PCAP_FILE_HDR	24
#define MAGIC_USEC	0xa1b2c3d4u
#define MAGIC_NSEC	0xa1b23c4du

void
pcap_map_open(struct pcap_map *m, pcap_t *p, const struct bpf_program *filter)
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
	/* Version 2.4 only: libpcap mends the lengths of older ones. */
	if (f == NULL || snap <= 0 || pcap_major_version(p) != 2 ||
	    pcap_minor_version(p) != 4 || fstat(fileno(f), &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < PCAP_FILE_HDR ||
	    (uint64_t)st.st_size > SIZE_MAX)
		return;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
	    fileno(f), 0);
	if (base == MAP_FAILED)
		return;
	memcpy(&magic, base, sizeof(magic));
	if (magic == MAGIC_USEC || magic == MAGIC_NSEC)
		m->swapped = false;
	else if (__builtin_bswap32(magic) == MAGIC_USEC ||
	    __builtin_bswap32(magic) == MAGIC_NSEC)
		m->swapped = true;
	else {
		munmap(base, (size_t)st.st_size);
		return;
	}
	m->nano = (m->swapped ? __builtin_bswap32(magic) : magic) ==
	    MAGIC_NSEC;
	(void)madvise(base, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->base = base;
	m->size = (size_t)st.st_size;
	m->snaplen = (uint32_t)snap;
}

void
pcap_map_close(struct pcap_map *m)
{
	if (m->base != NULL)
		munmap((void *)(uintptr_t)m->base, m->size);
	m->base = NULL;
}

int
pcap_map_slow(struct pcap_map *m, struct pcap_rec *r)
{
	FILE *f = pcap_file(m->pcap);
	struct pcap_pkthdr *h;
	const u_char *data;
	off_t at;
	int rc;

	m->slow++;
	if (m->base != NULL && fseeko(f, (off_t)m->off, SEEK_SET) != 0) {
		snprintf(m->err, sizeof(m->err), "fseek: %s", strerror(errno));
		return -1;
	}
	rc = pcap_next_ex(m->pcap, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(m->err, sizeof(m->err), "%s", pcap_geterr(m->pcap));
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
	r->data = data;
	r->caplen = h->caplen;
	r->len = h->len;
	r->ts_ns = pcap_map_ts(h);
	r->in_place = false;
	return 1;
}

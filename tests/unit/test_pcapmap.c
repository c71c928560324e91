/*
 * pcapmap against libpcap: files of every kind the mapped walk handles and
 * of every kind it hands to libpcap, each read both ways (pcapmap_diff.h),
 * with the frames read in place counted exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>

#include "pcapmap_diff.h"

#define USEC	0xa1b2c3d4u
#define NSEC	0xa1b23c4du

/* Room for a record of 262145 bytes, one more than libpcap's largest. */
struct file {
	uint8_t		 b[300000];
	size_t		 n;
	int		 swap;
};

static void
put(struct file *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
put32(struct file *f, uint32_t v)
{
	if (f->swap)
		v = __builtin_bswap32(v);
	put(f, &v, 4);
}

static void
put16(struct file *f, uint16_t v)
{
	if (f->swap)
		v = __builtin_bswap16(v);
	put(f, &v, 2);
}

static void
header_link(struct file *f, uint32_t magic, uint16_t minor,
    uint32_t snaplen, int swap, uint32_t link)
{
	memset(f, 0, sizeof(*f));
	f->swap = swap;
	put32(f, magic);
	put16(f, 2);
	put16(f, minor);
	put32(f, 0);
	put32(f, 0);
	put32(f, snaplen);
	put32(f, link);
}

static void
header(struct file *f, uint32_t magic, uint16_t minor, uint32_t snaplen,
    int swap)
{
	header_link(f, magic, minor, snaplen, swap, 1);	/* Ethernet */
}

/* Frame k: Ethernet, IPv4, UDP when k is even and TCP when odd. */
static void
frame(uint8_t *out, size_t n, unsigned k)
{
	static const uint8_t eth_ip[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0, 0, 64,
	};

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(k * 31 + i);
	memcpy(out, eth_ip, n < sizeof(eth_ip) ? n : sizeof(eth_ip));
	if (n > 23)
		out[23] = k % 2 ? 6 : 17;
}

/*
 * A record: caplen bytes of frame k, `have` of them in the file, its time
 * 1700000000 + k seconds and frac.
 */
static void
record_frac(struct file *f, unsigned k, uint32_t frac, uint32_t caplen,
    uint32_t len, size_t have)
{
	static uint8_t data[270000];

	assert_true(caplen <= sizeof(data));
	frame(data, caplen, k);
	put32(f, 1700000000u + k);
	put32(f, frac);
	put32(f, caplen);
	put32(f, len);
	put(f, data, have < caplen ? have : caplen);
}

static void
record_cut(struct file *f, unsigned k, uint32_t caplen, uint32_t len,
    size_t have)
{
	record_frac(f, k, 1000u * k + 7, caplen, len, have);
}

static void
record(struct file *f, unsigned k, uint32_t caplen, uint32_t len)
{
	record_cut(f, k, caplen, len, caplen);
}

/* Eight frames of 60 to 1514 bytes. */
static void
eight(struct file *f)
{
	static const uint32_t sizes[] = { 60, 64, 100, 1514, 0, 200, 61, 999 };

	for (unsigned k = 0; k < 8; k++)
		record(f, k, sizes[k], sizes[k] + k % 2);
}

static void
diff_from(const struct file *f, long skip, const struct file *more,
    const char *filter, struct pcap_diff *d)
{
	pcap_diff_run(f->b, f->n, skip, more != NULL ? more->b : NULL,
	    more != NULL ? more->n : 0, filter, d);
	if (d->why[0] != '\0')
		fail_msg("%s", d->why);
	assert_int_equal(d->opened, 1);
}

static void
diff(const struct file *f, const struct file *more, const char *filter,
    struct pcap_diff *d)
{
	diff_from(f, 0, more, filter, d);
}

/* What a reading came to, every count exact. */
static void
expect(const struct pcap_diff *d, int mapped, uint64_t frames,
    uint64_t in_place, uint64_t slow, int end)
{
	assert_int_equal(d->mapped, mapped);
	assert_int_equal(d->frames, frames);
	assert_int_equal(d->in_place, in_place);
	assert_int_equal(d->slow, slow);
	assert_int_equal(d->end, end);
}

static void
test_plain(void **unused)
{
	struct file f;
	struct pcap_diff d;
	const uint32_t magic[2] = { USEC, NSEC };

	(void)unused;
	for (int i = 0; i < 4; i++) {
		header(&f, magic[i % 2], 4, 65535, i / 2);
		eight(&f);
		diff(&f, NULL, NULL, &d);
		expect(&d, 1, 8, 8, 1, 0);
	}
}

/* Longer than the snapshot: libpcap's; the next one in place again. */
static void
test_over_snaplen(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 4, 100, 0);
	record(&f, 0, 60, 60);
	record(&f, 1, 150, 150);
	record(&f, 2, 100, 100);
	record(&f, 3, 101, 300);
	record(&f, 4, 64, 64);
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 5, 3, 3, 0);
}

/*
 * A fraction of a second out of range (libpcap reads it as signed): the
 * record is libpcap's, in either precision.
 */
static void
test_bad_fraction(void **unused)
{
	static const uint32_t fracs[] = { 0x80000000u, 0xffffffffu };
	struct file f;
	struct pcap_diff d;

	(void)unused;
	for (int i = 0; i < 4; i++) {
		header(&f, i % 2 ? NSEC : USEC, 4, 65535, i / 2);
		record(&f, 0, 60, 60);
		record_frac(&f, 1, fracs[i / 2], 60, 60, 60);
		record(&f, 2, 60, 60);
		diff(&f, NULL, NULL, &d);
		expect(&d, 1, 3, 2, 2, 0);
	}
}

/*
 * A fraction that libpcap reads as negative can take a frame's time below
 * 1970, where 64-bit nanoseconds since 1970 do not go: refused, and the
 * message says so (not that the time is past 2554).  Second 0 less 1 ns in
 * a nanosecond file; second 5 less 2147 s in a microsecond one, whose
 * fraction libpcap scales to nanoseconds.
 */
static void
test_before_1970(void **unused)
{
	static const struct {
		uint32_t	 magic, sec, frac;
		const char	*err;
	} c[] = {
		{ NSEC, 0, 0xffffffffu, "a frame's time, second 0 with a "
		    "fraction of -1 ns (out of range), is before 1970, which "
		    "ringfan's nanosecond times do not hold" },
		{ USEC, 5, 0x80000000u, "a frame's time, second 5 with a "
		    "fraction of -2147483648000 ns (out of range), is before "
		    "1970, which ringfan's nanosecond times do not hold" },
	};
	uint8_t data[60];
	struct file f;
	struct pcap_diff d;

	(void)unused;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		header(&f, c[i].magic, 4, 65535, 0);
		record(&f, 0, 60, 60);
		frame(data, sizeof(data), 1);
		put32(&f, c[i].sec);
		put32(&f, c[i].frac);
		put32(&f, sizeof(data));
		put32(&f, sizeof(data));
		put(&f, data, sizeof(data));
		record(&f, 2, 60, 60);
		diff(&f, NULL, NULL, &d);
		expect(&d, 1, 1, 1, 1, -2);
		assert_string_equal(d.err, c[i].err);
	}
}

/* A file cut in a record's header, then in a record's bytes. */
static void
test_cut(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, NSEC, 4, 65535, 1);
	eight(&f);
	f.n -= 6;			/* a header of 10 bytes */
	f.n -= 999;
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 7, 7, 1, -1);

	header(&f, USEC, 4, 65535, 0);
	eight(&f);
	record_cut(&f, 8, 500, 500, 499);
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 8, 8, 1, -1);
}

static void
test_filter(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	eight(&f);
	diff(&f, NULL, "udp", &d);
	/* Frames 0, 2 and 6 are UDP; frame 4 is empty. */
	expect(&d, 1, 3, 3, 1, 0);
	diff(&f, NULL, "tcp", &d);
	expect(&d, 1, 4, 4, 1, 0);
}

/* Version 2.3 is libpcap's throughout: it mends the lengths. */
static void
test_old_version(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 3, 65535, 0);
	eight(&f);
	record_cut(&f, 8, 80, 60, 60);	/* caplen and len swapped */
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 9, 0, 10, 0);
}

/* Records appended after the mapping: libpcap reads them. */
static void
test_grows(void **unused)
{
	struct file f, more;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	eight(&f);
	memset(&more, 0, sizeof(more));
	record(&more, 8, 70, 70);
	record(&more, 9, 80, 80);
	diff(&f, &more, NULL, &d);
	expect(&d, 1, 10, 8, 3, 0);
}

/*
 * Link types: libpcap rewrites USB, NFLOG and cooked CAN headers from the
 * other byte order, and mends USB lengths: only those it leaves alone are
 * mapped, BSD loopback and cooked captures in this machine's order only.
 */
static void
test_link_types(void **unused)
{
	static const struct { uint32_t link; int native, swapped; } t[] = {
		{ 1, 1, 1 }, { 12, 1, 1 }, { 101, 1, 1 }, { 228, 1, 1 },
		{ 229, 1, 1 }, { 0, 1, 0 }, { 108, 1, 0 }, { 113, 1, 0 },
		{ 276, 1, 0 }, { 189, 0, 0 }, { 220, 0, 0 }, { 239, 0, 0 },
		{ 147, 0, 0 },
	};
	static struct file f;
	struct pcap_diff d;
	int mapped;

	(void)unused;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int swap = 0; swap < 2; swap++) {
			header_link(&f, USEC, 4, 65535, swap, t[i].link);
			eight(&f);
			diff(&f, NULL, NULL, &d);
			mapped = swap ? t[i].swapped : t[i].native;
			expect(&d, mapped, 8, mapped ? 8 : 0, mapped ? 1 : 9,
			    0);
		}
	}
}

/*
 * A header's snaplen above libpcap's largest record (262144 on Ethernet):
 * libpcap keeps it, and refuses the records past 262144.
 */
static void
test_big_snaplen(void **unused)
{
	static struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 4, 1000000, 0);
	record(&f, 0, 60, 60);
	record(&f, 1, 262144, 262144);
	record(&f, 2, 60, 60);
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 3, 3, 1, 0);
	header(&f, USEC, 4, 1000000, 0);
	record(&f, 0, 60, 60);
	record(&f, 1, 262145, 262145);
	record(&f, 2, 60, 60);
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 1, 1, 1, -1);
}

/*
 * A file read from part-way through (stdin left there by the shell), a
 * second pcap file after the first: libpcap's throughout.
 */
static void
test_stream_offset(void **unused)
{
	static struct file f;
	struct file second;
	struct pcap_diff d;
	long skip;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	eight(&f);
	skip = (long)f.n;
	header(&second, NSEC, 4, 65535, 0);
	record(&second, 20, 60, 60);
	record(&second, 21, 70, 70);
	put(&f, second.b, second.n);
	diff_from(&f, skip, NULL, NULL, &d);
	expect(&d, 0, 2, 0, 3, 0);
}

/* A record header of zeros is libpcap's to read (what a cut file shows). */
static void
test_zero_header(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	record(&f, 0, 60, 60);
	for (int i = 0; i < 4; i++)
		put32(&f, 0);
	record(&f, 2, 60, 60);
	diff(&f, NULL, NULL, &d);
	expect(&d, 1, 3, 2, 2, 0);
}

/*
 * The file cut shorter, at a page, while it is mapped: the pages past the
 * cut read as zeros, and the walk ends with the cause named where it would
 * have read past the cut.  Record 35 lies across the cut: 36 frames go
 * over, the last with zeros past the cut, and each one's bytes are read.
 */
static void
test_cut_under(void **unused)
{
	static struct file f;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_map m;
	struct pcap_rec r;
	pcap_t *p;
	int fd, rc;
	unsigned frames = 0, sum = 0;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	for (unsigned k = 0; k < 200; k++)
		record(&f, k, 100, 100);
	assert_true((fd = memfd_create("cut", 0)) >= 0);
	assert_int_equal(write(fd, f.b, f.n), (ssize_t)f.n);
	p = pcap_fopen_offline_with_tstamp_precision(pcap_diff_stream(fd, 0),
	    PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	pcap_map_open(&m, p, NULL, "cut.pcap");
	assert_non_null(m.base);
	assert_int_equal(ftruncate(fd, 4096), 0);
	while ((rc = pcap_map_next(&m, &r)) == 1) {
		for (uint32_t i = 0; i < r.caplen; i++)
			sum += r.data[i];
		frames++;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(frames, 36);
	assert_string_equal(m.err, "the file was cut shorter while it was "
	    "read");
	(void)sum;
	pcap_map_close(&m);
	pcap_close(p);
	close(fd);
}

/*
 * The file cut shorter in the page of the walk, inside the header of
 * record 150 after its lengths: no SIGBUS, and the record reads with zeros
 * for its bytes.  The walk ends with an error that says the file was cut,
 * not with the end of the file; cut at record 150's start, it ends there.
 * (Past the first pages, which libpcap's stream holds from its open.)
 */
static void
test_cut_in_page(void **unused)
{
	static struct file f;
	const size_t at150 = 24 + 150 * (16 + 100);
	const size_t cuts[] = { at150 + 13, at150 };
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_map m;
	struct pcap_rec r;
	unsigned frames;
	pcap_t *p;
	int fd, rc;

	(void)unused;
	header(&f, USEC, 4, 65535, 0);
	for (unsigned k = 0; k < 200; k++)
		record(&f, k, 100, 100);
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		assert_true((fd = memfd_create("cut", 0)) >= 0);
		assert_int_equal(write(fd, f.b, f.n), (ssize_t)f.n);
		p = pcap_fopen_offline_with_tstamp_precision(
		    pcap_diff_stream(fd, 0), PCAP_TSTAMP_PRECISION_NANO, err);
		assert_non_null(p);
		pcap_map_open(&m, p, NULL, "cut.pcap");
		assert_non_null(m.base);
		assert_int_equal(ftruncate(fd, (off_t)cuts[c]), 0);
		frames = 0;
		while ((rc = pcap_map_next(&m, &r)) == 1)
			frames++;
		if (c == 0) {
			assert_int_equal(frames, 151);
			assert_int_equal(rc, -1);
			assert_string_equal(m.err, "the file was cut shorter "
			    "while it was read");
		} else {
			assert_int_equal(frames, 150);
			assert_int_equal(rc, 0);
		}
		pcap_map_close(&m);
		pcap_close(p);
		close(fd);
	}
}

/* A pcapng section header, starting f afresh. */
static void
pcapng_section(struct file *f)
{
	memset(f, 0, sizeof(*f));
	put32(f, 0x0a0d0d0a);
	put32(f, 28);
	put32(f, 0x1a2b3c4d);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xffffffff);
	put32(f, 0xffffffff);
	put32(f, 28);
}

/* An enhanced packet block of interface 0: frame k at t (its units). */
static void
pcapng_frame(struct file *f, unsigned k, uint64_t t)
{
	uint8_t data[64];

	frame(data, sizeof(data), k);
	put32(f, 6);
	put32(f, 32 + sizeof(data));
	put32(f, 0);
	put32(f, (uint32_t)(t >> 32));
	put32(f, (uint32_t)t);
	put32(f, sizeof(data));
	put32(f, sizeof(data));
	put(f, data, sizeof(data));
	put32(f, 32 + sizeof(data));
}

/*
 * A pcapng file of three frames in microseconds, the last at us3 (the
 * others at 0 and 1 s).
 */
static void
pcapng3(struct file *f, uint64_t us3)
{
	pcapng_section(f);
	put32(f, 1);			/* interface: Ethernet */
	put32(f, 20);
	put16(f, 1);
	put16(f, 0);
	put32(f, 65535);
	put32(f, 20);
	for (unsigned k = 0; k < 3; k++)
		pcapng_frame(f, k, k < 2 ? k * 1000000u : us3);
}

/* pcapng: libpcap's throughout. */
static void
test_pcapng(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	pcapng3(&f, 2000000);
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 3, 0, 4, 0);
}

/*
 * pcapng holds times in 64 bits of its own units: one past what 64 bits
 * of nanoseconds hold is refused with the time named, not wrapped.  Every
 * microsecond of 2554-07-21T23:34:32Z is read, and the second after it up
 * to .709551, where 64 bits of nanoseconds end.
 */
static void
test_pcapng_far_time(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	pcapng3(&f, UINT64_C(18446744072999999));
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 3, 0, 4, 0);
	pcapng3(&f, UINT64_C(18446744073709551));
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 3, 0, 4, 0);
	pcapng3(&f, UINT64_C(18446744073709552));
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 2, 0, 3, -2);
	pcapng3(&f, UINT64_C(32503680000000000));	/* 3000-01-01 */
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 2, 0, 3, -2);
	assert_string_equal(d.err, "a frame's time, 32503680000 s after "
	    "1970, is past 2554-07-21T23:34:33Z, the last that ringfan's "
	    "64-bit nanosecond times hold");
}

/*
 * A pcapng interface whose if_tsoffset (seconds, signed) takes its frames
 * before 1970, where libpcap gives a negative second: refused, with the
 * time named, not read as a time after 2106 (the mending of a classic
 * file's seconds, which libpcap reads as signed 32 bits, is not for
 * pcapng).  So is a time of 2^64 - 1 s (if_tsresol 0: whole seconds),
 * which libpcap gives as second -1.
 */
static void
pcapng_offset(struct file *f, uint8_t resol, int64_t offset, uint64_t t3)
{
	pcapng_section(f);
	put32(f, 1);			/* interface: Ethernet */
	put32(f, 44);
	put16(f, 1);
	put16(f, 0);
	put32(f, 65535);
	put16(f, 9);			/* if_tsresol */
	put16(f, 1);
	put32(f, resol);		/* and three bytes of padding */
	put16(f, 14);			/* if_tsoffset */
	put16(f, 8);
	put32(f, (uint32_t)(uint64_t)offset);
	put32(f, (uint32_t)((uint64_t)offset >> 32));
	put32(f, 0);			/* opt_endofopt */
	put32(f, 44);
	for (unsigned k = 0; k < 3; k++)
		pcapng_frame(f, k, k < 2 ? 1000 + k : t3);
}

static void
test_pcapng_before_1970(void **unused)
{
	struct file f;
	struct pcap_diff d;

	(void)unused;
	/* Seconds 1000, 1001, then 5 less 100. */
	pcapng_offset(&f, 0, -100, 5);
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 2, 0, 3, -2);
	assert_string_equal(d.err, "a frame's time, -95 s from 1970, is "
	    "before 1970, which ringfan's nanosecond times do not hold");
	/* Second 5 less 5: 1970 itself is read. */
	pcapng_offset(&f, 0, -5, 5);
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 3, 0, 4, 0);
	pcapng_offset(&f, 0, 0, UINT64_MAX);
	diff(&f, NULL, NULL, &d);
	expect(&d, 0, 2, 0, 3, -2);
	assert_string_equal(d.err, "a frame's time, -1 s from 1970, is "
	    "before 1970, which ringfan's nanosecond times do not hold");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_over_snaplen),
		cmocka_unit_test(test_bad_fraction),
		cmocka_unit_test(test_before_1970),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_cut_in_page),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_old_version),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_big_snaplen),
		cmocka_unit_test(test_stream_offset),
		cmocka_unit_test(test_zero_header),
		cmocka_unit_test(test_cut_under),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_pcapng_far_time),
		cmocka_unit_test(test_pcapng_before_1970),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

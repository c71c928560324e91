/*
 * pcapwriter, on the stand-in host context: frames written through packet,
 * tick and close, read back with libpcap and held to what was sent, byte
 * for byte; rotation, names, max_disk, recovery from a copy of host memory
 * (a kill -9), write errors, and the options' messages.
 */
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "fake_ctx.h"
#include "pcapwriter.h"

extern const struct ringfan_plugin ringfan_plugin;

#define T0	1700000000ULL			/* 2023-11-14T22:13:20Z */
#define SEC	1000000000ULL
#define MAXREC	2048				/* frames a test sends */

/* A frame as sent; the test's model of what the files must hold. */
struct rec {
	uint32_t	 id;
	uint32_t	 len;
	uint64_t	 ts;
};

struct t {
	char		 dir[64];
	char		 dopt[128];
	char		 extra[FAKE_OPTS][512];
	const char	*opts[FAKE_OPTS + 1];
	struct fake_ctx	 f;
	void		*mem;
	void		*st;
	struct rec	 sent[MAXREC];	/* written, in order */
	size_t		 nsent;
};

static uint8_t frame_buf[PW_MAXSNAP];

/* Frame id's bytes: a pattern no other frame has at the same offset. */
static void
fill(uint32_t id, uint32_t len)
{
	for (uint32_t j = 0; j < len; j++)
		frame_buf[j] = (uint8_t)(id * 7 + j * 13 + (j >> 8));
}

static void
t_init(struct t *t, const char *const *extra)
{
	size_t n = 0;

	memset(t->opts, 0, sizeof(t->opts));
	snprintf(t->dopt, sizeof(t->dopt), "directory=%s", t->dir);
	t->opts[n++] = t->dopt;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		snprintf(t->extra[i], sizeof(t->extra[i]), "%s", extra[i]);
		t->opts[n++] = t->extra[i];
	}
	fake_ctx_init(&t->f, t->opts);
}

/* check, then open on host memory in state `state` (mem kept if set). */
static void
t_open(struct t *t, int state)
{
	assert_int_equal(ringfan_plugin.check(&t->f.pub), RINGFAN_OK);
	assert_int_equal(t->f.mem_size, PW_MEMSIZE);
	assert_int_equal(t->f.mem_layout, PW_LAYOUT);
	if (t->mem == NULL)
		assert_non_null(t->mem = calloc(1, t->f.mem_size));
	fake_ctx_memory(&t->f, t->mem, state);
	assert_int_equal(ringfan_plugin.open(&t->f.pub, &t->st), RINGFAN_OK);
	assert_string_equal(t->f.error, "");
}

static void
t_start(struct t *t, const char *const *extra)
{
	t_init(t, extra);
	t_open(t, RINGFAN_MEMORY_FRESH);
}

/* Hands frame id (len bytes on the wire, caplen ≤ cap) to packet. */
static void
t_send_cap(struct t *t, uint32_t id, uint32_t len, uint32_t cap,
    uint64_t ts, bool kept)
{
	struct ringfan_packet p = {
		.data = frame_buf, .caplen = cap, .len = len, .ts_ns = ts,
		.linktype = (uint16_t)t->f.pub.linktype,
	};

	fill(id, cap);
	assert_int_equal(ringfan_plugin.packet(t->st, &p), RINGFAN_CONTINUE);
	if (kept) {
		assert_true(t->nsent < MAXREC);
		t->sent[t->nsent++] = (struct rec){ id, len, ts };
	}
}

static void
t_send(struct t *t, uint32_t id, uint32_t len, uint64_t ts)
{
	t_send_cap(t, id, len, len, ts, true);
}

static void
t_close(struct t *t)
{
	ringfan_plugin.close(t->st);
	t->st = NULL;
	free(t->mem);
	t->mem = NULL;
}

/* What a kill -9 leaves: the instance stops dead, its memory stays. */
static void
t_abandon(struct t *t)
{
	struct pw *pw = t->st;

	if (pw->fd != -1)
		close(pw->fd);
	free(pw->old);
	free(pw);
	t->st = NULL;
}

static uint64_t
val(const struct t *t, const char *name)
{
	return fake_ctx_value(&t->f, name);
}

static int
visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* The files of dir, by name; the caller frees. */
static int
t_list(const char *dir, struct dirent ***names)
{
	int n = scandir(dir, names, visible, alphasort);

	assert_true(n >= 0);
	return n;
}

static void
t_free_list(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static off_t
fsize(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/*
 * Reads path with libpcap and checks its records against want[0, n): bytes,
 * caplen (cut at snaplen), wire length, and the time at the file's
 * precision.  Returns the number of records.
 */
static size_t
t_read(const char *path, const struct rec *want, size_t n, uint32_t snaplen,
    bool nano)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	size_t k = 0;
	int rc;

	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL)
		fail_msg("%s: %s", path, err);
	assert_int_equal(pcap_snapshot(p), snaplen);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint32_t cap;
		uint64_t ts;

		if (k == n)
			fail_msg("%s: more than the %zu records expected", path,
			    n);
		cap = want[k].len < snaplen ? want[k].len : snaplen;
		ts = nano ? want[k].ts : want[k].ts - want[k].ts % 1000;
		assert_int_equal(h->caplen, cap);
		assert_int_equal(h->len, want[k].len);
		/*
		 * The record's 32 bits of seconds, unsigned as the format
		 * says: libpcap before 2024 reads them signed.
		 */
		assert_int_equal((uint64_t)(uint32_t)h->ts.tv_sec * SEC +
		    (uint64_t)h->ts.tv_usec, ts);
		fill(want[k].id, cap);
		assert_memory_equal(data, frame_buf, cap);
		k++;
	}
	if (rc != PCAP_ERROR_BREAK)
		fail_msg("%s: %s", path, pcap_geterr(p));
	pcap_close(p);
	return k;
}

/*
 * Every file of the test's directory, in name order, read back: together
 * they hold t->sent exactly.  counts[] (if set) gets each file's records.
 * Returns the number of files.
 */
static int
t_verify(struct t *t, uint32_t snaplen, bool nano, size_t *counts)
{
	struct dirent **names;
	char path[512];
	size_t at = 0, k;
	int n = t_list(t->dir, &names);

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]->d_name);
		k = t_read(path, t->sent + at, t->nsent - at, snaplen, nano);
		if (counts != NULL)
			counts[i] = k;
		at += k;
	}
	assert_int_equal(at, t->nsent);
	t_free_list(names, n);
	return n;
}

/* The total size of the directory's files. */
static uint64_t
t_dir_bytes(const char *dir)
{
	struct dirent **names;
	char path[512];
	uint64_t sum = 0;
	int n = t_list(dir, &names);

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		sum += (uint64_t)fsize(path);
	}
	t_free_list(names, n);
	return sum;
}

static void
t_name(const struct t *t, int i, char *out, size_t len)
{
	struct dirent **names;
	int n = t_list(t->dir, &names);

	assert_true(i < n);
	snprintf(out, len, "%s", names[i]->d_name);
	t_free_list(names, n);
}

static int
t_nfiles(const struct t *t)
{
	struct dirent **names;
	int n = t_list(t->dir, &names);

	t_free_list(names, n);
	return n;
}

static void
write_file(const char *dir, const char *name, size_t len)
{
	char path[512];
	uint8_t zero[512] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1);
	assert_true(len <= sizeof(zero));
	assert_int_equal(write(fd, zero, len), (ssize_t)len);
	close(fd);
}

static void
rm_tree(const char *dir)
{
	struct dirent **names;
	char path[512];
	int n;

	chmod(dir, 0755);
	if ((n = scandir(dir, &names, visible, alphasort)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		unlink(path);
	}
	t_free_list(names, n);
	rmdir(dir);
}

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/pcapwriter-test.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	if (t->st != NULL)
		t_close(t);
	free(t->mem);
	rm_tree(t->dir);
	free(t);
	return 0;
}

/* --- options --- */

struct bad_case {
	const char	*opts[4];
	unsigned	 workers;
	const char	*error;
};

static void
test_options_rejected(void **state)
{
	static char longdir[4100], longpat[300];
	const struct bad_case cases[] = {
		{ { NULL }, 1, "directory: required" },
		{ { "directory=" }, 1, "directory: required" },
		{ { "directory=var/pcap" }, 1,
		    "directory: \"var/pcap\" is not an absolute path" },
		{ { "directory=/p", "pattern=" }, 1, "pattern: empty" },
		{ { "directory=/p", "pattern={capture}-{time}.pcap" }, 1,
		    "pattern: \"{capture}-{time}.pcap\": no {worker}, so the "
		    "workers' files would collide" },
		{ { "directory=/p", "pattern={worker}.pcap" }, 1,
		    "pattern: \"{worker}.pcap\": no {time}" },
		{ { "directory=/p", "pattern={worker}-{time}-{time}" }, 1,
		    "pattern: \"{worker}-{time}-{time}\": {time} twice" },
		{ { "directory=/p", "pattern={worker}-{date}-{time}" }, 1,
		    "pattern: \"{worker}-{date}-{time}\": unknown placeholder "
		    "{date}" },
		{ { "directory=/p", "pattern={worker}-{time" }, 1,
		    "pattern: \"{worker}-{time\": '{' without '}'" },
		{ { "directory=/p", "pattern=a/{worker}-{time}" }, 1,
		    "pattern: \"a/{worker}-{time}\": a file name cannot hold "
		    "'/'" },
		{ { "directory=/p", "pattern={worker}-{time}{capture}" }, 1,
		    "pattern: \"{worker}-{time}{capture}\": a digit or a "
		    "placeholder right after {time} makes names ambiguous" },
		{ { "directory=/p", "pattern={worker}-{time}7.pcap" }, 1,
		    "pattern: \"{worker}-{time}7.pcap\": a digit or a "
		    "placeholder right after {time} makes names ambiguous" },
		{ { "directory=/p", longpat }, 1, NULL },
		{ { longdir }, 1, NULL },
		{ { "directory=/p", "snaplen=262145" }, 1,
		    "snaplen: 262145 is more than 262144, the most pcap "
		    "readers take" },
		{ { "directory=/p", "snaplen=-1" }, 1,
		    "snaplen: not an unsigned integer: \"-1\"" },
		{ { "directory=/p", "rotate_size=10XB" }, 1,
		    "rotate_size: not a size: \"10XB\"" },
		{ { "directory=/p", "rotate_interval=500ms" }, 1,
		    "rotate_interval: less than 1s" },
		{ { "directory=/p", "rotate_interval=10" }, 1,
		    "rotate_interval: not a duration: \"10\"" },
		{ { "directory=/p", "max_disk=1MiB" }, 1,
		    "max_disk: needs rotate_size, since files are removed "
		    "whole" },
		{ { "directory=/p", "max_disk=1MiB", "rotate_size=512KiB" }, 4,
		    "max_disk: 1048576 bytes over 4 workers is 262144 each, "
		    "less than rotate_size (524288)" },
		{ { "directory=/p", "nanosecond=yes" }, 1,
		    "nanosecond: not a boolean: \"yes\"" },
	};
	char expect[512];
	struct fake_ctx f;

	(void)state;
	memset(longpat, 'x', sizeof(longpat) - 1);
	memcpy(longpat, "pattern={worker}{time}.", 23);
	snprintf(longdir, sizeof(longdir), "directory=/%4080d", 7);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_ctx_init(&f, cases[i].opts);
		f.pub.worker_count = cases[i].workers;
		assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_FAIL);
		if (cases[i].opts[1] == longpat) {
			snprintf(expect, sizeof(expect), "pattern: \"%s\": "
			    "file names would be longer than 255 bytes",
			    longpat + 8);
		} else if (cases[i].opts[0] == longdir) {
			snprintf(expect, sizeof(expect), "directory: "
			    "\"%.64s...\": paths of its files would be longer "
			    "than 4095 bytes", longdir + 10);
		} else
			snprintf(expect, sizeof(expect), "%s", cases[i].error);
		assert_string_equal(f.error, expect);
		/* Nothing asked of the host when the options are wrong. */
		assert_int_equal(f.mem_size, 0);
	}
}

static void
test_options_valid(void **state)
{
	const char *opts[] = { "directory=/nonexistent/pcapwriter/dir",
	    "pattern=x-{worker}-{capture}-{worker}-{time}.cap",
	    "snaplen=262144", "rotate_size=100MiB", "rotate_interval=1h",
	    "max_disk=400MiB", "nanosecond=true", NULL };
	struct fake_ctx f;
	struct stat st;

	(void)state;
	fake_ctx_init(&f, opts);
	f.pub.worker_count = 4;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	assert_string_equal(f.error, "");
	assert_null(fake_ctx_unasked(&f));
	assert_int_equal(f.mem_size, PW_MEMSIZE);
	assert_int_equal(f.mem_layout, PW_LAYOUT);
	assert_int_equal(f.tick_ns, PW_TICK_NS);
	/* check has no side effect: the directory is not even looked at. */
	assert_int_equal(stat("/nonexistent/pcapwriter", &st), -1);
	assert_int_equal(f.nslots, 0);
}

/* Every counter and gauge, of the right kind, with a valid name. */
static void
test_counter_names(void **state)
{
	static const char *const counters[] = { "frames", "bytes", "files",
	    "rotations", "removed", "write_errors", "frames_dropped",
	    "bytes_dropped" };
	static const char *const gauges[] = { "open_bytes", "disk_bytes" };
	struct t *t = *state;
	regex_t re;

	t_start(t, NULL);
	assert_int_equal(regcomp(&re, "^[a-z0-9_]{1,39}$", REG_EXTENDED |
	    REG_NOSUB), 0);
	assert_int_equal(t->f.nslots, 10);
	for (size_t i = 0; i < t->f.nslots; i++)
		assert_int_equal(regexec(&re, t->f.slots[i].name, 0, NULL, 0),
		    0);
	regfree(&re);
	for (size_t i = 0; i < 8; i++)
		for (size_t k = 0; k < t->f.nslots; k++)
			if (strcmp(t->f.slots[k].name, counters[i]) == 0)
				assert_int_equal(t->f.slots[k].gauge, 0);
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < t->f.nslots; k++)
			if (strcmp(t->f.slots[k].name, gauges[i]) == 0)
				assert_int_equal(t->f.slots[k].gauge, 1);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(val(t, counters[i]), 0);
	/* No frame, no file. */
	ringfan_plugin.tick(t->st, T0 * SEC);
	t_close(t);
	assert_int_equal(t_nfiles(t), 0);
}

/* --- writing --- */

static void
check_header(const char *path, uint32_t magic, uint32_t snaplen,
    uint32_t linktype)
{
	uint32_t h[6];
	int fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(read(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
	assert_int_equal(h[0], magic);
	assert_int_equal(h[1], 2 | 4 << 16);	/* version 2.4 */
	assert_int_equal(h[2], 0);
	assert_int_equal(h[3], 0);
	assert_int_equal(h[4], snaplen);
	assert_int_equal(h[5], linktype);
}

static void
write_and_read(struct t *t, bool nano)
{
	const char *opts[] = { nano ? "nanosecond=true" : "nanosecond=false",
	    NULL };
	char name[300], path[512];
	uint64_t ts = T0 * SEC + 999;

	t_start(t, opts);
	for (uint32_t i = 0; i < 40; i++) {
		/* Sub-microsecond parts: the microsecond file drops them. */
		t_send(t, i, 42 + (i * 97) % 1473, ts);
		ts += 1234567 + i;
	}
	t_close(t);
	assert_int_equal(t_verify(t, 262144, nano, NULL), 1);
	t_name(t, 0, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000001.pcap");
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	check_header(path, nano ? 0xa1b23c4d : 0xa1b2c3d4, 262144, 1);
	assert_int_equal(val(t, "frames"), 40);
	assert_int_equal(val(t, "bytes"), (uint64_t)fsize(path));
	assert_int_equal(val(t, "files"), 1);
	assert_int_equal(val(t, "rotations"), 0);
	assert_int_equal(val(t, "frames_dropped"), 0);
	assert_int_equal(val(t, "write_errors"), 0);
	assert_int_equal(val(t, "open_bytes"), 0);
	assert_int_equal(val(t, "disk_bytes"), (uint64_t)fsize(path));
	assert_string_equal(t->f.status, "");
}

static void
test_microsecond(void **state)
{
	write_and_read(*state, false);
}

static void
test_nanosecond(void **state)
{
	write_and_read(*state, true);
}

/* Frames longer than snaplen are cut; the record keeps the wire length. */
static void
test_snaplen(void **state)
{
	const char *opts[] = { "snaplen=64", NULL };
	struct t *t = *state;

	t_start(t, opts);
	t_send(t, 0, 100, T0 * SEC);
	t_send(t, 1, 64, T0 * SEC + 1000);
	t_send(t, 2, 40, T0 * SEC + 2000);
	t_send(t, 3, 1514, T0 * SEC + 3000);
	t_close(t);
	assert_int_equal(t_verify(t, 64, false, NULL), 1);
	assert_int_equal(val(t, "bytes"), 24 + 4 * 16 + 64 + 64 + 40 + 64);
}

/* snaplen 0 is the capture's; a frame the host cuts stays cut. */
static void
test_snaplen_capture(void **state)
{
	struct t *t = *state;
	char name[300], path[512];

	t_init(t, NULL);
	t->f.pub.snaplen = 128;
	t_open(t, RINGFAN_MEMORY_FRESH);
	t_send_cap(t, 0, 1000, 128, T0 * SEC, true);
	t_send(t, 1, 60, T0 * SEC);
	t_close(t);
	assert_int_equal(t_verify(t, 128, false, NULL), 1);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	check_header(path, 0xa1b2c3d4, 128, 1);
}

/* The file says LINKTYPE_RAW (101) for DLT_RAW (12); libpcap maps back. */
static void
test_linktype(void **state)
{
	struct t *t = *state;
	char errbuf[PCAP_ERRBUF_SIZE], name[300], path[512];
	pcap_t *p;

	t_init(t, NULL);
	t->f.pub.linktype = DLT_RAW;
	t_open(t, RINGFAN_MEMORY_FRESH);
	t_send(t, 0, 60, T0 * SEC);
	t_close(t);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	check_header(path, 0xa1b2c3d4, 262144, 101);
	assert_non_null(p = pcap_open_offline(path, errbuf));
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	pcap_close(p);
}

/*
 * Every link type libpcap can save: the file says the LINKTYPE_ value that
 * libpcap's own pcap_dump_open() writes for the DLT_ (DLT_ATM_CLIP, 19 on
 * Linux, is LINKTYPE_ATM_CLIP, 106), and libpcap reads the file as it
 * reads its own.
 */
static void
test_linktype_libpcap(void **state)
{
	struct t *t = *state;
	char errbuf[PCAP_ERRBUF_SIZE], name[300], path[512], ref[512];
	pcap_dumper_t *d;
	uint32_t h[6];
	pcap_t *p;
	int fd, back, checked = 0;

	snprintf(ref, sizeof(ref), "%s.ref", t->dir);
	for (int dlt = 0; dlt <= 300; dlt++) {
		assert_non_null(p = pcap_open_dead(dlt, 262144));
		d = pcap_dump_open(p, ref);
		pcap_close(p);
		if (d == NULL)
			continue;	/* a DLT_ libpcap cannot save */
		pcap_dump_close(d);
		assert_true((fd = open(ref, O_RDONLY)) != -1);
		assert_int_equal(read(fd, h, sizeof(h)), (ssize_t)sizeof(h));
		close(fd);
		assert_non_null(p = pcap_open_offline(ref, errbuf));
		back = pcap_datalink(p);
		pcap_close(p);
		assert_int_equal(unlink(ref), 0);

		t_init(t, NULL);
		t->f.pub.linktype = dlt;
		t_open(t, RINGFAN_MEMORY_FRESH);
		t_send(t, 0, 60, T0 * SEC);
		t_close(t);
		t_name(t, 0, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s", t->dir, name);
		check_header(path, 0xa1b2c3d4, 262144, h[5]);
		assert_non_null(p = pcap_open_offline(path, errbuf));
		assert_int_equal(pcap_datalink(p), back);
		pcap_close(p);
		assert_int_equal(unlink(path), 0);
		t->nsent = 0;
		checked++;
	}
	assert_true(checked > 100);
}

/*
 * A tag the kernel stripped goes back in, as libpcap writes it: after the
 * MAC addresses, TPID 0x8100 unless the kernel named another, both lengths
 * four bytes longer; cut by the snaplen like any byte.  Not on raw IP.
 */
static void
t_tagged(struct t *t, uint32_t caplen, uint16_t tpid, uint8_t flags)
{
	struct ringfan_packet p = {
		.data = frame_buf, .caplen = caplen, .len = caplen + 100,
		.ts_ns = T0 * SEC, .vlan_tci = 0x2064, .vlan_tpid = tpid,
		.flags = (uint8_t)(RINGFAN_PKT_VLAN_VALID | flags),
		.linktype = (uint16_t)t->f.pub.linktype,
	};

	fill(9, caplen);
	assert_int_equal(ringfan_plugin.packet(t->st, &p), RINGFAN_CONTINUE);
}

static void
t_read_one(const struct t *t, struct pcap_pkthdr *out, uint8_t *data,
    size_t room)
{
	char errbuf[PCAP_ERRBUF_SIZE], name[300], path[512];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;

	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_non_null(p = pcap_open_offline(path, errbuf));
	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	*out = *h;
	assert_true(h->caplen <= room);
	memcpy(data, d, h->caplen);
	assert_int_equal(pcap_next_ex(p, &h, &d), PCAP_ERROR_BREAK);
	pcap_close(p);
}

static void
test_stripped_tag(void **state)
{
	static const uint8_t tag8100[] = { 0x81, 0x00, 0x20, 0x64 };
	static const uint8_t tag88a8[] = { 0x88, 0xa8, 0x20, 0x64 };
	const char *cut[] = { "snaplen=14", NULL };
	struct t *t = *state;
	struct pcap_pkthdr h;
	uint8_t got[256], want[256];

	t_start(t, NULL);
	t_tagged(t, 60, 0, 0);
	t_close(t);
	t_read_one(t, &h, got, sizeof(got));
	assert_int_equal(h.caplen, 64);
	assert_int_equal(h.len, 164);
	fill(9, 60);
	memcpy(want, frame_buf, 12);
	memcpy(want + 12, tag8100, 4);
	memcpy(want + 16, frame_buf + 12, 48);
	assert_memory_equal(got, want, 64);
	rm_tree(t->dir);
	assert_int_equal(mkdir(t->dir, 0700), 0);

	/* The kernel's TPID; the snaplen cuts inside the tag. */
	t_start(t, cut);
	t_tagged(t, 60, 0x88a8, RINGFAN_PKT_TPID_VALID);
	t_close(t);
	t_read_one(t, &h, got, sizeof(got));
	assert_int_equal(h.caplen, 14);
	assert_int_equal(h.len, 164);
	fill(9, 60);
	assert_memory_equal(got, frame_buf, 12);
	assert_memory_equal(got + 12, tag88a8, 2);
	rm_tree(t->dir);
	assert_int_equal(mkdir(t->dir, 0700), 0);

	/* Raw IP has no place for a tag: the frame as it is. */
	t_init(t, NULL);
	t->f.pub.linktype = DLT_RAW;
	t_open(t, RINGFAN_MEMORY_FRESH);
	t_tagged(t, 40, 0, 0);
	t_close(t);
	t_read_one(t, &h, got, sizeof(got));
	assert_int_equal(h.caplen, 40);
	assert_int_equal(h.len, 140);
	fill(9, 40);
	assert_memory_equal(got, frame_buf, 40);
}

/* More than the 1 MiB buffer: flushed as it fills, nothing lost. */
static void
test_buffer_full(void **state)
{
	struct t *t = *state;
	char name[300], path[512];

	t_start(t, NULL);
	for (uint32_t i = 0; i < 300; i++)
		t_send(t, i, 9000, T0 * SEC + i * 1000);
	/* Two buffers full went to disk before any tick. */
	assert_int_equal(val(t, "frames"), 232);
	assert_int_equal(val(t, "open_bytes"), 24 + 232 * 9016);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsize(path), 24 + 300 * 9016);
	assert_int_equal(val(t, "bytes"), 24 + 300 * 9016);
}

/* --- rotation and names --- */

/* 24 + 3 * (16 + 100) = 372: three frames of 100 bytes per file. */
static void
test_rotate_size(void **state)
{
	const char *opts[] = { "rotate_size=372", NULL };
	struct t *t = *state;
	size_t counts[8];

	t_start(t, opts);
	for (uint32_t i = 0; i < 10; i++)
		t_send(t, i, 100, T0 * SEC + i);
	/* One frame larger than rotate_size: a file of its own. */
	t_send(t, 10, 1000, T0 * SEC + 10);
	t_send(t, 11, 100, T0 * SEC + 11);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, counts), 6);
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[1], 3);
	assert_int_equal(counts[2], 3);
	assert_int_equal(counts[3], 1);
	assert_int_equal(counts[4], 1);
	assert_int_equal(counts[5], 1);
	assert_int_equal(val(t, "files"), 6);
	assert_int_equal(val(t, "rotations"), 5);
	assert_int_equal(val(t, "frames"), 12);
	assert_int_equal(val(t, "bytes"), t_dir_bytes(t->dir));
	assert_int_equal(val(t, "disk_bytes"), t_dir_bytes(t->dir));
}

/*
 * Files cover multiples of rotate_interval in network time, from frames'
 * ts_ns and tick's now_ns; a file is named by its first frame's time.
 */
static void
test_rotate_interval(void **state)
{
	static const unsigned secs[] = { 0, 3, 6, 9, 12, 15, 18, 21 };
	static const char *const names[] = {
		"test-0-20231114T221320Z-000001.pcap",
		"test-0-20231114T221332Z-000002.pcap",
		"test-0-20231114T221341Z-000003.pcap",
		"test-0-20231114T221355Z-000004.pcap",
	};
	const char *opts[] = { "rotate_interval=10s", NULL };
	struct t *t = *state;
	size_t counts[4];
	char name[300];

	t_start(t, opts);
	for (uint32_t i = 0; i < 8; i++)
		t_send(t, i, 80, (T0 + secs[i]) * SEC);
	/* A tick before the boundary changes nothing but the disk. */
	ringfan_plugin.tick(t->st, (T0 + 29) * SEC);
	assert_int_equal(val(t, "rotations"), 2);
	assert_int_equal(val(t, "frames"), 8);
	/* The one at the boundary closes the file though no frame came. */
	ringfan_plugin.tick(t->st, (T0 + 30) * SEC);
	assert_int_equal(val(t, "rotations"), 3);
	assert_int_equal(val(t, "open_bytes"), 0);
	t_send(t, 8, 80, (T0 + 35) * SEC);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, counts), 4);
	assert_int_equal(counts[0], 4);
	assert_int_equal(counts[1], 3);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[3], 1);
	for (int i = 0; i < 4; i++) {
		t_name(t, i, name, sizeof(name));
		assert_string_equal(name, names[i]);
	}
	assert_int_equal(val(t, "rotations"), 3);
	assert_int_equal(val(t, "files"), 4);
}

/*
 * {capture} and {worker} expand; numbering goes on after this worker's
 * highest file in the directory and ignores the others'.
 */
static void
test_pattern(void **state)
{
	const char *opts[] = {
	    "pattern=cap-{capture}_w{worker}.{worker}_{time}.pcap", NULL };
	struct t *t = *state;
	char name[300];

	write_file(t->dir, "cap-test_w3.3_20231114T000000Z-000042.pcap", 24);
	write_file(t->dir, "cap-test_w13.13_20231114T000000Z-000099.pcap", 24);
	write_file(t->dir, "cap-test_w3.3_junk-000077.pcap", 24);
	write_file(t->dir, "cap-test_w3.3_20231114T000000Z-000077.pcap.tmp",
	    24);
	t_init(t, opts);
	t->f.pub.worker_id = 3;
	t->f.pub.worker_count = 14;
	t_open(t, RINGFAN_MEMORY_FRESH);
	/* Its file of an earlier run is on its disk. */
	assert_int_equal(val(t, "disk_bytes"), 24);
	t_send(t, 0, 60, T0 * SEC + 5);
	t_close(t);
	/* By name: w13 sorts first, the older ones before it. */
	t_name(t, 3, name, sizeof(name));
	assert_string_equal(name, "cap-test_w3.3_20231114T221320Z-000043.pcap");
	assert_int_equal(t_nfiles(t), 5);
	assert_int_equal(val(t, "disk_bytes"), 24 + 24 + 16 + 60);
}

/*
 * max_disk / worker_count per worker, oldest of its files first, files of
 * earlier runs included; other workers' files are not its to remove.
 */
static void
test_max_disk(void **state)
{
	/* 2232 over 2 workers: 1116 = 3 files of 372 bytes each. */
	const char *opts[] = { "rotate_size=372", "max_disk=2232", NULL };
	struct t *t = *state;
	struct dirent **names;
	char path[512];
	size_t counts[4];
	int n;

	write_file(t->dir, "test-0-20231113T000000Z-000005.pcap", 140);
	write_file(t->dir, "test-1-20231113T000000Z-000001.pcap", 372);
	t_init(t, opts);
	t->f.pub.worker_count = 2;
	t_open(t, RINGFAN_MEMORY_FRESH);
	for (uint32_t i = 0; i < 30; i++) {
		t_send_cap(t, i, 100, 100, T0 * SEC + i, i >= 21);
		ringfan_plugin.tick(t->st, T0 * SEC + i);
		/* Within the budget at every moment, on disk. */
		assert_true(t_dir_bytes(t->dir) - 372 <= 1116);
	}
	t_close(t);
	assert_int_equal(val(t, "removed"), 8);
	assert_int_equal(val(t, "files"), 10);
	assert_int_equal(val(t, "disk_bytes"), 1116);
	/* Worker 1's file stays; worker 0 keeps its three newest. */
	n = t_list(t->dir, &names);
	assert_int_equal(n, 4);
	assert_string_equal(names[0]->d_name,
	    "test-0-20231114T221320Z-000013.pcap");
	assert_string_equal(names[3]->d_name,
	    "test-1-20231113T000000Z-000001.pcap");
	snprintf(path, sizeof(path), "%s/%s", t->dir, names[3]->d_name);
	unlink(path);
	t_free_list(names, n);
	assert_int_equal(t_verify(t, 262144, false, counts), 3);
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[2], 3);
}

/*
 * Two instances of worker 0 at once, as at a reload that builds new
 * sockets: the old one (a) writes on after the new one (b) listed the
 * directory.  b lists it again within PW_RESCAN_NS of network time, so
 * a's last files are counted and removed in their turn, and the directory
 * comes back within max_disk (1116: three files of 372).
 */
static void
test_max_disk_rescan(void **state)
{
	const char *opts[] = { "rotate_size=372", "max_disk=1116", NULL };
	struct t *b = *state, *a;
	uint64_t ts = T0 * SEC;
	uint32_t id = 0;

	assert_non_null(a = calloc(1, sizeof(*a)));
	memcpy(a->dir, b->dir, sizeof(a->dir));
	t_start(a, opts);
	t_send_cap(a, id++, 100, 100, ts++, false);
	t_start(b, opts);		/* lists a's first file, 24 bytes */
	for (int i = 0; i < 6; i++)	/* a's files 1 to 3 */
		t_send_cap(a, id++, 100, 100, ts++, false);
	t_close(a);
	free(a);
	assert_int_equal(t_dir_bytes(b->dir), 372 + 372 + 140);
	for (int i = 0; i < 9; i++)	/* b's files 4 to 6 */
		t_send_cap(b, id++, 100, 100, ts++, false);
	ringfan_plugin.tick(b->st, ts);
	/* b removed file 1, the one it knew of; 2 and 3 are beyond. */
	assert_int_equal(val(b, "removed"), 1);
	assert_int_equal(t_dir_bytes(b->dir), 372 + 140 + 3 * 372);
	ringfan_plugin.tick(b->st, ts + PW_RESCAN_NS);
	t_send(b, id++, 100, ts + PW_RESCAN_NS + 1);	/* file 7 */
	/* 2, 3 and 4 removed, oldest first: 5, 6 and 7 are left. */
	assert_int_equal(val(b, "removed"), 4);
	/* File 7's frame is still in the buffer. */
	assert_int_equal(t_dir_bytes(b->dir), 372 + 372 + 24);
	t_close(b);
	assert_int_equal(t_nfiles(b), 3);
	assert_int_equal(t_dir_bytes(b->dir), 372 + 372 + 140);
	assert_int_equal(val(b, "disk_bytes"), 372 + 372 + 140);
}

/*
 * disk_bytes is the length of the worker's files on disk with or without
 * max_disk: files removed by hand (a cron job, an operator freeing space)
 * leave it at the next listing, 10 s of network time later, and files
 * another process of the worker wrote join it.
 */
/*
 * The start of the two tests below: files 1 and 2 written, 3 open, seen
 * by a tick at the network time returned; then file 1 removed by hand.
 */
static uint64_t
rescan_start(struct t *t)
{
	const char *opts[] = { "rotate_size=372", NULL };
	char path[512];
	uint64_t ts = T0 * SEC;
	uint32_t id = 0;

	t_start(t, opts);
	for (int i = 0; i < 7; i++)
		t_send(t, id++, 100, ts++);
	ringfan_plugin.tick(t->st, ts);
	assert_int_equal(val(t, "disk_bytes"), 372 + 372 + 140);
	snprintf(path, sizeof(path), "%s/test-0-20231114T221320Z-000001.pcap",
	    t->dir);
	assert_int_equal(unlink(path), 0);
	return ts;
}

static void
test_disk_bytes_rescan(void **state)
{
	struct t *t = *state;
	uint64_t ts = rescan_start(t);

	write_file(t->dir, "test-0-20231114T221320Z-000009.pcap", 140);
	ringfan_plugin.tick(t->st, ts + PW_RESCAN_NS);
	assert_int_equal(val(t, "disk_bytes"), 372 + 140 + 140);
	assert_int_equal(val(t, "disk_bytes"), t_dir_bytes(t->dir));
	t_close(t);
}

/*
 * Network time that went back (live, the real-time clock stepped back an
 * hour) lists the files again at the tick after it and every PW_RESCAN_NS
 * from there, not an hour later, when the time before the step comes
 * again.
 */
static void
test_disk_bytes_rescan_back(void **state)
{
	struct t *t = *state;
	uint64_t back = rescan_start(t) - 3600 * SEC;

	ringfan_plugin.tick(t->st, back);
	assert_int_equal(val(t, "disk_bytes"), 372 + 140);
	write_file(t->dir, "test-0-20231114T221320Z-000009.pcap", 140);
	ringfan_plugin.tick(t->st, back + PW_RESCAN_NS);
	assert_int_equal(val(t, "disk_bytes"), 372 + 140 + 140);
	assert_int_equal(val(t, "disk_bytes"), t_dir_bytes(t->dir));
	t_close(t);
}

/*
 * max_disk removes only names the pattern gives: the sequence number is
 * written with 6 digits at least, so a name of fewer digits, or of more
 * with a leading zero, is someone else's file.  It is kept, and its
 * number does not move the worker's on.
 */
static void
test_max_disk_names(void **state)
{
	const char *opts[] = { "rotate_size=372", "max_disk=744", NULL };
	static const char *const others[] = {
		"test-0-20231113T000000Z-1.pcap",
		"test-0-20231113T000000Z-00005.pcap",
		"test-0-20231113T000000Z-0000007.pcap",
		"test-0-20231113T000000Z-0000000000000000099.pcap",
	};
	const size_t nothers = sizeof(others) / sizeof(others[0]);
	struct t *t = *state;
	struct dirent **names;
	char name[300];
	int n;

	for (size_t i = 0; i < nothers; i++)
		write_file(t->dir, others[i], 140);
	write_file(t->dir, "test-0-20231113T000000Z-000002.pcap", 140);
	write_file(t->dir, "test-0-20231113T000000Z-1000000.pcap", 140);
	t_start(t, opts);
	for (uint32_t i = 0; i < 12; i++)
		t_send_cap(t, i, 100, 100, T0 * SEC + i, false);
	t_close(t);
	/* Its own two went first, then its oldest new ones. */
	assert_int_equal(val(t, "removed"), 4);
	n = t_list(t->dir, &names);
	assert_int_equal(n, (int)nothers + 2);
	for (size_t i = 0; i < nothers; i++) {
		int found = 0;

		for (int j = 0; j < n; j++)
			found |= strcmp(names[j]->d_name, others[i]) == 0;
		if (!found)
			fail_msg("%s was removed", others[i]);
	}
	t_free_list(names, n);
	/* Numbered on from 1000000, the highest of its own. */
	t_name(t, (int)nothers, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-1000003.pcap");
}

/*
 * A name taken since the directory was listed, by a file or a dangling
 * symbolic link of someone else's: the file gets the next free number,
 * the frames are written, the link is not followed.
 */
static void
test_name_taken(void **state)
{
	struct t *t = *state;
	char name[300], taken[512], victim[128];
	struct stat st;

	snprintf(victim, sizeof(victim), "%s.victim", t->dir);
	unlink(victim);
	t_start(t, NULL);
	snprintf(taken, sizeof(taken), "%s/test-0-20231114T221320Z-000001.pcap",
	    t->dir);
	assert_int_equal(symlink(victim, taken), 0);
	t_send(t, 0, 100, T0 * SEC);
	assert_string_equal(t->f.status, "");
	ringfan_plugin.tick(t->st, T0 * SEC + 1);
	assert_string_equal(t->f.status, "");
	t_close(t);
	assert_int_equal(lstat(victim, &st), -1);
	assert_int_equal(unlink(taken), 0);
	t_name(t, 0, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000002.pcap");
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
}

/* --- recovery from host memory (kill -9) --- */

/* The host memory of a worker killed now, as its successor finds it. */
static void *
snapshot(struct t *t)
{
	void *copy = malloc(t->f.mem_size);

	assert_non_null(copy);
	memcpy(copy, t->mem, t->f.mem_size);
	return copy;
}

/* A successor on mem (taken over), on the same options. */
static void
successor(struct t *t, void *mem, const char *const *opts, uint32_t layout)
{
	free(t->mem);
	t->mem = mem;
	t_init(t, opts);
	assert_int_equal(ringfan_plugin.check(&t->f.pub), RINGFAN_OK);
	fake_ctx_memory(&t->f, t->mem, RINGFAN_MEMORY_RECOVERED);
	t->f.pub.memory_layout = layout;
	assert_int_equal(ringfan_plugin.open(&t->f.pub, &t->st), RINGFAN_OK);
	assert_string_equal(t->f.error, "");
}

static void
append_junk(const char *path, size_t len)
{
	/* A record header announcing 100 bytes, and part of them. */
	uint32_t h[4] = { (uint32_t)T0, 0, 100, 100 };
	uint8_t junk[200];
	int fd;

	memset(junk, 0xee, sizeof(junk));
	memcpy(junk, h, sizeof(h));
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, junk, len), (ssize_t)len);
	close(fd);
}

/*
 * Killed with frames in the buffer and a write cut short in the file: the
 * successor cuts the partial record off and writes the buffer.
 */
static void
test_recover_partial(void **state)
{
	struct t *t = *state;
	char name[300], path[512], expect[700];
	void *mem;

	t_start(t, NULL);
	for (uint32_t i = 0; i < 10; i++)
		t_send(t, i, 100 + i, T0 * SEC + i * 1000);
	ringfan_plugin.tick(t->st, T0 * SEC + 10000);
	for (uint32_t i = 10; i < 15; i++)
		t_send(t, i, 100 + i, T0 * SEC + i * 1000);
	mem = snapshot(t);
	t_abandon(t);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	append_junk(path, 30);
	successor(t, mem, NULL, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "%s: carried on after a crash: %d "
	    "bytes kept, 30 cut off, 5 frames from host memory", path,
	    24 + 10 * 16 + 1045);
	assert_string_equal(t->f.log, expect);
	/* The successor wrote them at once. */
	assert_int_equal(val(t, "frames"), 5);
	for (uint32_t i = 15; i < 20; i++)
		t_send(t, i, 100 + i, T0 * SEC + i * 1000);
	ringfan_plugin.tick(t->st, T0 * SEC + 20000);
	assert_int_equal(val(t, "frames"), 10);
	assert_int_equal(val(t, "files"), 0);
	/* Again with nothing buffered: only the cut makes the file whole. */
	mem = snapshot(t);
	t_abandon(t);
	append_junk(path, 100);
	successor(t, mem, NULL, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "%s: carried on after a crash: %d "
	    "bytes kept, 100 cut off, 0 frames from host memory", path,
	    24 + 20 * 16 + 2190);
	assert_string_equal(t->f.log, expect);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
}

/*
 * Killed after the buffer went to disk but before the committed offset
 * moved: the successor writes the same records again, over them, once.
 */
static void
test_recover_written(void **state)
{
	struct t *t = *state;
	char name[300], path[512];
	void *mem;

	t_start(t, NULL);
	for (uint32_t i = 0; i < 10; i++)
		t_send(t, i, 200, T0 * SEC + i);
	ringfan_plugin.tick(t->st, T0 * SEC + 10);
	for (uint32_t i = 10; i < 15; i++)
		t_send(t, i, 200, T0 * SEC + i);
	mem = snapshot(t);
	ringfan_plugin.tick(t->st, T0 * SEC + 15);
	t_abandon(t);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsize(path), 24 + 15 * 216);
	successor(t, mem, NULL, PW_LAYOUT);
	assert_int_equal(fsize(path), 24 + 15 * 216);
	for (uint32_t i = 15; i < 20; i++)
		t_send(t, i, 200, T0 * SEC + i);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(fsize(path), 24 + 20 * 216);
}

/*
 * Killed right after a file was begun: with its header on disk, or
 * before it was even created (no file, base 0): the successor writes it
 * whole.  Killed again with frames buffered, and the file removed
 * meanwhile: the buffer is counted as dropped, a status says why, and a
 * new file starts.
 */
static void
test_recover_new_file(void **state)
{
	const char *opts[] = { "rotate_size=372", NULL };
	struct t *t = *state;
	char name[300], path[512], expect[700];
	void *mem;

	t_start(t, opts);
	t_send(t, 0, 100, T0 * SEC);
	mem = snapshot(t);
	t_abandon(t);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsize(path), 24);	/* its header, at once */
	/* As if the kill came before open: no file, nothing written. */
	assert_int_equal(unlink(path), 0);
	((struct pw_mem *)mem)->slot.base = 0;
	successor(t, mem, opts, PW_LAYOUT);
	assert_int_equal(fsize(path), 24 + 116);

	/* Frame 3 begins the second file; the kill finds its header only. */
	for (uint32_t i = 1; i < 5; i++)
		t_send(t, i, 100, T0 * SEC + i);
	mem = snapshot(t);
	t_abandon(t);
	t_name(t, 1, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000002.pcap");
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsize(path), 24);
	successor(t, mem, opts, PW_LAYOUT);
	assert_int_equal(fsize(path), 24 + 2 * 116);

	/* Frame 5 buffered, then the file goes: frames 3 to 5 are lost. */
	t_send_cap(t, 5, 100, 100, T0 * SEC + 5, false);
	mem = snapshot(t);
	t_abandon(t);
	assert_int_equal(unlink(path), 0);
	t->nsent -= 2;
	successor(t, mem, opts, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "recover %s: No such file or "
	    "directory", path);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(val(t, "frames_dropped"), 1);
	/* Blocked until the tick. */
	t_send_cap(t, 6, 100, 100, T0 * SEC + 6, false);
	ringfan_plugin.tick(t->st, T0 * SEC + 7);
	t_send(t, 7, 100, T0 * SEC + 7);
	ringfan_plugin.tick(t->st, T0 * SEC + 8);
	assert_string_equal(t->f.status, "");
	t_close(t);
	assert_int_equal(val(t, "write_errors"), 1);
	assert_int_equal(val(t, "frames_dropped"), 2);
	assert_int_equal(val(t, "files"), 1);
	assert_int_equal(t_verify(t, 262144, false, NULL), 2);
	t_name(t, 1, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000003.pcap");
}

/* The worker's path of its file i (by name order) in t's directory. */
static void
t_path(const struct t *t, int i, char *out, size_t len)
{
	char name[300];

	t_name(t, i, name, sizeof(name));
	snprintf(out, len, "%s/%s", t->dir, name);
}

/*
 * Killed with its file open, and the file then replaced (by whoever else
 * may write to the directory) with a symbolic link, or a FIFO: the
 * successor does not follow the link, so the file it points to is
 * neither cut nor written, nor made when it did not exist; a FIFO does
 * not block it.  The buffered frames are dropped, the status says why,
 * and the next frame starts a file of the worker's own.
 */
static void
test_recover_replaced(void **state)
{
	static const char link_now[] = "a symbolic link now, not the file "
	    "written: left as it is";
	struct t *t = *state;
	char path[512], victim[128], expect[700];
	uint8_t junk[1000];
	struct stat st;
	void *mem;
	int fd;

	memset(junk, 'v', sizeof(junk));
	snprintf(victim, sizeof(victim), "%s.victim", t->dir);
	unlink(victim);

	/* Killed as the file began: a dangling link, no file made. */
	t_start(t, NULL);
	t_send_cap(t, 0, 100, 100, T0 * SEC, false);
	mem = snapshot(t);
	t_abandon(t);
	t_path(t, 0, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(victim, path), 0);
	((struct pw_mem *)mem)->slot.base = 0;
	successor(t, mem, NULL, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "recover %s: %s", path, link_now);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(lstat(victim, &st), -1);
	assert_int_equal(val(t, "frames_dropped"), 1);

	/* Killed with frames on disk and one buffered: a file elsewhere. */
	ringfan_plugin.tick(t->st, T0 * SEC);	/* a failed file: frames wait */
	for (uint32_t i = 1; i < 4; i++)
		t_send(t, i, 100, T0 * SEC + i);
	ringfan_plugin.tick(t->st, T0 * SEC + 4);
	assert_string_equal(t->f.status, "");
	t_send_cap(t, 4, 100, 100, T0 * SEC + 5, false);
	mem = snapshot(t);
	t_abandon(t);
	t_path(t, 1, path, sizeof(path));
	assert_true((fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) != -1);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(victim, path), 0);
	successor(t, mem, NULL, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "recover %s: %s", path, link_now);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, (off_t)sizeof(junk));
	assert_int_equal(val(t, "frames_dropped"), 1);

	/* The same with a FIFO nobody reads. */
	ringfan_plugin.tick(t->st, T0 * SEC + 5);
	for (uint32_t i = 5; i < 8; i++)
		t_send(t, i, 100, T0 * SEC + i + 1);
	ringfan_plugin.tick(t->st, T0 * SEC + 9);
	assert_string_equal(t->f.status, "");
	t_send_cap(t, 8, 100, 100, T0 * SEC + 10, false);
	mem = snapshot(t);
	t_abandon(t);
	t_path(t, 2, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	successor(t, mem, NULL, PW_LAYOUT);
	snprintf(expect, sizeof(expect), "recover %s: not a regular file "
	    "now, not the file written: left as it is", path);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(val(t, "frames_dropped"), 1);

	/* Then a file of its own again. */
	ringfan_plugin.tick(t->st, T0 * SEC + 10);
	t_send(t, 9, 100, T0 * SEC + 11);
	ringfan_plugin.tick(t->st, T0 * SEC + 12);
	assert_string_equal(t->f.status, "");
	t_path(t, 3, path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	t_close(t);
	assert_int_equal(unlink(victim), 0);
}

/* Host memory of a layout it does not know is not trusted: a new file. */
static void
test_recover_layout(void **state)
{
	struct t *t = *state;
	void *mem;

	t_start(t, NULL);
	t_send(t, 0, 100, T0 * SEC);
	ringfan_plugin.tick(t->st, T0 * SEC);
	t_send_cap(t, 1, 100, 100, T0 * SEC + 1, false);
	mem = snapshot(t);
	t_abandon(t);
	successor(t, mem, NULL, 99);
	assert_string_equal(t->f.log,
	    "host memory of layout 99, not 1: starting afresh");
	t_send(t, 2, 100, T0 * SEC + 2);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 2);
	assert_int_equal(val(t, "files"), 1);
}

/*
 * Host memory whose open file names a path outside the directory, or a
 * name not of this worker's form (another plugin wrote over it): that
 * file is neither cut nor removed, and the successor starts afresh.
 */
static void
test_recover_foreign_path(void **state)
{
	struct t *t = *state;
	char victim[128], name[300];
	struct pw_mem *m;
	struct stat st;
	uint8_t junk[1000];
	void *mem;
	int fd;

	memset(junk, 'v', sizeof(junk));
	snprintf(victim, sizeof(victim), "%s.victim", t->dir);
	t_start(t, NULL);
	for (uint32_t i = 0; i < 3; i++)
		t_send(t, i, 100, T0 * SEC + i);
	ringfan_plugin.tick(t->st, T0 * SEC + 3);
	t_name(t, 0, name, sizeof(name));
	for (int k = 0; k < 4; k++) {
		/* The successor before started afresh: a file again. */
		t_send(t, 10 + (uint32_t)k, 100, T0 * SEC + 10 + (uint64_t)k);
		ringfan_plugin.tick(t->st, T0 * SEC + 10 + (uint64_t)k);
		assert_true((fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) != -1);
		assert_int_equal(write(fd, junk, sizeof(junk)),
		    (ssize_t)sizeof(junk));
		close(fd);
		mem = snapshot(t);
		m = mem;
		assert_int_equal(m->live, 1);
		switch (k) {
		case 0:		/* another file: cut to base */
			snprintf(m->slot.path, sizeof(m->slot.path), "%s",
			    victim);
			break;
		case 1:		/* one never written: removed */
			snprintf(m->slot.path, sizeof(m->slot.path), "%s",
			    victim);
			m->slot.start = m->slot.base = m->slot.end = 0;
			break;
		case 2:		/* out of the directory by ".." */
			snprintf(m->slot.path, sizeof(m->slot.path),
			    "%s/../%s", t->dir, strrchr(victim, '/') + 1);
			break;
		default:	/* in it, of the right form, then more */
			snprintf(m->slot.path, sizeof(m->slot.path),
			    "%s/%s/../../%s", t->dir, name,
			    strrchr(victim, '/') + 1);
			break;
		}
		t_abandon(t);
		successor(t, mem, NULL, PW_LAYOUT);
		assert_string_equal(t->f.log, "host memory: the open file's "
		    "record is inconsistent: starting afresh");
		assert_int_equal(stat(victim, &st), 0);
		assert_int_equal(st.st_size, (off_t)sizeof(junk));
	}
	t_close(t);
	assert_int_equal(unlink(victim), 0);
}

/* --- errors --- */

/*
 * The directory goes away with the open file: noticed at the tick, the
 * next file cannot be opened, frames are counted as dropped, a status says
 * why; once the directory is back, writing resumes and the status clears.
 */
static void
test_vanished_directory(void **state)
{
	struct t *t = *state;
	char name[300], path[512], expect[700];

	t_start(t, NULL);
	for (uint32_t i = 0; i < 5; i++)
		t_send_cap(t, i, 100, 100, T0 * SEC + i, false);
	ringfan_plugin.tick(t->st, T0 * SEC + 5);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(t->dir), 0);
	ringfan_plugin.tick(t->st, (T0 + 1) * SEC);
	snprintf(expect, sizeof(expect), "%s: removed while open; a new file "
	    "starts", path);
	assert_string_equal(t->f.log, expect);
	assert_int_equal(val(t, "open_bytes"), 0);
	for (uint32_t i = 5; i < 8; i++)
		t_send_cap(t, i, 100, 100, (T0 + 2) * SEC + i, false);
	snprintf(expect, sizeof(expect), "open %s/test-0-20231114T221322Z-"
	    "000002.pcap: No such file or directory", t->dir);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(val(t, "write_errors"), 1);
	assert_int_equal(val(t, "frames_dropped"), 3);
	assert_int_equal(val(t, "bytes_dropped"), 3 * 116);
	/* One try a tick, not one a frame. */
	ringfan_plugin.tick(t->st, (T0 + 3) * SEC);
	t_send_cap(t, 8, 100, 100, (T0 + 3) * SEC, false);
	t_send_cap(t, 9, 100, 100, (T0 + 3) * SEC, false);
	assert_int_equal(val(t, "write_errors"), 2);
	assert_int_equal(val(t, "frames_dropped"), 5);
	/* A file that could not be made takes no number. */
	snprintf(expect, sizeof(expect), "open %s/test-0-20231114T221323Z-"
	    "000002.pcap: No such file or directory", t->dir);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(mkdir(t->dir, 0700), 0);
	ringfan_plugin.tick(t->st, (T0 + 4) * SEC);
	/* The problem is over once a write works: the new file's header. */
	t_send(t, 10, 100, (T0 + 4) * SEC);
	assert_string_equal(t->f.status, "");
	t_send(t, 11, 100, (T0 + 4) * SEC + 1);
	ringfan_plugin.tick(t->st, (T0 + 5) * SEC);
	t_name(t, 0, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221324Z-000002.pcap");
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(val(t, "frames"), 7);
	assert_int_equal(val(t, "frames_dropped"), 5);
}

/*
 * A file removed while open, seen when its buffer is next written, not only
 * at the tick: at a rotation by size (rotate_size 372, three records of
 * 116) and when the buffer is full (records of 200016 bytes).  The frames of the buffer are counted as dropped, not as
 * written into a file no one can read, and the frame that came starts a
 * new file.  No tick in between.
 */
static void
test_removed_before_flush(void **state)
{
	const char *opts[] = { "rotate_size=372", NULL };
	struct t *t = *state;
	char name[300], path[512], expect[700];
	uint64_t ts = T0 * SEC;

	t_start(t, opts);
	t_send_cap(t, 0, 100, 100, ts++, false);
	t_send_cap(t, 1, 100, 100, ts++, false);
	ringfan_plugin.tick(t->st, ts);
	assert_int_equal(val(t, "frames"), 2);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(unlink(path), 0);
	t_send_cap(t, 2, 100, 100, ts++, false);	/* the buffer's */
	t_send(t, 3, 100, ts++);		/* rotates: a new file */
	snprintf(expect, sizeof(expect), "%s: removed while open; a new file "
	    "starts", path);
	assert_string_equal(t->f.log, expect);
	assert_int_equal(val(t, "frames"), 2);
	assert_int_equal(val(t, "frames_dropped"), 1);
	assert_int_equal(val(t, "bytes_dropped"), 116);
	assert_int_equal(val(t, "write_errors"), 0);
	assert_string_equal(t->f.status, "");
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(val(t, "frames"), 3);
	assert_int_equal(val(t, "files"), 2);
	assert_int_equal(val(t, "bytes"), 24 + 2 * 116 + t_dir_bytes(t->dir));

	/*
	 * The same when the buffer fills up: the header and the first
	 * record were written at the tick, four more fit.
	 */
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(unlink(path), 0);
	t->nsent = 0;
	t_start(t, NULL);
	t_send_cap(t, 10, 200000, 200000, ts++, false);
	ringfan_plugin.tick(t->st, ts);
	assert_int_equal(val(t, "frames"), 1);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(unlink(path), 0);
	for (uint32_t i = 11; i < 15; i++)
		t_send_cap(t, i, 200000, 200000, ts++, false);
	assert_int_equal(val(t, "frames_dropped"), 0);
	t_send(t, 15, 200000, ts++);		/* the buffer is full */
	snprintf(expect, sizeof(expect), "%s: removed while open; a new file "
	    "starts", path);
	assert_string_equal(t->f.log, expect);
	assert_int_equal(val(t, "frames"), 1);
	assert_int_equal(val(t, "frames_dropped"), 4);
	assert_int_equal(val(t, "bytes_dropped"), 4 * 200016);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(val(t, "frames"), 2);
}

/* As above with a directory that is there but not writable. */
/* Sets or clears a directory's immutable flag (chattr +i); 0 or -1. */
static int
t_immutable(const char *dir, bool on)
{
	int fd, flags, rc = -1;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

static void
test_readonly_directory(void **state)
{
	struct t *t = *state;
	char expect[700], name[300];
	bool root = geteuid() == 0;

	/* Root writes past permissions, not into an immutable directory. */
	snprintf(expect, sizeof(expect), "open %s/test-0-20231114T221320Z-"
	    "000001.pcap: %s", t->dir, root ? "Operation not permitted" :
	    "Permission denied");
	t_start(t, NULL);
	if (root)
		assert_int_equal(t_immutable(t->dir, true), 0);
	else
		assert_int_equal(chmod(t->dir, 0555), 0);
	t_send_cap(t, 0, 100, 100, T0 * SEC, false);
	if (root)
		assert_int_equal(t_immutable(t->dir, false), 0);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(val(t, "frames_dropped"), 1);
	assert_int_equal(chmod(t->dir, 0755), 0);
	ringfan_plugin.tick(t->st, T0 * SEC);
	t_send(t, 1, 100, T0 * SEC + 1);
	ringfan_plugin.tick(t->st, T0 * SEC + 1);
	assert_string_equal(t->f.status, "");
	/* The file that could not be made took no number. */
	t_name(t, 0, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000001.pcap");
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
}

static void
fsize_limit(rlim_t limit)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/*
 * A full disk, played by RLIMIT_FSIZE (root obeys it too): the write stops
 * inside a record; the whole records stay, the partial one is cut off, the
 * rest is dropped; frames are dropped until the next tick; writing
 * resumes in the same file once there is room.
 */
static void
test_disk_full(void **state)
{
	struct t *t = *state;
	char name[300], path[512], expect[700];

	signal(SIGXFSZ, SIG_IGN);
	t_start(t, NULL);
	fsize_limit(24 + 3 * 116 + 50);
	for (uint32_t i = 0; i < 6; i++)
		t_send_cap(t, i, 100, 100, T0 * SEC + i, i < 3);
	ringfan_plugin.tick(t->st, T0 * SEC + 6);
	t_name(t, 0, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(fsize(path), 24 + 3 * 116);
	snprintf(expect, sizeof(expect), "write %s: File too large", path);
	assert_string_equal(t->f.status, expect);
	assert_int_equal(val(t, "frames"), 3);
	assert_int_equal(val(t, "frames_dropped"), 3);
	assert_int_equal(val(t, "bytes_dropped"), 3 * 116);
	assert_int_equal(val(t, "write_errors"), 1);
	/* Dropped without trying, until the tick. */
	t_send_cap(t, 6, 100, 100, T0 * SEC + 7, false);
	assert_int_equal(val(t, "frames_dropped"), 4);
	assert_int_equal(val(t, "write_errors"), 1);
	/* Still full: the next try fails again, nothing of it stays. */
	ringfan_plugin.tick(t->st, T0 * SEC + 8);
	t_send_cap(t, 7, 100, 100, T0 * SEC + 8, false);
	ringfan_plugin.tick(t->st, T0 * SEC + 9);
	assert_int_equal(val(t, "write_errors"), 2);
	assert_int_equal(val(t, "frames_dropped"), 5);
	assert_int_equal(fsize(path), 24 + 3 * 116);
	fsize_limit(RLIM_INFINITY);
	ringfan_plugin.tick(t->st, T0 * SEC + 10);
	t_send(t, 8, 100, T0 * SEC + 10);
	t_send(t, 9, 100, T0 * SEC + 11);
	ringfan_plugin.tick(t->st, T0 * SEC + 12);
	assert_string_equal(t->f.status, "");
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(val(t, "frames"), 5);
	assert_int_equal(val(t, "bytes"), (uint64_t)fsize(path));
}

/*
 * A file size limit set before the open (ulimit -f, LimitFSIZE=) rotates
 * the files as rotate_size does, here 372 bytes: three records of 116 a
 * file, every frame written, no error.  The smaller of the two counts.
 */
static void
test_fsize_rotates(void **state)
{
	const char *opts[] = { "rotate_size=1000", NULL };
	struct t *t = *state;
	size_t counts[3];

	signal(SIGXFSZ, SIG_IGN);
	fsize_limit(372);
	t_start(t, opts);
	fsize_limit(RLIM_INFINITY);
	for (uint32_t i = 0; i < 7; i++)
		t_send(t, i, 100, T0 * SEC + i);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, counts), 3);
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[1], 3);
	assert_int_equal(counts[2], 1);
	assert_int_equal(val(t, "rotations"), 2);
	assert_int_equal(val(t, "frames"), 7);
	assert_int_equal(val(t, "frames_dropped"), 0);
	assert_int_equal(val(t, "write_errors"), 0);
}

/* Full before even the file header fits: no file is left half made. */
static void
test_disk_full_header(void **state)
{
	struct t *t = *state;

	signal(SIGXFSZ, SIG_IGN);
	t_start(t, NULL);
	fsize_limit(10);
	t_send_cap(t, 0, 100, 100, T0 * SEC, false);
	ringfan_plugin.tick(t->st, T0 * SEC + 1);
	fsize_limit(RLIM_INFINITY);
	assert_int_equal(t_nfiles(t), 0);
	assert_int_equal(val(t, "frames_dropped"), 1);
	assert_int_equal(val(t, "bytes_dropped"), 24 + 116);
	assert_int_equal(val(t, "files"), 1);
	ringfan_plugin.tick(t->st, T0 * SEC + 2);
	t_send(t, 1, 100, T0 * SEC + 2);
	t_close(t);
	assert_string_equal(t->f.status, "");
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	assert_int_equal(val(t, "files"), 2);
}

/*
 * A record holds 32 bits of seconds: a frame stamped after
 * 2106-02-07T06:28:15Z is dropped and counted, never written with its time
 * wrapped.  A status says why while such frames come, the log once per
 * spell of them; frames around them are written, the last nanosecond a
 * record holds included.
 */
static void
test_past_2106(void **state)
{
	static const char status[] = "frames stamped after "
	    "2106-02-07T06:28:15Z, the last second a pcap file can hold, are "
	    "dropped";
	static const char log[] = "frame stamped 2106-02-07T06:28:16Z: past "
	    "2106-02-07T06:28:15Z, the last second a pcap file can hold; such "
	    "frames are dropped";
	const uint64_t end = ((uint64_t)UINT32_MAX + 1) * SEC;
	struct t *t = *state;
	char name[300];
	unsigned nlog;

	t_start(t, NULL);
	nlog = t->f.nlog;
	/* No file is made for it. */
	t_send_cap(t, 0, 100, 100, end, false);
	assert_int_equal(t_nfiles(t), 0);
	assert_string_equal(t->f.status, status);
	assert_string_equal(t->f.log, log);
	assert_int_equal(t->f.nlog, nlog + 1);
	assert_int_equal(val(t, "frames_dropped"), 1);
	assert_int_equal(val(t, "bytes_dropped"), 116);
	assert_int_equal(val(t, "write_errors"), 0);
	t_send(t, 1, 100, T0 * SEC);
	/* Year 2554, the last ts_ns: counted, not logged again. */
	t_send_cap(t, 2, 60, 60, UINT64_MAX, false);
	assert_int_equal(t->f.nlog, nlog + 1);
	assert_int_equal(val(t, "frames_dropped"), 2);
	assert_int_equal(val(t, "bytes_dropped"), 116 + 76);
	t_send(t, 3, 100, end - 1);
	/* One came since the last tick: still shown. */
	ringfan_plugin.tick(t->st, T0 * SEC + 1);
	assert_string_equal(t->f.status, status);
	/* A tick period without one: the spell is over. */
	ringfan_plugin.tick(t->st, T0 * SEC + 2);
	assert_string_equal(t->f.status, "");
	t_send_cap(t, 4, 100, 100, end + 5, false);
	assert_string_equal(t->f.status, status);
	assert_int_equal(t->f.nlog, nlog + 2);
	t_send(t, 5, 100, T0 * SEC + 3);
	t_close(t);
	assert_int_equal(t_verify(t, 262144, false, NULL), 1);
	t_name(t, 0, name, sizeof(name));
	assert_string_equal(name, "test-0-20231114T221320Z-000001.pcap");
	assert_int_equal(val(t, "frames"), 3);
	assert_int_equal(val(t, "frames") + val(t, "frames_dropped"), 6);
	assert_int_equal(val(t, "write_errors"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_rejected),
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test_setup_teardown(test_counter_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_microsecond, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nanosecond, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_snaplen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snaplen_capture, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_linktype, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linktype_libpcap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stripped_tag, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_buffer_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotate_size, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotate_interval, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_disk_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_bytes_rescan_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_bytes_rescan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_disk_rescan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_name_taken, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_partial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_written, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_new_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_foreign_path,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_replaced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vanished_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_removed_before_flush,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fsize_rotates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_header, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_past_2106, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

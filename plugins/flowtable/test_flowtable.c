/*
 * Unit tests of the flowtable plugin, on the stand-in host context.  The
 * plugin's sources are compiled in with FT_TESTING, whose hooks let a test
 * stop the plugin dead (longjmp) at a chosen instant, as a kill -9 would,
 * and open a successor on the same host memory and output file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#include "fake_ctx.h"
#include "private_net.h"
#include "flowtable.h"
#include "flowtable_ipfix.h"

extern const struct ringfan_plugin ringfan_plugin;

#define T0	(1700000000ULL * 1000000000ULL)
#define MS(x)	(T0 + (uint64_t)(x) * 1000000ULL)
#define MAXLINES 4096

static char tmpdir[64];

/* --- Frames, built by hand. */

struct spec {
	int		 ipver;		/* 4 or 6 */
	int		 vlan;		/* -1: none; in the frame */
	int		 strip_vlan;	/* -1: none; stripped by the kernel */
	const char	*src, *dst;
	int		 proto;
	uint16_t	 sport, dport;	/* ICMP: type, code */
	uint8_t		 flags;		/* TCP */
	uint32_t	 payload;
	int		 frag;		/* 1: a fragment */
	uint32_t	 id;
	uint16_t	 off;		/* fragment offset in bytes */
	int		 mf;
	int		 ah;		/* IPv6: an AH header after fragment's */
};

struct pk {
	uint8_t		 b[2048];
	uint32_t	 n;
	int		 strip_vlan;
};

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t
mk_l4(uint8_t *p, const struct spec *s)
{
	switch (s->proto) {
	case 6:
		memset(p, 0, 20);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		p[12] = 0x50;
		p[13] = s->flags;
		return 20;
	case 17:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, 8 + s->payload);
		put16(p + 6, 0);
		return 8;
	case 1:
	case 58:
		memset(p, 0, 8);
		p[0] = (uint8_t)s->sport;
		p[1] = (uint8_t)s->dport;
		return 8;
	case 132:
		memset(p, 0, 12);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		return 12;
	}
	return 0;
}

/* An Ethernet frame (linktype 1), or with l2 = 113 SLL, 12 raw IP. */
static void
mk_frame_l2(struct pk *pk, const struct spec *s, int l2)
{
	uint8_t *b = pk->b, *ip;
	uint32_t o = 0, l4len = 0, hl;
	uint16_t et = s->ipver == 4 ? 0x0800 : 0x86dd;
	uint8_t l4[64];

	memset(pk, 0, sizeof(*pk));
	pk->strip_vlan = s->strip_vlan;
	if (l2 == 1) {
		memset(b, 0xff, 6);
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
		o = 12;
		if (s->vlan >= 0) {
			put16(b + o, 0x8100);
			put16(b + o + 2, (unsigned)s->vlan);
			o += 4;
		}
		put16(b + o, et);
		o += 2;
	} else if (l2 == 113) {
		put16(b, 0);		/* to us */
		put16(b + 2, 1);	/* ARPHRD_ETHER */
		put16(b + 4, 6);
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
		put16(b + 14, et);
		o = 16;
	}
	if (!s->frag || s->off == 0)
		l4len = mk_l4(l4, s);
	ip = b + o;
	if (s->ipver == 4) {
		hl = 20;
		memset(ip, 0, hl);
		ip[0] = 0x45;
		put16(ip + 2, hl + l4len + s->payload);
		put16(ip + 4, s->id);
		put16(ip + 6, (unsigned)(s->off / 8) | (s->mf ? 0x2000 : 0));
		ip[8] = 64;
		ip[9] = (uint8_t)s->proto;
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
	} else {
		/* AH (24 bytes) is in the first fragment only. */
		hl = 40 + (s->frag ? 8 : 0) + (s->ah && s->off == 0 ? 24 : 0);
		memset(ip, 0, hl);
		ip[0] = 0x60;
		put16(ip + 4, hl - 40 + l4len + s->payload);
		ip[6] = (uint8_t)(s->frag ? 44 : s->ah ? 51 : s->proto);
		ip[7] = 64;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		if (s->frag) {
			ip[40] = (uint8_t)(s->ah ? 51 : s->proto);
			put16(ip + 42, s->off | (s->mf ? 1 : 0));
			put32(ip + 44, s->id);
		}
		if (s->ah && s->off == 0) {
			ip[hl - 24] = (uint8_t)s->proto;
			ip[hl - 23] = 24 / 4 - 2;
		}
	}
	memcpy(ip + hl, l4, l4len);
	memset(ip + hl + l4len, 0xab, s->payload);
	pk->n = o + hl + l4len + s->payload;
}

static void
mk_frame(struct pk *pk, const struct spec *s)
{
	mk_frame_l2(pk, s, 1);
}

/* --- Instances on the fake context. */

struct inst {
	struct fake_ctx	 f;
	void		*mem;
	int		 own_mem;
	void		*state;
	const char	*opts[16];
};

/* check, then open on mem (fresh when NULL). */
static void
inst_open_on(struct inst *in, const char *const *opts, unsigned worker,
    unsigned count, void *mem)
{
	int n;

	memset(in, 0, sizeof(*in));
	for (n = 0; opts[n] != NULL; n++)
		in->opts[n] = opts[n];
	fake_ctx_init(&in->f, in->opts);
	in->f.pub.worker_id = worker;
	in->f.pub.worker_count = count;
	assert_int_equal(ringfan_plugin.check(&in->f.pub), RINGFAN_OK);
	assert_string_equal(in->f.error, "");
	if (mem == NULL) {
		in->mem = calloc(1, in->f.mem_size);
		assert_non_null(in->mem);
		in->own_mem = 1;
		fake_ctx_memory(&in->f, in->mem, RINGFAN_MEMORY_FRESH);
	} else {
		in->mem = mem;
		fake_ctx_memory(&in->f, mem, RINGFAN_MEMORY_RECOVERED);
	}
	assert_int_equal(ringfan_plugin.open(&in->f.pub, &in->state),
	    RINGFAN_OK);
	assert_string_equal(in->f.error, "");
	assert_null(fake_ctx_unasked(&in->f));
}

static void
inst_open(struct inst *in, const char *const *opts)
{
	inst_open_on(in, opts, 0, 1, NULL);
}

static void
inst_close(struct inst *in)
{
	ringfan_plugin.close(in->state);
	if (in->own_mem)
		free(in->mem);
}

static uint64_t
val(const struct inst *in, const char *name)
{
	return fake_ctx_value(&in->f, name);
}

static void
view(const struct inst *in, struct ringfan_packet *p, const uint8_t *data,
    uint32_t caplen, uint32_t len, uint64_t ts, int strip_vlan)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->caplen = caplen;
	p->len = len;
	p->ts_ns = ts;
	p->linktype = (uint16_t)in->f.pub.linktype;
	if (strip_vlan >= 0) {
		p->flags = RINGFAN_PKT_VLAN_VALID;
		p->vlan_tci = (uint16_t)strip_vlan;
	}
}

static void
feed_raw(struct inst *in, const uint8_t *data, uint32_t caplen, uint32_t len,
    uint64_t ts, int strip_vlan)
{
	struct ringfan_packet p;

	view(in, &p, data, caplen, len, ts, strip_vlan);
	assert_int_equal(ringfan_plugin.packet(in->state, &p),
	    RINGFAN_CONTINUE);
}

/* Frame pk at ts to the prefetch callback. */
static void
prefetch(struct inst *in, const struct pk *pk, uint64_t ts)
{
	struct ringfan_packet p;

	view(in, &p, pk->b, pk->n, pk->n, ts, pk->strip_vlan);
	ringfan_plugin.prefetch(in->state, &p);
}

static void
feed(struct inst *in, const struct spec *s, uint64_t ts)
{
	struct pk pk;

	mk_frame_l2(&pk, s, in->f.pub.linktype);
	feed_raw(in, pk.b, pk.n, pk.n, ts, pk.strip_vlan);
}

static void
tick(struct inst *in, uint64_t now)
{
	ringfan_plugin.tick(in->state, now);
}

/* --- Output files. */

struct lines {
	char	*text;
	char	*l[MAXLINES];
	int	 n;
};

static void
read_lines(const char *path, struct lines *ls)
{
	FILE *fp;
	long size;
	char *p, *nl;

	memset(ls, 0, sizeof(*ls));
	if ((fp = fopen(path, "r")) == NULL) {
		ls->text = calloc(1, 1);
		return;
	}
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	ls->text = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(ls->text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	for (p = ls->text; *p != '\0' && ls->n < MAXLINES; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);	/* every line whole */
		*nl = '\0';
		ls->l[ls->n++] = p;
	}
}

static void
free_lines(struct lines *ls)
{
	free(ls->text);
}

/* The whole file, "" when there is none. */
static char *
file_text(const char *path)
{
	FILE *fp;
	char *text;
	long size;

	if ((fp = fopen(path, "r")) == NULL)
		return calloc(1, 1);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	return text;
}

static void
path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	unlink(out);
}

/* The record line as docs/plugins.md has it (without the newline). */
static void
rec(char *out, size_t cap, unsigned w, const char *vlan, int proto,
    const char *src, unsigned sport, const char *dst, unsigned dport,
    uint64_t first, uint64_t last, uint64_t fp, uint64_t fb, const char *ff,
    uint64_t rp, uint64_t rb, const char *rf, const char *reason)
{
	snprintf(out, cap, "{\"worker\": %u, \"vlan\": %s, \"proto\": %d, "
	    "\"src\": \"%s\", \"sport\": %u, \"dst\": \"%s\", \"dport\": %u, "
	    "\"first_ns\": %" PRIu64 ", \"last_ns\": %" PRIu64 ", "
	    "\"fwd\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", "
	    "\"tcp_flags\": \"%s\"}, \"rev\": {\"packets\": %" PRIu64 ", "
	    "\"bytes\": %" PRIu64 ", \"tcp_flags\": \"%s\"}, "
	    "\"reason\": \"%s\"}", w, vlan, proto, src, sport, dst, dport,
	    first, last, fp, fb, ff, rp, rb, rf, reason);
}

static int
setup_dir(void **st)
{
	(void)st;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ft-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- Options. */

static void
expect_check_error(const char *const *opts, int linktype, const char *msg)
{
	struct fake_ctx f;

	fake_ctx_init(&f, opts);
	f.pub.linktype = linktype;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_FAIL);
	assert_string_equal(f.error, msg);
	assert_int_equal(f.mem_size, 0);
}

static void
test_options(void **st)
{
	struct fake_ctx f;
	const char *ok[] = { "output=/x/{worker}.json", "max_flows=1000",
	    "idle_timeout=20s", "linger=3s", NULL };

	(void)st;
	fake_ctx_init(&f, ok);
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	assert_int_equal(f.mem_size, ft_region_size(1000));
	assert_int_equal(f.mem_layout, FT_LAYOUT);
	assert_int_equal(f.tick_ns, 1000000000ULL);	/* 3s / 2, at most 1s */
	assert_null(fake_ctx_unasked(&f));
	{
		const char *o[] = { "output=/x", "linger=10ms", NULL };

		fake_ctx_init(&f, o);
		assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
		assert_int_equal(f.tick_ns, 10000000ULL);
		/* The default: 65536 flows. */
		assert_int_equal(f.mem_size, ft_region_size(65536));
	}
	{
		const char *o[] = { NULL };
		expect_check_error(o, 1, "output: required without ipfix: "
		    "the file the records go to");
	}
	{
		const char *o[] = { "output=/x/{capture}.json", NULL };
		expect_check_error(o, 1, "output: \"/x/{capture}.json\": "
		    "unknown placeholder at \"{capture}.json\", only {worker} "
		    "is known");
	}
	{
		const char *o[] = { "output=/x", "max_flows=0", NULL };
		expect_check_error(o, 1, "max_flows: 0 is not 1 to 4194304");
	}
	{
		const char *o[] = { "output=/x", "max_flows=4194305", NULL };
		expect_check_error(o, 1,
		    "max_flows: 4194305 is not 1 to 4194304");
	}
	{
		const char *o[] = { "output=/x", "idle_timeout=2s",
		    "linger=3s", NULL };
		expect_check_error(o, 1, "linger: 3000 ms is longer than "
		    "idle_timeout (2000 ms)");
	}
	{
		/* Given, linger is checked even at its default value. */
		const char *o[] = { "output=/x", "idle_timeout=500ms",
		    "linger=1s", NULL };
		expect_check_error(o, 1, "linger: 1000 ms is longer than "
		    "idle_timeout (500 ms)");
	}
	{
		/* Absent, it is idle_timeout when that is shorter. */
		const char *o[] = { "output=/x", "idle_timeout=500ms", NULL };

		fake_ctx_init(&f, o);
		assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
		assert_int_equal(f.tick_ns, 250000000ULL);
		assert_null(fake_ctx_unasked(&f));
	}
	{
		const char *o[] = { "output=/x", "active_timeout=0s", NULL };
		expect_check_error(o, 1,
		    "active_timeout: 0 ms is not 1 ms to 8760h");
	}
	{
		const char *o[] = { "output=/x", "idle_timeout=soon", NULL };
		expect_check_error(o, 1,
		    "idle_timeout: not a duration: \"soon\"");
	}
	{
		const char *o[] = { "output=/x", NULL };
		expect_check_error(o, 147,
		    "link type 147 is not one flowtable decodes");
	}
}

/* Worker 0 warns once when the fanout can split flows; worker 1 not. */
static void
test_flow_split(void **st)
{
	struct inst a, b;
	char out[128], opt[160];
	const char *o[] = { opt, NULL };

	(void)st;
	path_of(out, sizeof(out), "split-{worker}.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	memset(&a, 0, sizeof(a));
	fake_ctx_init(&a.f, o);
	a.f.pub.flags = RINGFAN_CTX_FLOW_SPLIT;
	assert_int_equal(ringfan_plugin.check(&a.f.pub), RINGFAN_OK);
	a.mem = calloc(1, a.f.mem_size);
	a.own_mem = 1;
	fake_ctx_memory(&a.f, a.mem, RINGFAN_MEMORY_FRESH);
	assert_int_equal(ringfan_plugin.open(&a.f.pub, &a.state), RINGFAN_OK);
	assert_int_equal(a.f.nlog, 1);
	assert_string_equal(a.f.log, "capture test: its fanout can send the "
	    "frames of one flow to several workers, each of which then "
	    "writes records of its part: use fanout mode hash with defrag");
	inst_close(&a);
	memset(&b, 0, sizeof(b));
	fake_ctx_init(&b.f, o);
	b.f.pub.flags = RINGFAN_CTX_FLOW_SPLIT;
	b.f.pub.worker_id = 1;
	b.f.pub.worker_count = 2;
	assert_int_equal(ringfan_plugin.check(&b.f.pub), RINGFAN_OK);
	b.mem = calloc(1, b.f.mem_size);
	b.own_mem = 1;
	fake_ctx_memory(&b.f, b.mem, RINGFAN_MEMORY_FRESH);
	assert_int_equal(ringfan_plugin.open(&b.f.pub, &b.state), RINGFAN_OK);
	assert_int_equal(b.f.nlog, 0);
	inst_close(&b);
}

/* --- Records. */

#define A4	"10.0.0.1"
#define B4	"10.0.1.1"

static struct spec
tcp4(const char *s, const char *d, uint16_t sp, uint16_t dp, uint8_t fl,
    uint32_t pay)
{
	struct spec x = { .ipver = 4, .vlan = -1, .strip_vlan = -1, .src = s,
	    .dst = d, .proto = 6, .sport = sp, .dport = dp, .flags = fl,
	    .payload = pay };
	return x;
}

static struct spec
udp4(const char *s, const char *d, uint16_t sp, uint16_t dp, uint32_t pay)
{
	struct spec x = { .ipver = 4, .vlan = -1, .strip_vlan = -1, .src = s,
	    .dst = d, .proto = 17, .sport = sp, .dport = dp, .payload = pay };
	return x;
}

/*
 * A TCP connection: both directions join, src is the client, flags as
 * letters; it ends `linger` after its last frame, not before.
 */
static void
test_tcp_end(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160];
	const char *o[] = { opt, "linger=1s", NULL };
	struct spec cl = tcp4(A4, B4, 40000, 80, 0x02, 0);
	struct spec sv = tcp4(B4, A4, 80, 40000, 0x12, 0);

	(void)st;
	path_of(out, sizeof(out), "tcp.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &cl, MS(0));			/* S: 54 bytes */
	feed(&in, &sv, MS(1));			/* SA */
	cl.flags = 0x10;
	feed(&in, &cl, MS(2));			/* A */
	cl.flags = 0x18;
	cl.payload = 100;
	feed(&in, &cl, MS(3));			/* PA, 154 bytes */
	sv.flags = 0x11;
	feed(&in, &sv, MS(4));			/* FA */
	cl.flags = 0x11;
	cl.payload = 0;
	feed(&in, &cl, MS(5));			/* FA */
	sv.flags = 0x10;
	feed(&in, &sv, MS(6));			/* the final A joins */
	assert_int_equal(val(&in, "active"), 1);
	tick(&in, MS(1005));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 0);
	free_lines(&ls);
	tick(&in, MS(1006));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	assert_string_equal(ls.l[0], "{\"worker\": 0, \"vlan\": null, "
	    "\"proto\": 6, \"src\": \"10.0.0.1\", \"sport\": 40000, "
	    "\"dst\": \"10.0.1.1\", \"dport\": 80, "
	    "\"first_ns\": 1700000000000000000, "
	    "\"last_ns\": 1700000000006000000, "
	    "\"fwd\": {\"packets\": 4, \"bytes\": 316, \"tcp_flags\": \"FSPA\"}, "
	    "\"rev\": {\"packets\": 3, \"bytes\": 162, \"tcp_flags\": \"FSA\"}, "
	    "\"reason\": \"end\"}");
	free_lines(&ls);
	assert_int_equal(val(&in, "expired_end"), 1);
	assert_int_equal(val(&in, "records"), 1);
	assert_int_equal(val(&in, "active"), 0);
	assert_int_equal(val(&in, "created"), 1);
	inst_close(&in);
}

/*
 * Idle and active timeouts at exact network times; the active timeout
 * restarts the flow with zero counts, same key, same src, even when the
 * next frame comes from the other side.
 */
static void
test_idle_active(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "idle_timeout=5s", "active_timeout=10s",
	    NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec ba = udp4(B4, A4, 53, 5000, 10);

	(void)st;
	path_of(out, sizeof(out), "ia.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	for (int t = 0; t < 25; t++)
		feed(&in, t == 10 ? &ba : &ab, MS(t * 1000));
	tick(&in, MS(28999));
	assert_int_equal(val(&in, "expired_idle"), 0);
	tick(&in, MS(29000));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 3);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(0),
	    MS(9000), 10, 520, "", 0, 0, "", "active");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(10000),
	    MS(19000), 9, 468, "", 1, 52, "", "active");
	assert_string_equal(ls.l[1], want);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(20000),
	    MS(24000), 5, 260, "", 0, 0, "", "idle");
	assert_string_equal(ls.l[2], want);
	free_lines(&ls);
	assert_int_equal(val(&in, "expired_active"), 2);
	assert_int_equal(val(&in, "expired_idle"), 1);
	assert_int_equal(val(&in, "created"), 1);
	/* A restarted flow that stays quiet ends without a record. */
	feed(&in, &ab, MS(40000));
	feed(&in, &ab, MS(44000));
	feed(&in, &ab, MS(48000));
	tick(&in, MS(50000));		/* active: written, restarted */
	tick(&in, MS(60000));		/* idle, but no frame since */
	assert_int_equal(val(&in, "active"), 0);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 4);
	free_lines(&ls);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 4);	/* nothing left at shutdown */
	free_lines(&ls);
}

/*
 * A flow whose active timeout passes before its idle timeout (or its
 * linger) is written as `active`, whether or not a frame or a tick came
 * between the two: its record does not depend on when the table was
 * looked at (the frames of other flows, or another worker's).
 */
static void
test_active_before_idle(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "idle_timeout=5s", "active_timeout=10s",
	    "linger=2s", NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec cl = tcp4(A4, B4, 40000, 80, 0x02, 0);

	(void)st;
	for (int between = 0; between < 2; between++) {
		path_of(out, sizeof(out), "first.json");
		snprintf(opt, sizeof(opt), "output=%s", out);
		inst_open(&in, o);
		cl.flags = 0x02;
		feed(&in, &ab, MS(0));		/* active at 10 s */
		feed(&in, &cl, MS(0));
		feed(&in, &ab, MS(4000));
		cl.flags = 0x10;
		feed(&in, &cl, MS(4500));
		feed(&in, &ab, MS(8000));	/* idle at 13 s */
		cl.flags = 0x11;
		feed(&in, &cl, MS(9000));	/* FIN: linger ends at 11 s */
		if (between)
			tick(&in, MS(10500));
		tick(&in, MS(14000));
		read_lines(out, &ls);
		assert_int_equal(ls.n, 2);
		rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53,
		    MS(0), MS(8000), 3, 156, "", 0, 0, "", "active");
		assert_string_equal(ls.l[0], want);
		rec(want, sizeof(want), 0, "null", 6, A4, 40000, B4, 80,
		    MS(0), MS(9000), 3, 162, "FSA", 0, 0, "", "active");
		assert_string_equal(ls.l[1], want);
		free_lines(&ls);
		assert_int_equal(val(&in, "expired_active"), 2);
		assert_int_equal(val(&in, "expired_idle"), 0);
		assert_int_equal(val(&in, "expired_end"), 0);
		assert_int_equal(val(&in, "active"), 0);
		inst_close(&in);
		read_lines(out, &ls);
		assert_int_equal(ls.n, 2);
		free_lines(&ls);
	}
}

/*
 * Frames stamped in the last year of what 64-bit nanoseconds hold (a
 * pcapng file's times reach 2554-07-21T23:34:33Z) count as stamped at
 * FT_TIME_MAX, a year short of it: no deadline wraps back to 1970, so no
 * frame expires its flow at once, and the idle clock stops there.
 */
static void
test_end_of_time(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "idle_timeout=30s", "active_timeout=300s",
	    NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	uint64_t t0 = FT_TIME_MAX - 2ULL * 1000000000ULL;

	(void)st;
	path_of(out, sizeof(out), "end.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &ab, t0);
	feed(&in, &ab, t0 + 1000000000ULL);
	feed(&in, &ab, UINT64_MAX - 10ULL * 1000000000ULL);
	tick(&in, UINT64_MAX - 5ULL * 1000000000ULL);
	assert_int_equal(val(&in, "expired_idle"), 0);
	/* The last nanosecond there is: still the same flow. */
	feed(&in, &ab, UINT64_MAX);
	tick(&in, UINT64_MAX);
	assert_int_equal(val(&in, "expired_idle"), 0);
	assert_int_equal(val(&in, "expired_active"), 0);
	assert_int_equal(val(&in, "created"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, t0,
	    FT_TIME_MAX, 4, 208, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[0], want);
	free_lines(&ls);
}

/*
 * Frames out of time order across an active timeout (a file merged from
 * several captures): each record's first_ns and last_ns are the earliest
 * and the latest stamps of the frames it counts, not of the record before.
 * The flow's idle clock still runs from its latest frame, whichever record
 * counted it.
 */
static void
test_active_out_of_order(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "active_timeout=1000s", NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec ba = udp4(B4, A4, 53, 5000, 10);

	(void)st;
	path_of(out, sizeof(out), "order.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &ab, MS(1000000));		/* T */
	feed(&in, &ab, MS(0));			/* T - 1000 s: active at T */
	feed(&in, &ba, MS(1000));		/* active first; restarts */
	feed(&in, &ab, MS(2000));		/* counted by a touch */
	/* Not idle: its latest frame, at T, is 0.5 s old. */
	tick(&in, MS(1000500));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(0),
	    MS(1000000), 2, 104, "", 0, 0, "", "active");
	assert_string_equal(ls.l[0], want);
	free_lines(&ls);
	assert_int_equal(val(&in, "expired_active"), 1);
	assert_int_equal(val(&in, "created"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 2);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(1000),
	    MS(2000), 1, 52, "", 1, 52, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	free_lines(&ls);
}

/*
 * A tick more than idle_timeout before the table's clock (live, the
 * real-time clock stepped back): the open flows are written, reason
 * active (counted as clock, not expired_active), and the flows after it
 * time out on the clock from that tick, one
 * record a flow.  A tick back by less changes nothing.
 */
static void
test_clock_back(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "idle_timeout=10s", NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec cd = udp4(A4, B4, 6000, 53, 10);

	(void)st;
	path_of(out, sizeof(out), "clock.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &ab, MS(3600000));
	tick(&in, MS(3595000));		/* back 5 s: within idle_timeout */
	assert_int_equal(val(&in, "clock"), 0);
	tick(&in, MS(3601000));
	tick(&in, MS(1000));		/* back an hour */
	assert_int_equal(val(&in, "clock"), 1);
	feed(&in, &cd, MS(2000));
	feed(&in, &cd, MS(3000));
	feed(&in, &ab, MS(4000));
	tick(&in, MS(5000));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53,
	    MS(3600000), MS(3600000), 1, 52, "", 0, 0, "", "active");
	assert_string_equal(ls.l[0], want);
	assert_int_equal(val(&in, "expired_active"), 0);
	free_lines(&ls);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 3);
	rec(want, sizeof(want), 0, "null", 17, A4, 6000, B4, 53, MS(2000),
	    MS(3000), 2, 104, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	free_lines(&ls);
}

/*
 * A frame of a flow whose timeouts both ran out, found by the frame
 * rather than by a look at the lists (stamps that go back put the flow
 * behind another not yet due): written with the one that ran out first,
 * `active`, as a look at the lists would have; the frame starts a flow.
 */
static void
test_active_before_idle_late(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "idle_timeout=10s", "active_timeout=5s",
	    NULL, NULL };
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec cd = udp4(A4, B4, 6000, 53, 10);
	struct spec cl = tcp4(A4, B4, 40000, 80, 0x11, 0);

	(void)st;
	path_of(out, sizeof(out), "late.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &cd, MS(20000));
	feed(&in, &ab, MS(0));		/* active at 5 s, idle at 10 s */
	feed(&in, &ab, MS(4900));	/* both ran out (20 s) */
	tick(&in, MS(20000));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(0),
	    MS(0), 1, 52, "", 0, 0, "", "active");
	assert_string_equal(ls.l[0], want);
	free_lines(&ls);
	assert_int_equal(val(&in, "expired_active"), 1);
	assert_int_equal(val(&in, "expired_idle"), 0);
	assert_int_equal(val(&in, "created"), 3);
	assert_int_equal(val(&in, "active"), 2);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 3);
	free_lines(&ls);

	/*
	 * Ended, its linger not run out, its first frame moved back past
	 * its active timeout: a new SYN writes it `active`, not `end`.
	 */
	path_of(out, sizeof(out), "late_syn.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	o[3] = "linger=2s";
	inst_open(&in, o);
	feed(&in, &cd, MS(100000));
	cl.flags = 0x11;
	feed(&in, &cl, MS(99500));	/* FIN: linger to 101.5 s */
	cl.flags = 0x10;
	feed(&in, &cl, MS(10000));	/* first at 10 s: active at 15 s */
	cl.flags = 0x02;
	feed(&in, &cl, MS(100000));
	tick(&in, MS(100000));
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 6, A4, 40000, B4, 80, MS(10000),
	    MS(99500), 2, 108, "FA", 0, 0, "", "active");
	assert_string_equal(ls.l[0], want);
	free_lines(&ls);
	assert_int_equal(val(&in, "expired_active"), 1);
	assert_int_equal(val(&in, "expired_end"), 0);
	inst_close(&in);
}

/*
 * The same restart with frames in order: records as before, each with
 * its own times and TCP flags.
 */
static void
test_active_in_order(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "active_timeout=10s", NULL };
	struct spec cl = tcp4(A4, B4, 40000, 80, 0x02, 0);
	struct spec sv = tcp4(B4, A4, 80, 40000, 0x12, 0);

	(void)st;
	path_of(out, sizeof(out), "inorder.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	feed(&in, &cl, MS(0));			/* S */
	feed(&in, &sv, MS(1));			/* SA */
	cl.flags = 0x10;
	feed(&in, &cl, MS(2));			/* A */
	cl.flags = 0x18;
	cl.payload = 100;
	feed(&in, &cl, MS(9000));		/* PA, 154 bytes */
	cl.flags = 0x10;
	cl.payload = 0;
	feed(&in, &cl, MS(10000));		/* active first; restarts */
	sv.flags = 0x10;
	feed(&in, &sv, MS(12000));
	tick(&in, MS(12000));			/* writes; nothing due */
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	rec(want, sizeof(want), 0, "null", 6, A4, 40000, B4, 80, MS(0),
	    MS(9000), 3, 262, "SPA", 1, 54, "SA", "active");
	assert_string_equal(ls.l[0], want);
	free_lines(&ls);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 2);
	rec(want, sizeof(want), 0, "null", 6, A4, 40000, B4, 80, MS(10000),
	    MS(12000), 1, 54, "A", 1, 54, "A", "shutdown");
	assert_string_equal(ls.l[1], want);
	free_lines(&ls);
}

/* A full table evicts the least recently seen flow. */
static void
test_evict(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, "max_flows=3", NULL };
	const char *ip[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
	    "10.0.0.5" };
	struct spec s;

	(void)st;
	path_of(out, sizeof(out), "evict.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	for (int i = 0; i < 3; i++) {
		s = udp4(ip[i], B4, 1000, 9, 0);
		feed(&in, &s, MS(i + 1));
	}
	assert_int_equal(val(&in, "fill"), 100);
	s = udp4(ip[0], B4, 1000, 9, 0);
	feed(&in, &s, MS(4));			/* flow 0 is the latest now */
	s = udp4(ip[3], B4, 1000, 9, 0);
	feed(&in, &s, MS(5));			/* evicts flow 1 */
	s = udp4(ip[4], B4, 1000, 9, 0);
	feed(&in, &s, MS(6));			/* evicts flow 2 */
	assert_int_equal(val(&in, "evicted"), 2);
	assert_int_equal(val(&in, "active"), 3);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 5);
	rec(want, sizeof(want), 0, "null", 17, ip[1], 1000, B4, 9, MS(2),
	    MS(2), 1, 42, "", 0, 0, "", "evicted");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 17, ip[2], 1000, B4, 9, MS(3),
	    MS(3), 1, 42, "", 0, 0, "", "evicted");
	assert_string_equal(ls.l[1], want);
	/* Shutdown: the flows by their start. */
	rec(want, sizeof(want), 0, "null", 17, ip[0], 1000, B4, 9, MS(1),
	    MS(4), 2, 84, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[2], want);
	rec(want, sizeof(want), 0, "null", 17, ip[3], 1000, B4, 9, MS(5),
	    MS(5), 1, 42, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[3], want);
	rec(want, sizeof(want), 0, "null", 17, ip[4], 1000, B4, 9, MS(6),
	    MS(6), 1, 42, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[4], want);
	free_lines(&ls);
}

/*
 * Protocols and keys: ICMP by type and code, SCTP ports, GRE by address
 * pair, IPv6, the outer VLAN from the frame or from the kernel, and non-IP
 * frames counted apart.
 */
static void
test_protocols(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec echo = { .ipver = 4, .vlan = -1, .strip_vlan = -1,
	    .src = A4, .dst = B4, .proto = 1, .sport = 8, .dport = 0,
	    .payload = 56 };
	struct spec reply = echo;
	struct spec sctp = { .ipver = 4, .vlan = -1, .strip_vlan = -1,
	    .src = A4, .dst = B4, .proto = 132, .sport = 2905, .dport = 2905 };
	struct spec gre = { .ipver = 4, .vlan = -1, .strip_vlan = -1,
	    .src = "192.0.2.1", .dst = "192.0.2.2", .proto = 47,
	    .payload = 20 };
	struct spec gre_r = gre;
	struct spec v6 = { .ipver = 6, .vlan = -1, .strip_vlan = -1,
	    .src = "2001:db8::1", .dst = "2001:db8::2", .proto = 17,
	    .sport = 6000, .dport = 443, .payload = 30 };
	struct spec icmp6 = { .ipver = 6, .vlan = -1, .strip_vlan = -1,
	    .src = "fe80::1", .dst = "ff02::1", .proto = 58, .sport = 134,
	    .dport = 0 };
	struct spec tagged = udp4(A4, B4, 7, 7, 0);
	struct spec stripped = udp4(A4, B4, 7, 7, 0);
	struct spec qinq = udp4(A4, B4, 7, 7, 0);
	uint8_t arp[60] = { 0 };

	(void)st;
	path_of(out, sizeof(out), "proto.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	reply.src = B4;
	reply.dst = A4;
	reply.sport = 0;		/* echo reply: another flow */
	gre_r.src = gre.dst;
	gre_r.dst = gre.src;
	tagged.vlan = 100;
	stripped.strip_vlan = 100;	/* the same flow as tagged */
	qinq.strip_vlan = 200;		/* outer 200, inner 100 */
	qinq.vlan = 100;
	feed(&in, &echo, MS(1));
	feed(&in, &reply, MS(2));
	feed(&in, &sctp, MS(3));
	feed(&in, &gre, MS(4));
	feed(&in, &gre_r, MS(5));
	feed(&in, &v6, MS(6));
	feed(&in, &icmp6, MS(7));
	feed(&in, &tagged, MS(8));
	feed(&in, &stripped, MS(9));
	feed(&in, &qinq, MS(10));
	memset(arp, 0xff, 6);
	put16(arp + 12, 0x0806);
	feed_raw(&in, arp, 60, 60, MS(11), -1);
	assert_int_equal(val(&in, "not_ip"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 8);
	rec(want, sizeof(want), 0, "null", 1, A4, 0, B4, 2048, MS(1), MS(1),
	    1, 98, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 1, B4, 0, A4, 0, MS(2), MS(2),
	    1, 98, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	rec(want, sizeof(want), 0, "null", 132, A4, 2905, B4, 2905, MS(3),
	    MS(3), 1, 46, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[2], want);
	rec(want, sizeof(want), 0, "null", 47, "192.0.2.1", 0, "192.0.2.2", 0,
	    MS(4), MS(5), 1, 54, "", 1, 54, "", "shutdown");
	assert_string_equal(ls.l[3], want);
	rec(want, sizeof(want), 0, "null", 17, "2001:db8::1", 6000,
	    "2001:db8::2", 443, MS(6), MS(6), 1, 92, "", 0, 0, "",
	    "shutdown");
	assert_string_equal(ls.l[4], want);
	rec(want, sizeof(want), 0, "null", 58, "fe80::1", 0, "ff02::1",
	    134 * 256, MS(7), MS(7), 1, 62, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[5], want);
	/* A stripped tag's 4 bytes count: they were on the wire. */
	rec(want, sizeof(want), 0, "100", 17, A4, 7, B4, 7, MS(8), MS(9),
	    2, 92, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[6], want);
	rec(want, sizeof(want), 0, "200", 17, A4, 7, B4, 7, MS(10), MS(10),
	    1, 50, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[7], want);
	free_lines(&ls);
}

/* Linux cooked capture and raw IP, the decoder's other link types. */
static void
test_linktypes(void **st)
{
	static const int types[] = { 113, 12 };
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec s = udp4(A4, B4, 1234, 53, 0);
	struct spec r = udp4(B4, A4, 53, 1234, 0);

	(void)st;
	for (size_t i = 0; i < 2; i++) {
		path_of(out, sizeof(out), "link.json");
		snprintf(opt, sizeof(opt), "output=%s", out);
		memset(&in, 0, sizeof(in));
		fake_ctx_init(&in.f, o);
		in.f.pub.linktype = types[i];
		assert_int_equal(ringfan_plugin.check(&in.f.pub), RINGFAN_OK);
		in.mem = calloc(1, in.f.mem_size);
		in.own_mem = 1;
		fake_ctx_memory(&in.f, in.mem, RINGFAN_MEMORY_FRESH);
		assert_int_equal(ringfan_plugin.open(&in.f.pub, &in.state),
		    RINGFAN_OK);
		feed(&in, &s, MS(1));
		feed(&in, &r, MS(2));
		inst_close(&in);
		read_lines(out, &ls);
		assert_int_equal(ls.n, 1);
		rec(want, sizeof(want), 0, "null", 17, A4, 1234, B4, 53, MS(1),
		    MS(2), 1, types[i] == 113 ? 44 : 28, "", 1,
		    types[i] == 113 ? 44 : 28, "", "shutdown");
		assert_string_equal(ls.l[0], want);
		free_lines(&ls);
	}
}

/*
 * Fragments: the later fragments of a datagram count in the flow of its
 * first; those whose first was not seen go to the ports-0 flow.
 */
static void
test_fragments(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec f1 = udp4(A4, B4, 4000, 4001, 1472);
	struct spec f2 = udp4(A4, B4, 4000, 4001, 1480);
	struct spec f3 = udp4(A4, B4, 4000, 4001, 48);
	struct spec v6a = { .ipver = 6, .vlan = -1, .strip_vlan = -1,
	    .src = "2001:db8::1", .dst = "2001:db8::2", .proto = 17,
	    .sport = 7000, .dport = 7001, .payload = 1000, .frag = 1,
	    .id = 0x12345678, .off = 0, .mf = 1 };
	struct spec v6b = v6a;

	(void)st;
	path_of(out, sizeof(out), "frag.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	f1.frag = f2.frag = f3.frag = 1;
	f1.id = f2.id = f3.id = 77;
	f1.mf = f2.mf = 1;
	f2.off = 1480;
	f3.off = 2960;
	feed(&in, &f1, MS(1));		/* 14 + 20 + 8 + 1472 = 1514 */
	feed(&in, &f2, MS(2));		/* 1514 */
	feed(&in, &f3, MS(3));		/* 82 */
	f2.id = 78;			/* its first was never seen */
	feed(&in, &f2, MS(4));
	v6b.off = 1008;
	v6b.mf = 0;
	v6b.payload = 500;
	feed(&in, &v6a, MS(5));		/* 14 + 48 + 8 + 1000 = 1070 */
	feed(&in, &v6b, MS(6));		/* 14 + 48 + 500 = 562 */
	/*
	 * AH after the Fragment header: the later fragment's Next Header
	 * is AH's (51), its flow the first's, UDP.
	 */
	v6a.ah = v6b.ah = 1;
	v6a.id = v6b.id = 0x12345679;
	v6a.sport = v6b.sport = 7002;
	feed(&in, &v6a, MS(7));		/* 1070 + 24 */
	feed(&in, &v6b, MS(8));		/* 562 */
	assert_int_equal(val(&in, "frag_orphans"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 4);
	rec(want, sizeof(want), 0, "null", 17, A4, 4000, B4, 4001, MS(1),
	    MS(3), 3, 1514 + 1514 + 82, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 17, A4, 0, B4, 0, MS(4), MS(4),
	    1, 1514, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	rec(want, sizeof(want), 0, "null", 17, "2001:db8::1", 7000,
	    "2001:db8::2", 7001, MS(5), MS(6), 2, 1070 + 562, "", 0, 0, "",
	    "shutdown");
	assert_string_equal(ls.l[2], want);
	rec(want, sizeof(want), 0, "null", 17, "2001:db8::1", 7002,
	    "2001:db8::2", 7001, MS(7), MS(8), 2, 1094 + 562, "", 0, 0, "",
	    "shutdown");
	assert_string_equal(ls.l[3], want);
	free_lines(&ls);
}

/*
 * A transport header the decoder read up to its ports keys the flow with
 * them, also with a TCP data offset below 5 or past the IP packet, or TCP
 * options cut by the snap length (RINGFAN_DEC_L4 with MALFORMED or
 * TRUNCATED, as tshark shows the ports); one cut before its end, by the
 * frame or the IP length, gives ports 0, and so do the later fragments of
 * a first fragment that held no whole transport header.
 */
static void
test_transport_cut(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec doff = tcp4(A4, B4, 1000, 80, 0x02, 0);
	struct spec longer = tcp4(A4, B4, 1001, 80, 0x02, 12);
	struct spec cut = tcp4(A4, B4, 1002, 80, 0x02, 0);
	struct spec ucut = udp4(A4, B4, 1003, 53, 0);
	struct spec tiny = tcp4(A4, B4, 1004, 80, 0x02, 0);
	struct spec rest = tcp4(A4, B4, 1004, 80, 0, 40);
	struct pk pk;

	(void)st;
	path_of(out, sizeof(out), "cut.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	/* Data offset 4: malformed, its ports read. */
	mk_frame(&pk, &doff);
	pk.b[14 + 20 + 12] = 0x40;
	feed_raw(&in, pk.b, pk.n, pk.n, MS(1), -1);
	/* Data offset 15, past the IP packet's 52 bytes: malformed. */
	mk_frame(&pk, &longer);
	pk.b[14 + 20 + 12] = 0xf0;
	feed_raw(&in, pk.b, pk.n, pk.n, MS(2), -1);
	/* Data offset 8, its options cut by the snap length at 58 bytes. */
	mk_frame(&pk, &longer);
	pk.b[14 + 20 + 12] = 0x80;
	feed_raw(&in, pk.b, 58, pk.n, MS(3), -1);
	/* The fixed TCP header cut at 16 bytes by the snap length. */
	mk_frame(&pk, &cut);
	feed_raw(&in, pk.b, 14 + 20 + 16, pk.n, MS(4), -1);
	/* The UDP header cut at 6 bytes by the IP total length. */
	mk_frame(&pk, &ucut);
	put16(pk.b + 14 + 2, 20 + 6);
	feed_raw(&in, pk.b, pk.n, pk.n, MS(5), -1);
	/* A first fragment of 8 bytes of TCP, then the rest. */
	tiny.frag = rest.frag = 1;
	tiny.id = rest.id = 99;
	tiny.mf = 1;
	rest.off = 8;
	mk_frame(&pk, &tiny);
	put16(pk.b + 14 + 2, 20 + 8);
	feed_raw(&in, pk.b, 14 + 20 + 8, 14 + 20 + 8, MS(6), -1);
	feed(&in, &rest, MS(7));
	assert_int_equal(val(&in, "bad_ip"), 0);
	assert_int_equal(val(&in, "frag_orphans"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 4);
	rec(want, sizeof(want), 0, "null", 6, A4, 1000, B4, 80, MS(1), MS(1),
	    1, 54, "S", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 6, A4, 1001, B4, 80, MS(2), MS(3),
	    2, 66 + 66, "S", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	rec(want, sizeof(want), 0, "null", 6, A4, 0, B4, 0, MS(4), MS(7),
	    3, 54 + 42 + 74, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[2], want);
	rec(want, sizeof(want), 0, "null", 17, A4, 0, B4, 0, MS(5), MS(5),
	    1, 42, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[3], want);
	free_lines(&ls);
}

/*
 * An IP id used again within 30 s, by a datagram whose first fragment
 * holds 8 bytes of TCP: its later fragment counts in the ports-0 flow,
 * as an orphan, not in the flow of the earlier datagram of that id.
 */
static void
test_frag_id_reused(void **st)
{
	struct inst in;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec first = tcp4(A4, B4, 1004, 80, 0x18, 40);
	struct spec tiny = tcp4(A4, B4, 1005, 80, 0x02, 0);
	struct spec rest = tcp4(A4, B4, 1005, 80, 0, 40);
	struct pk pk;

	(void)st;
	path_of(out, sizeof(out), "fragid.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	first.frag = tiny.frag = rest.frag = 1;
	first.id = tiny.id = rest.id = 99;
	first.mf = tiny.mf = 1;
	rest.off = 8;
	feed(&in, &first, MS(1));	/* 14 + 20 + 20 + 40 = 94 */
	feed(&in, &rest, MS(2));	/* 14 + 20 + 40 = 74 */
	mk_frame(&pk, &tiny);
	put16(pk.b + 14 + 2, 20 + 8);
	feed_raw(&in, pk.b, 14 + 20 + 8, 14 + 20 + 8, MS(3), -1);
	feed(&in, &rest, MS(4));
	assert_int_equal(val(&in, "frag_orphans"), 1);
	inst_close(&in);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 2);
	rec(want, sizeof(want), 0, "null", 6, A4, 1004, B4, 80, MS(1), MS(2),
	    2, 94 + 74, "PA", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[0], want);
	rec(want, sizeof(want), 0, "null", 6, A4, 0, B4, 0, MS(3), MS(4),
	    2, 42 + 74, "", 0, 0, "", "shutdown");
	assert_string_equal(ls.l[1], want);
	free_lines(&ls);
}

/* {worker}: one file per worker; without it one file, lines whole. */
static void
test_files(void **st)
{
	struct inst a, b;
	struct lines ls;
	char out[128], opt[160], want[512];
	const char *o[] = { opt, NULL };
	struct spec s = udp4(A4, B4, 1, 2, 0);
	struct spec t = udp4(A4, B4, 3, 4, 0);

	(void)st;
	path_of(out, sizeof(out), "w{worker}.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open_on(&a, o, 0, 2, NULL);
	inst_open_on(&b, o, 1, 2, NULL);
	feed(&a, &s, MS(1));
	feed(&b, &t, MS(2));
	inst_close(&a);
	inst_close(&b);
	for (int w = 0; w < 2; w++) {
		snprintf(out, sizeof(out), "%s/w%d.json", tmpdir, w);
		read_lines(out, &ls);
		assert_int_equal(ls.n, 1);
		rec(want, sizeof(want), (unsigned)w, "null", 17, A4,
		    w ? 3 : 1, B4, w ? 4 : 2, MS(w + 1), MS(w + 1), 1, 42, "",
		    0, 0, "", "shutdown");
		assert_string_equal(ls.l[0], want);
		free_lines(&ls);
	}
	path_of(out, sizeof(out), "shared.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open_on(&a, o, 0, 2, NULL);
	inst_open_on(&b, o, 1, 2, NULL);
	/* Many records from both, written in turns, none cut. */
	for (int i = 0; i < 300; i++) {
		s.sport = (uint16_t)(1000 + i);
		feed(i % 2 ? &b : &a, &s, MS(i));
		if (i % 50 == 49) {
			tick(&a, MS(i) + 31000000000ULL);
			tick(&b, MS(i) + 31000000000ULL);
		}
	}
	inst_close(&a);
	inst_close(&b);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 300);
	for (int i = 0; i < ls.n; i++)
		assert_true(strncmp(ls.l[i], "{\"worker\": ", 11) == 0 &&
		    strcmp(ls.l[i] + strlen(ls.l[i]) - 2, "\"}") == 0);
	free_lines(&ls);
}

/*
 * An output that cannot be written: counted, shown as status, the records
 * kept for the next tick; cleared once a write works.  Past the pending
 * slots records are lost, and counted.
 */
static void
test_write_error(void **st)
{
	struct inst in;
	struct lines ls;
	char dir[128], out[160], opt[192], msg[256], line[512];
	const char *o[] = { opt, "max_flows=400", NULL };
	struct spec s = udp4(A4, B4, 1, 2, 0);

	(void)st;
	snprintf(dir, sizeof(dir), "%s/later", tmpdir);
	snprintf(out, sizeof(out), "%s/f.json", dir);
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	snprintf(msg, sizeof(msg), "output %s: No such file or directory",
	    out);
	assert_string_equal(in.f.status, msg);
	assert_int_equal(val(&in, "write_errors"), 1);
	/* The log says it too, once for the spell, not per failed try. */
	snprintf(line, sizeof(line), "output %s: No such file or directory; "
	    "up to 256 records wait, tried again at every tick, and those of "
	    "flows that end beyond them are lost (records_lost)", out);
	assert_int_equal(in.f.nlog, 1);
	assert_string_equal(in.f.log, line);
	for (int i = 0; i < 300; i++) {
		s.sport = (uint16_t)(1000 + i);
		feed(&in, &s, MS(i));
	}
	tick(&in, MS(40000));		/* all idle: 256 kept, 44 lost */
	assert_int_equal(val(&in, "expired_idle"), 256);
	assert_int_equal(val(&in, "records_lost"), 44);
	assert_int_equal(val(&in, "active"), 0);
	assert_true(val(&in, "write_errors") >= 2);
	assert_string_equal(in.f.status, msg);
	/* The first loss of the spell is logged, the later ones counted. */
	snprintf(line, sizeof(line), "output %s: 256 records wait; records "
	    "of flows that end now are lost until it works again "
	    "(records_lost)", out);
	assert_int_equal(in.f.nlog, 2);
	assert_string_equal(in.f.log, line);
	assert_int_equal(mkdir(dir, 0755), 0);
	tick(&in, MS(40500));
	assert_string_equal(in.f.status, "");
	snprintf(line, sizeof(line), "output %s: writing again", out);
	assert_int_equal(in.f.nlog, 3);
	assert_string_equal(in.f.log, line);
	assert_int_equal(val(&in, "records"), 256);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 256);
	free_lines(&ls);
	inst_close(&in);
}

/* --- Crashes. */

/* The events of the crash tests: frames of a dozen flows, and ticks. */
struct ev {
	uint64_t	 ts;
	int		 tick;
	struct spec	 s;
};

#define NEV	400
static struct ev evs[NEV];
static int nev;
static const char *const crash_opts_fmt[] = { "max_flows=8",
    "idle_timeout=2s", "active_timeout=5s", "linger=500ms", NULL };

static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

static void
make_events(void)
{
	static const char *v4[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3",
	    "10.0.0.4", "10.0.0.5", "10.0.0.6" };
	static const char *v6[] = { "2001:db8::1", "2001:db8::2" };
	static const uint8_t tcpfl[] = { 0x02, 0x12, 0x10, 0x18, 0x18, 0x11,
	    0x11, 0x10 };
	uint32_t x = 12345, step[12] = { 0 }, fid = 100;
	uint64_t ts = MS(0);
	struct spec s;
	int f, rev;

	nev = 0;
	while (nev < NEV - 3) {
		ts += (lcg(&x) % 400) * 1000000ULL;
		if (lcg(&x) % 6 == 0) {
			evs[nev++] = (struct ev){ .ts = ts, .tick = 1 };
			continue;
		}
		f = (int)(lcg(&x) % 12);
		rev = (int)(lcg(&x) % 2);
		memset(&s, 0, sizeof(s));
		s.vlan = s.strip_vlan = -1;
		s.ipver = 4;
		s.src = v4[f % 6];
		s.dst = "10.9.9.9";
		s.proto = 17;
		s.sport = (uint16_t)(1000 + f);
		s.dport = 53;
		s.payload = lcg(&x) % 200;
		if (f < 3) {		/* TCP, round and round */
			s.proto = 6;
			s.flags = tcpfl[step[f]++ % 8];
			s.dport = 80;
		} else if (f == 3) {
			s.ipver = 6;
			s.src = v6[0];
			s.dst = v6[1];
		} else if (f == 4) {
			s.proto = 1;
			s.sport = 8;
			s.dport = 0;
		} else if (f == 5)
			s.vlan = 42;
		if (rev) {
			const char *t = s.src;
			uint16_t p = s.sport;

			if (s.proto != 1) {
				s.src = s.dst;
				s.dst = t;
				s.sport = s.dport;
				s.dport = p;
			}
		}
		if (f == 6) {		/* a datagram in three fragments */
			s.frag = 1;
			s.id = fid++;
			s.mf = 1;
			s.payload = 600;
			evs[nev++] = (struct ev){ .ts = ts, .s = s };
			s.off = 608;
			evs[nev++] = (struct ev){ .ts = ts, .s = s };
			s.off = 1208;
			s.mf = 0;
			s.payload = 100;
		}
		evs[nev++] = (struct ev){ .ts = ts, .s = s };
	}
}

static void
run_event(struct inst *in, int i)
{
	if (evs[i].tick)
		tick(in, evs[i].ts);
	else
		feed(in, &evs[i].s, evs[i].ts);
}

static uint32_t
event_len(int i)
{
	struct pk pk;

	mk_frame(&pk, &evs[i].s);
	return pk.n;
}

static jmp_buf crash_jb;
static int crash_point, crash_nth, crash_seen, crash_cut;
static struct ft *crash_ft;

static void
crash_hook(struct ft *ft, int point)
{
	struct stat sb;

	if (point != crash_point || ++crash_seen != crash_nth)
		return;
	crash_ft = ft;
	/* A write stopped part way by the kill: the last line cut short. */
	if (crash_cut && stat(ft->path, &sb) == 0 && sb.st_size > 30)
		assert_int_equal(truncate(ft->path, sb.st_size - 30), 0);
	longjmp(crash_jb, 1);
}

static void
crash_opts(const char **o, char *opt, size_t n, const char *out)
{
	snprintf(opt, n, "output=%s", out);
	o[0] = opt;
	for (int i = 0; crash_opts_fmt[i] != NULL; i++)
		o[i + 1] = crash_opts_fmt[i];
	o[5] = NULL;
}

/* The run without a crash, skipping event `skip` (-1: none). */
static char *
clean_run(const char *name, int skip)
{
	struct inst in;
	char out[128], opt[160];
	const char *o[8];

	path_of(out, sizeof(out), name);
	crash_opts(o, opt, sizeof(opt), out);
	inst_open(&in, o);
	for (int i = 0; i < nev; i++)
		if (i != skip)
			run_event(&in, i);
	inst_close(&in);
	return file_text(out);
}

/* Packets and bytes per flow (both directions, any reason), by key. */
struct sums {
	char		 key[MAXLINES / 8][160];
	uint64_t	 p[MAXLINES / 8], b[MAXLINES / 8];
	int		 n;
};

static uint64_t
num_after(const char *s, const char *what, int nth)
{
	const char *p = s;

	for (int i = 0; i <= nth; i++) {
		p = strstr(p, what);
		assert_non_null(p);
		p += strlen(what);
	}
	return strtoull(p, NULL, 10);
}

static void
str_after(const char *s, const char *what, char *out, size_t n)
{
	const char *p = strstr(s, what), *e;

	assert_non_null(p);
	p += strlen(what);
	for (e = p; *e != ',' && *e != '"'; e++)
		;
	snprintf(out, n, "%.*s", (int)(e - p), p);
}

static void
sum_text(const char *text, struct sums *sm)
{
	char *copy = strdup(text), *line, *save = NULL, a[64], b[64], pa[8],
	    pb[8], v[8], pr[8], key[160];
	int k;

	memset(sm, 0, sizeof(*sm));
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		str_after(line, "\"src\": \"", a, sizeof(a));
		str_after(line, "\"dst\": \"", b, sizeof(b));
		str_after(line, "\"sport\": ", pa, sizeof(pa));
		str_after(line, "\"dport\": ", pb, sizeof(pb));
		str_after(line, "\"vlan\": ", v, sizeof(v));
		str_after(line, "\"proto\": ", pr, sizeof(pr));
		if (strcmp(a, b) < 0 || (strcmp(a, b) == 0 &&
		    strcmp(pa, pb) < 0))
			snprintf(key, sizeof(key), "%s %s %s:%s %s:%s", v, pr,
			    a, pa, b, pb);
		else
			snprintf(key, sizeof(key), "%s %s %s:%s %s:%s", v, pr,
			    b, pb, a, pa);
		for (k = 0; k < sm->n && strcmp(sm->key[k], key) != 0; k++)
			;
		if (k == sm->n) {
			assert_true(sm->n < MAXLINES / 8);
			snprintf(sm->key[sm->n++], sizeof(sm->key[0]), "%s",
			    key);
		}
		sm->p[k] += num_after(line, "\"packets\": ", 0) +
		    num_after(line, "\"packets\": ", 1);
		sm->b[k] += num_after(line, "\"bytes\": ", 0) +
		    num_after(line, "\"bytes\": ", 1);
	}
	free(copy);
}

/*
 * The crashed run's records against the clean run's: every flow's sums
 * equal, but for at most one flow one frame of len bytes short (the frame
 * in hand at the crash).  Returns the frames missing, 0 or 1.
 */
static int
compare_sums(const char *clean, const char *crashed, uint32_t len, int loose)
{
	static struct sums a, b;
	uint64_t pa = 0, ba = 0, pb = 0, bb = 0;
	int missing = 0, k, j;

	sum_text(clean, &a);
	sum_text(crashed, &b);
	if (loose) {
		/*
		 * A first fragment not counted leaves the later ones of its
		 * datagram to the flow without ports: only the totals hold.
		 */
		for (k = 0; k < a.n; k++)
			pa += a.p[k], ba += a.b[k];
		for (k = 0; k < b.n; k++)
			pb += b.p[k], bb += b.b[k];
		assert_int_equal(pa, pb + 1);
		assert_int_equal(ba, bb + len);
		return 1;
	}
	for (k = 0; k < a.n; k++) {
		for (j = 0; j < b.n && strcmp(a.key[k], b.key[j]) != 0; j++)
			;
		if (j == b.n) {		/* its one frame was the lost one */
			assert_int_equal(a.p[k], 1);
			assert_int_equal(a.b[k], len);
			missing++;
			continue;
		}
		if (a.p[k] == b.p[j] && a.b[k] == b.b[j])
			continue;
		assert_int_equal(a.p[k], b.p[j] + 1);
		assert_int_equal(a.b[k], b.b[j] + len);
		missing++;
	}
	for (j = 0; j < b.n; j++) {
		for (k = 0; k < a.n && strcmp(a.key[k], b.key[j]) != 0; k++)
			;
		assert_true(k < a.n);
	}
	assert_true(missing <= 1);
	return missing;
}

/*
 * Kills the plugin at the nth time it passes `point`, opens a successor on
 * the same memory and file, and runs the rest of the events.  Returns 0
 * when the point was passed fewer than nth times (no crash).
 */
static int
crash_run(int point, int nth, int cut, const char *clean, int *exact)
{
	struct inst a, b;
	struct ft *ft;
	char out[128], opt[160], *text;
	const char *o[8];
	volatile int i = 0;
	int at;

	/*
	 * A line cut part way is cut off by the successor only in a file of
	 * the worker's own: {worker}.
	 */
	path_of(out, sizeof(out), cut ? "crash-0.json" : "crash.json");
	crash_opts(o, opt, sizeof(opt), out);
	if (cut)
		snprintf(opt, sizeof(opt), "output=%s/crash-{worker}.json",
		    tmpdir);
	inst_open(&a, o);
	crash_point = point;
	crash_nth = nth;
	crash_seen = 0;
	crash_cut = cut;
	if (setjmp(crash_jb) == 0) {
		ft_test_hook = crash_hook;
		for (i = 0; i < nev; i++)
			run_event(&a, i);
		ft_test_hook = NULL;
		inst_close(&a);
		return 0;
	}
	ft_test_hook = NULL;
	at = i;
	/* What the kill takes away: the process and its private memory. */
	ft = crash_ft;
	if (ft->fd != -1)
		close(ft->fd);
	ft_table_free(ft);
	free(ft);
	inst_open_on(&b, o, 0, 1, a.mem);
	assert_int_equal(val(&b, "recoveries"), 1);
	for (int k = at + 1; k < nev; k++)
		run_event(&b, k);
	inst_close(&b);
	free(a.mem);
	text = file_text(out);
	*exact = strcmp(text, clean) == 0;
	if (!*exact) {
		/* Only the frame in hand may be missing, wholly. */
		assert_int_equal(evs[at].tick, 0);
		assert_int_equal(compare_sums(clean, text, event_len(at),
		    evs[at].s.frag && evs[at].s.off == 0), 1);
	}
	free(text);
	return 1;
}

/*
 * Every instant of every kind: a transaction committed but not applied,
 * half applied, records pending before their write, and written but not
 * freed (also with the write cut part way).  After each, the records are
 * those of the run without a crash, or miss the frame in hand wholly.
 */
static void
test_crash(void **st)
{
	static const struct {
		int	 point;
		int	 cut;
	} kinds[] = {
		{ FT_HOOK_COMMITTED, 0 },
		{ FT_HOOK_APPLIED_ONE, 0 },
		{ FT_HOOK_BEFORE_WRITE, 0 },
		{ FT_HOOK_AFTER_WRITE, 0 },
		{ FT_HOOK_AFTER_WRITE, 1 },
	};
	char *clean;
	int runs, exact, nexact;

	(void)st;
	make_events();
	clean = clean_run("clean.json", -1);
	{
		struct sums *sm = calloc(1, sizeof(*sm));

		sum_text(clean, sm);
		assert_true(sm->n >= 12);
		free(sm);
		/* Every reason occurs in the sequence. */
		assert_non_null(strstr(clean, "\"reason\": \"idle\""));
		assert_non_null(strstr(clean, "\"reason\": \"active\""));
		assert_non_null(strstr(clean, "\"reason\": \"end\""));
		assert_non_null(strstr(clean, "\"reason\": \"evicted\""));
		assert_non_null(strstr(clean, "\"reason\": \"shutdown\""));
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		runs = nexact = 0;
		for (int nth = 1; crash_run(kinds[k].point, nth, kinds[k].cut,
		    clean, &exact); nth++) {
			runs++;
			nexact += exact;
		}
		print_message("crash point %d%s: %d crashes, %d with the "
		    "records of the clean run\n", kinds[k].point,
		    kinds[k].cut ? " (write cut)" : "", runs, nexact);
		assert_true(runs > 10);
		/* Writes happen in ticks: nothing is lost there. */
		if (kinds[k].point >= FT_HOOK_BEFORE_WRITE)
			assert_int_equal(nexact, runs);
	}
	free(clean);
}

/*
 * A frame of a flow that has begun is a touch transaction: a kill while
 * its record is being filled loses the frame wholly, and a kill after any
 * of the stores that apply it loses nothing (the successor stores the
 * record's values again), so the records are exactly the clean run's.
 */
static void
test_crash_touch(void **st)
{
	char *clean;
	int runs, exact, nexact;

	(void)st;
	make_events();
	clean = clean_run("clean3.json", -1);
	runs = nexact = 0;
	for (int nth = 1; crash_run(FT_HOOK_TOUCH_FILL, nth, 0, clean,
	    &exact); nth++) {
		runs++;
		nexact += exact;
	}
	print_message("touch filled, not committed: %d crashes, %d with the "
	    "records of the clean run\n", runs, nexact);
	assert_true(runs > 100);
	/* crash_run() found each of them one frame short, wholly. */
	assert_int_equal(nexact, 0);
	runs = nexact = 0;
	for (int nth = 1; crash_run(FT_HOOK_TOUCH_STORE, nth, 0, clean,
	    &exact); nth++) {
		runs++;
		nexact += exact;
	}
	print_message("touch committed, after each store: %d crashes, %d with "
	    "the records of the clean run\n", runs, nexact);
	assert_true(runs > 600);
	assert_int_equal(nexact, runs);
	free(clean);
}

/* A quiet crash, between frames, leaves exactly the clean records. */
static void
test_crash_between(void **st)
{
	struct inst a, b;
	char out[128], opt[160], *clean, *text;
	const char *o[8];
	void *copy;

	(void)st;
	make_events();
	clean = clean_run("clean2.json", -1);
	for (int at = 1; at < nev; at += 37) {
		path_of(out, sizeof(out), "between.json");
		crash_opts(o, opt, sizeof(opt), out);
		inst_open(&a, o);
		for (int i = 0; i < at; i++)
			run_event(&a, i);
		/* The region as the crash leaves it; the file as it is. */
		copy = malloc(a.f.mem_size);
		memcpy(copy, a.mem, a.f.mem_size);
		{
			struct ft *ft = a.state;

			close(ft->fd);
			ft_table_free(ft);
			free(ft);
			free(a.mem);
		}
		inst_open_on(&b, o, 0, 1, copy);
		for (int i = at; i < nev; i++)
			run_event(&b, i);
		inst_close(&b);
		free(copy);
		text = file_text(out);
		assert_string_equal(text, clean);
		free(text);
	}
	free(clean);
}

/*
 * A flow restarted by the active timeout whose next frames are older than
 * its latest (test_active_out_of_order), killed at every instant of every
 * kind: the records are the clean run's, or miss the frame in hand wholly.
 * The clean run's records have their own frames' times.
 */
static void
test_crash_out_of_order(void **st)
{
	static const struct {
		int	 point;
		int	 cut;
	} kinds[] = {
		{ FT_HOOK_COMMITTED, 0 },
		{ FT_HOOK_APPLIED_ONE, 0 },
		{ FT_HOOK_BEFORE_WRITE, 0 },
		{ FT_HOOK_AFTER_WRITE, 0 },
		{ FT_HOOK_AFTER_WRITE, 1 },
		{ FT_HOOK_TOUCH_FILL, 0 },
		{ FT_HOOK_TOUCH_STORE, 0 },
	};
	struct spec ab = udp4(A4, B4, 5000, 53, 10);
	struct spec ba = udp4(B4, A4, 53, 5000, 10);
	struct spec other = udp4("10.0.0.2", B4, 5000, 53, 0);
	char *clean, want[512];
	int runs, exact, nexact;

	(void)st;
	nev = 0;
	evs[nev++] = (struct ev){ .ts = MS(10000), .s = ab };
	evs[nev++] = (struct ev){ .ts = MS(6000), .s = ab };
	evs[nev++] = (struct ev){ .ts = MS(6500), .s = ba };	/* a touch */
	evs[nev++] = (struct ev){ .ts = MS(11000), .s = other }; /* active */
	evs[nev++] = (struct ev){ .ts = MS(7000), .s = ab };	/* restarts */
	evs[nev++] = (struct ev){ .ts = MS(7500), .s = ba };	/* a touch */
	evs[nev++] = (struct ev){ .ts = MS(11500), .tick = 1 };
	/* Its idle timeout is due, but it was seen after `other`: it waits. */
	evs[nev++] = (struct ev){ .ts = MS(12000), .tick = 1 };
	evs[nev++] = (struct ev){ .ts = MS(12500), .s = other };
	evs[nev++] = (struct ev){ .ts = MS(20000), .tick = 1 }; /* both idle */
	/* A successor of a kill in the tick before goes on from here. */
	evs[nev++] = (struct ev){ .ts = MS(20500), .tick = 1 };
	clean = clean_run("clean4.json", -1);
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(6000),
	    MS(10000), 2, 104, "", 1, 52, "", "active");
	assert_non_null(strstr(clean, want));
	rec(want, sizeof(want), 0, "null", 17, A4, 5000, B4, 53, MS(7000),
	    MS(7500), 1, 52, "", 1, 52, "", "idle");
	assert_non_null(strstr(clean, want));
	rec(want, sizeof(want), 0, "null", 17, "10.0.0.2", 5000, B4, 53,
	    MS(11000), MS(12500), 2, 84, "", 0, 0, "", "idle");
	assert_non_null(strstr(clean, want));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		runs = nexact = 0;
		while (crash_run(kinds[k].point, runs + 1, kinds[k].cut, clean,
		    &exact)) {
			runs++;
			nexact += exact;
		}
		print_message("crash point %d%s: %d crashes, %d with the "
		    "records of the clean run\n", kinds[k].point,
		    kinds[k].cut ? " (write cut)" : "", runs, nexact);
		assert_true(runs > 0);
		/* Nothing is lost in a write or a touch committed. */
		if (kinds[k].point == FT_HOOK_BEFORE_WRITE ||
		    kinds[k].point == FT_HOOK_AFTER_WRITE ||
		    kinds[k].point == FT_HOOK_TOUCH_STORE)
			assert_int_equal(nexact, runs);
	}
	free(clean);
}

/* Data records in the IPFIX messages waiting on UDP socket fd. */
static int
ipfix_records(int fd)
{
	uint8_t m[65536];
	uint32_t reclen = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int recs = 0;

	while (poll(&pfd, 1, 200) == 1 && (n = recv(fd, m, sizeof(m), 0)) > 16)
		for (size_t o = 16; o + 4 <= (size_t)n;) {
			unsigned id = (unsigned)m[o] << 8 | m[o + 1];
			size_t len = (size_t)m[o + 2] << 8 | m[o + 3];

			assert_true(len >= 4 && o + len <= (size_t)n);
			/* Template 256 (IPv4): its length, once. */
			if (id == 2 && reclen == 0 && m[o + 4] == 1 &&
			    m[o + 5] == 0)
				for (size_t k = 0, q = o + 8;
				    k < (size_t)(m[o + 6] << 8 | m[o + 7]);
				    k++, q += 4 + (m[q] & 0x80 ? 4 : 0))
					reclen += (uint32_t)(m[q + 2] << 8 |
					    m[q + 3]);
			if (id == 256) {
				assert_true(reclen > 0);
				recs += (int)((len - 4) / reclen);
			}
			o += len;
		}
	return recs;
}

/*
 * A worker killed after it queued a flow's IPFIX record but before the
 * flow's end was committed: its successor exports that flow again, so the
 * record must not have gone out.  The 19th record of a tick fills an IPv4
 * message; killed there, none of the 19 reached the collector (counted as
 * lost with the worker), and the successor sends the 19th flow once.
 */
static void
test_crash_ipfix_once(void **st)
{
	struct inst a, b;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char out[128], opt[160], url[80];
	const char *o[] = { opt, url, "idle_timeout=1s", NULL };
	struct ft *ft;
	int fd;

	(void)st;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "ipfix=udp://127.0.0.1:%u",
	    ntohs(sa.sin_port));
	path_of(out, sizeof(out), "ipfix-once.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&a, o);
	tick(&a, MS(0));
	for (int i = 0; i < 19; i++) {
		struct spec s = udp4(A4, B4, (uint16_t)(5000 + i), 53, 10);

		feed(&a, &s, MS(i));
	}
	crash_point = FT_HOOK_QUEUED;
	crash_nth = 19;
	crash_seen = 0;
	crash_cut = 0;
	if (setjmp(crash_jb) == 0) {
		ft_test_hook = crash_hook;
		tick(&a, MS(5000));
		fail_msg("the 19th record was not queued");
	}
	ft_test_hook = NULL;
	ft = crash_ft;
	if (ft->fd != -1)
		close(ft->fd);
	ix_free(ft->ix);
	ft_table_free(ft);
	free(ft);
	inst_open_on(&b, o, 0, 1, a.mem);
	assert_int_equal(val(&b, "ipfix_dropped"), 19);
	tick(&b, MS(5001));
	inst_close(&b);
	free(a.mem);
	assert_int_equal(ipfix_records(fd), 1);
	close(fd);
}

/* A region of an unknown layout is not trusted: the table starts afresh. */
static void
test_unknown_layout(void **st)
{
	struct inst a, b;
	struct lines ls;
	char out[128], opt[160];
	const char *o[] = { opt, NULL };
	struct spec s = udp4(A4, B4, 1, 2, 0);

	(void)st;
	path_of(out, sizeof(out), "layout.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&a, o);
	feed(&a, &s, MS(1));
	{
		struct ft *ft = a.state;

		close(ft->fd);
		ft_table_free(ft);
		free(ft);
	}
	memset(&b, 0, sizeof(b));
	fake_ctx_init(&b.f, o);
	assert_int_equal(ringfan_plugin.check(&b.f.pub), RINGFAN_OK);
	b.f.mem_layout = 99;		/* what the predecessor declared */
	fake_ctx_memory(&b.f, a.mem, RINGFAN_MEMORY_RECOVERED);
	b.mem = a.mem;
	b.own_mem = 1;
	assert_int_equal(ringfan_plugin.open(&b.f.pub, &b.state), RINGFAN_OK);
	{
		char want[128];

		snprintf(want, sizeof(want), "host memory of layout 99, not "
		    "%u, or of other options: starting afresh", FT_LAYOUT);
		assert_string_equal(b.f.log, want);
	}
	assert_int_equal(val(&b, "active"), 0);
	inst_close(&b);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 0);
	free_lines(&ls);
}

/*
 * A committed journal whose image lies, by its offset, past the end of the
 * address space: offset plus length wraps to a small number.  The replay
 * refuses it rather than copy the image in front of the region.
 */
static void
test_recover_journal_wraps(void **st)
{
	struct inst a, b;
	struct ft_region *rg;
	char out[128], opt[160];
	const char *o[] = { opt, "max_flows=16", NULL };
	struct spec s = udp4(A4, B4, 1, 2, 0);
	uint8_t *buf, *copy;
	size_t guard = 4096;

	(void)st;
	path_of(out, sizeof(out), "jwrap.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&a, o);
	feed(&a, &s, MS(1));
	/* The region, with a guard in front of it that must stay as it is. */
	assert_non_null(buf = malloc(guard + a.f.mem_size));
	memset(buf, 0x5a, guard);
	copy = buf + guard;
	memcpy(copy, a.mem, a.f.mem_size);
	rg = (struct ft_region *)(void *)copy;
	rg->j.n = 1;
	rg->j.rec[0].off = UINT64_MAX - 63;
	rg->j.rec[0].len = FT_IMAGE;
	memset(rg->j.rec[0].data, 0xee, FT_IMAGE);
	rg->j.commit = 1;
	inst_open_on(&b, o, 0, 1, copy);
	for (size_t i = 0; i < guard; i++)
		assert_int_equal(buf[i], 0x5a);
	assert_int_equal(rg->j.commit, 0);
	assert_int_equal(val(&b, "active"), 1);
	inst_close(&b);
	free(buf);
	inst_close(&a);
}

/*
 * A recovered flow whose sequence number is the largest there is: the
 * next number would wrap to 0, which marks a flow not begun, and such a
 * flow would stay on the list by start once freed, its export run again
 * for ever at the next tick.  No table counts that far: the slot is freed
 * as one written over, and the numbers go on from the others.
 */
static void
test_recover_seq_wraps(void **st)
{
	struct inst a, b;
	char out[128], opt[160];
	const char *o[] = { opt, "max_flows=16", NULL };
	struct spec s1 = udp4(A4, B4, 1, 2, 0), s2 = udp4(A4, B4, 3, 4, 0);
	struct lines ls;
	struct ft_flow *slot;
	uint8_t *copy;

	(void)st;
	path_of(out, sizeof(out), "seqwrap.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&a, o);
	feed(&a, &s1, MS(1));
	assert_non_null(copy = malloc(a.f.mem_size));
	memcpy(copy, a.mem, a.f.mem_size);
	inst_close(&a);
	unlink(out);
	slot = (struct ft_flow *)(void *)(copy + FT_SLOTS_OFF);
	assert_int_equal(slot[0].state, FT_LIVE);
	slot[0].touch_seq = UINT64_MAX;
	alarm(20);		/* a loop for ever fails the test */
	inst_open_on(&b, o, 0, 1, copy);
	assert_int_equal(val(&b, "active"), 0);
	feed(&b, &s2, MS(2));
	assert_int_equal(slot[0].state, FT_LIVE);
	assert_int_not_equal(slot[0].start_seq, 0);
	tick(&b, MS(2) + 3600ULL * 1000000000ULL);
	alarm(0);
	assert_int_equal(val(&b, "active"), 0);
	inst_close(&b);
	read_lines(out, &ls);
	assert_int_equal(ls.n, 1);
	free_lines(&ls);
	free(copy);
}

/* --- Bad frames. */

/*
 * Every cut of every sample frame, then random bytes: nothing breaks, and
 * each frame is counted once, in a flow or as not_ip or bad_ip.
 */
static void
test_malformed(void **st)
{
	struct inst in;
	char out[128], opt[160], *text;
	const char *o[] = { opt, "max_flows=64", NULL };
	uint64_t frames = 0, total = 0;
	uint32_t x = 99;
	struct pk pk;
	uint8_t *buf;

	(void)st;
	make_events();
	path_of(out, sizeof(out), "bad.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	for (int i = 0; i < nev; i++) {
		if (evs[i].tick)
			continue;
		mk_frame(&pk, &evs[i].s);
		for (uint32_t cut = 0; cut <= pk.n; cut++) {
			/* Exactly cut bytes: the sanitizer sees any overread. */
			buf = malloc(cut + 1);
			memcpy(buf, pk.b, cut);
			feed_raw(&in, buf, cut, pk.n, evs[i].ts, -1);
			free(buf);
			frames++;
		}
	}
	for (int i = 0; i < 20000; i++) {
		uint32_t n = lcg(&x) % 128;

		buf = malloc(n + 1);
		for (uint32_t k = 0; k < n; k++)
			buf[k] = (uint8_t)lcg(&x);
		/* Often IPv4 or IPv6 after Ethernet, to go deeper. */
		if (n >= 15 && i % 2 == 0) {
			put16(buf + 12, i % 4 ? 0x0800 : 0x86dd);
			buf[14] = i % 4 ? 0x45 : 0x60;
		}
		feed_raw(&in, buf, n, n, MS(100000 + i), (int)(i % 3) - 1);
		free(buf);
		frames++;
	}
	inst_close(&in);
	text = file_text(out);
	for (char *p = text; (p = strstr(p, "\"packets\": ")) != NULL; p++)
		total += strtoull(p + 11, NULL, 10);
	assert_int_equal(total + val(&in, "not_ip") + val(&in, "bad_ip"),
	    frames);
	assert_true(val(&in, "not_ip") > 0);
	assert_true(val(&in, "bad_ip") > 0);
	assert_int_equal(val(&in, "records_lost"), 0);
	free(text);
}

/*
 * Lines of text: whole records (one object from {"worker" to its closing
 * brace, no second record glued on), and any other, broken, lines.
 */
static void
count_lines(const char *text, int *whole, int *broken)
{
	const char *e, *next;

	*whole = *broken = 0;
	for (const char *p = text; *p != '\0'; p = e + 1) {
		if ((e = strchr(p, '\n')) == NULL) {
			++*broken;		/* no final newline */
			break;
		}
		next = e > p ? memmem(p + 1, (size_t)(e - p - 1),
		    "{\"worker\"", 9) : NULL;
		if (e - p > 9 && memcmp(p, "{\"worker\"", 9) == 0 &&
		    e[-1] == '}' && next == NULL)
			++*whole;
		else
			++*broken;
	}
}

/* Whole records of a run without a crash, over every event but skip. */
static int
clean_records(const char *name, int skip)
{
	struct inst in;
	char path[128], opt[160], *text;
	const char *o[8];
	int whole, broken;

	path_of(path, sizeof(path), name);
	crash_opts(o, opt, sizeof(opt), path);
	inst_open(&in, o);
	for (int k = 0; k < nev; k++)
		if (k != skip)
			run_event(&in, k);
	inst_close(&in);
	text = file_text(path);
	count_lines(text, &whole, &broken);
	free(text);
	assert_int_equal(broken, 0);
	return whole;
}

/*
 * The events through packet, each frame first to prefetch `ahead` frames
 * early as the host calls it (0: no prefetch calls), and the frames i with
 * i % stop == stop - 1 prefetched but never handed to packet, as when an
 * earlier plugin stops them (stop 0: none).  Returns the records written.
 */
static char *
prefetch_run(const char *name, int ahead, int stop)
{
	static struct pk pks[NEV];
	struct inst in;
	char out[128], opt[160];
	const char *o[8];
	int next = 0;

	for (int i = 0; i < nev; i++)
		if (!evs[i].tick)
			mk_frame(&pks[i], &evs[i].s);
	path_of(out, sizeof(out), name);
	crash_opts(o, opt, sizeof(opt), out);
	inst_open(&in, o);
	for (int i = 0; i < nev; i++) {
		for (; next < nev && next < i + ahead; next++)
			if (!evs[next].tick)
				prefetch(&in, &pks[next], evs[next].ts);
		if (evs[i].tick)
			tick(&in, evs[i].ts);
		else if (stop == 0 || i % stop != stop - 1)
			feed_raw(&in, pks[i].b, pks[i].n, pks[i].n, evs[i].ts,
			    pks[i].strip_vlan);
	}
	inst_close(&in);
	return file_text(out);
}

/*
 * The prefetch callback changes nothing that packet does: the events (TCP,
 * UDP, IPv6, ICMP, VLAN, fragments, evictions of a table of 8 flows) give
 * the same records with prefetch calls as far ahead as the host makes
 * them, nearer, and with frames that never reach packet.
 */
static void
test_prefetch_same(void **st)
{
	static const int aheads[] = { 1, 2, 5, RINGFAN_PREFETCH_AHEAD };
	char *ref, *got;
	int whole, broken;

	(void)st;
	make_events();
	for (int stop = 0; stop <= 7; stop += 7) {
		ref = prefetch_run("pf_ref.json", 0, stop);
		count_lines(ref, &whole, &broken);
		assert_true(whole > 20);
		assert_int_equal(broken, 0);
		for (size_t k = 0; k < sizeof(aheads) / sizeof(aheads[0]); k++) {
			got = prefetch_run("pf_ahead.json", aheads[k], stop);
			assert_string_equal(got, ref);
			free(got);
		}
		free(ref);
	}
}

/*
 * packet counts what prefetch decoded for the frame: a frame changed
 * between the two calls (which the host never does) is counted as it was
 * at prefetch, so the work is not done twice.  A frame that was prefetched
 * and never came is not taken for a later one at the same place with
 * another time, nor is one prefetched too long ago.
 */
static void
test_prefetch_kept(void **st)
{
	struct inst in;
	struct lines ls;
	struct pk a, b, c, many[RINGFAN_PREFETCH_AHEAD + 4];
	char out[128], opt[160];
	const char *o[] = { opt, NULL };
	struct spec s;

	(void)st;
	path_of(out, sizeof(out), "kept.json");
	snprintf(opt, sizeof(opt), "output=%s", out);
	inst_open(&in, o);
	s = udp4("10.0.0.1", "10.9.9.9", 1000, 53, 10);
	mk_frame(&a, &s);
	s = udp4("10.0.0.2", "10.9.9.9", 1000, 53, 10);
	mk_frame(&b, &s);
	s = udp4("10.0.0.3", "10.9.9.9", 1000, 53, 10);
	mk_frame(&c, &s);
	assert_int_equal(a.n, b.n);

	/* Prefetched as 10.0.0.1, handed over as 10.0.0.2: 10.0.0.1. */
	prefetch(&in, &a, MS(1));
	memcpy(a.b, b.b, b.n);
	feed_raw(&in, a.b, a.n, a.n, MS(1), -1);

	/* Prefetched as 10.0.0.2 at 2 ms, never came; 10.0.0.3 at 3 ms. */
	prefetch(&in, &b, MS(2));
	memcpy(b.b, c.b, c.n);
	feed_raw(&in, b.b, b.n, b.n, MS(3), -1);

	/*
	 * Prefetched as 10.0.0.3 at 4 ms, then more than the host may be
	 * ahead: its 10.0.0.1 at 4 ms is decoded again.
	 */
	prefetch(&in, &c, MS(4));
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		s = udp4("10.0.0.9", "10.9.9.9", (uint16_t)(2000 + i), 53, 10);
		mk_frame(&many[i], &s);
		prefetch(&in, &many[i], MS(4));
	}
	s = udp4("10.0.0.1", "10.9.9.9", 1000, 53, 10);
	mk_frame(&a, &s);
	memcpy(c.b, a.b, a.n);
	feed_raw(&in, c.b, c.n, c.n, MS(4), -1);
	inst_close(&in);

	read_lines(out, &ls);
	assert_int_equal(ls.n, 2);
	assert_non_null(strstr(ls.l[0], "\"src\": \"10.0.0.1\""));
	assert_non_null(strstr(ls.l[0], "\"fwd\": {\"packets\": 2,"));
	assert_non_null(strstr(ls.l[1], "\"src\": \"10.0.0.3\""));
	assert_non_null(strstr(ls.l[1], "\"fwd\": {\"packets\": 1,"));
	free_lines(&ls);
}

/*
 * A shared file (no {worker}): the kill cuts a write part way.  The cut
 * line stays, ended by a newline, and every record is a whole line once:
 * as many whole lines as a run without the crash writes (without the frame
 * in hand, when the crash came inside one).
 */
static void
test_shared_cut(void **st)
{
	struct inst a, b;
	struct ft *ft;
	char out[128], opt[160], *text;
	const char *o[8];
	volatile int i = 0;
	int at, whole, broken, all, but;

	(void)st;
	make_events();
	path_of(out, sizeof(out), "shared-cut.json");
	crash_opts(o, opt, sizeof(opt), out);
	inst_open(&a, o);
	crash_point = FT_HOOK_AFTER_WRITE;
	crash_nth = 2;
	crash_seen = 0;
	crash_cut = 1;
	if (setjmp(crash_jb) == 0) {
		ft_test_hook = crash_hook;
		for (i = 0; i < nev; i++)
			run_event(&a, i);
		fail_msg("no crash");
	}
	ft_test_hook = NULL;
	crash_cut = 0;
	at = i;
	ft = crash_ft;
	if (ft->fd != -1)
		close(ft->fd);
	ft_table_free(ft);
	free(ft);
	inst_open_on(&b, o, 0, 1, a.mem);
	for (int k = at + 1; k < nev; k++)
		run_event(&b, k);
	inst_close(&b);
	free(a.mem);
	text = file_text(out);
	count_lines(text, &whole, &broken);
	free(text);
	assert_int_equal(broken, 1);
	all = clean_records("shared-all.json", -1);
	but = clean_records("shared-but.json", at);
	assert_true(all > 2);
	if (whole != all && whole != but)
		fail_msg("%d whole records; a clean run writes %d, without "
		    "event %d %d", whole, all, at, but);
}

/* TCP flags as records name them: FSRPAUEC from bit 0 up. */
static void
flags_letters(uint8_t flags, char out[9])
{
	const char *all = "FSRPAUEC";
	int n = 0;

	for (int b = 0; b < 8; b++)
		if (flags >> b & 1)
			out[n++] = all[b];
	out[n] = '\0';
}

/*
 * ft_format() against snprintf() and inet_ntop(): every value of an
 * address byte, every digit count of a number, both ends of uint64_t, both
 * families, TCP flags; and every buffer one byte short of the line
 * refused.
 */
static void
test_format(void **unused)
{
	uint8_t bytes[256];
	static const uint64_t nums[] = { 0, 1, 9, 10, 11, 99, 100, 101, 999,
	    1000, 65535, 1234567890123ULL, 9999999999999999999ULL,
	    10000000000000000000ULL, UINT64_MAX };
	static const char *const reasons[] = { [FT_IDLE] = "idle",
	    [FT_ACTIVE] = "active", [FT_END] = "end", [FT_EVICTED] = "evicted",
	    [FT_SHUTDOWN] = "shutdown", [FT_CLOCK] = "active" };
	char got[FT_LINE_MAX], want[FT_LINE_MAX + 1];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], vlan[8];
	char fl0[9], fl1[9];
	struct ft_flow f;
	size_t n, nb = sizeof(bytes), nn = sizeof(nums) / sizeof(nums[0]);

	(void)unused;
	for (size_t v = 0; v < nb; v++)
		bytes[v] = (uint8_t)v;
	for (size_t i = 0; i < nb * nb; i++) {
		memset(&f, 0, sizeof(f));
		f.ipver = i % 3 == 2 ? 6 : 4;
		for (int b = 0; b < 16; b++) {
			f.src[b] = bytes[(i + (size_t)b) % nb];
			f.dst[b] = bytes[(i / nb + (size_t)b * 3) % nb];
		}
		if (f.ipver == 4) {
			memset(f.src + 4, 0, 12);
			memset(f.dst + 4, 0, 12);
		}
		f.proto = (uint8_t)nums[i % nn];
		f.has_vlan = i % 2;
		f.vlan = (uint16_t)nums[(i + 3) % nn];
		f.sport = (uint16_t)nums[(i + 1) % nn];
		f.dport = (uint16_t)nums[(i + 2) % nn];
		f.first_ns = nums[i % nn];
		f.last_ns = nums[(i + 4) % nn];
		f.packets[0] = nums[(i + 5) % nn];
		f.bytes[0] = nums[(i + 6) % nn];
		f.packets[1] = nums[(i + 7) % nn];
		f.bytes[1] = nums[(i + 8) % nn];
		f.reason = (uint8_t)(1 + i % (FT_NREASON - 1));
		f.tcp_flags[0] = (uint8_t)(i * 37);
		f.tcp_flags[1] = (uint8_t)(255 - i * 11);
		flags_letters(f.tcp_flags[0], fl0);
		flags_letters(f.tcp_flags[1], fl1);
		assert_non_null(inet_ntop(f.ipver == 4 ? AF_INET : AF_INET6,
		    f.src, src, sizeof(src)));
		assert_non_null(inet_ntop(f.ipver == 4 ? AF_INET : AF_INET6,
		    f.dst, dst, sizeof(dst)));
		snprintf(vlan, sizeof(vlan), "%u", f.vlan);
		rec(want, sizeof(want), (unsigned)i, f.has_vlan ? vlan : "null",
		    f.proto, src, f.sport, dst, f.dport, f.first_ns, f.last_ns,
		    f.packets[0], f.bytes[0], fl0, f.packets[1], f.bytes[1], fl1,
		    reasons[f.reason]);
		strcat(want, "\n");
		n = ft_format(&f, (unsigned)i, got, sizeof(got));
		assert_int_equal(n, strlen(want));
		assert_string_equal(got, want);
		/*
		 * A line and its NUL, or nothing, in a buffer of exactly cap
		 * bytes (below FT_LINE_MAX: the line is built aside), so that
		 * ASan sees a byte written past it; one line in 64, whose
		 * first four address bytes still take every value.
		 */
		for (size_t cap = 0; i % 64 == 0 && cap <= n + 1; cap++) {
			char *b = malloc(cap > 0 ? cap : 1);

			assert_non_null(b);
			assert_int_equal(ft_format(&f, (unsigned)i, b, cap),
			    cap == n + 1 ? n : 0);
			if (cap == n + 1)
				assert_string_equal(b, want);
			free(b);
		}
	}
	/* The widest record there is fits FT_LINE_MAX, its NUL too. */
	memset(&f, 0, sizeof(f));
	f.ipver = 6;
	f.proto = 255;
	f.has_vlan = 1;
	f.vlan = 4095;
	f.sport = f.dport = 65535;
	memset(f.src, 0xff, 16);
	memset(f.dst, 0xff, 16);
	f.first_ns = f.last_ns = UINT64_MAX;
	f.packets[0] = f.packets[1] = f.bytes[0] = f.bytes[1] = UINT64_MAX;
	f.tcp_flags[0] = f.tcp_flags[1] = 0xff;
	f.reason = FT_SHUTDOWN;
	snprintf(src, sizeof(src), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	rec(want, sizeof(want), UINT_MAX, "4095", 255, src, 65535, src, 65535,
	    UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, "FSRPAUEC",
	    UINT64_MAX, UINT64_MAX, "FSRPAUEC", "shutdown");
	strcat(want, "\n");
	n = ft_format(&f, UINT_MAX, got, sizeof(got));
	assert_int_equal(n, strlen(want));
	assert_string_equal(got, want);
	assert_true(n < FT_LINE_MAX);
}

/*
 * Key v of a run of keys that differ in one field only: `field` says
 * which, as an index into the key's bytes after the four of its head
 * (ipver, proto, vlan), or -1 for the VLAN id, -2 for the protocol.
 */
static void
hash_key(struct ft_key *k, int ipver, int field, uint32_t v)
{
	memset(k, 0, sizeof(*k));
	k->ipver = (uint8_t)ipver;
	k->proto = 17;
	k->sport = 1024;
	k->dport = 53;
	memcpy(k->src, ipver == 4 ? "\x0a\x00\x00\x01" :
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
	    ipver == 4 ? 4 : 16);
	memcpy(k->dst, k->src, 16);
	k->dst[ipver == 4 ? 3 : 15] = 2;
	switch (field) {
	case -2:
		k->proto = (uint8_t)v;
		k->sport = (uint16_t)(v >> 8);
		break;
	case -1:
		k->has_vlan = 1;
		k->vlan = (uint16_t)(v & 0xfff);
		k->dport = (uint16_t)(v >> 12);
		break;
	case 0:			/* the ports */
		k->sport = (uint16_t)v;
		k->dport = (uint16_t)(v >> 16);
		break;
	default:		/* 4 bytes of an address from field on */
		put32((field < 20 ? k->src : k->dst) + (field - 4) % 16, v);
		break;
	}
}

/*
 * The bucket hash spreads flows that differ in any one field (addresses,
 * ports, VLAN ids and protocols, IPv4 and IPv6, three seeds; the field's
 * values counted up, and the same numbers times an odd constant, which
 * spreads them over all 32 bits) over the buckets as evenly as chance
 * would: 100,000 of them over 2^18 buckets leave no chain longer than 10
 * (chance: 5 or 6, now and then 7), and a field the hash missed would
 * leave one of thousands.  Both directions of a flow hash alike.  Two
 * keys whose first address word and first port differ in their top bit
 * alone hash apart under every seed.
 */
static void
test_hash_spread(void **st)
{
	static uint32_t count[1u << 18];
	static const uint64_t seeds[] = {
		0, 0x6a09e667f3bcc908ULL, UINT64_MAX
	};
	/* IPv4: 4 .. 7 the source, 20 .. 23 the destination. */
	static const int v4[] = { -2, -1, 0, 4, 20 };
	static const int v6[] = { -1, 0, 4, 8, 12, 16, 20, 24, 28, 32 };
	struct ft ft;
	struct ft_key k, r;
	uint32_t h, longest, v;
	uint64_t w;

	(void)st;
	memset(&ft, 0, sizeof(ft));
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		ft.hseed = seeds[s];
		for (int ipver = 4; ipver <= 6; ipver += 2) {
			const int *f = ipver == 4 ? v4 : v6;
			size_t nf = ipver == 4 ? sizeof(v4) / sizeof(v4[0]) :
			    sizeof(v6) / sizeof(v6[0]);

			for (size_t j = 0; j < 2 * nf; j++) {
				memset(count, 0, sizeof(count));
				longest = 0;
				for (uint32_t i = 0; i < 100000; i++) {
					v = j < nf ? i : i * 0x9e3779b1u;
					hash_key(&k, ipver, f[j % nf], v);
					h = ft_key_hash(&ft, &k);
					r = k;
					memcpy(r.src, k.dst, 16);
					memcpy(r.dst, k.src, 16);
					r.sport = k.dport;
					r.dport = k.sport;
					assert_int_equal(ft_key_hash(&ft, &r), h);
					h &= (1u << 18) - 1;
					if (++count[h] > longest)
						longest = count[h];
				}
				if (longest > 10)
					fail_msg("seed %zu, IPv%d, field %d%s: "
					    "a chain of %u", s, ipver, f[j % nf],
					    j < nf ? "" : " spread", longest);
			}
		}
		/*
		 * The source before the destination, in the hash's order,
		 * with its word's top bit set or not.
		 */
		hash_key(&k, 6, 0, 0);
		w = UINT64_MAX;
		memcpy(k.dst, &w, 8);
		r = k;
		memcpy(&w, r.src, 8);
		w ^= 1ULL << 63;
		memcpy(r.src, &w, 8);
		r.sport ^= 0x8000;
		if (ft_key_hash(&ft, &k) == ft_key_hash(&ft, &r))
			fail_msg("seed %zu: the top bits cancel", s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_flow_split),
		cmocka_unit_test(test_tcp_end),
		cmocka_unit_test(test_idle_active),
		cmocka_unit_test(test_active_before_idle),
		cmocka_unit_test(test_end_of_time),
		cmocka_unit_test(test_active_out_of_order),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_active_before_idle_late),
		cmocka_unit_test(test_active_in_order),
		cmocka_unit_test(test_evict),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_linktypes),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_frag_id_reused),
		cmocka_unit_test(test_transport_cut),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_crash_between),
		cmocka_unit_test(test_crash_touch),
		cmocka_unit_test(test_crash_out_of_order),
		cmocka_unit_test(test_crash_ipfix_once),
		cmocka_unit_test(test_unknown_layout),
		cmocka_unit_test(test_recover_journal_wraps),
		cmocka_unit_test(test_recover_seq_wraps),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_shared_cut),
		cmocka_unit_test(test_prefetch_same),
		cmocka_unit_test(test_prefetch_kept),
	};

	private_net();
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

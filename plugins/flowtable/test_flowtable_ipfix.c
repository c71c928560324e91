/*
 * Unit tests of flowtable's IPFIX exporter on the stand-in host context,
 * against sockets of the test's own on loopback.  What arrives is read by
 * a decoder written here from RFC 7011 (header, set lengths, templates,
 * data records by template) and, for the data, also by libfixbuf's
 * collecting side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fixbuf/public.h>

#include <ringfan/plugin.h>

#include "fake_ctx.h"
#include "private_net.h"
#include "flowtable.h"
#include "flowtable_ipfix.h"

extern const struct ringfan_plugin ringfan_plugin;

#define REV	29305u		/* RFC 5103's reverse enterprise number */

/* A record, as ft_export() makes it: queued, then the flow's end. */
static void
add(struct ix *ix, const struct ft_flow *f, int reason)
{
	ix_add(ix, f, reason);
	ix_added(ix);
}

/*
 * getsockopt(TCP_INFO) as the kernel answers, but for tcpi_bytes_acked,
 * which is lowered by ack_short: the peer acknowledged that many bytes
 * fewer (linked with -Wl,--wrap=getsockopt).
 */
static uint64_t ack_short;

int	__real_getsockopt(int, int, int, void *, socklen_t *);
int	__wrap_getsockopt(int, int, int, void *, socklen_t *);

int
__wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct tcp_info *ti = val;
	int rc = __real_getsockopt(fd, level, name, val, len);

	if (rc == 0 && level == IPPROTO_TCP && name == TCP_INFO &&
	    *len >= offsetof(struct tcp_info, tcpi_bytes_acked) +
	    sizeof(ti->tcpi_bytes_acked))
		ti->tcpi_bytes_acked -= ack_short;
	return rc;
}
#define T0	(1700000000ULL * 1000000000ULL)

/* --- The independent decoder. */

/* The elements the exporter sends, as (enterprise, id). */
enum {
	E_SRC4, E_DST4, E_SRC6, E_DST6, E_SPORT, E_DPORT, E_PROTO, E_VLAN,
	E_OCT, E_PKT, E_ROCT, E_RPKT, E_START, E_END, E_FLAGS, E_RFLAGS,
	E_REASON, E_PROCESS, E_ICMP4, E_ICMP6, E_MAX
};

static const struct {
	uint32_t	 pen;
	uint16_t	 id;
	uint16_t	 len;
} elem[E_MAX] = {
	[E_SRC4] = { 0, 8, 4 }, [E_DST4] = { 0, 12, 4 },
	[E_SRC6] = { 0, 27, 16 }, [E_DST6] = { 0, 28, 16 },
	[E_SPORT] = { 0, 7, 2 }, [E_DPORT] = { 0, 11, 2 },
	[E_PROTO] = { 0, 4, 1 }, [E_VLAN] = { 0, 58, 2 },
	[E_OCT] = { 0, 1, 8 }, [E_PKT] = { 0, 2, 8 },
	[E_ROCT] = { REV, 1, 8 }, [E_RPKT] = { REV, 2, 8 },
	[E_START] = { 0, 152, 8 }, [E_END] = { 0, 153, 8 },
	[E_FLAGS] = { 0, 6, 1 }, [E_RFLAGS] = { REV, 6, 1 },
	[E_REASON] = { 0, 136, 1 }, [E_PROCESS] = { 0, 144, 4 },
	[E_ICMP4] = { 0, 32, 2 }, [E_ICMP6] = { 0, 139, 2 },
};

struct drec {
	uint16_t	 tid;
	uint32_t	 domain;
	int		 has[E_MAX];
	uint64_t	 v[E_MAX];
	uint8_t		 a[E_MAX][16];	/* addresses */
};

struct tmpl {
	uint16_t	 nf;
	int		 which[32];	/* E_*, or -1 */
	uint16_t	 len[32];
};

#define MAXREC	256

struct decoded {
	int		 messages;
	int		 with_templates;	/* messages with a template set */
	uint32_t	 seq[64];
	struct tmpl	 t[2];			/* 256, 257 */
	int		 have_t[2];
	struct drec	 r[MAXREC];
	int		 n;
};

static uint32_t
be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
be64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* One message: every length checked against what encloses it. */
static void
decode_msg(struct decoded *d, const uint8_t *m, size_t len)
{
	size_t off = 16, soff, end;
	uint16_t sid, slen, tid, nf, fid, flen;
	uint32_t pen;
	struct tmpl *t;
	struct drec *r;
	int tset = 0;

	assert_true(len >= 16);
	assert_int_equal(be(m, 2), 10);
	assert_int_equal(be(m + 2, 2), len);
	if (d->messages < 64)
		d->seq[d->messages] = be(m + 8, 4);
	while (off < len) {
		assert_true(off + 4 <= len);
		sid = (uint16_t)be(m + off, 2);
		slen = (uint16_t)be(m + off + 2, 2);
		assert_true(slen >= 4 && off + slen <= len);
		end = off + slen;
		soff = off + 4;
		if (sid == 2) {
			tset = 1;
			while (soff + 4 <= end) {
				tid = (uint16_t)be(m + soff, 2);
				nf = (uint16_t)be(m + soff + 2, 2);
				soff += 4;
				assert_true(tid == 256 || tid == 257);
				assert_true(nf <= 32);
				t = &d->t[tid - 256];
				d->have_t[tid - 256] = 1;
				t->nf = nf;
				for (uint16_t i = 0; i < nf; i++) {
					assert_true(soff + 4 <= end);
					fid = (uint16_t)be(m + soff, 2);
					flen = (uint16_t)be(m + soff + 2, 2);
					soff += 4;
					pen = 0;
					if (fid & 0x8000) {
						assert_true(soff + 4 <= end);
						pen = be(m + soff, 4);
						soff += 4;
						fid &= 0x7fff;
					}
					t->which[i] = -1;
					t->len[i] = flen;
					for (int e = 0; e < E_MAX; e++)
						if (elem[e].pen == pen &&
						    elem[e].id == fid)
							t->which[i] = e;
					assert_int_not_equal(t->which[i], -1);
					assert_int_equal(flen,
					    elem[t->which[i]].len);
				}
				/*
				 * nfdump reads reverseTcpControlBits as
				 * tcpControlBits, the later one winning:
				 * the forward flags come last.
				 */
				for (uint16_t i = 0; i < nf; i++)
					for (uint16_t k = i + 1; k < nf; k++)
						assert_false(t->which[i] ==
						    E_FLAGS && t->which[k] ==
						    E_RFLAGS);
			}
		} else {
			assert_true(sid == 256 || sid == 257);
			assert_true(d->have_t[sid - 256]);
			t = &d->t[sid - 256];
			for (;;) {
				size_t rl = 0;

				for (uint16_t i = 0; i < t->nf; i++)
					rl += t->len[i];
				if (soff + rl > end)
					break;
				assert_true(d->n < MAXREC);
				r = &d->r[d->n++];
				memset(r, 0, sizeof(*r));
				r->tid = sid;
				r->domain = be(m + 12, 4);
				for (uint16_t i = 0; i < t->nf; i++) {
					int e = t->which[i];

					r->has[e] = 1;
					if (t->len[i] <= 8)
						r->v[e] = be64(m + soff,
						    t->len[i]);
					memcpy(r->a[e], m + soff,
					    t->len[i] <= 16 ? t->len[i] : 16);
					soff += t->len[i];
				}
			}
			/* What is left is padding, shorter than a record. */
		}
		off = end;
	}
	assert_int_equal(off, len);
	d->messages++;
	d->with_templates += tset;
}

/* A TCP stream: messages back to back. */
static void
decode_stream(struct decoded *d, const uint8_t *b, size_t len)
{
	size_t off = 0, ml;

	while (off < len) {
		assert_true(off + 4 <= len);
		ml = be(b + off + 2, 2);
		assert_true(ml >= 16 && off + ml <= len);
		decode_msg(d, b + off, ml);
		off += ml;
	}
}

/* --- The same messages through libfixbuf's collecting side. */

struct fbrec {
	uint64_t	 oct, pkt, roct, rpkt;
	uint32_t	 src4;
	uint16_t	 sport, dport;
	uint8_t		 proto, reason;
	uint8_t		 pad[2];
};

static fbInfoElementSpec_t fb_spec[] = {
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "paddingOctets", 2, 0 },
	FB_IESPEC_NULL
};

/* The records libfixbuf reads from the messages, into out. */
static int
fixbuf_read(const uint8_t *const *msgs, const size_t *lens, int nmsg,
    struct fbrec *out, int max)
{
	fbInfoModel_t *model = fbInfoModelAlloc();
	fbSession_t *s = fbSessionAlloc(model);
	fbTemplate_t *t = fbTemplateAlloc(model);
	fBuf_t *fb;
	GError *err = NULL;
	uint8_t copy[65536];
	size_t len;
	int n = 0;

	assert_true(fbTemplateAppendSpecArray(t, fb_spec, 0, &err));
	assert_true(fbSessionAddTemplate(s, TRUE, 0x2000, t, &err));
	fb = fBufAllocForCollection(s, NULL);
	assert_true(fBufSetInternalTemplate(fb, 0x2000, &err));
	for (int m = 0; m < nmsg; m++) {
		memcpy(copy, msgs[m], lens[m]);
		fBufSetBuffer(fb, copy, lens[m]);
		for (;;) {
			len = sizeof(out[0]);
			assert_true(n < max);
			memset(&out[n], 0, sizeof(out[n]));
			if (!fBufNext(fb, (uint8_t *)&out[n], &len, &err)) {
				g_clear_error(&err);
				break;
			}
			n++;
		}
	}
	fBufFree(fb);
	fbInfoModelFree(model);
	return n;
}

/* --- Sockets and instances. */

/* A UDP socket on 127.0.0.1:want (0: a free port), its port in *port. */
static int
udp_bound(uint16_t want, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(want);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_DGRAM, 0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int
udp_listener(uint16_t *port)
{
	return udp_bound(0, port);
}

static int
tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(*port);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A datagram, or 0 bytes after a second without one. */
static size_t
recv_dgram(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return 0;
	n = recv(fd, buf, cap, 0);
	assert_true(n > 0);
	return (size_t)n;
}

/* What a TCP peer sent until it is quiet for 300 ms. */
static size_t
recv_stream(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < cap && poll(&p, 1, 300) == 1) {
		if ((n = recv(fd, buf + got, cap - got, 0)) <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

struct xinst {
	struct fake_ctx	 f;
	const char	*opts[16];
	char		 url[64];
	struct ix_opts	 o;
	struct ix	*ix;
};

static void
x_open(struct xinst *x, const char *url, const char *const *more)
{
	int n = 0;

	memset(x, 0, sizeof(*x));
	snprintf(x->url, sizeof(x->url), "ipfix=%s", url);
	x->opts[n++] = x->url;
	for (int i = 0; more != NULL && more[i] != NULL; i++)
		x->opts[n++] = more[i];
	fake_ctx_init(&x->f, x->opts);
	assert_int_equal(ix_options(&x->f.pub, &x->o), 0);
	assert_string_equal(x->f.error, "");
	assert_non_null(x->ix = ix_open(&x->f.pub, &x->o));
}

static uint64_t
xval(const struct xinst *x, const char *name)
{
	return fake_ctx_value(&x->f, name);
}

/* Ticks until the exporter sets a status (a refusal, say), 500 ms at most. */
static void
x_tick_until_status(struct xinst *x)
{
	for (int i = 0; i < 50 && x->f.status[0] == '\0'; i++) {
		sleep_ms(10);
		ix_tick(x->ix);
	}
}

/*
 * Ticks until a UDP exporter whose collector went away has seen its sends
 * refused, and the status says so with the queue empty.
 */
static void
x_send_refused(struct xinst *x, const char *url)
{
	char want[160];

	ix_tick(x->ix);
	x_tick_until_status(x);
	snprintf(want, sizeof(want), "ipfix %s: send: Connection refused; "
	    "0 records wait", url);
	assert_string_equal(x->f.status, want);
}

/* Flow number i: IPv4 (even i) or IPv6 (odd), TCP, with counts from i. */
static void
mk_flow(struct ft_flow *f, int i, int v6)
{
	memset(f, 0, sizeof(*f));
	f->state = FT_LIVE;
	f->ipver = v6 ? 6 : 4;
	f->proto = 6;
	if (v6) {
		inet_pton(AF_INET6, "2001:db8::1", f->src);
		inet_pton(AF_INET6, "2001:db8::2", f->dst);
	} else {
		inet_pton(AF_INET, "198.18.0.1", f->src);
		inet_pton(AF_INET, "198.18.1.2", f->dst);
	}
	f->src[v6 ? 15 : 3] = (uint8_t)(i + 1);
	f->has_vlan = i % 3 == 0;
	f->vlan = 100;
	f->sport = (uint16_t)(40000 + i);
	f->dport = 80;
	f->first_ns = T0 + (uint64_t)i * 1000000;
	f->last_ns = f->first_ns + 2500000000ULL;
	f->packets[0] = (uint64_t)i + 3;
	f->packets[1] = (uint64_t)i + 2;
	f->bytes[0] = ((uint64_t)i + 3) * 100;
	f->bytes[1] = ((uint64_t)i + 2) * 1500;
	f->tcp_flags[0] = 0x1b;		/* FIN SYN PSH ACK */
	f->tcp_flags[1] = 0x12;		/* SYN ACK */
}

/* Record r as flow i of mk_flow, ended for reason (IPFIX's number). */
static void
check_rec(const struct drec *r, int i, int v6, unsigned reason,
    uint32_t domain, unsigned worker)
{
	struct ft_flow f;

	mk_flow(&f, i, v6);
	assert_int_equal(r->tid, v6 ? 257 : 256);
	assert_int_equal(r->domain, domain);
	if (v6) {
		assert_memory_equal(r->a[E_SRC6], f.src, 16);
		assert_memory_equal(r->a[E_DST6], f.dst, 16);
		assert_false(r->has[E_SRC4]);
		assert_true(r->has[E_ICMP6]);
		assert_false(r->has[E_ICMP4]);
	} else {
		assert_memory_equal(r->a[E_SRC4], f.src, 4);
		assert_memory_equal(r->a[E_DST4], f.dst, 4);
		assert_false(r->has[E_SRC6]);
		assert_true(r->has[E_ICMP4]);
		assert_false(r->has[E_ICMP6]);
	}
	/* TCP: no ICMP type and code. */
	assert_int_equal(r->v[E_ICMP4] + r->v[E_ICMP6], 0);
	assert_int_equal(r->v[E_SPORT], f.sport);
	assert_int_equal(r->v[E_DPORT], 80);
	assert_int_equal(r->v[E_PROTO], 6);
	assert_int_equal(r->v[E_VLAN], f.has_vlan ? 100 : 0);
	assert_int_equal(r->v[E_OCT], f.bytes[0]);
	assert_int_equal(r->v[E_PKT], f.packets[0]);
	assert_int_equal(r->v[E_ROCT], f.bytes[1]);
	assert_int_equal(r->v[E_RPKT], f.packets[1]);
	assert_int_equal(r->v[E_START], f.first_ns / 1000000);
	assert_int_equal(r->v[E_END], f.last_ns / 1000000);
	assert_int_equal(r->v[E_FLAGS], 0x1b);
	assert_int_equal(r->v[E_RFLAGS], 0x12);
	assert_int_equal(r->v[E_REASON], reason);
	assert_int_equal(r->v[E_PROCESS], worker);
}

/* --- Tests. */

static void
expect_error(const char *const *opts, const char *msg)
{
	struct fake_ctx f;

	fake_ctx_init(&f, opts);
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_FAIL);
	assert_string_equal(f.error, msg);
}

static void
test_options(void **st)
{
	struct fake_ctx f;
	struct ix_opts o;

	(void)st;
	{
		/* ipfix alone is enough; the file is optional then. */
		const char *ok[] = { "ipfix=udp://127.0.0.1:4739", NULL };

		fake_ctx_init(&f, ok);
		assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
		assert_null(fake_ctx_unasked(&f));
		assert_int_equal(ix_options(&f.pub, &o), 0);
		assert_int_equal(o.tcp, 0);
		assert_int_equal(o.family, AF_INET);
		assert_int_equal(o.port, 4739);
		assert_int_equal(o.queue, 4096);
		assert_int_equal(o.refresh_ns, 60000000000ULL);
		assert_int_equal(o.refresh_msgs, 100);
		/* FNV-1a of "test", low 8 bits cleared. */
		assert_int_equal(o.domain, 0xafd07100u);
	}
	{
		const char *ok[] = { "ipfix=tcp://[::1]:9995", "output=/x",
		    "observation_domain=7", "ipfix_queue=16", NULL };

		fake_ctx_init(&f, ok);
		assert_int_equal(ix_options(&f.pub, &o), 0);
		assert_int_equal(o.tcp, 1);
		assert_int_equal(o.family, AF_INET6);
		assert_int_equal(o.addr[15], 1);
		assert_int_equal(o.port, 9995);
		assert_int_equal(o.domain, 7);
		assert_int_equal(o.queue, 16);
	}
	{
		const char *e[] = { NULL };
		expect_error(e, "output: required without ipfix: the file the "
		    "records go to");
	}
	{
		const char *e[] = { "ipfix=sctp://127.0.0.1:4739", NULL };
		expect_error(e, "ipfix: \"sctp://127.0.0.1:4739\": not "
		    "udp://HOST:PORT or tcp://HOST:PORT");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1", NULL };
		expect_error(e, "ipfix: \"udp://127.0.0.1\": not "
		    "udp://HOST:PORT or tcp://HOST:PORT");
	}
	{
		const char *e[] = { "ipfix=udp://collector.example:4739",
		    NULL };
		expect_error(e, "ipfix: \"udp://collector.example:4739\": HOST "
		    "is not an IPv4 address or an IPv6 address in brackets");
	}
	{
		const char *e[] = { "ipfix=udp://::1:4739", NULL };
		expect_error(e, "ipfix: \"udp://::1:4739\": HOST is not an "
		    "IPv4 address or an IPv6 address in brackets");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:0", NULL };
		expect_error(e, "ipfix: \"udp://127.0.0.1:0\": the port is not "
		    "1 to 65535");
	}
	{
		const char *e[] = { "ipfix=tcp://[::1]:65536", NULL };
		expect_error(e, "ipfix: \"tcp://[::1]:65536\": the port is not "
		    "1 to 65535");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:4739",
		    "ipfix_queue=15", NULL };
		expect_error(e, "ipfix_queue: 15 is not 16 to 1048576 records");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:4739",
		    "observation_domain=4294967296", NULL };
		expect_error(e, "observation_domain: 4294967296 and the worker "
		    "ids after it are not all below 2^32");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:4739",
		    "observation_domain=0", NULL };
		expect_error(e, "observation_domain: 0 is reserved by IPFIX "
		    "(RFC 7011); give 1 or more");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:4739",
		    "ipfix_template_refresh=500ms", NULL };
		expect_error(e, "ipfix_template_refresh: 500 ms is not 1 s to "
		    "1 h");
	}
	{
		const char *e[] = { "ipfix=udp://127.0.0.1:4739",
		    "ipfix_template_messages=0", NULL };
		expect_error(e, "ipfix_template_messages: 0 is not 1 to "
		    "1000000");
	}
	/* The last worker's domain must fit too. */
	fake_ctx_init(&f, (const char *[]){ "ipfix=udp://127.0.0.1:1",
	    "observation_domain=4294967294", NULL });
	f.pub.worker_count = 3;
	assert_int_equal(ix_options(&f.pub, &o), -1);
	f.pub.worker_count = 2;
	fake_ctx_init(&f, (const char *[]){ "ipfix=udp://127.0.0.1:1",
	    "observation_domain=4294967294", NULL });
	f.pub.worker_count = 2;
	assert_int_equal(ix_options(&f.pub, &o), 0);
}

/*
 * UDP: IPv4 and IPv6 records, each with its template, read back by both
 * decoders with every element's value; one record per flow, both
 * directions in it.
 */
static void
test_udp_records(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536], *msgs[16];
	size_t lens[16], len;
	struct fbrec fr[64];
	char url[64];
	uint16_t port;
	int fd, nmsg = 0, n;
	const char *more[] = { "observation_domain=1000", NULL };

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	x.f.pub.worker_id = 0;
	for (int i = 0; i < 6; i++) {
		mk_flow(&f, i, i % 2);
		add(x.ix, &f, i < 3 ? FT_IDLE : i < 5 ? FT_END :
		    FT_SHUTDOWN);
	}
	assert_int_equal(xval(&x, "ipfix_queue"), 6);
	ix_tick(x.ix);
	while ((len = recv_dgram(fd, buf, sizeof(buf))) > 0) {
		assert_true(nmsg < 16);
		msgs[nmsg] = malloc(len);
		memcpy(msgs[nmsg], buf, len);
		lens[nmsg++] = len;
		decode_msg(d, buf, len);
		if (d->n == 6)
			break;
	}
	assert_int_equal(d->n, 6);
	assert_int_equal(d->with_templates, 1);
	assert_true(d->have_t[0] && d->have_t[1]);
	for (int i = 0; i < 6; i++)
		check_rec(&d->r[i], i, i % 2, i < 3 ? 1 : i < 5 ? 3 : 4, 1000,
		    0);
	assert_int_equal(d->seq[0], 0);
	ix_tick(x.ix);		/* the last message not refused: sent */
	assert_int_equal(xval(&x, "ipfix_records"), 6);
	assert_int_equal(xval(&x, "ipfix_messages"), (uint64_t)nmsg);
	assert_int_equal(xval(&x, "ipfix_dropped"), 0);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	assert_int_equal(xval(&x, "ipfix_up"), 1);
	assert_string_equal(x.f.status, "");

	/* libfixbuf reads the same values (its template takes IPv4 only). */
	n = fixbuf_read((const uint8_t *const *)msgs, lens, nmsg, fr, 64);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++) {
		mk_flow(&f, i, i % 2);
		assert_int_equal(fr[i].oct, f.bytes[0]);
		assert_int_equal(fr[i].pkt, f.packets[0]);
		assert_int_equal(fr[i].roct, f.bytes[1]);
		assert_int_equal(fr[i].rpkt, f.packets[1]);
		assert_int_equal(fr[i].sport, f.sport);
		assert_int_equal(fr[i].proto, 6);
		if (i % 2 == 0)
			assert_int_equal(fr[i].src4, 0xc6120001u + (unsigned)i);
	}
	for (int m = 0; m < nmsg; m++)
		free(msgs[m]);
	ix_free(x.ix);
	close(fd);
	free(d);
}

/*
 * UDP messages stay under 1400 bytes; templates go out again every
 * ipfix_template_messages messages; sequence numbers count records.
 */
/*
 * ICMP and ICMPv6: type and code in destinationTransportPort (as nfdump
 * and pmacct read them) and in icmpTypeCodeIPv4 / icmpTypeCodeIPv6, the
 * element of the flow's IP version; a UDP flow's port is no type.
 */
static void
test_icmp_elements(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64];
	size_t len;
	uint16_t port;
	int fd;
	const struct {
		int		 v6;
		uint8_t		 proto;
		uint16_t	 dport;
		uint64_t	 icmp4, icmp6;
	} c[] = {
		{ 0, 1, 0x0800, 0x0800, 0 },	/* echo request */
		{ 1, 58, 0x8100, 0, 0x8100 },	/* echo reply */
		{ 0, 1, 0x0303, 0x0303, 0 },	/* port unreachable */
		{ 0, 17, 0x0800, 0, 0 },	/* UDP to port 2048 */
		{ 1, 17, 0x8100, 0, 0 },
	};
	const int nc = (int)(sizeof(c) / sizeof(c[0]));

	(void)st;
	assert_non_null(d);
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	for (int i = 0; i < nc; i++) {
		mk_flow(&f, i, c[i].v6);
		f.proto = c[i].proto;
		f.sport = 0;
		f.dport = c[i].dport;
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	while (d->n < nc && (len = recv_dgram(fd, buf, sizeof(buf))) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, nc);
	for (int i = 0; i < nc; i++) {
		assert_int_equal(d->r[i].tid, c[i].v6 ? 257 : 256);
		assert_int_equal(d->r[i].v[E_PROTO], c[i].proto);
		assert_int_equal(d->r[i].v[E_DPORT], c[i].dport);
		assert_int_equal(d->r[i].v[E_ICMP4], c[i].icmp4);
		assert_int_equal(d->r[i].v[E_ICMP6], c[i].icmp6);
	}
	ix_free(x.ix);
	close(fd);
	free(d);
}

static void
test_udp_refresh(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64];
	size_t len;
	uint16_t port;
	int fd, seen = 0;
	const char *more[] = { "ipfix_template_messages=2", NULL };

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	for (int i = 0; i < 100; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	while (d->n < 100 && (len = recv_dgram(fd, buf, sizeof(buf))) > 0) {
		assert_true(len <= 1400);
		/*
		 * Templates, then two messages of records: one of templates
		 * only does not count towards ipfix_template_messages.
		 */
		assert_int_equal(be(buf + 16, 2) == 2, seen % 3 == 0);
		/* The sequence number: records before this message. */
		assert_int_equal(be(buf + 8, 4), (uint32_t)d->n);
		decode_msg(d, buf, len);
		seen++;
	}
	assert_int_equal(d->n, 100);
	for (int i = 0; i < 100; i++)
		check_rec(&d->r[i], i, 0, 1, ix_domain(x.ix), 0);
	assert_true(seen >= 6);
	assert_int_equal(d->with_templates, (seen + 2) / 3);
	ix_tick(x.ix);		/* the last message not refused: sent */
	assert_int_equal(xval(&x, "ipfix_records"), 100);
	assert_int_equal(xval(&x, "ipfix_messages"), (uint64_t)seen);
	ix_free(x.ix);
	close(fd);
	free(d);
}

/*
 * TCP, a collector that takes the connection and reads nothing, then
 * resets it: what its host acknowledged counts as sent, the messages the
 * exporter's kernel still held count as dropped and are logged, and every
 * record is accounted for: sent, dropped or waiting.
 */
static void
test_tcp_unacked(void **st)
{
	struct xinst x;
	struct ft_flow f;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char url[64], want[160];
	uint16_t port = 0;
	uint64_t last = UINT64_MAX, acct;
	int lfd, cfd, small = 4096, n = 4000;
	const char *more[] = { "ipfix_queue=4096", NULL };

	(void)st;
	lfd = tcp_listener(&port);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	for (int i = 0; i < n; i++) {
		mk_flow(&f, i, i % 2);
		add(x.ix, &f, FT_IDLE);
	}
	/* Until the windows are full: the queue no longer goes down. */
	for (int i = 0; i < 200 && xval(&x, "ipfix_queue") != last; i++) {
		last = xval(&x, "ipfix_queue");
		ix_tick(x.ix);
		sleep_ms(10);
	}
	ix_tick(x.ix);
	acct = xval(&x, "ipfix_records") + xval(&x, "ipfix_queue");
	assert_true(acct < (uint64_t)n);	/* some sent, not acked */
	assert_int_equal(xval(&x, "ipfix_dropped"), 0);
	assert_int_not_equal(cfd = accept(lfd, NULL, NULL), -1);
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);		/* a reset, its buffer unread */
	close(lfd);
	for (int i = 0; i < 100 && xval(&x, "ipfix_up") == 1; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	assert_true(xval(&x, "ipfix_dropped") > 0);
	assert_int_equal(xval(&x, "ipfix_records") + xval(&x, "ipfix_dropped") +
	    xval(&x, "ipfix_queue"), (uint64_t)n);
	snprintf(want, sizeof(want), "ipfix %s: %llu records sent but not "
	    "acknowledged when the connection broke, %llu dropped in all", url,
	    (unsigned long long)xval(&x, "ipfix_dropped"),
	    (unsigned long long)xval(&x, "ipfix_dropped"));
	assert_string_equal(x.f.log, want);
	ix_free(x.ix);
}

/*
 * TCP: a message counts as sent once its last byte is acknowledged, not
 * one byte before (tcpi_bytes_acked counts the SYN too).  The collector
 * reads a message of 3 records whole; while its host has acknowledged
 * all but the message's last byte, the records are not sent, and when the
 * connection breaks then, they count as dropped.  Acknowledged whole, the
 * records of the next message count as sent.
 */
/* After test_tcp_acked_whole, passed or not: the kernel's count again. */
static int
ack_whole(void **st)
{
	(void)st;
	ack_short = 0;
	return 0;
}

static void
test_tcp_acked_whole(void **st)
{
	struct xinst x;
	struct ft_flow f;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint8_t buf[65536];
	char url[64], want[160];
	uint16_t port = 0;
	int lfd, cfd;

	(void)st;
	lfd = tcp_listener(&port);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	ack_short = 1;
	for (int i = 0; i < 3; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	assert_int_not_equal(cfd = accept(lfd, NULL, NULL), -1);
	for (int i = 0; i < 20 && xval(&x, "ipfix_queue") > 0; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	assert_true(recv_stream(cfd, buf, sizeof(buf)) > 0);
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);		/* a reset */
	for (int i = 0; i < 100 && xval(&x, "ipfix_up") == 1; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	assert_int_equal(xval(&x, "ipfix_dropped"), 3);
	snprintf(want, sizeof(want), "ipfix %s: 3 records sent but not "
	    "acknowledged when the connection broke, 3 dropped in all", url);
	assert_string_equal(x.f.log, want);

	/* After the back-off (1 s), a new connection, acknowledged whole. */
	ack_short = 0;
	for (int i = 0; i < 2; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	for (int i = 0; i < 300 && xval(&x, "ipfix_queue") > 0; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_not_equal(cfd = accept(lfd, NULL, NULL), -1);
	assert_true(recv_stream(cfd, buf, sizeof(buf)) > 0);
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_records"), 2);
	assert_int_equal(xval(&x, "ipfix_dropped"), 3);
	ix_free(x.ix);
	close(cfd);
	close(lfd);
}

/*
 * TCP, collector absent: the connect fails, the status says so, records
 * wait in the queue and the ones beyond it are dropped and counted.  The
 * collector comes: after the back-off, the queued records arrive, after
 * templates, and the status clears.
 */
static void
test_tcp_queue(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t *buf = malloc(1 << 20);
	char url[64], want[FAKE_TEXT];
	size_t len;
	uint16_t port = 0;
	int lfd, cfd;
	const char *more[] = { "ipfix_queue=16", NULL };

	(void)st;
	lfd = tcp_listener(&port);
	close(lfd);		/* the port, with nobody on it */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	ix_tick(x.ix);
	x_tick_until_status(&x);
	snprintf(want, sizeof(want), "ipfix %s: connect: Connection "
	    "refused; 0 records wait", url);
	assert_string_equal(x.f.status, want);
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	for (int i = 0; i < 20; i++) {
		mk_flow(&f, i, i % 2);
		add(x.ix, &f, FT_IDLE);
	}
	assert_int_equal(xval(&x, "ipfix_queue"), 16);
	assert_int_equal(xval(&x, "ipfix_dropped"), 4);
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	/*
	 * The first record dropped is logged, not the 3 after it, with the
	 * cause the status shows: the log alone says why.
	 */
	assert_int_equal(x.f.nlog, 1);
	snprintf(want, sizeof(want), "ipfix %s: the queue (ipfix_queue 16) "
	    "is full: records are dropped until it takes one again (connect: "
	    "Connection refused)", url);
	assert_string_equal(x.f.log, want);

	lfd = tcp_listener(&port);
	/* The back-off is 1 s after the first failure. */
	for (int i = 0; i < 300 && xval(&x, "ipfix_records") < 16; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_records"), 16);
	assert_int_equal(xval(&x, "ipfix_reconnects"), 1);
	assert_int_equal(xval(&x, "ipfix_up"), 1);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	assert_string_equal(x.f.status, "");
	/*
	 * The run's end, logged at a tick once the queue has room and a
	 * second has passed since its start.
	 */
	snprintf(want, sizeof(want), "ipfix %s: 4 records dropped while the "
	    "queue was full, 4 dropped in all", url);
	for (int i = 0; i < 150 && strcmp(x.f.log, want) != 0; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_string_equal(x.f.log, want);
	assert_int_not_equal(cfd = accept(lfd, NULL, NULL), -1);
	len = recv_stream(cfd, buf, 1 << 20);
	decode_stream(d, buf, len);
	assert_int_equal(d->n, 16);
	assert_int_equal(d->with_templates, 1);
	/* The 4 dropped took numbers: a gap of 4 at the collector. */
	assert_int_equal(d->seq[0], 4);
	for (int i = 0; i < 16; i++)
		check_rec(&d->r[i], i, i % 2, 1, ix_domain(x.ix), 0);

	/*
	 * The collector goes away: the next tick sees the close, and what
	 * comes meanwhile waits for the next connection, which sends the
	 * templates again.
	 */
	close(cfd);
	close(lfd);
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	snprintf(want, sizeof(want), "ipfix %s: the collector closed the "
	    "connection: Connection reset by peer; 0 records wait", url);
	assert_string_equal(x.f.status, want);
	for (int i = 20; i < 25; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_ACTIVE);
	}
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_queue"), 5);
	lfd = tcp_listener(&port);
	for (int i = 0; i < 500 && xval(&x, "ipfix_records") < 21; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_records"), 21);
	assert_int_not_equal(cfd = accept(lfd, NULL, NULL), -1);
	memset(d, 0, sizeof(*d));
	len = recv_stream(cfd, buf, 1 << 20);
	decode_stream(d, buf, len);
	assert_int_equal(d->n, 5);
	assert_int_equal(d->with_templates, 1);
	/* Numbered on from the 4 dropped and the 16 sent before. */
	assert_int_equal(d->seq[0], 20);
	for (int i = 0; i < 5; i++)
		check_rec(&d->r[i], 20 + i, 0, 2, ix_domain(x.ix), 0);
	assert_int_equal(xval(&x, "ipfix_dropped"), 4);
	assert_string_equal(x.f.status, "");

	/* At close what cannot go out is dropped and counted. */
	close(cfd);
	close(lfd);
	ix_tick(x.ix);
	mk_flow(&f, 1, 0);
	add(x.ix, &f, FT_SHUTDOWN);
	ix_drain(x.ix, 200000000ULL);
	assert_int_equal(xval(&x, "ipfix_dropped"), 5);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	ix_free(x.ix);
	free(buf);
	free(d);
}

/* The two halves of the word in host memory. */
#define WAITING(w)	((uint32_t)(w))
#define NEXT_SEQ(w)	((uint32_t)((w) >> 32))

/*
 * A successor on x's counters and *waiting: after it attaches, dropped
 * records in all, nothing waiting, its records numbered from seq, and log
 * its latest line (NULL: none checked).
 */
static struct ix *
successor(struct xinst *x, uint64_t *waiting, uint64_t dropped,
    uint32_t seq, const char *log)
{
	struct ix *ix;

	assert_non_null(ix = ix_open(&x->f.pub, &x->o));
	ix_attach(ix, waiting);
	assert_int_equal(xval(x, "ipfix_dropped"), dropped);
	assert_int_equal(WAITING(*waiting), 0);
	assert_int_equal(NEXT_SEQ(*waiting), seq);
	if (log != NULL)
		assert_string_equal(x->f.log, log);
	return ix;
}

/*
 * A worker that dies with records waiting: their number is in host memory
 * (here `waiting`), and its successor, on the same counters, counts them
 * as dropped and says so; a clean close leaves nothing to count.
 */
static void
test_crash_queue(void **st)
{
	struct xinst x;
	struct ix *next;
	struct ft_flow f;
	char url[64], want[FAKE_TEXT];
	struct decoded *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(65536);
	uint64_t waiting = 0;
	uint16_t port = 0;
	size_t len;
	int lfd, nmsg;
	const char *small[] = { "ipfix_queue=16", NULL };

	(void)st;
	assert_non_null(d);
	assert_non_null(buf);
	lfd = tcp_listener(&port);
	close(lfd);		/* the port, with nobody on it */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	ix_attach(x.ix, &waiting);
	assert_int_equal(xval(&x, "ipfix_dropped"), 0);
	for (int i = 0; i < 7; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
		assert_int_equal(WAITING(waiting), (uint64_t)i + 1);
		assert_int_equal(NEXT_SEQ(waiting), (uint64_t)i + 1);
	}
	ix_tick(x.ix);
	assert_int_equal(WAITING(waiting), 7);
	assert_int_equal(xval(&x, "ipfix_queue"), 7);

	/*
	 * Killed: no drain, no close; the successor opens, and numbers its
	 * records after the 7 lost.
	 */
	snprintf(want, sizeof(want), "ipfix %s: 7 records lost with a worker "
	    "that died before it sent them", url);
	next = successor(&x, &waiting, 7, 7, want);
	ix_free(x.ix);

	/*
	 * Records, then a clean close: what it drops at close keeps its
	 * number, and the next one finds nothing lost.
	 */
	mk_flow(&f, 1, 0);
	add(next, &f, FT_IDLE);
	assert_int_equal(WAITING(waiting), 1);
	assert_int_equal(NEXT_SEQ(waiting), 8);
	ix_drain(next, 0);
	assert_int_equal(WAITING(waiting), 0);
	assert_int_equal(NEXT_SEQ(waiting), 8);
	assert_int_equal(xval(&x, "ipfix_dropped"), 8);
	ix_free(next);
	ix_free(successor(&x, &waiting, 8, 8, NULL));

	/*
	 * TCP: the queue and the messages not yet acknowledged (256 of 227
	 * records at most) can hold more than the queue alone.  The number
	 * goes on past 2^32 as IPFIX has it, modulo.
	 */
	waiting = (uint64_t)0xfffffff0 << 32 | 4200;
	ix_free(successor(&x, &waiting, 8 + 4200, 0xfffffff0, NULL));

	/*
	 * More than the queue and the unacknowledged messages hold is no
	 * count: ignored, and said so; numbered from 0.
	 */
	waiting = (uint64_t)5 << 32 | 70000;
	snprintf(want, sizeof(want), "ipfix %s: host memory says 70000 "
	    "records were waiting, more than ipfix_queue holds: ignored", url);
	ix_free(successor(&x, &waiting, 8 + 4200, 0, want));

	/*
	 * A queue of 16 sends a message at 8, but one that filled while
	 * the unacknowledged messages were as many as kept goes out whole
	 * when one is acknowledged: 256 messages of 16 and the queue's 16
	 * are a count.
	 */
	x_open(&x, url, small);
	waiting = (uint64_t)9 << 32 | (16 + 256 * 16);
	ix_free(successor(&x, &waiting, 16 + 256 * 16, 9, NULL));
	ix_free(x.ix);

	/*
	 * UDP: the records of a message sent but not confirmed yet are in
	 * host memory too, neither sent nor dropped until the next pump.
	 */
	lfd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	waiting = 0;
	ix_attach(x.ix, &waiting);
	for (int i = 0; i < 3; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	assert_int_equal(WAITING(waiting), 3);
	snprintf(want, sizeof(want), "ipfix %s: 3 records lost with a worker "
	    "that died before it sent them", url);
	/* They went out, numbered 0 to 2: the successor goes on at 3. */
	next = successor(&x, &waiting, 3, 3, want);
	ix_free(x.ix);
	memset(d, 0, sizeof(*d));
	while (d->n < 3 && (len = recv_dgram(lfd, buf, 65536)) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 3);
	for (int i = 0; i < d->messages; i++)
		assert_int_equal(d->seq[i], 0);
	nmsg = d->messages;

	/*
	 * Two records queued, not sent, when it dies too: the next successor
	 * numbers its records from 5, and the collector sees a gap of the
	 * two it never got.
	 */
	for (int i = 3; i < 5; i++) {
		mk_flow(&f, i, 0);
		add(next, &f, FT_IDLE);
	}
	snprintf(want, sizeof(want), "ipfix %s: 2 records lost with a worker "
	    "that died before it sent them", url);
	x.ix = successor(&x, &waiting, 5, 5, want);
	ix_free(next);
	mk_flow(&f, 5, 0);
	add(x.ix, &f, FT_IDLE);
	ix_tick(x.ix);
	while (d->n < 4 && (len = recv_dgram(lfd, buf, 65536)) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 4);
	assert_true(d->messages > nmsg);
	for (int i = nmsg; i < d->messages; i++)
		assert_int_equal(d->seq[i], 5);
	check_rec(&d->r[3], 5, 0, 1, ix_domain(x.ix), 0);
	ix_free(x.ix);
	close(lfd);
	free(buf);
	free(d);
}

/*
 * UDP, nobody on the port: the first message goes out (and is lost), the
 * refusal that comes back sets the status; then records wait, the rest
 * dropped.  A collector appears: after the back-off the queue goes out,
 * templates first, and the status clears once a send is not refused.
 */
static void
test_udp_refused(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64], want[160];
	size_t len;
	uint16_t port;
	uint64_t lost;
	int fd;
	const char *more[] = { "ipfix_queue=16", NULL };

	(void)st;
	fd = udp_listener(&port);
	close(fd);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	ix_tick(x.ix);
	assert_int_equal(xval(&x, "ipfix_up"), 1);
	mk_flow(&f, 0, 0);
	add(x.ix, &f, FT_IDLE);
	ix_tick(x.ix);
	x_tick_until_status(&x);
	/*
	 * Over loopback the refusal comes back within the send itself, and
	 * the record stays; were the send to succeed, the refusal found
	 * later drops the record.  Never counted as sent.
	 */
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	lost = xval(&x, "ipfix_dropped");
	assert_true(lost <= 1);
	snprintf(want, sizeof(want), "ipfix %s: send: Connection refused; "
	    "%u records wait", url, (unsigned)(1 - lost));
	assert_string_equal(x.f.status, want);
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	for (int i = 1; i <= 20; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	/* 21 records, or 20 after the one dropped, for a queue of 16. */
	assert_int_equal(xval(&x, "ipfix_queue"), 16);
	assert_int_equal(xval(&x, "ipfix_dropped"), 5);

	/* The same port, now with a listener. */
	fd = udp_bound(port, &port);
	/* The back-off, 1 s, then the templates alone for 2 s (the build's). */
	for (int i = 0; i < 800 && xval(&x, "ipfix_records") < 16; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_records"), 16);
	assert_int_equal(xval(&x, "ipfix_reconnects"), 1);
	ix_tick(x.ix);		/* not refused: working */
	assert_string_equal(x.f.status, "");
	assert_int_equal(xval(&x, "ipfix_up"), 1);
	while (d->n < 16 && (len = recv_dgram(fd, buf, sizeof(buf))) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 16);
	assert_int_equal(d->with_templates, 1);
	for (int i = 0; i < 16; i++)
		check_rec(&d->r[i], i + (int)lost, 0, 1, ix_domain(x.ix), 0);
	ix_free(x.ix);
	close(fd);
	free(d);
}

/*
 * UDP, the collector gone in the middle of a session: the next message
 * goes out (the send works) and is refused, the refusal seen at the next
 * pump.  Its records were lost: they count as dropped, not as sent, and a
 * line says so.  At close, a last message is checked the same way.
 */
static void
test_udp_refused_later(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64], want[160];
	size_t len;
	uint16_t port;
	int fd;

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	for (int i = 0; i < 3; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	while (d->n < 3 && (len = recv_dgram(fd, buf, sizeof(buf))) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 3);
	ix_tick(x.ix);		/* not refused: taken */
	assert_int_equal(xval(&x, "ipfix_records"), 3);

	close(fd);
	for (int i = 3; i < 8; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	x_send_refused(&x, url);
	assert_int_equal(xval(&x, "ipfix_records"), 3);
	assert_int_equal(xval(&x, "ipfix_dropped"), 5);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	snprintf(want, sizeof(want), "ipfix %s: 5 records refused by the "
	    "collector, 5 dropped in all", url);
	assert_string_equal(x.f.log, want);
	ix_free(x.ix);

	/* The last message before a close: refused, counted as dropped. */
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	mk_flow(&f, 0, 0);
	add(x.ix, &f, FT_IDLE);
	ix_tick(x.ix);
	while ((len = recv_dgram(fd, buf, sizeof(buf))) > 0 &&
	    xval(&x, "ipfix_messages") < 2)
		;
	close(fd);
	for (int i = 1; i < 3; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_drain(x.ix, 500000000ULL);
	assert_int_equal(xval(&x, "ipfix_records"), 1);
	assert_int_equal(xval(&x, "ipfix_dropped"), 2);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);
	ix_free(x.ix);
	free(d);
}

/*
 * UDP, the collector gone while a worker has nothing more to send: the
 * refusal empties the queue and sets the status.  The collector comes
 * back and no record follows: the next try sends the templates alone,
 * and once they are not refused the status clears and ipfix_up is 1
 * again, without waiting for a record.
 */
static void
test_udp_refused_idle(void **st)
{
	struct xinst x;
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64];
	uint16_t port;
	int fd;

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, NULL);
	mk_flow(&f, 0, 0);
	add(x.ix, &f, FT_IDLE);
	ix_tick(x.ix);
	ix_tick(x.ix);		/* not refused: taken */
	assert_int_equal(xval(&x, "ipfix_records"), 1);
	close(fd);
	mk_flow(&f, 1, 0);
	add(x.ix, &f, FT_IDLE);
	x_send_refused(&x, url);
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	assert_int_equal(xval(&x, "ipfix_queue"), 0);

	fd = udp_bound(port, &port);
	/* The back-off after the first failure is 1 s, then 2 s quiet. */
	for (int i = 0; i < 800 && x.f.status[0] != '\0'; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_string_equal(x.f.status, "");
	assert_int_equal(xval(&x, "ipfix_up"), 1);
	assert_int_equal(xval(&x, "ipfix_reconnects"), 1);
	assert_int_equal(xval(&x, "ipfix_records"), 1);
	assert_int_equal(xval(&x, "ipfix_dropped"), 1);
	assert_true(recv_dgram(fd, buf, sizeof(buf)) > 0);
	ix_free(x.ix);
	close(fd);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * UDP, a collector that answers late or now and then: a try after a
 * failure whose first datagram draws no error by the next tick proves
 * nothing (a neighbour that does not answer is reported after 3 s).  The
 * try sends the templates alone; the status stays, ipfix_up stays 0 and
 * the records wait until the quiet time (5 s; 2 s in this build) passes
 * without an error.  A failure after
 * that, before the exporter has worked for a minute, doubles the
 * back-off again instead of starting it at 1 s: a path that fails now
 * and then is tried less and less often, not every other second.
 */
static void
test_udp_late_error(void **st)
{
	struct xinst x;
	struct decoded *d = calloc(1, sizeof(*d));
	struct ft_flow f;
	uint8_t buf[65536];
	char url[64];
	size_t len;
	uint64_t q0, t0, sent;
	uint16_t port;
	int fd, i;
	const char *more[] = { "ipfix_queue=16", NULL };

	(void)st;
	fd = udp_listener(&port);
	close(fd);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	x_open(&x, url, more);
	ix_tick(x.ix);
	for (i = 0; i < 3; i++) {
		mk_flow(&f, i, 0);
		add(x.ix, &f, FT_IDLE);
	}
	ix_tick(x.ix);
	x_tick_until_status(&x);
	assert_string_not_equal(x.f.status, "");
	q0 = xval(&x, "ipfix_queue");

	/* The collector takes the next try's datagram. */
	fd = udp_bound(port, &port);
	for (i = 0; i < 300 && xval(&x, "ipfix_reconnects") < 1; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_reconnects"), 1);
	sent = xval(&x, "ipfix_messages");
	for (i = 0; i < 50; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	/* Half the quiet time and many ticks later: not known to work. */
	assert_string_not_equal(x.f.status, "");
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	assert_int_equal(xval(&x, "ipfix_queue"), q0);
	assert_int_equal(xval(&x, "ipfix_messages"), sent);
	while ((len = recv_dgram(fd, buf, sizeof(buf))) > 0) {
		decode_msg(d, buf, len);
		if (d->messages == 1)
			break;
	}
	assert_int_equal(d->messages, 1);
	assert_int_equal(d->with_templates, 1);
	assert_int_equal(d->n, 0);

	/*
	 * Gone again: once the quiet time passes the records go out and are
	 * refused.
	 * The next try comes 2 s later, not 1.
	 */
	close(fd);
	for (i = 0; i < 600 && xval(&x, "ipfix_messages") == sent; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_true(xval(&x, "ipfix_messages") > sent);
	x_tick_until_status(&x);
	assert_string_not_equal(x.f.status, "");
	assert_int_equal(xval(&x, "ipfix_records"), 0);
	assert_int_equal(xval(&x, "ipfix_dropped") + xval(&x, "ipfix_queue"),
	    3);
	t0 = mono_ns();
	for (i = 0; i < 400 && xval(&x, "ipfix_reconnects") < 2; i++) {
		sleep_ms(10);
		ix_tick(x.ix);
	}
	assert_int_equal(xval(&x, "ipfix_reconnects"), 2);
	assert_true(mono_ns() - t0 >= 1900000000ULL);
	assert_int_equal(xval(&x, "ipfix_up"), 0);
	ix_free(x.ix);
	free(d);
}

/*
 * Through the plugin: ipfix without output, worker 1 of 2; a UDP flow's
 * frames, then close: its record goes out as shutdown, from worker 1's
 * domain, with the frames' counts.
 */
static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
feed_udp(void *state, int rev, uint32_t payload, uint64_t ts)
{
	uint8_t b[256] = { 0 };
	uint8_t a[4] = { 198, 18, 0, 1 }, z[4] = { 198, 18, 0, 2 };
	struct ringfan_packet p;
	uint32_t n = 14 + 20 + 8 + payload;

	memset(b, 0xff, 6);
	put16(b + 12, 0x0800);
	b[14] = 0x45;
	put16(b + 16, 20 + 8 + payload);
	b[22] = 64;
	b[23] = 17;
	memcpy(b + 26, rev ? z : a, 4);
	memcpy(b + 30, rev ? a : z, 4);
	put16(b + 34, rev ? 53 : 5353);
	put16(b + 36, rev ? 5353 : 53);
	put16(b + 38, 8 + payload);
	memset(&p, 0, sizeof(p));
	p.data = b;
	p.caplen = p.len = n;
	p.ts_ns = ts;
	p.linktype = 1;
	assert_int_equal(ringfan_plugin.packet(state, &p), RINGFAN_CONTINUE);
}

static void
test_plugin(void **st)
{
	struct fake_ctx f;
	struct decoded *d = calloc(1, sizeof(*d));
	uint8_t buf[65536];
	char url[80];
	const char *opts[] = { url, "observation_domain=5000", NULL };
	void *mem, *state;
	size_t len;
	uint16_t port;
	int fd;

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "ipfix=udp://127.0.0.1:%u", port);
	fake_ctx_init(&f, opts);
	f.pub.worker_id = 1;
	f.pub.worker_count = 2;
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	mem = calloc(1, f.mem_size);
	fake_ctx_memory(&f, mem, RINGFAN_MEMORY_FRESH);
	assert_int_equal(ringfan_plugin.open(&f.pub, &state), RINGFAN_OK);
	assert_null(fake_ctx_unasked(&f));
	feed_udp(state, 0, 10, T0);
	feed_udp(state, 1, 100, T0 + 5000000);
	feed_udp(state, 0, 20, T0 + 7000000);
	ringfan_plugin.close(state);
	assert_int_equal(fake_ctx_value(&f, "ipfix_records"), 1);
	assert_int_equal(fake_ctx_value(&f, "records"), 1);
	assert_int_equal(fake_ctx_value(&f, "shutdown"), 1);
	while (d->n < 1 && (len = recv_dgram(fd, buf, sizeof(buf))) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 1);
	assert_int_equal(d->r[0].domain, 5001);
	assert_int_equal(d->r[0].v[E_SPORT], 5353);
	assert_int_equal(d->r[0].v[E_DPORT], 53);
	assert_int_equal(d->r[0].v[E_PROTO], 17);
	assert_int_equal(d->r[0].v[E_PKT], 2);
	assert_int_equal(d->r[0].v[E_OCT], (14 + 28) * 2 + 30);
	assert_int_equal(d->r[0].v[E_RPKT], 1);
	assert_int_equal(d->r[0].v[E_ROCT], 14 + 28 + 100);
	assert_int_equal(d->r[0].v[E_START], T0 / 1000000);
	assert_int_equal(d->r[0].v[E_END], T0 / 1000000 + 7);
	assert_int_equal(d->r[0].v[E_REASON], 4);
	assert_int_equal(d->r[0].v[E_PROCESS], 1);
	assert_int_equal(d->r[0].v[E_FLAGS], 0);
	free(mem);
	close(fd);
	free(d);
}

/*
 * Through the plugin, frames out of time order across an active timeout:
 * each IPFIX record's start and end are those of the frames it counts,
 * as in the JSON records.
 */
static void
test_plugin_restart(void **st)
{
	struct fake_ctx f;
	struct decoded *d = calloc(1, sizeof(*d));
	uint8_t buf[65536];
	char url[80];
	const char *opts[] = { url, "active_timeout=1000s", NULL };
	const uint64_t s = 1000000000ULL;
	void *mem, *state;
	size_t len;
	uint16_t port;
	int fd;

	(void)st;
	fd = udp_listener(&port);
	snprintf(url, sizeof(url), "ipfix=udp://127.0.0.1:%u", port);
	fake_ctx_init(&f, opts);
	assert_int_equal(ringfan_plugin.check(&f.pub), RINGFAN_OK);
	mem = calloc(1, f.mem_size);
	fake_ctx_memory(&f, mem, RINGFAN_MEMORY_FRESH);
	assert_int_equal(ringfan_plugin.open(&f.pub, &state), RINGFAN_OK);
	feed_udp(state, 0, 10, T0 + 1000 * s);
	feed_udp(state, 0, 10, T0);		/* due at T0 + 1000 s */
	feed_udp(state, 1, 100, T0 + 1 * s);	/* active first; restarts */
	feed_udp(state, 0, 20, T0 + 2 * s);
	ringfan_plugin.close(state);
	assert_int_equal(fake_ctx_value(&f, "ipfix_records"), 2);
	while (d->n < 2 && (len = recv_dgram(fd, buf, sizeof(buf))) > 0)
		decode_msg(d, buf, len);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->r[0].v[E_REASON], 2);
	assert_int_equal(d->r[0].v[E_PKT], 2);
	assert_int_equal(d->r[0].v[E_RPKT], 0);
	assert_int_equal(d->r[0].v[E_START], T0 / 1000000);
	assert_int_equal(d->r[0].v[E_END], (T0 + 1000 * s) / 1000000);
	assert_int_equal(d->r[1].v[E_REASON], 4);
	assert_int_equal(d->r[1].v[E_PKT], 1);
	assert_int_equal(d->r[1].v[E_RPKT], 1);
	assert_int_equal(d->r[1].v[E_START], (T0 + 1 * s) / 1000000);
	assert_int_equal(d->r[1].v[E_END], (T0 + 2 * s) / 1000000);
	free(mem);
	close(fd);
	free(d);
}

/* test_udp_icmp_errors could not run (no root): a skip, not a pass. */
static bool icmp_skipped;
/* The process runs in a network namespace of its own (private_net()). */
static bool own_net;

/* The one's complement sum of RFC 1071. */
static uint16_t
inet_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len % 2)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * UDP, an ICMP error other than port unreachable answering a message: a
 * hop's "fragmentation needed" (EMSGSIZE), "network administratively
 * prohibited" (ENETUNREACH), "protocol unreachable" (ENOPROTOOPT), "host
 * unreachable" (EHOSTUNREACH), "network unreachable" (ENETUNREACH).  The
 * datagram did not get there: its records count as dropped, not as sent,
 * and a line says why.  The errors are made here with a raw socket, in the
 * network namespace of the test's own (root only; skipped without).
 */
static void
test_udp_icmp_errors(void **st)
{
	static const struct { uint8_t code; const char *err; } icmp[] = {
		{ 4, "Message too long" },
		{ 9, "Network is unreachable" },
		{ 2, "Protocol not available" },
		/*
		 * Soft errors to the kernel, which a UDP socket hears only
		 * with IP_RECVERR: a router's host or network unreachable,
		 * and the kernel's own host unreachable when the collector's
		 * neighbour does not answer.
		 */
		{ 1, "No route to host" },
		{ 0, "Network is unreachable" },
	};
	struct xinst x;
	struct ft_flow f;
	struct sockaddr_in from, to = { .sin_family = AF_INET };
	socklen_t fl;
	uint8_t buf[65536], pkt[36];
	char url[64], want[200];
	uint16_t port;
	ssize_t n;
	int fd, raw;

	(void)st;
	if (!own_net) {
		/* Without root: the program then exits 77, not 0. */
		assert_int_not_equal(geteuid(), 0);
		icmp_skipped = true;
		skip();
	}
	assert_int_not_equal(raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP),
	    -1);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t c = 0; c < sizeof(icmp) / sizeof(icmp[0]); c++) {
		fd = udp_listener(&port);
		snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
		x_open(&x, url, NULL);
		mk_flow(&f, 0, 0);
		add(x.ix, &f, FT_IDLE);
		ix_tick(x.ix);		/* templates, then the record */
		for (int m = 0; m < 2; m++) {
			fl = sizeof(from);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fl);
			assert_true(n > 0);
		}
		assert_int_equal(xval(&x, "ipfix_messages"), 2);
		/* Type 3, the code, then the datagram's IP and UDP headers. */
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 3;
		pkt[1] = icmp[c].code;
		if (icmp[c].code == 4)
			put16(pkt + 6, 1300);	/* the next hop's MTU */
		pkt[8] = 0x45;
		pkt[10] = (uint8_t)((n + 28) >> 8);
		pkt[11] = (uint8_t)(n + 28);
		pkt[14] = 0x40;			/* DF */
		pkt[16] = 64;
		pkt[17] = IPPROTO_UDP;
		memcpy(pkt + 20, &(uint32_t){ htonl(INADDR_LOOPBACK) }, 4);
		memcpy(pkt + 24, &(uint32_t){ htonl(INADDR_LOOPBACK) }, 4);
		put16(pkt + 18, inet_sum(pkt + 8, 20));
		memcpy(pkt + 28, &from.sin_port, 2);
		put16(pkt + 30, port);
		put16(pkt + 32, (unsigned)(n + 8));
		put16(pkt + 2, inet_sum(pkt, sizeof(pkt)));
		assert_int_equal(sendto(raw, pkt, sizeof(pkt), 0,
		    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(pkt));
		sleep_ms(20);
		ix_tick(x.ix);
		assert_int_equal(xval(&x, "ipfix_records"), 0);
		assert_int_equal(xval(&x, "ipfix_dropped"), 1);
		snprintf(want, sizeof(want), "ipfix %s: 1 records lost on the "
		    "way (%s), 1 dropped in all", url, icmp[c].err);
		assert_string_equal(x.f.log, want);
		snprintf(want, sizeof(want), "ipfix %s: send: %s; 0 records "
		    "wait", url, icmp[c].err);
		assert_string_equal(x.f.status, want);
		ix_free(x.ix);
		close(fd);
	}
	close(raw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_udp_records),
		cmocka_unit_test(test_udp_refresh),
		cmocka_unit_test(test_tcp_queue),
		cmocka_unit_test(test_tcp_unacked),
		cmocka_unit_test_teardown(test_tcp_acked_whole, ack_whole),
		cmocka_unit_test(test_crash_queue),
		cmocka_unit_test(test_icmp_elements),
		cmocka_unit_test(test_udp_refused),
		cmocka_unit_test(test_udp_refused_later),
		cmocka_unit_test(test_udp_refused_idle),
		cmocka_unit_test(test_udp_late_error),
		cmocka_unit_test(test_plugin),
		cmocka_unit_test(test_plugin_restart),
		cmocka_unit_test(test_udp_icmp_errors),
	};
	int failed;

	own_net = private_net();
	failed = cmocka_run_group_tests(tests, NULL, NULL);

	return failed != 0 ? failed : icmp_skipped ? 77 : 0;
}

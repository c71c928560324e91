/*
 * flowtable: flow records as IPFIX (RFC 7011) to a collector, over UDP or
 * TCP.
 *
 * Each record is one RFC 5103 biflow: the forward elements describe the
 * flow's src (the endpoint of its first frame), the reverse ones (private
 * enterprise 29305) its other direction.  nfcapd reads the reverse octet
 * and packet counts as its "out" counts, so a flow stays one line there.
 * Templates 256 (IPv4) and 257 (IPv6) carry:
 *
 *	sourceIPv4Address / sourceIPv6Address, destination likewise,
 *	sourceTransportPort, destinationTransportPort (ICMP: type << 8 |
 *	code), icmpTypeCodeIPv4 / icmpTypeCodeIPv6 (the same for an ICMP or
 *	ICMPv6 flow, 0 for others), protocolIdentifier, vlanId (0:
 *	untagged), octetDeltaCount,
 *	packetDeltaCount, reverseOctetDeltaCount, reversePacketDeltaCount,
 *	flowStartMilliseconds, flowEndMilliseconds, reverseTcpControlBits,
 *	tcpControlBits (one octet each), flowEndReason, exportingProcessId
 *	(the worker)
 *
 * The observation domain of a worker is the capture's base (the option
 * observation_domain, by default derived from the capture's name) plus
 * the worker's id: each worker is a transport session of its own, with its
 * own sequence numbers, as a collector expects.  They are this file's, not
 * libfixbuf's (written into each message's header before it goes out), so
 * that they go on across reconnections and into a worker's successor
 * (ix_attach()), and so that every record made for the collector has one,
 * sent or dropped: a collector that checks them sees a gap for each record
 * it never got, wherever it was lost (RFC 7011 numbers the records sent;
 * numbering the dropped ones too is what makes the exporter's losses show
 * at the collector).
 *
 * The worker never waits for the collector.  Records wait in a ring of
 * ipfix_queue entries in the heap; a record that finds the ring full is
 * dropped and counted, and so are those a worker that dies leaves in it:
 * their number is kept in host memory too, and its successor counts them
 * (ix_attach()).  libfixbuf encodes a message into msg (an exporter
 * on a memory buffer, in manual mode), and the socket, non-blocking, is
 * this file's: a send that would block is tried again at the next tick.
 * The records of a message leave the ring only when the whole message has
 * gone out, so a TCP connection that breaks part way loses nothing: the
 * next connection encodes them again, after templates of its own.
 *
 * When the socket fails (refused, reset, unreachable), it is closed and
 * opened again after a back-off that doubles from 1 s to 60 s of the
 * monotonic clock; the status says why meanwhile.  Each new connection
 * starts a new libfixbuf session: templates first.  Over UDP templates go
 * out again every ipfix_template_refresh of the monotonic clock and every
 * ipfix_template_messages messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/errqueue.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fixbuf/public.h>

#include "flowtable.h"
#include "flowtable_ipfix.h"

#define IX_SEC		1000000000ULL
#define IX_TID_INT	0x1000		/* the internal template */
#define IX_TID_V4	256
#define IX_TID_V6	257
#define IX_UDP_MSG	1400		/* within a 1500-byte path */
#define IX_REC_V4	72		/* an IPv4 record, the smaller */
/*
 * Records a message of len bytes holds at most: IPv4 ones, after the
 * message header (16 bytes) and a set header (4).
 */
#define IX_MSG_RECS(len)	(((len) - 16 - 4) / IX_REC_V4)
/* Records in a UDP message at most: all unconfirmed at a time. */
#define IX_UDP_RECS	IX_MSG_RECS(IX_UDP_MSG)
#define IX_TCP_MSG	16384
#define IX_BACKOFF_MIN	(1 * IX_SEC)
#define IX_BACKOFF_MAX	(60 * IX_SEC)
#define IX_ROOM_WAIT	(10 * IX_SEC)	/* offline: a full queue waits */
/*
 * UDP, a try after a failure: the templates alone, and the records wait
 * until this long passes with no ICMP error.  The kernel reports a
 * neighbour that does not answer after about 3 s (3 probes, 1 s apart).
 */
#ifndef IX_UDP_QUIET	/* the unit test's build waits 2 s */
#define IX_UDP_QUIET	(5 * IX_SEC)
#endif
/* UDP: the back-off starts at 1 s again only after this long working. */
#define IX_UDP_STABLE	(60 * IX_SEC)
#define IX_UNACKED	256		/* TCP messages sent, not yet acked */
#define IX_QUEUE_MIN	16
#define IX_QUEUE_MAX	(1u << 20)

/*
 * One record as libfixbuf reads it (the internal template, host byte
 * order), which is also the queue's entry.  Both address families are
 * here; each external template takes its own.
 */
struct ix_rec {
	uint64_t	 octets;
	uint64_t	 packets;
	uint64_t	 rev_octets;
	uint64_t	 rev_packets;
	uint64_t	 start_ms;
	uint64_t	 end_ms;
	uint8_t		 src6[16];
	uint8_t		 dst6[16];
	uint32_t	 src4;
	uint32_t	 dst4;
	uint32_t	 process;
	uint16_t	 sport;
	uint16_t	 dport;
	uint16_t	 vlan;
	uint16_t	 icmp4;		/* type << 8 | code, ICMP only */
	uint16_t	 icmp6;		/* the same, ICMPv6 only */
	uint8_t		 flags;
	uint8_t		 rev_flags;
	uint8_t		 proto;
	uint8_t		 reason;
	uint8_t		 ipver;		/* in the padding: not exported */
	uint8_t		 pad[5];
};
_Static_assert(sizeof(struct ix_rec) == 112, "ix_rec has no holes");

/* In the order of struct ix_rec: the internal template is its layout. */
static fbInfoElementSpec_t ix_spec[] = {
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "sourceIPv6Address", 16, 0 },
	{ "destinationIPv6Address", 16, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "destinationIPv4Address", 4, 0 },
	{ "exportingProcessId", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "vlanId", 2, 0 },
	{ "icmpTypeCodeIPv4", 2, 0 },
	{ "icmpTypeCodeIPv6", 2, 0 },
	{ "tcpControlBits", 1, 0 },
	{ "reverseTcpControlBits", 1, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "paddingOctets", 6, 0 },
	FB_IESPEC_NULL
};

/*
 * The external templates: addresses first, as exporters usually order
 * them, then the rest.  Same elements as above without the padding.
 *
 * The TCP flags take one octet (RFC 7011's reduced-size encoding; a flow
 * keeps the 8 flags of the header's 13th octet, no more): pmacct reads
 * tcpControlBits only at that length, and finds no flags in two octets.
 * The reverse flags come before the forward ones: nfdump 1.7 takes any
 * reverse element but the counts for its forward one, and of the two
 * the later in the record wins.
 */
static const char *const ix_ext[] = {
	"sourceIPv4Address", "destinationIPv4Address",
	"sourceIPv6Address", "destinationIPv6Address",
	"sourceTransportPort", "destinationTransportPort",
	"icmpTypeCodeIPv4", "icmpTypeCodeIPv6",
	"protocolIdentifier", "vlanId",
	"octetDeltaCount", "packetDeltaCount",
	"reverseOctetDeltaCount", "reversePacketDeltaCount",
	"flowStartMilliseconds", "flowEndMilliseconds",
	"reverseTcpControlBits", "tcpControlBits",
	"flowEndReason", "exportingProcessId",
};

/* enum ft_reason to flowEndReason (RFC 7011 / IANA). */
static const uint8_t ix_reason[FT_NREASON] = {
	[FT_IDLE] = 1,		/* idle timeout */
	[FT_ACTIVE] = 2,	/* active timeout */
	[FT_END] = 3,		/* end of flow detected */
	[FT_EVICTED] = 5,	/* lack of resources */
	[FT_SHUTDOWN] = 4,	/* forced end */
	[FT_CLOCK] = 2,		/* active timeout: cut, the flow goes on */
};

enum { IX_DOWN, IX_CONNECTING, IX_UP };

enum {
	IC_RECORDS, IC_DROPPED, IC_RECONNECTS, IC_MESSAGES, IC_MAX
};

static const char *const ix_counter_names[IC_MAX] = {
	[IC_RECORDS] = "ipfix_records",
	[IC_DROPPED] = "ipfix_dropped",
	[IC_RECONNECTS] = "ipfix_reconnects",
	[IC_MESSAGES] = "ipfix_messages",
};

struct ix {
	struct ringfan_ctx	*ctx;
	struct ix_opts		 o;
	uint32_t		 domain;

	/* The ring: n records from head. */
	struct ix_rec		*q;
	uint32_t		 cap, head, n;

	/* libfixbuf: one session per connection. */
	fbInfoModel_t		*model;
	fBuf_t			*fbuf;
	int			 need_tmpl;
	/*
	 * UDP, a try after a failure: the templates went out alone at
	 * probe_ns (0: not yet), and the records wait for IX_UDP_QUIET
	 * without an error; closing: at a stop, which does not wait.
	 */
	int			 hold;
	int			 closing;
	uint64_t		 probe_ns;
	uint64_t		 good_ns;	/* UDP: working since */
	uint64_t		 tmpl_ns;	/* templates last sent */
	uint64_t		 msgs_since;	/* messages since then */

	/* The message on its way out: its records are q's first inflight. */
	uint8_t			*msg;
	size_t			 msgcap, msglen, off;
	uint32_t		 inflight;
	uint32_t		 batch;		/* records in a full message */
	uint32_t		 seq;		/* the next record's sequence no. */

	int			 fd;
	int			 state;
	int			 ever_up;	/* the next connect is a re-one */
	int			 failing;
	const char		*fail_what;	/* of the status, and */
	int			 fail_err;	/* its errno */
	int			 unconfirmed;	/* UDP: sent, not refused yet */
	uint32_t		 unconf_recs;	/* the records of that send */
	/*
	 * TCP: the messages the kernel took and the collector's host has
	 * not acknowledged yet, oldest first: where each ends in the bytes
	 * sent on the connection, and its records.  They count as sent once
	 * acknowledged (tcpi_bytes_acked), as dropped if the connection
	 * breaks first.
	 */
	struct {
		uint64_t	 end;
		uint32_t	 recs;
	}			 ua[IX_UNACKED];
	uint32_t		 ua_head, ua_n;
	uint32_t		 ua_recs;	/* theirs, in all */
	uint64_t		 sent_bytes;	/* on this connection */
	int			 offline;	/* RINGFAN_CTX_OFFLINE */
	int			 gave_up;	/* offline: waited in vain */
	/*
	 * Dropped at a full queue and not logged yet, since full_ns (the
	 * monotonic clock; 0: none), when the first of them was.
	 */
	uint64_t		 full_drops;
	uint64_t		 full_ns;
	uint64_t		 retry_ns;
	uint64_t		 backoff_ns;
	uint64_t		 connect_ns;	/* TCP: the connect began */

	uint64_t		*c[IC_MAX];
	uint64_t		*g_queue;
	uint64_t		*g_up;
	uint64_t		*waiting;	/* in host memory, or NULL */
};

static uint64_t
ix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IX_SEC + (uint64_t)ts.tv_nsec;
}

/* FNV-1a of the capture's name, its low 8 bits left to the worker ids. */
static uint32_t
ix_default_domain(const char *capture)
{
	uint32_t h = 2166136261u;

	for (const char *p = capture != NULL ? capture : ""; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h &= ~0xffu;
	return h != 0 ? h : 0x100;
}

/* "udp://HOST:PORT" or "tcp://HOST:PORT"; HOST an address, [v6] in brackets. */
static int
ix_parse_url(struct ringfan_ctx *ctx, struct ix_opts *o)
{
	const char *s = o->url, *h, *colon;
	char host[INET6_ADDRSTRLEN + 2], *end;
	size_t len;
	unsigned long port;

	if (strncmp(s, "udp://", 6) == 0)
		o->tcp = 0;
	else if (strncmp(s, "tcp://", 6) == 0)
		o->tcp = 1;
	else
		goto form;
	h = s + 6;
	if (*h == '[') {
		if ((colon = strstr(h, "]:")) == NULL)
			goto form;
		len = (size_t)(colon - h - 1);
		h++;
		colon++;
		o->family = AF_INET6;
	} else {
		if ((colon = strrchr(h, ':')) == NULL)
			goto form;
		len = (size_t)(colon - h);
		o->family = AF_INET;
	}
	if (len == 0 || len >= sizeof(host))
		goto addr;
	memcpy(host, h, len);
	host[len] = '\0';
	if (inet_pton(o->family, host, o->addr) != 1)
		goto addr;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port < 1 || port > 65535) {
		ctx->error(ctx, "ipfix: \"%s\": the port is not 1 to 65535", s);
		return -1;
	}
	o->port = (uint16_t)port;
	return 0;
form:
	ctx->error(ctx, "ipfix: \"%s\": not udp://HOST:PORT or tcp://HOST:PORT",
	    s);
	return -1;
addr:
	/* A name would need a resolver, which can block the worker. */
	ctx->error(ctx, "ipfix: \"%s\": HOST is not an IPv4 address or an "
	    "IPv6 address in brackets", s);
	return -1;
}

int
ix_options(struct ringfan_ctx *ctx, struct ix_opts *o)
{
	uint64_t def = ix_default_domain(ctx->capture);
	uint64_t nw = ctx->worker_count > 0 ? ctx->worker_count : 1;

	memset(o, 0, sizeof(*o));
	if (ctx->opt_string(ctx, "ipfix", NULL, &o->url) != 0 ||
	    ctx->opt_uint(ctx, "ipfix_queue", 4096, &o->queue) != 0 ||
	    ctx->opt_uint(ctx, "observation_domain", def, &o->domain) != 0 ||
	    ctx->opt_duration(ctx, "ipfix_template_refresh", 60 * IX_SEC,
	    &o->refresh_ns) != 0 ||
	    ctx->opt_uint(ctx, "ipfix_template_messages", 100,
	    &o->refresh_msgs) != 0)
		return -1;
	if (o->url != NULL && *o->url == '\0')
		o->url = NULL;
	if (o->url != NULL && ix_parse_url(ctx, o) != 0)
		return -1;
	if (o->queue < IX_QUEUE_MIN || o->queue > IX_QUEUE_MAX) {
		ctx->error(ctx, "ipfix_queue: %llu is not %u to %u records",
		    (unsigned long long)o->queue, IX_QUEUE_MIN, IX_QUEUE_MAX);
		return -1;
	}
	/* RFC 7011 reserves 0 for no domain in particular. */
	if (o->domain == 0) {
		ctx->error(ctx, "observation_domain: 0 is reserved by IPFIX "
		    "(RFC 7011); give 1 or more");
		return -1;
	}
	if (o->domain > UINT32_MAX - (nw - 1)) {
		ctx->error(ctx, "observation_domain: %llu and the worker ids "
		    "after it are not all below 2^32",
		    (unsigned long long)o->domain);
		return -1;
	}
	if (o->refresh_ns < IX_SEC || o->refresh_ns > 3600 * IX_SEC) {
		ctx->error(ctx, "ipfix_template_refresh: %llu ms is not 1 s to "
		    "1 h", (unsigned long long)(o->refresh_ns / 1000000));
		return -1;
	}
	if (o->refresh_msgs < 1 || o->refresh_msgs > 1000000) {
		ctx->error(ctx, "ipfix_template_messages: %llu is not 1 to "
		    "1000000", (unsigned long long)o->refresh_msgs);
		return -1;
	}
	return 0;
}

/* The libfixbuf state of one connection: templates, session, buffer. */
static void
ix_fb_free(struct ix *ix)
{
	if (ix->fbuf != NULL)
		fBufFree(ix->fbuf);	/* its session and exporter too */
	ix->fbuf = NULL;
}

static fbTemplate_t *
ix_template(struct ix *ix, int v6, GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(ix->model);
	fbInfoElementSpec_t one[2] = { FB_IESPEC_NULL, FB_IESPEC_NULL };
	const char *skip = v6 ? "IPv4" : "IPv6";

	for (size_t i = 0; i < sizeof(ix_ext) / sizeof(ix_ext[0]); i++) {
		if (strstr(ix_ext[i], skip) != NULL)
			continue;
		one[0].name = (char *)(uintptr_t)ix_ext[i];
		one[0].len_override = 0;
		/* Lengths as in the internal template. */
		for (size_t k = 0; ix_spec[k].name != NULL; k++)
			if (strcmp(ix_spec[k].name, ix_ext[i]) == 0)
				one[0].len_override = ix_spec[k].len_override;
		if (!fbTemplateAppendSpecArray(t, one, 0, err)) {
			fbTemplateFreeUnused(t);
			return NULL;
		}
	}
	return t;
}

static int
ix_fb_new(struct ix *ix, int at_open)
{
	fbSession_t *s;
	fbExporter_t *e;
	fbTemplate_t *t = NULL;
	GError *err = NULL;

	ix_fb_free(ix);
	s = fbSessionAlloc(ix->model);
	fbSessionSetDomain(s, ix->domain);
	t = fbTemplateAlloc(ix->model);
	if (!fbTemplateAppendSpecArray(t, ix_spec, 0, &err) ||
	    !fbSessionAddTemplate(s, TRUE, IX_TID_INT, t, &err))
		goto fail;
	t = NULL;
	if ((t = ix_template(ix, 0, &err)) == NULL ||
	    !fbSessionAddTemplate(s, FALSE, IX_TID_V4, t, &err))
		goto fail;
	t = NULL;
	if ((t = ix_template(ix, 1, &err)) == NULL ||
	    !fbSessionAddTemplate(s, FALSE, IX_TID_V6, t, &err))
		goto fail;
	e = fbExporterAllocBuffer(ix->msg, (uint16_t)ix->msgcap);
	ix->fbuf = fBufAllocForExport(s, e);
	fBufSetAutomaticMode(ix->fbuf, FALSE);
	if (!fBufSetInternalTemplate(ix->fbuf, IX_TID_INT, &err))
		goto fail;
	ix->need_tmpl = 1;
	return 0;
fail:
	if (at_open)
		ix->ctx->error(ix->ctx, "ipfix: libfixbuf: %s",
		    err != NULL ? err->message : "no reason given");
	else
		ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix: libfixbuf: "
		    "%s", err != NULL ? err->message : "no reason given");
	if (err != NULL)
		g_error_free(err);
	if (t != NULL)
		fbTemplateFreeUnused(t);
	if (ix->fbuf == NULL)
		fbSessionFree(s);
	ix_fb_free(ix);
	return -1;
}

/*
 * The records waiting, as the gauge shows them; host memory has those of
 * an unconfirmed UDP message too, neither sent nor dropped yet, in its low
 * 32 bits, and in the high 32 the sequence number a successor starts at:
 * the one the next record would get had the queue gone out.  One store, so
 * that a successor never finds one without the other.
 */
static void
ix_level(struct ix *ix)
{
	uint32_t waiting = ix->n + ix->unconf_recs + ix->ua_recs;

	*ix->g_queue = ix->n;
	if (ix->waiting != NULL)
		*(volatile uint64_t *)ix->waiting =
		    (uint64_t)(uint32_t)(ix->seq + ix->n) << 32 | waiting;
}

/*
 * The sequence number in the header of every message in msg (libfixbuf
 * starts a message of templates only ahead of the data when the templates
 * fill one): the records numbered before it, sent or dropped.
 */
static void
ix_stamp(struct ix *ix)
{
	size_t off = 0, len;

	while (off + 16 <= ix->msglen) {
		len = (size_t)ix->msg[off + 2] << 8 | ix->msg[off + 3];
		ix->msg[off + 8] = (uint8_t)(ix->seq >> 24);
		ix->msg[off + 9] = (uint8_t)(ix->seq >> 16);
		ix->msg[off + 10] = (uint8_t)(ix->seq >> 8);
		ix->msg[off + 11] = (uint8_t)ix->seq;
		if (len < 16)
			break;
		off += len;
	}
}

/*
 * TCP: the messages the collector's host acknowledged count as sent.
 * tcpi_bytes_acked counts the SYN too: the bytes of data are one fewer.
 * Without tcpi_bytes_acked (a kernel before 4.1) every one sent does.
 */
static void
ix_acked(struct ix *ix)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	uint64_t acked = UINT64_MAX;

	if (ix->ua_n == 0)
		return;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(ix->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= offsetof(struct tcp_info, tcpi_bytes_acked) +
	    sizeof(ti.tcpi_bytes_acked))
		acked = ti.tcpi_bytes_acked > 0 ? ti.tcpi_bytes_acked - 1 : 0;
	while (ix->ua_n > 0 && ix->ua[ix->ua_head].end <= acked) {
		*ix->c[IC_RECORDS] += ix->ua[ix->ua_head].recs;
		ix->ua_recs -= ix->ua[ix->ua_head].recs;
		ix->ua_head = (ix->ua_head + 1) % IX_UNACKED;
		ix->ua_n--;
	}
	ix_level(ix);
}

/* n records lost (`why`): counted as dropped, logged with the total. */
static void
ix_lost(struct ix *ix, uint32_t n, const char *why)
{
	*ix->c[IC_DROPPED] += n;
	ix_level(ix);
	ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix %s: %u records %s, "
	    "%llu dropped in all", ix->o.url, n, why,
	    (unsigned long long)*ix->c[IC_DROPPED]);
}

/*
 * TCP: the connection broke (or closes) with messages not acknowledged:
 * their records were lost with it (`why`), and count as dropped.
 */
static void
ix_unacked_lost(struct ix *ix, const char *why)
{
	uint32_t lost = ix->ua_recs;

	ix->ua_head = ix->ua_n = ix->ua_recs = 0;
	ix->sent_bytes = 0;
	if (lost > 0)
		ix_lost(ix, lost, why);
}

static void
ix_gauges(struct ix *ix)
{
	ix_level(ix);
	*ix->g_up = ix->state == IX_UP && !ix->failing;
}

struct ix *
ix_open(struct ringfan_ctx *ctx, const struct ix_opts *o)
{
	struct ix *ix;

	if ((ix = calloc(1, sizeof(*ix))) == NULL) {
		ctx->error(ctx, "ipfix: out of memory");
		return NULL;
	}
	ix->ctx = ctx;
	ix->o = *o;
	ix->fd = -1;
	ix->state = IX_DOWN;
	ix->offline = (ctx->flags & RINGFAN_CTX_OFFLINE) != 0;
	ix->domain = (uint32_t)(o->domain + ctx->worker_id);
	ix->cap = (uint32_t)o->queue;
	ix->msgcap = o->tcp ? IX_TCP_MSG : IX_UDP_MSG;
	ix->backoff_ns = IX_BACKOFF_MIN;
	for (int i = 0; i < IC_MAX; i++)
		if ((ix->c[i] = ctx->counter(ctx, ix_counter_names[i])) ==
		    NULL)
			goto fail;
	if ((ix->g_queue = ctx->gauge(ctx, "ipfix_queue")) == NULL ||
	    (ix->g_up = ctx->gauge(ctx, "ipfix_up")) == NULL)
		goto fail;
	if ((ix->q = calloc(ix->cap, sizeof(*ix->q))) == NULL ||
	    (ix->msg = malloc(ix->msgcap)) == NULL) {
		ctx->error(ctx, "ipfix: out of memory for %u records",
		    ix->cap);
		goto fail;
	}
	ix->model = fbInfoModelAlloc();
	if (ix_fb_new(ix, 1) != 0)
		goto fail;
	/*
	 * IPv4 records are the smaller ones: a message holds this many.  A
	 * send starts before the queue is half full, whatever its size.
	 */
	ix->batch = (uint32_t)IX_MSG_RECS(ix->msgcap);
	if (ix->batch > ix->cap / 2)
		ix->batch = ix->cap / 2;
	ix_gauges(ix);
	return ix;
fail:
	ix_free(ix);
	return NULL;
}

void
ix_free(struct ix *ix)
{
	if (ix == NULL)
		return;
	ix_fb_free(ix);
	if (ix->model != NULL)
		fbInfoModelFree(ix->model);
	if (ix->fd != -1)
		close(ix->fd);
	free(ix->q);
	free(ix->msg);
	free(ix);
}

uint32_t
ix_domain(const struct ix *ix)
{
	return ix->domain;
}

static void
ix_set_failing(struct ix *ix, const char *what, int err)
{
	ix->ctx->status(ix->ctx, "ipfix %s: %s: %s; %u records wait",
	    ix->o.url, what, strerror(err), ix->n);
	ix->failing = 1;
	ix->fail_what = what;
	ix->fail_err = err;
}

/* The collector takes what is sent: the status clears. */
static void
ix_working(struct ix *ix)
{
	/* UDP: after IX_UDP_STABLE of it (ix_udp_check). */
	if (ix->o.tcp)
		ix->backoff_ns = IX_BACKOFF_MIN;
	if (ix->failing) {
		ix->ctx->status(ix->ctx, NULL);
		ix->failing = 0;
	}
}

/*
 * UDP: the collector took the last message sent (no refusal came back
 * before the next send or pump): its records count as sent.
 */
static void
ix_confirmed(struct ix *ix)
{
	*ix->c[IC_RECORDS] += ix->unconf_recs;
	ix->unconf_recs = 0;
	ix->unconfirmed = 0;
	ix_level(ix);
}

/*
 * UDP: the socket failed with the last message unconfirmed.  A refusal
 * (ICMP port or host unreachable) comes back after the datagram that
 * caused it, on the next send or pump: that message was lost, and its
 * records count as dropped.  So does any other ICMP error that reaches
 * the socket (fragmentation needed, network prohibited, protocol
 * unreachable): each says a datagram sent did not get there.
 */
static void
ix_refused(struct ix *ix, int err)
{
	uint32_t lost = ix->unconf_recs;
	char why[96];

	ix->unconf_recs = 0;
	ix->unconfirmed = 0;
	if (lost == 0)
		return;
	if (err == ECONNREFUSED)
		snprintf(why, sizeof(why), "refused by the collector");
	else
		snprintf(why, sizeof(why), "lost on the way (%s)",
		    strerror(err));
	ix_lost(ix, lost, why);
}

/* The socket failed: closed, tried again after the back-off. */
static void
ix_fail(struct ix *ix, const char *what, int err, uint64_t now)
{
	if (ix->fd != -1 && ix->o.tcp) {
		/* What was acknowledged before it broke went through. */
		ix_acked(ix);
		ix_unacked_lost(ix, "sent but not acknowledged when the "
		    "connection broke");
	}
	if (ix->fd != -1)
		close(ix->fd);
	ix->fd = -1;
	ix->state = IX_DOWN;
	ix->msglen = ix->off = 0;
	ix->inflight = 0;
	/*
	 * The unconfirmed message is this socket's, not a later one's.  A
	 * refusal, a message too long for a hop (its datagrams go out with
	 * DF) or an unreachable protocol is what an ICMP answer leaves on a
	 * connected UDP socket; another error of a send (a local route, a
	 * firewall rule) is about the datagram being sent, and the one
	 * before went out.
	 */
	if (strcmp(what, "send") == 0 &&
	    (err == ECONNREFUSED || err == EHOSTUNREACH ||
	    err == ENETUNREACH || err == EMSGSIZE || err == ENOPROTOOPT))
		ix_refused(ix, err);
	else
		ix_confirmed(ix);
	ix->retry_ns = now + ix->backoff_ns;
	/* UDP: the next try sends the templates alone first. */
	ix->hold = !ix->o.tcp;
	ix->probe_ns = 0;
	ix->good_ns = 0;
	ix->backoff_ns = ix->backoff_ns * 2 > IX_BACKOFF_MAX ?
	    IX_BACKOFF_MAX : ix->backoff_ns * 2;
	ix_set_failing(ix, what, err);
}

/*
 * Over TCP a connection is the collector's answer: the status clears.
 * Over UDP only a send that works says so (ix_sent).
 */
static void
ix_connected(struct ix *ix)
{
	ix->state = IX_UP;
	if (ix->o.tcp)
		ix_working(ix);
}

static void
ix_connect(struct ix *ix, uint64_t now)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	struct sockaddr *sa;
	socklen_t salen;
	int type = (ix->o.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
	    SOCK_CLOEXEC;

	if (ix->ever_up)
		++*ix->c[IC_RECONNECTS];
	ix->ever_up = 1;
	if (ix->o.family == AF_INET) {
		memset(&a4, 0, sizeof(a4));
		a4.sin_family = AF_INET;
		a4.sin_port = htons(ix->o.port);
		memcpy(&a4.sin_addr, ix->o.addr, 4);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else {
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(ix->o.port);
		memcpy(&a6.sin6_addr, ix->o.addr, 16);
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	}
	if ((ix->fd = socket(ix->o.family, type, 0)) == -1) {
		ix_fail(ix, "socket", errno, now);
		return;
	}
	/*
	 * UDP: every ICMP error that answers a datagram, not only the ones
	 * the kernel calls hard.  Without this a host unreachable (a
	 * router's, or the kernel's own when the collector's neighbour does
	 * not answer: the collector's host is down on the same link) or a
	 * network unreachable never reaches the socket, and the records
	 * sent into it count as sent.
	 */
	if (!ix->o.tcp && setsockopt(ix->fd, ix->o.family == AF_INET ?
	    IPPROTO_IP : IPPROTO_IPV6, ix->o.family == AF_INET ? IP_RECVERR :
	    IPV6_RECVERR, &(int){ 1 }, sizeof(int)) != 0) {
		ix_fail(ix, "socket", errno, now);
		return;
	}
	/* A new transport session: new templates. */
	if (ix_fb_new(ix, 0) != 0) {
		ix_fail(ix, "libfixbuf", ENOMEM, now);
		return;
	}
	ix->msglen = ix->off = 0;
	ix->inflight = 0;
	if (connect(ix->fd, sa, salen) == 0)
		ix_connected(ix);
	else if (errno == EINPROGRESS) {
		ix->state = IX_CONNECTING;
		ix->connect_ns = now;
	}
	else
		ix_fail(ix, "connect", errno, now);
}

/*
 * A TCP connect in progress: done, failed, or still going.  A collector
 * whose host drops the SYN (a firewall, a full listen queue) leaves it
 * going for minutes: after IX_BACKOFF_MIN the status says so, and a stop
 * that drops the records meanwhile has its cause to show.
 */
static void
ix_connecting(struct ix *ix, uint64_t now)
{
	struct pollfd p = { .fd = ix->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) != 1) {
		if (!ix->failing && now - ix->connect_ns >= IX_BACKOFF_MIN)
			ix_set_failing(ix, "the collector does not answer "
			    "the connect", ETIMEDOUT);
		return;
	}
	if (getsockopt(ix->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0)
		ix_fail(ix, "connect", err, now);
	else
		ix_connected(ix);
}

/*
 * A collector sends nothing over TCP: a readable socket is its close or
 * its reset, seen here before a message is sent into it and lost.
 */
static void
ix_hangup(struct ix *ix, uint64_t now)
{
	struct pollfd p = { .fd = ix->fd, .events = POLLIN | POLLRDHUP };
	char c;
	ssize_t n;

	if (poll(&p, 1, 0) != 1)
		return;
	n = recv(ix->fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	if (n == 0)
		ix_fail(ix, "the collector closed the connection", ECONNRESET,
		    now);
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)
		ix_fail(ix, "connection", errno, now);
}

/*
 * libfixbuf in manual mode answers "end of message" (FB_ERROR_EOM) both
 * when the message is full and when it wants a new message to begin (a
 * template set after data sets).  With something in the message that
 * ends it; with nothing, an emit of the empty message starts a new one,
 * and the call is made again.
 */
static int
ix_eom(struct ix *ix, GError **err, int *retried, int nonempty)
{
	if (!g_error_matches(*err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
		return -1;
	g_clear_error(err);
	if (nonempty)
		return 1;		/* this message is done */
	if (*retried || !fBufEmit(ix->fbuf, err))
		return -1;
	*retried = 1;
	return 0;			/* try again */
}

/*
 * Encodes the queue's first records, most of them, into msg: templates
 * first when due.  0, or -1 when libfixbuf refuses (then the record is
 * dropped).
 */
static int
ix_encode(struct ix *ix, uint64_t now, uint32_t most)
{
	GError *err = NULL;
	struct ix_rec *r;
	uint32_t k = 0;
	int retried = 0, tmpl = 0, rc;

	if (!ix->o.tcp && (now >= ix->tmpl_ns + ix->o.refresh_ns ||
	    ix->msgs_since >= ix->o.refresh_msgs))
		ix->need_tmpl = 1;
	fBufSetExportTime(ix->fbuf, 0);
	while (ix->need_tmpl) {
		if (fbSessionExportTemplates(fBufGetSession(ix->fbuf), &err)) {
			ix->tmpl_ns = now;
			ix->msgs_since = 0;
			ix->need_tmpl = 0;
			tmpl = 1;
		} else if (ix_eom(ix, &err, &retried, 0) != 0)
			goto fail;
	}
	retried = 0;
	while (k < ix->n && k < most) {
		r = &ix->q[(ix->head + k) % ix->cap];
		if (!fBufSetExportTemplate(ix->fbuf, r->ipver == 4 ?
		    IX_TID_V4 : IX_TID_V6, &err))
			goto fail;
		if (fBufAppend(ix->fbuf, (uint8_t *)r, sizeof(*r), &err)) {
			k++;
			continue;
		}
		if ((rc = ix_eom(ix, &err, &retried, tmpl || k > 0)) < 0)
			goto fail;
		if (rc == 1)
			break;
	}
	if (!fBufEmit(ix->fbuf, &err))
		goto fail;
	ix->msglen = fbExporterGetMsgLen(fBufGetExporter(ix->fbuf));
	ix->off = 0;
	ix->inflight = k;
	ix_stamp(ix);
	return 0;
fail:
	if (ix->n > 0) {
		ix->head = (ix->head + 1) % ix->cap;
		ix->n--;
		ix->seq++;
		++*ix->c[IC_DROPPED];
		ix_level(ix);
	}
	ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix: libfixbuf: %s; "
	    "a record is dropped", err != NULL ? err->message : "?");
	g_clear_error(&err);
	/* The session's state is unknown now: start it again. */
	ix->msglen = 0;
	if (ix_fb_new(ix, 0) != 0 && ix->fd != -1)
		ix_fail(ix, "libfixbuf", ENOMEM, now);
	return -1;
}

/* The message went out whole: its records leave the ring. */
static void
ix_sent(struct ix *ix)
{
	uint32_t k = ix->inflight;

	++*ix->c[IC_MESSAGES];
	if (k > 0)		/* a message of templates only is not one */
		ix->msgs_since++;
	if (ix->o.tcp) {
		/* Counted as sent once acknowledged (ix_acked). */
		ix->ua[(ix->ua_head + ix->ua_n) % IX_UNACKED].end =
		    ix->sent_bytes;
		ix->ua[(ix->ua_head + ix->ua_n) % IX_UNACKED].recs = k;
		ix->ua_n++;
		ix->ua_recs += k;
	} else {
		/*
		 * Over UDP the collector takes it only if no refusal comes
		 * back; that a send worked says the one before was not
		 * refused.
		 */
		*ix->c[IC_RECORDS] += ix->unconf_recs;
		ix->unconf_recs = k;
		ix->unconfirmed = 1;
	}
	ix->seq += k;
	ix->head = (ix->head + k) % ix->cap;
	ix->n -= k;
	ix_level(ix);
	ix->inflight = 0;
	ix->msglen = ix->off = 0;
	if (ix->o.tcp) {
		ix->gave_up = 0;
		ix_working(ix);
	}
}

/*
 * UDP: the error of the first ICMP answer queued (IP_RECVERR), 0 if
 * none.  The socket's pending error says the same and is read first;
 * this is for a queue whose pending error a send already took.
 */
static int
ix_errqueue(struct ix *ix)
{
	char cbuf[512];
	struct msghdr m = { .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct sock_extended_err ee;

	if (recvmsg(ix->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
		return 0;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if ((c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_RECVERR) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_RECVERR)) {
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			return (int)ee.ee_errno;
		}
	return 0;
}

/*
 * Over UDP a send succeeds whether or not a collector listens; a refusal
 * (ICMP port unreachable) comes back as an error on the socket.  A send
 * counts as working once the next pump finds no such error: until then
 * the status stays and the back-off keeps growing.
 */
static void
ix_udp_check(struct ix *ix, uint64_t now)
{
	struct pollfd p = { .fd = ix->fd, .events = 0 };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR) &&
	    getsockopt(ix->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	    (err != 0 || (err = ix_errqueue(ix)) != 0)) {
		/* An ICMP answer, whatever it says: the message was lost. */
		ix_refused(ix, err);
		ix_fail(ix, "send", err, now);
		return;
	}
	if (ix->hold && !ix->closing) {
		/*
		 * An error can come back seconds after the datagram (a
		 * neighbour that does not answer): one quiet tick does not
		 * say the collector is back.
		 */
		if (ix->unconfirmed)
			ix_confirmed(ix);
		if (ix->probe_ns == 0 || now - ix->probe_ns < IX_UDP_QUIET)
			return;
		ix->hold = 0;
		ix->good_ns = now;
		ix->gave_up = 0;
		ix_working(ix);
		return;
	}
	if (ix->good_ns == 0)
		ix->good_ns = now;
	else if (now - ix->good_ns >= IX_UDP_STABLE)
		ix->backoff_ns = IX_BACKOFF_MIN;
	if (ix->unconfirmed) {
		ix_confirmed(ix);
		ix->gave_up = 0;
		ix_working(ix);
	}
}

/*
 * Connects when due and sends messages until the queue is empty, the
 * socket would block, or (full_only) less than a full message waits.
 */
static void
ix_pump(struct ix *ix, int full_only)
{
	uint64_t now = ix_now();
	ssize_t n;

	if (ix->state == IX_DOWN) {
		if (now < ix->retry_ns)
			return;
		ix_connect(ix, now);
	}
	if (ix->state == IX_CONNECTING)
		ix_connecting(ix, now);
	if (ix->state == IX_UP && ix->o.tcp && ix->off == 0)
		ix_hangup(ix, now);
	if (ix->state == IX_UP && ix->o.tcp)
		ix_acked(ix);
	if (ix->state == IX_UP && !ix->o.tcp)
		ix_udp_check(ix, now);
	while (ix->state == IX_UP) {
		if (ix->msglen == 0) {
			if (ix->hold && !ix->closing) {
				/* The templates alone, then a wait. */
				if (ix->probe_ns != 0)
					break;
				if (ix_encode(ix, now, 0) != 0)
					continue;
				ix->probe_ns = now;
			} else {
				if (ix->n == 0 ||
				    (full_only && ix->n < ix->batch))
					break;
				/* As many unacknowledged as kept: wait. */
				if (ix->o.tcp && ix->ua_n == IX_UNACKED) {
					ix_acked(ix);
					if (ix->ua_n == IX_UNACKED)
						break;
				}
				if (ix_encode(ix, now, UINT32_MAX) != 0)
					continue;
			}
		}
		n = send(ix->fd, ix->msg + ix->off, ix->msglen - ix->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ix_fail(ix, "send", n == 0 ? EPIPE : errno, now);
			break;
		}
		ix->off += (size_t)n;
		ix->sent_bytes += (uint64_t)n;
		if (ix->off == ix->msglen)
			ix_sent(ix);
	}
	ix_gauges(ix);
}

/* Asleep until the collector's next try is due, or until, whichever first. */
static void
ix_sleep_retry(const struct ix *ix, uint64_t now, uint64_t until)
{
	uint64_t ns = ix->retry_ns < until ? ix->retry_ns : until;

	ns = ns > now ? ns - now : 0;
	nanosleep(&(struct timespec){ .tv_sec = (time_t)(ns / IX_SEC),
	    .tv_nsec = (long)(ns % IX_SEC) }, NULL);
}

/*
 * Offline, where waiting loses nothing: room in the full queue, the
 * collector given IX_ROOM_WAIT to take a message.  True when there is
 * room.  A wait in vain is logged, and the records after it are dropped
 * at once, as live, until a message goes out again.
 */
static int
ix_room(struct ix *ix)
{
	uint64_t until = ix_now() + IX_ROOM_WAIT, now;
	struct pollfd p;

	if (ix->gave_up)
		return 0;
	for (;;) {
		ix_pump(ix, 0);
		if (ix->n < ix->cap)
			return 1;
		if ((now = ix_now()) >= until)
			break;
		if (ix->state == IX_DOWN) {
			ix_sleep_retry(ix, now, until);
			continue;
		}
		if (ix->hold) {
			/* The templates wait for an error, or for none. */
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
			continue;
		}
		p.fd = ix->fd;
		p.events = POLLOUT;
		poll(&p, 1, (int)((until - now) / 1000000) + 1);
	}
	ix->gave_up = 1;
	ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix %s: the collector "
	    "took nothing in %llu s: records are dropped until it does",
	    ix->o.url, (unsigned long long)(IX_ROOM_WAIT / IX_SEC));
	return 0;
}

/*
 * The end of a run of records dropped at a full queue (the queue takes
 * them again, a second or more after the run began, or the worker
 * closes): their number, logged.  Its start was logged by ix_add(), or,
 * offline, by ix_room().  A queue that a slow collector empties a few
 * records at a time ends a run at each: a second at least between the
 * lines keeps the log to two a second.
 */
static void
ix_full_end(struct ix *ix, int at_close)
{
	uint64_t n = ix->full_drops;

	if (n == 0 || (!at_close && ix_now() - ix->full_ns < IX_SEC))
		return;
	ix->full_drops = 0;
	ix->full_ns = 0;
	ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix %s: %llu records "
	    "dropped while the queue was full, %llu dropped in all",
	    ix->o.url, (unsigned long long)n,
	    (unsigned long long)*ix->c[IC_DROPPED]);
}

/*
 * The start of a run of records dropped at a full queue, with the cause
 * that the status shows when the exporter is failing: the log alone then
 * says why the queue did not go out.
 */
static void
ix_full_log(struct ix *ix)
{
	char why[160] = "";

	if (ix->failing)
		snprintf(why, sizeof(why), " (%s: %s)", ix->fail_what,
		    strerror(ix->fail_err));
	ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix %s: the queue "
	    "(ipfix_queue %u) is full: records are dropped until it takes one "
	    "again%s", ix->o.url, ix->cap, why);
}

void
ix_add(struct ix *ix, const struct ft_flow *f, int reason)
{
	struct ix_rec *r;

	if (ix->n == ix->cap && !(ix->offline && ix_room(ix))) {
		++*ix->c[IC_DROPPED];
		ix->seq++;		/* its number, a gap at the collector */
		ix_level(ix);
		if (ix->full_drops++ == 0) {
			ix->full_ns = ix_now();
			if (!ix->gave_up)
				ix_full_log(ix);
		}
		return;
	}
	ix_full_end(ix, 0);
	r = &ix->q[(ix->head + ix->n) % ix->cap];
	memset(r, 0, sizeof(*r));
	r->ipver = f->ipver;
	if (f->ipver == 4) {
		r->src4 = (uint32_t)f->src[0] << 24 | (uint32_t)f->src[1] << 16 |
		    (uint32_t)f->src[2] << 8 | f->src[3];
		r->dst4 = (uint32_t)f->dst[0] << 24 | (uint32_t)f->dst[1] << 16 |
		    (uint32_t)f->dst[2] << 8 | f->dst[3];
	} else {
		memcpy(r->src6, f->src, 16);
		memcpy(r->dst6, f->dst, 16);
	}
	r->sport = f->sport;
	r->dport = f->dport;
	/*
	 * Type and code also where RFC 7012 has them: nfdump and pmacct read
	 * them from the port, other collectors from these.
	 */
	if (f->proto == 1 && f->ipver == 4)
		r->icmp4 = f->dport;
	else if (f->proto == 58 && f->ipver == 6)
		r->icmp6 = f->dport;
	r->proto = f->proto;
	r->vlan = f->has_vlan ? f->vlan : 0;
	r->octets = f->bytes[0];
	r->packets = f->packets[0];
	r->rev_octets = f->bytes[1];
	r->rev_packets = f->packets[1];
	r->start_ms = f->first_ns / 1000000;
	r->end_ms = f->last_ns / 1000000;
	r->flags = f->tcp_flags[0];
	r->rev_flags = f->tcp_flags[1];
	r->reason = reason > 0 && reason < FT_NREASON ? ix_reason[reason] : 0;
	r->process = ix->ctx->worker_id;
	ix->n++;
	ix_level(ix);
}

/*
 * After ix_add(), once the flow's end is committed: a message's worth
 * goes out.  Not from ix_add(): a worker killed between a send and that
 * commit leaves its successor the flow, which it exports again, and the
 * collector would get it twice.
 *
 * Live, never a connect from here: it allocates a session, on the
 * frame's path.  Offline a message's worth goes out at once, over a
 * connection made when due: the file's time may not reach a tick before
 * the queue is full.
 */
void
ix_added(struct ix *ix)
{
	if (ix->n >= ix->batch && ix->msglen == 0 &&
	    (ix->state == IX_UP || ix->offline))
		ix_pump(ix, 1);
}

/*
 * The count is stored as soon as it changes, each message sent included;
 * a worker killed between the change and the store can leave one
 * message's records more than it lost, or one record: ft_export() queues
 * a record before the flow's end is committed, and a successor exports
 * that flow again.  Counted and cleared before the log line, so that a
 * death while logging counts nothing twice.
 *
 * The successor's records are numbered on from those the dead worker had
 * queued: the collector finds a gap of the ones it never got (the queue
 * and, of the messages not confirmed, those that did not arrive after all).
 */
void
ix_attach(struct ix *ix, uint64_t *waiting)
{
	uint64_t lost = (uint32_t)*waiting;
	/*
	 * A message holds the queue at most, and no more than fit in it:
	 * one that filled while the socket could take nothing goes out
	 * whole, more than the batch that starts a send.
	 */
	uint64_t per = IX_MSG_RECS(ix->msgcap);
	/* The queue, and the records sent but not confirmed or acked. */
	uint64_t most;

	if (per > ix->cap)
		per = ix->cap;
	most = (uint64_t)ix->cap + (ix->o.tcp ?
	    (uint64_t)IX_UNACKED * per : IX_UDP_RECS);

	ix->waiting = waiting;
	if (*waiting == 0) {
		/*
		 * Fresh: the first open, or one after a predecessor that
		 * closed, having counted each record it numbered as sent or
		 * dropped.  The counters outlive it (a restart, a reload
		 * that keeps the step): numbered on from them, the collector
		 * finds no gap where none was.
		 */
		ix->seq = (uint32_t)(*ix->c[IC_RECORDS] +
		    *ix->c[IC_DROPPED]);
		ix_level(ix);
		return;
	}
	if (lost > most) {
		/* No queue of these options held that many: not a count. */
		ix_level(ix);
		ix->ctx->log(ix->ctx, RINGFAN_LOG_WARN, "ipfix %s: host memory "
		    "says %llu records were waiting, more than ipfix_queue "
		    "holds: ignored", ix->o.url, (unsigned long long)lost);
		return;
	}
	ix->seq = (uint32_t)(*waiting >> 32);
	*ix->c[IC_DROPPED] += lost;
	ix_level(ix);
	if (lost > 0)
		ix->ctx->log(ix->ctx, RINGFAN_LOG_ERROR, "ipfix %s: %llu "
		    "records lost with a worker that died before it sent them",
		    ix->o.url, (unsigned long long)lost);
}

void
ix_tick(struct ix *ix)
{
	/*
	 * UDP, failing: each try sends a message of templates alone (ix_pump)
	 * whether or not records wait, so that an idle worker too shows the
	 * collector back, and a late error costs no record.
	 */
	ix_pump(ix, 0);
	if (ix->n < ix->cap)
		ix_full_end(ix, 0);
}

void
ix_drain(struct ix *ix, uint64_t wait_ns)
{
	uint64_t until = ix_now() + wait_ns, now;
	struct pollfd p;
	uint32_t left;

	ix_full_end(ix, 1);
	ix->retry_ns = 0;	/* one more try, now, then once a second */
	ix->backoff_ns = IX_BACKOFF_MIN;
	ix->closing = 1;	/* no wait after the templates: no time */
	for (;;) {
		ix_pump(ix, 0);
		now = ix_now();
		if ((ix->n == 0 && ix->ua_n == 0) || now >= until)
			break;
		if (ix->state == IX_DOWN) {
			/* Waiting for the back-off would outlast the stop. */
			if (ix->retry_ns >= until)
				break;
			ix_sleep_retry(ix, now, until);
			continue;
		}
		if (ix->n == 0) {
			/* All sent: the acknowledgements come in a moment. */
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			continue;
		}
		p.fd = ix->fd;
		p.events = POLLOUT;
		poll(&p, 1, (int)((until - now) / 1000000) + 1);
	}
	if (ix->o.tcp && ix->fd != -1) {
		/*
		 * What is not acknowledged now is counted as dropped: the
		 * close must not deliver it after all, so it resets (the
		 * acknowledgements read once more, as close as can be to it).
		 */
		if (ix->ua_n > 0)
			(void)setsockopt(ix->fd, SOL_SOCKET, SO_LINGER,
			    &(struct linger){ .l_onoff = 1, .l_linger = 0 },
			    sizeof(struct linger));
		ix_acked(ix);
		ix_unacked_lost(ix, "sent but not acknowledged at close");
	}
	/* The last message: refused, or taken. */
	if (ix->unconfirmed && ix->state == IX_UP)
		ix_udp_check(ix, now);
	if (ix->n > 0) {
		left = ix->n;
		ix->n = 0;
		ix->seq += left;
		ix_lost(ix, left, "not sent at close");
		if (ix->failing)	/* none waits any more */
			ix_set_failing(ix, ix->fail_what, ix->fail_err);
	}
	ix_gauges(ix);
}

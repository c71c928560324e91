/*
 * filter: passes on only the frames that match a tcpdump expression
 * (option `expression`), compiled with libpcap for the capture's link type
 * and run in the worker on each frame.  A frame that matches goes on to the
 * later plugins; any other stops here.  Counters: `matched`, `rejected`.
 *
 * A VLAN tag the kernel stripped (RINGFAN_PKT_VLAN_VALID) is put back into
 * a copy of the frame, where it was on the wire, before the program runs,
 * as libpcap does before it hands a live frame to tcpdump or writes it to a
 * file.  So the verdict is the one `tcpdump -r` gives for the frame as
 * tcpdump would have saved it, live (tag stripped) and offline (tag in the
 * frame) alike, and `vlan 10` matches a frame whose tag 10 the kernel took
 * out (docs/plugins.md says what that means for expressions without
 * `vlan`).
 *
 * Expressions that libpcap compiles into loads of what the kernel keeps
 * beside the frame (`inbound`, `ifindex 1`) are refused: here the frame's
 * bytes are all there is.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/filter.h>
#include <pcap/pcap.h>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#define FILTER_TAG_LEN	4	/* TPID and TCI of an 802.1Q tag */
#define FILTER_MIN_ROOM	64	/* scratch bytes, whatever the snaplen */
#define FILTER_SHOWN	64	/* bytes of an expression a message quotes */

struct filter {
	struct bpf_program	 prog;
	uint64_t		*matched;
	uint64_t		*rejected;
	int			 linktype;	/* ctx->linktype, compiled for */
	uint32_t		 room;		/* frame bytes scratch holds */
	uint8_t			*scratch;	/* room + FILTER_TAG_LEN bytes */
};

/*
 * The expression as a message quotes it: at most FILTER_SHOWN bytes, cut
 * before a UTF-8 sequence it would split, "..." after a cut.  A long one
 * quoted whole would crowd libpcap's reason, which follows the quote, out
 * of what the host keeps of a message.  buf holds FILTER_SHOWN + 4 bytes.
 */
static const char *
filter_shown(const char *expr, char *buf)
{
	size_t cut = FILTER_SHOWN;

	if (strlen(expr) <= cut)
		return expr;
	while (cut > 0 && ((unsigned char)expr[cut] & 0xc0) == 0x80)
		cut--;
	snprintf(buf, FILTER_SHOWN + 4, "%.*s...", (int)cut, expr);
	return buf;
}

/*
 * Raw-IP link types that the decoder knows under the numbers of other
 * systems and of files, which pcap_open_dead() does not take: libpcap
 * compiles for them as its own DLT_RAW.
 */
static const struct {
	int	linktype;
	int	dlt;
} filter_dlts[] = {
	{ RINGFAN_DLT_RAW_14, DLT_RAW },
	{ RINGFAN_DLT_RAW_101, DLT_RAW },
};

static int
filter_dlt(int linktype)
{
	for (size_t i = 0; i < sizeof(filter_dlts) / sizeof(filter_dlts[0]);
	    i++)
		if (filter_dlts[i].linktype == linktype)
			return filter_dlts[i].dlt;
	return linktype;
}

/* A pcap file's header: this machine's order, version 2.4. */
struct filter_file_hdr {
	uint32_t	magic;
	uint16_t	major, minor;
	uint32_t	zone, sigfigs, snaplen, linktype;
};

/*
 * Link types whose header holds an address family: BSD loopback (NULL,
 * LOOP) and OpenBSD's IPsec encapsulation (ENC).  They only come from
 * files, and libpcap compiles `ip6` on them as tcpdump -r does only for a
 * savefile: every BSD's AF_INET6 (24, 28, 30), not this system's.
 */
static int
filter_has_family(int linktype)
{
	return linktype == RINGFAN_DLT_NULL || linktype == RINGFAN_DLT_LOOP ||
	    linktype == DLT_ENC;
}

/*
 * The handle to compile with.  A link type with an address family
 * (filter_has_family) gets a savefile, a file header alone, read from hdr,
 * which must outlive it.  Any other link type compiles the same on a dead
 * handle.  NULL, with a message in err, on failure.
 */
static pcap_t *
filter_handle(int linktype, int snaplen, struct filter_file_hdr *hdr,
    char *err)
{
	pcap_t *p;
	FILE *f;

	if (!filter_has_family(linktype)) {
		if ((p = pcap_open_dead(filter_dlt(linktype), snaplen)) ==
		    NULL)
			snprintf(err, PCAP_ERRBUF_SIZE, "pcap_open_dead(link "
			    "type %d) failed", linktype);
		return p;
	}
	/* A snaplen of 0 in a file is libpcap's maximum too. */
	*hdr = (struct filter_file_hdr){ 0xa1b2c3d4u, 2, 4, 0, 0,
	    (uint32_t)snaplen, (uint32_t)linktype };
	if ((f = fmemopen(hdr, sizeof(*hdr), "r")) == NULL) {
		snprintf(err, PCAP_ERRBUF_SIZE, "fmemopen: %s",
		    strerror(errno));
		return NULL;
	}
	if ((p = pcap_fopen_offline(f, err)) == NULL)
		fclose(f);
	return p;
}

/*
 * After optimisation libpcap reduces an expression that holds for every
 * frame ("ip or not ip", an empty one) to a lone "ret #snaplen".  One that
 * holds for none it refuses itself ("expression rejects all packets").
 */
static int
filter_passes_all(const struct bpf_program *prog)
{
	return prog->bf_len == 1 &&
	    prog->bf_insns[0].code == (BPF_RET | BPF_K) &&
	    prog->bf_insns[0].k != 0;
}

/*
 * What the kernel keeps beside a frame that libpcap's Linux code generation
 * loads at SKF_AD_OFF + SKF_AD_*: packet socket metadata, not frame bytes.
 * pcap_offline_filter() has none of it and fails any such load, which ends
 * the program with "no match" for every frame, whatever the rest of the
 * expression says.
 */
static const struct {
	uint32_t	 ad;		/* SKF_AD_* */
	const char	*keywords;
	const char	*what;
} filter_ancillary[] = {
	{ SKF_AD_PKTTYPE, "inbound and outbound need", "its direction" },
	{ SKF_AD_IFINDEX, "ifindex needs", "its interface" },
};

/*
 * The first load of kernel metadata in prog, or NULL.  Only loads from
 * the packet take an offset in k: LD ABS and LD IND (X + k, which libpcap
 * uses past a link header of variable length, such as radiotap's), and
 * LDX MSH.  In every other instruction k is a value, a scratch slot, a
 * jump or unused.
 */
static const struct bpf_insn *
filter_ancillary_load(const struct bpf_program *prog)
{
	const struct bpf_insn *in;

	for (u_int i = 0; i < prog->bf_len; i++) {
		in = &prog->bf_insns[i];
		if (in->k < (bpf_u_int32)SKF_AD_OFF)
			continue;
		if ((BPF_CLASS(in->code) == BPF_LD &&
		    (BPF_MODE(in->code) == BPF_ABS ||
		    BPF_MODE(in->code) == BPF_IND)) ||
		    (BPF_CLASS(in->code) == BPF_LDX &&
		    BPF_MODE(in->code) == BPF_MSH))
			return in;
	}
	return NULL;
}

/*
 * Refuses a program that loads kernel metadata, naming the keywords that
 * compile to that load; shown is the expression as messages quote it.
 * enum ringfan_result.
 */
static int
filter_userspace(struct ringfan_ctx *ctx, const char *shown,
    const struct bpf_program *prog)
{
	const struct bpf_insn *in;
	uint32_t ad;

	if ((in = filter_ancillary_load(prog)) == NULL)
		return RINGFAN_OK;
	ad = in->k - (bpf_u_int32)SKF_AD_OFF;
	for (size_t i = 0; i < sizeof(filter_ancillary) /
	    sizeof(filter_ancillary[0]); i++)
		if (filter_ancillary[i].ad == ad) {
			ctx->error(ctx, "expression \"%s\": %s the kernel's "
			    "view of the frame (%s), which the filter plugin "
			    "does not have; the capture's bpf key, run by the "
			    "kernel, can test it", shown,
			    filter_ancillary[i].keywords,
			    filter_ancillary[i].what);
			return RINGFAN_FAIL;
		}
	ctx->error(ctx, "expression \"%s\": needs the kernel's view of the "
	    "frame (SKF_AD_OFF + %u), which the filter plugin does not have; "
	    "the capture's bpf key, run by the kernel, can test it", shown,
	    (unsigned)ad);
	return RINGFAN_FAIL;
}

/*
 * Reads `expression` and compiles it into *prog for ctx's link type, the
 * way `check` and `open` both need it.  enum ringfan_result.
 */
static int
filter_compile(struct ringfan_ctx *ctx, struct bpf_program *prog)
{
	char err[PCAP_ERRBUF_SIZE], buf[FILTER_SHOWN + 4];
	struct filter_file_hdr hdr;
	const char *expr, *shown;
	pcap_t *p;
	int snaplen;

	if (ctx->opt_string(ctx, "expression", NULL, &expr) != 0)
		return RINGFAN_FAIL;
	if (expr == NULL) {
		ctx->error(ctx, "expression: required (a tcpdump expression)");
		return RINGFAN_FAIL;
	}
	if (expr[strspn(expr, " \t\r\n\f\v")] == '\0') {
		ctx->error(ctx, "expression: empty; to pass every frame, "
		    "leave the filter out");
		return RINGFAN_FAIL;
	}
	shown = filter_shown(expr, buf);
	/* libpcap takes 0 (and what exceeds its maximum) as its maximum. */
	snaplen = ctx->snaplen > INT_MAX ? 0 : (int)ctx->snaplen;
	if ((p = filter_handle(ctx->linktype, snaplen, &hdr, err)) == NULL) {
		ctx->error(ctx, "expression \"%s\": %s", shown, err);
		return RINGFAN_FAIL;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		ctx->error(ctx, "expression \"%s\": %s", shown,
		    pcap_geterr(p));
		pcap_close(p);
		return RINGFAN_FAIL;
	}
	/* The program needs nothing of the handle it was compiled with. */
	pcap_close(p);
	if (filter_userspace(ctx, shown, prog) != RINGFAN_OK) {
		pcap_freecode(prog);
		return RINGFAN_FAIL;
	}
	if (filter_passes_all(prog)) {
		ctx->error(ctx, "expression \"%s\" passes every frame: to pass "
		    "every frame, leave the filter out", shown);
		pcap_freecode(prog);
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

/*
 * Validation (RINGFAN_CTX_CHECK) compiles the expression to refuse a bad
 * one.  A worker's check is followed by its open, which compiles it again
 * and refuses the same: there the option is only read, so that a worker
 * compiles once, and a long compile shows in open, where the stall watch
 * sees it, not before it.
 */
static int
filter_check(struct ringfan_ctx *ctx)
{
	struct bpf_program prog;
	const char *expr;

	if (!(ctx->flags & RINGFAN_CTX_CHECK))
		return ctx->opt_string(ctx, "expression", NULL, &expr) != 0 ?
		    RINGFAN_FAIL : RINGFAN_OK;
	if (filter_compile(ctx, &prog) != RINGFAN_OK)
		return RINGFAN_FAIL;
	pcap_freecode(&prog);
	return RINGFAN_OK;
}

static void
filter_free(struct filter *st)
{
	pcap_freecode(&st->prog);
	free(st->scratch);
	free(st);
}

static int
filter_open(struct ringfan_ctx *ctx, void **state)
{
	struct filter *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_FAIL;
	}
	if (filter_compile(ctx, &st->prog) != RINGFAN_OK) {
		free(st);
		return RINGFAN_FAIL;
	}
	st->linktype = ctx->linktype;
	/*
	 * The copy with a stripped tag put back is made here once, for the
	 * largest frame the host hands over: none on the frame path.
	 */
	st->room = ctx->snaplen > FILTER_MIN_ROOM ? ctx->snaplen :
	    FILTER_MIN_ROOM;
	if ((st->scratch = malloc((size_t)st->room + FILTER_TAG_LEN)) == NULL) {
		ctx->error(ctx, "out of memory (%u bytes for frames with a "
		    "stripped tag)", (unsigned)st->room);
		filter_free(st);
		return RINGFAN_FAIL;
	}
	/* ctx->counter() has recorded why it failed. */
	if ((st->matched = ctx->counter(ctx, "matched")) == NULL ||
	    (st->rejected = ctx->counter(ctx, "rejected")) == NULL) {
		filter_free(st);
		return RINGFAN_FAIL;
	}
	*state = st;
	return RINGFAN_OK;
}

/*
 * The frame as libpcap would hand it to tcpdump: the stripped tag at off
 * (ringfan_stripped_tag), the lengths four bytes longer, and the frame with
 * its tag cut to the snaplen again, as libpcap cuts it to its snapshot
 * after it puts the tag back (and as pcapwriter writes it): a frame the
 * ring cut at the snaplen is no longer with its tag.  A caplen beyond the
 * snaplen, which the host never hands over, is cut to it.
 */
static const uint8_t *
filter_retag(struct filter *st, const struct ringfan_packet *pkt,
    uint32_t off, const uint8_t tag[FILTER_TAG_LEN], struct pcap_pkthdr *h)
{
	uint32_t n = pkt->caplen < st->room ? pkt->caplen : st->room;
	uint8_t *s = st->scratch;

	memcpy(s, pkt->data, off);
	memcpy(s + off, tag, FILTER_TAG_LEN);
	memcpy(s + off + FILTER_TAG_LEN, pkt->data + off, n - off);
	h->caplen = n + FILTER_TAG_LEN < st->room ? n + FILTER_TAG_LEN :
	    st->room;
	h->len = pkt->len > UINT32_MAX - FILTER_TAG_LEN ? UINT32_MAX :
	    pkt->len + FILTER_TAG_LEN;
	return s;
}

static int
filter_packet(void *state, const struct ringfan_packet *pkt)
{
	struct filter *st = state;
	struct pcap_pkthdr h = { .caplen = pkt->caplen, .len = pkt->len };
	const uint8_t *data = pkt->data;
	uint8_t tag[FILTER_TAG_LEN];
	int off;

	if ((off = ringfan_stripped_tag(pkt, tag)) >= 0)
		data = filter_retag(st, pkt, (uint32_t)off, tag, &h);
	/*
	 * The program reads headers of the link type it was compiled for;
	 * on a frame of another (which a host may one day hand over from a
	 * file of several interfaces) its verdict would mean nothing.
	 */
	if (pkt->linktype == st->linktype &&
	    pcap_offline_filter(&st->prog, &h, data) != 0) {
		++*st->matched;
		return RINGFAN_CONTINUE;
	}
	++*st->rejected;
	return RINGFAN_STOP;
}

static void
filter_close(void *state)
{
	filter_free(state);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "filter",
	.version = "1.0",
	.description = "passes on only the frames that match a tcpdump "
	    "expression",
	.check = filter_check,
	.open = filter_open,
	.packet = filter_packet,
	.close = filter_close,
};

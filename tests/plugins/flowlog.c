/*
 * flowlog: a test plugin that writes the addresses and ports of every TCP
 * and UDP frame it sees, one line per frame, to DIRECTORY/flows-<worker>.txt.
 * The integration tests read these files to check which worker got which
 * flow; nothing else should use it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringfan/plugin.h>

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88a8
#define MAX_TAGS		2	/* QinQ at most */

struct flowlog {
	struct ringfan_ctx	*ctx;
	FILE			*out;
	char			*path;
	uint64_t		*frames;
	uint64_t		*lines;
};

extern const struct ringfan_plugin ringfan_plugin;

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
log_ports(struct flowlog *fl, int af, const uint8_t *src, const uint8_t *dst,
    const uint8_t *l4)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (inet_ntop(af, src, s, sizeof(s)) == NULL ||
	    inet_ntop(af, dst, d, sizeof(d)) == NULL)
		return;
	fprintf(fl->out, "%s %u %s %u\n", s, get16(l4), d, get16(l4 + 2));
	(*fl->lines)++;
}

static void
parse_ipv4(struct flowlog *fl, const uint8_t *p, size_t len)
{
	size_t hlen;

	if (len < 20 || p[0] >> 4 != 4)
		return;
	hlen = (size_t)(p[0] & 0x0f) * 4;
	/* Only a first fragment carries the ports. */
	if (hlen < 20 || (get16(p + 6) & 0x1fff) != 0)
		return;
	if (p[9] != IPPROTO_TCP && p[9] != IPPROTO_UDP)
		return;
	if (len < hlen + 4)
		return;
	log_ports(fl, AF_INET, p + 12, p + 16, p + hlen);
}

static void
parse_ipv6(struct flowlog *fl, const uint8_t *p, size_t len)
{
	size_t off, ext;
	uint8_t next;

	if (len < 40 || p[0] >> 4 != 6)
		return;
	next = p[6];
	off = 40;
	for (;;) {
		switch (next) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			if (len < off + 4)
				return;
			log_ports(fl, AF_INET6, p + 8, p + 24, p + off);
			return;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len < off + 2)
				return;
			ext = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (len < off + 8 || (get16(p + off + 2) & 0xfff8) != 0)
				return;
			ext = 8;
			break;
		default:
			return;
		}
		next = p[off];
		off += ext;
	}
}

static int
flowlog_open(struct ringfan_ctx *ctx, void **state)
{
	struct flowlog *fl;
	const char *dir;
	int n;

	dir = NULL;
	if (ctx->opt_string(ctx, "directory", NULL, &dir) == -1)
		return -1;
	if (dir == NULL) {
		ctx->error(ctx, "option directory is required");
		return -1;
	}
	fl = calloc(1, sizeof(*fl));
	if (fl == NULL) {
		ctx->error(ctx, "out of memory");
		return -1;
	}
	fl->ctx = ctx;
	fl->frames = ctx->counter(ctx, "frames");
	fl->lines = ctx->counter(ctx, "lines");
	if (fl->frames == NULL || fl->lines == NULL)
		goto fail;
	n = snprintf(NULL, 0, "%s/flows-%u.txt", dir, ctx->worker_id);
	if (n < 0 || (fl->path = malloc((size_t)n + 1)) == NULL) {
		ctx->error(ctx, "out of memory");
		goto fail;
	}
	snprintf(fl->path, (size_t)n + 1, "%s/flows-%u.txt", dir,
	    ctx->worker_id);
	fl->out = fopen(fl->path, "w");
	if (fl->out == NULL) {
		ctx->error(ctx, "cannot open %s: %s", fl->path,
		    strerror(errno));
		goto fail;
	}
	*state = fl;
	return 0;
fail:
	free(fl->path);
	free(fl);
	return -1;
}

static int
flowlog_packet(void *state, const struct ringfan_packet *pkt)
{
	struct flowlog *fl = state;
	const uint8_t *p;
	size_t len;
	uint16_t type;
	int tags;

	(*fl->frames)++;
	if (pkt->caplen < 14)
		return RINGFAN_CONTINUE;
	p = pkt->data;
	len = pkt->caplen;
	type = get16(p + 12);
	p += 14;
	len -= 14;
	/* A tag the kernel did not strip is still in the frame. */
	for (tags = 0; tags < MAX_TAGS && (type == ETHERTYPE_8021Q ||
	    type == ETHERTYPE_8021AD); tags++) {
		if (len < 4)
			return RINGFAN_CONTINUE;
		type = get16(p + 2);
		p += 4;
		len -= 4;
	}
	if (type == ETHERTYPE_IPV4)
		parse_ipv4(fl, p, len);
	else if (type == ETHERTYPE_IPV6)
		parse_ipv6(fl, p, len);
	return RINGFAN_CONTINUE;
}

static void
flowlog_close(void *state)
{
	struct flowlog *fl = state;

	if (fclose(fl->out) != 0)
		fl->ctx->log(fl->ctx, RINGFAN_LOG_ERROR, "%s: %s", fl->path,
		    strerror(errno));
	free(fl->path);
	free(fl);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "flowlog",
	.version = "1.0",
	.description = "test helper: logs the endpoints of TCP and UDP frames",
	.open = flowlog_open,
	.packet = flowlog_packet,
	.close = flowlog_close,
};

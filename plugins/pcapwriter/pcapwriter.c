/*
 * pcapwriter: writes the frames it is handed to classic pcap files, one open
 * file per worker, rotated by size or by network time, within a disk budget,
 * and complete after a kill -9 of the worker at any instant.
 *
 *	- plugin: pcapwriter
 *	  config: { directory: /var/lib/ringfan/pcap, rotate_size: 100MiB }
 *
 * This file reads the options and holds the callbacks; pcapwriter_file.c
 * owns the write buffer (in host memory), the files and their recovery.
 * docs/plugins.md describes the behaviour for users.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringfan/decode.h>

#include "pcapwriter.h"

static const char *const pw_counter_names[PW_NCOUNTERS] = {
	[PW_FRAMES] = "frames",
	[PW_BYTES] = "bytes",
	[PW_FILES] = "files",
	[PW_ROTATIONS] = "rotations",
	[PW_REMOVED] = "removed",
	[PW_WRITE_ERRORS] = "write_errors",
	[PW_FRAMES_DROPPED] = "frames_dropped",
	[PW_BYTES_DROPPED] = "bytes_dropped",
	[PW_OPEN_BYTES] = "open_bytes",
	[PW_DISK_BYTES] = "disk_bytes",
};

/*
 * The link types whose number in a file (LINKTYPE_*, tcpdump.org's
 * registry) is not the DLT_ value libpcap uses on Linux; the rest are the
 * same number.
 */
static const struct {
	int		 dlt;
	uint32_t	 linktype;
} pw_linktypes[] = {
	{ 11, 100 },		/* DLT_ATM_RFC1483 */
	{ 12, 101 },		/* DLT_RAW */
	{ 15, 102 },		/* DLT_SLIP_BSDOS */
	{ 16, 103 },		/* DLT_PPP_BSDOS */
	{ 19, 106 },		/* DLT_ATM_CLIP */
};

enum { PH_CAPTURE, PH_WORKER, PH_TIME, PH_MAX };
static const char *const pw_placeholders[PH_MAX] = {
	[PH_CAPTURE] = "capture",
	[PH_WORKER] = "worker",
	[PH_TIME] = "time",
};

/* Appends n bytes of s to the name part at out; -1 when it is full. */
static int
pw_put(char *out, size_t *len, const char *s, size_t n)
{
	if (*len + n > PW_NAME)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

/*
 * Expands {capture} and {worker} of pattern into pre, what comes before
 * {time}, and post, what comes after (each PW_NAME + 1 bytes).  A file's
 * name is then pre, the time and sequence number, post.  Returns 0, or -1
 * with the reason in err.
 */
int
pw_pattern(const char *pattern, const char *capture, unsigned worker,
    char *pre, char *post, char *err, size_t errlen)
{
	char num[16], *out = pre;
	const char *p, *close, *val;
	size_t len = 0, n, vlen;
	int ph, seen[PH_MAX] = { 0 };

	pre[0] = post[0] = '\0';
	if (pattern[0] == '\0') {
		snprintf(err, errlen, "pattern: empty");
		return -1;
	}
	snprintf(num, sizeof(num), "%u", worker);
	for (p = pattern; *p != '\0'; p += n) {
		if (*p != '{') {
			n = strcspn(p, "{");
			if (pw_put(out, &len, p, n) == -1)
				goto toolong;
			continue;
		}
		if ((close = strchr(p, '}')) == NULL) {
			snprintf(err, errlen, "pattern: \"%s\": '{' without "
			    "'}'", pattern);
			return -1;
		}
		n = (size_t)(close - p) + 1;
		for (ph = 0; ph < PH_MAX; ph++)
			if (strlen(pw_placeholders[ph]) == n - 2 &&
			    strncmp(p + 1, pw_placeholders[ph], n - 2) == 0)
				break;
		if (ph == PH_MAX) {
			snprintf(err, errlen, "pattern: \"%s\": unknown "
			    "placeholder %.*s", pattern, (int)n, p);
			return -1;
		}
		seen[ph]++;
		if (ph == PH_TIME) {
			if (seen[ph] > 1) {
				snprintf(err, errlen, "pattern: \"%s\": {time} "
				    "twice", pattern);
				return -1;
			}
			/*
			 * The sequence number's digits end where the rest
			 * begins: a digit there would blur the two.
			 */
			if ((p[n] >= '0' && p[n] <= '9') || p[n] == '{') {
				snprintf(err, errlen, "pattern: \"%s\": a "
				    "digit or a placeholder right after {time} "
				    "makes names ambiguous", pattern);
				return -1;
			}
			out = post;
			len = 0;
			continue;
		}
		val = ph == PH_CAPTURE ? capture : num;
		vlen = strlen(val);
		if (pw_put(out, &len, val, vlen) == -1)
			goto toolong;
	}
	if (seen[PH_TIME] == 0) {
		snprintf(err, errlen, "pattern: \"%s\": no {time}", pattern);
		return -1;
	}
	if (seen[PH_WORKER] == 0) {
		snprintf(err, errlen, "pattern: \"%s\": no {worker}, so the "
		    "workers' files would collide", pattern);
		return -1;
	}
	if (strchr(pre, '/') != NULL || strchr(post, '/') != NULL) {
		snprintf(err, errlen, "pattern: \"%s\": a file name cannot "
		    "hold '/'", pattern);
		return -1;
	}
	if (strlen(pre) + PW_TIME_MAX + strlen(post) > PW_NAME)
		goto toolong;
	return 0;
toolong:
	snprintf(err, errlen, "pattern: \"%s\": file names would be longer "
	    "than %d bytes", pattern, PW_NAME);
	return -1;
}

/* The length of dir without trailing slashes ("/" becomes ""). */
static size_t
pw_dirlen(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	return n;
}

/*
 * Reads and validates every option; check and open both call it, so that
 * a key nobody reads is an error in both.
 */
static int
pw_options(struct ringfan_ctx *ctx, struct pw_opts *o)
{
	char pre[PW_NAME + 1], post[PW_NAME + 1], err[512];
	unsigned workers = ctx->worker_count > 0 ? ctx->worker_count : 1;
	uint64_t each;

	memset(o, 0, sizeof(*o));
	if (ctx->opt_string(ctx, "directory", NULL, &o->directory) != 0 ||
	    ctx->opt_string(ctx, "pattern", "{capture}-{worker}-{time}.pcap",
	    &o->pattern) != 0 ||
	    ctx->opt_uint(ctx, "snaplen", 0, &o->snaplen) != 0 ||
	    ctx->opt_size(ctx, "rotate_size", 0, &o->rotate_size) != 0 ||
	    ctx->opt_duration(ctx, "rotate_interval", 0,
	    &o->rotate_interval) != 0 ||
	    ctx->opt_size(ctx, "max_disk", 0, &o->max_disk) != 0 ||
	    ctx->opt_bool(ctx, "nanosecond", 0, &o->nanosecond) != 0)
		return RINGFAN_FAIL;	/* the getter has said why */
	if (o->directory == NULL || o->directory[0] == '\0') {
		ctx->error(ctx, "directory: required");
		return RINGFAN_FAIL;
	}
	if (o->directory[0] != '/') {
		ctx->error(ctx, "directory: \"%s\" is not an absolute path",
		    o->directory);
		return RINGFAN_FAIL;
	}
	/* The longest names are those of the highest worker id. */
	if (pw_pattern(o->pattern, ctx->capture, workers - 1, pre, post, err,
	    sizeof(err)) == -1) {
		ctx->error(ctx, "%s", err);
		return RINGFAN_FAIL;
	}
	if (pw_dirlen(o->directory) + 1 + strlen(pre) + PW_TIME_MAX +
	    strlen(post) >= PW_PATH) {
		ctx->error(ctx, "directory: \"%.64s...\": paths of its files "
		    "would be longer than %d bytes", o->directory, PW_PATH - 1);
		return RINGFAN_FAIL;
	}
	if (o->snaplen > PW_MAXSNAP) {
		ctx->error(ctx, "snaplen: %llu is more than %u, the most pcap "
		    "readers take", (unsigned long long)o->snaplen, PW_MAXSNAP);
		return RINGFAN_FAIL;
	}
	if (o->rotate_interval != 0 && o->rotate_interval < 1000000000ULL) {
		ctx->error(ctx, "rotate_interval: less than 1s");
		return RINGFAN_FAIL;
	}
	if (o->max_disk != 0 && o->rotate_size == 0) {
		ctx->error(ctx, "max_disk: needs rotate_size, since files are "
		    "removed whole");
		return RINGFAN_FAIL;
	}
	each = o->max_disk / workers;
	if (o->max_disk != 0 && each < o->rotate_size) {
		ctx->error(ctx, "max_disk: %llu bytes over %u workers is %llu "
		    "each, less than rotate_size (%llu)",
		    (unsigned long long)o->max_disk, workers,
		    (unsigned long long)each,
		    (unsigned long long)o->rotate_size);
		return RINGFAN_FAIL;
	}
	return RINGFAN_OK;
}

/* Validates, and asks for the write buffer and a tick: no other effect. */
static int
pw_check(struct ringfan_ctx *ctx)
{
	struct pw_opts o;

	if (pw_options(ctx, &o) != RINGFAN_OK)
		return RINGFAN_FAIL;
	if (ctx->memory_request(ctx, PW_MEMSIZE, PW_LAYOUT) != 0)
		return RINGFAN_FAIL;
	ctx->tick_period(ctx, PW_TICK_NS);
	return RINGFAN_OK;
}

static uint32_t
pw_linktype(int dlt)
{
	for (size_t i = 0; i < sizeof(pw_linktypes) / sizeof(pw_linktypes[0]);
	    i++)
		if (pw_linktypes[i].dlt == dlt)
			return pw_linktypes[i].linktype;
	return (uint32_t)dlt;
}

/* What every file of this worker starts with. */
static void
pw_filehdr(struct pw *pw)
{
	struct {
		uint32_t	 magic;
		uint16_t	 major, minor;
		int32_t		 thiszone;
		uint32_t	 sigfigs, snaplen, linktype;
	} h = {
		.magic = pw->o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4,
		.major = 2,
		.minor = 4,
		.snaplen = pw->snaplen,
		.linktype = pw_linktype(pw->ctx->linktype),
	};

	_Static_assert(sizeof(h) == PW_FILEHDR, "pcap file header");
	memcpy(pw->filehdr, &h, sizeof(h));
}

static void
pw_free(struct pw *pw)
{
	free(pw->old);
	free(pw);
}

static int
pw_open(struct ringfan_ctx *ctx, void **state)
{
	char err[512];
	struct rlimit rl;
	struct stat st;
	struct pw *pw;
	uint64_t snap;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_RETRY;
	}
	pw->ctx = ctx;
	pw->fd = -1;
	if (pw_options(ctx, &pw->o) != RINGFAN_OK)
		goto fail;
	if (pw_pattern(pw->o.pattern, ctx->capture, ctx->worker_id, pw->pre,
	    pw->post, err, sizeof(err)) == -1) {
		ctx->error(ctx, "%s", err);
		goto fail;
	}
	for (int i = 0; i < PW_NCOUNTERS; i++) {
		/* counter() and gauge() have recorded why they failed. */
		pw->c[i] = i < PW_FIRST_GAUGE ?
		    ctx->counter(ctx, pw_counter_names[i]) :
		    ctx->gauge(ctx, pw_counter_names[i]);
		if (pw->c[i] == NULL)
			goto fail;
	}
	if (ctx->memory == NULL || ctx->memory_size < PW_MEMSIZE) {
		ctx->error(ctx, "host memory: %llu bytes, %zu needed",
		    (unsigned long long)ctx->memory_size, PW_MEMSIZE);
		goto fail;
	}
	pw->m = ctx->memory;
	if ((ctx->flags & RINGFAN_CTX_OFFLINE) &&
	    stat(ctx->interface, &st) == 0) {
		pw->has_input = true;
		pw->input_dev = st.st_dev;
		pw->input_ino = st.st_ino;
	}
	pw->prelen = strlen(pw->pre);
	pw->postlen = strlen(pw->post);
	pw->dirlen = pw_dirlen(pw->o.directory);
	/* No frame is longer than the capture's snaplen anyway. */
	snap = ctx->snaplen == 0 || ctx->snaplen > PW_MAXSNAP ? PW_MAXSNAP :
	    ctx->snaplen;
	if (pw->o.snaplen != 0 && pw->o.snaplen < snap)
		snap = pw->o.snaplen;
	pw->snaplen = (uint32_t)snap;
	pw->budget = pw->o.max_disk / (ctx->worker_count > 0 ?
	    ctx->worker_count : 1);
	/*
	 * A file never grows past the file size limit (ulimit -f, systemd's
	 * LimitFSIZE=): a write there fails, and so would every one after
	 * it in that file, so the limit rotates files as rotate_size does.
	 */
	pw->rotate = pw->o.rotate_size;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		pw->fsize = (uint64_t)rl.rlim_cur;
		if (pw->rotate == 0 || pw->fsize < pw->rotate)
			pw->rotate = pw->fsize;
	}
	pw->deadline = UINT64_MAX;
	pw_filehdr(pw);
	/*
	 * A missing directory is no reason to stop the worker: the other
	 * plugins of the pipeline go on, and pcapwriter shows a status and
	 * tries again every tick (pw_scan, pw_reserve).
	 */
	pw_mem_start(pw);
	pw_gauges(pw);
	*state = pw;
	return RINGFAN_OK;
fail:
	pw_free(pw);
	return RINGFAN_FAIL;
}

static int
pw_packet(void *state, const struct ringfan_packet *pkt)
{
	struct pw *pw = state;
	uint8_t tag[PW_TAGLEN];
	int off = ringfan_stripped_tag(pkt, tag);
	/* The frame as sent: a tag the kernel stripped goes back in. */
	uint32_t whole = pkt->caplen + (off >= 0 ? PW_TAGLEN : 0);
	uint32_t cap = whole < pw->snaplen ? whole : pw->snaplen;
	uint32_t rec = PW_RECHDR + cap;

	if (pkt->ts_ns >= PW_TS_END)
		pw_late(pw, pkt->ts_ns, rec);
	else if (pw->fsize != 0 && PW_FILEHDR + (uint64_t)rec > pw->fsize)
		pw_too_big(pw, rec);
	else if (pw->blocked || pw_reserve(pw, pkt->ts_ns, rec) != 0)
		pw_drop(pw, 1, rec);
	else
		pw_append(pw, pkt, cap, off, tag);
	return RINGFAN_CONTINUE;
}

static void
pw_tick(void *state, uint64_t now_ns)
{
	pw_file_tick(state, now_ns);
}

static void
pw_close(void *state)
{
	struct pw *pw = state;

	pw_file_stop(pw);
	pw_free(pw);
}

RINGFAN_EXPORT const struct ringfan_plugin ringfan_plugin = {
	.abi = RINGFAN_PLUGIN_ABI,
	.size = sizeof(struct ringfan_plugin),
	.name = "pcapwriter",
	.version = "1.0",
	.description = "writes frames to pcap files, rotated, within a disk "
	    "budget, whole after a crash",
	.check = pw_check,
	.open = pw_open,
	.packet = pw_packet,
	.tick = pw_tick,
	.close = pw_close,
};

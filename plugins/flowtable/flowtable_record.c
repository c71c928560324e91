/*
 * flowtable: records and the output file.
 *
 * Records go out in groups, each group one write(2) on an O_APPEND
 * descriptor, so that workers sharing one file never interleave their
 * lines.  A record waits in a pending slot (flowtable_table.c) from its
 * export until write(2) has taken its whole line; a write that fails
 * keeps it there, to be tried again at the next tick.  When every pending
 * slot is taken and the output still fails, a new record is lost and
 * counted in records_lost: the table keeps counting.
 *
 * After a crash the successor decides for each pending slot whether its
 * line reached the file: it looks for that exact line after export_from,
 * the file's size before the write that began the group.  The kernel
 * stops a write to a file between pages when the process is killed, so
 * the group may end in a partial line: in a file of its own (one per
 * worker), the successor cuts it off before it looks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowtable.h"

#define FT_READ_CHUNK	65536

static const char *const ft_reason_name[FT_NREASON] = {
	[FT_IDLE] = "idle",
	[FT_ACTIVE] = "active",
	[FT_END] = "end",
	[FT_EVICTED] = "evicted",
	[FT_SHUTDOWN] = "shutdown",
	/* Cut, the flow going on in a new record, as by active_timeout. */
	[FT_CLOCK] = "active",
};

/*
 * A record is written piece by piece, by hand rather than by snprintf(),
 * whose parsing of the format cost more than the rest of a run over a
 * file, each piece where it goes in the line.  No piece is checked against
 * the end: ft_format() writes into a buffer of FT_LINE_MAX bytes at least,
 * which the widest record fits (FT_REC_WIDEST).
 */

/* A string constant, without its NUL; p moves past it. */
#define FT_LIT(p, lit) \
	(memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/*
 * The widest record: the text between the values (219 bytes), then the
 * widest value of each field: a 10-digit worker, a 4-digit VLAN, a 3-digit
 * protocol, two addresses as inet_ntop() writes IPv6 at its widest
 * (INET6_ADDRSTRLEN less its NUL), two 5-digit ports, six 20-digit
 * numbers, two sets of 8 flags and an 8-letter reason; then a NUL.
 */
#define FT_REC_WIDEST	(219 + 10 + 4 + 3 + 2 * (INET6_ADDRSTRLEN - 1) + \
	    2 * 5 + 6 * 20 + 2 * 8 + 8 + 1)
_Static_assert(FT_REC_WIDEST <= FT_LINE_MAX, "a record fits FT_LINE_MAX");

/* Decimal digits in v. */
static unsigned
ft_digits(uint64_t v)
{
	static const uint64_t pow10[20] = { 1ULL, 10ULL, 100ULL, 1000ULL,
	    10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
	    1000000000ULL, 10000000000ULL, 100000000000ULL,
	    1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
	    1000000000000000ULL, 10000000000000000ULL,
	    100000000000000000ULL, 1000000000000000000ULL,
	    10000000000000000000ULL };
	uint64_t u = v | 1;
	/*
	 * 1233 / 4096 is log10(2) closely enough that t is the largest k
	 * with 10^k <= 2^bits for every length up to 64; u, below 2^bits
	 * and at least half of it, has t or t + 1 digits.
	 */
	unsigned t = (unsigned)(64 - __builtin_clzll(u)) * 1233 >> 12;

	return t + (u >= pow10[t]);
}

static const char ft_pairs[] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* The 8 digits of v < 10^8, leading zeros included, ending before q. */
static inline void
ft_put8(char *q, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	memcpy(q - 8, ft_pairs + hi / 100 * 2, 2);
	memcpy(q - 6, ft_pairs + hi % 100 * 2, 2);
	memcpy(q - 4, ft_pairs + lo / 100 * 2, 2);
	memcpy(q - 2, ft_pairs + lo % 100 * 2, 2);
}

/* v in decimal at p; returns the end. */
static char *
ft_put_u64(char *p, uint64_t v)
{
	char *q, *end;
	uint32_t w;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	end = q = p + ft_digits(v);
	/*
	 * From the last digit: eight at a time while more remain (times in
	 * nanoseconds have 19), then two a division in 32 bits.
	 */
	for (; v >= 100000000; q -= 8, v /= 100000000)
		ft_put8(q, (uint32_t)(v % 100000000));
	for (w = (uint32_t)v; w >= 100; w /= 100) {
		q -= 2;
		memcpy(q, ft_pairs + w % 100 * 2, 2);
	}
	if (w >= 10)
		memcpy(q - 2, ft_pairs + w * 2, 2);
	else
		q[-1] = (char)('0' + w);
	return end;
}

/* The numbers 0 to 255: their digits, padded to 3 bytes, and how many. */
#define FT_TEN(d, tail)	d "0" tail, d "1" tail, d "2" tail, d "3" tail, \
	    d "4" tail, d "5" tail, d "6" tail, d "7" tail, d "8" tail, \
	    d "9" tail
#define FT_HUNDRED(d)	FT_TEN(d "0", "\3"), FT_TEN(d "1", "\3"), \
	    FT_TEN(d "2", "\3"), FT_TEN(d "3", "\3"), FT_TEN(d "4", "\3"), \
	    FT_TEN(d "5", "\3"), FT_TEN(d "6", "\3"), FT_TEN(d "7", "\3"), \
	    FT_TEN(d "8", "\3"), FT_TEN(d "9", "\3")
static const char ft_octets[256][4] = {
	FT_TEN("", "\0\0\1"), FT_TEN("1", "\0\2"), FT_TEN("2", "\0\2"),
	FT_TEN("3", "\0\2"), FT_TEN("4", "\0\2"), FT_TEN("5", "\0\2"),
	FT_TEN("6", "\0\2"), FT_TEN("7", "\0\2"), FT_TEN("8", "\0\2"),
	FT_TEN("9", "\0\2"), FT_HUNDRED("1"),
	FT_TEN("20", "\3"), FT_TEN("21", "\3"), FT_TEN("22", "\3"),
	FT_TEN("23", "\3"), FT_TEN("24", "\3"),
	"250\3", "251\3", "252\3", "253\3", "254\3", "255\3"
};

/*
 * An address as text at p; returns the end, or NULL when inet_ntop()
 * fails.  IPv4 by hand: inet_ntop() formats each of its four numbers with
 * sprintf(), which made it most of a record's cost.  Each number is copied
 * as its 4 bytes of ft_octets, the next piece written over what follows
 * its digits (the line has room for IPv6's widest, FT_REC_WIDEST).
 */
static char *
ft_put_addr(char *p, const struct ft_flow *f, const uint8_t *a)
{
	if (f->ipver != 4) {
		if (inet_ntop(AF_INET6, a, p, INET6_ADDRSTRLEN) == NULL)
			return NULL;
		return p + strlen(p);
	}
	for (int i = 0; i < 4; i++) {
		memcpy(p, ft_octets[a[i]], 4);
		p += ft_octets[a[i]][3];
		*p++ = '.';
	}
	return p - 1;
}

/* TCP flags as letters at p, in the order of their bits from FIN up. */
static char *
ft_put_flags(char *p, uint8_t flags)
{
	static const char letters[] = "FSRPAUEC";

	for (int b = 0; flags != 0; b++, flags >>= 1)
		if (flags & 1)
			*p++ = letters[b];
	return p;
}

/* The record's line at p, FT_LINE_MAX bytes at least; NULL as ft_put_addr. */
static char *
ft_line(char *p, const struct ft_flow *f, unsigned worker)
{
	const char *reason = f->reason < FT_NREASON &&
	    ft_reason_name[f->reason] != NULL ? ft_reason_name[f->reason] :
	    "unknown";
	size_t n = strlen(reason);

	FT_LIT(p, "{\"worker\": ");
	p = ft_put_u64(p, worker);
	FT_LIT(p, ", \"vlan\": ");
	if (f->has_vlan)
		p = ft_put_u64(p, f->vlan);
	else
		FT_LIT(p, "null");
	FT_LIT(p, ", \"proto\": ");
	p = ft_put_u64(p, f->proto);
	FT_LIT(p, ", \"src\": \"");
	if ((p = ft_put_addr(p, f, f->src)) == NULL)
		return NULL;
	FT_LIT(p, "\", \"sport\": ");
	p = ft_put_u64(p, f->sport);
	FT_LIT(p, ", \"dst\": \"");
	if ((p = ft_put_addr(p, f, f->dst)) == NULL)
		return NULL;
	FT_LIT(p, "\", \"dport\": ");
	p = ft_put_u64(p, f->dport);
	FT_LIT(p, ", \"first_ns\": ");
	p = ft_put_u64(p, f->first_ns);
	FT_LIT(p, ", \"last_ns\": ");
	p = ft_put_u64(p, f->last_ns);
	FT_LIT(p, ", \"fwd\": {\"packets\": ");
	p = ft_put_u64(p, f->packets[0]);
	FT_LIT(p, ", \"bytes\": ");
	p = ft_put_u64(p, f->bytes[0]);
	FT_LIT(p, ", \"tcp_flags\": \"");
	p = ft_put_flags(p, f->tcp_flags[0]);
	FT_LIT(p, "\"}, \"rev\": {\"packets\": ");
	p = ft_put_u64(p, f->packets[1]);
	FT_LIT(p, ", \"bytes\": ");
	p = ft_put_u64(p, f->bytes[1]);
	FT_LIT(p, ", \"tcp_flags\": \"");
	p = ft_put_flags(p, f->tcp_flags[1]);
	FT_LIT(p, "\"}, \"reason\": \"");
	memcpy(p, reason, n);
	p += n;
	FT_LIT(p, "\"}\n");
	return p;
}

/*
 * The record's line, newline included, and a NUL after it, into out of
 * cap bytes; its length, or 0 if it does not fit.  Straight into out when
 * out is wide enough for any record, else built aside.
 */
size_t
ft_format(const struct ft_flow *f, unsigned worker, char *out, size_t cap)
{
	char aside[FT_LINE_MAX], *start = cap >= FT_LINE_MAX ? out : aside;
	char *end = ft_line(start, f, worker);
	size_t n;

	if (end == NULL)
		return 0;
	n = (size_t)(end - start);
	if (n >= cap)
		return 0;
	if (start == aside)
		memcpy(out, aside, n);
	out[n] = '\0';
	return n;
}

/*
 * Counted and shown as the status at each failed try; logged once per
 * spell of failures, so that the log says why records stop coming.
 */
static void
ft_write_fail(struct ft *ft, const char *why)
{
	++*ft->c[FC_WRITE_ERRORS];
	ft->ctx->status(ft->ctx, "output %s: %s", ft->path, why);
	if (!ft->failing)
		ft->ctx->log(ft->ctx, RINGFAN_LOG_WARN, "output %s: %s; up to "
		    "%u records wait, tried again at every tick, and those of "
		    "flows that end beyond them are lost (records_lost)",
		    ft->path, why, FT_NPEND);
	ft->failing = 1;
}

static void
ft_write_error(struct ft *ft, int err)
{
	ft_write_fail(ft, strerror(err));
}

/* A record lost, the pending slots full: logged once per spell. */
void
ft_output_lost(struct ft *ft)
{
	++*ft->c[FC_LOST];
	if (ft->failing != 1 || ft->closing)	/* at close: said there */
		return;
	ft->ctx->log(ft->ctx, RINGFAN_LOG_ERROR, "output %s: %u records "
	    "wait; records of flows that end now are lost until it works "
	    "again (records_lost)", ft->path, FT_NPEND);
	ft->failing = 2;
}

/*
 * A FIFO at the path is refused: a reader that stops reading, or none at
 * all (opened for reading and writing, the FIFO has the worker itself as
 * its reader), would hold a write, and the worker with it, for good.
 * O_NONBLOCK keeps the open from waiting for a reader; it is taken off
 * again for a file or a device.  (A socket's path cannot be opened:
 * ENXIO.)
 */
void
ft_output_open(struct ft *ft)
{
	struct stat st;
	int fd;

	if (ft->fd != -1 || ft->o.output == NULL)
		return;
	fd = open(ft->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1) {
		ft_write_error(ft, errno);
		return;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, O_APPEND) == -1) {
		ft_write_error(ft, errno);
		close(fd);
		return;
	}
	if (S_ISFIFO(st.st_mode)) {
		close(fd);
		ft_write_fail(ft, "a FIFO, not a file: a write could wait for "
		    "a reader for good");
		return;
	}
	ft->fd = fd;
}

void
ft_output_check(struct ft *ft, uint64_t now_ns)
{
	struct stat a, b;

	/* Once a second of network time: a stat, not a cost per frame. */
	if (ft->fd == -1 || now_ns < ft->checked_ns + 1000000000ULL)
		return;
	ft->checked_ns = now_ns;
	if (fstat(ft->fd, &a) == 0 && (stat(ft->path, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
		ft->ctx->log(ft->ctx, RINGFAN_LOG_INFO, "output %s: renamed or "
		    "removed; opening it anew", ft->path);
		close(ft->fd);
		ft->fd = -1;
	}
}

/*
 * Whether fd's file ends in the middle of a line (a write cut by a crash,
 * a full disk, or another process): the next group then starts with a
 * newline of its own, so that its first line is one line, whole.
 */
static int
ft_output_unfinished(int fd, off_t size)
{
	char last;

	return size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

/*
 * Appends pending slot p's line to the group that goes out next; without a
 * file (ipfix only) there is no line to make.
 */
void
ft_queue(struct ft *ft, uint32_t p)
{
	size_t cap = (size_t)FT_NPEND * FT_LINE_MAX;

	if (ft->o.output != NULL)
		ft->buflen += ft_format(&ft->slot[p], ft->worker,
		    ft->buf + ft->buflen, cap - ft->buflen);
	ft->pend[ft->npend] = p;
	ft->pend_end[ft->npend++] = ft->buflen;
}

/* Frees the first k pending slots and moves the rest to the front. */
static void
ft_pending_done(struct ft *ft, uint32_t k)
{
	size_t start = k > 0 ? ft->pend_end[k - 1] : 0;

	for (uint32_t i = 0; i < k; i++) {
		ft_free_pending(ft, ft->pend[i]);
		++*ft->c[FC_RECORDS];
	}
	memmove(ft->buf, ft->buf + start, ft->buflen - start);
	ft->buflen -= start;
	for (uint32_t i = k; i < ft->npend; i++) {
		ft->pend[i - k] = ft->pend[i];
		ft->pend_end[i - k] = ft->pend_end[i] - start;
	}
	ft->npend -= k;
}

/*
 * A write stopped inside a line (a full disk) left the first part of it,
 * n bytes, at the end of this worker's own file: cut it off, so that the
 * line goes out whole at the next try.  That try may write to another
 * file, the one found at the path after a rotation: finishing the line
 * there would split the record over two files.
 */
static void
ft_cut_unfinished(struct ft *ft, size_t n)
{
	struct stat st;

	if (fstat(ft->fd, &st) == 0) {
		/* Shorter: cut by someone else (copytruncate), nothing to do. */
		if ((uint64_t)st.st_size < n ||
		    ftruncate(ft->fd, st.st_size - (off_t)n) == 0)
			return;
	}
	ft->ctx->log(ft->ctx, RINGFAN_LOG_WARN, "output %s: could not cut "
	    "off the %zu bytes of a record a failed write left: %s", ft->path,
	    n, strerror(errno));
}

/*
 * Writes the pending group.  0 when everything went out, -1 (counted,
 * status set) when something is left for the next try, which writes the
 * line that a failed write stopped inside again whole.
 */
int
ft_flush(struct ft *ft)
{
	struct stat st;
	size_t sent = 0;
	uint32_t k;
	ssize_t n;
	int err = 0;

	if (ft->npend == 0)
		return 0;
	/* Without a file (ipfix only) a record is done once exported. */
	if (ft->o.output == NULL) {
		ft_pending_done(ft, ft->npend);
		return 0;
	}
	ft_output_open(ft);
	if (ft->fd == -1)
		return -1;
	if (fstat(ft->fd, &st) == -1) {
		err = errno;
		goto fail;
	}
	/* Before the write: see the invariant in flowtable_table.c. */
	*(volatile uint64_t *)&ft->rg->export_from = (uint64_t)st.st_size;
	if (ft_output_unfinished(ft->fd, st.st_size) &&
	    write(ft->fd, "\n", 1) != 1) {
		err = errno != 0 ? errno : EIO;
		goto fail;
	}
	FT_HOOK(ft, FT_HOOK_BEFORE_WRITE);
	while (sent < ft->buflen) {
		n = write(ft->fd, ft->buf + sent, ft->buflen - sent);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? EIO : errno;
			break;
		}
		sent += (size_t)n;
	}
	FT_HOOK(ft, FT_HOOK_AFTER_WRITE);
	for (k = 0; k < ft->npend && ft->pend_end[k] <= sent; k++)
		;
	/* The bytes of the line the write stopped inside. */
	sent -= k > 0 ? ft->pend_end[k - 1] : 0;
	ft_pending_done(ft, k);
	/*
	 * In a file the workers share, other lines may follow the cut one
	 * before this worker writes again: there the cut part is ended by a
	 * newline at the next try (ft_output_unfinished).
	 */
	if (ft->per_worker && sent > 0)
		ft_cut_unfinished(ft, sent);
	if (err == 0) {
		if (ft->failing) {
			ft->ctx->status(ft->ctx, NULL);
			ft->ctx->log(ft->ctx, RINGFAN_LOG_INFO, "output %s: "
			    "writing again", ft->path);
			ft->failing = 0;
		}
		return 0;
	}
fail:
	/* Opened again next time: the path may be fixed by then. */
	close(ft->fd);
	ft->fd = -1;
	ft_write_error(ft, err);
	return -1;
}

static uint64_t
ft_fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * In a file of this worker's own, a line cut by the kill ends the file:
 * cut it off, so that the line goes out again whole.  Only after `from`,
 * where this worker's last group began.
 */
static off_t
ft_cut_partial(struct ft *ft, int fd, off_t from, off_t size, char *chunk)
{
	off_t pos = size, cut = from;
	ssize_t n;
	size_t len;

	if (size <= from || pread(fd, chunk, 1, size - 1) != 1 ||
	    chunk[0] == '\n')
		return size;
	while (pos > from) {
		len = (size_t)(pos - from < FT_READ_CHUNK ? pos - from :
		    FT_READ_CHUNK);
		if ((n = pread(fd, chunk, len, pos - (off_t)len)) !=
		    (ssize_t)len)
			return size;
		for (size_t i = len; i-- > 0;)
			if (chunk[i] == '\n') {
				cut = pos - (off_t)len + (off_t)i + 1;
				goto found;
			}
		pos -= (off_t)len;
	}
found:
	if (ftruncate(fd, cut) == -1)
		return size;
	ft->ctx->log(ft->ctx, RINGFAN_LOG_WARN, "output %s: cut %lld bytes of "
	    "a record the crash left unfinished", ft->path,
	    (long long)(size - cut));
	return cut;
}

/* Marks found[k] for each pending line k that is in the file after from. */
static void
ft_scan_output(struct ft *ft, const uint64_t *h, uint8_t *found, uint32_t n)
{
	struct stat st;
	char *chunk, line[FT_LINE_MAX];
	size_t len = 0, start;
	/*
	 * Read once, as a predecessor left it: a region edited or torn may
	 * hold any 64 bits, and one past INT64_MAX is no offset at all (as
	 * off_t it went negative, passed the size check below, and the
	 * lengths taken from it overflowed).  Past the file's size it is
	 * not in the file either: nothing is found, the lines are written.
	 */
	uint64_t from64 = ft->rg->export_from;
	off_t from, pos, size;
	ssize_t got;
	int fd, over = 0;
	uint64_t lh;

	/* Only a regular file is read: a FIFO would wait for a writer. */
	fd = open(ft->path, (ft->per_worker ? O_RDWR : O_RDONLY) | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    from64 > (uint64_t)st.st_size ||
	    (chunk = malloc(FT_READ_CHUNK)) == NULL) {
		close(fd);
		return;
	}
	from = (off_t)from64;
	size = st.st_size;
	if (ft->per_worker)
		size = ft_cut_partial(ft, fd, from, size, chunk);
	for (pos = from; pos < size; pos += got) {
		got = pread(fd, chunk, (size_t)(size - pos < FT_READ_CHUNK ?
		    size - pos : FT_READ_CHUNK), pos);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (len < sizeof(line))
				line[len++] = chunk[i];
			else
				over = 1;
			if (chunk[i] != '\n')
				continue;
			lh = over ? 0 : ft_fnv(line, len);
			for (uint32_t k = 0; !over && k < n; k++) {
				start = k > 0 ? ft->pend_end[k - 1] : 0;
				if (!found[k] && h[k] == lh &&
				    ft->pend_end[k] - start == len &&
				    memcmp(ft->buf + start, line, len) == 0) {
					found[k] = 1;
					break;
				}
			}
			len = 0;
			over = 0;
		}
	}
	free(chunk);
	close(fd);
}

/*
 * The pending slots idx[0 .. n), oldest first, that a predecessor left:
 * those whose line is in the file are freed, the others queued to go out.
 */
void
ft_recover_pending(struct ft *ft, const uint32_t *idx, uint32_t n)
{
	uint64_t h[FT_NPEND];
	uint8_t found[FT_NPEND] = { 0 };
	size_t prev = 0, w = 0, len;
	uint32_t m = 0, written = 0;

	for (uint32_t k = 0; k < n; k++) {
		ft_queue(ft, idx[k]);
		h[k] = ft_fnv(ft->buf + prev, ft->pend_end[k] - prev);
		prev = ft->pend_end[k];
	}
	if (n > 0 && ft->o.output != NULL)
		ft_scan_output(ft, h, found, n);
	prev = 0;
	for (uint32_t k = 0; k < n; k++) {
		len = ft->pend_end[k] - prev;
		if (found[k]) {
			ft_free_pending(ft, ft->pend[k]);
			++*ft->c[FC_RECORDS];
			written++;
		} else {
			memmove(ft->buf + w, ft->buf + prev, len);
			w += len;
			ft->pend[m] = ft->pend[k];
			ft->pend_end[m++] = w;
		}
		prev += len;
	}
	ft->buflen = w;
	ft->npend = m;
	ft->ctx->log(ft->ctx, RINGFAN_LOG_INFO, "recovered %u flows; of %u "
	    "records being written, %u had reached %s", ft->live, n, written,
	    ft->path);
}

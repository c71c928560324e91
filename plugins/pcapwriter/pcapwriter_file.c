/*
 * pcapwriter's files: the write buffer in host memory, opening, flushing,
 * rotating and recovering a file, and the disk budget (max_disk).
 *
 * Crash safety.  The worker can be killed between any two instructions, and
 * its successor carries on from host memory (struct pw_mem), which
 * outlives it.  What is there is consistent at every instant because each
 * change is one word stored by the one writer (PW_STORE), in an order that
 * keeps these true:
 *
 *	live == 1	slot.path names the open file
 *	start <= base <= end, end - start <= PW_BUF
 *	buf[0, end - start) holds the file's bytes [start, end)
 *	the file's bytes [0, base) are on disk: the file header and whole
 *	records; what the file holds beyond base is never needed
 *
 * append	copy the record to buf[end - start], then end += its length
 * flush	pwrite buf[base - start, end - start) at base, then base = end
 * failed flush	cut the file after the last whole record written, then
 *		end = that offset, then base = end: the rest is dropped
 * empty	start = end, only when base == end
 * new file	fill slot and the file header in buf (live is 0), then live = 1,
 *		then create the file; its first record waits for a flush of
 *		the header (pw_reserve, after max_disk made room)
 * close	flush, close(2), then live = 0
 *
 * A successor truncates the file to base (a write cut short leaves a
 * partial record there; a write that completed before base moved leaves
 * bytes it is about to write again, the same ones) and writes [base, end).
 * So every record is in the file once or not at all, and only the frame
 * being copied when the kill came can be missing: that is the frame the
 * host counts as quarantined.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcapwriter.h"

/* The whole records in a span of buffered file bytes. */
struct pw_span {
	uint64_t	 end;		/* where the last whole record ends */
	uint64_t	 frames;
	uint64_t	 bytes;		/* the file header included */
};

static int	pw_flush(struct pw *);

static const char *
pw_basename(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

void
pw_gauges(struct pw *pw)
{
	uint64_t open = pw->s != NULL ? pw->s->base : 0;

	*pw->c[PW_OPEN_BYTES] = open;
	*pw->c[PW_DISK_BYTES] = pw->old_bytes + open;
}

void
pw_drop(struct pw *pw, uint64_t frames, uint64_t bytes)
{
	*pw->c[PW_FRAMES_DROPPED] += frames;
	*pw->c[PW_BYTES_DROPPED] += bytes;
}

/*
 * Writing failed: counted, shown as the status, and frames are dropped
 * until the next tick tries again.  Logged once per spell of failures.
 */
static void
pw_fail(struct pw *pw, const char *call, const char *path, const char *why)
{
	++*pw->c[PW_WRITE_ERRORS];
	pw->blocked = true;
	pw->ctx->status(pw->ctx, "%s %s: %s", call, path, why);
	if (!pw->failing)
		pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "%s %s: %s; frames are "
		    "dropped until writing works again (tried every second)",
		    call, path, why);
	pw->failing = true;
}

/*
 * A frame of spell sp, which no file can hold, dropped; true when the spell
 * begins.  Each kind is shown as the status while its frames come (unless
 * a write failure's is shown) and logged once per spell of them, which a
 * tick without one ends.
 */
static bool
pw_spell_frame(struct pw *pw, struct pw_spell *sp, uint32_t rec)
{
	pw_drop(pw, 1, rec);
	sp->tick = true;
	if (sp->on)
		return false;
	sp->on = true;
	return true;
}

/* The tick: true when spell sp had no frame since the last one, and ends. */
static bool
pw_spell_ends(struct pw_spell *sp)
{
	bool ends = sp->on && !sp->tick;

	if (ends)
		sp->on = false;
	sp->tick = false;
	return ends;
}

static void
pw_spells_tick(struct pw *pw)
{
	bool ended = pw_spell_ends(&pw->late);

	ended |= pw_spell_ends(&pw->big);
	if (ended && !pw->late.on && !pw->big.on && !pw->failing)
		pw->ctx->status(pw->ctx, NULL);
}

/*
 * A frame stamped at or after PW_TS_END: a record would hold its seconds
 * wrapped, a time 136 years earlier, so it is dropped instead.
 */
void
pw_late(struct pw *pw, uint64_t ts_ns, uint32_t rec)
{
	static const char last[] = "2106-02-07T06:28:15Z";
	time_t t = (time_t)(ts_ns / 1000000000u);
	char stamp[64];
	struct tm tm;
	bool begins = pw_spell_frame(pw, &pw->late, rec);

	if (!pw->failing)
		pw->ctx->status(pw->ctx, "frames stamped after %s, the last "
		    "second a pcap file can hold, are dropped", last);
	if (!begins)
		return;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%llu s after 1970",
		    (unsigned long long)(ts_ns / 1000000000u));
	pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "frame stamped %s: past %s, "
	    "the last second a pcap file can hold; such frames are dropped",
	    stamp, last);
}

/*
 * A frame whose record does not fit a file under the file size limit,
 * even a new one: dropped alone, without a file made for it or a write
 * tried, so that the frames around it are written as usual.
 */
void
pw_too_big(struct pw *pw, uint32_t rec)
{
	bool begins = pw_spell_frame(pw, &pw->big, rec);

	if (!pw->failing)
		pw->ctx->status(pw->ctx, "frames larger than the file size "
		    "limit (%llu bytes) are dropped",
		    (unsigned long long)pw->fsize);
	if (begins)
		pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "a record of %u bytes "
		    "does not fit a file under the file size limit (%llu "
		    "bytes); such frames are dropped", rec,
		    (unsigned long long)pw->fsize);
}

/* A write went through: the problem, if any, is over. */
static void
pw_works(struct pw *pw)
{
	if (!pw->failing)
		return;
	pw->failing = false;
	pw->ctx->status(pw->ctx, NULL);
	pw->ctx->log(pw->ctx, RINGFAN_LOG_INFO, "writing to %s again",
	    pw->s->path);
}

/*
 * The whole records among the buffered file bytes [from, to) of slot s:
 * from is a record boundary, or 0, where the file header comes first.
 */
static void
pw_walk(const struct pw *pw, const struct pw_slot *s, uint64_t from,
    uint64_t to, struct pw_span *sp)
{
	uint64_t pos = from;
	uint32_t caplen;

	sp->end = from;
	sp->frames = sp->bytes = 0;
	if (pos == 0) {
		if (to < PW_FILEHDR)
			return;
		pos = sp->end = sp->bytes = PW_FILEHDR;
	}
	while (to - pos >= PW_RECHDR) {
		memcpy(&caplen, pw->m->buf + (pos - s->start) + 8,
		    sizeof(caplen));
		if (caplen > PW_MAXSNAP || to - pos - PW_RECHDR < caplen)
			break;
		pos += PW_RECHDR + caplen;
		sp->frames++;
		sp->bytes += PW_RECHDR + caplen;
		sp->end = pos;
	}
}

/* Closes the open file and forgets it; remove: unlink it too. */
static void
pw_forget(struct pw *pw, bool remove)
{
	if (remove && unlink(pw->s->path) == -1 && errno != ENOENT)
		pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "unlink %s: %s",
		    pw->s->path, strerror(errno));
	close(pw->fd);
	pw->fd = -1;
	PW_STORE(&pw->m->live, 0);
	pw->s = NULL;
	pw->deadline = UINT64_MAX;
}

/*
 * Whether the open file was removed (by hand, or with its directory) or
 * cut shorter than what was written to it (`: > FILE`, logrotate's
 * copytruncate: writing on at the old offset would leave zeros where its
 * header was) since it was opened.  Then the frames of the buffer are
 * counted as dropped, not written to a file no one can read, the file is
 * forgotten and the next frame starts a new one.  Asked before every
 * write of the buffer but the new file's header: fstat(2) once a flush,
 * never once a frame.
 */
static bool
pw_gone(struct pw *pw)
{
	struct pw_span sp;
	struct stat st;

	if (fstat(pw->fd, &st) == -1 ||
	    (st.st_nlink != 0 && (uint64_t)st.st_size >= pw->s->base))
		return false;
	if (st.st_nlink == 0)
		pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "%s: removed while "
		    "open; a new file starts", pw->s->path);
	else
		pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "%s: truncated while "
		    "open (%llu bytes, %llu written); a new file starts",
		    pw->s->path, (unsigned long long)st.st_size,
		    (unsigned long long)pw->s->base);
	pw_walk(pw, pw->s, pw->s->base, pw->s->end, &sp);
	pw_drop(pw, sp.frames, sp.bytes);
	pw_forget(pw, false);
	pw_gauges(pw);
	return true;
}

/*
 * The file numbered seq was never made, or went before it held a pcap
 * header: its number goes to the next file made, unless a later one was
 * taken since.  Otherwise every retry of a full disk or an unwritable
 * directory, once a second, would take one.
 */
static void
pw_seq_unused(struct pw *pw, uint64_t seq)
{
	if (pw->m->seq == seq)
		PW_STORE(&pw->m->seq, seq - 1);
}

/*
 * A flush wrote `done` bytes, then failed with err (a full disk, a file
 * size limit).  The whole records among them stay, the file is cut back to
 * its last whole record, and the rest of the buffer is dropped.
 */
static int
pw_flush_failed(struct pw *pw, uint64_t done, int err)
{
	struct pw_slot *s = pw->s;
	struct pw_span ok, lost;
	uint64_t seq;

	pw_walk(pw, s, s->base, s->base + done, &ok);
	pw_walk(pw, s, ok.end, s->end, &lost);
	if (ok.end < s->base + done && ftruncate(pw->fd, (off_t)ok.end) == -1)
		pw->ctx->log(pw->ctx, RINGFAN_LOG_ERROR, "ftruncate %s: %s",
		    s->path, strerror(errno));
	/* end first: a successor then writes the part it keeps again. */
	PW_STORE(&s->end, ok.end);
	PW_STORE(&s->base, ok.end);
	*pw->c[PW_FRAMES] += ok.frames;
	*pw->c[PW_BYTES] += ok.bytes;
	pw_drop(pw, lost.frames, lost.bytes);
	pw_fail(pw, "write", s->path, strerror(err));
	if (ok.end == 0) {
		/* Not even its header (a full disk): no pcap file. */
		seq = s->seq;
		pw_forget(pw, true);
		pw_seq_unused(pw, seq);
	}
	pw_gauges(pw);
	return -1;
}

/*
 * Writes the buffered bytes [base, end) at base; 0, or -1 on failure.
 * base moves only once all of them are written (the rules at the top).
 */
static int
pw_flush(struct pw *pw)
{
	struct pw_slot *s = pw->s;
	const uint8_t *p = pw->m->buf + (s->base - s->start);
	uint64_t len = s->end - s->base, done = 0;
	struct pw_span sp;
	ssize_t n;

	while (done < len) {
		n = pwrite(pw->fd, p + done, len - done,
		    (off_t)(s->base + done));
		if (n > 0)
			done += (uint64_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			return pw_flush_failed(pw, done, n == 0 ? EIO : errno);
	}
	pw_walk(pw, s, s->base, s->end, &sp);
	PW_STORE(&s->base, s->end);
	*pw->c[PW_FRAMES] += sp.frames;
	*pw->c[PW_BYTES] += sp.bytes;
	pw_works(pw);
	pw_gauges(pw);
	return 0;
}

/* Puts DIR/name in pw->path (name "" gives the directory itself). */
static void
pw_dir_path(struct pw *pw, const char *name)
{
	if (name[0] == '\0' && pw->dirlen == 0)
		snprintf(pw->path, sizeof(pw->path), "/");
	else
		snprintf(pw->path, sizeof(pw->path), "%.*s%s%s",
		    (int)pw->dirlen, pw->o.directory, name[0] != '\0' ? "/" :
		    "", name);
}

/* Puts the path of the file opened at ts with number seq in pw->path. */
static void
pw_file_path(struct pw *pw, uint64_t ts, uint64_t seq)
{
	char stamp[32];
	time_t t = (time_t)(ts / 1000000000u);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) != PW_STAMP)
		snprintf(stamp, sizeof(stamp), "00000000T000000Z");
	snprintf(pw->path, sizeof(pw->path), "%.*s/%s%s-%06llu%s",
	    (int)pw->dirlen, pw->o.directory, pw->pre, stamp,
	    (unsigned long long)seq, pw->post);
}

/*
 * Whether name is one of this worker's files, and its sequence number:
 * pre, 20261202T013000Z-, the digits pw_file_path() writes (6 to 19, no
 * leading zero beyond 6), post.  Any other name is not the worker's to
 * remove (max_disk), whatever its likeness.
 */
bool
pw_name_seq(const struct pw *pw, const char *name, uint64_t *seq)
{
	static const char form[] = "########T######Z-";
	const size_t flen = sizeof(form) - 1;
	size_t n = strlen(name), digits;
	const char *t = name + pw->prelen;
	uint64_t v = 0;

	if (n < pw->prelen + flen + 1 + pw->postlen ||
	    memcmp(name, pw->pre, pw->prelen) != 0 ||
	    memcmp(name + n - pw->postlen, pw->post, pw->postlen) != 0)
		return false;
	for (size_t i = 0; i < flen; i++)
		if (form[i] == '#' ? !isdigit((unsigned char)t[i]) :
		    t[i] != form[i])
			return false;
	digits = n - pw->prelen - flen - pw->postlen;
	if (digits < 6 || digits > 19 || (digits > 6 && t[flen] == '0'))
		return false;
	for (t += flen; digits > 0; digits--, t++) {
		if (!isdigit((unsigned char)*t))
			return false;
		v = v * 10 + (uint64_t)(*t - '0');
	}
	*seq = v;
	return true;
}

/*
 * Counts a closed file, and with max_disk lists it for removal.  The list
 * grows by doubling, at a rotation: no frame pays for it.
 */
static void
pw_old_add(struct pw *pw, const char *name, uint64_t seq, uint64_t size)
{
	struct pw_old *o;
	size_t cap;

	pw->old_bytes += size;
	if (pw->budget == 0)
		return;
	if (pw->head + pw->nold == pw->oldcap) {
		if (pw->head > 0) {
			memmove(pw->old, pw->old + pw->head,
			    pw->nold * sizeof(*pw->old));
			pw->head = 0;
		} else {
			cap = pw->oldcap != 0 ? 2 * pw->oldcap : 64;
			if ((o = reallocarray(pw->old, cap,
			    sizeof(*pw->old))) == NULL) {
				pw->ctx->log(pw->ctx, RINGFAN_LOG_ERROR,
				    "out of memory: %s is left out of max_disk",
				    name);
				pw->old_bytes -= size;
				return;
			}
			pw->old = o;
			pw->oldcap = cap;
		}
	}
	o = &pw->old[pw->head + pw->nold++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->seq = seq;
	o->size = size;
}

static int
pw_old_cmp(const void *a, const void *b)
{
	const struct pw_old *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Lists this worker's files already in the directory (of earlier runs, or
 * of its predecessor), oldest first, for max_disk and the disk_bytes gauge;
 * and numbers the next file after the highest found.  quiet: a failure
 * keeps the list as it was, and is no write error (pw_file_tick's rescan).
 */
static void
pw_scan_dir(struct pw *pw, bool quiet)
{
	const char *live = pw->m->live ? pw_basename(pw->m->slot.path) : NULL;
	struct dirent *e;
	struct stat st;
	uint64_t seq, max = 0;
	DIR *d;

	pw_dir_path(pw, "");
	if ((d = opendir(pw->path)) == NULL) {
		if (!quiet)
			pw_fail(pw, "opendir", pw->path, strerror(errno));
		return;
	}
	pw->head = pw->nold = 0;
	pw->old_bytes = 0;
	while ((e = readdir(d)) != NULL) {
		if (!pw_name_seq(pw, e->d_name, &seq))
			continue;
		if (seq > max)
			max = seq;
		if ((live != NULL && strcmp(e->d_name, live) == 0) ||
		    fstatat(dirfd(d), e->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		/* Offline, the file read is one of them: it stays. */
		if (pw->has_input && st.st_dev == pw->input_dev &&
		    st.st_ino == pw->input_ino) {
			if (!quiet)
				pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN,
				    "max_disk: %s is the file read; it is "
				    "kept, outside the budget", e->d_name);
			continue;
		}
		pw_old_add(pw, e->d_name, seq, (uint64_t)st.st_size);
	}
	closedir(d);
	if (pw->nold > 0)
		qsort(pw->old, pw->nold, sizeof(*pw->old), pw_old_cmp);
	if (max > pw->m->seq)
		PW_STORE(&pw->m->seq, max);
	pw->scanned = true;
}

void
pw_scan(struct pw *pw)
{
	pw_scan_dir(pw, false);
}

/*
 * Removes this worker's oldest closed files until its files, the open one
 * with `rec` more bytes included, fit in its share of max_disk.
 */
static void
pw_room(struct pw *pw, uint32_t rec)
{
	uint64_t open = pw->s->end + rec;
	struct pw_old *o;

	if (pw->old_bytes + open <= pw->budget || pw->nold == 0)
		return;
	while (pw->nold > 0 && pw->old_bytes + open > pw->budget) {
		o = &pw->old[pw->head];
		pw_dir_path(pw, o->name);
		if (unlink(pw->path) == 0)
			++*pw->c[PW_REMOVED];
		else if (errno != ENOENT) {
			/* Not retried: max_disk is then exceeded by it. */
			++*pw->c[PW_WRITE_ERRORS];
			pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "max_disk: "
			    "unlink %s: %s", pw->path, strerror(errno));
		}
		pw->old_bytes -= o->size;
		pw->head++;
		pw->nold--;
	}
	pw_gauges(pw);
}

/* When a file opened at ts rotates: at the next multiple of the interval. */
static uint64_t
pw_deadline(const struct pw *pw, uint64_t ts)
{
	uint64_t iv = pw->o.rotate_interval;

	if (iv == 0 || ts / iv >= UINT64_MAX / iv - 1)
		return UINT64_MAX;
	return (ts / iv + 1) * iv;
}

/* Opens a new file for a frame stamped ts; 0, or -1 (status set). */
static int
pw_file_new(struct pw *pw, uint64_t ts)
{
	struct pw_mem *m = pw->m;
	struct pw_slot *s = &m->slot;
	struct stat st;
	uint64_t seq;
	int fd, err;

	if (!pw->scanned) {
		pw_scan(pw);
		if (!pw->scanned)
			return -1;
	}
	/*
	 * A name nothing has: not a file of another process, of a clock gone
	 * back, nor a symbolic link (dangling too: lstat, not access, which
	 * follows it), made since the directory was listed.  O_EXCL makes
	 * sure of it; a name taken between the lstat and the open is passed
	 * over as well.
	 */
	for (int tries = 0;; tries++) {
		seq = m->seq + 1;
		PW_STORE(&m->seq, seq);
		pw_file_path(pw, ts, seq);
		if (lstat(pw->path, &st) == 0) {
			if (tries < 100)
				continue;
			pw_fail(pw, "open", pw->path, strerror(EEXIST));
			return -1;
		}
		memcpy(s->path, pw->path, sizeof(s->path));
		s->seq = seq;
		s->open_ns = ts;
		s->start = s->base = 0;
		memcpy(m->buf, pw->filehdr, PW_FILEHDR);
		s->end = PW_FILEHDR;
		PW_STORE(&m->live, 1);
		/* A successor finding live with base 0 creates the file. */
		fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    PW_FILE_MODE);
		if (fd != -1)
			break;
		err = errno;
		PW_STORE(&m->live, 0);
		if (err == EEXIST && tries < 100)
			continue;
		pw_seq_unused(pw, seq);
		pw_fail(pw, "open", s->path, strerror(err));
		return -1;
	}
	pw->fd = fd;
	pw->s = s;
	pw->deadline = pw_deadline(pw, ts);
	++*pw->c[PW_FILES];
	return 0;
}

/* Flushes and closes the open file, which joins the closed ones. */
static void
pw_file_close(struct pw *pw, bool rotation)
{
	struct pw_slot *s = pw->s;

	if (pw_gone(pw))
		return;
	if (s->end > s->base)
		(void)pw_flush(pw);	/* on failure it keeps what it can */
	if (pw->s == NULL)
		return;		/* nothing of it could be written */
	pw_old_add(pw, pw_basename(s->path), s->seq, s->base);
	pw_forget(pw, false);
	if (rotation)
		++*pw->c[PW_ROTATIONS];
	pw_gauges(pw);
}

/*
 * Makes the open file ready to take a record of rec bytes for a frame
 * stamped ts: rotates, opens, makes room under max_disk and in the buffer.
 * 0, or -1 when the frame cannot be written (status set).
 */
int
pw_reserve(struct pw *pw, uint64_t ts, uint32_t rec)
{
	struct pw_slot *s = pw->s;

	/* A file holds one record at least, whatever rotate_size says. */
	if (s != NULL && (ts >= pw->deadline || (pw->rotate != 0 &&
	    s->end > PW_FILEHDR && s->end + rec > pw->rotate))) {
		pw_file_close(pw, true);
		if (pw->blocked)
			return -1;
	}
	/* A full buffer is written out below: not to a removed file. */
	if (pw->s != NULL && pw->s->end - pw->s->start + rec > PW_BUF)
		(void)pw_gone(pw);
	if (pw->s == NULL && pw_file_new(pw, ts) != 0)
		return -1;
	s = pw->s;
	if (pw->budget != 0)
		pw_room(pw, rec);
	/* A new file's header at once, room made: it is a pcap file now. */
	if (s->base == 0 && pw_flush(pw) != 0)
		return -1;
	if (s->end - s->start + rec > PW_BUF) {
		if (s->end > s->base && pw_flush(pw) != 0)
			return -1;
		PW_STORE(&s->start, s->end);
	}
	return 0;
}

/*
 * Copies the frame's record into the buffer (pw_reserve made room), then
 * publishes it with one store of end (the rules at the top).
 */
void
pw_append(struct pw *pw, const struct ringfan_packet *pkt, uint32_t caplen,
    int tag_off, const uint8_t *tag)
{
	struct pw_slot *s = pw->s;
	uint8_t *at = pw->m->buf + (s->end - s->start);
	uint64_t ns = pkt->ts_ns % 1000000000u;
	uint32_t len = pkt->len, head;
	struct {
		uint32_t	 sec, frac, caplen, len;
	} r = {
		.sec = (uint32_t)(pkt->ts_ns / 1000000000u),
		.frac = (uint32_t)(pw->o.nanosecond ? ns : ns / 1000u),
		.caplen = caplen,
	};

	_Static_assert(sizeof(r) == PW_RECHDR, "pcap record header");
	at += sizeof(r);
	if (tag_off < 0) {
		memcpy(at, pkt->data, caplen);
	} else {
		/* caplen counts the tag; the snaplen may cut into it. */
		head = (uint32_t)tag_off < caplen ? (uint32_t)tag_off : caplen;
		memcpy(at, pkt->data, head);
		if (caplen > head)
			memcpy(at + head, tag, caplen - head < PW_TAGLEN ?
			    caplen - head : PW_TAGLEN);
		if (caplen > head + PW_TAGLEN)
			memcpy(at + head + PW_TAGLEN, pkt->data + head,
			    caplen - head - PW_TAGLEN);
		len = len > UINT32_MAX - PW_TAGLEN ? UINT32_MAX :
		    len + PW_TAGLEN;
	}
	/* The wire length; a frame is never shorter than its bytes. */
	r.len = len > caplen ? len : caplen;
	memcpy(at - sizeof(r), &r, sizeof(r));
	PW_STORE(&s->end, s->end + PW_RECHDR + caplen);
}

/*
 * Once a second: notice a file removed under us, rotate by time, flush,
 * and let the frames try to write again after a failure.
 */
void
pw_file_tick(struct pw *pw, uint64_t now_ns)
{
	pw->blocked = false;
	pw_spells_tick(pw);
	if (pw->s != NULL)
		(void)pw_gone(pw);
	/*
	 * The list of closed files is made again now and then: files of
	 * this worker that another process made after the list was (the
	 * worker this one replaced at a reload that built new sockets, which
	 * wrote on until the handover) are counted, and with max_disk
	 * removed in their turn instead of staying beyond it; files removed
	 * by hand leave disk_bytes, max_disk or not.  Network time that went
	 * back (the clock stepped back, live) lists them at once, rather
	 * than when the time before the step comes again.
	 */
	if (pw->scanned && (now_ns >= pw->rescan_at ||
	    pw->rescan_at - now_ns > PW_RESCAN_NS)) {
		if (pw->rescan_at != 0)
			pw_scan_dir(pw, true);
		pw->rescan_at = now_ns + PW_RESCAN_NS;
	}
	if (pw->s != NULL) {
		/* A frame past 2106 moved network time, not the file's. */
		if (now_ns < PW_TS_END && now_ns >= pw->deadline)
			pw_file_close(pw, true);
		else if (pw->s->end > pw->s->base)
			(void)pw_flush(pw);
	}
	pw_gauges(pw);
}

void
pw_file_stop(struct pw *pw)
{
	if (pw->s != NULL)
		pw_file_close(pw, false);
	pw_gauges(pw);
}

/*
 * Whether path (NUL-terminated) is a name pw_file_path() gives: one of this
 * worker's, right in the directory; and the number in it.  A recovered path
 * is cut, written and maybe removed: none other may be, whatever wrote over
 * the record.
 */
static bool
pw_own_path(const struct pw *pw, const char *path, uint64_t *seq)
{
	const char *name = path + pw->dirlen + 1;

	return strncmp(path, pw->o.directory, pw->dirlen) == 0 &&
	    path[pw->dirlen] == '/' && strchr(name, '/') == NULL &&
	    pw_name_seq(pw, name, seq);
}

/* Whether the open file's record in host memory can be trusted. */
static bool
pw_slot_sane(const struct pw *pw)
{
	const struct pw_slot *s = &pw->m->slot;
	struct pw_span sp;
	uint64_t seq;

	/*
	 * seq is the number in path's name: the file joins the closed ones
	 * by it at its close, which orders what max_disk removes, and a
	 * failed flush hands it back (pw_seq_unused).
	 */
	if (memchr(s->path, '\0', sizeof(s->path)) == NULL ||
	    !pw_own_path(pw, s->path, &seq) || s->seq != seq ||
	    s->start > s->base || s->base > s->end ||
	    s->end - s->start > PW_BUF)
		return false;
	if (s->end < PW_FILEHDR)
		return true;	/* pw_recover removes it */
	if (s->start == 0 && memcmp(pw->m->buf, pw->filehdr, 4) != 0)
		return false;
	pw_walk(pw, s, s->base, s->end, &sp);
	return sp.end == s->end;
}

/*
 * Carries on with the file a killed predecessor had open (see the top of
 * this file): cut it to base, write the buffer again.
 */
static void
pw_recover(struct pw *pw)
{
	struct pw_mem *m = pw->m;
	struct pw_slot *s = &m->slot;
	struct pw_span sp;
	struct stat st;
	char why[96];
	int fd;

	if (s->end < PW_FILEHDR) {
		/* Its header was never written: not a pcap file. */
		if (unlink(s->path) == -1 && errno != ENOENT)
			pw->ctx->log(pw->ctx, RINGFAN_LOG_WARN, "unlink %s: %s",
			    s->path, strerror(errno));
		PW_STORE(&m->live, 0);
		return;
	}
	pw_walk(pw, s, s->base, s->end, &sp);
	/*
	 * Created only if it never was: a file that went away stays away.
	 * What stands at the path now may have been put there by anyone who
	 * can write to the directory: a symbolic link is not followed (its
	 * target would be cut and written, or made), and O_NONBLOCK keeps a
	 * FIFO from blocking the open; only a regular file is carried on.
	 */
	fd = open(s->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    (s->base == 0 ? O_CREAT : 0), PW_FILE_MODE);
	if (fd == -1 && errno == ELOOP) {
		snprintf(why, sizeof(why), "a symbolic link now, not the file "
		    "written: left as it is");
		goto lost;
	}
	if (fd == -1 && errno == ENXIO) {
		snprintf(why, sizeof(why), "not a regular file now, not the "
		    "file written: left as it is");
		goto lost;
	}
	if (fd == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto lost;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, 0) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		close(fd);
		goto lost;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "not a regular file now, not the "
		    "file written: left as it is");
		close(fd);
		goto lost;
	}
	if ((uint64_t)st.st_size < s->base) {
		snprintf(why, sizeof(why), "shorter than the %llu bytes "
		    "written: left as it is", (unsigned long long)s->base);
		close(fd);
		goto lost;
	}
	if ((uint64_t)st.st_size > s->base &&
	    ftruncate(fd, (off_t)s->base) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		close(fd);
		goto lost;
	}
	pw->fd = fd;
	pw->s = s;
	pw->deadline = pw_deadline(pw, s->open_ns);
	pw->ctx->log(pw->ctx, RINGFAN_LOG_INFO, "%s: carried on after a "
	    "crash: %llu bytes kept, %llu cut off, %llu frames from host "
	    "memory", s->path, (unsigned long long)s->base,
	    (unsigned long long)((uint64_t)st.st_size - s->base),
	    (unsigned long long)sp.frames);
	if (s->end > s->base)
		(void)pw_flush(pw);
	return;
lost:
	pw_drop(pw, sp.frames, sp.bytes);
	pw_fail(pw, "recover", s->path, why);
	PW_STORE(&m->live, 0);
}

/*
 * Takes over host memory: carries on with a predecessor's open file, or
 * starts empty (fresh memory, or content of a layout this code does not
 * know).
 */
void
pw_mem_start(struct pw *pw)
{
	struct ringfan_ctx *ctx = pw->ctx;
	struct pw_mem *m = pw->m;

	if (ctx->memory_state == RINGFAN_MEMORY_RECOVERED) {
		if (ctx->memory_layout != PW_LAYOUT || m->magic != PW_MAGIC ||
		    m->bufsize != PW_BUF)
			ctx->log(ctx, RINGFAN_LOG_WARN, "host memory of layout "
			    "%u, not %u: starting afresh",
			    (unsigned)ctx->memory_layout, PW_LAYOUT);
		else if (m->live && !pw_slot_sane(pw))
			ctx->log(ctx, RINGFAN_LOG_WARN, "host memory: the open "
			    "file's record is inconsistent: starting afresh");
		else {
			/*
			 * The next file is numbered m->seq + 1: past what a
			 * name holds, m->seq was written over, and a file so
			 * numbered would be none of this worker's to a
			 * successor or to max_disk.  The scan numbers on
			 * from the highest in the directory instead.
			 */
			if (m->seq >= PW_SEQ_MAX)
				PW_STORE(&m->seq, 0);
			pw_scan(pw);
			if (m->live)
				pw_recover(pw);
			return;
		}
	}
	m->magic = PW_MAGIC;
	m->bufsize = PW_BUF;
	m->seq = 0;
	PW_STORE(&m->live, 0);
	pw_scan(pw);
}

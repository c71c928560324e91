/*
 * Small parsers shared by the config loader and the plugin option getters,
 * and the other helpers the framework would otherwise write twice.
 */
#ifndef RINGFAN_UTIL_H
#define RINGFAN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * "64", "4KiB", "1MiB", "2GiB", "100B": bytes.  Binary units only; the number
 * is a decimal integer.  0 or -EINVAL (bad form) / -ERANGE (overflow).
 */
int	parse_size(const char *s, uint64_t *out);
/* "10ms", "1s", "5m", "2h": nanoseconds.  A bare number is refused. */
int	parse_duration(const char *s, uint64_t *out_ns);
/* What the two accept, for the errors that refuse a value. */
#define SIZE_FORM	"a number and optionally B, KiB, MiB, GiB or TiB"
#define DURATION_FORM	"a number and a unit: ms, s, m or h"
#define BOOL_FORM	"true, false, yes, no, on or off"
#define UINT_FORM	"decimal digits, without a sign or a unit"
/* A decimal integer without sign or suffix. */
int	parse_uint(const char *s, uint64_t *out);
/* true/false, yes/no, on/off. */
int	parse_bool(const char *s, bool *out);
/*
 * Create the directories leading to `path` (not path itself), mode 0755
 * whatever the umask, like mkdir -p of its dirname; the mode is set on the
 * directory made, never through a symbolic link put in its place.  0 or
 * -errno.
 */
int	mkdirs_for(const char *path);
/*
 * Give up every capability of this process: ambient, inheritable, permitted
 * and effective.  A change of uid clears them only for a process that was
 * root; one that was not keeps its own.  0 or -errno.
 */
int	caps_clear(void);
/*
 * A name the framework puts into file names, metric names and the stats
 * segment: 1 to max - 1 characters of a-z, 0-9 and _ (max counts the NUL,
 * as the size of the buffer it will be copied into).
 */
bool	name_valid(const char *s, size_t max);
/*
 * Text that a plugin, a file or a cut made, made fit for JSON: every byte
 * that does not belong to a whole, valid UTF-8 sequence (none overlong, no
 * surrogate, nothing past U+10FFFF) becomes '?', in place.  The number of
 * bytes replaced.
 */
size_t	utf8_scrub(char *s);
/*
 * A plugin's text made fit for one line of the log: utf8_scrub(), and every
 * control character, C0 or C1 (a newline that would start a line of its
 * own, an escape for the terminal) becomes '?' too, a byte for a byte.  The
 * bytes replaced.
 */
size_t	line_scrub(char *s);
/* Clock clk read as nanoseconds, for deadlines and time stamps. */
uint64_t clock_ns(clockid_t clk);
/* CLOCK_MONOTONIC: what every deadline and interval is measured on. */
uint64_t mono_ns(void);
/* What a file of this st_mode is, for messages: "a regular file". */
const char *file_kind(unsigned mode);
/*
 * The open file limit on a listening socket: accept() fails, and the client
 * left in the backlog wakes a level-triggered loop again at once.  A spare
 * descriptor (spare_open(): /dev/null, -1 if even that fails) is given up
 * for a moment to take the client and close it: spare_shed() after accept()
 * on lfd failed so.  1: a client was closed (or the accept was cut short
 * by a signal or the client's reset), more may wait; 0: none waits;
 * -1: no spare, or no descriptor even with it: the caller lets the
 * listener rest a while.  *spare is open again where it can be.
 */
int	spare_open(void);
int	spare_shed(int *spare, int lfd);

/*
 * In a short-lived child of the master's: the signals the whole process
 * group gets (a reload, the statistics, a terminal's ^C; and a stop, with
 * term) are the master's, which acts on them, and are ignored here; then
 * every signal is unblocked, as the master blocks them for its signalfd.
 */
void	child_signals(bool term);

/*
 * ifr zeroed, with name as its interface name; false when the name does
 * not fit, which no interface's name then is.
 */
struct ifreq;
bool	ifreq_name(struct ifreq *ifr, const char *name);

#endif

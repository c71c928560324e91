/*
 * Capture sockets: one AF_PACKET socket per worker, with its TPACKET_V3 ring,
 * joined to the capture's fanout group.  Only the master calls these.
 */
#ifndef RINGFAN_CAPTURE_H
#define RINGFAN_CAPTURE_H

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ringfan_build.h"

/*
 * The capture's bpf expression compiled for its link type: as kept
 * (bpfcache.h), else compiled with libpcap now and kept.  0, or -EINVAL
 * with "FILE:LINE:COL: bpf: <libpcap's message>" in err (another -errno:
 * out of memory, or the child that compiled it for a reload died).
 * A capture without bpf yields an empty program.
 */
int	capture_bpf_compile(const struct cfg *cfg,
	    const struct cfg_capture *cap, int linktype, struct sock_fprog *prog,
	    char *err, size_t errlen);

/*
 * EXPR compiled with libpcap for LINKTYPE, on a live handle of IFACE when
 * there is one of that type, which *live (unless NULL) tells; never kept,
 * logged at debug for CAPTURE.  0, or -EINVAL (the filter's fault) or
 * -ENOMEM with the cause in msg.
 */
int	capture_bpf_build(const char *capture, const char *iface,
	    const char *expr, int linktype, struct sock_fprog *prog, bool *live,
	    char *msg, size_t msglen);

/*
 * The DLT_ link type of the frames a packet socket reads on the capture's
 * interface, from its ARPHRD hardware type.  0, or -errno with the cause
 * in err (-ENODEV: no such interface; -EPROTONOSUPPORT: a hardware type
 * ringfan cannot capture).
 */
int	capture_linktype(const struct cfg_capture *cap, int *linktype,
	    char *err, size_t errlen);
/* The largest frame a worker of the capture can be handed whole. */
uint32_t capture_snaplen(const struct cfg_capture *cap);
/*
 * Whether a kernel of this release (uname's, "6.1.0-18-amd64") keeps the
 * frames its host sends out of a fanout group that asks it to
 * (PACKET_FANOUT_FLAG_IGNORE_OUTGOING): Linux 6.2 and later do; earlier
 * ones take the flag and ignore it.  A release not read as MAJOR.MINOR
 * counts as recent.
 */
bool	capture_ignore_outgoing_works(const char *release);
/*
 * What the start and each build of a capture's sockets warn of, on socket
 * fd of its interface: frames longer than a block holds (Ethernet,
 * loopback or a link of bare IP, whose MTU does not fit), and a kernel
 * that does not skip the frames its host sends where the capture asks it
 * to (fanout.ignore_outgoing, or a loopback device).
 */
void	capture_warn(const struct cfg_capture *cap, int fd);
/*
 * Warns when an interface of hardware type hatype and MTU mtu has frames
 * that do not fit whole in a block of the capture's ring: the kernel cuts
 * them (caplen below len), and says so only in its own log, once.
 */
void	capture_warn_cut(const struct cfg_capture *cap, unsigned mtu,
	    unsigned short hatype);
void	capture_bpf_free(struct sock_fprog *prog);

/*
 * Open one member socket of the capture's fanout group `group`, in the order
 * the caller chooses (member i of a cpu group is the i-th to join); group
 * -1 asks the kernel for a group id no one uses (capture_group() tells
 * which).  Frames are stamped once on receive (SO_TIMESTAMPNS), so every
 * socket sees the same time for the same frame.  Returns the fd, or -1 with
 * the cause in err, naming the mode and the group ("capture uplink:
 * setsockopt(PACKET_FANOUT, hash group 42): Invalid argument").
 */
int	capture_open(const struct cfg_capture *cap,
	    const struct sock_fprog *prog, int group, char *err,
	    size_t errlen);
/*
 * Claim the capture's fanout group, in this network namespace (where the
 * kernel knows groups by id alone), for this process: a lock file in
 * CAPTURE_LOCK_DIR, held (flock) for as long as the returned fd is open in
 * this process or any child, workers included.  Another ringfan, or
 * workers left behind by one, holding it would silently share the group
 * (or fail to join it on another interface): then -1, with err naming the
 * interface, the group and the process that took it.  So are sockets of
 * another program that hold the group id (two throwaway sockets probe
 * it): -1, with err saying so.
 */
#define CAPTURE_LOCK_DIR	RINGFAN_RUNDIR
int	capture_lock(const struct cfg_capture *cap, int group, char *err,
	    size_t errlen);
/*
 * The same claim of the id the kernel made for the capture's sockets
 * (they joined with PACKET_FANOUT_FLAG_UNIQUEID, and hold it), without the
 * probe: so that another ringfan configured with that id is refused naming
 * this one, not another program.  -1 with err when another ringfan holds
 * its lock (it claimed the id and has not joined it yet).
 */
int	capture_lock_made(const struct cfg_capture *cap, int group, char *err,
	    size_t errlen);
/*
 * Remove the lock files of CAPTURE_LOCK_DIR that no master holds (left
 * by one killed with SIGKILL, or that died): how many.
 */
unsigned	capture_lock_sweep(void);
/* Give up a claim of capture_lock(). */
void	capture_unlock(int fd, int group);

/* The fanout group id the socket joined, or -1. */
int	capture_group(int fd);

/* Read (and so reset) the kernel's counters of the socket.  0 or -errno. */
int	capture_read_stats(int fd, struct tpacket_stats_v3 *st);

/*
 * The kernel's rollover totals of the socket (PACKET_ROLLOVER_STATS, not
 * reset by a read), for a capture with the rollover mode or flag; else,
 * or on failure, zeroes and false.
 */
bool	capture_read_rollover(const struct cfg_capture *cap, int fd,
	    struct tpacket_rollover_stats *st);

/*
 * Make the socket accept no more frames: a filter that drops everything
 * runs before the kernel counts a frame, so from now on its counters and
 * its ring no longer grow.  0 or -errno.
 */
int	capture_shut(int fd);

#endif

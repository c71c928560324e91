/*
 * The filters the master has compiled, kept by interface, expression and
 * link type, and the child that compiles a reload's new ones while the
 * master's loop goes on serving clients and supervising workers.  libpcap
 * takes seconds over a long filter; a capture reload that brings one waits
 * for its child (bpfjob_start), and then finds what it compiled here.
 */
#ifndef RINGFAN_BPFCACHE_H
#define RINGFAN_BPFCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfg;
struct sock_fprog;
struct bpfjob_item;
struct bpfjob_out;

/*
 * The outcome kept for EXPR of link type LT on IFACE, compiled while the
 * interface was there (present) or not: 1 with a copy of the program in
 * *prog (capture_bpf_free() frees it), 0 when none is kept, or the
 * compile's failure, -errno with its cause in msg.  A failure that was not
 * the filter's (the compiling child died), and a child's compile on a dead
 * handle of an interface that is there (down), are found once, then
 * forgotten.
 */
int	bpfcache_find(const char *iface, bool present, const char *expr,
	    int lt, struct sock_fprog *prog, char *msg, size_t msglen);
/*
 * Keep a compile's outcome (rc 0 with prog, or -errno with msg), made on a
 * live handle when present.
 */
void	bpfcache_put(const char *iface, bool present, const char *expr,
	    int lt, int rc, const struct sock_fprog *prog, const char *msg);
/* Forget the filters that no capture of a or b (either may be NULL) has. */
void	bpfcache_prune(const struct cfg *a, const struct cfg *b);
/*
 * The outcomes found once that are still kept, forgotten: the reload that
 * ran after the child need not have found them (its file no longer had
 * the filter, or it failed before the compile, or at an earlier capture's
 * filter), and the next one compiles them again.
 */
void	bpfcache_forget_once(void);
void	bpfcache_clear(void);

/*
 * How long a compile child may run before it is killed: far beyond what
 * libpcap takes over any filter the kernel takes (12 s over 600 terms),
 * a bound for one that is wedged or stopped, which holds every reload.
 */
#define BPFJOB_LIMIT_NS		(600ull * 1000000000u)

/* A child compiling filters for a reload; pid 0: none. */
struct bpfjob {
	pid_t			 pid;
	uint64_t		 started;	/* monotonic ns */
	bool			 overdue;	/* killed at BPFJOB_LIMIT_NS */
	size_t			 n;
	struct bpfjob_item	*items;
	struct bpfjob_out	*out;		/* shared with the child */
};

/*
 * Compile in a child the filters of cfg's captures (link types lt) that
 * are not kept.  1: started, 0: every one is kept already, -errno: no
 * child (the caller compiles them itself).
 */
int	bpfjob_start(struct bpfjob *j, const struct cfg *cfg, const int *lt);
/*
 * At now (monotonic ns): a child running for BPFJOB_LIMIT_NS is killed,
 * the reload that waits failing with that cause.  True when killed now.
 */
bool	bpfjob_watch(struct bpfjob *j, uint64_t now);
/* Its child was reaped with status: what it compiled goes to the cache. */
void	bpfjob_reaped(struct bpfjob *j, int status);
/* At a stop: the child is killed, and forgotten. */
void	bpfjob_free(struct bpfjob *j);

#endif

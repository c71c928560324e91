/*
 * The master: sets up every capture socket, forks the workers, supervises
 * them, reads the kernel's counters, serves the control socket and reloads.
 * It never touches packets.
 */
#ifndef RINGFAN_MASTER_H
#define RINGFAN_MASTER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Exit codes of ringfan. */
#define EXIT_CONFIG	1	/* config or usage error */
#define EXIT_RUNTIME	2	/* the system refused: interface, permission */

struct pidfh;
/* What master_check_keep() validated, for the start that follows it. */
struct master_checked;

struct master_opts {
	const char	*config_path;	/* NULL: built in (-i), no reload */
	const char	*iface;		/* with -i */
	bool		 foreground;	/* final stats on stdout */
	struct pidfh	*pidfile;	/* held; removed at exit */
	/*
	 * From master_check_keep() of the same cfg, taken over by
	 * master_run(), which then does not validate the plugins again;
	 * NULL: it validates them as it builds.
	 */
	struct master_checked *checked;
};

/*
 * Everything `ringfan -t` checks beyond the file itself: every capture's
 * BPF filter compiles, every plugin loads, the user exists.  0, -EINVAL
 * with "FILE:LINE:COL: message" in err, or -EAGAIN with the call that
 * failed in err when the system kept the check from running (a process
 * limit that refuses its fork, say).
 */
int	master_check(const struct cfg *cfg, char *err, size_t errlen);
/*
 * The same, keeping what it validated in *keep for master_opts.checked
 * (a start right after the check, as -D does, validates once).  *keep is
 * NULL on failure; master_checked_free() it if it is not handed over.
 */
int	master_check_keep(const struct cfg *cfg, struct master_checked **keep,
	    char *err, size_t errlen);
void	master_checked_free(struct master_checked *k);

/*
 * The signals the master reads from its event loop (stop, reload,
 * statistics, its children) in *set.  A live run blocks them before it
 * takes its pidfile: one that comes while it sets up (a plugin's check, the
 * sockets) waits for the event loop, instead of ending the process with
 * its pidfile left and nothing said.
 */
void	master_sigset(sigset_t *set);

/*
 * Run until stopped; takes over cfg (it is replaced by reloads and freed).
 * Its caller has blocked master_sigset()'s signals and ignores SIGPIPE.
 * Returns the process exit code.
 */
int	master_run(struct cfg *cfg, const struct master_opts *opts);

#endif

/*
 * The master: sets up every capture socket, forks the workers, supervises
 * them, reads the kernel's counters, serves the control socket and reloads.
 * It never touches packets.
 */
#ifndef RINGFAN_MASTER_H
#define RINGFAN_MASTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Exit codes of ringfan. */
#define EXIT_CONFIG	1	/* config or usage error */
#define EXIT_RUNTIME	2	/* the system refused: interface, permission */

struct pidfh;

struct master_opts {
	const char	*config_path;	/* NULL: built in (-i), no reload */
	const char	*iface;		/* with -i */
	bool		 foreground;	/* final stats on stdout */
	struct pidfh	*pidfile;	/* held; removed at exit */
};

/*
 * Everything `ringfan -t` checks beyond the file itself: every capture's
 * BPF filter compiles, every plugin loads, the user exists.  0, or -1 with
 * "FILE:LINE:COL: message" in err.
 */
int	master_check(const struct cfg *cfg, char *err, size_t errlen);

/*
 * Run until stopped; takes over cfg (it is replaced by reloads and freed).
 * Returns the process exit code.
 */
int	master_run(struct cfg *cfg, const struct master_opts *opts);

#endif

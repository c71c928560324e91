/*
 * The master: sets up every capture socket, forks the workers, supervises
 * them, reads the kernel's counters and reports.  It never touches packets.
 */
#ifndef RINGFAN_MASTER_H
#define RINGFAN_MASTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Exit codes of ringfan. */
#define EXIT_CONFIG	1	/* config or usage error */
#define EXIT_RUNTIME	2	/* the system refused: interface, permission */

/*
 * Everything `ringfan -t` checks beyond the file itself: every capture's
 * BPF filter compiles and every plugin loads.  0, or -1 with
 * "FILE:LINE:COL: message" in err.
 */
int	master_check(const struct cfg *cfg, char *err, size_t errlen);

/*
 * Run until stopped.  In the foreground the final stats document goes to
 * stdout.  Returns the process exit code.
 */
int	master_run(const struct cfg *cfg, bool foreground);

#endif

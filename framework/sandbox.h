/*
 * The seccomp filter of every process that runs plugin code: the workers
 * and the master's validating child.  What it refuses, and why, is listed
 * once, in docs/architecture.md ("Sandbox").
 */
#ifndef RINGFAN_SANDBOX_H
#define RINGFAN_SANDBOX_H

#include <stddef.h>

/*
 * Install the filter in the calling process (every thread of it), for good:
 * it survives fork, exec and the process's own wishes.  capture_fd is the
 * number of the capture socket the process holds, -1 if none; the filter
 * refuses sending, socket options and duplication on that number.  0, or
 * -1 with a message naming the failed call in err.
 */
int	sandbox_install(int capture_fd, char *err, size_t errlen);

#endif

/*
 * For tests that serve, or send to, 127.0.0.1 and [::1]: as root, the
 * calling process moves to a network namespace of its own, its loopback
 * up, so that their servers and what is sent to them stay there.  Without
 * root (or where the kernel refuses a namespace) it stays where it is, on
 * the loopback alone.  True when it moved.  Exits 1 with a message when
 * the namespace is made but its loopback cannot be brought up.  Call it
 * first in main(), before any socket or thread.
 */
#ifndef RINGFAN_TEST_PRIVATE_NET_H
#define RINGFAN_TEST_PRIVATE_NET_H

#include <stdbool.h>

bool	private_net(void);

#endif

/*
 * The packet sockets of this network namespace in fanout groups, as the
 * kernel lists them (sock_diag).  The master's watch over its captures'
 * groups, master_fanout_check() (master_int.h), is built on it.
 */
#ifndef RINGFAN_FANOUTWATCH_H
#define RINGFAN_FANOUTWATCH_H

#include <stddef.h>
#include <stdint.h>

/* A packet socket in a fanout group: its inode, and the group's id. */
struct fanout_member {
	uint32_t	ino;
	uint16_t	group;
};

/*
 * Every packet socket of this network namespace that is in a fanout group:
 * 0 with *out (malloc'd, NULL when none) and *n, or -errno.
 */
int	fanout_members(struct fanout_member **out, size_t *n);

#endif

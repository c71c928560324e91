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

struct mnl_socket;

/* A sock_diag socket for fanout_members(); NULL with errno. */
struct mnl_socket *fanout_open(void);

/*
 * Every packet socket of this network namespace that is in a fanout group,
 * asked for over nl in request seq (one not used before on nl): 0 with
 * *out (malloc'd, NULL when none) and *n, or -errno; after a failure, nl
 * may hold the rest of the answer, and is for closing.
 */
int	fanout_members(struct mnl_socket *nl, unsigned seq,
	    struct fanout_member **out, size_t *n);

#endif

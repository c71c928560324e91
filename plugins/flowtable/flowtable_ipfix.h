/*
 * flowtable: the IPFIX exporter (RFC 7011), its options and its queue.
 *
 * Every record that flowtable makes goes, at the same moment, into a
 * bounded queue in this worker's heap; ix_tick() (and ix_added() once a
 * message's worth waits) encodes it with libfixbuf into a message buffer
 * and sends that on a non-blocking socket of the worker's own.
 */
#ifndef FLOWTABLE_IPFIX_H
#define FLOWTABLE_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include <ringfan/plugin.h>

struct ft_flow;
struct ix;

struct ix_opts {
	const char	*url;		/* NULL: no export */
	int		 tcp;		/* 0 udp://, 1 tcp:// */
	int		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 addr[16];
	uint16_t	 port;
	uint64_t	 queue;		/* records */
	uint64_t	 domain;	/* the capture's base */
	uint64_t	 refresh_ns;	/* UDP template refresh by time */
	uint64_t	 refresh_msgs;	/* and by count */
};

/* Reads and checks the ipfix options: 0, or -1 with ctx->error called. */
int		 ix_options(struct ringfan_ctx *ctx, struct ix_opts *o);
/* NULL with ctx->error called when it cannot start. */
struct ix	*ix_open(struct ringfan_ctx *ctx, const struct ix_opts *o);
/*
 * Keeps the number of records waiting at *waiting (in host memory, the low
 * 32 bits; the high 32 the sequence number to go on from) from now on.
 * What is there already was left by a worker that died with records in
 * its queue: they are counted as dropped, and logged, and the records
 * sent from now on are numbered after them (a count above ipfix_queue is
 * no such word: ignored, with a warning).
 */
void		 ix_attach(struct ix *ix, uint64_t *waiting);
/* Queues flow f's record, ending for reason (enum ft_reason). */
void		 ix_add(struct ix *ix, const struct ft_flow *f, int reason);
void		 ix_added(struct ix *ix);
void		 ix_tick(struct ix *ix);
/* Sends what is queued, waiting at most wait_ns; the rest is dropped. */
void		 ix_drain(struct ix *ix, uint64_t wait_ns);
void		 ix_free(struct ix *ix);
/* The exporting worker's observation domain id. */
uint32_t	 ix_domain(const struct ix *ix);

#endif

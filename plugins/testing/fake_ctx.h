/*
 * A stand-in for the host's ringfan_ctx, for unit tests of bundled
 * plugins: options from "key=value" strings, counters and gauges in plain
 * arrays, host memory from calloc, and the last log, error and status text
 * kept for the test to read.  It implements the ABI's contract as
 * plugin.h states it (absent key: default; bad value: -1 and an error;
 * size and duration suffixes) and nothing of the host's machinery.
 */
#ifndef FAKE_CTX_H
#define FAKE_CTX_H

#include <stddef.h>
#include <stdint.h>

#include <ringfan/plugin.h>

#define FAKE_SLOTS	64
#define FAKE_OPTS	32
#define FAKE_TEXT	512

struct fake_slot {
	char		 name[40];
	int		 gauge;
	uint64_t	 value;
};

struct fake_ctx {
	struct ringfan_ctx	 pub;
	const char		*opts[FAKE_OPTS];	/* "key=value" */
	int			 asked[FAKE_OPTS];
	struct fake_slot	 slots[FAKE_SLOTS];
	size_t			 nslots;
	uint64_t		 mem_size;		/* from memory_request */
	uint32_t		 mem_layout;
	uint64_t		 tick_ns;
	char			 error[FAKE_TEXT];	/* first error */
	char			 status[FAKE_TEXT];	/* "" when clear */
	char			 log[FAKE_TEXT];	/* latest line */
	unsigned		 nlog;
};

/*
 * Fills *f for worker 0 of 1, capture "test", link type Ethernet, snaplen
 * 262144; opts is a NULL-terminated list of "key=value" or NULL.
 */
void		 fake_ctx_init(struct fake_ctx *f, const char *const *opts);
/* Maps memory as the host does after `check`: mem_size bytes, state. */
void		 fake_ctx_memory(struct fake_ctx *f, void *mem, int state);
/* The slot's value, or UINT64_MAX when no such slot exists. */
uint64_t	 fake_ctx_value(const struct fake_ctx *f, const char *name);
/* Keys given but never asked for: the host's "unknown key" rule. */
const char	*fake_ctx_unasked(const struct fake_ctx *f);

#endif

/*
 * The supervision policy of supervise.h.  The master keeps the record in
 * its process table and acts on the verdict: logs, states, timers.
 */
#include "supervise.h"

/* min, doubled `times` times, at most max: without overflowing. */
static uint64_t
supervise_double(uint64_t min, unsigned times, uint64_t max)
{
	uint64_t d = min;

	for (unsigned k = 0; k < times && d < max; k++)
		d *= 2;
	return d > max ? max : d;
}

struct supervise_verdict
supervise_crash(uint64_t *crashes, unsigned *ncrashes, unsigned *nfailed,
    uint64_t *cooled, uint64_t now)
{
	struct supervise_verdict v = { .failed = false, .recent = 0 };

	crashes[(*ncrashes)++ % SUPERVISE_CRASH_LIMIT] = now;
	for (unsigned k = 0; k < SUPERVISE_CRASH_LIMIT && k < *ncrashes; k++)
		if (now - crashes[k] < SUPERVISE_CRASH_WINDOW_NS)
			v.recent++;
	if (v.recent >= SUPERVISE_CRASH_LIMIT) {
		/* Tried again after a cool-down, or at a reload or restart. */
		v.failed = true;
		if (now > *cooled &&
		    now - *cooled >= SUPERVISE_COOLDOWN_RESET_NS)
			*nfailed = 0;
		v.delay_ns = SUPERVISE_COOLDOWN_NS << (*nfailed <
		    SUPERVISE_COOLDOWN_DOUBLINGS ? *nfailed :
		    SUPERVISE_COOLDOWN_DOUBLINGS);
		(*nfailed)++;
		*cooled = now + v.delay_ns;
		return v;
	}
	v.delay_ns = supervise_double(SUPERVISE_BACKOFF_MIN_NS, v.recent - 1,
	    SUPERVISE_BACKOFF_MAX_NS);
	return v;
}

void
supervise_revive(uint64_t *cooled, uint64_t now)
{
	if (*cooled > now)
		*cooled = now;
}

uint64_t
supervise_retry(unsigned *nretries)
{
	return supervise_double(SUPERVISE_BACKOFF_MIN_NS, (*nretries)++,
	    SUPERVISE_BACKOFF_MAX_NS);
}

enum supervise_stall
supervise_stall(uint64_t since_ns, uint64_t now, bool waiting,
    uint64_t timeout_ns)
{
	if (timeout_ns == 0)
		return SUPERVISE_MOVING;
	if (!waiting)
		return SUPERVISE_IDLE;
	/* A time before `since` is no time at all, never a wrap. */
	if (now < since_ns || now - since_ns < timeout_ns)
		return SUPERVISE_MOVING;
	return SUPERVISE_STALLED;
}

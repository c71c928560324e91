/*
 * The one line a foreground ringfan writes on stderr when it stops, beside
 * the statistics document on stdout: what an operator reads first.
 */
#ifndef RINGFAN_SUMMARY_H
#define RINGFAN_SUMMARY_H

#include <stddef.h>

#include <jansson.h>

/*
 * Into buf: "N frames, M dropped by the kernel (x.xx%), Q quarantined",
 * the totals of every capture of doc (a `stats` document).  N is what the
 * kernel accepted, so M/N is the share of frames lost to full rings.
 * Returns the length snprintf(3) would write.
 */
int	stats_summary(const json_t *doc, char *buf, size_t len);

#endif

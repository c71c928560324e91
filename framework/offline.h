/*
 * Offline mode, `ringfan -c FILE -r PCAP [--workers N]`: the first
 * capture's pipeline run as its N workers over the frames of a pcap or
 * pcapng file instead of a ring.
 */
#ifndef RINGFAN_OFFLINE_H
#define RINGFAN_OFFLINE_H

#include <stdio.h>

#include "config.h"

/* The most workers `ringfan -r --workers N` splits the frames over. */
#define OFFLINE_WORKERS_MAX	1024

/*
 * Hand every frame of the file to the pipeline of one of nworkers workers
 * (by the flow hash of flowhash.h), then print the statistics document on
 * out.  With RINGFAN_OFFLINE_LOOPS=N in the environment the frames are
 * read into memory first and run through the pipelines N times, and the
 * rate is reported on stderr.  Returns the process exit code: 0, 1 (a
 * plugin or the filter refused, nworkers out of range) or 2 (the file
 * cannot be read).
 */
int	offline_run(const struct cfg *cfg, const char *pcap_path,
	    unsigned nworkers, FILE *out);

#endif

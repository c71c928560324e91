/*
 * Offline mode, `ringfan -c FILE -r PCAP`: the first capture's pipeline run
 * as worker 0 over the frames of a pcap or pcapng file instead of a ring.
 */
#ifndef RINGFAN_OFFLINE_H
#define RINGFAN_OFFLINE_H

#include <stdio.h>

#include "config.h"

/*
 * Hand every frame of the file to the pipeline, then print the statistics
 * document on out.  With RINGFAN_OFFLINE_LOOPS=N in the environment the
 * frames are read into memory first and run through the pipeline N times,
 * and the rate is reported on stderr.  Returns the process exit code: 0, 1
 * (a plugin or the filter refused) or 2 (the file cannot be read or is not
 * Ethernet).
 */
int	offline_run(const struct cfg *cfg, const char *pcap_path, FILE *out);

#endif

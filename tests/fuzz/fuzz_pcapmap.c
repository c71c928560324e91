/*
 * pcapmap against libpcap over arbitrary files: both read the same frames
 * and end alike (tests/unit/pcapmap_diff.h), and the mapped walk never
 * reads outside the file.  An input of odd length is read through the
 * filter "udp", so that filtered frames are walked past too.
 */
#include "fuzz_driver.h"
#include "pcapmap_diff.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_diff d;

	pcap_diff_run(data, size, 0, NULL, 0, size % 2 ? "udp" : NULL, &d);
	if (d.why[0] != '\0') {
		fprintf(stderr, "fuzz_pcapmap: %s\n", d.why);
		abort();
	}
	return 0;
}

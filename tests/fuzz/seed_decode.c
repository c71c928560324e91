/*
 * Writes the seeds of fuzz_decode: sixteen frames of the decoder's unit
 * test (as many as fuzz_driver.h reads), one a file, covering every layer
 * the decoder knows, each behind the bytes that give fuzz_decode its link
 * type and the tag the kernel stripped, if any.
 */
#include <err.h>
#include <stdio.h>

#include "decode_frames.h"

static const char *const seed_rows[16] = {
	"ether qinq 88a8 ipv6 udp", "ether stripped and in-frame tag icmp",
	"ether three tags 9100 arp", "ether tcp options", "ipv4 options",
	"ipv4 later fragment", "ipv6 chain of four", "ipv6 ah tcp",
	"ipv6 later fragment", "sll tag ipv6 tcp", "sll2 ipv4 sctp",
	"raw 101 ipv4 gre", "ipv6 link udp", "null le 30 icmpv6",
	"ipv4 link icmp", "ipv6 jumbogram",
};

static const struct row *
seed_row(const char *name)
{
	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	errx(2, "no frame named \"%s\" in decode_frames.h", name);
}

/* The first byte of a fuzz_decode input: see fuzz_decode.c. */
static uint8_t
seed_selector(const struct row *r)
{
	for (uint8_t i = 0; i < 16; i++)
		if (decode_linktypes[i] == r->linktype)
			return (uint8_t)(i | 0x20 | (r->stripped ? 0x10 : 0));
	errx(2, "%s: link type %d is not in decode_linktypes", r->name,
	    r->linktype);
}

int
main(int argc, char **argv)
{
	static uint8_t frame[512];
	const struct row *r;
	uint8_t head[3];
	size_t n;
	FILE *f;

	if (argc != 17)
		errx(2, "usage: seed_decode FILE... (16 of them)");
	for (int i = 0; i < 16; i++) {
		r = seed_row(seed_rows[i]);
		n = build(r, frame);
		head[0] = seed_selector(r);
		head[1] = (uint8_t)(r->tci >> 8);
		head[2] = (uint8_t)r->tci;
		if ((f = fopen(argv[i + 1], "wb")) == NULL ||
		    fwrite(head, 1, r->stripped ? 3 : 1, f) == 0 ||
		    fwrite(frame, 1, n, f) != n || fclose(f) != 0)
			err(2, "%s", argv[i + 1]);
	}
	return 0;
}

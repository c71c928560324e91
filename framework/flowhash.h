/*
 * A symmetric flow hash for `ringfan -r --workers N`: the same kind of split
 * as the kernel's fanout hash, so that offline workers see flows as live
 * workers of a `hash` capture do.
 *
 * What is hashed follows the kernel's symmetric flow keys: the network
 * protocol (after any VLAN tags, whose ids are left out), the IPv4 or IPv6
 * addresses, the upper-layer protocol and, outside IP fragments, the
 * ports of TCP, UDP, UDP-Lite, DCCP and SCTP (the SPI of ESP).  The two
 * ends are put in order first, so both directions of a flow hash alike,
 * and every fragment of a datagram hashes alike, the first one included
 * (an IPv6 fragment with the Fragment header's protocol, 44, whatever
 * follows it); with `defrag`, IPv4 fragments hash as their datagram,
 * ports included (struct flowhash_frags).
 * An IPv6 packet's flow label is left out, as the kernel's symmetric hash
 * leaves it (it reads the ports of a labelled packet too).  The words go
 * through Bob Jenkins' lookup3 hash (the kernel's jhash) with a seed; a
 * worker is picked from the hash by a multiply and shift, as the kernel
 * does.
 *
 * The kernel's seed is random per boot, so which worker a flow gets live
 * differs from offline; offline the seed is fixed, so a run is repeatable.
 */
#ifndef RINGFAN_FLOWHASH_H
#define RINGFAN_FLOWHASH_H

#include <stdint.h>

#include <ringfan/plugin.h>

/* The seed of offline runs: any fixed value does. */
#define FLOWHASH_SEED	0x5f3759dfu

/*
 * With `defrag` the kernel reassembles an IPv4 datagram before it picks the
 * socket, so the datagram hashes as a whole, ports included.  Offline, its
 * fragments are hashed with the ports of its first fragment once that came
 * (the later ones find them here by addresses, protocol and id); those
 * that come before it are hashed without.
 */
#define FLOWHASH_NFRAG	4096	/* datagrams kept */
#define FLOWHASH_WAYS	8	/* a datagram's place: one of a set of 8 */
struct flowhash_frag {
	uint8_t		 src[4];
	uint8_t		 dst[4];
	uint16_t	 id;
	uint8_t		 proto;
	uint8_t		 valid;
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 serial;	/* when it came: the oldest goes */
};
struct flowhash_frags {
	struct flowhash_frag e[FLOWHASH_NFRAG];
	uint32_t	 serial;
};

/* Bob Jenkins' lookup3 hashword() of n words. */
uint32_t flowhash_words(const uint32_t *k, unsigned n, uint32_t seed);
/*
 * The symmetric hash of pkt (by pkt->linktype); never 0.  frags: NULL
 * without `defrag`.
 */
uint32_t flowhash(const struct ringfan_packet *pkt, uint32_t seed,
	    struct flowhash_frags *frags);

/* A worker 0 .. n - 1 for hash h, each getting an equal range of h. */
static inline unsigned
flowhash_pick(uint32_t h, unsigned n)
{
	return (unsigned)(((uint64_t)h * n) >> 32);
}

#endif

#!/usr/bin/env python3
"""Random byte mutations of mkframes.py's frames, for decode_diff.py:
writes DIR/LINK-mut.pcap and .txt (N frames per link, seed fixed)."""
import random
import sys
import mkframes


def main():
    outdir, n = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(1234)
    for link in ("eth", "sll1", "raw"):
        fr = mkframes.frames_for(link)
        recs, names = [], []
        for i in range(n):
            name, b = rnd.choice(fr)
            b = bytearray(b)
            for _ in range(rnd.choice((1, 1, 2, 3))):
                # mostly within the headers
                at = rnd.randrange(min(len(b), 80)) if b else 0
                if b:
                    b[at] = rnd.choice((rnd.randrange(256), 0, 0xff,
                                        b[at] ^ (1 << rnd.randrange(8))))
            recs.append((bytes(b), len(b)))
            names.append("%s #%d" % (name, i))
        mkframes.write("%s/%s-mut.pcap" % (outdir, link), mkframes.LINKS[link],
                       recs)
        with open("%s/%s-mut.txt" % (outdir, link), "w") as f:
            for (b, _), nm in zip(recs, names):
                f.write("%s\t%s\n" % (nm, b.hex()))


if __name__ == "__main__":
    main()

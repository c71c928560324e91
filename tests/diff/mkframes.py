#!/usr/bin/env python3
"""Adversarial frames for the decoder differential test.

Writes one classic pcap file per link type into OUTDIR: NAME.pcap holds
whole frames, NAME-cut.pcap the same frames cut at every length (caplen
0 .. len-1, the wire length kept).  NAME.txt names each frame (one a line,
in order).  No checksums are filled in: tshark does not check them by
default.
"""
import struct
import sys

S4, D4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
S6 = bytes.fromhex("20010db8000000000000000000000001")
D6 = bytes.fromhex("20010db8000000000000000000000002")


def tcp(sport=1234, dport=80, flags=0x12, doff=5, opts=None, data=b""):
    if opts is None:
        opts = bytes(max(doff - 5, 0) * 4)
    return (struct.pack("!HHIIBBHHH", sport, dport, 1, 2, (doff << 4),
                        flags, 65535, 0, 0) + opts + data)


def udp(sport=5353, dport=53, data=b"hello", ulen=None):
    if ulen is None:
        ulen = 8 + len(data)
    return struct.pack("!HHHH", sport, dport, ulen, 0) + data


def icmp(t=8, c=0, body=b"\0\1\0\1abcd"):
    return bytes([t, c, 0, 0]) + body


def sctp(sport=2905, dport=2906):
    return struct.pack("!HHII", sport, dport, 7, 0) + bytes(16)


def ip4(proto, payload, ihl=5, tot=None, frag=0, ident=0x1234, ttl=64,
        tos=0x2e, ver=4, opts=None):
    if opts is None:
        opts = bytes([1]) * max(ihl - 5, 0) * 4   # NOPs
    hdr = bytes([(ver << 4) | ihl, tos]) + struct.pack(
        "!HHHBBH", 0, ident, frag, ttl, proto, 0) + S4 + D4 + opts
    if tot is None:
        tot = len(hdr) + len(payload)
    return hdr[:2] + struct.pack("!H", tot) + hdr[4:] + payload


def ip6(nh, payload, plen=None, tc=0xb8, flow=0xabcde, hlim=63, ver=6):
    if plen is None:
        plen = len(payload)
    first = (ver << 28) | (tc << 20) | flow
    return struct.pack("!IHBB", first, plen, nh, hlim) + S6 + D6 + payload


def ext(nh, units=0, fill=None):
    """Hop-by-hop, routing or destination options: (units+1)*8 bytes."""
    body = bytes((units + 1) * 8 - 2) if fill is None else fill
    return bytes([nh, units]) + body


def rthdr(nh):
    return bytes([nh, 2, 0, 1, 0, 0, 0, 0]) + D6   # type 0, 1 segment left


def fraghdr(nh, off=0, m=0, ident=0xdeadbeef, res=0):
    return struct.pack("!BBHI", nh, 0, (off << 3) | res | m, ident)


def ah(nh, units=4):
    return bytes([nh, units, 0, 0]) + struct.pack("!II", 0x100, 1) + \
        bytes((units + 2) * 4 - 12)


def esp():
    return struct.pack("!II", 0x200, 1) + bytes(24)


def jumbo(nh):
    # hop-by-hop with a jumbo payload option (type 0xc2, length 4)
    return bytes([nh, 0, 0xc2, 4]) + struct.pack("!I", 70000)


def packets():
    """(name, IP packet) pairs: the network layer and up."""
    P = []
    a = P.append
    # IPv4, whole and well formed
    a(("v4-tcp", ip4(6, tcp())))
    a(("v4-tcp-data", ip4(6, tcp(flags=0x18, data=b"GET / HTTP/1.0\r\n"))))
    a(("v4-tcp-opts", ip4(6, tcp(doff=8, flags=0x02))))
    a(("v4-tcp-allflags", ip4(6, tcp(flags=0xff))))
    a(("v4-tcp-noflags", ip4(6, tcp(flags=0x00, sport=0, dport=65535))))
    a(("v4-tcp-doff15", ip4(6, tcp(doff=15))))
    a(("v4-udp", ip4(17, udp())))
    a(("v4-udp-empty", ip4(17, udp(data=b""))))
    a(("v4-icmp-echo", ip4(1, icmp())))
    a(("v4-icmp-unreach", ip4(1, icmp(3, 3, bytes(4) + ip4(17, udp())[:28]))))
    a(("v4-icmp-quoted-tcp", ip4(1, icmp(11, 0, bytes(4) + ip4(6, tcp())[:28]))))
    a(("v4-sctp", ip4(132, sctp())))
    a(("v4-gre", ip4(47, bytes([0, 0, 0x08, 0]) + ip4(17, udp()))))
    a(("v4-esp", ip4(50, esp())))
    a(("v4-ah-tcp", ip4(51, ah(6) + tcp())))
    a(("v4-6in4", ip4(41, ip6(6, tcp()))))
    a(("v4-proto255", ip4(255, bytes(12))))
    a(("v4-icmpv6-in-v4", ip4(58, icmp(128, 0))))
    # IPv4 header shapes
    a(("v4-ihl6", ip4(6, tcp(), ihl=6)))
    a(("v4-ihl15", ip4(17, udp(), ihl=15)))
    a(("v4-ihl15-opts-rr", ip4(6, tcp(), ihl=15,
                               opts=bytes([7, 39, 4]) + bytes(37))))
    a(("v4-ihl4", ip4(6, tcp(), ihl=4, opts=b"")))
    a(("v4-ihl0", ip4(6, tcp(), ihl=0, opts=b"")))
    a(("v4-ihl15-tot40", ip4(6, tcp(), ihl=15, tot=40)))
    a(("v4-tot0-tcp", ip4(6, tcp(), tot=0)))
    a(("v4-tot0-udp", ip4(17, udp(), tot=0)))
    a(("v4-tot10", ip4(6, tcp(), tot=10)))
    a(("v4-tot19", ip4(6, tcp(), tot=19)))
    a(("v4-tot20-tcp", ip4(6, tcp(), tot=20)))
    a(("v4-tot27-udp", ip4(17, udp(), tot=27)))
    a(("v4-tot28-udp", ip4(17, udp(), tot=28)))
    a(("v4-tot39-tcp", ip4(6, tcp(), tot=39)))
    a(("v4-tot40-tcp-doff6", ip4(6, tcp(doff=6), tot=40)))
    a(("v4-tot44-tcp-doff8", ip4(6, tcp(doff=8), tot=44)))
    a(("v4-tot-over-frame", ip4(6, tcp(), tot=1500)))
    a(("v4-tot65535-udp", ip4(17, udp(), tot=65535)))
    a(("v4-tot-under-frame", ip4(17, udp(), tot=28) + b"PADPADPAD"))
    a(("v4-tcp-doff4", ip4(6, tcp(doff=4))))
    a(("v4-tcp-doff0", ip4(6, tcp(doff=0))))
    a(("v4-tcp-doff15-short", ip4(6, tcp(doff=15, opts=b""))))
    a(("v4-tcp-doff15-tot40", ip4(6, tcp(doff=15), tot=40)))
    a(("v4-udp-4bytes", ip4(17, udp()[:4])))
    a(("v4-icmp-4bytes", ip4(1, icmp()[:4])))
    a(("v4-sctp-8bytes", ip4(132, sctp()[:8])))
    a(("v4-udp-ulen3", ip4(17, udp(ulen=3))))
    a(("v4-udp-ulen-big", ip4(17, udp(ulen=999))))
    a(("v4-ver6", ip4(6, tcp(), ver=6)))
    a(("v4-ver5", ip4(6, tcp(), ver=5)))
    a(("v4-ver0", ip4(6, tcp(), ver=0)))
    # IPv4 fragments
    a(("v4-frag-first", ip4(6, tcp(), frag=0x2000)))
    a(("v4-frag-first-udp", ip4(17, udp(), frag=0x2000)))
    a(("v4-frag-middle", ip4(6, tcp(), frag=0x2000 | 185)))
    a(("v4-frag-last", ip4(17, udp(), frag=370)))
    a(("v4-frag-max", ip4(17, udp(), frag=0x1fff)))
    a(("v4-frag-mf-max", ip4(17, udp(), frag=0x3fff)))
    a(("v4-df", ip4(6, tcp(), frag=0x4000)))
    a(("v4-rb", ip4(6, tcp(), frag=0x8000)))
    a(("v4-rb-df-mf", ip4(6, tcp(), frag=0xe000)))
    a(("v4-frag-off1-tiny", ip4(6, tcp()[:8], frag=1)))
    a(("v4-frag-first-tiny-tcp", ip4(6, tcp()[:8], frag=0x2000)))
    a(("v4-frag-opts-later", ip4(6, tcp(), frag=100, ihl=7)))
    # IPv6, whole and well formed
    a(("v6-tcp", ip6(6, tcp())))
    a(("v6-tcp-opts", ip6(6, tcp(doff=10, flags=0x02))))
    a(("v6-udp", ip6(17, udp())))
    a(("v6-icmpv6-echo", ip6(58, icmp(128, 0))))
    a(("v6-icmpv6-unreach", ip6(58, icmp(1, 4, bytes(4) + ip6(17, udp())[:48]))))
    a(("v6-icmpv6-ns", ip6(58, icmp(135, 0, bytes(20)), hlim=255)))
    a(("v6-icmp4-in-v6", ip6(1, icmp(8, 0))))
    a(("v6-sctp", ip6(132, sctp())))
    a(("v6-gre", ip6(47, bytes([0, 0, 0x86, 0xdd]) + ip6(17, udp()))))
    a(("v6-6in6", ip6(41, ip6(17, udp()))))
    a(("v6-4in6", ip6(4, ip4(17, udp()))))
    a(("v6-esp", ip6(50, esp())))
    a(("v6-nonext", ip6(59, b"")))
    a(("v6-nonext-junk", ip6(59, b"junkjunk")))
    a(("v6-hbh-tcp", ip6(0, ext(6) + tcp())))
    a(("v6-hbh2-udp", ip6(0, ext(17, 2) + udp())))
    a(("v6-rt-udp", ip6(43, rthdr(17) + udp())))
    a(("v6-dst-icmpv6", ip6(60, ext(58) + icmp(128, 0))))
    a(("v6-hbh-dst-rt-frag0-dst-tcp",
       ip6(0, ext(60) + ext(43) + rthdr(44) + fraghdr(60) + ext(6) + tcp())))
    a(("v6-frag-atomic-udp", ip6(44, fraghdr(17) + udp())))
    a(("v6-frag-atomic-res", ip6(44, fraghdr(17, res=6) + udp())))
    a(("v6-frag-first-udp", ip6(44, fraghdr(17, 0, 1) + udp())))
    a(("v6-frag-first-tcp", ip6(44, fraghdr(6, 0, 1) + tcp())))
    a(("v6-frag-middle", ip6(44, fraghdr(6, 100, 1) + tcp())))
    a(("v6-frag-last", ip6(44, fraghdr(17, 200, 0) + udp())))
    a(("v6-frag-max", ip6(44, fraghdr(17, 0x1fff, 1) + udp())))
    a(("v6-frag-later-nh-hbh", ip6(44, fraghdr(0, 3, 0) + bytes(16))))
    a(("v6-frag-later-nh-frag", ip6(44, fraghdr(44, 3, 0) + bytes(16))))
    a(("v6-frag-first-then-dst", ip6(44, fraghdr(60, 0, 1) + ext(17) + udp())))
    a(("v6-frag-then-esp", ip6(44, fraghdr(50, 0, 1) + esp())))
    a(("v6-frag-first-then-frag-later",
       ip6(44, fraghdr(44, 0, 1, 1) + fraghdr(17, 100, 0, 2) + udp())))
    a(("v6-frag-first-then-frag-atomic",
       ip6(44, fraghdr(44, 0, 1, 1) + fraghdr(17, 0, 0, 2) + udp())))
    a(("v6-ah-tcp", ip6(51, ah(6) + tcp())))
    a(("v6-ah-esp", ip6(51, ah(50) + esp())))
    a(("v6-ah1-udp", ip6(51, ah(17, 1) + udp())))
    a(("v6-hbh-nonext", ip6(0, ext(59) + b"")))
    a(("v6-rt-nonext-junk", ip6(43, rthdr(59) + b"zzzzzzzz")))
    for n in (7, 8, 9, 12):
        a(("v6-dst-chain%d-tcp" % n,
           ip6(60, b"".join(ext(60 if i < n - 1 else 6) for i in range(n))
               + tcp())))
    a(("v6-mixed-chain8-udp", ip6(0, ext(60) + rthdr(44) + fraghdr(51)
                                  + ah(60) + ext(43) + rthdr(0) + ext(60)
                                  + ext(17) + udp())))
    a(("v6-jumbo-udp", ip6(0, jumbo(17) + udp(), plen=0)))
    a(("v6-plen0-tcp", ip6(6, tcp(), plen=0)))
    a(("v6-plen0-nonext", ip6(59, b"", plen=0)))
    a(("v6-plen-over-frame", ip6(6, tcp(), plen=1000)))
    a(("v6-plen-under-frame", ip6(17, udp(), plen=13) + b"PADPAD"))
    a(("v6-plen7-udp", ip6(17, udp(), plen=7)))
    a(("v6-plen19-tcp", ip6(6, tcp(), plen=19)))
    a(("v6-plen24-tcp-doff8", ip6(6, tcp(doff=8), plen=24)))
    a(("v6-hbh-past-plen", ip6(0, ext(6, 3) + tcp(), plen=16)))
    a(("v6-hbh-past-frame", ip6(0, ext(6, 200, fill=b"xx"), plen=1608)))
    a(("v6-hbh-len-beyond-plen", ip6(0, ext(6) + tcp(), plen=6)))
    a(("v6-frag-past-plen", ip6(44, fraghdr(17, 0, 1) + udp(), plen=6)))
    a(("v6-ah-past-plen", ip6(51, ah(6) + tcp(), plen=20)))
    a(("v6-tcp-doff4", ip6(6, tcp(doff=4))))
    a(("v6-tcp-doff15-short", ip6(6, tcp(doff=15, opts=b""))))
    a(("v6-udp-4bytes", ip6(17, udp()[:4])))
    a(("v6-icmpv6-4bytes", ip6(58, icmp(135, 0, b""))))
    a(("v6-ver4", ip6(6, tcp(), ver=4)))
    a(("v6-ver7", ip6(6, tcp(), ver=7)))
    return P


MAC = bytes.fromhex("0200000000010200000000020000")[:12]


def eth(et, payload, tags=()):
    b = MAC
    for tpid, tci in tags:
        b += struct.pack("!HH", tpid, tci)
    return b + struct.pack("!H", et) + payload


def sll1(proto, payload, tags=(), hatype=1):
    b = struct.pack("!HHH", 0, hatype, 6) + bytes.fromhex("020000000001") + \
        b"\0\0"
    for tpid, tci in tags:
        b += struct.pack("!HH", tpid, tci)
    return b + struct.pack("!H", proto) + payload


def sll2(proto, payload, tags=()):
    inner = b""
    for tpid, tci in tags:
        inner += struct.pack("!HH", tci, 0)  # placeholder, see below
    # SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
    # addrlen(1) addr(8).  Tags follow the 20 bytes, with the protocol
    # field holding the first TPID.
    first = tags[0][0] if tags else proto
    b = struct.pack("!HHIHBB", first, 0, 2, 1, 0, 6) + \
        bytes.fromhex("0200000000010000")
    rest = list(tags[1:]) + [(proto, None)]
    for i, (tpid, tci) in enumerate(tags):
        nxt = rest[i][0]
        b += struct.pack("!HH", tci, nxt)
    return b + payload


TAGSETS = [
    ("", ()),
    ("q", ((0x8100, 0x0064),)),
    ("ad", ((0x88a8, 0xe0c8),)),
    ("9100", ((0x9100, 0x1fff),)),
    ("ad-q", ((0x88a8, 0x000a), (0x8100, 0x3014))),
    ("9100-ad-q", ((0x9100, 0x0001), (0x88a8, 0x0ffe), (0x8100, 0x2003))),
    ("q-q-q-q", ((0x8100, 5), (0x8100, 6), (0x8100, 7), (0x8100, 8))),
]


def frames_for(link):
    out = []
    pk = packets()
    et_of = lambda p: 0x0800 if p[0] >> 4 == 4 else 0x86dd
    if link == "eth":
        for tname, tags in TAGSETS:
            sel = pk if tname in ("", "q", "9100-ad-q") else pk[::4]
            for name, p in sel:
                # IPv4 on 0x0800 and IPv6 on 0x86dd by what the packet is
                # meant to be, not its (maybe broken) version nibble.
                et = 0x86dd if name.startswith("v6") else 0x0800
                out.append(("eth[%s] %s" % (tname, name), eth(et, p, tags)))
        v4udp = dict(pk)["v4-udp"]
        out.append(("eth pad60 v4-udp", eth(0x0800, v4udp).ljust(60, b"\0")))
        out.append(("eth pad60 v4-tot-short",
                    eth(0x0800, ip4(17, udp(data=b""))).ljust(60, b"\xff")))
        out.append(("eth arp", eth(0x0806, bytes.fromhex(
            "0001080006040001020000000002c00002010000000000 00c6336402"
            .replace(" ", "")))))
        out.append(("eth 802.3-len", eth(0x0026, bytes.fromhex("424203")
                                         + bytes(35))))
        out.append(("eth unknown-et", eth(0x88cc, bytes(30))))
        out.append(("eth mpls", eth(0x8847, bytes.fromhex("0001f140") + v4udp)))
        out.append(("eth pppoe", eth(0x8864, bytes.fromhex("11000001") +
                    struct.pack("!H", len(v4udp) + 2) + b"\x00\x21" + v4udp)))
        out.append(("eth q-arp", eth(0x0806, bytes(28), ((0x8100, 7),))))
        out.append(("eth 0x88a8-v6-on-v4type", eth(0x0800, dict(pk)["v6-udp"],
                                                    ((0x88a8, 9),))))
    elif link == "sll1":
        for tname, tags in TAGSETS[:3] + TAGSETS[4:6]:
            sel = pk if tname in ("", "q") else pk[::5]
            for name, p in sel:
                et = 0x86dd if name.startswith("v6") else 0x0800
                out.append(("sll[%s] %s" % (tname, name), sll1(et, p, tags)))
        out.append(("sll arp", sll1(0x0806, bytes(28))))
        out.append(("sll loopback-hatype", sll1(0x0800, dict(pk)["v4-udp"],
                                                hatype=772)))
    elif link == "sll2":
        for tname, tags in TAGSETS[:2] + TAGSETS[4:6]:
            sel = pk if tname in ("", "q") else pk[::5]
            for name, p in sel:
                et = 0x86dd if name.startswith("v6") else 0x0800
                out.append(("sll2[%s] %s" % (tname, name), sll2(et, p, tags)))
    elif link in ("raw", "raw14", "raw101"):
        for name, p in pk:
            out.append(("%s %s" % (link, name), p))
        out.append(("%s ver0-junk" % link, bytes(30)))
        out.append(("%s empty" % link, b""))
    elif link == "ipv4":
        for name, p in pk:
            if name.startswith("v4"):
                out.append(("ipv4 " + name, p))
        out.append(("ipv4 given-v6", dict(pk)["v6-udp"]))
    elif link == "ipv6":
        for name, p in pk:
            if name.startswith("v6"):
                out.append(("ipv6 " + name, p))
        out.append(("ipv6 given-v4", dict(pk)["v4-udp"]))
    elif link in ("null", "loop"):
        for fam in (2, 24, 28, 30, 10, 7):
            for name, p in pk[::6]:
                if (fam == 2) != name.startswith("v4") and fam != 7:
                    continue
                for order in ("<I", ">I"):
                    out.append(("%s fam%d%s %s" % (link, fam, order, name),
                                struct.pack(order, fam) + p))
    return out


LINKS = {"eth": 1, "sll1": 113, "sll2": 276, "raw": 12, "raw14": 14,
         "raw101": 101, "ipv4": 228, "ipv6": 229, "null": 0, "loop": 108}


def write(path, lt, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, lt))
        for i, (b, wire) in enumerate(recs):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(b), wire))
            f.write(b)


def main():
    outdir = sys.argv[1]
    for link, lt in LINKS.items():
        fr = frames_for(link)
        write("%s/%s.pcap" % (outdir, link), lt, [(b, len(b)) for _, b in fr])
        with open("%s/%s.txt" % (outdir, link), "w") as f:
            for name, b in fr:
                f.write("%s\t%s\n" % (name, b.hex()))
        cut, names = [], []
        for name, b in fr:
            for c in range(len(b)):
                cut.append((b[:c], len(b)))
                names.append("%s @%d" % (name, c))
        write("%s/%s-cut.pcap" % (outdir, link), lt, cut)
        with open("%s/%s-cut.txt" % (outdir, link), "w") as f:
            for (b, _), name in zip(cut, names):
                f.write("%s\t%s\n" % (name, b.hex()))


if __name__ == "__main__":
    main()

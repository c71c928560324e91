#!/usr/bin/env python3
"""Differential test of <ringfan/decode.h> against tshark.

    decode_diff.py DUMP DIR [LINK...]

DUMP is decode_dump.c built against the header, best with the sanitizers:

    cc -std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=address,undefined \
        -Iinclude tests/diff/decode_dump.c -lpcap -o /tmp/decode_dump

MUTATE=N in the environment adds N random mutations per link (eth, sll1,
raw; mutate.py); SHOW_DESIGN=1 lists the by-design differences too, NAMES=1
prints every difference one a line.

Writes the frames of mkframes.py into DIR, decodes them with DUMP (a build
of decode_dump.c) and with tshark, and prints every field where the two
disagree, grouped by kind, with the frame's name and bytes.  Differences
docs/decode.md calls by design are left out (see `expected` below).
Exits 1 when anything is left.
"""
import collections
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkframes  # noqa: E402

FIELDS = ("frame.protocols eth.type sll.etype vlan.id vlan.etype ieee8021ad.id "
          "ip.version "
          "ip.hdr_len ip.len ip.src ip.dst ip.proto ip.ttl ip.dsfield "
          "ip.flags.mf ip.frag_offset ip.id ipv6.version ipv6.src ipv6.dst "
          "ipv6.nxt ipv6.plen ipv6.hlim ipv6.tclass ipv6.flow "
          "ipv6.fraghdr.offset ipv6.fraghdr.more ipv6.fraghdr.ident "
          "tcp.srcport tcp.dstport tcp.flags tcp.hdr_len udp.srcport "
          "udp.dstport sctp.srcport sctp.dstport icmp.type icmp.code "
          "icmpv6.type icmpv6.code").split()
L4NAME = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmpv6"}
NAMEPROTO = {"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmpv6": 58,
             "esp": 50, "gre": 47, "ip": 4, "ipv6": 41}
EXT = {"ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts", "ah",
       "ipv6.nonxt"}


def tshark(path):
    cmd = ["tshark", "-n", "-o", "ip.defragment:FALSE", "-o",
           "ipv6.defragment:FALSE", "-r", path, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for line in out.split("\n")[:-1]:
        vals = line.split("\t")
        rows.append({f: (v.split("|") if v else [])
                     for f, v in zip(FIELDS, vals)})
    return rows


def dump(exe, path, lt):
    out = subprocess.run([exe, path, str(lt)], capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.split("\n")[:-1]:
        parts = line.split()
        if parts[1] == "OFFSETS-BROKEN":
            rows[-1]["broken"] = True
            continue
        d = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        d["mismatch"] = "MISMATCH" in parts
        for k in list(d):
            if k not in ("flags", "src", "dst", "mismatch") and d[k][:1].isdigit():
                d[k] = int(d[k], 0)
        rows.append(d)
    return rows


def first(t, f, conv=int):
    v = t.get(f) or []
    if not v or v[0] == "":
        return None
    return conv(v[0], 0) if conv is int else conv(v[0])


def frag(add, kind, fl, r, more, off, ident):
    """tshark's fragment fields (M flag, offset in 8-byte units, id) held
    to the decoder's flags, frag_off and frag_id."""
    if more is None or off is None:
        return
    isf = bool(more or off)
    if isf != ("F" in fl) or bool(more) != ("m" in fl) or \
            bool(off) != ("L" in fl):
        add(kind + "-frag-flags", "rf %s ts more=%d off=%d" % (fl, more, off))
    elif isf and (off * 8 != r["frag_off"] or ident != r["frag_id"]):
        add(kind + "-frag", "rf off %d id %d ts off %d*8 id %s" % (
            r["frag_off"], r["frag_id"], off, ident))


def compare(r, t, link):
    """Issues (kind, detail) for one frame."""
    issues = []
    fl = r["flags"]
    add = lambda k, d: issues.append((k, d))
    if r.get("broken"):
        add("offsets", "l3/l4/payload/caplen out of order")
    if r["mismatch"]:
        add("straight-vs-long", "")
    layers = t["frame.protocols"][0].split(":") if t["frame.protocols"] \
        else []
    # VLAN tags, in the order of the layers (802.1ad is its own dissector)
    q = {"vlan": list(t["vlan.id"]), "ieee8021ad": list(t["ieee8021ad.id"])}
    qe = {"vlan": list(t["vlan.etype"]),
          "ieee8021ad": []}
    ids, et = [], None
    for l in layers:
        if l in ("ip", "ipv6"):
            break
        if l in q and q[l]:
            ids.append(int(q[l].pop(0)))
            et = int(qe[l].pop(0), 16) if qe[l] else None
    if not ids:
        if t["eth.type"]:
            et = int(t["eth.type"][0], 16)
        elif t["sll.etype"]:
            et = int(t["sll.etype"][0], 16)
    if "T" not in fl or r["ipv"]:
        if r["nvlan"] != len(ids):
            add("nvlan", "rf %d ts %d" % (r["nvlan"], len(ids)))
        for i in range(min(2, len(ids), r["nvlan"])):
            if r["vlan%d" % i] != ids[i]:
                add("vlan-id", "rf %d ts %d" % (r["vlan%d" % i], ids[i]))
    if et is not None and et != r["ethertype"] and "T" not in fl:
        add("ethertype", "rf 0x%04x ts 0x%04x" % (r["ethertype"], et))
    # The network layer tshark found first, after the link and tags.
    net = next((i for i, l in enumerate(layers) if l in ("ip", "ipv6")),
               None)
    tv = None if net is None else layers[net]
    if r["ipv"] in (4, 6):
        v4 = r["ipv"] == 4
        if tv != ("ip" if v4 else "ipv6"):
            add("design:ipver-loop-order" if link in ("null", "loop")
                and tv is None else "ipver", "rf %d ts %s" % (r["ipv"], tv))
            return issues
        for f, k in ((tv + ".src", "src"), (tv + ".dst", "dst")):
            if first(t, f, str) != r[k] and not (
                    v4 and "M" in fl and first(t, f, str) is None):
                add("design:ip-addr-of-cut-options" if v4 and "T" in fl and
                    first(t, f, str) is None else "ip-addr",
                    "%s rf %s ts %s" % (f, r[k], first(t, f, str)))
        for f, k in ((("ip.proto", "proto"), ("ip.ttl", "ttl"),
                      ("ip.dsfield", "tos")) if v4 else
                     (("ipv6.hlim", "ttl"), ("ipv6.tclass", "tos"),
                      ("ipv6.flow", "flow"))):
            if first(t, f) is not None and first(t, f) != r[k]:
                add("ip-" + k, "rf %d ts %d" % (r[k], first(t, f)))
        if v4:
            # Where the header ends: the layer after it starts there (a
            # malformed or cut header gives no such place).
            hl = first(t, "ip.hdr_len")
            if "P" in fl and not set("MT") & set(fl) and hl is not None \
                    and hl != r["l4"] - r["l3"]:
                add("ip-hdr-len", "rf l4-l3 %d ts %d" % (r["l4"] - r["l3"],
                                                         hl))
            tl = first(t, "ip.len")
            if tl is not None and tl != 0 and tl != r["ip_len"]:
                add("ip-len", "rf %d ts %d" % (r["ip_len"], tl))
            frag(add, "ip", fl, r, first(t, "ip.flags.mf"),
                 first(t, "ip.frag_offset"), first(t, "ip.id"))
        else:
            pl = first(t, "ipv6.plen")
            if pl is not None and pl != 0 and 40 + pl != r["ip_len"]:
                add("ip-len", "rf %d ts 40+%d" % (r["ip_len"], pl))
            # the first fragment header of the outer packet
            outer_frag = "ipv6.fraghdr" in layers[net:net + 12] and \
                layers.index("ipv6.fraghdr", net) < next(
                    (i for i in range(net + 1, len(layers))
                     if layers[i] in ("ip", "ipv6")), 999)
            if outer_frag and r["ip6_ext"] & 0x04:
                frag(add, "ip6", fl, r, first(t, "ipv6.fraghdr.more"),
                     first(t, "ipv6.fraghdr.offset"),
                     first(t, "ipv6.fraghdr.ident"))
    elif tv is not None and "T" not in fl and "M" not in fl and \
            first(t, tv + ".src", str):
        add("design:ip-in-mpls-pppoe" if r["ethertype"] in (0x8847, 0x8864)
            else "ip-missed", "ts %s rf flags %s et 0x%04x" % (tv, fl,
                                                         r["ethertype"]))
    if net is None or not r["ipv"]:
        return issues
    # The layer after the IP header and its extension headers.
    j = net + 1
    while j < len(layers) and layers[j] in EXT:
        j += 1
    tl4 = layers[j] if j < len(layers) else None
    if "P" in fl and tl4 in NAMEPROTO and NAMEPROTO[tl4] != r["proto"] \
            and "L" not in fl:
        add("design:ipv4-ah-not-walked" if r["ipv"] == 4 and
            r["proto"] == 51 else "proto", "rf %d ts %s" % (r["proto"], tl4))
    if "4" in fl:
        name = L4NAME[r["proto"]]
        if tl4 != name:
            add("l4-layer", "rf %s ts %s" % (name, tl4))
            return issues
        if name in ("icmp", "icmpv6"):
            pairs = ((name + ".type", "sport"), (name + ".code", "dport"))
        else:
            pairs = ((name + ".srcport", "sport"), (name + ".dstport", "dport"))
        # IPv6 of payload length 0 runs to the frame's end (GSO past
        # 64 KiB); tshark calls one without a jumbo option malformed.
        gso = r["ipv"] == 6 and first(t, "ipv6.plen") == 0 and \
            not r["ip6_ext"] & 0x01
        for f, k in pairs:
            if first(t, f) != r[k]:
                add("design:ipv6-plen0-gso" if gso and first(t, f) is None
                    else "ports", "%s rf %d ts %s" % (f, r[k], first(t, f)))
        # Where the payload starts: after the TCP header and its options.
        th = first(t, "tcp.hdr_len")
        if name == "tcp" and not set("MT") & set(fl) and th is not None \
                and th != r["pay"] - r["l4"]:
            add("tcp-hdr-len", "rf pay-l4 %d ts %d" % (r["pay"] - r["l4"],
                                                       th))
        if name == "tcp" and first(t, "tcp.flags") is not None and \
                first(t, "tcp.flags") & 0xff != r["tcp_flags"]:
            add("tcp-flags", "rf 0x%02x ts 0x%02x" % (
                r["tcp_flags"], first(t, "tcp.flags") & 0xff))
    elif tl4 in ("tcp", "udp", "sctp", "icmp", "icmpv6"):
        if "T" in fl:
            kind = "design:ts-l4-of-cut-header"
        elif "M" in fl:
            kind = "design:ts-l4-of-malformed"
        elif r["ipv"] == 6 and not r["ip6_ext"] & 0x04 and \
                len([l for l in layers[net:j] if l in EXT]) > 8:
            kind = "design:ipv6-chain-over-8"
        elif r["ipv"] == 4 and r["proto"] == 51:
            kind = "design:ipv4-ah-not-walked"
        else:
            kind = "ts-only-l4"
        add(kind, "ts %s rf flags %s proto %d" % (tl4, fl, r["proto"]))
    return issues


def main():
    exe, outdir = sys.argv[1], sys.argv[2]
    if shutil.which("tshark") is None:
        print("decode_diff: tshark is not installed (tools/deps installs it)")
        return 1
    links = sys.argv[3:] or list(mkframes.LINKS)
    shutil.rmtree(outdir, ignore_errors=True)   # no frames of a run before
    os.makedirs(outdir)
    saved = sys.argv
    sys.argv = [saved[0], outdir]
    mkframes.main()
    if os.environ.get("MUTATE"):
        import mutate
        sys.argv = [saved[0], outdir, os.environ["MUTATE"]]
        mutate.main()
    sys.argv = saved
    kinds = collections.defaultdict(list)
    nframes = 0
    for link in links:
        for suffix in ("", "-cut", "-mut"):
            if not os.path.exists("%s/%s%s.txt" % (outdir, link, suffix)):
                continue
            base = "%s/%s%s" % (outdir, link, suffix)
            names = [l.rstrip("\n").split("\t")
                     for l in open(base + ".txt")]
            rf = dump(exe, base + ".pcap", mkframes.LINKS[link])
            ts = tshark(base + ".pcap")
            assert len(rf) == len(ts) == len(names), (base, len(rf), len(ts))
            for (name, hx), r, t in zip(names, rf, ts):
                nframes += 1
                for kind, det in compare(r, t, link):
                    kinds[kind].append((link, name, hx, det, r["flags"]))
    if os.environ.get("NAMES"):
        for kind, items in sorted(kinds.items()):
            for link, name, hx, det, fl in items:
                print("%s\t%s\t%s\t%s\t%s" % (kind, link, name, det, hx))
        return 0
    for kind, items in sorted(kinds.items()):
        print("== %s: %d frames" % (kind, len(items)))
        for link, name, hx, det, fl in items[:0 if kind.startswith(
                "design:") and not os.environ.get("SHOW_DESIGN") else 12]:
            print("   [%s] %s: %s (rf flags %s)\n      %s" % (
                link, name, det, fl, hx))
    print("%d frames, %d with differences" % (
        nframes, len({(i[0], i[1]) for v in kinds.values() for i in v})))
    if nframes == 0:
        print("decode_diff: no frame compared")
        return 1
    return 1 if [k for k in kinds if not k.startswith("design:")] else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes a pcap of TCP and UDP flows in time order, and the flowtable
records that docs/plugins.md says it gives, one JSON object a line (keys
sorted, no worker), to stdout.

usage: flows_model.py SEED IDLE_NS ACTIVE_NS LINGER_NS MAX_FLOWS PCAP

The model: at each frame's time, first every flow whose idle timeout (or,
after a FIN or RST, its linger) has run out ends, written `active` when
its active timeout ran out before that, else `idle` or `end`; a flow older
than its active timeout is written `active` and goes on with no frame,
under the same key and src.  Then the frame: a SYN without ACK in a flow
that saw a FIN or RST ends it (`end`); a new flow in a full table evicts
the least recently seen (`evicted`).  A flow that has no frame ends
without a record.  At the end of the file, a last look at the time of the
last frame, then `shutdown` for the rest.
"""
import ipaddress
import json
import random
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ether(payload, ethertype, vlan):
    hdr = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01"
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, vlan)
    return hdr + struct.pack("!H", ethertype) + payload


def ip4(src, dst, proto, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0,
                       64, proto, 0, src, dst) + payload


def ip6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64,
                       src, dst) + payload


def tcp(sport, dport, flags, data):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 1000,
                       0, 0) + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def text(addr):
    if len(addr) == 4:
        return ".".join(str(b) for b in addr)
    return str(ipaddress.IPv6Address(addr))


def letters(flags):
    return "".join(c for b, c in enumerate("FSRPAUEC") if flags >> b & 1)


def frames(rng):
    """(time, frame, key as sent, TCP flags), in time order."""
    t = 1700000000 * 10**9
    nflows = rng.randrange(1, 12)
    out = []
    for _ in range(rng.randrange(20, 300)):
        t += int(rng.choice([0, 1, 10, 100, 300, 700, 1000, 1500, 2500]) *
                 10**6 * rng.choice([1, 1, 0.999, 1.001]))
        i = rng.randrange(nflows)
        v6 = i % 4 == 3
        vlan = i % 3 if i % 5 == 1 else None
        if v6:
            a = bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [i])
            b = bytes([0x20, 1, 0xd, 0xb8, 0, 1] + [0] * 9 + [1])
        else:
            a, b = bytes([10, 1, 0, i]), bytes([10, 2, 0, 1])
        ends = [(a, 30000 + i), (b, 80)]
        if rng.random() < 0.5:
            ends.reverse()
        (src, sport), (dst, dport) = ends
        if i % 2 == 0:
            flags = rng.choice([ACK, ACK, ACK, ACK, SYN, SYN | ACK,
                                FIN | ACK, RST, PSH | ACK])
            proto = 6
            l4 = tcp(sport, dport, flags, b"x" * rng.randrange(20))
        else:
            flags, proto = 0, 17
            l4 = udp(sport, dport, b"y" * rng.randrange(20))
        ip = ip6(src, dst, proto, l4) if v6 else ip4(src, dst, proto, l4)
        frame = ether(ip, 0x86dd if v6 else 0x0800, vlan)
        out.append((t, frame, (vlan, proto, src, sport, dst, dport), flags))
    return out


def write_pcap(path, fr):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))
        for t, frame, _, _ in fr:
            f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(frame),
                                len(frame)))
            f.write(frame)


def model(fr, idle, active, linger, max_flows):
    flows, records, seq = {}, [], [0]

    def emit(f, reason):
        if f["packets"][0] + f["packets"][1] == 0:
            return
        vlan, proto, src, sport, dst, dport = f["key"]
        records.append({
            "vlan": vlan, "proto": proto, "src": text(src), "sport": sport,
            "dst": text(dst), "dport": dport, "first_ns": f["first"],
            "last_ns": f["last"], "reason": reason,
            "fwd": {"packets": f["packets"][0], "bytes": f["bytes"][0],
                    "tcp_flags": letters(f["flags"][0])},
            "rev": {"packets": f["packets"][1], "bytes": f["bytes"][1],
                    "tcp_flags": letters(f["flags"][1])}})

    def seen_due(f):
        return (max(f["last"], f["prev"]) +
                (linger if f["ended"] else idle))

    def look(now):
        for c in list(flows):
            f = flows[c]
            if seen_due(f) <= now:
                if f["started"] and f["first"] + active < seen_due(f):
                    emit(f, "active")
                else:
                    emit(f, "end" if f["ended"] else "idle")
                del flows[c]
            elif f["started"] and f["first"] + active <= now:
                emit(f, "active")
                f.update(prev=max(f["prev"], f["last"]), first=0, last=0,
                         started=False, packets=[0, 0], bytes=[0, 0],
                         flags=[0, 0])

    for t, frame, key, flags in fr:
        look(t)
        vlan, proto, src, sport, dst, dport = key
        c = (vlan, proto) + tuple(sorted([(src, sport), (dst, dport)]))
        f = flows.get(c)
        if f is not None and f["ended"] and flags & (SYN | ACK) == SYN:
            emit(f, "end")
            del flows[c]
            f = None
        if f is None:
            if len(flows) >= max_flows:
                old = min(flows, key=lambda k: flows[k]["touch"])
                emit(flows.pop(old), "evicted")
            f = flows[c] = {"key": key, "packets": [0, 0], "bytes": [0, 0],
                            "flags": [0, 0], "first": 0, "last": 0,
                            "prev": 0, "ended": 0, "started": False}
        if not f["started"]:
            f.update(first=t, last=t, started=True)
        f["last"] = max(f["last"], t)
        d = 0 if (src, sport) == (f["key"][2], f["key"][3]) else 1
        f["packets"][d] += 1
        f["bytes"][d] += len(frame)
        f["flags"][d] |= flags
        if flags & (FIN | RST):
            f["ended"] = 1
        seq[0] += 1
        f["touch"] = seq[0]
    if fr:
        look(fr[-1][0])
    for f in flows.values():
        emit(f, "shutdown")
    return records


def main():
    seed, idle, active, linger, max_flows = (int(a) for a in sys.argv[1:6])
    fr = frames(random.Random(seed))
    write_pcap(sys.argv[6], fr)
    for r in model(fr, idle, active, linger, max_flows):
        print(json.dumps(r, sort_keys=True))


main()

#!/usr/bin/env python3
"""Writes the sensor test's pcap: many TCP and UDP flows in both directions,
IPv4 and IPv6, some VLAN-tagged, some fragmented, interleaved.

usage: mkflows.py FILE

Every frame goes to the broadcast MAC from addresses no host has (198.18.0.0/15
and 2001:db8::/32), so the capturing host's stack drops what it receives.
Fragmented flows fragment every datagram in both directions: the kernel's
fanout hash ignores ports of fragments, so a flow whose frames are all
fragments stays on one worker.  The content is fixed: the test's oracles
(tshark, tcpdump) read the same file.
"""
import struct
import sys

BROADCAST = b"\xff" * 6
FRAG_PAYLOAD = 1400          # bytes of IP payload per fragment, a multiple of 8


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(host):
    return bytes([0x02, 0, 0, 0, host >> 8 & 0xFF, host & 0xFF])


def ether(src_host, ethertype, payload, vlan=None):
    hdr = BROADCAST + mac(src_host)
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, vlan)
    return hdr + struct.pack("!H", ethertype) + payload


def ip4_addr(n):
    return bytes([198, 18 + (n >> 16 & 1), n >> 8 & 0xFF, n & 0xFF])


def ip6_addr(n):
    return bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 10 + [n >> 8 & 0xFF, n & 0xFF])


def ip4(src, dst, proto, payload, ident, frag_off=0, more=False):
    flags = (0x2000 if more else 0) | (frag_off // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      flags, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64,
                       src, dst) + payload


def ip6_frag(src, dst, proto, payload, ident, frag_off, more):
    fh = struct.pack("!BBHI", proto, 0, frag_off | (1 if more else 0), ident)
    return ip6(src, dst, 44, fh + payload)


def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                       65535, 0, 0) + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Flow:
    """One flow's frames, in order; a and b are the two endpoints."""

    def __init__(self, index, v6, proto, vlan=None, frag=False):
        self.frames = []
        self.v6 = v6
        self.proto = proto
        self.vlan = vlan
        self.frag = frag
        self.a_host, self.b_host = 2 * index + 1, 2 * index + 2
        addr = ip6_addr if v6 else ip4_addr
        self.a, self.b = addr(self.a_host), addr(self.b_host)
        self.ap, self.bp = 20000 + index, (80 if proto == 6 else 5000)
        self.ident = 1000 * index

    def emit(self, from_a, l4):
        src, dst = (self.a, self.b) if from_a else (self.b, self.a)
        host = self.a_host if from_a else self.b_host
        if not self.frag:
            if self.v6:
                packet = ip6(src, dst, self.proto, l4)
            else:
                packet = ip4(src, dst, self.proto, l4, self.ident & 0xFFFF)
            self.ident += 1
            self.frames.append(ether(host, 0x86DD if self.v6 else 0x0800,
                                     packet, self.vlan))
            return
        self.ident += 1
        for off in range(0, len(l4), FRAG_PAYLOAD):
            piece = l4[off:off + FRAG_PAYLOAD]
            more = off + FRAG_PAYLOAD < len(l4)
            if self.v6:
                packet = ip6_frag(src, dst, self.proto, piece, self.ident,
                                  off, more)
            else:
                packet = ip4(src, dst, self.proto, piece,
                             self.ident & 0xFFFF, off, more)
            self.frames.append(ether(host, 0x86DD if self.v6 else 0x0800,
                                     packet, self.vlan))

    def tcp_session(self, segments):
        a, b = self.ap, self.bp
        self.emit(True, tcp(a, b, 100, 0, SYN))
        self.emit(False, tcp(b, a, 500, 101, SYN | ACK))
        self.emit(True, tcp(a, b, 101, 501, ACK))
        for i in range(segments):
            data = bytes([i & 0xFF]) * (40 + 30 * i)
            self.emit(i % 2 == 0, tcp(a, b, 101, 501, PSH | ACK, data)
                      if i % 2 == 0 else tcp(b, a, 501, 101, PSH | ACK, data))
        self.emit(True, tcp(a, b, 900, 900, FIN | ACK))
        self.emit(False, tcp(b, a, 900, 901, FIN | ACK))
        self.emit(True, tcp(a, b, 901, 901, ACK))

    def udp_exchange(self, requests, size):
        for i in range(requests):
            self.emit(True, udp(self.ap, self.bp, bytes([i]) * size))
            self.emit(False, udp(self.bp, self.ap, bytes([i + 1]) * size))


def flows():
    out, n = [], 0

    def add(v6, proto, vlan=None, frag=False):
        nonlocal n
        f = Flow(n, v6, proto, vlan, frag)
        n += 1
        out.append(f)
        return f

    for i in range(30):
        add(False, 6).tcp_session(3 + i % 5)
        add(False, 17).udp_exchange(1 + i % 4, 60 + 7 * i)
    for i in range(15):
        add(True, 6).tcp_session(2 + i % 3)
        add(True, 17).udp_exchange(1 + i % 3, 100 + 11 * i)
    for i in range(10):
        add(False, 17, vlan=10 + i % 2).udp_exchange(2, 80)
        add(False, 6, vlan=20).tcp_session(2)
        add(True, 17, vlan=30).udp_exchange(1, 120)
    for i in range(6):
        add(False, 17, frag=True).udp_exchange(2, 3000 + 100 * i)
        add(True, 17, frag=True).udp_exchange(1, 2500)
    add(False, 17, vlan=40, frag=True).udp_exchange(2, 2000)
    return out


def interleave(all_flows):
    """Round-robin over the flows, so that many are open at once."""
    queues = [list(f.frames) for f in all_flows]
    while any(queues):
        for q in queues:
            if q:
                yield q.pop(0)


def write_pcap(path, frames):
    """A classic pcap of Ethernet frames, 100 us apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, frame in enumerate(frames):
            ts = 1700000000 * 1000000 + n * 100
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkflows.py FILE")
    write_pcap(sys.argv[1], interleave(flows()))


if __name__ == "__main__":
    main()

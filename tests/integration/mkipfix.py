#!/usr/bin/env python3
"""Writes the IPFIX field test's pcap (test_ipfix_fields.sh): one flow of
each kind whose fields a collector shows, each with values that tell the
directions apart.

usage: mkipfix.py FILE

- TCP over IPv4, a whole session; TCP refused (SYN one way, RST ACK back);
  TCP over IPv6 in VLAN 7 with ECE and CWR one way, URG the other
- UDP over IPv6 both ways; UDP in VLAN 100, in 802.1ad 200 over 300, and
  in VLAN 42 with priority bits set
- ICMP echo request and reply, port unreachable; ICMPv6 echo request and
  reply; GRE

Frames go to the broadcast MAC from addresses of documentation and
benchmarking ranges.  Stamps are nanosecond, none within a microsecond of
a millisecond's end, so that a record's milliseconds are exact whatever
rounds them.
"""
import struct
import sys

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128
T0 = 1700000000123456789      # ns


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ether(ethertype, payload):
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + \
        struct.pack("!H", ethertype) + payload


def v4(text):
    return bytes(int(x) for x in text.split("."))


def v6(last):
    return bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [last])


def ip4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0,
                      64, proto, 0, v4(src), v4(dst))
    return ether(0x0800, hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
                 + payload)


def ip6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64,
                       v6(src), v6(dst)) + payload


def tcp(sport, dport, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags,
                       65535, 0, 0) + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(typ, code):
    msg = struct.pack("!BBHI", typ, code, 0, 0x12340001) + b"x" * 8
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def frames():
    a, b = "198.18.0.1", "198.18.0.2"
    yield 0, ip4(a, b, 6, tcp(40000, 80, SYN))
    yield 1500, ip4(b, a, 6, tcp(80, 40000, SYN | ACK))
    yield 2000, ip4(a, b, 6, tcp(40000, 80, ACK))
    yield 2600, ip4(a, b, 6, tcp(40000, 80, PSH | ACK, b"G" * 100))
    yield 3700, ip4(b, a, 6, tcp(80, 40000, PSH | ACK, b"H" * 300))
    yield 4000, ip4(a, b, 6, tcp(40000, 80, FIN | ACK))
    yield 4100, ip4(b, a, 6, tcp(80, 40000, FIN | ACK))
    yield 4200, ip4(a, b, 6, tcp(40000, 80, ACK))
    yield 4300, ip4("198.18.0.3", "198.18.0.4", 6, tcp(40001, 22, SYN))
    yield 4400, ip4("198.18.0.4", "198.18.0.3", 6,
                    tcp(22, 40001, RST | ACK))
    yield 5000, ether(0x86DD, ip6(1, 2, 17, udp(5353, 53, b"q" * 40)))
    yield 5100, ether(0x86DD, ip6(2, 1, 17, udp(53, 5353, b"r" * 80)))
    yield 6000, tagged(ip4("10.1.1.1", "10.1.1.2", 17,
                           udp(1111, 2222, b"v" * 20)),
                       ((0x8100, 100),))
    yield 6100, tagged(ip4("10.1.1.3", "10.1.1.4", 17,
                           udp(3333, 4444, b"w" * 20)),
                       ((0x88A8, 200), (0x8100, 300)))
    yield 6200, tagged(ip4("10.1.1.5", "10.1.1.6", 17,
                           udp(5555, 6666, b"p" * 20)),
                       ((0x8100, 5 << 13 | 42),))
    yield 7000, ip4("10.2.0.1", "10.2.0.2", 1, icmp(8, 0))
    yield 7100, ip4("10.2.0.2", "10.2.0.1", 1, icmp(0, 0))
    yield 7200, ip4("10.2.0.3", "10.2.0.4", 1, icmp(3, 3))
    yield 7300, ether(0x86DD, ip6(3, 4, 58, icmp(128, 0)))
    yield 7400, ether(0x86DD, ip6(4, 3, 58, icmp(129, 0)))
    yield 8000, tagged(ether(0x86DD, ip6(5, 6, 6,
                                         tcp(1234, 443, SYN | ECE | CWR))),
                       ((0x8100, 7),))
    yield 9100, tagged(ether(0x86DD, ip6(6, 5, 6,
                                         tcp(443, 1234, RST | ACK | URG))),
                       ((0x8100, 7),))
    yield 9500, ip4("10.3.0.1", "10.3.0.2", 47, b"\0" * 8)


def tagged(frame, tags):
    """An untagged Ethernet frame with tags inserted after its addresses."""
    return frame[:12] + b"".join(struct.pack("!HH", t, c) for t, c in tags) \
        + frame[12:]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkipfix.py FILE")
    with open(sys.argv[1], "wb") as f:
        # Nanosecond pcap.
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for us, frame in frames():
            ts = T0 + us * 1000
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9,
                                len(frame), len(frame)))
            f.write(frame)


main()

#!/bin/bash
# A live capture on a link that is not Ethernet: a tun device (ARPHRD_NONE)
# carries bare IP packets, so the capture's link type is DLT_RAW (12).  The
# capture's BPF filter must be compiled for that link type (compiled for
# Ethernet, "udp" would match nothing), plugins must be told it (the C++
# test plugin publishes ctx->linktype as a gauge), and the counter plugin
# must decode the frames as IP.
#
# Everything happens inside the test's own network namespace: the tun
# device, ringfan, and the program that writes packets into the device.
set -eu
. "$(dirname "$0")/lib.sh"

need_tools python3
[ -c /dev/net/tun ] || rf_skip "no /dev/net/tun"
rf_ns			# the cleanup deletes it, and the tun in it
in_ns ip tuntap add dev "$RF_CAP" mode tun 2>/dev/null ||
    rf_skip "cannot create a tun device"
in_ns ip link set "$RF_CAP" up

V4_UDP=50
V4_TCP=20
V6_UDP=10
rf_config 1 hash "udp" "plugin: counter" "plugin: cxxcount"

RF_IN_NS=1
rf_start

# Writes the packets into the tun device, as if they had arrived on it:
# IPv4/UDP, IPv4/TCP (which the filter drops) and IPv6/UDP.
in_ns python3 - "$RF_CAP" "$V4_UDP" "$V4_TCP" "$V6_UDP" <<'PY'
import fcntl, os, struct, sys

name, v4u, v4t, v6u = sys.argv[1], *map(int, sys.argv[2:])
fd = os.open("/dev/net/tun", os.O_RDWR)
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
    IFF_TUN | IFF_NO_PI))

def v4(proto, l4):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64,
        proto, 0, bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])) + l4

def v6(nh, l4):
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), nh, 64,
        bytes([0xfd] + [0] * 14 + [1]), bytes([0xfd] + [0] * 14 + [2])) + l4

udp = struct.pack("!HHHH", 4000, 9, 12, 0) + b"abcd"
tcp = struct.pack("!HHIIBBHHH", 4000, 80, 1, 0, 5 << 4, 0x02, 512, 0, 0)
for _ in range(v4u):
    os.write(fd, v4(17, udp))
for _ in range(v4t):
    os.write(fd, v4(6, tcp))
for _ in range(v6u):
    os.write(fd, v6(17, udp))
PY

rf_stop
udp=$((V4_UDP + V6_UDP))
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$udp"
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$udp"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "ctx->linktype (DLT_RAW)" \
    "$(rf_num '.captures[0].workers[0].gauges.cxxcount.linktype')" 12
rf_expect "counter ipv4" "$(rf_sum .plugins.counter.ipv4)" "$V4_UDP"
rf_expect "counter ipv6" "$(rf_sum .plugins.counter.ipv6)" "$V6_UDP"
rf_expect "counter udp" "$(rf_sum .plugins.counter.udp)" "$udp"
rf_expect "counter tcp" "$(rf_sum .plugins.counter.tcp)" 0
rf_expect "counter other" "$(rf_sum .plugins.counter.other)" 0
echo "PASS"

#!/bin/bash
# A frame longer than a ring block holds is cut by the kernel, on a link
# without a link header as on Ethernet.  On a tun device (raw IP) of MTU
# 9000 a block of 4 KiB holds a packet of at most 3952 bytes: the kernel
# puts the packet's start, which is its network header, 16-byte aligned
# past the frame's header.  The start must warn of it as it does on
# Ethernet, naming the MTU and that limit, and pcapwriter's file must hold
# the packets cut at exactly that length, with their lengths on the wire.
#
# Everything happens inside the test's own network namespace.
set -eu
. "$(dirname "$0")/lib.sh"

need_tools python3
[ -c /dev/net/tun ] || rf_skip "no /dev/net/tun"
ip netns add "$RF_NS" 2>/dev/null ||
    rf_skip "cannot create a network namespace (ip netns add)"
RF_LINK=1		# the cleanup deletes the namespace, and the tun in it
in_ns() { ip netns exec "$RF_NS" "$@"; }
# No IPv6 on the tun: its solicitations would add packets no one sent.
in_ns sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
    echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null || true
in_ns ip tuntap add dev "$RF_CAP" mode tun 2>/dev/null ||
    rf_skip "cannot create a tun device"
in_ns ip link set "$RF_CAP" mtu 9000 up

mkdir "$RF_TMP/pcap"
{
	rf_config_head
	cat <<-YAML
	  - name: small
	    interface: $RF_CAP
	    workers: 1
	    fanout: { group: $RF_GROUP }
	    ring: { block_size: 4KiB, block_count: 8, block_timeout: 10ms }
	    pipeline:
	      - { plugin: pcapwriter, config: { directory: "$RF_TMP/pcap" } }
	YAML
} >"$RF_CONF"
RF_RUN=1
ip netns exec "$RF_NS" setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" &
RF_PID=$!
rf_wait_until 10 "ringfan ready" grep -q "ready: 1 worker on 1 capture$" "$RF_ERR"
w="capture small: interface $RF_CAP has MTU 9000, but a block of 4096 bytes"
w="$w holds a frame of at most 3952: longer frames are cut to that"
w="$w (raise block_size)"
rf_expect "warnings" "$(grep -c "MTU" "$RF_ERR" || true)" 1
grep -qF "warn: $w" "$RF_ERR" || rf_fail "no warning: $(grep MTU "$RF_ERR")"

# IPv4/UDP packets of these total lengths, written into the tun device as
# if they had arrived on it.
SIZES="28 1500 3952 3953 9000"
in_ns python3 - "$RF_CAP" $SIZES <<'PY'
import fcntl, os, struct, sys

fd = os.open("/dev/net/tun", os.O_RDWR)
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(),
    IFF_TUN | IFF_NO_PI))
for n in map(int, sys.argv[2:]):
    p = struct.pack("!BBHHHBBH4s4s", 0x45, 0, n, 1, 0, 64, 17, 0,
        bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
    p += struct.pack("!HHHH", 4000, 9, n - 28, 0)
    os.write(fd, p + bytes(i & 0xff for i in range(n - len(p))))
PY
rf_stop

records=$(python3 - "$RF_TMP/pcap"/*.pcap <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
o, out = 24, []
while o < len(d):
    cl, ln = struct.unpack('<II', d[o + 8:o + 16])
    out.append('%d/%d' % (cl, ln))
    o += 16 + cl
print(' '.join(out))
PY
)
rf_expect "records" "$records" "28/28 1500/1500 3952/3952 3952/3953 3952/9000"
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" 5
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" 5
echo "PASS"

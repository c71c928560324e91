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

need_tools python3 tshark
[ -c /dev/net/tun ] || rf_skip "no /dev/net/tun"
rf_ns			# the cleanup deletes it, and the tun in it
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
RF_IN_NS=1 RF_WORKERS=1
rf_start
rf_expect_cut 9000 4096 3952

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

rf_expect "records" "$(rf_pcap_lengths "$RF_TMP/pcap"/*.pcap)" \
    "28/28 1500/1500 3952/3952 3952/3953 3952/9000"
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" 5
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" 5
echo "PASS"

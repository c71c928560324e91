#!/bin/bash
# A frame longer than a ring block holds is cut by the kernel to what fits
# (its length on the wire kept), and nothing but the kernel's log said so.
# On a link of MTU 9000, two captures of the same frames: "small" with
# blocks of 4 KiB, which hold an Ethernet frame of at most 3966 bytes, and
# "big" with 16 KiB.  The start warns for "small" alone, naming the MTU and
# the limit; pcapwriter's files hold each frame whole in "big" and cut at
# 3966 bytes in "small", with the wire lengths, and the counts are exact.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools python3 tshark

rf_link
ip netns exec "$RF_NS" ip link set "$RF_GEN" mtu 9000
ip link set "$RF_CAP" mtu 9000
g=$RF_GROUP
{
	rf_config_head
	for c in small:4KiB big:16KiB; do
		g=$((g + 1))
		mkdir "$RF_TMP/${c%%:*}"
		cat <<-YAML
		  - name: ${c%%:*}
		    interface: $RF_CAP
		    workers: 1
		    fanout: { group: $g, defrag: false }
		    ring: { block_size: ${c#*:}, block_count: 8, block_timeout: 10ms }
		    bpf: "udp port 9"
		    pipeline:
		      - { plugin: pcapwriter, config: { directory: "$RF_TMP/${c%%:*}" } }
		YAML
	done
} >"$RF_CONF"
RF_WORKERS=2
rf_start
rf_expect_cut 9000 4096 3966

SIZES="60 1514 3966 3967 9014"
ip netns exec "$RF_NS" python3 - "$RF_GEN" $SIZES <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for n in map(int, sys.argv[2:]):
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, n - 14, 1, 0, 64, 17, 0,
                     bytes([10, 2, 0, 2]), bytes([10, 2, 0, 1]))
    f = b'\xff' * 6 + bytes.fromhex('0a00000000020800') + ip
    f += struct.pack('>HHHH', 1000, 9, n - 34, 0)
    s.send(f + bytes(i & 0xff for i in range(n - len(f))))
PY
rf_stop

# records NAME: "caplen/len" of each record of its pcap file.
records()
{
	rf_pcap_lengths "$RF_TMP/$1"/*.pcap
}
rf_expect "small: records" "$(records small)" \
    "60/60 1514/1514 3966/3966 3966/3967 3966/9014"
rf_expect "big: records" "$(records big)" \
    "60/60 1514/1514 3966/3966 3967/3967 9014/9014"
total=$(( $(tr ' ' + <<<"$SIZES") ))
for c in 0 1; do
	rf_expect "capture $c: packets" "$(rf_num ".captures[$c].totals.packets")" 5
	rf_expect "capture $c: bytes" "$(rf_num ".captures[$c].totals.bytes")" \
	    "$total"
	rf_expect "capture $c: kernel_packets" \
	    "$(rf_num ".captures[$c].totals.kernel_packets")" 5
done
echo "PASS"

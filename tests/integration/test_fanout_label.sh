#!/bin/bash
# Fanout hash and the IPv6 flow label: the kernel hashes a labelled IPv6
# packet with its ports, as an unlabelled one, so a flow labelled in one
# direction only stays on one worker, and flows between the same two
# addresses spread over the workers by their ports.  `ringfan -r --workers
# 2` splits the same frames so too (its hash's seed differs, so which
# worker a flow gets may differ, but not what stays together).
#
# 64 UDP port pairs between one pair of IPv6 addresses, 3 frames each way:
# one way with the flow label 0x12345, the other with none.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tools python3 tshark
PAIRS=64
rf_link
python3 - "$RF_TMP/frames.pcap" "$PAIRS" <<'PY'
import struct, sys

a = bytes.fromhex('fd000000000000000000000000000001')
b = bytes.fromhex('fd000000000000000000000000000002')
with open(sys.argv[1], 'wb') as o:
    o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 0
    for k in range(int(sys.argv[2])):
        for n in range(3):
            for d in (0, 1):
                src, dst, sp, dp = (a, b, 2000 + k, 9) if d == 0 else \
                    (b, a, 9, 2000 + k)
                eth = bytes.fromhex('0a00000000020a0000000001' if d == 0
                    else '0a00000000010a0000000002') + b'\x86\xdd'
                udp = struct.pack('!HHHH', sp, dp, 16, 0) + bytes(8)
                ip6 = struct.pack('!IHBB', 6 << 28 | (0x12345 if d == 0 else 0),
                    len(udp), 17, 64) + src + dst
                f = eth + ip6 + udp
                t += 1
                o.write(struct.pack('<IIII', t, 0, len(f), len(f)) + f)
PY

# workers DIR: "WORKER HIGH-PORT" for each frame of the files in DIR, named
# test-WORKER-... by pcapwriter.
workers()
{
	local f w

	for f in "$1"/*.pcap; do
		w=${f##*/test-}
		w=${w%%-*}
		tshark -r "$f" -T fields -e udp.srcport -e udp.dstport |
		    awk -v w="$w" '{ print w, ($1 > $2) ? $1 : $2 }'
	done
}

# check WHAT DIR: every frame in DIR's files, no port pair on two workers,
# both workers holding some.
check()
{
	workers "$2" >"$RF_TMP/$1.txt"
	rf_expect "$1: frames in the files" "$(wc -l <"$RF_TMP/$1.txt")" \
	    $((PAIRS * 6))
	rf_expect "$1: port pairs on two workers" \
	    "$(sort -u "$RF_TMP/$1.txt" | awk '{ print $2 }' | sort |
	    uniq -d | wc -l)" 0
	rf_expect "$1: workers holding frames" \
	    "$(awk '{ print $1 }' "$RF_TMP/$1.txt" | sort -u | wc -l)" 2
}

mkdir "$RF_TMP/live" "$RF_TMP/offline"
rf_config 2 hash "ip6 and udp" \
    "{ plugin: pcapwriter, config: { directory: \"$RF_TMP/live\" } }"
rf_start
ip netns exec "$RF_NS" python3 - "$RF_GEN" "$RF_TMP/frames.pcap" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
d = open(sys.argv[2], 'rb').read()
p = 24
while p < len(d):
    n, = struct.unpack_from('<I', d, p + 8)
    s.send(d[p + 16:p + 16 + n])
    p += 16 + n
PY
rf_stop
rf_expect "live: frames" "$(rf_num '.captures[0].totals.packets')" \
    $((PAIRS * 6))
check live "$RF_TMP/live"

sed -i "s|$RF_TMP/live|$RF_TMP/offline|" "$RF_CONF"
"$RINGFAN" -c "$RF_CONF" -r "$RF_TMP/frames.pcap" --workers 2 \
    >"$RF_TMP/offline.json" 2>"$RF_TMP/offline.err" ||
    rf_fail "ringfan -r: $(cat "$RF_TMP/offline.err")"
check offline "$RF_TMP/offline"
echo PASS

#!/bin/bash
# Fanout hash and IPv4 fragments (docs/configuration.md, defrag).  The
# kernel's flow hash reads no ports in any fragment, the first included,
# so without `defrag` every fragment of a datagram hashes on the addresses
# and the protocol alone: all of them, both directions, reach one worker,
# while the unfragmented datagrams of the same ports are hashed with their
# ports and may reach the other.  With `defrag` each datagram arrives
# whole, as one frame of its whole length, in the worker of its flow.
#
# 64 flows, each way one datagram sent whole and one in three fragments
# (16 bytes of its UDP header and payload in each): 64 * 2 * 4 frames.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tools python3 tshark tcpreplay
FLOWS=64
rf_link
python3 - "$RF_TMP/frames.pcap" "$FLOWS" \
    "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[3])
import mkflows

def ip4(src, dst, payload, ident, off, mf):
    """A UDP datagram or fragment, off in units of 8 bytes."""
    return mkflows.ip4(src, dst, 17, payload, ident, off * 8, mf == 1)

out = []
for f in range(int(sys.argv[2])):
    for d in (0, 1):
        a, b = bytes([10, 1, 0, f]), bytes([10, 2, 0, f])
        src, dst, sp, dp = (a, b, 1024, 9) if d == 0 else (b, a, 9, 1024)
        eth = bytes.fromhex('0a00000000020a00000000010800' if d == 0
            else '0a00000000010a00000000020800')
        pay = struct.pack('!HHHH', sp, dp, 48, 0) + bytes(range(40))
        ident = f * 4 + d * 2
        frames = [ip4(src, dst, pay, ident + 1, 0, 0),
            ip4(src, dst, pay[:16], ident, 0, 1),
            ip4(src, dst, pay[16:32], ident, 2, 1),
            ip4(src, dst, pay[32:], ident, 4, 0)]
        out += [eth + x for x in frames]
mkflows.write_pcap(sys.argv[1], out)
PY

# run DEFRAG: the frames sent from GEN, pcapwriter's files in $RF_TMP/DEFRAG.
run()
{
	mkdir "$RF_TMP/$1"
	rf_config 2 hash "" \
	    "{ plugin: pcapwriter, config: { directory: \"$RF_TMP/$1\" } }"
	rf_set_defrag "$1"
	rf_start
	rf_replay "$RF_TMP/frames.pcap"
	rf_stop
}

# fields DIR: "WORKER FRAG ID SRC DST SPORT DPORT LEN" for each frame of the
# workers' files, FRAG 1 for a fragment; tshark reads them without
# reassembly.
fields()
{
	local f w

	for f in "$1"/*.pcap; do
		w=${f##*/test-}
		w=${w%%-*}
		tshark -r "$f" -o ip.defragment:FALSE -T fields -E separator=' ' \
		    -e ip.flags.mf -e ip.frag_offset -e ip.id -e ip.src \
		    -e ip.dst -e udp.srcport -e udp.dstport -e frame.len |
		    awk -v w="$w" '{ print w, ($1 == 1 || $2 > 0), $3, $4, $5,
		        $6, $7, $8 }'
	done
}

run false
rf_expect "defrag false: frames" "$(rf_num '.captures[0].totals.packets')" \
    $((FLOWS * 8))
fields "$RF_TMP/false" >"$RF_TMP/false.txt"
rf_expect "defrag false: frames in the files" "$(wc -l <"$RF_TMP/false.txt")" \
    $((FLOWS * 8))
# The workers of the fragments of each pair of addresses, both ways.
split=$(awk '$2 == 1 { k = ($4 < $5) ? $4 " " $5 : $5 " " $4; w[k] = w[k] " " $1 }
    END { for (k in w) { n = split(w[k], a, " "); for (i = 2; i <= n; i++)
        if (a[i] != a[1]) { print k; break } } }' "$RF_TMP/false.txt" | wc -l)
rf_expect "defrag false: address pairs whose fragments reach two workers" \
    "$split" 0
rf_expect "defrag false: fragments" \
    "$(awk '$2 == 1' "$RF_TMP/false.txt" | wc -l)" $((FLOWS * 6))
rf_expect "defrag false: workers holding fragments" \
    "$(awk '$2 == 1 { print $1 }' "$RF_TMP/false.txt" | sort -u | wc -l)" 2

run true
rf_expect "defrag true: frames" "$(rf_num '.captures[0].totals.packets')" \
    $((FLOWS * 4))
rf_expect "defrag true: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((FLOWS * 4))
fields "$RF_TMP/true" >"$RF_TMP/true.txt"
rf_expect "defrag true: fragments in the files" \
    "$(awk '$2 == 1' "$RF_TMP/true.txt" | wc -l)" 0
rf_expect "defrag true: datagrams of 82 bytes" \
    "$(awk '$8 == 82' "$RF_TMP/true.txt" | wc -l)" $((FLOWS * 4))
# Each flow, both ways, whole and reassembled datagrams: one worker.
split=$(awk '{ k = ($4 < $5) ? $4 " " $5 : $5 " " $4; w[k] = w[k] " " $1 }
    END { for (k in w) { n = split(w[k], a, " "); for (i = 2; i <= n; i++)
        if (a[i] != a[1]) { print k; break } } }' "$RF_TMP/true.txt" | wc -l)
rf_expect "defrag true: flows on two workers" "$split" 0
echo PASS

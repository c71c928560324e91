#!/bin/bash
# IPv4 fragments the kernel's reassembly refuses, under `defrag`
# (docs/configuration.md): a datagram whose fragments overlap is thrown
# away whole, before any ring or counter, and the fragments of it that come
# later wait for a datagram that never completes.  None of its frames is
# captured, and none is counted as dropped: kernel_packets and
# kernel_drops do not see them.  Without `defrag` every fragment is
# captured as it was on the wire.
#
# 32 datagrams in three fragments that fit (delivered whole under defrag)
# and 32 whose second fragment overlaps the first by 8 bytes.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tools python3 tcpreplay
N=32
rf_link
python3 - "$RF_TMP/frames.pcap" "$N" \
    "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[3])
import mkflows

def ip4(payload, ident, off, mf):
    """A UDP fragment from 10.1.0.1 to 10.2.0.1, off in units of 8 bytes."""
    return mkflows.ip4(bytes([10, 1, 0, 1]), bytes([10, 2, 0, 1]), 17,
        payload, ident, off * 8, mf == 1)

eth = bytes.fromhex('0a00000000020a00000000010800')
pay = struct.pack('!HHHH', 1024, 9, 48, 0) + bytes(range(40))
out = []
for i in range(int(sys.argv[2])):
    for ident, second in ((1000 + i, 2), (2000 + i, 1)):
        # The second fragment starts at 8-byte unit `second`: 2 fits,
        # 1 overlaps the first fragment's last 8 bytes.
        frames = [ip4(pay[:16], ident, 0, 1),
            ip4(pay[second * 8:32], ident, second, 1),
            ip4(pay[32:], ident, 4, 0)]
        out += [eth + x for x in frames]
mkflows.write_pcap(sys.argv[1], out)
PY

# run DEFRAG: the frames sent from GEN to a capture with defrag DEFRAG.
run()
{
	rf_config 2 hash "" "plugin: counter"
	rf_set_defrag "$1"
	rf_start
	rf_replay "$RF_TMP/frames.pcap"
	rf_stop
}

run false
rf_expect "defrag false: frames" "$(rf_num '.captures[0].totals.packets')" \
    $((N * 6))
rf_expect "defrag false: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((N * 6))

run true
rf_expect "defrag true: frames (the datagrams that fit, whole)" \
    "$(rf_num '.captures[0].totals.packets')" "$N"
rf_expect "defrag true: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"
rf_expect "defrag true: kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
echo PASS

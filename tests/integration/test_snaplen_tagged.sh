#!/bin/bash
# ctx->snaplen is "the largest caplen the host hands over" (plugin.h), and
# pcapwriter writes it as its files' snaplen and cuts frames to it.  The
# kernel starts a frame in its ring where the frame's network header lands
# on a 16-byte boundary: a link header longer than 16 bytes moves the
# frame's start back, and the ring then holds more of a long frame than
# with Ethernet's 14.  An outgoing frame with its VLAN tags in it has such
# a header (the kernel puts the network header after the tags).
#
# ringfan runs in the test's namespace on GEN, with 16 KiB blocks, and GEN
# sends frames of 20000 bytes with none to three VLAN tags in them.  Every
# caplen handed over must be at most ctx->snaplen, and pcapwriter's file
# must hold each frame as sent, up to what the ring held of it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tools python3 tcpdump
rf_need_ctl
rf_link
ip netns exec "$RF_NS" ip link set "$RF_GEN" mtu 65000
ip link set "$RF_CAP" mtu 65000
DIR=$RF_TMP/pcap
mkdir "$DIR"
rf_config 1 hash "" "plugin: caplen" \
    "{ plugin: pcapwriter, config: { directory: \"$DIR\" } }"
sed -i "s/interface: $RF_CAP/interface: $RF_GEN/" "$RF_CONF"
rf_set_ring 16KiB 32 10ms
# The capture is GEN's, in the namespace: ringfan runs there.
REAL=$RINGFAN
RINGFAN=$RF_TMP/ringfan-in-ns
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$RF_NS" "$REAL" \
    >"$RINGFAN"
chmod +x "$RINGFAN"
rf_start

ip netns exec "$RF_NS" python3 - "$RF_GEN" "$RF_TMP/sent" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
with open(sys.argv[2], 'wb') as o:
    for tags in range(4):
        f = bytes.fromhex('0a00000000010a0000000002')
        for t in range(tags):
            f += struct.pack('>HH', 0x8100, 100 + t)
        f += bytes.fromhex('0800')
        f += bytes((i * 7 + tags) & 0xff for i in range(20000 - len(f)))
        o.write(f)
        s.send(f)
PY
rf_stop

CL='.captures[0].workers[0].plugins.caplen'
snaplen=$(rf_num "$CL.snaplen")
max=$(rf_num "$CL.max_caplen")
rf_expect "frames handed over" "$(rf_num '.captures[0].totals.packets')" 4
[ "$max" -le "$snaplen" ] ||
    rf_fail "a caplen of $max handed over, ctx->snaplen $snaplen"
echo "ok: largest caplen $max, ctx->snaplen $snaplen"

file=$(ls "$DIR"/*.pcap)
rf_expect "frames tcpdump reads" "$(rf_pcap_frames "$file")" 4
# Each record: the frame as sent, cut where the ring cut it (the largest
# cut is the host's max_caplen), its length on the wire 20000.
python3 - "$file" "$RF_TMP/sent" "$max" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
sent = open(sys.argv[2], 'rb').read()
frames = [sent[i:i + 20000] for i in range(0, len(sent), 20000)]
pos, caps = 24, []
while pos < len(data):
    _, _, cap, wire = struct.unpack_from('<IIII', data, pos)
    rec = data[pos + 16:pos + 16 + cap]
    pos += 16 + cap
    n = len(caps)
    if wire != 20000 or rec != frames[n][:cap]:
        sys.exit('record %d: %d of %d bytes, not the frame as sent' %
            (n, cap, wire))
    caps.append(cap)
if max(caps) != int(sys.argv[3]):
    sys.exit('records of %s bytes: the ring held %s of a frame' %
        (caps, sys.argv[3]))
print('ok: records of', caps, 'bytes, each the frame as sent')
PY
echo PASS

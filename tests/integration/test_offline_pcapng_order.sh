#!/bin/bash
# ringfan -r over a pcapng file whose second section is in the other byte
# order: libpcap reads a file's sections in the first one's order only.
# The run ends at that section's header with an error that says so and
# names its byte offset, exit status 2, after the first section's frames
# (tshark's count of them); a file of both sections in one order reads
# whole, as tshark reads it.
set -eu
NOLINK_NAME=offline_pcapng_order
. "$(dirname "$0")/nolink.sh"
need_tools python3 tshark jq

# mk FILE ORDER ORDER: two sections of 3 Ethernet frames each.
mk()
{
	python3 - "$@" <<'PY'
import struct, sys

def block(e, t, body):
    n = 12 + len(body)
    return struct.pack(e + 'II', t, n) + body + struct.pack(e + 'I', n)

def section(e, first):
    b = block(e, 0x0a0d0d0a, struct.pack(e + 'IHHq', 0x1a2b3c4d, 1, 0, -1))
    b += block(e, 1, struct.pack(e + 'HHI', 1, 0, 0))
    for i in range(3):
        frame = b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + bytes(66)
        t = (first + i) * 1000000
        b += block(e, 6, struct.pack(e + 'IIIII', 0, t >> 32,
            t & 0xffffffff, 80, 80) + frame)
    return b

e = {'le': '<', 'be': '>'}
a = section(e[sys.argv[2]], 1700000000)
sys.stdout.write(str(len(a)))
open(sys.argv[1], 'wb').write(a + section(e[sys.argv[3]], 1700000010))
PY
}

cat >"$TMP/c.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: offline
    interface: eth0
    pipeline:
      - plugin: counter
YAML

for order in "le le" "be be"; do
	# shellcheck disable=SC2086
	mk "$TMP/one.pcapng" $order >/dev/null
	rc=0
	"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/one.pcapng" >"$TMP/out.json" \
	    2>"$TMP/err" || rc=$?
	expect "sections $order: exit status" "$rc" 0
	expect "sections $order: packets, as tshark" \
	    "$(jq .captures[0].totals.packets "$TMP/out.json")" \
	    "$(tshark -r "$TMP/one.pcapng" 2>/dev/null | wc -l)"
done

for order in "le be" "be le"; do
	# shellcheck disable=SC2086
	at=$(mk "$TMP/two.pcapng" $order)
	expect "sections $order: tshark reads both" \
	    "$(tshark -r "$TMP/two.pcapng" 2>/dev/null | wc -l)" 6
	rc=0
	"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/two.pcapng" >"$TMP/out.json" \
	    2>"$TMP/err" || rc=$?
	expect "sections $order: exit status" "$rc" 2
	expect "sections $order: error" "$(cat "$TMP/err")" \
	    "ringfan: $TMP/two.pcapng: the section at byte $at is in a byte order other than the first section's, which libpcap does not read (3 frames handed to the pipeline before it)"
	expect "sections $order: packets of the first section" \
	    "$(jq .captures[0].totals.packets "$TMP/out.json")" 3
done

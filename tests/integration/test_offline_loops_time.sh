#!/bin/bash
# RINGFAN_OFFLINE_LOOPS=N shifts each pass over the file past the one
# before by the file's span of time.  A file whose times span most of what
# a classic pcap holds (second 1 to second 2^32 - 1) leaves room for 4
# passes in 64 bits of nanoseconds: a 5th would wrap its time back towards
# 1970 and flowtable would see time go backwards.  4 passes run; 5 are
# refused (exit 1) before any, naming the file, the variable and the limit.
#
# It needs no root and no link.
set -eu
NOLINK_NAME=offline-loops-time
. "$(dirname "$0")/nolink.sh"

cat >"$TMP/c.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: offline
    interface: eth0
    workers: 1
    pipeline:
      - plugin: flowtable
        config: { idle_timeout: 30s, output: "$TMP/flows.json" }
YAML

# Two UDP frames of two flows, at second 1 and second 2^32 - 1.
python3 - "$TMP/far.pcap" <<'PY'
import struct
import sys

def frame(sport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))
    return (bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + ip +
            struct.pack("!HHHH", sport, 53, 8, 0))

with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for sec, sport in ((1, 1000), (0xffffffff, 1001)):
        d = frame(sport)
        f.write(struct.pack("<IIII", sec, 0, len(d), len(d)) + d)
PY

rc=0
RINGFAN_OFFLINE_LOOPS=4 "$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/far.pcap" \
    >"$TMP/out.json" 2>"$TMP/err" || rc=$?
expect "exit of 4 passes" "$rc" 0
expect "frames of 4 passes" "$(jq '.captures[0].totals.packets' \
    "$TMP/out.json")" 8
# Every record's times in order, and the records' first times rising.
expect "flow records" "$(wc -l <"$TMP/flows.json")" 8
expect "records that end before they start" "$(jq -s \
    '[.[] | select(.last_ns < .first_ns)] | length' "$TMP/flows.json")" 0
expect "records out of time order" "$(jq -s \
    '[.[].first_ns] as $t | [range(1; $t | length) |
    select($t[.] < $t[. - 1])] | length' "$TMP/flows.json")" 0

rm -f "$TMP/flows.json"
rc=0
RINGFAN_OFFLINE_LOOPS=5 "$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/far.pcap" \
    >"$TMP/out.json" 2>"$TMP/err" || rc=$?
expect "exit of 5 passes" "$rc" 1
grep -q "far.pcap: RINGFAN_OFFLINE_LOOPS=5: .*past 2554-07-21T23:34:33Z.*at most 4 passes" \
    "$TMP/err" || fail "no message naming the limit: $(cat "$TMP/err")"
expect "frames of 5 passes" "$(jq '.captures[0].totals.packets' \
    "$TMP/out.json")" 0
[ ! -s "$TMP/flows.json" ] || fail "flowtable wrote records of a refused run"

# A pcapng file in nanoseconds holds more: frames at FIRST ns and at
# 2^64 - 500 ns span nearly 2^64 ns, and a pass shifted that plus 1 us
# past the one before is beyond 64 bits.  The shift itself wraps: to 0
# (FIRST 500), or to 499 ns (FIRST 1), which took a second pass as room
# for one, its times back before the first's.  One pass runs; two are
# refused, as above.
pcapng_far()
{
	python3 - "$1" "$2" <<'PY'
import struct
import sys

def frame(sport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))
    return (bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + ip +
            struct.pack("!HHHH", sport, 53, 8, 0))

def block(kind, body):
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)

with open(sys.argv[1], "wb") as f:
    f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    # Ethernet, if_tsresol 9 (nanoseconds), end of options.
    f.write(block(1, struct.pack("<HHI", 1, 0, 65535) +
                  struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)))
    for t, sport in ((int(sys.argv[2]), 1000), (2**64 - 500, 1001)):
        d = frame(sport)
        d += bytes(-len(d) % 4)
        f.write(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xffffffff,
                                     42, 42) + d))
PY
}

for first in 500 1; do
	pcapng_far "$TMP/far.pcapng" "$first"
	for loops in 1 2; do
		rm -f "$TMP/flows.json"
		rc=0
		RINGFAN_OFFLINE_LOOPS=$loops "$RINGFAN" -c "$TMP/c.yaml" \
		    -r "$TMP/far.pcapng" >"$TMP/out.json" 2>"$TMP/err" ||
		    rc=$?
		expect "pcapng from $first ns: exit of $loops passes" "$rc" \
		    $((loops == 1 ? 0 : 1))
		expect "pcapng from $first ns: frames of $loops passes" \
		    "$(jq '.captures[0].totals.packets' "$TMP/out.json")" \
		    $((loops == 1 ? 2 : 0))
	done
	grep -q "far.pcapng: RINGFAN_OFFLINE_LOOPS=2: .*at most 1 pass$" \
	    "$TMP/err" ||
	    fail "pcapng: no message naming the limit: $(cat "$TMP/err")"
done
echo PASS

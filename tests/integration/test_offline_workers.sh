#!/bin/bash
# ringfan -c FILE -r PCAP --workers N: the frames split by flow over N
# pipelines.  Over 50 UDP flows in both directions (rfsend -b), 3 workers
# count together exactly what one does, each gets some, every flow (both
# directions, 20 frames) stays on one worker, the plugins are told they are
# worker k of 3 and offline (not split: the fanout mode of the config does
# not matter), and a second run splits the same way.  The fragments of an
# IPv4 datagram go where its flow goes, as with the kernel's `defrag`.  Bad
# values of N exit 1.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline-workers
. "$(dirname "$0")/nolink.sh"
: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

# run OUT ARGS...: ringfan -c $TMP/c.yaml -r $TMP/u.pcap ARGS, exit 0, JSON
# into OUT.
run()
{
	local out=$1 rc=0

	shift
	"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/u.pcap" "$@" >"$out" \
	    2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "ringfan -r $* exited $rc: $(cat "$TMP/err")"
	json_is "$out" 'type == "object"' ||
	    fail "no JSON document: $(head -c 300 "$out")"
}

# num FILE FILTER: a number from a statistics document.
num()
{
	local v

	v=$(jq -r "$2" "$1")
	[[ "$v" =~ ^[0-9]+$ ]] || fail "$2 is \"$v\", not a number"
	echo "$v"
}

# The live capture would split flows (lb): offline never does.
cat >"$TMP/c.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
captures:
  - name: offline
    interface: eth0
    workers: 2
    fanout: { mode: lb }
    pipeline:
      - plugin: counter
      - plugin: ctxprobe
YAML

"$RFSEND" -q -w "$TMP/u.pcap" -t udp -f 50 -b -n 1000 ||
    fail "rfsend -w failed"

run "$TMP/one.json"
run "$TMP/three.json" --workers 3
run "$TMP/again.json" --workers 3

expect "one: workers" "$(num "$TMP/one.json" '.captures[0].workers | length')" 1
expect "one: packets" "$(num "$TMP/one.json" '.captures[0].totals.packets')" \
    1000
expect "three: workers" \
    "$(num "$TMP/three.json" '.captures[0].workers | length')" 3
expect "three: worker ids" \
    "$(jq -c '[.captures[0].workers[].id]' "$TMP/three.json")" "[0,1,2]"
expect "three: states" \
    "$(jq -c '[.captures[0].workers[].state] | unique' "$TMP/three.json")" \
    '["stopped"]'
expect "three: offline.workers" "$(num "$TMP/three.json" '.offline.workers')" 3
for f in packets bytes; do
	expect "three: totals.$f" \
	    "$(num "$TMP/three.json" ".captures[0].totals.$f")" \
	    "$(num "$TMP/one.json" ".captures[0].totals.$f")"
	expect "three: sum of the workers' $f" \
	    "$(num "$TMP/three.json" "[.captures[0].workers[].$f] | add")" \
	    "$(num "$TMP/one.json" ".captures[0].totals.$f")"
done

# The counter plugin's counters, summed over the workers, are one worker's.
keys=$(jq -r '.captures[0].workers[0].plugins.counter | keys[]' \
    "$TMP/one.json")
[ -n "$keys" ] || fail "one: the counter plugin has no counters"
for k in $keys; do
	expect "three: counter.$k summed" \
	    "$(num "$TMP/three.json" \
	    "[.captures[0].workers[].plugins.counter.$k // 0] | add")" \
	    "$(num "$TMP/one.json" ".captures[0].workers[0].plugins.counter.$k")"
done
expect "three: counter.udp summed" \
    "$(num "$TMP/three.json" '[.captures[0].workers[].plugins.counter.udp] | add')" \
    1000

for w in 0 1 2; do
	p=$(num "$TMP/three.json" ".captures[0].workers[$w].packets")
	[ "$p" -gt 0 ] || fail "worker $w got no frame"
	# 50 flows of 20 frames, 10 each way: whole flows only.
	[ $((p % 20)) -eq 0 ] ||
	    fail "worker $w got $p frames: a flow was split"
	echo "ok: worker $w: $p frames, whole flows"
	c=".captures[0].workers[$w].plugins.ctxprobe"
	expect "worker $w: frames seen by ctxprobe" \
	    "$(num "$TMP/three.json" "$c.frames")" "$p"
	expect "worker $w: worker_id" "$(num "$TMP/three.json" "$c.worker_id")" $w
	expect "worker $w: worker_count" \
	    "$(num "$TMP/three.json" "$c.worker_count")" 3
	# RINGFAN_CTX_OFFLINE (1) only: no RINGFAN_CTX_FLOW_SPLIT (4).
	expect "worker $w: open_flags" \
	    "$(num "$TMP/three.json" "$c.open_flags")" 1
	expect "worker $w: check_flags" \
	    "$(num "$TMP/three.json" "$c.check_flags")" 1
done

# The same split every run: the seed is fixed.
split()
{
	jq -c '[.captures[0].workers[] | [.packets, .bytes, .plugins.counter]]' \
	    "$1"
}
expect "second run: the same split" "$(split "$TMP/again.json")" \
    "$(split "$TMP/three.json")"

# --workers 1 is the default.
run "$TMP/w1.json" --workers 1
expect "--workers 1: as without" "$(split "$TMP/w1.json")" \
    "$(split "$TMP/one.json")"

# From memory, several passes: each worker's counts multiply.
rc=0
RINGFAN_OFFLINE_LOOPS=3 "$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/u.pcap" \
    --workers 3 >"$TMP/loops.json" 2>"$TMP/err" || rc=$?
expect "loops: exit status" "$rc" 0
for w in 0 1 2; do
	expect "loops: worker $w packets" \
	    "$(num "$TMP/loops.json" ".captures[0].workers[$w].packets")" \
	    $((3 * $(num "$TMP/three.json" ".captures[0].workers[$w].packets")))
done

# IPv4 fragments (defrag, the default, as in c.yaml): the kernel would
# reassemble each datagram before it picks the worker, so a datagram goes
# where its flow goes.  40 UDP flows, each a whole datagram, then one in
# two fragments, then the reverse of it whole: over 4 workers, flowtable
# writes 40 records of 4 frames, as with 1 worker; tshark's reassembly
# counts the same flows.
python3 - "$TMP/frag.pcap" <<'PY'
import struct, sys

def ip4(src, dst, ident, flags_off, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    flags_off, 64, 17, 0, bytes(src), bytes(dst))
    return b"\x02" * 6 + b"\x02\x00\x00\x00\x00\x01\x08\x00" + h + payload

frames = []
for i in range(40):
    a, b = [10, 5, 0, i + 1], [10, 6, 0, i + 1]
    whole = struct.pack("!HHHH", 7000 + i, 53, 48, 0) + b"q" * 40
    big = struct.pack("!HHHH", 7000 + i, 53, 48, 0) + b"r" * 40
    back = struct.pack("!HHHH", 53, 7000 + i, 48, 0) + b"s" * 40
    frames += [ip4(a, b, 100 + i, 0, whole),
               ip4(a, b, 200 + i, 0x2000, big[:24]),
               ip4(a, b, 200 + i, 3, big[24:]),
               ip4(b, a, 300 + i, 0, back)]
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, f in enumerate(frames):
        out.write(struct.pack("<IIII", 1700000000, t, len(f), len(f)))
        out.write(f)
PY
cat >"$TMP/f.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: offline
    interface: eth0
    pipeline:
      - plugin: flowtable
        config: { output: "$TMP/frag-{worker}.json" }
YAML
for n in 1 4; do
	rm -f "$TMP"/frag-*.json
	rc=0
	"$RINGFAN" -c "$TMP/f.yaml" -r "$TMP/frag.pcap" --workers "$n" \
	    >"$TMP/frag.out" 2>"$TMP/err" || rc=$?
	expect "fragments, $n workers: exit status" "$rc" 0
	expect "fragments, $n workers: records" \
	    "$(cat "$TMP"/frag-*.json | wc -l)" 40
	expect "fragments, $n workers: records of 4 frames" \
	    "$(cat "$TMP"/frag-*.json | jq -s \
	    '[.[] | select(.fwd.packets == 3 and .rev.packets == 1)] | length')" 40
done
expect "fragments: workers with frames" \
    "$(jq '[.captures[0].workers[] | select(.packets > 0)] | length' \
    "$TMP/frag.out")" 4
need_tools tshark
expect "fragments: UDP conversations, tshark" \
    "$(tshark -2 -n -r "$TMP/frag.pcap" -q -z conv,udp | grep -c '<->')" 40

# N out of range, not a number, or without -r: exit 1, saying so.
for n in 0 1025 three; do
	rc=0
	"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/u.pcap" --workers "$n" \
	    >"$TMP/out" 2>"$TMP/err" || rc=$?
	expect "--workers $n: exit status" "$rc" 1
	grep -qF "ringfan: --workers $n: not a number from 1 to 1024" \
	    "$TMP/err" || fail "--workers $n: message: $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "--workers $n: something on stdout"
done
rc=0
"$RINGFAN" -c "$TMP/c.yaml" -t --workers 2 >/dev/null 2>"$TMP/err" || rc=$?
expect "--workers without -r: exit status" "$rc" 1
grep -qF "ringfan: --workers N goes with -r PCAP" "$TMP/err" ||
    fail "--workers without -r: message: $(cat "$TMP/err")"
echo "PASS"

#!/bin/bash
# A worker past the crash-loop limit is drained at a stop: a drainer starts
# before its cool-down ends, takes over the flow table its predecessors
# left in host memory and the frames that waited in its ring, and writes
# them out.  The pipeline is `crash` (dies on frames of 99 bytes) and
# flowtable: five such frames send the worker over the limit, with the
# flows of the first replay in its table (the idle timeout is a minute)
# and the frames of the second replay still to come.  Then (1) a stop, (2)
# a capture reload, (4) a pipeline reload, or (3) the interface goes away: the records add up, flow by flow, to what
# tshark counts in both replays, and nothing is counted as dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/flows_oracle.sh"
rf_need_ctl
need_tools tcpreplay tshark mergecap python3

LIMIT=5

# a.pcap: 40 UDP flows of 10 frames; poison.pcap: 5 frames of 99 bytes;
# b.pcap: 5 more frames of the 40 flows and 10 frames of 10 new ones.  No
# frame of a.pcap or b.pcap has 99 bytes.
python3 - "$RF_TMP" <<'PY'
import random, struct, sys

random.seed(11)
tmp = sys.argv[1]

def frame(i, fwd, size):
    a, b = bytes([10, 3, 0, i + 1]), bytes([10, 4, 0, 1])
    sp, dp = 30000 + i, 53
    if not fwd:
        a, b, sp, dp = b, a, dp, sp
    pay = size - 14 - 20 - 8
    udp = struct.pack("!HHHH", sp, dp, 8 + pay, 0) + bytes(pay)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64,
                     17, 0, a, b)
    return b"\xff" * 6 + b"\x02\x52\x46\x00\x00\x03" + b"\x08\x00" + ip + udp

def write(name, frames):
    with open("%s/%s" % (tmp, name), "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, f in enumerate(frames):
            out.write(struct.pack("<IIII", 1700000000, t, len(f), len(f)))
            out.write(f)

sizes = [64, 80, 120, 200, 400]
a = [frame(i, random.random() < 0.6, random.choice(sizes))
     for i in range(40) for _ in range(10)]
random.shuffle(a)
b = [frame(i, random.random() < 0.6, random.choice(sizes))
     for i in list(range(40)) * 5 + list(range(40, 50)) * 10]
random.shuffle(b)
write("a.pcap", a)
write("poison.pcap", [frame(60, True, 99)] * 5)
write("b.pcap", b)
PY
mergecap -F pcap -a -w "$RF_TMP/ab.pcap" "$RF_TMP/a.pcap" "$RF_TMP/b.pcap"
flows_tshark "$RF_TMP/ab.pcap" >"$RF_TMP/want.txt"
rf_expect "flows in the replays" "$(wc -l <"$RF_TMP/want.txt")" 50
# For (4): one more frame of 99 bytes, which the new pipeline takes; both
# directions of a flow summed, as a pipeline reload splits a flow into two
# records that may each start from another end.
editcap -r "$RF_TMP/poison.pcap" "$RF_TMP/poison1.pcap" 1
mergecap -F pcap -a -w "$RF_TMP/abp.pcap" "$RF_TMP/ab.pcap" \
    "$RF_TMP/poison1.pcap"
flows_tshark "$RF_TMP/abp.pcap" | flows_both_ways >"$RF_TMP/want4.txt"
rf_expect "flows in the replays, (4)" "$(wc -l <"$RF_TMP/want4.txt")" 51
na=400
nb=300

replay()
{
	ip netns exec "$RF_NS" tcpreplay -i "$RF_GEN" --pps 2000 -q "$1" \
	    >"$RF_TMP/tcpreplay.out" 2>&1 ||
	    rf_fail "tcpreplay $1: $(cat "$RF_TMP/tcpreplay.out")"
}

rf_link
rf_config 1 hash "udp" "{ plugin: crash, config: { len: 99 } }" \
    "{ plugin: flowtable, config: { output: \"$RF_TMP/flows.json\", idle_timeout: 60s, active_timeout: 120s } }"
# A block a 10 ms timeout while the worker is down: room for all of them.
rf_set_ring 64KiB 64 10ms

# to_failed: the first replay handled, the worker past the limit, the
# second replay waiting in its ring, no record written yet.
to_failed()
{
	rm -f "$RF_TMP/flows.json"
	rf_start
	replay "$RF_TMP/a.pcap"
	rf_wait_until 5 "the first replay handled" rf_ctl_test stats \
	    ".captures[0].workers[0].packets == $na"
	replay "$RF_TMP/poison.pcap"
	rf_wait_until 10 "the worker past the crash-loop limit" rf_ctl_test \
	    workers '.workers[0].state == "failed"'
	replay "$RF_TMP/b.pcap"
	rf_wait_until 5 "the second replay in the ring" rf_ctl_test stats \
	    ".captures[0].workers[0].kernel_packets == $((na + LIMIT + nb))"
	[ ! -s "$RF_TMP/flows.json" ] ||
	    rf_fail "records before the stop: $(head -c 300 "$RF_TMP/flows.json")"
}

# drained WHAT [LINE EXTRA WANT BOTH]: a drainer started (LINE logged), and
# every frame of both replays (and EXTRA more) is in the records as in WANT
# (both directions of a flow summed with BOTH), none dropped.
drained()
{
	local extra=${3:-0} want=${4:-$RF_TMP/want.txt} ways=cat

	[ -z "${5:-}" ] || ways=flows_both_ways
	grep -qF "worker test/0: ${2:-started before its cool-down ends, to drain its ring}" \
	    "$RF_ERR" || rf_fail "$1: no line for the drain"
	! grep "frames left in its ring" "$RF_ERR" ||
	    rf_fail "$1: frames stranded"
	rf_expect "$1: final state" "$(rf_json '.captures[0].workers[0].state')" \
	    stopped
	rf_expect "$1: restarts" "$(rf_num '.captures[0].workers[0].restarts')" \
	    "$LIMIT"
	rf_expect "$1: kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" \
	    $((na + LIMIT + nb + extra))
	rf_expect "$1: kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "$1: quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" "$LIMIT"
	rf_expect "$1: packets" "$(rf_num '.captures[0].totals.packets')" \
	    $((na + nb + extra))
	# Four respawns and the drainer each found the table in host memory.
	rf_expect "$1: flowtable recoveries" \
	    "$(rf_num '.captures[0].workers[0].plugins.flowtable.recoveries')" \
	    "$LIMIT"
	rf_expect "$1: records lost" \
	    "$(rf_num '.captures[0].workers[0].plugins.flowtable.records_lost')" 0
	flows_records "$RF_TMP/flows.json" | $ways >"$RF_TMP/got.txt"
	diff "$want" "$RF_TMP/got.txt" >"$RF_TMP/diff.txt" ||
	    rf_fail "$1: records against tshark (< tshark, > records): $(head -20 "$RF_TMP/diff.txt")"
	echo "ok: $1: $(wc -l <"$RF_TMP/got.txt") flows, every frame of both replays in the records"
}

# (1) A stop.
to_failed
rf_stop
drained "stop"

# (2) A capture reload (another ring): the old generation's worker drains
# before it is retired.
to_failed
rf_set_ring 128KiB 64 10ms
rf_expect "capture reload" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the old generation retired" \
    grep -q "reload: captures handed over" "$RF_ERR"
rf_stop
drained "capture reload"

# (4) A reload that changes the pipeline (crash's length): the worker
# starts on the pipeline it had, its plugins take over the table and close
# it, and the new pipeline takes the ring.  One more frame of 99 bytes
# waits in the ring: the pipeline it had would die on it (a sixth
# quarantined, a sixth restart) if it met a frame; the new one counts it.
cp "$RF_CONF" "$RF_TMP/poisoned.yaml"
to_failed
replay "$RF_TMP/poison1.pcap"
sed -i 's/len: 99/len: 98/' "$RF_CONF"
rf_expect "pipeline reload" "$(rf_ctl_json reload .result)" pipeline
rf_expect "pipeline reload: the worker, at the answer" \
    "$(rf_ctl_json workers '.workers[0].state')" running
rf_stop
drained "pipeline reload" \
    "started on its pipeline before the reload, to close what it left" \
    1 "$RF_TMP/want4.txt" both
cp "$RF_TMP/poisoned.yaml" "$RF_CONF"

# (3) The interface gone: the capture waits for it, its ring drained.
to_failed
ip link del "$RF_CAP"
rf_wait_until 15 "the capture waiting for its interface" rf_ctl_test status \
    '.captures[0].state == "waiting"'
rf_stop
drained "interface gone"
echo "PASS"

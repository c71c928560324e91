#!/bin/bash
# flowtable across a kill -9: a live capture (hash fanout, 2 workers) of a
# replayed pcap of TCP and UDP flows, one worker killed in the middle of
# the replay, then a graceful stop.  For every flow the records' packets
# and bytes add up to what tshark counts in the pcap; only the one frame
# the crash quarantined may be missing.  No flow is written twice at
# shutdown, and the respawned worker's table was recovered, not restarted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/flows_oracle.sh"
rf_need_ctl
need_tools tcpreplay tshark python3

PCAP=$RF_TMP/flows.pcap
PPS=1500

# 200 flows (120 UDP, 80 TCP, a third of those closed with FIN), about
# 6000 frames in both directions, interleaved at random with a fixed seed.
python3 - "$PCAP" <<'PY'
import random, struct, sys

random.seed(7)
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(src, dst, proto, sport, dport, flags, pay):
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags,
                         65535, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + pay, 0)
    l4 += bytes(pay)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64,
                     proto, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\xff" * 6 + b"\x02\x52\x46\x00\x00\x02" + b"\x08\x00"
    return eth + ip + l4

flows = []
for i in range(200):
    a = [10, 1, i // 250, i % 250 + 1]
    b = [10, 2, 0, 1]
    tcp = i >= 120
    n = random.randint(10, 50)
    pkts = []
    for k in range(n):
        fwd = k == 0 or random.random() < 0.5
        flags = 0
        if tcp:
            flags = [0x02, 0x12, 0x10][k] if k < 3 else 0x18
        pkts.append((fwd, flags, random.randint(0, 500)))
    if tcp and i % 3 == 0:
        pkts += [(True, 0x11, 0), (False, 0x11, 0), (True, 0x10, 0)]
    flows.append((a, b, 6 if tcp else 17, 20000 + i, 80 if tcp else 53,
                  pkts))

order = []
left = [len(f[5]) for f in flows]
pos = [0] * len(flows)
while any(left):
    i = random.choice([j for j in range(len(flows)) if left[j]])
    order.append((i, pos[i]))
    pos[i] += 1
    left[i] -= 1

with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, (i, k) in enumerate(order):
        a, b, proto, sp, dp, pkts = flows[i]
        fwd, flags, pay = pkts[k]
        if fwd:
            f = frame(a, b, proto, sp, dp, flags, pay)
        else:
            f = frame(b, a, proto, dp, sp, flags, pay)
        out.write(struct.pack("<IIII", 1700000000 + t // 1000000,
                              t % 1000000, len(f), len(f)))
        out.write(f)
PY

# What tshark counts per flow (flows_oracle.sh), and the same of the
# records; then both directions of each flow summed, so that a flow whose
# first frame was the quarantined one compares all the same.
flows_tshark "$PCAP" | flows_both_ways >"$RF_TMP/want.txt"
total=$(awk '{ n += $4 } END { print n }' "$RF_TMP/want.txt")
rf_expect "flows in the pcap" "$(wc -l <"$RF_TMP/want.txt")" 200
echo "pcap: $total frames"

rf_link
out="$RF_TMP/flows-{worker}.json"
rf_config 2 hash "udp or tcp" \
    "{ plugin: flowtable, config: { output: \"$out\", idle_timeout: 2s, active_timeout: 1s, linger: 200ms } }"
# Room for the frames that arrive while the killed worker is down.
rf_set_ring 256KiB 64 10ms
rf_start

ip netns exec "$RF_NS" tcpreplay -i "$RF_GEN" --pps "$PPS" -q "$PCAP" \
    >"$RF_TMP/tcpreplay.out" 2>&1 &
replay=$!
# Halfway through the replay: kill the worker that has written the most.
rf_wait_flowing $((total / 2))
victim=0
[ "$(stat -c %s "$RF_TMP/flows-1.json" 2>/dev/null || echo 0)" -gt \
    "$(stat -c %s "$RF_TMP/flows-0.json" 2>/dev/null || echo 0)" ] && victim=1
pid=$(rf_ctl_num workers ".workers[$victim].pid")
kill -KILL "$pid"
echo "killed worker $victim (pid $pid)"
wait "$replay" || rf_fail "tcpreplay failed: $(cat "$RF_TMP/tcpreplay.out")"
rf_wait_until 10 "the killed worker respawned and running" rf_ctl_test \
    workers '([.workers[].restarts] | add) == 1 and
    all(.workers[]; .state == "running")'
RF_SETTLE=1 rf_stop
grep -h "flowtable: recovered" "$RF_ERR" ||
    rf_fail "the respawned worker did not log its recovery"

quarantined=$(rf_num '.captures[0].totals.quarantined')
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$total"
rf_expect "restarts of the killed worker" \
    "$(rf_num ".captures[0].workers[$victim].restarts")" 1
rf_expect "its table recovered" \
    "$(rf_num ".captures[0].workers[$victim].plugins.flowtable.recoveries")" 1
rf_expect "records lost" "$(rf_sum '.plugins.flowtable.records_lost')" 0
rf_expect "write errors" "$(rf_sum '.plugins.flowtable.write_errors')" 0

# Every line one record with the keys in order; then sums per flow.
cat "$RF_TMP"/flows-0.json "$RF_TMP"/flows-1.json >"$RF_TMP/all.json"
keys=$(jq -c 'keys_unsorted' "$RF_TMP/all.json" | sort -u)
rf_expect "record keys" "$keys" \
    '["worker","vlan","proto","src","sport","dst","dport","first_ns","last_ns","fwd","rev","reason"]'
flows_records "$RF_TMP/all.json" | flows_both_ways >"$RF_TMP/got.txt"
dups=$(jq -r 'select(.reason == "shutdown") |
    "\(.proto) \(.src):\(.sport) \(.dst):\(.dport)"' "$RF_TMP/all.json" |
    sort | uniq -d | wc -l)
rf_expect "flows written twice at shutdown" "$dups" 0

# Per flow: records = tshark, but for at most the quarantined frames.
short=$(join -j1 -a1 -a2 -e 0 -o 0,1.2,1.3,2.2,2.3 \
    <(awk '{ print $1 "|" $2 "|" $3, $4, $5 }' "$RF_TMP/want.txt" | sort) \
    <(awk '{ print $1 "|" $2 "|" $3, $4, $5 }' "$RF_TMP/got.txt" | sort) |
    awk '{ dp = $2 - $4; db = $3 - $5
	if (dp < 0 || db < 0 || (dp == 0) != (db == 0)) { print "bad", $0; exit }
	n += dp } END { print n + 0 }')
case "$short" in
bad*)	rf_fail "a flow's records disagree with the pcap: $short" ;;
esac
echo "frames missing from the records: $short, quarantined: $quarantined"
[ "$short" -eq 0 ] || [ "$short" -eq "$quarantined" ] ||
    rf_fail "records miss $short frames, quarantined $quarantined"
echo "PASS"

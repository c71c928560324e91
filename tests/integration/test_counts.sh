#!/bin/bash
# Every frame offered is handed to the pipeline exactly once, with its length
# on the wire, and the kernel's counters agree with the workers'.  Each
# view's `reserved` is 0 (ctxprobe counts those that are not).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=20000
SIZE=64		# without FCS; veth neither pads nor adds one

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" "plugin: ctxprobe"
rf_start
rf_send -t udp -n "$K" -f 256 -r 20000 -s "$SIZE"
rf_stop

rf_expect "workers" "$(rf_json '.captures[0].workers | length')" 2
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "totals.bytes" "$(rf_num '.captures[0].totals.bytes')" \
    $((K * SIZE))
rf_expect "totals.kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$K"
rf_expect "totals.quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "sum of worker packets" "$(rf_sum .packets)" "$K"
rf_expect "sum of worker bytes" "$(rf_sum .bytes)" $((K * SIZE))
rf_expect "sum of worker kernel_packets" "$(rf_sum .kernel_packets)" "$K"
rf_expect "sum of worker kernel_drops" "$(rf_sum .kernel_drops)" 0
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
rf_expect "sum of ctxprobe.frames" "$(rf_sum .plugins.ctxprobe.frames)" "$K"
rf_expect "frames with reserved not 0" "$(rf_sum .plugins.ctxprobe.reserved)" 0
for w in 0 1; do
	p=$(rf_num ".captures[0].workers[$w].packets")
	b=$(rf_num ".captures[0].workers[$w].bytes")
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	rf_expect "worker $w id" "$(rf_num ".captures[0].workers[$w].id")" "$w"
	rf_expect "worker $w kernel_packets" "$kp" $((p + kd))
	rf_expect "worker $w bytes" "$b" $((p * SIZE))
	# 256 flows over 2 workers: an empty worker means no fanout at all.
	[ "$p" -gt 0 ] || rf_fail "worker $w got no frame of 256 flows"
done

# Beside the document, the last line on stderr sums it up for a person.
rf_expect "stop summary" "$(tail -n 1 "$RF_ERR")" \
    "ringfan: $K frames, 0 dropped by the kernel (0.00%), 0 quarantined"
# uptime_s to the millisecond, as written: no digits of float noise.
grep -Eq '^  "uptime_s": [0-9]+(\.[0-9]{1,3})?,$' "$RF_OUT" ||
    rf_fail "uptime_s not to the millisecond: $(grep uptime_s "$RF_OUT")"
echo "ok: $(grep -o '"uptime_s": [^,]*' "$RF_OUT")"
echo "PASS"

#!/bin/bash
# Kernel drops, seen live: a tiny ring (4 blocks of 4 KiB) in front of a
# plugin that takes 1 ms per frame overflows under unpaced traffic.  While
# ringfan runs, `stats` (JSON and table) and `metrics` report the drops; after
# the stop every frame offered is either handled or dropped, none lost
# (with such rings the kernel's tp_packets equals the frames offered).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=20000

rf_link
rf_config 1 hash "udp port 9" "{ plugin: slow, config: { delay: 1ms } }"
rf_set_ring 4KiB 4 1ms
rf_start

rf_send -t udp -n "$K" -f 64 -s 64

# Live, with the slow worker still busy on what its ring holds.
rf_ctl --json stats >"$RF_TMP/live.json" || rf_fail "ringfanctl stats failed"
kd=$(jq -r '.captures[0].totals.kernel_drops' "$RF_TMP/live.json")
[[ "$kd" =~ ^[0-9]+$ ]] && [ "$kd" -gt 0 ] ||
    rf_fail "live totals.kernel_drops is \"$kd\", expected > 0"
echo "ok: live totals.kernel_drops = $kd"
lp=$(jq -r '.captures[0].totals.packets' "$RF_TMP/live.json")
[ "$lp" -lt "$K" ] || rf_fail "live packets $lp: no drop could have happened"

rf_ctl metrics >"$RF_TMP/metrics.txt" || rf_fail "ringfanctl metrics failed"
grep -qx '# TYPE ringfan_kernel_drops_total counter' "$RF_TMP/metrics.txt" ||
    rf_fail "metrics: no TYPE line for ringfan_kernel_drops_total"
rf_expect "kernel_drops samples" "$(grep -c \
    '^ringfan_kernel_drops_total{capture="test",worker="0"} [0-9][0-9]*$' \
    "$RF_TMP/metrics.txt")" 1
v=$(sed -n \
    's/^ringfan_kernel_drops_total{capture="test",worker="0"} \([0-9]*\)$/\1/p' \
    "$RF_TMP/metrics.txt")
[ "$v" -gt 0 ] || rf_fail "metrics: ringfan_kernel_drops_total is $v"
echo "ok: metrics ringfan_kernel_drops_total = $v"

rf_ctl stats >"$RF_TMP/stats.txt" || rf_fail "ringfanctl stats failed"
hdr=$(grep -E '^WORKER +PID' "$RF_TMP/stats.txt" | tr -s ' ')
rf_expect "stats table header" "$hdr" \
    "WORKER PID CPU STATE RESTARTS PACKETS BYTES KDROPS DROP% QUAR"
row=$(grep -E '^total ' "$RF_TMP/stats.txt" | head -n 1)
tkd=$(awk '{ print $8 }' <<<"$row")
[[ "$tkd" =~ ^[0-9]+$ ]] && [ "$tkd" -gt 0 ] ||
    rf_fail "stats table: total row KDROPS is \"$tkd\": $row"
echo "ok: stats table total KDROPS = $tkd"
pct=$(awk '{ print $9 }' <<<"$row")
awk -v p="$pct" 'BEGIN { exit !(p > 0 && p <= 100) }' ||
    rf_fail "stats table: total row DROP% is \"$pct\": $row"

rf_stop
p=$(rf_num '.captures[0].workers[0].packets')
kd=$(rf_num '.captures[0].workers[0].kernel_drops')
kp=$(rf_num '.captures[0].workers[0].kernel_packets')
rf_expect "kernel_packets" "$kp" "$K"
rf_expect "kernel_packets == packets + kernel_drops" "$kp" $((p + kd))
[ "$kd" -gt 0 ] || rf_fail "no kernel drop at all"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" \
    "$kd"
rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 0
echo "PASS"

#!/bin/bash
# The ring's health per worker, where it can be exact:
#  1. A quiet link (frames 20 ms apart, block_timeout 10 ms): no block ever
#     fills, so every block the worker took was retired by the timeout;
#     the ring's size is shown, no rollover without rollover.
#  2. A burst into a 2-block ring of a stopped worker: the kernel fills
#     both blocks and drops the rest, so the worker, continued, takes a
#     block with the other one waiting too: backlog_max is the ring's size,
#     the kernel froze the ring, and the full blocks were not timeouts.
#     The live backlog goes back to 0 once the worker has caught up.  (The
#     stall watch is off: stall_timeout 0.)
#  3. Fanout mode rollover: the kernel counts every frame it places on the
#     first member, none failed; the metrics say the same.
#  4. The rollover flag: the frames the stopped worker of a flow has no
#     room for go to the other worker, and are counted as rolled over on
#     the stopped one's socket: exactly what the other one took.
#  5. A worker too slow for its link (1 ms a frame, 5000 frames/s), never
#     stopped: the kernel drops only while the ring is full, the block in
#     the worker's hand included, so backlog_max is the ring's size, as
#     the worker finishes that block (a look as it takes the next one
#     would see one block less: the one it just released).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link

# --- 1. Every block retired by the timeout.
N=50
rf_config 1 hash "udp port 9" "plugin: counter"
rf_set_ring 4KiB 4 10ms
rf_start
rf_send -t udp -n "$N" -f 1 -s 64 -r 50
rf_stop
rf_expect_all "$N"
w='.captures[0].workers[0]'
blocks=$(rf_num "$w.blocks")
if [ "$blocks" -lt 1 ] || [ "$blocks" -gt "$N" ]; then
	rf_fail "blocks is $blocks, expected 1..$N"
fi
rf_expect "blocks_timeout == blocks" "$(rf_num "$w.blocks_timeout")" "$blocks"
rf_expect "totals.blocks" "$(rf_num '.captures[0].totals.blocks')" "$blocks"
rf_expect "ring_blocks" "$(rf_num "$w.ring_blocks")" 4
max=$(rf_num "$w.backlog_max")
if [ "$max" -lt 1 ] || [ "$max" -gt 4 ]; then
	rf_fail "backlog_max is $max, expected 1..4"
fi
rf_expect "rollover_packets without rollover" \
    "$(rf_num "$w.rollover_packets")" 0

# --- 2. A full 2-block ring.
rf_config 1 hash "udp port 9" "plugin: counter"
sed -i "1i stall_timeout: 0" "$RF_CONF"
# A block timeout far longer than the burst: on a busy machine a pause
# in the sender must not retire a block half full.
rf_set_ring 4KiB 2 2000ms
rf_start
pid=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid"
rf_send -t udp -n 500 -f 1 -s 64
# Both blocks retired full; the rest dropped.
rf_wait_until 5 "the kernel dropping" rf_ctl_test stats \
    '.captures[0].workers[0].kernel_drops > 0'
kill -CONT "$pid"
rf_wait_until 5 "the worker caught up" rf_ctl_test stats \
    '.captures[0].workers[0] | .backlog == 0 and
     .packets == .kernel_packets - .kernel_drops'
rf_expect "live backlog_max" \
    "$(rf_ctl_num stats '.captures[0].workers[0].backlog_max')" 2
rf_stop
rf_expect "kernel_packets" "$(rf_num "$w.kernel_packets")" 500
rf_expect "kernel_packets == packets + kernel_drops" \
    "$(rf_num "$w.kernel_packets")" \
    "$(( $(rf_num "$w.packets") + $(rf_num "$w.kernel_drops") ))"
rf_expect "backlog_max" "$(rf_num "$w.backlog_max")" 2
rf_expect "ring_blocks" "$(rf_num "$w.ring_blocks")" 2
[ "$(rf_num "$w.kernel_freeze_q")" -ge 1 ] ||
    rf_fail "kernel_freeze_q is 0 after the ring was full"
[ "$(rf_num "$w.blocks_timeout")" -le $(( $(rf_num "$w.blocks") - 2 )) ] ||
    rf_fail "blocks_timeout $(rf_num "$w.blocks_timeout") of" \
    "$(rf_num "$w.blocks") blocks: the two full ones counted as timeouts"
echo "ok: the two full blocks were not timeouts"

# --- 3. The rollover mode.
K=1000
rf_config 2 rollover "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n "$K" -f 8 -s 64 -r 20000
rf_wait_until 5 "$K frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"
M=$RF_TMP/metrics.txt
rf_ctl metrics >"$M"
rf_expect "metric: rollover of worker 0" "$(grep -c \
    "^ringfan_rollover_packets_total{capture=\"test\",worker=\"0\"} $K\$" \
    "$M")" 1
rf_expect "metric: type of ringfan_ring_backlog_max_blocks" \
    "$(grep -cx '# TYPE ringfan_ring_backlog_max_blocks gauge' "$M")" 1
rf_stop
rf_expect_all "$K"
rf_expect "rollover_packets of worker 0 (the first member)" \
    "$(rf_num '.captures[0].workers[0].rollover_packets')" "$K"
rf_expect "totals.rollover_packets" \
    "$(rf_num '.captures[0].totals.rollover_packets')" "$K"
rf_expect "totals.rollover_failed" \
    "$(rf_num '.captures[0].totals.rollover_failed')" 0

# --- 4. The rollover flag: one flow, its worker stopped with a 2-block
# ring: once that ring is full, fanout hands the flow's frames to the other
# worker, and counts each on the stopped worker's socket.
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i -e "1i stall_timeout: 0" -e "s/^      group: .*/&\n      rollover: true/" \
    "$RF_CONF"
grep -q "^      rollover: true$" "$RF_CONF" || rf_fail "could not set rollover"
rf_set_ring 4KiB 2 10ms
rf_start
rf_send -t udp -n 1 -f 1 -s 64
rf_wait_until 5 "the probe frame handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 1'
w=$(rf_ctl_num stats '[.captures[0].workers[] | select(.packets == 1)][0].id')
o=$((1 - w))
pid=$(rf_ctl_num workers ".workers[$w].pid")
kill -STOP "$pid"
rf_send -t udp -n "$K" -f 1 -s 64 -r 5000
# Every frame the other worker's socket took is handled or dropped: its
# own ring is as small, and a busy machine can keep it from emptying it in
# time (a drop there is counted, and the sums below still hold).
rf_wait_until 5 "the other worker took the rest" rf_ctl_test stats \
    ".captures[0].workers[$o].packets > 0 and
     .captures[0].workers[$o].packets +
     .captures[0].workers[$o].kernel_drops ==
     .captures[0].workers[$o].kernel_packets"
kill -CONT "$pid"
rf_stop
ww=".captures[0].workers[$w]"
wo=".captures[0].workers[$o]"
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((K + 1))
rf_expect "rolled over from worker $w == taken by worker $o" \
    "$(rf_num "$ww.rollover_packets")" "$(rf_num "$wo.kernel_packets")"
rf_expect "worker $o rolled nothing over" "$(rf_num "$wo.rollover_packets")" 0
rf_expect "stopped worker's backlog_max: its full ring" \
    "$(rf_num "$ww.backlog_max")" 2
for x in "$w" "$o"; do
	rf_expect "worker $x: kernel_packets == packets + kernel_drops" \
	    "$(rf_num ".captures[0].workers[$x].kernel_packets")" \
	    "$(( $(rf_num ".captures[0].workers[$x].packets") + \
	    $(rf_num ".captures[0].workers[$x].kernel_drops") ))"
done

# --- 5. A ring full under a worker that never stopped.
rf_config 1 hash "udp port 9" "plugin: slow"
rf_set_ring 4KiB 8 10ms
rf_start
rf_send -t udp -n 2000 -f 8 -s 200 -r 5000
rf_stop
w='.captures[0].workers[0]'
[ "$(rf_num "$w.kernel_drops")" -gt 0 ] ||
    rf_fail "the kernel dropped nothing: the worker kept up"
rf_expect "kernel_packets == packets + kernel_drops" \
    "$(rf_num "$w.kernel_packets")" \
    "$(( $(rf_num "$w.packets") + $(rf_num "$w.kernel_drops") ))"
rf_expect "backlog_max of a ring the kernel dropped at" \
    "$(rf_num "$w.backlog_max")" 8
echo "PASS"

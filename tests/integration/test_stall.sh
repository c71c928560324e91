#!/bin/bash
# The stall watch (stall_timeout): a worker that makes no progress while
# frames wait in its ring is killed and respawned, and the frame it was
# stuck on is quarantined, as after a crash.
#  1. The spin plugin never returns on the one 100-byte frame: the worker
#     is replaced no sooner than stall_timeout and within stall_timeout
#     plus the timer and the backoff; exactly that frame is quarantined,
#     every other one is counted, stalls and restarts are 1, the log and
#     last_exit name the plugin, and the kernel's accounting adds up.
#     The same with the plugin blocked in a system call on the only frame
#     sent: the frame in hand is a frame waiting.  And a plugin stuck in
#     its prefetch callback, or in its tick: named so, and nothing is
#     quarantined.
#  2. A worker stopped with SIGSTOP while frames flow is a stall too: it is
#     replaced, counting resumes, and the accounting still adds up.
#  3. A stopped worker on an idle link, for three times stall_timeout, is
#     no stall: nothing waits.  Frames that come then get a whole
#     stall_timeout before it is replaced; none is quarantined (it was not
#     in a frame), and its successor counts them all.
#  4. With the watch off, a worker stuck in a plugin when ringfan stops:
#     the master kills it at the stop's deadline and settles its block,
#     so the frames it finished there are counted (its counters move once
#     a block), the one in hand is quarantined, and none is a drop.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=1000
TIMEOUT=1

# rf_config's file with the stall watch at $TIMEOUT seconds.
stall_config()
{
	rf_config "$@"
	sed -i "1i stall_timeout: ${TIMEOUT}s" "$RF_CONF"
}

now() { date +%s.%N; }

rf_link

# --- 1. A plugin that spins forever on a marked frame.
stall_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')

rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 5 "the first $N frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
t0=$(now)
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
# stall_timeout, plus up to two turns of the master's timer (500 ms each)
# to see it, plus the 100 ms backoff: 2.1 s; the CPUs are shared.
rf_wait_until 8 "the stalled worker replaced and running" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].state == \"running\"
    and .workers[0].pid != $pid0"
t1=$(now)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
awk -v t="$took" -v min="$TIMEOUT" 'BEGIN { exit !(t >= min) }' ||
    rf_fail "replaced after $took s, before stall_timeout ($TIMEOUT s)"
echo "ok: replaced $took s after the marked frame"
rf_expect "live restarts" "$(rf_ctl_num workers '.workers[0].restarts')" 1
rf_expect "live last_exit" "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed after a stall in plugin spin"
rf_wait_until 5 "every other frame handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((2 * N))"
grep -q "worker test/0 (pid $pid0) stalled in plugin spin: no progress for [0-9.]* s with [0-9]* frames\? waiting; killing it" \
    "$RF_ERR" || rf_fail "no log line of the stall naming the plugin:" \
    "$(grep -i stall "$RF_ERR")"
echo "ok: the log names the plugin"
rf_expect "stall log lines" "$(grep -c "stalled" "$RF_ERR")" 1
grep -q "worker test/0 (pid $pid0) killed after a stall in plugin spin" \
    "$RF_ERR" || rf_fail "no log line of the kill's end"
rf_stop

rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" $((2 * N))
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "stalls" "$(rf_num '.captures[0].workers[0].stalls')" 1
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
rf_expect "spin.seen" "$(rf_num '.captures[0].workers[0].plugins.spin.seen')" \
    $((2 * N))
# counter runs before spin: it counted the frame spin was stuck on.
rf_expect "counter.ethernet" \
    "$(rf_num '.captures[0].workers[0].plugins.counter.ethernet')" $((2 * N + 1))

# --- 1b. Stuck in a system call on the only frame that came: the frame in
# hand is a frame waiting.
stall_config 1 hash "udp port 9" \
    "{ plugin: spin, config: { len: 100, block: true } }"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')
rf_send -t udp -n 1 -f 1 -s 100
rf_wait_until 8 "the blocked worker replaced and running" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].state == \"running\"
    and .workers[0].pid != $pid0"
rf_send -t udp -n 10 -f 1 -s 64
rf_wait_until 5 "the frames after it handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 10'
rf_stop
rf_expect "blocked: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "blocked: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" 11
rf_expect "blocked: stalls" "$(rf_num '.captures[0].workers[0].stalls')" 1

# A plugin stuck outside `packet`, with no frame in hand: PLUGIN (spin.c
# built to hang in WHAT, its callback) never returns once the one 100-byte
# frame has reached it.  Named so, nothing quarantined, and the successor
# counts every frame.
stall_between()
{
	local plugin=$1 what=$2

	stall_config 1 hash "udp port 9" "plugin: counter" \
	    "{ plugin: $plugin, config: { len: 100 } }"
	rf_start
	pid0=$(rf_ctl_num workers '.workers[0].pid')
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_send -t udp -n 1 -f 1 -s 100
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_wait_until 8 "the worker stuck in $what replaced and running" \
	    rf_ctl_test workers ".workers[0].stalls == 1 and
	    .workers[0].state == \"running\" and .workers[0].pid != $pid0"
	rf_expect "$what: live last_exit" \
	    "$(rf_ctl_json workers '.workers[0].last_exit')" \
	    "killed after a stall in plugin $plugin's $what"
	rf_wait_until 5 "every frame handled" rf_ctl_test stats \
	    ".captures[0].totals.packets == $((2 * N + 1))"
	rf_stop
	rf_expect "$what: quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 0
	rf_expect "$what: kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
	rf_expect "$what: $plugin.seen" \
	    "$(rf_num ".captures[0].workers[0].plugins.$plugin.seen")" \
	    $((2 * N + 1))
}

# --- 1c. Stuck in a prefetch callback, which runs ahead of the frame in
# hand; the successor takes the block over without prefetch calls.
stall_between spinahead prefetch

# --- 1d. Stuck in a tick, between blocks.
stall_between spintick tick

# --- 2. A worker stopped while frames flow; 3. one stopped on an idle link.
stall_config 1 hash "udp port 9" "plugin: counter"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')
M=4000
rf_send_bg -t udp -n "$M" -f 16 -s 64 -r 1000
rf_wait_until 5 "frames flowing" rf_ctl_test stats \
    '.captures[0].totals.packets > 100'
kill -STOP "$pid0"
rf_wait_until 8 "the stopped worker replaced and running" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].state == \"running\"
    and .workers[0].pid != $pid0"
rf_expect "live last_exit" "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed after a stall while stopped by a signal"
grep -q "worker test/0 (pid $pid0) stalled while stopped by a signal: no progress" \
    "$RF_ERR" || rf_fail "no log line of the stopped worker's stall"
p=$(rf_ctl_num stats '.captures[0].totals.packets')
rf_wait_until 5 "counting resumed" rf_ctl_test stats \
    ".captures[0].totals.packets > $p"
echo "ok: counting resumed after $p frames"
rf_send_wait
# shellcheck disable=SC2016  # $t is jq's
rf_wait_until 5 "the sender's frames all accounted for" rf_ctl_test stats \
    '.captures[0].totals as $t |
     $t.kernel_packets == $t.packets + $t.kernel_drops + $t.quarantined'

pid1=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid1"
sleep $((3 * TIMEOUT))
rf_expect "stopped idle worker: still the same pid" \
    "$(rf_ctl_num workers '.workers[0].pid')" "$pid1"
rf_expect "stopped idle worker: stalls" \
    "$(rf_ctl_num workers '.workers[0].stalls')" 1
# Frames now: the worker stood still for long, but nothing waited until
# now, so they get a whole stall_timeout before it is replaced.
p=$(rf_ctl_num stats '.captures[0].totals.packets')
q0=$(rf_ctl_num stats '.captures[0].totals.quarantined')
t0=$(now)
rf_send -t udp -n 100 -f 1 -s 64 -r 20000
rf_wait_until 8 "the stopped worker replaced once frames came" rf_ctl_test \
    workers ".workers[0].stalls == 2 and .workers[0].state == \"running\"
    and .workers[0].pid != $pid1"
t1=$(now)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
awk -v t="$took" -v min="$TIMEOUT" 'BEGIN { exit !(t >= min) }' ||
    rf_fail "replaced $took s after the frames came, before stall_timeout"
echo "ok: replaced $took s after the frames came"
rf_wait_until 5 "its successor counting them" rf_ctl_test stats \
    ".captures[0].totals.packets == $p + 100"
# Stopped in its wait, not in a frame: nothing to quarantine.
rf_expect "quarantined by the idle stall" \
    "$(rf_ctl_num stats '.captures[0].totals.quarantined')" "$q0"
rf_stop

kp=$(rf_num '.captures[0].totals.kernel_packets')
pk=$(rf_num '.captures[0].totals.packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
q=$(rf_num '.captures[0].totals.quarantined')
rf_expect "kernel_packets" "$kp" $((M + 100))
rf_expect "kernel_packets == packets + kernel_drops + quarantined" \
    "$kp" $((pk + kd + q))
# Stopped mid-frame or between frames: that frame, or none.
[ "$q" -le 1 ] || rf_fail "quarantined $q frames, expected 0 or 1"
rf_expect "stalls" "$(rf_num '.captures[0].workers[0].stalls')" 2
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 2

# --- 4. Stuck at the stop: 20 frames and the marked one in one block (1 s
# block timeout), the watch off.
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i "1i stall_timeout: 0" "$RF_CONF"
rf_set_ring 1MiB 4 1000ms
rf_start
rf_send -t udp -n 20 -f 1 -s 64
rf_send -t udp -n 1 -f 1 -s 100
rf_wait_until 5 "the worker in the marked frame" rf_ctl_test stats \
    '.captures[0].workers[0].plugins.counter.ethernet == 21'
rf_expect "stuck: packets before the block's end" \
    "$(rf_ctl_num stats '.captures[0].totals.packets')" 0
rf_stop
grep -q "worker test/0 (pid [0-9]*) killed by signal 9 (Killed) in plugin spin while stopping" \
    "$RF_ERR" || rf_fail "no log line of the kill at the stop: $(tail -3 "$RF_ERR")"
rf_expect "stuck: packets" "$(rf_num '.captures[0].totals.packets')" 20
rf_expect "stuck: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "stuck: kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "stuck: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" 21
rf_expect "stuck: bytes" "$(rf_num '.captures[0].totals.bytes')" $((20 * 64))
echo "PASS"

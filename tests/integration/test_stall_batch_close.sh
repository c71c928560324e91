#!/bin/bash
# The stall watch in the callbacks test_stall.sh leaves out:
#  1. A batch stage that never returns from the block holding the one
#     100-byte frame: replaced, named `in plugin batcher's batch`, counted
#     in stalls and restarts; no frame in hand, so none is quarantined, and
#     every frame is counted once.
#  2. A plugin's close that never returns when a pipeline reload hands the
#     worker over while frames flow: a stall, named `in plugin spin's
#     close`; the reload completes, and every frame is counted once with
#     none dropped or quarantined.
#  3. A respawned worker whose plugin hangs as it loads (a constructor)
#     while frames wait: a stall, named `while loading plugin loadprobe`;
#     its successor takes every frame, once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=500

# stall_config PIPELINE-ENTRY...: rf_config's file, the watch at 1 s, and a
# ring of 32 blocks of 200 ms that holds the frames through the stall.
stall_config()
{
	rf_config 1 hash "udp port 9" "$@"
	sed -i "1i stall_timeout: 1s" "$RF_CONF"
	rf_set_ring 64KiB 32 200ms
}

rf_link

# --- 1. Stuck in a batch callback.
stall_config "plugin: counter" "{ plugin: batcher, config: { hang: 100 } }"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 8 "the worker stuck in batch replaced and running" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].state == \"running\"
    and .workers[0].pid != $pid0"
rf_expect "batch: live last_exit" \
    "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed after a stall in plugin batcher's batch"
grep -q "worker test/0 (pid $pid0) stalled in plugin batcher's batch: no progress for [0-9.]* s with [0-9]* frames\? waiting; killing it" \
    "$RF_ERR" || rf_fail "no log line of the stall in batch:" \
    "$(grep -i stall "$RF_ERR")"
rf_stop
rf_expect "batch: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "batch: packets" "$(rf_num '.captures[0].totals.packets')" \
    $((2 * N + 1))
rf_expect "batch: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "batch: kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "batch: stalls" "$(rf_num '.captures[0].workers[0].stalls')" 1
rf_expect "batch: restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1

# --- 2. Stuck in close at a pipeline reload's hand-over.
stall_config "plugin: counter" "{ plugin: spin, config: { close: true } }"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 5 "the first $N frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
sed -i '/plugin: spin/d' "$RF_CONF"
# 4 s of frames, longer than the reload's check on a busy machine: frames
# still come while close hangs, so it is a stall, not the hand-over's end.
rf_send_bg -t udp -n 4000 -f 1 -s 64 -r 1000
rf_ctl reload >"$RF_TMP/reload.out" ||
    rf_fail "reload failed: $(cat "$RF_TMP/reload.out")"
rf_expect "close: reload reply" "$(cat "$RF_TMP/reload.out")" \
    "reload: ok (pipeline)"
rf_send_wait
grep -q "worker test/0 (pid $pid0) stalled in plugin spin's close: no progress for [0-9.]* s with [0-9]* frames\? waiting; killing it" \
    "$RF_ERR" || rf_fail "no log line of the stall in close:" \
    "$(grep -i stall "$RF_ERR")"
rf_expect "close: stalls" "$(rf_ctl_num workers '.workers[0].stalls')" 1
rf_stop
rf_expect "close: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "close: packets" "$(rf_num '.captures[0].totals.packets')" \
    $((N + 4000))
rf_expect "close: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((N + 4000))
rf_expect "close: kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0

# --- 3. Stuck loading a plugin, as a worker respawns.
export RINGFAN_PROBE_HANG=$RF_TMP/hang
stall_config "plugin: loadprobe"
rf_start
touch "$RINGFAN_PROBE_HANG"
kill -9 "$(rf_ctl_num workers '.workers[0].pid')"
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 8 "the worker stuck loading replaced and running" rf_ctl_test \
    workers '.workers[0].stalls == 1 and .workers[0].state == "running"'
rf_expect "loading: live last_exit" \
    "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed after a stall while loading plugin loadprobe"
grep -q "worker test/0 (pid [0-9]*) stalled while loading plugin loadprobe: no progress for [0-9.]* s with [0-9]* frames\? waiting; killing it" \
    "$RF_ERR" || rf_fail "no log line of the stall while loading:" \
    "$(grep -i stall "$RF_ERR")"
rf_stop
rf_expect "loading: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "loading: packets" "$(rf_num '.captures[0].totals.packets')" "$N"
rf_expect "loading: kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "loading: restarts" "$(rf_num '.captures[0].workers[0].restarts')" 2
echo "PASS"

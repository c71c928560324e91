#!/bin/bash
# A reload whose old worker does not exit when told to, on an idle link:
# stopped (SIGSTOP) with no frame waiting, as one stuck in a plugin's
# close would be, it is no stall.  The reload must not wait for it
# forever: it is killed once it has made no progress for 5 s since it
# was told to go, and the reload completes.
#  1. A pipeline reload: the worker handed over is killed, its successor
#     runs the new pipeline, and the reload answers ok.
#  2. A capture reload: the retiring worker is killed, the old generation
#     is retired, and the reload answers ok.
# Afterwards every frame is counted once and none is dropped.
#  3. A capture reload whose old worker drains slowly (20 ms a frame, 8 s
#     in all), making progress all along: it is not killed, and hands
#     every frame to its pipeline.
#  4. A capture reload whose old worker hangs in a plugin on a frame, with
#     the stall watch off: killed for no progress, that frame quarantined,
#     and a drainer started for the frames behind it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=200

now() { date +%s.%N; }

# reload_past_stopped WANT WHEN: stops worker 0, reloads $RF_CONF, and
# checks the reload answers WANT after 5 s and a few timer turns, and
# that the log has the kill, WHEN (with the pid).
reload_past_stopped()
{
	local want=$1 logged=$2 pid0 t0 took rc=0

	pid0=$(rf_ctl_num workers '.workers[0].pid')
	kill -STOP "$pid0"
	t0=$(now)
	timeout --foreground 20 "$RINGFANCTL" -s "$RF_SOCK" reload >"$RF_TMP/reload.out" \
	    2>"$RF_TMP/reload.err" || rc=$?
	took=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	kill -CONT "$pid0" 2>/dev/null || true
	rf_expect "reload exit status" "$rc" 0
	rf_expect "reload reply" "$(cat "$RF_TMP/reload.out")" "$want"
	awk -v t="$took" 'BEGIN { exit !(t >= 4.5 && t < 10) }' ||
	    rf_fail "the reload took $took s, expected 5 s and a few turns"
	echo "ok: the reload answered after $took s"
	grep -q "worker test/0 (pid $pid0) made no progress for 5000 ms $logged: SIGKILL" \
	    "$RF_ERR" || rf_fail "no log line of the kill: $(tail -5 "$RF_ERR")"
	echo "ok: the log names the kill"
	rf_wait_running 5 2
	rf_expect "status after the reload" \
	    "$(rf_ctl_json status '.captures[0].state')" running
	rf_expect "last_reload_error" "$(rf_ctl_json status .last_reload_error)" \
	    null
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
rf_start

# --- 1. A pipeline reload.
rf_config 2 hash "udp port 9" "plugin: counter" "plugin: options"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
reload_past_stopped "reload: ok (pipeline)" "after its hand-over"
rf_expect "pipeline" \
    "$(rf_ctl_json plugins '[.captures[0].plugins[].name] | join(",")')" \
    counter,options
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_wait_until 5 "the frames after the pipeline reload handled" rf_ctl_test \
    stats ".captures[0].totals.packets == $N"

# --- 2. A capture reload.
rf_set_ring 64KiB 16 10ms
reload_past_stopped "reload: ok (captures)" "draining for a reload"
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_wait_until 5 "the frames after the capture reload handled" rf_ctl_test \
    stats ".captures[0].totals.packets == $((2 * N))"
rf_stop
rf_expect_all $((2 * N))
rf_expect "counter.udp" "$(rf_sum '.plugins.counter.udp')" $((2 * N))
rf_expect "restarts of worker 0" \
    "$(rf_num '.captures[0].workers[0].restarts')" 2
rf_expect "stalls of worker 0" "$(rf_num '.captures[0].workers[0].stalls')" 0

# --- 3. A slow drain that progresses.
S=400
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: slow, config: { delay: 20ms } }"
rf_start
rf_send -t udp -n "$S" -f 16 -s 64 -r 20000
rf_set_ring 64KiB 16 10ms
rc=0
timeout --foreground 30 "$RINGFANCTL" -s "$RF_SOCK" reload >"$RF_TMP/reload.out" \
    2>"$RF_TMP/reload.err" || rc=$?
rf_expect "slow drain: reload exit status" "$rc" 0
rf_expect "slow drain: reload reply" "$(cat "$RF_TMP/reload.out")" \
    "reload: ok (captures)"
if grep -q "made no progress" "$RF_ERR"; then
	rf_fail "a draining worker was killed: $(grep "made no progress" "$RF_ERR")"
fi
rf_stop
rf_expect_all "$S"
rf_expect "slow drain: restarts" "$(rf_sum .restarts)" 0

# --- 4. Hung on a frame while draining, the stall watch off.
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i '1i stall_timeout: 0' "$RF_CONF"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')
rf_send -t udp -n 50 -f 1 -s 64
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n 50 -f 1 -s 64
rf_set_ring 64KiB 16 10ms
rc=0
timeout --foreground 30 "$RINGFANCTL" -s "$RF_SOCK" reload >"$RF_TMP/reload.out" \
    2>"$RF_TMP/reload.err" || rc=$?
rf_expect "hung drain: reload exit status" "$rc" 0
rf_expect "hung drain: reload reply" "$(cat "$RF_TMP/reload.out")" \
    "reload: ok (captures)"
grep -q "worker test/0 (pid $pid0) made no progress for 5000 ms draining for a reload: SIGKILL" \
    "$RF_ERR" || rf_fail "no log line of the kill: $(tail -5 "$RF_ERR")"
rf_stop
rf_expect "hung drain: packets" "$(rf_num '.captures[0].totals.packets')" 100
rf_expect "hung drain: quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "hung drain: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" 101
rf_expect "hung drain: kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
echo "PASS"

#!/bin/bash
# A reload whose old worker does not exit when told to, on an idle link:
# stopped (SIGSTOP) with no frame waiting, as one stuck in a plugin's
# close would be, it is no stall.  The reload must not wait for it
# forever: it is killed 5 s after it was told to go, and the reload
# completes.
#  1. A pipeline reload: the worker handed over is killed, its successor
#     runs the new pipeline, and the reload answers ok.
#  2. A capture reload: the retiring worker is killed, the old generation
#     is retired, and the reload answers ok.
# Afterwards every frame is counted once and none is dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=200

now() { date +%s.%N; }

# reload_past_stopped WANT LOGGED: stops worker 0, reloads $RF_CONF, and
# checks the reload answers WANT within 5 s and a few timer turns, and
# that the log has LOGGED (with the pid).
reload_past_stopped()
{
	local want=$1 logged=$2 pid0 t0 took rc=0

	pid0=$(rf_ctl_num workers '.workers[0].pid')
	kill -STOP "$pid0"
	t0=$(now)
	timeout 20 "$RINGFANCTL" -s "$RF_SOCK" reload >"$RF_TMP/reload.out" \
	    2>"$RF_TMP/reload.err" || rc=$?
	took=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	kill -CONT "$pid0" 2>/dev/null || true
	rf_expect "reload exit status" "$rc" 0
	rf_expect "reload reply" "$(cat "$RF_TMP/reload.out")" "$want"
	awk -v t="$took" 'BEGIN { exit !(t >= 4.5 && t < 10) }' ||
	    rf_fail "the reload took $took s, expected 5 s and a few turns"
	echo "ok: the reload answered after $took s"
	grep -q "worker test/0 (pid $pid0) $logged within 5000 ms of \(its\|the\) hand-over: SIGKILL" \
	    "$RF_ERR" || rf_fail "no log line of the kill: $(tail -5 "$RF_ERR")"
	echo "ok: the log names the kill"
	rf_wait_until 5 "every worker running" rf_ctl_test workers \
	    "[.workers[] | select(.state == \"running\")] | length == 2"
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
reload_past_stopped "reload: ok (pipeline)" "did not exit"
rf_expect "pipeline" \
    "$(rf_ctl_json plugins '[.captures[0].plugins[].name] | join(",")')" \
    counter,options
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_wait_until 5 "the frames after the pipeline reload handled" rf_ctl_test \
    stats ".captures[0].totals.packets == $N"

# --- 2. A capture reload.
rf_set_ring 64KiB 16 10ms
reload_past_stopped "reload: ok (captures)" "did not drain"
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_wait_until 5 "the frames after the capture reload handled" rf_ctl_test \
    stats ".captures[0].totals.packets == $((2 * N))"
rf_stop
rf_expect_all $((2 * N))
rf_expect "counter.udp" "$(rf_sum '.plugins.counter.udp')" $((2 * N))
rf_expect "restarts of worker 0" \
    "$(rf_num '.captures[0].workers[0].restarts')" 2
rf_expect "stalls of worker 0" "$(rf_num '.captures[0].workers[0].stalls')" 0
echo "PASS"

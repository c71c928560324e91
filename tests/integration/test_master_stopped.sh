#!/bin/bash
# A master held up past its stop deadline (stopped by SIGSTOP, or starved
# of CPU) while its workers drain and exit cleanly: when it runs again, the
# workers that exited in time are reaped as stopped, not reported as killed
# for missing the deadline ("did not stop within 5000 ms: SIGKILL"), which
# would tell the operator that a plugin hung at the stop when none did.
# The slow plugin makes the drain last long enough that the master's timer
# is due before the workers end.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=1000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: slow, config: { delay: 1ms } }"
rf_start
pids=$(rf_ctl_json workers '[.workers[].pid] | join(" ")')
rf_send -t udp -n "$K" -f 64 -s 64 -r 50000
rf_wait_until 5 "the frames in the rings" rf_ctl_test stats \
    ".captures[0].totals.kernel_packets == $K"

kill -TERM "$RF_PID"
rf_wait_until 5 "the stop under way" grep -q "stopping: SIGTERM" "$RF_ERR"
kill -STOP "$RF_PID"
t0=$(date +%s%N)
for pid in $pids; do
	rf_wait_until 10 "worker $pid exited" eval "! rf_alive $pid"
done
# Past the master's 5 s deadline, counted from the SIGTERM.
t=$((($(date +%s%N) - t0) / 1000000))
[ "$t" -lt 5600 ] && sleep "$(awk -v t="$t" 'BEGIN { print (5600 - t) / 1000 }')"
kill -CONT "$RF_PID"
rf_wait_exit 10 "stop of a master stopped past its deadline"
jq -s 'last' "$RF_OUT" >"$RF_STATS"

n=$(grep -c "did not stop within" "$RF_ERR" || true)
rf_expect "workers reported killed at the deadline" "$n" 0
rf_expect "worker states" "$(rf_json '[.captures[0].workers[].state] | join(",")')" \
    "stopped,stopped"
rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
echo "PASS"

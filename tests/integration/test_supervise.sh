#!/bin/bash
# Supervision: a worker killed with SIGKILL under steady traffic is
# respawned on the same socket, and no frame is lost or seen twice: the
# frames waited in its ring.  At most the one frame it was handling when it
# died is skipped, counted as quarantined.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=20000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start

rf_send_bg -t udp -n "$K" -f 256 -r 5000 -s 64
rf_wait_flowing 2000

victim=$(rf_ctl_num workers \
    '.workers[] | select(.capture == "test" and .id == 0) | .pid')
other=$(rf_ctl_num workers \
    '.workers[] | select(.capture == "test" and .id == 1) | .pid')
[ "$victim" -gt 0 ] && rf_alive "$victim" ||
    rf_fail "worker 0's pid $victim is not a running process"
# It must really be a worker of ours, not the master or a stranger.
[ "$(awk '{ print $4 }' "/proc/$victim/stat")" = "$RF_PID" ] ||
    rf_fail "pid $victim is not a child of the master $RF_PID"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the kill"
kill -KILL "$victim"

# The master notices, waits its 100 ms backoff and respawns worker 0.
rf_wait_until 5 "worker 0 respawned and running" rf_ctl_test workers \
    ".workers[0] | .state == \"running\" and .restarts == 1 and
     .pid != $victim and .pid > 0"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the respawn"

rf_send_wait
rf_expect "worker 0 last_exit" \
    "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed by signal 9 (Killed)"
rf_expect "worker 1 last_exit" \
    "$(rf_ctl_json workers '.workers[1].last_exit')" null
rf_expect "worker 1 pid unchanged" \
    "$(rf_ctl_num workers '.workers[1].pid')" "$other"
rf_expect "live worker 0 restarts" \
    "$(rf_ctl_num workers '.workers[0].restarts')" 1
rf_expect "status capture state" \
    "$(rf_ctl_json status '.captures[0].state')" running
rf_expect "status running" \
    "$(rf_ctl_num status '.captures[0].running')" 2
grep -q "worker test/0 (pid $victim) killed by signal 9" "$RF_ERR" ||
    rf_fail "the master did not log the death of worker 0 (pid $victim)"
rf_stop

rf_expect "worker 0 restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
rf_expect "worker 1 restarts" "$(rf_num '.captures[0].workers[1].restarts')" 0
p=$(rf_num '.captures[0].totals.packets')
q=$(rf_num '.captures[0].totals.quarantined')
kd=$(rf_num '.captures[0].totals.kernel_drops')
kp=$(rf_num '.captures[0].totals.kernel_packets')
rf_expect "totals.kernel_packets" "$kp" "$K"
rf_expect "totals.kernel_drops" "$kd" 0
rf_expect "packets + quarantined + kernel_drops" $((p + q + kd)) "$K"
[ "$q" -le 1 ] || rf_fail "totals.quarantined is $q, at most 1 expected"
echo "ok: totals.quarantined = $q (<= 1)"
rf_expect "worker 1 quarantined" \
    "$(rf_num '.captures[0].workers[1].quarantined')" 0
for w in 0 1; do
	wp=$(rf_num ".captures[0].workers[$w].packets")
	wq=$(rf_num ".captures[0].workers[$w].quarantined")
	wkd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	wkp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	rf_expect "worker $w kernel_packets" "$wkp" $((wp + wq + wkd))
	[ "$wp" -gt 0 ] || rf_fail "worker $w handled no frame"
done
# The counter plugin's slots live in shared memory too: they survive the
# respawn.  The quarantined frame may or may not have been counted.
c=$(rf_sum .plugins.counter.ethernet)
[ "$c" -ge "$p" ] && [ "$c" -le $((p + q)) ] ||
    rf_fail "counter.ethernet summed is $c, expected $p..$((p + q))"
echo "ok: counter.ethernet = $c"
echo "PASS"

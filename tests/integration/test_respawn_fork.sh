#!/bin/bash
# A worker that crashes once while a process limit (a pids cgroup whose
# pids.max the master alone fills) refuses the fork of its successor: each
# refused fork is logged and tried again after a doubling delay, and none
# counts as a crash, so the crash-loop limit ("crashed 5 times") is never
# reached.  Once the limit is lifted the worker runs again, with one
# restart, and every frame is counted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_pids_cgroup

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
echo "$RF_PID" >"$RF_CG/cgroup.procs"
echo 1 >"$RF_CG/pids.max"
rf_send -t udp -n 100 -f 16 -s 64
rf_wait_until 10 "100 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 100'

pid=$(rf_ctl_json workers '.workers[0].pid')
kill -SEGV "$pid"
# The crash, then forks refused 100, 100, 200, 400 and 800 ms apart: as
# many as the crash-loop limit, and more than it with the crash.
refused()
{
	[ "$(grep -c "worker test/0: fork: Resource temporarily unavailable" \
	    "$RF_ERR")" -ge 5 ]
}
rf_wait_until 10 "5 refused forks" refused
! grep -q "crashed [0-9]* times" "$RF_ERR" ||
    rf_fail "refused forks counted as crashes: $(grep "crashed" "$RF_ERR")"
rf_expect "state while refused" "$(rf_ctl_json workers '.workers[0].state')" \
    backoff
rf_expect "last_exit while refused" \
    "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "fork: Resource temporarily unavailable"

echo max >"$RF_CG/pids.max"
rf_wait_until 15 "worker 0 running again" rf_ctl_test workers \
    '.workers[0].state == "running"'
rf_send -t udp -n 100 -f 16 -s 64
rf_wait_until 10 "200 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 200'
rf_stop
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" 200
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" 200
echo PASS

#!/bin/bash
# A worker that keeps crashing in its open while a reload's rolling
# restart waits for it keeps the backoff and the crash-loop limit.
#
# Worker 1 dies while it waits for its turn on the previous pipeline, and
# its closer crashes in the hostmem plugin's recovery (what it held stays
# in that memory, marked open); it then runs the new pipeline, and is
# killed there: the reload is rolled back.  Every process started on the
# previous pipeline for it crashes in the same recovery.  The rollback's
# hand-over must not start one after another without a backoff nor a
# limit: the worker fails at the crash-loop limit, and the rollback is
# answered.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_hostmem_config "$RF_TMP"
rf_start
rf_send_handled 5000
echo crash >"$RECOVER"
# Worker 0 goes first and, stopped, holds the rolling restart.
rf_reload_kill_1 's/idle_timeout: 60s/idle_timeout: 50s/'
rf_wait_until 10 "worker 1 on the new pipeline" grep -q \
    "worker test/1 .*, closing its previous pipeline; starting the new one" \
    "$RF_ERR"
rf_wait_until 10 "worker 1 running" rf_ctl_test workers \
    ".workers[1] | .pid != $pid1 and .pid > 0 and .state == \"running\""
new1=$(rf_ctl_num workers '.workers[1].pid')
kill -KILL "$new1"
rf_wait_until 10 "the rollback" grep -q \
    "every worker is back on the previous pipeline" "$RF_ERR"
kill -CONT "$pid0"
rf_wait_until 30 "worker 1 failed at the crash-loop limit" rf_ctl_test \
    workers '.workers[1].state == "failed"'
rf_reload_end "the reload" 1
rf_stop
restarts=$(rf_num '.captures[0].workers[1].restarts')
echo "worker 1: $restarts restarts"
# Three deaths before the rollback (worker 1 killed, its closer crashed,
# its successor killed); after it, the closer on the new pipeline crashes,
# then the one successor started with a clean crash record and those after
# it crash to the limit, the fifth crash within 60 s: 3 + 1 + 5.  A second
# start with a clean record would make it 10, a loop without one more.
rf_expect "worker 1 restarts" "$restarts" 9
# After the rollback, every death of worker 1 but the one that trips the
# crash-loop limit is followed by a backoff: a process started again at
# once (without "respawning in") makes a death more.
read -r deaths backoffs limit < <(awk '
	/every worker is back on the previous pipeline/ { on = 1; next }
	!on { next }
	/worker test\/1 crashed [0-9]+ times within/ { limit++; exit }
	/worker test\/1 \(pid [0-9]+\) (killed by signal|exited with code)/ {
		deaths++
	}
	/worker test\/1: respawning in [0-9]+ ms$/ { backoffs++ }
	END { print deaths + 0, backoffs + 0, limit + 0 }' "$RF_ERR")
echo "worker 1 after the rollback: $deaths deaths, $backoffs backoffs"
rf_expect "crash-loop limit lines after the rollback" "$limit" 1
rf_expect "deaths after the rollback, less the last" $((deaths - 1)) \
    "$backoffs"
p=$(rf_num '.captures[0].totals.packets')
q=$(rf_num '.captures[0].totals.quarantined')
kp=$(rf_num '.captures[0].totals.kernel_packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
rf_expect "packets + kernel_drops + quarantined" $((p + kd + q)) "$kp"

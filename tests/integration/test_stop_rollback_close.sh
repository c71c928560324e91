#!/bin/bash
# A graceful stop while a pipeline reload is rolled back: worker 0, dead
# on the new pipeline, is started on it once more to close what it left
# there (docs/architecture.md, Reload), and that closer hangs in the
# hostmem plugin's recovery until it is killed at the stop deadline.  What
# worker 0 held in the new pipeline's host memory is then lost: that is
# said as an error, and the worker ends failed (docs/control.md, stats).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_hostmem_config "$RF_TMP"
# No stall watch: the closer that hangs is to be killed at the stop.
sed -i '1i stall_timeout: 0s' "$RF_CONF"
rf_start
rf_send_bg -t udp -n 60000 -f 64 -r 10000 -s 64
rf_wait_until 10 "frames on both workers" rf_ctl_test stats \
    '[.captures[0].workers[] | .packets > 0] | all'
pid0=$(rf_ctl_num workers '.workers[0].pid')
pid1=$(rf_ctl_num workers '.workers[1].pid')
kill -STOP "$pid1"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rf_reload_bg
rf_wait_until 10 "worker 0 on the new pipeline" rf_ctl_test stats \
    ".captures[0].workers[0] | .pid != $pid0 and .state == \"running\""
n0=$(rf_ctl_num stats '.captures[0].workers[0].packets')
rf_wait_until 10 "frames on the new pipeline" rf_ctl_test stats \
    ".captures[0].workers[0].packets > $n0 + 1000"
new0=$(rf_ctl_num workers '.workers[0].pid')
echo "sleep 600" >"$RECOVER"
kill -KILL "$new0"
rf_wait_until 10 "the closer of the new pipeline" grep -q \
    "worker test/0: started on the new pipeline again, to close what it left" \
    "$RF_ERR"
kill -CONT "$pid1"
RF_SETTLE=0 rf_stop
rf_reload_end "the reload" 1
rf_expect "the reload's answer" "$(cat "$RF_TMP/reload.err")" \
    "ringfanctl: reload: stopping before every worker took it"
rf_send_wait || true

grep -q "\[master\] error: worker test/0 (pid [0-9]*) killed by signal 9 (Killed): what its plugins held in host memory is lost" \
    "$RF_ERR" || rf_fail "the loss is not reported: $(cat "$RF_ERR")"
rf_expect "worker 0 state" "$(rf_json '.captures[0].workers[0].state')" failed
p=$(rf_num '.captures[0].totals.packets')
q=$(rf_num '.captures[0].totals.quarantined')
kp=$(rf_num '.captures[0].totals.kernel_packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
rf_expect "packets + kernel_drops + quarantined" $((p + kd + q)) "$kp"

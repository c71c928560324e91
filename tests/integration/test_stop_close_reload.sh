#!/bin/bash
# A graceful stop during a pipeline reload, worker 0 stopped (SIGSTOP)
# while still on the previous pipeline: it is killed at the stop deadline,
# and its closer starts on the previous pipeline (docs/architecture.md,
# Stopping).  That closer crashes in the hostmem plugin's recovery: what
# worker 0 held in the previous pipeline's host memory is lost, and that
# is said as an error, and the worker ends failed, as at a stop without a
# reload.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_hostmem_config "$RF_TMP"
rf_start
rf_send_handled 5000
pid0=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid0"
echo crash >"$RECOVER"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rf_reload_bg
rf_wait_until 10 "the reload under way" grep -q \
    "restarting workers one at a time" "$RF_ERR"
RF_SETTLE=0 rf_stop
kill -CONT "$pid0" 2>/dev/null || true
rf_reload_end "the reload" 1
rf_expect "the reload's answer" "$(cat "$RF_TMP/reload.err")" \
    "ringfanctl: reload: stopping before every worker took it"

grep -q "worker test/0: started to close what hostmem, flowtable left in host memory" \
    "$RF_ERR" || rf_fail "no closer started for worker 0: $(cat "$RF_ERR")"
grep -Eq "worker test/0 \(pid [0-9]+\) (killed by signal|exited with code).* closing what its predecessor left" \
    "$RF_ERR" || rf_fail "the closer's death not logged"
grep -q "\[master\] error: worker test/0: what hostmem, flowtable held in host memory is lost" \
    "$RF_ERR" || rf_fail "the loss is not reported: $(cat "$RF_ERR")"
rf_expect "worker 0 state" "$(rf_json '.captures[0].workers[0].state')" failed
rf_expect "worker 0 pid" "$(rf_json '.captures[0].workers[0].pid')" 0
p=$(rf_num '.captures[0].totals.packets')
q=$(rf_num '.captures[0].totals.quarantined')
kp=$(rf_num '.captures[0].totals.kernel_packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
rf_expect "packets + kernel_drops + quarantined" $((p + kd + q)) "$kp"

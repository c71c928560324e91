#!/bin/bash
# A pipeline reload that reaches a worker stopped by a signal (SIGSTOP)
# with frames waiting: the stall watch kills it during its hand-over and
# its successor is started after the crash backoff.  The reload's reply
# must come only once every worker runs the new pipeline
# (docs/control.md, reload): at the reply, no worker may still be in its
# backoff, nor shown with the killed pid.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i '1i stall_timeout: 2s' "$RF_CONF"
rf_start

rf_send_bg -t udp -n 60000 -f 64 -r 10000 -s 64
rf_wait_flowing 5000
pid0=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid0"
echo "      - { plugin: crash, config: { len: 7 } }" >>"$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" pipeline
rf_ctl_json workers '.workers[] | "\(.id) \(.pid) \(.state)"' \
    >"$RF_TMP/workers"
cat "$RF_TMP/workers"
grep -q "stalled while stopped by a signal" "$RF_ERR" ||
    rf_fail "the stopped worker was not killed for a stall"
rf_expect "workers running at the reply" \
    "$(grep -c ' running$' "$RF_TMP/workers")" 2
grep -q " $pid0 " "$RF_TMP/workers" &&
    rf_fail "at the reply, worker 0 is still the killed pid $pid0"
rf_send_wait
rf_stop
kp=$(rf_num '.captures[0].totals.kernel_packets')
p=$(rf_num '.captures[0].totals.packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
q=$(rf_num '.captures[0].totals.quarantined')
rf_expect "packets + kernel_drops + quarantined" $((p + kd + q)) "$kp"

#!/bin/bash
# log.level is live for every process: a reload from info to debug (which
# restarts no worker) makes the running workers log at debug too, as the
# master does, and a reload back to info silences them again.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
pid=$(rf_ctl_json workers '.workers[0].pid')
echo "log: { level: debug }" >>"$RF_CONF"
rf_expect "reload to debug" "$(rf_ctl_json reload .result)" unchanged
rf_send -t udp -n 5 -f 1
rf_expect "worker pid" "$(rf_ctl_json workers '.workers[0].pid')" "$pid"
rf_stop
grep -q "^ringfan\[test/0\] debug: stopped after 5 frames$" "$RF_ERR" ||
    rf_fail "the worker did not log at debug: $(grep -c debug "$RF_ERR")" \
    "debug lines, none of test/0"

# And back: a worker started at debug stops logging at debug once the
# reload to info commits.
rf_start
sed -i 's/^log: { level: debug }$/log: { level: info }/' "$RF_CONF"
rf_expect "reload to info" "$(rf_ctl_json reload .result)" unchanged
rf_send -t udp -n 5 -f 1
rf_stop
grep -q "^ringfan\[test/0\] debug: running on " "$RF_ERR" ||
    rf_fail "the worker started at debug did not log at debug"
! grep -q "^ringfan\[test/0\] debug: stopped after" "$RF_ERR" ||
    rf_fail "the worker still logs at debug after the reload to info"
echo "PASS"

#!/bin/bash
# A pipeline reload that reaches a worker stuck in a plugin of the
# previous pipeline (spin, on a frame of 142 bytes), whose step the new
# pipeline gives to another plugin (crash): the stall watch names the
# step the worker is stuck in, that of the pipeline it runs, not the new
# pipeline's step of that number.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 142 } }"
sed -i '1i stall_timeout: 2s' "$RF_CONF"
rf_start
rf_send -t udp -n 1 -f 1 -s 142
rf_wait_until 5 "the worker in spin" rf_ctl_test stats \
    '.captures[0].workers[0].packets == 0 and
    .captures[0].totals.kernel_packets == 1'
sed -i 's/plugin: spin, .*/plugin: crash, config: { len: 7 } }/' "$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" pipeline
grep -q "worker test/0 (pid [0-9]*) stalled in plugin spin: " "$RF_ERR" ||
    rf_fail "the stall is not named in spin: $(grep stalled "$RF_ERR")"
grep -q "killed after a stall in plugin spin$" "$RF_ERR" ||
    rf_fail "the kill is not named in spin: $(grep "killed after" "$RF_ERR")"
rf_stop
echo "PASS"

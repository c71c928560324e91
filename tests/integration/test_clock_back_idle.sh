#!/bin/bash
# A worker on an idle link, which has seen no frame, when the clock is
# stepped back an hour (clockahead.c: every ringfan process reads the
# clock an hour ahead until the file goes): network time, the real time
# while no frame came, goes back with the clock, and the plugins go on
# ticking on it.  Before, network time stayed at the time before the step
# and no plugin ticked for the hour, idle link or not.
set -eu
. "$(dirname "$0")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: ticker
        config: { period_ns: 100000000 }"
rf_start_ahead 3600 1
rf_wait_until 20 "ticks an hour ahead" rf_ctl_test stats \
    ".captures[0].workers[0].plugins.ticker.ticks >= 5"
rm "$RF_AHEAD"
now=$(date +%s)
# Ticks on the clock as it is: the worker saw the step.
rf_wait_until 20 "ticks after the step" rf_ctl_test stats \
    ".captures[0].workers[0].gauges.ticker.last_tick > 0 and
    .captures[0].workers[0].gauges.ticker.last_tick < ($now + 600) * 1e9"
t=$(rf_ctl_json stats '.captures[0].workers[0].plugins.ticker.ticks')
rf_wait_until 20 "ten ticks more" rf_ctl_test stats \
    ".captures[0].workers[0].plugins.ticker.ticks >= $t + 10"
grep -q "test/0.*the clock went back 3[56][0-9][0-9]\.[0-9]* s: network time goes back with it" \
    "$RF_ERR" || rf_fail "no warning of the step: $(cat "$RF_ERR")"
rf_stop
echo PASS

#!/bin/bash
# SIGUSR1 logs each worker's counts whatever log.level says: a person who
# asks for them with the signal gets them also at level warn or error.  The
# lines used to be info lines, which those levels drop, so the signal did
# nothing there.  The level is set by a reload (a live key), as rf_start
# waits for the "ready:" line, an info line.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send_handled 100
echo "log: { level: error }" >>"$RF_CONF"
rf_expect "reload to error" "$(rf_ctl_json reload .result)" unchanged
kill -USR1 "$RF_PID"
summary()
{
	grep -o 'worker test/[01]: running, packets [0-9]*' "$RF_ERR"
}
lines()
{
	[ "$(summary | wc -l)" -ge 2 ]
}
rf_wait_until 10 "the summary at level error" lines
rf_expect "packets of the summary" \
    "$(summary | awk '{ n += $5 } END { print n }')" 100
# The stop's own lines stay info lines, which level error drops.
rf_stop
rf_expect "the stop's worker lines at level error" \
    "$(grep -c 'worker test/[01]: stopped' "$RF_ERR" || true)" 0
rf_expect_all 100
# Those lines are there at level info.
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send_handled 100
rf_stop
rf_expect "the stop's worker lines at level info" \
    "$(grep -c 'worker test/[01]: stopped, packets ' "$RF_ERR" || true)" 2
echo "PASS"

#!/bin/bash
# The control socket while the master stops (docs/control.md): status says
# "stopping"; restart and reload are refused with their documented errors
# (restart's names its target, as every restart error does); stop again is
# acknowledged; SIGHUP is logged with the reload's error, as a warning, not
# as a failed reload nor as one queued; the master then exits 0.  A stopped
# worker holds the master in its stop for as long as the test needs (up to
# the 5 s grace).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
wpid=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$wpid"

# ctl CMD...: "EXIT-STATUS|STDOUT|STDERR" of ringfanctl.
ctl()
{
	local rc=0 out

	out=$(rf_ctl "$@" 2>"$RF_TMP/ctl.err") || rc=$?
	echo "$rc|$out|$(cat "$RF_TMP/ctl.err")"
}
rf_expect "stop" "$(ctl stop)" "0|stopping|"
rf_expect "status.state while stopping" "$(rf_ctl_json status .state)" \
    stopping
rf_expect "restart while stopping" "$(ctl restart test)" \
    "1||ringfanctl: restart test: the daemon is stopping"
rf_expect "restart of a worker while stopping" "$(ctl restart test/0)" \
    "1||ringfanctl: restart test/0: the daemon is stopping"
rf_expect "reload while stopping" "$(ctl reload)" \
    "1||ringfanctl: reload: stopping before it could run"
rf_expect "stop again" "$(ctl stop)" "0|stopping|"
rf_expect "status.state, still stopping" "$(rf_ctl_json status .state)" \
    stopping
kill -HUP "$RF_PID"
rf_wait_until 5 "SIGHUP's line" grep -q "reload: stopping before it could" \
    "$RF_ERR"
rf_expect "SIGHUP while stopping" "$(grep -E ' (warn|error): |queued' \
    "$RF_ERR")" "ringfan[master] warn: reload: stopping before it could run"

kill -CONT "$wpid"
rf_wait_exit 10 "after stop"
echo "PASS"

#!/bin/bash
# Started with its standard input, output and error closed (`<&- >&- 2>&-`,
# as some supervisors and scripts do), ringfan puts /dev/null there before
# it opens anything: its pidfile and fanout lock hold the master's pid and
# nothing else, no log line or statistics land in a file of its own, and
# its workers' stderr is /dev/null too, not a file a plugin opened.
# Started with its stderr a pipe whose reader is gone, it does not die of
# SIGPIPE at its first log line while it sets up (no more than it does
# once it is up): it starts, and stops with exit 0.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

PIDFILE=$RF_TMP/ringfan.pid
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"

setsid "$RINGFAN" -c "$RF_CONF" <&- >&- 2>&- &
RF_PID=$!
rf_wait_until 10 "both workers running" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 2'
# Something to log, at info: a statistics line per worker.
kill -USR1 "$RF_PID"
rf_send -t udp -n 200 -f 16 -s 64
rf_wait_until 5 "200 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 200'
sleep 0.2
for fd in 0 1 2; do
	rf_expect "master's fd $fd" "$(readlink "/proc/$RF_PID/fd/$fd")" \
	    /dev/null
done
for w in 0 1; do
	wpid=$(rf_ctl_num workers ".workers[$w].pid")
	rf_expect "worker $w's fd 2" "$(readlink "/proc/$wpid/fd/2")" /dev/null
done
rf_expect "pidfile" "$(cat "$PIDFILE")" "$RF_PID"
lock=$(echo /run/ringfan/fanout-*-"$RF_GROUP".lock)
[ -e "$lock" ] || rf_fail "no fanout lock for group $RF_GROUP"
rf_expect "fanout lock" "$(cat "$lock")" "$RF_PID"
kill -TERM "$RF_PID"
rf_wait_exit 10 "stop"
[ ! -e "$PIDFILE" ] || rf_fail "the pidfile is left"
[ ! -e "$lock" ] || rf_fail "the fanout lock is left"

# Its stderr a pipe that no one reads any more by the time it logs: the
# plugin's check takes 300 ms first.
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: ctxprobe, config: { check_delay: 300ms } }"
setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2> >(exec true) &
RF_PID=$!
up_or_gone()
{
	! rf_alive "$RF_PID" || rf_ctl_test status \
	    '.captures[0].state == "running" and .captures[0].running == 2'
}
rf_wait_until 10 "both workers running, stderr gone" up_or_gone
if ! rf_alive "$RF_PID"; then
	rc=0
	wait "$RF_PID" || rc=$?
	RF_PID=
	rf_fail "ringfan, its stderr gone, exited with status $rc"
fi
kill -TERM "$RF_PID"
rf_wait_exit 10 "stop, stderr gone"
jq -s -e 'length == 1' "$RF_OUT" >/dev/null ||
    rf_fail "no final statistics on stdout: $(head -c 300 "$RF_OUT")"
[ ! -e "$PIDFILE" ] || rf_fail "the pidfile is left"
echo "PASS"

#!/bin/bash
# SIGUSR1 during a capture reload's hand-over logs each worker's counts as
# `stats` shows them then (docs/control.md, stats): with those of the
# retiring workers it takes over from.  The summary used to log the new
# workers' own counters alone, from 0: every frame handled so far
# vanished from it until the old workers had exited.  An old worker,
# stopped (SIGSTOP), holds the hand-over open while the summary is asked
# for.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send_handled 200
pid0=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid0"
rf_set_ring 64KiB 64 10ms
rf_reload_bg
rf_wait_until 10 "the new sockets" grep -q "new sockets built" "$RF_ERR"
kill -USR1 "$RF_PID"
# The summary logged after the new sockets: one line per worker.
summary()
{
	sed -n '/new sockets built/,$p' "$RF_ERR" |
	    grep -o 'worker test/[01]: [a-z]*, packets [0-9]*'
}
lines()
{
	[ "$(summary | wc -l)" -ge 2 ]
}
rf_wait_until 5 "the summary" lines
rf_expect "packets of the summary" \
    "$(summary | awk '{ n += $5 } END { print n }')" 200
rf_expect "totals.packets of stats" \
    "$(rf_ctl_num stats '.captures[0].totals.packets')" 200
kill -CONT "$pid0"
rf_reload_end "the reload" 0
rf_expect "the reload's answer" "$(cat "$RF_TMP/reload.out")" "reload: ok (captures)"
rf_stop
rf_expect_all 200
echo "PASS"

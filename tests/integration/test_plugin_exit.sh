#!/bin/bash
# A plugin that calls exit() in `packet` ends its worker as a crash would,
# whatever the code: 3 and 4, with which a worker itself says that its
# setup failed (not respawned) or that a plugin asked for a retry (no
# restart, no crash-loop limit), are the plugin's, not the worker's word.
# The worker is respawned, the frame it died on quarantined, the log line
# names the plugin, and every other frame is handled once.  The same in a
# plugin's close at the stop: the line names the close.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=500

rf_link
for code in 3 4 0; do
	rf_config 2 hash "udp port 9" "plugin: counter" \
	    "{ plugin: crash, config: { len: 100, exit: true, code: $code } }"
	rf_start
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_send -t udp -n 1 -f 1 -s 100
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_wait_until 5 "exit($code): a worker respawned and running" \
	    rf_ctl_test workers '([.workers[].restarts] | add) == 1 and
	     all(.workers[]; .state == "running")'
	rf_expect "exit($code): live last_exit of the worker" \
	    "$(rf_ctl_json workers '[.workers[] | select(.restarts == 1)][0].last_exit')" \
	    "exited with code $code"
	rf_stop
	grep -q "error: worker test/[01] (pid [0-9]*) exited with code $code in plugin crash\$" \
	    "$RF_ERR" || rf_fail "exit($code): no log line naming plugin crash:" \
	    "$(grep 'test/[01]' "$RF_ERR")"
	rf_expect "exit($code): totals.quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 1
	rf_expect "exit($code): totals.packets" \
	    "$(rf_num '.captures[0].totals.packets')" $((2 * N))
	rf_expect "exit($code): totals.kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
	rf_expect "exit($code): totals.kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "exit($code): crash.seen summed" \
	    "$(rf_sum .plugins.crash.seen)" $((2 * N))
	rf_expect "exit($code): counter.ethernet summed" \
	    "$(rf_sum .plugins.counter.ethernet)" $((2 * N + 1))
done

# exit(3) in close, at the stop: a crash in that close, named so, no
# worker's own end; every frame was handled before.
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: crash, config: { worker_close: true, exit: true, code: 3 } }"
rf_start
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_stop
rf_expect "exit(3) in close: log lines naming it" "$(grep -c \
    "warn: worker test/[01] (pid [0-9]*) exited with code 3 in plugin crash's close while stopping\$" \
    "$RF_ERR")" 2
rf_expect_all "$N"
echo "PASS"

#!/bin/bash
# A thread that a plugin started and that calls exit() ends its worker as
# a crash, whatever the code: 3 and 4, with which the worker itself says
# that its setup failed (not respawned) or that a plugin asked for a retry
# (no crash counted), and 0, a clean end, are the worker's word only when
# it stored them in its shared memory as it exited.  The thread acts while
# the worker waits for frames, outside every callback (threader's `go`
# file is made once the frames are counted), so no stage names a plugin:
# the worker is respawned, the line says where the exit came from, and
# every frame is handled once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=300
GO=$RF_TMP/go
WHY="in plugin code outside its callbacks (exit() in a plugin's thread, say)"

rf_link
for code in 3 4 0; do
	rm -f "$GO"
	rf_config 1 hash "udp port 9" \
	    "{ plugin: threader, config: { act: exit, code: $code, after: $N, go: \"$GO\" } }"
	rf_start
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_wait_until 10 "exit($code): $N frames counted" \
	    rf_ctl_test stats ".captures[0].totals.packets == $N"
	touch "$GO"
	rf_wait_until 10 "exit($code): the worker respawned and running" \
	    rf_ctl_test workers '.workers[0].restarts == 1 and
	     .workers[0].state == "running"'
	rf_expect "exit($code): live last_exit" \
	    "$(rf_ctl_json workers '.workers[0].last_exit')" \
	    "exited with code $code $WHY"
	rf_stop
	grep -q "error: worker test/0 (pid [0-9]*) exited with code $code $WHY\$" \
	    "$RF_ERR" || rf_fail "exit($code): no log line of the thread's exit:" \
	    "$(grep 'test/0' "$RF_ERR")"
	if grep -q "setup failed\|retrying in" "$RF_ERR"; then
		rf_fail "exit($code): taken as the worker's word:" \
		    "$(grep 'setup failed\|retrying in' "$RF_ERR")"
	fi
	rf_expect_all "$N"
	rf_expect "exit($code): threader.seen" "$(rf_sum .plugins.threader.seen)" "$N"
done
echo "PASS"

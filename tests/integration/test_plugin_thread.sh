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
WHY="in plugin code outside its callbacks (exit() in a plugin's thread, say)"

rf_link
for code in 3 4 0; do
	rf_thread_act "exit($code)" "$N" "act: exit, code: $code"
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

#!/bin/bash
# SIGTERM to ringfan's whole process group (kill -TERM -PGID, a shell's
# `kill %1`, timeout(1), a service manager that signals every process)
# while frames flow is a graceful stop like one to the master alone: a
# worker that takes the signal before the master has told it to drain
# must not take the frames of its ring with it.  Every frame the kernel
# accepted is handed to the pipeline; none is counted as dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=20000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"

for round in 1 2 3; do
	rf_start
	rf_send_bg -t udp -n "$K" -f 256 -r 5000 -s 64
	rf_wait_flowing 2000
	kill -TERM -- "-$RF_PID"
	rf_wait_exit 15 "round $round"
	# ringfan's count is final: the rest of the sender's frames would
	# only go uncaptured.  It stops at SIGTERM, with status 0.
	kill -TERM "$RF_SEND_PID" 2>/dev/null || true
	rf_send_wait
	jq -s 'last' "$RF_OUT" >"$RF_STATS"
	kp=$(rf_num '.captures[0].totals.kernel_packets')
	[ "$kp" -gt 0 ] && [ "$kp" -lt "$K" ] ||
	    rf_fail "round $round: the stop did not land in the traffic" \
	    "(kernel_packets $kp of $K)"
	rf_expect "round $round: totals.packets" \
	    "$(rf_num '.captures[0].totals.packets')" "$kp"
	rf_expect "round $round: totals.kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "round $round: totals.quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 0
	for w in 0 1; do
		rf_expect "round $round: worker $w: kernel_packets - packets" \
		    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets")" 0
	done
	rf_expect "round $round: counter.ethernet" \
	    "$(rf_sum .plugins.counter.ethernet)" "$kp"
done
echo "PASS"

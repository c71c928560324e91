#!/bin/bash
# A worker that crashed leaves frames in its ring.  When the ring stops
# filling while the worker waits out its crash backoff, a worker is started
# at once to drain it: (1) at a stop, (2) at the cut-over of a capture
# reload, for the old generation, (3) when the interface goes away.
# Every frame the kernel took is handed to the pipeline or quarantined
# (one at most per crash); none is counted as dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=3000
rf_link
# One flow, hash fanout: every frame goes to one worker, W, the other one
# is idle (at a capture reload its old self exits at once).  A millisecond
# a frame: the frames sent wait in W's ring for seconds.
rf_config 2 hash "udp port 9" "plugin: counter"
echo "      - { plugin: slow, config: { delay: 1ms } }" >>"$RF_CONF"

# send_and_crash: the frames sent, W found, then killed four times, each
# time once it runs again; the backoff after the fourth crash (800 ms)
# leaves it in state backoff long enough to act in.
send_and_crash()
{
	local k pid

	rf_send -t udp -n "$N" -f 1 -r 50000 -s 64
	W=$(rf_ctl_num stats '[.captures[0].workers[] |
	    select(.kernel_packets > 0) | .id] | if length == 1 then .[0]
	    else -1 end')
	[ "$W" -ge 0 ] || rf_fail "the flow did not go to one worker"
	pid=$(rf_ctl_num workers ".workers[$W].pid")
	for ((k = 1; k <= 4; k++)); do
		kill -KILL "$pid"
		[ "$k" -lt 4 ] || break
		rf_wait_until 5 "worker $W running again after crash $k" \
		    rf_ctl_test workers ".workers[$W].state == \"running\" and
		    .workers[$W].pid != $pid"
		pid=$(rf_ctl_num workers ".workers[$W].pid")
	done
	rf_wait_until 1 "worker $W in backoff" rf_ctl_test workers \
	    ".workers[$W].state == \"backoff\""
	backlog=$(rf_ctl_num stats ".captures[0].workers[$W] |
	    .kernel_packets - .packets - .kernel_drops - .quarantined")
	[ "$backlog" -gt 0 ] || rf_fail "worker $W's ring is empty already"
}

# counted WHAT: every frame sent handed over or quarantined, none dropped,
# and W started to drain its ring.
counted()
{
	local q

	rf_expect "$1: kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"
	rf_expect "$1: kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	q=$(rf_num '.captures[0].totals.quarantined')
	[ "$q" -ge 1 ] && [ "$q" -le 4 ] ||
	    rf_fail "$1: $q quarantined, not 1 to 4 (one per crash at most)"
	rf_expect "$1: packets + quarantined" \
	    "$(rf_num '.captures[0].totals | .packets + .quarantined')" "$N"
	grep -q "worker test/$W: started before its backoff ends, to drain its ring" \
	    "$RF_ERR" || rf_fail "$1: no line for the drain"
	echo "ok: $1: worker $W's ring of $backlog frames drained"
}

# (1) A stop while W waits out its backoff.
rf_start
send_and_crash
RF_SETTLE=0 rf_stop
counted "stop"

# (2) A capture reload (another ring) while W waits out its backoff: the
# old generation's W drains before it is retired (the other one has
# nothing to drain, and its exit does not end the hand-over).
rf_start
send_and_crash
rf_set_ring 128KiB 16 10ms
rf_expect "capture reload" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the old generation retired" \
    grep -q "reload: captures handed over" "$RF_ERR"
rf_stop
counted "capture reload"

# (3) The interface gone while W waits out its backoff.
rf_start
send_and_crash
ip link del "$RF_CAP"
rf_wait_until 15 "the capture waiting for its interface" rf_ctl_test status \
    '.captures[0].state == "waiting"'
rf_stop
counted "interface gone"
echo "PASS"

#!/bin/bash
# A worker that crashed leaves frames in its ring.  When the ring stops
# filling while the worker waits out its crash backoff, a worker is started
# at once to drain it: (1) at a stop, (2) when the interface goes away.
# Every frame the kernel took is handed to the pipeline or quarantined
# (one at most per crash); none is counted as dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=3000
rf_link
rf_config 2 lb "udp port 9" "plugin: counter"
# A millisecond a frame: the frames sent wait in the rings for seconds.
echo "      - { plugin: slow, config: { delay: 1ms } }" >>"$RF_CONF"

# crash_to_backoff: worker 0 killed four times, each time once it runs
# again; the backoff after the fourth crash (800 ms) leaves it in state
# backoff long enough to act in.
crash_to_backoff()
{
	local k pid

	pid=$(rf_ctl_num workers '.workers[0].pid')
	for ((k = 1; k <= 4; k++)); do
		kill -KILL "$pid"
		[ "$k" -lt 4 ] || break
		rf_wait_until 5 "worker 0 running again after crash $k" \
		    rf_ctl_test workers ".workers[0].state == \"running\" and
		    .workers[0].pid != $pid"
		pid=$(rf_ctl_num workers '.workers[0].pid')
	done
	rf_wait_until 1 "worker 0 in backoff" rf_ctl_test workers \
	    '.workers[0].state == "backoff"'
	backlog=$(rf_ctl_num stats '.captures[0].workers[0] |
	    .kernel_packets - .packets - .kernel_drops - .quarantined')
	[ "$backlog" -gt 0 ] || rf_fail "worker 0's ring is empty already"
}

# counted WHAT: every frame sent handed over or quarantined, none dropped.
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
	grep -q "worker test/0: started before its backoff ends, to drain its ring" \
	    "$RF_ERR" || rf_fail "$1: no line for the drain"
}

# (1) A stop while worker 0 waits out its backoff.
rf_start
rf_send -t udp -n "$N" -f 64 -r 50000 -s 64
crash_to_backoff
RF_SETTLE=0 rf_stop
counted "stop"
echo "ok: stop: worker 0's ring of $backlog frames drained"

# (2) The interface gone while worker 0 waits out its backoff.
rf_start
rf_send -t udp -n "$N" -f 64 -r 50000 -s 64
crash_to_backoff
ip link del "$RF_CAP"
rf_wait_until 15 "the capture waiting for its interface" rf_ctl_test status \
    '.captures[0].state == "waiting"'
rf_stop
counted "interface gone"
echo "ok: interface gone: worker 0's ring of $backlog frames drained"
echo "PASS"

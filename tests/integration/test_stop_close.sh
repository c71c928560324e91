#!/bin/bash
# A graceful stop with worker 0 stopped by SIGSTOP: it is killed at the
# stop deadline with a flow table and a pcap write buffer in its host
# memory.  A closer is started on that memory and closes it
# (docs/architecture.md, Stopping), so that the flow records and the pcap
# files hold every frame the workers handled.  Then a closer that hangs
# (killed at its own deadline) and one that crashes: the loss is logged
# as an error naming the worker and the plugins, and the worker ends
# failed.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump

rf_link

# run NAME: start with [counter, hostmem, flowtable, pcapwriter], send
# 5,000 frames, SIGSTOP worker 0 once both workers have handled them all,
# and stop.  Outputs in $RF_TMP/NAME.
run()
{
	local dir=$RF_TMP/$1 pid0

	mkdir "$dir" "$dir/pcap"
	rf_hostmem_config "$dir" \
	    "{ plugin: pcapwriter, config: { directory: \"$dir/pcap\" } }"
	rf_start
	rf_send_handled 5000
	pid0=$(rf_ctl_num workers '.workers[0].pid')
	kill -STOP "$pid0"
	rf_stop
	kill -CONT "$pid0" 2>/dev/null || true
	grep -q "worker test/0 .*did not stop within .*: SIGKILL" "$RF_ERR" ||
	    rf_fail "$1: the stopped worker was not killed at the deadline"
	echo "$1:"
	rf_written "$dir"
}

closer_started()
{
	grep -q "worker test/0: started to close what hostmem, flowtable, pcapwriter left in host memory" \
	    "$RF_ERR" || rf_fail "$1: no closer started for worker 0"
}

# The closer closes: every frame handled is in the records and files (a
# frame in hand at the kill may be there, or not).
: >"$RECOVER"
run closed
rf_all_written
rf_expect "flowtable records_lost" "$(rf_sum '.plugins.flowtable.records_lost')" 0
rf_expect "pcapwriter frames_dropped" \
    "$(rf_sum '.plugins.pcapwriter.frames_dropped')" 0
closer_started closed
grep -q "worker test/0: closed what its predecessor left in host memory" \
    "$RF_ERR" || rf_fail "the closer did not say it closed"
! grep -q "is lost" "$RF_ERR" || rf_fail "a loss reported: $(grep "is lost" "$RF_ERR")"
rf_expect "worker 0 state" "$(rf_json '.captures[0].workers[0].state')" stopped

# A closer that hangs in a plugin's open, then one that crashes there:
# killed or dead, what worker 0 held is lost, and said so.
for how in "sleep 600" crash; do
	echo "$how" >"$RECOVER"
	run "${how%% *}"
	closer_started "${how%% *}"
	if [ "$how" = crash ]; then
		grep -Eq "worker test/0 \(pid [0-9]+\) (killed by signal|exited with code).* closing what its predecessor left" \
		    "$RF_ERR" || rf_fail "crash: the closer's death not logged"
	else
		grep -q "worker test/0 (pid [0-9]*) did not close what its predecessor left within 5000 ms: SIGKILL" \
		    "$RF_ERR" || rf_fail "sleep: the hung closer was not killed"
	fi
	grep -q "\[master\] error: worker test/0: what hostmem, flowtable, pcapwriter held in host memory is lost" \
	    "$RF_ERR" || rf_fail "${how%% *}: the loss is not reported: $(cat "$RF_ERR")"
	rf_expect "${how%% *}: worker 0 state" \
	    "$(rf_json '.captures[0].workers[0].state')" failed
	rf_expect "${how%% *}: worker 1 state" \
	    "$(rf_json '.captures[0].workers[1].state')" stopped
done

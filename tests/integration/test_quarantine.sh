#!/bin/bash
# Quarantine: a frame that makes a plugin crash the worker is skipped by
# the respawned worker and counted as quarantined, once; every other frame
# is handled exactly once, those behind it in the ring included.  A crash
# in a prefetch callback quarantines nothing.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=1000

# run PLUGIN: counter, then PLUGIN dying on 100-byte frames, started; N
# frames of one flow (every frame goes to the same worker), one of 100
# bytes, N more; returns once the crashed worker's successor runs.
run()
{
	rf_config 2 hash "udp port 9" "plugin: counter" \
	    "{ plugin: $1, config: { len: 100 } }"
	rf_start
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_send -t udp -n 1 -f 1 -s 100
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_wait_until 5 "a worker respawned and running" rf_ctl_test workers \
	    '([.workers[].restarts] | add) == 1 and
	     all(.workers[]; .state == "running")'
}

rf_link
run crash
rf_expect "live last_exit of the crashed worker" \
    "$(rf_ctl_json workers '[.workers[] | select(.restarts == 1)][0].last_exit')" \
    "killed by signal 11 (Segmentation fault)"
rf_stop

rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" $((2 * N))
rf_expect "totals.bytes" "$(rf_num '.captures[0].totals.bytes')" \
    $((2 * N * 64))
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "sum of restarts" "$(rf_sum .restarts)" 1
rf_expect "crash.seen summed" "$(rf_sum .plugins.crash.seen)" $((2 * N))
# counter runs before crash: it had counted the fatal frame too.
rf_expect "counter.ethernet summed" "$(rf_sum .plugins.counter.ethernet)" \
    $((2 * N + 1))
# One worker had the flow; the other saw nothing.
rf_expect "workers with frames" \
    "$(rf_json '[.captures[0].workers[] | select(.kernel_packets > 0)] | length')" 1
w=$(rf_num '[.captures[0].workers[] | select(.kernel_packets > 0)][0].id')
rf_expect "the crashed worker is the one with the flow" \
    "$(rf_num ".captures[0].workers[$w].restarts")" 1
rf_expect "its quarantined" "$(rf_num ".captures[0].workers[$w].quarantined")" 1

# A plugin that dies in its prefetch callback, which runs a few frames
# ahead of the frame in hand: the successor takes the block over without
# prefetch calls, the frame reaches packet (which lives with it here), and
# nothing is lost or quarantined.
run crashahead
rf_stop
rf_expect "prefetch: totals.quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "prefetch: totals.packets" \
    "$(rf_num '.captures[0].totals.packets')" $((2 * N + 1))
rf_expect "prefetch: totals.kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "prefetch: sum of restarts" "$(rf_sum .restarts)" 1
rf_expect "prefetch: crashahead.seen summed" \
    "$(rf_sum .plugins.crashahead.seen)" $((2 * N + 1))
echo "PASS"

#!/bin/bash
# Quarantine: a frame that makes a plugin crash the worker is skipped by
# the respawned worker and counted as quarantined, once; every other frame
# is handled exactly once, those behind it in the ring included.  A crash
# in a prefetch callback quarantines nothing.  A plugin that writes into a
# frame, which the host hands over read-only, crashes on it the same way.
# A plugin that crashes as a respawned worker loads it (in its
# constructor, once: it removes the file that asks it to) is named so,
# and quarantines nothing either.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=1000

# run PLUGIN [OPTIONS]: counter, then PLUGIN dying on 100-byte frames
# (with OPTIONS, more of its config, e.g. "write: true"), started; N
# frames of one flow (every frame goes to the same worker), one of 100
# bytes, N more; returns once the crashed worker's successor runs.
run()
{
	rf_config 2 hash "udp port 9" "plugin: counter" \
	    "{ plugin: $1, config: { len: 100${2:+, $2} } }"
	rf_start
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_send -t udp -n 1 -f 1 -s 100
	rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
	rf_wait_until 5 "a worker respawned and running" rf_ctl_test workers \
	    '([.workers[].restarts] | add) == 1 and
	     all(.workers[]; .state == "running")'
}

# check_crashed WHAT: after run crash, a worker died on the frame, which
# is quarantined, and every other frame was handled once; the log line of
# the crash names the plugin it died in (and then where a prefetch died).
check_crashed()
{
	local w

	rf_expect "$1: live last_exit of the crashed worker" \
	    "$(rf_ctl_json workers '[.workers[] | select(.restarts == 1)][0].last_exit')" \
	    "killed by signal 11 (Segmentation fault)"
	rf_stop
	grep -q "error: worker test/[01] (pid [0-9]*) killed by signal 11 (Segmentation fault) in plugin crash\$" \
	    "$RF_ERR" || rf_fail "$1: no log line of the crash in plugin crash: $(grep 'killed by' "$RF_ERR")"

	rf_expect "$1: totals.quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 1
	rf_expect "$1: totals.packets" \
	    "$(rf_num '.captures[0].totals.packets')" $((2 * N))
	rf_expect "$1: totals.bytes" "$(rf_num '.captures[0].totals.bytes')" \
	    $((2 * N * 64))
	rf_expect "$1: totals.kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
	rf_expect "$1: totals.kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "$1: sum of restarts" "$(rf_sum .restarts)" 1
	rf_expect "$1: crash.seen summed" "$(rf_sum .plugins.crash.seen)" \
	    $((2 * N))
	# counter runs before crash: it had counted the fatal frame too.
	rf_expect "$1: counter.ethernet summed" \
	    "$(rf_sum .plugins.counter.ethernet)" $((2 * N + 1))
	# One worker had the flow; the other saw nothing.
	rf_expect "$1: workers with frames" \
	    "$(rf_json '[.captures[0].workers[] | select(.kernel_packets > 0)] | length')" 1
	w=$(rf_num '[.captures[0].workers[] | select(.kernel_packets > 0)][0].id')
	rf_expect "$1: the crashed worker is the one with the flow" \
	    "$(rf_num ".captures[0].workers[$w].restarts")" 1
	rf_expect "$1: its quarantined" \
	    "$(rf_num ".captures[0].workers[$w].quarantined")" 1
}

rf_link
run crash
check_crashed "raise"

# A plugin that writes into the frame: the ring's frames are mapped
# read-only, so the write kills the worker instead of changing the frame
# for the later plugins (and for a successor that takes the block over).
run crash "write: true"
check_crashed "write"

# A plugin that dies in its prefetch callback, which runs a few frames
# ahead of the frame in hand: the successor takes the block over without
# prefetch calls, the frame reaches packet (which lives with it here), and
# nothing is lost or quarantined.
run crashahead
rf_stop
grep -q "error: worker test/[01] (pid [0-9]*) killed by signal 11 (Segmentation fault) in plugin crashahead's prefetch\$" \
    "$RF_ERR" || rf_fail "prefetch: no log line of the crash in its prefetch: $(grep 'killed by' "$RF_ERR")"
rf_expect "prefetch: totals.quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "prefetch: totals.packets" \
    "$(rf_num '.captures[0].totals.packets')" $((2 * N + 1))
rf_expect "prefetch: totals.kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "prefetch: sum of restarts" "$(rf_sum .restarts)" 1
rf_expect "prefetch: crashahead.seen summed" \
    "$(rf_sum .plugins.crashahead.seen)" $((2 * N + 1))

# A crash while a worker loads a plugin, between two runs of frames.
export RINGFAN_PROBE_CRASH=$RF_TMP/crash
rf_config 1 hash "udp port 9" "plugin: loadprobe"
rf_start
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 5 "$N frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
touch "$RINGFAN_PROBE_CRASH"
kill -9 "$(rf_ctl_json workers '.workers[0].pid')"
rf_wait_until 5 "a crash while loading" grep -q \
    "error: worker test/0 (pid [0-9]*) killed by signal 11 (Segmentation fault) while loading plugin loadprobe\$" \
    "$RF_ERR"
rf_wait_until 5 "the worker running again" rf_ctl_test workers \
    '.workers[0].state == "running" and .workers[0].restarts == 2'
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_stop
rf_expect "loading: totals.quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 0
rf_expect "loading: totals.packets" \
    "$(rf_num '.captures[0].totals.packets')" $((2 * N))
rf_expect "loading: loadprobe.frames" \
    "$(rf_num '.captures[0].workers[0].plugins.loadprobe.frames')" $((2 * N))
rf_expect "loading: restarts, the kill and the crash" \
    "$(rf_num '.captures[0].workers[0].restarts')" 2
echo "PASS"

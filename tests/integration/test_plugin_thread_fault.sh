#!/bin/bash
# A thread that a plugin started and that dies of a fatal signal ends its
# worker as a crash named "in a plugin's thread", wherever the worker's
# own thread is meanwhile: not the plugin whose callback the worker's
# thread happened to be in.
#
# segv: threader's thread raises SIGSEGV while the worker's thread is held
# in spin's packet (on the one frame of 100 bytes: spin's `held` says it
# is there; threader's `go` file is made then).  The frame in hand is
# quarantined all the same: threader had seen it already, and would see it
# twice if it went back to the ring.  The successor takes the frames
# behind it, each once.
# abort: threader's thread calls abort() while the worker waits for
# frames, outside every callback.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=300
GO=$RF_TMP/go

# check WHAT SIGNAL: the live last_exit, the log line, one restart.
check()
{
	rf_expect "$1: live last_exit" \
	    "$(rf_ctl_json workers '.workers[0].last_exit')" \
	    "killed by signal $2 in a plugin's thread"
	rf_stop
	grep -q "error: worker test/0 (pid [0-9]*) killed by signal $2 in a plugin's thread\$" \
	    "$RF_ERR" || rf_fail "$1: no log line of the thread's death:" \
	    "$(grep 'test/0 (pid' "$RF_ERR")"
	rf_expect "$1: restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
}

rf_link

rm -f "$GO"
rf_config 1 hash "udp port 9" \
    "{ plugin: threader, config: { act: segv, after: $((N + 1)), go: \"$GO\" } }" \
    "{ plugin: spin, config: { len: 100, block: true } }"
sed -i '1i stall_timeout: 0' "$RF_CONF"
rf_start
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_send -t udp -n 1 -f 1 -s 100
rf_wait_until 10 "segv: the worker held in spin's packet" rf_ctl_test stats \
    ".captures[0].workers[0].plugins.spin.held == 1 and
     .captures[0].workers[0].plugins.threader.seen == $((N + 1))"
touch "$GO"
rf_wait_until 10 "segv: the worker respawned and running" \
    rf_ctl_test workers '.workers[0].restarts == 1 and
     .workers[0].state == "running"'
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 10 "segv: the frames behind it handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((2 * N))"
check segv "11 (Segmentation fault)"
rf_expect "segv: totals.packets" "$(rf_num '.captures[0].totals.packets')" \
    $((2 * N))
rf_expect "segv: totals.quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "segv: totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "segv: totals.kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "segv: threader.seen" "$(rf_sum .plugins.threader.seen)" \
    $((2 * N + 1))
rf_expect "segv: spin.seen" "$(rf_sum .plugins.spin.seen)" $((2 * N))

rf_thread_act abort "$N" "act: abort"
check abort "6 (Aborted)"
rf_expect_all "$N"
rf_expect "abort: threader.seen" "$(rf_sum .plugins.threader.seen)" "$N"
echo "PASS"

#!/bin/bash
# A worker stopped by SIGSTOP when its interface is deleted cannot drain
# its ring; the master, itself held up (SIGSTOP) past both the 5 s drain
# deadline and the worker's stall timeout, kills it at that deadline when
# it runs again.  That kill is the worker's end, as at a stop: the stall
# watch, due in the same turn of the timer, does not kill the same process
# again, log it as stalled at error level, or count a stall.  The frames
# left in its ring count as dropped, and every frame is accounted for.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n 1000 -f 64 -r 3000 -s 64
rf_wait_until 10 "1000 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 1000'
pid=$(rf_ctl_json workers '.workers[0].pid')
kill -STOP "$pid"
rf_send -t udp -n 1000 -f 64 -r 3000 -s 64
ip link del "$RF_CAP"
ip netns del "$RF_NS"
RF_LINK=0
rf_wait_until 5 "the interface's end seen" grep -q "is gone; waiting for it" \
    "$RF_ERR"
kill -STOP "$RF_PID"
sleep 6
kill -CONT "$RF_PID"
rf_wait_until 10 "worker 0 stopped" rf_ctl_test stats \
    '.captures[0].state == "waiting" and
     ([.captures[0].workers[] | select(.state == "stopped")] | length) == 2'
grep -q "worker test/0 did not stop within 5010 ms of its interface's end: SIGKILL" \
    "$RF_ERR" || rf_fail "no kill at the drain deadline"
if grep -q "stalled" "$RF_ERR"; then
	rf_fail "the worker killed at the deadline was said to stall:" \
	    "$(grep stalled "$RF_ERR")"
fi
rf_expect "last_exit" "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "killed by signal 9 (Killed)"
rf_stop
rf_expect "worker 0 stalls" "$(rf_num '.captures[0].workers[0].stalls')" 0
rf_expect "worker 0 restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
for w in 0 1; do
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	p=$(rf_num ".captures[0].workers[$w].packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	q=$(rf_num ".captures[0].workers[$w].quarantined")
	rf_expect "worker $w kernel_packets == packets + kernel_drops + quarantined" \
	    "$kp" $((p + kd + q))
done
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" 2000

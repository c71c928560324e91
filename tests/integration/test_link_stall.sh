#!/bin/bash
# The interface of a capture is deleted while one of its workers is
# stalled: stopped (SIGSTOP) with frames waiting in its ring, it cannot
# drain the ring as the capture parks, and the stall watch kills it.  Its
# ring still holds those frames: a drainer starts at once and hands them
# to the pipeline before the sockets are closed, rather than counting
# them as dropped.  A restart of the capture meanwhile is refused: it has
# no socket to start a worker on.  When the interface is back, counting
# resumes, and after a stop every frame is counted once and none is a
# drop.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=400
M=300

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')

kill -STOP "$pid0"
rf_send -t udp -n "$N" -f 64 -s 64 -r 20000
rf_wait_until 5 "frames waiting for the stopped worker" rf_ctl_test stats \
    ".captures[0].totals.kernel_packets == $N and
     .captures[0].totals.packets < $N"
ip link del "$RF_CAP"
rf_wait_until 5 "state waiting" rf_ctl_test status \
    '.captures[0].state == "waiting"'
rf_wait_until 8 "the stopped worker killed and its ring drained" \
    rf_ctl_test stats ".captures[0].workers[0].stalls == 1 and
    ([.captures[0].workers[] | select(.state == \"stopped\")] | length) == 2"
grep -q "worker test/0 (pid $pid0) stalled while stopped by a signal" \
    "$RF_ERR" || rf_fail "the stopped worker was not killed for a stall"
echo "ok: the stopped worker was killed for a stall"
if grep -q "frames left in the ring" "$RF_ERR"; then
	rf_fail "frames stranded: $(grep "frames left in the ring" "$RF_ERR")"
fi
rf_expect "live packets while waiting" \
    "$(rf_ctl_num stats '.captures[0].totals.packets')" "$N"
rf_expect "live kernel_drops while waiting" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_drops')" 0
rf_expect "state while waiting" "$(rf_ctl_json status '.captures[0].state')" \
    waiting
# No socket, so no worker can start: a restart says so, and does nothing.
rc=0
rf_ctl restart test >"$RF_TMP/restart.out" 2>"$RF_TMP/restart.err" || rc=$?
rf_expect "restart while waiting: exit status" "$rc" 1
rf_expect "restart while waiting: stderr" "$(cat "$RF_TMP/restart.err")" \
    "ringfanctl: restart test: capture test has no sockets: it waits for its interface"
rf_expect "workers running after the restart" \
    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" 0

rf_veth
rf_wait_until 10 "the capture running again" rf_ctl_test status \
    '.captures[0].state == "running"'
rf_send -t udp -n "$M" -f 64 -s 64 -r 20000
rf_wait_until 5 "the frames after the return handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((N + M))"
rf_stop
rf_expect_all $((N + M))
rf_expect "counter.udp" "$(rf_sum '.plugins.counter.udp')" $((N + M))
rf_expect "stalls" "$(rf_num '.captures[0].workers[0].stalls')" 1
echo "PASS"

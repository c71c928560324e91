#!/bin/bash
# A capture reload while a worker of the old generation is stalled: it is
# stopped (SIGSTOP) with frames waiting in its ring when the reload
# starts, so it cannot drain its ring at the hand-over, and the stall
# watch kills it only after the old generation was told to retire.  The
# frames stamped before the cut-over are in its ring alone: a drainer
# must start at once and hand them to the pipeline before the old
# generation is retired, or they are lost (and counted twice by the
# kernel's counters of both generations).  Live, once the reload is done,
# every frame is settled; after a stop, every frame is counted exactly
# once and none is a drop.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=300
M=200

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
rf_start
pid0=$(rf_ctl_num workers '.workers[0].pid')

kill -STOP "$pid0"
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
# The kernel's count of the stopped worker's socket (the master reads it):
# every frame is in its ring before the reload starts.
rf_wait_until 5 "the $N frames in the stopped worker's ring" rf_ctl_test \
    stats ".captures[0].totals.kernel_packets == $N"
# A capture change: new sockets and workers, a hand-over at a cut-over.
rf_set_ring 64KiB 16 10ms
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload exit status" "$rc" 0
rf_expect "reload reply" "$(cat "$RF_TMP/reload.out")" "reload: ok (captures)"
grep -q "worker test/0 (pid $pid0) stalled while stopped by a signal" \
    "$RF_ERR" || rf_fail "the stopped old worker was not killed for a stall"
echo "ok: the stopped old worker was killed for a stall"
rf_wait_until 5 "every frame of the old ring settled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
rf_expect "live kernel_packets after the reload" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_packets')" "$N"
rf_expect "live kernel_drops after the reload" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_drops')" 0

rf_send -t udp -n "$M" -f 16 -s 64 -r 20000
rf_wait_until 5 "the frames after the reload handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((N + M))"
rf_stop
if grep -q "frames left in its ring" "$RF_ERR"; then
	rf_fail "frames stranded: $(grep "frames left in its ring" "$RF_ERR")"
fi
rf_expect_all $((N + M))
rf_expect "counter.udp" \
    "$(rf_num '.captures[0].workers[0].plugins.counter.udp')" $((N + M))
rf_expect "stalls" "$(rf_num '.captures[0].workers[0].stalls')" 1
echo "PASS"

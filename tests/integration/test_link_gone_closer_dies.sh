#!/bin/bash
# A worker holding flows (flowtable) and a count (hostmem) in host memory
# is stuck in a plugin (spin, on a marked frame) when its interface is
# deleted, and killed at the 5 s drain deadline.  A reload replaces the
# pipeline while the interface is gone: the closer started without a
# socket dies in hostmem's recovery (SIGSEGV).  The error says what is
# lost, naming the plugins, and that the new pipeline starts when the
# interface is back (not "starting the new one", as none can); the reload
# is answered; once the interface is back the worker runs the new
# pipeline and its records hold the frames sent then.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=30
M=5
K=20
DIR=$RF_TMP/out
mkdir "$DIR"
: >"$RECOVER"

rf_stuck_gone "$N" "$M" \
    "{ plugin: hostmem, config: { on_recover: \"$RECOVER\" } }" \
    "{ plugin: flowtable, config: { output: \"$DIR/flows-{worker}.json\", idle_timeout: 60s } }"
rf_wait_until 10 "the sockets closed" grep -q \
    "worker test/0: $M frames left in the ring of a gone interface" \
    "$RF_ERR"

echo crash >"$RECOVER"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload: exit status" "$rc" 0
rf_expect "reload: stdout" "$(cat "$RF_TMP/reload.out")" "reload: ok (pipeline)"
: >"$RECOVER"
grep -q "worker test/0: started to close what hostmem, flowtable left in host memory, its interface gone" \
    "$RF_ERR" || rf_fail "no closer: $(grep -v debug "$RF_ERR")"
grep -q "\[master\] error: worker test/0 (pid [0-9]*) killed by signal 11 (Segmentation fault) in plugin hostmem's open, closing its previous pipeline; the new one starts when its interface is back$" \
    "$RF_ERR" || rf_fail "the closer's death: $(grep -v debug "$RF_ERR")"
grep -q "\[master\] error: worker test/0: what hostmem, flowtable held in host memory is lost (its closer died): frames it counted in packets are in no record or file$" \
    "$RF_ERR" || rf_fail "the loss: $(grep -v debug "$RF_ERR")"
! grep -q "starting the new one" "$RF_ERR" ||
    rf_fail "$(grep "starting the new one" "$RF_ERR")"
rf_expect "worker state" "$(rf_ctl_json workers '.workers[0].state')" stopped
rf_expect "capture state" "$(rf_ctl_json status '.captures[0].state')" waiting

# The interface back: the new pipeline runs.
rf_link
rf_wait_until 10 "the worker running" rf_ctl_test workers \
    '.workers[0].state == "running"'
rf_send -t udp -n "$K" -f 4 -s 64
rf_wait_until 10 "$K more frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((N + K))"
rf_stop
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" $((N + K))
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" "$M"
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((N + 1 + M + K))
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
rf_expect "worker state" "$(rf_json '.captures[0].workers[0].state')" stopped
FLOWS=$(rf_flow_frames "$DIR")
rf_expect "frames in the flow records" "$FLOWS" "$K"
echo "PASS"

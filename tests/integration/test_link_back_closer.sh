#!/bin/bash
# A worker holding flows (flowtable) and a count (hostmem) in host memory
# is stuck in a plugin (spin, on a marked frame) when its interface is
# deleted, and killed at the drain deadline.  A reload that replaces the
# pipeline starts a closer without a socket on that memory, and the
# closer is slow (hostmem takes 4 s to recover).  The interface comes
# back, with the same name, while it runs: the slot keeps one process.
# The worker on the new pipeline starts once the closer is done, the
# reload is answered then, and the records hold the frames the killed
# worker counted (and the quarantined one) and those sent after.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=30
M=5
K=25
DIR=$RF_TMP/out
mkdir "$DIR"
: >"$RECOVER"

rf_stuck_gone "$N" "$M" \
    "{ plugin: hostmem, config: { on_recover: \"$RECOVER\" } }" \
    "{ plugin: flowtable, config: { output: \"$DIR/flows-{worker}.json\", idle_timeout: 60s } }"
rf_wait_until 10 "the worker killed at the drain deadline" grep -q \
    "worker test/0 did not stop within 5010 ms of its interface's end" \
    "$RF_ERR"
rf_wait_until 5 "the sockets closed" grep -q \
    "worker test/0: $M frames left in the ring of a gone interface" \
    "$RF_ERR"

# The reload's closer: 4 s in hostmem's recovery.
echo "sleep 4" >"$RECOVER"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rf_reload_bg
rf_wait_until 5 "the closer started" grep -q \
    "worker test/0: started to close what hostmem, flowtable left" "$RF_ERR"
CLOSER=$(rf_ctl_num workers '.workers[0].pid')
: >"$RECOVER"

# The interface is back while the closer sleeps.
rf_link
rf_wait_until 5 "the interface back" grep -q \
    "capture test: interface $RF_CAP is back" "$RF_ERR"
sleep 0.5
rf_alive "$CLOSER" || rf_fail "the closer (pid $CLOSER) ended within 0.5 s"
rf_expect "processes of ringfan while the closer runs" \
    "$(pgrep -c -P "$RF_PID")" 1
rf_expect "workers[0].pid while the closer runs" \
    "$(rf_ctl_num workers '.workers[0].pid')" "$CLOSER"

rf_reload_end "the reload" 0
rf_expect "reload: stderr" "$(cat "$RF_TMP/reload.err")" ""
rf_wait_until 5 "the closer gone" eval "! rf_alive $CLOSER"
rf_wait_until 5 "the worker running" rf_ctl_test workers \
    '.workers[0].state == "running"'
WORKER=$(rf_ctl_num workers '.workers[0].pid')
[ "$WORKER" != "$CLOSER" ] || rf_fail "the worker is the closer"
rf_alive "$WORKER" || rf_fail "workers[0].pid $WORKER is no process"
rf_expect "processes of ringfan after the reload" "$(pgrep -c -P "$RF_PID")" 1

rf_send -t udp -n "$K" -f 5 -s 64
rf_wait_until 10 "$K more frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $((N + K))"
rf_stop
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" $((N + K))
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" "$M"
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((N + 1 + M + K))
rf_expect "worker state" "$(rf_json '.captures[0].workers[0].state')" stopped
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
FLOWS=$(rf_flow_frames "$DIR")
rf_expect "frames in the flow records" "$FLOWS" $((N + 1 + K))
BAD=$(grep "is lost\|exited with code\|killed by signal" "$RF_ERR" |
    grep -v "killed by signal 9 (Killed) after its interface's end" || true)
[ -z "$BAD" ] || rf_fail "$BAD"
echo "PASS"

#!/bin/bash
# The crash-loop limit: a worker that keeps dying is respawned with a
# doubling backoff (100, 200, 400, 800 ms) and given up on at its 5th crash
# within 60 s (SUPERVISE_CRASH_LIMIT in framework/supervise.h): its state
# becomes "failed" with restarts 5 (restarts counts the crashes; the 5th is
# not followed by a respawn), the capture is "failed", while the master
# and the capture's other worker go on.  SIGTERM still stops it cleanly,
# and the final document still shows the capture "failed".
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

LIMIT=5

rf_link
rf_config 2 hash "udp port 9" "{ plugin: crash, config: { always: true } }"
rf_start

# One flow at 100 frames/s for 6 s: one worker gets every frame and dies on
# each; the backoffs add up to 1.5 s, so it fails well within the run.
rf_send_bg -t udp -n 600 -f 1 -r 100 -s 64
t0=$(date +%s.%N)
rf_wait_until 5 "a worker in state failed" rf_ctl_test workers \
    'any(.workers[]; .state == "failed")'
t1=$(date +%s.%N)
rf_alive "$RF_SEND_PID" || rf_fail "the worker failed only after the traffic"
echo "ok: a worker failed after $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.1f", b - a }') s"

rf_ctl_json workers . >"$RF_TMP/workers.json"
bad=$(jq -r '.workers[] | select(.state == "failed") | .id' \
    "$RF_TMP/workers.json")
[[ "$bad" =~ ^[01]$ ]] || rf_fail "failed workers: \"$bad\", expected one id"
good=$((1 - bad))
rf_expect "failed worker's restarts" \
    "$(jq -r ".workers[$bad].restarts" "$RF_TMP/workers.json")" "$LIMIT"
rf_expect "failed worker's last_exit" \
    "$(jq -r ".workers[$bad].last_exit" "$RF_TMP/workers.json")" \
    "killed by signal 11 (Segmentation fault)"
rf_expect "other worker's state" \
    "$(jq -r ".workers[$good].state" "$RF_TMP/workers.json")" running
rf_expect "other worker's restarts" \
    "$(jq -r ".workers[$good].restarts" "$RF_TMP/workers.json")" 0
rf_expect "other worker's last_exit" \
    "$(jq -r ".workers[$good].last_exit" "$RF_TMP/workers.json")" null

rf_expect "status: capture state" \
    "$(rf_ctl_json status '.captures[0].state')" failed
rf_expect "status: running workers" \
    "$(rf_ctl_num status '.captures[0].running')" 1
rf_expect "status: daemon state" "$(rf_ctl_json status .state)" running
rf_expect "status: pid" "$(rf_ctl_num status .pid)" "$RF_PID"
grep -q "worker test/$bad crashed $LIMIT times within 60 s: not respawned" \
    "$RF_ERR" || rf_fail "no crash-loop message in the log"
echo "ok: the master logged the crash loop"
rf_expect "respawns logged" \
    "$(grep -c "worker test/$bad: respawning in" "$RF_ERR")" $((LIMIT - 1))
for ms in 100 200 400 800; do
	grep -q "worker test/$bad: respawning in $ms ms" "$RF_ERR" ||
	    rf_fail "no respawn with a backoff of $ms ms in the log"
done
echo "ok: backoffs 100, 200, 400, 800 ms"

# Nothing respawns it before its cool-down (60 s), the traffic goes on.
rf_send_wait
sleep 1
rf_expect "restarts after the traffic" \
    "$(rf_ctl_num workers ".workers[$bad].restarts")" "$LIMIT"
rf_expect "state after the traffic" \
    "$(rf_ctl_json workers ".workers[$bad].state")" failed
rf_expect "other worker still running" \
    "$(rf_ctl_json workers ".workers[$good].state")" running
rf_ctl status >"$RF_TMP/status.txt" ||
    rf_fail "ringfanctl status failed with a failed capture"
grep -Eq "^test +$RF_CAP +failed +2 +1 " "$RF_TMP/status.txt" ||
    rf_fail "status table: $(cat "$RF_TMP/status.txt")"

rf_stop
rf_expect "final: failed worker's state" \
    "$(rf_json ".captures[0].workers[$bad].state")" failed
# The stop changes nothing of that: the capture is still "failed" in the
# final document, as status said before it.
rf_expect "final: capture state" "$(rf_json '.captures[0].state')" failed
rf_expect "final: failed worker's restarts" \
    "$(rf_num ".captures[0].workers[$bad].restarts")" "$LIMIT"
# Each respawned worker skipped the frame its predecessor died on, and the
# master settled the last one's when it gave up on the worker.  At the
# stop a drainer started for its ring (and its plugins' host memory), and
# died on the next frame too: one more quarantined, the worker still
# failed.
grep -q "worker test/$bad: started before its cool-down ends, to drain its ring" \
    "$RF_ERR" || rf_fail "no drainer started at the stop"
rf_expect "final: failed worker's quarantined" \
    "$(rf_num ".captures[0].workers[$bad].quarantined")" $((LIMIT + 1))
rf_expect "final: failed worker's packets" \
    "$(rf_num ".captures[0].workers[$bad].packets")" 0
rf_expect "final: other worker's state" \
    "$(rf_json ".captures[0].workers[$good].state")" stopped
rf_expect "final: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" 600
# What waited in the failed worker's ring counts as dropped for it: every
# frame is handed over, dropped or quarantined.
for w in 0 1; do
	rf_expect "final: worker $w: kernel_packets = packets + drops + quarantined" \
	    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets - .kernel_drops - .quarantined")" 0
done
# The ring filled while the worker was down (the kernel dropped the rest);
# the frames still in it at the stop are counted as dropped, and logged.
drops=$(rf_num ".captures[0].workers[$bad].kernel_drops")
left=$(sed -n "s/.*worker test\/$bad (failed at the stop): \([0-9]*\) frames left in its ring, counted as dropped$/\1/p" "$RF_ERR")
[ -n "$left" ] || rf_fail "the frames left in the failed worker's ring were not logged"
[ "$left" -gt 0 ] && [ "$left" -le "$drops" ] ||
    rf_fail "frames left in the ring: $left, not within 1..$drops drops"
echo "ok: $left frames left in the failed worker's ring, among its $drops drops"
echo "PASS"

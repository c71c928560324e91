#!/bin/bash
# A crash-looped worker is not failed for good: a reload (here one that
# takes the crashing plugin out) starts it again at once, it drains what
# waited in its ring, and `ringfanctl restart` restarts workers on request.
# While it is down its frames wait in its ring or are counted as dropped;
# after the stop every frame the kernel took is handed over, dropped or
# quarantined.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=600
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/good.yaml"
echo "      - { plugin: crash, config: { always: true } }" >>"$RF_CONF"
rf_start

# One flow: one worker gets every frame and dies on each until it fails.
rf_send_bg -t udp -n "$N" -f 1 -r 100 -s 64
rf_wait_until 5 "a worker in state failed" rf_ctl_test workers \
    'any(.workers[]; .state == "failed")'
bad=$(rf_ctl_json workers '.workers[] | select(.state == "failed") | .id')
rf_expect "failed worker's pid" "$(rf_ctl_num workers ".workers[$bad].pid")" 0
rf_send_wait

# Errors name what is wrong.
for t in "nosuch:restart nosuch: no such capture" \
    "test/2:restart test/2: capture test has workers 0 to 1" \
    "test/+1:restart test/+1: not a worker id (capture test has workers 0 to 1)" \
    "test/01:restart test/01: not a worker id (capture test has workers 0 to 1)" \
    "test/ 1:restart test/ 1: not a worker id (capture test has workers 0 to 1)" \
    "test/:restart test/: not a worker id (capture test has workers 0 to 1)"; do
	rc=0
	"$RINGFANCTL" -s "$RF_SOCK" restart "${t%%:*}" >/dev/null \
	    2>"$RF_TMP/restart.err" || rc=$?
	rf_expect "restart ${t%%:*}: exit status" "$rc" 1
	rf_expect "restart ${t%%:*}: message" "$(cat "$RF_TMP/restart.err")" \
	    "ringfanctl: ${t#*:}"
done

# A name with control characters comes back in the error, which
# ringfanctl prints with them as '?' (ESC, C1 CSI, and a stray byte the
# daemon made '?' to keep its reply JSON).
rc=0
"$RINGFANCTL" -s "$RF_SOCK" restart $'x\e[2J\xc2\x9by\xff' >/dev/null \
    2>"$RF_TMP/restart.err" || rc=$?
rf_expect "restart with control characters: exit status" "$rc" 1
rf_expect "restart with control characters: message" \
    "$(cat "$RF_TMP/restart.err")" \
    "ringfanctl: restart x?[2J?y?: no such capture"

# The fix: a reload without the crashing plugin brings it back at once.
cp "$RF_TMP/good.yaml" "$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" pipeline
rf_expect "workers running after the reload" \
    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" 2
rf_expect "status" "$(rf_ctl_json status '.captures[0].state')" running

# restart: every worker of the capture, one at a time, on the same sockets.
pids=$(rf_pids)
out=$("$RINGFANCTL" -s "$RF_SOCK" restart test) ||
    rf_fail "ringfanctl restart test failed"
rf_expect "ringfanctl restart test" "$out" "restart: ok (test/0 test/1)"
rf_wait_until 10 "both workers restarted and running" eval \
    'new=$(rf_ctl_json workers "[.workers[] | select(.state == \"running\") | .pid] | join(\",\")");
    [ "$(echo "$new" | tr , "\n" | grep -cvxF -e "${pids%,*}" -e "${pids#*,}")" = 2 ]'
echo "ok: restart: $pids -> $(rf_pids)"

# A restart answers as its first hand-over begins; another one meanwhile
# is refused, naming the restart (opens of a second each keep it going).
cp "$RF_TMP/good.yaml" "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open_delay: 1s } }" >>"$RF_CONF"
rf_expect "reload to a slow open" "$(rf_ctl_json reload .result)" pipeline
rf_expect "restart of the slow pipeline" \
    "$("$RINGFANCTL" -s "$RF_SOCK" restart test)" "restart: ok (test/0 test/1)"
rc=0
"$RINGFANCTL" -s "$RF_SOCK" restart test/0 >/dev/null \
    2>"$RF_TMP/restart.err" || rc=$?
rf_expect "restart during a restart: exit status" "$rc" 1
rf_expect "restart during a restart: message" "$(cat "$RF_TMP/restart.err")" \
    "ringfanctl: restart test/0: the restart of test is in progress (its workers are handed over one at a time)"
rf_wait_until 10 "the restart done" rf_ctl_test workers \
    'all(.workers[]; .state == "running")'

rf_send -t udp -n "$N" -f 1 -s 64 -r 2000
rf_stop
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N))
for w in 0 1; do
	rf_expect "worker $w: kernel_packets = packets + drops + quarantined" \
	    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets - .kernel_drops - .quarantined")" 0
done
# Five crashes, five frames skipped: four by the respawns of the crash
# loop, the fifth by the worker the reload started.
rf_expect "quarantined by the crash loop" \
    "$(rf_num ".captures[0].workers[$bad].quarantined")" 5
echo "PASS"

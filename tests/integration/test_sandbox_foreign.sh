#!/bin/bash
# A system call of another architecture (docs/architecture.md, "Sandbox":
# `int 0x80` on x86-64) kills the process that makes it, all of it, even
# when a plugin runs a thread of its own: foreign starts a thread that only
# sleeps, then makes such a call.  A worker dies of it at once with
# SIGSYS, like any crash, its frame quarantined and every other frame
# counted, rather than leaving a process whose main thread is gone, which
# only the stall watch (set long here) would end.  The validating process
# (`ringfan -t`) dies the same way, at once, rather than after its 10 s.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
[ "$(uname -m)" = x86_64 ] || rf_skip "int 0x80 is x86-64's foreign entry"
getent passwd nobody >/dev/null || rf_skip "no user nobody"

N=500
SIGSYS_EXIT="killed by signal 31 (Bad system call)"

rf_link
chmod 755 "$RF_TMP"

# ringfan -t: the call in check, a thread running.
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: foreign, config: { in_check: true } }"
sed -i '1i user: nobody' "$RF_CONF"
rc=0
"$RINGFAN" -t -c "$RF_CONF" >"$RF_TMP/t.out" 2>&1 || rc=$?
cat "$RF_TMP/t.out"
[ "$rc" -ne 0 ] || rf_fail "ringfan -t passed a check that made a foreign call"
grep -q "signal 31" "$RF_TMP/t.out" ||
    rf_fail "ringfan -t does not say the check died of SIGSYS"
grep -q "in plugin foreign's check" "$RF_TMP/t.out" ||
    rf_fail "ringfan -t does not name foreign's check"
# (A thread's death alone left the child to the 10 s limit, whose message
# names no signal.)
echo "ok: ringfan -t: SIGSYS in foreign's check"

# Live: the call on the 100-byte frame, with a thread running.
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: foreign, config: { len: 100 } }"
sed -i '1i user: nobody' "$RF_CONF"
sed -i '1i stall_timeout: 60s' "$RF_CONF"
rf_start
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 5 "the worker respawned and running" rf_ctl_test workers \
    '.workers[0].restarts == 1 and .workers[0].state == "running"'
rf_expect "live last_exit" "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "$SIGSYS_EXIT"
rf_stop
grep -q "worker test/0 (pid [0-9]*) $SIGSYS_EXIT" "$RF_ERR" ||
    rf_fail "no log line of the worker's death by SIGSYS"
rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" \
    $((2 * N))
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "stalls" "$(rf_sum .stalls)" 0
rf_expect "restarts" "$(rf_sum .restarts)" 1
rf_expect "foreign.seen" "$(rf_sum .plugins.foreign.seen)" $((2 * N))
rf_expect "counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" \
    $((2 * N + 1))
echo "PASS"

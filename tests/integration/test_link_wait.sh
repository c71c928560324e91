#!/bin/bash
# Starting on an interface that does not exist yet.  By default that is an
# error naming the interface, exit status 2.  With `wait_for_interface:
# true` ringfan starts, says it is ready with the capture `waiting`, and
# once the interface appears the capture builds its sockets, starts its
# workers and counts.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_config 2 hash "udp port 9" "plugin: counter"
[ ! -e "/sys/class/net/$RF_CAP" ] || rf_fail "$RF_CAP exists already"

# Without the option: a clear error, exit status 2.
rc=0
"$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" || rc=$?
rf_expect "exit status without wait_for_interface" "$rc" 2
grep -q "capture test: interface $RF_CAP: No such device" "$RF_ERR" ||
    rf_fail "the error does not name the interface: $(cat "$RF_ERR")"

# With it: ready, waiting.
sed -i "s/^    interface: $RF_CAP\$/&\n    wait_for_interface: true/" "$RF_CONF"
grep -q "^    wait_for_interface: true\$" "$RF_CONF" ||
    rf_fail "could not edit $RF_CONF"
"$RINGFAN" -c "$RF_CONF" -t >/dev/null 2>&1 ||
    rf_fail "ringfan -t refuses the configuration"
rf_start
rf_expect "state at start" "$(rf_ctl_json status '.captures[0].state')" \
    waiting
rf_expect "stats state at start" \
    "$(rf_ctl_json stats '.captures[0].state')" waiting
rf_expect "running workers" "$(rf_ctl_num status '.captures[0].running')" 0
rf_ctl metrics | grep -qx \
    'ringfan_capture_state{capture="test",state="waiting"} 1' ||
    rf_fail "metrics do not show the capture waiting"
rf_ctl status | grep -q "^test  *$RF_CAP  *waiting " ||
    rf_fail "ringfanctl status does not show the capture waiting"
grep -q "capture test: waiting for interface $RF_CAP" "$RF_ERR" ||
    rf_fail "no log line for the wait"

rc=0
out=$(rf_ctl restart test 2>&1) || rc=$?
rf_expect "restart while waiting: exit status" "$rc" 1
rf_expect "restart while waiting" "$out" \
    "ringfanctl: restart test: capture test has no sockets: it waits for its interface"

# The interface appears, down: the capture is down, still without sockets,
# which it builds once the interface is up.  A restart says so, and does
# not send the operator to a log that tells of no failed build.
ip netns add "$RF_NS" 2>/dev/null ||
    rf_skip "cannot create a network namespace (ip netns add)"
RF_LINK=1
ip link add "$RF_CAP" type veth peer name "$RF_GEN" 2>/dev/null ||
    rf_skip "cannot create a veth pair"
rf_wait_until 5 "state down" rf_ctl_test status \
    '.captures[0].state == "down" and .captures[0].running == 0'
rc=0
out=$(rf_ctl restart test/1 2>&1) || rc=$?
rf_expect "restart while down without sockets: exit status" "$rc" 1
rf_expect "restart while down without sockets" "$out" \
    "ringfanctl: restart test/1: capture test has no sockets: it waits for its interface to come up"
ip link del "$RF_CAP"
rf_wait_until 5 "state waiting again" rf_ctl_test status \
    '.captures[0].state == "waiting"'

# The interface appears: the capture comes up and counts.
rf_veth || rf_fail "cannot create the veth pair again"
rf_wait_until 10 "state running, 2 workers" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 2'
grep -q "capture test: interface $RF_CAP is there: 2 workers" "$RF_ERR" ||
    rf_fail "no log line for the interface's arrival"
rf_send -t udp -n 1000 -f 64 -r 5000 -s 64
rf_wait_until 10 "1000 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 1000'
rf_stop
rf_expect "final state" "$(rf_json '.captures[0].state')" running
rf_expect_all 1000
rf_expect "restarts" "$(rf_sum .restarts)" 0

#!/bin/bash
# More link messages than the master's netlink socket holds: the kernel
# drops the rest and reports ENOBUFS, and the master then looks at every
# capture's interface as it is.  The messages still queued at that point
# are older than the look, so the look must come after them.  Here the
# master is stopped (SIGSTOP) while the capture's link goes down, another
# link of the test's flaps until the socket overflows, and the capture's
# link comes back up (that message lost).  Resumed, the master must show
# the capture running, as its link is, not down from the stale message,
# and count what comes.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=1000
FLAP=rfx$RF_ID
FLAP_PEER=rfy$RF_ID
trap 'st=$?; set +e; [ -z "$RF_PID" ] || kill -CONT "$RF_PID" 2>/dev/null;
    ip link del "$FLAP" 2>/dev/null; (exit $st); rf_cleanup' EXIT

rf_link
ip link add "$FLAP" type veth peer name "$FLAP_PEER" netns "$RF_NS" ||
    rf_fail "cannot create a second veth pair"
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_expect "state at start" "$(rf_ctl_json status '.captures[0].state')" \
    running

[ -n "$(rf_nl_drops)" ] || rf_fail "no route netlink socket of the master" \
    "in /proc/net/netlink"

kill -STOP "$RF_PID"
ip link set "$RF_CAP" down
# Flaps until the socket drops messages, whatever its buffer holds.
for ((i = 0; i < 100 && $(rf_nl_drops) == 0; i++)); do
	for ((j = 0; j < 100; j++)); do
		ip link set "$FLAP" up
		ip link set "$FLAP" down
	done
done
[ "$(rf_nl_drops)" -gt 0 ] || rf_fail "20000 link messages overflowed nothing"
ip link set "$RF_CAP" up
# The carrier's own message comes up to a second later (the kernel's
# link watch sends it as it sets operstate): lost as well.
rf_wait_until 5 "the carrier up" \
    grep -qx up "/sys/class/net/$RF_CAP/operstate"
kill -CONT "$RF_PID"
rf_wait_until 20 "the overrun seen" grep -q "link watch: netlink overrun" \
    "$RF_ERR"
rf_expect "operstate" "$(cat "/sys/class/net/$RF_CAP/operstate")" up
# The status reply comes after the master read its netlink socket dry.
rf_expect "state after the overrun" \
    "$(rf_ctl_json status '.captures[0].state')" running
rf_send -t udp -n "$K" -f 64 -r 5000 -s 64
rf_wait_until 10 "$K frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"
rf_expect "stats state" "$(rf_ctl_json stats '.captures[0].state')" running
rf_stop

rf_expect "final state" "$(rf_json '.captures[0].state')" running
rf_expect_all "$K"
rf_expect "restarts" "$(rf_sum .restarts)" 0

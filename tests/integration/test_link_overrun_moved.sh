#!/bin/bash
# A netlink overrun hides that the capture's interface went away and came
# back under the same index: moved to another network namespace and back
# (it keeps its index), or deleted and made again with that index.  Either
# way the kernel unbound the capture's sockets for good, so after the
# overrun the master must not take the interface for the one its sockets
# are on because the index matches: it must build new sockets, and count
# what comes.  The master is stopped (SIGSTOP) while this happens and while
# another link of the test's flaps until its netlink socket drops
# messages, as in test_link_overrun.sh.  Each is done once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=200
FLAP=rfx$RF_ID
FLAP_PEER=rfy$RF_ID
NS2=rfm$RF_ID
trap 'st=$?; set +e; [ -z "$RF_PID" ] || kill -CONT "$RF_PID" 2>/dev/null;
    ip link del "$FLAP" 2>/dev/null; ip netns del "$NS2" 2>/dev/null;
    (exit $st); rf_cleanup' EXIT

rf_link
ip netns add "$NS2" || rf_fail "cannot create a second namespace"
ip link add "$FLAP" type veth peer name "$FLAP_PEER" netns "$RF_NS" ||
    rf_fail "cannot create a second veth pair"
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n "$K" -f 64 -r 5000 -s 64
rf_wait_until 5 "$K frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"

[ -n "$(rf_nl_drops)" ] || rf_fail "no route netlink socket of the master" \
    "in /proc/net/netlink"
FLAPS=$RF_TMP/flaps
for ((j = 0; j < 100; j++)); do
	printf 'link set %s up\nlink set %s down\n' "$FLAP" "$FLAP"
done >"$FLAPS"

# round WHAT: the master stopped, its netlink socket made to overflow, and
# then the capture's interface gone and back with its index (WHAT: moved
# to another namespace and back, or deleted and made again with the same
# index); resumed, the master must build new sockets and count K frames.
round()
{
	local idx drops

	idx=$(cat "/sys/class/net/$RF_CAP/ifindex")
	kill -STOP "$RF_PID"
	# Full first, so that the round trip's messages are lost as well.
	drops=$(rf_nl_drops)
	for ((i = 0; i < 50 && $(rf_nl_drops) == drops; i++)); do
		ip -batch "$FLAPS"
	done
	[ "$(rf_nl_drops)" -gt "$drops" ] ||
	    rf_fail "$1: 10000 link messages overflowed nothing"
	drops=$(rf_nl_drops)
	if [ "$1" = moved ]; then
		ip link set "$RF_CAP" netns "$NS2"
		ip -n "$NS2" link set "$RF_CAP" netns "$$"
	else
		ip link del "$RF_CAP"
		ip link add "$RF_CAP" index "$idx" type veth peer name \
		    "$RF_GEN" netns "$RF_NS"
		echo 1 >"/proc/sys/net/ipv6/conf/$RF_CAP/disable_ipv6"
		in_ns ip link set "$RF_GEN" up
	fi
	ip link set "$RF_CAP" up
	rf_expect "$1: the index" "$(cat "/sys/class/net/$RF_CAP/ifindex")" \
	    "$idx"
	[ "$(rf_nl_drops)" -gt "$drops" ] ||
	    rf_fail "$1: its link messages were not dropped"
	rf_wait_until 5 "$1: $RF_CAP up" \
	    grep -qx up "/sys/class/net/$RF_CAP/operstate"
	kill -CONT "$RF_PID"
	# Counted at each poll (eval), not once as the call is made.
	rf_wait_until 20 "$1: the overrun seen" eval "[ \"\$(grep -c \
	    'link watch: netlink overrun' \"\$RF_ERR\")\" -eq $2 ]"
	rf_wait_until 20 "$1: state running" rf_ctl_test status \
	    '.captures[0].state == "running" and .captures[0].running == 2'
	rf_send -t udp -n "$K" -f 64 -r 5000 -s 64
	rf_wait_until 10 "$1: $((K * ($2 + 1))) frames counted" rf_ctl_test \
	    stats ".captures[0].totals.packets == $((K * ($2 + 1)))"
	rf_expect "$1: taken for gone" \
	    "$(grep -c "interface $RF_CAP is gone; waiting for it" "$RF_ERR")" \
	    "$2"
}

round moved 1
round made 2
rf_stop

rf_expect "final state" "$(rf_json '.captures[0].state')" running
rf_expect_all $((3 * K))
rf_expect "restarts" "$(rf_sum .restarts)" 0

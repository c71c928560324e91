#!/bin/bash
# A capture on a macvlan over the veth, through its parent's life: the
# parent's MTU lowered (the macvlan's follows), the parent down and up (the
# macvlan loses its carrier, stays up: state down, then running), on the
# same workers with every frame counted once and no "is gone" in the log;
# then the parent deleted, which deletes the macvlan: the capture is
# parked (waiting), and runs again on new workers once a macvlan of that
# name is back, every frame of each phase counted once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

MV=rfm$RF_ID
N=500

state_is()
{
	[ "$(rf_ctl_json status '.captures[0].state')" = "$1" ]
}

# macvlan: MV made over the veth's capture end, up.
macvlan()
{
	ip link add link "$RF_CAP" name "$MV" type macvlan 2>/dev/null ||
	    rf_skip "cannot make a macvlan"
	echo 1 >"/proc/sys/net/ipv6/conf/$MV/disable_ipv6"
	ip link set "$MV" up
}

# phase WHAT TOTAL: N more frames counted once, running (rf_phase).
phase()
{
	rf_phase "$1" "$N" "$2"
}

# same WHAT: the workers the capture started with, and no "is gone".
same()
{
	rf_same_workers "$1" "$PIDS"
}

rf_link
macvlan
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i "s/interface: $RF_CAP\$/interface: $MV/" "$RF_CONF"
rf_start
PIDS=$(rf_pids)

phase "at the start" "$N"
same "at the start"

ip link set "$RF_CAP" mtu 1400
rf_wait_until 10 "the macvlan's MTU follows" \
    grep -qx 1400 "/sys/class/net/$MV/mtu"
phase "the parent's MTU lowered" $((2 * N))
same "the parent's MTU lowered"

ip link set "$RF_CAP" down
rf_wait_until 10 "down with its parent" state_is down
ip link set "$RF_CAP" up
rf_wait_until 10 "running with its parent" state_is running
phase "the parent up again" $((3 * N))
same "the parent up again"

ip link del "$RF_CAP"
rf_wait_until 10 "waiting once the parent is deleted" state_is waiting
rf_wait_until 10 "the workers stopped" rf_ctl_test stats \
    '[.captures[0].workers[] | select(.state == "stopped")] | length == 2'
grep -q "interface $MV is gone" "$RF_ERR" ||
    rf_fail "no \"is gone\" for $MV in the log"
rf_veth || rf_fail "cannot make the veth pair again"
macvlan
rf_wait_until 10 "running on the macvlan made again" state_is running
phase "the macvlan made again" $((4 * N))
rf_expect "is gone, once" "$(grep -c "is gone" "$RF_ERR")" 1

rf_stop
rf_expect_all $((4 * N))
echo "PASS"

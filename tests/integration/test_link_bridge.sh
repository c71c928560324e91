#!/bin/bash
# The captured interface made a port of a bridge, and released, while
# ringfan runs: it is the same device under the same name, neither gone
# nor back.  The capture stays running on its first workers and sockets
# (no "is gone" in the log, the same pids), every frame of each phase is
# counted once, and the interface's promiscuity is the bridge's count plus
# one per worker socket (promiscuous: true), back to 0 after the stop.
# The kernel tells of a bridge's port in link messages of family
# AF_BRIDGE too, an RTM_DELLINK when it leaves the bridge.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

BR=rfr$RF_ID
N=2000

# The bridge, removed before the link; the test's status is left for
# lib.sh's cleanup, which runs next.
br_cleanup()
{
	local rc=$?

	set +e
	ip link del "$BR" 2>/dev/null
	return "$rc"
}

promiscuity()
{
	ip -d link show dev "$RF_CAP" |
	    sed -n 's/.* promiscuity \([0-9]*\) .*/\1/p'
}

# phase WHAT PROMISCUITY TOTAL: N more frames sent and counted once, the
# capture still running on the workers it started with.
phase()
{
	rf_expect "$1: promiscuity" "$(promiscuity)" "$2"
	rf_phase "$1" "$N" "$3"
	rf_same_workers "$1" "$PIDS"
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
ip link add "$BR" type bridge || rf_skip "cannot make a bridge"
trap 'br_cleanup; rf_cleanup' EXIT
ip link set "$BR" up
rf_start
PIDS=$(rf_pids)

phase "alone" 2 "$N"
ip link set "$RF_CAP" master "$BR"
rf_wait_until 10 "$RF_CAP a port of $BR" \
    grep -q "master $BR" <(ip link show dev "$RF_CAP")
phase "a port of the bridge" 3 $((2 * N))
ip link set "$RF_CAP" nomaster
rf_wait_until 10 "$RF_CAP out of $BR" \
    sh -c "! ip link show dev $RF_CAP | grep -q master"
phase "released" 2 $((3 * N))
ip link set "$RF_CAP" master "$BR"
ip link del "$BR"
rf_wait_until 10 "$BR gone" sh -c "! ip link show dev $BR 2>/dev/null"
phase "its bridge deleted" 2 $((4 * N))

rf_stop
rf_expect_all $((4 * N))
rf_expect "promiscuity after the stop" "$(promiscuity)" 0
echo "PASS"

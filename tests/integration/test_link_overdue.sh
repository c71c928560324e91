#!/bin/bash
# The interface of a capture is deleted while its worker is stuck in a
# plugin (spin, on a marked frame; the stall watch off): the worker cannot
# drain its ring, and after the 5 s drain deadline the master kills it, as
# a stop does.  That kill ends the worker, it is no crash: nothing is
# respawned or said to be, `restarts` stays 0, the frames left in the
# ring count as dropped and the one in hand as quarantined.  When the
# interface is back, a new worker counts what comes.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=300
M=200

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i '1i stall_timeout: 0' "$RF_CONF"
rf_start

rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_wait_until 5 "the frames in the ring" rf_ctl_test stats \
    ".captures[0].totals.kernel_packets == $((N + 1))"
ip link del "$RF_CAP"
rf_wait_until 10 "the worker killed at the drain deadline" grep -q \
    "worker test/0 did not stop within 5010 ms of its interface's end" \
    "$RF_ERR"
rf_wait_until 5 "the sockets closed" grep -q \
    "worker test/0: $N frames left in the ring of a gone interface" "$RF_ERR"
rf_expect "state" "$(rf_ctl_json stats '.captures[0].state')" waiting
rf_expect "worker state" "$(rf_ctl_json stats '.captures[0].workers[0].state')" \
    stopped
rf_expect "live restarts" \
    "$(rf_ctl_num stats '.captures[0].workers[0].restarts')" 0
rf_expect "respawn log lines" "$(grep -c "respawning" "$RF_ERR" || true)" 0

rf_veth || rf_fail "cannot create the veth pair again"
rf_wait_until 10 "running again" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 1'
rf_send -t udp -n "$M" -f 1 -s 64 -r 20000
rf_wait_until 10 "$M more frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $M"
rf_stop

rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" "$M"
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((N + 1 + M))
rf_expect "kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" "$N"
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
rf_expect "stalls" "$(rf_num '.captures[0].workers[0].stalls')" 0

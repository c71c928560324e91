#!/bin/bash
# An MTU raised while ringfan captures is warned of as the start warns of
# it: frames that no longer fit whole in a block of 4 KiB (3966 bytes on
# Ethernet) are cut by the kernel, which says so only in its own log.
# 1500 fits (no warning at the start); 9000 is warned of, 1500 again is
# not, and 4000 is, once each.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "" "plugin: counter"
rf_set_ring 4KiB 16 10ms
rf_start

# cut MTU: the warning's line for MTU
cut()
{
	echo "capture test: interface $RF_CAP has MTU $1, but a block of 4096 bytes holds a frame of at most 3966: longer frames are cut to that (raise block_size)"
}

warned()
{
	grep -cF "has MTU" "$RF_ERR" || true
}

rf_expect "warnings at the start" "$(warned)" 0
ip link set dev "$RF_CAP" mtu 9000
rf_wait_until 5 "the warning of MTU 9000" grep -qF "$(cut 9000)" "$RF_ERR"
ip link set dev "$RF_CAP" mtu 1500
ip link set dev "$RF_CAP" mtu 4000
rf_wait_until 5 "the warning of MTU 4000" grep -qF "$(cut 4000)" "$RF_ERR"
rf_expect "warnings: 9000 and 4000, not 1500" "$(warned)" 2
rf_expect "state" "$(rf_ctl_json status '.captures[0].state')" running
rf_stop
echo PASS

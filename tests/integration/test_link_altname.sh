#!/bin/bash
# A capture configured with an alternative name of its interface (`ip link
# property add dev X altname NAME`), which the kernel resolves as it does
# the name: the link's messages carry it among the alternative names, not
# as IFLA_IFNAME.  Taken down and up, and renamed (its altname stays), the
# interface is the capture's all along: state `down`, then `running`
# again, the same worker, and every frame sent before and after counted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

ALT=rfa$RF_ID
NEW=rfn$RF_ID
rf_link
ip link property add dev "$RF_CAP" altname "$ALT" 2>/dev/null ||
    rf_skip "no alternative interface names (Linux 5.5)"
rf_config 1 hash "udp port 9" "plugin: counter"
sed -i "s/^\(    interface:\) $RF_CAP\$/\1 $ALT/" "$RF_CONF"
grep -q "^    interface: $ALT\$" "$RF_CONF" || rf_fail "cannot edit $RF_CONF"
rf_start
PID=$(rf_ctl_json workers '.workers[0].pid')

rf_send -t udp -n 100 -f 64 -r 5000 -s 64
rf_wait_until 5 "100 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 100'

ip link set "$RF_CAP" down
rf_wait_until 5 "state down" rf_ctl_test status \
    '.captures[0].state == "down"'
# A rename needs the link down; the capture's name is the altname.
ip link set dev "$RF_CAP" name "$NEW"
RF_CAP=$NEW
ip link set "$RF_CAP" up
rf_wait_until 5 "state running again" rf_ctl_test status \
    '.captures[0].state == "running"'
rf_expect "the same worker" "$(rf_ctl_json workers '.workers[0].pid')" "$PID"
rf_send -t udp -n 100 -f 64 -r 5000 -s 64
rf_wait_until 5 "200 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 200'
rf_expect "state after the frames" \
    "$(rf_ctl_json status '.captures[0].state')" running
! grep -q "is gone" "$RF_ERR" || rf_fail "the interface was taken for gone"
rf_stop

rf_expect "final state" "$(rf_json '.captures[0].state')" running
rf_expect_all 200
rf_expect "restarts" "$(rf_sum .restarts)" 0

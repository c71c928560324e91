#!/bin/bash
# A filter compiled while its interface is there but down, where libpcap
# gives no live handle (pcap_activate: "That device is not up"), is not
# kept as compiled on a live one: `vlan 100` so compiled reads the tag in
# the frame, which the kernel has stripped, and passes no tagged frame.
# Kept, a capture reload once the interface was up (2 workers where there
# was 1) took that program for its new sockets, where it used to compile
# the filter again on a live handle; so did one after a reload whose child
# had compiled the filter with the interface down.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=40	# rfsend tags its vlan frames with id 100

# up: CAP set up, and seen up.
up()
{
	ip link set "$RF_CAP" up
	rf_wait_until 10 "$RF_CAP up" eval \
	    '[ "$(cat "/sys/class/net/$RF_CAP/operstate")" = up ]'
}

rf_link
ip link set "$RF_CAP" down
rf_config 1 hash "vlan 100" "plugin: counter"
rf_start
up

sed -i 's/^    workers: 1$/    workers: 2/' "$RF_CONF"
RF_WORKERS=2
rf_expect "reload" "$(rf_ctl reload 2>&1)" "reload: ok (captures)"
rf_wait_running 20 2
rf_send -t vlan -n "$N" -f 4
rf_wait_until 10 "the tagged frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"

# The same when the reload's child compiles it on the interface down: it
# serves that reload only, and the next (1 worker again) compiles it anew.
ip link set "$RF_CAP" down
rf_set_bpf "vlan 100 and udp port 9"
rf_expect "reload, down" "$(rf_ctl reload 2>&1)" "reload: ok (captures)"
up
sed -i 's/^    workers: 2$/    workers: 1/' "$RF_CONF"
RF_WORKERS=1
rf_expect "reload, up" "$(rf_ctl reload 2>&1)" "reload: ok (captures)"
rf_wait_running 20 1
rf_send -t vlan -n "$N" -f 4
rf_stop
rf_expect "tagged frames" "$(rf_num '.captures[0].totals.packets')" \
    $((2 * N))
echo "PASS"

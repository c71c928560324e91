#!/bin/bash
# The capture's `bpf` matches VLAN-tagged frames as tcpdump -i does on
# Linux, where the kernel strips the tag before any packet socket's filter
# runs: `vlan 100` keeps exactly the frames tagged 100, `not vlan` exactly
# the untagged ones.  Compiled without a live handle, the first would keep
# nothing and the second everything.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N_UDP=200 N_VLAN=150	# rfsend tags its vlan frames with id 100

rf_link
for case in "vlan 100:$N_VLAN" "not vlan:$N_UDP" "vlan 200:0" \
    "vlan 100 and udp port 9:$N_VLAN"; do
	bpf=${case%:*}
	want=${case##*:}
	rf_config 2 hash "$bpf" "plugin: counter"
	rf_start
	rf_send -t udp -n "$N_UDP" -f 16
	rf_send -t vlan -n "$N_VLAN" -f 16
	rf_stop
	rf_expect "bpf \"$bpf\": packets" \
	    "$(rf_num '.captures[0].totals.packets')" "$want"
	rf_expect "bpf \"$bpf\": kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" "$want"
	rf_expect "bpf \"$bpf\": counter vlan" \
	    "$(rf_sum '.plugins.counter.vlan')" \
	    "$([ "$want" -eq "$N_UDP" ] && echo 0 || echo "$want")"
done
echo PASS

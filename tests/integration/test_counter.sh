#!/bin/bash
# The counter plugin classifies each kind of frame rfsend makes, and its
# counters, summed over the workers, match what was sent exactly.  There is
# no BPF filter: with IPv6 off and no addresses on the link, the frames
# below are the only ones on it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N_UDP=100 N_TCP=50 N_ICMP=20 N_ARP=10 N_UDP6=30 N_VLAN=15 N_OTHER=5

rf_link
rf_config 2 hash "" "plugin: counter"
rf_start
rf_send -t udp -n "$N_UDP" -f 16
rf_send -t tcp -n "$N_TCP" -f 16
rf_send -t icmp -n "$N_ICMP" -f 16
rf_send -t arp -n "$N_ARP" -f 16
rf_send -t udp6 -n "$N_UDP6" -f 16
rf_send -t vlan -n "$N_VLAN" -f 16
rf_send -t other -n "$N_OTHER" -f 16
rf_stop

all=$((N_UDP + N_TCP + N_ICMP + N_ARP + N_UDP6 + N_VLAN + N_OTHER))
# The VLAN frames carry IPv4 UDP inside the tag.
declare -A want=(
	[ethernet]=$all
	[vlan]=$N_VLAN
	[arp]=$N_ARP
	[ipv4]=$((N_UDP + N_TCP + N_ICMP + N_VLAN))
	[ipv6]=$N_UDP6
	[tcp]=$N_TCP
	[udp]=$((N_UDP + N_UDP6 + N_VLAN))
	[icmp]=$N_ICMP
	[other]=$N_OTHER
)
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$all"
for c in ethernet vlan arp ipv4 ipv6 tcp udp icmp other; do
	rf_expect "counter.$c" "$(rf_sum ".plugins.counter.$c")" "${want[$c]}"
done
echo "PASS"

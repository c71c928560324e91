#!/bin/bash
# The counter plugin classifies each kind of frame rfsend makes, and its
# counters, summed over the workers, match exactly what tshark finds in the
# same frames (rfsend -w writes them to a file).  There is no BPF filter:
# with IPv6 off and no addresses on the link, the frames below are the
# only ones on it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools tshark mergecap

N_UDP=100 N_TCP=50 N_ICMP=20 N_ARP=10 N_UDP6=30 N_VLAN=15 N_OTHER=5

rf_link
rf_config 2 hash "" "plugin: counter"
rf_start
kinds="udp:$N_UDP tcp:$N_TCP icmp:$N_ICMP arp:$N_ARP udp6:$N_UDP6"
kinds="$kinds vlan:$N_VLAN other:$N_OTHER"
for k in $kinds; do
	rf_send -t "${k%:*}" -n "${k#*:}" -f 16
	"$RFSEND" -q -w "$RF_TMP/${k%:*}.pcap" -t "${k%:*}" -n "${k#*:}" -f 16
done
rf_stop
files=()
for k in $kinds; do files+=("$RF_TMP/${k%:*}.pcap"); done
mergecap -a -w "$RF_TMP/all.pcap" "${files[@]}"

# The oracle: tshark's count of each counter's frames over the same
# frames; `other` is a frame of none of the three network protocols.
declare -A filter=(
	[ethernet]=eth [vlan]=vlan [arp]=arp [ipv4]=ip [ipv6]=ipv6 [tcp]=tcp
	[udp]=udp [icmp]=icmp [other]="!(arp || ip || ipv6)"
)
declare -A want
for c in "${!filter[@]}"; do
	want[$c]=$(tshark -r "$RF_TMP/all.pcap" -Y "${filter[$c]}" | wc -l)
done
all=$((N_UDP + N_TCP + N_ICMP + N_ARP + N_UDP6 + N_VLAN + N_OTHER))
rf_expect "tshark: frames" "${want[ethernet]}" "$all"
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$all"
for c in ethernet vlan arp ipv4 ipv6 tcp udp icmp other; do
	rf_expect "counter.$c" "$(rf_sum ".plugins.counter.$c")" "${want[$c]}"
done
echo "PASS"

#!/bin/bash
# The other fanout modes and the fanout flags: ringfan joins each kind of
# group and accounts for every frame in it.  How rollover, random and qm
# spread frames is the kernel's business; that none is lost or seen twice
# is ringfan's.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=3000

rf_link
for mode in rollover random qm hash; do
	rf_config 2 "$mode" "udp port 9" "plugin: counter"
	if [ "$mode" = hash ]; then
		# Every flag at once, on the mode they matter most for.
		sed -i "s/^      mode: hash$/      mode: hash\n      defrag: false\n      rollover: true\n      ignore_outgoing: true/" \
		    "$RF_CONF"
		grep -q "ignore_outgoing: true" "$RF_CONF" ||
		    rf_fail "could not add the flags to the config"
	fi
	rf_start
	rf_send -t udp -n "$K" -f 64 -r 20000
	rf_stop
	rf_expect "$mode: fanout.mode" "$(rf_json '.captures[0].fanout.mode')" \
	    "$mode"
	rf_expect "$mode: totals.packets" \
	    "$(rf_num '.captures[0].totals.packets')" "$K"
	rf_expect "$mode: totals.kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" "$K"
	rf_expect "$mode: totals.kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "$mode: counter.udp" "$(rf_sum .plugins.counter.udp)" "$K"
done
echo "PASS"

#!/bin/bash
# Fanout cpu hands a frame to member i when it arrives on CPU i.  Over veth
# the receive path runs on the CPU that sent the frame, so pinning the
# sender picks the worker: all frames must land on that worker, none on the
# other.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=5000

[ "$(nproc)" -ge 2 ] || rf_skip "needs 2 online CPUs"
if ! taskset -c 0 true 2>/dev/null || ! taskset -c 1 true 2>/dev/null; then
	rf_skip "cannot run on both CPU 0 and CPU 1"
fi

rf_link
rf_config 2 cpu "udp port 9" "plugin: counter"
for cpu in 1 0; do
	rf_start
	rf_send -t udp -n "$K" -f 64 -r 20000 -c "$cpu"
	rf_stop
	other=$((1 - cpu))
	rf_expect "sender on CPU $cpu: totals.packets" \
	    "$(rf_num '.captures[0].totals.packets')" "$K"
	rf_expect "sender on CPU $cpu: worker $cpu packets" \
	    "$(rf_num ".captures[0].workers[$cpu].packets")" "$K"
	rf_expect "sender on CPU $cpu: worker $other packets" \
	    "$(rf_num ".captures[0].workers[$other].packets")" 0
done
echo "PASS"

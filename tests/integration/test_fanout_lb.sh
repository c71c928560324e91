#!/bin/bash
# Fanout lb deals frames out in turn, whatever their flow: even a single
# flow is split evenly between the workers, K/2 each exactly (the kernel
# deals each frame of the link to the member its counter of frames
# names, modulo the members; the link carries the test's frames alone).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=10000

rf_link
rf_config 2 lb "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n "$K" -f 1 -r 20000
rf_stop

rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "sum of worker packets" "$(rf_sum .packets)" "$K"
rf_expect "totals.kernel_drops" \
    "$(rf_num '.captures[0].totals.kernel_drops')" 0
for w in 0 1; do
	rf_expect "worker $w: packets" \
	    "$(rf_num ".captures[0].workers[$w].packets")" $((K / 2))
done
echo "PASS"

#!/bin/bash
# A capture reload whose new workers are slow to start (their pipeline's
# open takes a second) on small rings: until the cut-over T, the new
# sockets receive copies of frames that the old generation takes, and
# their rings, with no worker to empty them yet, fill and drop.  Those
# drops lose nothing and must not be counted: after the stop, every frame
# sent was handed to a pipeline once, kernel_packets is the number sent,
# and no frame is counted as dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=12000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start

rf_send_bg -t udp -n "$K" -f 256 -r 3000 -s 64
sleep 0.5
# Three workers, rings of 4 blocks (40 ms of traffic at 10 ms a block),
# and an open of a second.
sed -i "s/workers: 2/workers: 3/" "$RF_CONF"
rf_set_ring 64KiB 4 10ms
echo "      - { plugin: ctxprobe, config: { open_delay: 1s } }" >>"$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" captures
RF_WORKERS=3
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the reload did"
rf_send_wait
rf_stop

rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
for w in 0 1 2; do
	rf_expect "worker $w: kernel_drops" \
	    "$(rf_num ".captures[0].workers[$w].kernel_drops")" 0
	rf_expect "worker $w: kernel_packets - packets" \
	    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets")" 0
done
echo "PASS"

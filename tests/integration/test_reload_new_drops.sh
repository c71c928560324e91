#!/bin/bash
# A capture reload whose new workers are slow to start (their pipeline's
# open takes a second) on small rings: until the cut-over T, the new
# sockets receive copies of frames that the old generation takes, and
# their rings, with no worker to empty them yet, fill and drop.  Those
# drops lose nothing and must not be counted: after the stop, every frame
# sent was handed to a pipeline once, kernel_packets is the number sent,
# and no frame is counted as dropped.  The same when ringfan is stopped
# before T, while the new workers are still opening: the old generation
# took every frame.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=12000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/base.yaml"
rf_start

rf_send_bg -t udp -n "$K" -f 256 -r 3000 -s 64
rf_wait_flowing 1000
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

# Stopped before T: the traffic (a second) and the stop come while the new
# workers sleep in their open (3 s, within the stop's 5 s grace).
K2=3000
cp "$RF_TMP/base.yaml" "$RF_CONF"
RF_WORKERS=2
rf_start
rf_send_bg -t udp -n "$K2" -f 256 -r 3000 -s 64
rf_wait_flowing 300
sed -i "s/workers: 2/workers: 3/" "$RF_CONF"
rf_set_ring 64KiB 4 10ms
echo "      - { plugin: ctxprobe, config: { open_delay: 3s } }" >>"$RF_CONF"
kill -HUP "$RF_PID"
rf_send_wait
rf_wait_until 2 "the new workers opening" rf_ctl_test status \
    '.captures[0] | [.workers, .running] == [3, 0]'
rf_stop
rf_expect_all "$K2"
rf_expect "stop before T: sum of counter.ethernet" \
    "$(rf_sum .plugins.counter.ethernet)" "$K2"
echo "PASS"

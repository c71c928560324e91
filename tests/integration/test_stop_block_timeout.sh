#!/bin/bash
# A stop waits for the kernel to retire the block it holds: with a long
# block_timeout (6 s here, within the allowed 1ms..10s) a few frames sit in
# a block the kernel still owns until the ring's timer fires, up to 6 s
# after the stop.  The workers must be given that long: every frame the
# kernel took is handed to the pipeline, none killed away as "left in its
# ring, counted as dropped".
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=5

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_set_ring 64KiB 4 6s
rf_start
rf_send -t udp -n "$K" -f 1 -s 64
# At once: the block is not retired before the ring's timer fires, about
# 6 s after the socket was set up.
RF_SETTLE=0 rf_stop

grep -q "did not stop within" "$RF_ERR" &&
    rf_fail "a worker was killed at the stop: $(grep "did not stop" "$RF_ERR")"
rf_expect_all "$K"
echo "PASS"

#!/bin/bash
# When a capture's interface is deleted, its workers drain their rings
# before they stop, and the kernel hands over the block it holds only when
# the ring's timer retires it: with a long block_timeout (6 s here, within
# the allowed 1ms..10s) up to 6 s after the deletion.  The drain deadline
# must leave that long: the frames the kernel took are handed to the
# pipeline, none killed away as "left in the ring of a gone interface".
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=5

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_set_ring 64KiB 4 6s
rf_start
rf_send -t udp -n "$K" -f 1 -s 64
# At once: the block is not retired before the ring's timer fires, about
# 6 s after the socket was set up.
ip link del "$RF_CAP"
rf_wait_until 15 "the worker drained and stopped" rf_ctl_test workers \
    '.workers[0].state == "stopped"'
grep -q "did not stop within" "$RF_ERR" &&
    rf_fail "the worker was killed: $(grep "did not stop" "$RF_ERR")"
RF_SETTLE=0 rf_stop
rf_expect_all "$K"
echo "PASS"

#!/bin/bash
# Capture reloads on a clock that is not stepped: none of the hand-overs
# says the clock went back.  The master reads the clocks apart, so without
# a step the real-time one stands within microseconds of the cut-over's due
# time (either side) when the monotonic one reaches it; with a block
# timeout a multiple of the master's 50 ms timer, every other reload or so
# used to log "the clock went back 0.000 s" and hold the old sockets open
# one timer tick more.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9"
sed -i "s/^\(      block_timeout:\).*/\1 100ms/" "$RF_CONF"
rf_start
w=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	w=$((3 - w))
	sed -i "s/^    workers: [0-9]*$/    workers: $w/" "$RF_CONF"
	rf_ctl reload >/dev/null
done
rf_stop
rf_expect "hand-overs" "$(grep -c "reload: captures handed over" "$RF_ERR")" 10
rf_expect "steps back seen" "$(grep -c "clock went back" "$RF_ERR" || true)" 0

#!/bin/bash
# A capture reload whose hand-over sees the clock step back: the master's
# clock reads 3 s ahead of the kernel's (clockahead.c) until the new
# workers run and the cut-over time T is set on it, then steps back to the
# kernel's.  Frames the kernel stamps before T keep coming for 3 s more;
# the new workers leave them to the old ones, so the old sockets stay open
# until the clock is past T again.  Every frame sent is handled once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=16000
rf_link
rf_config 2 hash "udp port 9"
# The hand-over's first step after T waits out the old rings' block
# timeout: time enough to see T set and step the clock back before it.
sed -i "s/^\(      block_timeout:\).*/\1 1000ms/" "$RF_CONF"
rf_start_ahead 3

rf_send_bg -t udp -n "$N" -f 64 -r 2000 -s 200
rf_wait_until 5 "frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets > 0'
sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
# SIGHUP: `ringfanctl reload` is answered only once the hand-over is done.
kill -HUP "$RF_PID"
rf_wait_until 10 "T set" grep -q "reload: 3 new workers running" "$RF_ERR"
rm "$RF_AHEAD"
rf_wait_until 15 "the hand-over" \
    grep -q "reload: captures handed over" "$RF_ERR"
grep -q "reload: the clock went back 3\.[0-9]* s during the hand-over" \
    "$RF_ERR" || rf_fail "no line on the clock going back: $(cat "$RF_ERR")"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the hand-over"
rf_send_wait
rf_stop
rf_expect_all "$N"

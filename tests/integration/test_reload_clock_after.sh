#!/bin/bash
# A step back of the clock after a capture reload's hand-over is done: the
# master's clock reads 600 s ahead of the kernel's (clockahead.c) all along,
# so the cut-over time T is set 600 s ahead of the frames' stamps, as on a
# host whose clock was stepped back just after the hand-over.  The old
# sockets are shut; the frames sent after that, all stamped before T, are
# the new workers' alone, and every one is handled.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=2000
rf_link
rf_config 2 hash "udp port 9"
rf_start_ahead 600

sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
rf_ctl reload >/dev/null
rf_wait_until 15 "the hand-over" \
    grep -q "reload: captures handed over" "$RF_ERR"
rf_send -t udp -n "$N" -f 64 -r 2000
rf_wait_until 10 "the frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
rf_stop
rf_expect_all "$N"

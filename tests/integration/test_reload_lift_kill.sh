#!/bin/bash
# A new worker of a capture reload killed (SIGKILL) as the hand-over
# begins, and still starting again (its open takes 2 s) when the old
# sockets are shut.  The master's clock reads 600 s ahead of the kernel's
# (clockahead.c), as on a host whose clock is stepped back just after the
# hand-over: every frame is stamped before T.  Those that reach the dead
# worker's ring after the shut are its alone, and its successor takes them;
# every frame sent is counted once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=5000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
# 64 blocks retired every 100 ms hold the 6.4 s the killed worker is away.
rf_set_ring 64KiB 64 100ms
rf_start_ahead 600

sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open_delay: 2s, open_worker: 0 } }" \
    >>"$RF_CONF"
# 1000 frames a second over 64 flows, through the whole reload.
rf_send_bg -t udp -n "$N" -f 64 -r 1000
rf_reload_bg
rf_wait_until 20 "the hand-over" grep -q "handing over" "$RF_ERR"
pid=$(rf_ctl_json workers '.workers[] | select(.id == 0) | .pid')
kill -KILL "$pid"
rf_wait_until 20 "the old sockets retired" \
    grep -q "reload: captures handed over" "$RF_ERR"
rf_reload_end "reload" 0
rf_wait_until 20 "worker 0 back" rf_ctl_test workers \
    "[.workers[] | select(.id == 0 and .state == \"running\" and .restarts == 1)] | length == 1"
rf_send_wait
rf_wait_until 20 "every frame handled" rf_ctl_test stats \
    ".captures[0].totals.packets >= $N"
rf_stop
rf_expect_all "$N"

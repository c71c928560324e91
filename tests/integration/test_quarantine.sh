#!/bin/bash
# Quarantine: a frame that makes a plugin crash the worker is skipped by
# the respawned worker and counted as quarantined, once; every other frame
# is handled exactly once, those behind it in the ring included.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=1000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: crash, config: { len: 100 } }"
rf_start

# One flow: every frame goes to the same worker.  Only the 100-byte frame
# crashes it.
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$N" -f 1 -s 64 -r 20000

rf_wait_until 5 "a worker respawned and running" rf_ctl_test workers \
    '([.workers[].restarts] | add) == 1 and
     all(.workers[]; .state == "running")'
rf_expect "live last_exit of the crashed worker" \
    "$(rf_ctl_json workers '[.workers[] | select(.restarts == 1)][0].last_exit')" \
    "killed by signal 11 (Segmentation fault)"
rf_stop

rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" $((2 * N))
rf_expect "totals.bytes" "$(rf_num '.captures[0].totals.bytes')" \
    $((2 * N * 64))
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" $((2 * N + 1))
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "sum of restarts" "$(rf_sum .restarts)" 1
rf_expect "crash.seen summed" "$(rf_sum .plugins.crash.seen)" $((2 * N))
# counter runs before crash: it had counted the fatal frame too.
rf_expect "counter.ethernet summed" "$(rf_sum .plugins.counter.ethernet)" \
    $((2 * N + 1))
# One worker had the flow; the other saw nothing.
rf_expect "workers with frames" \
    "$(rf_json '[.captures[0].workers[] | select(.kernel_packets > 0)] | length')" 1
w=$(rf_num '[.captures[0].workers[] | select(.kernel_packets > 0)][0].id')
rf_expect "the crashed worker is the one with the flow" \
    "$(rf_num ".captures[0].workers[$w].restarts")" 1
rf_expect "its quarantined" "$(rf_num ".captures[0].workers[$w].quarantined")" 1
echo "PASS"

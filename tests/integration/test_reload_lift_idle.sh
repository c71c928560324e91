#!/bin/bash
# Two capture reloads, the new workers of the first idle until the second
# hands over.  A new worker lifts its cut once the old sockets are shut,
# holding it only for the frames from before the shut: an idle one has
# none, and lifts at once.  When the second reload retires these workers,
# their cut keeps only the frames stamped before its cut-over time T2,
# also in the first block they take, which here spans T2 (5 s blocks, the
# traffic begun just before the reload): the frames from T2 on are the
# newest workers' alone, and every frame sent is counted once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=600
rf_link
rf_config 2 hash "udp port 9"
rf_set_ring 64KiB 32 5s
rf_start

sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
rf_expect "reload 1" "$(rf_ctl_json reload .result)" captures
rf_wait_until 20 "the first hand-over" \
    grep -q "reload: captures handed over" "$RF_ERR"

# 100 frames a second over 64 flows: no 5 s block fills.
rf_send_bg -t udp -n "$N" -f 64 -r 100
sed -i "s/^    workers: 3$/    workers: 2/" "$RF_CONF"
rf_expect "reload 2" "$(rf_ctl_json reload .result)" captures
rf_wait_until 30 "the second hand-over" eval \
    '[ "$(grep -c "reload: captures handed over" "$RF_ERR")" -eq 2 ]'
rf_send_wait
rf_wait_until 15 "every frame handled" rf_ctl_test stats \
    ".captures[0].totals.packets >= $N"
rf_stop
rf_expect_all "$N"

#!/bin/bash
# A plugin's store past its memory into another worker's counters (the
# test plugin stray, which knows the shared memory's layout): the worker
# dies of it (SIGSEGV), is respawned and counts on, and the other worker's
# counters stay what its own frames made them.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: stray"
rf_start
# One flow: its frames go to one worker, W; the other, O, sees none.
rf_send -t udp -n 100 -f 1 -s 64
rf_wait_until 5 "a worker killed by its stray store, respawned" rf_ctl_test \
    workers '([.workers[].restarts] | add) == 1 and
    all(.workers[]; .state == "running")'
W=$(rf_ctl_num workers '.workers[] | select(.restarts == 1) | .id')
O=$((1 - W))
rf_expect "worker $W's last exit" \
    "$(rf_ctl_json workers ".workers[$W].last_exit")" \
    "killed by signal 11 (Segmentation fault)"
rf_stop
rf_expect "worker $O's stray.mark" \
    "$(rf_num ".captures[0].workers[$O].plugins.stray.mark // 0")" 0
rf_expect "worker $O's frames" "$(rf_num ".captures[0].workers[$O].packets")" 0
rf_expect "worker $W's frames: all but the one it died on" \
    "$(rf_num ".captures[0].workers[$W].packets")" 99
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
echo "PASS"

#!/bin/bash
# Plugin code that misbehaves at the process level is contained, each frame
# counted once.  hostile recurses until its stack overflows in its 11th
# packet call: the worker dies of SIGSEGV in the plugin's packet, that
# frame is quarantined and the successor handles the rest.  hostilebatch
# calls _exit(3) in a batch call: a crash of that plugin, not a setup
# failure, and its successor runs on.  Then hostile ignores SIGTERM and
# blocks every signal in open: a stop still ends each worker through its
# stop word, every frame counted, exit status 0.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=20

rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: hostile, config: { act: recurse, where: packet, after: 10 } }"
rf_start
rf_send -t udp -n "$N" -f 4 -s 64
rf_wait_until 10 "the worker respawned, every frame taken" \
    rf_ctl_test stats '.captures[0].workers[0] | .restarts == 1 and
     .state == "running" and .packets + .quarantined == '"$N"
grep -q "killed by signal 11 (Segmentation fault) in plugin hostile$" \
    "$RF_ERR" || rf_fail "no SIGSEGV in plugin hostile logged"
rf_stop
rf_expect "recurse: packets" "$(rf_num '.captures[0].totals.packets')" \
    $((N - 1))
rf_expect "recurse: quarantined" \
    "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "recurse: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"

rf_config 1 hash "udp port 9" \
    "{ plugin: hostilebatch, config: { act: _exit, where: batch, after: 10 } }"
rf_start
rf_send -t udp -n "$N" -f 4 -s 64
rf_wait_until 10 "the batch worker respawned, every frame taken" \
    rf_ctl_test stats '.captures[0].workers[0] | .restarts == 1 and
     .state == "running" and .packets + .quarantined == '"$N"
grep -q "exited with code 3 in plugin hostilebatch's batch$" "$RF_ERR" ||
    rf_fail "no exit of plugin hostilebatch logged"
rf_stop
rf_expect "_exit: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"
rf_expect "_exit: packets" "$(rf_num '.captures[0].totals.packets')" "$N"

rf_config 2 hash "udp port 9" \
    "{ plugin: hostile, config: { act: ignterm, where: open } }"
rf_start
rf_send -t udp -n "$N" -f 4 -s 64
rf_stop
rf_expect_all "$N"
rf_expect "ignterm: hostile.seen" "$(rf_sum .plugins.hostile.seen)" "$N"
echo "PASS"

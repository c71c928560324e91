#!/bin/bash
# A plugin that closes every descriptor of its process (the epoll instance
# its worker waits on for blocks included) must not leave the worker
# polling its ring in a busy loop, a CPU burnt with nothing to show for
# it: the worker can no longer wait, so it ends as a crash and its
# successor, with descriptors of its own, runs on.  hostile closes them
# all in its 11th packet call; every frame is still handled once.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=20

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: hostile, config: { act: closeall, where: packet, after: 10 } }"
rf_start
rf_send -t udp -n "$N" -f 4 -s 64
rf_wait_until 5 "the worker respawned and running" \
    rf_ctl_test workers '.workers[0].restarts == 1 and
     .workers[0].state == "running"'
rf_expect "last_exit" "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "exited with code 5 (waiting for its ring: epoll_wait: Bad file descriptor)"
rf_stop
rf_expect_all "$N"
rf_expect "counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$N"
echo "PASS"

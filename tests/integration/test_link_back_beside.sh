#!/bin/bash
# An interface deleted while its workers hold a backlog (slow: 1 ms a
# frame), and created again under the same name before they have drained
# it, while the master has no descriptor to spare beside those the old
# sockets hold (its limit of open files lowered to one above what it has
# open): the new sockets cannot be built beside the old ones.  That is no
# interface whose sockets cannot be built: once the old workers are gone,
# and their sockets with them, the build is tried again, succeeds, and
# the frames sent after are counted, as they were before sockets were
# built beside draining ones.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools prlimit

# A backlog of B frames takes the two slow workers 2 s.
B=4000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: slow, config: { delay: 1ms } }"
rf_start
n=$(find "/proc/$RF_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
prlimit --pid "$RF_PID" --nofile=$((n + 1)):$((n + 1))

rf_send -t udp -n "$B" -f 64 -r 50000 -s 64
ip link del "$RF_CAP"
rf_veth || rf_fail "cannot create the veth pair again"
rf_wait_until 10 "the sockets built once the old workers are gone" grep -q \
    "capture test: interface $RF_CAP is back: 2 workers" "$RF_ERR"
grep -q "capture test: interface $RF_CAP is back, but its sockets cannot be built while the old workers still drain: capture test: socket(AF_PACKET): Too many open files; tried again once they are gone" \
    "$RF_ERR" || rf_fail "no build was tried beside the draining sockets;" \
    "nothing tested"
! grep -q "is there, but its sockets cannot be built" "$RF_ERR" ||
    rf_fail "the capture was taken as failed"

rf_send -t udp -n 200 -f 64 -r 50000 -s 64
rf_stop
rf_expect_all $((B + 200))
rf_expect "state" "$(rf_json '.captures[0].state')" running

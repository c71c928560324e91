#!/bin/bash
# A new worker of a capture reload killed (SIGKILL) as the hand-over
# begins, and still starting again (its open takes 6 s) when the old
# sockets are shut.  The master's clock reads 600 s ahead of the kernel's
# (clockahead.c), as on a host whose clock is stepped back just after the
# hand-over: every frame is stamped before T.  Three bursts of frames:
#
# 1. while both generations' sockets are open and worker 0 opens: the old
#    workers', which the new ones walk and leave;
# 2. after worker 0 died, before the old sockets are shut (3.2 s on: T is
#    100 ms after the hand-over begins, the shut 100 ms and the old
#    rings' block timeout of 3 s after T): the old workers' too, and in
#    the dead worker's ring, unwalked, for its successor to leave (the
#    lift holds them to the cut; taken, they count twice);
# 3. once the old sockets are shut: in the dead worker's ring alone, for
#    its successor to take (left, they are lost).
#
# Every frame sent is counted once.  No frame is on the wire as the old
# sockets are shut: the master reads the new rings' counts just before it
# shuts them, and a frame that came in between, stamped before T, would be
# taken by both generations (by design, rather than by neither;
# framework/swap.c, swap_lift_at()).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N1=1000
N2=500
N3=1000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
# Worker 0's open of 6 s, frames waiting, is no stall.
sed -i '1i stall_timeout: 20s' "$RF_CONF"
# The old rings retire a block every 3 s: the shut waits for their last
# block before T.
rf_set_ring 64KiB 64 3s
rf_start_ahead 600

sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
# 64 blocks retired every 100 ms hold the 6.4 s worker 0 is away.
rf_set_ring 64KiB 64 100ms
echo "      - { plugin: ctxprobe, config: { open_delay: 6s, open_worker: 0 } }" \
    >>"$RF_CONF"
rf_reload_bg
rf_wait_until 20 "the new sockets" grep -q "new sockets built" "$RF_ERR"
rf_send -t udp -n "$N1" -f 64 -r 1000
! grep -q "handing over" "$RF_ERR" ||
    rf_fail "the hand-over began before the first burst had been sent"
rf_wait_until 20 "the hand-over" grep -q "handing over" "$RF_ERR"
pid=$(rf_ctl_json workers '.workers[] | select(.id == 0) | .pid')
kill -KILL "$pid"
rf_send -t udp -n "$N2" -f 64 -r 1000
! grep -q "the old sockets shut" "$RF_ERR" ||
    rf_fail "the old sockets were shut before the second burst had been sent"
rf_wait_until 20 "the old sockets shut" \
    grep -q "reload: the old sockets shut" "$RF_ERR"
rf_send -t udp -n "$N3" -f 64 -r 1000
rf_ctl_test workers '[.workers[] | select(.id == 0 and
    .state == "running")] | length == 0' ||
    rf_fail "worker 0 came back before the third burst had been sent"
rf_reload_end "reload" 0
rf_wait_until 20 "worker 0 back" rf_ctl_test workers \
    "[.workers[] | select(.id == 0 and .state == \"running\" and .restarts == 1)] | length == 1"
N=$((N1 + N2 + N3))
rf_wait_until 20 "every frame handled" rf_ctl_test stats \
    ".captures[0].totals.packets >= $N"
rf_stop
rf_expect_all "$N"
echo "PASS"

#!/bin/bash
# A pipeline reload during which worker 1, still on the previous pipeline,
# is killed: its closer, recovering what it left in hostmem's open, hangs
# there while frames wait in its ring.  The stall watch kills it, and its
# death is logged as any other stall's, where it was named once:
# `killed after a stall in plugin hostmem's open, closing its previous
# pipeline`.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
dir=$RF_TMP/out
mkdir -p "$dir"
rf_hostmem_config "$dir"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
rf_start
rf_send_handled 2000

echo "sleep 30" >"$RECOVER"
pid0=$(rf_ctl_num workers '.workers[0].pid')
pid1=$(rf_ctl_num workers '.workers[1].pid')
# Worker 0, stopped, holds the hand-over: worker 1 waits for its turn on
# the previous pipeline.
kill -STOP "$pid0"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rf_ctl reload >"$RF_TMP/reload.out" 2>&1 &
reload_pid=$!
rf_wait_until 10 "the reload under way" grep -q \
    "restarting workers one at a time" "$RF_ERR"
kill -KILL "$pid1"
rf_wait_until 5 "worker 1 started on its previous pipeline" grep -q \
    "worker test/1: started on its previous pipeline, to close what it left" \
    "$RF_ERR"
closer=$(rf_ctl_num workers '.workers[1].pid')
[ "$closer" != "$pid1" ] && [ "$closer" -gt 0 ] ||
    rf_fail "no closer process for worker 1 (pid $closer)"
rf_send -t udp -n 2000 -f 64 -s 64
rf_wait_until 8 "the closer's stall logged" grep -q \
    "worker test/1 (pid $closer) killed after a stall" "$RF_ERR"
: >"$RECOVER"
kill -CONT "$pid0" 2>/dev/null || true
wait "$reload_pid" || true
rf_expect "the closer's death" \
    "$(grep -o "worker test/1 (pid $closer) killed after a stall.*" "$RF_ERR")" \
    "worker test/1 (pid $closer) killed after a stall in plugin hostmem's open, closing its previous pipeline; starting the new one"
rf_stop
echo "PASS"

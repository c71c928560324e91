#!/bin/bash
# A pipeline reload during which worker 1, still on the previous pipeline,
# is killed: it is started on that pipeline again to close what it left
# in host memory (docs/architecture.md, Reload).  That closer is killed
# too, while its plugins' open recovers the memory (hostmem takes 3 s
# there): the flows and buffered frames of worker 1 are in no record or
# file, and the master must say so as an error naming the worker and the
# plugins, as it does for a closer that dies at a stop or without a
# socket.  Worker 0's frames are all written.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump

rf_link
dir=$RF_TMP/out
mkdir -p "$dir/pcap"
rf_hostmem_config "$dir" \
    "{ plugin: pcapwriter, config: { directory: \"$dir/pcap\" } }"
sed -i '1i stall_timeout: 2s' "$RF_CONF"
rf_start
rf_send_handled 5000

echo "sleep 3" >"$RECOVER"
# Worker 0, stopped, holds the hand-over: worker 1 waits for its turn on
# the previous pipeline.
rf_reload_kill_1 's/idle_timeout: 60s/idle_timeout: 50s/'
rf_closer_of_1
kill -KILL "$closer"
rf_reload_end "the reload" 0
kill -CONT "$pid0" 2>/dev/null || true
rf_wait_until 5 "the closer's death logged" grep -q \
    "worker test/1 (pid $closer) killed by signal 9 (Killed) in plugin hostmem's open, closing its previous pipeline; starting the new one" \
    "$RF_ERR"
rf_stop

grep -q "\[master\] error: worker test/1: what hostmem, flowtable, pcapwriter held in host memory is lost (its closer died): frames it counted in packets are in no record or file$" \
    "$RF_ERR" || rf_fail "the loss of worker 1's host memory is not reported"
echo "ok: the loss of worker 1's host memory is reported"
# Worker 0 (stalled, closed by a closer of its own) lost nothing.
! grep -q "worker test/0: what .* is lost" "$RF_ERR" ||
    rf_fail "worker 0: $(grep "is lost" "$RF_ERR")"
P0=$(rf_num '.captures[0].workers[0].packets')
Q0=$(rf_num '.captures[0].workers[0].quarantined')
F0=$(cat "$dir"/flows-0.json | jq -s '[.[] | .fwd.packets + .rev.packets] | add // 0')
[ "$F0" -ge "$P0" ] && [ "$F0" -le $((P0 + Q0)) ] ||
    rf_fail "worker 0: flow records count $F0 frames, it handled $P0 (+$Q0)"
echo "ok: worker 0's flow records count its $P0 frames"

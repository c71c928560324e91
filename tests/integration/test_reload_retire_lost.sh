#!/bin/bash
# A capture reload (the ring changed) while worker 0 is stopped by
# SIGSTOP, its flow table and pcap write buffer in host memory: at the
# cut-over it is told to drain, makes no progress for 5 s with no frame
# waiting, and is killed and not started again (docs/architecture.md,
# Reload).  The old generation is then retired with that memory, and
# worker 0's frames, counted in packets, are in no record or file: the
# master must say so as an error naming the worker and the plugins, as
# it does for any host memory no process closed.  Worker 1 lost nothing.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump

rf_link
dir=$RF_TMP/out
mkdir -p "$dir/pcap"
rf_hostmem_config "$dir" \
    "{ plugin: pcapwriter, config: { directory: \"$dir/pcap\" } }"
# Not the stall watch: the drain's own no-progress kill.
sed -i '1i stall_timeout: 0' "$RF_CONF"
rf_start
rf_send_handled 5000

pid0=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid0"
rf_set_ring 64KiB 16 10ms
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>&1 || rc=$?
kill -CONT "$pid0" 2>/dev/null || true
rf_expect "reload exit status" "$rc" 0
grep -q "worker test/0 (pid $pid0) made no progress for 5000 ms draining for a reload: SIGKILL" \
    "$RF_ERR" || rf_fail "the stopped worker was not killed while draining"
rf_stop

grep -q "\[master\] error: worker test/0: what hostmem, flowtable, pcapwriter held in host memory is lost (a capture reload retired it unclosed): frames it counted in packets are in no record or file$" \
    "$RF_ERR" || rf_fail "the loss of worker 0's host memory is not reported"
echo "ok: the loss of worker 0's host memory is reported"
! grep -q "worker test/1: what .* is lost" "$RF_ERR" ||
    rf_fail "worker 1: $(grep "is lost" "$RF_ERR")"
P1=$(rf_num '.captures[0].workers[1].packets')
F1=$(cat "$dir"/flows-1.json | jq -s '[.[] | .fwd.packets + .rev.packets] | add // 0')
rf_expect "worker 1: frames in its flow records" "$F1" "$P1"

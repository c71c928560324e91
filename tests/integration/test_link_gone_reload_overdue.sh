#!/bin/bash
# A worker holding flows (flowtable) in host memory is stuck in a plugin
# (spin, on a marked frame) when its interface is deleted, and a reload
# that replaces the pipeline comes at once: the worker, still on the
# previous pipeline, is killed at the 5 s drain deadline of the
# interface's end, in the reload's hand-over.  What it left in the
# previous pipeline's host memory is closed before the reload lets go of
# that memory: the records hold every frame it counted and the
# quarantined one.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=30
M=5
DIR=$RF_TMP/out
mkdir "$DIR"

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: flowtable, config: { output: \"$DIR/flows-{worker}.json\", idle_timeout: 60s } }" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i '1i stall_timeout: 0' "$RF_CONF"
rf_start
rf_send -t udp -n "$N" -f 8 -s 64
rf_wait_until 10 "$N frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $N"
rf_send -t udp -n 1 -f 1 -s 100
rf_send -t udp -n "$M" -f 1 -s 64
rf_wait_until 5 "the frames in the ring" rf_ctl_test stats \
    ".captures[0].totals.kernel_packets == $((N + 1 + M))"
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
ip link del "$RF_CAP"
ip netns del "$RF_NS"
RF_LINK=0
rf_wait_until 5 "the interface gone" grep -q \
    "capture test: interface $RF_CAP is gone" "$RF_ERR"
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload: exit status" "$rc" 0
grep -q "worker test/0 did not stop within 5000 ms of its interface's end" \
    "$RF_ERR" || rf_fail "not killed at the drain deadline:" \
    "$(grep -v debug "$RF_ERR")"
FLOWS=0
flows_are()
{
	FLOWS=$(cat "$DIR"/flows-*.json 2>/dev/null |
	    jq -s '[.[] | .fwd.packets + .rev.packets] | add // 0')
	[ "$FLOWS" = "$1" ]
}
rf_stop
P=$(rf_num '.captures[0].totals.packets')
D=$(rf_num '.captures[0].totals.kernel_drops')
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((N + 1 + M))
rf_expect "packets + kernel_drops + quarantined" $((P + D + 1)) $((N + 1 + M))
flows_are $((P + 1)) || rf_fail "the flow records count $FLOWS frames," \
    "the workers handled $P (+1 quarantined): $(grep -v debug "$RF_ERR")"
! grep -q "is lost" "$RF_ERR" || rf_fail "$(grep "is lost" "$RF_ERR")"
grep -q "worker test/0: started on its previous pipeline, to close what it left" \
    "$RF_ERR" || rf_fail "no closer: $(grep -v debug "$RF_ERR")"
rf_expect "worker state" "$(rf_json '.captures[0].workers[0].state')" stopped
echo "PASS"

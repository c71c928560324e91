#!/bin/bash
# An interface that appears while ringfan stops: a capture waiting for it
# (`wait_for_interface: true`) stays without sockets and workers.  The stop
# closed every ring to new frames; a capture built after it would take
# frames the stop promised not to take, and its worker, started after the
# stop's signal, would run until the stop's deadline killed it.  Another
# capture's worker, stopped with SIGSTOP, holds the stop open for its
# 5 s grace, so the interface surely arrives during it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

LATE=rfl$RF_ID
LATE_PEER=rfm$RF_ID
trap 'st=$?; set +e; ip link del "$LATE" 2>/dev/null; (exit $st); rf_cleanup' \
    EXIT

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
cat >>"$RF_CONF" <<YAML
  - name: late
    interface: $LATE
    wait_for_interface: true
    workers: 1
    cpu_affinity: none
    fanout:
      mode: hash
      group: $((RF_GROUP + 1))
    ring:
      block_size: 64KiB
      block_count: 32
      block_timeout: 10ms
    pipeline:
      - plugin: counter
YAML
RF_WORKERS=2	# "ready" counts the waiting capture's slot
rf_start
rf_expect "late: state at start" \
    "$(rf_ctl_json status '.captures[1].state')" waiting
pid0=$(rf_ctl_num workers '.workers[0].pid')

kill -STOP "$pid0"
kill -TERM "$RF_PID"
rf_wait_until 5 "the stop begun" grep -q "stopping: SIGTERM" "$RF_ERR"
ip link add "$LATE" type veth peer name "$LATE_PEER" netns "$RF_NS"
ip link set "$LATE" up
ip netns exec "$RF_NS" ip link set "$LATE_PEER" up
ip netns exec "$RF_NS" "$RFSEND" -i "$LATE_PEER" -q -t udp -n 500 -f 64 \
    -r 5000 -s 64 || rf_fail "rfsend on $LATE_PEER failed"
sleep 0.5
rf_alive "$RF_PID" || rf_fail "the stop ended before the SIGSTOP'd worker's deadline"

rf_wait_exit 15 "after SIGTERM"
jq -s 'last' "$RF_OUT" >"$RF_STATS"

rf_expect "late: built during the stop" \
    "$(grep -c "capture late: interface $LATE is there" "$RF_ERR" || true)" 0
rf_expect "late: killed at the deadline" \
    "$(grep -c "late/0 did not stop" "$RF_ERR" || true)" 0
rf_expect "late: final state" "$(rf_json '.captures[1].state')" waiting
rf_expect "late: kernel_packets" \
    "$(rf_num '.captures[1].totals.kernel_packets')" 0
rf_expect "late: packets" "$(rf_num '.captures[1].totals.packets')" 0
rf_expect "test: kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" 0

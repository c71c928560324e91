#!/bin/bash
# Two captures at once, on two links, each with its own fanout group, worker
# count and mode: each sees exactly its own link's frames.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K1=4000 K2=2500

rf_link
rf_link2

RF_WORKERS=3
cat >"$RF_CONF" <<YAML
control: { socket: "$RF_TMP/control.sock", pidfile: "$RF_TMP/ringfan.pid" }
plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
captures:
  - name: one
    interface: $RF_CAP
    workers: 2
    bpf: "udp port 9"
    fanout: { mode: hash, group: $RF_GROUP }
    ring: { block_size: 64KiB, block_count: 16, block_timeout: 10ms }
    pipeline: [ { plugin: counter } ]
  - name: two
    interface: $CAP2
    workers: 1
    bpf: "udp port 9"
    fanout: { mode: lb, group: $((RF_GROUP + 1)) }
    ring: { block_size: 64KiB, block_count: 16, block_timeout: 10ms }
    pipeline: [ { plugin: counter } ]
YAML
rf_start
rf_send -t udp -n "$K1" -f 32 -r 20000
ip netns exec "$RF_NS" "$RFSEND" -i "$GEN2" -q -t udp -n "$K2" -f 8 -r 20000
rf_stop

rf_expect "captures" "$(rf_json '.captures | length')" 2
rf_expect "capture 0 name" "$(rf_json '.captures[0].name')" one
rf_expect "capture 1 interface" "$(rf_json '.captures[1].interface')" "$CAP2"
rf_expect "capture 1 fanout" "$(rf_json '.captures[1].fanout.mode')" lb
rf_expect "capture 1 group" "$(rf_num '.captures[1].fanout.group')" \
    $((RF_GROUP + 1))
rf_expect "capture 0 workers" "$(rf_json '.captures[0].workers | length')" 2
rf_expect "capture 1 workers" "$(rf_json '.captures[1].workers | length')" 1
rf_expect "capture 0 packets" "$(rf_num '.captures[0].totals.packets')" "$K1"
rf_expect "capture 1 packets" "$(rf_num '.captures[1].totals.packets')" "$K2"
rf_expect "capture 0 kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$K1"
rf_expect "capture 1 kernel_packets" \
    "$(rf_num '.captures[1].totals.kernel_packets')" "$K2"
rf_expect "capture 1 counter.udp" \
    "$(rf_num '.captures[1].workers[0].plugins.counter.udp')" "$K2"
echo "PASS"

#!/bin/bash
# A capture reload builds every capture's sockets anew.  One capture's
# interface is deleted (the capture waits for it, wait_for_interface
# false); a reload that changes only the other capture's ring is taken,
# and the capture left as it is goes on waiting, then starts on the
# interface when it comes back and counts what is sent there.  Before, the
# reload failed with "capture other: interface ...: No such device".
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_link2
rf_config 1 hash "udp port 9" "plugin: counter"
cat >>"$RF_CONF" <<YAML
  - name: other
    interface: $CAP2
    workers: 1
    fanout: { group: $((RF_GROUP + 1)) }
    bpf: "udp port 9"
    pipeline:
      - plugin: counter
YAML
RF_WORKERS=2
rf_start
ip link del "$CAP2"
rf_wait_until 20 "capture other waiting" rf_ctl_test status \
    '.captures[1].state == "waiting"'

rf_set_ring 64KiB 16 10ms
rf_expect "reload" "$(rf_ctl_json reload .result)" captures
rf_expect "states after the reload" \
    "$(rf_ctl_json status '[.captures[] | .name + "=" + .state] | join(" ")')" \
    "test=running other=waiting"

rf_veth "$CAP2" "$GEN2" || rf_fail "cannot make $CAP2 again"
rf_wait_until 20 "capture other running" rf_ctl_test status \
    '.captures[1].state == "running"'
ip netns exec "$RF_NS" "$RFSEND" -i "$GEN2" -q -t udp -n 500 -f 8 -r 20000
rf_wait_until 20 "500 frames of capture other" rf_ctl_test stats \
    '[.captures[1].workers[].packets] | add == 500'
rf_stop
rf_expect "capture other's packets" \
    "$(rf_num '[.captures[1].workers[].packets] | add')" 500
rf_expect "capture other's kernel_drops" \
    "$(rf_num '[.captures[1].workers[].kernel_drops] | add')" 0
echo "PASS"

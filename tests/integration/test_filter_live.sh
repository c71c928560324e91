#!/bin/bash
# The filter step on a live link, where the kernel strips VLAN tags: with
# `vlan 100 and udp` it passes on exactly the tagged frames, its counters
# say so, and the pcapwriter after it writes those frames with their tags
# back in, which tcpdump -r and ringfan -r of the file select again with
# the same expression.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_tools tcpdump
N_UDP=120 N_VLAN=80	# rfsend tags its vlan frames with id 100
EXPR="vlan 100 and udp"

rf_link
mkdir "$RF_TMP/pcap"
rf_config 1 hash "" "plugin: counter" \
    "{ plugin: filter, config: { expression: \"$EXPR\" } }" \
    "{ plugin: pcapwriter, config: { directory: \"$RF_TMP/pcap\" } }"
rf_start
rf_send -t udp -n "$N_UDP" -f 8
rf_send -t vlan -n "$N_VLAN" -f 8
rf_stop
rf_expect "counter ethernet" "$(rf_sum '.plugins.counter.ethernet')" \
    $((N_UDP + N_VLAN))
rf_expect "filter matched" "$(rf_sum '.plugins.filter.matched')" "$N_VLAN"
rf_expect "filter rejected" "$(rf_sum '.plugins.filter.rejected')" "$N_UDP"
rf_expect "pcapwriter frames" "$(rf_sum '.plugins.pcapwriter.frames')" \
    "$N_VLAN"

file=$(ls "$RF_TMP"/pcap/*.pcap)
rf_expect "tcpdump -r \"$EXPR\"" \
    "$(tcpdump -r "$file" -w - "$EXPR" 2>/dev/null | tcpdump -r - 2>/dev/null |
    wc -l)" "$N_VLAN"
cat >"$RF_TMP/replay.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: replay
    interface: $RF_CAP
    pipeline:
      - plugin: filter
        config: { expression: "$EXPR" }
YAML
"$RINGFAN" -c "$RF_TMP/replay.yaml" -r "$file" >"$RF_TMP/replay.json" ||
    rf_fail "ringfan -r of the written file failed"
rf_expect "ringfan -r: matched" \
    "$(jq '[.captures[0].workers[].plugins.filter.matched] | add' "$RF_TMP/replay.json")" "$N_VLAN"
rf_expect "ringfan -r: rejected" \
    "$(jq '[.captures[0].workers[].plugins.filter.rejected] | add' "$RF_TMP/replay.json")" 0
echo PASS

#!/bin/bash
# flowtable exporting IPFIX while its JSON output fails (its directory is
# missing): every record still reaches the collector, while the file gets
# none, so `records` (written to the file) says nothing of the export.
# What fleet.md gives as the account of the records made for the
# collector after a stop must hold here too: records + records_lost =
# ipfix_records + ipfix_dropped, ipfix_queue 0.
#
# `ringfan -r` over 300 flows of one frame each in a table of 100 (200
# evicted on the way, 100 at the stop), IPFIX over TCP to ipfix_listen.py,
# which counts the records it gets.  It runs in a network namespace of its
# own (root), so the collector's 127.0.0.1 is the test's alone.
set -eu
NOLINK_NAME=ixoutf NOLINK_NETNS=1
. "$(dirname "$0")/nolink.sh"
. "$(dirname "$0")/free_port.sh"
need_tools python3

FLOWS=300
"$RFSEND" -q -w "$TMP/in.pcap" -n "$FLOWS" -f "$FLOWS" -s 64
port=$(free_port tcp)
python3 "$(dirname "$0")/ipfix_listen.py" "$port" "$TMP/got" &
BG="$BG $!"
wait_for 10 "the listener" test -s "$TMP/got"

cat >"$TMP/rf.yaml" <<-YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: outf
    interface: none
    pipeline:
      - plugin: flowtable
        config:
          output: "$TMP/missing/flows.json"
          max_flows: 100
          ipfix: "tcp://127.0.0.1:$port"
YAML
offline_run 30
expect "exit status" "$RC" 0
wait_for 10 "the listener counting $FLOWS records" \
    grep -q "records $FLOWS templates" "$TMP/got"
grep -q " bad 0" "$TMP/got" || fail "listener: $(cat "$TMP/got")"
echo "ok: the collector got the $FLOWS records"
expect "ipfix_records" "$(ft ipfix_records)" "$FLOWS"
expect "ipfix_dropped" "$(ft ipfix_dropped)" 0
expect "ipfix_queue" "$(ft ipfix_queue)" 0
expect "records" "$(ft records)" 0
expect "records_lost" "$(ft records_lost)" "$FLOWS"
# fleet.md's account of the records made for the collector.
expect "records + records_lost" "$(($(ft records) + $(ft records_lost)))" \
    "$(($(ft ipfix_records) + $(ft ipfix_dropped) + $(ft ipfix_queue)))"
echo "PASS"

#!/bin/bash
# ringfan -r runs the plugins in a process of its own, and must run them as a
# worker does, which ignores SIGPIPE: a plugin's write to a pipe or socket
# whose reader is gone fails with EPIPE, which the plugin handles, instead
# of killing the run without a word or its statistics.  brokenpipe writes
# a byte per frame to a pipe without a reader and counts the EPIPEs.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline-sigpipe
. "$(dirname "$0")/nolink.sh"
: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

"$RFSEND" -q -w "$TMP/u.pcap" -t udp -n 12 -f 4 -s 64 ||
    fail "rfsend -w failed"
cat >"$TMP/c.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_TEST", "$PLUGIN_PATH_BUILD"]
captures:
  - name: pipe
    interface: eth0
    pipeline:
      - plugin: brokenpipe
      - plugin: counter
YAML

for n in 1 3; do
	rc=0
	"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/u.pcap" --workers $n \
	    >"$TMP/out.json" 2>"$TMP/err" || rc=$?
	expect "$n workers: exit status" "$rc" 0
	expect "$n workers: stderr" "$(cat "$TMP/err")" ""
	expect "$n workers: packets" \
	    "$(jq '.captures[0].totals.packets' "$TMP/out.json")" 12
	expect "$n workers: writes that failed with EPIPE" \
	    "$(jq '[.captures[0].workers[].plugins.brokenpipe.epipe] | add' \
	    "$TMP/out.json")" 12
	expect "$n workers: other outcomes" \
	    "$(jq '[.captures[0].workers[].plugins.brokenpipe.other] | add' \
	    "$TMP/out.json")" 0
done
echo "PASS"

#!/bin/bash
# flowtable's IPFIX export with `ringfan -r`: a file whose flows end (are
# evicted from a table of 100) before its time reaches a tick, far more of
# them than ipfix_queue holds.  Offline the records wait for the collector
# instead of being dropped:
#
# 1. UDP to nfcapd on 127.0.0.1: nfdump lists every flow of the JSON
#    records, ipfix_dropped is 0.
# 2. TCP to a listener (ipfix_listen.py, nfcapd has no TCP input): every
#    record arrives, on one connection, after its templates.
# 3. TCP with no collector: the run waits 10 s for it, then drops the
#    records, counts each, and ends with a line naming the plugin and the
#    cause.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=ixoff
. "$(dirname "$0")/nolink.sh"
. "$(dirname "$0")/free_port.sh"

for tool in python3 nfcapd nfdump; do
	command -v "$tool" >/dev/null 2>&1 ||
	    fail "$tool is not installed (tools/deps installs it)"
done

# config URL: flowtable with JSON records and IPFIX to URL, a queue of 100
# and a table of 100 flows.
config()
{
	cat >"$TMP/rf.yaml" <<-YAML
	plugin_path: ["$PLUGIN_PATH_BUILD"]
	captures:
	  - name: off
	    interface: none
	    pipeline:
	      - plugin: flowtable
	        config:
	          output: "$TMP/flows.json"
	          ipfix: "$1"
	          ipfix_queue: 100
	          max_flows: 100
	YAML
	rm -f "$TMP/flows.json"
}

# run: ringfan -r over the file; RC its exit status, stats in rf.json.
run()
{
	RC=0
	"$RINGFAN" -c "$TMP/rf.yaml" -r "$TMP/in.pcap" >"$TMP/rf.json" \
	    2>"$TMP/rf.err" || RC=$?
}

ft()
{
	jq -r ".captures[0].workers[0].plugins.flowtable.$1" "$TMP/rf.json"
}

# One frame per flow, each flow its own record: 500 evicted on the way,
# 100 at the end.
FLOWS=600
"$RFSEND" -q -w "$TMP/in.pcap" -n "$FLOWS" -f "$FLOWS" -s 64

# --- 1. UDP to nfcapd.
port=$(free_port udp)
mkdir -p "$TMP/nf"
nfcapd -b 127.0.0.1 -p "$port" -w "$TMP/nf" -t 3600 >"$TMP/nfcapd.log" 2>&1 &
NFPID=$!
BG="$BG $NFPID"
wait_for 10 "nfcapd on $port" grep -q "Startup nfcapd" "$TMP/nfcapd.log"
config "udp://127.0.0.1:$port"
run
[ "$RC" -eq 0 ] || fail "udp: exit status $RC: $(cat "$TMP/rf.err")"
expect "udp: JSON records" "$(wc -l <"$TMP/flows.json")" "$FLOWS"
expect "udp: records" "$(ft records)" "$FLOWS"
expect "udp: ipfix_records" "$(ft ipfix_records)" "$FLOWS"
expect "udp: ipfix_dropped" "$(ft ipfix_dropped)" 0
kill -TERM "$NFPID"
wait "$NFPID" 2>/dev/null || true
BG=""
# nfdump's flows, as "src sport dst dport packets bytes", against the
# JSON records' (every flow is one frame one way).
find "$TMP/nf" -name 'nfcapd.*' -exec nfdump -q -r {} -o csv \; |
    awk -F, '/^[0-9]/ { print $4, $6, $5, $7, $12, $13 }' |
    sort >"$TMP/nf.txt"
jq -r '"\(.src) \(.sport) \(.dst) \(.dport) \(.fwd.packets) \(.fwd.bytes)"' \
    "$TMP/flows.json" | sort >"$TMP/json.txt"
expect "udp: flows nfdump lists" "$(wc -l <"$TMP/nf.txt")" "$FLOWS"
cmp -s "$TMP/nf.txt" "$TMP/json.txt" ||
    fail "nfdump's flows differ from the JSON records: $(diff "$TMP/nf.txt" \
    "$TMP/json.txt" | head -5)"
echo "ok: nfdump lists the flows of the JSON records"

# --- 2. TCP to a listener.
port=$(free_port tcp)
python3 "$(dirname "$0")/ipfix_listen.py" "$port" "$TMP/tcp" &
BG="$BG $!"
wait_for 10 "the TCP listener" test -s "$TMP/tcp"
config "tcp://127.0.0.1:$port"
run
[ "$RC" -eq 0 ] || fail "tcp: exit status $RC: $(cat "$TMP/rf.err")"
expect "tcp: JSON records" "$(wc -l <"$TMP/flows.json")" "$FLOWS"
expect "tcp: ipfix_records" "$(ft ipfix_records)" "$FLOWS"
expect "tcp: ipfix_dropped" "$(ft ipfix_dropped)" 0
wait_for 10 "every record at the listener" \
    grep -q "records $FLOWS " "$TMP/tcp"
expect "tcp: listener" "$(cat "$TMP/tcp")" \
    "connections 1 messages $(ft ipfix_messages) records $FLOWS templates 2 bad 0"

# --- 3. TCP, no collector.
port=$(free_port tcp)
config "tcp://127.0.0.1:$port"
run
expect "no collector: exit status" "$RC" 0
expect "no collector: ipfix_records" "$(ft ipfix_records)" 0
expect "no collector: ipfix_dropped" "$(ft ipfix_dropped)" "$FLOWS"
expect "no collector: JSON records" "$(wc -l <"$TMP/flows.json")" "$FLOWS"
url="tcp://127.0.0.1:$port"
grep -qF "ipfix $url: the collector took nothing in 10 s: records are dropped until it does" \
    "$TMP/rf.err" || fail "no line for the wait: $(cat "$TMP/rf.err")"
grep -qF "ipfix $url: 100 records not sent at close, $FLOWS dropped in all" \
    "$TMP/rf.err" || fail "no line for the close: $(cat "$TMP/rf.err")"
expect "no collector: last line" "$(tail -n 1 "$TMP/rf.err")" \
    "ringfan: off/0: plugin flowtable ended with a problem: ipfix $url: connect: Connection refused; 0 records wait"
echo "PASS"

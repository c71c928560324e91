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
# Then its edges:
#
# 4. ipfix_template_messages: 1 over UDP: a message of templates alone
#    does not count towards it (counted, every message was due for its
#    templates, the exporter sent nothing else, and the stop never ended).
#    Every record must reach nfcapd.
# 5. A collector that appears once the stop found none: the stop waits up
#    to 2 s for the queue to go out (fleet.md), trying once a second, so
#    the records go out instead of being dropped at the first refusal.
#    The collector listens once the run sleeps until its next try (its
#    wchan), not after a time a slow start could outlast; it was started
#    before, so that its own start is not in the way.
# 6. TCP, a collector that accepts but reads only after ringfan exits
#    (ipfix_listen.py with HOLD): what ringfan counts as dropped ("not
#    acknowledged at close") must not reach the collector, and what
#    reaches it must be counted as sent: sent + dropped = made, and the
#    collector gets exactly the sent ones.
#
# It needs no link: nolink.sh, not lib.sh (which makes one); root for a
# network namespace of its own, where the collectors listen on 127.0.0.1.
set -eu
NOLINK_NAME=ixoff NOLINK_NETNS=1
. "$(dirname "$0")/nolink.sh"
. "$(dirname "$0")/free_port.sh"

need_tools python3 nfcapd nfdump

# config URL [OPTION...]: flowtable with JSON records and IPFIX to URL,
# and each OPTION ("key: value") of flowtable's.
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
	YAML
	shift
	for o in "$@"; do echo "          $o"; done >>"$TMP/rf.yaml"
	rm -f "$TMP/flows.json"
}
# A queue of 100 and a table of 100 flows.
SMALL=("ipfix_queue: 100" "max_flows: 100")

# One frame per flow, each flow its own record: 500 evicted on the way,
# 100 at the end.
FLOWS=600
"$RFSEND" -q -w "$TMP/in.pcap" -n "$FLOWS" -f "$FLOWS" -s 64

# --- 1. UDP to nfcapd.
nfcapd_start "$TMP/nf"
config "udp://127.0.0.1:$port" "${SMALL[@]}"
offline_run
[ "$RC" -eq 0 ] || fail "udp: exit status $RC: $(cat "$TMP/rf.err")"
expect "udp: JSON records" "$(wc -l <"$TMP/flows.json")" "$FLOWS"
expect "udp: records" "$(ft records)" "$FLOWS"
expect "udp: ipfix_records" "$(ft ipfix_records)" "$FLOWS"
expect "udp: ipfix_dropped" "$(ft ipfix_dropped)" 0
nfcapd_stop
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
config "tcp://127.0.0.1:$port" "${SMALL[@]}"
offline_run
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
config "tcp://127.0.0.1:$port" "${SMALL[@]}"
offline_run
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

FLOWS=50
"$RFSEND" -q -w "$TMP/in.pcap" -n "$FLOWS" -f "$FLOWS" -s 64

# --- 4. Templates with every message.
nfcapd_start "$TMP/nf4"
config "udp://127.0.0.1:$port" "ipfix_template_messages: 1"
offline_run
expect "template_messages 1: exit status" "$RC" 0
expect "template_messages 1: ipfix_records" "$(ft ipfix_records)" "$FLOWS"
nfcapd_stop
got=$(find "$TMP/nf4" -name 'nfcapd.*' -exec nfdump -q -r {} -o csv \; |
    grep -c '^[0-9]' || true)
expect "template_messages 1: flows nfcapd got" "$got" "$FLOWS"

# --- 5. A collector that comes once the stop has found none.
port=$(free_port tcp)
python3 "$(dirname "$0")/ipfix_listen.py" --after "$TMP/late.go" "$port" \
    "$TMP/late" &
BG="$BG $!"
config "tcp://127.0.0.1:$port"
RC=0
"$RINGFAN" -c "$TMP/rf.yaml" -r "$TMP/in.pcap" >"$TMP/rf.json" \
    2>"$TMP/rf.err" &
pid=$!
BG="$BG $pid"
wait_for 30 "the run asleep until it tries the collector again" \
    run_waits_in "$pid" '*nanosleep*'
: >"$TMP/late.go"
wait "$pid" || RC=$?
expect "late collector: exit status" "$RC" 0
expect "late collector: ipfix_dropped" "$(ft ipfix_dropped)" 0
expect "late collector: ipfix_records" "$(ft ipfix_records)" "$FLOWS"
late_got()
{
	grep -q " records $FLOWS templates [0-9]* bad 0$" "$TMP/late" 2>/dev/null
}
wait_for 10 "the late collector counting $FLOWS records" late_got

# --- 6. A collector that reads only once ringfan is gone.
port=$(free_port tcp)
python3 "$(dirname "$0")/ipfix_listen.py" "$port" "$TMP/slow" "$TMP/go" &
SLOW=$!
BG="$BG $SLOW"
wait_for 10 "the slow collector" test -s "$TMP/slow"
config "tcp://127.0.0.1:$port"
# Records for about 500 KiB, some messages of which the collector's
# receive buffer holds.
FLOWS=5000
"$RFSEND" -q -w "$TMP/in.pcap" -n "$FLOWS" -f "$FLOWS" -s 64
offline_run
touch "$TMP/go"
wait_for 15 "the slow collector reading to the end" \
    sh -c "! kill -0 $SLOW 2>/dev/null"
expect "slow collector: exit status" "$RC" 0
[ "$(ft ipfix_records)" -gt 0 ] && [ "$(ft ipfix_dropped)" -gt 0 ] ||
    fail "slow collector: not both acknowledged and dropped records:" \
        "$(ft ipfix_records) sent, $(ft ipfix_dropped) dropped"
expect "slow collector: sent + dropped" \
    "$(($(ft ipfix_records) + $(ft ipfix_dropped)))" "$FLOWS"
got=$(sed -n 's/.* records \([0-9]*\) .*/\1/p' "$TMP/slow")
expect "slow collector: records it got, records counted as sent" \
    "$got" "$(ft ipfix_records)"
grep -q " bad 0$" "$TMP/slow" || fail "slow collector: $(cat "$TMP/slow")"
echo "PASS"

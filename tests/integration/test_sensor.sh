#!/bin/bash
# The three sensor plugins together, against oracles ringfan did not write.
#
# A pcap of many TCP and UDP flows in both directions, IPv4 and IPv6, some
# VLAN-tagged, some fragmented (mkflows.py) is replayed with tcpreplay over
# the test's link into a live capture: hash fanout over 2 workers, defrag
# off (so the kernel hands over fragments as sent), the pipeline counter,
# flowtable, pcapwriter.  Then:
#   - pcapwriter's files, merged, hold the input frame for frame (tcpdump
#     prints both the same, timestamps aside);
#   - flowtable's records give every flow the packets and bytes per
#     direction that tshark finds in the input, and each flow is on one
#     worker only;
#   - the counter plugin's totals equal tshark's counts;
#   - `ringfan -r` over the same file gives the same flows, and
#     `-r --workers 3` the very same records as `-r`, the worker aside.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_oracle.sh"

for tool in tcpreplay tshark tcpdump python3; do
	command -v "$tool" >/dev/null 2>&1 ||
	    rf_fail "$tool is not installed (tools/deps installs it)"
done

rf_link
python3 "$(dirname "$0")/mkflows.py" "$RF_TMP/in.pcap"
flows_tshark "$RF_TMP/in.pcap" >"$RF_TMP/oracle.flows" ||
    rf_fail "tshark could not read $RF_TMP/in.pcap"
frames=$(tcpdump -nr "$RF_TMP/in.pcap" 2>/dev/null | wc -l)
nflows=$(wc -l <"$RF_TMP/oracle.flows")
echo "input: $frames frames, $nflows flows"
[ "$nflows" -gt 100 ] || rf_fail "the oracle found only $nflows flows"

# pipeline OUTPUT-DIR: sets entries[] to the three plugins' pipeline entries
# for rf_config, writing under OUTPUT-DIR.
pipeline()
{
	mkdir -p "$1/pcap"
	entries=("plugin: counter"
	    "plugin: flowtable
        config: { output: \"$1/flows-{worker}.json\", idle_timeout: 60s }"
	    "plugin: pcapwriter
        config: { directory: \"$1/pcap\" }")
}

pipeline "$RF_TMP/live"
rf_config 2 hash "" "${entries[@]}"
sed -i "s/^\(      group: .*\)/\1\n      defrag: false/" "$RF_CONF"
rf_start
rf_replay "$RF_TMP/in.pcap" --pps 3000
rf_stop
rf_expect_all "$frames"

# --- pcapwriter: every frame once, as sent.
# tcpdump -xx prints a frame as a summary line and its bytes; one line per
# frame, without timestamps (-t), sorted: equal lists mean equal frames.
frames_of()
{
	local f
	for f in "$@"; do
		tcpdump -nt -xx -r "$f" 2>/dev/null
	done | awk '/^[^\t ]/ { if (l != "") print l; l = $0; next }
	    { l = l " " $0 } END { if (l != "") print l }' | sort
}
mapfile -t files < <(find "$RF_TMP/live/pcap" -name '*.pcap' | sort)
[ "${#files[@]}" -ge 2 ] || rf_fail "pcapwriter wrote ${#files[@]} files, expected one per worker"
for f in "${files[@]}"; do
	tcpdump -nr "$f" >/dev/null 2>"$RF_TMP/tcpdump.err" ||
	    rf_fail "tcpdump cannot read $f: $(cat "$RF_TMP/tcpdump.err")"
done
frames_of "$RF_TMP/in.pcap" >"$RF_TMP/in.frames"
rf_expect "frames tcpdump prints from the input" \
    "$(wc -l <"$RF_TMP/in.frames")" "$frames"
frames_of "${files[@]}" >"$RF_TMP/out.frames"
diff -q "$RF_TMP/in.frames" "$RF_TMP/out.frames" >/dev/null ||
    rf_fail "pcapwriter's files differ from the input:" \
    "$(diff "$RF_TMP/in.frames" "$RF_TMP/out.frames" | head -c 600)"
echo "ok: pcapwriter wrote the $frames frames as sent"

# --- flowtable: each flow's counts per direction, as tshark finds them.
flows_records "$RF_TMP"/live/flows-*.json >"$RF_TMP/live.flows"
diff "$RF_TMP/oracle.flows" "$RF_TMP/live.flows" >"$RF_TMP/flows.diff" ||
    rf_fail "live flow records differ from tshark's flows:" \
    "$(head -c 800 "$RF_TMP/flows.diff")"
echo "ok: flowtable's records match tshark's $nflows flows"
# Hash fanout keeps a flow on one worker: no flow in both workers' files.
dup=$(for w in 0 1; do
	jq -r '"\(.vlan) \(.proto) \(.src) \(.sport) \(.dst) \(.dport)"' \
	    "$RF_TMP/live/flows-$w.json" | sort -u
done | sort | uniq -d | wc -l)
rf_expect "flows seen by both workers" "$dup" 0
# --- counter: its totals against tshark's.
tcount()
{
	tshark -n -r "$RF_TMP/in.pcap" -Y "$1" 2>/dev/null | wc -l
}
rf_expect "counter ipv4" "$(rf_sum '.plugins.counter.ipv4')" "$(tcount ip)"
rf_expect "counter ipv6" "$(rf_sum '.plugins.counter.ipv6')" "$(tcount ipv6)"
rf_expect "counter vlan" "$(rf_sum '.plugins.counter.vlan')" "$(tcount vlan)"
rf_expect "counter tcp" "$(rf_sum '.plugins.counter.tcp')" "$(tcount tcp)"
# Every IP frame here is TCP or UDP, fragments included.
rf_expect "counter udp" "$(rf_sum '.plugins.counter.udp')" \
    "$(($(tcount ip) + $(tcount ipv6) - $(tcount tcp)))"
rf_expect "flowtable created" "$(rf_sum '.plugins.flowtable.created')" \
    "$nflows"

# --- offline: the same file through -r, then -r --workers 3.
offline()
{
	local dir=$1
	shift
	pipeline "$dir"
	rf_config 2 hash "" "${entries[@]}"
	"$RINGFAN" -c "$RF_CONF" -r "$RF_TMP/in.pcap" "$@" \
	    >"$dir/stats.json" 2>"$dir/err" ||
	    rf_fail "ringfan -r $* failed: $(cat "$dir/err")"
}
offline "$RF_TMP/r1"
flows_records "$RF_TMP"/r1/flows-*.json >"$RF_TMP/r1.flows"
diff "$RF_TMP/oracle.flows" "$RF_TMP/r1.flows" >"$RF_TMP/flows.diff" ||
    rf_fail "-r flow records differ from tshark's flows:" \
    "$(head -c 800 "$RF_TMP/flows.diff")"
echo "ok: -r gives the same flows"
offline "$RF_TMP/r3" --workers 3
for w in 0 1 2; do
	[ -s "$RF_TMP/r3/flows-$w.json" ] ||
	    rf_fail "-r --workers 3: worker $w wrote no records"
done
records()
{
	cat "$@" | jq -c 'del(.worker)' | sort
}
records "$RF_TMP"/r1/flows-*.json >"$RF_TMP/r1.records"
records "$RF_TMP"/r3/flows-*.json >"$RF_TMP/r3.records"
diff -q "$RF_TMP/r1.records" "$RF_TMP/r3.records" >/dev/null ||
    rf_fail "-r --workers 3 records differ from -r:" \
    "$(diff "$RF_TMP/r1.records" "$RF_TMP/r3.records" | head -c 800)"
echo "ok: -r --workers 3 writes the records of -r"
echo "PASS"

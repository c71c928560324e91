#!/bin/bash
# The same frames live and from the files pcapwriter wrote of them: a
# capture of two workers (fanout hash) runs pcapwriter, counter and
# flowtable over traffic of several kinds, in two bursts more than the
# idle timeout apart; then `ringfan -r` runs counter and flowtable, configured
# the same, over the workers' files merged in time order (mergecap).  The
# counters are equal, and so are the flow records but for the worker
# (the kernel's hash and the file's differ): the flows of the first burst
# end idle, those of the second at the stop, within the idle timeout.
set -eu
. "$(dirname "$0")/lib.sh"
need_tools mergecap

mkdir "$RF_TMP/pcap"
rf_link
rf_config 2 hash "" "plugin: pcapwriter
        config: { directory: \"$RF_TMP/pcap\", nanosecond: true }" \
    "plugin: counter" "plugin: flowtable
        config: { idle_timeout: 3s, output: \"$RF_TMP/live.json\" }"
rf_start
burst()
{
	rf_send -t udp -n 3000 -f 300
	rf_send -t tcp -n 1000 -f 100
	rf_send -t icmp -n 200 -f 20
	rf_send -t udp6 -n 500 -f 50
	rf_send -t vlan -n 500 -f 50
	rf_send -t arp -n 50 -f 5
	rf_send -t other -n 50 -f 5
}
burst
sleep 3.5
burst
rf_stop
rf_expect "frames" "$(rf_sum '.packets')" 10600
mapfile -t files < <(find "$RF_TMP/pcap" -name '*.pcap')
mergecap -w "$RF_TMP/all.pcap" "${files[@]}"

sed -e "s|$RF_TMP/live.json|$RF_TMP/file.json|" \
    -e '/plugin: pcapwriter/,+1d' "$RF_CONF" >"$RF_TMP/file.yaml"
"$RINGFAN" -c "$RF_TMP/file.yaml" -r "$RF_TMP/all.pcap" --workers 2 \
    >"$RF_TMP/file.stats" 2>"$RF_TMP/file.err" ||
    rf_fail "ringfan -r failed: $(cat "$RF_TMP/file.err")"
counters()
{
	jq -S '[.captures[0].workers[].plugins.counter] |
	    reduce .[] as $w ({}; reduce ($w | keys[]) as $k (.;
	    .[$k] += $w[$k]))' "$1"
}
rf_expect "counter" "$(counters "$RF_TMP/file.stats")" \
    "$(counters "$RF_STATS")"
records()
{
	jq -c -S 'del(.worker)' "$1" | sort
}
records "$RF_TMP/live.json" >"$RF_TMP/live.rec"
records "$RF_TMP/file.json" >"$RF_TMP/file.rec"
n=$(wc -l <"$RF_TMP/live.rec")
echo "$n records"
[ "$n" -gt 0 ] || rf_fail "no flow record live"
diff "$RF_TMP/live.rec" "$RF_TMP/file.rec" >&2 ||
    rf_fail "flow records differ"
echo PASS

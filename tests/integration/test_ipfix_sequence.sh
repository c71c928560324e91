#!/bin/bash
# IPFIX sequence numbers across a worker's death, checked by nfcapd
# (Debian's nfdump), one collector for the whole test, which counts a
# sequence failure whenever an exporter's message does not carry the
# number of records it sent before.  Two workers export flow records over
# UDP; once every record went out, both are killed (SIGKILL), and their
# successors export the records of more traffic.  nfcapd gets every record
# of both lives, and counts no sequence failure: each successor numbers its
# records on from its predecessor's.  Then `ringfanctl restart` closes
# both and starts them again on fresh host memory: the new workers number
# on from what the step's counters say was sent or dropped, so nfcapd
# still counts no sequence failure.
set -eu
RF_NETNS=1	# the collector on a 127.0.0.1 of its own
. "$(dirname "$0")/lib.sh"

need_tools nfcapd nfdump
rf_need_ctl

. "$(dirname "$0")/free_port.sh"

# Every flow's record made, and sent (confirmed: no refusal after it).
all_sent()
{
	local want=$1

	rf_wait_until 30 "$want records made" \
	    rf_live_sum_is '.plugins.flowtable.records' "$want"
	# Over UDP a message counts as sent at the pump after it.
	rf_wait_until 30 "$want records sent" \
	    rf_live_sum_is '.plugins.flowtable.ipfix_records' "$want"
}

rf_link
nfcapd_start "$RF_TMP/nf"
rf_config 2 hash "" "plugin: flowtable
        config: { idle_timeout: 1s,
          ipfix: \"udp://127.0.0.1:$NFPORT\" }"
rf_start
# 400 frames of 64 flows, each flow one direction of its own.
flows=64
rf_send -n 400 -f "$flows"
all_sent "$flows"
rf_expect "ipfix_dropped before the kills" \
    "$(rf_live_sum '.plugins.flowtable.ipfix_dropped')" 0
for w in 0 1; do
	pid=$(rf_ctl_num workers ".workers[$w].pid")
	kill -KILL "$pid"
	rf_wait_until 10 "worker $w respawned" rf_ctl_test workers \
	    ".workers[$w].state == \"running\" and .workers[$w].pid != $pid"
done
rf_send -n 400 -f "$flows"
all_sent "$((2 * flows))"
out=$("$RINGFANCTL" -s "$RF_SOCK" restart test) ||
    rf_fail "ringfanctl restart test failed"
rf_expect "ringfanctl restart test" "$out" "restart: ok (test/0 test/1)"
rf_send -n 400 -f "$flows"
all_sent "$((3 * flows))"
rf_stop
rf_expect "ipfix_dropped" "$(rf_sum '.plugins.flowtable.ipfix_dropped')" 0
rf_expect "ipfix_records" "$(rf_sum '.plugins.flowtable.ipfix_records')" \
    "$((3 * flows))"
nfcapd_stop

# nfcapd starts a new file at each hour (-t 3600): a run across one has
# two, whose counts add up.
mapfile -t files < <(find "$RF_TMP/nf" -name 'nfcapd.*' ! -name '*.current*')
[ "${#files[@]}" -ge 1 ] || rf_fail "nfcapd wrote no file"
: >"$RF_TMP/nfstat"
for f in "${files[@]}"; do
	nfdump -I -r "$f" >>"$RF_TMP/nfstat" || rf_fail "nfdump -I failed on $f"
done
got=$(awk -F': *' '/^Flows:/ { n += $2 } END { print n + 0 }' \
    "$RF_TMP/nfstat")
rf_expect "flows nfcapd got" "$got" "$((3 * flows))"
got=$(awk -F': *' '/^Sequence failures:/ { n += $2 } END { print n + 0 }' \
    "$RF_TMP/nfstat")
rf_expect "nfcapd's sequence failures" "$got" 0

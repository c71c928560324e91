#!/bin/bash
# A worker started while the clock is ahead (NTP steps it back at boot,
# after ringfan started on an idle link) takes the real time for network
# time before its first frame; the kernel then stamps the frames an hour
# before it.  clockahead.c has every ringfan process read the clock an
# hour ahead.  The worker takes a frame stamped more than a second before
# network time for the clock stepped back, and network time goes back to
# that frame's time: flowtable's flows time out on the frames' clock.
# Before, network time stayed an hour ahead and every frame was a record
# of its own (its flow idle for an hour at the next tick).  Each of the 20
# flows that rfsend sends is one record of its frames, as tshark counts
# them in the same frames written to a file.
set -eu
. "$(dirname "$0")/lib.sh"
rf_need_ctl
need_tools tshark

rf_link
rf_config 1 hash "udp port 9" "plugin: ticker
        config: { period_ns: 100000000 }" "plugin: flowtable
        config: { idle_timeout: 30s, output: \"$RF_TMP/flows.json\" }"
rf_start_ahead 3600 1
# Ticks an hour ahead: the worker has taken the time, before any frame.
# 15 ticks of 100 ms: flowtable, armed at the first, has had its first
# tick (stats_interval, 1 s) an hour ahead.
now=$(date +%s)
rf_wait_until 20 "ticks an hour ahead" rf_ctl_test stats \
    ".captures[0].workers[0] | .plugins.ticker.ticks >= 15 and
    .gauges.ticker.last_tick > ($now + 3000) * 1e9"

rf_send -t udp -n 200 -f 20 -r 100
rf_wait_until 10 "the frames" rf_ctl_test stats \
    '.captures[0].totals.packets == 200'
rf_stop
"$RFSEND" -w "$RF_TMP/sent.pcap" -t udp -n 200 -f 20 -q
want=$(tshark -r "$RF_TMP/sent.pcap" -T fields -e udp.srcport |
    sort -n | uniq -c | awk '{ printf "%s:%s,", $2, $1 }')
got=$(jq -r '"\(.sport):\(.fwd.packets + .rev.packets)"' \
    "$RF_TMP/flows.json" | sort -n | tr '\n' ',')
rf_expect "flows and their frames" "$got" "$want"
rf_expect "records" "$(wc -l <"$RF_TMP/flows.json")" 20
grep -q "test/0.*the clock went back 3[56][0-9][0-9]\.[0-9]* s: network time goes back with it" \
    "$RF_ERR" || rf_fail "no warning of the step: $(cat "$RF_ERR")"
# The latest tick went back to the frames' time.
rf_expect "ticks on the frames' clock" "$(rf_json \
    ".captures[0].workers[0].gauges.ticker.last_tick < ($now + 600) * 1e9")" \
    true
echo PASS

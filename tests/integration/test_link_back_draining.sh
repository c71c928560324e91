#!/bin/bash
# An interface deleted while its workers hold a backlog (slow: 1 ms a
# frame), and created again under the same name before they have drained
# it.  The frames sent to the new one meanwhile reach rings at once, in
# sockets of a fanout group the kernel makes (the old sockets hold the
# configured one until they close): once the old workers are gone, new
# ones start on them and count every frame, none dropped, none missed.
# Then the same while a capture reload comes, and while a stop comes: the
# frames waiting in the new rings, which no worker will take, are counted
# as dropped, and the totals add up.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

BACK="capture test: interface $RF_CAP is back while the old workers still drain"

# A backlog of B frames takes the two slow workers 1.5 s.
B=3000

# gone_and_back ROUND: B frames into the slow pipeline, the interface
# deleted at once and made again; returns once the new sockets are built,
# the old workers still draining.
gone_and_back()
{
	rf_send -t udp -n "$B" -f 64 -r 50000 -s 64
	ip link del "$RF_CAP"
	rf_veth || rf_fail "cannot create the veth pair again"
	rf_wait_until 5 "round $1: the new sockets built" \
	    eval "[ \"\$(grep -c \"$BACK\" \"$RF_ERR\")\" = $1 ]"
	# The old workers' state: running until told to drain, then
	# degraded; the link's is no longer waiting.
	rf_ctl_test status '.captures[0].state != "waiting"' ||
	    rf_fail "round $1: state waiting while the old workers drain"
	[ "$(rf_ctl_num stats '.captures[0].totals.packets')" -lt \
	    "$((total + B))" ] ||
	    rf_fail "round $1: the backlog was drained before the interface" \
	    "was back; nothing tested"
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: slow, config: { delay: 1ms } }"
rf_start
total=0

gone_and_back 1
rf_send -t udp -n 1000 -f 64 -r 50000 -s 64
total=$((B + 1000))
rf_wait_until 15 "all $total frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $total"
rf_expect "workers running" "$(rf_ctl_json status '.captures[0].running')" 2
rf_expect "kernel_packets" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_packets')" "$total"
rf_expect "kernel_drops" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_drops')" 0
rf_expect "counter" "$(rf_live_sum .plugins.counter.udp)" "$total"
group=$(rf_ctl_num status '.captures[0].fanout.group')
[ "$group" != "$RF_GROUP" ] ||
    rf_fail "the fanout group is still the old sockets' $RF_GROUP"
grep -q "capture test: the old workers have drained: 2 start on interface $RF_CAP, fanout group $group" \
    "$RF_ERR" || rf_fail "the start on the new sockets is not logged"

# A capture reload while the old workers drain, to the fanout group id the
# waiting sockets have: its new generation does not join them but takes
# an id of its own, and the frames from its cut-over on; those the new
# rings took before are dropped, counted, at the cut-over.
gone_and_back 2
rf_send -t udp -n 500 -f 64 -r 50000 -s 64
waiting=$(grep "$BACK" "$RF_ERR" | tail -n 1 | sed 's/.*fanout group \([0-9]*\),.*/\1/')
sed -i "s/group: $RF_GROUP/group: $waiting/" "$RF_CONF"
rf_ctl reload >"$RF_TMP/reload.out" 2>&1 ||
    rf_fail "capture reload: $(cat "$RF_TMP/reload.out")"
built=$(grep "capture test: 2 workers on $RF_CAP, fanout hash group" "$RF_ERR" |
    tail -n 1 | sed 's/.* group //')
[ -n "$waiting" ] && [ "$built" != "$waiting" ] ||
    rf_fail "the reload's sockets joined group $built, the waiting sockets'"
rf_send -t udp -n 300 -f 64 -r 50000 -s 64
total=$((total + B + 300))
rf_wait_until 15 "$total frames counted after the reload" rf_ctl_test stats \
    ".captures[0].totals.packets == $total"
rf_expect "kernel_drops after the reload" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_drops')" 500
rf_expect "kernel_packets after the reload" \
    "$(rf_ctl_num stats '.captures[0].totals.kernel_packets')" \
    $((total + 500))

# The stop comes while the old workers drain: the new rings' frames are
# dropped, counted.
gone_and_back 3
rf_send -t udp -n 400 -f 64 -r 50000 -s 64
total=$((total + B))
rf_stop
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((total + 900))
rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" "$total"
rf_expect "kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 900
rf_expect "quarantined" "$(rf_num '.captures[0].totals.quarantined')" 0
dropped=$(grep -o "[0-9]* frames in the ring of a socket no worker started on" \
    "$RF_ERR" | awk '{ s += $1 } END { print s + 0 }')
rf_expect "frames dropped from the new rings, as logged" "$dropped" 900

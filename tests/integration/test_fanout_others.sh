#!/bin/bash
# Another program that joins a capture's fanout group while ringfan runs
# (capture_lock() refuses one there before): the kernel gives it a share of
# the frames, which ringfan's workers never see.  The master says so: one
# warning naming the socket's inode, which `ss -0 -e -p` (the oracle) shows
# held by that program, and `others` in the capture's fanout object of
# stats and status and in ringfan_fanout_other_sockets, 1 while it is in
# the group, 0 once it left (and a line that says so).  Every frame sent
# while it was there is either ringfan's or the other program's.  A capture
# reload, whose new sockets and old ones (kept for seconds by stopped
# workers) are the master's, counts none and adds no warning.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 ss

K=2000

others()
{
	rf_ctl_num "$1" '.captures[0].fanout.others'
}

metric()
{
	rf_ctl metrics | awk '$1 == "ringfan_fanout_other_sockets{capture=\"test\"}" {
	    print $2 }'
}

# others_are N: stats, status and metrics all say N.
others_are()
{
	[ "$(others stats) $(others status) $(metric)" = "$1 $1 $1" ]
}

# The live count of frames handed to the pipeline, once it stands still.
settled_packets()
{
	local a b

	a=$(rf_live_sum .packets)
	while sleep 0.5; b=$(rf_live_sum .packets); [ "$a" != "$b" ]; do
		a=$b
	done
	echo "$b"
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i 's/^captures:/stats_interval: 200ms\n&/' "$RF_CONF"
rf_start
rf_expect "others before" "$(others stats) $(others status) $(metric)" "0 0 0"

# A capture reload builds new sockets beside the old ones, in another
# group: the master's.  The old workers, stopped with frames in their
# rings, keep the old generation beside the new one through several looks
# (until the stall watch kills them and drainers hand the frames over).
pids=$(rf_ctl_json stats '.captures[0].workers[].pid')
kill -STOP $pids
rf_send -t udp -n 200 -f 100 -s 64 -r 20000
rf_set_ring 64KiB 16 10ms
rf_reload_bg --json
rf_wait_until 5 "two generations" grep -q "new workers running" "$RF_ERR"
sleep 3
rf_reload_end "capture reload" 0
rf_expect "the reload" "$(jq -r .result "$RF_TMP/reload.out")" captures
rf_expect "others after a capture reload" "$(others stats)" 0
rf_expect "warnings after a capture reload" \
    "$(grep -c "of another program in the group" "$RF_ERR" || true)" 0

# The group the reload's sockets took (the configured one was the old
# sockets' then).
group=$(rf_ctl_num stats '.captures[0].fanout.group')
rf_fanout_other "$RF_CAP" "$group" 0x8000 "$RF_TMP/other"
warn="capture test: interface $RF_CAP, fanout group $group: 1 packet socket"
warn="$warn of another program in the group (socket inode INO: \`ss -0 -e"
warn="$warn -p\` names its process): the kernel gives it a share of the"
warn="$warn capture's frames, which ringfan does not see"
rf_wait_until 10 "the warning" grep -q "warn: capture test: .* another program" \
    "$RF_ERR"
ino=$(grep -o "(socket inode [0-9]*:" "$RF_ERR" | tr -dc 0-9)
grep -qF "warn: ${warn/INO/$ino}" "$RF_ERR" ||
    rf_fail "the warning: $(grep "another program" "$RF_ERR")"
ss -0 -e -p -a | grep -q "pid=$RF_OTHER,.* ino:$ino " ||
    rf_fail "ss does not show socket $ino held by pid $RF_OTHER:" \
    "$(ss -0 -e -p -a)"
rf_wait_until 5 "others 1 in stats, status and metrics" others_are 1
before=$(settled_packets)
rf_send -t udp -n "$K" -f 1000 -s 64 -r 20000
mine=$(($(settled_packets) - before))
rf_fanout_other_end
theirs=$(awk '/^frames/ { print $2 }' "$RF_TMP/other")
echo "ringfan $mine, the other program $theirs"
rf_expect "frames shared between ringfan and the other program" \
    $((mine + theirs)) "$K"
[ "$theirs" -gt 0 ] || rf_fail "the other program saw no frame"
gone="capture test: fanout group $group: no other program's socket in the"
gone="$gone group any more"
rf_wait_until 10 "the line that it left" grep -qF "info: $gone" "$RF_ERR"
rf_expect "others after it left" "$(others stats) $(others status) $(metric)" \
    "0 0 0"
rf_stop
rf_expect "warnings about other programs" \
    "$(grep -c "of another program in the group" "$RF_ERR")" 1
echo "PASS"

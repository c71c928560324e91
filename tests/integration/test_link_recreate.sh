#!/bin/bash
# An interface deleted and created again under the same name, twice, then
# renamed away and back: the capture goes `waiting` (its workers drained
# and stopped, their counts kept, logged once, the rename with the new
# name), the master stays idle meanwhile, and when the interface is back
# the capture gets new sockets in the same fanout group and new workers
# (logged once), which count the frames sent after.  No
# worker crashes, nothing respawns in a loop, and after a graceful stop
# every frame the kernel took, on the old sockets and the new, is counted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# utime + stime of process $1, in clock ticks.
cpu_ticks()
{
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

HZ=$(getconf CLK_TCK)

# The ns the threads of process $1 spent running or waiting for a CPU
# (schedstat): a loop that never sleeps adds the whole interval whatever
# the load, unlike its CPU time; a process that sleeps next to nothing.
runnable_ns()
{
	awk '{ s += $1 + $2 } END { printf "%d\n", s }' /proc/"$1"/task/*/schedstat
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start

rf_send -t udp -n 2000 -f 64 -r 5000 -s 64
rf_wait_until 10 "the first 2000 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 2000'
total=2000

for round in 1 2; do
	ip link del "$RF_CAP"
	rf_wait_until 10 "round $round: state waiting, workers stopped" \
	    rf_ctl_test stats '.captures[0].state == "waiting" and
	    ([.captures[0].workers[] | select(.state == "stopped")] |
	      length) == 2'
	rf_expect "round $round: status state" \
	    "$(rf_ctl_json status '.captures[0].state')" waiting
	rf_ctl metrics | grep -qx \
	    'ringfan_capture_state{capture="test",state="waiting"} 1' ||
	    rf_fail "metrics do not show the capture waiting"
	# The stopped workers' counts are kept, and they add up.
	rf_expect "round $round: packets while waiting" \
	    "$(rf_ctl_num stats '.captures[0].totals.packets')" "$total"
	rf_expect "round $round: kernel_packets while waiting" \
	    "$(rf_ctl_num stats '.captures[0].totals.kernel_packets')" "$total"
	# An idle master, waiting for an interface, wakes seldom.
	# CPU time catches a loop that spins part of the time on a quiet
	# machine, time running or runnable one that a loaded machine gives
	# little CPU (a spin for the 2 s comes to 2000 ms).
	before=$(cpu_ticks "$RF_PID") rbefore=$(runnable_ns "$RF_PID")
	sleep 2
	after=$(cpu_ticks "$RF_PID") rafter=$(runnable_ns "$RF_PID")
	spent=$(awk -v t=$((after - before)) -v hz="$HZ" \
	    'BEGIN { print t / hz }')
	runnable=$(((rafter - rbefore) / 1000000))
	echo "round $round: master while the interface is gone: CPU $spent s," \
	    "running or runnable $runnable ms"
	awk -v s="$spent" 'BEGIN { exit !(s < 0.2) }' ||
	    rf_fail "the master used $spent s of CPU in 2 s of waiting"
	[ "$runnable" -lt 500 ] ||
	    rf_fail "the master was running or runnable $runnable ms" \
	    "of 2 s of waiting"
	rf_expect "round $round: still waiting" \
	    "$(rf_ctl_json status '.captures[0].state')" waiting
	# A reload of the same file while the interface is gone is no error.
	rf_ctl reload >"$RF_TMP/reload.out" 2>&1 ||
	    rf_fail "reload while the interface is gone: $(cat "$RF_TMP/reload.out")"
	rf_expect "round $round: state after a reload" \
	    "$(rf_ctl_json status '.captures[0].state')" waiting

	rf_veth || rf_fail "cannot create the veth pair again"
	rf_wait_until 10 "round $round: state running, 2 workers" \
	    rf_ctl_test status '.captures[0].state == "running" and
	    .captures[0].running == 2'
	rf_expect "round $round: fanout group" \
	    "$(rf_ctl_num status '.captures[0].fanout.group')" "$RF_GROUP"
	rf_send -t udp -n 3000 -f 64 -r 5000 -s 64
	total=$((total + 3000))
	rf_wait_until 10 "round $round: $total frames counted" rf_ctl_test \
	    stats ".captures[0].totals.packets == $total"
done

# Renamed away (a rename needs the link down), then back and up.
ip link set "$RF_CAP" down
ip link set "$RF_CAP" name "${RF_CAP}r"
rf_wait_until 10 "renamed: state waiting, no worker running" \
    rf_ctl_test status '.captures[0].state == "waiting" and
    .captures[0].running == 0'
rf_expect "renamed: logged" \
    "$(grep -c "capture test: interface $RF_CAP is gone (its device is named ${RF_CAP}r now); waiting for it" \
    "$RF_ERR")" 1
ip link set "${RF_CAP}r" name "$RF_CAP"
ip link set "$RF_CAP" up
rf_wait_until 10 "renamed back: state running, 2 workers" \
    rf_ctl_test status '.captures[0].state == "running" and
    .captures[0].running == 2'
rf_send -t udp -n 3000 -f 64 -r 5000 -s 64
total=$((total + 3000))
rf_wait_until 10 "renamed back: $total frames counted" rf_ctl_test \
    stats ".captures[0].totals.packets == $total"

rf_expect "gone logged once a round" \
    "$(grep -c "capture test: interface $RF_CAP is gone; waiting for it" \
    "$RF_ERR")" 2
rf_expect "back logged once a round" \
    "$(grep -c "capture test: interface $RF_CAP is back" "$RF_ERR")" 3
rf_stop

rf_expect "final state" "$(rf_json '.captures[0].state')" running
rf_expect_all "$total"
for w in 0 1; do
	rf_expect "worker $w restarts" \
	    "$(rf_num ".captures[0].workers[$w].restarts")" 0
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	p=$(rf_num ".captures[0].workers[$w].packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	rf_expect "worker $w kernel_packets == packets + kernel_drops" \
	    "$kp" $((p + kd))
done
if grep -q "respawning\|crashed\|setup failed" "$RF_ERR"; then
	rf_fail "a worker crashed or was respawned: $(grep \
	    "respawning\|crashed\|setup failed" "$RF_ERR" | head -3)"
fi

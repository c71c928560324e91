#!/bin/bash
# A link that goes down for 2 s under paced traffic and comes back: the
# capture shows `down`, then `running` again, keeps its workers and
# sockets (no restart), counts again once the link is up, and after a
# graceful stop every frame the kernel took is accounted for, per worker
# and in total.  While the link is down the workers sleep: a pending
# ENETDOWN on their sockets must not make them spin.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# utime + stime of process $1, in clock ticks.
cpu_ticks()
{
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# The summed CPU ticks of the worker pids in $PIDS.
workers_ticks()
{
	local p sum=0

	for p in $PIDS; do
		sum=$((sum + $(cpu_ticks "$p")))
	done
	echo "$sum"
}

HZ=$(getconf CLK_TCK)

# The ns the threads of the worker pids in $PIDS spent running or waiting
# for a CPU, summed (schedstat): a worker that spins adds the whole
# interval whatever the load, unlike its CPU time; one that sleeps adds
# next to nothing.
workers_runnable()
{
	local p

	for p in $PIDS; do
		cat /proc/"$p"/task/*/schedstat
	done | awk '{ s += $1 + $2 } END { printf "%d\n", s }'
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_expect "state at start" "$(rf_ctl_json stats '.captures[0].state')" \
    running
PIDS=$(rf_ctl_json workers '.workers[].pid' | tr '\n' ' ')

# Paced traffic through the whole flap: 1000 frames/s for 8 s.
rf_send_bg -t udp -n 8000 -f 64 -r 1000 -s 64
rf_wait_until 10 "frames counted before the flap" rf_ctl_test stats \
    '.captures[0].totals.packets > 500'

ip link set "$RF_CAP" down
rf_wait_until 5 "state down" rf_ctl_test status \
    '.captures[0].state == "down"'
rf_expect "stats state while down" \
    "$(rf_ctl_json stats '.captures[0].state')" down
rf_ctl metrics | grep -qx \
    'ringfan_capture_state{capture="test",state="down"} 1' ||
    rf_fail "metrics do not show the capture down"
rf_ctl top -n 1 | grep -q "^capture test on $RF_CAP .*: down\$" ||
    rf_fail "top does not show the capture down"
# CPU time catches a loop that spins part of the time on a quiet machine,
# time running or runnable one that a loaded machine gives little CPU (a
# worker spinning for the 2 s comes to 2000 ms, one asleep to a few).
before=$(workers_ticks) rbefore=$(workers_runnable)
sleep 2
after=$(workers_ticks) rafter=$(workers_runnable)
spent=$(awk -v t=$((after - before)) -v hz="$HZ" 'BEGIN { print t / hz }')
runnable=$(((rafter - rbefore) / 1000000))
echo "workers while down: CPU $spent s, running or runnable $runnable ms"
awk -v s="$spent" 'BEGIN { exit !(s < 0.2) }' ||
    rf_fail "the workers used $spent s of CPU in 2 s with the link down"
[ "$runnable" -lt 500 ] ||
    rf_fail "the workers were running or runnable $runnable ms of 2 s" \
    "with the link down"
down_packets=$(rf_ctl_num stats '.captures[0].totals.packets')

ip link set "$RF_CAP" up
rf_wait_until 10 "state running again" rf_ctl_test status \
    '.captures[0].state == "running"'
rf_wait_until 10 "counting resumed" rf_ctl_test stats \
    ".captures[0].totals.packets > $down_packets + 200"
rf_send_wait
rf_expect "same worker pids" \
    "$(rf_ctl_json workers '.workers[].pid' | tr '\n' ' ')" "$PIDS"
grep -q "capture test: interface $RF_CAP is down" "$RF_ERR" ||
    rf_fail "no log line for the link going down"
grep -q "capture test: interface $RF_CAP is up again" "$RF_ERR" ||
    rf_fail "no log line for the link coming back"
rf_stop

rf_expect "final state" "$(rf_json '.captures[0].state')" running
for w in 0 1; do
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	p=$(rf_num ".captures[0].workers[$w].packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	rf_expect "worker $w kernel_packets == packets + kernel_drops" \
	    "$kp" $((p + kd))
	rf_expect "worker $w restarts" \
	    "$(rf_num ".captures[0].workers[$w].restarts")" 0
	rf_expect "worker $w quarantined" \
	    "$(rf_num ".captures[0].workers[$w].quarantined")" 0
done
kp=$(rf_num '.captures[0].totals.kernel_packets')
p=$(rf_num '.captures[0].totals.packets')
kd=$(rf_num '.captures[0].totals.kernel_drops')
rf_expect "kernel_packets == packets + kernel_drops" "$kp" $((p + kd))
[ "$p" -gt "$down_packets" ] ||
    rf_fail "no frame counted after the link came back"
echo "ok: $p frames counted, $down_packets before the link came back"

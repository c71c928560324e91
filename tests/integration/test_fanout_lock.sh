#!/bin/bash
# Two ringfan instances on the same interface and fanout group would
# silently split the traffic (the kernel lets any socket join a group of the
# same mode).  The second is refused at start, naming the interface, the
# group and the process that holds them; the first loses nothing.  The
# kernel knows groups per network namespace: a third instance with the
# same group, on an interface of the same name in the link's other
# namespace (a veth pair made there), starts.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

THIRD=
trap 'rc=$?; set +e; [ -z "$THIRD" ] || rf_kill_group "$THIRD"; (exit $rc); rf_cleanup' EXIT

K=4000
LOCK=$(rf_lock_of "$RF_GROUP")
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_expect "lock file holds the master's pid" "$(cat "$LOCK")" "$RF_PID"
# The master alone holds the lock: a worker runs plugin code.
pids=$(rf_ctl_json workers '[.workers[].pid] | join(" ")')
[ "$(wc -w <<<"$pids")" -eq "$RF_WORKERS" ] ||
    rf_fail "the workers' pids: \"$pids\""
for pid in $pids; do
	n=$(find "/proc/$pid/fd" -lname "$LOCK" 2>/dev/null | wc -l)
	rf_expect "worker $pid: descriptors of the lock file" "$n" 0
done

rf_second_refused "$RF_GROUP"

ip netns exec "$RF_NS" ip link add "$RF_CAP" type veth peer name "${RF_CAP}p"
ip netns exec "$RF_NS" ip link set "$RF_CAP" up
sed -e "s|$RF_TMP/control.sock|$RF_TMP/third.sock|" \
    -e "s|$RF_TMP/ringfan.pid|$RF_TMP/third.pid|" "$RF_CONF" \
    >"$RF_TMP/third.yaml"
setsid ip netns exec "$RF_NS" "$RINGFAN" -c "$RF_TMP/third.yaml" \
    >"$RF_TMP/third.out" 2>"$RF_TMP/third.err" &
THIRD=$!
rf_wait_until 10 "the third instance (namespace $RF_NS) ready" \
    grep -q "ready: 2 workers" "$RF_TMP/third.err"
rf_kill_group "$THIRD"
THIRD=
echo "ok: the same group in another network namespace started"

rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_stop
rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
[ ! -e "$LOCK" ] || rf_fail "the lock file is left after a stop"
echo "ok: lock file removed at the stop"

# A master killed with -9 takes its workers along (they die with it), and
# with them the claim: a new instance starts.
rf_start
pid=$RF_PID
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
RF_PID=
rf_wait_until 5 "the old workers gone" \
    eval '! pgrep -f "ringfan: worker [0-9] test $RF_CAP" >/dev/null'
rf_start
rf_expect "lock file holds the new master's pid" "$(cat "$LOCK")" "$RF_PID"
rf_stop
echo "PASS"

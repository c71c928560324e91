#!/bin/bash
# A cpu_affinity CPU that is online but outside the cpuset of ringfan's
# cgroup passes the config check, which knows only the online CPUs, and
# fails the worker's sched_setaffinity with EINVAL.  The error names that
# cause: a start exits 2 with it, and a reload fails with it and leaves the
# running workers where they were (taskset -p reads their masks).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=2000
CAUSE="sched_setaffinity(CPU 0): Invalid argument (CPU 0 is online but"
CAUSE="$CAUSE outside the cpuset of ringfan's cgroup)"

if ! taskset -c 0 true 2>/dev/null || ! taskset -c 1 true 2>/dev/null; then
	rf_skip "cannot run on both CPU 0 and CPU 1"
fi
rf_need_ctl

# A cpuset cgroup of the test's own allowing CPU 1 alone, in RF_CG, which
# the cleanup removes.
if [ -w /sys/fs/cgroup/cpuset ]; then
	RF_CG=/sys/fs/cgroup/cpuset/rf$RF_ID
	mkdir "$RF_CG" 2>/dev/null ||
	    { RF_CG=; rf_skip "cannot make a cpuset cgroup"; }
	cat /sys/fs/cgroup/cpuset/cpuset.mems >"$RF_CG/cpuset.mems"
elif grep -qw cpuset /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	RF_CG=/sys/fs/cgroup/rf$RF_ID
	mkdir "$RF_CG" 2>/dev/null ||
	    { RF_CG=; rf_skip "cannot make a cpuset cgroup"; }
else
	rf_skip "no cpuset cgroup controller"
fi
echo 1 >"$RF_CG/cpuset.cpus" || rf_skip "cannot give a cpuset CPU 1 alone"

# ringfan, started in that cgroup.
IN_CG=$RF_TMP/in-cpuset
printf '#!/bin/sh\necho $$ >"%s/cgroup.procs" && exec "%s" "$@"\n' \
    "$RF_CG" "$RINGFAN" >"$IN_CG"
chmod +x "$IN_CG"

set_affinity()
{
	sed -i "s/^    cpu_affinity:.*/    cpu_affinity: $1/" "$RF_CONF"
}

# The affinity masks of the running workers, in taskset's words.
masks()
{
	local pid

	for pid in $(rf_ctl_json workers '.workers[].pid'); do
		taskset -p "$pid" | sed 's/.*: //'
	done | sort | tr '\n' ' '
}

rf_link
rf_config 2 cpu "udp port 9" "plugin: counter"

# A start: worker 1, on CPU 0, cannot be placed.
set_affinity "[1, 0]"
"$IN_CG" -c "$RF_CONF" -t >/dev/null 2>&1 ||
    rf_fail "ringfan -t refused the file"
rc=0
timeout --foreground 20 setsid "$IN_CG" -c "$RF_CONF" >"$RF_TMP/start.out" \
    2>"$RF_ERR" || rc=$?
rf_expect "start: exit status" "$rc" 2
grep -Fxq "ringfan[master] error: worker test/1: setup failed: $CAUSE" \
    "$RF_ERR" || rf_fail "start: no error naming the cpuset"

# A reload: the running workers, on CPU 1, stay.
set_affinity "[1]"
RINGFAN=$IN_CG rf_start
rf_expect "workers' CPUs" \
    "$(rf_ctl_json workers '[.workers[].cpu] | join(",")')" "1,1"
rf_expect "workers' masks" "$(masks)" "2 2 "
pids=$(rf_pids)
set_affinity "[0, 1]"
rf_reload_fails "CPU 0" \
    "reload: new worker test/0 did not start: setup failed: $CAUSE" counter
rf_expect "workers after the reload" \
    "$(rf_pids)" "$pids"
rf_expect "workers' masks after the reload" "$(masks)" "2 2 "
rf_send -t udp -n "$K" -f 64 -r 20000 -c 1
rf_stop
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "worker 1 packets" "$(rf_num '.captures[0].workers[1].packets')" "$K"
echo "PASS"

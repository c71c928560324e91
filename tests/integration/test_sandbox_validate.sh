#!/bin/bash
# What plugin code may reach (docs/architecture.md, "Sandbox").
#
# In a worker: each call the filter refuses fails with EPERM (clone3 with
# ENOSYS) and the worker lives on.  sbprobe tries them all in its open, with
# arguments that fail otherwise with another errno or succeed harmlessly,
# and keeps each errno in a counter.  Workers run as root (no `user:`),
# where nothing but the filter refuses them.  Its constructor ran under the
# filter.  In the sanitizer build ptrace is allowed (LeakSanitizer's
# tracer): ESRCH there.
#
# In the process that validates a reload's pipeline: the filter holds from
# the constructors on, and no worker's host memory is mapped there (a worker
# has only its own), nor the workers' counters writable (a worker can write
# only its own): sbprobe's check fails on any region it can reach, while
# hostmem's workers hold theirs.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

EPERM=1
ESRCH=3
ENOSYS=38

rf_link
rf_config 2 hash "udp port 9" "plugin: hostmem" "plugin: sbprobe"
rf_start
rf_expect "workers running" \
    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" 2

# A pipeline reload: sbprobe's check runs in a validating process while
# hostmem's regions are mapped in the master.
rf_config 2 hash "udp port 9" "plugin: hostmem" \
    "{ plugin: sbprobe, config: { generation: 2 } }"
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>&1 || rc=$?
rf_expect "reload exit status ($(cat "$RF_TMP/reload.out"))" "$rc" 0
rf_wait_until 10 "both workers running after the reload" rf_ctl_test workers \
    '[.workers[] | select(.state == "running")] | length == 2'
rf_send -t udp -n 10 -f 1 -s 64
rf_stop
rf_expect "hostmem.frames" "$(rf_sum .plugins.hostmem.frames)" 10
rf_expect "restarts" "$(rf_sum .restarts)" 0
for w in 0 1; do
	rf_expect "worker $w: sbprobe.ctor_seccomp" \
	    "$(rf_num ".captures[0].workers[$w].plugins.sbprobe.ctor_seccomp")" 2
done
# Every try is counted: none was left out for want of a counter slot.
n=$(rf_num '.captures[0].workers[0].plugins.sbprobe.tries')
rf_expect "sbprobe tries kept" \
    "$(rf_num '[.captures[0].workers[0].plugins.sbprobe | keys[] |
    select(startswith("e_"))] | length')" "$n"
ptrace=$EPERM
ldd "$RINGFAN" | grep -q libasan && ptrace=$ESRCH
bad=$(rf_json ".captures[0].workers[].plugins.sbprobe | to_entries[] |
    select(.key | startswith(\"e_\")) |
    select(.value != (if .key == \"e_clone3\" then $ENOSYS
    elif .key == \"e_ptrace\" then $ptrace else $EPERM end)) |
    \"\(.key)=\(.value)\"")
[ -z "$bad" ] || rf_fail "calls not refused as documented:" $bad
echo "ok: $n calls refused as documented"
echo "PASS"

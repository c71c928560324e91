#!/bin/bash
# A captures reload whose new workers cannot start: the reload's answer
# names the worker and the cause, as the log does, and the running
# captures keep every count they had and count on.
#  1. The new worker 1 dies in a plugin's open: the answer says how it
#     died and where (in plugin ctxprobe's open).
#  2. The rings grow beyond what the workers may map (the master's
#     address-space limit, which they inherit): their mmap fails, and the
#     answer gives the setup's error.
#  3. The new worker 1 is still in a plugin's open 10 s after the build:
#     the answer names it and where it is.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools prlimit

rf_link

# start: 300 frames counted by 2 workers.
start()
{
	rf_config 2 hash "" "plugin: counter"
	sed -i 's/block_count: 32/block_count: 4/' "$RF_CONF"
	rf_start
	rf_send -t udp -n 300 -f 16 -s 80
	rf_wait_until 5 "the 300 frames counted" rf_ctl_test stats \
	    '.captures[0].totals.packets == 300'
}

# refused: the reload refused (exit status 1), its answer in $answer.
refused()
{
	local rc=0

	"$RINGFANCTL" -s "$RF_TMP/control.sock" reload >"$RF_TMP/reload.out" \
	    2>&1 || rc=$?
	rf_expect "ringfanctl reload: exit status" "$rc" 1
	answer=$(cat "$RF_TMP/reload.out")
}

# kept: the counts and both workers kept; 200 frames more, 500 in all.
kept()
{
	rf_ctl_test stats '.captures[0].totals.packets == 300 and
	    ([.captures[0].workers[] | select(.state == "running")] |
	    length) == 2' || rf_fail "the counts or the workers were not kept"
	echo "ok: counts and workers kept"
	rf_send -t udp -n 200 -f 16 -s 80
	rf_stop
	rf_expect_all 500
}

# 1. Another ring rebuilds the captures; the new worker 1 dies in
# ctxprobe's open (the check's trial open, as worker 0, passes).
start
sed -i 's/block_count: 4/block_count: 16/' "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open: crash, open_worker: 1 } }" \
    >>"$RF_CONF"
refused
rf_expect "the answer to a crash" "$answer" \
    "ringfanctl: reload: new worker test/1 did not start: killed by signal 11 (Segmentation fault) in plugin ctxprobe's open"
kept

# 2. Room for the master's own work (a reload's plugin check in a
# child), not for 256 MiB of ring.
start
vm=$(awk '/^VmSize:/ { print $2 }' "/proc/$RF_PID/status")
prlimit --pid "$RF_PID" --as=$(((vm + 65536) * 1024))
sed -i 's/block_count: 4/block_count: 256/; s/block_size: 64KiB/block_size: 1MiB/' \
    "$RF_CONF"
refused
cause="did not start: setup failed: mmap(ring of 256 x 1048576 bytes): Cannot allocate memory"
grep -Eq "^ringfanctl: reload: new worker test/[01] $(sed 's/[()]/\\&/g' <<<"$cause")\$" \
    <<<"$answer" || rf_fail "the answer to no memory: $answer"
echo "ok: the answer names the cause"
rf_expect "the abort logged with the cause" \
    "$(grep -Ec "reload: new worker test/[01] did not start: setup failed: mmap.*Cannot allocate memory; keeping the previous captures" "$RF_ERR")" 1
kept

# 3. Worker 1's open takes 11 s, past the 10 s the new workers have.
start
sed -i 's/block_count: 4/block_count: 16/' "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open_delay: 11s, open_worker: 1 } }" \
    >>"$RF_CONF"
refused
rf_expect "the answer to a late start" "$answer" \
    "ringfanctl: reload: new workers did not start in 10 s: worker test/1 still starting, in plugin ctxprobe's open"
kept
echo "PASS"

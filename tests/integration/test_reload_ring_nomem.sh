#!/bin/bash
# A reload that grows the rings beyond what the workers may map (the
# master's address-space limit, which they inherit): the new workers'
# mmap fails, the reload's answer names the worker and the cause, as the
# log does, and the running captures keep every count they had and count
# on.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
command -v prlimit >/dev/null 2>&1 || rf_skip "no prlimit (util-linux)"

rf_link
rf_config 2 hash "" "plugin: counter"
sed -i 's/block_count: 32/block_count: 4/' "$RF_CONF"
rf_start
rf_send -t udp -n 300 -f 16 -s 80
rf_wait_until 5 "the 300 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 300'

# Room for the master's own work (a reload's plugin check in a child),
# not for 256 MiB of ring.
vm=$(awk '/^VmSize:/ { print $2 }' "/proc/$RF_PID/status")
prlimit --pid "$RF_PID" --as=$(((vm + 65536) * 1024))
sed -i 's/block_count: 4/block_count: 256/; s/block_size: 64KiB/block_size: 1MiB/' \
    "$RF_CONF"
rc=0
"$RINGFANCTL" -s "$RF_TMP/control.sock" reload >"$RF_TMP/reload.out" \
    2>&1 || rc=$?
rf_expect "ringfanctl reload: exit status" "$rc" 1
cause="did not start: setup failed: mmap(ring of 256 x 1048576 bytes): Cannot allocate memory"
grep -Eq "^ringfanctl: reload: new worker test/[01] $(sed 's/[()]/\\&/g' <<<"$cause")\$" \
    "$RF_TMP/reload.out" ||
    rf_fail "reload's answer: $(cat "$RF_TMP/reload.out")"
echo "ok: the answer names the cause"
rf_expect "the abort logged with the cause" \
    "$(grep -Ec "reload: new worker test/[01] did not start: setup failed: mmap.*Cannot allocate memory; keeping the previous captures" "$RF_ERR")" 1

rf_ctl_test stats '.captures[0].totals.packets == 300 and
    ([.captures[0].workers[] | select(.state == "running")] | length) == 2' ||
    rf_fail "the counts or the workers were not kept"
echo "ok: counts and workers kept"
rf_send -t udp -n 200 -f 16 -s 80
rf_stop
rf_expect_all 500
echo "PASS"

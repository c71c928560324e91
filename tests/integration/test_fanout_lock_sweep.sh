#!/bin/bash
# Lock files of fanout groups that no master holds (one killed with
# SIGKILL leaves its own) are removed as a master starts, and said once;
# one that a process holds stays.  In a mount namespace of the test's own
# with a /run/ringfan of its own, so that the count is exact.
set -eu
RF_NETNS=1	# the mount namespace: /run/ringfan the test's alone
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

mkdir -p /run/ringfan
mount -t tmpfs -o mode=0755,size=1m tmpfs /run/ringfan ||
    rf_fail "cannot mount a tmpfs on /run/ringfan in the test's namespace"
STALE=$(rf_lock_of 1001)
HELD=$(rf_lock_of 1002)
echo 4242 >"$STALE"
python3 - "$HELD" "$RF_TMP/held" <<'PY' &
import fcntl, os, sys, time
f = open(sys.argv[1], 'w')
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], 'w').close()
while True:
    time.sleep(1)
PY
BG="$BG $!"
rf_wait_until 5 "the other holder's lock" test -e "$RF_TMP/held"

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
rf_expect "lines of removed lock files" \
    "$(grep -c "removed .* fanout lock file" "$RF_ERR")" 1
grep -qF "ringfan[master] info: removed 1 fanout lock file no ringfan held" "$RF_ERR" ||
    rf_fail "the line: $(grep "removed" "$RF_ERR")"
[ ! -e "$STALE" ] || rf_fail "$STALE is left"
[ -e "$HELD" ] || rf_fail "$HELD, held, was removed"
rf_expect "the master's own lock" "$(cat "$(rf_lock_of "$RF_GROUP")")" \
    "$RF_PID"

# A master killed with SIGKILL leaves its lock file: the next start
# removes it before it claims the group again.
workers=$(rf_pids)
kill -KILL "$RF_PID"
wait "$RF_PID" 2>/dev/null || true
RF_PID=
gone()
{
	local p

	for p in ${workers//,/ }; do
		! rf_alive "$p" || return 1
	done
}
rf_wait_until 5 "the killed master's workers gone" gone
rf_start
grep -qF "ringfan[master] info: removed 1 fanout lock file no ringfan held" "$RF_ERR" ||
    rf_fail "after SIGKILL: $(grep "removed" "$RF_ERR" || echo no line)"
[ -e "$HELD" ] || rf_fail "$HELD, held, was removed"
rf_stop
echo PASS

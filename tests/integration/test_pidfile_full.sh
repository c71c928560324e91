#!/bin/bash
# A pidfile on a full file system: the process id cannot be written, and
# ringfan, in the foreground and with -D, exits 2 naming the file and the
# cause instead of running on with no pidfile (nothing would keep a
# second instance out, nor tell a service manager the daemon's pid).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rf_link
rf_tmpfs 8k || rf_skip "cannot mount a tmpfs"
rf_config 2 hash "" "plugin: counter"
sed -i "s|pidfile: .*|pidfile: \"$RF_MNT/ringfan.pid\"|" "$RF_CONF"
# Every block taken; an inode is still free for the pidfile itself.
dd if=/dev/zero of="$RF_MNT/fill" bs=1k count=64 2>/dev/null || true

for args in "" "-D"; do
	rc=0
	# shellcheck disable=SC2086
	timeout --foreground 20 "$RINGFAN" -c "$RF_CONF" $args >"$RF_OUT" 2>"$RF_ERR" ||
	    rc=$?
	rf_expect "ringfan $args: exit status" "$rc" 2
	rf_expect "ringfan $args: the cause named" \
	    "$(grep -c "pidfile $RF_MNT/ringfan.pid: write: No space left on device" "$RF_ERR")" 1
	rf_expect "ringfan $args: ready" "$(grep -c "ready:" "$RF_ERR" || true)" 0
	[ ! -e "$RF_MNT/ringfan.pid" ] || rf_fail "a pidfile was left"
done
echo "PASS"

#!/bin/bash
# ringfan -D reports a failed setup as the foreground does: when the daemon
# cannot build its captures (an interface that does not exist) or take its
# control socket (another ringfan listens on it), `ringfan -D` exits 2 with
# the daemon's message on stderr, not 0 with a daemon that has already
# died, and it leaves no pidfile behind.  The running instance is untouched.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=3000
rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
SECOND=$RF_TMP/second.yaml

# daemon_fails WHAT ERROR: ringfan -D on $SECOND exits 2 with ERROR alone
# on stderr and nothing on stdout, and leaves no pidfile behind.
daemon_fails()
{
	local rc=0

	timeout 20 "$RINGFAN" -D -c "$SECOND" >"$RF_TMP/d.out" \
	    2>"$RF_TMP/d.err" || rc=$?
	rf_expect "-D $1: exit status" "$rc" 2
	rf_expect "-D $1: stderr" "$(cat "$RF_TMP/d.err")" "$2"
	rf_expect "-D $1: stdout" "$(cat "$RF_TMP/d.out")" ""
	[ ! -e "$RF_TMP/second.pid" ] ||
	    rf_fail "-D $1: the failed daemon left its pidfile"
}

# No such interface: a name of the test's own that no link has.
sed -e "s|$RF_TMP/ringfan.pid|$RF_TMP/second.pid|" \
    -e "s|$RF_TMP/control.sock|$RF_TMP/second.sock|" \
    -e "s|interface: $RF_CAP|interface: rfx$RF_ID|" "$RF_CONF" >"$SECOND"
daemon_fails "on a missing interface" \
    "ringfan: capture test: interface rfx$RF_ID: No such device"
[ ! -e "$RF_TMP/second.sock" ] ||
    rf_fail "the failed daemon left its control socket"

# The control socket of a running instance: another capture, another
# pidfile, the same socket.
rf_start
sed -e "s|$RF_TMP/ringfan.pid|$RF_TMP/second.pid|" \
    -e "s/group: $RF_GROUP/group: $((RF_GROUP + 1))/" \
    -e "s/name: test/name: second/" "$RF_CONF" >"$SECOND"
daemon_fails "on a socket in use" \
    "ringfan: control socket $RF_SOCK: another ringfan is listening on it"
rf_expect "the first instance's pid" "$(rf_ctl_num status .pid)" "$RF_PID"

rf_send -t udp -n "$K" -f 256 -r 3000 -s 64
rf_stop
rf_expect_all "$K"
echo "PASS"

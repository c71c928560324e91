#!/bin/bash
# ringfan -D reports a failed setup as the foreground does: when the daemon
# cannot build its captures (an interface that does not exist), take its
# control socket (another ringfan listens on it) or start a worker (a
# plugin's open refuses), `ringfan -D` exits 2 with the daemon's message on
# stderr, not 0 with a daemon that has already died, and it leaves no
# pidfile behind.  A plugin that asks to retry leaves a daemon that goes
# on: 0, with the retry said.  The running instance is untouched.
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

	timeout --foreground 20 "$RINGFAN" -D -c "$SECOND" >"$RF_TMP/d.out" \
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

# A worker that cannot start: the plugin's open refuses in it.  Another
# pidfile, socket and group than the instance below.
sed -e "s|$RF_TMP/ringfan.pid|$RF_TMP/second.pid|" \
    -e "s|$RF_TMP/control.sock|$RF_TMP/second.sock|" \
    -e "s/group: $RF_GROUP/group: $((RF_GROUP + 2))/" \
    -e "s/name: test/name: second/" "$RF_CONF" >"$RF_TMP/base.yaml"
{ cat "$RF_TMP/base.yaml"
  echo "      - { plugin: ctxprobe, config: { open: fail } }"; } >"$SECOND"
daemon_fails "when a worker cannot start" \
    "ringfan: worker second/0: setup failed: plugin ctxprobe: open says fail"

# A plugin that asks to retry: the daemon goes on, retrying.
{ cat "$RF_TMP/base.yaml"
  echo "      - { plugin: ctxprobe, config: { open: retry } }"; } >"$SECOND"
rc=0
timeout --foreground 20 "$RINGFAN" -D -c "$SECOND" >"$RF_TMP/d.out" 2>"$RF_TMP/d.err" ||
    rc=$?
rf_expect "-D with a retry: exit status" "$rc" 0
rf_expect "-D with a retry: stderr" "$(cat "$RF_TMP/d.err")" \
    "ringfan: worker second/0: plugin ctxprobe: open says retry; retrying in 100 ms"
daemon=$(cat "$RF_TMP/second.pid")
BG="$BG $daemon"
rf_alive "$daemon" || rf_fail "-D with a retry: no daemon runs"
kill -TERM "$daemon"
rf_wait_until 10 "the retrying daemon to end" eval '! rf_alive "$daemon"'

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

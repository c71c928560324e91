#!/bin/bash
# control.pidfile and control.socket never cost anyone a file: a path that
# names something that is not ours (a regular file that is not a pid file, a
# directory, a symbolic link; for the socket, anything but a socket) is
# refused with exit 2 and a message naming the path and what is there, and
# is left exactly as it was.  A pid file of a dead instance and a socket file
# nobody listens on are still taken over.
#
# The pidfile is taken before any socket is opened: that part needs no root
# and runs first.  The control socket is made after the capture sockets, so
# its part needs root and a private link (lib.sh), and is skipped without.
set -eu
# lib.sh skips without root: until it is sourced, the same variables and a
# fail of this part's own.
: "${RINGFAN:?RINGFAN must name the ringfan binary}"
: "${PLUGIN_PATH_BUILD:?PLUGIN_PATH_BUILD must be set}"
fail() { echo "FAIL: $*" >&2; exit 1; }

P_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-paths.XXXXXX")
trap 'rm -rf "$P_TMP"' EXIT

# pconf PIDFILE: a configuration whose capture could never start (no such
# interface): ringfan gets past the pidfile only to fail there.
pconf()
{
	cat >"$P_TMP/p.yaml" <<-YAML
	control:
	  socket: "$P_TMP/control.sock"
	  pidfile: "$1"
	plugin_path: ["$PLUGIN_PATH_BUILD"]
	captures:
	  - name: test
	    interface: rfnone$$
	    workers: 1
	    pipeline:
	      - plugin: counter
	YAML
}

# refused WHAT PATH KIND: ringfan exits 2 with
# "ringfan: pidfile PATH: exists and is KIND..." and nothing else.
refused()
{
	local rc=0

	pconf "$2"
	timeout --foreground 10 "$RINGFAN" -c "$P_TMP/p.yaml" >"$P_TMP/out" 2>"$P_TMP/err" ||
	    rc=$?
	[ "$rc" -eq 2 ] || fail "$1: exit status $rc, expected 2:" \
	    "$(cat "$P_TMP/err")"
	grep -qF "ringfan: pidfile $2: exists and is $3" "$P_TMP/err" ||
	    fail "$1: said \"$(cat "$P_TMP/err")\""
	[ "$(wc -l <"$P_TMP/err")" -eq 1 ] ||
	    fail "$1: more than one line: $(cat "$P_TMP/err")"
	[ ! -e "$P_TMP/control.sock" ] || fail "$1: made the control socket"
	echo "ok: $1: $(cat "$P_TMP/err")"
}

# Not a pid file: text, a number with more after it, a pid of two lines.
for content in 'precious data\n' '123 abc\n' '12\n34\n' '\n'; do
	printf "$content" >"$P_TMP/data"
	cp -p "$P_TMP/data" "$P_TMP/data.orig"
	refused "a regular file holding '$content'" "$P_TMP/data" \
	    "a regular file that does not hold a process id"
	cmp -s "$P_TMP/data" "$P_TMP/data.orig" ||
	    fail "the file's content changed: $(od -c "$P_TMP/data" | head)"
	[ "$(stat -c %Y.%s "$P_TMP/data")" = \
	    "$(stat -c %Y.%s "$P_TMP/data.orig")" ] ||
	    fail "the file was touched"
done
# Long enough that only its start is digits.
{ printf '%s' 1234567890123456789012345678901234567890; echo x; } \
    >"$P_TMP/data"
cp -p "$P_TMP/data" "$P_TMP/data.orig"
refused "a long file of digits" "$P_TMP/data" "a regular file that does not"
cmp -s "$P_TMP/data" "$P_TMP/data.orig" || fail "the long file changed"

mkdir "$P_TMP/dir"
touch "$P_TMP/dir/inside"
refused "a directory" "$P_TMP/dir" "a directory, not a pid file"
[ -e "$P_TMP/dir/inside" ] || fail "the directory lost its content"

echo 4242 >"$P_TMP/target"
ln -s "$P_TMP/target" "$P_TMP/link"
refused "a symbolic link" "$P_TMP/link" "a symbolic link, not a pid file"
[ "$(cat "$P_TMP/target")" = 4242 ] || fail "the link's target changed"
[ -L "$P_TMP/link" ] || fail "the link is gone"

mkfifo "$P_TMP/fifo"
refused "a FIFO" "$P_TMP/fifo" "a FIFO, not a pid file"
[ -p "$P_TMP/fifo" ] || fail "the FIFO is gone"

# A pid file of an instance that is gone (or an empty one, as pidfile_open
# leaves it until the pid is written) is taken: ringfan gets past it and
# fails on the capture instead, removing the pidfile it took.
for content in '999999\n' '999999' ''; do
	printf "$content" >"$P_TMP/old.pid"
	rc=0
	pconf "$P_TMP/old.pid"
	timeout --foreground 10 "$RINGFAN" -c "$P_TMP/p.yaml" >"$P_TMP/out" \
	    2>"$P_TMP/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "stale pidfile '$content': exit status $rc:" \
	    "$(cat "$P_TMP/err")"
	! grep -q pidfile "$P_TMP/err" ||
	    fail "stale pidfile '$content' refused: $(cat "$P_TMP/err")"
	grep -q "rfnone$$" "$P_TMP/err" ||
	    fail "stale pidfile '$content': no word of the capture:" \
	    "$(cat "$P_TMP/err")"
	[ ! -e "$P_TMP/old.pid" ] ||
	    fail "the pidfile taken over is still there"
	echo "ok: a stale pidfile holding '$content' is taken over"
done
rm -rf "$P_TMP"
trap - EXIT

# --- The control socket: root and a private link from here on.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"

# sock_refused WHAT KIND: ringfan exits 2 naming the socket path and KIND,
# and holds no pidfile afterwards.
sock_refused()
{
	local rc=0

	timeout --foreground 20 "$RINGFAN" -c "$RF_CONF" >"$RF_TMP/out" \
	    2>"$RF_TMP/err" || rc=$?
	[ "$rc" -eq 2 ] || rf_fail "$1: exit status $rc, expected 2:" \
	    "$(cat "$RF_TMP/err")"
	grep -qF "control socket $RF_SOCK: exists and is $2, not a socket; refusing to replace it" \
	    "$RF_TMP/err" || rf_fail "$1: said \"$(cat "$RF_TMP/err")\""
	[ ! -e "$RF_TMP/ringfan.pid" ] || rf_fail "$1: the pidfile stayed"
	echo "ok: $1: $(grep -F "control socket" "$RF_TMP/err")"
}

printf 'precious data\n' >"$RF_SOCK"
cp -p "$RF_SOCK" "$RF_TMP/sock.orig"
sock_refused "a regular file at control.socket" "a regular file"
cmp -s "$RF_SOCK" "$RF_TMP/sock.orig" ||
    rf_fail "the file at control.socket changed"
[ "$(stat -c %Y.%s "$RF_SOCK")" = "$(stat -c %Y.%s "$RF_TMP/sock.orig")" ] ||
    rf_fail "the file at control.socket was touched"
rm -f "$RF_SOCK"

mkdir "$RF_SOCK"
sock_refused "a directory at control.socket" "a directory"
[ -d "$RF_SOCK" ] || rf_fail "the directory at control.socket is gone"
rmdir "$RF_SOCK"

# A link, even to a socket file: what is at the path is the link.
python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$RF_TMP/other.sock"
ln -s "$RF_TMP/other.sock" "$RF_SOCK"
sock_refused "a symbolic link at control.socket" "a symbolic link"
[ -L "$RF_SOCK" ] && [ -S "$RF_TMP/other.sock" ] ||
    rf_fail "the link at control.socket or its target is gone"
rm -f "$RF_SOCK"

# A socket file that nobody listens on, as a killed instance leaves it: it
# is replaced, and the new socket answers.
python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$RF_SOCK"
[ -S "$RF_SOCK" ] || rf_fail "could not leave a stale socket file"
rf_start
rf_expect "status.pid over the replaced socket" \
    "$(rf_ctl_num status .pid)" "$RF_PID"
grep -qF "control socket $RF_SOCK" "$RF_ERR" ||
    rf_fail "ringfan did not log its control socket"
rf_send -t udp -n 200 -f 8 -s 64
rf_stop
rf_expect_all 200
[ ! -e "$RF_SOCK" ] || rf_fail "the control socket stayed after the stop"
echo "PASS"

#!/bin/bash
# ringfanctl -s naming no live control socket: exit status 2, nothing on
# stdout, and one line on stderr that names the cause: a path that is not
# there and a socket nobody listens on (a ringfan that died) ask whether
# ringfan runs; a path that is there but is no socket (a directory, a
# regular file, a FIFO, a device: a mistyped -s) says what it is instead.
# No root, no link.
set -eu
NOLINK_NAME=ctl_paths
. "$(dirname "${BASH_SOURCE[0]}")/nolink.sh"
: "${RINGFANCTL:?RINGFANCTL must name the ringfanctl binary}"

# ctl PATH WANT: ringfanctl -s PATH status exits 2, prints nothing, and
# says WANT.
ctl()
{
	local rc=0

	"$RINGFANCTL" -s "$1" status >"$TMP/out" 2>"$TMP/err" || rc=$?
	expect "-s $1: exit status" "$rc" 2
	expect "-s $1: stdout" "$(cat "$TMP/out")" ""
	expect "-s $1: stderr" "$(cat "$TMP/err")" "ringfanctl: cannot connect \
to $1: $2"
}

mkdir "$TMP/dir"
: >"$TMP/file"
mkfifo "$TMP/fifo"
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])' "$TMP/dead.sock"

ctl "$TMP/none" "No such file or directory (is ringfan running?)"
ctl "$TMP/dead.sock" "Connection refused (is ringfan running?)"
ctl "$TMP/dir" "it is a directory, not a socket"
ctl "$TMP/file" "it is a regular file, not a socket"
ctl "$TMP/fifo" "it is a FIFO, not a socket"
ctl /dev/null "it is a character device, not a socket"

# Options it cannot take: named in ringfanctl's name, exit status 1.
for t in "-x|ringfanctl: unknown option -x" \
    "--bogus|ringfanctl: unknown option --bogus" \
    "-s|ringfanctl: -s needs an argument" \
    "--socket|ringfanctl: --socket needs an argument" \
    "--json=1|ringfanctl: --json takes no argument"; do
	rc=0
	"$RINGFANCTL" ${t%%|*} >"$TMP/out" 2>"$TMP/err" || rc=$?
	expect "${t%%|*}: exit status" "$rc" 1
	expect "${t%%|*}: first line" "$(head -n 1 "$TMP/err")" "${t#*|}"
done

# The version and the help to an output that cannot be written: exit
# status 2 and the cause, as for a reply.
[ -w /dev/full ] || fail "no writable /dev/full"
for o in -V --version -h --help; do
	rc=0
	"$RINGFANCTL" "$o" >/dev/full 2>"$TMP/err" || rc=$?
	expect "$o >/dev/full: exit status" "$rc" 2
	expect "$o >/dev/full: stderr" "$(cat "$TMP/err")" \
	    "ringfanctl: cannot write the output: No space left on device"
done
echo "PASS"

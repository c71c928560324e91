#!/bin/bash
# tools/quickstart's demo however it is stopped: SIGTERM to the script
# alone, SIGHUP to its process group (its terminal closed), ringfanctl stop,
# two runs at once, and SIGKILL (after which ringfan and rfsend stop by
# themselves and the next run removes the link, namespace and temporary
# directory left).  Needs root; exits 77 without.
set -eu
. "$(dirname "$0")/tools.sh"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
: "${QS_SOURCE_ROOT:?}" "${QUICKSTART_BUILD:?}" "${RINGFANCTL:?}"
command -v ip >/dev/null 2>&1 || { echo "SKIP: no ip(8)"; exit 77; }
qs=$QS_SOURCE_ROOT/tools/quickstart
export QUICKSTART_BUILD
work=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-qstest.XXXXXX")
pids=()
cleanup()
{
	local p i up

	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	# Up to 5 s for them to go, before their directory is removed.
	for ((i = 0; i < 50; i++)); do
		up=0
		for p in "${pids[@]}"; do
			alive "$p" && up=1
		done
		[ "$up" -eq 1 ] || break
		sleep 0.1
	done
	rm -rf "$work"
}
trap cleanup EXIT
export TMPDIR=$work

alive()
{
	[ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" |
	    cut -c1)" != Z ]
}

# start NAME: a demo in a session of its own, until stopped; sets qs_pid
# and qs_id (its link's suffix) once its live view runs.
start()
{
	local i

	setsid "$qs" </dev/null >"$work/$1.out" 2>"$work/$1.err" &
	qs_pid=$!
	pids+=("$qs_pid")
	for ((i = 0; i < 600; i++)); do
		grep -q "^quickstart: running" "$work/$1.err" && break
		alive "$qs_pid" || { cat "$work/$1.err" >&2; fail "$1: exited"; }
		sleep 0.1
	done
	grep -q "^quickstart: running" "$work/$1.err" || fail "$1: no live view"
	qs_id=$(sed -n 's/.*private link: rfqc\([0-9a-f]*\) .*/\1/p' \
	    "$work/$1.err")
	[ -n "$qs_id" ] || fail "$1: no link name"
	# Running: ringfan has counted frames of the demo's sender.
	sock=$(sed -n "s/.*ringfan's control socket is \(.*\); from another shell:.*/\1/p" \
	    "$work/$1.err")
	[ -n "$sock" ] || fail "$1: no control socket named"
	for ((i = 0; i < 100; i++)); do
		# A ringfanctl that cannot connect prints nothing: no count.
		"$RINGFANCTL" -s "$sock" --json stats >"$work/$1.live" \
		    2>/dev/null &&
		    json_is "$work/$1.live" '.captures[0].totals.packets > 0' \
		    2>/dev/null && return 0
		alive "$qs_pid" || { cat "$work/$1.err" >&2; fail "$1: exited"; }
		sleep 0.1
	done
	fail "$1: no frame counted within 10 s"
}

# finish NAME PID: the exit status of the demo PID, which must end in 15 s
finish()
{
	local i rc=0

	for ((i = 0; i < 150; i++)); do
		alive "$2" || break
		sleep 0.1
	done
	alive "$2" && fail "$1: still running 15 s after its stop"
	wait "$2" || rc=$?
	return "$rc"
}

# gone ID: nothing of the demo ID is left
gone()
{
	! ip link show "rfqc$1" >/dev/null 2>&1 || fail "link rfqc$1 left"
	! ip netns list | grep -qw "rfqsns$1" || fail "namespace rfqsns$1 left"
	! pgrep -f "rfqg$1|rfqc$1" >/dev/null || fail "processes of $1 left"
}

# ended NAME WHAT: the demo NAME ($qs_pid), stopped by WHAT, exits 0 with
# its final stats on stdout, the one thing there (one JSON document, with
# frames counted), and leaves nothing of itself.
ended()
{
	local rc=0

	finish "$1" "$qs_pid" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$work/$1.err" >&2; fail "$2: status $rc"; }
	json_is "$work/$1.out" '.captures[0].totals.packets > 0' ||
	    fail "$2: no final stats on stdout, or more: \
$(head -c 300 "$work/$1.out")"
	gone "$qs_id"
}

# SIGTERM to the script alone, not to its process group: it stops at once.
# Its QUICKSTART_SECONDS has a leading zero, which is still decimal: 8 s,
# stopped before by the signal (read as octal, 08 broke the live view).
QUICKSTART_SECONDS=08 start term
grep -q "^quickstart: running for 8 s$" "$work/term.err" ||
    fail "QUICKSTART_SECONDS=08: $(grep '^quickstart: running' "$work/term.err")"
kill -TERM "$qs_pid"
ended term SIGTERM
echo "ok: SIGTERM, QUICKSTART_SECONDS=08"

# SIGHUP to its whole process group, the script, ringfanctl top and rfsend
# at once, as the terminal's hangup (its window closed) sends it: the demo
# stops as on SIGTERM, ringfan included, instead of hanging in its cleanup
# until ringfan ends some other way.
start hup
kill -HUP -- "-$qs_pid"
ended hup SIGHUP
[ ! -e "/run/ringfan-quickstart/$qs_id" ] ||
    fail "SIGHUP: /run/ringfan-quickstart/$qs_id left"
echo "ok: SIGHUP to the process group"

# ringfanctl stop: ringfan ends first; its log and stats are shown.
start ctl
"$RINGFANCTL" -s "$(ls -d "$work"/ringfan-quickstart.*)/control.sock" \
    stop >/dev/null
rc=0
finish ctl "$qs_pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/ctl.err" >&2; fail "stop: status $rc"; }
grep -q "^ringfan: [0-9]* frames" "$work/ctl.err" ||
    fail "stop: ringfan's log not shown"
gone "$qs_id"
echo "ok: ringfanctl stop"

# Two demos at once.
QUICKSTART_SECONDS=4 "$qs" </dev/null >"$work/a.out" 2>"$work/a.err" &
a=$!
QUICKSTART_SECONDS=4 "$qs" </dev/null >"$work/b.out" 2>"$work/b.err" &
b=$!
pids+=("$a" "$b")
for x in a b; do
	rc=0
	if [ "$x" = a ]; then wait "$a" || rc=$?; else wait "$b" || rc=$?; fi
	[ "$rc" -eq 0 ] || { cat "$work/$x.err" >&2; fail "run $x: status $rc"; }
	# QUICKSTART_SECONDS=4: the demo's traffic lasted 4 s, not 3.
	secs=$(sed -n 's/^rfsend: sent [0-9]* frames in \([0-9.]*\) s.*/\1/p' \
	    "$work/$x.err")
	[ -n "$secs" ] || { cat "$work/$x.err" >&2; fail "run $x: no rfsend line"; }
	awk -v s="$secs" 'BEGIN { exit !(s >= 3.8 && s < 6) }' ||
	    fail "run $x: QUICKSTART_SECONDS=4 sent for $secs s"
done
echo "ok: two at once, 4 s each"

# SIGKILL: ringfan and rfsend stop; the next run cleans up the rest.
start kill
tmpdir=$(ls -d "$work"/ringfan-quickstart.*)
kill -KILL "$qs_pid"
wait "$qs_pid" 2>/dev/null || true
for ((i = 0; i < 100; i++)); do
	pgrep -f "$tmpdir|rfqg$qs_id" >/dev/null || break
	sleep 0.1
done
! pgrep -f "$tmpdir|rfqg$qs_id" >/dev/null ||
    fail "SIGKILL: ringfan or rfsend still running 10 s later"
QUICKSTART_SECONDS=1 "$qs" </dev/null >/dev/null 2>"$work/next.err" ||
    { cat "$work/next.err" >&2; fail "the run after SIGKILL failed"; }
gone "$qs_id"
[ ! -e "$tmpdir" ] || fail "SIGKILL: $tmpdir left"
echo "ok: SIGKILL"

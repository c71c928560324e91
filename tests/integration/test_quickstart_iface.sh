#!/bin/bash
# tools/quickstart IFACE, on a veth of the test's own, stopped by SIGHUP to
# its process group as the terminal's hangup (its window closed) sends it:
# ringfan, which takes SIGHUP for a reload (with -i, one without a file),
# must stop with the script, its final stats on stdout, and not go on
# capturing with no one watching.  Then SIGTERM to the script alone, and
# SIGKILL of the script: ringfan stops either way.  ringfan -i serves
# /run/ringfan/control.sock, ringfanctl's default: skipped if a ringfan
# serves it already.
set -eu
. "$(dirname "$0")/lib.sh"
: "${QS_SOURCE_ROOT:?}" "${QUICKSTART_BUILD:?}"
export QUICKSTART_BUILD
sock=/run/ringfan/control.sock
! "$RINGFANCTL" -s "$sock" status >/dev/null 2>&1 ||
    rf_skip "a ringfan serves $sock already"
rf_link

# start NAME: quickstart on CAP in a session of its own; sets qs once
# ringfan runs, and rf to the pid of ringfan's master.
start()
{
	setsid "$QS_SOURCE_ROOT/tools/quickstart" "$RF_CAP" </dev/null \
	    >"$RF_TMP/$1.out" 2>"$RF_TMP/$1.err" &
	qs=$!
	BG="$BG $qs"
	RF_LOGS="$RF_LOGS $RF_TMP/$1.err"
	rf_wait_until 120 "$1: ringfan ready" grep -q "ready:" "$RF_TMP/$1.err"
	rf=$(pgrep -f "^ringfan: master $RF_CAP( |\$)" || true)
	[ -n "$rf" ] || rf_fail "$1: no ringfan master on $RF_CAP"
}

# gone NAME PID...: each PID ends within 15 s
gone()
{
	local what=$1 p

	shift
	for p in "$@"; do
		rf_wait_until 15 "$what: pid $p gone" eval '! rf_alive '"$p"
	done
}

# counted N: the live stats count N frames; false when ringfanctl gets no
# answer (no socket yet).
counted()
{
	"$RINGFANCTL" -s "$sock" --json stats >"$RF_TMP/live.json" \
	    2>/dev/null &&
	    json_is "$RF_TMP/live.json" ".captures[0].totals.packets == $1" \
	    2>/dev/null
}

start hup
in_ns "$RFSEND" -q -i "$RF_GEN" -n 100
rf_wait_until 10 "hup: 100 frames counted" counted 100
kill -HUP -- "-$qs"
gone hup "$qs" "$rf"
rc=0
wait "$qs" || rc=$?
rf_expect "hup: status" "$rc" 0
rf_expect "hup: frames in the final stats" \
    "$(jq '.captures[0].totals.packets' "$RF_TMP/hup.out")" 100

start term
kill -TERM "$qs"
gone term "$qs" "$rf"
rc=0
wait "$qs" || rc=$?
rf_expect "term: status" "$rc" 0
json_is "$RF_TMP/term.out" '.captures[0].totals | type == "object"' ||
    rf_fail "term: no final stats on stdout: $(head -c 300 "$RF_TMP/term.out")"

start kill
kill -KILL "$qs"
gone kill "$rf"
echo PASS

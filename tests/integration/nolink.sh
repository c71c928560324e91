# shellcheck shell=bash
#
# Shared part of the integration tests that need no root and no link (the
# offline ones, `ringfan -r`), sourced by each, which runs under `set -eu`
# and sets NOLINK_NAME first.  It checks the environment meson sets, makes
# the test's temporary directory TMP (ringfan-NOLINK_NAME.XXXXXX), and on
# any exit ends the processes whose pids the test put in BG and removes
# TMP.  A test that needs a link uses lib.sh instead.  With NOLINK_NETNS=1
# the test runs again, from its start, in a network namespace of its own
# (netns.sh, mode net): a collector it runs on 127.0.0.1 is the test's
# alone.

if [ "${NOLINK_NETNS-}" = 1 ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
	netns_enter net "$@"
fi

: "${RINGFAN:?RINGFAN must name the ringfan binary}"
: "${RFSEND:?RFSEND must name the rfsend binary}"
: "${PLUGIN_PATH_BUILD:?PLUGIN_PATH_BUILD must be set}"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

# expect WHAT GOT WANT
expect()
{
	[ "$2" = "$3" ] || fail "$1: got $2, expected $3"
	echo "ok: $1 = $2"
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds.
wait_for()
{
	local n=$(($1 * 10)) what=$2

	shift 2
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

# offline_run [SECONDS]: ringfan -r $TMP/in.pcap with $TMP/rf.yaml (60 s
# at most unless told), its statistics in $TMP/rf.json, its stderr in
# $TMP/rf.err and its exit status in RC.
offline_run()
{
	RC=0
	timeout "${1:-60}" "$RINGFAN" -c "$TMP/rf.yaml" -r "$TMP/in.pcap" \
	    >"$TMP/rf.json" 2>"$TMP/rf.err" || RC=$?
}

# guarded NAME STATUS LINE: a run the guard ended (offline_guard.c): its
# status ($rc), its one line ($err), no document ($TMP/NAME.out).
guarded()
{
	expect "$1: exit status" "$rc" "$2"
	expect "$1: stderr" "$err" "$3"
	expect "$1: bytes on stdout" "$(wc -c <"$TMP/$1.out")" 0
}

# run_of PID: the run of `ringfan -r` (PID), the process it forks and
# waits for; 0 while there is none.
run_of()
{
	{ pgrep -P "$1" || true; } | awk 'NR == 1 { p = $1 } END { print p + 0 }'
}

# run_waits_in PID GLOB: the run of ringfan PID waits in a kernel function
# that GLOB matches (its wchan).
run_waits_in()
{
	# shellcheck disable=SC2254 # GLOB is a pattern
	case "$(cat "/proc/$(run_of "$1")/wchan" 2>/dev/null)" in
	$2) return 0 ;;
	esac
	return 1
}

# ft NAME: worker 0's flowtable counter or gauge NAME in $TMP/rf.json.
ft()
{
	jq -r ".captures[0].workers[0].plugins.flowtable.$1 //
	    .captures[0].workers[0].gauges.flowtable.$1" "$TMP/rf.json"
}

. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
need_tools jq

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-${NOLINK_NAME:?}.XXXXXX")
BG=""
nolink_cleanup()
{
	local p

	for p in $BG; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap nolink_cleanup EXIT

#!/bin/bash
# tools/quickstart's argument: -h and --help print the usage and exit 0,
# another option is refused, and an interface that does not exist is
# refused at once, naming it: none of them installs, builds or starts
# ringfan.  QUICKSTART_BUILD is a plain file here, so that a run that went
# on to build would fail on it instead.  The interface names used exist
# nowhere, but for the test's own veth pair (its peer in a namespace of the
# test's), which passes the check and so stops at the build directory,
# given as an absolute path or relative to the current directory.
# Needs root for the interface check; exits 77 without.
set -eu
: "${QS_SOURCE_ROOT:?}"
qs=$QS_SOURCE_ROOT/tools/quickstart

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-qsargs.XXXXXX")
ns=
cleanup()
{
	if [ -n "$ns" ]; then
		ip link del "$cap" 2>/dev/null || true	# takes its peer along
		ip netns del "$ns" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
: >"$work/notadir"
export QUICKSTART_BUILD=$work/notadir

# run ARG: tools/quickstart ARG; sets rc, out, err.
run()
{
	rc=0
	"$qs" "$1" </dev/null >"$work/out" 2>"$work/err" || rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

for a in -h --help; do
	run "$a"
	[ "$rc" -eq 0 ] || fail "$a: status $rc: $err"
	[ -z "$err" ] || fail "$a: stderr: $err"
	grep -q "^  tools/quickstart IFACE " <<<"$out" ||
	    fail "$a: no usage on stdout: $out"
	[ "$(head -1 <<<"$out")" = "quickstart: from a fresh Debian machine to a running ringfan, as root." ] ||
	    fail "$a: the usage's first line: $(head -1 <<<"$out")"
	echo "ok: $a"
done

run --seconds
[ "$rc" -eq 1 ] || fail "--seconds: status $rc"
[ "$err" = "quickstart: unknown option --seconds (see --help)" ] ||
    fail "--seconds: $err"
echo "ok: an unknown option"

# QUICKSTART_SECONDS that bash's arithmetic cannot hold is refused before
# anything runs, as a word is.
for v in 1000000000 99999999999999999999 1s; do
	rc=0
	QUICKSTART_SECONDS=$v "$qs" </dev/null >"$work/out" 2>"$work/err" ||
	    rc=$?
	err=$(cat "$work/err")
	[ "$rc" -eq 1 ] || fail "QUICKSTART_SECONDS=$v: status $rc: $err"
	[ "$err" = "quickstart: QUICKSTART_SECONDS must be a whole number of seconds up to 999999999" ] ||
	    fail "QUICKSTART_SECONDS=$v: $err"
done
echo "ok: QUICKSTART_SECONDS out of range"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the interface check needs root"; exit 77; }
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
for a in "rfqx$id" "rfq\$(x)$id" .. "a/b$id" ""; do
	run "$a"
	[ "$rc" -eq 1 ] || fail "[$a]: status $rc: $err"
	[ "$err" = "quickstart: no interface \"$a\" here (ip link lists them)" ] ||
	    fail "[$a]: $err"
	[ -z "$out" ] || fail "[$a]: stdout: $out"
done
echo "ok: interfaces that do not exist"

# An interface that exists passes the check: the run goes on to the build,
# which fails on the plain file.
command -v ip >/dev/null 2>&1 || { echo "SKIP: no ip(8)"; exit 77; }
cap=rfqa$id
ns=rfqans$id
ip netns add "$ns" || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip link add "$cap" type veth peer name "rfqb$id"
ip link set "rfqb$id" netns "$ns"
run "$cap"
[ "$rc" -eq 1 ] || fail "[$cap]: status $rc: $err"
! grep -q "no interface" <<<"$err" || fail "[$cap]: refused: $err"
grep -q "notadir" <<<"$err" || fail "[$cap]: not stopped at the build: $err"
echo "ok: an interface that exists"

# A relative QUICKSTART_BUILD is taken from the current directory, not the
# source tree's.
rc=0
(cd "$work" && QUICKSTART_BUILD=notadir "$qs" "$cap") </dev/null \
    >"$work/out" 2>"$work/err" || rc=$?
err=$(cat "$work/err")
[ "$rc" -eq 1 ] || fail "relative build: status $rc: $err"
grep -q "$work/notadir" <<<"$err" ||
    fail "relative build: not $work/notadir: $err"
echo "ok: a relative build directory"

# So does one of its alternative names, which ringfan takes as well
# (Linux 5.5 and later; the test is skipped without them).
if ! ip link property add dev "$cap" altname "rfqn$id" 2>/dev/null; then
	echo "SKIP: no alternative interface names here" >&2
	exit 77
fi
run "rfqn$id"
[ "$rc" -eq 1 ] || fail "[rfqn$id]: status $rc: $err"
! grep -q "no interface" <<<"$err" || fail "[rfqn$id]: refused: $err"
grep -q "notadir" <<<"$err" || fail "[rfqn$id]: not stopped at the build: $err"
echo "ok: an alternative name"

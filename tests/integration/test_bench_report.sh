#!/bin/bash
# tools/bench --report FILE over good and malformed results.tsv files: the
# table of a good file (also with CRLF line ends) without any binary built,
# and for a file that is not a results.tsv one line on stderr naming the
# file, the line and what is wrong, exit status 1, no table.  No root.
set -eu
: "${QS_SOURCE_ROOT:?}"
bench=$QS_SOURCE_ROOT/tools/bench

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-benchrep.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A report needs no build: nothing is measured.
export RINGFAN=$work/none BENCH_REF=$work/none RFSEND=$work/none
export PLUGIN_PATH_BUILD=$work/none

# report FILE: runs the report; sets rc, out, err.
report()
{
	rc=0
	"$bench" --report "$1" >"$work/out" 2>"$work/err" || rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

# row FIELD...: one line of FIELDs separated by tabs
row()
{
	local IFS=$'\t'

	echo "$*"
}

{
	row 300k bench_ref 1000 1000 0 1000 40000 2 0 1.000 free/10 3000000
	row 300k ringfan_counter 1000 900 100 1000 27000 1 0 1.000 free/10 3300000
} >"$work/good.tsv"
report "$work/good.tsv"
[ "$rc" -eq 0 ] || fail "good file: status $rc: $err"
[ -z "$err" ] || fail "good file: stderr: $err"
line=$(grep '^free/10 300k  bench_ref' <<<"$out") ||
    fail "good file: no bench_ref row: $out"
[ "$(echo $line)" = "free/10 300k bench_ref 1 1000 1000 0 40.0 0.0 40.0 40.0-40.0 1.00 3000.0 1.00" ] ||
    fail "good file: bench_ref row: $line"
line=$(grep '^free/10 300k  ringfan_counter' <<<"$out") ||
    fail "good file: no ringfan_counter row: $out"
[ "$(echo $line)" = "free/10 300k ringfan_counter 1 1000 900 100 30.0 0.0 30.0 30.0-30.0 0.75 3666.7 1.22" ] ||
    fail "good file: ringfan_counter row: $line"
good=$out
echo "ok: good file without a build"

sed 's/$/\r/' "$work/good.tsv" >"$work/crlf.tsv"
report "$work/crlf.tsv"
[ "$rc" -eq 0 ] || fail "CRLF: status $rc: $err"
[ "$out" = "${good//good.tsv/crlf.tsv}" ] || fail "CRLF: another table: $out"
echo "ok: CRLF line ends"

# bad NAME MESSAGE: the file NAME is refused with MESSAGE, no table.
bad()
{
	report "$work/$1.tsv"
	[ "$rc" -eq 1 ] || fail "$1: status $rc, not 1: $out"
	[ "$err" = "bench: $work/$1.tsv$2" ] || fail "$1: message: $err"
	! grep -q "^setup" <<<"$out" || fail "$1: a table: $out"
	echo "ok: $1"
}

: >"$work/empty.tsv"
bad empty ": no measurements in it (a results.tsv of tools/bench --out)"
row rate contender offered captured >"$work/header.tsv"
bad header ":1: 4 fields, not 10 to 12 (a results.tsv of tools/bench --out)"
{
	cat "$work/good.tsv"
	row 300k tcpdump 1000 1000 0 1000 50000 2 0
} >"$work/short.tsv"
bad short ":3: 9 fields, not 10 to 12 (a results.tsv of tools/bench --out)"
row 300k tcpdump 1000 abc 0 1000 50000 2 0 1.000 free/10 3000000 \
    >"$work/word.tsv"
bad word ":1: field 4 (captured) is \"abc\", not a count"
row 300k tcpdump 1000 1000 0 1000 50000 2 0 0 free/10 3000000 \
    >"$work/zero.tsv"
bad zero ":1: field 10 (seconds) is \"0\", not a duration above 0"
row 300k tcpdump 1000 1000 0 1000 50000 2 0 1.0 free/10 x \
    >"$work/mach.tsv"
bad mach ":1: field 12 (machine ns) is \"x\", not a count"

# A measurement whose contender did not start is listed, not left out.
{
	cat "$work/good.tsv"
	row 300k tcpdump failed
} >"$work/failed.tsv"
report "$work/failed.tsv"
[ "$rc" -eq 0 ] || fail "failed row: status $rc: $err"
[ "$(sed -n '/^Failed to start/,$p' <<<"$out")" = "Failed to start (no numbers):
  300k  tcpdump" ] || fail "failed row: not listed: $out"
echo "ok: a measurement that failed to start"

mkdir "$work/dir.tsv"
report "$work/dir.tsv"
[ "$rc" -eq 1 ] || fail "directory: status $rc"
[ "$err" = "bench: cannot read $work/dir.tsv: not a file" ] ||
    fail "directory: $err"
echo "ok: a directory"

rc=0
"$bench" --report >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 1 ] || fail "--report without FILE: status $rc"
[ "$(cat "$work/err")" = "bench: --report needs a value (see --help)" ] ||
    fail "--report without FILE: $(cat "$work/err")"
echo "ok: --report without FILE"

#!/bin/bash
# tools/bench's option values: a rate, a duration or a block size it cannot
# use is refused at once with one line naming the option and the value,
# exit status 1, before anything is measured.  The binaries named do not
# exist, so a run that went on would stop at them instead.  No root.
set -eu
: "${QS_SOURCE_ROOT:?}"
bench=$QS_SOURCE_ROOT/tools/bench

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-benchargs.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RINGFAN=$work/none BENCH_REF=$work/none RFSEND=$work/none
export PLUGIN_PATH_BUILD=$work/none

# refused MESSAGE OPTION...: bench OPTION... exits 1 with MESSAGE alone.
refused()
{
	local msg=$1 rc=0

	shift
	"$bench" "$@" >"$work/out" 2>"$work/err" || rc=$?
	[ "$rc" -eq 1 ] || fail "$*: status $rc: $(cat "$work/err")"
	[ "$(cat "$work/err")" = "$msg" ] || fail "$*: $(cat "$work/err")"
	[ ! -s "$work/out" ] || fail "$*: stdout: $(cat "$work/out")"
	echo "ok: $*"
}

rates="rates are a count of frames/s above 0 with k or M after it, or max"
refused "bench: --rates 300K: $rates" --rates 300K
refused "bench: --rates 1.5M: $rates" --rates 100k,1.5M
refused "bench: --rates 0: $rates" --rates 0,max
refused "bench: --rates : $rates" --rates 100k,,max
refused "bench: --duration abc: seconds above 0 expected" --duration abc
refused "bench: --duration 0: seconds above 0 expected" --duration 0
# A block size ringfan's rings take (block_size): a power of two, of whole
# pages; another would fail every ringfan measurement at its start.
page=$(getconf PAGESIZE)
blocks="a power of two from $page to 16777216 bytes expected"
refused "bench: --block-size 1MiB: $blocks" --block-size 1MiB
refused "bench: --block-size 0: $blocks" --block-size 0
refused "bench: --block-size 1000: $blocks" --block-size 1000
refused "bench: --block-size 3145728: $blocks" --block-size 3145728
refused "bench: --block-size $((page / 2)): $blocks" \
    --block-size $((page / 2))
refused "bench: --block-size 33554432: $blocks" --block-size 33554432

# Good values pass these checks: the run stops at the missing binaries.
rc=0
"$bench" --rates 100k,1M,max,5000 --duration 0.5 --block-size 65536 \
    >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(cat "$work/err")" = "bench: $work/none is not built (meson compile -C build)" ] ||
    fail "good values: status $rc: $(cat "$work/err")"
echo "ok: good values"

# shellcheck shell=bash
#
# need_tools TOOL...: each on PATH, or the test fails naming it.  tools/deps
# installs every tool the tests use, so a missing one is a broken setup to
# report, not a check to skip.  Sourced by lib.sh and nolink.sh.
need_tools()
{
	local t

	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		echo "FAIL: $t is not installed (tools/deps installs it)" >&2
		exit 1
	done
}

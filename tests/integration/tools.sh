# shellcheck shell=bash
#
# Helpers of every integration test: sourced by lib.sh and nolink.sh, and
# by the tests that use neither (test_sdk.sh, test_quickstart.sh).
#
# need_tools TOOL...: each on PATH, or the test fails naming it.  tools/deps
# installs every tool the tests use, so a missing one is a broken setup to
# report, not a check to skip.
need_tools()
{
	local t

	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		echo "FAIL: $t is not installed (tools/deps installs it)" >&2
		exit 1
	done
}

# json_is FILE FILTER: FILE (- for standard input) holds exactly one JSON
# document, and FILTER is true of it.  Nothing at all, a blank line, two
# documents or text that is not JSON are false, where a bare jq -e FILTER
# is true on empty input.
json_is()
{
	local f=$1

	shift
	if [ "$f" = - ]; then
		jq -s -e "length == 1 and (.[0] | ($1))" >/dev/null
	else
		jq -s -e "length == 1 and (.[0] | ($1))" "$f" >/dev/null
	fi
}

#!/bin/bash
# tools/deps on a machine without apt-get: one clear message naming the
# packages and apt-get, exit status 1, nothing run.  No root needed.
set -eu
: "${QS_SOURCE_ROOT:?}"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-depstest.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A PATH with what tools/deps needs besides apt-get, and a dpkg-query that
# knows no package.
for tool in bash id grep; do
	ln -s "$(command -v "$tool")" "$work/$tool"
done
printf '#!/bin/sh\nexit 1\n' >"$work/dpkg-query"
chmod +x "$work/dpkg-query"

rc=0
PATH=$work "$QS_SOURCE_ROOT/tools/deps" 2>"$work/err" || rc=$?
cat "$work/err" >&2
[ "$rc" -eq 1 ] || fail "status $rc, not 1"
grep -q "^tools/deps: no apt-get.*libyaml-dev" "$work/err" ||
    fail "no message naming apt-get and the packages"
! grep -q "not found" "$work/err" || fail "a command not found"
echo "ok"

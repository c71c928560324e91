#!/bin/bash
# A package build runs the unit and plugins suites (debian/rules'
# dh_auto_test) with only the build dependencies installed, as a clean
# build chroot has them.  headers_clangxx, of the unit suite, fails when
# clang++ is missing, so debian/control's Build-Depends must name clang
# for the builds that run the tests (<!nocheck>), as it does cmocka:
# otherwise the package fails to build wherever clang is not installed
# already.  No root, no link, no build: debian/control is read as it is.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

grep -q "suite unit" "$SRC/debian/rules" ||
    fail "debian/rules no longer runs the unit suite: revisit this test"
grep -q "clang++ not found" "$SRC/tests/unit/meson.build" ||
    fail "headers_clangxx no longer fails without clang++: revisit this test"

# The Build-Depends field, its continuation lines joined, one entry a line.
deps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
    on && /^[^ \t]/ && !/^Build-Depends:/ { on = 0 }
    on { print }' "$SRC/debian/control" | tr ',' '\n' |
    sed 's/^[ \t]*//; s/[ \t]*$//' | grep -v '^$')
for want in "libcmocka-dev <!nocheck>" "clang <!nocheck>"; do
	printf '%s\n' "$deps" | grep -qxF "$want" ||
	    fail "Build-Depends lacks \"$want\": $(printf '%s' "$deps" |
	    tr '\n' ',')"
	echo "ok: Build-Depends names $want"
done
echo "PASS"

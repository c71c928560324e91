#!/bin/bash
# nolink.sh's NOLINK_NETNS=1 and lib.sh's RF_NETNS=1 (netns.sh) where no
# network namespace can be made: root in a container without
# CAP_SYS_ADMIN, say, where unshare is refused.  The test that asked for
# one skips (77), as it does without root, instead of failing with
# unshare's error; and so where unshare(1) is not installed.  `id` and
# `unshare` are stand-ins on PATH: the first says root, the second
# refuses as the kernel does, so this needs neither root nor a namespace.
set -eu
unset RF_TEST_NETNS
d=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-nlnetns.XXXXXX")
trap 'rm -rf "$d"' EXIT

mkdir "$d/bin"
cat >"$d/bin/id" <<'SH'
#!/bin/sh
[ "${1-}" = -u ] && { echo 0; exit 0; }
exec /usr/bin/id "$@"
SH
cat >"$d/bin/unshare" <<'SH'
#!/bin/sh
echo "unshare: unshare failed: Operation not permitted" >&2
exit 1
SH
chmod +x "$d/bin/id" "$d/bin/unshare"
here=$(cd "$(dirname "$0")" && pwd)
cat >"$d/nolink.sh" <<SH
set -eu
NOLINK_NAME=nlnetns NOLINK_NETNS=1
. "$here/nolink.sh"
echo "ran outside a namespace of its own"
SH
cat >"$d/lib.sh" <<SH
set -eu
RF_NETNS=1
. "$here/lib.sh"
echo "ran outside a namespace of its own"
SH

# The test sourcing FILE, with PATH, skips with the message want.
skips()
{
	local rc=0 out

	out=$(PATH=$3 /bin/bash "$d/$1" 2>&1) || rc=$?
	[ "$rc" -eq 77 ] || {
		echo "FAIL: $1: exit status $rc, expected 77: $out" >&2
		exit 1
	}
	[ "$out" = "$2" ] || {
		echo "FAIL: $1: output: $out" >&2
		exit 1
	}
}

skips nolink.sh "SKIP: cannot make a network namespace (unshare -n)" \
    "$d/bin:$PATH"
skips lib.sh "SKIP: cannot make a network namespace (unshare -n -m)" \
    "$d/bin:$PATH"
# No unshare(1) at all: a PATH of the stand-in id and dirname alone.
mkdir "$d/bare"
ln -s "$d/bin/id" "$d/bare/id"
ln -s "$(command -v dirname)" "$d/bare/dirname"
skips nolink.sh "SKIP: unshare is not installed" "$d/bare"
skips lib.sh "SKIP: unshare is not installed" "$d/bare"
echo "PASS"

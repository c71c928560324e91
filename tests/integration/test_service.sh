#!/bin/bash
# ringfan as a service, installed the way an operator installs it: meson
# install into a DESTDIR puts the systemd unit in systemd's unit directory
# and a default configuration in SYSCONFDIR/ringfan/ringfan.yaml whose
# plugin_path is the build's plugin directory, whose control socket and
# pidfile are in the run directory the unit makes, and which `ringfan -t`
# accepts with the installed plugins.  An operator's file survives a second
# install.  The unit passes `systemd-analyze verify` where that exists.
#
# It needs no root and no link, so it does not use lib.sh (which makes one).
set -eu

: "${SVC_BUILD_ROOT:?SVC_BUILD_ROOT must name the build directory}"
for v in SVC_SBINDIR SVC_BINDIR SVC_SYSCONFDIR SVC_PLUGINDIR SVC_UNITDIR \
    SVC_RUNDIR SVC_MANDIR SVC_EXAMPLEDIR; do
	[ -n "${!v:-}" ] || { echo "FAIL: $v is not set" >&2; exit 1; }
done

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

expect()
{
	[ "$2" = "$3" ] || fail "$1: got \"$2\", expected \"$3\""
	echo "ok: $1 = $2"
}

exists()
{
	[ -f "$ROOT$1" ] || fail "not installed: $1"
	echo "ok: installed $1"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-service.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root

install_destdir()
{
	meson install -C "$SVC_BUILD_ROOT" --destdir "$ROOT" --no-rebuild \
	    >"$TMP/install.log" 2>&1 ||
	    fail "meson install --destdir: $(tail -5 "$TMP/install.log")"
}

install_destdir
CONF=$SVC_SYSCONFDIR/ringfan/ringfan.yaml
UNIT=$SVC_UNITDIR/ringfan.service
exists "$SVC_SBINDIR/ringfan"
exists "$SVC_BINDIR/ringfanctl"
exists "$SVC_PLUGINDIR/counter.so"
exists "$CONF"
exists "$SVC_EXAMPLEDIR/ringfan.yaml"
exists "$UNIT"
cmp -s "$ROOT$CONF" "$ROOT$SVC_EXAMPLEDIR/ringfan.yaml" ||
    fail "$CONF differs from the example it was installed from"

# The paths in the file and in the unit are this build's.  value KEY: the
# first value of KEY in the installed file, its quotes taken off.
value()
{
	awk -v k="$1" '$1 == k { gsub(/"/, "", $2); print $2; exit }' \
	    "$ROOT$CONF"
}
expect "plugin_path" "$(awk '/^plugin_path:/ { getline; gsub(/"/, "", $2)
    print $2 }' "$ROOT$CONF")" "$SVC_PLUGINDIR"
expect "control.socket" "$(value socket:)" \
    "$SVC_RUNDIR/control.sock"
expect "control.pidfile" "$(value pidfile:)" \
    "$SVC_RUNDIR/ringfan.pid"
for f in "$CONF" "$UNIT"; do
	! grep -qE '@[a-z_]+@' "$ROOT$f" || fail "$f: a template variable" \
	    "is left: $(grep -nE '@[a-z_]+@' "$ROOT$f")"
done
expect "unit ExecStart" "$(sed -n 's/^ExecStart=//p' "$ROOT$UNIT")" \
    "$SVC_SBINDIR/ringfan -D -c $CONF"
expect "unit ExecStartPre" "$(sed -n 's/^ExecStartPre=//p' "$ROOT$UNIT")" \
    "$SVC_SBINDIR/ringfan -c $CONF -t"
expect "unit PIDFile" "$(sed -n 's/^PIDFile=//p' "$ROOT$UNIT")" \
    "$SVC_RUNDIR/ringfan.pid"
# RuntimeDirectory= names a directory under /run.
expect "unit RuntimeDirectory" \
    "/run/$(sed -n 's/^RuntimeDirectory=//p' "$ROOT$UNIT")" "$SVC_RUNDIR"
# Calls that the workers' filter refuses with EPERM, so that a plugin
# gets an error and the worker lives on (ptrace, perf_event_open, bpf,
# mount, the module calls, ...), are outside the unit's SystemCallFilter
# too, which kills the process by default (SIGSYS, the stricter action
# wins): the unit must answer them with EPERM as well.
expect "unit SystemCallErrorNumber" \
    "$(sed -n 's/^SystemCallErrorNumber=//p' "$ROOT$UNIT")" EPERM

# The installed ringfan checks the installed file.  Outside the DESTDIR
# its paths name nothing, so the plugin directory is moved into it: the
# check passes only if plugin_path named the right one.
RINGFAN=$ROOT$SVC_SBINDIR/ringfan
sed "s|\"$SVC_PLUGINDIR\"|\"$ROOT$SVC_PLUGINDIR\"|" "$ROOT$CONF" \
    >"$TMP/moved.yaml"
cmp -s "$ROOT$CONF" "$TMP/moved.yaml" && fail "could not move plugin_path"
rc=0
"$RINGFAN" -t -c "$TMP/moved.yaml" >"$TMP/out" 2>&1 || rc=$?
expect "ringfan -t on the installed file (plugin_path moved)" "$rc" 0
grep -q "configuration ok" "$TMP/out" || fail "-t said: $(cat "$TMP/out")"
# As is, the file is refused for the plugin missing in that directory.
rc=0
env -u RINGFAN_PLUGIN_PATH "$RINGFAN" -t -c "$ROOT$CONF" >"$TMP/out" \
    2>&1 || rc=$?
expect "ringfan -t, plugins outside the DESTDIR: exit status" "$rc" 1
grep -q "counter.so not found in $SVC_PLUGINDIR" "$TMP/out" ||
    fail "unclear message: $(cat "$TMP/out")"
echo "ok: $(cat "$TMP/out")"
# And RINGFAN_PLUGIN_PATH finds them on the installed tree.
rc=0
RINGFAN_PLUGIN_PATH=$ROOT$SVC_PLUGINDIR "$RINGFAN" -t -c "$ROOT$CONF" \
    >"$TMP/out" 2>&1 || rc=$?
expect "ringfan -t with RINGFAN_PLUGIN_PATH" "$rc" 0

# An operator's file survives the next install; the example is renewed.
echo "# edited by the operator" >>"$ROOT$CONF"
install_destdir
grep -q "^# edited by the operator\$" "$ROOT$CONF" ||
    fail "a second meson install replaced the operator's $CONF"
echo "ok: a second install keeps the operator's $CONF"

# systemd's own check of the unit, its commands moved into the DESTDIR and
# its man pages found there.
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
need_tools systemd-analyze
mkdir "$TMP/unit"
sed "s|$SVC_SBINDIR/ringfan |$ROOT$SVC_SBINDIR/ringfan |" \
    "$ROOT$UNIT" >"$TMP/unit/ringfan.service"
rc=0
MANPATH=$ROOT$SVC_MANDIR systemd-analyze verify \
    "$TMP/unit/ringfan.service" >"$TMP/verify" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$TMP/verify" ] ||
    fail "systemd-analyze verify (exit $rc): $(cat "$TMP/verify")"
echo "ok: systemd-analyze verify ringfan.service"

echo "PASS"

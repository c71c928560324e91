#!/bin/bash
# The Debian package, as a sensor operator gets it: built from a copy of the
# tree with dpkg-buildpackage (nothing lands in the source tree), its
# metadata and contents checked with dpkg-deb, then extracted into a
# private root and run from there: the packaged ringfan on the packaged
# default configuration, pointed at the test's veth, starts, answers the
# packaged ringfanctl, counts every frame sent and stops gracefully.
#
# It is never installed with dpkg -i: that would change the machine that
# runs the test.  It needs no network; a build dependency missing fails
# it, by name (tools/deps installs them).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
need_tools dpkg-buildpackage dpkg-deb dpkg-checkbuilddeps dh \
    systemd-analyze
[ -f "$SRC/debian/control" ] || rf_fail "no debian/control in $SRC"

# 1. Build in a copy: build directories of the tree and .git stay out.
BUILD=$RF_TMP/deb
VERSION=$(sed -n '1s/^ringfan (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
[ -n "$VERSION" ] || rf_fail "debian/changelog: no version on its first line"
mkdir -p "$BUILD/ringfan-$VERSION"
tar -C "$SRC" --exclude=./.git --exclude=./build --exclude='./build-*' \
    --exclude=./obj-\* -cf - . | tar -C "$BUILD/ringfan-$VERSION" -xf -
cd "$BUILD/ringfan-$VERSION"
dpkg-checkbuilddeps >"$RF_TMP/deps" 2>&1 ||
    rf_fail "build dependencies missing (tools/deps installs them):" \
    "$(cat "$RF_TMP/deps")"
start=$(date +%s.%N)
DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b \
    >"$RF_TMP/build.log" 2>&1 ||
    rf_fail "dpkg-buildpackage: $(grep -E -A3 'error|FAILED' \
    "$RF_TMP/build.log" | cut -c1-300 | head -30)"
echo "ok: dpkg-buildpackage -us -uc -b took" \
    "$(awk -v s="$start" -v e="$(date +%s.%N)" \
    'BEGIN { printf "%.1f", e - s }') s"
cd "$RF_TMP"
DEB=$(ls "$BUILD"/ringfan_"$VERSION"_*.deb 2>/dev/null | head -1)
[ -f "$DEB" ] || rf_fail "no ringfan_${VERSION}_*.deb in $BUILD:" \
    "$(ls "$BUILD")"
echo "ok: built ${DEB##*/}"
for f in "obj-$(dpkg-architecture -qDEB_HOST_MULTIARCH)" debian/ringfan \
    debian/.debhelper debian/files debian/debhelper-build-stamp; do
	[ ! -e "$SRC/$f" ] || rf_fail "a build left $f in the source tree"
done
echo "ok: nothing of the build in the source tree"

# 2. Metadata and contents.
field()
{
	dpkg-deb -f "$DEB" "$1"
}
rf_expect "Package" "$(field Package)" ringfan
rf_expect "Version" "$(field Version)" "$VERSION"
rf_expect "Architecture" "$(field Architecture)" \
    "$(dpkg-architecture -qDEB_HOST_ARCH)"
for lib in libyaml-0-2 libpcap0.8 libjansson4 libseccomp2 libbsd0; do
	field Depends | grep -q "$lib" ||
	    rf_fail "Depends lacks $lib: $(field Depends)"
done
echo "ok: Depends: $(field Depends)"
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$RF_TMP/list"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PLUGINDIR=/usr/lib/$MA/ringfan/plugins
for f in /usr/sbin/ringfan /usr/bin/ringfanctl /etc/ringfan/ringfan.yaml \
    "$PLUGINDIR/counter.so" "$PLUGINDIR/flowtable.so" \
    "$PLUGINDIR/pcapwriter.so" "$PLUGINDIR/filter.so" \
    /usr/share/man/man8/ringfan.8.gz /usr/share/man/man1/ringfanctl.1.gz \
    /usr/share/man/man7/ringfan-plugin.7.gz \
    /usr/include/ringfan/plugin.h /usr/share/doc/ringfan/copyright \
    /usr/share/doc/ringfan/plugins.md /usr/share/doc/ringfan/decode.md; do
	grep -qx "$f" "$RF_TMP/list" || rf_fail "not in the package: $f"
done
UNIT=$(grep -E '^(/usr)?/lib/systemd/system/ringfan.service$' \
    "$RF_TMP/list") || rf_fail "no ringfan.service in the package"
echo "ok: the package holds the binaries, plugins, unit ($UNIT)," \
    "configuration and man pages"
rf_expect "conffiles" "$(dpkg-deb -I "$DEB" conffiles)" \
    /etc/ringfan/ringfan.yaml
# dh_installsystemd --no-enable: the unit is known to systemd, enabled by
# the operator once the interface is set.
dpkg-deb -I "$DEB" postinst >"$RF_TMP/postinst"
grep -q "deb-systemd-helper update-state 'ringfan.service'" \
    "$RF_TMP/postinst" || rf_fail "postinst does not register the unit"
grep -q "deb-systemd-helper enable 'ringfan.service'" "$RF_TMP/postinst" &&
    ! grep -q "was-enabled 'ringfan.service'" "$RF_TMP/postinst" &&
    rf_fail "postinst enables the unit on a first install"
echo "ok: postinst registers the unit and leaves it disabled"

# 3. Extracted into a root of its own.
ROOT=$RF_TMP/root
dpkg-deb -x "$DEB" "$ROOT"
RINGFAN=$ROOT/usr/sbin/ringfan
CTL=$ROOT/usr/bin/ringfanctl
CONF=$ROOT/etc/ringfan/ringfan.yaml
"$RINGFAN" -V >"$RF_TMP/version" 2>&1 || rf_fail "ringfan -V: $(cat \
    "$RF_TMP/version")"
grep -q "$VERSION" "$RF_TMP/version" ||
    rf_fail "ringfan -V: $(cat "$RF_TMP/version"), expected $VERSION"
grep -qx "  - \"$PLUGINDIR\"" "$CONF" ||
    rf_fail "$CONF: plugin_path is not $PLUGINDIR: $(grep -A1 \
    plugin_path "$CONF")"
echo "ok: the default configuration's plugin_path is $PLUGINDIR"
mkdir "$RF_TMP/unit"
sed "s|/usr/sbin/ringfan |$ROOT/usr/sbin/ringfan |" "$ROOT$UNIT" \
    >"$RF_TMP/unit/ringfan.service"
rc=0
MANPATH=$ROOT/usr/share/man systemd-analyze verify \
    "$RF_TMP/unit/ringfan.service" >"$RF_TMP/verify" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$RF_TMP/verify" ] ||
    rf_fail "systemd-analyze verify (exit $rc): $(cat "$RF_TMP/verify")"
echo "ok: systemd-analyze verify of the packaged unit"

# The packaged configuration, changed only where this machine differs from
# a sensor: the plugins live in the extracted root, the control socket and
# pidfile in the test's directory, the capture on the test's link with two
# workers and a fanout group of the test's own.
rf_link
RF_CONF=$RF_TMP/ringfan.yaml
RF_SOCK=$RF_TMP/control.sock
sed -e "s|\"$PLUGINDIR\"|\"$ROOT$PLUGINDIR\"|" \
    -e "s|^\(  socket:\) /run/ringfan/control.sock|\1 $RF_SOCK|" \
    -e "s|^\(  pidfile:\) /run/ringfan/ringfan.pid|\1 $RF_TMP/ringfan.pid|" \
    -e "s|^\(    interface:\) eth0\$|\1 $RF_CAP|" \
    -e "s|^\(    workers:\) auto |\1 2 |" \
    -e "s|^      # group: 42 |      group: $RF_GROUP |" "$CONF" >"$RF_CONF"
[ "$(diff "$CONF" "$RF_CONF" | grep -c '^>')" -eq 6 ] ||
    rf_fail "could not point the configuration at the test:" \
    "$(diff "$CONF" "$RF_CONF")"
RF_WORKERS=2
RINGFAN_PLUGIN_PATH= "$RINGFAN" -t -c "$RF_CONF" >"$RF_TMP/check" 2>&1 ||
    rf_fail "ringfan -t: $(cat "$RF_TMP/check")"
rf_start
rf_wait_until 10 "status: capture uplink running" rf_ctl_test status \
    '.state == "running" and .captures[0].name == "uplink" and
    .captures[0].state == "running" and .captures[0].running == 2'
"$CTL" -s "$RF_SOCK" status >"$RF_TMP/status" 2>&1 ||
    rf_fail "packaged ringfanctl status: $(cat "$RF_TMP/status")"
grep -q uplink "$RF_TMP/status" ||
    rf_fail "packaged ringfanctl status: $(cat "$RF_TMP/status")"
echo "ok: the packaged ringfanctl answers: $(head -1 "$RF_TMP/status")"
K=1000
rf_send -t udp -n "$K" -f 64 -r 5000 -s 64
rf_wait_until 10 "$K frames counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"
rf_stop
rf_expect_all "$K"
rf_expect "stop summary" "$(tail -n 1 "$RF_ERR")" \
    "ringfan: $K frames, 0 dropped by the kernel (0.00%), 0 quarantined"
grep -E '(warn|error):' "$RF_ERR" && rf_fail "warnings or errors in the log"
echo "ok: no warning or error in the log"
echo "PASS"

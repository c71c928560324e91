#!/bin/bash
# The plugin SDK as a plugin author meets it: install ringfan into a
# DESTDIR, find it with pkg-config, build the example plugin out of tree
# with one cc command and with its own meson.build, and run each with the
# installed ringfan over a pcap of known frames.  The example's counters,
# gauge and status must come out exactly; so must those of the C++ test
# plugin, which proves that the headers are C++ clean.
#
# It needs no root and no link, so it does not use lib.sh (which makes one).
set -eu
. "$(dirname "$0")/tools.sh"

: "${SDK_BUILD_ROOT:?SDK_BUILD_ROOT must name the build directory}"
: "${SDK_SOURCE_ROOT:?SDK_SOURCE_ROOT must name the source directory}"
for v in SDK_SBINDIR SDK_BINDIR SDK_INCLUDEDIR SDK_LIBDIR SDK_PLUGINDIR \
    SDK_MANDIR SDK_EXAMPLEDIR PLUGIN_PATH_TEST; do
	[ -n "${!v:-}" ] || { echo "FAIL: $v is not set" >&2; exit 1; }
done

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

for tool in jq python3 pkg-config cc meson; do
	command -v "$tool" >/dev/null 2>&1 ||
	    fail "$tool is not installed (tools/deps installs it)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-sdk.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root

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

# 1. The install, as a packager does it.
meson install -C "$SDK_BUILD_ROOT" --destdir "$ROOT" --no-rebuild \
    --quiet >"$TMP/install.log" 2>&1 ||
    fail "meson install --destdir: $(tail -5 "$TMP/install.log")"
exists "$SDK_SBINDIR/ringfan"
exists "$SDK_BINDIR/ringfanctl"
exists "$SDK_PLUGINDIR/counter.so"
exists "$SDK_INCLUDEDIR/ringfan/plugin.h"
exists "$SDK_INCLUDEDIR/ringfan/decode.h"
exists "$SDK_LIBDIR/pkgconfig/ringfan-plugin.pc"
exists "$SDK_MANDIR/man8/ringfan.8"
exists "$SDK_MANDIR/man1/ringfanctl.1"
exists "$SDK_MANDIR/man7/ringfan-plugin.7"
exists "$SDK_EXAMPLEDIR/portwatch/portwatch.c"
exists "$SDK_EXAMPLEDIR/portwatch/meson.build"
# The guide and the decoder's reference, which the man page names.
exists "$(dirname "$SDK_EXAMPLEDIR")/plugins.md"
exists "$(dirname "$SDK_EXAMPLEDIR")/decode.md"
RINGFAN=$ROOT$SDK_SBINDIR/ringfan

# 2. pkg-config over the DESTDIR.  The sysroot moves -I and the variables
# into it; --define-prefix would not do, as it takes the .pc file to be in
# PREFIX/lib/pkgconfig, not in a multiarch libdir.  System include
# directories stay in the flags: the prefix may be /usr.
export PKG_CONFIG_PATH=$ROOT$SDK_LIBDIR/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$ROOT
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
expect "pkg-config --cflags" "$(pkg-config --cflags ringfan-plugin |
    sed 's/ *$//')" "-I$ROOT$SDK_INCLUDEDIR"
expect "plugindir" "$(pkg-config --variable=plugindir ringfan-plugin)" \
    "$ROOT$SDK_PLUGINDIR"
header=$SDK_SOURCE_ROOT/include/ringfan/plugin.h
major=$(awk '$2 == "RINGFAN_PLUGIN_ABI_MAJOR" { print $3 }' "$header")
minor=$(awk '$2 == "RINGFAN_PLUGIN_ABI_MINOR" { print $3 }' "$header")
[ -n "$major" ] && [ -n "$minor" ] || fail "$header: no ABI version"
expect "abi" "$(pkg-config --variable=abi ringfan-plugin)" "$major.$minor"
expect "abi_major" "$(pkg-config --variable=abi_major ringfan-plugin)" \
    "$major"
expect "abi_minor" "$(pkg-config --variable=abi_minor ringfan-plugin)" \
    "$minor"

# The guide shows the example whole: it must be the file that is tested.
awk '/^<!-- examples\/portwatch\/portwatch.c -->$/ { on = 1; next }
    on && /^```c$/ { copy = 1; next }
    copy && /^```$/ { exit }
    copy { print }' "$SDK_SOURCE_ROOT/docs/plugins.md" >"$TMP/guide.c"
cmp -s "$TMP/guide.c" "$SDK_SOURCE_ROOT/examples/portwatch/portwatch.c" ||
    fail "docs/plugins.md does not show examples/portwatch/portwatch.c as" \
    "it is: $(diff "$TMP/guide.c" \
    "$SDK_SOURCE_ROOT/examples/portwatch/portwatch.c" | head -5)"
echo "ok: docs/plugins.md shows the example as it is"

# 3a. The one-line build of the guide, from the installed example.
mkdir "$TMP/cc"
cp "$ROOT$SDK_EXAMPLEDIR/portwatch/portwatch.c" "$TMP/cc/"
(cd "$TMP/cc" &&
    cc -shared -fPIC $(pkg-config --cflags ringfan-plugin) portwatch.c \
    -o portwatch.so) >"$TMP/cc.log" 2>&1 ||
    fail "cc portwatch.c: $(cat "$TMP/cc.log")"
echo "ok: built with cc"

# 3b. Its own meson.build, strict: C11, warning_level 3, warnings as errors.
cp -r "$ROOT$SDK_EXAMPLEDIR/portwatch" "$TMP/src"
(meson setup -Dwerror=true "$TMP/mb" "$TMP/src" &&
    meson compile -C "$TMP/mb") >"$TMP/meson.log" 2>&1 ||
    fail "meson build of the example: $(tail -20 "$TMP/meson.log")"
[ -f "$TMP/mb/portwatch.so" ] || fail "meson build: no portwatch.so"
echo "ok: built with meson"

# 3c. Against the build tree, not installed: meson's uninstalled .pc file
# names the source tree's headers and the build's plugin directory.
mkdir "$TMP/tree"
cp "$SDK_SOURCE_ROOT/examples/portwatch/portwatch.c" "$TMP/tree/"
tree_pc()
{
	env -u PKG_CONFIG_SYSROOT_DIR \
	    PKG_CONFIG_PATH="$SDK_BUILD_ROOT/meson-uninstalled" pkg-config "$@"
}
tree_cflags=$(tree_pc --cflags ringfan-plugin | sed 's/ *$//')
expect "uninstalled: pkg-config --cflags" "$tree_cflags" \
    "-I$SDK_SOURCE_ROOT/include"
expect "uninstalled: plugindir" \
    "$(tree_pc --variable=plugindir ringfan-plugin)" \
    "$SDK_BUILD_ROOT/plugins"
(cd "$TMP/tree" && cc -shared -fPIC $tree_cflags portwatch.c \
    -o portwatch.so) >"$TMP/tree.log" 2>&1 ||
    fail "cc portwatch.c against the tree: $(cat "$TMP/tree.log")"
echo "ok: built against the tree"

# Known frames, classic pcap, microseconds.  Port 8443 is watched with a
# period of 1 s and a budget of 150 bytes.  Second S: 74 + 60 bytes to the
# port (134, under budget); second S+1: 100 + 100 (200, over budget);
# second S+2: one more frame, whose arrival closes S+1.
python3 - "$TMP/sdk.pcap" <<'PY'
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def eth(et, payload, vlan=None):
    mac = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, vlan)
    return mac + tag + struct.pack("!H", et) + payload

def ipv4(proto, l4, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64,
        proto, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4

def ipv6(proto, l4):
    return (struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) +
        b"\xfd" + b"\0" * 14 + b"\x01" + b"\xfd" + b"\0" * 14 + b"\x02" + l4)

def tcp(sport, dport, n):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02,
        1024, 0, 0) + b"x" * n

def udp(sport, dport, n):
    return struct.pack("!HHHH", sport, dport, 8 + n, 0) + b"u" * n

S = 1700000000
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02" * 6,
    bytes([10, 0, 0, 1]), b"\0" * 6, bytes([10, 0, 0, 2]))
icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"p" * 32
frames = [
    (S, 1000, eth(0x0800, ipv4(6, tcp(40000, 8443, 20)))),	# 74
    (S, 2000, eth(0x0800, ipv4(17, udp(40001, 8443, 18)))),	# 60
    (S, 3000, eth(0x0800, ipv4(17, udp(40002, 53, 30)))),
    (S + 1, 1000, eth(0x0800, ipv4(6, tcp(40003, 8443, 42)), 7)),	# 100
    (S + 1, 2000, eth(0x86dd, ipv6(17, udp(40004, 8443, 38)))),	# 100
    (S + 1, 3000, eth(0x0800, ipv4(17, udp(8443, 40005, 30)))),
    # A later fragment: bytes where ports would be say 8443, but are not.
    (S + 1, 4000, eth(0x0800, ipv4(17, udp(40006, 8443, 30), 100))),
    (S + 1, 5000, eth(0x0800, ipv4(1, icmp))),
    (S + 1, 6000, eth(0x0806, arp)),
    (S + 2, 1, eth(0x0800, ipv4(6, tcp(40007, 8443, 0)))),
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for sec, usec, data in frames:
        f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
        f.write(data)
PY

# The installed ringfan finds the installed counter through plugin_path
# (its built-in directory lies outside the DESTDIR), portwatch through
# RINGFAN_PLUGIN_PATH, and cxxcount in the build's test plugins.
config()
{
	cat >"$1" <<-YAML
	plugin_path: ["$ROOT$SDK_PLUGINDIR", "$PLUGIN_PATH_TEST"]
	captures:
	  - name: sdk
	    interface: eth0
	    pipeline:
	      - plugin: counter
	      - plugin: portwatch
	        config: { port: $2, period: 1s, budget: 150B }
	      - plugin: cxxcount
	YAML
}
config "$TMP/sdk.yaml" 8443

# run DIR: the pipeline over the pcap with DIR's portwatch.so; the JSON
# into $TMP/out.json.
run()
{
	local rc=0

	RINGFAN_PLUGIN_PATH=$1 "$RINGFAN" -c "$TMP/sdk.yaml" \
	    -r "$TMP/sdk.pcap" >"$TMP/out.json" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "ringfan -r with $1: exit $rc: $(cat "$TMP/err")"
	json_is "$TMP/out.json" 'type == "object"' ||
	    fail "no JSON document: $(head -c 300 "$TMP/out.json")"
}

field()
{
	jq -c ".captures[0].workers[0].$1" "$TMP/out.json"
}

for dir in "$TMP/cc" "$TMP/mb" "$TMP/tree"; do
	run "$dir"
	how=${dir##*/}
	expect "$how: packets" "$(jq '.captures[0].totals.packets' \
	    "$TMP/out.json")" 10
	expect "$how: portwatch.tcp" "$(field plugins.portwatch.tcp)" 3
	expect "$how: portwatch.udp" "$(field plugins.portwatch.udp)" 2
	expect "$how: portwatch.last_period_bytes" \
	    "$(field gauges.portwatch.last_period_bytes)" 200
	expect "$how: portwatch status" "$(field errors.portwatch)" \
	    '"port 8443: over budget"'
	expect "$how: counter.ethernet" "$(field plugins.counter.ethernet)" 10
	expect "$how: counter.arp" "$(field plugins.counter.arp)" 1
done

# The C++ plugin: its counters and the context's link type (DLT_EN10MB).
expect "cxxcount.ipv4" "$(field plugins.cxxcount.ipv4)" 8
expect "cxxcount.ipv6" "$(field plugins.cxxcount.ipv6)" 1
expect "cxxcount.other" "$(field plugins.cxxcount.other)" 1
expect "cxxcount.undecoded" "$(field plugins.cxxcount.undecoded)" 0
expect "cxxcount linktype" "$(field gauges.cxxcount.linktype)" 1
snaplen=$(field gauges.cxxcount.snaplen)
[[ "$snaplen" =~ ^[0-9]+$ ]] && [ "$snaplen" -ge 100 ] ||
    fail "cxxcount snaplen: \"$snaplen\", not one that holds every frame"
echo "ok: cxxcount snaplen = $snaplen"

# A bad option: check refuses it, ringfan -t says why and exits 1.
config "$TMP/sdk.yaml" 0
rc=0
RINGFAN_PLUGIN_PATH=$TMP/cc "$RINGFAN" -c "$TMP/sdk.yaml" -t \
    >/dev/null 2>"$TMP/err" || rc=$?
expect "port 0: ringfan -t exit status" "$rc" 1
# Its message starts with the option's key: the host puts the place of
# the value (line 8, column 25) before it.
expect "port 0: message" "$(cat "$TMP/err")" \
    "ringfan: $TMP/sdk.yaml:8:25: plugin portwatch: port: 0 is not 1 to 65535"

echo "PASS"

#!/bin/bash
# Every configuration example of the documentation is one ringfan takes:
# `ringfan -t` says "configuration ok" of each, with the build's plugins
# and the example plugin, so a key renamed or a value refused in the code
# cannot leave an example behind.
#
# The examples are the ```yaml blocks of README.md and docs/*.md (the man
# pages have none; a ringfan configuration in a block of another language
# fails the test: label it yaml).  A block is a whole file unless the line
# right before its fence says otherwise:
#
#   <!-- example: capture -->     the keys of one capture entry (a
#                                 `pipeline:`, say): checked under
#                                 `captures: [{name: example, interface: eth0}]`
#   <!-- example: prometheus -->  Prometheus's configuration, not
#                                 ringfan's: `promtool check config` takes it
#
# Each is checked from a directory that holds the example plugin
# (examples/portwatch, built with the guide's cc command), as the guide
# runs it.  Besides:
#   - the guide's example with `port: 0` fails with the error the guide
#     quotes (plugins.md, "A run whose plugin refuses its options");
#   - config/ringfan.yaml, with the build's plugin directory for
#     @plugindir@ as meson install puts it, is ok as it is and with every
#     key it leaves commented out put back (a line `# KEY:` or `# - KEY:`;
#     the accounts `user` and `control.group` name, which this machine may
#     lack, become the test's own), and so put back it names every key of
#     docs/configuration.md's key tables, as that page says it does;
#   - every absolute path an example has a plugin write to (flowtable's
#     output, pcapwriter's directory) is one the systemd unit lets ringfan
#     write.
#
# No root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=doc-configs
. "$(dirname "$0")/nolink.sh"
need_tools cc promtool

SRC=$(cd "$(dirname "$0")/../.." && pwd)
export RINGFAN_PLUGIN_PATH=$PLUGIN_PATH_BUILD

cc -shared -fPIC -I"$SRC/include" "$SRC/examples/portwatch/portwatch.c" \
    -o "$TMP/portwatch.so" 2>"$TMP/cc.log" ||
    fail "cc portwatch.c: $(cat "$TMP/cc.log")"
cd "$TMP"

# check WHERE FILE: ringfan -t takes FILE.
check()
{
	local rc=0

	"$RINGFAN" -c "$2" -t >"$2.out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "$1: ringfan -t: exit $rc: $(cat "$2.out")"
	expect "$1" "$(tail -n 1 "$2.out")" "ringfan: $2: configuration ok"
}

# The blocks, as ex-N.yaml, and the list "N KIND FILE:LINE"; the lines
# of a block of another language that start as a ringfan file's lines do,
# in unlabeled.
awk -v src="$SRC" '
FNR == 1 { name = substr(FILENAME, length(src) + 2); prev = ""; fence = "" }
fence == "" && /^ *```/ {
	fence = $0
	sub(/```.*/, "", fence)
	ind = length(fence)
	fence = fence "```"
	lang = $0
	sub(/^ *```/, "", lang)
	if (lang != "yaml") {
		lang = "other"
		next
	}
	n++
	kind = "file"
	if (prev ~ /^<!-- example: [a-z]+ -->$/) {
		kind = prev
		sub(/^<!-- example: /, "", kind)
		sub(/ -->$/, "", kind)
	}
	out = "ex-" n ".yaml"
	print n, kind, name ":" FNR >"list"
	if (kind == "capture")
		print "captures:\n  - name: example\n    interface: eth0" >out
	next
}
fence != "" && index($0, fence) == 1 && $0 ~ /^ *``` *$/ {
	if (lang == "yaml")
		close(out)
	fence = ""
	prev = $0
	next
}
fence != "" && lang == "yaml" {
	print (kind == "capture" ? "    " : "") substr($0, ind + 1) >out
	next
}
fence != "" {
	if ($0 ~ /^ *(- )?(captures|pipeline|plugin_path|control|plugin|fanout|ring):( |$)/)
		print name ":" FNR ": " $0 >"unlabeled"
	next
}
{ prev = $0 }
' "$SRC/README.md" "$SRC"/docs/*.md || fail "awk over the docs"
touch list unlabeled
[ ! -s unlabeled ] ||
    fail "a ringfan configuration outside a \`\`\`yaml block: $(cat unlabeled)"
[ -s list ] || fail "no \`\`\`yaml block in README.md and docs/*.md"

while read -r n kind where; do
	case $kind in
	file | capture)
		check "$where" "ex-$n.yaml"
		;;
	prometheus)
		promtool check config "ex-$n.yaml" >"ex-$n.out" 2>&1 ||
		    fail "$where: promtool: $(cat "ex-$n.out")"
		echo "ok: $where: promtool check config"
		;;
	*)
		fail "$where: unknown example kind \"$kind\""
		;;
	esac
done <list

# The guide's example with a port the plugin refuses.
guide=$(grep -lx '# plugin.yaml' ex-*.yaml) ||
    fail "no example that starts with \"# plugin.yaml\" (docs/plugins.md)"
sed 's/port: 443,/port: 0,/' "$guide" >plugin.yaml
want='plugin.yaml:8:25: plugin portwatch: port: 0 is not 1 to 65535'
tr '\n' ' ' <"$SRC/docs/plugins.md" | grep -qF "\`$want\`" ||
    fail "docs/plugins.md no longer quotes \"$want\""
rc=0
"$RINGFAN" -c plugin.yaml -t >port0.out 2>&1 || rc=$?
expect "port 0: exit status" "$rc" 1
expect "port 0: error" "$(cat port0.out)" "ringfan: $want"

# config/ringfan.yaml, as it is and with its commented-out keys.
sed "s|@plugindir@|$PLUGIN_PATH_BUILD|" "$SRC/config/ringfan.yaml" \
    >ringfan.yaml
check config/ringfan.yaml ringfan.yaml
sed -E 's/^( *)# ( *)((- )?[a-z_]+:( |$))/\1\2\3/' ringfan.yaml |
    sed -E "s/^user: ringfan\$/user: $(id -un)/" |
    sed -E "s/^(  group:) ringfan( |\$)/\\1 $(id -gn)\\2/" >full.yaml
cmp -s ringfan.yaml full.yaml && fail "config/ringfan.yaml: no key to put back"
check "config/ringfan.yaml, every key" full.yaml
awk '/^#/ { h = $0; sub(/^#+ */, "", h)
	keys = h ~ /^(Top level|control|log|captures|fanout|ring|pipeline)$/
	next }
    keys && /^\| `[a-z_]+` \|/ { k = $0; sub(/^\| `/, "", k)
	sub(/`.*/, "", k); print k }' "$SRC/docs/configuration.md" >keys
[ "$(wc -l <keys)" -ge 30 ] || fail "docs/configuration.md: key tables not found"
while read -r k; do
	grep -Eq "^ *(- )?$k:( |\$)" full.yaml ||
	    fail "config/ringfan.yaml does not name the key $k"
done <keys
echo "ok: config/ringfan.yaml names the $(sort -u keys | wc -l) keys"

# Where the examples have a plugin write (flowtable's output, pcapwriter's
# directory, commented out or not) is a place the systemd unit lets
# ringfan write, as README.md tells operators to choose: the unit's
# StateDirectory= and RuntimeDirectory=, /tmp with PrivateTmp=, and its
# ReadWritePaths=.  Elsewhere ProtectSystem=strict makes the file system
# read-only, and a plugin copied from the docs fails to write.
unit=$SRC/config/ringfan.service.in
awk -F= '
$1 == "StateDirectory" { print "/var/lib/" $2 }
$1 == "RuntimeDirectory" { print "/run/" $2 }
$1 == "PrivateTmp" && $2 == "yes" { print "/tmp" }
$1 == "ReadWritePaths" { n = split($2, p, " "); for (i = 1; i <= n; i++) print p[i] }
' "$unit" | sed 's|/*$||' >writable
grep -qx /var/lib/ringfan writable ||
    fail "$unit: no StateDirectory=ringfan: $(tr '\n' ' ' <writable)"
while read -r n kind where; do
	[ "$kind" = prometheus ] && continue
	grep -oE '(output|directory): *"?/[^" ,]+' "ex-$n.yaml" |
	    sed -E 's/^[a-z]+: *"?//' | while read -r path; do
		ok=
		while read -r dir; do
			case $path in "$dir"/*) ok=1 ;; esac
		done <writable
		[ -n "$ok" ] || fail "$where: $path is outside what the" \
		    "systemd unit lets ringfan write ($(tr '\n' ' ' <writable))"
		echo "$path" >>checked
	done
done <list
[ -s checked ] || fail "no example names an output path or directory"
echo "ok: the examples' plugin output is where the unit may write"
echo PASS

#!/bin/bash
# The command line fails the way SPEC.md promises: exit 1 and
# FILE:LINE:COLUMN for a bad config, exit 2 naming the cause for runtime
# failures (a missing interface, a plugin that does not open or load).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# run_rf NAME ARGS...: runs ringfan in the foreground with a time limit
# (a broken build would otherwise hang the test), sets $rc and $err.
run_rf()
{
	local name=$1

	shift
	rc=0
	timeout -k 5 30 "$RINGFAN" "$@" >"$RF_TMP/$name.out" \
	    2>"$RF_TMP/$name.err" </dev/null || rc=$?
	err=$(cat "$RF_TMP/$name.err")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		rf_fail "$name: ringfan $* still ran after 30 s"
	fi
}

# expect_in NAME TEXT: $err must contain TEXT.
expect_in()
{
	case $err in
	*"$2"*) echo "ok: $1: message has \"$2\"" ;;
	*) rf_fail "$1: message lacks \"$2\": $err" ;;
	esac
}

# Arguments: each mistake named, in ringfan's name (not argv[0]'s), exit 1.
for t in "--workers|ringfan: --workers needs an argument" \
    "-c|ringfan: -c needs an argument" \
    "-x|ringfan: unknown option -x" \
    "--bogus|ringfan: unknown option --bogus" \
    "-c a -c b|ringfan: -c given twice" \
    "-i a -i b|ringfan: -i given twice" \
    "--workers 2 --workers 3|ringfan: --workers given twice" \
    "-c a -t extra|ringfan: unexpected argument \"extra\"" \
    "-c a -i b|ringfan: give exactly one of -c FILE and -i IFACE" \
    "-r a|ringfan: -r PCAP goes with -c FILE, without -t or -D" \
    "-r a -i b|ringfan: -r PCAP goes with -c FILE, without -t or -D"; do
	# shellcheck disable=SC2086 # the arguments are words
	run_rf args ${t%%|*}
	rf_expect "ringfan ${t%%|*}: exit status" "$rc" 1
	rf_expect "ringfan ${t%%|*}: first line" "${err%%$'\n'*}" "${t#*|}"
done

# -h and --help print the usage on stdout, -V and --version the version:
# exit 0 and nothing on stderr, the long form as the short.
for t in "-h|--help|usage: ringfan -c FILE [-t] [-D]" \
    "-V|--version|ringfan "; do
	IFS='|' read -r short long want <<<"$t"
	run_rf short "$short"
	rf_expect "ringfan $short: exit status" "$rc" 0
	rf_expect "ringfan $short: stderr" "$err" ""
	case $(head -n 1 "$RF_TMP/short.out") in
	"$want"*) ;;
	*) rf_fail "ringfan $short: stdout starts with" \
	    "\"$(head -n 1 "$RF_TMP/short.out")\", not \"$want\"" ;;
	esac
	run_rf long "$long"
	rf_expect "ringfan $long: exit status" "$rc" 0
	rf_expect "ringfan $long: stdout" "$(cat "$RF_TMP/long.out")" \
	    "$(cat "$RF_TMP/short.out")"
done
# Every live run takes control.pidfile, in the foreground too (ringfan(8),
# test_daemon.sh): the usage must not make it -D's alone.
run_rf short -h
rf_expect "ringfan -h: the -D line" \
    "$(grep -e '^  -D ' "$RF_TMP/short.out")" \
    "  -D        daemonize: detach and log to syslog"

# ... and to an output that cannot be written, exit 2 and the cause.
[ -w /dev/full ] || rf_fail "no writable /dev/full"
for o in -h --help -V --version; do
	rc=0
	"$RINGFAN" "$o" >/dev/full 2>"$RF_TMP/full.err" || rc=$?
	rf_expect "ringfan $o >/dev/full: exit status" "$rc" 2
	rf_expect "ringfan $o >/dev/full: stderr" \
	    "$(cat "$RF_TMP/full.err")" \
	    "ringfan: cannot write the output: No space left on device"
done

# Without root (CAP_NET_RAW) a start fails at once with the cause and
# exit 2, before any file in root's run directory is tried (which would
# fail with a bare "Permission denied" on a pidfile or lock).
need_tools setpriv
chmod 0755 "$RF_TMP"
printf 'control:\n  socket: %s\n  pidfile: %s\ncaptures:\n  - name: t\n    interface: eth0\n' \
    "$RF_TMP/nr.sock" "$RF_TMP/nr.pid" >"$RF_TMP/nonroot.yaml"
chmod 0644 "$RF_TMP/nonroot.yaml"
for a in "-c $RF_TMP/nonroot.yaml" "-i eth0"; do
	rc=0
	# shellcheck disable=SC2086 # the arguments are words
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    timeout -k 5 30 "$RINGFAN" $a >"$RF_TMP/nr.out" \
	    2>"$RF_TMP/nr.err" </dev/null || rc=$?
	err=$(cat "$RF_TMP/nr.err")
	rf_expect "as nobody, ringfan $a: exit status" "$rc" 2
	expect_in "as nobody, ringfan $a" \
	    "ringfan: capturing needs root (CAP_NET_RAW"
	[ ! -e "$RF_TMP/nr.pid" ] ||
	    rf_fail "as nobody: ringfan left $RF_TMP/nr.pid"
done
chmod 0700 "$RF_TMP"

rf_link

# A good file passes the check.
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/good.yaml"
run_rf good -c "$RF_TMP/good.yaml" -t
rf_expect "-t on a good file: exit status" "$rc" 0

# The shipped example passes the check, its plugins found on the build's
# plugin directory.
example=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/config/ringfan.yaml
RINGFAN_PLUGIN_PATH=$PLUGIN_PATH_BUILD run_rf example -c "$example" -t
rf_expect "-t on config/ringfan.yaml: exit status" "$rc" 0

# An unknown key is reported at its own line and column.
bad=$RF_TMP/bad.yaml
line=$(grep -n '^    workers:' "$RF_TMP/good.yaml" | cut -d: -f1)
line=$((line + 1))
awk -v at="$line" 'NR == at { print "    frobnicate: 1" } { print }' \
    "$RF_TMP/good.yaml" >"$bad"
run_rf bad -c "$bad" -t
rf_expect "-t on an unknown key: exit status" "$rc" 1
expect_in "unknown key" "$bad:$line:5: "
expect_in "unknown key" "frobnicate"

# A value of the wrong type: the line is the key's; the column may be the
# key's (5) or the value's (14).
bad2=$RF_TMP/bad2.yaml
sed 's/^    workers: .*/    workers: lots/' "$RF_TMP/good.yaml" >"$bad2"
line=$(grep -n '^    workers:' "$bad2" | cut -d: -f1)
run_rf bad2 -c "$bad2" -t
rf_expect "-t on a wrong type: exit status" "$rc" 1
[[ "$err" == *"$bad2:$line:5: "* || "$err" == *"$bad2:$line:14: "* ]] ||
    rf_fail "wrong type: no \"$bad2:$line:5|14: \" in: $err"
echo "ok: wrong type: message has $bad2:$line:COLUMN"

# An interface that does not exist: exit 2, naming it.  The built-in
# config of -i has the installed plugin directory only.
export RINGFAN_PLUGIN_PATH=$PLUGIN_PATH_BUILD
run_rf noif_i -i rfnoexist0
unset RINGFAN_PLUGIN_PATH
rf_expect "-i rfnoexist0: exit status" "$rc" 2
expect_in "-i rfnoexist0" "rfnoexist0"
# Its check passes, saying what a start does, without the advice of a
# configuration key that -i has no file to set.
RINGFAN_PLUGIN_PATH=$PLUGIN_PATH_BUILD run_rf noif_it -i rfnoexist0 -t
rf_expect "-i rfnoexist0 -t: exit status" "$rc" 0
[ "$err" = "ringfan: capture default: interface rfnoexist0 does not exist here: a start fails
ringfan: <default>: configuration ok" ] || rf_fail "-i rfnoexist0 -t: $err"
echo "ok: -i rfnoexist0 -t"
sed "s/^    interface: .*/    interface: rfnoexist0/" "$RF_TMP/good.yaml" \
    >"$RF_TMP/noif.yaml"
run_rf noif_c -c "$RF_TMP/noif.yaml"
rf_expect "interface: rfnoexist0: exit status" "$rc" 2
expect_in "interface: rfnoexist0" "rfnoexist0"

# A plugin whose open fails for good is a configuration error: the
# validation before the start finds it, and ringfan says the plugin's reason.
rf_config 2 hash "udp port 9" "plugin: openfail"
run_rf openfail -c "$RF_CONF"
rf_expect "openfail: exit status" "$rc" 1
expect_in "openfail" "openfail"
expect_in "openfail" "cannot open /nonexistent"

# Plugins that cannot be loaded: missing, wrong ABI, not a plugin, a name
# taken twice.  Whether that is a config (1) or runtime (2) error is the
# daemon's choice; it must be one of them, with the name in the message.
rf_config 2 hash "udp port 9" "plugin: nosuchplugin"
run_rf nosuch -c "$RF_CONF"
[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] ||
    rf_fail "nosuchplugin: exit status $rc, expected 1 or 2"
expect_in "nosuchplugin" "nosuchplugin"

rf_config 2 hash "udp port 9" "plugin: badabi"
run_rf badabi -c "$RF_CONF"
[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] ||
    rf_fail "badabi: exit status $rc, expected 1 or 2"
expect_in "badabi" "badabi.so"

rf_config 2 hash "udp port 9" "plugin: nosymbol"
run_rf nosymbol -c "$RF_CONF"
[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] ||
    rf_fail "nosymbol: exit status $rc, expected 1 or 2"
expect_in "nosymbol" "nosymbol.so"

rf_config 2 hash "udp port 9" "plugin: counter" "plugin: dupname"
run_rf dupname -c "$RF_CONF"
[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] ||
    rf_fail "dupname: exit status $rc, expected 1 or 2"
expect_in "dupname" "counter"
expect_in "dupname" "dupname.so"
echo "PASS"

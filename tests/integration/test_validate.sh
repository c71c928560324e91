#!/bin/bash
# Plugin validation.  (1) `ringfan -t` runs every plugin's check (here a
# trial open) and fails with the exact message of an unknown option, a bad
# value or a failed open; a good file passes.  This part needs no root and
# runs without it (as root, once more as nobody).  (2) Plugin code never
# runs in the master: the loadprobe plugin notes every process that loads it
# (a constructor) and opens it, at -t, at the start and at a reload; with
# `user: nobody` each of them is an unprivileged child, never the master,
# and holds no descriptor of the master's (a worker: not even its own socket,
# only its epoll watching it).
set -eu

# --- (1) ringfan -t, no root needed.
: "${RINGFAN:?RINGFAN must name the ringfan binary}"
: "${PLUGIN_PATH_BUILD:?PLUGIN_PATH_BUILD must be set}"
: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"
V_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-val.XXXXXX")
trap 'rm -rf "$V_TMP"' EXIT
# Readable by nobody, for the runs below as nobody.
chmod 755 "$V_TMP"

v_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

# v_at FILE KEY VALUE: LINE:COLUMN of VALUE in the first "KEY: VALUE" of
# FILE (columns from 1).
v_at()
{
	local at

	at=$(awk -v k="$2: " -v v="$3" '{ i = index($0, k v) }
	    i > 0 { print NR ":" i + length(k); exit }' "$1")
	[ -n "$at" ] || v_fail "no \"$2: $3\" in $1"
	echo "$at"
}

# v_conf NAME PIPELINE-LINES: writes $V_TMP/NAME.yaml, one capture on an
# interface that does not exist (-t assumes Ethernet for it, and says that
# it is missing before it says the file is ok: $missing).
v_conf()
{
	{
		cat <<-YAML
		plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
		captures:
		  - name: val
		    interface: rfvalnone0
		    workers: 2
		    pipeline:
		YAML
		printf '%s\n' "$2"
	} >"$V_TMP/$1.yaml"
	chmod 644 "$V_TMP/$1.yaml"
}

missing="ringfan: capture val: interface rfvalnone0 does not exist here: a start fails (wait_for_interface: true waits for it)"

# v_check NAME STATUS STDERR [PREFIX...]: `ringfan -c NAME.yaml -t` (under
# PREFIX, e.g. setpriv) must exit STATUS with exactly STDERR, nothing on
# stdout.
v_check()
{
	local name=$1 want_rc=$2 want=$3 rc=0 who=${4:+ as nobody}

	shift 3
	timeout -k 5 30 "$@" "$RINGFAN" -c "$V_TMP/$name.yaml" -t \
	    >"$V_TMP/$name.out" 2>"$V_TMP/$name.err" </dev/null || rc=$?
	[ "$rc" -eq "$want_rc" ] || v_fail "-t on $name$who: exit status" \
	    "$rc, expected $want_rc; stderr: $(cat "$V_TMP/$name.err")"
	[ "$(cat "$V_TMP/$name.err")" = "$want" ] ||
	    v_fail "-t on $name$who: stderr is \"$(cat "$V_TMP/$name.err")\"," \
	    "expected \"$want\""
	[ ! -s "$V_TMP/$name.out" ] ||
	    v_fail "-t on $name$who: stdout is not empty"
	echo "ok: -t on $name$who: exit $rc, \"$want\""
}

# A typo in an option: reported at the option's value, which is where the
# host keeps an option's place (cfg_option.pos).  v_at finds "KEY: VALUE",
# never a bit of a path.
v_conf typo '      - plugin: counter
      - plugin: options
        config: { cuont: 3 }'
f=$V_TMP/typo.yaml
at=$(v_at "$f" cuont 3)
# Line 9 of the file (v_conf's 6, then two items), the 3 at column 26.
[ "$at" = 9:26 ] || v_fail "v_at found \"cuont: 3\" at $at, not 9:26"
v_check typo 1 "ringfan: $f:$at: plugin options: unknown option \"cuont\""

# Block style, a known option before it: the typo is the one reported.
v_conf typo2 '      - plugin: options
        config:
          count: 3
          labl: x
          size: 1KiB'
f=$V_TMP/typo2.yaml
at=$(v_at "$f" labl x)
v_check typo2 1 "ringfan: $f:$at: plugin options: unknown option \"labl\""

# Two unknown options: the first in the file is named.
v_conf typo3 '      - plugin: options
        config: { zeta: 1, count: 2, alpha: 3 }'
f=$V_TMP/typo3.yaml
at=$(v_at "$f" zeta 1)
v_check typo3 1 "ringfan: $f:$at: plugin options: unknown option \"zeta\""

# A value the getter refuses.
v_conf badsize '      - plugin: options
        config: { count: 3, size: 2MB }'
f=$V_TMP/badsize.yaml
at=$(v_at "$f" size 2MB)
v_check badsize 1 \
    "ringfan: $f:$at: plugin options: option size: not a size \"2MB\" (a number and optionally B, KiB, MiB, GiB or TiB)"

v_conf badbool '      - plugin: options
        config:
          enabled: maybe'
f=$V_TMP/badbool.yaml
at=$(v_at "$f" enabled maybe)
v_check badbool 1 \
    "ringfan: $f:$at: plugin options: option enabled: not a boolean \"maybe\" (true, false, yes, no, on or off)"

# A plugin whose open fails: its trial open fails the check.
v_conf openfail '      - plugin: counter
      - plugin: openfail'
v_check openfail 1 "ringfan: plugin openfail: cannot open /nonexistent: No such file or directory"

# Every option known and well formed.
v_conf good '      - plugin: counter
      - plugin: options
        config: { count: 3, size: 2MiB, timeout: 30s, enabled: yes, label: abc }'
v_check good 0 "$missing
ringfan: $V_TMP/good.yaml: configuration ok"
sed 's/^    workers: 2/&\n    wait_for_interface: true/' "$V_TMP/good.yaml" \
    >"$V_TMP/wait.yaml"
v_check wait 0 "ringfan: capture val: interface rfvalnone0 does not exist here: a start waits for it
ringfan: $V_TMP/wait.yaml: configuration ok"

# A control socket group that does not exist fails -t, not only the start.
v_conf grp '      - plugin: counter'
sed -i '1i control: { group: rfnosuchgroup }' "$V_TMP/grp.yaml"
v_check grp 1 "ringfan: $V_TMP/grp.yaml:1:19: control.group \"rfnosuchgroup\": no such group"
v_conf usr '      - plugin: counter'
sed -i '1i user: rfnosuchuser' "$V_TMP/usr.yaml"
v_check usr 1 "ringfan: $V_TMP/usr.yaml:1:7: user \"rfnosuchuser\": no such user"

# A check that dies or never returns: the error names the plugin and the
# place of its step (not the last one, which the loading named last), and
# how it ended (a hang: after the 10 s the validation waits).
v_conf checkcrash '      - plugin: ctxprobe
        config: { check: crash }
      - plugin: counter'
v_check checkcrash 1 "ringfan: $V_TMP/checkcrash.yaml:7:17: plugin validation: the checking process was killed by signal 11 (Segmentation fault) in plugin ctxprobe's check"
v_conf checkhang '      - plugin: ctxprobe
        name: probe
        config: { check: hang }
      - plugin: counter'
v_check checkhang 1 "ringfan: $V_TMP/checkhang.yaml:7:17: plugin validation: no answer within 10 s, in plugin probe's check"

# What a plugin logs in its check reaches stderr, a file or a pipe alike
# (the validating child keeps the log's own descriptor of a pipe).
v_conf say '      - plugin: ctxprobe
        config: { say: hello }'
want="ringfan[check] warn: plugin ctxprobe: hello
$missing
ringfan: $V_TMP/say.yaml: configuration ok"
v_check say 0 "$want"
got=$("$RINGFAN" -c "$V_TMP/say.yaml" -t 2>&1 </dev/null | cat) ||
    v_fail "-t on say, stderr a pipe: failed"
[ "$got" = "$want" ] ||
    v_fail "-t on say, stderr a pipe: \"$got\", expected \"$want\""
echo "ok: -t on say, stderr a pipe: the plugin's line is there"

# A plugin directory that the workers' user may not search: the plugin
# there is not found, and the message says why (it used to say no more than
# "not found", of a file that is there).
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	mkdir -m 700 "$V_TMP/private"
	cp "$PLUGIN_PATH_TEST/openfail.so" "$V_TMP/private/private.so"
	v_conf private '      - plugin: counter
      - plugin: private'
	sed -i "s|^plugin_path: \[|user: nobody\nplugin_path: [\"$V_TMP/private\", |" \
	    "$V_TMP/private.yaml"
	rc=0
	"$RINGFAN" -c "$V_TMP/private.yaml" -t >/dev/null \
	    2>"$V_TMP/private.err" </dev/null || rc=$?
	got=$(cat "$V_TMP/private.err")
	[ "$rc" -eq 1 ] || v_fail "-t on private: exit status $rc: $got"
	case $got in
	*": plugin private: private.so not found in $V_TMP/private:"*"($V_TMP/private: Permission denied, as uid $(id -u nobody))") ;;
	*) v_fail "-t on private: stderr is \"$got\"" ;;
	esac
	echo "ok: -t on private: \"$got\""
fi

# The same without root, when we have it to give up.
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	command -v setpriv >/dev/null 2>&1 ||
	    v_fail "setpriv (util-linux) is not installed"
	nobody="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	f=$V_TMP/typo.yaml
	want="ringfan: $f:$(v_at "$f" cuont 3): plugin options: unknown option"
	# shellcheck disable=SC2086 # the prefix is words
	v_check typo 1 "$want \"cuont\"" $nobody
	# shellcheck disable=SC2086
	v_check good 0 "$missing
ringfan: $V_TMP/good.yaml: configuration ok" $nobody
fi
rm -rf "$V_TMP"
trap - EXIT

# --- (2) Where plugin code runs; root from here on.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
getent passwd nobody >/dev/null || rf_skip "no user nobody"
uid=$(id -u nobody)

K=600

# The probe's files, writable by nobody: the validating child and the
# workers append to them.
chmod 711 "$RF_TMP"
export RINGFAN_PROBE_FILE=$RF_TMP/probe.loads
export RINGFAN_PROBE_OPENS=$RF_TMP/probe.opens
export RINGFAN_PROBE_FDS=$RF_TMP/probe.fds
probe_reset()
{
	: >"$RINGFAN_PROBE_FILE"
	: >"$RINGFAN_PROBE_OPENS"
	: >"$RINGFAN_PROBE_FDS"
	chmod 666 "$RINGFAN_PROBE_FILE" "$RINGFAN_PROBE_OPENS" \
	    "$RINGFAN_PROBE_FDS"
}

# fds_check WHAT PID SOCKETS [EPOLLS]: the descriptors above 2 that PID had
# as it loaded the plugin hold exactly SOCKETS sockets and EPOLLS (default
# 0) epoll instances (a worker: none, and its own epoll watching its capture
# socket, which it gave up: docs/architecture.md, "Sandbox"), and nothing
# else of the master's (signalfd, timerfd, epoll, pidfile).
fds_check()
{
	local what=$1 pid=$2 want=$3 epolls=${4:-0} line n

	line=$(grep -E "^$pid( |\$)" "$RINGFAN_PROBE_FDS") ||
	    rf_fail "$what: no descriptor list of pid $pid"
	n=$(tr ' ' '\n' <<<"$line" | grep -c '^anon_inode:\[eventpoll\]$' ||
	    true)
	[ "$n" -eq "$epolls" ] || rf_fail "$what (pid $pid) holds $n epoll" \
	    "instances, expected $epolls: ${line#* }"
	line=$(sed 's/ anon_inode:\[eventpoll\]//g' <<<"$line")
	n=$(tr ' ' '\n' <<<"$line" | grep -c '^socket:' || true)
	[ "$n" -eq "$want" ] || rf_fail "$what (pid $pid) holds $n sockets," \
	    "expected $want: ${line#* }"
	case $line in
	*anon_inode:* | *ringfan.pid*)
		rf_fail "$what (pid $pid) holds descriptors of the master:" \
		    "${line#* }" ;;
	esac
	echo "ok: $what: $n socket(s), none of the master's descriptors"
}

# probe_lines FILE: the number of lines; every one must be "PID UID ..."
# with the uid of nobody and a pid that is not $master's.
probe_lines()
{
	local file=$1 pid luid rest n=0

	while read -r pid luid rest; do
		[[ "$pid" =~ ^[0-9]+$ ]] || rf_fail "$file: bad line" \
		    "\"$pid $luid $rest\""
		[ "$pid" != "$master" ] ||
		    rf_fail "$file: plugin code ran in the master (pid $pid)"
		[ "$luid" = "$uid" ] || rf_fail "$file: pid $pid ran the" \
		    "plugin as uid $luid, not nobody ($uid)"
		n=$((n + 1))
	done <"$file"
	echo "$n"
}

rf_link
rf_config 2 hash "udp port 9" "plugin: loadprobe"
sed -i '1i user: nobody' "$RF_CONF"

# ringfan -t as root: the check runs in one child, as nobody, a trial open
# with RINGFAN_CTX_CHECK (2) as worker 0.
probe_reset
"$RINGFAN" -c "$RF_CONF" -t 2>"$RF_TMP/check.err" &
master=$!
rc=0
wait "$master" || rc=$?
rf_expect "-t as root with user nobody: exit status" "$rc" 0
rf_expect "-t: its stderr" "$(cat "$RF_TMP/check.err")" \
    "ringfan: $RF_CONF: configuration ok"
# Assigned first: a failure inside exits the test (set -e) with one message.
loads=$(probe_lines "$RINGFAN_PROBE_FILE")
opens=$(probe_lines "$RINGFAN_PROBE_OPENS")
rf_expect "-t: processes that loaded loadprobe" "$loads" 1
rf_expect "-t: opens of loadprobe" "$opens" 1
read -r vpid _ <"$RINGFAN_PROBE_FILE"
rf_expect "-t: the trial open" "$(cat "$RINGFAN_PROBE_OPENS")" \
    "$vpid $uid 2 0"
fds_check "-t: the validating process" "$vpid" 0

# The start: validation children, then two workers, all as nobody.
probe_reset
rf_start
master=$RF_PID
rf_ctl_json workers . >"$RF_TMP/workers.json"
w0=$(jq -r '.workers[0].pid' "$RF_TMP/workers.json")
w1=$(jq -r '.workers[1].pid' "$RF_TMP/workers.json")
[ "$w0" != "$w1" ] || rf_fail "two workers with one pid $w0"
loads=$(probe_lines "$RINGFAN_PROBE_FILE")
[ "$loads" -ge 3 ] ||
    rf_fail "start: loadprobe loaded in $loads processes, expected >= 1 + 2"
for w in "$w0" "$w1"; do
	rf_expect "start: loads of loadprobe in worker $w" \
	    "$(grep -c "^$w " "$RINGFAN_PROBE_FILE")" 1
	fds_check "start: worker $w" "$w" 0 1
done
nval=$((loads - 2))
echo "ok: start: loadprobe loaded in $nval validating process(es) and 2 workers"
# Each validating process made one trial open, each worker one real one.
opens=$(probe_lines "$RINGFAN_PROBE_OPENS")
rf_expect "start: opens of loadprobe" "$opens" "$loads"
rf_expect "start: worker 0's open" "$(grep "^$w0 " "$RINGFAN_PROBE_OPENS")" \
    "$w0 $uid 0 0"
rf_expect "start: worker 1's open" "$(grep "^$w1 " "$RINGFAN_PROBE_OPENS")" \
    "$w1 $uid 0 1"
while read -r pid _; do
	[ "$pid" = "$w0" ] || [ "$pid" = "$w1" ] && continue
	rf_expect "start: open in validating process $pid" \
	    "$(grep "^$pid " "$RINGFAN_PROBE_OPENS")" "$pid $uid 2 0"
	rf_alive "$pid" && rf_fail "validating process $pid still runs"
	fds_check "start: validating process" "$pid" 0
done <"$RINGFAN_PROBE_FILE"
if grep -q 'loadprobe\.so' "/proc/$master/maps"; then
	rf_fail "loadprobe.so is mapped in the master"
fi
echo "ok: loadprobe.so is not mapped in the master"
rf_expect "master Uid" "$(grep '^Uid:' "/proc/$master/status")" \
    "$(printf 'Uid:\t0\t0\t0\t0')"

# A reload of the same file validates once more, in one child; no worker
# restarts.
probe_reset
rf_expect "reload of the same file" "$(rf_ctl_json reload .result)" unchanged
loads=$(probe_lines "$RINGFAN_PROBE_FILE")
rf_expect "reload: processes that loaded loadprobe" "$loads" 1
read -r vpid _ <"$RINGFAN_PROBE_FILE"
rf_expect "reload: the trial open" "$(cat "$RINGFAN_PROBE_OPENS")" \
    "$vpid $uid 2 0"
# Not the capture sockets, the control socket or the client's connection.
fds_check "reload: the validating process" "$vpid" 0
rf_expect "reload: worker pids" \
    "$(rf_pids)" "$w0,$w1"
if grep -q 'loadprobe\.so' "/proc/$master/maps"; then
	rf_fail "loadprobe.so is mapped in the master after the reload"
fi

rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_stop
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "sum of loadprobe.frames" "$(rf_sum .plugins.loadprobe.frames)" "$K"
rf_expect "sum of loadprobe.frames_1" "$(rf_sum .plugins.loadprobe.frames_1)" "$K"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0
echo "PASS"

#!/bin/bash
# Daemon mode: `ringfan -D` returns once the daemon has set up (its pidfile
# written and its control socket answering, with no wait after it), holds
# the pidfile (a second instance refuses to start, naming the first),
# serves the control socket, names its processes, and `ringfanctl stop`
# ends it, pidfile and socket removed.  Relative paths (the file, a plugin directory) mean what they
# mean in the foreground: the daemon keeps the directory it started in,
# for its workers and for a reload.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

PIDFILE=$RF_TMP/ringfan.pid

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
grep -qx "  pidfile: \"$PIDFILE\"" "$RF_CONF" ||
    rf_fail "rf_config no longer puts the pidfile at $PIDFILE"

t0=$(date +%s%N)
rc=0
timeout --foreground 10 "$RINGFAN" -D -c "$RF_CONF" >"$RF_TMP/d.out" 2>"$RF_TMP/d.err" ||
    rc=$?
t1=$(date +%s%N)
rf_expect "ringfan -D exit status" "$rc" 0
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 3000 ] || rf_fail "ringfan -D took $ms ms to return"
echo "ok: ringfan -D returned in $ms ms"
rf_expect "ringfan -D stdout" "$(cat "$RF_TMP/d.out")" ""
rf_expect "ringfan -D stderr" "$(cat "$RF_TMP/d.err")" ""

pidfile_ok()
{
	[ -s "$PIDFILE" ] && [[ "$(cat "$PIDFILE")" =~ ^[0-9]+$ ]]
}
pidfile_ok || rf_fail "no pid in $PIDFILE when ringfan -D returned"
pid=$(cat "$PIDFILE")
# From here on the cleanup ends the daemon (a session leader: its process
# group holds it and its workers) whatever happens.
RF_PID=$pid
rf_alive "$pid" || rf_fail "no process $pid of the pidfile"
rf_expect "status, asked as ringfan -D returned" \
    "$(rf_ctl_num status .pid)" "$pid"
rf_expect "daemon is a session leader" \
    "$(ps -o sid= -p "$pid" | tr -d ' ')" "$pid"

# title PID: the first NUL-terminated string of the command line, the title
# setproctitle set.  shown PID: all of it as ps(1) shows it, NULs as spaces,
# trailing blanks removed: it must be the title alone, nothing left of the
# original arguments around it.  libbsd marks the end of the original
# argument area with a "." when the title is shorter, so that the kernel
# shows the title; that marker is all that may follow.  When the title ends
# exactly where the original first argument ended, libbsd writes a blank
# there instead and ends the title one byte later: that blank is dropped.
title()
{
	tr '\0' '\n' <"/proc/$1/cmdline" | head -n 1 | sed 's/ $//'
}
shown()
{
	tr '\0' ' ' <"/proc/$1/cmdline" | sed 's/ *$//'
}
rf_expect "master's process title" "$(title "$pid")" \
    "ringfan: master $RF_CONF"
# Checked at the end, so that a stray byte does not hide the rest.
declare -A shown_as=([master]=$(shown "$pid"))

rf_wait_until 10 "every worker running" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 2'
rf_expect "status.pid is the pidfile's" "$(rf_ctl_num status .pid)" "$pid"
rf_expect "status.config" "$(rf_ctl_json status .config)" "$RF_CONF"
rf_ctl status >/dev/null || rf_fail "ringfanctl status failed"

# A worker sets its title during its setup: read it once all run.
rf_wait_until 5 "both workers running" rf_ctl_test workers \
    'all(.workers[]; .state == "running")'
rf_ctl_json workers . >"$RF_TMP/workers.json"
for w in 0 1; do
	wpid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	[ "$(awk '{ print $4 }' "/proc/$wpid/stat")" = "$pid" ] ||
	    rf_fail "worker $w's pid $wpid is not a child of the master $pid"
	rf_expect "worker $w's process title" "$(title "$wpid")" \
	    "ringfan: worker $w test $RF_CAP"
	shown_as[$w]=$(shown "$wpid")
done

# Capture works in the background too.
rf_send -t udp -n 500 -f 16 -s 64 -r 20000
rf_wait_until 5 "500 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 500'

# A second instance refuses, before touching anything.
rc=0
timeout --foreground 10 "$RINGFAN" -D -c "$RF_CONF" >"$RF_TMP/d2.out" 2>"$RF_TMP/d2.err" ||
    rc=$?
rf_expect "second ringfan -D exit status" "$rc" 2
grep -q "already running as pid $pid\b" "$RF_TMP/d2.err" ||
    rf_fail "second instance said: $(cat "$RF_TMP/d2.err")"
echo "ok: $(cat "$RF_TMP/d2.err")"
rf_expect "pidfile after the second instance" "$(cat "$PIDFILE")" "$pid"
rf_alive "$pid" || rf_fail "the first instance died"
rf_expect "status after the second instance" \
    "$(rf_ctl_json status '.captures[0].running')" 2
# And the same in the foreground.
rc=0
timeout --foreground 10 "$RINGFAN" -c "$RF_CONF" >/dev/null 2>"$RF_TMP/d3.err" || rc=$?
rf_expect "second foreground ringfan exit status" "$rc" 2
grep -q "already running as pid $pid\b" "$RF_TMP/d3.err" ||
    rf_fail "second foreground instance said: $(cat "$RF_TMP/d3.err")"

# Stop.
out=$(rf_ctl stop) || rf_fail "ringfanctl stop failed"
rf_expect "ringfanctl stop says" "$out" stopping
gone()
{
	! rf_alive "$pid"
}
rf_wait_until 10 "the daemon $pid to exit" gone
# shellcheck disable=SC2034  # read by lib.sh's cleanup
RF_PID=
echo "ok: the daemon exited"
[ ! -e "$PIDFILE" ] || rf_fail "the pidfile is still there"
[ ! -e "$RF_SOCK" ] || rf_fail "the control socket is still there"
for w in 0 1; do
	wpid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	gone_w() { ! rf_alive "$wpid"; }
	rf_wait_until 2 "worker $w ($wpid) to exit" gone_w
done
rc=0
rf_ctl status >/dev/null 2>&1 || rc=$?
rf_expect "ringfanctl status after the stop" "$rc" 2
# shown_is NAME SHOWN TITLE
shown_is()
{
	local rest=${2#"$3"}

	[ "$rest" != "$2" ] || rf_fail "$1: \"$2\" does not start with \"$3\""
	[[ "$rest" =~ ^\ *\.?$ ]] ||
	    rf_fail "$1: \"$2\" has more than the title \"$3\""
	echo "ok: $1: $2"
}
shown_is "master's command line as ps shows it" "${shown_as[master]}" \
    "ringfan: master $RF_CONF"
for w in 0 1; do
	shown_is "worker $w's command line as ps shows it" "${shown_as[$w]}" \
	    "ringfan: worker $w test $RF_CAP"
done

# Relative paths: started in $RF_TMP/rel as `-c rel.yaml`, the test plugins
# found only through the relative directory "testplugins" (options is not
# bundled, so the installed directory has none).
mkdir "$RF_TMP/rel"
ln -s "$PLUGIN_PATH_TEST" "$RF_TMP/rel/testplugins"
sed -e 's|^plugin_path: .*|plugin_path: ["testplugins"]|' \
    -e 's|- plugin: counter|- { plugin: options, config: { count: 7 } }|' \
    "$RF_CONF" >"$RF_TMP/rel/rel.yaml"
grep -q 'plugin: options' "$RF_TMP/rel/rel.yaml" ||
    rf_fail "rel.yaml has no options step"
rc=0
(cd "$RF_TMP/rel" && timeout --foreground 10 "$RINGFAN" -D -c rel.yaml) \
    >"$RF_TMP/r.out" 2>"$RF_TMP/r.err" || rc=$?
rf_expect "ringfan -D -c rel.yaml exit status" "$rc" 0
rf_expect "ringfan -D -c rel.yaml stderr" "$(cat "$RF_TMP/r.err")" ""
rf_wait_until 5 "the pidfile $PIDFILE" pidfile_ok
pid=$(cat "$PIDFILE")
RF_PID=$pid
rf_expect "the daemon's working directory" "$(readlink "/proc/$pid/cwd")" \
    "$(readlink -f "$RF_TMP/rel")"
rf_wait_until 10 "every worker running, the plugin found relatively" \
    rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 2'
rf_expect "restarts with relative paths" \
    "$(rf_ctl_num stats '[.captures[0].workers[].restarts] | add')" 0
rf_send -t udp -n 300 -f 16 -s 64 -r 20000
rf_wait_until 5 "300 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 300'
# A reload reads rel.yaml again: the step's option changed, so the workers
# are replaced, and the new ones find the plugin too.
sed -i 's|count: 7|count: 8|' "$RF_TMP/rel/rel.yaml"
rf_ctl --json reload >"$RF_TMP/reload.json" 2>"$RF_TMP/reload.err" ||
    rf_fail "reload with relative paths: $(cat "$RF_TMP/reload.err")" \
    "$(cat "$RF_TMP/reload.json")"
rf_expect "reload.ok with relative paths" \
    "$(jq -r .ok "$RF_TMP/reload.json")" true
rf_ctl_test status '.captures[0].state == "running" and
    .captures[0].running == 2' ||
    rf_fail "not every worker running after the reload"
out=$(rf_ctl stop) || rf_fail "ringfanctl stop failed"
rf_expect "ringfanctl stop says" "$out" stopping
rf_wait_until 10 "the daemon $pid to exit" gone
RF_PID=
echo "ok: relative paths under -D"
echo "PASS"

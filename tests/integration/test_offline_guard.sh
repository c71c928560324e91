#!/bin/bash
# ringfan -r runs the plugins in a process it forks, not in a worker: a
# plugin that crashes, calls exit() or _exit() or never returns must be
# named on stderr with the callback it was in and the frames handled
# before, and the run must end with the signal's status (2 after exit()
# and _exit()) and no statistics document.  A plugin
# that returns a verdict that is neither RINGFAN_CONTINUE nor RINGFAN_STOP
# is warned about once and its frames stop there; a plugin's error text is
# one line of the log.
#
# The file: 5 frames of 64 bytes, then 1 of 100 (the marked frame).
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline-guard
. "$(dirname "$0")/nolink.sh"

: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

PCAP=$TMP/six.pcap
"$RFSEND" -q -w "$TMP/a.pcap" -n 5 -f 1 -s 64
"$RFSEND" -q -w "$TMP/b.pcap" -n 1 -f 1 -s 100
{ cat "$TMP/a.pcap"; tail -c +25 "$TMP/b.pcap"; } >"$PCAP"

# config NAME PIPELINE-YAML: the capture's pipeline as given.
config()
{
	printf '%s\n' "plugin_path: [\"$PLUGIN_PATH_TEST\", \"$PLUGIN_PATH_BUILD\"]" \
	    "captures:" "  - name: g" "    interface: eth0" "    pipeline:" \
	    "$2" >"$TMP/$1.yaml"
}

# run NAME: ringfan -r over the file; rc, its stderr in $err, stdout kept.
run()
{
	rc=0
	"$RINGFAN" -c "$TMP/$1.yaml" -r "$PCAP" >"$TMP/$1.out" \
	    2>"$TMP/$1.err" || rc=$?
	err=$(cat "$TMP/$1.err")
}

tail_of="frames of $PCAP; the run ends without its statistics"

config crash '      - plugin: crash
        config: { len: 100 }'
run crash
guarded crash 139 "ringfan: g/0: in plugin crash's packet: killed by signal \
11 (Segmentation fault) after 5 $tail_of"

config ahead '      - plugin: crashahead
        config: { len: 100 }'
run ahead
guarded ahead 139 "ringfan: g/0: in plugin crashahead's prefetch: killed \
by signal 11 (Segmentation fault) after 0 $tail_of"

# Later stages are named by their step, the worker by its tag.
config close '      - plugin: counter
      - plugin: crash
        config: { in_close: true }'
run close
guarded close 139 "ringfan: g/0: in plugin crash's close: killed by signal \
11 (Segmentation fault) after 6 $tail_of"

config exit '      - plugin: crash
        config: { len: 100, exit: true }'
run exit
guarded exit 2 "ringfan: g/0: in plugin crash's packet: the plugin called \
exit() after 5 $tail_of"

# _exit() and SIGKILL pass no handler of the run's process: the process
# that forked the run and waits for it says where it was, and ends with 2
# after _exit(), whatever the plugin asked for, and by the signal itself.
config bare '      - plugin: crash
        config: { len: 100, exit: true, bare: true }'
run bare
guarded bare 2 "ringfan: g/0: in plugin crash's packet: the process ended \
with _exit(0) after 5 $tail_of"

config bareclose '      - plugin: counter
      - plugin: crash
        config: { in_close: true, exit: true, bare: true, code: 5 }'
run bareclose
guarded bareclose 2 "ringfan: g/0: in plugin crash's close: the process \
ended with _exit(5) after 6 $tail_of"

# In a constructor, as the plugin is loaded.
rc=0
RINGFAN_TEST_CRASH_CTOR=6 "$RINGFAN" -c "$TMP/bareclose.yaml" -r "$PCAP" \
    >"$TMP/ctor.out" 2>"$TMP/ctor.err" || rc=$?
err=$(cat "$TMP/ctor.err")
guarded ctor 2 "ringfan: g/0: while loading plugin crash: the process \
ended with _exit(6) after 0 $tail_of"

# Killed by the signal, not an exit with its number (python's subprocess
# tells them apart: -9).
config killed '      - plugin: crash
        config: { len: 100, signal: 9 }'
rc=$(python3 -c 'import subprocess, sys
print(subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w")).returncode)' \
    "$TMP/killed.out" "$RINGFAN" -c "$TMP/killed.yaml" -r "$PCAP" \
    2>"$TMP/killed.err")
err=$(cat "$TMP/killed.err")
guarded killed -9 "ringfan: g/0: in plugin crash's packet: killed by \
signal 9 (Killed) after 5 $tail_of"

# Two workers: a crash in the first one's check, before the second is
# set up, is named with it.
config check '      - plugin: ctxprobe
        config: { check: crash }'
rc=0
"$RINGFAN" -c "$TMP/check.yaml" -r "$PCAP" --workers 2 >"$TMP/check.out" \
    2>"$TMP/check.err" || rc=$?
err=$(cat "$TMP/check.err")
guarded check 139 "ringfan: g/0: in plugin ctxprobe's check: killed by \
signal 11 (Segmentation fault) after 0 $tail_of"

# After a batch stage: the per-frame stage is named, not "a batch stage".
config batch '      - plugin: batcher
      - plugin: crash
        config: { len: 100 }'
run batch
guarded batch 139 "ringfan: g/0: in plugin crash's packet: killed by \
signal 11 (Segmentation fault) after 6 $tail_of"

# In a batch callback: named as such.
config inbatch '      - plugin: counter
      - plugin: batcher
        config: { crash: 100 }'
run inbatch
guarded inbatch 139 "ringfan: g/0: in plugin batcher's batch: killed by \
signal 11 (Segmentation fault) after 6 $tail_of"

# A file cut shorter under its mapping while it is read: SIGBUS in the
# mapping is the file's, not a plugin's.  The walk reads zeros past the cut
# and ends as on any error of the file: exit 2, the file named with the
# frames handed over before the cut (the last one across it), and their
# statistics printed.  The cut is 7405 records of 1416 bytes in (the
# 7406th across it), read at 1 ms a frame.
"$RFSEND" -q -w "$TMP/big.pcap" -n 20000 -f 1 -s 1400
config slow '      - plugin: slow
        config: { delay: 1ms }'
"$RINGFAN" -c "$TMP/slow.yaml" -r "$TMP/big.pcap" >"$TMP/slow.out" \
    2>"$TMP/slow.err" &
pid=$!
BG="$pid"
# Cut once the run (the process ringfan forks) has the file mapped,
# thousands of frames before the cut's page.
for ((i = 0; i < 300; i++)); do
	r=$(run_of "$pid")
	! grep -q "$TMP/big.pcap" "/proc/$r/maps" 2>/dev/null || break
	sleep 0.1
done
grep -q "$TMP/big.pcap" "/proc/$r/maps" ||
    fail "cut under the mapping: the file was not mapped within 30 s"
truncate -s 10485760 "$TMP/big.pcap"
rc=0
wait "$pid" || rc=$?
BG=""
expect "cut under the mapping: exit status" "$rc" 2
expect "cut under the mapping: stderr" "$(cat "$TMP/slow.err")" \
    "ringfan: $TMP/big.pcap: the file was cut shorter while it was read \
(7406 frames handed to the pipeline before it)"
expect "cut under the mapping: packets" \
    "$(jq '.captures[0].totals.packets' "$TMP/slow.out")" 7406

# A plugin that never returns: a signal says where it was.
config spin '      - plugin: spin
        config: { len: 100 }'

# spinning NAME: ringfan -r with spin.yaml in the background (its pid in
# pid, its output in $TMP/NAME.out and .err), once the run spins: its CPU
# time grows while it stays alive (no timing asserted).
spinning()
{
	"$RINGFAN" -c "$TMP/spin.yaml" -r "$PCAP" >"$TMP/$1.out" \
	    2>"$TMP/$1.err" &
	pid=$!
	BG="$pid"
	for ((i = 0; i < 300; i++)); do
		ticks=$(awk '{ print $14 }' "/proc/$(run_of "$pid")/stat" \
		    2>/dev/null || echo 0)
		[ "$ticks" -lt 20 ] || return 0
		sleep 0.1
	done
	fail "$1: no CPU spent after 30 s"
}

# ended NAME: ringfan's status in rc, its stderr in err.
ended()
{
	rc=0
	wait "$pid" || rc=$?
	BG=""
	err=$(cat "$TMP/$1.err")
}

# SIGINT to ringfan, which passes it on to the run (were it not, ringfan
# would end by it, and the run would be killed with it, unnamed).
spinning spin
kill -INT "$pid"
ended spin
guarded spin 130 "ringfan: g/0: in plugin spin's packet: interrupted by \
signal 2 (Interrupt) after 5 $tail_of"

# The run killed from outside (as the out-of-memory killer would): ringfan
# names where it was, and ends by the signal.
spinning spinkill
r=$(run_of "$pid")
[ "$r" -gt 0 ] || fail "spinkill: the run is gone"
kill -KILL "$r"
ended spinkill
guarded spinkill 137 "ringfan: g/0: in plugin spin's packet: killed by \
signal 9 (Killed) after 5 $tail_of"

# A verdict of 7: taken as RINGFAN_STOP, said once, the run goes on.
config verdict '      - plugin: crash
        config: { verdict: 7 }
      - plugin: counter'
run verdict
expect "verdict: exit status" "$rc" 0
expect "verdict: stderr" "$err" "ringfan[g/0] warn: plugin crash: packet \
returned 7, neither RINGFAN_CONTINUE nor RINGFAN_STOP: taken as \
RINGFAN_STOP (said once)"
json_is "$TMP/verdict.out" 'type == "object"' ||
    fail "verdict: no JSON document: $(head -c 300 "$TMP/verdict.out")"
w='.captures[0].workers[0]'
expect "verdict: frames" "$(jq "$w.packets" "$TMP/verdict.out")" 6
expect "verdict: crash saw" "$(jq "$w.plugins.crash.seen" \
    "$TMP/verdict.out")" 6
expect "verdict: counter's ethernet" "$(jq "$w.plugins.counter.ethernet" \
    "$TMP/verdict.out")" 0

# An error of a plugin's open is one line: a newline in it shows as ?.
config line '      - plugin: crash
        config: { len: "1\n2" }'
run line
expect "line: exit status" "$rc" 1
expect "line: lines on stderr" "$(wc -l <"$TMP/line.err")" 1
case $err in
*'"1?2"'*) echo "ok: line: the newline shows as ?" ;;
*) fail "line: no \"1?2\" in: $err" ;;
esac

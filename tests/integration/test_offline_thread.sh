#!/bin/bash
# ringfan -r has one thread of its own: a fault or an exit() on another is
# a thread that plugin code started, and the guard names it so, whatever
# the run's thread is doing meanwhile: the status of the signal (2 after
# exit(), whatever code the thread asked for), one line, no statistics.
# Not a silent exit with the thread's code and no document.
#
# threader's thread acts once packet has seen 3 frames and its `go` file
# exists.  The file comes through a FIFO that the test keeps open after 3
# frames: once the run's thread waits in a read of the FIFO (its wchan,
# pipe_read or anon_pipe_read), every frame is counted and it is outside
# the plugins; then the test makes the file, and "after 3 frames" is exact.
#
# A child that plugin code forks and that calls exit() ends as it asks:
# its own status, no line, and the run goes on to its statistics.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline-thread
. "$(dirname "$0")/nolink.sh"

: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

"$RFSEND" -q -w "$TMP/three.pcap" -n 3 -f 1 -s 64
FIFO=$TMP/frames
GO=$TMP/go

# config NAME THREADER-OPTIONS: $TMP/NAME.yaml.
config()
{
	printf '%s\n' "plugin_path: [\"$PLUGIN_PATH_TEST\"]" \
	    "captures:" "  - name: g" "    interface: eth0" "    pipeline:" \
	    "      - plugin: threader" "        config: { $2 }" \
	    >"$TMP/$1.yaml"
}

# run NAME OPTIONS: ringfan -r over the FIFO, fed the 3 frames and held
# open, the go file made once the run waits for more; rc, its stderr in
# $err, stdout kept.
run()
{
	local pid

	config "$1" "$2, after: 3, go: \"$GO\""
	rm -f "$FIFO" "$GO"
	mkfifo "$FIFO"
	# Read and write: the open does not wait for a reader, and the FIFO
	# keeps a writer until the run is over.
	exec 9<>"$FIFO"
	cat "$TMP/three.pcap" >&9
	rc=0
	"$RINGFAN" -c "$TMP/$1.yaml" -r "$FIFO" >"$TMP/$1.out" \
	    2>"$TMP/$1.err" 9>&- &
	pid=$!
	BG="$BG $pid"
	wait_for 30 "$1: the run waiting for more of the FIFO" \
	    run_waits_in "$pid" '*pipe_read'
	: >"$GO"
	wait "$pid" || rc=$?
	exec 9>&-
	err=$(cat "$TMP/$1.err")
}

tail_of="after 3 frames of $FIFO; the run ends without its statistics"

run exit0 "act: exit, code: 0"
guarded exit0 2 "ringfan: g/0: in a plugin's thread: the plugin called \
exit() $tail_of"

run exit1 "act: exit, code: 1"
guarded exit1 2 "ringfan: g/0: in a plugin's thread: the plugin called \
exit() $tail_of"

run segv "act: segv"
guarded segv 139 "ringfan: g/0: in a plugin's thread: killed by signal 11 \
(Segmentation fault) $tail_of"

# A child forked in packet of the second frame calls exit(7): its status
# is 7, ringfan says nothing of it, and the run ends with its statistics.
config fork "act: fork, code: 7, after: 2"
rc=0
"$RINGFAN" -c "$TMP/fork.yaml" -r "$TMP/three.pcap" >"$TMP/fork.out" \
    2>"$TMP/fork.err" || rc=$?
expect "fork: exit status" "$rc" 0
expect "fork: stderr" "$(cat "$TMP/fork.err")" ""
expect "fork: the child's status" \
    "$(jq '.captures[0].workers[0].gauges.threader.child' "$TMP/fork.out")" 7
expect "fork: packets" "$(jq '.captures[0].totals.packets' "$TMP/fork.out")" 3

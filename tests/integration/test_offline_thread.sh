#!/bin/bash
# ringfan -r has one thread of its own: a fault or an exit() on another is
# a thread that plugin code started, and the guard names it so, whatever
# the run's thread is doing meanwhile: the status of the signal (2 after
# exit(), whatever code the thread asked for), one line, no statistics.
# Not a silent exit with the thread's code and no document.
#
# threader's thread acts once packet has seen 3 frames.  The file comes
# through a FIFO that the test keeps open after 3 frames: the run's thread
# then waits for more outside the plugins, and "after 3 frames" is exact.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline-thread
. "$(dirname "$0")/nolink.sh"

: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

"$RFSEND" -q -w "$TMP/three.pcap" -n 3 -f 1 -s 64
FIFO=$TMP/frames

# run NAME CONFIG: ringfan -r over the FIFO, fed the 3 frames and held
# open; rc, its stderr in $err, stdout kept.
run()
{
	printf '%s\n' "plugin_path: [\"$PLUGIN_PATH_TEST\"]" \
	    "captures:" "  - name: g" "    interface: eth0" "    pipeline:" \
	    "      - plugin: threader" "        config: { $2, after: 3 }" \
	    >"$TMP/$1.yaml"
	rm -f "$FIFO"
	mkfifo "$FIFO"
	# Read and write: the open does not wait for a reader, and the FIFO
	# keeps a writer until the run is over.
	exec 9<>"$FIFO"
	cat "$TMP/three.pcap" >&9
	rc=0
	"$RINGFAN" -c "$TMP/$1.yaml" -r "$FIFO" >"$TMP/$1.out" \
	    2>"$TMP/$1.err" 9>&- || rc=$?
	exec 9>&-
	err=$(cat "$TMP/$1.err")
}

# guarded NAME STATUS LINE: the run's status, its one line, no document.
guarded()
{
	expect "$1: exit status" "$rc" "$2"
	expect "$1: stderr" "$err" "$3"
	expect "$1: bytes on stdout" "$(wc -c <"$TMP/$1.out")" 0
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

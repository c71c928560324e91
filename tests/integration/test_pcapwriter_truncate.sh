#!/bin/bash
# pcapwriter's open file is truncated under it, as logrotate's copytruncate
# does (cp FILE FILE.1; : > FILE), or someone freeing space with `: > FILE`.
#
# The worker is stopped (SIGSTOP) while the file is copied and truncated,
# so no flush falls between the two.  Afterwards every non-empty file in the
# directory must still read with tcpdump, and every frame pcapwriter counts
# as written must be in a file (the copy, or the directory): a truncated
# file must not be written on at its old offset, which leaves a hole of
# zeros where the pcap header was (tcpdump: "unknown file format") while
# `frames` counts the records after the hole as written.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump

PW='.captures[0].workers[0].plugins.pcapwriter'

# tr_frames FILE: adds the frames tcpdump reads in FILE, without complaint,
# to ON_DISK.
ON_DISK=0
tr_frames()
{
	local n

	n=$(rf_pcap_frames "$1")
	ON_DISK=$((ON_DISK + n))
	echo "ok: $1: $n frames"
}

DIR=$RF_TMP/pcap
mkdir "$DIR"
rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: pcapwriter, config: { directory: \"$DIR\" } }"
rf_start

rf_send -t udp -n 500 -f 4 -s 300 -r 1000
# The tick writes the buffer out within a second.
rf_wait_until 5 "500 frames written" rf_ctl_test stats "$PW.frames == 500"
mapfile -t files < <(ls "$DIR")
rf_expect "files before the truncation" "${#files[@]}" 1
open=$DIR/${files[0]}

pid=$(rf_ctl_num workers '.workers[0].pid')
kill -STOP "$pid"
cp "$open" "$RF_TMP/rotated.pcap"
: >"$open"
kill -CONT "$pid"
echo "ok: $open copied and truncated"

rf_send -t udp -n 500 -f 4 -s 300 -r 1000
# The tick writes the buffer out, and finds the file truncated, while the
# worker runs (not only at the stop's close).
rf_wait_until 5 "the truncation seen while running" grep -q \
    "truncated while open" "$RF_ERR"
rf_stop

rf_expect "packets" "$(rf_num '.captures[0].totals.packets')" 1000
rf_expect "frames + frames_dropped" \
    "$(rf_num "$PW | .frames + .frames_dropped")" 1000
tr_frames "$RF_TMP/rotated.pcap"
for f in "$DIR"/*; do
	[ -s "$f" ] || continue		# left empty by the truncation
	tr_frames "$f"
done
rf_expect "frames counted as written = frames in the files" \
    "$(rf_num "$PW.frames")" "$ON_DISK"
grep -q "$open: truncated while open (0 bytes, [0-9]* written); a new file starts" \
    "$RF_ERR" || rf_fail "no log line naming $open truncated"
echo "PASS"

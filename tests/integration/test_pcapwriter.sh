#!/bin/bash
# pcapwriter on a live capture.
#
# Part 1: two workers in hash fanout write pcap files while frames arrive,
# and the workers are killed with SIGKILL three times mid-stream.  After a
# graceful stop every file reads cleanly with tcpdump, and each worker's
# files hold each frame it handled exactly once: its `packets`, plus at most
# the frames quarantined at the kills (a frame in hand when the kill came
# may have reached the write buffer before the host counted it handled).
#
# Part 2: the directory is a 256 KiB tmpfs.  It fills: writes fail, frames
# are counted as dropped and a status names the file and the error, while
# the sensor goes on counting frames.  Once files are deleted, writing
# resumes and the status clears.  Every frame is written or dropped, and
# what was written is on disk, to the byte.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump


NAME_RE='^test-[01]-[0-9]{8}T[0-9]{6}Z-[0-9]{6,}\.pcap$'

# pw_count DIR PREFIX: frames in DIR's files named PREFIX*, each read.
pw_count()
{
	local f n sum=0

	for f in "$1/$2"*; do
		[ -e "$f" ] || continue
		n=$(rf_pcap_frames "$f")
		sum=$((sum + n))
	done
	echo "$sum"
}

# --- Part 1: kill -9 mid-stream ---------------------------------------------

N=20000
DIR=$RF_TMP/pcap
mkdir "$DIR"
rf_link
opts="directory: \"$DIR\", rotate_size: 256KiB"
rf_config 2 hash "udp port 9" "{ plugin: pcapwriter, config: { $opts } }"
# Room for the frames that wait while a worker is respawned.
rf_set_ring 64KiB 128 10ms
rf_start

rf_send_bg -t udp -n "$N" -f 64 -s 300 -r 5000
for k in 1 2 3; do
	# Mid-stream: 4000 more frames counted (0.8 s of it) before each kill.
	rf_wait_flowing $((k * 4000))
	w=$(((k - 1) % 2))
	restarts=$(rf_ctl_num workers ".workers[$w].restarts")
	pid=$(rf_ctl_num workers ".workers[$w].pid")
	kill -KILL "$pid"
	echo "ok: kill -9 worker $w (pid $pid)"
	rf_wait_until 10 "worker $w respawned and running" rf_ctl_test workers \
	    ".workers[$w].restarts == $((restarts + 1)) and
	     .workers[$w].state == \"running\""
done
rf_send_wait
rf_stop

rf_expect "sum of restarts" "$(rf_sum .restarts)" 3
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"
rf_expect "kernel_packets = packets + kernel_drops + quarantined" \
    "$(rf_num '.captures[0].totals |
    .kernel_packets - .packets - .kernel_drops - .quarantined')" 0
rf_expect "write_errors summed" "$(rf_sum .plugins.pcapwriter.write_errors)" 0
rf_expect "frames_dropped summed" \
    "$(rf_sum .plugins.pcapwriter.frames_dropped)" 0
grep -q "carried on after a crash" "$RF_ERR" ||
    rf_fail "no worker carried on with its predecessor's file"
echo "ok: $(grep -c "carried on after a crash" "$RF_ERR") workers carried" \
    "on with their predecessor's file"

for f in "$DIR"/*; do
	[[ "$(basename "$f")" =~ $NAME_RE ]] ||
	    rf_fail "unexpected file name: $(basename "$f")"
done

for w in 0 1; do
	inf=$(pw_count "$DIR" "test-$w-")
	pk=$(rf_num ".captures[0].workers[$w].packets")
	q=$(rf_num ".captures[0].workers[$w].quarantined")
	[ "$inf" -ge "$pk" ] && [ "$inf" -le $((pk + q)) ] ||
	    rf_fail "worker $w: $inf frames in its files, packets $pk," \
	    "quarantined $q"
	echo "ok: worker $w: $inf frames in its files, packets $pk," \
	    "quarantined $q"
	# 829 records of 316 bytes after the 24-byte header fill 256 KiB:
	# the kills changed no file's cut.
	rf_expect "worker $w: files" "$(find "$DIR" -name "test-$w-*" | wc -l)" \
	    $(((inf + 828) / 829))
done

# --- Part 2: a full disk ----------------------------------------------------

rf_tmpfs 256k || rf_skip "cannot mount a tmpfs for part 2 (part 1 passed)"
PW_MNT=$RF_MNT

opts="directory: \"$PW_MNT\", rotate_size: 64KiB"
rf_config 1 hash "udp port 9" "{ plugin: pcapwriter, config: { $opts } }"
rf_start

# 2000 records of 316 bytes: more than twice what fits.
rf_send -t udp -n 2000 -f 4 -s 300 -r 4000
rf_wait_until 5 "pcapwriter reports a problem" rf_ctl_test plugins \
    '.captures[0].plugins[] | select(.name == "pcapwriter") |
     .errors | length == 1'
err=$(rf_ctl_json plugins '.captures[0].plugins[] |
    select(.name == "pcapwriter") | .errors[0].error')
re="^(write|open) $PW_MNT/test-0-[0-9]{8}T[0-9]{6}Z-[0-9]{6}\\.pcap: "
re+="No space left on device\$"
[[ "$err" =~ $re ]] || rf_fail "plugins: error is \"$err\""
echo "ok: plugins: $err"
rf_expect "stats: errors.pcapwriter" \
    "$(rf_ctl_json stats '.captures[0].workers[0].errors.pcapwriter')" "$err"
PW_LIVE='.captures[0].workers[0].plugins.pcapwriter'
we=$(rf_ctl_num stats "$PW_LIVE.write_errors")
fd=$(rf_ctl_num stats "$PW_LIVE.frames_dropped")
[ "$we" -gt 0 ] && [ "$fd" -gt 0 ] ||
    rf_fail "full disk: write_errors $we, frames_dropped $fd"
echo "ok: full disk: write_errors $we, frames_dropped $fd"

# The sensor goes on: every frame is still counted.
rf_wait_until 5 "packets 2000" rf_ctl_test stats \
    '.captures[0].totals.packets == 2000'
rf_send -t udp -n 500 -f 4 -s 300 -r 4000
rf_wait_until 5 "packets 2500" rf_ctl_test stats \
    '.captures[0].totals.packets == 2500'
echo "ok: still capturing while the disk is full"

# Let the last failed flush happen; then every file is whole, full disk or
# not.  Free the space: all but the newest file (it may be the open one).
sleep 1.5
fd=$(rf_ctl_num stats "$PW_LIVE.frames_dropped")
deleted_frames=0 deleted_bytes=0
mapfile -t files < <(ls "$PW_MNT")
[ "${#files[@]}" -ge 2 ] || rf_fail "full disk: ${#files[@]} files"
for f in "${files[@]}"; do
	n=$(rf_pcap_frames "$PW_MNT/$f")
	[ "$f" = "${files[-1]}" ] && continue
	deleted_frames=$((deleted_frames + n))
	deleted_bytes=$((deleted_bytes + $(stat -c %s "$PW_MNT/$f")))
	rm "$PW_MNT/$f"
done
echo "ok: deleted $((${#files[@]} - 1)) files: $deleted_frames frames," \
    "$deleted_bytes bytes"

# Frames are dropped until the next tick (once a second) tries again: 100
# frames over 2 s see it, and are counted as written or dropped.
rf_send -t udp -n 100 -f 4 -s 300 -r 50
rf_wait_until 5 "the problem is over" rf_ctl_test plugins \
    '.captures[0].plugins[] | select(.name == "pcapwriter") |
     .errors | length == 0'
rf_expect "stats: errors" \
    "$(rf_ctl_json stats '.captures[0].workers[0].errors | length')" 0
fd=$(rf_ctl_num stats "$PW_LIVE.frames_dropped")
rf_send -t udp -n 200 -f 4 -s 300 -r 1000
rf_wait_until 5 "packets 2800" rf_ctl_test stats \
    '.captures[0].totals.packets == 2800'
rf_stop

rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" 2800
PW_FINAL='.captures[0].workers[0].plugins.pcapwriter'
rf_expect "frames + frames_dropped = packets" \
    "$(rf_num "$PW_FINAL | .frames + .frames_dropped")" 2800
# Nothing dropped once writing worked again: the last 200 frames are on
# disk.
rf_expect "frames_dropped" "$(rf_num "$PW_FINAL.frames_dropped")" "$fd"
rf_expect "frames written = frames on disk + deleted" \
    "$(rf_num "$PW_FINAL.frames")" \
    $(($(pw_count "$PW_MNT" test-0-) + deleted_frames))
rf_expect "bytes written = bytes on disk + deleted" \
    "$(rf_num "$PW_FINAL.bytes")" \
    $(($(stat -c %s "$PW_MNT"/* | awk '{ s += $1 } END { print s }') +
    deleted_bytes))
echo "PASS"

#!/bin/bash
# pcapwriter under a file size limit (ulimit -f, systemd's LimitFSIZE=).
#
# Part 1: the limit is set before the start.  pcapwriter rotates its files
# at the limit as at rotate_size: offline (ringfan -r) and live, every
# frame is written, no file is larger than the limit, no error.  2000
# records of 316 bytes (300-byte frames) against 256 KiB: files of 829,
# 829 and 342 frames (24 + 829 * 316 = 261,988 bytes).
#
# Part 2: the limit is lowered under a running worker (prlimit), below the
# length of its open file.  The write fails with EFBIG and is handled like
# a full disk (the frames counted as dropped, a status naming the file)
# instead of SIGXFSZ killing the worker: killed, it would be respawned into
# the same write until its capture failed.  The file stays whole.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump prlimit

N=2000
LIMIT_KIB=256
PW='.captures[0].workers[0].plugins.pcapwriter'

# fs_rotated DIR: DIR holds the N frames in files of 829, 829 and 342,
# none dropped.
fs_rotated()
{
	local f n got=() i=0

	for f in "$1"/*; do
		n=$(rf_pcap_frames "$f")
		got+=("$n")
		[ "$(stat -c %s "$f")" -le $((LIMIT_KIB * 1024)) ] ||
		    rf_fail "$f: $(stat -c %s "$f") bytes, over the limit"
	done
	rf_expect "frames in each file" "${got[*]}" "829 829 342"
	rf_expect "frames" "$(rf_num "$PW.frames")" "$N"
	rf_expect "rotations" "$(rf_num "$PW.rotations")" 2
	rf_expect "frames_dropped" "$(rf_num "$PW.frames_dropped")" 0
	rf_expect "write_errors" "$(rf_num "$PW.write_errors")" 0
}

# --- Part 1, offline ---------------------------------------------------------

"$RFSEND" -w "$RF_TMP/in.pcap" -n "$N" -t udp -f 4 -s 300 -q
DIR=$RF_TMP/off
mkdir "$DIR"
cat >"$RF_CONF" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: test
    interface: $RF_CAP
    pipeline:
      - plugin: pcapwriter
        config: { directory: "$DIR" }
YAML
rc=0
(ulimit -S -f "$LIMIT_KIB" && exec "$RINGFAN" -c "$RF_CONF" -r "$RF_TMP/in.pcap") \
    >"$RF_STATS" 2>"$RF_ERR" || rc=$?
rf_expect "ringfan -r exit status" "$rc" 0
fs_rotated "$DIR"

# --- Part 1, live ------------------------------------------------------------

DIR=$RF_TMP/live
mkdir "$DIR"
rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: pcapwriter, config: { directory: \"$DIR\" } }"
# The master and its workers inherit the limit.
ulimit -S -f "$LIMIT_KIB"
rf_start
ulimit -S -f "$(ulimit -H -f)"
rf_send -t udp -n "$N" -f 4 -s 300 -r 4000
rf_stop
rf_expect_all "$N"
fs_rotated "$DIR"

# --- Part 2: the limit lowered under the worker ------------------------------

DIR=$RF_TMP/lowered
mkdir "$DIR"
rf_config 1 hash "udp port 9" \
    "{ plugin: pcapwriter, config: { directory: \"$DIR\" } }"
rf_start
rf_send -t udp -n 1000 -f 4 -s 300 -r 4000
rf_wait_until 5 "1000 frames in the file" rf_ctl_test stats \
    "$PW.frames == 1000"
pid=$(rf_ctl_num workers '.workers[0].pid')
prlimit --pid "$pid" --fsize=$((LIMIT_KIB * 1024)):
rf_send -t udp -n 500 -f 4 -s 300 -r 4000
rf_wait_until 5 "pcapwriter reports the limit" rf_ctl_test stats \
    '.captures[0].workers[0].errors.pcapwriter // "" |
     endswith(": File too large")'
rf_stop
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
rf_expect_all 1500
rf_expect "frames" "$(rf_num "$PW.frames")" 1000
rf_expect "frames_dropped" "$(rf_num "$PW.frames_dropped")" 500
rf_expect "bytes_dropped" "$(rf_num "$PW.bytes_dropped")" $((500 * 316))
f=$(ls "$DIR")
rf_expect "files" "$(wc -w <<<"$f")" 1
rf_expect "error" "$(rf_json '.captures[0].workers[0].errors.pcapwriter')" \
    "write $DIR/$f: File too large"
rf_expect "file size" "$(stat -c %s "$DIR/$f")" $((24 + 1000 * 316))
n=$(rf_pcap_frames "$DIR/$f")
rf_expect "frames tcpdump reads" "$n" 1000
echo "PASS"

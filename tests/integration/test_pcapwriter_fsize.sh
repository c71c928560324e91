#!/bin/bash
# pcapwriter under a file size limit (ulimit -f, systemd's LimitFSIZE=).
# A write past the limit must fail with EFBIG and be handled like a full
# disk, not kill the process with SIGXFSZ: offline, ringfan -r exits 0
# with its statistics; live, the worker goes on without a restart (killed,
# it would be respawned into the same write until its capture failed).
# Either way the file is cut after its last whole record below the limit,
# tcpdump reads it, and every frame is written or counted as dropped.
#
# 2000 records of 316 bytes (300-byte frames) against a 256 KiB limit:
# the 24-byte header and 829 records fit (261,988 bytes), 1171 do not.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
command -v tcpdump >/dev/null 2>&1 || rf_skip "no tcpdump"

N=2000
KEPT=829
LIMIT_KIB=256

# fs_check DIR STATS-FILTER: DIR holds one file, of KEPT frames that
# tcpdump reads without complaint, and the counters say so.
fs_check()
{
	local dir=$1 pw=$2 f rc=0

	mapfile -t f < <(ls "$dir")
	rf_expect "files in $dir" "${#f[@]}" 1
	f="$dir/${f[0]}"
	rf_expect "file size" "$(stat -c %s "$f")" $((24 + KEPT * 316))
	tcpdump -r "$f" -nn -q >"$RF_TMP/td.out" 2>"$RF_TMP/td.err" || rc=$?
	[ "$rc" -eq 0 ] && ! grep -qi truncated "$RF_TMP/td.err" ||
	    rf_fail "tcpdump -r $f: $(cat "$RF_TMP/td.err")"
	rf_expect "frames tcpdump reads" "$(wc -l <"$RF_TMP/td.out")" "$KEPT"
	rf_expect "frames" "$(rf_num "$pw.frames")" "$KEPT"
	rf_expect "bytes" "$(rf_num "$pw.bytes")" $((24 + KEPT * 316))
	rf_expect "frames_dropped" "$(rf_num "$pw.frames_dropped")" \
	    $((N - KEPT))
	rf_expect "bytes_dropped" "$(rf_num "$pw.bytes_dropped")" \
	    $(((N - KEPT) * 316))
	[ "$(rf_num "$pw.write_errors")" -gt 0 ] ||
	    rf_fail "write_errors is 0"
}

# --- Offline: ringfan -r -------------------------------------------------

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
fs_check "$DIR" '.captures[0].workers[0].plugins.pcapwriter'
rf_expect "offline: error" \
    "$(rf_json '.captures[0].workers[0].errors.pcapwriter')" \
    "write $(ls "$DIR"/*): File too large"

# --- Live ------------------------------------------------------------------

DIR=$RF_TMP/live
mkdir "$DIR"
rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: pcapwriter, config: { directory: \"$DIR\" } }"
# The master and its workers inherit the limit.
ulimit -S -f "$LIMIT_KIB"
rf_start
rf_send -t udp -n "$N" -f 4 -s 300 -r 4000
rf_wait_until 5 "pcapwriter reports the limit" rf_ctl_test stats \
    '.captures[0].workers[0].errors.pcapwriter // "" |
     endswith(": File too large")'
rf_stop
ulimit -S -f "$(ulimit -H -f)"
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
rf_expect "capture state" "$(rf_json '.captures[0].state')" running
rf_expect_all "$N"
fs_check "$DIR" '.captures[0].workers[0].plugins.pcapwriter'
echo "PASS"

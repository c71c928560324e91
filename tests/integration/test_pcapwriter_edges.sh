#!/bin/bash
# pcapwriter offline (ringfan -r), two edges of its rotation:
#
# Part 1: a frame stamped past 2106-02-07T06:28:15Z (a pcapng file can
# hold one) is dropped, and docs/plugins.md says "no file is made or
# rotated for it, and the frames around it are written as usual".  Offline,
# network time then jumps to that stamp, and the tick must not close the
# open file for it: without rotate_interval (the deadline "never" is
# UINT64_MAX, which a frame stamped 2^64-1 ns reaches) and with it.  So the
# frames around it go to one file, and `rotations` stays 0.
#
# Part 2: under a file size limit (ulimit -f) a frame larger than the
# limit cannot be written, "but" only that frame: the frames that fit,
# before and after it, are written (docs/plugins.md, Rotation).  Frames of
# 1514 bytes (a 1554-byte file) and 3000 bytes alternate 300 ms apart under
# a 2 KiB limit: the 15 small ones are written, the 15 large ones dropped.
#
# Part 3: a record whose captured length is above its length on the wire (a
# file written wrong) reaches the plugins with the wire length raised to
# the captured one, as plugin.h promises (caplen <= len): the worker's
# bytes count it so, and pcapwriter writes that length, which tcpdump reads.
#
# Part 4: an earlier run's file read again from the directory the run
# writes to, under max_disk: it is the worker's oldest file by its name,
# but the file being read is never removed (it stays, outside the share,
# with one warning); the files the run writes are held to the share.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools python3 tcpdump

PW='.captures[0].workers[0].plugins.pcapwriter'

# ed_run DIR OPTIONS INPUT [ULIMIT_KIB]: ringfan -r INPUT with pcapwriter
# writing to DIR; the final stats in $RF_STATS.
ed_run()
{
	local rc=0

	rm -rf "$1"
	mkdir "$1"
	rf_config 1 hash "" "{ plugin: pcapwriter, config: { directory: \"$1\"$2 } }"
	# stdout through a pipe: the file size limit is not for the stats.
	(ulimit -S -f "${4:-unlimited}" &&
	    exec "$RINGFAN" -c "$RF_CONF" -r "$3") 2>"$RF_ERR" |
	    cat >"$RF_STATS" || rc=$?
	rf_expect "ringfan -r $(basename "$3") exit status" "$rc" 0
}

# ed_frames DIR: the frames in DIR's files, each read by tcpdump without
# complaint.
ed_frames()
{
	local f c n=0

	for f in "$1"/*; do
		c=$(rf_pcap_frames "$f")
		n=$((n + c))
	done
	echo "$n"
}

# --- Part 1: a frame past 2106 ----------------------------------------------

python3 - "$RF_TMP" <<'PY'
import struct, sys
def blk(t, body):
    body += b'\0' * (-len(body) % 4)
    return struct.pack('<II', t, 12 + len(body)) + body + \
        struct.pack('<I', 12 + len(body))
eth = bytes.fromhex('0a00000000010a0000000002' '0800'
    '4500001c00010000401100000a0000010a000002' '04d2000900080000')
def write(name, stamps):
    with open(sys.argv[1] + '/' + name, 'wb') as o:
        o.write(blk(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1)))
        # if_tsresol 9: nanoseconds
        o.write(blk(1, struct.pack('<HHI', 1, 0, 0) +
            struct.pack('<HHB3x', 9, 1, 9) + struct.pack('<HH', 0, 0)))
        for t in stamps:
            o.write(blk(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff,
                len(eth), len(eth)) + eth))
t0 = 1700000000 * 10**9
write('max.pcapng', [t0, 2**64 - 1, t0 + 10**8, t0 + 2 * 10**8])
write('late.pcapng', [t0, t0 + 10**8, 7 * 10**18, t0 + 2 * 10**8,
    t0 + 3 * 10**8])
PY

for run in "max.pcapng|" "late.pcapng|" "late.pcapng|, rotate_interval: 1h"; do
	in=${run%%|*}
	opts=${run#*|}
	echo "--- $in${opts:+ with$opts}"
	ed_run "$RF_TMP/p1" "$opts" "$RF_TMP/$in"
	n=$(ed_frames "$RF_TMP/p1")
	rf_expect "frames dropped (past 2106)" "$(rf_num "$PW.frames_dropped")" 1
	rf_expect "frames written" "$(rf_num "$PW.frames")" "$n"
	rf_expect "files" "$(find "$RF_TMP/p1" -type f | wc -l)" 1
	rf_expect "rotations" "$(rf_num "$PW.rotations")" 0
done

# --- Part 2: a frame larger than the file size limit ------------------------

python3 - "$RF_TMP/fsize.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as o:
    o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(30):
        n = 1514 if i % 2 == 0 else 3000
        f = bytes.fromhex('0a00000000010a0000000002' '88b5') + bytes(n - 14)
        t = 1700000000 * 10**6 + i * 300000
        o.write(struct.pack('<IIII', t // 10**6, t % 10**6, n, n) + f)
PY
ed_run "$RF_TMP/p2" "" "$RF_TMP/fsize.pcap" 2
n=$(ed_frames "$RF_TMP/p2")
rf_expect "frames on disk" "$n" 15
rf_expect "frames written" "$(rf_num "$PW.frames")" 15
rf_expect "frames dropped (larger than the limit)" \
    "$(rf_num "$PW.frames_dropped")" 15
rf_expect "log lines of records over the limit (one spell)" \
    "$(grep -c 'a record of 3016 bytes does not fit a file under the file size limit (2048 bytes); such frames are dropped' "$RF_ERR")" 1

# --- Part 3: captured length above the wire length --------------------------

python3 - "$RF_TMP/caplen.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as o:
    o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, wire in enumerate((30, 60, 0)):
        f = bytes.fromhex('0a00000000010a0000000002' '88b5') + bytes(46)
        o.write(struct.pack('<IIII', 1700000000 + i, 0, len(f), wire) + f)
PY
ed_run "$RF_TMP/p3" "" "$RF_TMP/caplen.pcap"
rf_expect "frames" "$(rf_num '.captures[0].workers[0].packets')" 3
rf_expect "bytes (each at least its 60 captured)" \
    "$(rf_num '.captures[0].workers[0].bytes')" 180
rf_expect "frames written" "$(rf_num "$PW.frames")" 3
rf_expect "frames tcpdump reads without complaint" "$(ed_frames "$RF_TMP/p3")" 3
tcpdump -n -r "$RF_TMP"/p3/* 2>/dev/null | grep -o ', length [0-9]*:' |
    sort | uniq -c | awk '{ print $1, $4 }' >"$RF_TMP/lens"
rf_expect "lengths tcpdump reads" "$(cat "$RF_TMP/lens")" "3 60:"

# --- Part 4: max_disk and the file being read --------------------------------

python3 - "$RF_TMP/again.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as o:
    o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(40):
        f = bytes.fromhex('0a00000000010a0000000002' '88b5') + bytes(986)
        o.write(struct.pack('<IIII', 1700000000 + i, 0, 1000, 1000) + f)
PY
mkdir "$RF_TMP/p4"
in=$RF_TMP/p4/test-0-20231114T221320Z-000001.pcap
cp "$RF_TMP/again.pcap" "$in"
rf_config 1 hash "" "{ plugin: pcapwriter, config: { directory: \"$RF_TMP/p4\", rotate_size: 8KiB, max_disk: 16KiB } }"
rc=0
"$RINGFAN" -c "$RF_CONF" -r "$in" >"$RF_STATS" 2>"$RF_ERR" || rc=$?
rf_expect "ringfan -r of a file in the directory: exit status" "$rc" 0
cmp -s "$in" "$RF_TMP/again.pcap" ||
    rf_fail "the file read is gone or changed: $(ls "$RF_TMP/p4")"
rf_expect "frames written" "$(rf_num "$PW.frames")" 40
rf_expect "warnings about the file read" "$(grep -c "max_disk: \
$(basename "$in") is the file read; it is kept, outside the budget" \
    "$RF_ERR")" 1
rm "$in"
left=$(ls "$RF_TMP/p4" | wc -l)
rf_expect "files written (5, of 8 frames and a header: 8,152 bytes)" \
    $((left + $(rf_num "$PW.removed"))) 5
rf_expect "files the share of 16 KiB holds" "$left" 2
rf_expect "frames in them" "$(ed_frames "$RF_TMP/p4")" 16
echo "PASS"

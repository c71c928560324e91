#!/bin/bash
# flowtable's own output file (`{worker}`) fills the disk, and the operator
# frees space by rotating it (mv, as logrotate does) and removing something
# else.  A write that the full disk stopped inside a line must not be
# finished in the file found at the path afterwards: that split one record
# over two files, the old one ending in half a line and the new one
# starting with the other half, while `records` counted it as written.
# Every line of both files must be a whole record, and the records there
# must be exactly those counted, one per flow sent.
#
# The disk is a 64 KiB tmpfs (16 pages), 15 of them taken by a filler
# file: the output gets one page, 4096 bytes, which the 100 records of
# about 290 bytes each overflow in the middle of a line.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

FT='.captures[0].workers[0].plugins.flowtable'

rf_tmpfs 64k || rf_skip "cannot mount a tmpfs"
OUT=$RF_MNT/flows-0.json
head -c 61440 /dev/zero >"$RF_MNT/filler"
rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: flowtable, config: { idle_timeout: 1s,
       output: \"$RF_MNT/flows-{worker}.json\" } }"
rf_start

rf_send -t udp -n 100 -f 100 -s 100 -r 1000
rf_wait_until 10 "the full disk seen" rf_ctl_test stats "$FT.write_errors > 0"

mv "$OUT" "$OUT.1"
rm "$RF_MNT/filler"
rf_wait_until 10 "the records written" rf_ctl_test stats \
    "$FT.records == 100 and $FT.write_errors > 0"
rf_wait_until 5 "writing again" grep -q "output $OUT: writing again" "$RF_ERR"
rf_stop

rf_expect "records" "$(rf_num "$FT.records")" 100
rf_expect "records_lost" "$(rf_num "$FT.records_lost")" 0
lines=0
for f in "$OUT.1" "$OUT"; do
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		json_is - '.reason == "idle"' <<<"$line" 2>/dev/null ||
		    rf_fail "$f: line $n is no whole record: ${line:0:60}"
	done <"$f"
	echo "ok: $f: $n whole records"
	lines=$((lines + n))
done
rf_expect "records in the files" "$lines" 100
# The full disk stopped the write inside the first record of the new file:
# the old one holds less than its page, and would not with that record.
old=$(stat -c %s "$OUT.1")
first=$(head -n 1 "$OUT" | wc -c)
[ "$old" -le 4096 ] && [ $((old + first)) -gt 4096 ] ||
    rf_fail "the full disk did not cut a record: $old bytes, then $first"
echo "ok: the record cut at 4096 bytes went whole to the new file"
# One record per flow: the 100 source ports, each once.
rf_expect "flows in the files" \
    "$(cat "$OUT.1" "$OUT" | jq -r .sport | sort -u | wc -l)" 100
echo "PASS"

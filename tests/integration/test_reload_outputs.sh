#!/bin/bash
# pcapwriter's and flowtable's files across capture reloads that change the
# worker count (2, then 3, then 1) under steady traffic.  pcapwriter: every
# frame sent is in exactly one record of one file, every file reads to its
# end, each in time order, and every name is one the pattern gives (O_EXCL:
# no file of an old worker and of a new one of the same id is the other's).
# flowtable ({worker} in the path): the records count every frame once, and
# a flow's records never overlap in time: a flow running through a hand-over
# is cut there, the old worker's record ending before the new one's begins.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

N=32000
DIR=$RF_TMP/pcap
mkdir "$DIR"
rf_link
pw="{ plugin: pcapwriter, config: { directory: \"$DIR\", rotate_size: 4KiB } }"
ft="{ plugin: flowtable, config: { output: \"$RF_TMP/flows-{worker}.json\", idle_timeout: 60s, active_timeout: 120s } }"
rf_config 2 hash "udp port 9" "$pw" "$ft"
rf_start

rf_send_bg -t udp -n "$N" -f 64 -r 4000 -s 200
rf_wait_until 5 "frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets > 0'
sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
rf_expect "reload 1" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the first hand-over" \
    grep -q "reload: captures handed over" "$RF_ERR"
sed -i "s/^    workers: 3$/    workers: 1/" "$RF_CONF"
rf_expect "reload 2" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the second hand-over" eval \
    '[ "$(grep -c "reload: captures handed over" "$RF_ERR")" -eq 2 ]'
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the reloads did"
rf_send_wait
rf_stop
rf_expect_all "$N"
rf_expect "frames_dropped summed" \
    "$(rf_sum .plugins.pcapwriter.frames_dropped)" 0

# Each record's key: source address, UDP source port and IP id (rfsend's
# frame number), unique among the frames sent.
python3 - "$DIR" >"$RF_TMP/pcap.out" <<'PY' || rf_fail "$(cat "$RF_TMP/pcap.out")"
import os, re, struct, sys
d = sys.argv[1]
keys, bad = set(), []
for name in sorted(os.listdir(d)):
    if not re.fullmatch(r'test-[0-2]-\d{8}T\d{6}Z-\d{6,}\.pcap', name):
        bad.append('unexpected file name ' + name)
        continue
    b = open(os.path.join(d, name), 'rb').read()
    ns = b[:4] == b'\x4d\x3c\xb2\xa1'
    off, last = 24, 0
    while off < len(b):
        if off + 16 > len(b):
            bad.append(name + ': a record header cut')
            break
        s, frac, cap, _ = struct.unpack('<IIII', b[off:off + 16])
        if off + 16 + cap > len(b):
            bad.append(name + ': a record cut')
            break
        fr = b[off + 16:off + 16 + cap]
        key = (fr[26:30], fr[34:36], fr[18:20])
        if key in keys:
            bad.append(name + ': a frame written twice')
        keys.add(key)
        t = s * 10**9 + (frac if ns else frac * 1000)
        if t < last:
            bad.append(name + ': stamps go back')
        last = t
        off += 16 + cap
print(len(keys))
for line in bad[:5]:
    print(line)
sys.exit(1 if bad else 0)
PY
rf_expect "distinct frames in the pcap files" "$(cat "$RF_TMP/pcap.out")" "$N"

rf_expect "packets in the flow records" "$(rf_flow_frames "$RF_TMP")" "$N"
cat "$RF_TMP"/flows-*.json | jq -r '[.src, .first_ns, .last_ns] | @tsv' |
    sort -k1,1 -k2,2n | awk '
	$1 == src && $2 <= last { print "flow " $0 " overlaps " last; bad = 1 }
	{ src = $1; last = $3 }
	END { exit bad }' >"$RF_TMP/ft.out" ||
    rf_fail "flow records overlap: $(head -3 "$RF_TMP/ft.out")"
echo "ok: $(cat "$RF_TMP"/flows-*.json | wc -l) flow records, none overlaps"
echo "PASS"

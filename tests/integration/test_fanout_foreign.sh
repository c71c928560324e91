#!/bin/bash
# A fanout group id that another program's sockets hold with the mode, the
# flags and the interface ringfan asks for: the kernel lets ringfan's
# sockets join that group, and the frames were split silently between the
# two programs (ringfan's lock files keep out another ringfan only).  The
# start fails with exit status 2 and a message that says the id is taken;
# the other program goes on seeing every frame.  A reload to that id is
# refused and leaves the capture as it was.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

K=200
G=$((RF_GROUP + 1))
rf_link
# Another program: one packet socket on CAP in fanout group G, mode hash
# with the defrag flag (ringfan's default), counting the UDP frames to port
# 9 until the file "done" appears.
python3 - "$RF_CAP" "$G" "$RF_TMP" >"$RF_TMP/other.out" <<'PY' &
import os, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.setsockopt(263, 18, struct.pack('I', int(sys.argv[2]) | 0x8000 << 16))
s.settimeout(0.1)
print('joined', flush=True)
n = 0
while not os.path.exists(sys.argv[3] + '/done'):
    try:
        f = s.recv(65536)
    except socket.timeout:
        continue
    # IPv4, UDP, destination port 9
    if f[12:14] == b'\x08\x00' and f[23] == 17 and f[36:38] == b'\x00\x09':
        n += 1
print('frames', n, flush=True)
PY
BG=$!
rf_wait_until 5 "the other program in the group" grep -q joined \
    "$RF_TMP/other.out"
msg="capture test: interface $RF_CAP, fanout group $G: already used by"
msg="$msg another program's sockets in this network namespace: give"
msg="$msg fanout.group a free id"

rf_config 1 hash "udp port 9" "plugin: counter"
sed -i "s/group: $RF_GROUP/group: $G/" "$RF_CONF"
rc=0
timeout 20 "$RINGFAN" -c "$RF_CONF" >/dev/null 2>"$RF_TMP/start.err" ||
    rc=$?
rf_expect "start: exit status" "$rc" 2
grep -qF "error: $msg" "$RF_TMP/start.err" ||
    rf_fail "start: $(grep -v info "$RF_TMP/start.err")"

sed -i "s/group: $G/group: $RF_GROUP/" "$RF_CONF"
rf_start
rf_send -t udp -n "$K" -f 10 -s 64
sed -i "s/group: $RF_GROUP/group: $G/" "$RF_CONF"
rc=0
rf_ctl reload >/dev/null 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload: exit status" "$rc" 1
rf_expect "reload: error" "$(cat "$RF_TMP/reload.err")" "ringfanctl: $msg"
rf_expect "group after the reload" \
    "$(rf_ctl_json stats '.captures[0].fanout.group')" "$RF_GROUP"
rf_send -t udp -n "$K" -f 10 -s 64
rf_stop
rf_expect_all $((2 * K))
touch "$RF_TMP/done"
rf_wait_until 10 "the other program's count" grep -q frames \
    "$RF_TMP/other.out"
rf_expect "frames the other program saw" \
    "$(awk '/^frames/ { print $2 }' "$RF_TMP/other.out")" $((2 * K))
echo "PASS"

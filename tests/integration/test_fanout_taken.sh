#!/bin/bash
# A fanout group id that another program's socket holds with another mode:
# the kernel refuses the join with EINVAL alone, and ringfan said only
# "setsockopt(PACKET_FANOUT, hash group N): Invalid argument".  The start
# fails with exit status 2 and a message that says the id is taken and
# what to do (ringfan looks before it joins, test_fanout_foreign.sh); a
# reload to that id is refused and leaves the capture as it was, counting
# on.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

G=$((RF_GROUP + 1))
rf_link
# Another program: one packet socket in group G, mode lb, until killed.
python3 - "$RF_CAP" "$G" >"$RF_TMP/other.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.setsockopt(263, 18, int(sys.argv[2]) | 1 << 16)	# PACKET_FANOUT, lb
print('joined', flush=True)
time.sleep(60)
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
"$RINGFAN" -c "$RF_CONF" >/dev/null 2>"$RF_TMP/start.err" || rc=$?
rf_expect "start: exit status" "$rc" 2
grep -qF "error: $msg" "$RF_TMP/start.err" ||
    rf_fail "start: $(grep -v info "$RF_TMP/start.err")"

sed -i "s/group: $G/group: $RF_GROUP/" "$RF_CONF"
rf_start
rf_send -t udp -n 10 -f 10 -s 64
sed -i "s/group: $RF_GROUP/group: $G/" "$RF_CONF"
rc=0
rf_ctl reload >/dev/null 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload: exit status" "$rc" 1
rf_expect "reload: error" "$(cat "$RF_TMP/reload.err")" "ringfanctl: $msg"
rf_expect "group after the reload" \
    "$(rf_ctl_json stats '.captures[0].fanout.group')" "$RF_GROUP"
rf_send -t udp -n 10 -f 10 -s 64
rf_stop
rf_expect_all 20
echo "PASS"

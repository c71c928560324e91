#!/bin/bash
# Network time does not pass frames that wait in the kernel's open block,
# also in a worker that has not seen a frame yet: a respawned one, whose
# flowtable recovered the table of the worker it replaces.
#
# One frame of flow F and three large frames of other flows close a 4 KiB
# block (block_timeout 4 s), which the worker takes at once; the worker is
# then killed.  0.8 s after the first, a second frame of F goes into the
# block the kernel keeps open until its timeout.  The respawned worker
# ticks (every second) while that frame waits: its network time must stay
# behind it, so that F, idle for 0.8 s of its 2 s idle timeout (the margin
# is for a slow start of the sender), is one record of two frames, as
# `ringfan -r` gives over the same frames.  It was two records, the first
# ended `idle`: before its first frame a worker took the real time as
# network time, waiting frames or not.
set -eu
. "$(dirname "$0")/lib.sh"
need_tools python3
rf_need_ctl

rf_link
rf_config 1 hash "" "plugin: flowtable
        config: { idle_timeout: 2s, output: \"$RF_TMP/flows.json\" }"
rf_set_ring 4KiB 16 4000ms
rf_start

# send first: F's frame, then three frames of 1400 bytes (the third does
# not fit in the block and closes it); prints the time of F's frame.
# send second TIME: F's second frame at TIME.
send()
{
	in_ns python3 - "$RF_GEN" "$@" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
def udp(sport, size):
    pay = b'x' * (size - 42)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28 + len(pay), 1, 0, 64, 17,
        0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return (b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + ip +
        struct.pack('!HHHH', sport, 53, 8 + len(pay), 0) + pay)
if sys.argv[2] == 'first':
    s.send(udp(5000, 60))
    print(time.time())
    for i in range(3):
        s.send(udp(6000 + i, 1400))
else:
    time.sleep(max(0, float(sys.argv[3]) - time.time()))
    s.send(udp(5000, 60))
PY
}

t1=$(send first)
rf_wait_until 2 "the first block taken" rf_ctl_test stats \
    '.captures[0].workers[0].packets == 3'
kill -KILL "$(rf_ctl_num workers '.workers[0].pid')"
send second "$(python3 -c "print($t1 + 0.8)")"
rf_wait_until 12 "the worker respawned and took the second block" \
    rf_ctl_test stats '.captures[0].workers[0] |
    .packets == 5 and .restarts == 1'
rf_stop
grep -q "plugin flowtable: recovered" "$RF_ERR" ||
    rf_fail "the respawned worker did not recover the table"
rf_expect "records of F (frames, gap under 2 s)" \
    "$(jq -c 'select(.sport == 5000) |
    [.fwd.packets, .last_ns - .first_ns < 2000000000]' "$RF_TMP/flows.json")" \
    "[2,true]"
echo PASS

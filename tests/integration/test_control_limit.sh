#!/bin/bash
# The control socket at the master's open file limit (docs/control.md):
# with its limit lowered to a few descriptors more than it holds, 60
# clients connect and wait.  Those that fit are served (their silence gets
# the 5 s timeout reply), the others are closed at once, the limit is
# logged once, not once per try, and the master counts on and answers
# again once the clients are gone.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 prlimit

ROOM=10
CLIENTS=60

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
# Raised at the start: 65536 or the hard limit.
soft=$(prlimit --pid "$RF_PID" --nofile --output SOFT --noheadings)
hard=$(prlimit --pid "$RF_PID" --nofile --output HARD --noheadings)
want=65536
[ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || want=$hard
rf_expect "the master's soft limit of open files" "$soft" "$want"

open=$(find "/proc/$RF_PID/fd" -mindepth 1 | wc -l)
limit=$((open + ROOM))
prlimit --pid "$RF_PID" --nofile="$limit:$limit"
echo "master: $open descriptors open, limit now $limit"

python3 - "$RF_TMP/control.sock" "$CLIENTS" >"$RF_TMP/clients.txt" <<'PY'
import select, socket, sys, time

path, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
# Closed at once: EOF within 2 s, long before the 5 s timeout.
closed, held = 0, []
deadline = time.monotonic() + 2
pending = list(socks)
while pending and time.monotonic() < deadline:
    r, _, _ = select.select(pending, [], [], 0.1)
    for s in r:
        if s.recv(4096) == b"":
            closed += 1
            pending.remove(s)
held = pending
# The ones served: the timeout reply, then the close.
replies = 0
for s in held:
    s.settimeout(10)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    if b"timeout: no complete request line" in data:
        replies += 1
print(closed, len(held), replies)
PY
read -r closed held replies <"$RF_TMP/clients.txt"
echo "clients: $closed closed at once, $held served, $replies timeout replies"
rf_expect "clients served" "$held" "$ROOM"
rf_expect "clients closed at once" "$closed" $((CLIENTS - ROOM))
rf_expect "timeout replies to the served" "$replies" "$ROOM"
rf_expect "the limit logged once" \
    "$(grep -c "control: accept: Too many open files with $ROOM clients: new clients are closed at once" "$RF_ERR")" 1
rf_expect "other lines about accept" "$(grep -c "accept" "$RF_ERR")" 1

# Served again, and counting.
rf_send -t udp -n 100 -f 16 -s 64
rf_wait_until 5 "the 100 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 100'
rf_stop
rf_expect "frames" "$(rf_num '.captures[0].totals.packets')" 100
echo "PASS"

#!/bin/bash
# The metrics endpoint's limit of 16 connections from one address
# (docs/control.md, "Metrics over HTTP") counts the connections the client
# has open: with 16 open, a 17th is closed at once, unanswered; once the
# client has closed them, its next connection is answered, also when it
# comes at once, in the same turn of the master's loop as the closes.
# Ten rounds of 16 opened, closed and a GET at once: every GET gets its
# 200, and promtool accepts the last page.
set -eu
RF_NETNS=1	# the listener and its clients on a 127.0.0.1 of its own
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 promtool
. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"

P=$(free_port tcp)
rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
echo "metrics_listen: 127.0.0.1:$P" >>"$RF_CONF"
rf_start

python3 - "$P" "$RF_TMP/page.txt" >"$RF_TMP/rounds.out" <<-'PY'
import socket, sys, time

port = int(sys.argv[1])

def get():
    """The status line of a GET /metrics on a new connection, or "-"."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    got = b""
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
            b"Connection: close\r\n\r\n")
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode() or "-", body

def crowd():
    """16 connections, each taken by the master (it answers on it)."""
    held = []
    for _ in range(16):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        if not s.recv(65536).startswith(b"HTTP/1.1 200 "):
            sys.exit("a connection of the 16 was not answered")
        held.append(s)
    return held

held = crowd()
print("17th: %s" % get()[0])
for s in held:
    s.close()
time.sleep(1)
for _ in range(10):
    held = crowd()
    for s in held:
        s.close()
    status, body = get()
    print("after: %s" % status)
open(sys.argv[2], "wb").write(body)
PY
rf_expect "a 17th connection, then a GET after each close of the 16" \
    "$(sort "$RF_TMP/rounds.out" | uniq -c | sed 's/^ *//' | tr '\n' ' ')" \
    "1 17th: - 10 after: HTTP/1.1 200 OK "
rf_promtool_clean "$RF_TMP/page.txt" "the page"
rf_stop

#!/usr/bin/env python3
"""A TCP collector for the IPFIX test: counts what the exporters send.

usage: ipfix_listen.py [--after FILE] PORT OUT [HOLD]

Listens on 127.0.0.1:PORT, takes any number of connections at once, and
after every message writes OUT (atomically) as one line:

    connections C messages M records R templates T bad B

Each connection is a transport session of its own: a data set needs a
template of the same connection first, records are counted by the
template's length (every element fixed-length), and anything else (a
version other than 10, a set longer than its message, a data set without
its template) counts as bad.

With HOLD, a collector that does not read: the connections it takes have
a receive buffer of 64 KiB and are not read before the file HOLD exists;
from then it reads them to their end (a reset ends one too) and exits
once none is left.

With --after FILE, it listens only once FILE exists: a collector that
comes late, at a moment the test chooses, without a start of its own in
the way.
"""
import os
import selectors
import socket
import struct
import sys
import time


def main():
    args = sys.argv[1:]
    after = None
    if args[:1] == ["--after"]:
        after, args = args[1], args[2:]
    port, out = int(args[0]), args[1]
    hold = args[2] if len(args) > 2 else None
    held, open_conns = [], 0
    total = {"connections": 0, "messages": 0, "records": 0,
             "templates": 0, "bad": 0}

    def write():
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write(" ".join("%s %d" % (k, v) for k, v in total.items())
                    + "\n")
        os.rename(tmp, out)

    def message(conn, m):
        version, length = struct.unpack("!HH", m[:4])
        if version != 10:
            total["bad"] += 1
            return
        off = 16
        while off + 4 <= length:
            sid, slen = struct.unpack("!HH", m[off:off + 4])
            if slen < 4 or off + slen > length:
                total["bad"] += 1
                return
            body = m[off + 4:off + slen]
            if sid == 2:
                p = 0
                while p + 4 <= len(body):
                    tid, count = struct.unpack("!HH", body[p:p + 4])
                    p += 4
                    size = 0
                    for _ in range(count):
                        fid, flen = struct.unpack("!HH", body[p:p + 4])
                        p += 8 if fid & 0x8000 else 4
                        size += flen
                    conn["tmpl"][tid] = size
                    total["templates"] += 1
            elif sid >= 256:
                size = conn["tmpl"].get(sid)
                if not size:
                    total["bad"] += 1
                else:
                    total["records"] += len(body) // size
            off += slen
        total["messages"] += 1

    while after is not None and not os.path.exists(after):
        time.sleep(0.01)
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hold:    # taken on by the connections accepted
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(16)
    sel.register(lsock, selectors.EVENT_READ, None)
    write()
    while True:
        holding = hold is not None and not os.path.exists(hold)
        if not holding:
            for c in held:
                sel.register(c, selectors.EVENT_READ,
                             {"buf": b"", "tmpl": {}})
            held = []
        if hold and not holding and total["connections"] > 0 and \
                open_conns == 0:
            return
        for key, _ in sel.select(0.05 if hold else None):
            if key.data is None:
                c, _ = lsock.accept()
                total["connections"] += 1
                open_conns += 1
                held.append(c)
                write()
                continue
            conn, s = key.data, key.fileobj
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                open_conns -= 1
                continue
            conn["buf"] += data
            while len(conn["buf"]) >= 4:
                length = struct.unpack("!H", conn["buf"][2:4])[0]
                if length < 16:
                    total["bad"] += 1
                    conn["buf"] = b""
                    break
                if len(conn["buf"]) < length:
                    break
                message(conn, conn["buf"][:length])
                conn["buf"] = conn["buf"][length:]
            write()


if __name__ == "__main__":
    main()

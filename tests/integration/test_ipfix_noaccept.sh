#!/bin/bash
# flowtable's IPFIX export over TCP to a collector whose host never
# answers the connect (its listen queue full: the SYN is dropped, as a
# firewall would).  `ringfan -r` over 13 flows: the stop gives up after
# its 2 s, every record is counted as dropped, and the run ends with the
# cause on stderr (the exporter's status), as it does for a refusal.
#
# It runs in a network namespace of its own (root), so the collector's
# 127.0.0.1 is the test's alone.
set -eu
NOLINK_NAME=ixnoacc NOLINK_NETNS=1
. "$(dirname "$0")/nolink.sh"
. "$(dirname "$0")/free_port.sh"
need_tools python3

port=$(free_port tcp)
# A listener that accepts nothing, its queue (backlog 0: one) filled.
python3 -c 'import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(0)
fill = []
for _ in range(2):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", int(sys.argv[1])))
    fill.append(c)
open(sys.argv[2], "w").close()
time.sleep(60)' "$port" "$TMP/ready" &
BG="$BG $!"
wait_for 10 "the listener" test -e "$TMP/ready"
# Full: more connections wait in its queue (Recv-Q) than its backlog
# (Send-Q) allows.
wait_for 10 "the listener's queue full" sh -c \
    "ss -Hltn 'sport = :$port' | awk '{ exit !(\$2 > \$3) }'"

python3 "$(dirname "$0")/mkipfix.py" "$TMP/in.pcap"
url="tcp://127.0.0.1:$port"
cat >"$TMP/rf.yaml" <<-YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: noacc
    interface: none
    pipeline:
      - plugin: flowtable
        config:
          ipfix: "$url"
YAML
offline_run 30
expect "exit status" "$RC" 0
expect "ipfix_records" "$(ft ipfix_records)" 0
expect "ipfix_dropped" "$(ft ipfix_dropped)" 13
grep -qF "ipfix $url: 13 records not sent at close, 13 dropped in all" \
    "$TMP/rf.err" || fail "no line for the close: $(cat "$TMP/rf.err")"
expect "last line" "$(tail -n 1 "$TMP/rf.err")" \
    "ringfan: noacc/0: plugin flowtable ended with a problem: ipfix $url: the collector does not answer the connect: Connection timed out; 0 records wait"
echo "PASS"

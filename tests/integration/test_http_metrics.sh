#!/bin/bash
# metrics_listen: the master serves GET /metrics over HTTP.
#   - a bad address is refused by -t (exit 1); an address in use or not on
#     this host stops the start with exit 2 and a message naming
#     metrics_listen and the cause;
#   - it listens on the configured address only, and no worker holds a TCP
#     socket (neither the listening one nor a client's, even for a worker
#     forked while a client is connected);
#   - the page is the `metrics` command's text (uptime aside), with the
#     0.0.4 content type, and promtool finds nothing to say about it; other
#     paths get 404, other methods 405, a GET with a body 413, HEAD the
#     headers only;
#   - a real Prometheus server scraping it every second reports, through its
#     query API, exactly the per-worker packets, kernel counters and counter
#     plugin events of `ringfanctl --json stats`;
#   - hostile clients while frames flow: clients sending their headers one
#     byte a second are cut off within the request deadline, a 1 MB request
#     gets an error status or a closed connection and never a hang, 500
#     connections at once are held off, while a keep-alive client gets its
#     ten pages over one connection; meanwhile `ringfanctl stats` answers
#     at once and the packets keep rising; afterwards the page is served
#     again, the master's memory did not grow by more than 8 MB, and every
#     frame sent was counted, none dropped;
#   - a reload that changes metrics_listen says it waits for the next start
#     and the old address keeps serving.
set -eu
RF_NETNS=1	# the listener, its clients and Prometheus on a 127.0.0.1 of its own
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 prometheus promtool

W=2
K=3000
PROM_PID=
HOSTILE_PIDS=

ht_cleanup()
{
	local rc=$? p

	set +e
	for p in $PROM_PID $HOSTILE_PIDS; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$RF_TMP/prom.log" ]; then
		echo "--- last lines of prometheus's log:" >&2
		tail -n 20 "$RF_TMP/prom.log" >&2
	fi
	(exit "$rc")
	rf_cleanup
}
trap ht_cleanup EXIT

# A TCP port of 127.0.0.1 that nothing listens on now.
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# http METHOD URL [BODY-BYTES]: "STATUS<TAB>CONTENT-TYPE<TAB>ALLOW" on the
# first line, then the body (into $RF_TMP/body).
http()
{
	python3 - "$@" <<-'PY'
	import sys, urllib.request, urllib.error
	method, url = sys.argv[1], sys.argv[2]
	data = b"x" * int(sys.argv[3]) if len(sys.argv) > 3 else None
	req = urllib.request.Request(url, method=method, data=data)
	try:
	    r = urllib.request.urlopen(req, timeout=10)
	except urllib.error.HTTPError as e:
	    r = e
	body = r.read()
	print("%d\t%s\t%s" % (r.status, r.headers.get("Content-Type"),
	    r.headers.get("Allow")))
	sys.stdout.flush()
	sys.stdout.buffer.write(body)
	PY
}

# A start that must fail: ringfan in the foreground, its status and stderr.
start_fails()
{
	local rc=0

	timeout --foreground 30 "$RINGFAN" -c "$RF_CONF" >/dev/null 2>"$RF_TMP/fail.err" ||
	    rc=$?
	rf_expect "$1: exit status" "$rc" 2
	grep -qF "$2" "$RF_TMP/fail.err" ||
	    rf_fail "$1: no \"$2\" in: $(cat "$RF_TMP/fail.err")"
	echo "ok: $1: $2"
}

rf_link
rf_config "$W" hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/base.yaml"

# Refused by the configuration check, with the key and the cause.
for bad in "localhost:9108" "127.0.0.1:0" "127.0.0.1:65536" "::1:9108" \
    "127.0.0.1" "[::1]9108" "1.2.3:80"; do
	{ cat "$RF_TMP/base.yaml"; echo "metrics_listen: \"$bad\""; } >"$RF_CONF"
	rc=0
	"$RINGFAN" -t -c "$RF_CONF" >/dev/null 2>"$RF_TMP/t.err" || rc=$?
	rf_expect "-t with metrics_listen $bad" "$rc" 1
	grep -qF "metrics_listen: \"$bad\"" "$RF_TMP/t.err" ||
	    rf_fail "-t $bad: $(cat "$RF_TMP/t.err")"
done

# An address in use, and one this host does not have: exit 2 at start.
P=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(60)' "$P" &
HOSTILE_PIDS=$!
rf_wait_until 10 "a listener on port $P" \
    sh -c "ss -Hltn 'sport = :$P' | grep -q ."
{ cat "$RF_TMP/base.yaml"; echo "metrics_listen: 127.0.0.1:$P"; } >"$RF_CONF"
start_fails "port in use" \
    "metrics_listen 127.0.0.1:$P: bind: Address already in use"
kill "$HOSTILE_PIDS"
wait "$HOSTILE_PIDS" 2>/dev/null || true
HOSTILE_PIDS=
{ cat "$RF_TMP/base.yaml"; echo "metrics_listen: 192.0.2.1:$P"; } >"$RF_CONF"
start_fails "address not on this host" \
    "metrics_listen 192.0.2.1:$P: bind: Cannot assign requested address"

# The real start.
P=$(free_port)
URL=http://127.0.0.1:$P/metrics
{ cat "$RF_TMP/base.yaml"; echo "metrics_listen: 127.0.0.1:$P"; } >"$RF_CONF"
rf_start
grep -q "metrics on http://127.0.0.1:$P/metrics" "$RF_ERR" ||
    rf_fail "no \"metrics on\" line in the log"
rf_expect "listening sockets on port $P" \
    "$(ss -Hltn "sport = :$P" | awk '{ print $4 }' | tr '\n' ' ')" \
    "127.0.0.1:$P "
MASTER=$RF_PID

# No worker holds a TCP socket: the inodes of every TCP socket of the host
# against the sockets among each worker's descriptors.
workers_hold_no_tcp()
{
	local pid pids fd ino tcp

	tcp=" $(awk 'NR > 1 { printf "%s ", $10 }' /proc/net/tcp /proc/net/tcp6) "
	pids=$(rf_ctl_json stats '[.captures[0].workers[].pid] | join(" ")')
	[ "$(wc -w <<<"$pids")" -eq "$RF_WORKERS" ] ||
	    rf_fail "the workers' pids: \"$pids\""
	for pid in $pids; do
		[ "$pid" -gt 0 ] || rf_fail "a worker without a pid"
		for fd in /proc/"$pid"/fd/*; do
			ino=$(readlink "$fd" 2>/dev/null) || continue
			[[ "$ino" =~ ^socket:\[([0-9]+)\]$ ]] || continue
			[[ "$tcp" != *" ${BASH_REMATCH[1]} "* ]] ||
			    rf_fail "worker $pid holds TCP socket $ino ($fd)"
		done
	done
}
workers_hold_no_tcp
echo "ok: no worker holds a TCP socket"

rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_wait_until 10 "$K frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"

# The page: status, type, and the metrics command's text but the uptime.
http GET "$URL" >"$RF_TMP/get.out"
rf_ctl metrics >"$RF_TMP/ctl.txt"
rf_expect "GET /metrics status and type" "$(head -n 1 "$RF_TMP/get.out")" \
    "$(printf '200\ttext/plain; version=0.0.4; charset=utf-8\tNone')"
tail -n +2 "$RF_TMP/get.out" >"$RF_TMP/body.txt"
diff <(grep -v '^ringfan_uptime_seconds ' "$RF_TMP/body.txt") \
    <(grep -v '^ringfan_uptime_seconds ' "$RF_TMP/ctl.txt") >&2 ||
    rf_fail "the HTTP page differs from ringfanctl metrics"
grep -q '^ringfan_packets_total{capture="test",worker="0"} ' \
    "$RF_TMP/body.txt" || rf_fail "no ringfan_packets_total in the page"
echo "ok: the page is the metrics command's text"
rf_promtool_clean "$RF_TMP/body.txt" "the page over HTTP"
rf_expect "GET /other" "$(http GET "http://127.0.0.1:$P/other" | head -n 1 |
    cut -f1)" 404
rf_expect "GET / body" "$(http GET "http://127.0.0.1:$P/" | tail -n +2)" \
    "not found: the metrics are at /metrics"
rf_expect "POST /metrics with a body" "$(http POST "$URL" 100 | head -n 1 |
    cut -f1,3)" "$(printf '405\tGET, HEAD')"
rf_expect "DELETE /metrics" "$(http DELETE "$URL" | head -n 1 | cut -f1)" 405
rf_expect "GET /metrics with a body" "$(http GET "$URL" 10 | head -n 1 |
    cut -f1)" 413
# raw_http BYTES: the status lines of what the endpoint answers to BYTES
# (a Python bytes literal) on one connection, read until it closes.
raw_http()
{
	python3 - "$P" "$1" <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	s.sendall(eval(sys.argv[2]))
	got = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    got += b
	for line in got.split(b"\r\n"):
	    if line.startswith(b"HTTP/1."):
	        print(line.decode().split(" ")[1])
	PY
}
# Two Content-Length headers: one body too many, whatever the first says;
# the second request hidden in it is never read.
rf_expect "two Content-Length headers" "$(raw_http 'b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 31\r\nConnection: keep-alive\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"' | tr '\n' ' ')" "413 "
rf_expect "Content-Length: 00" "$(raw_http 'b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 00\r\nConnection: close\r\n\r\n"' | tr '\n' ' ')" "200 "
# The absolute form of the target, which a server must take too.
rf_expect "GET http://host/metrics" "$(raw_http 'b"GET http://127.0.0.1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"' | tr '\n' ' ')" "200 "
rf_expect "GET HTTP://host:port/other" "$(raw_http 'b"GET HTTP://127.0.0.1:9/other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"' | tr '\n' ' ')" "404 "
http HEAD "$URL" >"$RF_TMP/head.out"
rf_expect "HEAD /metrics" "$(head -n 1 "$RF_TMP/head.out" | cut -f1)" 200
rf_expect "HEAD /metrics body bytes" "$(tail -n +2 "$RF_TMP/head.out" |
    wc -c)" 0

# A real Prometheus, scraping every second, storing in the test's directory.
Q=$(free_port)
cat >"$RF_TMP/prometheus.yml" <<-YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ringfan
    static_configs:
      - targets: ["127.0.0.1:$P"]
YAML
prometheus --config.file="$RF_TMP/prometheus.yml" \
    --storage.tsdb.path="$RF_TMP/prom" \
    --web.listen-address="127.0.0.1:$Q" >"$RF_TMP/prom.log" 2>&1 &
PROM_PID=$!

# promq QUERY: the instant vector as "LABELS VALUE" lines, sorted.
promq()
{
	python3 - "http://127.0.0.1:$Q/api/v1/query" "$1" <<-'PY'
	import json, sys, urllib.parse, urllib.request
	url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
	doc = json.load(urllib.request.urlopen(url, timeout=5))
	assert doc["status"] == "success", doc
	out = []
	for r in doc["data"]["result"]:
	    m = r["metric"]
	    labels = ",".join("%s=%s" % (k, m[k]) for k in sorted(m)
	        if k not in ("job", "instance", "__name__"))
	    out.append("%s %s" % (labels, r["value"][1]))
	print("\n".join(sorted(out)))
	PY
}
prom_has()
{
	[ "$(promq "$1" 2>/dev/null)" = "$2" ]
}
rf_wait_until 90 "prometheus to scrape ringfan" \
    prom_has 'up{job="ringfan"}' " 1"
rf_wait_until 30 "prometheus to see all $K frames" \
    prom_has 'sum(ringfan_packets_total)' " $K"
rf_ctl_json stats . >"$RF_TMP/stats.json"
# want FIELD: what stats says of each worker, as promq prints it.
want()
{
	jq -r --arg pre "$2" ".captures[0].workers[] |
	    \"capture=test,\\(\$pre)worker=\\(.id) \\(.$1)\"" \
	    "$RF_TMP/stats.json" | sort
}
for f in packets bytes kernel_packets kernel_drops; do
	rf_expect "prometheus ringfan_${f}_total" \
	    "$(promq "ringfan_${f}_total")" "$(want "$f" "")"
done
rf_expect "prometheus counter plugin udp events" \
    "$(promq 'ringfan_plugin_events_total{plugin="counter",name="udp"}')" \
    "$(want 'plugins.counter.udp' 'name=udp,plugin=counter,')"
rf_expect "prometheus ringfan_worker_up" "$(promq ringfan_worker_up |
    awk '{ print $2 }' | tr '\n' ' ')" "1 1 "
echo "ok: prometheus reads what ringfanctl --json stats says"
kill -TERM "$PROM_PID"
rc=0
wait "$PROM_PID" || rc=$?
PROM_PID=
rf_expect "prometheus exit status" "$rc" 0

# Hostile clients while frames flow.
rss()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$MASTER/status"
}
RSS0=$(rss)
# Frames flow, 2,000 a second, through everything up to the final count:
# sent in chunks of 1,000 until the file send.stop exists, each chunk
# sent whole noted in send.chunks, so that N, what was sent, is exact.
CHUNK=1000
(
	while [ ! -e "$RF_TMP/send.stop" ]; do
		ip netns exec "$RF_NS" "$RFSEND" -i "$RF_GEN" -q -t udp \
		    -n "$CHUNK" -f 64 -s 64 -r 2000 || exit 1
		echo >>"$RF_TMP/send.chunks"
	done
) &
RF_SEND_PID=$!
BG="$BG $RF_SEND_PID"
rf_wait_until 10 "frames flowing" rf_ctl_test stats \
    ".captures[0].totals.packets > $K"

cat >"$RF_TMP/hostile.py" <<-'PY'
import selectors, socket, sys, threading, time

port = int(sys.argv[2])
out = {}

def slow(i):
    # The headers one byte a second: the server must hang up.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(1.5)
    req = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + \
        b"a" * 60 + b"\r\n\r\n"
    t0 = time.monotonic()
    got = b""
    for b in req:
        try:
            s.send(bytes([b]))
        except OSError:
            break
        try:
            chunk = s.recv(4096)
            if chunk == b"":
                break
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            break
        if time.monotonic() - t0 > 40:
            break
    out["slow%d" % i] = "%.1f %s" % (time.monotonic() - t0,
        got.split(b"\r\n")[0].decode(errors="replace") or "-")

def big(kind):
    # 1 MB of header or of body: an error status or a hang-up, in time.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if len(sys.argv) > 3:   # connected: MARK.KIND
        open(sys.argv[3] + "." + kind, "w").close()
    s.settimeout(20)
    if kind == "header":
        req = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: " + \
            b"a" * (1 << 20) + b"\r\n\r\n"
    else:
        req = kind.encode() + b" /metrics HTTP/1.1\r\nHost: localhost\r\n" + \
            b"Content-Length: %d\r\n\r\n" % (1 << 20) + b"a" * (1 << 20)
    t0 = time.monotonic()
    try:
        s.sendall(req)
    except OSError:
        pass
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if chunk == b"":
                break
            got += chunk
    except OSError:
        pass
    out["big_" + kind] = "%.1f %s" % (time.monotonic() - t0,
        got.split(b"\r\n")[0].decode(errors="replace") or "-")

def crowd(n, hold):
    # n connections at once, held open without a byte sent.
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            pass
        socks.append(s)
    # Each connected (writable) or refused, before the marker says so.
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
    end = time.monotonic() + 10
    while sel.get_map() and time.monotonic() < end:
        for key, _ in sel.select(end - time.monotonic()):
            sel.unregister(key.fileobj)
    out["crowd"] = "%d" % len(socks)
    if len(sys.argv) > 3 and not sel.get_map():
        open(sys.argv[3], "w").close()
    time.sleep(hold)
    for s in socks:
        s.close()

def keepalive(n):
    # n requests a second apart on one connection, longer in all than the
    # request deadline: each request has its own.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ok = 0
    ports = set()
    for _ in range(n):
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        ok += r.status == 200
        ports.add(c.sock.getsockname()[1])
        time.sleep(1)
    out["keepalive"] = "%d %d" % (ok, len(ports))

what = sys.argv[1]
threads = []
if what == "keepalive":
    threads = [threading.Thread(target=keepalive, args=(10,))]
if what == "slow":
    threads = [threading.Thread(target=slow, args=(i,)) for i in range(3)]
elif what == "big":
    threads = [threading.Thread(target=big, args=(k,))
        for k in ("header", "GET", "POST")]
elif what == "crowd":
    threads = [threading.Thread(target=crowd, args=(500, 8))]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in sorted(out):
    print(k, out[k])
PY

# The control socket answers at once, and the frames keep being counted.
ctl_prompt()
{
	local t0 t1 before after

	before=$(rf_ctl_num stats '.captures[0].totals.packets')
	sleep 1
	t0=$(date +%s%N)
	after=$(rf_ctl_num stats '.captures[0].totals.packets')
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] ||
	    rf_fail "$1: ringfanctl stats took $(((t1 - t0) / 1000000)) ms"
	[ "$after" -gt "$before" ] ||
	    rf_fail "$1: packets did not rise ($before, then $after)"
	echo "ok: $1: stats in $(((t1 - t0) / 1000000)) ms, packets $before -> $after"
}

# conns PID N: process PID has N TCP connections to port P established;
# hostile_in: the slow clients' 3 and the keep-alive one's, and the big
# clients' 3 connected (their markers: they may be answered and gone).
conns()
{
	[ "$(ss -Htnp state established "dport = :$P" | grep -c "pid=$1,")" \
	    -ge "$2" ]
}

hostile_in()
{
	conns "$SLOW" 3 && conns "$KEEP" 1 && [ -e "$RF_TMP/big.header" ] &&
	    [ -e "$RF_TMP/big.GET" ] && [ -e "$RF_TMP/big.POST" ]
}

python3 "$RF_TMP/hostile.py" slow "$P" >"$RF_TMP/slow.out" &
SLOW=$!
HOSTILE_PIDS=$SLOW
python3 "$RF_TMP/hostile.py" big "$P" "$RF_TMP/big" >"$RF_TMP/big.out" &
HOSTILE_PIDS="$HOSTILE_PIDS $!"
python3 "$RF_TMP/hostile.py" keepalive "$P" >"$RF_TMP/keepalive.out" &
KEEP=$!
HOSTILE_PIDS="$HOSTILE_PIDS $KEEP"
rf_wait_until 10 "the slow and keep-alive clients connected" hostile_in
ctl_prompt "slow and big clients"
# A worker forked while clients are connected inherits none of them.
[ "$(ss -Htn state established "sport = :$P" | wc -l)" -gt 0 ] ||
    rf_fail "no client connected to port $P"
PID0=$(rf_ctl_num stats '.captures[0].workers[0].pid')
rf_expect "restart of worker 0" \
    "$(rf_ctl --json restart test/0 | jq -r .ok)" true
rf_wait_until 20 "worker 0 running again in a new process" rf_ctl_test stats \
    ".captures[0].workers[0].pid != $PID0 and
    ([.captures[0].workers[].state] == [\"running\", \"running\"])"
workers_hold_no_tcp
echo "ok: a worker forked with clients connected holds no TCP socket"
python3 "$RF_TMP/hostile.py" crowd "$P" "$RF_TMP/crowd.made" \
    >"$RF_TMP/crowd.out" &
HOSTILE_PIDS="$HOSTILE_PIDS $!"
rf_wait_until 10 "the 500 connections made" test -e "$RF_TMP/crowd.made"
ctl_prompt "500 connections at once"
ctl_prompt "500 connections at once, later"
for p in $HOSTILE_PIDS; do
	wait "$p" || rf_fail "a hostile client script failed"
done
HOSTILE_PIDS=
cat "$RF_TMP/slow.out" "$RF_TMP/big.out" "$RF_TMP/crowd.out" \
    "$RF_TMP/keepalive.out"
# Cut off at the 5 s request deadline (or the idle timeout), never served.
for i in 0 1 2; do
	read -r secs status < <(grep "^slow$i " "$RF_TMP/slow.out" | cut -d' ' -f2-)
	awk -v s="$secs" 'BEGIN { exit !(s >= 3 && s <= 15) }' ||
	    rf_fail "slow client $i hung up after $secs s, not 3..15 s"
	[[ "$status" != *" 200 "* ]] ||
	    rf_fail "slow client $i was served: $status"
done
echo "ok: slow clients cut off"
# The answer, or a reset that beat it while the client was still sending.
for k in header:431 GET:413 POST:405; do
	read -r secs status < <(grep "^big_${k%:*} " "$RF_TMP/big.out" |
	    cut -d' ' -f2-)
	want=${k#*:} k=${k%:*}
	awk -v s="$secs" 'BEGIN { exit !(s <= 15) }' ||
	    rf_fail "1 MB $k: answered after $secs s"
	[[ "$status" = - || "$status" = "HTTP/1.1 $want "* ]] ||
	    rf_fail "1 MB $k: got \"$status\", not $want"
	echo "ok: 1 MB $k: \"$status\" after $secs s"
done
rf_expect "keep-alive: requests served, connections used over 10 s" \
    "$(awk '$1 == "keepalive" { print $2, $3 }' "$RF_TMP/keepalive.out")" \
    "10 1"
rf_expect "crowd connections opened" \
    "$(awk '$1 == "crowd" { print $2 }' "$RF_TMP/crowd.out")" 500

# Served again once the crowd is gone; the master's memory is bounded.
page_ok()
{
	[ "$(http GET "$URL" 2>/dev/null | head -n 1 | cut -f1)" = 200 ]
}
rf_wait_until 20 "the page served again" page_ok
echo "ok: the page is served again"
RSS1=$(rss)
echo "master VmRSS: $RSS0 kB before, $RSS1 kB after"
[ "$RSS1" -le $((RSS0 + 8192)) ] ||
    rf_fail "the master's VmRSS grew from $RSS0 kB to $RSS1 kB"

# Bound at start: a reload that moves it says so and keeps the old one.
P2=$(free_port)
sed -i "s/^metrics_listen: .*/metrics_listen: 127.0.0.1:$P2/" "$RF_CONF"
rf_expect "reload with another metrics_listen" \
    "$(rf_ctl_json reload .result)" unchanged
grep -q "reload: metrics_listen changes at the next start" "$RF_ERR" ||
    rf_fail "no restart note for metrics_listen in the log"
rf_expect "the old address after the reload" \
    "$(http GET "$URL" | head -n 1 | cut -f1)" 200
[ -z "$(ss -Hltn "sport = :$P2")" ] || rf_fail "port $P2 is listened on"
echo "ok: metrics_listen changes at the next start"

touch "$RF_TMP/send.stop"
rf_send_wait
N=$((CHUNK * $(wc -l <"$RF_TMP/send.chunks")))
echo "sent $N frames while the hostile clients came and went"
rf_wait_until 20 "every frame counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $((K + N))"
rf_stop
rf_expect "final packets" "$(rf_num '.captures[0].totals.packets')" \
    "$((K + N))"
rf_expect "final kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "final kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$((K + N))"
echo "PASS"

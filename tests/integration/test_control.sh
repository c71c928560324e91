#!/bin/bash
# The control socket (docs/control.md): every command answered with the
# documented fields; malformed requests refused with the documented errors;
# a silent client neither blocks others nor stays forever; 200 clients at
# once; the socket's permissions; a socket that does not exist.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 setpriv
getent passwd nobody >/dev/null || rf_skip "no user nobody"

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n 100 -f 16 -s 64
rf_wait_until 5 "the 100 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 100'

# --- Every command, --json parsed, the documented fields present and typed.
check()
{
	local cmd=$1 filter=$2

	rf_ctl --json "$cmd" >"$RF_TMP/$cmd.json" 2>"$RF_TMP/$cmd.err" ||
	    rf_fail "ringfanctl --json $cmd: exit $?: $(cat "$RF_TMP/$cmd.err")"
	json_is "$RF_TMP/$cmd.json" "$filter" ||
	    rf_fail "$cmd: the reply lacks documented fields: \
$(head -c 600 "$RF_TMP/$cmd.json")"
	echo "ok: $cmd"
}
check status '
  (.version | type == "string") and .pid == '"$RF_PID"' and
  (.uptime_s | type == "number") and .config == "'"$RF_CONF"'" and
  .state == "running" and .reloads == 0 and .last_reload_error == null and
  (.captures | length == 1) and
  (.captures[0] | .name == "test" and .interface == "'"$RF_CAP"'" and
   .state == "running" and .workers == 2 and .running == 2 and
   .fanout.mode == "hash" and .fanout.group == '"$RF_GROUP"')'
check stats '
  (.version | type == "string") and (.uptime_s | type == "number") and
  (.captures | length == 1) and
  (.captures[0] | .name == "test" and .interface == "'"$RF_CAP"'" and
   .fanout.mode == "hash" and .fanout.group == '"$RF_GROUP"' and
   (["bytes", "kernel_drops", "kernel_freeze_q", "kernel_packets",
     "packets", "quarantined"] - (.totals | keys)) == [] and
   (.workers | length == 2) and
   all(.workers[]; (["bytes", "cpu", "id", "kernel_drops",
     "kernel_freeze_q", "kernel_packets", "packets", "pid", "plugins",
     "quarantined", "restarts", "state"] - keys) == [] and
     .state == "running" and .restarts == 0 and
     .pid > 0 and .cpu == -1 and (.plugins.counter | type == "object")) and
   [.workers[].id] == [0, 1] and .totals.packets == 100 and
   .totals.kernel_packets == 100)'
check workers '
  (.workers | length == 2) and [.workers[].id] == [0, 1] and
  all(.workers[]; .capture == "test" and .pid > 0 and .cpu == -1 and
      .state == "running" and .restarts == 0 and .last_exit == null)'
check plugins '
  (.captures | length == 1) and .captures[0].name == "test" and
  (.captures[0].plugins | length == 1) and
  (.captures[0].plugins[0] | .name == "counter" and
   (.version | type == "string") and (.description | length > 0) and
   (.path | endswith("/counter.so")) and (.abi | test("^[0-9]+\\.[0-9]+$")))'
check help '
  [.commands[].name] == ["status", "stats", "workers", "plugins", "reload",
   "restart", "stop", "metrics", "help"] and
  all(.commands[]; .help | length > 0)'
# The worker pids of stats, workers and the metrics agree with the processes.
for w in 0 1; do
	pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	rf_expect "stats pid of worker $w" \
	    "$(jq -r ".captures[0].workers[$w].pid" "$RF_TMP/stats.json")" "$pid"
	[ "$(awk '{ print $4 }' "/proc/$pid/stat")" = "$RF_PID" ] ||
	    rf_fail "worker $w's pid $pid is not a child of the master"
done

rf_ctl metrics >"$RF_TMP/metrics.txt" || rf_fail "ringfanctl metrics failed"
for m in packets_total:counter bytes_total:counter \
    kernel_packets_total:counter kernel_drops_total:counter \
    kernel_freeze_q_total:counter quarantined_total:counter \
    worker_restarts_total:counter worker_up:gauge; do
	name=ringfan_${m%%:*}
	grep -q "^# HELP $name ." "$RF_TMP/metrics.txt" ||
	    rf_fail "metrics: no HELP line for $name"
	grep -qx "# TYPE $name ${m#*:}" "$RF_TMP/metrics.txt" ||
	    rf_fail "metrics: no \"# TYPE $name ${m#*:}\""
	for w in 0 1; do
		rf_expect "samples of $name worker $w" "$(grep -c \
		    "^$name{capture=\"test\",worker=\"$w\"} [0-9][0-9]*\$" \
		    "$RF_TMP/metrics.txt")" 1
	done
done
grep -qx '# TYPE ringfan_uptime_seconds gauge' "$RF_TMP/metrics.txt" ||
    rf_fail "metrics: no ringfan_uptime_seconds"
grep -qx '# TYPE ringfan_plugin_events_total counter' "$RF_TMP/metrics.txt" ||
    rf_fail "metrics: no ringfan_plugin_events_total"
rf_expect "sum of ringfan_packets_total" "$(awk \
    '/^ringfan_packets_total\{/ { s += $2 } END { print s }' \
    "$RF_TMP/metrics.txt")" 100
rf_expect "sum of ringfan_worker_up" "$(awk \
    '/^ringfan_worker_up\{/ { s += $2 } END { print s }' \
    "$RF_TMP/metrics.txt")" 2
rf_expect "sum of counter ethernet samples" "$(awk '
    /^ringfan_plugin_events_total\{.*plugin="counter",name="ethernet"\}/ \
    { s += $2 } END { print s }' "$RF_TMP/metrics.txt")" 100
# Every non-comment line is a sample: NAME{LABELS} VALUE, or NAME VALUE.
bad=$(grep -v '^#' "$RF_TMP/metrics.txt" |
    grep -Evc '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.]+$' ||
    true)
rf_expect "malformed metrics lines" "$bad" 0
echo "ok: metrics"

# --- The raw protocol.  raw REQUEST-AS-PYTHON-BYTES [WAIT [eof]]: sends the
# request (then shuts the sending side with eof), prints the reply.
cat >"$RF_TMP/raw.py" <<'PY'
import socket, sys, time
path, req = sys.argv[1], eval(sys.argv[2])
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 10
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(wait)
s.connect(path)
t0 = time.monotonic()
try:
    if req:
        s.sendall(req)
    if len(sys.argv) > 4 and sys.argv[4] == "eof":
        s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass
out = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        break
    except socket.timeout:
        sys.stderr.write("no EOF within %s s\n" % wait)
        sys.exit(3)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
sys.stderr.write("%.3f\n" % (time.monotonic() - t0))
PY
raw()
{
	python3 "$RF_TMP/raw.py" "$RF_SOCK" "$@" 2>"$RF_TMP/raw.time" ||
	    rf_fail "raw client $1 failed: $(cat "$RF_TMP/raw.time")"
}

raw 'b"bogus\n"' >"$RF_TMP/raw.out"
rf_expect "garbage request: error" "$(jq -r .error "$RF_TMP/raw.out")" \
    'unknown command "bogus" (commands: status, stats, workers, plugins, reload, restart, stop, metrics, help)'
rf_expect "garbage request: lines of the reply" \
    "$(wc -l <"$RF_TMP/raw.out")" 1
rf_expect "garbage request: the reply ends in a newline" \
    "$(tail -c 1 "$RF_TMP/raw.out" | od -An -c | tr -d ' ')" '\n'
r=$(raw 'b"\x01 garbage \x7f\n"')
json_is - '.error | startswith("unknown command")' <<<"$r" ||
    rf_fail "ASCII control garbage: $r"
echo "ok: ASCII control garbage refused: $r"
r=$(raw 'b"\n"')
rf_expect "empty line" "$(jq -c . <<<"$r")" '{"error":"empty request"}'
r=$(raw 'b"a" * 5000 + b"\n"')
rf_expect "5000-byte line" "$(jq -c . <<<"$r")" \
    '{"error":"request line longer than 4096 bytes"}'
# Read to its end before the answer: a client still sending it sends the
# whole line without an error, then reads the answer.
r=$(python3 - "$RF_SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"a" * 300000 + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
) || rf_fail "a client sending a 300000-byte line: send or receive failed"
rf_expect "300000-byte line" "$(jq -c . <<<"$r")" \
    '{"error":"request line longer than 4096 bytes"}'
r=$(raw 'b"a" * 300000' 10 eof)
rf_expect "300000 bytes, then EOF" "$(jq -c . <<<"$r")" \
    '{"error":"request line longer than 4096 bytes"}'
# A long restart target: its first 64 bytes, whole characters, then the
# cause (32 two-byte characters fill them exactly, the 33rd is left out).
r=$(raw '"restart ".encode() + "\u00e9".encode() * 2000 + b"\n"')
rf_expect "restart of a long target" "$(jq -r .error <<<"$r")" \
    "restart $(printf '\xc3\xa9%.0s' {1..32})...: no such capture"
r=$(raw '"restart a".encode() + "\u00e9".encode() * 2000 + b"\n"')
rf_expect "restart of a long target, a character cut" \
    "$(jq -r .error <<<"$r")" \
    "restart a$(printf '\xc3\xa9%.0s' {1..31})...: no such capture"
r=$(raw 'b"status\r\n"')
rf_expect "status with \\r\\n: pid" "$(jq -r .pid <<<"$r")" "$RF_PID"
r=$(raw 'b"stats"' 10 eof)
rf_expect "a last line without \\n, then EOF" \
    "$(jq -r '.captures[0].name' <<<"$r")" test
# A NUL byte is refused alike with or without the \n.
for req in 'b"stats\0\n"' 'b"stats\0"' 'b"st\0ats"'; do
	r=$(raw "$req" 10 eof)
	rf_expect "NUL byte in $req" "$(jq -c . <<<"$r")" \
	    '{"error":"malformed request: NUL byte"}'
done

# --- A silent client: others are served meanwhile, and it is told off.
python3 "$RF_TMP/raw.py" "$RF_SOCK" 'b""' 15 >"$RF_TMP/silent.out" \
    2>"$RF_TMP/silent.time" &
silent=$!
rf_wait_until 5 "the silent client connected" \
    sh -c "ss -Hx state established 'src $RF_SOCK' | grep -q ."
rf_ctl status >/dev/null || rf_fail "status failed while a client was silent"
# Answered before the silent one's 5 s are over: it did not wait for them.
rf_alive "$silent" || rf_fail "status was answered only once the silent" \
    "client was gone"
echo "ok: status answered beside a silent client"
rc=0
wait "$silent" || rc=$?
rf_expect "silent client's exit status" "$rc" 0
json_is "$RF_TMP/silent.out" '.error | startswith("timeout: ")' ||
    rf_fail "the silent client got: $(cat "$RF_TMP/silent.out")"
el=$(tail -n 1 "$RF_TMP/silent.time")
awk -v t="$el" 'BEGIN { exit !(t >= 4.4 && t <= 7) }' ||
    rf_fail "the silent client was closed after $el s, not about 5 s"
echo "ok: silent client closed after $el s: $(cat "$RF_TMP/silent.out")"

# --- 200 clients at once.
clients=()
for i in $(seq 1 200); do
	( rc=0; rf_ctl --json status >"$RF_TMP/c.$i.out" 2>"$RF_TMP/c.$i.err" ||
	    rc=$?; echo "$rc" >"$RF_TMP/c.$i.rc" ) &
	clients+=($!)
done
# Not a bare `wait`: ringfan itself is a child of this shell.
for p in "${clients[@]}"; do
	wait "$p" || true
done
okc=0
for i in $(seq 1 200); do
	rc=$(cat "$RF_TMP/c.$i.rc")
	[ "$rc" = 0 ] || rf_fail "client $i exited $rc: $(cat "$RF_TMP/c.$i.err")"
	json_is "$RF_TMP/c.$i.out" \
	    ".pid == $RF_PID and .captures[0].name == \"test\"" ||
	    rf_fail "client $i printed: $(head -c 300 "$RF_TMP/c.$i.out")"
	okc=$((okc + 1))
done
rf_expect "concurrent clients answered" "$okc" 200

# --- Permissions: the socket is 0660 root:root; nobody may not connect.
rf_expect "socket mode and owner" "$(stat -c '%a %U:%G %F' "$RF_SOCK")" \
    "660 root:root socket"
# Let nobody reach the socket and run a copy of ringfanctl: the refusal
# must come from the socket's mode, nothing else.
chmod 0755 "$RF_TMP"
install -m 0755 "$RINGFANCTL" "$RF_TMP/ringfanctl"
asnobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$RF_TMP/ringfanctl" -s "$RF_SOCK" "$@"
}
rc=0
asnobody status >"$RF_TMP/nobody.out" 2>"$RF_TMP/nobody.err" || rc=$?
rf_expect "nobody: exit status" "$rc" 2
grep -q "Permission denied" "$RF_TMP/nobody.err" ||
    rf_fail "nobody: stderr lacks \"Permission denied\": $(cat "$RF_TMP/nobody.err")"
rf_expect "nobody: stdout" "$(cat "$RF_TMP/nobody.out")" ""
echo "ok: nobody refused: $(cat "$RF_TMP/nobody.err")"
chmod 0666 "$RF_SOCK"
asnobody --json status >"$RF_TMP/nobody.out" 2>"$RF_TMP/nobody.err" ||
    rf_fail "nobody could not connect even to a 0666 socket: \
$(cat "$RF_TMP/nobody.err")"
chmod 0660 "$RF_SOCK"
echo "ok: with mode 0666, nobody connects"

# --- No socket at all.
rc=0
"$RINGFANCTL" -s /nonexistent status >"$RF_TMP/none.out" \
    2>"$RF_TMP/none.err" || rc=$?
rf_expect "-s /nonexistent: exit status" "$rc" 2
grep -q "No such file or directory" "$RF_TMP/none.err" ||
    rf_fail "-s /nonexistent: stderr: $(cat "$RF_TMP/none.err")"
rf_expect "-s /nonexistent: stdout" "$(cat "$RF_TMP/none.out")" ""

# --- A socket that closes the connection without an answer: no reply,
# exit 2, said as such (not as a malformed one).
python3 - "$RF_TMP/mute.sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
c.recv(4096)
c.close()
PY
mute=$!
BG="$BG $mute"
rf_wait_until 10 "the mute socket" test -S "$RF_TMP/mute.sock"
rc=0
"$RINGFANCTL" -s "$RF_TMP/mute.sock" status >"$RF_TMP/mute.out" \
    2>"$RF_TMP/mute.err" || rc=$?
wait "$mute" || true
rf_bg_forget "$mute"
rf_expect "a connection closed without an answer: exit status" "$rc" 2
rf_expect "a connection closed without an answer: stderr" \
    "$(cat "$RF_TMP/mute.err")" "ringfanctl: no reply from \
$RF_TMP/mute.sock: it closed the connection without an answer"

# --- Bytes that are not UTF-8 (JSON strings must be): refused as a malformed
# request or an unknown command, not as the daemon's own failure.  Both
# cases are checked before either fails the test.
utf8_bad=
r=$(raw 'b"\x01\xfe\xff garbage \x7f\n"')
if json_is - '.error | startswith("unknown command") or
    startswith("malformed request")' <<<"$r"; then
	echo "ok: binary garbage refused: $r"
else
	echo "FAIL: binary garbage (not UTF-8): $r" >&2
	utf8_bad=1
fi
# Valid UTF-8 whose 64th byte starts a 2-byte character: an unknown command,
# whatever the daemon quotes of it.
r=$(raw 'b"x" * 63 + "\u00e9".encode() + b"\n"')
if json_is - '.error | startswith("unknown command \"xxxxxxxx")' \
    <<<"$r"; then
	echo "ok: 65-byte UTF-8 unknown command refused"
else
	echo "FAIL: 65-byte UTF-8 unknown command: $r" >&2
	utf8_bad=1
fi
[ -z "$utf8_bad" ] || rf_fail "requests that are not plain ASCII (above)"

# The master is still well after all that.
rf_expect "status after everything" "$(rf_ctl_json status .state)" running

# --- Reloads of a capture change racing a stop: every client is answered
# (one that comes while the master stops is told so at once), none is left
# with a closed connection.
sed -i "s/^    workers: $RF_WORKERS\$/    workers: $((RF_WORKERS + 1))/" "$RF_CONF"
rl_pids=
for k in 1 2 3; do
	"$RINGFANCTL" -s "$RF_SOCK" reload >"$RF_TMP/rl.$k" 2>&1 &
	rl_pids="$rl_pids $!"
done
sleep 0.05
RF_SETTLE=0 rf_stop
# Each client is answered: the reload done, or one of the two refusals a
# stop gives (taken and not yet run by every worker, or still queued).
k=0
for p in $rl_pids; do
	k=$((k + 1))
	rc=0
	wait "$p" || rc=$?
	got="$rc $(cat "$RF_TMP/rl.$k")"
	case $got in
	"0 reload: ok (captures)" | \
	"1 ringfanctl: reload: stopping before every worker took it" | \
	"1 ringfanctl: reload: stopping before it could run")
		echo "ok: reload client $k racing the stop: $got" ;;
	*)
		rf_fail "reload client $k racing the stop: exit and reply: $got"
	esac
done
rf_expect "final totals.packets" "$(rf_num '.captures[0].totals.packets')" 100
echo "PASS"

#!/bin/bash
# ringfanctl against a control socket whose master answers wrongly: a reply
# cut short (the master died or closed the connection mid-reply), a reply
# that is no JSON object, an error with terminal escapes in its text, a
# master that stops answering (after part of a reply, or before any).  A
# fake master (python3) gives each reply to one connection.  Each such
# reply is exit status 2 (1 for the daemon's error), nothing on stdout and
# one line on stderr naming the cause.  Then top on a terminal of its own
# (a pseudo-terminal): into a pipe whose reader goes, and stopped with ^Z
# and resumed, or sent to the background.  No root, no link.
set -eu
NOLINK_NAME=ctl_replies
. "$(dirname "${BASH_SOURCE[0]}")/nolink.sh"
: "${RINGFANCTL:?RINGFANCTL must name the ringfanctl binary}"
need_tools python3

SOCK=$TMP/control.sock
# top at a terminal, driven through an interactive bash (its scenarios).
TOP_TTY=$(dirname "${BASH_SOURCE[0]}")/top_tty.py

# serve FILE [COUNT]: a master that, COUNT times (1 unless given), reads one
# request line, answers with the bytes of FILE and closes, adding a line to
# $SOCK.served; the socket is there once it listens.
serve()
{
	rm -f "$SOCK" "$SOCK.served"
	python3 -c 'import os, socket, sys
path, reply = sys.argv[1], open(sys.argv[2], "rb").read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".new")
s.listen(8)
os.rename(path + ".new", path)
for _ in range(int(sys.argv[3])):
	c, _ = s.accept()
	c.settimeout(5)
	line = b""
	while not line.endswith(b"\n"):
		b = c.recv(4096)
		if not b:
			break
		line += b
	c.sendall(reply)
	c.close()
	with open(path + ".served", "a") as f:
		f.write("1\n")' "$SOCK" "$1" "${2:-1}" &
	BG="$BG $!"
	wait_for 5 "the fake master's socket" test -S "$SOCK"
}

# ctl NAME REPLY WANT_RC WANT_STDERR ARGS...: ringfanctl ARGS given REPLY
# (printf format) exits WANT_RC with nothing on stdout and WANT_STDERR.
ctl()
{
	local name=$1 reply=$2 want_rc=$3 want_err=$4 rc=0

	shift 4
	# shellcheck disable=SC2059  # the reply is a format on purpose
	printf "$reply" >"$TMP/reply"
	serve "$TMP/reply"
	"$RINGFANCTL" -s "$SOCK" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null ||
	    rc=$?
	expect "$name: exit status" "$rc" "$want_rc"
	expect "$name: stdout" "$(cat "$TMP/out")" ""
	expect "$name: stderr" "$(cat "$TMP/err")" "$want_err"
}

M="malformed reply from $SOCK"
ctl "metrics cut short" '# HELP ringfan_uptime_seconds up\n# TYPE ringfan_uptime_seconds gauge\nringfan_uptime_seconds 1' \
    2 "ringfanctl: $M: cut short (no newline at its end)" metrics
ctl "metrics cut short at its first byte" '#' \
    2 "ringfanctl: $M: cut short (no newline at its end)" metrics
ctl "another command's text cut short" 'some text' \
    2 "ringfanctl: $M: cut short (no newline at its end)" bogus
ctl "stats cut short" '{"version": "1' \
    2 "ringfanctl: $M: premature end of input near '\"1'" stats
ctl "top cut short" '{"version": "1' \
    2 "ringfanctl: $M: premature end of input near '\"1'" -n 1 top
ctl "status not an object" '[1]\n' \
    2 "ringfanctl: $M: not a JSON object" status
ctl "an error with escapes" '{"error": "bad \\u001b[2J\\u009b1m"}\n' \
    1 "ringfanctl: bad ?[2J?1m" status

# A master that reads the request, answers with part of a reply or with
# nothing, and holds the connection: after ringfanctl's 10 s, exit status 2
# and one line saying whether any of the reply came.  Both at once.
for k in 0 1; do
	python3 -c 'import os, socket, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".new")
s.listen(1)
os.rename(path + ".new", path)
c, _ = s.accept()
c.recv(4096)
c.sendall(sys.argv[2].encode())
time.sleep(20)' "$TMP/hold$k.sock" "$([ "$k" = 0 ] || echo '{"version": ')" &
	BG="$BG $!"
	wait_for 5 "the holding master's socket" test -S "$TMP/hold$k.sock"
	(
		rc=0
		"$RINGFANCTL" -s "$TMP/hold$k.sock" status \
		    >"$TMP/hold$k.out" 2>"$TMP/hold$k.err" </dev/null || rc=$?
		echo "$rc" >"$TMP/hold$k.rc"
	) &
done
wait_for 30 "ringfanctl's exits" test -s "$TMP/hold0.rc" -a -s "$TMP/hold1.rc"
for k in 0 1; do
	expect "held $k: exit status" "$(cat "$TMP/hold$k.rc")" 2
	expect "held $k: stdout" "$(cat "$TMP/hold$k.out")" ""
done
expect "held without a byte: stderr" "$(cat "$TMP/hold0.err")" \
    "ringfanctl: no reply from $TMP/hold0.sock within 10 s"
expect "held after 12 bytes: stderr" "$(cat "$TMP/hold1.err")" \
    "ringfanctl: the reply from $TMP/hold1.sock was not whole within 10 s (12 bytes came)"

# A whole text reply goes out as it came.
printf '# TYPE ringfan_uptime_seconds gauge\nringfan_uptime_seconds 1\n' \
    >"$TMP/reply"
serve "$TMP/reply"
rc=0
"$RINGFANCTL" -s "$SOCK" metrics >"$TMP/out" 2>"$TMP/err" || rc=$?
expect "metrics whole: exit status" "$rc" 0
expect "metrics whole: stdout" "$(cmp "$TMP/reply" "$TMP/out" && echo same)" \
    same
expect "metrics whole: stderr" "$(cat "$TMP/err")" ""

# top read from the terminal, its output into a pipe whose reader goes (top
# | head): the terminal is given back as top found it (echo, line editing)
# and the closed pipe is an output that cannot be written.  bash runs in a
# pseudo-terminal of its own, SIGPIPE as a shell has it.
printf '{"version": "1", "uptime_s": 1.5, "captures": []}\n' >"$TMP/reply"
serve "$TMP/reply" 5
python3 -c 'import os, pty, signal, sys
pid, fd = pty.fork()
if pid == 0:
	signal.signal(signal.SIGPIPE, signal.SIG_DFL)
	os.execvp("bash", ["bash", "-c", sys.argv[1]])
while True:
	try:
		if not os.read(fd, 4096):
			break
	except OSError:
		break
os.waitpid(pid, 0)' "stty echo icanon
\"\$RINGFANCTL\" -s '$SOCK' -d 0.05 -n 5 top 2>'$TMP/err' |
    head -c 10 >/dev/null
echo \"\${PIPESTATUS[0]}\" >'$TMP/rc'
stty -a >'$TMP/stty'"
expect "top | head: exit status" "$(cat "$TMP/rc")" 2
expect "top | head: stderr" "$(cat "$TMP/err")" \
    "ringfanctl: cannot write the output: Broken pipe"
expect "top | head: the terminal's echo and line editing" \
    "$(grep -ow -e -echo -e echo -e -icanon -e icanon "$TMP/stty" |
    tr '\n' ' ')" "icanon echo "

# top stopped (^Z) and resumed (fg) under an interactive shell, which gives
# the terminal back its line editing meanwhile: q alone still quits, as the
# footer says.  Each step waits for what shows it done: the shell's prompt,
# or a request of top's after the resume (by then it read its keys again).
serve "$TMP/reply" 1000
python3 "$TOP_TTY" fg "$RINGFANCTL" "$SOCK" ||
    fail "top resumed after ^Z does not quit on q"
echo "ok: top resumed after ^Z quits on q"

# top stopped (^Z) and sent to the background (bg) ends there, when its
# screens are done, as a background job does: it leaves the terminal's
# modes to the shell, which took them back at the stop, and is not
# stopped again for touching them (SIGTTOU), so `wait` gives its status.
serve "$TMP/reply" 1000
python3 "$TOP_TTY" bg "$RINGFANCTL" "$SOCK" >"$TMP/bg.status" ||
    fail "top sent to the background: $(cat "$TMP/bg.status")"
expect "top ended in the background: exit status (150: stopped by SIGTTOU)" \
    "$(cat "$TMP/bg.status")" 0

# The same with the terminal's tostop set: in the background top's next
# screen stops it (SIGTTOU) inside its write; brought back (fg), the write
# goes on, as the shell's fg promises, and top ends 0 with its screens
# done, not 2 with "Interrupted system call".
serve "$TMP/reply" 1000
python3 "$TOP_TTY" tostop "$RINGFANCTL" "$SOCK" "$TMP/tostop.err" \
    >"$TMP/tostop.status" ||
    fail "top stopped on output: $(cat "$TMP/tostop.status")"
expect "top stopped on output and brought back: stderr" \
    "$(cat "$TMP/tostop.err")" ""
expect "top stopped on output and brought back: exit status" \
    "$(cat "$TMP/tostop.status")" 0
echo "PASS"

#!/bin/bash
# A log reader that stops reading never stops the master: with ringfan's
# stderr on a FIFO that is open for reading but never read, and debug
# logging to fill it, the control socket still answers, a worker killed
# with -9 is respawned, and `status` counts the dropped lines.  Once the FIFO
# is drained again the master says how many lines it dropped, and after a
# graceful stop every frame sent is accounted for.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

FIFO=$RF_TMP/stderr.fifo
DRAINED=$RF_TMP/drained.log
CAT_PID=

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
printf 'log:\n  level: debug\n' >>"$RF_CONF"

mkfifo "$FIFO"
# Read-write: the open does not wait for a writer, and the FIFO has a
# reader from now on that never reads.
exec 3<>"$FIFO"
RF_RUN=$((RF_RUN + 1))
RF_OUT=$RF_TMP/ringfan.$RF_RUN.out
# The cleanup shows the tail of what was drained, if anything was.
RF_ERR=$DRAINED
setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$FIFO" &
RF_PID=$!
# live COMMAND JQ-CONDITION: like lib.sh's rf_ctl_test, but false when
# ringfanctl gets no answer (jq -e is true on empty input).
live()
{
	"$RINGFANCTL" -s "$RF_SOCK" --json "$1" >"$RF_TMP/live.json" \
	    2>/dev/null && json_is "$RF_TMP/live.json" "$2" 2>/dev/null
}
rf_wait_until 10 "every worker running" live status \
    '.captures[0].running == 2'

# status STEP: the live status reply in $RF_TMP/status.json, within a
# deadline well under ringfanctl's own: a master blocked in a write to its
# stderr answers nothing.
status()
{
	local rc=0

	timeout --foreground 8 "$RINGFANCTL" -s "$RF_SOCK" --json status \
	    >"$RF_TMP/status.json" 2>"$RF_TMP/status.err" || rc=$?
	[ "$rc" -eq 0 ] || rf_fail "$1: ringfanctl status exited $rc" \
	    "(124: no answer within 8 s): $(cat "$RF_TMP/status.err")"
}

# Fill the FIFO: each SIGUSR1 logs a line per worker, each reload a few,
# until the master has to drop lines.  64 KiB of pipe take a few hundred.
# Signals sent faster than the master reads them count once, so how many
# rounds that takes depends on the machine (22 to 36 where 40 was the
# bound): rounds go on for up to a minute.
dropped=0
round=0
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
	round=$((round + 1))
	for ((k = 0; k < 50; k++)); do
		kill -USR1 "$RF_PID"
	done
	kill -HUP "$RF_PID"
	sleep 0.1
	status "after $((round * 50)) SIGUSR1"
	# A missing field counts as none yet: what matters first is that
	# status keeps answering.
	dropped=$(jq -r '.log_dropped // 0' "$RF_TMP/status.json")
	[[ "$dropped" =~ ^[0-9]+$ ]] ||
	    rf_fail "status.log_dropped is \"$dropped\", not a number"
	[ "$dropped" -eq 0 ] || break
done
json_is "$RF_TMP/status.json" '.log_dropped | type == "number"' ||
    rf_fail "status has no log_dropped: $(head -c 300 "$RF_TMP/status.json")"
[ "$dropped" -gt 0 ] ||
    rf_fail "no log line dropped after $((round * 50)) SIGUSR1 in 60 s"
echo "ok: status answers with the FIFO full, log_dropped $dropped" \
    "after $((round * 50)) SIGUSR1"

# The workers go on capturing (and logging) as well.
rf_send -t udp -n 500 -f 16 -s 64 -r 20000
rf_wait_until 5 "the first 500 frames handled" live stats \
    '.captures[0].totals.packets == 500'

# A worker killed with -9 is reaped and respawned while nobody reads.
old=$(rf_ctl_num workers '.workers[0].pid')
kill -KILL "$old"
respawned()
{
	live workers '.workers[0].pid != '"$old"' and
	    .workers[0].state == "running" and .workers[0].restarts == 1'
}
rf_wait_until 10 "worker 0 (pid $old) respawned and running" respawned
new=$(rf_ctl_num workers '.workers[0].pid')
rf_alive "$new" || rf_fail "the respawned worker $new is not running"
echo "ok: worker 0 respawned: pid $old -> $new"

status "after the respawn"
json_is "$RF_TMP/status.json" \
    '.captures[0].running == 2 and .state == "running"' ||
    rf_fail "status after the respawn: $(cat "$RF_TMP/status.json")"
after=$(jq -r '.log_dropped' "$RF_TMP/status.json")
[ "$after" -ge "$dropped" ] ||
    rf_fail "log_dropped went down: $dropped, then $after"
echo "ok: log_dropped $after"

# Capture went on all along, the respawned worker included.
rf_send -t udp -n 1000 -f 64 -s 64 -r 20000
rf_wait_until 5 "all 1500 frames handled" live stats \
    '.captures[0].totals.packets == 1500'

# Drain: a reader of its own, then the test's silent one goes.  The reader
# ends when ringfan and its workers have closed their stderr.
cat "$FIFO" >"$DRAINED" 3>&- &
CAT_PID=$!
exec 3>&-
drained()
{
	[ -s "$DRAINED" ]
}
rf_wait_until 5 "the FIFO drained" drained
# Every line dropped so far is counted by now; from here on none is.
status "after the drain"
final=$(jq -r '.log_dropped' "$RF_TMP/status.json")
[ "$final" -ge "$after" ] ||
    rf_fail "log_dropped went down: $after, then $final"
rf_stop
reader_done()
{
	! kill -0 "$CAT_PID" 2>/dev/null
}
rf_wait_until 10 "the FIFO's reader to see its end" reader_done
wait "$CAT_PID" || true

# The lines are whole (each write is all or nothing), the drops announced;
# the last is the summary of a foreground stop.
bad=$(grep -cv -e '^ringfan\[[^]]*\] [a-z]*: ' \
    -e '^ringfan: [0-9]* frames, [0-9]* dropped by the kernel ' \
    "$DRAINED" || true)
rf_expect "malformed lines on stderr" "$bad" 0
# reported WHO: the lines WHO (a tag pattern) said it had dropped.
reported()
{
	grep -E "^ringfan\[$1\] warn: [0-9]+ log lines? dropped\$" "$DRAINED" |
	    awk '{ s += $3 } END { print s + 0 }'
}
said=$(reported master)
[ "$said" -gt 0 ] ||
    rf_fail "no \"N log lines dropped\" line of the master once drained"
# A worker killed with -9 takes its unreported drops along: at most.
all=$(reported '[^]]*')
[ "$all" -le "$final" ] ||
    rf_fail "the processes reported $all dropped lines, status $final"
echo "ok: the master reported $said dropped lines, all processes $all of $final"
grep -q '^ringfan\[master\] info: stopping: SIGTERM$' "$DRAINED" ||
    rf_fail "the stop was not logged once the FIFO was drained"

# Every frame accounted for.
rf_expect_all 1500
for w in 0 1; do
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	p=$(rf_num ".captures[0].workers[$w].packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	rf_expect "worker $w kernel_packets" "$kp" "$((p + kd))"
done
rf_expect "worker 0 restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
echo "PASS"

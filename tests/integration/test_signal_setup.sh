#!/bin/bash
# Signals that come while ringfan sets up (here: while a plugin's check
# runs, before any worker exists) wait for the master's event loop instead
# of ending the process as their default action would (SIGHUP and SIGUSR1
# too: a reload or a statistics request must never kill it).  SIGHUP and
# SIGUSR1 then do what they do on a running ringfan, which goes on to
# capture; SIGTERM stops it gracefully once it is up: exit 0, the final
# statistics, its pidfile, control socket and fanout lock removed, no
# worker left.  Sent to the whole process group, they are the master's too:
# the process checking the plugins leaves them to it, as a worker does.
# SIGUSR2 (other sensors reload on it), to the whole group while it sets
# up and again once it runs, ends nothing: the master logs it, the checking
# process and the workers ignore it (no restart, no frame lost).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

PIDFILE=$RF_TMP/ringfan.pid
rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: ctxprobe, config: { check_delay: 1s } }"

# checking: the plugins' check runs, in a child of the master.
checking()
{
	pgrep -P "$RF_PID" >/dev/null
}

# start_bg: ringfan in the background, in the middle of its check once the
# pidfile is there and the check runs.
start_bg()
{
	RF_RUN=$((RF_RUN + 1))
	RF_OUT=$RF_TMP/ringfan.$RF_RUN.out
	RF_ERR=$RF_TMP/ringfan.$RF_RUN.err
	setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" &
	RF_PID=$!
	rf_wait_until 5 "the pidfile" test -s "$PIDFILE"
	rf_wait_until 5 "the plugins' check under way" checking
	grep -q "ready:" "$RF_ERR" && rf_fail "ready before the signal"
	true
}

# Round 1: SIGHUP and SIGUSR1 while it sets up.
start_bg
kill -HUP "$RF_PID"
kill -USR1 "$RF_PID"
kill -USR2 -- "-$RF_PID"
sleep 0.2
rf_alive "$RF_PID" ||
    rf_fail "SIGHUP, SIGUSR1 or SIGUSR2 during the set-up ended it"
rf_wait_until 10 "ready after SIGHUP" grep -q "ready: 2 workers" "$RF_ERR"
rf_wait_until 5 "both workers running" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 2'
rf_send -t udp -n 400 -f 16 -s 64
rf_wait_until 5 "400 frames handled" rf_ctl_test stats \
    '.captures[0].totals.packets == 400'
kill -USR2 -- "-$RF_PID"
rf_wait_until 5 "the second SIGUSR2 logged" \
    eval '[ "$(grep -c "SIGUSR2 ignored: SIGHUP reloads, SIGUSR1 logs the statistics" "$RF_ERR")" -eq 2 ]'
rf_stop
rf_expect_all 400
rf_expect "worker restarts after SIGUSR2 to the group" \
    "$(rf_json '[.captures[0].workers[].restarts] | add')" 0

# Round 2: SIGTERM while it sets up.
start_bg
pid=$RF_PID
kill -TERM "$RF_PID"
rf_wait_exit 15 "SIGTERM during the set-up"
jq -s -e 'length == 1' "$RF_OUT" >/dev/null ||
    rf_fail "no final statistics on stdout: $(head -c 300 "$RF_OUT")"
jq -s 'last' "$RF_OUT" >"$RF_STATS"
rf_expect "final workers" "$(rf_json '.captures[0].workers | length')" 2
tail -n 1 "$RF_ERR" | grep -q "^ringfan: 0 frames" ||
    rf_fail "last line on stderr: $(tail -n 1 "$RF_ERR")"
[ ! -e "$PIDFILE" ] || rf_fail "the pidfile is left"
[ ! -e "$RF_SOCK" ] || rf_fail "the control socket is left"
for f in /run/ringfan/fanout-*-"$RF_GROUP".lock; do
	[ ! -e "$f" ] || rf_fail "the fanout lock $f is left"
done
[ -z "$(pgrep -s "$pid" 2>/dev/null)" ] || rf_fail "processes of its" \
    "session are left: $(pgrep -a -s "$pid")"
echo "PASS"

# Round 3: SIGTERM, then SIGINT and SIGHUP to its whole process group (a
# service manager, a terminal) while it sets up: the process checking the
# plugins leaves them to the master, as a worker does, and the stop is as
# graceful as above, not a plugin that failed its check.
start_bg
kill -TERM -- "-$RF_PID"
kill -INT -- "-$RF_PID"
kill -HUP -- "-$RF_PID"
rf_wait_exit 15 "SIGTERM to the group during the set-up"
jq -s -e 'length == 1' "$RF_OUT" >/dev/null ||
    rf_fail "no final statistics on stdout: $(head -c 300 "$RF_OUT")"
! grep -q "plugin validation" "$RF_ERR" ||
    rf_fail "$(grep "plugin validation" "$RF_ERR")"
tail -n 1 "$RF_ERR" | grep -q "^ringfan: 0 frames" ||
    rf_fail "last line on stderr: $(tail -n 1 "$RF_ERR")"
[ ! -e "$PIDFILE" ] || rf_fail "the pidfile is left"
echo "PASS"

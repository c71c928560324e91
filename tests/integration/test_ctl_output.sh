#!/bin/bash
# ringfanctl's tables for people: stats, top (not on a terminal) and workers
# show the same numbers as the JSON documents.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

K=3000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_wait_until 5 "$K frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"
rf_ctl_json workers . >"$RF_TMP/workers.json"

# --- stats: the workers' table, then the plugin counters'.
rf_ctl stats >"$RF_TMP/stats.txt" || rf_fail "ringfanctl stats failed"
cat "$RF_TMP/stats.txt"
grep -q "^capture test on $RF_CAP (fanout hash group $RF_GROUP)\$" \
    "$RF_TMP/stats.txt" || rf_fail "stats: no capture line"
rf_expect "stats header" \
    "$(grep -E '^WORKER +PID' "$RF_TMP/stats.txt" | tr -s ' ')" \
    "WORKER PID CPU STATE RESTARTS PACKETS BYTES KDROPS DROP% QUAR"
# The first table: from its header to its total row.
awk '/^WORKER +PID/ { t = 1; next } t && /^total / { print; exit } t' \
    "$RF_TMP/stats.txt" >"$RF_TMP/rows.txt"
rf_expect "stats rows (2 workers + total)" "$(wc -l <"$RF_TMP/rows.txt")" 3
sum=0
for w in 0 1; do
	row=$(awk -v w="$w" '$1 == w' "$RF_TMP/rows.txt")
	pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	# shellcheck disable=SC2086  # the row's columns, split on purpose
	set -- $row
	[ "$#" -eq 10 ] || rf_fail "stats row of worker $w has $# columns: $row"
	rf_expect "stats worker $w PID" "$2" "$pid"
	rf_expect "stats worker $w CPU" "$3" -
	rf_expect "stats worker $w STATE" "$4" running
	rf_expect "stats worker $w RESTARTS" "$5" 0
	rf_expect "stats worker $w BYTES" "$7" $(($6 * 64))
	rf_expect "stats worker $w KDROPS" "$8" 0
	rf_expect "stats worker $w DROP%" "$9" 0.00
	rf_expect "stats worker $w QUAR" "${10}" 0
	sum=$((sum + $6))
done
rf_expect "sum of the PACKETS column" "$sum" "$K"
# shellcheck disable=SC2046  # the row's columns, split on purpose
set -- $(grep '^total ' "$RF_TMP/rows.txt")
rf_expect "stats total row" "$*" "total - - - 0 $K $((K * 64)) 0 0.00 0"
rf_expect "stats: counter ethernet row" \
    "$(awk '$1 == "counter" && $2 == "ethernet" { print $NF }' \
    "$RF_TMP/stats.txt")" "$K"

# --- top, twice, stdout a file: two screens, no terminal control codes.
t0=$(date +%s%N)
rc=0
rf_ctl -n 2 -d 0.5 top >"$RF_TMP/top.txt" 2>"$RF_TMP/top.err" </dev/null ||
    rc=$?
t1=$(date +%s%N)
cat "$RF_TMP/top.txt"
rf_expect "top exit status" "$rc" 0
rf_expect "top stderr" "$(cat "$RF_TMP/top.err")" ""
ms=$(((t1 - t0) / 1000000))
[ "$ms" -ge 450 ] && [ "$ms" -lt 5000 ] ||
    rf_fail "top -n 2 -d 0.5 took $ms ms"
rf_expect "top: escape characters" \
    "$(tr -cd '\033' <"$RF_TMP/top.txt" | wc -c)" 0
rf_expect "top: screens (title lines)" \
    "$(grep -c '^ringfan .* at [0-9][0-9]:[0-9][0-9]:[0-9][0-9], up ' \
    "$RF_TMP/top.txt")" 2
rf_expect "top: headers" "$(grep -Ec \
    '^WORKER +STATE +PKT/S +MBIT/S +DROPS/S +PACKETS +KDROPS +DROP% +RESTARTS$' \
    "$RF_TMP/top.txt")" 2
for w in 0 1; do
	rf_expect "top: rows of worker $w" \
	    "$(awk -v w="$w" '$1 == w && $2 == "running"' "$RF_TMP/top.txt" |
	    wc -l)" 2
done
rf_expect "top: total rows" \
    "$(awk -v k="$K" '$1 == "total" && $6 == k && $7 == 0' \
    "$RF_TMP/top.txt" | wc -l)" 2
rf_expect "top: capture lines" "$(grep -c "^capture test on $RF_CAP " \
    "$RF_TMP/top.txt")" 2

# --- workers: one row per worker.
rf_ctl workers >"$RF_TMP/workers.txt" || rf_fail "ringfanctl workers failed"
cat "$RF_TMP/workers.txt"
rf_expect "workers header" "$(head -n 1 "$RF_TMP/workers.txt" | tr -s ' ')" \
    "CAPTURE ID PID CPU STATE RESTARTS STALLS LAST-EXIT"
rf_expect "workers rows" "$(wc -l <"$RF_TMP/workers.txt")" 3
for w in 0 1; do
	pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	rf_expect "workers row $w" \
	    "$(awk -v w="$w" '$1 == "test" && $2 == w' "$RF_TMP/workers.txt" |
	    tr -s ' ')" "test $w $pid - running 0 0 -"
done

# --- a command ringfanctl does not know goes to the daemon as it is.
rc=0
rf_ctl bogus >"$RF_TMP/bogus.out" 2>"$RF_TMP/bogus.err" || rc=$?
rf_expect "bogus: exit status" "$rc" 1
rf_expect "bogus: stdout" "$(cat "$RF_TMP/bogus.out")" ""
rf_expect "bogus: the daemon's error" "$(cat "$RF_TMP/bogus.err")" \
    'ringfanctl: unknown command "bogus" (commands: status, stats, workers, plugins, reload, restart, stop, metrics, help)'
rc=0
rf_ctl help >"$RF_TMP/help.txt" || rc=$?
rf_expect "help: exit status" "$rc" 0
# One line per command, in the order docs/control.md lists them, each with
# its help text after the name.
rf_expect "help: commands" "$(awk '{ print $1 }' "$RF_TMP/help.txt" |
    tr '\n' ' ')" "status stats workers plugins reload restart stop metrics help "
rf_expect "help: lines without a help text" \
    "$(awk 'NF < 2' "$RF_TMP/help.txt" | wc -l)" 0

# --- an output that cannot be written: exit status 2 and the cause, once.
[ -w /dev/full ] || rf_fail "no writable /dev/full"
for args in status stats workers plugins metrics help "--json stats" \
    "-n 2 -d 0.1 top" "--json -n 1 top"; do
	rc=0
	# shellcheck disable=SC2086  # the arguments, split on purpose
	rf_ctl $args >/dev/full 2>"$RF_TMP/full.err" || rc=$?
	rf_expect "$args >/dev/full: exit status" "$rc" 2
	rf_expect "$args >/dev/full: stderr" "$(cat "$RF_TMP/full.err")" \
	    "ringfanctl: cannot write the output: No space left on device"
done
# --- nor can one whose reader has gone (a pipe with no read end).
for args in status stats metrics "--json stats" "-n 2 -d 0.1 top"; do
	rc=0
	# shellcheck disable=SC2086  # the arguments, split on purpose
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w) & 255)' \
	    "$RINGFANCTL" -s "$RF_TMP/control.sock" $args 2>"$RF_TMP/pipe.err" ||
	    rc=$?
	rf_expect "$args to a pipe nobody reads: exit status" "$rc" 2
	rf_expect "$args to a pipe nobody reads: stderr" \
	    "$(cat "$RF_TMP/pipe.err")" \
	    "ringfanctl: cannot write the output: Broken pipe"
done

rf_stop
rf_expect "final totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
echo "PASS"

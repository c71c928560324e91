#!/bin/bash
# What plugin code writes to its standard output must not land in ringfan's
# stdout, which holds the statistics document alone: a plugin's debug
# printf() would otherwise make the document unreadable to whatever parses
# it.  hostile writes 50 lines to stdout in each worker's first packet
# call, in the validating process's trial open, and offline (-r) in the
# one process's: stdout is the document and nothing else, and the lines
# are on stderr.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=200

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: hostile, config: { act: stdout, where: packet, lines: 50 } }"
rf_start
rf_send -t udp -n "$N" -f 16 -s 64 -r 20000
rf_stop
rf_expect "live: lines on stdout" "$(grep -c 'hostile line' "$RF_OUT" || true)" 0
rf_expect "live: stdout is one JSON document" "$(jq -s length "$RF_OUT")" 1
rf_expect "live: lines on stderr" "$(grep -c '^hostile line' "$RF_ERR")" 100
rf_expect_all "$N"
rf_expect "hostile.seen summed" "$(rf_sum .plugins.hostile.seen)" "$N"

# The validating process (its trial open), at -t.
rf_config 1 hash "udp port 9" \
    "{ plugin: hostile, config: { act: stdout, where: trial, lines: 50 } }"
rc=0
"$RINGFAN" -c "$RF_CONF" -t >"$RF_TMP/t.out" 2>"$RF_TMP/t.err" || rc=$?
rf_expect "-t: exit status" "$rc" 0
rf_expect "-t: stdout" "$(wc -c <"$RF_TMP/t.out")" 0
rf_expect "-t: lines on stderr" "$(grep -c '^hostile line' "$RF_TMP/t.err")" 50

# Offline: the pipelines run in the process that prints the document.
"$RFSEND" -q -w "$RF_TMP/u.pcap" -t udp -n 12 -f 4 -s 64 ||
    rf_fail "rfsend -w failed"
rf_config 1 hash "" \
    "{ plugin: hostile, config: { act: stdout, where: packet, lines: 50 } }"
rc=0
"$RINGFAN" -c "$RF_CONF" -r "$RF_TMP/u.pcap" \
    >"$RF_TMP/r.out" 2>"$RF_TMP/r.err" || rc=$?
rf_expect "-r: exit status" "$rc" 0
rf_expect "-r: lines on stdout" "$(grep -c 'hostile line' "$RF_TMP/r.out" || true)" 0
rf_expect "-r: stdout is one JSON document" "$(jq -s length "$RF_TMP/r.out")" 1
rf_expect "-r: packets" "$(jq '.captures[0].totals.packets' "$RF_TMP/r.out")" 12
rf_expect "-r: lines on stderr" "$(grep -c '^hostile line' "$RF_TMP/r.err")" 50
echo "PASS"

#!/bin/bash
# flowtable's output a FIFO: first one whose reader opened it and never
# reads, then one that no one opens.  A write there could wait for good
# (and the worker, its frames and the stop with it), so flowtable refuses
# it as it would a path it may not open: the worker keeps handling frames
# and never stalls, the failure is counted (write_errors) and shown as its
# status, the records of the flows that end are lost (records_lost), and
# the stop completes with every frame accounted for and none dropped.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

FIFO=$RF_TMP/flows.fifo
WHY="output $FIFO: a FIFO, not a file: a write could wait for a reader for good"
rf_link
mkfifo "$FIFO"

# fifo_run WHAT: 300 frames of 300 flows, each ended by idle_timeout: 256
# records wait, the other 44 are lost; then 300 frames more, all handled by
# the one worker, which never stalls.
fifo_run()
{
	rf_config 1 hash "udp port 9" "plugin: counter" \
	    "{ plugin: flowtable, config: { output: \"$FIFO\", idle_timeout: 1s } }"
	rf_start
	rf_send -t udp -n 300 -f 300 -s 64
	rf_wait_until 20 "$1: 256 records waiting, 44 lost" rf_ctl_test stats \
	    '.captures[0].workers[0].plugins.flowtable |
	     .expired_idle == 256 and .records_lost == 44'
	rf_send -t udp -n 300 -f 300 -s 64
	rf_wait_until 20 "$1: 600 frames handled" rf_ctl_test stats \
	    '.captures[0].totals.packets == 600'
	rf_expect "$1: status" "$(rf_ctl_json workers \
	    '.workers[0].errors.flowtable')" \
	    "$WHY"
	rf_stop
	rf_expect_all 600
	rf_expect "$1: restarts" "$(rf_num '.captures[0].workers[0].restarts')" 0
	rf_expect "$1: stalls" "$(rf_num '.captures[0].workers[0].stalls')" 0
	rf_expect "$1: records" \
	    "$(rf_num '.captures[0].workers[0].plugins.flowtable.records')" 0
	rf_expect "$1: records_lost" \
	    "$(rf_num '.captures[0].workers[0].plugins.flowtable.records_lost')" \
	    600
	[ "$(rf_num '.captures[0].workers[0].plugins.flowtable.write_errors')" \
	    -gt 0 ] || rf_fail "$1: no write_errors counted"
	grep -qF "warn: plugin flowtable: $WHY" "$RF_ERR" ||
	    rf_fail "$1: no warning: $(grep flowtable "$RF_ERR")"
}

# A reader that opens the FIFO and never reads.
sleep 600 <"$FIFO" &
BG="$BG $!"
fifo_run "a reader that never reads"
kill -TERM "${BG##* }"
wait "${BG##* }" 2>/dev/null || true
BG=
fifo_run "no reader"
echo "PASS"

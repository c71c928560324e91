#!/bin/bash
# A worker past the crash-loop limit, then a reload that changes the
# pipeline: the worker is started on the pipeline it had to close it.  Its
# plugin hostmem does at that recovery what a file says (on_recover):
# (1) it dies in that open again: the new pipeline starts at once, and the
#     reload is answered only once the worker runs it;
# (2) its open takes 7 s (a large table), longer than the 5 s a worker
#     told to hand over may go without progress: it is not killed for it,
#     closes, and the new pipeline follows;
# (3) as (2), with a new pipeline that lacks the crash step: hostmem is
#     step 2 of the pipeline the closer runs, beyond the new one's steps,
#     and its open is an open all the same;
# (4) its open fails (it refuses what it recovered): the closer's end is
#     said with the plugin's reason, not the worker's exit code, and the
#     new pipeline starts at once.
# Either way the new pipeline counts what comes after.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

LIMIT=5
ACT=$RF_TMP/on_recover

rf_link
rf_config 1 hash "udp port 9" "{ plugin: crash, config: { len: 99 } }" \
    "{ plugin: hostmem, config: { on_recover: \"$ACT\" } }"
cp "$RF_CONF" "$RF_TMP/old.yaml"

# to_failed: 10 frames counted, then one of 99 bytes: crash dies on it,
# and every successor in hostmem's open, on the count it finds.
to_failed()
{
	cp "$RF_TMP/old.yaml" "$RF_CONF"
	echo crash >"$ACT"
	rf_start
	rf_send -t udp -n 10 -f 1 -s 64
	rf_wait_until 5 "the 10 frames counted" rf_ctl_test stats \
	    '.captures[0].workers[0].plugins.hostmem.frames == 10'
	rf_send -t udp -n 1 -f 1 -s 99
	rf_wait_until 10 "the worker past the crash-loop limit" rf_ctl_test \
	    workers '.workers[0].state == "failed"'
	rf_expect "restarts" "$(rf_ctl_num workers '.workers[0].restarts')" \
	    "$LIMIT"
}

# reloaded WHAT RESTARTS: the reload to a pipeline without on_recover is
# answered with the worker running it; it counts 20 frames from a fresh
# region; RESTARTS in all at the stop.
reloaded()
{
	sed -i "s|on_recover: \"$ACT\"|on_recover: \"\"|" "$RF_CONF"
	rf_expect "$1: reload" "$(rf_ctl_json reload .result)" pipeline
	rf_expect "$1: the worker, at the answer" \
	    "$(rf_ctl_json workers '.workers[0].state')" running
	grep -qF "worker test/0: started on its pipeline before the reload, to close what it left" \
	    "$RF_ERR" || rf_fail "$1: no line for the closer"
	rf_send -t udp -n 20 -f 1 -s 64
	rf_wait_until 5 "$1: the 20 frames counted" rf_ctl_test stats \
	    '.captures[0].workers[0].plugins.hostmem.at_open == 0 and
	    .captures[0].workers[0].gauges.hostmem.count == 20'
	rf_stop
	rf_expect "$1: final restarts" \
	    "$(rf_num '.captures[0].workers[0].restarts')" "$2"
	rf_expect "$1: final state" \
	    "$(rf_json '.captures[0].workers[0].state')" stopped
	rf_expect "$1: final packets" \
	    "$(rf_num '.captures[0].totals.packets')" 30
	rf_expect "$1: final quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 1
}

# (1)
to_failed
reloaded "closer dies" $((LIMIT + 1))
grep -q "worker test/0 (pid [0-9]*) killed by signal 11 (Segmentation fault) in plugin hostmem's open, closing its previous pipeline; starting the new one" \
    "$RF_ERR" || rf_fail "closer dies: no line for its death"

# (2)
to_failed
echo "sleep 7" >"$ACT"
reloaded "slow closer" "$LIMIT"
! grep "SIGKILL" "$RF_ERR" || rf_fail "slow closer: killed"

# (3)
to_failed
echo "sleep 7" >"$ACT"
sed -i '/plugin: crash/d' "$RF_CONF"
reloaded "slow closer, fewer steps" "$LIMIT"
! grep "SIGKILL" "$RF_ERR" || rf_fail "slow closer, fewer steps: killed"

# (4)
to_failed
echo fail >"$ACT"
reloaded "closer fails" "$LIMIT"
grep -q "worker test/0 (pid [0-9]*) setup failed: .*hostmem.*the count recovered is refused, closing its previous pipeline; starting the new one" \
    "$RF_ERR" || rf_fail "closer fails: $(grep "closing its previous" "$RF_ERR")"
echo "PASS"

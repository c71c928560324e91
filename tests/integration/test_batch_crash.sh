#!/bin/bash
# A worker that dies from a batch stage on is logged, and shown in `workers`
# after a stall, with the plugin it died in, as offline: `in plugin NAME's
# batch` for a batch callback, `in plugin NAME` for a per-frame stage after
# a batch stage (whose frames come a block later), never just "in a batch
# stage", which leaves a pipeline of several plugins to guess.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# run WHERE PIPELINE-ENTRY...: WHERE is what the log must name after one
# 100-byte frame among 64-byte ones killed the worker.
run()
{
	local where=$1

	shift
	rf_config 1 hash "udp port 9" "$@"
	rf_start
	rf_send -t udp -n 3 -f 1 -s 64
	rf_send -t udp -n 1 -f 1 -s 100
	rf_wait_until 5 "the worker respawned and running" rf_ctl_test workers \
	    '.workers[0].restarts == 1 and .workers[0].state == "running"'
	rf_stop
	grep -E "worker test/0 \(pid [0-9]+\) killed by signal 11" "$RF_ERR" \
	    >"$RF_TMP/crash.log" || rf_fail "no crash logged"
	rf_expect "crash logged" "$(sed -E 's/pid [0-9]+/pid P/' \
	    "$RF_TMP/crash.log")" "ringfan[master] error: worker test/0 \
(pid P) killed by signal 11 (Segmentation fault) $where"
	echo "ok: $where"
}

rf_link
run "in plugin batcher's batch" "plugin: counter" \
    "{ plugin: batcher, config: { crash: 100 } }"
run "in plugin crash" "plugin: batcher" \
    "{ plugin: crash, config: { len: 100 } }"

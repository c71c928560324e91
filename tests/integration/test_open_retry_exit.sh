#!/bin/bash
# A worker whose plugin's open asks for a retry (RINGFAN_RETRY: a resource
# missing for now) waits in backoff, and `workers` says why in its
# last_exit: the plugin and its reason, as the log does, not the worker's
# private exit code ("exited with code 4") that names nothing.  Its
# capture is degraded in status and in the metrics' state set, and running
# in stats, whose capture state is its link's (one of running, down,
# waiting, failed), the worker's own being in its row.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "{ plugin: ctxprobe, config: { open: retry } }"
# Never ready (its one worker never opens): started by hand.
setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" &
RF_PID=$!
rf_wait_until 10 "the worker in backoff after a retry" rf_ctl_test workers \
    '.workers[0].state == "backoff" and .workers[0].last_exit != null'
rf_expect "live last_exit of the worker" \
    "$(rf_ctl_json workers '.workers[0].last_exit')" \
    "plugin ctxprobe: open says retry"
rf_expect "restarts (a retry is no crash)" \
    "$(rf_ctl_json workers '.workers[0].restarts')" 0
rf_expect "status: the capture" "$(rf_ctl_json status '.captures[0].state')" \
    degraded
rf_expect "stats: the capture" "$(rf_ctl_json stats '.captures[0].state')" \
    running
rf_ctl_test stats '.captures[0].workers[0].state != "running"' ||
    rf_fail "stats: the worker shown running"
rf_ctl metrics >"$RF_TMP/metrics"
rf_expect "metrics: the capture's states" "$(grep \
    '^ringfan_capture_state{capture="test",' "$RF_TMP/metrics" | tr '\n' ' ')" \
    "$(printf 'ringfan_capture_state{capture="test",state="%s"} %s ' \
    running 0 degraded 1 down 0 waiting 0 failed 0)"
grep -q "warn: worker test/0: plugin ctxprobe: open says retry; retrying in [0-9]* ms" \
    "$RF_ERR" || rf_fail "no log line naming the retry: $(cat "$RF_ERR")"
kill -TERM "$RF_PID"
rf_wait_exit 10 "stop"
echo "PASS"

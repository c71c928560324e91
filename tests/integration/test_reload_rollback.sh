#!/bin/bash
# A pipeline reload is all or nothing.  The new pipeline passes validation
# (its check is fine) but its open fails in worker 1 only: worker 0 has
# already been restarted on it when worker 1 fails.  Every worker must go
# back to the previous pipeline, the reload's reply and status must say
# which worker failed and why (its last_exit too), nothing of the traffic
# may be lost, and a corrected reload afterwards must work.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=12000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
# At debug level each worker logs "running on" once it runs its pipeline.
sed -i '1i log: { level: debug }' "$RF_CONF"
cp "$RF_CONF" "$RF_TMP/good.yaml"
rf_start
pids0=$(rf_pids)

rf_send_bg -t udp -n "$K" -f 256 -r 3000 -s 64
rf_wait_flowing 1000
echo "      - { plugin: ctxprobe, config: { open: fail, open_worker: 1 } }" \
    >>"$RF_CONF"
"$RINGFAN" -c "$RF_CONF" -t 2>/dev/null ||
    rf_fail "the new file does not pass -t: its check should be fine"
want="reload: worker test/1: plugin ctxprobe: open says fail; every worker is back on the previous pipeline"
# The reply comes once every worker runs the previous pipeline again.
rf_reload_fails "open fails" "$want" counter
# The worker whose open failed says why in its last_exit, as one whose
# setup failed at the start does, not its private exit code.
rf_expect "worker 1: last_exit" \
    "$(rf_ctl_json workers '.workers[1].last_exit')" \
    "setup failed: plugin ctxprobe: open says fail"
pids1=$(rf_pids)
for p in ${pids0//,/ }; do
	[[ ",$pids1," != *",$p,"* ]] ||
	    rf_fail "worker pid $p was never restarted ($pids0 -> $pids1)"
done
echo "ok: both workers were restarted ($pids0 -> $pids1)"
# Worker 0 ran the new pipeline, then the previous one again; worker 1
# never ran the new one (its open failed), then the previous one again.
rf_expect "worker 0 starts" \
    "$(grep -c '^ringfan\[test/0\] debug: running on' "$RF_ERR")" 3
rf_expect "worker 1 starts" \
    "$(grep -c '^ringfan\[test/1\] debug: running on' "$RF_ERR")" 2
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the rollback did"

# Corrected: the same plugin, opening everywhere.
cp "$RF_TMP/good.yaml" "$RF_CONF"
echo "      - { plugin: ctxprobe }" >>"$RF_CONF"
rf_expect "corrected reload" "$(rf_ctl_json reload .result)" pipeline
rf_expect "pipeline after the corrected reload" \
    "$(rf_ctl_json plugins '[.captures[0].plugins[].name] | join(",")')" \
    counter,ctxprobe
rf_expect "status.last_reload_error after it" \
    "$(rf_ctl_json status .last_reload_error)" null
rf_send_wait
rf_stop

rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
for w in 0 1; do
	rf_expect "worker $w: kernel_packets = packets + kernel_drops" \
	    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets - .kernel_drops")" 0
done
echo "PASS"

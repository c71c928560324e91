#!/bin/bash
# A reload whose new pipeline's open never returns in worker 1 on an idle
# link: no frame waits, so the stall watch has nothing to say, and 90 s
# after the reload began the master kills the worker.  That is a failure
# of the reload: every worker goes back to the previous pipeline, the
# reply and status name the worker, the deadline and the plugin's open,
# and the capture then counts every frame sent.  (It takes those 90 s.)
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=2000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/good.yaml"
rf_start
echo "      - { plugin: ctxprobe, config: { open: hang, open_worker: 1 } }" \
    >>"$RF_CONF"
want="reload: worker test/1: did not open the new pipeline within 90 s, in plugin ctxprobe's open; every worker is back on the previous pipeline"
start=$(date +%s)
rf_reload_fails "open hangs" "$want" counter
took=$(($(date +%s) - start))
[ "$took" -ge 89 ] && [ "$took" -le 110 ] ||
    rf_fail "the reload was answered after $took s, not after 90 s"
echo "ok: answered after $took s"
grep -q "worker test/1 (pid [0-9]*) has not opened the new pipeline within 90 s; killing it" \
    "$RF_ERR" || rf_fail "the kill is not logged"

# Back on the previous pipeline, nothing is missed.
rf_send -t udp -n "$K" -f 64 -r 2000 -s 64
rf_stop
rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
rf_expect "worker 1 stalls" "$(rf_num '.captures[0].workers[1].stalls')" 0
echo "PASS"
